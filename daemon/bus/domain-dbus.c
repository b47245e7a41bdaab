/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.viommu1.Domain, and AllocDomain and Invalidate of Vm and Viommu. */
#include "daemon.h"

#include <stddef.h>
#include <string.h>

#include "errors.h"

int domain_method_alloc(sd_bus_message *m, struct vm *vm, struct viommu *viommu,
			sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	char fault_queue[VIOMMU_PATH_MAX];
	struct domain *dom;
	const void *data;
	uint32_t data_type;
	size_t len;
	int r;

	r = sd_bus_message_read(m, "u", &data_type);
	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &data, &len);
	if (r < 0)
		return r;
	r = domain_options_read(m, fault_queue, sizeof(fault_queue), error);
	if (r < 0)
		return r;
	r = domain_alloc(vm, viommu, data_type, data, len, fault_queue, &dom, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	return sd_bus_reply_method_return(m, "o", dom->path);
}

int invalidate_reply(sd_bus_message *m, struct vm *vm, uint32_t id,
		     const struct viommu_vendor_feature *feature, uint64_t *counter,
		     sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	uint32_t data_type, entry_len, count;
	const void *entries;
	int kernel_error, r;
	size_t len;

	r = sd_bus_message_read(m, "uu", &data_type, &entry_len);
	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &entries, &len);
	if (r < 0)
		return r;
	r = invalidate_entries(vm, id, feature, data_type, entry_len, entries, len, counter, &count,
			       &kernel_error, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	/* A rejected entry is an answer, not a failure of the call. */
	return sd_bus_reply_method_return(m, "ui", count, kernel_error);
}

static int prop_viommu(sd_bus *bus, const char *path, const char *iface, const char *property,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct domain *dom = userdata;

	return sd_bus_message_append(reply, "o", dom->viommu ? dom->viommu->path : "/");
}

static int prop_devices(sd_bus *bus, const char *path, const char *iface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct domain *dom = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "o");

	for (struct vm_device *vd = dom->vm->devices; r >= 0 && vd; vd = vd->next)
		if (vd->domain == dom)
			r = sd_bus_message_append(reply, "o", vd->device->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int domain_device_arg(struct domain *dom, sd_bus_message *m, struct vm_device **out,
			     sd_bus_error *error)
{
	const char *path;
	struct device *dev;
	int r = sd_bus_message_read(m, "o", &path);

	if (r < 0)
		return r;
	dev = device_by_path(dom->vm->daemon, path);
	if (!dev)
		return bus_error_set(error, VIOMMU_ERROR_NOT_FOUND, "no device %s", path);
	*out = vm_device_of(dom->vm, dev);
	if (!*out)
		return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				     "%s is not attached to VM %s", dev->name, dom->vm->name);
	return 0;
}

static int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	struct vm_device *vd;
	int r = domain_device_arg(userdata, m, &vd, error);

	if (r < 0)
		return r;
	r = domain_attach_device(userdata, vd, &e);
	return bus_reply_empty(m, error, &e, r);
}

static int method_detach(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	struct vm_device *vd;
	int r = domain_device_arg(userdata, m, &vd, error);

	if (r < 0)
		return r;
	r = domain_detach_device(userdata, vd, &e);
	return bus_reply_empty(m, error, &e, r);
}

static int method_invalidate(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct domain *dom = userdata;
	const struct viommu_vendor *vendor = dom->vendor;

	return invalidate_reply(m, dom->vm, dom->kernel_id,
				vendor->nest_anchor == VIOMMU_NEST_ON_PARENT ? &vendor->invalidate
									  : &vendor->hwpt_invalidate,
				&dom->invalidations, error);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	int r = domain_destroy_checked(userdata, &e);

	return bus_reply_empty(m, error, &e, r);
}

const sd_bus_vtable domain_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("KernelId", "u", NULL, offsetof(struct domain, kernel_id),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("DataType", "u", NULL, offsetof(struct domain, data_type),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Viommu", "o", prop_viommu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Devices", "ao", prop_devices, 0, 0),
	SD_BUS_PROPERTY("Invalidations", "t", NULL, offsetof(struct domain, invalidations), 0),
	SD_BUS_METHOD_WITH_NAMES("Attach", "o", SD_BUS_PARAM(device), "", , method_attach,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Detach", "o", SD_BUS_PARAM(device), "", , method_detach,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Invalidate", "uuay",
				 SD_BUS_PARAM(data_type) SD_BUS_PARAM(entry_len) SD_BUS_PARAM(entries),
				 "ui", SD_BUS_PARAM(handled) SD_BUS_PARAM(error), method_invalidate,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};
