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
	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if (pidfd < 0)
		return -EINVAL;
	return client_call_u64(vm->client, vm->path, VIOMMU_IFACE_VM, "BindVmm", out_memlock_limit,
			       "ht", pidfd, guest_bytes);
}
