/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Batched set-up, for VMs with many devices: attach a list of devices, or
 * give each of a list a vDEVICE and a nested domain of its own with the
 * device on it. One call, one state commit, one round trip, instead of one
 * of each per device. All or nothing: a failure undoes what the call did so
 * far, newest first.
 */
#include "model.h"

int vm_attach_devices(struct vm *vm, struct device *const *devs, size_t n,
		      const struct server_peer *caller, struct verror *error)
{
	const struct attach_options none = { 0 };
	size_t done = 0;
	int r = 0;

	for (; done < n; done++) {
		r = vm_attach_device(vm, devs[done], &none, caller, error);
		if (r < 0)
			break;
	}
	if (r < 0)
		while (done-- > 0)
			vm_detach_device(vm, devs[done], NULL);
	return r;
}

static void nest_undo_one(struct vm *vm, struct nest_entry *e)
{
	if (e->vd->domain == e->dom && e->dom)
		vm_device_replace(vm, e->vd, vm->parent_id);
	if (e->dom) {
		e->vd->domain = NULL;
		domain_destroy(e->dom, true);
	}
	if (e->vdev)
		vdevice_destroy(e->vdev, true);
	e->dom = NULL;
	e->vdev = NULL;
}

void viommu_nest_undo(struct vm *vm, struct nest_entry *entries, size_t n)
{
	while (n-- > 0)
		nest_undo_one(vm, &entries[n]);
}

int viommu_nest_devices(struct viommu *v, struct nest_entry *entries, size_t n,
			uint32_t data_type, const void *data, size_t len, struct verror *error)
{
	struct vm *vm = v->vm;
	size_t i = 0;
	int r = 0;

	if (len > VIOMMU_DATA_MAX)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "domain data of %zu bytes, at most %d", len, VIOMMU_DATA_MAX);
	for (; i < n; i++) {
		struct nest_entry *e = &entries[i];

		if (e->vd->domain)
			r = error_set(error, VIOMMU_ERROR_BUSY, "%s is on domain %s already",
				      e->vd->device->name, e->vd->domain->path);
		if (r >= 0)
			r = vdevice_create(v, e->vd->device, e->virt_id, &e->vdev, error);
		if (r >= 0)
			r = domain_alloc(vm, v, data_type, data, len, NULL, &e->dom, error);
		if (r >= 0)
			r = domain_attach_device(e->dom, e->vd, error);
		if (r < 0) {
			nest_undo_one(vm, e); /* the entry that failed, as far as it got */
			break;
		}
	}
	if (r < 0)
		viommu_nest_undo(vm, entries, i);
	return r;
}
