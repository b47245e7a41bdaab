/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The model's life: what the kernel offers, the inventory, and the end. */
#include "model.h"

#include <string.h>
#include <unistd.h>

#include "log.h"
#include "selftest.h"
#include "uevent.h"

static void model_probe_kernel(struct daemon *d)
{
	int fd = iommufd_open();

	d->has_iommufd = fd >= 0;
	d->has_selftest = fd >= 0 && mock_available(fd);
	if (fd >= 0)
		close(fd);
	d->has_vfio_cdev = access("/sys/class/vfio-dev", F_OK) == 0 ||
			   access("/dev/vfio/devices", F_OK) == 0;
	log_info("kernel: iommufd %s, selftest mock %s, VFIO cdev %s",
		 d->has_iommufd ? "yes" : "no", d->has_selftest ? "yes" : "no",
		 d->has_vfio_cdev ? "yes" : "no");
}

static void model_on_uevent(const struct uevent *ev, void *userdata)
{
	device_uevent(userdata, ev);
}

int model_init(struct daemon *d, struct event_base *base, struct config *config,
	       const struct model_hooks *hooks)
{
	int r;

	d->base = base;
	d->hooks = hooks;
	d->config = config;
	d->next_vm_id = 1;
	d->release_pipe[0] = d->release_pipe[1] = -1;
	counters_watch(d);
	r = device_release_init(d);
	if (r < 0)
		return r;
	model_probe_kernel(d);
	/* Listen before the first scan, so nothing falls in between. */
	r = uevent_monitor_new(base, model_on_uevent, d, &d->uevents);
	if (r < 0)
		log_warning("no hot-plug: cannot watch kernel uevents (%s); SIGHUP rescans",
			    strerror(-r));
	return device_inventory_scan(d);
}

void model_stop(struct daemon *d)
{
	while (d->vms) {
		struct vm *vm = d->vms;

		vm_teardown(vm);
		vm_free(vm);
	}
	uevent_monitor_free(d->uevents);
	d->uevents = NULL;
}

void model_fini(struct daemon *d)
{
	model_stop(d);
	counters_watch(NULL);
	device_inventory_free(d);
	device_release_fini(d);
	vm_index_free(d);
	config_free(d->config);
	d->config = NULL;
}
