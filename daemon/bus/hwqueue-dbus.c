/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.viommu1.HwQueue, and Viommu.AllocHwQueue. */
#include "daemon.h"

#include <stddef.h>
#include <string.h>

#include "errors.h"

static int prop_viommu(sd_bus *bus, const char *path, const char *iface, const char *property,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct hw_queue *q = userdata;

	return sd_bus_message_append(reply, "o", q->viommu->path);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	int r = hw_queue_destroy_checked(userdata, &e);

	return bus_reply_empty(m, error, &e, r);
}

const sd_bus_vtable hw_queue_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Viommu", "o", prop_viommu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Index", "u", NULL, offsetof(struct hw_queue, index),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Type", "u", NULL, offsetof(struct hw_queue, type),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("KernelId", "u", NULL, offsetof(struct hw_queue, kernel_id),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("BaseIova", "t", NULL, offsetof(struct hw_queue, base_iova),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Length", "t", NULL, offsetof(struct hw_queue, length),
			SD_BUS_VTABLE_PROPERTY_CONST),
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
