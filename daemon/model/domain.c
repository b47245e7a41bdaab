/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Nested domains (stage-1 HWPTs from guest data), on a vIOMMU or the parent. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define INVALIDATE_ENTRY_MAX 4096	     /* the kernel's cap: one page */
#define INVALIDATE_BYTES_MAX (1024 * 1024) /* one call's array */

static struct vm_device *domain_pick_device(struct vm *vm, const struct viommu_vendor *vendor)
{
	for (struct vm_device *vd = vm->devices; vd; vd = vd->next)
		if (vd->device->vendor == vendor)
			return vd;
	return NULL;
}

int domain_alloc(struct vm *vm, struct viommu *viommu, uint32_t data_type, const void *data,
		 size_t len, const char *fault_path, struct domain **out, struct verror *error)
{
	struct iommufd_hwpt_alloc_args args = { 0 };
	const struct viommu_vendor *vendor;
	struct fault_queue *fault = NULL;
	struct domain *dom, **tail;
	struct vm_device *vd;
	int r;

	if (fault_path && fault_path[0]) {
		fault = fault_queue_by_path(vm, fault_path);
		if (!fault)
			return error_set(error, VIOMMU_ERROR_NOT_FOUND,
					 "no fault queue %s in VM %s", fault_path, vm->name);
	}
	if (!vm->devices)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "VM %s has no attached device: attach one first", vm->name);
	if (!vm->nesting)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "VM %s has no nesting parent: the IOMMU of its first device cannot nest",
				 vm->name);
	if (viommu) {
		vendor = viommu->vendor;
	} else {
		vendor = vm->devices ? vm->devices->device->vendor : NULL;
		if (!vendor)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "VM %s has no attached device of a known vendor", vm->name);
		if (vendor->nest_anchor == VIOMMU_NEST_ON_VIOMMU)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "%s nests on a vIOMMU: call AllocDomain on the Viommu object",
					 vendor->name);
	}
	if (!vendor->nested.supported)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED, "%s", vendor->nested.missing);
	if (data_type != vendor->nested.type)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "data type 0x%x is not %s's nested type 0x%x", data_type,
				 vendor->name, vendor->nested.type);
	if (len != vendor->nested.data_len)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s nested data is %u bytes, not %zu", vendor->name,
				 vendor->nested.data_len, len);
	r = vm_check_object_quota(vm, "AllocDomain", error);
	if (r < 0)
		return r;
	vd = domain_pick_device(vm, vendor);
	if (!vd)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "VM %s has no attached %s device", vm->name, vendor->name);

	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	args.dev_id = vd->dev_id;
	args.pt_id = viommu ? viommu->kernel_id : vm->parent_id;
	args.data_type = data_type;
	args.data = data;
	args.data_len = (uint32_t)len;
	args.fault_id = fault ? fault->kernel_id : 0;
	r = iommufd_hwpt_alloc(vm->iommufd, &args, &dom->kernel_id);
	if (r < 0) {
		free(dom);
		/* arm-smmu-v3 answers EIO for a vSTE field it does not allow:
		 * bad guest data, like EINVAL, not a kernel failure. */
		if (r == -EINVAL || r == -EIO)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "the kernel refused the nested domain's data (%s)",
					 strerror(-r));
		return error_kernel(error, r, "IOMMU_HWPT_ALLOC", "cannot allocate the nested domain");
	}
	dom->vm = vm;
	dom->viommu = viommu;
	dom->vendor = vendor;
	dom->fault = fault;
	dom->data_type = data_type;
	snprintf(dom->path, sizeof(dom->path), VIOMMU_VM_PREFIX "/%u/domain/%u", vm->id,
		 vm->next_object++);
	for (tail = &vm->domains; *tail; tail = &(*tail)->next)
		;
	*tail = dom;
	model_object_added(vm->daemon, vm, MODEL_DOMAIN, dom->path, dom);
	*out = dom;
	return 0;
}

int domain_destroy(struct domain *dom, bool force)
{
	struct vm *vm = dom->vm;
	int r = iommufd_destroy(vm->iommufd, dom->kernel_id);

	if (r < 0 && r != -ENOENT) {
		log_warning("VM %s: cannot destroy domain %u: %s", vm->name, dom->kernel_id,
			    strerror(-r));
		if (!force)
			return r;
	}
	model_object_removed(vm->daemon, vm, MODEL_DOMAIN, dom->path);
	for (struct domain **p = &vm->domains; *p; p = &(*p)->next) {
		if (*p == dom) {
			*p = dom->next;
			break;
		}
	}
	free(dom);
	return 0;
}

int domain_attach_device(struct domain *dom, struct vm_device *vd, struct verror *error)
{
	int r;

	if (vd->device->vendor != dom->vendor)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s is not behind this domain's IOMMU", vd->device->name);
	r = vm_device_replace(dom->vm, vd, dom->kernel_id);
	if (r == -ENOENT && dom->viommu && !vdevice_on(dom->viommu, vd->device))
		/* The kernel looks up the device's virtual ID for a translating
		 * nested domain (arm-smmu-v3: any vSTE but abort and bypass). */
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s has no vDEVICE on vIOMMU %u, which this nested domain "
				 "needs: call Viommu.AddDevice first",
				 vd->device->name, dom->viommu->kernel_id);
	if (r < 0)
		return error_errno(error, r, "cannot attach %s to domain %u", vd->device->name,
				   dom->kernel_id);
	vd->domain = dom;
	return 0;
}

int invalidate_entries(struct vm *vm, uint32_t id, const struct viommu_vendor_feature *feature,
		       uint32_t data_type, uint32_t entry_len, const void *entries, size_t len,
		       uint64_t *counter, uint32_t *handled, int *kernel_error,
		       struct verror *error)
{
	uint32_t count;
	int r;

	if (entry_len == 0 || entry_len > INVALIDATE_ENTRY_MAX || len % entry_len ||
	    len > INVALIDATE_BYTES_MAX)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "entry_len must be 1 to %d and divide the %zu bytes of entries "
				 "(at most %d)",
				 INVALIDATE_ENTRY_MAX, len, INVALIDATE_BYTES_MAX);
	/* The kernel takes some types it cannot serve: the vendor table decides. */
	if (!feature->supported)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED, "%s", feature->missing);
	if (data_type != feature->type)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "data type 0x%x is not the invalidation type 0x%x here", data_type,
				 feature->type);
	count = (uint32_t)(len / entry_len);
	r = iommufd_hwpt_invalidate(vm->iommufd, id, data_type, len ? entries : NULL, entry_len,
				    &count);
	*counter += count;
	vm->counters.invalidation_calls++;
	vm->counters.invalidation_entries += count;
	vm->counters.invalidation_errors += r < 0;
	vm_counters_changed(vm);
	*handled = count;
	*kernel_error = r < 0 ? -r : 0;
	return 0;
}

int domain_detach_device(struct domain *dom, struct vm_device *vd, struct verror *error)
{
	int r;

	if (vd->domain != dom)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT, "%s is not on this domain",
				 vd->device->name);
	r = vm_device_replace(dom->vm, vd, dom->vm->parent_id);
	if (r < 0)
		return error_kernel(error, r, "attach", "cannot move the device back to the parent");
	vd->domain = NULL;
	return 0;
}

int domain_destroy_checked(struct domain *dom, struct verror *error)
{
	int r;

	for (struct vm_device *vd = dom->vm->devices; vd; vd = vd->next)
		if (vd->domain == dom)
			return error_set(error, VIOMMU_ERROR_BUSY,
					 "%s is attached to it: detach it first", vd->device->name);
	r = domain_destroy(dom, false);
	if (r < 0)
		return error_errno(error, r, "cannot destroy the domain");
	return 0;
}
