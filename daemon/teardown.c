/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tearing a VM down in the order the kernel needs: HW queues, event queues,
 * devices off nested domains, nested domains, fault queues, vDEVICEs (before
 * their device fd closes), vIOMMUs, devices detached and closed, the parent,
 * the mappings, the IOAS, the iommufd; then devices back to their drivers.
 * Objects a VMM still holds through an fd it was handed stay alive in the
 * kernel until it closes them: closing our copies is all that is ours to do.
 */
#include "daemon.h"

#include <errno.h>
#include <pthread.h>
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

struct give_back {
	struct daemon *daemon;
	struct pci_driver_binding saved;
};

/* Unbinding from vfio-pci blocks until every fd of the device is closed. */
static void *give_back_thread(void *arg)
{
	struct give_back *gb = arg;
	int r = pci_sysfs_restore_driver(gb->daemon->sysfs_root, &gb->saved);

	if (r < 0)
		log_warning("%s: cannot give it back to %s: %s", gb->saved.bdf,
			    gb->saved.driver[0] ? gb->saved.driver : "no driver", strerror(-r));
	else
		log_info("%s given back to %s", gb->saved.bdf,
			 gb->saved.driver[0] ? gb->saved.driver : "no driver");
	free(gb);
	return NULL;
}

void device_give_back(struct daemon *d, struct device *dev, bool fd_handed_out)
{
	struct give_back *gb;
	pthread_t thread;
	int r;

	if (dev->mock || !dev->daemon_bound || !d->config->restore_driver)
		return;
	dev->daemon_bound = false;
	gb = calloc(1, sizeof(*gb));
	if (!gb)
		return;
	gb->daemon = d;
	gb->saved = dev->saved;
	if (!fd_handed_out) {
		/* Every fd of the device was ours and is closed: this is quick. */
		give_back_thread(gb);
		device_refresh(d, dev);
		return;
	}
	/* A VMM may still hold the device: wait for it on a thread of its own. */
	r = pthread_create(&thread, NULL, give_back_thread, gb);
	if (r != 0) {
		log_warning("%s: cannot start a thread to give it back: %s", dev->name, strerror(r));
		free(gb);
		return;
	}
	pthread_detach(thread);
}
