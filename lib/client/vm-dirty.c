/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.viommu1.Vm: dirty tracking for live migration. The bitmap goes into a
 * memfd the caller provides, so no large payload crosses the bus.
 */
#include <errno.h>

#include "client-internal.h"

int viommu_vm_set_dirty_tracking(struct viommu_vm *vm, bool enable)
{
	sd_bus_message *m;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	r = client_new_call(vm->client, vm->path, VIOMMU_IFACE_VM, "SetDirtyTracking", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "b", (int)enable);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	return client_call(vm->client, m, NULL);
}

int viommu_vm_read_dirty_bitmap(struct viommu_vm *vm, uint64_t iova, uint64_t length,
				uint64_t page_size, int bitmap_fd, uint32_t flags,
				uint64_t *out_dirty_pages)
{
	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	/* What the daemon would refuse anyway, without a round trip. */
	if (bitmap_fd < 0 || page_size < 4096 || (page_size & (page_size - 1)) || length == 0 ||
	    iova % page_size || length % page_size || iova + length - 1 < iova)
		return -EINVAL;
	return client_call_u64(vm->client, vm->path, VIOMMU_IFACE_VM, "ReadDirtyBitmap",
			       out_dirty_pages, "ttthu", iova, length, page_size, bitmap_fd, flags);
}
