/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The installed header compiles on its own, as strict C11 (see meson.build
 * for the flags). Taking each function's address also proves it is exported.
 */
#include <viommu/viommu.h>

/* Any function pointer converts to this one and back, in ISO C. */
typedef void (*any_fn)(void);

static const any_fn exported[] = {
	(any_fn)viommu_client_connect, (any_fn)viommu_client_connect_system,
	(any_fn)viommu_client_free, (any_fn)viommu_client_error_name,
	(any_fn)viommu_client_error_message, (any_fn)viommu_device_path,
	(any_fn)viommu_list_devices, (any_fn)viommu_list_vms, (any_fn)viommu_strv_free,
	(any_fn)viommu_describe, (any_fn)viommu_version, (any_fn)viommu_vm_create,
	(any_fn)viommu_vm_open, (any_fn)viommu_vm_path, (any_fn)viommu_vm_free,
	(any_fn)viommu_vm_destroy, (any_fn)viommu_vm_map, (any_fn)viommu_vm_unmap,
	(any_fn)viommu_vm_iova_ranges, (any_fn)viommu_vm_attach, (any_fn)viommu_vm_detach,
	(any_fn)viommu_vm_get_iommufd, (any_fn)viommu_vm_get_device_fd,
	(any_fn)viommu_vm_kernel_ids, (any_fn)viommu_viommu_create, (any_fn)viommu_viommu_path,
	(any_fn)viommu_viommu_kernel_id, (any_fn)viommu_viommu_mmap_window,
	(any_fn)viommu_viommu_free, (any_fn)viommu_viommu_destroy,
	(any_fn)viommu_viommu_add_device, (any_fn)viommu_viommu_alloc_domain,
	(any_fn)viommu_viommu_invalidate, (any_fn)viommu_vm_alloc_domain,
	(any_fn)viommu_domain_path, (any_fn)viommu_domain_kernel_id, (any_fn)viommu_domain_free,
	(any_fn)viommu_domain_destroy, (any_fn)viommu_domain_attach, (any_fn)viommu_domain_detach,
	(any_fn)viommu_domain_invalidate, (any_fn)viommu_vdevice_path,
	(any_fn)viommu_vdevice_kernel_id, (any_fn)viommu_vdevice_free,
	(any_fn)viommu_vdevice_destroy,
	(any_fn)viommu_list_orphans,
	(any_fn)viommu_orphans_free,
	(any_fn)viommu_release_orphan,
	(any_fn)viommu_device_bind_vfio,
	(any_fn)viommu_device_unbind_vfio,
	(any_fn)viommu_vm_claim,
	(any_fn)viommu_vm_bind_vmm,
	(any_fn)viommu_vm_allow_iovas,
	(any_fn)viommu_vm_attach_devices,
	(any_fn)viommu_vm_set_dirty_tracking,
	(any_fn)viommu_vm_read_dirty_bitmap,
	(any_fn)viommu_viommu_nest_devices,
	(any_fn)viommu_viommu_open_event_queue,
	(any_fn)viommu_viommu_alloc_hw_queue,
	(any_fn)viommu_hw_queue_path,
	(any_fn)viommu_hw_queue_kernel_id,
	(any_fn)viommu_hw_queue_free,
	(any_fn)viommu_hw_queue_destroy,
	(any_fn)viommu_vm_open_fault_queue,
	(any_fn)viommu_fault_queue_path,
	(any_fn)viommu_fault_queue_kernel_id,
	(any_fn)viommu_fault_queue_free,
	(any_fn)viommu_fault_queue_destroy,
	(any_fn)viommu_fault_queue_respond,
};

int main(void)
{
	unsigned int missing = 0;

	for (unsigned int i = 0; i < sizeof(exported) / sizeof(exported[0]); i++)
		missing += !exported[i];
	return missing ? 1 : 0;
}
