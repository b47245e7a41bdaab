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
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
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

struct give_back {
	const char *sysfs_root; /* the options', alive as long as the process */
	struct pci_driver_binding saved;
	int done_fd; /* our own copy of the pipe's write end: the loop learns here */
};

/* Unbinding from vfio-pci blocks until every fd of the device is closed. */
static void *give_back_thread(void *arg)
{
	struct give_back *gb = arg;
	int r = pci_sysfs_restore_driver(gb->sysfs_root, &gb->saved);

	if (r < 0)
		log_warning("%s: cannot give it back to %s: %s", gb->saved.bdf,
			    gb->saved.driver[0] ? gb->saved.driver : "no driver", strerror(-r));
	else
		log_info("%s given back to %s", gb->saved.bdf,
			 gb->saved.driver[0] ? gb->saved.driver : "no driver");
	if (write(gb->done_fd, "", 1) < 0)
		log_debug("%s: cannot report the give-back: %s", gb->saved.bdf, strerror(errno));
	close(gb->done_fd);
	free(gb);
	return NULL;
}

/* A give-back thread finished: the devices it may have been are refreshed. */
static void on_give_back_done(evutil_socket_t fd, short events, void *arg)
{
	struct daemon *d = arg;
	char buf[64];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		d->giveback_pending -= (size_t)n < d->giveback_pending ? (size_t)n : d->giveback_pending;
	for (struct device *dev = d->devices; dev; dev = dev->next) {
		if (!dev->giving_back)
			continue;
		device_refresh(d, dev);
		if (strcmp(dev->pci.driver, "vfio-pci") != 0)
			dev->giving_back = false;
	}
}

int device_give_back_init(struct daemon *d)
{
	if (pipe2(d->giveback_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	d->giveback_event = event_new(d->base, d->giveback_pipe[0], EV_READ | EV_PERSIST,
				      on_give_back_done, d);
	if (!d->giveback_event || event_add(d->giveback_event, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* Bounded: a give-back that a VMM blocks must not keep a stop from ending. */
#define GIVE_BACK_EXIT_WAIT_MS 10000

void device_give_back_fini(struct daemon *d)
{
	struct pollfd pfd = { .fd = d->giveback_pipe[0], .events = POLLIN };
	char buf[64];

	for (int waited = 0; d->giveback_pending && pfd.fd >= 0 && waited < GIVE_BACK_EXIT_WAIT_MS;
	     waited += 100) {
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		while ((n = read(pfd.fd, buf, sizeof(buf))) > 0)
			d->giveback_pending -= (size_t)n < d->giveback_pending ? (size_t)n
										: d->giveback_pending;
	}
	if (d->giveback_pending)
		log_warning("%zu devices are still being given back: a VMM holds them",
			    d->giveback_pending);
	if (d->giveback_event)
		event_free(d->giveback_event);
	d->giveback_event = NULL;
	for (int i = 0; i < 2; i++)
		if (d->giveback_pipe[i] >= 0)
			close(d->giveback_pipe[i]);
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
	gb->sysfs_root = d->sysfs_root;
	gb->saved = dev->saved;
	/*
	 * Always on a thread of its own: unbinding from vfio-pci blocks until every
	 * fd of the device is closed, and a VMM can hold the device in ways no
	 * /proc scan sees (a BAR mapping, an fd in flight, an io_uring fixed file).
	 */
	gb->done_fd = fcntl(d->giveback_pipe[1], F_DUPFD_CLOEXEC, 3);
	if (gb->done_fd < 0) {
		log_warning("%s: cannot give it back: %s", dev->name, strerror(errno));
		free(gb);
		return;
	}
	dev->giving_back = true;
	if (fd_handed_out)
		log_info("%s: giving it back to %s once the VMM closes its copy of the device fd",
			 dev->name, dev->saved.driver[0] ? dev->saved.driver : "no driver");
	r = pthread_create(&thread, NULL, give_back_thread, gb);
	if (r != 0) {
		log_warning("%s: cannot start a thread to give it back: %s", dev->name, strerror(r));
		dev->giving_back = false;
		close(gb->done_fd);
		free(gb);
		return;
	}
	d->giveback_pending++;
	pthread_detach(thread);
}
