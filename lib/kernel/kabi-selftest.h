/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iommufd selftest ABI (CONFIG_IOMMUFD_TEST). It is not uAPI: it lives in
 * drivers/iommu/iommufd/iommufd_test.h and is pinned to the test kernel,
 * Linux 7.3. kabi-check.c verifies it when given that header.
 */
#pragma once

#include <stdint.h>

#include "kabi-iommufd.h"

#define KABI_SELFTEST_KERNEL "7.3"

enum {
	KABI_IOMMU_TEST_OP_ADD_RESERVED = 1,
	KABI_IOMMU_TEST_OP_MOCK_DOMAIN = 2,
	KABI_IOMMU_TEST_OP_MD_CHECK_MAP = 3,
	KABI_IOMMU_TEST_OP_MD_CHECK_REFS = 4,
	KABI_IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE = 10,
	KABI_IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS = 12,
	KABI_IOMMU_TEST_OP_DIRTY = 13,
	KABI_IOMMU_TEST_OP_MD_CHECK_IOTLB = 14,
	KABI_IOMMU_TEST_OP_TRIGGER_IOPF = 15,
	KABI_IOMMU_TEST_OP_DEV_CHECK_CACHE = 16,
	KABI_IOMMU_TEST_OP_TRIGGER_VEVENT = 17,
	KABI_IOMMU_TEST_OP_PASID_ATTACH = 18,
	KABI_IOMMU_TEST_OP_PASID_REPLACE = 19,
	KABI_IOMMU_TEST_OP_PASID_DETACH = 20,
	KABI_IOMMU_TEST_OP_PASID_CHECK_HWPT = 21,
};

enum {
	KABI_MOCK_APERTURE_START = 1u << 24,
	KABI_MOCK_APERTURE_LAST = (1u << 31) - 1,
	KABI_MOCK_PAGE_SIZE = 2048,
};

enum {
	KABI_MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,
	KABI_MOCK_FLAGS_DEVICE_PASID = 1 << 2,
};

enum {
	KABI_MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3,
	KABI_MOCK_DEV_CACHE_ID_MAX = 3,
	KABI_MOCK_PASID_WIDTH = 20,
	KABI_IOMMU_TEST_PASID_RESERVED = 1024,
	KABI_IOMMU_TEST_HW_QUEUE_MAX = 2,
};

struct kabi_iommu_test_cmd {
	uint32_t size;
	uint32_t op;
	uint32_t id;
	uint32_t reserved;
	union {
		struct {
			uint64_t start;
			uint64_t length;
		} add_reserved;
		struct {
			uint32_t out_stdev_id;
			uint32_t out_hwpt_id;
			uint32_t out_idev_id;
			uint32_t dev_flags;
		} mock_domain_flags;
		struct {
			uint32_t pt_id;
		} mock_domain_replace;
		struct {
			uint64_t iova;
			uint64_t length;
			uint64_t uptr;
		} check_map;
		struct {
			uint64_t length;
			uint64_t uptr;
			uint32_t refs;
		} check_refs;
		struct {
			uint32_t flags;
			uint64_t iova;
			uint64_t length;
			uint64_t page_size;
			uint64_t uptr;
			uint64_t out_nr_dirty;
		} dirty;
		struct {
			uint32_t id;
			uint32_t iotlb;
		} check_iotlb;
		struct {
			uint32_t dev_id;
			uint32_t pasid;
			uint32_t grpid;
			uint32_t perm;
			uint64_t addr;
		} trigger_iopf;
		struct {
			uint32_t id;
			uint32_t cache;
		} check_dev_cache;
		struct {
			uint32_t dev_id;
		} trigger_vevent;
		struct {
			uint32_t pasid;
			uint32_t pt_id;
		} pasid_attach, pasid_replace;
		struct {
			uint32_t pasid;
		} pasid_detach;
		struct {
			uint32_t pasid;
			uint32_t hwpt_id;
		} pasid_check;
	};
	uint32_t last;
};

#define KABI_IOMMU_TEST_CMD KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_DESTROY + 32)

#define KABI_IOMMU_HW_INFO_TYPE_SELFTEST 0xfeedbeefu
#define KABI_IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeefu

struct kabi_iommu_test_hw_info {
	uint32_t flags;
	uint32_t test_reg;
};

#define KABI_IOMMU_HWPT_DATA_SELFTEST 0xdeadu
#define KABI_IOMMU_TEST_IOTLB_DEFAULT 0xbadbeefu
#define KABI_IOMMU_TEST_DEV_CACHE_DEFAULT 0xbaddadu

struct kabi_iommu_hwpt_selftest {
	uint32_t iotlb;
	uint32_t pagetable_type;
};

#define KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeefu
#define KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeefu
#define KABI_IOMMU_TEST_INVALIDATE_FLAG_ALL (1u << 0)

struct kabi_iommu_hwpt_invalidate_selftest {
	uint32_t flags;
	uint32_t iotlb_id;
};

#define KABI_IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeefu

struct kabi_iommu_viommu_selftest {
	uint32_t in_data;
	uint32_t out_data;
	uint64_t out_mmap_offset;
	uint64_t out_mmap_length;
};

#define KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeefu
#define KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeefu

struct kabi_iommu_viommu_invalidate_selftest {
	uint32_t flags;
	uint32_t vdev_id;
	uint32_t cache_id;
};

#define KABI_IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeefu

struct kabi_iommu_viommu_event_selftest {
	uint32_t virt_id;
};

#define KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST 0xdeadbeefu
