/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A VM: its own iommufd context, its quotas, creating and freeing it. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log-event.h"
#include "log.h"

struct vm *vm_by_path(struct daemon *d, const char *path)
{
	struct vm *vm = vm_of_object_path(d, path);

	return vm && strcmp(vm->path, path) == 0 ? vm : NULL;
}

bool vm_visible_to(const struct vm *vm, const struct server_peer *peer)
{
	return peer_is_root(peer) || vm->owner == peer->uid;
}

struct vm_device *vm_device_of(struct vm *vm, const struct device *dev)
{
	for (struct vm_device *vd = vm->devices; vd; vd = vd->next)
		if (vd->device == dev)
			return vd;
	return NULL;
}

/* Letters, digits, '.', '_' and '-': safe in logs, paths and file names. */
bool vm_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= VM_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

int vm_refresh_ranges(struct vm *vm)
{
	uint32_t count = sizeof(vm->ranges) / sizeof(vm->ranges[0]);
	int r;

	if (vm->mode != VM_MODE_MANAGED)
		return 0;
	r = iommufd_ioas_iova_ranges(vm->iommufd, vm->ioas_id, vm->ranges, &count, NULL);
	if (r < 0) {
		log_warning("VM %s: cannot read its IOVA ranges: %s", vm->name, strerror(-r));
		return r;
	}
	vm->nranges = count;
	return 0;
}

static unsigned int vm_object_count(const struct vm *vm)
{
	unsigned int n = 0;

	for (const struct vm_device *vd = vm->devices; vd; vd = vd->next)
		n++;
	for (const struct vm_mapping *map = vm->mappings; map; map = map->next)
		n++;
	for (const struct viommu *v = vm->viommus; v; v = v->next) {
		n++;
		for (const struct veventq *q = v->veventqs; q; q = q->next)
			n++;
		for (const struct hw_queue *q = v->hw_queues; q; q = q->next)
			n++;
	}
	for (const struct vdevice *v = vm->vdevices; v; v = v->next)
		n++;
	for (const struct domain *dom = vm->domains; dom; dom = dom->next)
		n++;
	for (const struct fault_queue *q = vm->fault_queues; q; q = q->next)
		n++;
	return n;
}

int vm_check_object_quota(struct vm *vm, const char *what, struct verror *error)
{
	unsigned int limit = vm->daemon->config->quota_objects;

	if (vm_object_count(vm) < limit)
		return 0;
	log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE,
		  LOG_FIELDS(.vm = vm->name, LOG_UID(vm->owner), .limit = "quota_objects_per_vm"),
		  "AUDIT quota-refused uid=%u vm=%s limit=quota_objects_per_vm(%u) what=%s",
		  (unsigned int)vm->owner, vm->name, limit, what);
	return error_set(error, VIOMMU_ERROR_QUOTA_EXCEEDED,
			 "VM %s holds %u objects, the quota_objects_per_vm limit: %s refused",
			 vm->name, limit, what);
}

uint64_t vm_pinned_bytes_of(struct daemon *d, uid_t uid)
{
	struct vm *const *mine;
	size_t n = vm_owner_range(d, uid, &mine);
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += mine[i]->mapped_bytes + mine[i]->vmm_memlock;
	return sum;
}

int vm_create(struct daemon *d, const struct server_peer *peer, const char *name,
	      const struct vm_options *options, struct vm **out, struct verror *error)
{
	const bool broker = options->mode == VM_MODE_BROKER;
	struct vm *vm;
	int r;

	if (!vm_name_valid(name))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "VM name \"%.80s\" is not 1 to %d letters, digits, '.', '_' or '-'",
				 name, VM_NAME_MAX - 1);
	if (options->dirty_tracking && broker)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "dirty-tracking is for managed VMs: a broker VM's VMM allocates "
				 "its own domains");
	vm = vm_by_owner_name(d, peer->uid, name);
	if (vm)
		return error_set(error, VIOMMU_ERROR_BUSY, "you already have a VM named %s (%s)",
				 name, vm->path);
	if (!d->has_iommufd)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "this kernel has no /dev/iommu (CONFIG_IOMMUFD)");
	struct vm *const *mine;
	size_t owned = vm_owner_range(d, peer->uid, &mine);

	if (owned >= d->config->quota_vms) {
		log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE,
			  LOG_FIELDS(LOG_UID(peer->uid), .limit = "quota_vms_per_uid"),
			  "AUDIT quota-refused uid=%u pid=%d limit=quota_vms_per_uid(%u) what=CreateVm",
			  (unsigned int)peer->uid, (int)peer->pid, d->config->quota_vms);
		return error_set(error, VIOMMU_ERROR_QUOTA_EXCEEDED,
				 "uid %u has %zu VMs, the quota_vms_per_uid limit",
				 (unsigned int)peer->uid, owned);
	}

	/* Room in the index now: once the kernel objects exist, linking cannot fail. */
	r = vm_index_reserve(d);
	if (r < 0)
		return r;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->daemon = d;
	vm->id = d->next_vm_id++;
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	snprintf(vm->path, sizeof(vm->path), "%s/%u", VIOMMU_VM_PREFIX, vm->id);
	snprintf(vm->peer_id, sizeof(vm->peer_id), "%s", peer->id);
	vm->owner = peer->uid;
	vm->mode = options->mode;
	vm->persist = options->persist;
	vm->pasid = options->pasid;
	vm->dirty_tracking = options->dirty_tracking;
	vm->next_object = 1;
	vm->vmm_pidfd = -1;
	vm->iommufd = iommufd_open();
	if (vm->iommufd < 0) {
		r = error_errno(error, vm->iommufd, "cannot open /dev/iommu");
		free(vm);
		return r;
	}
	if (vm->mode == VM_MODE_BROKER) {
		/*
		 * The kernel's default accounting: what the VMM pins is charged to
		 * its uid's locked_vm, against the pinning task's RLIMIT_MEMLOCK. One
		 * counter per uid, so a child that inherits a raised limit, or a
		 * VMM that keeps pins after its VM is gone, cannot add to it beyond
		 * the limit BindVmm sets (per process, each would have a budget of
		 * its own).
		 */
		r = iommufd_option_set(vm->iommufd, KABI_IOMMU_OPTION_RLIMIT_MODE, 0, 0);
		if (r < 0) {
			error_kernel(error, r, "IOMMU_OPTION(RLIMIT_MODE)",
				     "cannot set per-user accounting");
			close(vm->iommufd);
			free(vm);
			return r;
		}
	} else {
		r = iommufd_ioas_alloc(vm->iommufd, &vm->ioas_id);
		if (r < 0) {
			error_kernel(error, r, "IOMMU_IOAS_ALLOC", "cannot create the VM's IOAS");
			close(vm->iommufd);
			free(vm);
			return r;
		}
		/* Without its ranges every MapMemory would be refused. */
		r = vm_refresh_ranges(vm);
		if (r < 0)
			error_kernel(error, r, "IOMMU_IOAS_IOVA_RANGES", "cannot read the IOAS's ranges");
		else if ((r = context_mark_create(vm)) < 0)
			error_kernel(error, r, "IOMMU_IOAS_MAP_FILE", "cannot mark the VM's context");
		if (r < 0) {
			close(vm->iommufd);
			free(vm);
			return r;
		}
	}
	vm_fd_store(vm, "iommufd", vm->iommufd);
	vm_mark_dirty(vm);
	vm_index_link(d, vm);
	model_object_added(d, vm, MODEL_VM, vm->path, vm);
	log_event(LOG_EVENT_VM_CREATED, LOG_INFO, LOG_FIELDS(.vm = vm->name, LOG_UID(vm->owner)),
		  "VM %s (%s) created by uid %u (%s), %s mode", vm->name, vm->path,
		  (unsigned int)vm->owner, vm->peer_id, broker ? "broker" : "managed");
	model_usage_changed(d);
	*out = vm;
	return 0;
}

void vm_fd_name(const struct vm *vm, const char *what, char *buf, size_t len)
{
	fdstore_name(buf, len, vm->id, what);
}

void vm_fd_store(const struct vm *vm, const char *what, int fd)
{
	char name[FDSTORE_NAME_MAX];

	vm_fd_name(vm, what, name, sizeof(name));
	fdstore_add(name, &fd, 1, true);
}

void vm_fd_store_queue(const struct vm *vm, const char *kind, uint32_t kernel_id, int fd,
		       int notify_fd, bool store)
{
	char what[64];

	snprintf(what, sizeof(what), "%s%u", kind, kernel_id);
	if (store)
		vm_fd_store(vm, what, fd);
	else
		vm_fd_unstore(vm, what);
	snprintf(what, sizeof(what), "%s%u.notify", kind, kernel_id);
	if (store)
		vm_fd_store(vm, what, notify_fd);
	else
		vm_fd_unstore(vm, what);
}

void vm_fd_unstore(const struct vm *vm, const char *what)
{
	char name[FDSTORE_NAME_MAX];

	vm_fd_name(vm, what, name, sizeof(name));
	fdstore_remove(name);
}

void vm_free(struct vm *vm)
{
	struct daemon *d = vm->daemon;

	model_object_removed(d, vm, MODEL_VM, vm->path);
	log_event(LOG_EVENT_VM_DESTROYED, LOG_INFO, LOG_FIELDS(.vm = vm->name, LOG_UID(vm->owner)),
		  "VM %s (%s) of uid %u is gone", vm->name, vm->path, (unsigned int)vm->owner);
	model_vm_gone(d, vm->id);
	vm_index_unlink(d, vm);
	while (vm->mappings) {
		struct vm_mapping *map = vm->mappings;

		vm->mappings = map->next;
		free(map);
	}
	if (vm->iommufd >= 0)
		close(vm->iommufd);
	free(vm);
	model_usage_changed(d);
}

int vm_require_managed(const struct vm *vm, const char *what, struct verror *error)
{
	if (vm->mode == VM_MODE_MANAGED)
		return 0;
	return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
			 "VM %s is a broker VM: its VMM drives the iommufd itself, so %s is "
			 "not the daemon's to do",
			 vm->name, what);
}

void vm_share_iommufd(struct vm *vm, const struct server_peer *caller)
{
	audit_peer(caller, LOG_EVENT_FAST_PATH, "fast-path", vm->name, NULL);
	if (vm->shared)
		return;
	log_info("VM %s: iommufd handed out; from now on its state is shared", vm->name);
	vm->shared = true;
	model_vm_property_changed(vm, "Shared");
}

int vm_claim(struct vm *vm, const struct server_peer *caller, bool holder_connected,
	     struct verror *error)
{
	if (caller->uid != vm->owner)
		return error_set(error, VIOMMU_ERROR_PERMISSION_DENIED,
				 "VM %s belongs to uid %u: only its owner may claim it", vm->name,
				 (unsigned int)vm->owner);
	if (!vm->unclaimed && strcmp(vm->peer_id, caller->id) != 0 && holder_connected)
		return error_set(error, VIOMMU_ERROR_BUSY,
				 "VM %s is held by the live connection %s", vm->name, vm->peer_id);
	snprintf(vm->peer_id, sizeof(vm->peer_id), "%s", caller->id);
	if (vm->unclaimed) {
		vm->unclaimed = false;
		model_vm_property_changed(vm, "Claimed");
	}
	audit_peer(caller, LOG_EVENT_VM_CLAIMED, "claim", vm->name, NULL);
	return 0;
}

void vm_mark_dirty(struct vm *vm)
{
	struct daemon *d = vm->daemon;

	if (vm->state_dirty)
		return;
	vm->state_dirty = true;
	if (d->dirty_overflow)
		return;
	/* Nobody writes (no state file): the list stays as long as the VMs. */
	if (d->ndirty_vms > d->nvm_index + 16) {
		d->ndirty_vms = 0;
		d->dirty_overflow = true;
		return;
	}
	if (d->ndirty_vms == d->dirty_vms_cap) {
		size_t cap = d->dirty_vms_cap ? 2 * d->dirty_vms_cap : 16;
		unsigned int *grown = realloc(d->dirty_vms, cap * sizeof(*grown));

		if (!grown) {
			d->dirty_overflow = true; /* the next write looks at every VM */
			return;
		}
		d->dirty_vms = grown;
		d->dirty_vms_cap = cap;
	}
	d->dirty_vms[d->ndirty_vms++] = vm->id;
}

void vm_mark_all_dirty(struct daemon *d)
{
	for (struct vm *vm = d->vms; vm; vm = vm->next)
		vm->state_dirty = true;
	d->dirty_overflow = true;
}
