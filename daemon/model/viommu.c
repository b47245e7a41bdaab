/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vIOMMU objects: one per physical IOMMU of a VM, over its nesting parent. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void device_iommu_name(struct daemon *d, const struct device *dev, char *buf, size_t len)
{
	struct pci_iommu_regs regs;

	if (dev->mock)
		snprintf(buf, len, "selftest");
	else if (pci_sysfs_iommu_regs(d->sysfs_root, dev->name, &regs) == 0)
		snprintf(buf, len, "%s", regs.iommu);
	else
		snprintf(buf, len, "group%d", dev->pci.iommu_group);
}

/* The first attached device of the vendor: the vIOMMU is allocated against it. */
static struct vm_device *viommu_pick_device(struct vm *vm, const struct viommu_vendor *vendor)
{
	for (struct vm_device *vd = vm->devices; vd; vd = vd->next)
		if (!vendor || vd->device->vendor == vendor)
			return vd;
	return NULL;
}

static uint64_t read_u64_at(const uint8_t *data, size_t len, uint32_t at)
{
	uint64_t v = 0;

	if (at + sizeof(v) <= len)
		memcpy(&v, data + at, sizeof(v));
	return v;
}

int viommu_create(struct vm *vm, const char *type, const void *in_data, size_t data_len,
		  struct viommu **out, struct verror *error)
{
	const bool has_data = in_data != NULL;
	uint8_t data[VIOMMU_DATA_MAX]; /* the kernel writes some of it back */
	const struct viommu_vendor *vendor = NULL;
	struct iommufd_viommu_alloc_args args = { 0 };
	struct vm_device *vd;
	struct viommu *viommu, **tail;
	char iommu[PCI_NAME_MAX];
	int r;

	if (has_data && data_len > sizeof(data))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "\"data\" is %zu bytes, more than the %zu any vIOMMU takes", data_len,
				 sizeof(data));
	if (has_data)
		memcpy(data, in_data, data_len);
	if (strcmp(type, "auto") != 0) {
		vendor = viommu_vendor_by_name(type);
		if (!vendor)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "unknown vIOMMU type \"%.40s\" (auto, amd, intel-vtd, "
					 "arm-smmuv3, tegra241-cmdqv, selftest)", type);
	}
	vd = viommu_pick_device(vm, vendor);
	if (!vd)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "VM %s has no attached device%s%s: attach one first", vm->name,
				 vendor ? " behind a " : "", vendor ? vendor->name : "");
	vendor = vd->device->vendor;
	if (!vendor)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "the IOMMU of %s is of no vendor viommud knows", vd->device->name);
	/* The kernel accepts some types it cannot serve: the table decides. */
	if (!vendor->viommu.supported)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED, "%s", vendor->viommu.missing);
	if (!vm->nesting)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "VM %s has no nesting parent: the IOMMU of its first device cannot nest",
				 vm->name);
	if (has_data && data_len != vendor->viommu.data_len)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "\"data\" for a %s vIOMMU is %u bytes, not %zu", vendor->name,
				 vendor->viommu.data_len, data_len);
	r = vm_check_object_quota(vm, "CreateViommu", error);
	if (r < 0)
		return r;
	device_iommu_name(vm->daemon, vd->device, iommu, sizeof(iommu));
	for (struct viommu *v = vm->viommus; v; v = v->next)
		if (strcmp(v->iommu, iommu) == 0)
			return error_set(error, VIOMMU_ERROR_BUSY,
					 "VM %s already has %s for IOMMU %s: one vIOMMU per IOMMU",
					 vm->name, v->path, iommu);

	viommu = calloc(1, sizeof(*viommu));
	if (!viommu)
		return -ENOMEM;
	args.type = vendor->viommu.type;
	args.dev_id = vd->dev_id;
	args.hwpt_id = vm->parent_id;
	args.data = has_data ? data : NULL;
	args.data_len = has_data ? (uint32_t)data_len : 0;
	r = iommufd_viommu_alloc(vm->iommufd, &args, &viommu->kernel_id);
	if (r < 0) {
		free(viommu);
		if (r == -EOPNOTSUPP)
			return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
					 "the kernel's %s driver offers no vIOMMU here", vendor->name);
		return error_kernel(error, r, "IOMMU_VIOMMU_ALLOC", "cannot create the vIOMMU");
	}
	viommu->vm = vm;
	viommu->vendor = vendor;
	viommu->type = vendor->viommu.type;
	snprintf(viommu->iommu, sizeof(viommu->iommu), "%s", iommu);
	if (has_data && vendor->viommu_mmap) {
		viommu->mmap_offset = read_u64_at(data, data_len, vendor->viommu_mmap_offset_at);
		viommu->mmap_length = read_u64_at(data, data_len, vendor->viommu_mmap_length_at);
		viommu->has_mmap = viommu->mmap_length != 0;
	}
	snprintf(viommu->path, sizeof(viommu->path), VIOMMU_VM_PREFIX "/%u/viommu/%u", vm->id,
		 vm->next_object++);
	for (tail = &vm->viommus; *tail; tail = &(*tail)->next)
		;
	*tail = viommu;
	log_info("VM %s: vIOMMU %s (%s, kernel ID %u) on parent %u", vm->name, viommu->path,
		 vendor->name, viommu->kernel_id, vm->parent_id);
	model_object_added(vm->daemon, vm, MODEL_VIOMMU, viommu->path, viommu);
	*out = viommu;
	return 0;
}

int viommu_destroy(struct viommu *viommu, bool force)
{
	struct vm *vm = viommu->vm;
	int r;

	/* Its event queues go with it (closing the relay's fds). */
	while (viommu->veventqs)
		veventq_destroy(viommu->veventqs);
	r = iommufd_destroy(vm->iommufd, viommu->kernel_id);

	/* Still held (an fd the VMM has): keep the record, say so. */
	if (r < 0 && r != -ENOENT) {
		log_warning("VM %s: cannot destroy vIOMMU %u: %s", vm->name, viommu->kernel_id,
			    strerror(-r));
		if (!force)
			return r;
	}
	model_object_removed(vm->daemon, vm, MODEL_VIOMMU, viommu->path);
	for (struct viommu **p = &vm->viommus; *p; p = &(*p)->next) {
		if (*p == viommu) {
			*p = viommu->next;
			break;
		}
	}
	free(viommu);
	return 0;
}

/* --- D-Bus --- */


int viommu_destroy_checked(struct viommu *v, struct verror *error)
{
	struct vm *vm = v->vm;
	int r;

	if (v->hw_queues)
		return error_set(error, VIOMMU_ERROR_BUSY, "HW queue %s uses it: destroy it first",
				 v->hw_queues->path);
	for (struct domain *dom = vm->domains; dom; dom = dom->next)
		if (dom->viommu == v)
			return error_set(error, VIOMMU_ERROR_BUSY, "domain %s uses it: destroy it first",
					 dom->path);
	for (struct vdevice *vdev = vm->vdevices; vdev; vdev = vdev->next)
		if (vdev->viommu == v)
			return error_set(error, VIOMMU_ERROR_BUSY,
					 "vDEVICE %s uses it: destroy it first", vdev->path);
	r = viommu_destroy(v, false);
	if (r < 0)
		return error_errno(error, r, "cannot destroy the vIOMMU");
	return 0;
}
