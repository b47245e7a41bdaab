/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI and IOMMU discovery through sysfs: devices, IOMMU groups, whether VFIO
 * can take a device, binding to vfio-pci and back, and the IOMMU's capability
 * registers for a device that is not bound yet.
 *
 * Every function takes the sysfs root (NULL means "/sys") so unit tests can
 * point it at a fake tree, and returns 0 or a negative errno: -EINVAL for a
 * malformed BDF, -ENOENT for a device that does not exist.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kabi-iommufd.h"

#define PCI_BDF_MAX 16	  /* "0000:00:05.0" and a NUL, with room for long domains */
#define PCI_NAME_MAX 64	  /* a driver's or a device's sysfs name */
#define PCI_NO_GROUP (-1) /* iommu_group of a device without one */

/* "dddd:bb:dd.f" in hex (domain 4 to 8 digits, device <= 0x1f, function <= 7). */
bool pci_bdf_valid(const char *bdf);

/* A driver name as sysfs has them ("vfio-pci", "snd_hda_intel"): letters,
 * digits, '_', '-', '.', and never "." or "..". It becomes a path component
 * under /sys/bus/pci/drivers and is written to driver_override. */
bool pci_driver_name_valid(const char *name);

struct pci_sysfs_device {
	char bdf[PCI_BDF_MAX];
	uint16_t vendor;
	uint16_t device;
	uint32_t class; /* base class << 16 | sub class << 8 | prog-if */
	char driver[PCI_NAME_MAX];    /* "" when no driver is bound */
	int iommu_group;	      /* PCI_NO_GROUP when there is none */
	char vfio_cdev[PCI_NAME_MAX]; /* "vfio0" when bound to a VFIO driver, else "" */
};

int pci_sysfs_device_get(const char *root, const char *bdf, struct pci_sysfs_device *out);

/* Every PCI device, sorted by BDF. *out is malloc()ed: free() it. */
int pci_sysfs_list(const char *root, struct pci_sysfs_device **out, size_t *out_count);

/* Finds the first device with this vendor and device ID; -ENOENT if none. */
int pci_sysfs_find(const char *root, uint16_t vendor, uint16_t device, struct pci_sysfs_device *out);

/*
 * The sysfs names of the members of IOMMU group `group`, sorted (PCI devices
 * are BDFs; other buses may be members too). *out is malloc()ed: free() it.
 */
int pci_sysfs_group_members(const char *root, int group, char (**out)[PCI_NAME_MAX],
			    size_t *out_count);

/* Can the platform keep a device's MSIs from reaching what is not its own? */
enum pci_msi_isolation {
	PCI_MSI_ISOLATION_UNKNOWN,  /* no reliable signal on this platform */
	PCI_MSI_ISOLATION_YES,	    /* interrupt remapping is enabled */
	PCI_MSI_ISOLATION_NO,	    /* interrupt remapping is off */
};

int pci_sysfs_msi_isolation(const char *root, enum pci_msi_isolation *out);

struct pci_assignability {
	bool assignable;
	enum pci_msi_isolation msi_isolation;
	bool unsafe_interrupts_allowed; /* iommufd.allow_unsafe_interrupts=Y */
	char reason[512]; /* why not; or a note (e.g. isolation unknown); "" when fine */
};

/*
 * Whether VFIO_DEVICE_BIND_IOMMUFD can take the device: it has an IOMMU group,
 * every other member of the group is unbound or held by a driver that leaves
 * DMA to VFIO (vfio-pci and its variants, pci-stub, pcieport), it is not a
 * bridge, and its MSIs are isolated or iommufd allows unsafe interrupts.
 * Returns 0 with out->assignable false for a device that exists but cannot be
 * assigned.
 */
int pci_sysfs_assignable(const char *root, const char *bdf, struct pci_assignability *out);
/* The same with the host's MSI isolation already known (it is set at boot):
 * pci_sysfs_msi_isolation() walks every irq in /sys/kernel/irq. */
int pci_sysfs_assignable_known(const char *root, const char *bdf,
			       const enum pci_msi_isolation *isolation,
			       struct pci_assignability *out);

/*
 * The four sysfs writes binding is made of. pci_sysfs_write() checks the BDF
 * (an existing PCI device) and the driver name (an existing driver for BIND
 * and UNBIND; a valid name or "" to clear for OVERRIDE) before writing. By
 * default the functions below write themselves; a process whose own view of
 * sysfs is read-only (viommud under its unit) hands the writes to a helper
 * with pci_sysfs_set_writer(). Not for a fake root: tests write directly.
 */
enum pci_sysfs_write_op {
	PCI_SYSFS_OVERRIDE, /* <device>/driver_override = driver ("" clears) */
	PCI_SYSFS_UNBIND,   /* /sys/bus/pci/drivers/<driver>/unbind = bdf */
	PCI_SYSFS_BIND,	    /* /sys/bus/pci/drivers/<driver>/bind = bdf */
	PCI_SYSFS_PROBE,    /* /sys/bus/pci/drivers_probe = bdf */
};

int pci_sysfs_write(const char *root, enum pci_sysfs_write_op op, const char *bdf,
		    const char *driver);

typedef int (*pci_sysfs_writer_fn)(enum pci_sysfs_write_op op, const char *bdf,
				   const char *driver);
/* Set once, before any thread binds; NULL: write directly again. */
void pci_sysfs_set_writer(pci_sysfs_writer_fn writer);

/* What pci_sysfs_bind_vfio() found, for pci_sysfs_restore_driver(). */
struct pci_driver_binding {
	char bdf[PCI_BDF_MAX];
	char driver[PCI_NAME_MAX];	    /* the driver before; "" for none */
	char driver_override[PCI_NAME_MAX]; /* driver_override before; "" for none */
};

/*
 * Binds the device to vfio-pci (driver_override, unbind, drivers_probe) and
 * waits up to about 2 s for its VFIO cdev. *saved records what to restore.
 * A device already on vfio-pci is left alone (and restoring leaves it there).
 * -ENODEV when vfio-pci is not loaded; -ETIMEDOUT when the cdev did not appear
 * (the previous binding is then restored).
 */
int pci_sysfs_bind_vfio(const char *root, const char *bdf, struct pci_driver_binding *saved);

/*
 * Gives the device back: unbinds it from vfio-pci (the kernel waits for every
 * fd of the device to close), restores driver_override and lets the previous
 * driver probe it; a device that had no driver stays unbound. -EBUSY when a
 * different driver ended up with it.
 */
int pci_sysfs_restore_driver(const char *root, const struct pci_driver_binding *saved);

/*
 * Unbinds a device from vfio-pci and binds it to vfio-pci again: the kernel
 * finishes the unbind only once every fd of the device is closed, so this
 * blocks until then (run it on a thread of its own), and the device comes back
 * with no open fd anywhere. driver_override is kept as it was. -EBUSY when the
 * device is not on vfio-pci.
 */
int pci_sysfs_rebind_vfio(const char *root, const char *bdf);

/* A device's IOMMU registers from sysfs, in IOMMU_GET_HW_INFO's layout. */
struct pci_iommu_regs {
	char iommu[PCI_NAME_MAX]; /* the IOMMU's name in /sys/class/iommu */
	uint32_t type;		  /* KABI_IOMMU_HW_INFO_TYPE_INTEL_VTD or _AMD */
	uint32_t data_len;	  /* sizeof the member of data in use */
	union {
		struct kabi_iommu_hw_info_vtd vtd; /* flags 0: errata are not in sysfs */
		struct kabi_iommu_hw_info_amd amd;
	} data;
};

/*
 * -ENODEV when the device has no IOMMU; -EOPNOTSUPP when its IOMMU publishes
 * no registers in sysfs (neither intel-iommu nor amd-iommu).
 */
int pci_sysfs_iommu_regs(const char *root, const char *bdf, struct pci_iommu_regs *out);

/* The name of the device's VFIO cdev ("vfio0") in name; -ENODEV if none. */
int pci_sysfs_vfio_cdev(const char *root, const char *bdf, char *name, size_t size);
