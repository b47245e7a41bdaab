/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tearing a VM down in the order the kernel needs: HW queues, event queues,
 * devices off nested domains, nested domains, fault queues, vDEVICEs (before
 * their device fd closes), vIOMMUs, devices detached and closed, the parent,
 * the mappings, the IOAS, the iommufd; then devices back to their drivers.
 * Objects a VMM still holds through an fd it was handed stay alive in the
 * kernel until it closes them: closing our copies is all that is ours to do.
 */
#include "model.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void vm_teardown(struct vm *vm)
{
	int r;

	if (vm->tearing_down)
		return;
	vm->tearing_down = true;
	/* Out of the fd store first: what it keeps, it keeps alive and pinned. */
	vm_fd_unstore(vm, "iommufd");
	vm_vmm_release(vm);
	/* HW queues, highest index first (index n holds n-1), then event queues. */
	for (struct viommu *v = vm->viommus; v; v = v->next) {
		while (v->hw_queues) {
			struct hw_queue *top = v->hw_queues;

			for (struct hw_queue *q = v->hw_queues; q; q = q->next)
				if (q->index > top->index)
					top = q;
			hw_queue_destroy(top, true);
		}
		while (v->veventqs)
			veventq_destroy(v->veventqs);
	}
	/* Devices off nested domains: a nested HWPT with a device is busy. */
	for (struct vm_device *vd = vm->devices; vd; vd = vd->next) {
		if (!vd->domain)
			continue;
		r = vm_device_replace(vm, vd, vm->parent_id);
		if (r < 0)
			log_warning("VM %s: cannot move %s back to the parent: %s", vm->name,
				    vd->device->name, strerror(-r));
		vd->domain = NULL;
	}
	while (vm->domains)
		domain_destroy(vm->domains, true);
	/* After the domains that use them; pending faults are answered. */
	while (vm->fault_queues)
		fault_queue_destroy(vm->fault_queues, true);
	while (vm->vdevices)
		vdevice_destroy(vm->vdevices, true);
	while (vm->viommus)
		viommu_destroy(vm->viommus, true);
	while (vm->devices)
		vm_device_release(vm, vm->devices);
	if (vm->mode == VM_MODE_MANAGED) {
		if (vm->parent_id) {
			r = iommufd_destroy(vm->iommufd, vm->parent_id);
			if (r < 0 && r != -ENOENT)
				log_warning("VM %s: cannot destroy the parent %u: %s", vm->name,
					    vm->parent_id, strerror(-r));
			vm->parent_id = 0;
		}
		r = vm_unmap_all(vm);
		if (r < 0)
			log_warning("VM %s: cannot unmap its memory: %s", vm->name, strerror(-r));
		r = iommufd_destroy(vm->iommufd, vm->ioas_id);
		if (r < 0 && r != -ENOENT)
			log_warning("VM %s: cannot destroy its IOAS %u: %s", vm->name, vm->ioas_id,
				    strerror(-r));
	}
	if (vm->shared)
		log_info("VM %s: its iommufd was handed out; whatever the VMM still holds is freed "
			 "by the kernel when it closes its copy", vm->name);
	close(vm->iommufd);
	vm->iommufd = -1;
	log_info("VM %s (%s) torn down", vm->name, vm->path);
}
