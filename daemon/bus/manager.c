/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.viommu1.Manager at /org/viommu1. */
#include "daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "authorize.h"
#include "errors.h"
#include "log.h"

#ifndef VIOMMUD_VERSION
#define VIOMMUD_VERSION "0"
#endif

static int prop_version(sd_bus *bus, const char *path, const char *iface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", VIOMMUD_VERSION);
}

static int prop_kernel_features(sd_bus *bus, const char *path, const char *iface,
				const char *property, sd_bus_message *reply, void *userdata,
				sd_bus_error *error)
{
	struct daemon *d = userdata;
	size_t count = 0;
	const struct viommu_vendor *const *vendors = viommu_vendor_all(&count);
	int r = sd_bus_message_open_container(reply, 'a', "s");

	if (r >= 0 && d->has_iommufd)
		r = sd_bus_message_append(reply, "s", "iommufd");
	if (r >= 0 && d->has_vfio_cdev)
		r = sd_bus_message_append(reply, "s", "vfio-cdev");
	if (r >= 0 && d->has_selftest)
		r = sd_bus_message_append(reply, "s", "selftest");
	/* The vendors of the IOMMUs behind the devices on offer. */
	for (size_t i = 0; r >= 0 && i < count; i++) {
		bool seen = false;

		if (strcmp(vendors[i]->name, "selftest") == 0)
			continue;
		for (struct device *dev = d->devices; dev && !seen; dev = dev->next)
			seen = dev->present && dev->vendor == vendors[i];
		if (seen)
			r = sd_bus_message_append(reply, "s", vendors[i]->name);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(m, &reply);

	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "o");
	for (struct device *dev = d->devices; r >= 0 && dev; dev = dev->next)
		if (dev->present)
			r = sd_bus_message_append(reply, "o", dev->path);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_list_vms(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	sd_bus_message *reply = NULL;
	struct server_peer peer;
	int r = daemon_caller(m, &peer, error);

	if (r < 0)
		return r;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "o");
	for (struct vm *vm = d->vms; r >= 0 && vm; vm = vm->next)
		if (vm_visible_to(vm, &peer))
			r = sd_bus_message_append(reply, "o", vm->path);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_create_vm(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	struct server_peer peer;
	struct verror e = VERROR_INIT;
	struct vm_options options;
	const char *name;
	struct vm *vm;
	int r = daemon_authorize(d, m, AUTH_MANAGE_VMS, "create VMs", &peer, error);

	if (r < 0)
		return r;
	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = vm_options_read(m, &options, error);
	if (r < 0)
		return r;
	/* A broker VM hands out its raw iommufd and cdevs: the same grant. */
	if (options.mode == VM_MODE_BROKER) {
		r = daemon_authorize(d, m, AUTH_FAST_PATH, "create a broker VM", NULL, error);
		if (r < 0)
			return r;
	}
	r = vm_create(d, &peer, name, &options, &vm, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	return sd_bus_reply_method_return(m, "o", vm->path);
}

static int method_describe(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	struct server_peer peer;
	char *json = NULL;
	int r = daemon_caller(m, &peer, error);

	if (r < 0)
		return r;
	r = describe_json(d, &peer, &json);
	if (r < 0)
		return bus_error_errno(error, r, "cannot describe the state");
	r = sd_bus_reply_method_return(m, "s", json);
	free(json);
	return r;
}

const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", prop_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("KernelFeatures", "as", prop_kernel_features, 0, 0),
	SD_BUS_METHOD_WITH_NAMES("ListDevices", "", , "ao", SD_BUS_PARAM(devices),
				 method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ListVms", "", , "ao", SD_BUS_PARAM(vms), method_list_vms,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("CreateVm", "sa{sv}", SD_BUS_PARAM(name) SD_BUS_PARAM(options),
				 "o", SD_BUS_PARAM(vm), method_create_vm,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Describe", "", , "s", SD_BUS_PARAM(json), method_describe,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES(VIOMMU_MANAGER_GET_METRICS, "", , "s", SD_BUS_PARAM(text),
				 manager_method_get_metrics, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ListOrphans", "", , "a(ss)", SD_BUS_PARAM(orphans),
				 manager_method_list_orphans, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ReleaseOrphan", "s", SD_BUS_PARAM(name), "", ,
				 manager_method_release_orphan, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("DeviceAdded", "o", SD_BUS_PARAM(device), 0),
	SD_BUS_SIGNAL_WITH_NAMES("DeviceRemoved", "o", SD_BUS_PARAM(device), 0),
	SD_BUS_VTABLE_END,
};
