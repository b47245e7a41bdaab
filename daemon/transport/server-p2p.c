/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Accepted private-socket connections: the peer's credentials, read once at
 * accept time, and a server-side sd_bus on the socket. */
#include "server-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-id128.h>

#include "bus-loop.h"
#include "log-event.h"
#include "log.h"
#include "socket-guard.h"

/* Bytes of replies the kernel holds for a peer that does not read (it
 * doubles this for its own overhead): a few Describe replies. */
#define CONN_SNDBUF (128 * 1024)

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

static int socket_peer_groups(int fd, struct server_peer *peer)
{
	socklen_t len = sizeof(peer->groups);
	gid_t *all;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer->groups, &len) == 0) {
		peer->ngroups = len / sizeof(gid_t);
		return 0;
	}
	if (errno == ENOPROTOOPT) {
		peer->ngroups = 0;
		return 0;
	}
	if (errno != ERANGE)
		return -errno;
	/* More than we keep: groups only ever grant, so keeping the first
	 * ones can deny, never wrongly allow. len now holds the size needed. */
	all = malloc(len);
	if (!all)
		return -ENOMEM;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, all, &len) < 0) {
		free(all);
		return -errno;
	}
	memcpy(peer->groups, all, sizeof(peer->groups));
	peer->ngroups = SERVER_PEER_GROUPS_MAX;
	free(all);
	log_warning("%s: %zu supplementary groups, only the first %d count", peer->id,
		    (size_t)(len / sizeof(gid_t)), SERVER_PEER_GROUPS_MAX);
	return 0;
}

static int socket_peer_read(int fd, struct server_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	/* The credentials at connect() time, with the effective ids. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (len != sizeof(cred))
		return -EIO;
	peer->p2p = true;
	peer->pid = cred.pid;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	return socket_peer_groups(fd, peer);
}

/* Takes fd. */
int server_conn_new_p2p(struct server *server, int fd)
{
	__attribute__((cleanup(closep))) int owned_fd = fd;
	struct server_conn *conn;
	sd_id128_t id;
	int r;

	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return -ENOMEM;
	conn->server = server;
	conn->fd = -1;
	snprintf(conn->peer.id, sizeof(conn->peer.id), "p2p:%" PRIu64, ++server->next_peer);
	r = socket_peer_read(fd, &conn->peer);
	if (r < 0)
		goto fail;
	/* Before sd-bus reads a byte: nothing of ours is spent on a caller that
	 * may not use the API. */
	if (server->cb.may_connect && !server->cb.may_connect(&conn->peer, server->cb.userdata)) {
		log_event(LOG_EVENT_ACCESS_REFUSED, LOG_NOTICE, LOG_FIELDS(LOG_UID(conn->peer.uid)),
			  "AUDIT refused uid=%u pid=%d what=connect reason=not allowed to use the "
			  "API (vm_users, vm_groups, fast_path_users, fast_path_groups)",
			  (unsigned int)conn->peer.uid, (int)conn->peer.pid);
		free(conn);
		return 0;
	}
	if (server->limits.connections_per_uid) {
		unsigned int same = 0;

		for (struct server_conn *c = server->conns; c; c = c->next)
			same += c->peer.uid == conn->peer.uid;
		if (same >= server->limits.connections_per_uid) {
			log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE,
				  LOG_FIELDS(LOG_UID(conn->peer.uid),
					     .limit = "quota_connections_per_uid"),
				  "AUDIT quota-refused uid=%u pid=%d "
				  "limit=quota_connections_per_uid(%u) what=connect",
				  (unsigned int)conn->peer.uid, (int)conn->peer.pid,
				  server->limits.connections_per_uid);
			free(conn);
			return 0;
		}
	}

	r = sd_bus_new(&conn->bus);
	if (r < 0)
		goto fail;
	/* Watched from the first byte sd-bus reads (socket-guard.c). */
	r = socket_guard_add(fd,
			     &(struct socket_guard_limits){
				     .max_body = server->limits.message_bytes_cap,
				     .max_fds = server->limits.message_fds_cap,
			     },
			     conn->peer.id);
	if (r < 0)
		goto fail;
	r = sd_bus_set_fd(conn->bus, fd, fd);
	if (r < 0) {
		socket_guard_remove(fd);
		goto fail;
	}
	conn->fd = fd;
	owned_fd = -1; /* the bus closes it from here on */
	r = sd_id128_randomize(&id);
	if (r >= 0)
		r = sd_bus_set_server(conn->bus, 1, id);
	if (r >= 0)
		r = sd_bus_set_anonymous(conn->bus, 0);
	if (r >= 0)
		r = sd_bus_negotiate_fds(conn->bus, 1);
	/* No sd_bus_negotiate_creds(): the caller is conn->peer, read once at
	 * accept; per-message credentials (SO_PASSCRED) would cost every call. */
	if (r >= 0)
		r = sd_bus_set_description(conn->bus, conn->peer.id);
	if (r >= 0)
		r = sd_bus_start(conn->bus);
	if (r < 0)
		goto fail;
	/*
	 * sd-bus raises the send buffer to 8 MiB, with SO_SNDBUFFORCE as root:
	 * the kernel would then hold some 20000 unread replies per connection,
	 * charged to us. Back to a small buffer, so that a peer that does not
	 * read fills our write queue, which bus_loop bounds (the peer is not
	 * read from meanwhile, and dropped after connection_stall_seconds).
	 */
	r = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ CONN_SNDBUF }, sizeof(int)) < 0 ? -errno
											     : 0;
	if (r < 0)
		goto fail;
	if (server->cb.attach) {
		r = server->cb.attach(conn->bus, server->cb.userdata);
		if (r < 0)
			goto fail;
	}
	r = bus_loop_new(server->base, conn->bus, server_conn_closed, conn, &conn->loop);
	if (r < 0)
		goto fail;
	bus_loop_set_peer_limits(conn->loop, server->limits.queued_messages,
				 server->limits.stall_seconds);
	bus_loop_set_after_dispatch(conn->loop, server->cb.after_dispatch, server->cb.userdata);

	conn->next = server->conns;
	if (conn->next)
		conn->next->prev = conn;
	server->conns = conn;
	server->nconns++;
	log_debug("%s: connected (pid %d uid %u gid %u)", conn->peer.id, (int)conn->peer.pid,
		  (unsigned int)conn->peer.uid, (unsigned int)conn->peer.gid);
	return 0;

fail:
	log_warning("%s: refusing the connection: %s", conn->peer.id, strerror(-r));
	socket_guard_remove(fd); /* before its number is taken again */
	if (conn->bus)
		sd_bus_close(conn->bus);
	sd_bus_unref(conn->bus);
	free(conn);
	return r;
}
