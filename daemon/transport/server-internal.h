/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the parts of the server share, not for the rest of the daemon:
 * server.c (the core and the API), server-listen.c (the private socket's
 * listener), server-p2p.c (accepted private-socket connections) and
 * server-system.c (the system bus, with its cache of client credentials).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "server.h"

struct bus_loop;
struct creds_query;
struct event;

struct server_conn {
	struct server *server;
	struct bus_loop *loop;
	sd_bus *bus;
	int fd; /* the accepted socket (sd-bus owns it): its guard's key; -1 */
	bool system;
	struct server_peer peer; /* private socket: read at accept time */
	struct server_conn *prev, *next;
};

/* A system-bus client that server_peer() has answered for. */
struct system_peer {
	struct server_peer peer;
	struct system_peer *next;
};

struct server {
	struct event_base *base;
	struct server_callbacks cb;
	char *socket_path; /* set when we bound it: unlinked on free */
	int listen_fd;
	struct event *accept_ev;
	struct event *backoff_ev;
	uint64_t next_peer;
	struct server_conn *conns; /* private-socket connections */
	size_t nconns;
	struct server_conn *system;
	sd_bus_slot *name_lost_slot;
	struct system_peer *system_peers;
	struct creds_query *creds_queries; /* server-creds.c */
	unsigned int ncreds_queries;
	bool accept_starved; /* out of fds: warned once until an accept works */
	struct server_limits limits;
	struct server *next_server;
};

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

/* server.c: a connection's bus_loop closed it (the bus_loop_new() callback). */
void server_conn_closed(struct bus_loop *loop, int reason, void *userdata);

/* server-listen.c: listens on path (or the socket systemd passed), accepting
 * into server_conn_new_p2p(); server_unlisten() stops and closes it. */
int server_listen(struct server *server, const char *path);
void server_unlisten(struct server *server);

/* bus-loop.c is given this bound for each private-socket connection. */

/* server-p2p.c: a connection on an accepted socket. Takes fd. */
int server_conn_new_p2p(struct server *server, int fd);

/* server-system.c */
bool server_system_bus_present(void);
int server_connect_system(struct server *server, const char *name);
struct system_peer **server_system_peer_find(struct server *server, const char *name);
int server_system_peer_get(struct server *server, sd_bus_message *m, struct server_peer *out);
/* peer_gone for every system-bus client, the cache emptied. */
void server_system_peers_gone(struct server *server);
/* A GetConnectionCredentials reply into peer (0, -ENXIO without a uid). */
int server_system_parse_credentials(sd_bus_message *reply, const char *name,
				    struct server_peer *peer);

/* server-creds.c: holds a system-bus call until its sender is cached. */
int server_creds_attach(struct server *server, sd_bus *bus);
/* The name left: its query and held calls go, unanswered. */
void server_creds_forget(struct server *server, const char *name);
void server_creds_free_all(struct server *server);
