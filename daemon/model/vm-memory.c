/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest memory of a managed VM: maps of a memfd into its IOAS. */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log-event.h"
#include "log.h"

#define VM_PAGE_SIZE 4096u
#define VM_MAPPINGS_MAX 4096

static bool vm_iova_inside_ranges(const struct vm *vm, uint64_t iova, uint64_t last)
{
	for (uint32_t i = 0; i < vm->nranges; i++)
		if (vm->ranges[i].start <= iova && last <= vm->ranges[i].last)
			return true;
	return false;
}

static const struct vm_mapping *vm_mapping_overlap(const struct vm *vm, uint64_t iova,
						   uint64_t last)
{
	for (const struct vm_mapping *map = vm->mappings; map; map = map->next)
		if (iova <= map->iova + map->length - 1 && map->iova <= last)
			return map;
	return NULL;
}

/*
 * Pinning a hole allocates the page there, in the memory cgroup of whoever
 * pins it: the daemon. So the memfd must be allocated already, all of it (by
 * the VMM: fallocate(2), or touching it), and its pages are the VMM's. The
 * file's allocated blocks say so; they count swapped-out pages too, whose
 * swap-in is charged to their owner. (SEEK_HOLE would not do: shmem reports
 * fallocated pages that were never written as holes.) F_GET_SEALS answers
 * for shmem and hugetlbfs files alone, and asks no file system (fstatfs(2)
 * would ask a FUSE server, which may never answer).
 */
static int vm_check_allocated(int memfd, const struct stat *st, struct verror *error)
{
	uint64_t size = ((uint64_t)st->st_size + 4095) & ~4095ull;

	if (fcntl(memfd, F_GET_SEALS) < 0)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "guest memory must be a memfd (or a shmem or hugetlbfs file)");
	if ((uint64_t)st->st_blocks * 512 < size)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "the memfd has %llu of its %llu bytes allocated: allocate guest "
				 "memory before mapping it (fallocate(2)), so that its pages are "
				 "charged to you, not to the daemon",
				 (unsigned long long)st->st_blocks * 512, (unsigned long long)size);
	return 0;
}

/* Guest memory must be a file the kernel can pin through MAP_FILE: a memfd,
 * shmem or hugetlbfs file, not a pipe, socket or device. */
static int vm_check_memfd(int memfd, uint64_t offset, uint64_t length, uint32_t map_flags,
			  struct verror *error)
{
	struct stat st;
	int flags, seals;

	if (fstat(memfd, &st) < 0)
		return error_errno(error, -errno, "cannot stat the memory fd");
	if (!S_ISREG(st.st_mode))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "the memory fd is not a regular file (a memfd is expected)");
	flags = fcntl(memfd, F_GETFL);
	if (flags < 0 || (flags & O_ACCMODE) == O_WRONLY)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "the memory fd is not open for reading");
	if ((map_flags & KABI_IOMMU_IOAS_MAP_WRITEABLE) && (flags & O_ACCMODE) != O_RDWR)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "a WRITEABLE mapping needs a memory fd open for writing");
	/* Devices would write what the seal promises no one writes. */
	seals = fcntl(memfd, F_GET_SEALS);
	if ((map_flags & KABI_IOMMU_IOAS_MAP_WRITEABLE) && seals > 0 &&
	    (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "the memfd is sealed against writes: map it without WRITEABLE");
	if (offset > (uint64_t)st.st_size || length > (uint64_t)st.st_size - offset)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "offset 0x%llx + length 0x%llx is past the end of the file (0x%llx bytes)",
				 (unsigned long long)offset, (unsigned long long)length,
				 (unsigned long long)st.st_size);
	return vm_check_allocated(memfd, &st, error);
}

int vm_map_memory(struct vm *vm, int memfd, uint64_t offset, uint64_t length, uint64_t iova,
		  uint32_t flags, struct verror *error)
{
	const uint32_t allowed = KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE;
	const struct vm_mapping *clash;
	struct vm_mapping *map;
	unsigned int count = 0;
	uint64_t got = iova, last;
	int r;

	r = vm_require_managed(vm, "MapMemory", error);
	if (r < 0)
		return r;
	if (flags & ~allowed)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "flags 0x%x: only READABLE (0x%x) and WRITEABLE (0x%x) are allowed",
				 flags, KABI_IOMMU_IOAS_MAP_READABLE, KABI_IOMMU_IOAS_MAP_WRITEABLE);
	if (!(flags & allowed))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "a mapping must be READABLE, WRITEABLE or both");
	if (length == 0 || length % VM_PAGE_SIZE || offset % VM_PAGE_SIZE || iova % VM_PAGE_SIZE)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "offset, length and iova must be multiples of %u and length non-zero",
				 VM_PAGE_SIZE);
	if (iova + length - 1 < iova)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "iova 0x%llx + length 0x%llx wraps around",
				 (unsigned long long)iova, (unsigned long long)length);
	last = iova + length - 1;
	if (!vm_iova_inside_ranges(vm, iova, last))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "0x%llx-0x%llx is outside the VM's IovaRanges",
				 (unsigned long long)iova, (unsigned long long)last);
	clash = vm_mapping_overlap(vm, iova, last);
	if (clash)
		return error_set(error, VIOMMU_ERROR_BUSY,
				 "0x%llx-0x%llx overlaps the mapping at 0x%llx-0x%llx",
				 (unsigned long long)iova, (unsigned long long)last,
				 (unsigned long long)clash->iova,
				 (unsigned long long)(clash->iova + clash->length - 1));
	for (map = vm->mappings; map; map = map->next)
		count++;
	if (count >= VM_MAPPINGS_MAX)
		return error_set(error, VIOMMU_ERROR_QUOTA_EXCEEDED, "VM %s already has %u mappings",
				 vm->name, count);
	r = vm_check_object_quota(vm, "MapMemory", error);
	if (r < 0)
		return r;
	/* The kernel charges a root daemon nothing: this ledger is the limit. */
	uint64_t quota = vm->daemon->config->quota_pinned_bytes;
	uint64_t pinned = vm_pinned_bytes_of(vm->daemon, vm->owner);

	if (quota && (pinned > quota || length > quota - pinned)) {
		log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE,
			  LOG_FIELDS(.vm = vm->name, LOG_UID(vm->owner),
				     .limit = "quota_pinned_bytes_per_uid"),
			  "AUDIT quota-refused uid=%u vm=%s limit=quota_pinned_bytes_per_uid(%llu) "
			  "what=MapMemory bytes=%llu",
			  (unsigned int)vm->owner, vm->name, (unsigned long long)quota,
			  (unsigned long long)length);
		return error_set(error, VIOMMU_ERROR_QUOTA_EXCEEDED,
				 "uid %u has %llu bytes mapped; 0x%llx more would pass the "
				 "quota_pinned_bytes_per_uid limit of %llu",
				 (unsigned int)vm->owner, (unsigned long long)pinned,
				 (unsigned long long)length, (unsigned long long)quota);
	}
	r = vm_check_memfd(memfd, offset, length, flags, error);
	if (r < 0)
		return r;

	map = calloc(1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	/* A kill -9 right after the map must find what to unmap. */
	model_memory_change(vm, iova, length);
	r = iommufd_ioas_map_file(vm->iommufd, vm->ioas_id, flags | KABI_IOMMU_IOAS_MAP_FIXED_IOVA,
				  memfd, offset, length, &got);
	if (r < 0) {
		free(map);
		if (r == -ENOMEM)
			return error_set(error, VIOMMU_ERROR_QUOTA_EXCEEDED,
					 "the kernel could not pin 0x%llx bytes (memory or memlock limit)",
					 (unsigned long long)length);
		return error_kernel(error, r, "IOMMU_IOAS_MAP_FILE", "cannot map the memory");
	}
	map->iova = iova;
	map->length = length;
	map->next = vm->mappings;
	vm->mappings = map;
	vm->mapped_bytes += length;
	return 0;
}

int vm_unmap_memory(struct vm *vm, uint64_t iova, uint64_t length, uint64_t *out_unmapped,
		    struct verror *error)
{
	uint64_t last, covered = 0, unmapped = 0;
	int r;

	r = vm_require_managed(vm, "UnmapMemory", error);
	if (r < 0)
		return r;
	if (length == 0 || iova + length - 1 < iova)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "length must be non-zero and iova + length must not wrap");
	last = iova + length - 1;
	/* Whole mappings only: the kernel cannot cut one, and a half-unmapped
	 * guest region is never what a VMM means. */
	for (struct vm_mapping *map = vm->mappings; map; map = map->next) {
		uint64_t map_last = map->iova + map->length - 1;

		if (map_last < iova || map->iova > last)
			continue;
		if (map->iova < iova || map_last > last)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "0x%llx-0x%llx cuts the mapping at 0x%llx-0x%llx",
					 (unsigned long long)iova, (unsigned long long)last,
					 (unsigned long long)map->iova, (unsigned long long)map_last);
		covered += map->length;
	}
	if (covered == 0)
		return error_set(error, VIOMMU_ERROR_NOT_FOUND, "nothing is mapped at 0x%llx-0x%llx",
				 (unsigned long long)iova, (unsigned long long)last);
	model_memory_change(vm, iova, length);
	r = iommufd_ioas_unmap(vm->iommufd, vm->ioas_id, iova, length, &unmapped);
	if (r == -EBUSY)
		return error_set(error, VIOMMU_ERROR_BUSY,
				 "0x%llx-0x%llx is in use (a hardware queue pins it)",
				 (unsigned long long)iova, (unsigned long long)last);
	if (r < 0)
		return error_kernel(error, r, "IOMMU_IOAS_UNMAP", "cannot unmap the memory");
	for (struct vm_mapping **p = &vm->mappings; *p;) {
		struct vm_mapping *map = *p;

		if (map->iova >= iova && map->iova + map->length - 1 <= last) {
			*p = map->next;
			vm->mapped_bytes -= map->length;
			free(map);
		} else {
			p = &map->next;
		}
	}
	*out_unmapped = unmapped;
	return 0;
}

int vm_unmap_all(struct vm *vm)
{
	int r = iommufd_ioas_unmap(vm->iommufd, vm->ioas_id, 0, UINT64_MAX, NULL);

	if (r < 0)
		return r;
	while (vm->mappings) {
		struct vm_mapping *map = vm->mappings;

		vm->mappings = map->next;
		free(map);
	}
	vm->mapped_bytes = 0;
	return 0;
}

int vm_allow_iovas(struct vm *vm, const struct iommufd_iova_range *ranges, uint32_t count,
		   struct verror *error)
{
	int r = vm_require_managed(vm, "AllowIovas", error);

	if (r < 0)
		return r;
	r = iommufd_ioas_allow_iovas(vm->iommufd, vm->ioas_id, ranges, count);
	if (r == -EADDRINUSE)
		return error_set(error, VIOMMU_ERROR_BUSY,
				 "an attached device cannot reach all of these IOVAs");
	if (r < 0)
		return error_errno(error, r, "IOMMU_IOAS_ALLOW_IOVAS");
	vm_refresh_ranges(vm);
	return 0;
}
