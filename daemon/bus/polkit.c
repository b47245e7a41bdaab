/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * polkit on the system bus, asked without blocking the loop. A call that
 * needs an action is held (a reference; no handler runs) while
 * org.freedesktop.PolicyKit1.Authority.CheckAuthorization is asked about the
 * sender's bus name, one action after the other. Refused: answered
 * PermissionDenied here. Granted: put back into the connection's read queue
 * (sd_bus_enqueue_for_read), and when the filter sees it again the handlers
 * find the answer (polkit_granted()). polkitd not on the bus: dispatched
 * again as well, and viommud.conf decides. Checks in flight are bounded in
 * all and per uid; past the bounds a call is refused at once.
 */
#include "authorize.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log-event.h"
#include "log.h"

#define POLKIT_SERVICE "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
#define POLKIT_CALL_USEC (15 * 1000000ULL)
#define POLKIT_CHECKS_MAX 64	   /* calls held for polkit at once */
#define POLKIT_CHECKS_PER_UID 8	   /* of them, one uid's */
#define POLKIT_ALLOW_INTERACTION 1 /* CheckAuthorizationFlags */
#define ERROR_LIMITS "org.freedesktop.DBus.Error.LimitsExceeded"

struct polkit_check {
	struct polkit_check *next;
	struct daemon *daemon;
	sd_bus_message *call; /* held: a reference */
	sd_bus_slot *slot;    /* the CheckAuthorization in flight */
	struct server_peer peer;
	unsigned int wanted, granted; /* AUTH_BIT()s */
	bool done;		      /* dispatch it again */
	bool absent;		      /* polkitd is not on the bus */
};

struct polkit {
	struct polkit_check *checks;
	size_t nchecks;
	/* The call being dispatched after its checks, until the next call. */
	struct polkit_check *current;
};

static void check_free(struct polkit_check *c)
{
	if (!c)
		return;
	sd_bus_slot_unref(c->slot);
	sd_bus_message_unref(c->call);
	free(c);
}

static void check_unlink(struct polkit *pk, struct polkit_check *c)
{
	for (struct polkit_check **p = &pk->checks; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			pk->nchecks--;
			return;
		}
}

static struct polkit *polkit_get(struct daemon *d)
{
	if (!d->polkit)
		d->polkit = calloc(1, sizeof(*d->polkit));
	return d->polkit;
}

static void refuse(struct polkit_check *c, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void refuse(struct polkit_check *c, const char *name, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sd_bus_reply_method_errorfv(c->call, name, fmt, ap);
	va_end(ap);
	if (r < 0)
		log_debug("%s: cannot answer a call held for polkit: %s", c->peer.id, strerror(-r));
}

static int ask(struct polkit_check *c);

/* The next action, or the call goes back to be dispatched. */
static void advance(struct polkit_check *c)
{
	struct polkit *pk = c->daemon->polkit;

	if ((c->granted & c->wanted) != c->wanted && !c->absent) {
		if (ask(c) >= 0)
			return;
		refuse(c, SD_BUS_ERROR_NO_MEMORY, "cannot ask polkit");
	} else {
		c->done = true;
		if (sd_bus_enqueue_for_read(sd_bus_message_get_bus(c->call), c->call) >= 0)
			return;
		refuse(c, SD_BUS_ERROR_NO_MEMORY, "cannot dispatch the call again");
	}
	check_unlink(pk, c);
	check_free(c);
}

static enum auth_action next_action(const struct polkit_check *c)
{
	enum auth_action a = 0;

	while (a < AUTH_ACTION_COUNT && (!(c->wanted & AUTH_BIT(a)) || (c->granted & AUTH_BIT(a))))
		a++;
	return a;
}

/* Not there: no owner, nothing to activate, or its activation failed. A
 * polkitd that is there and slow (NoReply) refuses the call instead. */
static bool polkit_absent(const sd_bus_error *e)
{
	return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN,
				      SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
	       strncmp(e->name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0 ||
	       strncmp(e->name, "org.freedesktop.systemd1.", 25) == 0;
}

static int on_answer(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct polkit_check *c = userdata;
	enum auth_action a = next_action(c);
	const char *action = auth_action_id(a);
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int authorized = 0, challenge = 0, r;
	char what[96];

	c->slot = sd_bus_slot_unref(c->slot);
	if (e && polkit_absent(e)) {
		log_debug("%s: polkit is not on the bus (%s): viommud.conf decides", c->peer.id,
			  e->name);
		c->absent = true;
		advance(c);
		return 1;
	}
	if (e) {
		log_warning("%s: polkit did not answer for %s: %s", c->peer.id, action,
			    e->message ? e->message : e->name);
		refuse(c, VIOMMU_ERROR_PERMISSION_DENIED,
		       "polkit did not decide %s: %s; try again", action,
		       e->message ? e->message : e->name);
		goto out;
	}
	r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
	if (r >= 0)
		r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
	if (r < 0) {
		refuse(c, VIOMMU_ERROR_PERMISSION_DENIED, "polkit's answer for %s did not decode",
		       action);
		goto out;
	}
	if (authorized) {
		c->granted |= AUTH_BIT(a);
		advance(c);
		return 1;
	}
	snprintf(what, sizeof(what), "refused action=%s by=polkit", action);
	audit_peer(&c->peer, LOG_EVENT_ACCESS_REFUSED, what, NULL, NULL);
	if (challenge)
		refuse(c, VIOMMU_ERROR_PERMISSION_DENIED,
		       "polkit wants uid %u to authenticate for %s: call with interactive "
		       "authorization allowed and an agent running (viommud(8), AUTHORIZATION)",
		       (unsigned int)c->peer.uid, action);
	else
		refuse(c, VIOMMU_ERROR_PERMISSION_DENIED,
		       "polkit does not allow %s to uid %u: an administrator grants it with a "
		       "polkit rules file (viommud(8), AUTHORIZATION)",
		       action, (unsigned int)c->peer.uid);
out:
	check_unlink(c->daemon->polkit, c);
	check_free(c);
	return 1;
}

static int ask(struct polkit_check *c)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *q = NULL;
	sd_bus *bus = sd_bus_message_get_bus(c->call);
	uint32_t flags = sd_bus_message_get_allow_interactive_authorization(c->call) > 0
				 ? POLKIT_ALLOW_INTERACTION
				 : 0;
	int r;

	r = sd_bus_message_new_method_call(bus, &q, POLKIT_SERVICE, POLKIT_PATH, POLKIT_IFACE,
					   "CheckAuthorization");
	if (r >= 0)
		r = sd_bus_message_append(q, "(sa{sv})s", "system-bus-name", 1, "name", "s",
					  c->peer.id, auth_action_id(next_action(c)));
	if (r >= 0)
		r = sd_bus_message_append(q, "a{ss}us", 0, flags, "");
	if (r >= 0)
		r = sd_bus_call_async(bus, &c->slot, q, on_answer, c, POLKIT_CALL_USEC);
	return r;
}

static size_t checks_of_uid(const struct polkit *pk, uid_t uid)
{
	size_t n = 0;

	for (const struct polkit_check *c = pk->checks; c; c = c->next)
		n += c->peer.uid == uid;
	return n;
}

static int hold_and_ask(struct daemon *d, struct polkit *pk, sd_bus_message *m,
			const struct server_peer *peer, unsigned int wanted)
{
	struct polkit_check *c;
	int r;

	if (pk->nchecks >= POLKIT_CHECKS_MAX || checks_of_uid(pk, peer->uid) >= POLKIT_CHECKS_PER_UID) {
		log_warning("%s: too many calls wait for polkit; refusing a call of uid %u",
			    peer->id, (unsigned int)peer->uid);
		r = sd_bus_reply_method_errorf(m, ERROR_LIMITS,
					       "too many of your calls wait for polkit: wait for "
					       "their answers");
		return r < 0 ? r : 1;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct polkit_check){ .daemon = d, .call = sd_bus_message_ref(m), .peer = *peer,
				    .wanted = wanted };
	r = ask(c);
	if (r < 0) {
		check_free(c);
		return r;
	}
	c->next = pk->checks;
	pk->checks = c;
	pk->nchecks++;
	return 1;
}

int polkit_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	struct polkit *pk = polkit_get(d);
	struct server_peer peer;
	unsigned int wanted;

	if (!pk)
		return -ENOMEM;
	check_free(pk->current);
	pk->current = NULL;
	if (!sd_bus_message_is_method_call(m, NULL, NULL))
		return 0;
	for (struct polkit_check *c = pk->checks; c; c = c->next)
		if (c->call == m) {
			if (!c->done)
				return 1; /* still held: cannot be here, keep it held */
			check_unlink(pk, c);
			pk->current = c;
			return 0;
		}
	wanted = auth_actions_of(m);
	/* Root may anyway; who cannot be told is refused by the handler. */
	if (!wanted || server_peer(m, &peer) < 0 || peer_is_root(&peer))
		return 0;
	return hold_and_ask(d, pk, m, &peer, wanted);
}

bool polkit_granted(struct daemon *d, sd_bus_message *m, enum auth_action a)
{
	const struct polkit_check *c = d->polkit ? d->polkit->current : NULL;

	return c && c->call == m && !c->absent && (c->granted & AUTH_BIT(a));
}

bool polkit_decided(struct daemon *d, sd_bus_message *m)
{
	const struct polkit_check *c = d->polkit ? d->polkit->current : NULL;

	return c && c->call == m && !c->absent;
}

void polkit_forget(struct daemon *d, const char *peer_id)
{
	struct polkit *pk = d->polkit;
	struct polkit_check **p;

	if (!pk)
		return;
	for (p = &pk->checks; *p;) {
		struct polkit_check *c = *p;

		if (strcmp(c->peer.id, peer_id) != 0 || c->done) {
			p = &c->next;
			continue;
		}
		*p = c->next;
		pk->nchecks--;
		check_free(c); /* nobody to answer */
	}
}

void polkit_free(struct daemon *d)
{
	struct polkit *pk = d->polkit;
	struct polkit_check *c;

	if (!pk)
		return;
	while ((c = pk->checks)) {
		pk->checks = c->next;
		check_free(c);
	}
	check_free(pk->current);
	free(pk);
	d->polkit = NULL;
}
