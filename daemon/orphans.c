/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager.ListOrphans and Manager.ReleaseOrphan: stored fds that the state
 * file did not explain after a restart, kept until an operator decides. */
#include "daemon.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "state.h"

void orphan_describe(const struct stored_fd *sf, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", sf->fd);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		snprintf(buf, len, "unreadable: %s", strerror(errno));
	else
		buf[n] = '\0';
}


int manager_method_list_orphans(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	sd_bus_message *reply = NULL;
	char target[PATH_MAX];
	int r = daemon_require_root(m, "ListOrphans is for root: orphaned fds may hold any "
				    "user's memory", error);

	if (r < 0)
		return r;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(ss)");
	for (size_t i = 0; r >= 0 && i < d->norphans; i++) {
		orphan_describe(&d->orphans[i], target, sizeof(target));
		r = sd_bus_message_append(reply, "(ss)", d->orphans[i].name, target);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

int manager_method_release_orphan(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	const char *name;
	int r = daemon_require_root(m, "ReleaseOrphan is for root: orphaned fds may hold any "
				    "user's memory", error);

	if (r < 0)
		return r;
	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = daemon_release_orphan(d, name);
	if (r == -ENOENT)
		return error_set(error, VIOMMU_ERROR_NOT_FOUND,
				 "no orphaned fd is stored under \"%.256s\" (see ListOrphans)", name);
	if (r < 0)
		return error_errno(error, r, "cannot release %s", name);
	return sd_bus_reply_method_return(m, NULL);
}
