/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A restarted daemon takes its VMs back: the state file says what they were,
 * the service manager's fd store holds the fds that kept them alive. Each VM
 * keeps its object path and kernel IDs; its owner has claim_grace_seconds to
 * Claim it. An interrupted call (the intent record) is resolved; stored fds
 * nothing explains are kept as orphans for the operator (ReleaseOrphan).
 */
#include "state.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fd-identity.h"
#include "log-event.h"
#include "log.h"

/* Object IDs past the highest known one that an interrupted call may have made. */
#define SWEEP_SLACK 64

static struct stored_fd *take_fd(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->norphans; i++) {
		if (!d->orphans[i].used && strcmp(d->orphans[i].name, name) == 0) {
			d->orphans[i].used = true;
			return &d->orphans[i];
		}
	}
	return NULL;
}

static struct stored_fd *take_vm_fd(struct daemon *d, const struct vm *vm, const char *what)
{
	char name[FDSTORE_NAME_MAX];

	vm_fd_name(vm, what, name, sizeof(name));
	return take_fd(d, name);
}

static void put_back(struct stored_fd *sf)
{
	if (sf)
		sf->used = false;
}

/* The device's fd did not come back: the kernel unbound it when it closed. */
static void drop_device(struct vm *vm, struct vm_device *vd)
{
	for (struct vdevice **p = &vm->vdevices; *p;) {
		struct vdevice *v = *p;

		if (v->device != vd->device) {
			p = &v->next;
			continue;
		}
		*p = v->next;
		free(v);
	}
	for (struct vm_device **p = &vm->devices; *p; p = &(*p)->next) {
		if (*p == vd) {
			*p = vd->next;
			break;
		}
	}
	log_warning("VM %s: the fd of %s was not in the fd store; it left the VM", vm->name,
		    vd->device->name);
	free(vd);
}

static void adopt_devices(struct daemon *d, struct vm *vm)
{
	char what[FDSTORE_NAME_MAX];

	for (struct vm_device *vd = vm->devices, *next; vd; vd = next) {
		struct stored_fd *sf;

		next = vd->next;
		/* Broker devices are reserved, never opened by the daemon. */
		if (vd->device->mock || vm->mode == VM_MODE_BROKER)
			continue;
		snprintf(what, sizeof(what), "dev.%s", vd->device->name);
		sf = take_vm_fd(d, vm, what);
		if (sf && fd_is_vfio_cdev_of(d->sysfs_root, vd->device->name, sf->fd) == 0) {
			vd->devfd = sf->fd;
			continue;
		}
		put_back(sf);
		drop_device(vm, vd);
	}
}

/* A relayed queue needs its fd and its notify eventfd back. */
static bool take_queue_fds(struct daemon *d, struct vm *vm, const char *kind, uint32_t id,
			   int *fd, int *notify_fd)
{
	char what[64];
	struct stored_fd *q, *n;

	snprintf(what, sizeof(what), "%s%u", kind, id);
	q = take_vm_fd(d, vm, what);
	snprintf(what, sizeof(what), "%s%u.notify", kind, id);
	n = take_vm_fd(d, vm, what);
	if (!q || !n || fd_is_eventfd(n->fd) < 0) {
		put_back(q);
		put_back(n);
		return false;
	}
	*fd = q->fd;
	*notify_fd = n->fd;
	return true;
}

static void adopt_queues(struct daemon *d, struct vm *vm)
{
	for (struct viommu *v = vm->viommus; v; v = v->next) {
		for (struct veventq *q = v->veventqs, *next; q; q = next) {
			next = q->next;
			if (!q->relay || (take_queue_fds(d, vm, "eventq", q->kernel_id, &q->fd,
							 &q->notify_fd) &&
					  veventq_watch(q) == 0))
				continue;
			log_warning("VM %s: the relayed vEVENTQ %u lost its fds; it is destroyed",
				    vm->name, q->kernel_id);
			veventq_destroy(q);
		}
	}
	for (struct fault_queue *q = vm->fault_queues, *next; q; q = next) {
		next = q->next;
		if (!q->relay ||
		    (take_queue_fds(d, vm, "faultq", q->kernel_id, &q->fd, &q->notify_fd) &&
		     fault_queue_watch(q) == 0))
			continue;
		log_warning("VM %s: the relayed fault queue %u lost its fds; it is destroyed",
			    vm->name, q->kernel_id);
		for (struct domain *dom = vm->domains; dom; dom = dom->next)
			if (dom->fault == q)
				dom->fault = NULL;
		fault_queue_destroy(q, true);
	}
}

/* A VM bound to its VMM lives as long as the process: no Claim needed. A
 * process that exited while the daemon was down is noticed at once, since an
 * exited process's pidfd polls readable. */
static void adopt_vmm(struct daemon *d, struct vm *vm)
{
	struct stored_fd *sf = take_vm_fd(d, vm, "pidfd");
	pid_t pid = 0;
	int r = sf ? pidfd_pid(sf->fd, &pid) : -ENOENT;

	if (sf && (r == 0 || r == -ESRCH) && (r == -ESRCH || pid == vm->vmm_pid)) {
		vm->vmm_pidfd = sf->fd;
		vm->unclaimed = false;
		if (vm_vmm_watch(vm) == 0)
			return;
		log_error("VM %s: cannot watch its VMM (pid %d)", vm->name, (int)vm->vmm_pid);
		vm->vmm_pidfd = -1;
	}
	put_back(sf);
	log_warning("VM %s: the pidfd of its VMM (pid %d) did not come back; it waits for a "
		    "Claim like any other", vm->name, (int)vm->vmm_pid);
	vm->vmm_pid = 0;
}

/*
 * A managed VM's context carries its mark (context-mark.c). A VM from a file
 * written before marks existed gets the old, weaker proof (its IOAS answers)
 * and a mark now, so its next restart is proven. Broker VMs have no mark: the
 * context is the VMM's, and the daemon keeps nothing in it to cleanse.
 */
static int adopt_prove_context(struct vm *vm)
{
	int r = context_mark_prove(vm);

	if (r == -ENOENT) {
		if (vm_refresh_ranges(vm) < 0)
			return -ESTALE;
		r = context_mark_create(vm);
		if (r < 0)
			log_warning("VM %s: cannot mark its context (%s); its next restart relies "
				    "on the IOAS answering",
				    vm->name, strerror(-r));
		return 0;
	}
	if (r < 0)
		return r;
	return vm_refresh_ranges(vm) < 0 ? -ESTALE : 0;
}

/* 0 when the VM is back; else its fds stay for the caller to judge. */
static int adopt_vm(struct daemon *d, struct vm *vm)
{
	struct stored_fd *sf = take_vm_fd(d, vm, "iommufd");
	int r;

	if (!sf)
		return -ENOENT;
	r = fd_is_iommufd(d->sysfs_root, sf->fd);
	if (r < 0) {
		put_back(sf);
		return r == -ENOTTY ? -EBADF : r;
	}
	vm->iommufd = sf->fd;
	if (vm->mode == VM_MODE_MANAGED) {
		r = adopt_prove_context(vm);
		if (r < 0) {
			vm->iommufd = -1;
			put_back(sf);
			return r;
		}
	}
	adopt_devices(d, vm);
	adopt_queues(d, vm);
	for (struct vm_device *vd = vm->devices; vd; vd = vd->next) {
		vd->device->vm = vm;
		if (vd->devfd >= 0)
			vm_device_watch_request(vm, vd);
		/* HwInfo as before the restart: the kernel's, not sysfs's. */
		if (vm->mode == VM_MODE_MANAGED && vd->dev_id)
			vm_device_read_hw_info(vm, vd);
	}
	vm->unclaimed = true;
	vm->peer_id[0] = '\0';
	if (vm->vmm_pid)
		adopt_vmm(d, vm);
	return 0;
}

/* Closes the stored fds of VM id that nothing adopted, and drops them from the store. */
static void release_unadopted(struct daemon *d, unsigned int vm_id, const char *why)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "vm%u.", vm_id);
	for (size_t i = 0; i < d->norphans; i++) {
		struct stored_fd *sf = &d->orphans[i];

		if (sf->used || strncmp(sf->name, prefix, strlen(prefix)) != 0)
			continue;
		log_info("%s: closing %s", why, sf->name);
		fdstore_remove(sf->name);
		close(sf->fd);
		sf->fd = -1;
		sf->used = true;
	}
}

/* The kernel IDs the state records for the VM. */
struct known_ids {
	uint32_t *ids;
	size_t n, cap;
};

static int known_add(struct known_ids *k, uint32_t id)
{
	if (id == 0)
		return 0;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;
		uint32_t *grown = realloc(k->ids, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		k->ids = grown;
		k->cap = cap;
	}
	k->ids[k->n++] = id;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Every ID the state knows, sorted: the highest is the last. */
static int known_collect(const struct vm *vm, struct known_ids *k)
{
	int r = known_add(k, vm->ioas_id);

	if (r == 0)
		r = known_add(k, vm->mark_ioas_id);
	if (r == 0)
		r = known_add(k, vm->parent_id);
	for (const struct vm_device *vd = vm->devices; r == 0 && vd; vd = vd->next) {
		r = known_add(k, vd->dev_id);
		if (r == 0)
			r = known_add(k, vd->stdev_id);
		if (r == 0)
			r = known_add(k, vd->pt_id);
	}
	for (const struct viommu *v = vm->viommus; r == 0 && v; v = v->next) {
		r = known_add(k, v->kernel_id);
		for (const struct veventq *q = v->veventqs; r == 0 && q; q = q->next)
			r = known_add(k, q->kernel_id);
		for (const struct hw_queue *q = v->hw_queues; r == 0 && q; q = q->next)
			r = known_add(k, q->kernel_id);
	}
	for (const struct domain *dom = vm->domains; r == 0 && dom; dom = dom->next)
		r = known_add(k, dom->kernel_id);
	for (const struct vdevice *v = vm->vdevices; r == 0 && v; v = v->next)
		r = known_add(k, v->kernel_id);
	for (const struct fault_queue *q = vm->fault_queues; r == 0 && q; q = q->next)
		r = known_add(k, q->kernel_id);
	if (r == 0 && k->n)
		qsort(k->ids, k->n, sizeof(*k->ids), cmp_u32);
	return r;
}

static bool known_has(const struct known_ids *k, uint32_t id)
{
	return k->n && bsearch(&id, k->ids, k->n, sizeof(*k->ids), cmp_u32);
}

/*
 * Objects an interrupted call made before the state recorded them. iommufd
 * hands out the lowest free ID, so they sit among or just above the known
 * ones; what the state does not know is destroyed, dependants first (highest
 * ID first, repeated while anything goes). Not for a VM whose iommufd the VMM
 * has: those IDs may be the VMM's own.
 */
static void sweep_unknown_objects(struct vm *vm, const char *op)
{
	struct known_ids known = { 0 };
	bool progress = true;
	uint32_t top;

	if (vm->shared) {
		log_warning("VM %s: an interrupted %s may have left an object in its iommufd; the "
			    "VMM holds that iommufd too, so it stays until the VMM closes it",
			    vm->name, op);
		return;
	}
	if (known_collect(vm, &known) < 0) {
		log_error("VM %s: out of memory; objects of the interrupted %s may remain",
			  vm->name, op);
		free(known.ids);
		return;
	}
	top = (known.n ? known.ids[known.n - 1] : 0) + SWEEP_SLACK;
	for (int pass = 0; progress && pass < 4; pass++) {
		progress = false;
		for (uint32_t id = top; id >= 1; id--) {
			if (known_has(&known, id) || iommufd_destroy(vm->iommufd, id) < 0)
				continue;
			log_notice("VM %s: destroyed object %u, made by the interrupted %s", vm->name,
				   id, op);
			progress = true;
		}
	}
	free(known.ids);
}

static void drop_mappings_inside(struct vm *vm, uint64_t iova, uint64_t length)
{
	for (struct vm_mapping **p = &vm->mappings; *p;) {
		struct vm_mapping *map = *p;

		if (map->iova >= iova && map->iova + map->length <= iova + length) {
			*p = map->next;
			vm->mapped_bytes -= map->length;
			free(map);
			continue;
		}
		p = &map->next;
	}
}

static bool mapping_recorded(const struct vm *vm, uint64_t iova, uint64_t length)
{
	for (const struct vm_mapping *map = vm->mappings; map; map = map->next)
		if (map->iova == iova && map->length == length)
			return true;
	return false;
}

/* A Destroy of one object of the VM that did not finish: finish it. */
static void finish_destroy(struct vm *vm, const char *path)
{
	for (struct viommu *v = vm->viommus; v; v = v->next) {
		if (strcmp(v->path, path) == 0) {
			viommu_destroy(v, true);
			return;
		}
		for (struct hw_queue *q = v->hw_queues; q; q = q->next)
			if (strcmp(q->path, path) == 0) {
				hw_queue_destroy(q, true);
				return;
			}
	}
	for (struct domain *dom = vm->domains; dom; dom = dom->next)
		if (strcmp(dom->path, path) == 0) {
			domain_destroy(dom, true);
			return;
		}
	for (struct vdevice *v = vm->vdevices; v; v = v->next)
		if (strcmp(v->path, path) == 0) {
			vdevice_destroy(v, true);
			return;
		}
	for (struct fault_queue *q = vm->fault_queues; q; q = q->next)
		if (strcmp(q->path, path) == 0) {
			fault_queue_destroy(q, true);
			return;
		}
}

static void resolve_intent(struct daemon *d, const struct state_intent *in)
{
	struct vm *vm = vm_by_id(d, in->vm);
	uint64_t unmapped = 0;
	int r;

	log_notice("resolving %s on %s, interrupted by the last exit", in->op, in->path);
	if (!vm) {
		/* A CreateVm rolled back, or a Destroy whose fds already left. */
		if (in->vm)
			release_unadopted(d, in->vm, in->op);
		return;
	}
	if (strcmp(in->op, "Destroy") == 0 && strcmp(in->path, vm->path) == 0) {
		vm_teardown(vm);
		vm_free(vm);
		release_unadopted(d, in->vm, in->op);
		return;
	}
	if (strcmp(in->op, "Destroy") == 0)
		finish_destroy(vm, in->path);
	if (in->has_range && vm->mode == VM_MODE_MANAGED &&
	    (strcmp(in->op, "UnmapMemory") == 0 ||
	     (strcmp(in->op, "MapMemory") == 0 && !mapping_recorded(vm, in->iova, in->length)))) {
		r = iommufd_ioas_unmap(vm->iommufd, vm->ioas_id, in->iova, in->length, &unmapped);
		if (r < 0 && r != -ENOENT)
			log_warning("VM %s: cannot unmap 0x%llx+0x%llx: %s", vm->name,
				    (unsigned long long)in->iova, (unsigned long long)in->length,
				    strerror(-r));
		if (strcmp(in->op, "UnmapMemory") == 0)
			drop_mappings_inside(vm, in->iova, in->length);
	}
	release_unadopted(d, in->vm, in->op);
	sweep_unknown_objects(vm, in->op);
}

static void on_claim_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	for (struct vm *vm = d->vms, *next; vm; vm = next) {
		next = vm->next;
		if (!vm->unclaimed || vm->persist)
			continue;
		log_notice("VM %s (%s): uid %u did not claim it within %u s of the restart; "
			   "tearing it down",
			   vm->name, vm->path, (unsigned int)vm->owner, d->config->claim_grace_seconds);
		vm_teardown(vm);
		vm_free(vm);
	}
	state_commit(d);
}

/* Parsed VMs go into the daemon's list in ID order, each adopted or refused. */
static void adopt_parsed(struct daemon *d, struct vm *parsed, const struct state_intent *in)
{
	while (parsed) {
		struct vm *vm = parsed;
		int r;

		parsed = vm->next;
		vm->next = NULL;
		r = vm_index_reserve(d);
		if (r == 0)
			r = adopt_vm(d, vm);
		if (r == 0) {
			vm_index_link(d, vm);
			d->counters.vms_adopted++;
			log_event(LOG_EVENT_ADOPTED, LOG_INFO,
				  LOG_FIELDS(.vm = vm->name, LOG_UID(vm->owner)),
				  "VM %s (%s) adopted: IOAS %u, parent %u, %llu bytes mapped",
				  vm->name, vm->path, vm->ioas_id, vm->parent_id,
				  (unsigned long long)vm->mapped_bytes);
			continue;
		}
		if (r == -ENOENT && in->active && in->vm == vm->id)
			log_info("VM %s (%s): gone with the interrupted %s", vm->name, vm->path,
				 in->op);
		else if (r == -ENOENT)
			log_error("VM %s (%s) is lost: its iommufd was not in the fd store (was the "
				  "daemon running without a service manager's fd store?)",
				  vm->name, vm->path);
		else if (r == -ESTALE)
			log_error("VM %s (%s): its stored iommufd is another context (the VM's mark "
				  "is not in it); its fds are kept as orphans",
				  vm->name, vm->path);
		else
			log_error("VM %s (%s): its stored iommufd does not match the state (%s); "
				  "its fds are kept as orphans",
				  vm->name, vm->path, strerror(-r));
		state_free_parsed(vm);
	}
}

/* Unused entries become the orphan list; used ones leave it. */
static void compact_orphans(struct daemon *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->norphans; i++) {
		if (d->orphans[i].used)
			continue;
		log_event(LOG_EVENT_ORPHAN_KEPT, LOG_WARNING, LOG_FIELDS(0),
			  "stored fd %s (fd %d) is not explained by the state: kept as an orphan "
			  "until an operator releases it (viommuctl orphan release)",
			  d->orphans[i].name, d->orphans[i].fd);
		d->orphans[n++] = d->orphans[i];
	}
	d->norphans = n;
	if (n == 0) {
		free(d->orphans);
		d->orphans = NULL;
	}
}

int daemon_adopt(struct daemon *d)
{
	struct state_intent intent;
	struct vm *parsed = NULL;
	unsigned int next_vm_id = 1;
	char err[512] = "", *text = NULL;
	size_t len = 0;
	int r;

	r = fdstore_take(&d->orphans, &d->norphans);
	if (r < 0)
		log_error("cannot read the fds the service manager handed back: %s", strerror(-r));
	r = d->state_path ? state_files_read(d, &text, &len) : 0;
	if (r < 0)
		log_error("cannot read %s: %s", d->state_path, strerror(-r));
	memset(&intent, 0, sizeof(intent));
	if (r > 0) {
		r = state_parse(d, text, len, &parsed, &intent, &next_vm_id, err, sizeof(err));
		/* After the parse, which takes the counters over from the state. */
		d->counters.restarts++;
		if (r < 0) {
			log_error("%s cannot be used (%s); it is kept as %s.corrupt (with its VM "
				  "files) and every stored fd as an orphan",
				  d->state_path, err, d->state_path);
			state_files_set_aside(d);
		} else if (next_vm_id > d->next_vm_id) {
			d->next_vm_id = next_vm_id;
		}
	}
	free(text);
	text = NULL;
	if (d->state_path) {
		char path[4096];
		struct state_intent file_intent;

		state_intent_path(d->state_path, path, sizeof(path));
		r = state_read_text(path, &text, &len);
		if (r > 0 && state_parse_intent(text, len, &file_intent, err, sizeof(err)) == 0)
			intent = file_intent;
		else if (r > 0)
			log_error("%s cannot be used (%s); no interrupted call is resolved", path,
				  err);
		free(text);
	}
	adopt_parsed(d, parsed, &intent);
	if (intent.active)
		resolve_intent(d, &intent);
	compact_orphans(d);
	/* Object IDs live on: a new VM never takes an ID a stored fd names. */
	for (size_t i = 0; i < d->norphans; i++) {
		unsigned int id;

		if (sscanf(d->orphans[i].name, "vm%u.", &id) == 1 && id >= d->next_vm_id)
			d->next_vm_id = id + 1;
	}
	/* Resolved: the commit writes the state (every VM anew, in this version's
	 * layout; the files of VMs not adopted go) and removes the intent file. */
	d->intent = intent;
	state_files_resync(d);
	state_commit(d);
	for (struct vm *vm = d->vms; vm; vm = vm->next) {
		if (vm->unclaimed && !vm->persist) {
			struct timeval grace = { .tv_sec = d->config->claim_grace_seconds };

			d->claim_timer = evtimer_new(d->base, on_claim_deadline, d);
			if (!d->claim_timer || evtimer_add(d->claim_timer, &grace) < 0)
				log_error("cannot arm the claim deadline: unclaimed VMs stay");
			break;
		}
	}
	model_usage_changed(d);
	return 0;
}

int daemon_release_orphan(struct daemon *d, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < d->norphans;) {
		if (strcmp(d->orphans[i].name, name) != 0) {
			i++;
			continue;
		}
		close(d->orphans[i].fd);
		d->orphans[i] = d->orphans[--d->norphans];
		n++;
	}
	if (n == 0)
		return -ENOENT;
	fdstore_remove(name);
	d->counters.orphans_released += n;
	daemon_counters_changed(d);
	log_event(LOG_EVENT_ORPHAN_RELEASED, LOG_NOTICE, LOG_FIELDS(0),
		  "AUDIT orphan-released name=%s fds=%zu", name, n);
	return 0;
}
