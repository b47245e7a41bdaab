/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Viommu.OpenEventQueue, and the relay's Event and EventsLost signals. */
#include "daemon.h"

#include <errno.h>
#include <unistd.h>

#include "errors.h"
#include "options.h"

/* Sends a signal of the vIOMMU to the VM's owner only (sd-bus 252 has no
 * sd_bus_emit_signal_to: build it and name the destination). */
static int viommu_unicast(struct viommu *v, const char *member, sd_bus_message **out)
{
	struct vm *vm = v->vm;
	sd_bus *bus = server_peer_bus(vm->daemon->server, vm->peer_id);
	int r;

	if (!bus)
		return -ENOTCONN;
	r = sd_bus_message_new_signal(bus, out, v->path, VIOMMU_IFACE_VIOMMU, member);
	if (r >= 0 && vm->peer_id[0] == ':')
		r = sd_bus_message_set_destination(*out, vm->peer_id);
	return r;
}

void viommu_signal_events_lost(struct viommu *v, uint32_t type, uint32_t count, uint32_t seq)
{
	sd_bus_message *m = NULL;

	if (viommu_unicast(v, "EventsLost", &m) >= 0 &&
	    sd_bus_message_append(m, "uuu", type, count, seq) >= 0)
		sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
}

void viommu_signal_event(struct viommu *v, uint64_t virt_id, uint32_t type, const void *data,
			 size_t len, uint32_t seq)
{
	sd_bus_message *m = NULL;

	if (viommu_unicast(v, "Event", &m) >= 0 &&
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
