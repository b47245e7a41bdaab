/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An IOMMU's capability registers from sysfs, for devices not bound yet. */
#include "pci-sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sysfs-util.h"

/* A hex attribute of an IOMMU class device, e.g. VT-d's cap ("%llx"). */
static int read_iommu_hex(const char *root, const char *iommu, const char *attr,
			  uint64_t *out)
{
	char path[PATH_MAX], text[64];
	int r;

	r = sysfs_path(path, sizeof(path), "%s/class/iommu/%s/%s", sysfs_root(root), iommu, attr);
	if (r < 0)
		return r;
	r = sysfs_read_text(path, text, sizeof(text));
	if (r < 0)
		return r;
	return sysfs_parse_hex(text, out);
}

/* amd-iommu/features is "efr:efr2" in hex in 7.3 (older kernels: "efr"). */
static int read_amd_features(const char *root, const char *iommu,
			     struct kabi_iommu_hw_info_amd *out)
{
	char path[PATH_MAX], text[64], *colon;
	uint64_t efr, efr2 = 0;
	int r;

	r = sysfs_path(path, sizeof(path), "%s/class/iommu/%s/amd-iommu/features", sysfs_root(root),
		     iommu);
	if (r < 0)
		return r;
	r = sysfs_read_text(path, text, sizeof(text));
	if (r < 0)
		return r;
	colon = strchr(text, ':');
	if (colon) {
		*colon = '\0';
		r = sysfs_parse_hex(colon + 1, &efr2);
		if (r < 0)
			return r;
	}
	r = sysfs_parse_hex(text, &efr);
	if (r < 0)
		return r;
	out->efr = efr;
	out->efr2 = efr2;
	return 0;
}

int pci_sysfs_iommu_regs(const char *root, const char *bdf, struct pci_iommu_regs *out)
{
	struct pci_iommu_regs regs = { 0 };
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int r;

	r = sysfs_pci_device_dir(root, bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	r = sysfs_path(path, sizeof(path), "%s/iommu", dir);
	if (r < 0)
		return r;
	r = sysfs_link_name(path, regs.iommu, sizeof(regs.iommu));
	if (r == -ENOENT)
		return -ENODEV;
	if (r < 0)
		return r;

	r = sysfs_path(path, sizeof(path), "%s/class/iommu/%s/intel-iommu", sysfs_root(root),
		     regs.iommu);
	if (r < 0)
		return r;
	if (stat(path, &st) == 0) {
		regs.type = KABI_IOMMU_HW_INFO_TYPE_INTEL_VTD;
		regs.data_len = sizeof(regs.data.vtd);
		r = read_iommu_hex(root, regs.iommu, "intel-iommu/cap", &regs.data.vtd.cap_reg);
		if (r == 0)
			r = read_iommu_hex(root, regs.iommu, "intel-iommu/ecap",
					   &regs.data.vtd.ecap_reg);
		if (r < 0)
			return r;
		*out = regs;
		return 0;
	}

	r = sysfs_path(path, sizeof(path), "%s/class/iommu/%s/amd-iommu", sysfs_root(root),
		     regs.iommu);
	if (r < 0)
		return r;
	if (stat(path, &st) == 0) {
		regs.type = KABI_IOMMU_HW_INFO_TYPE_AMD;
		regs.data_len = sizeof(regs.data.amd);
		r = read_amd_features(root, regs.iommu, &regs.data.amd);
		if (r < 0)
			return r;
		*out = regs;
		return 0;
	}
	return -EOPNOTSUPP;
}
