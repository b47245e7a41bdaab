/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.viommu1.FaultQueue, Vm.OpenFaultQueue and the relay's Fault signal. */
#include "daemon.h"

#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "options.h"
#include "properties.h"

static int prop_pending(sd_bus *bus, const char *path, const char *iface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct fault_queue *q = userdata;

	return sd_bus_message_append(reply, "u", (uint32_t)q->npending);
}


void fault_queue_signal_fault(struct fault_queue *q, const struct kabi_iommu_hwpt_pgfault *f,
			      const char *device_path)
{
	sd_bus_message *m = NULL;

	if (vm_owner_signal_new(q->vm, q->path, VIOMMU_IFACE_FAULT_QUEUE, "Fault", NULL, &m) >= 0 &&
	    sd_bus_message_append(m, "ouuutuu", device_path, f->pasid, f->grpid, f->perm,
				  f->addr, f->cookie, f->flags) >= 0)
		sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
}

int vm_method_open_fault_queue(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	bool relay = false;
	const struct option_spec specs[] = { { "relay", OPTION_BOOL, &relay } };
	struct fault_queue *q;
	int fd, r;

	r = options_read(m, specs, 1, error);
	if (r < 0)
		return r;
	r = fault_queue_open(userdata, relay, &q, &fd, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	r = sd_bus_reply_method_return(m, "oh", q->path, fd);
	close(fd); /* sd-bus sent its own dup */
	return r;
}

static int method_respond_fault(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	uint32_t cookie, code;
	int r;

	r = sd_bus_message_read(m, "uu", &cookie, &code);
	if (r < 0)
		return r;
	r = fault_queue_respond(userdata, cookie, code, &e);
	return bus_reply_empty(m, error, &e, r);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	int r = fault_queue_destroy_checked(userdata, &e);

	return bus_reply_empty(m, error, &e, r);
}

const sd_bus_vtable fault_queue_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("KernelId", "u", NULL, offsetof(struct fault_queue, kernel_id),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Relay", "b", bus_property_get_bool, offsetof(struct fault_queue, relay),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Faults", "t", NULL, offsetof(struct fault_queue, faults), 0),
	SD_BUS_PROPERTY("Responses", "t", NULL, offsetof(struct fault_queue, responses), 0),
	SD_BUS_PROPERTY("Pending", "u", prop_pending, 0, 0),
	SD_BUS_METHOD_WITH_NAMES("RespondFault", "uu", SD_BUS_PARAM(cookie) SD_BUS_PARAM(code),
				 "", , method_respond_fault, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("Fault", "ouuutuu",
				 SD_BUS_PARAM(device) SD_BUS_PARAM(pasid) SD_BUS_PARAM(grpid)
					 SD_BUS_PARAM(perm) SD_BUS_PARAM(addr) SD_BUS_PARAM(cookie)
						 SD_BUS_PARAM(flags),
				 0),
	SD_BUS_VTABLE_END,
};
