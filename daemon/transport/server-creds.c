/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who is calling on the system bus, asked without blocking the loop. A call
 * from a name the cache does not know is held (a reference, no handler runs)
 * while org.freedesktop.DBus.GetConnectionCredentials is asked
 * asynchronously; the answer goes into the cache and the held calls are put
 * back into the connection's read queue (sd_bus_enqueue_for_read), where the
 * handlers find the caller cached. Held calls and queries are bounded: past
 * the bounds a call is refused at once, never queued.
 */
#include "server-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define DBUS_SERVICE "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"
#define CREDS_CALL_USEC 2000000
#define CREDS_QUERIES_MAX 64 /* names being asked about at once */
#define CREDS_HELD_MAX 16    /* calls held per name meanwhile */
#define ERROR_LIMITS "org.freedesktop.DBus.Error.LimitsExceeded"

struct creds_query {
	struct creds_query *next;
	struct server *server;
	sd_bus_slot *slot;
	char name[SERVER_PEER_ID_MAX];
	size_t nheld;
	sd_bus_message *held[CREDS_HELD_MAX];
};

static struct creds_query **query_find(struct server *server, const char *name)
{
	for (struct creds_query **q = &server->creds_queries; *q; q = &(*q)->next)
		if (strcmp((*q)->name, name) == 0)
			return q;
	return NULL;
}

static void query_free(struct creds_query *q)
{
	sd_bus_slot_unref(q->slot);
	for (size_t i = 0; i < q->nheld; i++)
		sd_bus_message_unref(q->held[i]);
	q->server->ncreds_queries--;
	free(q);
}

static void query_unlink(struct creds_query *q)
{
	struct creds_query **p = query_find(q->server, q->name);

	if (p)
		*p = q->next;
}

/* The answer: cached, and the held calls go back to be dispatched. A failure
 * (the name left, the bus timed out) refuses them, and caches nothing: the
 * next call asks again. */
static int on_credentials(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct creds_query *q = userdata;
	struct server *server = q->server;
	sd_bus *bus = sd_bus_message_get_bus(reply);
	struct system_peer *p = NULL;
	const char *why = "out of memory";
	int r = -ENXIO;

	query_unlink(q);
	if (sd_bus_message_is_method_error(reply, NULL)) {
		why = sd_bus_message_get_error(reply)->message;
	} else if ((p = calloc(1, sizeof(*p)))) {
		r = server_system_parse_credentials(reply, q->name, &p->peer);
		why = "the bus's answer has no UnixUserID";
	}
	if (r < 0) {
		free(p);
		log_debug("GetConnectionCredentials(%s): %s", q->name, why);
		for (size_t i = 0; i < q->nheld; i++)
			(void)sd_bus_reply_method_errorf(q->held[i], SD_BUS_ERROR_ACCESS_DENIED,
							 "cannot tell who is calling: %s", why);
	} else {
		p->next = server->system_peers;
		server->system_peers = p;
		for (size_t i = 0; i < q->nheld; i++)
			if (sd_bus_enqueue_for_read(bus, q->held[i]) < 0)
				log_warning("%s: cannot requeue a call held for its credentials",
					    q->name);
	}
	query_free(q);
	return 1;
}

static int refuse(sd_bus_message *m, const char *why)
{
	int r = sd_bus_reply_method_errorf(m, ERROR_LIMITS, "%s", why);

	return r < 0 ? r : 1;
}

static int hold(struct creds_query *q, sd_bus_message *m)
{
	if (q->nheld == CREDS_HELD_MAX)
		return refuse(m, "too many calls before the bus said who you are: wait for the "
				 "first answer");
	q->held[q->nheld++] = sd_bus_message_ref(m);
	return 1;
}

static int query_start(struct server *server, sd_bus_message *m, const char *name)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *call = NULL;
	sd_bus *bus = sd_bus_message_get_bus(m);
	struct creds_query *q;
	int r;

	if (server->ncreds_queries >= CREDS_QUERIES_MAX) {
		log_warning("%s: %u callers are being identified already; refusing its call",
			    name, CREDS_QUERIES_MAX);
		return refuse(m, "the daemon is identifying too many new callers: try again");
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->server = server;
	snprintf(q->name, sizeof(q->name), "%s", name);
	r = sd_bus_message_new_method_call(bus, &call, DBUS_SERVICE, DBUS_PATH, DBUS_SERVICE,
					   "GetConnectionCredentials");
	if (r >= 0)
		r = sd_bus_message_append(call, "s", name);
	if (r >= 0)
		r = sd_bus_call_async(bus, &q->slot, call, on_credentials, q, CREDS_CALL_USEC);
	if (r < 0) {
		free(q);
		return r;
	}
	server->ncreds_queries++;
	q->next = server->creds_queries;
	server->creds_queries = q;
	return hold(q, m);
}

static int creds_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct server *server = userdata;
	const char *sender = sd_bus_message_get_sender(m);
	struct creds_query **q;

	if (!sd_bus_message_is_method_call(m, NULL, NULL))
		return 0;
	/* Not a client we could ask about: server_peer() refuses it later. */
	if (!sender || sender[0] != ':' || strlen(sender) >= SERVER_PEER_ID_MAX)
		return 0;
	if (server_system_peer_find(server, sender))
		return 0;
	q = query_find(server, sender);
	if (q)
		return hold(*q, m);
	return query_start(server, m, sender);
}

int server_creds_attach(struct server *server, sd_bus *bus)
{
	/* Filters run newest first: this one before the object layer's. */
	return sd_bus_add_filter(bus, NULL, creds_filter, server);
}

void server_creds_forget(struct server *server, const char *name)
{
	struct creds_query **p = query_find(server, name);
	struct creds_query *q;

	if (!p)
		return;
	q = *p;
	*p = q->next;
	query_free(q); /* the caller is gone: nobody to answer */
}

void server_creds_free_all(struct server *server)
{
	struct creds_query *q;

	while ((q = server->creds_queries)) {
		server->creds_queries = q->next;
		query_free(q);
	}
}
