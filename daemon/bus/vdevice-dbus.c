/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.viommu1.VDevice, and finding the objects of a VM for sd-bus. */
#include "daemon.h"

#include <stddef.h>
#include <string.h>

#include "errors.h"

static int prop_device(sd_bus *bus, const char *path, const char *iface, const char *property,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct vdevice *vdev = userdata;

	return sd_bus_message_append(reply, "o", vdev->device->path);
}

static int prop_viommu(sd_bus *bus, const char *path, const char *iface, const char *property,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct vdevice *vdev = userdata;

	return sd_bus_message_append(reply, "o", vdev->viommu->path);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	int r = vdevice_destroy_checked(userdata, &e);

	return bus_reply_empty(m, error, &e, r);
}

const sd_bus_vtable vdevice_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Device", "o", prop_device, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Viommu", "o", prop_viommu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("VirtId", "t", NULL, offsetof(struct vdevice, virt_id),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("KernelId", "u", NULL, offsetof(struct vdevice, kernel_id),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

/* /org/viommu1/vm/<n>/{viommu,domain,vdevice}/<k>, of a VM the caller may see. */
int object_find(sd_bus *bus, const char *path, const char *iface, void *ud, void **found,
		sd_bus_error *error)
{
	struct vm *vm = vm_of_object_path(ud, path);

	if (!vm || path[strlen(vm->path)] != '/' || !vm_visible_now(bus, vm))
		return 0;
	if (strcmp(iface, VIOMMU_IFACE_VIOMMU) == 0) {
		for (struct viommu *v = vm->viommus; v; v = v->next)
			if (strcmp(v->path, path) == 0)
				return *found = v, 1;
	} else if (strcmp(iface, VIOMMU_IFACE_DOMAIN) == 0) {
		for (struct domain *dom = vm->domains; dom; dom = dom->next)
			if (strcmp(dom->path, path) == 0)
				return *found = dom, 1;
	} else if (strcmp(iface, VIOMMU_IFACE_VDEVICE) == 0) {
		for (struct vdevice *v = vm->vdevices; v; v = v->next)
			if (strcmp(v->path, path) == 0)
				return *found = v, 1;
	} else if (strcmp(iface, VIOMMU_IFACE_FAULT_QUEUE) == 0) {
		struct fault_queue *q = fault_queue_by_path(vm, path);

		if (q)
			return *found = q, 1;
	} else if (strcmp(iface, VIOMMU_IFACE_HW_QUEUE) == 0) {
		for (struct viommu *v = vm->viommus; v; v = v->next)
			for (struct hw_queue *q = v->hw_queues; q; q = q->next)
				if (strcmp(q->path, path) == 0)
					return *found = q, 1;
	}
	return 0;
}
