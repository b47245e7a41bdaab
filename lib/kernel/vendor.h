/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One table per IOMMU vendor carries every per-IOMMU difference: the hw_info
 * struct and its decoding, where nesting hangs, the vIOMMU type and its driver
 * data, the nested HWPT data, the invalidation entries, the vEVENTQ and the HW
 * queue types. Adding a vendor is adding one table and one file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum viommu_nest_anchor {
	VIOMMU_NEST_ON_VIOMMU, /* nested HWPTs are allocated on a vIOMMU object */
	VIOMMU_NEST_ON_PARENT, /* directly on the nesting-parent HWPT (VT-d) */
};

/* A feature the kernel may or may not offer for a vendor. */
struct viommu_vendor_feature {
	bool supported;
	uint32_t type;	     /* the kernel's type value when supported */
	uint32_t data_len;   /* bytes of its data struct / one entry / one event */
	const char *missing; /* why not, when !supported: a sentence for people */
};

struct viommu_cap {
	const char *name; /* stable key, e.g. "GTSup", "nesting", "pasid_width" */
	uint64_t value;
	const char *help; /* one line for people */
};

#define VIOMMU_CAPS_MAX 48

struct viommu_caps {
	unsigned int count;
	struct viommu_cap cap[VIOMMU_CAPS_MAX];
};

struct viommu_vendor {
	const char *name; /* "amd", "intel-vtd", "arm-smmuv3", "tegra241-cmdqv", "selftest" */
	const char *description;
	uint32_t hw_info_type;
	uint32_t hw_info_len; /* sizeof its hw_info struct */
	enum viommu_nest_anchor nest_anchor;
	/*
	 * vIOMMU object and its driver data (data_len 0: the type takes none).
	 * When viommu_mmap is set, the driver data reports an MMIO window to
	 * map from the iommufd (the HW queues' pages): its u64 mmap offset and
	 * length sit at these byte offsets of the driver data.
	 */
	struct viommu_vendor_feature viommu;
	bool viommu_mmap;
	uint32_t viommu_mmap_offset_at;
	uint32_t viommu_mmap_length_at;
	struct viommu_vendor_feature nested; /* nested HWPT data */
	/*
	 * Invalidation entries for IOMMU_HWPT_INVALIDATE on the object nesting
	 * hangs on: the vIOMMU (ON_VIOMMU) or the nested HWPT (ON_PARENT).
	 */
	struct viommu_vendor_feature invalidate;
	/* Invalidation entries for IOMMU_HWPT_INVALIDATE on a nested HWPT. */
	struct viommu_vendor_feature hwpt_invalidate;
	struct viommu_vendor_feature veventq; /* vEVENTQ and its event record */
	/* HW queue; data_len is one queue entry, 0 when the kernel defines none */
	struct viommu_vendor_feature hw_queue;
	/* Decodes its hw_info struct into named capabilities. */
	int (*decode)(const void *hw_info, size_t len, struct viommu_caps *out);
};

const struct viommu_vendor *viommu_vendor_by_hw_info_type(uint32_t hw_info_type);
const struct viommu_vendor *viommu_vendor_by_name(const char *name);
/* The table of all vendors, for listings; *count gets its length. */
const struct viommu_vendor *const *viommu_vendor_all(size_t *count);

/* Decodes hw_info of the vendor; -EINVAL when len is short, -EOPNOTSUPP when
 * the vendor has no decoder. */
int viommu_vendor_decode(const struct viommu_vendor *vendor, const void *hw_info, size_t len,
			 struct viommu_caps *out);

/* The value of a named capability, or -ENOENT. */
int viommu_caps_get(const struct viommu_caps *caps, const char *name, uint64_t *out_value);

/* Appends a capability; -ENOSPC past VIOMMU_CAPS_MAX. name and help are not
 * copied: pass strings that outlive caps (literals). */
int viommu_caps_add(struct viommu_caps *caps, const char *name, uint64_t value, const char *help);

/* One bit field of a register, for table-driven decoders. */
struct viommu_field {
	const char *name;
	uint8_t reg;   /* index into the decoder's register array */
	uint8_t lo;    /* lowest bit */
	uint8_t width; /* bits, 1..64 */
	const char *help;
};

#define VIOMMU_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Bits [lo, lo + width) of reg. */
static inline uint64_t viommu_bits(uint64_t reg, unsigned int lo, unsigned int width)
{
	uint64_t v = reg >> lo;

	return width >= 64 ? v : v & ((UINT64_C(1) << width) - 1);
}

/* Appends every field of regs[]; -EINVAL on a field naming a register past
 * nregs, -ENOSPC past VIOMMU_CAPS_MAX. */
int viommu_caps_add_fields(struct viommu_caps *caps, const uint64_t *regs, size_t nregs,
			   const struct viommu_field *fields, size_t count);

/* The tables, one per vendor-*.c file. */
extern const struct viommu_vendor viommu_vendor_amd;
extern const struct viommu_vendor viommu_vendor_intel_vtd;
extern const struct viommu_vendor viommu_vendor_arm_smmuv3;
extern const struct viommu_vendor viommu_vendor_tegra241_cmdqv;
extern const struct viommu_vendor viommu_vendor_selftest;
