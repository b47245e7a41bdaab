/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server's core: the connections it holds, what happens when one closes,
 * and the API of server.h. The private socket is in server-listen.c and
 * server-p2p.c, the system bus in server-system.c.
 */
#include "server-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "bus-loop.h"
#include "log.h"
#include "socket-guard.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define SERVER_DEFAULT_SOCKET "/run/viommud/viommud.sock"
#define SERVER_DEFAULT_BUS_NAME "org.viommu1"
#define SHUTDOWN_FLUSH_USEC 200000

/* server_peer() gets a message only: it finds the connection through this. */
static struct server *servers;

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t time_left(uint64_t deadline)
{
	uint64_t now = now_usec();

	return deadline > now ? deadline - now : 0;
}

static bool is_disconnect(int r)
{
	return r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE || r == -ECONNABORTED ||
	       r == -ESHUTDOWN;
}

static struct server_conn *conn_from_bus(sd_bus *bus)
{
	for (struct server *s = servers; s; s = s->next_server) {
		if (s->system && s->system->bus == bus)
			return s->system;
		for (struct server_conn *c = s->conns; c; c = c->next)
			if (c->bus == bus)
				return c;
	}
	return NULL;
}

static struct server_conn *conn_from_id(struct server *server, const char *peer_id)
{
	for (struct server_conn *c = server->conns; c; c = c->next)
		if (strcmp(c->peer.id, peer_id) == 0)
			return c;
	return NULL;
}

/* ---- connections ---- */

static void conn_unlink(struct server_conn *conn)
{
	struct server *server = conn->server;

	if (conn->system) {
		server->system = NULL;
		return;
	}
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		server->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	server->nconns--;
}

static void conn_free(struct server_conn *conn, uint64_t flush_usec)
{
	/* sd-bus may have closed the fd already (the peer hung up): by the
	 * number we kept, before anything of ours can take it again. */
	if (conn->fd >= 0)
		socket_guard_remove(conn->fd);
	bus_loop_free(conn->loop, flush_usec);
	sd_bus_unref(conn->bus);
	free(conn);
}

void server_conn_closed(struct bus_loop *loop, int reason, void *userdata)
{
	struct server_conn *conn = userdata;
	struct server *server = conn->server;
	char id[SERVER_PEER_ID_MAX];

	conn_unlink(conn);
	if (conn->system) {
		log_error("Lost the system bus connection: %s; serving the private socket only",
			  strerror(-reason));
		if (server->name_lost_slot)
			server->name_lost_slot = sd_bus_slot_unref(server->name_lost_slot);
		server_creds_free_all(server);
		conn_free(conn, 0);
		/* Every client there is unreachable now. */
		server_system_peers_gone(server);
		return;
	}
	snprintf(id, sizeof(id), "%s", conn->peer.id);
	if (is_disconnect(reason))
		log_debug("%s: disconnected", id);
	else
		log_warning("%s: closing the connection: %s", id, strerror(-reason));
	conn_free(conn, 0);
	/* After the connection is gone, so the callee sees it dead. */
	if (server->cb.peer_gone)
		server->cb.peer_gone(id, server->cb.userdata);
}

/* ---- the API ---- */

int server_new(struct event_base *base, const struct server_options *options,
	       const struct server_callbacks *callbacks, struct server **out)
{
	const char *path = options->socket_path ? options->socket_path : SERVER_DEFAULT_SOCKET;
	const char *name = options->bus_name ? options->bus_name : SERVER_DEFAULT_BUS_NAME;
	struct server *server;
	int r;

	server = calloc(1, sizeof(*server));
	if (!server)
		return -ENOMEM;
	server->base = base;
	server->listen_fd = -1;
	if (callbacks)
		server->cb = *callbacks;
	server->next_server = servers;
	servers = server;

	r = server_listen(server, path);
	if (r < 0)
		goto fail;
	if (options->bus_mode == SERVER_BUS_SYSTEM ||
	    (options->bus_mode == SERVER_BUS_AUTO && server_system_bus_present())) {
		r = server_connect_system(server, name);
		if (r < 0)
			goto fail;
	}
	*out = server;
	return 0;

fail:
	server_free(server);
	return r;
}

void server_free(struct server *server)
{
	uint64_t deadline = now_usec() + SHUTDOWN_FLUSH_USEC;
	struct server_conn *conn;
	struct system_peer *p;

	if (!server)
		return;
	for (struct server **s = &servers; *s; s = &(*s)->next_server)
		if (*s == server) {
			*s = server->next_server;
			break;
		}
	server_unlisten(server);

	/* What is queued gets a short flush, bounded for all connections
	 * together: stuck clients must not hold up a stop. */
	while ((conn = server->conns)) {
		conn_unlink(conn);
		conn_free(conn, time_left(deadline));
	}
	server->name_lost_slot = sd_bus_slot_unref(server->name_lost_slot);
	server_creds_free_all(server);
	if ((conn = server->system)) {
		conn_unlink(conn);
		conn_free(conn, time_left(deadline));
	}
	while ((p = server->system_peers)) {
		server->system_peers = p->next;
		free(p);
	}
	free(server);
}

int server_peer(sd_bus_message *m, struct server_peer *out)
{
	struct server_conn *conn;

	if (!m || !out)
		return -EINVAL;
	conn = conn_from_bus(sd_bus_message_get_bus(m));
	if (!conn)
		return -ENXIO;
	if (conn->system)
		return server_system_peer_get(conn->server, m, out);
	*out = conn->peer;
	return 0;
}

int server_peer_pidfd(sd_bus_message *m, int *ret_fd)
{
	struct server_conn *conn;
	socklen_t len = sizeof(int);
	int fd, pidfd;

	if (!m || !ret_fd)
		return -EINVAL;
	conn = conn_from_bus(sd_bus_message_get_bus(m));
	if (!conn || conn->system)
		return -ENXIO;
	fd = sd_bus_get_fd(conn->bus);
	if (fd < 0)
		return fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		return errno == ENOPROTOOPT ? -EOPNOTSUPP : -errno;
	*ret_fd = pidfd;
	return 0;
}

void server_foreach_bus(struct server *server, void (*fn)(sd_bus *bus, void *ud), void *ud)
{
	struct server_conn *conn, *next;

	if (server->system) {
		fn(server->system->bus, ud);
		bus_loop_kick(server->system->loop);
	}
	for (conn = server->conns; conn; conn = next) {
		next = conn->next;
		fn(conn->bus, ud);
		bus_loop_kick(conn->loop);
	}
}

void server_peer_follow_objects(struct server *server, const char *peer_id)
{
	struct system_peer **sp;
	struct server_conn *conn;

	if (!peer_id)
		return;
	if (peer_id[0] == ':') {
		sp = server->system ? server_system_peer_find(server, peer_id) : NULL;
		if (sp)
			(*sp)->peer.follows_objects = true;
		return;
	}
	conn = conn_from_id(server, peer_id);
	if (conn)
		conn->peer.follows_objects = true;
}

sd_bus *server_system_bus(struct server *server)
{
	return server->system ? server->system->bus : NULL;
}

void server_foreach_peer(struct server *server,
			 void (*fn)(sd_bus *bus, const struct server_peer *peer, void *ud), void *ud)
{
	struct server_conn *conn, *next;

	if (server->system) {
		for (struct system_peer *p = server->system_peers; p; p = p->next)
			fn(server->system->bus, &p->peer, ud);
		bus_loop_kick(server->system->loop);
	}
	for (conn = server->conns; conn; conn = next) {
		next = conn->next;
		fn(conn->bus, &conn->peer, ud);
		bus_loop_kick(conn->loop);
	}
}

sd_bus *server_peer_bus(struct server *server, const char *peer_id)
{
	struct server_conn *conn;

	if (!peer_id)
		return NULL;
	if (peer_id[0] == ':') {
		if (!server->system || !server_system_peer_find(server, peer_id))
			return NULL;
		conn = server->system;
	} else {
		conn = conn_from_id(server, peer_id);
		if (!conn)
			return NULL;
	}
	/* Runs after the caller's send, from the loop. */
	bus_loop_kick(conn->loop);
	return conn->bus;
}

bool server_peer_alive(struct server *server, const char *peer_id)
{
	if (!peer_id)
		return false;
	if (peer_id[0] == ':')
		return server->system && server_system_peer_find(server, peer_id);
	return conn_from_id(server, peer_id) != NULL;
}

int server_peer_disconnect(struct server *server, const char *peer_id)
{
	struct server_conn *conn;

	if (!peer_id)
		return -EINVAL;
	if (peer_id[0] == ':')
		return -EOPNOTSUPP;
	conn = conn_from_id(server, peer_id);
	if (!conn)
		return -ENOENT;
	bus_loop_close_later(conn->loop);
	return 0;
}

void server_set_limits(struct server *server, const struct server_limits *limits)
{
	server->limits = *limits;
	for (struct server_conn *conn = server->conns; conn; conn = conn->next)
		bus_loop_set_peer_limits(conn->loop, limits->queued_messages, limits->stall_seconds);
}

size_t server_connection_count(const struct server *server)
{
	return server->nconns;
}

size_t server_system_peer_count(const struct server *server)
{
	size_t n = 0;

	for (const struct system_peer *p = server->system_peers; p; p = p->next)
		n++;
	return n;
}
