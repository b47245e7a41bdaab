/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager.ListOrphans and Manager.ReleaseOrphan: stored fds that the state
 * file did not explain after a restart, kept until an operator decides. */
#include "daemon.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "authorize.h"
#include "errors.h"
#include "fd-identity.h"
#include "state.h"

/*
 * What a stored fd is, for a person. Device files by their device number
 * (the link of a file opened in the previous start's mount namespace reads
 * "/iommu"); anything else by its link, whose anon_inode names do not depend
 * on the namespace.
 */
void orphan_describe(const struct stored_fd *sf, const char *sysfs_root, char *buf, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (fd_is_iommufd(sysfs_root, sf->fd) == 0) {
		snprintf(buf, len, "/dev/iommu");
		return;
	}
	if (fstat(sf->fd, &st) == 0 && S_ISCHR(st.st_mode)) {
		snprintf(link, sizeof(link), "%s/dev/char/%u:%u", sysfs_root ? sysfs_root : "/sys",
			 major(st.st_rdev), minor(st.st_rdev));
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0) {
			snprintf(buf, len, "char %u:%u (no such device now)", major(st.st_rdev),
				 minor(st.st_rdev));
			return;
		}
		target[n] = '\0';
		/* "../../devices/pci0000:00/0000:00:05.0/vfio-dev/vfio0" */
		snprintf(buf, len, "char %u:%u %s", major(st.st_rdev), minor(st.st_rdev),
			 target + strspn(target, "./"));
		return;
	}
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
	int r = daemon_authorize(d, m, AUTH_RELEASE_ORPHANS, "list orphaned fds", NULL, error);

	if (r < 0)
		return r;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(ss)");
	for (size_t i = 0; r >= 0 && i < d->norphans; i++) {
		orphan_describe(&d->orphans[i], d->sysfs_root, target, sizeof(target));
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
	int r = daemon_authorize(d, m, AUTH_RELEASE_ORPHANS, "release orphaned fds", NULL, error);

	if (r < 0)
		return r;
	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	r = daemon_release_orphan(d, name);
	if (r == -ENOENT)
		return bus_error_set(error, VIOMMU_ERROR_NOT_FOUND,
				 "no orphaned fd is stored under \"%.256s\" (see ListOrphans)", name);
	if (r < 0)
		return bus_error_errno(error, r, "cannot release %s", name);
	return sd_bus_reply_method_return(m, NULL);
}
