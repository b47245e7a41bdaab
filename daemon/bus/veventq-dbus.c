/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Viommu.OpenEventQueue, and the relay's Event and EventsLost signals. */
#include "daemon.h"

#include <errno.h>
#include <unistd.h>

#include "errors.h"
#include "options.h"

void viommu_signal_events_lost(struct viommu *v, uint32_t type, uint32_t count, uint32_t seq)
{
	sd_bus_message *m = NULL;

	if (vm_owner_signal_new(v->vm, v->path, VIOMMU_IFACE_VIOMMU, "EventsLost", NULL, &m) >= 0 &&
	    sd_bus_message_append(m, "uuu", type, count, seq) >= 0)
		sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
}

void viommu_signal_event(struct viommu *v, uint64_t virt_id, uint32_t type, const void *data,
			 size_t len, uint32_t seq)
{
	sd_bus_message *m = NULL;

	if (vm_owner_signal_new(v->vm, v->path, VIOMMU_IFACE_VIOMMU, "Event", NULL, &m) >= 0 &&
	    sd_bus_message_append(m, "tu", virt_id, type) >= 0 &&
	    sd_bus_message_append_array(m, 'y', data, len) >= 0 &&
	    sd_bus_message_append(m, "u", seq) >= 0)
		sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
}

int viommu_method_open_event_queue(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;
	struct verror e = VERROR_INIT;
	bool relay = false;
	const struct option_spec specs[] = { { "relay", OPTION_BOOL, &relay } };
	uint32_t type, depth;
	int fd, r;

	r = sd_bus_message_read(m, "uu", &type, &depth);
	if (r < 0)
		return r;
	r = options_read(m, specs, 1, error);
	if (r < 0)
		return r;
	r = veventq_open(v, type, depth, relay, &fd, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	r = sd_bus_reply_method_return(m, "h", fd);
	close(fd); /* sd-bus sent its own dup */
	return r;
}
