/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One kernel uevent datagram, parsed: "ACTION@DEVPATH\0KEY=VALUE\0...".
 * The parser copies the datagram into the struct and splits it in place, so
 * a parsed uevent owns its strings and needs no freeing. Pure: no I/O, no
 * allocation, bounded by UEVENT_SIZE_MAX bytes and UEVENT_VARS_MAX keys.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UEVENT_SIZE_MAX 8192 /* bytes of one datagram, NULs included */
#define UEVENT_VARS_MAX 64   /* KEY=VALUE entries after the header */

enum uevent_action {
	UEVENT_ACTION_OTHER, /* move, online, offline, anything new */
	UEVENT_ACTION_ADD,
	UEVENT_ACTION_REMOVE,
	UEVENT_ACTION_BIND,
	UEVENT_ACTION_UNBIND,
	UEVENT_ACTION_CHANGE,
	/* Not from the kernel: the monitor lost events (receive buffer
	 * overflow); every other field is empty and a full rescan is due. */
	UEVENT_ACTION_RESYNC,
};

struct uevent_var {
	const char *key;
	const char *value;
};

struct uevent {
	enum uevent_action action;
	const char *action_name; /* as the kernel spelt it, e.g. "add" */
	const char *devpath;	 /* "/devices/pci0000:00/0000:00:03.0" */
	const char *sysname;	 /* the last component of devpath */
	/* Well-known keys; NULL when the datagram does not carry them. */
	const char *subsystem;	   /* SUBSYSTEM */
	const char *devtype;	   /* DEVTYPE */
	const char *driver;	   /* DRIVER (bind, and add/change of a bound device) */
	const char *pci_slot_name; /* PCI_SLOT_NAME: "0000:00:03.0" */
	const char *pci_id;	   /* PCI_ID: "1234:11E8" */
	bool has_seqnum;
	uint64_t seqnum; /* SEQNUM */
	unsigned int nvars;
	struct uevent_var vars[UEVENT_VARS_MAX];
	char buf[UEVENT_SIZE_MAX]; /* the strings above point in here */
};

/*
 * Parses len bytes of one datagram into ev. Returns 0; -EINVAL for anything
 * malformed (empty or over UEVENT_SIZE_MAX, not NUL-terminated, a header
 * without '@' or with an empty action or devpath, an entry without "KEY=",
 * an empty entry, more than UEVENT_VARS_MAX entries, a key given twice with
 * different values, ACTION or DEVPATH keys that disagree with the header, a
 * SEQNUM that is not a decimal number); -EPROTO for a libudev message (they
 * start with "libudev\0": udevd's re-broadcast, not the kernel's). Bytes
 * other than NUL are passed through as they are (no UTF-8 check). On error
 * ev is left zeroed apart from buf.
 */
int uevent_parse(const void *data, size_t len, struct uevent *ev);

/* The value of key, or NULL. The first one when given twice (they agree). */
const char *uevent_get(const struct uevent *ev, const char *key);

/* "add", "remove", ..., "resync". */
const char *uevent_action_name(enum uevent_action action);
