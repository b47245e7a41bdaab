/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intel VT-d: hw_info is the raw capability and extended capability
 * registers (VT-d spec 11.4.2, 11.4.3). Linux 7.3 has no VT-d vIOMMU object:
 * a first-stage (S1) HWPT nests directly on the nesting parent and is
 * invalidated through its own HWPT ID.
 */
#include "vendor.h"

#include <errno.h>
#include <string.h>

#include "kabi-iommufd.h"

enum { CAP, ECAP };

static const struct viommu_field vtd_fields[] = {
	{ "ND", CAP, 0, 3, "number of domains: 2^(4 + 2*ND)" },
	{ "RWBF", CAP, 4, 1, "write buffer flushing required" },
	{ "CM", CAP, 7, 1, "caching mode: not-present entries may be cached" },
	{ "SAGAW", CAP, 8, 5, "second-stage widths: bit1=39-bit, bit2=48-bit, bit3=57-bit" },
	{ "SLLPS", CAP, 34, 4, "second-stage large pages: bit0=2M, bit1=1G" },
	{ "PSI", CAP, 39, 1, "page-selective invalidation" },
	{ "MAMV", CAP, 48, 6, "maximum address mask value for PSI" },
	{ "FL1GP", CAP, 56, 1, "first-stage 1G pages" },
	{ "PI", CAP, 59, 1, "posted interrupts" },
	{ "FL5LP", CAP, 60, 1, "first-stage 5-level paging" },
	{ "ESRTPS", CAP, 63, 1, "SRTP flushes the caches" },
	{ "C", ECAP, 0, 1, "page walks are coherent" },
	{ "QI", ECAP, 1, 1, "queued invalidation" },
	{ "DT", ECAP, 2, 1, "device TLB (ATS)" },
	{ "IR", ECAP, 3, 1, "interrupt remapping" },
	{ "EIM", ECAP, 4, 1, "extended (x2APIC) interrupt mode" },
	{ "PT", ECAP, 6, 1, "pass through" },
	{ "SC", ECAP, 7, 1, "snoop control" },
	{ "MHMV", ECAP, 20, 4, "maximum handle mask value" },
	{ "NEST", ECAP, 26, 1, "nested translation" },
	{ "PRS", ECAP, 29, 1, "page requests (PRI)" },
	{ "PSS", ECAP, 35, 5, "PASID size minus one" },
	{ "PASID", ECAP, 40, 1, "PASID" },
	{ "SMTS", ECAP, 43, 1, "scalable mode translation" },
	{ "SSADS", ECAP, 45, 1, "second-stage accessed/dirty bits" },
	{ "SLTS", ECAP, 46, 1, "second-stage translation in scalable mode" },
	{ "FLTS", ECAP, 47, 1, "first-stage translation in scalable mode" },
	{ "SMPWC", ECAP, 48, 1, "scalable-mode page walks are coherent" },
};

/* Linux's own rules (intel/iommu.h): nesting, first stage, PASID and dirty
 * tracking all need scalable mode; legacy mode always has a second stage. */
static int vtd_derive(uint32_t flags, uint64_t cap, uint64_t ecap, struct viommu_caps *out)
{
	bool sm = viommu_bits(ecap, 43, 1);
	bool pasid = sm && viommu_bits(ecap, 40, 1);
	const struct {
		const char *name;
		uint64_t value;
		const char *help;
	} derived[] = {
		{ "MGAW", viommu_bits(cap, 16, 6) + 1, "maximum guest address width, bits" },
		{ "num_domains", UINT64_C(1) << (4 + 2 * viommu_bits(cap, 0, 3)),
		  "domain IDs the hardware has" },
		{ "nesting", sm && viommu_bits(ecap, 26, 1), "nested translation (SMTS and NEST)" },
		{ "first_stage", sm && viommu_bits(ecap, 47, 1),
		  "first-stage page tables (SMTS and FLTS)" },
		{ "second_stage", !sm || viommu_bits(ecap, 46, 1),
		  "second-stage page tables (legacy mode or SLTS)" },
		{ "dirty_tracking", sm && viommu_bits(ecap, 45, 1) && viommu_bits(ecap, 48, 1),
		  "dirty tracking (SMTS, SSADS and SMPWC)" },
		{ "pasid_width", pasid ? viommu_bits(ecap, 35, 5) + 1 : 0,
		  "PASID bits (PSS + 1 with SMTS and PASID)" },
		{ "errata_772415_spr17", !!(flags & KABI_IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17),
		  "no read-only mappings on a nesting parent (erratum 772415)" },
	};

	for (size_t i = 0; i < VIOMMU_ARRAY_SIZE(derived); i++) {
		int r = viommu_caps_add(out, derived[i].name, derived[i].value, derived[i].help);

		if (r < 0)
			return r;
	}
	return 0;
}

static int vtd_decode(const void *hw_info, size_t len, struct viommu_caps *out)
{
	struct kabi_iommu_hw_info_vtd info;
	uint64_t regs[2];
	int r;

	if (len < sizeof(info))
		return -EINVAL;
	memcpy(&info, hw_info, sizeof(info)); /* the buffer may be unaligned */
	regs[CAP] = info.cap_reg;
	regs[ECAP] = info.ecap_reg;

	r = viommu_caps_add_fields(out, regs, VIOMMU_ARRAY_SIZE(regs), vtd_fields,
				   VIOMMU_ARRAY_SIZE(vtd_fields));
	if (r < 0)
		return r;
	return vtd_derive(info.flags, info.cap_reg, info.ecap_reg, out);
}

const struct viommu_vendor viommu_vendor_intel_vtd = {
	.name = "intel-vtd",
	.description = "Intel Virtualization Technology for Directed I/O (VT-d)",
	.hw_info_type = KABI_IOMMU_HW_INFO_TYPE_INTEL_VTD,
	.hw_info_len = sizeof(struct kabi_iommu_hw_info_vtd),
	.nest_anchor = VIOMMU_NEST_ON_PARENT,
	.viommu = {
		.missing = "VT-d nests directly on the parent HWPT; Linux 7.3 has no VT-d "
			   "vIOMMU object.",
	},
	.nested = {
		.supported = true,
		.type = KABI_IOMMU_HWPT_DATA_VTD_S1,
		.data_len = sizeof(struct kabi_iommu_hwpt_vtd_s1),
	},
	.invalidate = {
		.supported = true,
		.type = KABI_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
		.data_len = sizeof(struct kabi_iommu_hwpt_vtd_s1_invalidate),
	},
	.hwpt_invalidate = {
		.supported = true,
		.type = KABI_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
		.data_len = sizeof(struct kabi_iommu_hwpt_vtd_s1_invalidate),
	},
	.veventq = {
		.missing = "Linux 7.3 has no VT-d vEVENTQ: without a vIOMMU object there is "
			   "nothing to attach one to; faults come through a fault queue.",
	},
	.hw_queue = {
		.missing = "Linux 7.3 has no VT-d HW queue type.",
	},
	.decode = vtd_decode,
};
