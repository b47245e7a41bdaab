/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Typed wrappers of the IOMMUFD ioctls (Linux 7.3), one per ioctl.
 *
 * Every function returns 0 or a negative errno. Outputs are written only on
 * success, except where the kernel defines outputs on failure; those are
 * named in the comment of the function.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kabi-iommufd.h"

struct iommufd_iova_range {
	uint64_t start;
	uint64_t last; /* inclusive */
};

/* Opens /dev/iommu (O_RDWR | O_CLOEXEC). Returns the fd or a negative errno. */
int iommufd_open(void);

int iommufd_destroy(int iommufd, uint32_t id);

int iommufd_ioas_alloc(int iommufd, uint32_t *out_ioas_id);

/* Restricts the IOVAs the IOAS may allocate from; count 0 removes the limit. */
int iommufd_ioas_allow_iovas(int iommufd, uint32_t ioas_id,
			     const struct iommufd_iova_range *ranges, uint32_t count);

/*
 * Reads the usable IOVA ranges. *inout_count is the array's capacity on input
 * and the number of ranges on output. On -EMSGSIZE (array too small)
 * *inout_count is set to the number the kernel needs.
 */
int iommufd_ioas_iova_ranges(int iommufd, uint32_t ioas_id,
			     struct iommufd_iova_range *ranges, uint32_t *inout_count,
			     uint64_t *out_alignment);

/* Map flags: KABI_IOMMU_IOAS_MAP_{FIXED_IOVA,WRITEABLE,READABLE}. Without
 * FIXED_IOVA the kernel picks the IOVA and *inout_iova returns it. */
int iommufd_ioas_map(int iommufd, uint32_t ioas_id, uint32_t flags, void *va,
		     uint64_t length, uint64_t *inout_iova);
int iommufd_ioas_map_file(int iommufd, uint32_t ioas_id, uint32_t flags, int fd,
			  uint64_t start, uint64_t length, uint64_t *inout_iova);
int iommufd_ioas_copy(int iommufd, uint32_t dst_ioas_id, uint32_t src_ioas_id,
		      uint32_t flags, uint64_t src_iova, uint64_t length,
		      uint64_t *inout_dst_iova);

/* Unmaps [iova, iova + length); iova 0 with length UINT64_MAX unmaps everything.
 * *out_unmapped (may be NULL) returns the bytes unmapped. */
int iommufd_ioas_unmap(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t length,
		       uint64_t *out_unmapped);

/* Moves the pinned-page accounting of every IOAS in this iommufd to the
 * calling process. */
int iommufd_ioas_change_process(int iommufd);

/* IOMMU_OPTION: option is KABI_IOMMU_OPTION_*; object_id 0 for global ones. */
int iommufd_option_set(int iommufd, uint32_t option, uint32_t object_id, uint64_t value);
int iommufd_option_get(int iommufd, uint32_t option, uint32_t object_id, uint64_t *out_value);

struct iommufd_hwpt_alloc_args {
	uint32_t dev_id;
	uint32_t pt_id;	   /* IOAS, nesting-parent HWPT or vIOMMU */
	uint32_t flags;	   /* KABI_IOMMU_HWPT_ALLOC_*; FAULT_ID_VALID is set from fault_id */
	uint32_t fault_id; /* 0: not fault-capable */
	uint32_t data_type; /* KABI_IOMMU_HWPT_DATA_*, or the selftest type */
	const void *data;
	uint32_t data_len;
};

int iommufd_hwpt_alloc(int iommufd, const struct iommufd_hwpt_alloc_args *args,
		       uint32_t *out_hwpt_id);

struct iommufd_hw_info {
	uint32_t type;	       /* KABI_IOMMU_HW_INFO_TYPE_* */
	uint32_t data_len;     /* bytes of vendor data the kernel has */
	uint8_t max_pasid_log2;
	uint64_t capabilities; /* KABI_IOMMU_HW_CAP_* */
};

/*
 * IOMMU_GET_HW_INFO for a bound device. in_type 0 asks for the default type;
 * non-zero asks for that type (IOMMU_HW_INFO_FLAG_INPUT_TYPE). The vendor data
 * goes to data[0..data_cap); bytes past what the kernel has are zeroed.
 */
int iommufd_get_hw_info(int iommufd, uint32_t dev_id, uint32_t in_type, void *data,
			uint32_t data_cap, struct iommufd_hw_info *out);

int iommufd_hwpt_set_dirty_tracking(int iommufd, uint32_t hwpt_id, bool enable);

/* flags: KABI_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR. The bitmap holds one bit per
 * page_size page from iova, so it must have length / page_size bits. */
int iommufd_hwpt_get_dirty_bitmap(int iommufd, uint32_t hwpt_id, uint32_t flags,
				  uint64_t iova, uint64_t length, uint64_t page_size,
				  uint64_t *bitmap);

/*
 * Invalidates caches of a nested HWPT or a vIOMMU with an array of entries.
 * *inout_count is the number of entries on input and the number the kernel
 * handled on output, on success and on failure alike.
 */
int iommufd_hwpt_invalidate(int iommufd, uint32_t hwpt_or_viommu_id, uint32_t data_type,
			    const void *entries, uint32_t entry_len, uint32_t *inout_count);

/* The fault fd is O_CLOEXEC; the caller owns it. */
int iommufd_fault_queue_alloc(int iommufd, uint32_t *out_fault_id, int *out_fault_fd);

struct iommufd_viommu_alloc_args {
	uint32_t type; /* KABI_IOMMU_VIOMMU_TYPE_* or the selftest type */
	uint32_t dev_id;
	uint32_t hwpt_id; /* the nesting parent */
	void *data;	  /* driver data in and out; may be NULL */
	uint32_t data_len;
};

int iommufd_viommu_alloc(int iommufd, const struct iommufd_viommu_alloc_args *args,
			 uint32_t *out_viommu_id);

int iommufd_vdevice_alloc(int iommufd, uint32_t viommu_id, uint32_t dev_id, uint64_t virt_id,
			  uint32_t *out_vdevice_id);

int iommufd_veventq_alloc(int iommufd, uint32_t viommu_id, uint32_t type, uint32_t depth,
			  uint32_t *out_veventq_id, int *out_veventq_fd);

int iommufd_hw_queue_alloc(int iommufd, uint32_t viommu_id, uint32_t type, uint32_t index,
			   uint64_t nesting_parent_iova, uint64_t length,
			   uint32_t *out_hw_queue_id);
