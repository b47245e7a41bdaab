/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whether VFIO can take a device: its IOMMU group and MSI isolation. */
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

/*
 * Drivers that set driver_managed_dma, so VFIO may claim DMA ownership of a
 * group while they hold a member: vfio-pci and its variant drivers
 * (mlx5_vfio_pci, ...), pci-stub and pcieport (see iommu_device_claim_dma_owner
 * and drivers/vfio/pci/vfio_pci_core.c).
 */
static bool driver_leaves_dma(const char *driver)
{
	return !driver[0] || strstr(driver, "vfio") || strcmp(driver, "pci-stub") == 0 ||
	       strcmp(driver, "pcieport") == 0;
}

/*
 * iommufd's bind refuses (EPERM) a device whose MSIs are not isolated, i.e.
 * no irq domain on its MSI path has IRQ_DOMAIN_FLAG_ISOLATED_MSI, unless
 * iommufd.allow_unsafe_interrupts is set. That flag is not in sysfs, and the
 * IR bit of VT-d's ecap (or AMD's features) says what the hardware can do,
 * not whether Linux enabled it. What is visible is the irq chips' names in
 * /sys/kernel/irq/N/chip_name: on x86 the interrupt-remapping domains of both
 * intel-iommu and amd-iommu (the ones that set the flag) prefix their chips
 * with "IR-" ("IR-IO-APIC", "IR-PCI-MSIX-..."), and interrupt remapping is
 * all or nothing there, so the I/O APIC shows "IO-APIC" when it is off.
 * Elsewhere (ARM ITS, which a firmware quirk can make non-isolating; s390,
 * isolated by architecture) no name is reliable, so we say unknown.
 */
int pci_sysfs_msi_isolation(const char *root, enum pci_msi_isolation *out)
{
	char path[PATH_MAX], name[PCI_NAME_MAX];
	bool remapped = false, plain_ioapic = false;
	struct dirent *de;
	DIR *d;
	int r;

	r = sysfs_path(path, sizeof(path), "%s/kernel/irq", sysfs_root(root));
	if (r < 0)
		return r;
	d = opendir(path);
	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*out = PCI_MSI_ISOLATION_UNKNOWN;
		return 0;
	}
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (sysfs_path(path, sizeof(path), "%s/kernel/irq/%s/chip_name", sysfs_root(root),
			     de->d_name) < 0 ||
		    sysfs_read_text(path, name, sizeof(name)) < 0)
			continue;
		if (strncmp(name, "IR-", 3) == 0)
			remapped = true;
		else if (strcmp(name, "IO-APIC") == 0)
			plain_ioapic = true;
	}
	closedir(d);
	if (remapped)
		*out = PCI_MSI_ISOLATION_YES;
	else if (plain_ioapic)
		*out = PCI_MSI_ISOLATION_NO;
	else
		*out = PCI_MSI_ISOLATION_UNKNOWN;
	return 0;
}

/* A Y/N module parameter; absent counts as N. */
static bool module_param_yes(const char *root, const char *module, const char *param)
{
	char path[PATH_MAX], text[8];

	if (sysfs_path(path, sizeof(path), "%s/module/%s/parameters/%s", sysfs_root(root), module,
		     param) < 0 ||
	    sysfs_read_text(path, text, sizeof(text)) < 0)
		return false;
	return text[0] == 'Y' || text[0] == 'y' || text[0] == '1';
}

__attribute__((format(printf, 2, 3))) static void add_reason(struct pci_assignability *a,
							      const char *fmt, ...)
{
	size_t len = strlen(a->reason);
	va_list ap;

	if (len && len + 2 < sizeof(a->reason)) {
		strcpy(a->reason + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(a->reason + len, sizeof(a->reason) - len, fmt, ap);
	va_end(ap);
}

static int check_group(const char *root, const struct pci_sysfs_device *dev,
		       struct pci_assignability *a)
{
	char (*members)[PCI_NAME_MAX], path[PATH_MAX], driver[PCI_NAME_MAX];
	size_t count;
	int r;

	r = pci_sysfs_group_members(root, dev->iommu_group, &members, &count);
	if (r < 0)
		return r;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(members[i], dev->bdf) == 0)
			continue;
		r = sysfs_path(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices/%s",
			     sysfs_root(root), dev->iommu_group, members[i]);
		if (r == 0)
			r = sysfs_dir_driver(path, driver, sizeof(driver));
		if (r < 0)
			break;
		if (!driver_leaves_dma(driver)) {
			a->assignable = false;
			add_reason(a, "IOMMU group %d also holds %s, bound to host driver %s",
				   dev->iommu_group, members[i], driver);
		}
	}
	free(members);
	return r < 0 ? r : 0;
}

int pci_sysfs_assignable_known(const char *root, const char *bdf,
			       const enum pci_msi_isolation *isolation,
			       struct pci_assignability *out)
{
	struct pci_assignability a = { .assignable = true };
	struct pci_sysfs_device dev;
	int r;

	r = pci_sysfs_device_get(root, bdf, &dev);
	if (r < 0)
		return r;

	/* vfio-pci takes only type 0 headers: PCI-PCI and CardBus bridges are out. */
	if ((dev.class >> 8) == 0x0604 || (dev.class >> 8) == 0x0607) {
		a.assignable = false;
		add_reason(&a, "%s is a bridge; vfio-pci takes endpoints only", bdf);
	}

	if (dev.iommu_group == PCI_NO_GROUP) {
		a.assignable = false;
		add_reason(&a, "%s has no IOMMU group (no IOMMU, or it is disabled)", bdf);
	} else {
		r = check_group(root, &dev, &a);
		if (r < 0)
			return r;
	}

	if (isolation) {
		a.msi_isolation = *isolation;
	} else {
		r = pci_sysfs_msi_isolation(root, &a.msi_isolation);
		if (r < 0)
			return r;
	}
	/* vfio_iommu_type1's parameter of the same name only covers the legacy
	 * container path; a cdev bound to iommufd obeys iommufd's. */
	a.unsafe_interrupts_allowed = module_param_yes(root, "iommufd", "allow_unsafe_interrupts");
	if (a.msi_isolation == PCI_MSI_ISOLATION_NO && !a.unsafe_interrupts_allowed) {
		a.assignable = false;
		add_reason(&a, "interrupt remapping is off and iommufd.allow_unsafe_interrupts is not set%s",
			   module_param_yes(root, "vfio_iommu_type1", "allow_unsafe_interrupts")
				   ? " (vfio_iommu_type1's does not apply to VFIO cdevs)"
				   : "");
	} else if (a.msi_isolation == PCI_MSI_ISOLATION_UNKNOWN && !a.unsafe_interrupts_allowed) {
		add_reason(&a, "interrupt isolation unknown: binding may fail with EPERM");
	}

	*out = a;
	return 0;
}

int pci_sysfs_assignable(const char *root, const char *bdf, struct pci_assignability *out)
{
	return pci_sysfs_assignable_known(root, bdf, NULL, out);
}
