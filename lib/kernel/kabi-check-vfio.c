/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compile-time check of kabi-vfio.h. Built with -DKABI_CHECK_UAPI and the test
 * kernel's uAPI include directory first on the path, every struct size, field
 * offset, ioctl number and constant is compared with <linux/vfio.h>. Without
 * it, only the layouts we know by heart are checked.
 */
#include <stddef.h>

#include "kabi-vfio.h"

#define SAME_SIZE(ours, theirs) \
	_Static_assert(sizeof(struct ours) == sizeof(struct theirs), #ours " size")
#define SAME_FIELD(ours, theirs, field)                                         \
	_Static_assert(offsetof(struct ours, field) == offsetof(struct theirs, field) && \
		       sizeof(((struct ours *)0)->field) ==                       \
			       sizeof(((struct theirs *)0)->field),               \
		       #ours "." #field)
#define SAME_VALUE(ours, theirs) \
	_Static_assert((long long)(ours) == (long long)(theirs), #ours)

/* Self-consistency: sizes and offsets are ABI, the same on every arch. */
_Static_assert(sizeof(struct kabi_vfio_device_info) == 24, "device_info");
_Static_assert(sizeof(struct kabi_vfio_region_info) == 32, "region_info");
_Static_assert(offsetof(struct kabi_vfio_region_info, size) == 16, "region_info.size");
_Static_assert(offsetof(struct kabi_vfio_region_info, offset) == 24, "region_info.offset");
_Static_assert(sizeof(struct kabi_vfio_irq_info) == 16, "irq_info");
_Static_assert(sizeof(struct kabi_vfio_irq_set) == 20, "irq_set");
_Static_assert(offsetof(struct kabi_vfio_irq_set, data) == 20, "irq_set.data");
_Static_assert(sizeof(struct kabi_vfio_device_bind_iommufd) == 24, "bind_iommufd");
_Static_assert(offsetof(struct kabi_vfio_device_bind_iommufd, token_uuid_ptr) == 16,
	       "bind_iommufd.token_uuid_ptr");
_Static_assert(sizeof(struct kabi_vfio_device_attach_iommufd_pt) == 16, "attach_pt");
_Static_assert(sizeof(struct kabi_vfio_device_detach_iommufd_pt) == 12, "detach_pt");
_Static_assert(KABI_VFIO_DEVICE_BIND_IOMMUFD == ((';' << 8) | 118), "bind ioctl nr");
_Static_assert(KABI_VFIO_DEVICE_GET_INFO == ((';' << 8) | 107), "get_info ioctl nr");

#ifdef KABI_CHECK_UAPI
#include <linux/vfio.h>

SAME_VALUE(KABI_VFIO_TYPE, VFIO_TYPE);
SAME_VALUE(KABI_VFIO_BASE, VFIO_BASE);

SAME_SIZE(kabi_vfio_device_info, vfio_device_info);
SAME_FIELD(kabi_vfio_device_info, vfio_device_info, argsz);
SAME_FIELD(kabi_vfio_device_info, vfio_device_info, flags);
SAME_FIELD(kabi_vfio_device_info, vfio_device_info, num_regions);
SAME_FIELD(kabi_vfio_device_info, vfio_device_info, num_irqs);
SAME_FIELD(kabi_vfio_device_info, vfio_device_info, cap_offset);
SAME_FIELD(kabi_vfio_device_info, vfio_device_info, pad);
SAME_VALUE(KABI_VFIO_DEVICE_FLAGS_RESET, VFIO_DEVICE_FLAGS_RESET);
SAME_VALUE(KABI_VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_FLAGS_PCI);
SAME_VALUE(KABI_VFIO_DEVICE_FLAGS_PLATFORM, VFIO_DEVICE_FLAGS_PLATFORM);
SAME_VALUE(KABI_VFIO_DEVICE_FLAGS_AMBA, VFIO_DEVICE_FLAGS_AMBA);
SAME_VALUE(KABI_VFIO_DEVICE_FLAGS_CCW, VFIO_DEVICE_FLAGS_CCW);
SAME_VALUE(KABI_VFIO_DEVICE_FLAGS_AP, VFIO_DEVICE_FLAGS_AP);
SAME_VALUE(KABI_VFIO_DEVICE_FLAGS_FSL_MC, VFIO_DEVICE_FLAGS_FSL_MC);
SAME_VALUE(KABI_VFIO_DEVICE_FLAGS_CAPS, VFIO_DEVICE_FLAGS_CAPS);
SAME_VALUE(KABI_VFIO_DEVICE_FLAGS_CDX, VFIO_DEVICE_FLAGS_CDX);

SAME_SIZE(kabi_vfio_region_info, vfio_region_info);
SAME_FIELD(kabi_vfio_region_info, vfio_region_info, argsz);
SAME_FIELD(kabi_vfio_region_info, vfio_region_info, flags);
SAME_FIELD(kabi_vfio_region_info, vfio_region_info, index);
SAME_FIELD(kabi_vfio_region_info, vfio_region_info, cap_offset);
SAME_FIELD(kabi_vfio_region_info, vfio_region_info, size);
SAME_FIELD(kabi_vfio_region_info, vfio_region_info, offset);
SAME_VALUE(KABI_VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_READ);
SAME_VALUE(KABI_VFIO_REGION_INFO_FLAG_WRITE, VFIO_REGION_INFO_FLAG_WRITE);
SAME_VALUE(KABI_VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_MMAP);
SAME_VALUE(KABI_VFIO_REGION_INFO_FLAG_CAPS, VFIO_REGION_INFO_FLAG_CAPS);

SAME_SIZE(kabi_vfio_irq_info, vfio_irq_info);
SAME_FIELD(kabi_vfio_irq_info, vfio_irq_info, argsz);
SAME_FIELD(kabi_vfio_irq_info, vfio_irq_info, flags);
SAME_FIELD(kabi_vfio_irq_info, vfio_irq_info, index);
SAME_FIELD(kabi_vfio_irq_info, vfio_irq_info, count);
SAME_VALUE(KABI_VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_EVENTFD);
SAME_VALUE(KABI_VFIO_IRQ_INFO_MASKABLE, VFIO_IRQ_INFO_MASKABLE);
SAME_VALUE(KABI_VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_AUTOMASKED);
SAME_VALUE(KABI_VFIO_IRQ_INFO_NORESIZE, VFIO_IRQ_INFO_NORESIZE);

SAME_SIZE(kabi_vfio_irq_set, vfio_irq_set);
SAME_FIELD(kabi_vfio_irq_set, vfio_irq_set, argsz);
SAME_FIELD(kabi_vfio_irq_set, vfio_irq_set, flags);
SAME_FIELD(kabi_vfio_irq_set, vfio_irq_set, index);
SAME_FIELD(kabi_vfio_irq_set, vfio_irq_set, start);
SAME_FIELD(kabi_vfio_irq_set, vfio_irq_set, count);
_Static_assert(offsetof(struct kabi_vfio_irq_set, data) == offsetof(struct vfio_irq_set, data),
	       "kabi_vfio_irq_set.data");
SAME_VALUE(KABI_VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_NONE);
SAME_VALUE(KABI_VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_BOOL);
SAME_VALUE(KABI_VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_EVENTFD);
SAME_VALUE(KABI_VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_MASK);
SAME_VALUE(KABI_VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_ACTION_UNMASK);
SAME_VALUE(KABI_VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_TRIGGER);
SAME_VALUE(KABI_VFIO_IRQ_SET_DATA_TYPE_MASK, VFIO_IRQ_SET_DATA_TYPE_MASK);
SAME_VALUE(KABI_VFIO_IRQ_SET_ACTION_TYPE_MASK, VFIO_IRQ_SET_ACTION_TYPE_MASK);

SAME_VALUE(KABI_VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_BAR0_REGION_INDEX);
SAME_VALUE(KABI_VFIO_PCI_BAR1_REGION_INDEX, VFIO_PCI_BAR1_REGION_INDEX);
SAME_VALUE(KABI_VFIO_PCI_BAR2_REGION_INDEX, VFIO_PCI_BAR2_REGION_INDEX);
SAME_VALUE(KABI_VFIO_PCI_BAR3_REGION_INDEX, VFIO_PCI_BAR3_REGION_INDEX);
SAME_VALUE(KABI_VFIO_PCI_BAR4_REGION_INDEX, VFIO_PCI_BAR4_REGION_INDEX);
SAME_VALUE(KABI_VFIO_PCI_BAR5_REGION_INDEX, VFIO_PCI_BAR5_REGION_INDEX);
SAME_VALUE(KABI_VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_ROM_REGION_INDEX);
SAME_VALUE(KABI_VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX);
SAME_VALUE(KABI_VFIO_PCI_VGA_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX);
SAME_VALUE(KABI_VFIO_PCI_NUM_REGIONS, VFIO_PCI_NUM_REGIONS);
SAME_VALUE(KABI_VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_INTX_IRQ_INDEX);
SAME_VALUE(KABI_VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX);
SAME_VALUE(KABI_VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX);
SAME_VALUE(KABI_VFIO_PCI_ERR_IRQ_INDEX, VFIO_PCI_ERR_IRQ_INDEX);
SAME_VALUE(KABI_VFIO_PCI_REQ_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX);
SAME_VALUE(KABI_VFIO_PCI_NUM_IRQS, VFIO_PCI_NUM_IRQS);

SAME_SIZE(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd);
SAME_FIELD(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd, argsz);
SAME_FIELD(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd, flags);
SAME_FIELD(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd, iommufd);
SAME_FIELD(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd, out_devid);
SAME_FIELD(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd, token_uuid_ptr);
SAME_VALUE(KABI_VFIO_DEVICE_BIND_FLAG_TOKEN, VFIO_DEVICE_BIND_FLAG_TOKEN);

SAME_SIZE(kabi_vfio_device_attach_iommufd_pt, vfio_device_attach_iommufd_pt);
SAME_FIELD(kabi_vfio_device_attach_iommufd_pt, vfio_device_attach_iommufd_pt, argsz);
SAME_FIELD(kabi_vfio_device_attach_iommufd_pt, vfio_device_attach_iommufd_pt, flags);
SAME_FIELD(kabi_vfio_device_attach_iommufd_pt, vfio_device_attach_iommufd_pt, pt_id);
SAME_FIELD(kabi_vfio_device_attach_iommufd_pt, vfio_device_attach_iommufd_pt, pasid);
SAME_VALUE(KABI_VFIO_DEVICE_ATTACH_PASID, VFIO_DEVICE_ATTACH_PASID);

SAME_SIZE(kabi_vfio_device_detach_iommufd_pt, vfio_device_detach_iommufd_pt);
SAME_FIELD(kabi_vfio_device_detach_iommufd_pt, vfio_device_detach_iommufd_pt, argsz);
SAME_FIELD(kabi_vfio_device_detach_iommufd_pt, vfio_device_detach_iommufd_pt, flags);
SAME_FIELD(kabi_vfio_device_detach_iommufd_pt, vfio_device_detach_iommufd_pt, pasid);
SAME_VALUE(KABI_VFIO_DEVICE_DETACH_PASID, VFIO_DEVICE_DETACH_PASID);

SAME_VALUE(KABI_VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_INFO);
SAME_VALUE(KABI_VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_GET_REGION_INFO);
SAME_VALUE(KABI_VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_GET_IRQ_INFO);
SAME_VALUE(KABI_VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_SET_IRQS);
SAME_VALUE(KABI_VFIO_DEVICE_RESET, VFIO_DEVICE_RESET);
SAME_VALUE(KABI_VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_BIND_IOMMUFD);
SAME_VALUE(KABI_VFIO_DEVICE_ATTACH_IOMMUFD_PT, VFIO_DEVICE_ATTACH_IOMMUFD_PT);
SAME_VALUE(KABI_VFIO_DEVICE_DETACH_IOMMUFD_PT, VFIO_DEVICE_DETACH_IOMMUFD_PT);
#endif

/* ISO C forbids an empty translation unit, and the library wants a symbol. */
extern const int kabi_check_vfio_done;
const int kabi_check_vfio_done = 1;
