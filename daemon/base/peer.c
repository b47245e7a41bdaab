/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "peer.h"

#include <string.h>

#include "log-event.h"
#include "log.h"

bool peer_is_root(const struct server_peer *peer)
{
	return peer->uid == 0;
}

/* The journal's event for each audited action. */
static enum log_event audit_event(const char *action)
{
	static const struct {
		const char *action;
		enum log_event event;
	} events[] = {
		{ "assign", LOG_EVENT_DEVICE_ASSIGNED }, { "bind", LOG_EVENT_DEVICE_BOUND },
		{ "unbind", LOG_EVENT_DEVICE_UNBOUND },	 { "claim", LOG_EVENT_VM_CLAIMED },
		{ "fast-path", LOG_EVENT_FAST_PATH },	 { "device-fd", LOG_EVENT_FAST_PATH },
	};

	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (strcmp(events[i].action, action) == 0)
			return events[i].event;
	return LOG_EVENT_FAST_PATH; /* not reached: every caller's action is above */
}

void audit_peer(const struct server_peer *peer, const char *action, const char *vm,
		const char *device)
{
	struct log_fields f = { .vm = vm, .device = device };

	if (peer && peer->uid != (uid_t)-1) {
		f.uid = peer->uid;
		f.has_uid = true;
	}
	log_event(audit_event(action), LOG_NOTICE, &f, "AUDIT %s uid=%d pid=%d peer=%s vm=%s device=%s",
		  action, peer ? (int)peer->uid : -1, peer ? (int)peer->pid : 0,
		  peer && peer->id[0] ? peer->id : "-", vm ? vm : "-", device ? device : "-");
}
