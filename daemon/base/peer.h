/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A caller as the transport saw it (server.h fills it in): what the model
 * checks ownership, quotas and grants against. Plain data, no D-Bus.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "log-event.h"

#define SERVER_PEER_ID_MAX 64
#define SERVER_PEER_GROUPS_MAX 64
#define SERVER_GID_UNKNOWN ((gid_t)-1)

/* Who sent a message. */
struct server_peer {
	/* Stable while the peer is connected: "p2p:<n>" for a private-socket
	 * connection, the unique name (":1.42") on the system bus. */
	char id[SERVER_PEER_ID_MAX];
	bool p2p;
	uid_t uid; /* the effective uid */
	gid_t gid; /* the effective gid; SERVER_GID_UNKNOWN when unknown (system
		    * bus, see server_peer()) */
	pid_t pid; /* 0 when unknown */
	size_t ngroups;
	gid_t groups[SERVER_PEER_GROUPS_MAX]; /* supplementary groups */
	/* It follows the object manager (it called GetManagedObjects): it is
	 * sent InterfacesAdded and InterfacesRemoved. */
	bool follows_objects;
};

bool peer_is_root(const struct server_peer *peer);
/* An audit record of what peer (NULL: the daemon) did: the journal's event,
 * with the text "AUDIT <action> uid=... vm=... device=...". */
void audit_peer(const struct server_peer *peer, enum log_event event, const char *action,
		const char *vm, const char *device);
