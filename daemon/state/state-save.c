/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing the object model and the intent record (see state.h). */
#include "state.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* json-c calls return 0 or -1 and take ownership of the value either way. */
static int put(struct json_object *obj, const char *key, struct json_object *value)
{
	if (!value)
		return -ENOMEM;
	return json_object_object_add(obj, key, value) < 0 ? -ENOMEM : 0;
}

static int put_u64(struct json_object *obj, const char *key, uint64_t v)
{
	return put(obj, key, json_object_new_uint64(v));
}

static int put_bool(struct json_object *obj, const char *key, bool v)
{
	return put(obj, key, json_object_new_boolean(v));
}

static int put_str(struct json_object *obj, const char *key, const char *v)
{
	return put(obj, key, json_object_new_string(v ? v : ""));
}

static int push(struct json_object *array, struct json_object *value)
{
	if (!value)
		return -ENOMEM;
	return json_object_array_add(array, value) < 0 ? -ENOMEM : 0;
}

static struct json_object *new_or_free(struct json_object *o, int r)
{
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *save_device(const void *item)
{
	const struct vm_device *vd = item;
	struct json_object *o = json_object_new_object();
	int r = o ? 0 : -ENOMEM;

	if (r == 0)
		r = put_str(o, "name", vd->device->name);
	if (r == 0)
		r = put_u64(o, "dev_id", vd->dev_id);
	if (r == 0)
		r = put_u64(o, "stdev_id", vd->stdev_id);
	if (r == 0)
		r = put_u64(o, "pt_id", vd->pt_id);
	if (r == 0)
		r = put_str(o, "domain", vd->domain ? vd->domain->path : "");
	if (r == 0)
		r = put_bool(o, "pasid_attached", vd->pasid_attached);
	if (r == 0)
		r = put_u64(o, "pasid", vd->pasid);
	if (r == 0)
		r = put_bool(o, "fd_handed_out", vd->fd_handed_out);
	return new_or_free(o, r);
}

static struct json_object *save_viommu(const void *item)
{
	const struct viommu *v = item;
	struct json_object *o = json_object_new_object(), *qs = json_object_new_array(),
			   *hws = json_object_new_array();
	int r = o && qs && hws ? 0 : -ENOMEM;

	for (const struct veventq *q = v->veventqs; r == 0 && q; q = q->next) {
		struct json_object *e = json_object_new_object();

		r = e ? 0 : -ENOMEM;
		if (r == 0)
			r = put_u64(e, "kernel_id", q->kernel_id);
		if (r == 0)
			r = put_u64(e, "type", q->type);
		if (r == 0)
			r = put_bool(e, "relay", q->relay);
		/* A relayed queue finds a gap across a restart too. */
		if (r == 0)
			r = put_bool(e, "have_seq", q->have_seq);
		if (r == 0)
			r = put_u64(e, "next_seq", q->next_seq);
		if (r == 0)
			r = push(qs, e);
		else
			json_object_put(e);
	}
	for (const struct hw_queue *q = v->hw_queues; r == 0 && q; q = q->next) {
		struct json_object *e = json_object_new_object();

		r = e ? 0 : -ENOMEM;
		if (r == 0)
			r = put_str(e, "path", q->path);
		if (r == 0)
			r = put_u64(e, "kernel_id", q->kernel_id);
		if (r == 0)
			r = put_u64(e, "type", q->type);
		if (r == 0)
			r = put_u64(e, "index", q->index);
		if (r == 0)
			r = put_u64(e, "base_iova", q->base_iova);
		if (r == 0)
			r = put_u64(e, "length", q->length);
		if (r == 0)
			r = push(hws, e);
		else
			json_object_put(e);
	}
	if (r == 0)
		r = put_str(o, "path", v->path);
	if (r == 0)
		r = put_u64(o, "kernel_id", v->kernel_id);
	if (r == 0)
		r = put_u64(o, "type", v->type);
	if (r == 0)
		r = put_str(o, "vendor", v->vendor->name);
	if (r == 0)
		r = put_str(o, "iommu", v->iommu);
	if (r == 0)
		r = put_u64(o, "invalidations", v->invalidations);
	if (r == 0)
		r = put_u64(o, "events_relayed", v->events_relayed);
	if (r == 0)
		r = put_u64(o, "events_lost", v->events_lost);
	if (r == 0)
		r = put_bool(o, "has_mmap", v->has_mmap);
	if (r == 0)
		r = put_u64(o, "mmap_offset", v->mmap_offset);
	if (r == 0)
		r = put_u64(o, "mmap_length", v->mmap_length);
	if (r == 0) {
		r = put(o, "veventqs", qs);
		qs = NULL;
	}
	if (r == 0) {
		r = put(o, "hw_queues", hws);
		hws = NULL;
	}
	json_object_put(qs);
	json_object_put(hws);
	return new_or_free(o, r);
}

static struct json_object *save_domain(const void *item)
{
	const struct domain *dom = item;
	struct json_object *o = json_object_new_object();
	int r = o ? 0 : -ENOMEM;

	if (r == 0)
		r = put_str(o, "path", dom->path);
	if (r == 0)
		r = put_u64(o, "kernel_id", dom->kernel_id);
	if (r == 0)
		r = put_u64(o, "data_type", dom->data_type);
	if (r == 0)
		r = put_str(o, "vendor", dom->vendor ? dom->vendor->name : "");
	if (r == 0)
		r = put_str(o, "viommu", dom->viommu ? dom->viommu->path : "");
	if (r == 0)
		r = put_str(o, "fault", dom->fault ? dom->fault->path : "");
	if (r == 0)
		r = put_u64(o, "invalidations", dom->invalidations);
	return new_or_free(o, r);
}

static struct json_object *save_vdevice(const void *item)
{
	const struct vdevice *v = item;
	struct json_object *o = json_object_new_object();
	int r = o ? 0 : -ENOMEM;

	if (r == 0)
		r = put_str(o, "path", v->path);
	if (r == 0)
		r = put_str(o, "viommu", v->viommu->path);
	if (r == 0)
		r = put_str(o, "device", v->device->name);
	if (r == 0)
		r = put_u64(o, "virt_id", v->virt_id);
	if (r == 0)
		r = put_u64(o, "kernel_id", v->kernel_id);
	return new_or_free(o, r);
}

static struct json_object *save_fault_queue(const void *item)
{
	const struct fault_queue *q = item;
	struct json_object *o = json_object_new_object(), *pending = json_object_new_array();
	int r = o && pending ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < q->npending; i++)
		r = push(pending, json_object_new_uint64(q->pending[i]));
	if (r == 0)
		r = put_str(o, "path", q->path);
	if (r == 0)
		r = put_u64(o, "kernel_id", q->kernel_id);
	if (r == 0)
		r = put_bool(o, "relay", q->relay);
	if (r == 0)
		r = put_u64(o, "faults", q->faults);
	if (r == 0)
		r = put_u64(o, "responses", q->responses);
	if (r == 0) {
		r = put(o, "pending", pending);
		pending = NULL;
	}
	json_object_put(pending);
	return new_or_free(o, r);
}

/* Every list of the model links through a first member "next". */
_Static_assert(offsetof(struct vm_mapping, next) == 0, "next first");
_Static_assert(offsetof(struct vm_device, next) == 0, "next first");
_Static_assert(offsetof(struct viommu, next) == 0, "next first");
_Static_assert(offsetof(struct fault_queue, next) == 0, "next first");
_Static_assert(offsetof(struct domain, next) == 0, "next first");
_Static_assert(offsetof(struct vdevice, next) == 0, "next first");

typedef struct json_object *(*save_fn)(const void *item);

/* A list of the VM, each item saved by fn, as an array under key. */
static int save_list(struct json_object *o, const char *key, const void *head, save_fn fn)
{
	struct json_object *a = json_object_new_array();
	int r = a ? 0 : -ENOMEM;

	for (const void *p = head; r == 0 && p; p = *(const void *const *)p)
		r = push(a, fn(p));
	if (r == 0)
		return put(o, key, a);
	json_object_put(a);
	return r;
}

static struct json_object *save_mapping(const void *item)
{
	const struct vm_mapping *map = item;
	struct json_object *o = json_object_new_object();
	int r = o ? 0 : -ENOMEM;

	if (r == 0)
		r = put_u64(o, "iova", map->iova);
	if (r == 0)
		r = put_u64(o, "length", map->length);
	return new_or_free(o, r);
}

static struct json_object *save_vm(const void *item)
{
	const struct vm *vm = item;
	struct json_object *o = json_object_new_object();
	int r = o ? 0 : -ENOMEM;

	if (r == 0)
		r = put_u64(o, "id", vm->id);
	if (r == 0)
		r = put_str(o, "name", vm->name);
	if (r == 0)
		r = put_u64(o, "owner", vm->owner);
	if (r == 0)
		r = put_str(o, "mode", vm->mode == VM_MODE_BROKER ? "broker" : "managed");
	if (r == 0)
		r = put_bool(o, "persist", vm->persist);
	if (r == 0)
		r = put_bool(o, "pasid", vm->pasid);
	if (r == 0)
		r = put_bool(o, "shared", vm->shared);
	if (r == 0)
		r = put_bool(o, "nesting", vm->nesting);
	if (r == 0)
		r = put_bool(o, "dirty_tracking", vm->dirty_tracking);
	if (r == 0)
		r = put_bool(o, "dirty_tracking_enabled", vm->dirty_tracking_enabled);
	if (r == 0)
		r = put_u64(o, "ioas_id", vm->ioas_id);
	if (r == 0)
		r = put_u64(o, "parent_id", vm->parent_id);
	if (r == 0)
		r = put_bool(o, "parent_mock", vm->parent_mock);
	if (r == 0)
		r = put_u64(o, "mark_ioas_id", vm->mark_ioas_id);
	if (r == 0)
		r = put_u64(o, "mark_iova", vm->mark_iova);
	if (r == 0)
		r = put_u64(o, "next_object", vm->next_object);
	if (r == 0)
		r = put_u64(o, "vmm_pid", vm->vmm_pidfd >= 0 ? (uint64_t)vm->vmm_pid : 0);
	if (r == 0)
		r = put_u64(o, "vmm_memlock", vm->vmm_memlock);
	if (r == 0)
		r = put(o, "counters", state_vm_counters_to_json(&vm->counters));
	if (r == 0)
		r = save_list(o, "mappings", vm->mappings, save_mapping);
	if (r == 0)
		r = save_list(o, "devices", vm->devices, save_device);
	if (r == 0)
		r = save_list(o, "viommus", vm->viommus, save_viommu);
	if (r == 0)
		r = save_list(o, "fault_queues", vm->fault_queues, save_fault_queue);
	if (r == 0)
		r = save_list(o, "domains", vm->domains, save_domain);
	if (r == 0)
		r = save_list(o, "vdevices", vm->vdevices, save_vdevice);
	return new_or_free(o, r);
}

/* Devices the daemon bound to vfio-pci: a restarted daemon still gives them back. */
static struct json_object *save_bound(const struct device *dev)
{
	struct json_object *o = json_object_new_object();
	int r = o ? 0 : -ENOMEM;

	if (r == 0)
		r = put_str(o, "name", dev->name);
	if (r == 0)
		r = put_str(o, "driver", dev->saved.driver);
	if (r == 0)
		r = put_str(o, "driver_override", dev->saved.driver_override);
	return new_or_free(o, r);
}

static struct json_object *save_intent(const struct state_intent *in)
{
	struct json_object *o = json_object_new_object();
	int r = o ? 0 : -ENOMEM;

	if (r == 0)
		r = put_str(o, "op", in->op);
	if (r == 0)
		r = put_str(o, "path", in->path);
	if (r == 0)
		r = put_u64(o, "vm", in->vm);
	if (r == 0 && in->has_range)
		r = put_u64(o, "iova", in->iova);
	if (r == 0 && in->has_range)
		r = put_u64(o, "length", in->length);
	return new_or_free(o, r);
}

/* The document both layouts describe (version 1: one file, as read and as the
 * fuzzers round-trip it). */
int state_to_json(const struct daemon *d, struct json_object **out)
{
	struct json_object *o = NULL;
	int r = state_manifest_to_json(d, 1, &o);

	if (r == 0)
		r = save_list(o, "vms", d->vms, save_vm);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

int state_manifest_to_json(const struct daemon *d, unsigned int version, struct json_object **out)
{
	struct json_object *o = json_object_new_object(), *bound = json_object_new_array();
	int r = o && bound ? 0 : -ENOMEM;

	for (const struct device *dev = d->devices; r == 0 && dev; dev = dev->next)
		if (dev->daemon_bound)
			r = push(bound, save_bound(dev));
	if (r == 0)
		r = put_u64(o, "version", version);
	if (r == 0)
		r = put_u64(o, "next_vm_id", d->next_vm_id);
	if (r == 0)
		r = put(o, "counters", state_daemon_counters_to_json(&d->counters));
	if (r == 0) {
		r = put(o, "bound_devices", bound);
		bound = NULL;
	}
	json_object_put(bound);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

struct json_object *state_vm_to_json(const struct vm *vm)
{
	return save_vm(vm);
}

void state_intent_path(const char *state_path, char *buf, size_t len)
{
	snprintf(buf, len, "%s.intent", state_path);
}

/* The intent record has a small file of its own, so that marking a call in
 * flight costs a few bytes, not the whole model. */
static int intent_write(struct daemon *d)
{
	struct json_object *o = json_object_new_object();
	char path[4096];
	int r = o ? 0 : -ENOMEM;

	if (!d->state_path) {
		json_object_put(o);
		return 0;
	}
	if (r == 0)
		r = put(o, "intent", save_intent(&d->intent));
	state_intent_path(d->state_path, path, sizeof(path));
	if (r == 0)
		r = state_file_replace(d, path,
				       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (r < 0)
		log_error("cannot write the intent record %s: %s; an interrupted call would not "
			  "be resolved after a restart", path, strerror(-r));
	return r;
}

int state_prepare_dir(const char *path)
{
	char dir[4096];
	char *slash;

	if (!path)
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int state_begin(struct daemon *d, const char *op, const char *path)
{
	struct state_intent *in = &d->intent;
	struct vm *vm = vm_of_object_path(d, path);

	memset(in, 0, sizeof(*in));
	in->active = true;
	snprintf(in->op, sizeof(in->op), "%s", op);
	snprintf(in->path, sizeof(in->path), "%s", path);
	/* The VM the path is in; CreateVm makes next_vm_id. */
	if (vm) {
		in->vm = vm->id;
		vm_mark_dirty(vm);
	} else if (strcmp(op, "CreateVm") == 0)
		in->vm = d->next_vm_id;
	return intent_write(d);
}

int state_begin_range(struct daemon *d, uint64_t iova, uint64_t length)
{
	if (!d->intent.active)
		return 0;
	d->intent.has_range = true;
	d->intent.iova = iova;
	d->intent.length = length;
	return intent_write(d);
}

/* The state first, then the intent goes: a crash in between finds an intent
 * whose call the state already holds, and resolving it again is harmless
 * (nothing unknown to destroy, nothing unrecorded to unmap). */
int state_commit(struct daemon *d)
{
	char path[4096];
	bool had_intent = d->intent.active;
	int r;

	d->intent.active = false;
	r = state_write(d);
	if (r == 0 && had_intent && d->state_path) {
		state_intent_path(d->state_path, path, sizeof(path));
		if (unlink(path) < 0 && errno != ENOENT)
			r = -errno;
	}
	return r;
}

