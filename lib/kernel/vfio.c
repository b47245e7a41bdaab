/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vfio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fd-identity.h"
#include "kernel-hook.h"
#include "pci-sysfs.h"

static int do_ioctl(int fd, unsigned long request, void *arg)
{
	int r;

	kernel_call_hook_run(request, arg, false, 0);
	r = ioctl(fd, request, arg) < 0 ? -errno : 0;
	kernel_call_hook_run(request, arg, true, r);
	return r;
}

int vfio_device_open_by_bdf(const char *sysfs_root, const char *bdf, int *out_fd)
{
	char name[PCI_NAME_MAX], path[PATH_MAX];
	int r, fd;

	r = pci_sysfs_vfio_cdev(sysfs_root, bdf, name, sizeof(name));
	if (r < 0)
		return r;
	r = snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	if (r < 0 || (size_t)r >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	/* The node under /dev is a name; the device number says what it is. */
	r = fd_is_vfio_cdev_of(sysfs_root, bdf, fd);
	if (r < 0) {
		close(fd);
		return r == -ENOTTY ? -ENODEV : r;
	}
	*out_fd = fd;
	return 0;
}

int vfio_device_bind_iommufd(int devfd, int iommufd, const uint8_t *vf_token,
			     uint32_t *out_dev_id)
{
	struct kabi_vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int r;

	if (vf_token) {
		bind.flags = KABI_VFIO_DEVICE_BIND_FLAG_TOKEN;
		bind.token_uuid_ptr = (uintptr_t)vf_token;
	}
	r = do_ioctl(devfd, KABI_VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (r < 0)
		return r;
	*out_dev_id = bind.out_devid;
	return 0;
}

static int attach(int devfd, uint32_t flags, uint32_t pasid, uint32_t pt_id,
		  uint32_t *out_pt_id)
{
	struct kabi_vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.flags = flags,
		.pt_id = pt_id,
		.pasid = pasid,
	};
	int r;

	r = do_ioctl(devfd, KABI_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
	if (r < 0)
		return r;
	if (out_pt_id)
		*out_pt_id = at.pt_id;
	return 0;
}

int vfio_device_attach_pt(int devfd, uint32_t pt_id, uint32_t *out_pt_id)
{
	return attach(devfd, 0, 0, pt_id, out_pt_id);
}

int vfio_device_attach_pasid_pt(int devfd, uint32_t pasid, uint32_t pt_id,
				uint32_t *out_pt_id)
{
	return attach(devfd, KABI_VFIO_DEVICE_ATTACH_PASID, pasid, pt_id, out_pt_id);
}

static int detach(int devfd, uint32_t flags, uint32_t pasid)
{
	struct kabi_vfio_device_detach_iommufd_pt de = {
		.argsz = sizeof(de),
		.flags = flags,
		.pasid = pasid,
	};

	return do_ioctl(devfd, KABI_VFIO_DEVICE_DETACH_IOMMUFD_PT, &de);
}

int vfio_device_detach_pt(int devfd)
{
	return detach(devfd, 0, 0);
}

int vfio_device_detach_pasid_pt(int devfd, uint32_t pasid)
{
	return detach(devfd, KABI_VFIO_DEVICE_DETACH_PASID, pasid);
}

int vfio_device_get_info(int devfd, struct vfio_dev_info *out)
{
	struct kabi_vfio_device_info info = { .argsz = sizeof(info) };
	int r;

	r = do_ioctl(devfd, KABI_VFIO_DEVICE_GET_INFO, &info);
	if (r < 0)
		return r;
	out->flags = info.flags;
	out->num_regions = info.num_regions;
	out->num_irqs = info.num_irqs;
	return 0;
}

int vfio_device_get_region_info(int devfd, uint32_t index, struct vfio_dev_region *out)
{
	struct kabi_vfio_region_info info = { .argsz = sizeof(info), .index = index };
	int r;

	r = do_ioctl(devfd, KABI_VFIO_DEVICE_GET_REGION_INFO, &info);
	if (r < 0)
		return r;
	out->flags = info.flags;
	out->size = info.size;
	out->offset = info.offset;
	return 0;
}

int vfio_device_get_irq_info(int devfd, uint32_t index, struct vfio_dev_irq *out)
{
	struct kabi_vfio_irq_info info = { .argsz = sizeof(info), .index = index };
	int r;

	r = do_ioctl(devfd, KABI_VFIO_DEVICE_GET_IRQ_INFO, &info);
	if (r < 0)
		return r;
	out->flags = info.flags;
	out->count = info.count;
	return 0;
}

int vfio_device_set_irq_eventfd(int devfd, uint32_t index, int eventfd)
{
	/* struct vfio_irq_set followed by one s32 eventfd */
	union {
		struct kabi_vfio_irq_set hdr;
		uint8_t raw[sizeof(struct kabi_vfio_irq_set) + sizeof(int32_t)];
	} set = { .hdr = {
		.argsz = sizeof(set.raw),
		.flags = KABI_VFIO_IRQ_SET_DATA_EVENTFD | KABI_VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
		.start = 0,
		.count = 1,
	} };
	int32_t fd = eventfd;

	memcpy(set.raw + sizeof(set.hdr), &fd, sizeof(fd));
	return do_ioctl(devfd, KABI_VFIO_DEVICE_SET_IRQS, &set);
}

int vfio_device_trigger_irq(int devfd, uint32_t index)
{
	struct kabi_vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = KABI_VFIO_IRQ_SET_DATA_NONE | KABI_VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
		.start = 0,
		.count = 1,
	};

	return do_ioctl(devfd, KABI_VFIO_DEVICE_SET_IRQS, &set);
}

int vfio_device_reset(int devfd)
{
	return do_ioctl(devfd, KABI_VFIO_DEVICE_RESET, NULL);
}

static int config_region(int devfd, uint64_t offset, size_t len, uint64_t *out_pos)
{
	struct vfio_dev_region reg;
	int r;

	r = vfio_device_get_region_info(devfd, KABI_VFIO_PCI_CONFIG_REGION_INDEX, &reg);
	if (r < 0)
		return r;
	if (offset > reg.size || len > reg.size - offset)
		return -EINVAL;
	*out_pos = reg.offset + offset;
	return 0;
}

int vfio_device_config_read(int devfd, uint64_t offset, void *buf, size_t len)
{
	uint64_t pos;
	ssize_t n;
	int r;

	r = config_region(devfd, offset, len, &pos);
	if (r < 0)
		return r;
	n = pread(devfd, buf, len, (off_t)pos);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vfio_device_config_write(int devfd, uint64_t offset, const void *buf, size_t len)
{
	uint64_t pos;
	ssize_t n;
	int r;

	r = config_region(devfd, offset, len, &pos);
	if (r < 0)
		return r;
	n = pwrite(devfd, buf, len, (off_t)pos);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vfio_device_map_bar(int devfd, unsigned int bar, void **out, size_t *out_len)
{
	struct vfio_dev_region reg;
	void *p;
	int r;

	if (bar > KABI_VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	r = vfio_device_get_region_info(devfd, bar, &reg);
	if (r < 0)
		return r;
	if (!reg.size)
		return -ENODEV;
	if (!(reg.flags & KABI_VFIO_REGION_INFO_FLAG_MMAP) || reg.size > SIZE_MAX)
		return -EOPNOTSUPP;
	p = mmap(NULL, (size_t)reg.size, PROT_READ | PROT_WRITE, MAP_SHARED, devfd,
		 (off_t)reg.offset);
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	*out_len = (size_t)reg.size;
	return 0;
}

int vfio_device_unmap_bar(void *addr, size_t len)
{
	return munmap(addr, len) < 0 ? -errno : 0;
}
