/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* viommuctl status: the daemon at a glance. */
#include <stdlib.h>

#include "bus.h"
#include "viommuctl.h"

int cmd_status(struct ctl *c, int argc, char **argv)
{
	struct json_object *manager = NULL;
	char **devices = NULL, **vms = NULL, **features = NULL;
	size_t assignable = 0;
	int r = bus_get_all(c, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, &manager);

	if (r >= 0)
		r = bus_list(c, "ListDevices", &devices);
	if (r >= 0)
		r = bus_list(c, "ListVms", &vms);
	for (size_t i = 0; r >= 0 && devices[i]; i++) {
		struct json_object *dev = NULL;

		/* A device may leave between the list and the read: skip it. */
		if (bus_get_all(c, devices[i], VIOMMU_IFACE_DEVICE, &dev) < 0)
			continue;
		assignable += prop_bool(dev, "Assignable");
		json_object_put(dev);
	}
	if (r >= 0) {
		features = prop_strv(manager, "KernelFeatures");
		out_object_begin(c->out, NULL, "");
		out_field(c->out, "version", "Version", OV_STR(prop_str(manager, "Version")));
		out_field(c->out, "bus", "Bus", OV_STR(c->socket ? "private socket" : "system bus"));
		out_field(c->out, "socket", "Socket", c->socket ? OV_STR(c->socket) : OV_NONE());
		out_field(c->out, "kernel_features", "Kernel features", OV_STRV(features));
		out_field(c->out, "devices", "Devices", OV_U64(strv_length(devices)));
		out_field(c->out, "assignable_devices", "Assignable", OV_U64(assignable));
		out_field(c->out, "vms", "VMs", OV_U64(strv_length(vms)));
		out_object_end(c->out);
	}
	if (r >= 0)
		sd_bus_error_free(&c->error); /* of a device that left */
	strv_free(features);
	strv_free(devices);
	strv_free(vms);
	json_object_put(manager);
	return r;
}
