/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "peer.h"

#include "log-event.h"
#include "log.h"

bool peer_is_root(const struct server_peer *peer)
{
	return peer->uid == 0;
}

void audit_peer(const struct server_peer *peer, enum log_event event, const char *action,
		const char *vm, const char *device)
{
	struct log_fields f = { .vm = vm, .device = device };

	if (peer && peer->uid != (uid_t)-1) {
		f.uid = peer->uid;
		f.has_uid = true;
	}
	log_event(event, LOG_NOTICE, &f, "AUDIT %s uid=%d pid=%d peer=%s vm=%s device=%s",
		  action, peer ? (int)peer->uid : -1, peer ? (int)peer->pid : 0,
		  peer && peer->id[0] ? peer->id : "-", vm ? vm : "-", device ? device : "-");
}
