/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Our own definitions of the VFIO device uAPI (Linux 7.3) that viommud uses:
 * the cdev ioctls (bind to an iommufd, attach, detach) and the device info,
 * region, IRQ ioctls of vfio-pci.
 *
 * Debian 12's <linux/vfio.h> (6.1) lacks the cdev ioctls, so we do not include
 * it. kabi-check-vfio.c checks everything here against the test kernel's
 * installed headers when the build is given them (-Duapi_headers=).
 */
#pragma once

#include <linux/ioctl.h>
#include <stdint.h>

#define KABI_VFIO_TYPE ';'
#define KABI_VFIO_BASE 100

#define KABI_VFIO_IOCTL(nr) _IO(KABI_VFIO_TYPE, KABI_VFIO_BASE + (nr))

/* VFIO_DEVICE_GET_INFO */
enum {
	KABI_VFIO_DEVICE_FLAGS_RESET = 1 << 0,
	KABI_VFIO_DEVICE_FLAGS_PCI = 1 << 1,
	KABI_VFIO_DEVICE_FLAGS_PLATFORM = 1 << 2,
	KABI_VFIO_DEVICE_FLAGS_AMBA = 1 << 3,
	KABI_VFIO_DEVICE_FLAGS_CCW = 1 << 4,
	KABI_VFIO_DEVICE_FLAGS_AP = 1 << 5,
	KABI_VFIO_DEVICE_FLAGS_FSL_MC = 1 << 6,
	KABI_VFIO_DEVICE_FLAGS_CAPS = 1 << 7,
	KABI_VFIO_DEVICE_FLAGS_CDX = 1 << 8,
};

struct kabi_vfio_device_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
	uint32_t cap_offset;
	uint32_t pad;
};

/* VFIO_DEVICE_GET_REGION_INFO */
enum {
	KABI_VFIO_REGION_INFO_FLAG_READ = 1 << 0,
	KABI_VFIO_REGION_INFO_FLAG_WRITE = 1 << 1,
	KABI_VFIO_REGION_INFO_FLAG_MMAP = 1 << 2,
	KABI_VFIO_REGION_INFO_FLAG_CAPS = 1 << 3,
};

struct kabi_vfio_region_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t cap_offset;
	uint64_t size __attribute__((aligned(8)));
	uint64_t offset __attribute__((aligned(8)));
};

/* VFIO_DEVICE_GET_IRQ_INFO */
enum {
	KABI_VFIO_IRQ_INFO_EVENTFD = 1 << 0,
	KABI_VFIO_IRQ_INFO_MASKABLE = 1 << 1,
	KABI_VFIO_IRQ_INFO_AUTOMASKED = 1 << 2,
	KABI_VFIO_IRQ_INFO_NORESIZE = 1 << 3,
};

struct kabi_vfio_irq_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t count;
};

/* VFIO_DEVICE_SET_IRQS */
enum {
	KABI_VFIO_IRQ_SET_DATA_NONE = 1 << 0,
	KABI_VFIO_IRQ_SET_DATA_BOOL = 1 << 1,
	KABI_VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2,
	KABI_VFIO_IRQ_SET_ACTION_MASK = 1 << 3,
	KABI_VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4,
	KABI_VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5,
};

#define KABI_VFIO_IRQ_SET_DATA_TYPE_MASK                                     \
	(KABI_VFIO_IRQ_SET_DATA_NONE | KABI_VFIO_IRQ_SET_DATA_BOOL |         \
	 KABI_VFIO_IRQ_SET_DATA_EVENTFD)
#define KABI_VFIO_IRQ_SET_ACTION_TYPE_MASK                                   \
	(KABI_VFIO_IRQ_SET_ACTION_MASK | KABI_VFIO_IRQ_SET_ACTION_UNMASK |   \
	 KABI_VFIO_IRQ_SET_ACTION_TRIGGER)

/* Followed by count data items (u8 for BOOL, s32 for EVENTFD). */
struct kabi_vfio_irq_set {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t start;
	uint32_t count;
	uint8_t data[];
};

/* vfio-pci's fixed region and IRQ indexes. */
enum {
	KABI_VFIO_PCI_BAR0_REGION_INDEX = 0,
	KABI_VFIO_PCI_BAR1_REGION_INDEX = 1,
	KABI_VFIO_PCI_BAR2_REGION_INDEX = 2,
	KABI_VFIO_PCI_BAR3_REGION_INDEX = 3,
	KABI_VFIO_PCI_BAR4_REGION_INDEX = 4,
	KABI_VFIO_PCI_BAR5_REGION_INDEX = 5,
	KABI_VFIO_PCI_ROM_REGION_INDEX = 6,
	KABI_VFIO_PCI_CONFIG_REGION_INDEX = 7,
	KABI_VFIO_PCI_VGA_REGION_INDEX = 8,
	KABI_VFIO_PCI_NUM_REGIONS = 9,
};

enum {
	KABI_VFIO_PCI_INTX_IRQ_INDEX = 0,
	KABI_VFIO_PCI_MSI_IRQ_INDEX = 1,
	KABI_VFIO_PCI_MSIX_IRQ_INDEX = 2,
	KABI_VFIO_PCI_ERR_IRQ_INDEX = 3,
	KABI_VFIO_PCI_REQ_IRQ_INDEX = 4,
	KABI_VFIO_PCI_NUM_IRQS = 5,
};

/* VFIO_DEVICE_BIND_IOMMUFD */
enum {
	KABI_VFIO_DEVICE_BIND_FLAG_TOKEN = 1 << 0,
};

struct kabi_vfio_device_bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
	uint64_t token_uuid_ptr __attribute__((aligned(8)));
};

/* VFIO_DEVICE_ATTACH_IOMMUFD_PT */
enum {
	KABI_VFIO_DEVICE_ATTACH_PASID = 1 << 0,
};

struct kabi_vfio_device_attach_iommufd_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pt_id;
	uint32_t pasid;
};

/* VFIO_DEVICE_DETACH_IOMMUFD_PT */
enum {
	KABI_VFIO_DEVICE_DETACH_PASID = 1 << 0,
};

struct kabi_vfio_device_detach_iommufd_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pasid;
};

#define KABI_VFIO_DEVICE_GET_INFO KABI_VFIO_IOCTL(7)
#define KABI_VFIO_DEVICE_GET_REGION_INFO KABI_VFIO_IOCTL(8)
#define KABI_VFIO_DEVICE_GET_IRQ_INFO KABI_VFIO_IOCTL(9)
#define KABI_VFIO_DEVICE_SET_IRQS KABI_VFIO_IOCTL(10)
#define KABI_VFIO_DEVICE_RESET KABI_VFIO_IOCTL(11)
#define KABI_VFIO_DEVICE_BIND_IOMMUFD KABI_VFIO_IOCTL(18)
#define KABI_VFIO_DEVICE_ATTACH_IOMMUFD_PT KABI_VFIO_IOCTL(19)
#define KABI_VFIO_DEVICE_DETACH_IOMMUFD_PT KABI_VFIO_IOCTL(20)
