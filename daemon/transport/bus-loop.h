/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Drives one sd_bus from a libevent loop (sd_bus_attach_event is sd-event
 * only): an event on sd_bus_get_fd() with the events of sd_bus_get_events(),
 * a timer at sd_bus_get_timeout(), sd_bus_process() on wake-up, re-armed
 * after every round. Never blocks, except bus_loop_free() for at most the
 * flush time it is given.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

struct event_base;
struct bus_loop;

/*
 * The connection has closed: the peer hung up (reason -ECONNRESET), an I/O or
 * protocol error (reason: that error), or bus_loop_close_later(). Called once,
 * from the event loop, outside sd_bus_process(); the callee usually frees the
 * loop, and must not touch it afterwards if it does.
 */
typedef void (*bus_loop_closed_fn)(struct bus_loop *loop, int reason, void *userdata);

/* Takes a reference on bus, which must have been started (sd_bus_start). */
int bus_loop_new(struct event_base *base, sd_bus *bus, bus_loop_closed_fn closed,
		 void *userdata, struct bus_loop **out);

/*
 * Flushes what is queued for at most flush_usec (0: only what the socket takes
 * now), without dispatching further incoming messages, then closes and
 * unreferences the bus. Safe to call from within a handler on this bus: the
 * work is then deferred until sd_bus_process() returns.
 */
void bus_loop_free(struct bus_loop *loop, uint64_t flush_usec);

/*
 * By default an error from sd_bus_process() closes the connection: right for
 * one client's socket. A tolerant loop logs it and goes on while the bus is
 * still open (for the system bus, whose loss cuts off every client there).
 */
/*
 * Bounds for a connection to one untrusted peer. Closes it (reason -ENOBUFS)
 * once more than max_queued outgoing messages wait unread, and (reason
 * -ETIMEDOUT) once replies have waited unread for stall_seconds; meanwhile
 * nothing more is read from it. 0: no bound (the system bus, whose daemon
 * queues for its clients itself).
 */
void bus_loop_set_peer_limits(struct bus_loop *loop, unsigned int max_queued,
			      unsigned int stall_seconds);
void bus_loop_set_tolerant(struct bus_loop *loop, bool tolerant);

sd_bus *bus_loop_get_bus(const struct bus_loop *loop);

/*
 * Schedules a processing round on the next loop iteration. Call after sending
 * on the bus from outside its own dispatch (a signal from a timer, say): a
 * message the socket did not take at once is queued, and only a round re-arms
 * for POLLOUT.
 */
void bus_loop_kick(struct bus_loop *loop);

/* Called after each sd_bus_process() round of the loop's own dispatch, on
 * its bus: sd-bus has no hook after a handler, so whoever began measuring a
 * message in a filter ends it here. NULL: nothing is called. */
typedef void (*bus_loop_dispatched_fn)(sd_bus *bus, void *userdata);
void bus_loop_set_after_dispatch(struct bus_loop *loop, bus_loop_dispatched_fn fn,
				 void *userdata);

/* Closes the connection on the next loop iteration and then reports it
 * through the closed callback with reason -ECONNABORTED. */
void bus_loop_close_later(struct bus_loop *loop);
