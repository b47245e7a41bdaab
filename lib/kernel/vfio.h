/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Typed wrappers of the VFIO device cdev ioctls (Linux 7.3), and access to a
 * vfio-pci device's config space and BARs through its fd.
 *
 * Every function returns 0 or a negative errno; outputs are written only on
 * success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kabi-vfio.h"

/*
 * Opens /dev/vfio/devices/vfioN of the PCI device bdf ("0000:00:05.0"),
 * O_RDWR | O_CLOEXEC. sysfs_root NULL means "/sys"; the cdev is always looked
 * up under /dev. -EINVAL for a malformed bdf, -ENOENT when there is no such
 * device, -ENODEV when it has no VFIO cdev (not bound to vfio-pci, or a kernel
 * without CONFIG_VFIO_DEVICE_CDEV).
 */
int vfio_device_open_by_bdf(const char *sysfs_root, const char *bdf, int *out_fd);

/*
 * Binds the device to an iommufd; once per open of the cdev. vf_token is the
 * 16-byte VF token UUID, or NULL. *out_dev_id is the device's iommufd ID.
 */
int vfio_device_bind_iommufd(int devfd, int iommufd, const uint8_t *vf_token,
			     uint32_t *out_dev_id);

/*
 * Attaches (or replaces the attachment of) the device's RID to pt_id, an IOAS
 * or a HWPT. *out_pt_id (may be NULL) is what the kernel attached: for an IOAS
 * the ID of the HWPT it created, for a HWPT that HWPT.
 */
int vfio_device_attach_pt(int devfd, uint32_t pt_id, uint32_t *out_pt_id);
int vfio_device_detach_pt(int devfd);

/* The same for one PASID of the device. */
int vfio_device_attach_pasid_pt(int devfd, uint32_t pasid, uint32_t pt_id,
				uint32_t *out_pt_id);
int vfio_device_detach_pasid_pt(int devfd, uint32_t pasid);

struct vfio_dev_info {
	uint32_t flags; /* KABI_VFIO_DEVICE_FLAGS_* */
	uint32_t num_regions;
	uint32_t num_irqs;
};

struct vfio_dev_region {
	uint32_t flags;	 /* KABI_VFIO_REGION_INFO_FLAG_* */
	uint64_t size;	 /* 0: not implemented (e.g. an unused BAR) */
	uint64_t offset; /* of the region in the device fd */
};

struct vfio_dev_irq {
	uint32_t flags; /* KABI_VFIO_IRQ_INFO_* */
	uint32_t count; /* 0: not implemented */
};

int vfio_device_get_info(int devfd, struct vfio_dev_info *out);
/* index: KABI_VFIO_PCI_*_REGION_INDEX or a device-specific one. */
int vfio_device_get_region_info(int devfd, uint32_t index, struct vfio_dev_region *out);
/* index: KABI_VFIO_PCI_*_IRQ_INDEX. */
int vfio_device_get_irq_info(int devfd, uint32_t index, struct vfio_dev_irq *out);

/*
 * Routes IRQ index (vector 0) to eventfd; -1 removes it. Meant for the
 * single-vector indexes: KABI_VFIO_PCI_REQ_IRQ_INDEX (the kernel asks for the
 * device back) and KABI_VFIO_PCI_ERR_IRQ_INDEX (AER; PCIe devices only).
 */
int vfio_device_set_irq_eventfd(int devfd, uint32_t index, int eventfd);
/* Signals the eventfd of index vector 0 from the kernel (loopback test). */
int vfio_device_trigger_irq(int devfd, uint32_t index);

int vfio_device_reset(int devfd);

/* PCI config space through the config region; -EIO on a short access. */
int vfio_device_config_read(int devfd, uint64_t offset, void *buf, size_t len);
int vfio_device_config_write(int devfd, uint64_t offset, const void *buf, size_t len);

/*
 * Maps BAR bar (0..5) shared read/write. -ENODEV when the BAR is not
 * implemented, -EOPNOTSUPP when it cannot be mmapped (I/O BAR, or mmap not
 * offered).
 */
int vfio_device_map_bar(int devfd, unsigned int bar, void **out, size_t *out_len);
int vfio_device_unmap_bar(void *addr, size_t len);
