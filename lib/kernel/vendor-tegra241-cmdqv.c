/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NVIDIA Tegra241 CMDQV, an SMMUv3 extension: the vIOMMU is backed by a
 * virtual interface (VINTF) whose page0 the VMM maps into the guest, and
 * whose virtual command queues (VCMDQs) are HW queues taking SMMUv3
 * commands. Nesting, invalidation and STEs are the SMMUv3 ones.
 */
#include "vendor.h"

#include <errno.h>
#include <string.h>

#include "kabi-iommufd.h"

/* hw_info fields are PARAM register fields the VMM can copy verbatim. */
static int tegra241_decode(const void *hw_info, size_t len, struct viommu_caps *out)
{
	struct kabi_iommu_hw_info_tegra241_cmdqv info;
	int r;

	if (len < sizeof(info))
		return -EINVAL;
	memcpy(&info, hw_info, sizeof(info));

	const struct {
		const char *name;
		uint64_t value;
		const char *help;
	} caps[] = {
		{ "flags", info.flags, "hw_info flags (0 today)" },
		{ "version", info.version, "CMDQV version, PARAM[3:0]" },
		{ "log2vcmdqs", info.log2vcmdqs, "log2 of the VCMDQs, PARAM[7:4]" },
		{ "log2vsids", info.log2vsids, "log2 of the SID replacements, PARAM[15:12]" },
		{ "vcmdqs", info.log2vcmdqs < 64 ? UINT64_C(1) << info.log2vcmdqs : 0,
		  "virtual command queues" },
		{ "vsids", info.log2vsids < 64 ? UINT64_C(1) << info.log2vsids : 0,
		  "stream ID replacements" },
	};

	for (size_t i = 0; i < VIOMMU_ARRAY_SIZE(caps); i++) {
		r = viommu_caps_add(out, caps[i].name, caps[i].value, caps[i].help);
		if (r < 0)
			return r;
	}
	return 0;
}

const struct viommu_vendor viommu_vendor_tegra241_cmdqv = {
	.name = "tegra241-cmdqv",
	.description = "NVIDIA Tegra241 CMDQV (ARM SMMUv3 command queue virtualisation)",
	.hw_info_type = KABI_IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV,
	.hw_info_len = sizeof(struct kabi_iommu_hw_info_tegra241_cmdqv),
	.nest_anchor = VIOMMU_NEST_ON_VIOMMU,
	.viommu = {
		.supported = true,
		.type = KABI_IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
		.data_len = sizeof(struct kabi_iommu_viommu_tegra241_cmdqv),
	},
	.viommu_mmap = true,
	.viommu_mmap_offset_at = offsetof(struct kabi_iommu_viommu_tegra241_cmdqv,
					  out_vintf_mmap_offset),
	.viommu_mmap_length_at = offsetof(struct kabi_iommu_viommu_tegra241_cmdqv,
					  out_vintf_mmap_length),
	.nested = {
		.supported = true,
		.type = KABI_IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(struct kabi_iommu_hwpt_arm_smmuv3),
	},
	.invalidate = {
		.supported = true,
		.type = KABI_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.data_len = sizeof(struct kabi_iommu_viommu_arm_smmuv3_invalidate),
	},
	.hwpt_invalidate = {
		.missing = "SMMUv3 nested HWPTs are invalidated through their vIOMMU, not "
			   "their own HWPT ID.",
	},
	/* The VCMDQ error IRQ; SMMUv3 events come through their own vEVENTQ type. */
	.veventq = {
		.supported = true,
		.type = KABI_IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV,
		.data_len = sizeof(struct kabi_iommu_vevent_tegra241_cmdqv),
	},
	/* A VCMDQ holds 16-byte SMMUv3 commands. */
	.hw_queue = {
		.supported = true,
		.type = KABI_IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
		.data_len = sizeof(struct kabi_iommu_viommu_arm_smmuv3_invalidate),
	},
	.decode = tegra241_decode,
};
