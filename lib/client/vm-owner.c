/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.viommu1.Vm: who holds a VM. Claim takes it over on this connection
 * (after a restart of the daemon), BindVmm ties a broker VM to a process.
 */
#include <errno.h>

#include "client-internal.h"

int viommu_vm_claim(struct viommu_vm *vm)
{
	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	return client_call_simple(vm->client, vm->path, VIOMMU_IFACE_VM, "Claim");
}

int viommu_vm_bind_vmm(struct viommu_vm *vm, int pidfd, uint64_t guest_bytes,
		       uint64_t *out_memlock_limit)
{
	sd_bus_message *m, *reply = NULL;
	uint64_t limit;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if (pidfd < 0)
		return -EINVAL;
	r = client_new_call(vm->client, vm->path, VIOMMU_IFACE_VM, "BindVmm", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "ht", pidfd, guest_bytes);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	r = client_call(vm->client, m, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "t", &limit);
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	if (out_memlock_limit)
		*out_memlock_limit = limit;
	return 0;
}
