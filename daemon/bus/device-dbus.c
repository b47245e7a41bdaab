/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.viommu1.Device: a device of the inventory on the bus. */
#include "daemon.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "errors.h"
#include "properties.h"


static int prop_driver(sd_bus *bus, const char *path, const char *iface, const char *property,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct device *dev = userdata;

	device_refresh(dev->daemon, dev); /* a give-back may have finished since */
	return sd_bus_message_append(reply, "s", dev->mock ? "" : dev->pci.driver);
}

static int prop_group(sd_bus *bus, const char *path, const char *iface, const char *property,
		      sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct device *dev = userdata;

	return sd_bus_message_append(reply, "i", dev->mock ? -1 : dev->pci.iommu_group);
}

static int prop_cdev(sd_bus *bus, const char *path, const char *iface, const char *property,
		     sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct device *dev = userdata;

	device_refresh(dev->daemon, dev);
	return sd_bus_message_append(reply, "s", dev->mock ? "" : dev->pci.vfio_cdev);
}

static int prop_vendor(sd_bus *bus, const char *path, const char *iface, const char *property,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct device *dev = userdata;

	return sd_bus_message_append(reply, "s", dev->vendor ? dev->vendor->name : "");
}

/* The names of the capabilities the device's IOMMU has (non-zero ones). */
static int prop_capabilities(sd_bus *bus, const char *path, const char *iface,
			     const char *property, sd_bus_message *reply, void *userdata,
			     sd_bus_error *error)
{
	struct device *dev = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "s");

	for (unsigned int i = 0; r >= 0 && i < dev->caps.count; i++)
		if (dev->caps.cap[i].value)
			r = sd_bus_message_append(reply, "s", dev->caps.cap[i].name);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int prop_hw_info(sd_bus *bus, const char *path, const char *iface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct device *dev = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "{sv}");

	for (unsigned int i = 0; r >= 0 && i < dev->caps.count; i++)
		r = sd_bus_message_append(reply, "{sv}", dev->caps.cap[i].name, "t",
					  dev->caps.cap[i].value);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* Whether the caller of the current message may see the device's VM. */
static bool device_vm_visible(sd_bus *bus, const struct device *dev)
{
	/* No caller (a signal): the VM is not named. */
	return dev->vm && sd_bus_get_current_message(bus) && vm_visible_now(bus, dev->vm);
}

static int prop_vm(sd_bus *bus, const char *path, const char *iface, const char *property,
		   sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct device *dev = userdata;

	/* Another user's VM is not named, only that the device is taken. */
	if (dev->vm && !device_vm_visible(bus, dev))
		return sd_bus_message_append(reply, "o", "/");
	return sd_bus_message_append(reply, "o", dev->vm ? dev->vm->path : "/");
}

static int prop_assignable(sd_bus *bus, const char *path, const char *iface,
			   const char *property, sd_bus_message *reply, void *userdata,
			   sd_bus_error *error)
{
	struct device *dev = userdata;
	struct daemon *d = dev->daemon;
	char reason[512];
	bool ok = device_assignable(d, dev, reason, sizeof(reason));

	if (dev->vm && !device_vm_visible(bus, dev))
		snprintf(reason, sizeof(reason), "attached to another user's VM");
	if (strcmp(property, "Assignable") == 0)
		return sd_bus_message_append(reply, "b", ok);
	return sd_bus_message_append(reply, "s", reason);
}

/* Driver changes are root's (viommud.conf(5) SECURITY). */
static int device_method_rebind(sd_bus_message *m, struct device *dev, bool bind,
				sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	struct server_peer peer;
	int r = daemon_authorize(dev->daemon, m, AUTH_BIND_DEVICES,
				 bind ? "bind devices to vfio-pci" : "unbind devices from vfio-pci",
				 &peer, error);

	if (r < 0)
		return r;
	r = bind ? device_bind_vfio(dev->daemon, dev, &peer, &e)
		 : device_unbind_vfio(dev->daemon, dev, &peer, &e);
	return bus_reply_empty(m, error, &e, r);
}

static int method_bind_vfio(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return device_method_rebind(m, userdata, true, error);
}

static int method_unbind_vfio(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return device_method_rebind(m, userdata, false, error);
}

const sd_bus_vtable device_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Name", "s", bus_property_get_string, offsetof(struct device, name),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Driver", "s", prop_driver, 0, 0),
	SD_BUS_PROPERTY("IommuGroup", "i", prop_group, 0, 0),
	SD_BUS_PROPERTY("Cdev", "s", prop_cdev, 0, 0),
	SD_BUS_PROPERTY("Vendor", "s", prop_vendor, 0, 0),
	SD_BUS_PROPERTY("Capabilities", "as", prop_capabilities, 0, 0),
	SD_BUS_PROPERTY("HwInfo", "a{sv}", prop_hw_info, 0, 0),
	SD_BUS_PROPERTY("Vm", "o", prop_vm, 0, 0),
	SD_BUS_PROPERTY("Assignable", "b", prop_assignable, 0, 0),
	SD_BUS_PROPERTY("Reason", "s", prop_assignable, 0, 0),
	SD_BUS_METHOD("BindVfio", "", "", method_bind_vfio, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("UnbindVfio", "", "", method_unbind_vfio, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int device_find(sd_bus *bus, const char *path, const char *iface, void *ud, void **found,
		sd_bus_error *error)
{
	struct device *dev = device_by_path(ud, path);

	if (!dev)
		return 0;
	*found = dev;
	return 1;
}

int device_enumerate(sd_bus *bus, const char *prefix, void *ud, char ***nodes,
		     sd_bus_error *error)
{
	struct daemon *d = ud;
	size_t n = 0, i = 0;
	char **list;

	for (struct device *dev = d->devices; dev; dev = dev->next)
		n += dev->present;
	list = calloc(n + 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (struct device *dev = d->devices; dev; dev = dev->next) {
		if (!dev->present)
			continue;
		list[i] = strdup(dev->path);
		if (!list[i++]) {
			strv_free(list);
			return -ENOMEM;
		}
	}
	*nodes = list;
	return 0;
}
