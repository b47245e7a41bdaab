/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * AMD-Vi: hw_info is the raw EFR and EFR2 (AMD IOMMU spec 48882, MMIO 0030h
 * and 01A0h). Linux 7.3 reports them and allocates a bare vIOMMU, but offers
 * no AMD vIOMMU type, nested allocation, invalidation, vEVENTQ or HW queue.
 */
#include "vendor.h"

#include <errno.h>
#include <string.h>

#include "kabi-iommufd.h"

enum { EFR, EFR2 };

/* The uAPI lets a VMM expose GTSup, GASup, GIoSup, PPRSup, EPHSup, GATS,
 * GLX and PASmax; the rest is for people and policy. */
static const struct viommu_field amd_fields[] = {
	{ "PreFSup", EFR, 0, 1, "prefetch IOMMU pages command" },
	{ "PPRSup", EFR, 1, 1, "peripheral page requests (PRI)" },
	{ "XTSup", EFR, 2, 1, "x2APIC interrupts" },
	{ "NXSup", EFR, 3, 1, "no-execute and privilege level protection" },
	{ "GTSup", EFR, 4, 1, "guest translation (GCR3 tables)" },
	{ "IASup", EFR, 6, 1, "INVALIDATE_IOMMU_ALL command" },
	{ "GASup", EFR, 7, 1, "guest virtual APIC" },
	{ "HESup", EFR, 8, 1, "hardware error registers" },
	{ "PCSup", EFR, 9, 1, "performance counters" },
	{ "HATS", EFR, 10, 2, "host translation levels: 0=4, 1=5, 2=6" },
	{ "GATS", EFR, 12, 2, "guest translation levels: 0=4, 1=5" },
	{ "GLX", EFR, 14, 2, "GCR3 table levels supported: 0=1, 1=2" },
	{ "GAMSup", EFR, 21, 3, "guest virtual APIC modes: 1 adds vAPIC" },
	{ "DualPprLogSup", EFR, 24, 2, "dual PPR logs" },
	{ "DualEventLogSup", EFR, 28, 2, "dual event logs" },
	{ "PASmax", EFR, 32, 5, "PASID width minus one" },
	{ "USSup", EFR, 37, 1, "user/supervisor page protection" },
	{ "DevTblSegSup", EFR, 38, 2, "device table segments: log2" },
	{ "PprOvrflwEarlySup", EFR, 40, 1, "PPR log overflow early warning" },
	{ "PPRAutoRspSup", EFR, 41, 1, "PPR automatic response" },
	{ "MsiCapMmioSup", EFR, 46, 1, "MSI capability registers in MMIO" },
	{ "GIoSup", EFR, 48, 1, "guest I/O protection" },
	{ "HASup", EFR, 49, 1, "host access bit updates" },
	{ "EPHSup", EFR, 50, 1, "enhanced PPR handling" },
	{ "AttrFWSup", EFR, 51, 1, "attribute forwarding" },
	{ "HDSup", EFR, 52, 1, "host dirty bit updates (dirty tracking)" },
	{ "InvIotlbTypeSup", EFR, 54, 1, "invalidate IOTLB type" },
	{ "GAUpdateDisSup", EFR, 61, 1, "disable guest access/dirty updates" },
	{ "ForcePhysDestSup", EFR, 62, 1, "force physical destination for remapped interrupts" },
	{ "SNPSup", EFR, 63, 1, "SEV-SNP" },
	{ "SEVSNPIOSup", EFR2, 1, 1, "SEV-SNP trusted I/O" },
	{ "GCR3TRPMode", EFR2, 3, 1, "GCR3 table root pointer in GPA mode" },
	{ "SNPAVICSup", EFR2, 5, 3, "SNP virtual APIC modes" },
	{ "NumIntRemapSup", EFR2, 8, 2, "interrupt remap table size: 1=2048 entries" },
	{ "HTRangeIgnore", EFR2, 11, 1, "HyperTransport range not reserved" },
};

static int amd_decode(const void *hw_info, size_t len, struct viommu_caps *out)
{
	struct kabi_iommu_hw_info_amd info;
	uint64_t regs[2];
	bool gt;
	int r;

	if (len < sizeof(info))
		return -EINVAL;
	memcpy(&info, hw_info, sizeof(info)); /* the buffer may be unaligned */
	regs[EFR] = info.efr;
	regs[EFR2] = info.efr2;

	r = viommu_caps_add_fields(out, regs, VIOMMU_ARRAY_SIZE(regs), amd_fields,
				   VIOMMU_ARRAY_SIZE(amd_fields));
	if (r < 0)
		return r;

	/* The same keys as the other vendors, for listings and policy. Linux
	 * allocates an AMD nesting parent only with all three of these. */
	gt = viommu_bits(info.efr, 4, 1);
	r = viommu_caps_add(out, "nesting",
			    gt && viommu_bits(info.efr, 48, 1) && viommu_bits(info.efr2, 3, 1),
			    "a guest DTE can nest over host tables (GTSup, GIoSup, GCR3TRPMode)");
	if (r < 0)
		return r;
	r = viommu_caps_add(out, "pasid_width", gt ? viommu_bits(info.efr, 32, 5) + 1 : 0,
			    "PASID bits (PASmax + 1 with GTSup)");
	if (r < 0)
		return r;
	return viommu_caps_add(out, "dirty_tracking", viommu_bits(info.efr, 52, 1),
			       "hardware dirty tracking (HDSup)");
}

/* type/data_len are filled where the uAPI already defines them, for the day
 * the kernel lights them up; supported says whether it does today. */
const struct viommu_vendor viommu_vendor_amd = {
	.name = "amd",
	.description = "AMD I/O Virtualization Technology (AMD-Vi)",
	.hw_info_type = KABI_IOMMU_HW_INFO_TYPE_AMD,
	.hw_info_len = sizeof(struct kabi_iommu_hw_info_amd),
	.nest_anchor = VIOMMU_NEST_ON_VIOMMU,
	.viommu = {
		.missing = "Linux 7.3 has no AMD vIOMMU type: the AMD driver allocates a bare "
			   "vIOMMU that offers no nested allocation, HW queues or events.",
	},
	.nested = {
		.type = KABI_IOMMU_HWPT_DATA_AMD_GUEST,
		.data_len = sizeof(struct kabi_iommu_hwpt_amd_guest),
		.missing = "Linux 7.3 has no AMD vIOMMU type/nested allocation: the guest DTE "
			   "data type exists but the AMD vIOMMU refuses nested HWPTs.",
	},
	.invalidate = {
		.missing = "Linux 7.3 has no AMD invalidation data type: the AMD vIOMMU offers "
			   "no cache invalidation.",
	},
	.hwpt_invalidate = {
		.missing = "Linux 7.3 has no AMD nested HWPT, so nothing to invalidate on one.",
	},
	.veventq = {
		.missing = "Linux 7.3 has no AMD vEVENTQ type: the event and PPR logs are not "
			   "virtualised upstream yet.",
	},
	.hw_queue = {
		.missing = "Linux 7.3 has no AMD HW queue types (command buffer, event log, "
			   "PPR log).",
	},
	.decode = amd_decode,
};
