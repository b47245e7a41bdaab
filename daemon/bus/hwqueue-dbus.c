/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.viommu1.HwQueue, and Viommu.AllocHwQueue. */
#include "daemon.h"

#include <string.h>

#include "errors.h"

static int prop_hw_queue(sd_bus *bus, const char *path, const char *iface, const char *property,
			 sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct hw_queue *q = userdata;

	if (strcmp(property, "Viommu") == 0)
		return sd_bus_message_append(reply, "o", q->viommu->path);
	if (strcmp(property, "Index") == 0)
		return sd_bus_message_append(reply, "u", q->index);
	if (strcmp(property, "Type") == 0)
		return sd_bus_message_append(reply, "u", q->type);
	if (strcmp(property, "KernelId") == 0)
		return sd_bus_message_append(reply, "u", q->kernel_id);
	if (strcmp(property, "BaseIova") == 0)
		return sd_bus_message_append(reply, "t", q->base_iova);
	return sd_bus_message_append(reply, "t", q->length);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	int r = hw_queue_destroy_checked(userdata, &e);

	if (r < 0)
		return bus_error(error, &e, r);
	return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable hw_queue_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Viommu", "o", prop_hw_queue, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Index", "u", prop_hw_queue, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Type", "u", prop_hw_queue, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("KernelId", "u", prop_hw_queue, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("BaseIova", "t", prop_hw_queue, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Length", "t", prop_hw_queue, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int viommu_method_alloc_hw_queue(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	uint64_t base, length;
	uint32_t type, index;
	struct hw_queue *q;
	int r;

	r = sd_bus_message_read(m, "uutt", &type, &index, &base, &length);
	if (r < 0)
		return r;
	r = hw_queue_alloc(userdata, type, index, base, length, &q, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	return sd_bus_reply_method_return(m, "o", q->path);
}
