/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iommufd selftest backend (CONFIG_IOMMUFD_TEST): mock devices and the
 * test hooks that make the mock IOMMU report events, faults and dirty bits.
 * Pinned to the test kernel (KABI_SELFTEST_KERNEL); not uAPI. All functions
 * return 0 or a negative errno; -ENOTTY means the kernel has no selftest.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kabi-selftest.h"

struct mock_device {
	uint32_t stdev_id; /* the selftest object: destroy it to remove the device */
	uint32_t idev_id;  /* the bound device, as VFIO's dev_id would be */
	uint32_t hwpt_id;  /* what it is attached to (an auto-domain for an IOAS) */
};

/* Creates a mock device inside this iommufd, bound and attached to pt_id (an
 * IOAS or HWPT). dev_flags: KABI_MOCK_FLAGS_DEVICE_*. */
int mock_device_create(int iommufd, uint32_t pt_id, uint32_t dev_flags, struct mock_device *out);

/* Replaces the device's attachment; *inout_pt_id returns the HWPT now used. */
int mock_device_replace(int iommufd, uint32_t stdev_id, uint32_t *inout_pt_id);

int mock_pasid_attach(int iommufd, uint32_t stdev_id, uint32_t pasid, uint32_t *inout_pt_id);
int mock_pasid_replace(int iommufd, uint32_t stdev_id, uint32_t pasid, uint32_t *inout_pt_id);
int mock_pasid_detach(int iommufd, uint32_t stdev_id, uint32_t pasid);
/* 0 when the PASID is attached to hwpt_id (0: when it is detached), else -EINVAL. */
int mock_pasid_check_hwpt(int iommufd, uint32_t stdev_id, uint32_t pasid, uint32_t hwpt_id);

/* Reports a vEVENT for the device's vDEVICE to its vIOMMU's selftest vEVENTQ. */
int mock_trigger_vevent(int iommufd, uint32_t idev_id);

/* Reports a page request (IO page fault, last page of its group). */
int mock_trigger_iopf(int iommufd, uint32_t idev_id, uint32_t pasid, uint32_t grpid,
		      uint32_t perm, uint64_t addr);

/* Marks the pages whose bits are set in bitmap dirty in a dirty-tracking
 * mock HWPT; *out_nr_dirty (may be NULL) returns how many. */
int mock_set_dirty(int iommufd, uint32_t hwpt_id, uint64_t iova, uint64_t length,
		   uint64_t page_size, const uint64_t *bitmap, uint64_t *out_nr_dirty);

/* 0 when every page of [va, va + length) is pinned exactly refs times, -EIO
 * when not. Compound (huge) pages are not checked by the kernel. */
int mock_check_refs(int iommufd, const void *va, uint64_t length, uint32_t refs);

/* 0 when the mock HWPT translates [iova, iova + length) to the pages at va. */
int mock_check_map(int iommufd, uint32_t hwpt_id, uint64_t iova, const void *va,
		   uint64_t length);

/* 0 when the nested mock HWPT's IOTLB entry iotlb_id holds expected. */
int mock_check_iotlb(int iommufd, uint32_t hwpt_id, uint32_t iotlb_id, uint32_t expected);

/* 0 when the mock device's cache entry cache_id holds expected. */
int mock_check_dev_cache(int iommufd, uint32_t idev_id, uint32_t cache_id, uint32_t expected);

/* Whether this kernel has the selftest: probes with a harmless command. */
bool mock_available(int iommufd);
