/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's uevents for PCI devices (NETLINK_KOBJECT_UEVENT, group 1,
 * through libnl-3), on the daemon's libevent loop: add, remove, bind,
 * unbind, change. Only SUBSYSTEM=pci is passed on: a vfio-dev cdev appears
 * while vfio-pci probes, before the PCI device's bind event, and goes before
 * its unbind event, so bind/unbind already say when the cdev changed.
 */
#pragma once

#include "uevent-parse.h"

struct event_base;
struct uevent_monitor;

/*
 * Opens the socket and starts watching it on base. on_event gets every
 * kernel PCI uevent, and one with action UEVENT_ACTION_RESYNC (no other
 * field set) when events were lost to a receive-buffer overflow: the
 * consumer must then rescan everything. ev is valid during the call only.
 * Returns 0 or a negative errno (-EPROTONOSUPPORT: no netlink in the kernel).
 */
int uevent_monitor_new(struct event_base *base,
		       void (*on_event)(const struct uevent *ev, void *ud), void *ud,
		       struct uevent_monitor **out);
/* Stops watching and closes the socket; NULL is fine. */
void uevent_monitor_free(struct uevent_monitor *mon);
