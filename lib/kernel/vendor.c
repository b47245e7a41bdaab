/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry of vendor tables and the helpers their decoders share.
 */
#include "vendor.h"

#include <errno.h>
#include <string.h>

static const struct viommu_vendor *const vendors[] = {
	&viommu_vendor_amd,
	&viommu_vendor_intel_vtd,
	&viommu_vendor_arm_smmuv3,
	&viommu_vendor_tegra241_cmdqv,
	&viommu_vendor_selftest,
};

#define N_VENDORS (sizeof(vendors) / sizeof(vendors[0]))

const struct viommu_vendor *viommu_vendor_by_hw_info_type(uint32_t hw_info_type)
{
	for (size_t i = 0; i < N_VENDORS; i++)
		if (vendors[i]->hw_info_type == hw_info_type)
			return vendors[i];
	return NULL;
}

const struct viommu_vendor *viommu_vendor_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < N_VENDORS; i++)
		if (strcmp(vendors[i]->name, name) == 0)
			return vendors[i];
	return NULL;
}

const struct viommu_vendor *const *viommu_vendor_all(size_t *count)
{
	if (count)
		*count = N_VENDORS;
	return vendors;
}

int viommu_vendor_decode(const struct viommu_vendor *vendor, const void *hw_info, size_t len,
			 struct viommu_caps *out)
{
	if (!vendor || !out)
		return -EINVAL;
	if (!vendor->decode)
		return -EOPNOTSUPP;
	/* Longer is fine: a newer kernel may append fields. */
	if (!hw_info || len < vendor->hw_info_len)
		return -EINVAL;
	out->count = 0;
	return vendor->decode(hw_info, len, out);
}

int viommu_caps_get(const struct viommu_caps *caps, const char *name, uint64_t *out_value)
{
	if (!caps || !name)
		return -EINVAL;
	for (unsigned int i = 0; i < caps->count && i < VIOMMU_CAPS_MAX; i++) {
		if (strcmp(caps->cap[i].name, name) == 0) {
			if (out_value)
				*out_value = caps->cap[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

int viommu_caps_add(struct viommu_caps *caps, const char *name, uint64_t value, const char *help)
{
	if (!caps || !name)
		return -EINVAL;
	if (caps->count >= VIOMMU_CAPS_MAX)
		return -ENOSPC;
	caps->cap[caps->count++] = (struct viommu_cap){
		.name = name,
		.value = value,
		.help = help,
	};
	return 0;
}

int viommu_caps_add_fields(struct viommu_caps *caps, const uint64_t *regs, size_t nregs,
			   const struct viommu_field *fields, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct viommu_field *f = &fields[i];
		int r;

		if (f->reg >= nregs || f->width == 0 || f->lo + f->width > 64)
			return -EINVAL;
		r = viommu_caps_add(caps, f->name, viommu_bits(regs[f->reg], f->lo, f->width),
				    f->help);
		if (r < 0)
			return r;
	}
	return 0;
}
