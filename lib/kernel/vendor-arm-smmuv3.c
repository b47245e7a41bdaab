/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ARM SMMUv3: hw_info is the raw IDR0..5, IIDR and AIDR (SMMUv3 spec 6.3.1 to
 * 6.3.6). A VMM mirrors a subset into its emulated vSMMU; nesting hangs on a
 * vIOMMU, which takes invalidation commands and reports events.
 */
#include "vendor.h"

#include <errno.h>
#include <string.h>

#include "kabi-iommufd.h"

enum { IDR0, IDR1, IDR2, IDR3, IDR4, IDR5, IIDR, AIDR, N_REGS };

/* The uAPI names the fields a VMM may read: ST_LEVEL, TERM_MODEL,
 * STALL_MODEL, TTENDIAN, CD2L, ASID16, TTF, SIDSIZE, SSIDSIZE, BBML, RIL,
 * VAX, GRAN*, DS. The rest is for people and policy. */
static const struct viommu_field smmuv3_fields[] = {
	{ "S2P", IDR0, 0, 1, "stage-2 translation" },
	{ "S1P", IDR0, 1, 1, "stage-1 translation" },
	{ "TTF", IDR0, 2, 2, "translation table formats: 2=AArch64, 3=both" },
	{ "COHACC", IDR0, 4, 1, "coherent table and queue access" },
	{ "BTM", IDR0, 5, 1, "broadcast TLB maintenance (not for nesting)" },
	{ "HTTU", IDR0, 6, 2, "hardware A/D updates: 1=access, 2=+dirty" },
	{ "HYP", IDR0, 9, 1, "hypervisor stage-1 contexts" },
	{ "ATS", IDR0, 10, 1, "PCIe ATS" },
	{ "ASID16", IDR0, 12, 1, "16-bit ASIDs" },
	{ "MSI", IDR0, 13, 1, "MSI interrupts" },
	{ "SEV", IDR0, 14, 1, "WFE wake-up events" },
	{ "PRI", IDR0, 16, 1, "PCIe page requests" },
	{ "VMID16", IDR0, 18, 1, "16-bit VMIDs" },
	{ "CD2L", IDR0, 19, 1, "two-level context descriptor tables" },
	{ "TTENDIAN", IDR0, 21, 2, "table endianness: 0=mixed, 2=LE, 3=BE" },
	{ "STALL_MODEL", IDR0, 24, 2, "stall model: 0=stall+terminate, 1=terminate, 2=stall forced" },
	{ "TERM_MODEL", IDR0, 26, 1, "terminate model: 1=aborts only" },
	{ "ST_LEVEL", IDR0, 27, 2, "stream tables: 0=linear, 1=two-level" },
	{ "SIDSIZE", IDR1, 0, 6, "StreamID bits" },
	{ "SSIDSIZE", IDR1, 6, 5, "SubstreamID (PASID) bits" },
	{ "PRIQS", IDR1, 11, 5, "log2 PRI queue entries" },
	{ "EVTQS", IDR1, 16, 5, "log2 event queue entries" },
	{ "CMDQS", IDR1, 21, 5, "log2 command queue entries" },
	{ "FWB", IDR3, 8, 1, "stage-2 forced write-back" },
	{ "RIL", IDR3, 10, 1, "range invalidation" },
	{ "BBML", IDR3, 11, 2, "break-before-make level" },
	{ "OAS", IDR5, 0, 3, "output address size: 0=32 .. 5=48, 6=52 bits" },
	{ "GRAN4K", IDR5, 4, 1, "4K translation granule" },
	{ "GRAN16K", IDR5, 5, 1, "16K translation granule" },
	{ "GRAN64K", IDR5, 6, 1, "64K translation granule" },
	{ "DS", IDR5, 7, 1, "52-bit addresses with 4K/16K granules" },
	{ "VAX", IDR5, 10, 2, "virtual address extend: 1=52-bit" },
	{ "IIDR", IIDR, 0, 32, "implementation identification register" },
	{ "AIDR", AIDR, 0, 32, "architecture version: major [7:4], minor [3:0]" },
};

static const uint8_t oas_bits[] = { 32, 36, 40, 42, 44, 48, 52 };

static int smmuv3_decode(const void *hw_info, size_t len, struct viommu_caps *out)
{
	struct kabi_iommu_hw_info_arm_smmuv3 info;
	uint64_t regs[N_REGS];
	uint64_t oas;
	int r;

	if (len < sizeof(info))
		return -EINVAL;
	memcpy(&info, hw_info, sizeof(info)); /* the buffer may be unaligned */
	for (int i = IDR0; i <= IDR5; i++)
		regs[i] = info.idr[i];
	regs[IIDR] = info.iidr;
	regs[AIDR] = info.aidr;

	r = viommu_caps_add_fields(out, regs, N_REGS, smmuv3_fields,
				   VIOMMU_ARRAY_SIZE(smmuv3_fields));
	if (r < 0)
		return r;

	r = viommu_caps_add(out, "nesting", viommu_bits(regs[IDR0], 0, 2) == 3,
			    "both stages, so a stage-1 can nest on a stage-2 (S1P and S2P)");
	if (r < 0)
		return r;
	r = viommu_caps_add(out, "pasid_width", viommu_bits(regs[IDR1], 6, 5),
			    "PASID bits (SSIDSIZE)");
	if (r < 0)
		return r;
	oas = viommu_bits(regs[IDR5], 0, 3);
	r = viommu_caps_add(out, "oas_bits", oas < sizeof(oas_bits) ? oas_bits[oas] : 0,
			    "output address bits (OAS)");
	if (r < 0)
		return r;
	return viommu_caps_add(out, "errata_repeat_tlbi_cfgi",
			       !!(info.flags & KABI_IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI),
			       "issue TLBI/CFGI+SYNC twice (erratum T264-SMMU-3)");
}

const struct viommu_vendor viommu_vendor_arm_smmuv3 = {
	.name = "arm-smmuv3",
	.description = "ARM System MMU v3",
	.hw_info_type = KABI_IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
	.hw_info_len = sizeof(struct kabi_iommu_hw_info_arm_smmuv3),
	.nest_anchor = VIOMMU_NEST_ON_VIOMMU,
	.viommu = {
		.supported = true,
		.type = KABI_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.data_len = 0, /* the type takes no driver data */
	},
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
	.veventq = {
		.supported = true,
		.type = KABI_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.data_len = sizeof(struct kabi_iommu_vevent_arm_smmuv3),
	},
	.hw_queue = {
		.missing = "Linux 7.3 has no HW queue for a plain SMMUv3; the Tegra241 CMDQV "
			   "extension has one.",
	},
	.decode = smmuv3_decode,
};
