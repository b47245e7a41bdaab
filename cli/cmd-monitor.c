/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommuctl monitor: one line per DeviceAdded/DeviceRemoved signal of the
 * Manager and per InterfacesAdded/InterfacesRemoved of the ObjectManager at
 * /org/viommu1 (devices, and the caller's VMs with their objects), as it
 * comes, until SIGINT or SIGTERM. The process's signals are taken through a
 * signalfd so that they cannot slip in between two polls.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "viommuctl.h"

static const struct out_column signal_columns[] = {
	{ "signal", "SIGNAL" },
	{ "device", "DEVICE" },
	{ "path", "PATH" },
	{ "interface", "INTERFACE" },
};

static void print_row(struct ctl *c, const char *member, const char *path, const char *iface)
{
	/* The DEVICE column names devices only. */
	char *name = strncmp(path, VIOMMU_DEVICE_PREFIX "/", strlen(VIOMMU_DEVICE_PREFIX "/")) == 0
			     ? device_name_from_path(path)
			     : NULL;

	out_row(c->out, (struct out_value[]){
		OV_STR(member),
		OV_STR(name ? name : ""),
		OV_STR(path),
		OV_STR(iface),
	});
	free(name);
}

/* InterfacesAdded (o, a{sa{sv}}) or InterfacesRemoved (o, as): a row per interface. */
static int on_object_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct ctl *c = userdata;
	const char *member = sd_bus_message_get_member(m), *path = NULL, *iface;
	bool added;

	if (!member || (strcmp(member, "InterfacesAdded") != 0 &&
			strcmp(member, "InterfacesRemoved") != 0))
		return 0;
	added = strcmp(member, "InterfacesAdded") == 0;
	if (sd_bus_message_read(m, "o", &path) < 0 ||
	    sd_bus_message_enter_container(m, 'a', added ? "{sa{sv}}" : "s") < 0)
		return 0; /* not what the API promises: ignore it */
	for (;;) {
		if (added) {
			if (sd_bus_message_enter_container(m, 'e', "sa{sv}") <= 0 ||
			    sd_bus_message_read(m, "s", &iface) < 0 ||
			    sd_bus_message_skip(m, "a{sv}") < 0 ||
			    sd_bus_message_exit_container(m) < 0)
				break;
		} else if (sd_bus_message_read(m, "s", &iface) <= 0) {
			break;
		}
		print_row(c, member, path, iface);
	}
	return 0;
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct ctl *c = userdata;
	const char *member = sd_bus_message_get_member(m), *path = NULL;

	if (!member || (strcmp(member, "DeviceAdded") != 0 && strcmp(member, "DeviceRemoved") != 0))
		return 0;
	if (sd_bus_message_read(m, "o", &path) < 0)
		return 0; /* not what the API promises: ignore it */
	print_row(c, member, path, VIOMMU_IFACE_DEVICE);
	return 0;
}

/* Milliseconds until sd-bus wants to run again, -1 for never. */
static int bus_timeout_ms(sd_bus *bus)
{
	struct timespec ts;
	uint64_t until = 0, now;

	if (sd_bus_get_timeout(bus, &until) < 0 || until == UINT64_MAX)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	return until <= now ? 0 : (int)((until - now + 999) / 1000);
}

static int loop(struct ctl *c, int sfd)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = sd_bus_get_fd(c->bus), .events = (short)sd_bus_get_events(c->bus) },
			{ .fd = sfd, .events = POLLIN },
		};
		int r = sd_bus_process(c->bus, NULL);

		if (r < 0 || !sd_bus_is_open(c->bus))
			return bus_set_error(c, SD_BUS_ERROR_DISCONNECTED, r < 0 ? -r : ECONNRESET,
					     "viommud closed the connection");
		if (r > 0)
			continue;
		if (poll(p, 2, bus_timeout_ms(c->bus)) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents)
			return 0; /* SIGINT or SIGTERM: a normal end */
	}
}

/* Signals of iface from /org/viommu1. On the system bus the match also
 * subscribes; on the private socket it only filters what the daemon sends. */
static int subscribe(struct ctl *c, const char *iface, sd_bus_message_handler_t handler,
		     sd_bus_slot **slot)
{
	char match[256];

	snprintf(match, sizeof(match), "type='signal',%s%s%sinterface='%s',path='" VIOMMU_ROOT_PATH "'",
		 c->destination ? "sender='" : "", c->destination ? c->destination : "",
		 c->destination ? "'," : "", iface);
	return sd_bus_add_match(c->bus, slot, match, handler, c);
}

int cmd_monitor(struct ctl *c, int argc, char **argv)
{
	sd_bus_slot *slot = NULL, *objects_slot = NULL;
	sigset_t mask;
	int sfd, r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		return -errno;
	r = subscribe(c, VIOMMU_IFACE_MANAGER, on_signal, &slot);
	if (r >= 0)
		r = subscribe(c, "org.freedesktop.DBus.ObjectManager", on_object_signal, &objects_slot);
	if (r < 0) {
		r = bus_set_error(c, SD_BUS_ERROR_FAILED, -r, "cannot subscribe: %s", strerror(-r));
		goto out;
	}
	/* The daemon sends object signals to the callers of GetManagedObjects. */
	r = sd_bus_call_method(c->bus, c->destination, VIOMMU_ROOT_PATH,
			       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL, NULL,
			       "");
	if (r < 0) {
		r = bus_set_error(c, SD_BUS_ERROR_FAILED, -r, "cannot reach viommud: %s",
				  strerror(-r));
		goto out;
	}
	out_table_begin(c->out, NULL, NULL, signal_columns,
			sizeof(signal_columns) / sizeof(signal_columns[0]), OUT_TABLE_STREAM);
	r = loop(c, sfd);
	out_table_end(c->out);
out:
	sd_bus_slot_unref(objects_slot);
	sd_bus_slot_unref(slot);
	close(sfd);
	return r;
}
