/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fdstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"

/* A manager that does not answer a barrier in this long is wedged. */
#define FDSTORE_BARRIER_USEC (5 * 1000000ULL)

bool fdstore_enabled(void)
{
	const char *socket = getenv("NOTIFY_SOCKET");

	return socket && socket[0];
}

static int fdstore_barrier(void)
{
	int r;

	do
		r = sd_notify_barrier(0, FDSTORE_BARRIER_USEC);
	while (r == -EINTR);
	if (r < 0)
		log_warning("the service manager did not answer a notify barrier: %s",
			    strerror(-r));
	return r < 0 ? r : 0;
}

int fdstore_add(const char *name, const int *fds, size_t n, bool poll)
{
	char state[FDSTORE_NAME_MAX + 64];
	int r;

	if (!fdstore_enabled() || n == 0)
		return 0;
	snprintf(state, sizeof(state), "FDSTORE=1\nFDNAME=%s%s", name, poll ? "" : "\nFDPOLL=0");
	for (size_t done = 0; done < n; done += FDSTORE_FDS_PER_MESSAGE) {
		size_t chunk = n - done < FDSTORE_FDS_PER_MESSAGE ? n - done
								 : FDSTORE_FDS_PER_MESSAGE;

		r = sd_pid_notify_with_fds(0, 0, state, fds + done, (unsigned int)chunk);
		if (r < 0) {
			log_warning("cannot store %s with the service manager: %s; it will not "
				    "survive a restart of the daemon", name, strerror(-r));
			return r;
		}
	}
	return fdstore_barrier();
}

int fdstore_remove(const char *name)
{
	char state[FDSTORE_NAME_MAX + 64];
	int r;

	if (!fdstore_enabled())
		return 0;
	snprintf(state, sizeof(state), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	r = sd_notify(0, state);
	if (r < 0) {
		log_warning("cannot drop %s from the service manager's store: %s", name,
			    strerror(-r));
		return r;
	}
	return fdstore_barrier();
}

void fdstore_name(char *buf, size_t len, unsigned int vm_id, const char *what)
{
	snprintf(buf, len, "vm%u.%s", vm_id, what);
	for (char *p = buf; *p; p++)
		if (*p == ':')
			*p = '_';
}

int fdstore_take(struct stored_fd **out, size_t *n)
{
	char **names = NULL;
	struct stored_fd *fds;
	size_t count = 0;
	int nfds;

	*out = NULL;
	*n = 0;
	nfds = sd_listen_fds_with_names(0, &names);
	if (nfds <= 0) {
		free(names);
		return nfds;
	}
	fds = calloc((size_t)nfds, sizeof(*fds));
	if (!fds) {
		for (int i = 0; i < nfds; i++)
			free(names[i]);
		free(names);
		return -ENOMEM;
	}
	for (int i = 0; i < nfds; i++) {
		int fd = SD_LISTEN_FDS_START + i;

		if (sd_is_socket(fd, AF_UNSPEC, 0, 1) <= 0) {
			/* Ours from now on: never leak into a child. */
			if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
				log_warning("stored fd %d (%s): cannot set close-on-exec: %s", fd,
					    names[i], strerror(errno));
			fds[count].fd = fd;
			snprintf(fds[count].name, sizeof(fds[count].name), "%s",
				 names[i] ? names[i] : "unknown");
			count++;
		}
		free(names[i]);
	}
	free(names);
	*out = fds;
	*n = count;
	return 0;
}
