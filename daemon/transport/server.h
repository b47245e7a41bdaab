/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's transport: a libevent loop driving sd-bus connections, the
 * private socket (peer-to-peer D-Bus, one server-side sd_bus per accepted
 * connection, fd passing on), and the system bus as org.viommu1.
 *
 * The object layer registers its vtables on every connection through
 * attach(), learns who called from server_peer(), and hears of peers that go
 * away through peer_gone(). Functions return 0 or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "peer.h"

struct event_base;
struct server;

enum server_bus_mode {
	SERVER_BUS_AUTO,   /* the system bus if its socket is there */
	SERVER_BUS_SYSTEM, /* the system bus, or fail */
	SERVER_BUS_NONE,   /* the private socket only */
};

struct server_callbacks {
	/* Register the object vtables on a new connection (the system bus, or a
	 * freshly accepted private-socket connection). */
	int (*attach)(sd_bus *bus, void *userdata);
	/* A peer has disconnected (private socket closed, or its unique name
	 * left the system bus): once per peer, after its connection is gone.
	 * On the system bus only for names server_peer() has answered for.
	 * Never from server_free(): a daemon that stops leaves VMs alone. */
	void (*peer_gone)(const char *peer_id, void *userdata);
	/* Whether a private-socket peer may use the API at all, asked at accept
	 * time with its SO_PEERCRED credentials; NULL: everyone may. */
	bool (*may_connect)(const struct server_peer *peer, void *userdata);
	/* After each message the connection's loop dispatched (bus-loop.h);
	 * NULL: none. */
	void (*after_dispatch)(sd_bus *bus, void *userdata);
	void *userdata;
};

struct server_options {
	const char *socket_path;     /* default /run/viommud/viommud.sock */
	enum server_bus_mode bus_mode;
	const char *bus_name;	     /* default org.viommu1 */
};

/*
 * Listens on the private socket (an already-listening one from LISTEN_FDS
 * when systemd passes it, else it binds socket_path, mode 0666, creating the
 * parent directory, replacing a stale socket file but not a live one:
 * -EADDRINUSE) and connects to the system bus per bus_mode (-EEXIST when
 * the name is taken). LISTEN_FDS stays set: it may carry the fd store too.
 */
int server_new(struct event_base *base, const struct server_options *options,
	       const struct server_callbacks *callbacks, struct server **out);
/* Closes every connection (flushing what is queued, briefly) and the
 * listening socket (unlinks a path it bound). Calls no peer_gone. */
void server_free(struct server *server);

/*
 * The sender of m, from the connection's socket credentials (private socket:
 * SO_PEERCRED and SO_PEERGROUPS at accept time) or the bus (system bus:
 * org.freedesktop.DBus.GetConnectionCredentials, asked once per unique name
 * and cached while the name lives; a call from a name not yet cached is held,
 * without blocking the loop, until the bus daemon answers, at most 2 s, and
 * dispatched after). On the system bus gid is SERVER_GID_UNKNOWN and
 * groups are the bus's UnixGroupIDs, which hold the primary group too; pid is
 * the bus's ProcessID, a number only (BindVmm refuses it).
 * -ENXIO when it cannot be determined (the sender has already gone, say).
 * Only for messages on connections of a server, on the loop's thread.
 */
int server_peer(sd_bus_message *m, struct server_peer *out);

/*
 * A pidfd of the private-socket peer that sent m (SO_PEERPIDFD, Linux 6.5),
 * owned by the caller. -ENXIO on the system bus (have the client pass one as
 * an 'h' argument), -EOPNOTSUPP when the kernel has no SO_PEERPIDFD.
 */
int server_peer_pidfd(sd_bus_message *m, int *ret_fd);

/* Calls fn for every live connection (to emit a signal on each). What fn
 * sends is flushed from the loop afterwards. */
void server_foreach_bus(struct server *server, void (*fn)(sd_bus *bus, void *ud), void *ud);
/* The peer (by id) follows the object manager from now on. */
void server_peer_follow_objects(struct server *server, const char *peer_id);
/* The system-bus connection, or NULL. */
sd_bus *server_system_bus(struct server *server);
/* Calls fn for every peer the server knows: each private-socket connection,
 * and each system-bus client server_peer() has answered for (a unicast to
 * peer->id reaches it there). */
void server_foreach_peer(struct server *server,
			 void (*fn)(sd_bus *bus, const struct server_peer *peer, void *ud), void *ud);

/* The connection a peer id names, for unicast signals; NULL when gone. What
 * the caller sends on it before returning to the loop is flushed from it. */
sd_bus *server_peer_bus(struct server *server, const char *peer_id);

/* Drops a private-socket peer (a client over its quota, say): closed on the
 * next loop iteration, then peer_gone. -EOPNOTSUPP for a system-bus peer,
 * -ENOENT for one that is gone. */
int server_peer_disconnect(struct server *server, const char *peer_id);

/* Whether the peer is still connected. */
bool server_peer_alive(struct server *server, const char *peer_id);

/* Per-peer bounds the server enforces itself (0: none). A private-socket
 * connection over connections_per_uid is closed at accept; one whose unread
 * outgoing messages pass queued_messages, whose replies stay unread, or that
 * leaves a message half sent, for stall_seconds, or whose message passes
 * the caps, is dropped. Each is logged. */
struct server_limits {
	unsigned int connections_per_uid;
	unsigned int queued_messages;
	unsigned int stall_seconds;
	/* While a message is read: what sd-bus may buffer of it (socket-guard.c);
	 * a message past these is dropped with its connection. 0: nothing. */
	uint64_t message_bytes_cap;
	unsigned int message_fds_cap;
};
void server_set_limits(struct server *server, const struct server_limits *limits);

/* Number of live private-socket connections, for status and tests. */
size_t server_connection_count(const struct server *server);
/* Number of system-bus clients server_peer() has answered for and that have
 * not left the bus since. */
size_t server_system_peer_count(const struct server *server);
