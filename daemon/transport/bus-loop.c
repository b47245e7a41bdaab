/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-loop.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log-event.h"
#include "log.h"
#include "socket-guard.h"

/* Messages handled per wake-up before other connections get a turn. */
#define BUS_LOOP_BATCH 64

struct bus_loop {
	struct event_base *base;
	sd_bus *bus;
	sd_bus_slot *drain_filter;
	struct event *io;
	struct event *timer;
	struct event *kick;
	int io_fd;
	short io_flags; /* what io is added with; 0 when not added */
	bool dispatching; /* inside sd_bus_process() */
	unsigned int max_queued; /* 0: no bound */
	uint64_t stall_usec;	  /* 0: a peer may leave replies unread for ever */
	uint64_t stalled_since;	  /* replies waiting, none read, since; 0: none wait */
	uint64_t stalled_queued;  /* how many waited then */
	bool draining;	  /* drop incoming messages: we are only flushing */
	bool close_requested;
	bool closed; /* the closed callback has run */
	bool free_pending;
	bool tolerant;		    /* see bus_loop_set_tolerant() */
	unsigned int errors_in_row; /* while tolerant */
	uint64_t free_flush_usec;
	bus_loop_closed_fn closed_cb;
	void *userdata;
	bus_loop_dispatched_fn after_dispatch;
	void *after_dispatch_data;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* While draining, every incoming message is consumed here, so that flushing
 * through sd_bus_process() never runs a method handler. */
static int drain_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct bus_loop *loop = userdata;

	return loop->draining ? 1 : 0;
}

static void bus_loop_on_event(evutil_socket_t fd, short what, void *userdata);

/* How many messages wait in sd-bus's write queue: the socket took no more. */
static uint64_t bus_loop_replies_wait(struct bus_loop *loop)
{
	uint64_t queued = 0;

	return sd_bus_get_n_queued_write(loop->bus, &queued) >= 0 ? queued : 0;
}

static int bus_loop_arm(struct bus_loop *loop)
{
	uint64_t until;
	short flags = 0;
	int fd, events, r;

	fd = sd_bus_get_fd(loop->bus);
	if (fd < 0)
		return fd;
	events = sd_bus_get_events(loop->bus);
	if (events < 0)
		return events;
	r = sd_bus_get_timeout(loop->bus, &until);
	if (r < 0)
		return r;

	/* A peer with replies waiting unread is not read from until it reads:
	 * its requests wait in its own socket buffer, not in our memory. */
	if ((events & POLLIN) && !(loop->stalled_since && (events & POLLOUT)))
		flags |= EV_READ;
	if (events & POLLOUT)
		flags |= EV_WRITE;
	if (fd != loop->io_fd || flags != loop->io_flags) {
		event_del(loop->io);
		loop->io_flags = 0;
		if (flags) {
			event_assign(loop->io, loop->base, fd, flags | EV_PERSIST,
				     bus_loop_on_event, loop);
			if (event_add(loop->io, NULL) < 0)
				return -ENOMEM;
			loop->io_flags = flags;
		}
		loop->io_fd = fd;
	}

	if (loop->stalled_since && loop->stall_usec &&
	    (until == UINT64_MAX || until > loop->stalled_since + loop->stall_usec))
		until = loop->stalled_since + loop->stall_usec;
	if (loop->stall_usec) {
		uint64_t partial = socket_guard_partial_since(fd);

		if (partial && (until == UINT64_MAX || until > partial + loop->stall_usec))
			until = partial + loop->stall_usec;
	}
	if (until == UINT64_MAX) {
		event_del(loop->timer);
	} else {
		uint64_t now = now_usec(), rel = until > now ? until - now : 0;
		struct timeval tv = {
			.tv_sec = (time_t)(rel / 1000000u),
			.tv_usec = (suseconds_t)(rel % 1000000u),
		};

		if (event_add(loop->timer, &tv) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void bus_loop_disarm(struct bus_loop *loop)
{
	event_del(loop->io);
	loop->io_flags = 0;
	event_del(loop->timer);
	event_del(loop->kick);
}

/* Writes what the socket takes, within flush_usec, without dispatching. */
static void bus_loop_drain(struct bus_loop *loop, uint64_t flush_usec)
{
	uint64_t deadline = now_usec() + flush_usec, queued = 0;
	unsigned int rounds = 0;
	int r;

	loop->draining = true;
	for (;;) {
		if (sd_bus_is_open(loop->bus) <= 0 ||
		    sd_bus_get_n_queued_write(loop->bus, &queued) < 0 || queued == 0)
			return;
		/* Each round writes or reads one message: bounded, since a peer
		 * that keeps sending must not hold us here. */
		do
			r = sd_bus_process(loop->bus, NULL);
		while (r > 0 && ++rounds < 4096);
		if (r < 0 || rounds >= 4096)
			break;
		if (sd_bus_get_n_queued_write(loop->bus, &queued) < 0 || queued == 0)
			return;

		uint64_t now = now_usec();
		struct pollfd pfd = { .fd = sd_bus_get_fd(loop->bus), .events = POLLOUT };

		if (now >= deadline || pfd.fd < 0)
			break;
		r = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
		if (r <= 0 || !(pfd.revents & POLLOUT))
			break;
	}
	log_debug("bus: dropping %" PRIu64 " unsent message(s) on close", queued);
}

static void bus_loop_destroy(struct bus_loop *loop, uint64_t flush_usec)
{
	bus_loop_disarm(loop);
	bus_loop_drain(loop, flush_usec);
	event_free(loop->io);
	event_free(loop->timer);
	event_free(loop->kick);
	sd_bus_slot_unref(loop->drain_filter); /* a slot holds a bus reference */
	sd_bus_close_unref(loop->bus);
	free(loop);
}

static void bus_loop_report_closed(struct bus_loop *loop, int reason)
{
	bus_loop_disarm(loop);
	if (loop->closed)
		return;
	loop->closed = true;
	loop->closed_cb(loop, reason, loop->userdata);
}

/* The failed message is consumed already: a tolerant loop goes on with the
 * next one, unless the bus is down or fails over and over. */
static bool bus_loop_tolerate(struct bus_loop *loop, int r)
{
	if (!loop->tolerant || sd_bus_is_open(loop->bus) <= 0 || r == -ECONNRESET ||
	    r == -ENOTCONN || r == -EPIPE || ++loop->errors_in_row > 16)
		return false;
	log_warning("bus: processing a message failed: %s", strerror(-r));
	return true;
}

/* Past connection_stall_seconds: the connection goes, and the journal says why. */
static void bus_loop_drop_stalled(struct bus_loop *loop, const char *why)
{
	const char *name = NULL;

	sd_bus_get_description(loop->bus, &name);
	log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE, LOG_FIELDS(.limit = "connection_stall_seconds"),
		  "AUDIT quota-refused peer=%s limit=connection_stall_seconds(%" PRIu64
		  ") what=connection dropped: %s",
		  name ? name : "?", loop->stall_usec / 1000000u, why);
	bus_loop_report_closed(loop, -ETIMEDOUT);
}

static void bus_loop_run(struct bus_loop *loop)
{
	unsigned int n;
	int r = 0;

	if (loop->closed)
		return;
	if (!loop->close_requested) {
		loop->dispatching = true;
		for (n = 0; n < BUS_LOOP_BATCH; n++) {
			r = sd_bus_process(loop->bus, NULL);
			/* One message per round: its handler, if any, has run. */
			if (loop->after_dispatch)
				loop->after_dispatch(loop->bus, loop->after_dispatch_data);
			if (r < 0 && bus_loop_tolerate(loop, r)) {
				r = 1;
				continue;
			}
			if (r <= 0)
				break;
			loop->errors_in_row = 0;
			/* A handler let go of this connection. */
			if (loop->free_pending || loop->close_requested)
				break;
			/* Replies wait: each round may read one more request, so
			 * stop here until the peer reads (bus_loop_arm()). */
			if (loop->stall_usec && bus_loop_replies_wait(loop))
				break;
		}
		loop->dispatching = false;
	}

	if (loop->free_pending) {
		bus_loop_destroy(loop, loop->free_flush_usec);
		return;
	}
	/* A peer that stops reading must not make us hold its replies forever. */
	uint64_t queued = 0;

	/* A message left half sent holds what sd-bus buffered of it. */
	uint64_t partial = loop->stall_usec ? socket_guard_partial_since(sd_bus_get_fd(loop->bus)) : 0;

	if (partial && !loop->close_requested && now_usec() - partial >= loop->stall_usec) {
		bus_loop_drop_stalled(loop, "a message stayed half sent");
		return;
	}
	queued = loop->stall_usec && !loop->close_requested ? bus_loop_replies_wait(loop) : 0;
	if (queued) {
		uint64_t now = now_usec();

		/* A peer that reads, however slowly, is not stalled. */
		if (!loop->stalled_since || queued < loop->stalled_queued)
			loop->stalled_since = now;
		loop->stalled_queued = queued;
		if (now - loop->stalled_since >= loop->stall_usec) {
			bus_loop_drop_stalled(loop, "its replies stayed unread");
			return;
		}
	} else {
		loop->stalled_since = 0;
	}

	if (loop->max_queued && !loop->close_requested &&
	    sd_bus_get_n_queued_write(loop->bus, &queued) >= 0 && queued > loop->max_queued) {
		const char *name = NULL;

		sd_bus_get_description(loop->bus, &name);
		log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE,
			  LOG_FIELDS(.limit = "quota_queued_messages"),
			  "AUDIT quota-refused peer=%s limit=quota_queued_messages(%u) "
			  "what=connection dropped with %" PRIu64 " unread messages",
			  name ? name : "?", loop->max_queued, queued);
		bus_loop_report_closed(loop, -ENOBUFS);
		return;
	}
	if (loop->close_requested) {
		bus_loop_report_closed(loop, -ECONNABORTED);
		return;
	}
	if (r < 0 || sd_bus_is_open(loop->bus) <= 0) {
		bus_loop_report_closed(loop, r < 0 ? r : -ECONNRESET);
		return;
	}
	/* Batch used up: continue after the other events had their turn.
	 * Not while replies wait: bus_loop_arm() then waits for POLLOUT. */
	if (r > 0 && !loop->stalled_since)
		event_active(loop->kick, 0, 0);
	r = bus_loop_arm(loop);
	if (r < 0)
		bus_loop_report_closed(loop, r);
}

static void bus_loop_on_event(evutil_socket_t fd, short what, void *userdata)
{
	bus_loop_run(userdata);
}

int bus_loop_new(struct event_base *base, sd_bus *bus, bus_loop_closed_fn closed,
		 void *userdata, struct bus_loop **out)
{
	struct bus_loop *loop;
	int r;

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->base = base;
	loop->bus = sd_bus_ref(bus);
	loop->closed_cb = closed;
	loop->userdata = userdata;
	loop->io_fd = -1;
	loop->io = event_new(base, -1, 0, bus_loop_on_event, loop);
	loop->timer = evtimer_new(base, bus_loop_on_event, loop);
	loop->kick = event_new(base, -1, 0, bus_loop_on_event, loop);
	if (!loop->io || !loop->timer || !loop->kick) {
		r = -ENOMEM;
		goto fail;
	}
	r = sd_bus_add_filter(bus, &loop->drain_filter, drain_filter, loop);
	if (r < 0)
		goto fail;
	/* The first round: the bus may already hold work (auth, queued Hello). */
	event_active(loop->kick, 0, 0);
	*out = loop;
	return 0;

fail:
	if (loop->io)
		event_free(loop->io);
	if (loop->timer)
		event_free(loop->timer);
	if (loop->kick)
		event_free(loop->kick);
	sd_bus_unref(loop->bus);
	free(loop);
	return r;
}

void bus_loop_free(struct bus_loop *loop, uint64_t flush_usec)
{
	if (!loop)
		return;
	if (loop->dispatching) {
		/* sd_bus_process() is on the stack: finish when it returns. */
		loop->free_pending = true;
		loop->free_flush_usec = flush_usec;
		return;
	}
	bus_loop_destroy(loop, flush_usec);
}

void bus_loop_set_after_dispatch(struct bus_loop *loop, bus_loop_dispatched_fn fn,
				 void *userdata)
{
	loop->after_dispatch = fn;
	loop->after_dispatch_data = userdata;
}

void bus_loop_set_tolerant(struct bus_loop *loop, bool tolerant)
{
	loop->tolerant = tolerant;
}

sd_bus *bus_loop_get_bus(const struct bus_loop *loop)
{
	return loop->bus;
}

void bus_loop_kick(struct bus_loop *loop)
{
	if (loop && !loop->closed)
		event_active(loop->kick, 0, 0);
}

void bus_loop_close_later(struct bus_loop *loop)
{
	if (!loop || loop->closed)
		return;
	loop->close_requested = true;
	event_active(loop->kick, 0, 0);
}

void bus_loop_set_peer_limits(struct bus_loop *loop, unsigned int max_queued,
			      unsigned int stall_seconds)
{
	loop->max_queued = max_queued;
	loop->stall_usec = (uint64_t)stall_seconds * 1000000u;
	if (!loop->stall_usec)
		loop->stalled_since = 0;
}
