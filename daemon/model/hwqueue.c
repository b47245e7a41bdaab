/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hardware queues: guest queues the IOMMU reads without exits (NVIDIA CMDQV
 * today, AMD's command buffer, event log and PPR log once the kernel names
 * them). The queue's memory must lie in the VM's mapped guest memory and be
 * physically contiguous; the kernel pins it, so UnmapMemory over it is Busy
 * until the queue goes. Index n needs n-1; they go highest index first.
 */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static struct hw_queue *hw_queue_by_index(struct viommu *v, uint32_t index)
{
	for (struct hw_queue *q = v->hw_queues; q; q = q->next)
		if (q->index == index)
			return q;
	return NULL;
}

static bool hw_queue_in_mapping(const struct vm *vm, uint64_t iova, uint64_t last)
{
	for (const struct vm_mapping *map = vm->mappings; map; map = map->next)
		if (map->iova <= iova && last <= map->iova + map->length - 1)
			return true;
	return false;
}

int hw_queue_destroy(struct hw_queue *q, bool force)
{
	struct viommu *v = q->viommu;
	int r;

	if (!force && hw_queue_by_index(v, q->index + 1))
		return -EBUSY;
	r = iommufd_destroy(v->vm->iommufd, q->kernel_id);
	if (r < 0 && r != -ENOENT) {
		log_warning("VM %s: cannot destroy HW queue %u: %s", v->vm->name, q->kernel_id,
			    strerror(-r));
		if (!force)
			return r;
	}
	model_object_removed(v->vm->daemon, v->vm, MODEL_HW_QUEUE, q->path);
	for (struct hw_queue **p = &v->hw_queues; *p; p = &(*p)->next) {
		if (*p == q) {
			*p = q->next;
			break;
		}
	}
	free(q);
	return 0;
}

int hw_queue_alloc(struct viommu *v, uint32_t type, uint32_t index, uint64_t base,
		   uint64_t length, struct hw_queue **out, struct verror *error)
{
	struct vm *vm = v->vm;
	const struct viommu_vendor_feature *feature = &v->vendor->hw_queue;
	struct hw_queue *q;
	int r;

	if (!feature->supported)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED, "%s", feature->missing);
	if (type != feature->type)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "HW queue type 0x%x is not %s's 0x%x", type, v->vendor->name,
				 feature->type);
	if (length == 0 || base + length - 1 < base)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "length must be non-zero and base + length must not wrap");
	if (!hw_queue_in_mapping(vm, base, base + length - 1))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "0x%llx-0x%llx is not inside one mapping of VM %s's memory",
				 (unsigned long long)base, (unsigned long long)(base + length - 1),
				 vm->name);
	if (hw_queue_by_index(v, index))
		return error_set(error, VIOMMU_ERROR_BUSY, "HW queue %u exists", index);
	if (index > 0 && !hw_queue_by_index(v, index - 1))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "HW queue %u needs queue %u first", index, index - 1);
	r = vm_check_object_quota(vm, "AllocHwQueue", error);
	if (r < 0)
		return r;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	r = iommufd_hw_queue_alloc(vm->iommufd, v->kernel_id, type, index, base, length,
				   &q->kernel_id);
	if (r < 0) {
		free(q);
		if (r == -EFAULT || r == -EINVAL)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "the kernel refused the queue's memory: it must be physically "
					 "contiguous (a huge-page memfd) and within the vIOMMU's limits (%s)",
					 strerror(-r));
		return error_kernel(error, r, "IOMMU_HW_QUEUE_ALLOC", "cannot allocate the HW queue");
	}
	q->viommu = v;
	q->type = type;
	q->index = index;
	q->base_iova = base;
	q->length = length;
	snprintf(q->path, sizeof(q->path), VIOMMU_VM_PREFIX "/%u/hwqueue/%u", vm->id,
		 vm->next_object++);
	q->next = v->hw_queues;
	v->hw_queues = q;
	model_object_added(vm->daemon, vm, MODEL_HW_QUEUE, q->path, q);
	log_info("VM %s: HW queue %u (kernel ID %u) at 0x%llx, %llu bytes", vm->name, index,
		 q->kernel_id, (unsigned long long)base, (unsigned long long)length);
	*out = q;
	return 0;
}

int hw_queue_destroy_checked(struct hw_queue *q, struct verror *error)
{
	int r = hw_queue_destroy(q, false);

	if (r == -EBUSY)
		return error_set(error, VIOMMU_ERROR_BUSY,
				 "destroy the queues of higher index first");
	if (r < 0)
		return error_errno(error, r, "cannot destroy the HW queue");
	return 0;
}
