/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.viommu1.Viommu: its properties, methods and signals. */
#include "daemon.h"

#include <stddef.h>
#include <string.h>

#include "errors.h"

static int prop_type(sd_bus *bus, const char *path, const char *iface, const char *property,
		     sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;

	return sd_bus_message_append(reply, "s", v->vendor->name);
}

static int prop_parent_id(sd_bus *bus, const char *path, const char *iface, const char *property,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;

	return sd_bus_message_append(reply, "u", v->vm->parent_id);
}

static int prop_hw_queues(sd_bus *bus, const char *path, const char *iface, const char *property,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "o");

	for (struct hw_queue *q = v->hw_queues; r >= 0 && q; q = q->next)
		r = sd_bus_message_append(reply, "o", q->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int prop_vdevices(sd_bus *bus, const char *path, const char *iface, const char *property,
			 sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "o");

	for (struct vdevice *vdev = v->vm->vdevices; r >= 0 && vdev; vdev = vdev->next)
		if (vdev->viommu == v)
			r = sd_bus_message_append(reply, "o", vdev->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int prop_domains(sd_bus *bus, const char *path, const char *iface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "o");

	for (struct domain *dom = v->vm->domains; r >= 0 && dom; dom = dom->next)
		if (dom->viommu == v)
			r = sd_bus_message_append(reply, "o", dom->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int method_add_device(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;
	struct verror e = VERROR_INIT;
	struct vdevice *vdev = NULL;
	struct device *dev;
	const char *path;
	uint64_t virt_id;
	int r;

	r = sd_bus_message_read(m, "ot", &path, &virt_id);
	if (r < 0)
		return r;
	dev = device_by_path(v->vm->daemon, path);
	if (!dev)
		return bus_error_set(error, VIOMMU_ERROR_NOT_FOUND, "no device %s", path);
	r = vdevice_create(v, dev, virt_id, &vdev, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	return sd_bus_reply_method_return(m, "o", vdev->path);
}

static int method_alloc_domain(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;

	return domain_method_alloc(m, v->vm, v, error);
}

static int method_invalidate(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;

	return invalidate_reply(m, v->vm, v->kernel_id, &v->vendor->invalidate, &v->invalidations,
				error);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	int r = viommu_destroy_checked(userdata, &e);

	return bus_reply_empty(m, error, &e, r);
}

const sd_bus_vtable viommu_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Type", "s", prop_type, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("KernelId", "u", NULL, offsetof(struct viommu, kernel_id),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ParentId", "u", prop_parent_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("VDevices", "ao", prop_vdevices, 0, 0),
	SD_BUS_PROPERTY("Domains", "ao", prop_domains, 0, 0),
	SD_BUS_PROPERTY("Invalidations", "t", NULL, offsetof(struct viommu, invalidations), 0),
	SD_BUS_PROPERTY("MmapOffset", "t", NULL, offsetof(struct viommu, mmap_offset),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("MmapLength", "t", NULL, offsetof(struct viommu, mmap_length),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("EventsRelayed", "t", NULL, offsetof(struct viommu, events_relayed), 0),
	SD_BUS_PROPERTY("EventsLost", "t", NULL, offsetof(struct viommu, events_lost), 0),
	SD_BUS_PROPERTY("HwQueues", "ao", prop_hw_queues, 0, 0),
	SD_BUS_METHOD_WITH_NAMES("AddDevice", "ot", SD_BUS_PARAM(device) SD_BUS_PARAM(virt_id),
				 "o", SD_BUS_PARAM(vdevice), method_add_device,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("NestDevices", "a(ot)uay",
				 SD_BUS_PARAM(devices) SD_BUS_PARAM(data_type) SD_BUS_PARAM(data),
				 "a(oo)", SD_BUS_PARAM(nested), viommu_method_nest_devices,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("AllocDomain", "uaya{sv}",
				 SD_BUS_PARAM(data_type) SD_BUS_PARAM(data) SD_BUS_PARAM(options),
				 "o", SD_BUS_PARAM(domain), method_alloc_domain,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Invalidate", "uuay",
				 SD_BUS_PARAM(data_type) SD_BUS_PARAM(entry_len) SD_BUS_PARAM(entries),
				 "ui", SD_BUS_PARAM(handled) SD_BUS_PARAM(error), method_invalidate,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("OpenEventQueue", "uua{sv}",
				 SD_BUS_PARAM(type) SD_BUS_PARAM(depth) SD_BUS_PARAM(options), "h",
				 SD_BUS_PARAM(fd), viommu_method_open_event_queue,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("AllocHwQueue", "uutt",
				 SD_BUS_PARAM(type) SD_BUS_PARAM(index) SD_BUS_PARAM(base_iova)
					 SD_BUS_PARAM(length),
				 "o", SD_BUS_PARAM(hw_queue), viommu_method_alloc_hw_queue,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("Event", "tuayu",
				 SD_BUS_PARAM(virt_id) SD_BUS_PARAM(type) SD_BUS_PARAM(data)
					 SD_BUS_PARAM(seq),
				 0),
	SD_BUS_SIGNAL_WITH_NAMES("EventsLost", "uuu",
				 SD_BUS_PARAM(type) SD_BUS_PARAM(count) SD_BUS_PARAM(seq), 0),
	SD_BUS_VTABLE_END,
};
