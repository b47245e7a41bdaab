/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The system bus: the connection that owns the bus name, and the client
 * credentials server-creds.c asks the bus daemon for, cached per unique name
 * until NameOwnerChanged says the name is gone. */
#include "server-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-loop.h"
#include "log.h"

#define SYSTEM_BUS_SOCKET "/run/dbus/system_bus_socket"

#define DBUS_SERVICE "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"
/* Only losses (empty new owner): the rest is of no use to us. */
#define NAME_LOST_MATCH                                                              \
	"type='signal',sender='" DBUS_SERVICE "',path='" DBUS_PATH "',interface='" \
	DBUS_SERVICE "',member='NameOwnerChanged',arg2=''"

/* ---- system bus: peers ---- */

struct system_peer **server_system_peer_find(struct server *server, const char *name)
{
	struct system_peer **p;

	for (p = &server->system_peers; *p; p = &(*p)->next)
		if (strcmp((*p)->peer.id, name) == 0)
			return p;
	return NULL;
}

void server_system_peers_gone(struct server *server)
{
	struct system_peer *p;

	while ((p = server->system_peers)) {
		server->system_peers = p->next;
		if (server->cb.peer_gone)
			server->cb.peer_gone(p->peer.id, server->cb.userdata);
		free(p);
	}
}

int server_system_parse_credentials(sd_bus_message *reply, const char *name,
				    struct server_peer *peer)
{
	bool have_uid = false;
	int r;

	memset(peer, 0, sizeof(*peer));
	snprintf(peer->id, sizeof(peer->id), "%s", name);
	/* The bus reports every group, the primary one too (UnixGroupIDs,
	 * from SO_PEERGROUPS in dbus 1.14): nothing is read from /proc, which
	 * would describe whatever process has the pid by then. */
	peer->gid = SERVER_GID_UNKNOWN;

	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const char *key, *contents;
		uint32_t value;
		char type;

		r = sd_bus_message_read(reply, "s", &key);
		if (r < 0)
			return r;
		r = sd_bus_message_peek_type(reply, &type, &contents);
		if (r < 0)
			return r;
		if (strcmp(key, "UnixUserID") == 0 && strcmp(contents, "u") == 0) {
			r = sd_bus_message_read(reply, "v", "u", &value);
			peer->uid = value;
			have_uid = true;
		} else if (strcmp(key, "ProcessID") == 0 && strcmp(contents, "u") == 0) {
			r = sd_bus_message_read(reply, "v", "u", &value);
			peer->pid = (pid_t)value;
		} else if (strcmp(key, "UnixGroupIDs") == 0 && strcmp(contents, "au") == 0) {
			const void *ids = NULL;
			size_t size = 0;

			r = sd_bus_message_enter_container(reply, 'v', "au");
			if (r >= 0)
				r = sd_bus_message_read_array(reply, 'u', &ids, &size);
			if (r >= 0)
				r = sd_bus_message_exit_container(reply);
			size /= sizeof(uint32_t);
			if (size > SERVER_PEER_GROUPS_MAX)
				size = SERVER_PEER_GROUPS_MAX; /* groups only grant */
			for (size_t i = 0; r >= 0 && i < size; i++)
				peer->groups[i] = ((const uint32_t *)ids)[i];
			peer->ngroups = r >= 0 ? size : 0;
		} else {
			r = sd_bus_message_skip(reply, "v");
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(reply);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return -EBADMSG;
	return have_uid ? 0 : -ENXIO;
}

int server_system_peer_get(struct server *server, sd_bus_message *m, struct server_peer *out)
{
	const char *sender = sd_bus_message_get_sender(m);
	struct system_peer **found;

	if (!sender || sender[0] != ':' || strlen(sender) >= SERVER_PEER_ID_MAX)
		return -ENXIO;
	/* server-creds.c held every call until its sender was cached. */
	found = server_system_peer_find(server, sender);
	if (!found)
		return -ENXIO;
	*out = (*found)->peer;
	return 0;
}

static int on_name_lost(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct server *server = userdata;
	const char *name, *old_owner, *new_owner;
	struct system_peer **found, *p;

	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
		return 0;
	if (name[0] != ':' || new_owner[0] != '\0')
		return 0;
	server_creds_forget(server, name);
	found = server_system_peer_find(server, name);
	if (!found)
		return 0; /* never called us */
	p = *found;
	*found = p->next;
	log_debug("%s: left the system bus", name);
	if (server->cb.peer_gone)
		server->cb.peer_gone(p->peer.id, server->cb.userdata);
	free(p);
	return 0;
}

/* ---- system bus: connection ---- */

bool server_system_bus_present(void)
{
	const char *address = getenv("DBUS_SYSTEM_BUS_ADDRESS");

	return (address && *address) || access(SYSTEM_BUS_SOCKET, F_OK) == 0;
}

int server_connect_system(struct server *server, const char *name)
{
	struct server_conn *conn;
	int r;

	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return -ENOMEM;
	conn->server = server;
	conn->system = true;
	conn->fd = -1;
	r = sd_bus_open_system(&conn->bus);
	if (r < 0) {
		log_error("Cannot connect to the system bus: %s", strerror(-r));
		goto fail;
	}
	(void)sd_bus_set_description(conn->bus, "system");
	/* Before the name: a client that finds us must find the objects and
	 * be tracked. The match goes out ahead of RequestName, so the bus
	 * has it in place when the first client can call. */
	r = sd_bus_add_match_async(conn->bus, &server->name_lost_slot, NAME_LOST_MATCH,
				   on_name_lost, NULL, server);
	if (r < 0) {
		log_error("Cannot watch clients on the system bus: %s", strerror(-r));
		goto fail;
	}
	if (server->cb.attach) {
		r = server->cb.attach(conn->bus, server->cb.userdata);
		if (r < 0)
			goto fail;
	}
	r = server_creds_attach(server, conn->bus);
	if (r < 0)
		goto fail;
	r = sd_bus_request_name(conn->bus, name, 0);
	if (r < 0) {
		if (r == -EEXIST)
			log_error("%s is already owned on the system bus: is another viommud running?",
				  name);
		else if (r == -EACCES || r == -EPERM)
			log_error("The system bus refuses %s to us: is its busconfig (org.viommu1.conf) installed?",
				  name);
		else
			log_error("Cannot own %s on the system bus: %s", name, strerror(-r));
		goto fail;
	}
	r = bus_loop_new(server->base, conn->bus, server_conn_closed, conn, &conn->loop);
	if (r < 0)
		goto fail;
	bus_loop_set_tolerant(conn->loop, true);
	bus_loop_set_after_dispatch(conn->loop, server->cb.after_dispatch, server->cb.userdata);
	server->system = conn;
	log_info("Serving %s on the system bus", name);
	return 0;

fail:
	server->name_lost_slot = sd_bus_slot_unref(server->name_lost_slot);
	if (conn->bus)
		sd_bus_close(conn->bus);
	sd_bus_unref(conn->bus);
	free(conn);
	return r;
}

