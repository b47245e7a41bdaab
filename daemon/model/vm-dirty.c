/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dirty tracking for live migration: the nesting parent is allocated
 * dirty-capable when the VM is created with "dirty-tracking" (the kernel
 * fixes this at allocation), and the bitmap goes into a memfd the caller
 * provides, sealed against shrinking, so no large payload crosses the bus.
 */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* One call covers at most 64 GiB of 4 KiB pages: a 2 MiB bitmap. */
#define DIRTY_BITMAP_MAX (2u << 20)

static int vm_require_dirty(struct vm *vm, struct verror *error)
{
	if (vm->mode != VM_MODE_MANAGED || !vm->dirty_tracking)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "VM %s was not created with \"dirty-tracking\": true", vm->name);
	if (!vm->parent_id)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "VM %s has no domain yet: attach a device first", vm->name);
	return 0;
}

int vm_set_dirty_tracking(struct vm *vm, bool enable, struct verror *error)
{
	int r = vm_require_dirty(vm, error);

	if (r < 0)
		return r;
	r = iommufd_hwpt_set_dirty_tracking(vm->iommufd, vm->parent_id, enable);
	if (r < 0)
		return error_kernel(error, r, "IOMMU_HWPT_SET_DIRTY_TRACKING", vm->name);
	if (vm->dirty_tracking_enabled != enable) {
		vm->dirty_tracking_enabled = enable;
		model_vm_property_changed(vm, "DirtyTrackingEnabled");
	}
	return 0;
}

/* The range must lie in mappings the daemon made: the kernel reads dirty
 * bits only where something is mapped. */
static bool vm_range_mapped(const struct vm *vm, uint64_t iova, uint64_t last)
{
	uint64_t at = iova;
	bool progress = true;

	while (progress && at <= last) {
		progress = false;
		for (const struct vm_mapping *map = vm->mappings; map; map = map->next) {
			if (map->iova <= at && at <= map->iova + map->length - 1) {
				if (map->iova + map->length - 1 >= last)
					return true;
				at = map->iova + map->length;
				progress = true;
			}
		}
	}
	return false;
}

int vm_read_dirty_bitmap(struct vm *vm, uint64_t iova, uint64_t length, uint64_t page_size,
			 int memfd, uint32_t flags, uint64_t *out_dirty, struct verror *error)
{
	uint64_t pages, bytes, dirty = 0;
	struct stat st;
	uint64_t *bitmap;
	int seals, r;

	r = vm_require_dirty(vm, error);
	if (r < 0)
		return r;
	if (flags & ~(uint32_t)KABI_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "flags 0x%x: only NO_CLEAR (0x%x) is defined", flags,
				 KABI_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
	if (page_size < 4096 || (page_size & (page_size - 1)))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "page_size %llu is not a power of two of at least 4096",
				 (unsigned long long)page_size);
	if (length == 0 || iova % page_size || length % page_size || iova + length - 1 < iova)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "iova and length must be non-zero multiples of page_size");
	if (!vm_range_mapped(vm, iova, iova + length - 1))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "0x%llx-0x%llx is not all mapped", (unsigned long long)iova,
				 (unsigned long long)(iova + length - 1));
	pages = length / page_size;
	bytes = (pages + 63) / 64 * 8;
	if (bytes > DIRTY_BITMAP_MAX)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "one call reads at most %u bitmap bytes; this needs %llu",
				 DIRTY_BITMAP_MAX, (unsigned long long)bytes);
	/*
	 * The daemon writes the bitmap through a shared mapping on its loop: only
	 * a memfd sealed against shrinking is safe to map. A file the caller may
	 * truncate meanwhile raises SIGBUS; a FUSE file may never answer.
	 * F_GET_SEALS works on memfds alone (and tmpfs files, whose only seal is
	 * F_SEAL_SEAL); the size can only grow once F_SEAL_SHRINK is set.
	 */
	seals = fcntl(memfd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "the bitmap fd must be a memfd sealed with F_SEAL_SHRINK "
				 "(memfd_create(MFD_ALLOW_SEALING), then F_ADD_SEALS)");
	if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "the bitmap memfd is sealed against writes");
	if (fstat(memfd, &st) < 0 || (fcntl(memfd, F_GETFL) & O_ACCMODE) != O_RDWR)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "the bitmap memfd must be open read-write");
	if ((uint64_t)st.st_size < bytes)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "the bitmap memfd holds %lld bytes; %llu are needed",
				 (long long)st.st_size, (unsigned long long)bytes);
	bitmap = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (bitmap == MAP_FAILED)
		return error_errno(error, -errno, "cannot map the bitmap memfd");
	/* The kernel only sets bits: start from a clean bitmap. */
	memset(bitmap, 0, bytes);
	r = iommufd_hwpt_get_dirty_bitmap(vm->iommufd, vm->parent_id, flags, iova, length,
					  page_size, bitmap);
	if (r == 0)
		for (uint64_t i = 0; i < bytes / 8; i++)
			dirty += (uint64_t)__builtin_popcountll(bitmap[i]);
	munmap(bitmap, bytes);
	if (r < 0)
		return error_kernel(error, r, "IOMMU_HWPT_GET_DIRTY_BITMAP", vm->name);
	vm->counters.dirty_reads++;
	vm_counters_changed(vm);
	*out_dirty = dirty;
	return 0;
}
