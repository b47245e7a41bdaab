/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vendor tables and decoders, against register values worked out by hand
 * (QEMU's emulated AMD-Vi and VT-d among them). No kernel needed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "kabi-iommufd.h"
#include "kabi-selftest.h"
#include "vendor.h"

struct expect {
	const char *name;
	uint64_t value;
};

/* Every expected cap has its value, and every other cap decodes to 0. */
static void check_exactly(const struct viommu_caps *caps, const struct expect *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = ~UINT64_C(0);

		if (viommu_caps_get(caps, want[i].name, &v) != 0)
			check_fail(__FILE__, __LINE__, "cap %s missing", want[i].name);
		if (v != want[i].value)
			check_fail(__FILE__, __LINE__, "cap %s = 0x%" PRIx64 ", expected 0x%" PRIx64,
				   want[i].name, v, want[i].value);
	}
	for (unsigned int c = 0; c < caps->count; c++) {
		bool listed = false;

		for (size_t i = 0; i < n; i++)
			listed |= strcmp(caps->cap[c].name, want[i].name) == 0;
		if (!listed && caps->cap[c].value != 0)
			check_fail(__FILE__, __LINE__, "cap %s = 0x%" PRIx64 ", expected 0",
				   caps->cap[c].name, caps->cap[c].value);
	}
}

static uint64_t cap_of(const struct viommu_caps *caps, const char *name)
{
	uint64_t v = 0;

	CHECK_OK(viommu_caps_get(caps, name, &v));
	return v;
}

/* QEMU's AMD-Vi: EFR 0x29d3 = bits 0, 1, 4, 6, 7, 8, 11, 13. */
static void test_amd_qemu(void)
{
	const struct viommu_vendor *v = viommu_vendor_by_hw_info_type(KABI_IOMMU_HW_INFO_TYPE_AMD);
	struct kabi_iommu_hw_info_amd info = { .efr = 0x29d3, .efr2 = 0 };
	struct viommu_caps caps;
	static const struct expect want[] = {
		{ "PreFSup", 1 }, { "PPRSup", 1 }, { "GTSup", 1 },  { "IASup", 1 },
		{ "GASup", 1 },	  { "HESup", 1 },  { "HATS", 2 },   { "GATS", 2 },
		{ "GLX", 0 },	  { "PASmax", 0 }, { "GIoSup", 0 }, { "EPHSup", 0 },
		{ "XTSup", 0 },	  { "NXSup", 0 },  { "PCSup", 0 },  { "HDSup", 0 },
		/* QEMU's AMD-Vi lacks GIoSup and GCR3TRPMode: no nesting parent. */
		{ "nesting", 0 }, { "pasid_width", 1 }, { "dirty_tracking", 0 },
	};

	CHECK(v);
	CHECK_STREQ(v->name, "amd");
	CHECK_OK(viommu_vendor_decode(v, &info, sizeof(info), &caps));
	check_exactly(&caps, want, sizeof(want) / sizeof(want[0]));
}

static void test_amd_fields(void)
{
	const struct viommu_vendor *v = viommu_vendor_by_name("amd");
	/* GIoSup, EPHSup, HDSup, GLX=1, PASmax=15, GAMSup=1; EFR2 NumIntRemapSup=1,
	 * GCR3TRPMode */
	struct kabi_iommu_hw_info_amd info = {
		.efr = (UINT64_C(1) << 48) | (UINT64_C(1) << 50) | (UINT64_C(1) << 52) |
		       (UINT64_C(1) << 14) | (UINT64_C(15) << 32) | (UINT64_C(1) << 21) |
		       (UINT64_C(1) << 4),
		.efr2 = (UINT64_C(1) << 8) | (UINT64_C(1) << 3),
	};
	struct viommu_caps caps;
	static const struct expect want[] = {
		{ "GIoSup", 1 },  { "EPHSup", 1 },	{ "HDSup", 1 },
		{ "GLX", 1 },	  { "PASmax", 15 },	{ "GAMSup", 1 },
		{ "GTSup", 1 },	  { "NumIntRemapSup", 1 }, { "GCR3TRPMode", 1 }, { "nesting", 1 },
		{ "pasid_width", 16 }, { "dirty_tracking", 1 },
	};

	CHECK_OK(viommu_vendor_decode(v, &info, sizeof(info), &caps));
	check_exactly(&caps, want, sizeof(want) / sizeof(want[0]));
}

/* QEMU's VT-d (caching-mode=on, legacy mode): no scalable mode, so no
 * nesting, first stage or PASID. */
static void test_vtd_qemu(void)
{
	const struct viommu_vendor *v =
		viommu_vendor_by_hw_info_type(KABI_IOMMU_HW_INFO_TYPE_INTEL_VTD);
	struct kabi_iommu_hw_info_vtd info = {
		.cap_reg = UINT64_C(0x00d2008c222f0686),
		.ecap_reg = UINT64_C(0xf00f4a),
	};
	struct viommu_caps caps;
	static const struct expect want[] = {
		{ "ND", 6 },	    { "num_domains", 65536 }, { "CM", 1 },
		{ "SAGAW", 0x6 },   { "MGAW", 48 },	      { "SLLPS", 3 },
		{ "PSI", 1 },	    { "MAMV", 18 },	      { "QI", 1 },
		{ "IR", 1 },	    { "PT", 1 },	      { "MHMV", 15 },
		{ "second_stage", 1 }, { "nesting", 0 },      { "NEST", 0 },
		{ "first_stage", 0 }, { "FLTS", 0 },	      { "FL1GP", 0 },
		{ "FL5LP", 0 },	    { "SLTS", 0 },	      { "SSADS", 0 },
		{ "dirty_tracking", 0 }, { "PASID", 0 },      { "PSS", 0 },
		{ "pasid_width", 0 }, { "PI", 0 },	      { "SC", 0 },
		{ "errata_772415_spr17", 0 },
	};

	CHECK(v);
	CHECK_STREQ(v->name, "intel-vtd");
	CHECK_OK(viommu_vendor_decode(v, &info, sizeof(info), &caps));
	check_exactly(&caps, want, sizeof(want) / sizeof(want[0]));
}

/* A scalable-mode VT-d with nesting, 20-bit PASIDs and dirty tracking. */
static void test_vtd_scalable(void)
{
	const struct viommu_vendor *v = viommu_vendor_by_name("intel-vtd");
	struct kabi_iommu_hw_info_vtd info = {
		.flags = 1, /* IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 */
		.cap_reg = UINT64_C(0x00d2008c222f0686) | (UINT64_C(1) << 56) |
			   (UINT64_C(1) << 60),
		.ecap_reg = (UINT64_C(1) << 26) | (UINT64_C(19) << 35) | (UINT64_C(1) << 40) |
			    (UINT64_C(1) << 43) | (UINT64_C(1) << 45) | (UINT64_C(1) << 46) |
			    (UINT64_C(1) << 47) | (UINT64_C(1) << 48),
	};
	struct viommu_caps caps;

	CHECK_OK(viommu_vendor_decode(v, &info, sizeof(info), &caps));
	CHECK_EQ(cap_of(&caps, "nesting"), 1);
	CHECK_EQ(cap_of(&caps, "first_stage"), 1);
	CHECK_EQ(cap_of(&caps, "second_stage"), 1);
	CHECK_EQ(cap_of(&caps, "dirty_tracking"), 1);
	CHECK_EQ(cap_of(&caps, "PSS"), 19);
	CHECK_EQ(cap_of(&caps, "pasid_width"), 20);
	CHECK_EQ(cap_of(&caps, "FL1GP"), 1);
	CHECK_EQ(cap_of(&caps, "FL5LP"), 1);
	CHECK_EQ(cap_of(&caps, "errata_772415_spr17"), 1);

	/* Scalable mode without SLTS has no second stage. */
	info.ecap_reg &= ~(UINT64_C(1) << 46);
	CHECK_OK(viommu_vendor_decode(v, &info, sizeof(info), &caps));
	CHECK_EQ(cap_of(&caps, "second_stage"), 0);
}

static void test_smmuv3(void)
{
	const struct viommu_vendor *v =
		viommu_vendor_by_hw_info_type(KABI_IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	struct kabi_iommu_hw_info_arm_smmuv3 info = {
		.flags = 1, /* IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI */
		/* S2P S1P TTF=2 COHACC ATS ASID16 MSI PRI VMID16 CD2L
		 * TTENDIAN=2 STALL_MODEL=1 ST_LEVEL=1 */
		.idr[0] = (1u << 0) | (1u << 1) | (2u << 2) | (1u << 4) | (1u << 10) |
			  (1u << 12) | (1u << 13) | (1u << 16) | (1u << 18) | (1u << 19) |
			  (2u << 21) | (1u << 24) | (1u << 27),
		/* SIDSIZE=16 SSIDSIZE=20 PRIQS=8 EVTQS=19 CMDQS=19 */
		.idr[1] = 16u | (20u << 6) | (8u << 11) | (19u << 16) | (19u << 21),
		.idr[3] = (1u << 10) | (1u << 11), /* RIL, BBML=1 */
		.idr[5] = 5u | (1u << 4) | (1u << 6) | (1u << 10), /* 48-bit, 4K, 64K, VAX */
		.iidr = 0x0230043b,
		.aidr = 0x1,
	};
	struct viommu_caps caps;
	static const struct expect want[] = {
		{ "S2P", 1 },	      { "S1P", 1 },	   { "TTF", 2 },       { "COHACC", 1 },
		{ "ATS", 1 },	      { "ASID16", 1 },	   { "MSI", 1 },       { "PRI", 1 },
		{ "VMID16", 1 },      { "CD2L", 1 },	   { "TTENDIAN", 2 },  { "STALL_MODEL", 1 },
		{ "ST_LEVEL", 1 },    { "TERM_MODEL", 0 }, { "BTM", 0 },       { "HYP", 0 },
		{ "SEV", 0 },	      { "SIDSIZE", 16 },   { "SSIDSIZE", 20 }, { "PRIQS", 8 },
		{ "EVTQS", 19 },      { "CMDQS", 19 },	   { "RIL", 1 },       { "BBML", 1 },
		{ "FWB", 0 },	      { "OAS", 5 },	   { "GRAN4K", 1 },    { "GRAN16K", 0 },
		{ "GRAN64K", 1 },     { "VAX", 1 },	   { "IIDR", 0x0230043b }, { "AIDR", 1 },
		{ "nesting", 1 },     { "pasid_width", 20 }, { "oas_bits", 48 },
		{ "errata_repeat_tlbi_cfgi", 1 },
	};

	CHECK(v);
	CHECK_STREQ(v->name, "arm-smmuv3");
	CHECK_OK(viommu_vendor_decode(v, &info, sizeof(info), &caps));
	check_exactly(&caps, want, sizeof(want) / sizeof(want[0]));

	/* Stage 1 only cannot nest. */
	info.idr[0] &= ~1u;
	CHECK_OK(viommu_vendor_decode(v, &info, sizeof(info), &caps));
	CHECK_EQ(cap_of(&caps, "nesting"), 0);
}

static void test_tegra241(void)
{
	const struct viommu_vendor *v =
		viommu_vendor_by_hw_info_type(KABI_IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV);
	struct kabi_iommu_hw_info_tegra241_cmdqv info = {
		.version = 1,
		.log2vcmdqs = 7,
		.log2vsids = 4,
	};
	struct viommu_caps caps;
	static const struct expect want[] = {
		{ "version", 1 }, { "log2vcmdqs", 7 }, { "log2vsids", 4 },
		{ "vcmdqs", 128 }, { "vsids", 16 },
	};

	CHECK(v);
	CHECK_STREQ(v->name, "tegra241-cmdqv");
	CHECK_OK(viommu_vendor_decode(v, &info, sizeof(info), &caps));
	check_exactly(&caps, want, sizeof(want) / sizeof(want[0]));
	CHECK(v->viommu.supported);
	CHECK_EQ(v->viommu.type, KABI_IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV);
	CHECK_EQ(v->viommu.data_len, sizeof(struct kabi_iommu_viommu_tegra241_cmdqv));
	CHECK(v->viommu_mmap);
	CHECK_EQ(v->viommu_mmap_length_at, 8);
	CHECK_EQ(v->nested.type, KABI_IOMMU_HWPT_DATA_ARM_SMMUV3);
	CHECK_EQ(v->invalidate.data_len, 16);
	CHECK_EQ(v->veventq.type, KABI_IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV);
	CHECK_EQ(v->veventq.data_len, 16);
	CHECK_EQ(v->hw_queue.type, KABI_IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV);
}

static void test_selftest(void)
{
	const struct viommu_vendor *v =
		viommu_vendor_by_hw_info_type(KABI_IOMMU_HW_INFO_TYPE_SELFTEST);
	struct kabi_iommu_test_hw_info info = { .test_reg = KABI_IOMMU_HW_INFO_SELFTEST_REGVAL };
	struct viommu_caps caps;
	static const struct expect want[] = {
		{ "flags", 0 }, { "test_reg", 0xdeadbeef }, { "test_reg_valid", 1 },
	};

	CHECK(v);
	CHECK_STREQ(v->name, "selftest");
	CHECK_OK(viommu_vendor_decode(v, &info, sizeof(info), &caps));
	check_exactly(&caps, want, sizeof(want) / sizeof(want[0]));
	CHECK_EQ(v->nest_anchor, VIOMMU_NEST_ON_VIOMMU);
	CHECK_EQ(v->viommu.type, KABI_IOMMU_VIOMMU_TYPE_SELFTEST);
	CHECK_EQ(v->nested.type, KABI_IOMMU_HWPT_DATA_SELFTEST);
	CHECK_EQ(v->invalidate.type, KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST);
	CHECK_EQ(v->invalidate.data_len, sizeof(struct kabi_iommu_viommu_invalidate_selftest));
	CHECK(v->hwpt_invalidate.supported);
	CHECK_EQ(v->hwpt_invalidate.type, KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST);
	CHECK_EQ(v->hwpt_invalidate.data_len, sizeof(struct kabi_iommu_hwpt_invalidate_selftest));
	CHECK_EQ(v->veventq.type, KABI_IOMMU_VEVENTQ_TYPE_SELFTEST);
	CHECK_EQ(v->hw_queue.type, KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST);
}

static void test_anchors(void)
{
	const struct viommu_vendor *amd = viommu_vendor_by_name("amd");
	const struct viommu_vendor *vtd = viommu_vendor_by_name("intel-vtd");
	const struct viommu_vendor *smmu = viommu_vendor_by_name("arm-smmuv3");

	CHECK_EQ(amd->nest_anchor, VIOMMU_NEST_ON_VIOMMU);
	CHECK(!amd->viommu.supported && !amd->nested.supported && !amd->hw_queue.supported);
	CHECK(!amd->veventq.supported);
	CHECK(strstr(amd->nested.missing, "Linux 7.3 has no AMD vIOMMU type/nested allocation"));
	CHECK_EQ(vtd->nest_anchor, VIOMMU_NEST_ON_PARENT);
	CHECK(!vtd->viommu.supported);
	CHECK_EQ(vtd->nested.type, KABI_IOMMU_HWPT_DATA_VTD_S1);
	CHECK_EQ(vtd->invalidate.type, KABI_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1);
	CHECK_EQ(vtd->invalidate.data_len, sizeof(struct kabi_iommu_hwpt_vtd_s1_invalidate));
	CHECK_EQ(smmu->nest_anchor, VIOMMU_NEST_ON_VIOMMU);
	CHECK_EQ(smmu->viommu.type, KABI_IOMMU_VIOMMU_TYPE_ARM_SMMUV3);
	CHECK_EQ(smmu->viommu.data_len, 0);
	CHECK_EQ(smmu->invalidate.data_len, 16);
	CHECK_EQ(smmu->veventq.data_len, 32);
	CHECK(!smmu->hw_queue.supported);
}

static void test_lookup(void)
{
	static const char *const names[] = { "amd", "intel-vtd", "arm-smmuv3", "tegra241-cmdqv",
					     "selftest" };
	size_t n = 0;
	const struct viommu_vendor *const *all = viommu_vendor_all(&n);

	CHECK_EQ(n, 5);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct viommu_vendor *v = viommu_vendor_by_name(names[i]);

		CHECK(v);
		CHECK_STREQ(v->name, names[i]);
		CHECK(viommu_vendor_by_hw_info_type(v->hw_info_type) == v);
	}
	for (size_t i = 0; i < n; i++)
		CHECK(viommu_vendor_by_name(all[i]->name) == all[i]);
	CHECK(viommu_vendor_by_name("nope") == NULL);
	CHECK(viommu_vendor_by_name("") == NULL);
	CHECK(viommu_vendor_by_name(NULL) == NULL);
	CHECK(viommu_vendor_by_hw_info_type(KABI_IOMMU_HW_INFO_TYPE_NONE) == NULL);
	CHECK(viommu_vendor_by_hw_info_type(99) == NULL);
	CHECK(viommu_vendor_all(NULL) == all);
}

static void test_short_length(void)
{
	unsigned char buf[256] = { 0 };
	struct viommu_caps caps;
	size_t n;
	const struct viommu_vendor *const *all = viommu_vendor_all(&n);
	struct viommu_vendor nodecode = *all[0];

	for (size_t i = 0; i < n; i++) {
		CHECK(all[i]->hw_info_len <= sizeof(buf));
		CHECK_RET(viommu_vendor_decode(all[i], buf, all[i]->hw_info_len - 1, &caps),
			  -EINVAL);
		CHECK_RET(viommu_vendor_decode(all[i], buf, 0, &caps), -EINVAL);
		CHECK_RET(viommu_vendor_decode(all[i], NULL, all[i]->hw_info_len, &caps),
			  -EINVAL);
		CHECK_RET(all[i]->decode(buf, all[i]->hw_info_len - 1, &caps), -EINVAL);
		/* A newer kernel may return more. */
		CHECK_OK(viommu_vendor_decode(all[i], buf, sizeof(buf), &caps));
	}
	CHECK_RET(viommu_vendor_decode(NULL, buf, sizeof(buf), &caps), -EINVAL);
	nodecode.decode = NULL;
	CHECK_RET(viommu_vendor_decode(&nodecode, buf, sizeof(buf), &caps), -EOPNOTSUPP);
}

/* Decoding starts afresh: a used caps is reset, not appended to. */
static void test_decode_resets(void)
{
	const struct viommu_vendor *v = viommu_vendor_by_name("selftest");
	struct kabi_iommu_test_hw_info info = { .test_reg = 1 };
	struct viommu_caps caps = { .count = VIOMMU_CAPS_MAX };

	CHECK_OK(viommu_vendor_decode(v, &info, sizeof(info), &caps));
	CHECK_EQ(caps.count, 3);
	CHECK_EQ(cap_of(&caps, "test_reg_valid"), 0);
}

static void test_caps_bound(void)
{
	static const struct viommu_field bad[] = { { "x", 2, 0, 1, "past the registers" } };
	static const uint64_t regs[2] = { 0 };
	struct viommu_caps caps = { 0 };
	uint64_t v = 7;

	CHECK_RET(viommu_caps_get(&caps, "x", &v), -ENOENT);
	CHECK_EQ(v, 7);
	for (unsigned int i = 0; i < VIOMMU_CAPS_MAX; i++)
		CHECK_OK(viommu_caps_add(&caps, i == 0 ? "first" : "more", i, "filler"));
	CHECK_EQ(caps.count, VIOMMU_CAPS_MAX);
	CHECK_RET(viommu_caps_add(&caps, "one too many", 1, "overflow"), -ENOSPC);
	CHECK_EQ(caps.count, VIOMMU_CAPS_MAX);
	CHECK_OK(viommu_caps_get(&caps, "first", &v));
	CHECK_EQ(v, 0);
	CHECK_RET(viommu_caps_get(&caps, "one too many", &v), -ENOENT);
	CHECK_RET(viommu_caps_add(NULL, "x", 0, NULL), -EINVAL);
	CHECK_RET(viommu_caps_get(NULL, "x", &v), -EINVAL);

	caps.count = 0;
	CHECK_RET(viommu_caps_add_fields(&caps, regs, 2, bad, 1), -EINVAL);
	CHECK_EQ(viommu_bits(UINT64_C(0xf0), 4, 4), 0xf);
	CHECK_EQ(viommu_bits(UINT64_C(0x8000000000000000), 0, 64), UINT64_C(0x8000000000000000));
}

static void check_feature(const struct viommu_vendor *v, const char *what,
			  const struct viommu_vendor_feature *f, bool needs_data)
{
	if (f->supported && f->missing)
		check_fail(__FILE__, __LINE__, "%s %s: supported but says why not", v->name, what);
	if (!f->supported && (!f->missing || !f->missing[0]))
		check_fail(__FILE__, __LINE__, "%s %s: not supported and no reason", v->name,
			   what);
	if (f->supported && needs_data && f->data_len == 0)
		check_fail(__FILE__, __LINE__, "%s %s: supported with no data length", v->name,
			   what);
}

/* Every table is whole and agrees with itself. */
static void test_tables_consistent(void)
{
	unsigned char zero[256] = { 0 };
	size_t n;
	const struct viommu_vendor *const *all = viommu_vendor_all(&n);

	for (size_t i = 0; i < n; i++) {
		const struct viommu_vendor *v = all[i];
		struct viommu_caps caps;

		CHECK(v->name && v->name[0]);
		CHECK(v->description && v->description[0]);
		CHECK(v->hw_info_len > 0 && v->decode);
		for (size_t j = 0; j < i; j++) {
			CHECK(strcmp(all[j]->name, v->name) != 0);
			CHECK(all[j]->hw_info_type != v->hw_info_type);
		}
		/* Data structs exist for these whenever the kernel offers them. */
		check_feature(v, "viommu", &v->viommu, false);
		check_feature(v, "nested", &v->nested, true);
		check_feature(v, "invalidate", &v->invalidate, true);
		check_feature(v, "hwpt_invalidate", &v->hwpt_invalidate, true);
		check_feature(v, "veventq", &v->veventq, true);
		check_feature(v, "hw_queue", &v->hw_queue, false);

		if (v->nest_anchor == VIOMMU_NEST_ON_PARENT) {
			CHECK(!v->viommu.supported);
			/* The nested HWPT is the invalidation target. */
			CHECK(!v->invalidate.supported ||
			      v->invalidate.type == v->hwpt_invalidate.type);
		}
		if (v->nested.supported && v->nest_anchor == VIOMMU_NEST_ON_VIOMMU)
			CHECK(v->viommu.supported);
		if (v->veventq.supported || v->hw_queue.supported)
			CHECK(v->viommu.supported);
		if (v->viommu_mmap) {
			CHECK(v->viommu.supported);
			CHECK(v->viommu_mmap_offset_at + 8 <= v->viommu.data_len);
			CHECK(v->viommu_mmap_length_at + 8 <= v->viommu.data_len);
			CHECK(v->viommu_mmap_offset_at != v->viommu_mmap_length_at);
		}

		/* Decoding fits the bound and gives every cap a unique name and help. */
		CHECK(v->hw_info_len <= sizeof(zero));
		CHECK_OK(viommu_vendor_decode(v, zero, v->hw_info_len, &caps));
		CHECK(caps.count > 0 && caps.count <= VIOMMU_CAPS_MAX);
		for (unsigned int c = 0; c < caps.count; c++) {
			CHECK(caps.cap[c].name && caps.cap[c].name[0]);
			CHECK(caps.cap[c].help && caps.cap[c].help[0]);
			for (unsigned int d = 0; d < c; d++)
				CHECK(strcmp(caps.cap[c].name, caps.cap[d].name) != 0);
		}
		check_note("%s: %u caps", v->name, caps.count);
	}
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_amd_qemu),
		CHECK_CASE(test_amd_fields),
		CHECK_CASE(test_vtd_qemu),
		CHECK_CASE(test_vtd_scalable),
		CHECK_CASE(test_smmuv3),
		CHECK_CASE(test_tegra241),
		CHECK_CASE(test_selftest),
		CHECK_CASE(test_anchors),
		CHECK_CASE(test_lookup),
		CHECK_CASE(test_short_length),
		CHECK_CASE(test_decode_resets),
		CHECK_CASE(test_caps_bound),
		CHECK_CASE(test_tables_consistent),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
