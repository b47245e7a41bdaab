/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel uevent monitor: one netlink socket on the libevent loop. */
#include "uevent.h"

#include <errno.h>
#include <event2/event.h>
#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

#define UEVENT_KERNEL_GROUP 1 /* udevd re-broadcasts on group 2: not ours */
/* Datagrams read per wake-up: in a storm the bus still gets its turn, and
 * the (level-triggered) event brings us back for the rest. */
#define UEVENT_BATCH 256
/* Room for a storm (udevd asks for far more); needs CAP_NET_ADMIN, else
 * the kernel caps it at net.core.rmem_max. */
#define UEVENT_RCVBUF (4 << 20)
/* More than a full buffer holds (the kernel doubles UEVENT_RCVBUF; each
 * event takes over 768 bytes of it), for one wake-up after an overflow. */
#define UEVENT_DROP_MAX 16384

struct uevent_monitor {
	struct nl_sock *sk;
	struct event *io;
	void (*on_event)(const struct uevent *ev, void *ud);
	void *ud;
	struct uevent ev; /* ~10 KiB: not on the stack */
	unsigned long long received, ignored, overflows;
};

/* libnl's NLE_* codes, as the errno a caller of ours expects. */
static int nl_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AF_NOSUPPORT:
	case NLE_OPNOTSUPP:
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	case NLE_PERM:
	case NLE_NOACCESS:
		return -EPERM;
	case NLE_INVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static void uevent_monitor_handle(struct uevent_monitor *mon, const struct sockaddr_nl *peer,
				  const unsigned char *data, int len)
{
	int r;

	/* Only the kernel (port 0) may speak on group 1; anyone else with
	 * CAP_NET_ADMIN could, so do not take their word for it. */
	if (peer->nl_pid != 0) {
		mon->ignored++;
		log_debug("uevent: ignoring a datagram from port %u, not the kernel",
			  peer->nl_pid);
		return;
	}
	r = uevent_parse(data, (size_t)len, &mon->ev);
	if (r < 0) {
		mon->ignored++;
		log_debug("uevent: ignoring a malformed datagram (%d bytes): %s", len,
			  strerror(-r));
		return;
	}
	if (!mon->ev.subsystem || strcmp(mon->ev.subsystem, "pci") != 0)
		return;
	mon->received++;
	log_debug("uevent: %s %s driver=%s seq=%llu", mon->ev.action_name, mon->ev.devpath,
		  mon->ev.driver ? mon->ev.driver : "", (unsigned long long)mon->ev.seqnum);
	mon->on_event(&mon->ev, mon->ud);
}

/*
 * Events were lost. What is still queued happened before the rescan the
 * consumer is about to do, which sees its outcome anyway: drop it unread
 * (cheap) rather than replay it after (a refresh each). Bounded: whatever
 * arrives later, or is left over, is read as usual.
 */
static void uevent_monitor_resync(struct uevent_monitor *mon, int fd)
{
	unsigned int dropped = 0;

	while (dropped < UEVENT_DROP_MAX && recv(fd, NULL, 0, MSG_DONTWAIT | MSG_TRUNC) >= 0)
		dropped++;
	memset(&mon->ev, 0, offsetof(struct uevent, buf));
	mon->ev.action = UEVENT_ACTION_RESYNC;
	mon->ev.action_name = uevent_action_name(UEVENT_ACTION_RESYNC);
	mon->ev.devpath = mon->ev.sysname = "";
	mon->overflows++;
	log_warning("uevent: the kernel dropped events (receive buffer overflow, %llu so far); "
		    "dropped %u queued ones too: rescanning every device",
		    mon->overflows, dropped);
	mon->on_event(&mon->ev, mon->ud);
}

static void uevent_monitor_on_readable(evutil_socket_t fd, short what, void *userdata)
{
	struct uevent_monitor *mon = userdata;

	for (unsigned int i = 0; i < UEVENT_BATCH; i++) {
		struct sockaddr_nl peer = { 0 };
		unsigned char *data = NULL;
		int n = nl_recv(mon->sk, &peer, &data, NULL);

		if (n > 0) {
			uevent_monitor_handle(mon, &peer, data, n);
			free(data);
			continue;
		}
		if (n == 0) {
			/* An empty datagram: libnl peeks and leaves it queued,
			 * which would wake us forever. Drop it. */
			if (recv(fd, NULL, 0, MSG_DONTWAIT) < 0)
				break;
			continue;
		}
		if (n == -NLE_AGAIN)
			break;
		if (n == -NLE_NOMEM) {
			/* ENOBUFS, folded by libnl into NLE_NOMEM with ENOMEM
			 * (which a rescan does not hurt either). */
			uevent_monitor_resync(mon, fd);
			break;
		}
		log_warning("uevent: cannot read the netlink socket: %s", nl_geterror(n));
		break;
	}
}

int uevent_monitor_new(struct event_base *base,
		       void (*on_event)(const struct uevent *ev, void *ud), void *ud,
		       struct uevent_monitor **out)
{
	struct uevent_monitor *mon = calloc(1, sizeof(*mon));
	int r, fd, size = UEVENT_RCVBUF;

	if (!mon)
		return -ENOMEM;
	mon->on_event = on_event;
	mon->ud = ud;
	mon->sk = nl_socket_alloc();
	if (!mon->sk) {
		r = -ENOMEM;
		goto fail;
	}
	/* Raw datagrams through nl_recv(): no requests, no acks, no seq. */
	nl_socket_disable_seq_check(mon->sk);
	nl_socket_disable_auto_ack(mon->sk);
	r = nl_connect(mon->sk, NETLINK_KOBJECT_UEVENT);
	if (r >= 0)
		r = nl_socket_add_membership(mon->sk, UEVENT_KERNEL_GROUP);
	if (r >= 0)
		r = nl_socket_set_nonblocking(mon->sk);
	if (r < 0) {
		log_error("uevent: cannot open the kernel's uevent socket: %s", nl_geterror(r));
		r = nl_to_errno(r);
		goto fail;
	}
	fd = nl_socket_get_fd(mon->sk);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    nl_socket_set_buffer_size(mon->sk, size, 0) < 0)
		log_notice("uevent: keeping the default receive buffer; a storm may overflow it");
	mon->io = event_new(base, fd, EV_READ | EV_PERSIST, uevent_monitor_on_readable, mon);
	if (!mon->io || event_add(mon->io, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	*out = mon;
	return 0;

fail:
	uevent_monitor_free(mon);
	return r;
}

void uevent_monitor_free(struct uevent_monitor *mon)
{
	if (!mon)
		return;
	if (mon->io)
		event_free(mon->io);
	if (mon->sk)
		nl_socket_free(mon->sk); /* closes the fd */
	log_debug("uevent: %llu PCI events, %llu ignored, %llu overflows", mon->received,
		  mon->ignored, mon->overflows);
	free(mon);
}
