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

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <fcntl.h>
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
	struct daemon *daemon;
	struct pci_driver_binding saved;
	int done_fd; /* -1: ran on the loop itself */
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
	if (gb->done_fd >= 0 && write(gb->done_fd, "", 1) < 0)
		log_debug("%s: cannot report the give-back: %s", gb->saved.bdf, strerror(errno));
	free(gb);
	return NULL;
}

/* A give-back thread finished: the devices it may have been are refreshed. */
static void on_give_back_done(evutil_socket_t fd, short events, void *arg)
{
	struct daemon *d = arg;
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
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

void device_give_back_fini(struct daemon *d)
{
	if (d->giveback_event)
		event_free(d->giveback_event);
	d->giveback_event = NULL;
	for (int i = 0; i < 2; i++)
		if (d->giveback_pipe[i] >= 0)
			close(d->giveback_pipe[i]);
}

/* Whether another process still has the device's VFIO cdev open. */
static bool vfio_cdev_open_elsewhere(const char *cdev)
{
	char want[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	struct dirent *proc_de, *fd_de;
	pid_t self = getpid();
	bool found = false;
	DIR *proc, *fds;

	snprintf(want, sizeof(want), "/dev/vfio/devices/%s", cdev);
	proc = opendir("/proc");
	if (!proc)
		return true; /* cannot tell: assume the worst, do not block */
	while (!found && (proc_de = readdir(proc))) {
		if (proc_de->d_name[0] < '0' || proc_de->d_name[0] > '9' ||
		    atoi(proc_de->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", proc_de->d_name);
		fds = opendir(path);
		/* Cannot look (no ptrace access): assume it holds it, never block. */
		if (!fds) {
			found = errno == EACCES || errno == EPERM;
			continue;
		}
		while (!found && (fd_de = readdir(fds))) {
			ssize_t n;

			if (fd_de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", proc_de->d_name,
				 fd_de->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			found = strcmp(target, want) == 0;
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
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
	gb->done_fd = -1;
	if (!fd_handed_out || !vfio_cdev_open_elsewhere(dev->pci.vfio_cdev)) {
		/* No fd of the device is open any more: this is quick. */
		give_back_thread(gb);
		device_refresh(d, dev);
		return;
	}
	/* A VMM may still hold the device: wait for it on a thread of its own. */
	gb->done_fd = d->giveback_pipe[1];
	dev->giving_back = true;
	log_info("%s: giving it back to %s once the VMM closes its copy of the device fd",
		 dev->name, dev->saved.driver[0] ? dev->saved.driver : "no driver");
	r = pthread_create(&thread, NULL, give_back_thread, gb);
	if (r != 0) {
		log_warning("%s: cannot start a thread to give it back: %s", dev->name, strerror(r));
		dev->giving_back = false;
		free(gb);
		return;
	}
	pthread_detach(thread);
}
