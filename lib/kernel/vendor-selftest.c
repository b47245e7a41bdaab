/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The iommufd selftest mock (CONFIG_IOMMUFD_TEST), pinned to the test kernel.
 * It offers every feature, so the whole data path is proven without an
 * IOMMU: nested HWPTs on a vIOMMU, invalidation both on the vIOMMU (device
 * cache) and on a nested HWPT (IOTLB), vEVENTQ and HW queues.
 */
#include "vendor.h"

#include <errno.h>
#include <string.h>

#include "kabi-selftest.h"

static int selftest_decode(const void *hw_info, size_t len, struct viommu_caps *out)
{
	struct kabi_iommu_test_hw_info info;
	int r;

	if (len < sizeof(info))
		return -EINVAL;
	memcpy(&info, hw_info, sizeof(info));

	r = viommu_caps_add(out, "flags", info.flags, "hw_info flags");
	if (r < 0)
		return r;
	r = viommu_caps_add(out, "test_reg", info.test_reg, "mock register, 0xdeadbeef");
	if (r < 0)
		return r;
	return viommu_caps_add(out, "test_reg_valid",
			       info.test_reg == KABI_IOMMU_HW_INFO_SELFTEST_REGVAL,
			       "the mock register holds its known value");
}

const struct viommu_vendor viommu_vendor_selftest = {
	.name = "selftest",
	.description = "iommufd selftest mock IOMMU (Linux " KABI_SELFTEST_KERNEL
		       ", CONFIG_IOMMUFD_TEST)",
	.hw_info_type = KABI_IOMMU_HW_INFO_TYPE_SELFTEST,
	.hw_info_len = sizeof(struct kabi_iommu_test_hw_info),
	.nest_anchor = VIOMMU_NEST_ON_VIOMMU,
	.viommu = {
		.supported = true,
		.type = KABI_IOMMU_VIOMMU_TYPE_SELFTEST,
		.data_len = sizeof(struct kabi_iommu_viommu_selftest),
	},
	.viommu_mmap = true,
	.viommu_mmap_offset_at = offsetof(struct kabi_iommu_viommu_selftest, out_mmap_offset),
	.viommu_mmap_length_at = offsetof(struct kabi_iommu_viommu_selftest, out_mmap_length),
	.nested = {
		.supported = true,
		.type = KABI_IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(struct kabi_iommu_hwpt_selftest),
	},
	.invalidate = {
		.supported = true,
		.type = KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
		.data_len = sizeof(struct kabi_iommu_viommu_invalidate_selftest),
	},
	.hwpt_invalidate = {
		.supported = true,
		.type = KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
		.data_len = sizeof(struct kabi_iommu_hwpt_invalidate_selftest),
	},
	.veventq = {
		.supported = true,
		.type = KABI_IOMMU_VEVENTQ_TYPE_SELFTEST,
		.data_len = sizeof(struct kabi_iommu_viommu_event_selftest),
	},
	/* The mock queue has no entry format. */
	.hw_queue = {
		.supported = true,
		.type = KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST,
		.data_len = 0,
	},
	.decode = selftest_decode,
};
