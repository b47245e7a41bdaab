/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a state file back into VMs (see state.h). Everything is checked:
 * types, ranges, paths under their VM, references between objects, devices
 * in one VM at most. A VM the file cannot describe fails the whole parse, and
 * its stored fds are then kept as orphans rather than guessed at.
 */
#include "state.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
	char *err;
	size_t errlen;
	int r;
};

__attribute__((format(printf, 2, 3))) static int fail(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->r == 0) {
		va_start(ap, fmt);
		vsnprintf(rd->err, rd->errlen, fmt, ap);
		va_end(ap);
		rd->r = -EINVAL;
	}
	return rd->r;
}

static struct json_object *member(struct reader *rd, struct json_object *o, const char *key,
				  json_type type)
{
	struct json_object *v = NULL;

	if (rd->r)
		return NULL;
	if (!json_object_object_get_ex(o, key, &v)) {
		fail(rd, "\"%s\" is missing", key);
		return NULL;
	}
	if (!json_object_is_type(v, type)) {
		fail(rd, "\"%s\" is not a %s", key, json_type_to_name(type));
		return NULL;
	}
	return v;
}

static uint64_t get_u64(struct reader *rd, struct json_object *o, const char *key, uint64_t max)
{
	struct json_object *v = member(rd, o, key, json_type_int);
	uint64_t value;

	if (!v)
		return 0;
	/* json-c keeps the sign: a negative number is not a large unsigned one. */
	if (json_object_get_int64(v) < 0 && json_object_get_uint64(v) <= INT64_MAX) {
		fail(rd, "\"%s\" is negative", key);
		return 0;
	}
	value = json_object_get_uint64(v);
	if (value > max) {
		fail(rd, "\"%s\" is %llu, more than %llu", key, (unsigned long long)value,
		     (unsigned long long)max);
		return 0;
	}
	return value;
}

static uint32_t get_u32(struct reader *rd, struct json_object *o, const char *key)
{
	return (uint32_t)get_u64(rd, o, key, UINT32_MAX);
}

static bool get_bool(struct reader *rd, struct json_object *o, const char *key)
{
	struct json_object *v = member(rd, o, key, json_type_boolean);

	return v && json_object_get_boolean(v);
}

/* A key added after version 1 of the file: absent reads as `fallback`. */
static bool get_bool_or(struct reader *rd, struct json_object *o, const char *key, bool fallback)
{
	return json_object_object_get_ex(o, key, NULL) ? get_bool(rd, o, key) : fallback;
}

/* The same for a number. */
static uint64_t get_u64_or(struct reader *rd, struct json_object *o, const char *key,
			   uint64_t max, uint64_t fallback)
{
	return json_object_object_get_ex(o, key, NULL) ? get_u64(rd, o, key, max) : fallback;
}

static void get_str(struct reader *rd, struct json_object *o, const char *key, char *buf,
		    size_t len)
{
	struct json_object *v = member(rd, o, key, json_type_string);

	buf[0] = '\0';
	if (!v)
		return;
	if ((size_t)json_object_get_string_len(v) >= len ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		fail(rd, "\"%s\" is longer than %zu bytes or holds a NUL", key, len - 1);
		return;
	}
	snprintf(buf, len, "%s", json_object_get_string(v));
}

static size_t get_array(struct reader *rd, struct json_object *o, const char *key,
			struct json_object **out)
{
	*out = member(rd, o, key, json_type_array);
	return *out ? json_object_array_length(*out) : 0;
}

/* An element of an array that must be an object. */
static struct json_object *element(struct reader *rd, struct json_object *a, size_t i)
{
	struct json_object *e = json_object_array_get_idx(a, i);

	if (!json_object_is_type(e, json_type_object)) {
		fail(rd, "element %zu is not an object", i);
		return NULL;
	}
	return e;
}

/* Object paths are "<vm path>/<kind>/<n>", n a number the VM handed out. */
static void get_path(struct reader *rd, struct json_object *o, const char *key,
		     const struct vm *vm, const char *kind, char *buf, size_t len, bool optional)
{
	char prefix[VIOMMU_PATH_MAX];
	unsigned int n;
	size_t plen;
	char extra;

	get_str(rd, o, key, buf, len);
	if (rd->r || (optional && !buf[0]))
		return;
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s/%s/", vm->path, kind);
	if (strncmp(buf, prefix, plen) != 0 || buf[plen] < '1' || buf[plen] > '9' ||
	    sscanf(buf + plen, "%u%c", &n, &extra) != 1 || n >= vm->next_object)
		fail(rd, "\"%s\" (%s) is not a %s path of %s", key, buf, kind, vm->path);
}

static struct viommu *find_viommu(struct vm *vm, const char *path)
{
	for (struct viommu *v = vm->viommus; v; v = v->next)
		if (strcmp(v->path, path) == 0)
			return v;
	return NULL;
}

static struct domain *find_domain(struct vm *vm, const char *path)
{
	for (struct domain *dom = vm->domains; dom; dom = dom->next)
		if (strcmp(dom->path, path) == 0)
			return dom;
	return NULL;
}

static struct fault_queue *find_fault_queue(struct vm *vm, const char *path)
{
	for (struct fault_queue *q = vm->fault_queues; q; q = q->next)
		if (strcmp(q->path, path) == 0)
			return q;
	return NULL;
}

static bool path_taken(const struct vm *vm, const char *path)
{
	for (const struct viommu *v = vm->viommus; v; v = v->next) {
		if (strcmp(v->path, path) == 0)
			return true;
		for (const struct hw_queue *q = v->hw_queues; q; q = q->next)
			if (strcmp(q->path, path) == 0)
				return true;
	}
	for (const struct domain *dom = vm->domains; dom; dom = dom->next)
		if (strcmp(dom->path, path) == 0)
			return true;
	for (const struct vdevice *v = vm->vdevices; v; v = v->next)
		if (strcmp(v->path, path) == 0)
			return true;
	for (const struct fault_queue *q = vm->fault_queues; q; q = q->next)
		if (strcmp(q->path, path) == 0)
			return true;
	return false;
}

static void check_new_path(struct reader *rd, const struct vm *vm, const char *path)
{
	if (rd->r == 0 && path_taken(vm, path))
		fail(rd, "%s is named twice", path);
}

static const struct viommu_vendor *get_vendor(struct reader *rd, struct json_object *o,
					      bool optional)
{
	char name[64];
	const struct viommu_vendor *vendor;

	get_str(rd, o, "vendor", name, sizeof(name));
	if (rd->r || (optional && !name[0]))
		return NULL;
	vendor = viommu_vendor_by_name(name);
	if (!vendor)
		fail(rd, "unknown IOMMU vendor \"%s\"", name);
	return vendor;
}

static void load_mappings(struct reader *rd, struct json_object *o, struct vm *vm)
{
	struct json_object *a;
	size_t n = get_array(rd, o, "mappings", &a);
	struct vm_mapping **tail = &vm->mappings;

	for (size_t i = 0; rd->r == 0 && i < n; i++) {
		struct json_object *e = element(rd, a, i);
		struct vm_mapping *map;
		uint64_t iova = e ? get_u64(rd, e, "iova", UINT64_MAX) : 0;
		uint64_t length = e ? get_u64(rd, e, "length", UINT64_MAX) : 0;

		if (rd->r)
			break;
		if (length == 0 || iova + length - 1 < iova) {
			fail(rd, "mapping %zu is empty or wraps", i);
			break;
		}
		for (map = vm->mappings; map; map = map->next)
			if (iova <= map->iova + map->length - 1 && map->iova <= iova + length - 1)
				fail(rd, "mapping %zu overlaps another", i);
		map = calloc(1, sizeof(*map));
		if (!map) {
			rd->r = -ENOMEM;
			break;
		}
		map->iova = iova;
		map->length = length;
		vm->mapped_bytes += length;
		*tail = map;
		tail = &map->next;
	}
}

static void load_devices(struct reader *rd, struct daemon *d, struct json_object *o,
			 struct vm *vm, struct vm *others)
{
	struct json_object *a;
	size_t n = get_array(rd, o, "devices", &a);
	struct vm_device **tail = &vm->devices;

	for (size_t i = 0; rd->r == 0 && i < n; i++) {
		struct json_object *e = element(rd, a, i);
		char name[PCI_NAME_MAX] = "";
		struct vm_device *vd;
		struct device *dev;

		if (e)
			get_str(rd, e, "name", name, sizeof(name));
		if (rd->r)
			break;
		dev = device_by_name(d, name);
		if (!dev && strncmp(name, "selftest", 8) == 0)
			dev = device_add_mock(d, name);
		if (!dev) {
			fail(rd, "device %s is not on this host", name);
			break;
		}
		for (struct vm *v = others; v; v = v->next)
			if (vm_device_of(v, dev))
				fail(rd, "device %s is in two VMs", name);
		if (vm_device_of(vm, dev))
			fail(rd, "device %s is in %s twice", name, vm->path);
		vd = calloc(1, sizeof(*vd));
		if (!vd) {
			rd->r = -ENOMEM;
			break;
		}
		*tail = vd;
		tail = &vd->next;
		vd->device = dev;
		vd->devfd = vd->req_fd = -1;
		vd->dev_id = get_u32(rd, e, "dev_id");
		vd->stdev_id = get_u32(rd, e, "stdev_id");
		vd->pt_id = get_u32(rd, e, "pt_id");
		vd->pasid_attached = get_bool(rd, e, "pasid_attached");
		vd->pasid = get_u32(rd, e, "pasid");
		vd->fd_handed_out = get_bool(rd, e, "fd_handed_out");
		if (rd->r == 0 && dev->mock != (vd->stdev_id != 0))
			fail(rd, "device %s: stdev_id is for mock devices only", name);
	}
}

static void load_viommus(struct reader *rd, struct json_object *o, struct vm *vm)
{
	struct json_object *a;
	size_t n = get_array(rd, o, "viommus", &a);
	struct viommu **tail = &vm->viommus;

	for (size_t i = 0; rd->r == 0 && i < n; i++) {
		struct json_object *e = element(rd, a, i), *qs, *hws;
		struct viommu *v = calloc(1, sizeof(*v));
		size_t nq, nhw;

		if (!v) {
			rd->r = -ENOMEM;
			break;
		}
		*tail = v;
		tail = &v->next;
		v->vm = vm;
		if (!e)
			break;
		get_path(rd, e, "path", vm, "viommu", v->path, sizeof(v->path), false);
		if (rd->r == 0) {
			/* Not yet in the list's lookup: compare with those before it. */
			for (struct viommu *w = vm->viommus; w != v; w = w->next)
				if (strcmp(w->path, v->path) == 0)
					fail(rd, "%s is named twice", v->path);
		}
		v->kernel_id = get_u32(rd, e, "kernel_id");
		v->type = get_u32(rd, e, "type");
		v->vendor = get_vendor(rd, e, false);
		get_str(rd, e, "iommu", v->iommu, sizeof(v->iommu));
		v->invalidations = get_u64(rd, e, "invalidations", UINT64_MAX);
		v->events_relayed = get_u64_or(rd, e, "events_relayed", UINT64_MAX, 0);
		v->events_lost = get_u64_or(rd, e, "events_lost", UINT64_MAX, 0);
		v->has_mmap = get_bool(rd, e, "has_mmap");
		v->mmap_offset = get_u64(rd, e, "mmap_offset", UINT64_MAX);
		v->mmap_length = get_u64(rd, e, "mmap_length", UINT64_MAX);
		nq = get_array(rd, e, "veventqs", &qs);
		struct veventq **qtail = &v->veventqs;

		for (size_t j = 0; rd->r == 0 && j < nq; j++) {
			struct json_object *qe = element(rd, qs, j);
			struct veventq *q = calloc(1, sizeof(*q));

			if (!q) {
				rd->r = -ENOMEM;
				break;
			}
			*qtail = q;
			qtail = &q->next;
			q->viommu = v;
			q->fd = q->notify_fd = -1;
			if (!qe)
				break;
			q->kernel_id = get_u32(rd, qe, "kernel_id");
			q->type = get_u32(rd, qe, "type");
			q->relay = get_bool(rd, qe, "relay");
			q->have_seq = get_bool_or(rd, qe, "have_seq", false);
			q->next_seq = (uint32_t)get_u64_or(rd, qe, "next_seq", VEVENTQ_SEQ_MASK, 0);
		}
		nhw = get_array(rd, e, "hw_queues", &hws);
		struct hw_queue **htail = &v->hw_queues;

		for (size_t j = 0; rd->r == 0 && j < nhw; j++) {
			struct json_object *he = element(rd, hws, j);
			struct hw_queue *q = calloc(1, sizeof(*q));

			if (!q) {
				rd->r = -ENOMEM;
				break;
			}
			if (he)
				get_path(rd, he, "path", vm, "hwqueue", q->path, sizeof(q->path), false);
			check_new_path(rd, vm, q->path);
			*htail = q;
			htail = &q->next;
			q->viommu = v;
			if (!he)
				break;
			q->kernel_id = get_u32(rd, he, "kernel_id");
			q->type = get_u32(rd, he, "type");
			q->index = get_u32(rd, he, "index");
			q->base_iova = get_u64(rd, he, "base_iova", UINT64_MAX);
			q->length = get_u64(rd, he, "length", UINT64_MAX);
		}
	}
}

static void load_fault_queues(struct reader *rd, struct json_object *o, struct vm *vm)
{
	struct json_object *a;
	size_t n = get_array(rd, o, "fault_queues", &a);
	struct fault_queue **tail = &vm->fault_queues;

	for (size_t i = 0; rd->r == 0 && i < n; i++) {
		struct json_object *e = element(rd, a, i), *pending;
		struct fault_queue *q = calloc(1, sizeof(*q));
		size_t np;

		if (!q) {
			rd->r = -ENOMEM;
			break;
		}
		if (e)
			get_path(rd, e, "path", vm, "faultqueue", q->path, sizeof(q->path), false);
		check_new_path(rd, vm, q->path);
		*tail = q;
		tail = &q->next;
		q->vm = vm;
		q->fd = q->notify_fd = -1;
		if (!e)
			break;
		q->kernel_id = get_u32(rd, e, "kernel_id");
		q->relay = get_bool(rd, e, "relay");
		q->faults = get_u64(rd, e, "faults", UINT64_MAX);
		q->responses = get_u64(rd, e, "responses", UINT64_MAX);
		np = get_array(rd, e, "pending", &pending);
		if (np > sizeof(q->pending) / sizeof(q->pending[0]))
			fail(rd, "%s: %zu pending faults, more than a queue holds", q->path, np);
		for (size_t j = 0; rd->r == 0 && j < np; j++) {
			struct json_object *c = json_object_array_get_idx(pending, j);

			if (!json_object_is_type(c, json_type_int) || json_object_get_int64(c) < 0 ||
			    json_object_get_int64(c) > UINT32_MAX)
				fail(rd, "%s: pending cookie %zu is not a 32-bit number", q->path, j);
			else
				q->pending[q->npending++] = (uint32_t)json_object_get_int64(c);
		}
	}
}

static void load_domains(struct reader *rd, struct json_object *o, struct vm *vm)
{
	struct json_object *a;
	size_t n = get_array(rd, o, "domains", &a);
	struct domain **tail = &vm->domains;

	for (size_t i = 0; rd->r == 0 && i < n; i++) {
		struct json_object *e = element(rd, a, i);
		struct domain *dom = calloc(1, sizeof(*dom));
		char ref[VIOMMU_PATH_MAX];

		if (!dom) {
			rd->r = -ENOMEM;
			break;
		}
		if (e)
			get_path(rd, e, "path", vm, "domain", dom->path, sizeof(dom->path), false);
		check_new_path(rd, vm, dom->path);
		*tail = dom;
		tail = &dom->next;
		dom->vm = vm;
		if (!e)
			break;
		dom->kernel_id = get_u32(rd, e, "kernel_id");
		dom->data_type = get_u32(rd, e, "data_type");
		dom->vendor = get_vendor(rd, e, true);
		dom->invalidations = get_u64(rd, e, "invalidations", UINT64_MAX);
		get_path(rd, e, "viommu", vm, "viommu", ref, sizeof(ref), true);
		if (rd->r == 0 && ref[0]) {
			dom->viommu = find_viommu(vm, ref);
			if (!dom->viommu)
				fail(rd, "%s: no vIOMMU %s", dom->path, ref);
		}
		get_path(rd, e, "fault", vm, "faultqueue", ref, sizeof(ref), true);
		if (rd->r == 0 && ref[0]) {
			dom->fault = find_fault_queue(vm, ref);
			if (!dom->fault)
				fail(rd, "%s: no fault queue %s", dom->path, ref);
		}
	}
}

static void load_vdevices(struct reader *rd, struct json_object *o, struct vm *vm)
{
	struct json_object *a;
	size_t n = get_array(rd, o, "vdevices", &a);
	struct vdevice **tail = &vm->vdevices;

	for (size_t i = 0; rd->r == 0 && i < n; i++) {
		struct json_object *e = element(rd, a, i);
		struct vdevice *v = calloc(1, sizeof(*v));
		char ref[VIOMMU_PATH_MAX], name[PCI_NAME_MAX];

		if (!v) {
			rd->r = -ENOMEM;
			break;
		}
		if (e)
			get_path(rd, e, "path", vm, "vdevice", v->path, sizeof(v->path), false);
		check_new_path(rd, vm, v->path);
		*tail = v;
		tail = &v->next;
		if (!e)
			break;
		v->virt_id = get_u64(rd, e, "virt_id", UINT64_MAX);
		v->kernel_id = get_u32(rd, e, "kernel_id");
		get_path(rd, e, "viommu", vm, "viommu", ref, sizeof(ref), false);
		if (rd->r == 0) {
			v->viommu = find_viommu(vm, ref);
			if (!v->viommu)
				fail(rd, "%s: no vIOMMU %s", v->path, ref);
		}
		get_str(rd, e, "device", name, sizeof(name));
		if (rd->r == 0) {
			for (struct vm_device *vd = vm->devices; vd; vd = vd->next)
				if (strcmp(vd->device->name, name) == 0)
					v->device = vd->device;
			if (!v->device)
				fail(rd, "%s: device %s is not in %s", v->path, name, vm->path);
		}
	}
}

/* Devices on nested domains name them by path: resolved once domains exist. */
static void link_device_domains(struct reader *rd, struct json_object *o, struct vm *vm)
{
	struct json_object *a;
	size_t n = get_array(rd, o, "devices", &a);
	struct vm_device *vd = vm->devices;

	for (size_t i = 0; rd->r == 0 && i < n && vd; i++, vd = vd->next) {
		char ref[VIOMMU_PATH_MAX];

		get_path(rd, json_object_array_get_idx(a, i), "domain", vm, "domain", ref, sizeof(ref), true);
		if (rd->r == 0 && ref[0]) {
			vd->domain = find_domain(vm, ref);
			if (!vd->domain)
				fail(rd, "device %s: no domain %s", vd->device->name, ref);
		}
	}
}

static struct vm *load_vm(struct reader *rd, struct daemon *d, struct json_object *o,
			  struct vm *others)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	char mode[16];

	if (!vm) {
		rd->r = -ENOMEM;
		return NULL;
	}
	vm->daemon = d;
	vm->iommufd = -1;
	vm->vmm_pidfd = -1;
	vm->id = (unsigned int)get_u64(rd, o, "id", UINT32_MAX - 1);
	if (rd->r == 0 && vm->id == 0)
		fail(rd, "VM id 0");
	for (struct vm *v = others; v; v = v->next)
		if (v->id == vm->id)
			fail(rd, "VM id %u is used twice", vm->id);
	snprintf(vm->path, sizeof(vm->path), "%s/%u", VIOMMU_VM_PREFIX, vm->id);
	get_str(rd, o, "name", vm->name, sizeof(vm->name));
	if (rd->r == 0 && !vm_name_valid(vm->name))
		fail(rd, "VM %u: invalid name", vm->id);
	vm->owner = (uid_t)get_u64(rd, o, "owner", UINT32_MAX - 1);
	get_str(rd, o, "mode", mode, sizeof(mode));
	if (rd->r == 0 && strcmp(mode, "managed") != 0 && strcmp(mode, "broker") != 0)
		fail(rd, "VM %u: mode \"%s\"", vm->id, mode);
	vm->mode = strcmp(mode, "broker") == 0 ? VM_MODE_BROKER : VM_MODE_MANAGED;
	vm->persist = get_bool(rd, o, "persist");
	vm->pasid = get_bool(rd, o, "pasid");
	vm->shared = get_bool(rd, o, "shared");
	vm->nesting = get_bool(rd, o, "nesting");
	vm->dirty_tracking = get_bool(rd, o, "dirty_tracking");
	vm->dirty_tracking_enabled = get_bool(rd, o, "dirty_tracking_enabled");
	vm->ioas_id = get_u32(rd, o, "ioas_id");
	vm->parent_id = get_u32(rd, o, "parent_id");
	/* Absent from files written before the mark: adoption then marks the VM. */
	if (json_object_object_get_ex(o, "mark_ioas_id", NULL)) {
		vm->mark_ioas_id = get_u32(rd, o, "mark_ioas_id");
		vm->mark_iova = get_u64(rd, o, "mark_iova", UINT64_MAX);
	}
	vm->next_object = (unsigned int)get_u64(rd, o, "next_object", UINT32_MAX);
	if (rd->r == 0 && vm->next_object == 0)
		fail(rd, "VM %u: next_object 0", vm->id);
	vm->vmm_pid = (pid_t)get_u64(rd, o, "vmm_pid", INT32_MAX);
	vm->vmm_memlock = get_u64(rd, o, "vmm_memlock", UINT64_MAX);
	if (rd->r == 0 && vm->vmm_pid && vm->mode != VM_MODE_BROKER)
		fail(rd, "VM %u: a VMM pid on a managed VM", vm->id);
	if (rd->r == 0)
		rd->r = state_vm_counters_parse(o, &vm->counters, rd->err, rd->errlen);
	load_mappings(rd, o, vm);
	load_devices(rd, d, o, vm, others);
	/* Files from before the key: every device matched the parent's IOMMU. */
	vm->parent_mock = get_bool_or(rd, o, "parent_mock", vm->devices && vm->devices->device->mock);
	load_viommus(rd, o, vm);
	load_fault_queues(rd, o, vm);
	load_domains(rd, o, vm);
	load_vdevices(rd, o, vm);
	link_device_domains(rd, o, vm);
	return vm;
}

static void load_intent(struct reader *rd, struct json_object *o, struct state_intent *in)
{
	struct json_object *v;

	memset(in, 0, sizeof(*in));
	if (!json_object_object_get_ex(o, "intent", &v))
		return;
	if (!json_object_is_type(v, json_type_object)) {
		fail(rd, "\"intent\" is not an object");
		return;
	}
	in->active = true;
	get_str(rd, v, "op", in->op, sizeof(in->op));
	get_str(rd, v, "path", in->path, sizeof(in->path));
	in->vm = (unsigned int)get_u64(rd, v, "vm", UINT32_MAX);
	in->has_range = json_object_object_get_ex(v, "iova", NULL);
	if (in->has_range) {
		in->iova = get_u64(rd, v, "iova", UINT64_MAX);
		in->length = get_u64(rd, v, "length", UINT64_MAX);
	}
}

/* The devices the daemon bound, with the drivers to give them back to. Read
 * into bindings; applied only once the whole file has parsed. */
static size_t load_bound(struct reader *rd, struct json_object *o,
			 struct pci_driver_binding **out)
{
	struct json_object *a;
	size_t n = get_array(rd, o, "bound_devices", &a);
	struct pci_driver_binding *b = n ? calloc(n, sizeof(*b)) : NULL;

	*out = b;
	if (n && !b) {
		fail(rd, "out of memory");
		return 0;
	}
	for (size_t i = 0; rd->r == 0 && i < n; i++) {
		struct json_object *e = element(rd, a, i);

		if (!e)
			break;
		get_str(rd, e, "name", b[i].bdf, sizeof(b[i].bdf));
		get_str(rd, e, "driver", b[i].driver, sizeof(b[i].driver));
		get_str(rd, e, "driver_override", b[i].driver_override,
			sizeof(b[i].driver_override));
		if (rd->r == 0 && !pci_bdf_valid(b[i].bdf))
			fail(rd, "bound device \"%s\" is not a PCI address", b[i].bdf);
		if (rd->r == 0 && b[i].driver[0] && !pci_driver_name_valid(b[i].driver))
			fail(rd, "driver \"%s\" of %s is not a driver name", b[i].driver, b[i].bdf);
		if (rd->r == 0 && b[i].driver_override[0] &&
		    !pci_driver_name_valid(b[i].driver_override))
			fail(rd, "driver_override \"%s\" of %s is not a driver name",
			     b[i].driver_override, b[i].bdf);
	}
	return n;
}

static void apply_bound(struct daemon *d, const struct pci_driver_binding *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct device *dev = device_by_name(d, b[i].bdf);

		if (!dev || dev->mock)
			continue; /* gone meanwhile: nothing to give back */
		dev->saved = b[i];
		dev->daemon_bound = true;
	}
}

int state_parse(struct daemon *d, const char *text, size_t len, struct vm **vms,
		struct state_intent *intent, unsigned int *next_vm_id, char *err, size_t errlen)
{
	struct reader rd = { .err = err, .errlen = errlen };
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root = NULL, *a;
	struct vm *list = NULL, **tail = &list;
	struct pci_driver_binding *bound = NULL;
	struct daemon_counters counters;
	bool have_counters = false;
	size_t n, nbound = 0;

	*vms = NULL;
	memset(intent, 0, sizeof(*intent));
	if (!tok)
		return -ENOMEM;
	if (len > INT32_MAX)
		fail(&rd, "the file is too large");
	else
		root = json_tokener_parse_ex(tok, text, (int)len);
	if (rd.r == 0 && (!root || json_tokener_get_error(tok) != json_tokener_success))
		fail(&rd, "not JSON: %s", json_tokener_error_desc(json_tokener_get_error(tok)));
	json_tokener_free(tok);
	if (rd.r == 0 && !json_object_is_type(root, json_type_object))
		fail(&rd, "not a JSON object");
	if (rd.r == 0 && get_u64(&rd, root, "version", UINT32_MAX) != STATE_DOC_VERSION && rd.r == 0)
		fail(&rd, "state version is not %d", STATE_DOC_VERSION);
	*next_vm_id = (unsigned int)get_u64(&rd, root, "next_vm_id", UINT32_MAX);
	load_intent(&rd, root, intent);
	nbound = load_bound(&rd, root, &bound);
	if (rd.r == 0)
		rd.r = state_daemon_counters_parse(root, &counters, &have_counters, err, errlen);
	n = get_array(&rd, root, "vms", &a);
	for (size_t i = 0; rd.r == 0 && i < n; i++) {
		struct json_object *e = element(&rd, a, i);
		struct vm *vm = e ? load_vm(&rd, d, e, list) : NULL;

		if (vm) {
			*tail = vm;
			tail = &vm->next;
		}
		if (rd.r == 0 && vm->id >= *next_vm_id)
			fail(&rd, "VM id %u is not below next_vm_id %u", vm->id, *next_vm_id);
		if (rd.r && vm && e)
			snprintf(err + strlen(err), errlen - strlen(err), " (VM %u)", vm->id);
	}
	json_object_put(root);
	if (rd.r) {
		free(bound);
		state_free_parsed(list);
		return rd.r;
	}
	apply_bound(d, bound, nbound);
	free(bound);
	/* Taken over as they were: a file without them leaves d's alone. */
	if (have_counters)
		d->counters = counters;
	*vms = list;
	return 0;
}

int state_parse_intent(const char *text, size_t len, struct state_intent *intent, char *err,
		       size_t errlen)
{
	struct reader rd = { .err = err, .errlen = errlen };
	struct json_object *root = NULL;
	struct json_tokener *tok = json_tokener_new();

	memset(intent, 0, sizeof(*intent));
	if (!tok)
		return -ENOMEM;
	if (len > INT32_MAX)
		fail(&rd, "the file is too large");
	else
		root = json_tokener_parse_ex(tok, text, (int)len);
	if (rd.r == 0 && (!root || json_tokener_get_error(tok) != json_tokener_success ||
			  !json_object_is_type(root, json_type_object)))
		fail(&rd, "not a JSON object");
	json_tokener_free(tok);
	if (rd.r == 0)
		load_intent(&rd, root, intent);
	if (rd.r == 0 && !intent->active)
		fail(&rd, "no \"intent\"");
	json_object_put(root);
	if (rd.r)
		memset(intent, 0, sizeof(*intent));
	return rd.r;
}

void state_free_parsed(struct vm *vms)
{
	while (vms) {
		struct vm *vm = vms;

		vms = vm->next;
		while (vm->mappings) {
			struct vm_mapping *p = vm->mappings;

			vm->mappings = p->next;
			free(p);
		}
		while (vm->devices) {
			struct vm_device *p = vm->devices;

			vm->devices = p->next;
			free(p);
		}
		while (vm->viommus) {
			struct viommu *v = vm->viommus;

			vm->viommus = v->next;
			while (v->veventqs) {
				struct veventq *q = v->veventqs;

				v->veventqs = q->next;
				free(q);
			}
			while (v->hw_queues) {
				struct hw_queue *q = v->hw_queues;

				v->hw_queues = q->next;
				free(q);
			}
			free(v);
		}
		while (vm->domains) {
			struct domain *p = vm->domains;

			vm->domains = p->next;
			free(p);
		}
		while (vm->vdevices) {
			struct vdevice *p = vm->vdevices;

			vm->vdevices = p->next;
			free(p);
		}
		while (vm->fault_queues) {
			struct fault_queue *p = vm->fault_queues;

			vm->fault_queues = p->next;
			free(p);
		}
		free(vm);
	}
}
