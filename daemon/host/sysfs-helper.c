/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommud-sysfs-helper (see sysfs-helper.h): serves one connection that
 * systemd accepted on viommud-sysfs.socket, from root only, and exits when
 * the connection closes. Each Write is checked by pci_sysfs_write() (an
 * existing PCI device, a valid and, to bind or unbind, existing driver) and
 * logged.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "pci-sysfs.h"
#include "sysfs-helper.h"

static const char *const op_names[] = {
	[PCI_SYSFS_OVERRIDE] = "driver_override",
	[PCI_SYSFS_UNBIND] = "unbind",
	[PCI_SYSFS_BIND] = "bind",
	[PCI_SYSFS_PROBE] = "drivers_probe",
};

static int method_write(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *bdf, *driver;
	uint32_t op;
	int r;

	r = sd_bus_message_read(m, "uss", &op, &bdf, &driver);
	if (r < 0)
		return r;
	if (op >= sizeof(op_names) / sizeof(op_names[0]))
		return sd_bus_error_set_errnof(error, EINVAL, "no write %u", op);
	r = pci_sysfs_write(NULL, (enum pci_sysfs_write_op)op, bdf, driver);
	fprintf(stderr, "%s %s%s%s: %s\n", op_names[op], bdf, driver[0] ? " " : "", driver,
		r < 0 ? strerror(-r) : "done");
	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "%s of %s: %s", op_names[op], bdf,
					       strerror(-r));
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable helper_vtable[] = {
	SD_BUS_VTABLE_START(0),
	/* "Write" spelled out: the doc test reads the name here. */
	SD_BUS_METHOD_WITH_ARGS("Write", SD_BUS_ARGS("u", op, "s", bdf, "s", driver),
				SD_BUS_NO_RESULT, method_write, 0),
	SD_BUS_VTABLE_END,
};

static int serve(int fd)
{
	sd_bus *bus = NULL;
	sd_id128_t id;
	int r;

	r = sd_id128_randomize(&id);
	if (r >= 0)
		r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_fd(bus, fd, fd);
	if (r >= 0)
		r = sd_bus_set_server(bus, 1, id);
	if (r >= 0)
		r = sd_bus_add_object_vtable(bus, NULL, SYSFS_HELPER_PATH, SYSFS_HELPER_IFACE,
					     helper_vtable, NULL);
	if (r >= 0)
		r = sd_bus_start(bus);
	while (r >= 0) {
		r = sd_bus_process(bus, NULL);
		if (r == 0)
			r = sd_bus_wait(bus, UINT64_MAX);
	}
	if (bus)
		sd_bus_flush_close_unref(bus);
	/* The peer closing is how every connection ends. */
	return r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE ? 0 : r;
}

int main(int argc, char **argv)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = SD_LISTEN_FDS_START, r;

	if (argc > 1 || sd_listen_fds(1) != 1) {
		fprintf(stderr, "viommud-sysfs-helper: run by viommud-sysfs.socket (Accept=yes), "
				"one connection on fd 3\n");
		return 2;
	}
	/* The socket is 0600 root: a second look costs nothing. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
		fprintf(stderr, "viommud-sysfs-helper: refusing a peer that is not root\n");
		return 1;
	}
	r = serve(fd);
	if (r < 0)
		fprintf(stderr, "viommud-sysfs-helper: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}
