/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A device that leaves a VM is quarantined until every fd of that VM's time
 * is closed, and only then is it assignable again: the kernel finishes an
 * unbind from vfio-pci only once no fd of the device is open, so a thread of
 * its own unbinds it and either gives it back to the driver it had before
 * (the daemon bound it, restore_driver) or binds it to vfio-pci again (a VMM
 * had one of its fds). The loop never waits: a VMM can hold a device in ways
 * no /proc scan sees (a BAR mapping, an fd in flight, an io_uring file).
 */
#include "model.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log-event.h"
#include "log.h"

/* Bounded: a release that a VMM blocks must not keep a stop from ending. */
#define RELEASE_EXIT_WAIT_MS 10000

struct release {
	const char *sysfs_root; /* NULL, or a test's tree that outlives the daemon */
	struct pci_driver_binding saved;
	bool rebind; /* back to vfio-pci, not to saved.driver */
	int done_fd; /* our own copy of the pipe's write end: "<bdf>\n" when done */
};

static void *release_thread(void *arg)
{
	struct release *rl = arg;
	const char *to = rl->rebind ? "vfio-pci" : rl->saved.driver[0] ? rl->saved.driver
									: "no driver";
	int r = rl->rebind ? pci_sysfs_rebind_vfio(rl->sysfs_root, rl->saved.bdf)
			   : pci_sysfs_restore_driver(rl->sysfs_root, &rl->saved);
	char line[PCI_BDF_MAX + 1];

	if (r < 0)
		log_warning("%s: cannot bind it to %s after its VM: %s", rl->saved.bdf, to,
			    strerror(-r));
	else
		log_info("%s: every fd of its last VM is closed; it is on %s", rl->saved.bdf, to);
	snprintf(line, sizeof(line), "%s\n", rl->saved.bdf);
	if (write(rl->done_fd, line, strlen(line)) < 0)
		log_debug("%s: cannot report the release: %s", rl->saved.bdf, strerror(errno));
	close(rl->done_fd);
	free(rl);
	return NULL;
}

/* Each line is one finished release: its device leaves quarantine. */
static void release_reap(struct daemon *d, int fd)
{
	char buf[1024], *line, *save = NULL;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			struct device *dev = device_by_name(d, line);

			if (d->release_pending)
				d->release_pending--;
			if (!dev)
				continue;
			dev->quarantined = false;
			device_refresh(d, dev);
		}
	}
}

static void on_release_done(evutil_socket_t fd, short events, void *arg)
{
	release_reap(arg, fd);
}

int device_release_init(struct daemon *d)
{
	if (pipe2(d->release_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	d->release_event = event_new(d->base, d->release_pipe[0], EV_READ | EV_PERSIST,
				     on_release_done, d);
	if (!d->release_event || event_add(d->release_event, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void device_release_fini(struct daemon *d)
{
	struct pollfd pfd = { .fd = d->release_pipe[0], .events = POLLIN };

	for (int waited = 0; d->release_pending && pfd.fd >= 0 && waited < RELEASE_EXIT_WAIT_MS;
	     waited += 100)
		if (poll(&pfd, 1, 100) > 0)
			release_reap(d, pfd.fd);
	if (d->release_pending)
		log_warning("%zu devices are still quarantined: a VMM holds one of their fds",
			    d->release_pending);
	if (d->release_event)
		event_free(d->release_event);
	d->release_event = NULL;
	for (int i = 0; i < 2; i++)
		if (d->release_pipe[i] >= 0)
			close(d->release_pipe[i]);
}

void device_release(struct daemon *d, struct device *dev, bool fd_handed_out)
{
	bool restore = dev->daemon_bound && d->config->restore_driver;
	struct release *rl;
	pthread_t thread;
	int r;

	if (dev->mock || (!restore && !fd_handed_out))
		return; /* no fd of it left the daemon: it is free now */
	if (!pci_bdf_valid(dev->name))
		return;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return;
	rl->sysfs_root = d->sysfs_root;
	rl->saved = dev->saved;
	memcpy(rl->saved.bdf, dev->name, strlen(dev->name) + 1); /* a BDF: it fits */
	rl->rebind = !restore;
	rl->done_fd = fcntl(d->release_pipe[1], F_DUPFD_CLOEXEC, 3);
	if (rl->done_fd < 0) {
		log_warning("%s: cannot quarantine it: %s", dev->name, strerror(errno));
		free(rl);
		return;
	}
	r = pthread_create(&thread, NULL, release_thread, rl);
	if (r != 0) {
		log_warning("%s: cannot start a thread to quarantine it: %s", dev->name,
			    strerror(r));
		close(rl->done_fd);
		free(rl);
		return;
	}
	pthread_detach(thread);
	if (restore)
		dev->daemon_bound = false;
	dev->quarantined = true;
	dev->quarantine_to_driver = !rl->rebind;
	d->release_pending++;
	log_event(LOG_EVENT_DEVICE_QUARANTINED, LOG_NOTICE, LOG_FIELDS(.device = dev->name),
		  "AUDIT quarantine device=%s until=every fd of its last VM is closed then=%s",
		  dev->name,
		  restore ? (dev->saved.driver[0] ? dev->saved.driver : "no driver") : "vfio-pci");
}
