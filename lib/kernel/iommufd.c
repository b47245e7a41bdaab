/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "iommufd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kernel-hook.h"

/* Every iommufd ioctl takes a struct whose first u32 is its size. */
static int iommufd_ioctl(int iommufd, unsigned long request, void *arg)
{
	int r;

	if (iommufd < 0)
		return -EBADF;
	kernel_call_hook_run(request, arg, false, 0);
	r = ioctl(iommufd, request, arg) < 0 ? -errno : 0;
	kernel_call_hook_run(request, arg, true, r);
	return r;
}

int iommufd_open(void)
{
	int fd;

	kernel_call_hook_run(KERNEL_CALL_OPEN_IOMMUFD, NULL, false, 0);
	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	kernel_call_hook_run(KERNEL_CALL_OPEN_IOMMUFD, NULL, true, fd);
	return fd;
}

int iommufd_destroy(int iommufd, uint32_t id)
{
	struct kabi_iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return iommufd_ioctl(iommufd, KABI_IOMMU_DESTROY, &cmd);
}

int iommufd_ioas_alloc(int iommufd, uint32_t *out_ioas_id)
{
	struct kabi_iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int r;

	if (!out_ioas_id)
		return -EINVAL;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_IOAS_ALLOC, &cmd);
	if (r == 0)
		*out_ioas_id = cmd.out_ioas_id;
	return r;
}

_Static_assert(sizeof(struct iommufd_iova_range) == sizeof(struct kabi_iommu_iova_range),
	       "iommufd_iova_range is passed to the kernel as is");

int iommufd_ioas_allow_iovas(int iommufd, uint32_t ioas_id,
			     const struct iommufd_iova_range *ranges, uint32_t count)
{
	struct kabi_iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = count,
		.allowed_iovas = (uintptr_t)ranges,
	};

	if (count && !ranges)
		return -EINVAL;
	return iommufd_ioctl(iommufd, KABI_IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

int iommufd_ioas_iova_ranges(int iommufd, uint32_t ioas_id,
			     struct iommufd_iova_range *ranges, uint32_t *inout_count,
			     uint64_t *out_alignment)
{
	struct kabi_iommu_ioas_iova_ranges cmd = { .size = sizeof(cmd), .ioas_id = ioas_id };
	int r;

	if (!inout_count || (*inout_count && !ranges))
		return -EINVAL;
	cmd.num_iovas = *inout_count;
	cmd.allowed_iovas = (uintptr_t)ranges;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_IOAS_IOVA_RANGES, &cmd);
	if (r == 0 || r == -EMSGSIZE)
		*inout_count = cmd.num_iovas;
	if (r == 0 && out_alignment)
		*out_alignment = cmd.out_iova_alignment;
	return r;
}

int iommufd_ioas_map(int iommufd, uint32_t ioas_id, uint32_t flags, void *va,
		     uint64_t length, uint64_t *inout_iova)
{
	struct kabi_iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = length,
	};
	int r;

	if (!inout_iova)
		return -EINVAL;
	cmd.iova = *inout_iova;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_IOAS_MAP, &cmd);
	if (r == 0)
		*inout_iova = cmd.iova;
	return r;
}

int iommufd_ioas_map_file(int iommufd, uint32_t ioas_id, uint32_t flags, int fd,
			  uint64_t start, uint64_t length, uint64_t *inout_iova)
{
	struct kabi_iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.fd = fd,
		.start = start,
		.length = length,
	};
	int r;

	if (!inout_iova)
		return -EINVAL;
	cmd.iova = *inout_iova;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_IOAS_MAP_FILE, &cmd);
	if (r == 0)
		*inout_iova = cmd.iova;
	return r;
}

int iommufd_ioas_copy(int iommufd, uint32_t dst_ioas_id, uint32_t src_ioas_id,
		      uint32_t flags, uint64_t src_iova, uint64_t length,
		      uint64_t *inout_dst_iova)
{
	struct kabi_iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst_ioas_id,
		.src_ioas_id = src_ioas_id,
		.length = length,
		.src_iova = src_iova,
	};
	int r;

	if (!inout_dst_iova)
		return -EINVAL;
	cmd.dst_iova = *inout_dst_iova;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_IOAS_COPY, &cmd);
	if (r == 0)
		*inout_dst_iova = cmd.dst_iova;
	return r;
}

int iommufd_ioas_unmap(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t length,
		       uint64_t *out_unmapped)
{
	struct kabi_iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int r = iommufd_ioctl(iommufd, KABI_IOMMU_IOAS_UNMAP, &cmd);

	if (r == 0 && out_unmapped)
		*out_unmapped = cmd.length;
	return r;
}

int iommufd_ioas_change_process(int iommufd)
{
	struct kabi_iommu_ioas_change_process cmd = { .size = sizeof(cmd) };

	return iommufd_ioctl(iommufd, KABI_IOMMU_IOAS_CHANGE_PROCESS, &cmd);
}

int iommufd_option_set(int iommufd, uint32_t option, uint32_t object_id, uint64_t value)
{
	struct kabi_iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option,
		.op = KABI_IOMMU_OPTION_OP_SET,
		.object_id = object_id,
		.val64 = value,
	};

	return iommufd_ioctl(iommufd, KABI_IOMMU_OPTION, &cmd);
}

int iommufd_option_get(int iommufd, uint32_t option, uint32_t object_id, uint64_t *out_value)
{
	struct kabi_iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option,
		.op = KABI_IOMMU_OPTION_OP_GET,
		.object_id = object_id,
	};
	int r;

	if (!out_value)
		return -EINVAL;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_OPTION, &cmd);
	if (r == 0)
		*out_value = cmd.val64;
	return r;
}

int iommufd_hwpt_alloc(int iommufd, const struct iommufd_hwpt_alloc_args *args,
		       uint32_t *out_hwpt_id)
{
	struct kabi_iommu_hwpt_alloc cmd = { .size = sizeof(cmd) };
	int r;

	if (!args || !out_hwpt_id || (args->data_len && !args->data))
		return -EINVAL;
	/* The fault queue is named by fault_id alone: the flag follows it. */
	if (args->flags & KABI_IOMMU_HWPT_FAULT_ID_VALID)
		return -EINVAL;
	cmd.flags = args->flags | (args->fault_id ? KABI_IOMMU_HWPT_FAULT_ID_VALID : 0);
	cmd.dev_id = args->dev_id;
	cmd.pt_id = args->pt_id;
	cmd.data_type = args->data_type;
	cmd.data_len = args->data_len;
	cmd.data_uptr = (uintptr_t)args->data;
	cmd.fault_id = args->fault_id;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_HWPT_ALLOC, &cmd);
	if (r == 0)
		*out_hwpt_id = cmd.out_hwpt_id;
	return r;
}

int iommufd_get_hw_info(int iommufd, uint32_t dev_id, uint32_t in_type, void *data,
			uint32_t data_cap, struct iommufd_hw_info *out)
{
	struct kabi_iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.flags = in_type ? KABI_IOMMU_HW_INFO_FLAG_INPUT_TYPE : 0,
		.dev_id = dev_id,
		.data_len = data_cap,
		.data_uptr = (uintptr_t)data,
		.data_type = in_type,
	};
	int r;

	if (!out || (data_cap && !data))
		return -EINVAL;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_GET_HW_INFO, &cmd);
	if (r)
		return r;
	out->type = cmd.data_type;
	out->data_len = cmd.data_len;
	out->max_pasid_log2 = cmd.out_max_pasid_log2;
	out->capabilities = cmd.out_capabilities;
	return 0;
}

int iommufd_hwpt_set_dirty_tracking(int iommufd, uint32_t hwpt_id, bool enable)
{
	struct kabi_iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = enable ? KABI_IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt_id,
	};

	return iommufd_ioctl(iommufd, KABI_IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd);
}

int iommufd_hwpt_get_dirty_bitmap(int iommufd, uint32_t hwpt_id, uint32_t flags,
				  uint64_t iova, uint64_t length, uint64_t page_size,
				  uint64_t *bitmap)
{
	struct kabi_iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_id,
		.flags = flags,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.data = (uintptr_t)bitmap,
	};

	if (!bitmap)
		return -EINVAL;
	return iommufd_ioctl(iommufd, KABI_IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd);
}

int iommufd_hwpt_invalidate(int iommufd, uint32_t hwpt_or_viommu_id, uint32_t data_type,
			    const void *entries, uint32_t entry_len, uint32_t *inout_count)
{
	struct kabi_iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_or_viommu_id,
		.data_uptr = (uintptr_t)entries,
		.data_type = data_type,
		.entry_len = entry_len,
	};
	int r;

	if (!inout_count || (*inout_count && !entries))
		return -EINVAL;
	cmd.entry_num = *inout_count;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_HWPT_INVALIDATE, &cmd);
	/*
	 * The handler reports how many entries it handled, on failure too; an
	 * fd that is no iommufd never reaches it, so nothing was handled.
	 */
	*inout_count = (r == -EBADF || r == -ENOTTY) ? 0 : cmd.entry_num;
	return r;
}

int iommufd_fault_queue_alloc(int iommufd, uint32_t *out_fault_id, int *out_fault_fd)
{
	struct kabi_iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	int r;

	if (!out_fault_id || !out_fault_fd)
		return -EINVAL;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_FAULT_QUEUE_ALLOC, &cmd);
	if (r)
		return r;
	*out_fault_id = cmd.out_fault_id;
	*out_fault_fd = (int)cmd.out_fault_fd;
	return 0;
}

int iommufd_viommu_alloc(int iommufd, const struct iommufd_viommu_alloc_args *args,
			 uint32_t *out_viommu_id)
{
	struct kabi_iommu_viommu_alloc cmd = { .size = sizeof(cmd) };
	int r;

	if (!args || !out_viommu_id || (args->data_len && !args->data))
		return -EINVAL;
	cmd.type = args->type;
	cmd.dev_id = args->dev_id;
	cmd.hwpt_id = args->hwpt_id;
	cmd.data_len = args->data_len;
	cmd.data_uptr = (uintptr_t)args->data;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_VIOMMU_ALLOC, &cmd);
	if (r == 0)
		*out_viommu_id = cmd.out_viommu_id;
	return r;
}

int iommufd_vdevice_alloc(int iommufd, uint32_t viommu_id, uint32_t dev_id, uint64_t virt_id,
			  uint32_t *out_vdevice_id)
{
	struct kabi_iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int r;

	if (!out_vdevice_id)
		return -EINVAL;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_VDEVICE_ALLOC, &cmd);
	if (r == 0)
		*out_vdevice_id = cmd.out_vdevice_id;
	return r;
}

int iommufd_veventq_alloc(int iommufd, uint32_t viommu_id, uint32_t type, uint32_t depth,
			  uint32_t *out_veventq_id, int *out_veventq_fd)
{
	struct kabi_iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.veventq_depth = depth,
	};
	int r;

	if (!out_veventq_id || !out_veventq_fd)
		return -EINVAL;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_VEVENTQ_ALLOC, &cmd);
	if (r)
		return r;
	*out_veventq_id = cmd.out_veventq_id;
	*out_veventq_fd = (int)cmd.out_veventq_fd;
	return 0;
}

int iommufd_hw_queue_alloc(int iommufd, uint32_t viommu_id, uint32_t type, uint32_t index,
			   uint64_t nesting_parent_iova, uint64_t length,
			   uint32_t *out_hw_queue_id)
{
	struct kabi_iommu_hw_queue_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.index = index,
		.nesting_parent_iova = nesting_parent_iova,
		.length = length,
	};
	int r;

	if (!out_hw_queue_id)
		return -EINVAL;
	r = iommufd_ioctl(iommufd, KABI_IOMMU_HW_QUEUE_ALLOC, &cmd);
	if (r == 0)
		*out_hw_queue_id = cmd.out_hw_queue_id;
	return r;
}
