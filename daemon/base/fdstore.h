/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service manager's fd store (sd_notify FDSTORE=1), which keeps the
 * kernel objects of every VM alive while the daemon restarts.
 *
 * Each stored fd has a name of its own, "vm<ID>.<what>" (vm3.iommufd,
 * vm3.dev.0000_00_01.0, vm3.eventq7, vm3.eventq7.notify). FDSTOREREMOVE drops
 * every fd of a name, so one name per VM would make detaching one device a
 * remove-everything-then-store-again, and a kill -9 in between would lose the
 * VM's iommufd; with a name per fd, nothing but the fd leaving is ever out of
 * the store. Without NOTIFY_SOCKET every call is a successful no-op.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* systemd's FDNAME_MAX; names never hold ':' (the LISTEN_FDNAMES separator). */
#define FDSTORE_NAME_MAX 256
/* SCM_MAX_FD: the most fds one datagram may carry. */
#define FDSTORE_FDS_PER_MESSAGE 253

struct stored_fd {
	int fd;
	char name[FDSTORE_NAME_MAX];
	bool used; /* adopted by a VM (or closed); the rest are orphans */
};

/* Whether a service manager listens (NOTIFY_SOCKET is set). */
bool fdstore_enabled(void);
/* Stores fds under name; with poll false the manager does not drop them on a
 * hang-up (pidfds). Waits until the manager has them (a barrier). */
int fdstore_add(const char *name, const int *fds, size_t n, bool poll);
/* Drops every fd stored under name, and waits until the manager has. */
int fdstore_remove(const char *name);
/* "vm<id>.<what>", with ':' (PCI addresses) written as '_'. */
void fdstore_name(char *buf, size_t len, unsigned int vm_id, const char *what);
/* The fds the manager handed back (LISTEN_FDS/LISTEN_FDNAMES), except
 * listening sockets, which are the private socket's. */
int fdstore_take(struct stored_fd **out, size_t *n);
