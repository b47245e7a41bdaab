/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-message limits, checked by a bus filter before any handler sees the
 * message: how many fds it carries and how large its body is. sd-bus 252 has
 * no accessor for either (it caps messages at 128 MiB and 1024 fds), so the
 * filter walks the body once, counting 'h' values (in variants too) and the
 * bytes of every value, then rewinds it for the handler. One message in
 * flight per connection at a time (sd-bus reads the next only after the last
 * is dispatched), so these also bound what a connection holds.
 */
#include "daemon.h"

#include <errno.h>
#include <string.h>

#include "errors.h"
#include "log-event.h"
#include "log.h"

struct measure {
	uint64_t fds, bytes;
};

static bool trivial_array(const char *contents)
{
	return contents && contents[1] == '\0' && strchr("ybnqiuxtd", contents[0]);
}

static int measure_body(sd_bus_message *m, struct measure *out)
{
	const char *contents;
	char type;
	int r;

	while ((r = sd_bus_message_peek_type(m, &type, &contents)) > 0) {
		if (type == 'a' && trivial_array(contents)) {
			const void *p;
			size_t size;

			r = sd_bus_message_read_array(m, contents[0], &p, &size);
			out->bytes += size;
		} else if (strchr("arve", type)) {
			r = sd_bus_message_enter_container(m, type, contents);
			if (r >= 0)
				r = measure_body(m, out);
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
		} else if (strchr("sog", type)) {
			const char *s;

			r = sd_bus_message_read_basic(m, type, &s);
			if (r >= 0)
				out->bytes += strlen(s) + 1;
		} else {
			union {
				uint64_t u;
				double d;
				int fd;
			} v;

			r = sd_bus_message_read_basic(m, type, &v);
			out->fds += type == 'h';
			out->bytes += type == 'h' ? 4 : 8;
		}
		if (r < 0)
			return r;
	}
	return r;
}

int message_limits_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	struct measure size = { 0 };
	struct server_peer peer = { .uid = (uid_t)-1 };
	const char *limit = NULL;
	uint64_t max = 0, got = 0;
	int r;

	if (!sd_bus_message_is_method_call(m, NULL, NULL))
		return 0;
	r = measure_body(m, &size);
	sd_bus_message_rewind(m, 1);
	if (r < 0)
		return 0; /* malformed: sd-bus and the handler refuse it themselves */
	if (size.fds > d->config->quota_message_fds) {
		limit = "quota_message_fds";
		max = d->config->quota_message_fds;
		got = size.fds;
	} else if (size.bytes > d->config->quota_message_bytes) {
		limit = "quota_message_bytes";
		max = d->config->quota_message_bytes;
		got = size.bytes;
	}
	if (!limit)
		return 0;
	const char *iface = sd_bus_message_get_interface(m), *member = sd_bus_message_get_member(m);

	server_peer(m, &peer);
	log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE, LOG_FIELDS(LOG_UID(peer.uid), .limit = limit),
		  "AUDIT quota-refused uid=%d pid=%d peer=%s limit=%s(%llu) what=%s.%s got=%llu",
		  (int)peer.uid, (int)peer.pid, peer.id[0] ? peer.id : "-", limit,
		  (unsigned long long)max, iface ? iface : "-", member ? member : "-",
		  (unsigned long long)got);
	r = sd_bus_reply_method_errorf(m, VIOMMU_ERROR_QUOTA_EXCEEDED,
				       "the message carries %llu %s, over the %s limit of %llu",
				       (unsigned long long)got,
				       strcmp(limit, "quota_message_fds") == 0 ? "fds" : "bytes", limit,
				       (unsigned long long)max);
	/* Handled: no handler runs. */
	return r < 0 ? r : 1;
}
