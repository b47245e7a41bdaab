/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vDEVICEs: a device's virtual ID on a vIOMMU. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int vdevice_destroy(struct vdevice *vdev, bool force)
{
	struct vm *vm = vdev->viommu->vm;
	int r = iommufd_destroy(vm->iommufd, vdev->kernel_id);

	if (r < 0 && r != -ENOENT) {
		log_warning("VM %s: cannot destroy vDEVICE %u: %s", vm->name, vdev->kernel_id,
			    strerror(-r));
		if (!force)
			return r;
	}
	model_object_removed(vm->daemon, vm, MODEL_VDEVICE, vdev->path);
	for (struct vdevice **p = &vm->vdevices; *p; p = &(*p)->next) {
		if (*p == vdev) {
			*p = vdev->next;
			break;
		}
	}
	free(vdev);
	return 0;
}

struct vdevice *vdevice_on(struct viommu *v, struct device *dev)
{
	for (struct vdevice *vdev = v->vm->vdevices; vdev; vdev = vdev->next)
		if (vdev->viommu == v && vdev->device == dev)
			return vdev;
	return NULL;
}

int vdevice_create(struct viommu *v, struct device *dev, uint64_t virt_id, struct vdevice **out,
		   struct verror *error)
{
	struct vm *vm = v->vm;
	struct vdevice *vdev, **tail;
	struct vm_device *vd = vm_device_of(vm, dev);
	int r;

	if (!vd)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s is not attached to VM %s", dev->name, vm->name);
	if (dev->vendor != v->vendor)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s is not behind a %s IOMMU", dev->name, v->vendor->name);
	for (vdev = vm->vdevices; vdev; vdev = vdev->next) {
		if (vdev->viommu == v && vdev->virt_id == virt_id)
			return error_set(error, VIOMMU_ERROR_BUSY,
					 "virtual ID 0x%llx is taken by %s",
					 (unsigned long long)virt_id, vdev->path);
		if (vdev->device == dev)
			return error_set(error, VIOMMU_ERROR_BUSY, "%s already has vDEVICE %s",
					 dev->name, vdev->path);
	}
	r = vm_check_object_quota(vm, "AddDevice", error);
	if (r < 0)
		return r;
	vdev = calloc(1, sizeof(*vdev));
	if (!vdev)
		return -ENOMEM;
	r = iommufd_vdevice_alloc(vm->iommufd, v->kernel_id, vd->dev_id, virt_id, &vdev->kernel_id);
	if (r < 0) {
		free(vdev);
		return error_kernel(error, r, "IOMMU_VDEVICE_ALLOC", dev->name);
	}
	vdev->viommu = v;
	vdev->device = dev;
	vdev->virt_id = virt_id;
	snprintf(vdev->path, sizeof(vdev->path), VIOMMU_VM_PREFIX "/%u/vdevice/%u", vm->id,
		 vm->next_object++);
	for (tail = &vm->vdevices; *tail; tail = &(*tail)->next)
		;
	*tail = vdev;
	model_object_added(vm->daemon, vm, MODEL_VDEVICE, vdev->path, vdev);
	*out = vdev;
	return 0;
}

int vdevice_destroy_checked(struct vdevice *vdev, struct verror *error)
{
	int r = vdevice_destroy(vdev, false);

	if (r < 0)
		return error_errno(error, r, "cannot destroy the vDEVICE");
	return 0;
}
