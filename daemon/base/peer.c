/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "peer.h"

#include "log.h"

bool peer_is_root(const struct server_peer *peer)
{
	return peer->uid == 0;
}

void audit_peer(const struct server_peer *peer, const char *action, const char *vm,
		const char *device)
{
	log_notice("AUDIT %s uid=%d pid=%d peer=%s vm=%s device=%s", action,
		   peer ? (int)peer->uid : -1, peer ? (int)peer->pid : 0,
		   peer && peer->id[0] ? peer->id : "-", vm ? vm : "-", device ? device : "-");
}
