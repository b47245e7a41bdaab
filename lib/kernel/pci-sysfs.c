/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI device discovery: devices, their drivers, groups and VFIO cdevs. */
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

bool pci_bdf_valid(const char *bdf)
{
	size_t dom = 0;
	const char *p = bdf;

	if (!bdf)
		return false;
	while (isxdigit((unsigned char)p[dom]))
		dom++;
	if (dom < 4 || dom > 8 || p[dom] != ':')
		return false;
	p += dom + 1;
	if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || p[2] != ':')
		return false;
	p += 3;
	if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || p[2] != '.')
		return false;
	if (strtoul((char[3]){ p[0], p[1], '\0' }, NULL, 16) > 0x1f)
		return false;
	p += 3;
	return p[0] >= '0' && p[0] <= '7' && p[1] == '\0';
}

bool pci_driver_name_valid(const char *name)
{
	size_t n = 0;

	if (!name || !name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (; name[n]; n++)
		if (!isalnum((unsigned char)name[n]) && !strchr("_-.", name[n]))
			return false;
	return n < PCI_NAME_MAX;
}





int pci_sysfs_vfio_cdev(const char *root, const char *bdf, char *name, size_t size)
{
	char dir[PATH_MAX];
	int r;

	r = sysfs_pci_device_dir(root, bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	return sysfs_dir_vfio_cdev(dir, name, size);
}

int pci_sysfs_device_get(const char *root, const char *bdf, struct pci_sysfs_device *out)
{
	struct pci_sysfs_device d = { .iommu_group = PCI_NO_GROUP };
	char dir[PATH_MAX], path[PATH_MAX], group[32];
	uint64_t v;
	int r;

	r = sysfs_pci_device_dir(root, bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	strcpy(d.bdf, bdf);

	r = sysfs_read_attr_hex(dir, "vendor", &v);
	if (r < 0)
		return r;
	d.vendor = (uint16_t)v;
	r = sysfs_read_attr_hex(dir, "device", &v);
	if (r < 0)
		return r;
	d.device = (uint16_t)v;
	r = sysfs_read_attr_hex(dir, "class", &v);
	if (r < 0)
		return r;
	d.class = (uint32_t)v;

	r = sysfs_dir_driver(dir, d.driver, sizeof(d.driver));
	if (r < 0)
		return r;

	r = sysfs_path(path, sizeof(path), "%s/iommu_group", dir);
	if (r < 0)
		return r;
	r = sysfs_link_name(path, group, sizeof(group));
	if (r == 0) {
		char *end;
		long g = strtol(group, &end, 10);

		if (*end || g < 0 || g > INT_MAX)
			return -EINVAL;
		d.iommu_group = (int)g;
	} else if (r != -ENOENT) {
		return r;
	}

	r = sysfs_dir_vfio_cdev(dir, d.vfio_cdev, sizeof(d.vfio_cdev));
	if (r < 0 && r != -ENODEV)
		return r;

	*out = d;
	return 0;
}



int pci_sysfs_list(const char *root, struct pci_sysfs_device **out, size_t *out_count)
{
	char path[PATH_MAX], (*names)[PCI_NAME_MAX];
	struct pci_sysfs_device *devs;
	size_t count, n = 0;
	int r;

	r = sysfs_path(path, sizeof(path), "%s/bus/pci/devices", sysfs_root(root));
	if (r < 0)
		return r;
	r = sysfs_list_dir(path, &names, &count);
	if (r < 0)
		return r;
	devs = calloc(count ? count : 1, sizeof(*devs));
	if (!devs) {
		free(names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		if (!pci_bdf_valid(names[i]))
			continue;
		r = pci_sysfs_device_get(root, names[i], &devs[n]);
		if (r == -ENOENT)
			continue; /* removed meanwhile */
		if (r < 0) {
			free(names);
			free(devs);
			return r;
		}
		n++;
	}
	free(names);
	*out = devs;
	*out_count = n;
	return 0;
}

int pci_sysfs_find(const char *root, uint16_t vendor, uint16_t device,
		   struct pci_sysfs_device *out)
{
	struct pci_sysfs_device *devs;
	size_t count;
	int r;

	r = pci_sysfs_list(root, &devs, &count);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < count; i++) {
		if (devs[i].vendor == vendor && devs[i].device == device) {
			*out = devs[i];
			r = 0;
			break;
		}
	}
	free(devs);
	return r;
}

int pci_sysfs_group_members(const char *root, int group, char (**out)[PCI_NAME_MAX],
			    size_t *out_count)
{
	char path[PATH_MAX];
	int r;

	if (group < 0)
		return -EINVAL;
	r = sysfs_path(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", sysfs_root(root),
		     group);
	if (r < 0)
		return r;
	return sysfs_list_dir(path, out, out_count);
}
