/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* viommud's side of viommud-sysfs-helper: one connection per write, so a
 * give-back thread blocked in an unbind never holds up the loop's binds. */
#include "sysfs-helper.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "log.h"
#include "pci-sysfs.h"

/* An unbind from vfio-pci waits for every fd of the device: as long as a
 * direct write would. The rest are quick. */
#define UNBIND_USEC (24ull * 3600 * 1000000)
#define WRITE_USEC (30ull * 1000000)

static struct sockaddr_un helper_addr;

static int helper_connect(sd_bus **out)
{
	sd_bus *bus = NULL;
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&helper_addr, sizeof(helper_addr)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_fd(bus, fd, fd);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		if (bus)
			sd_bus_unref(bus);
		else
			close(fd);
		return r;
	}
	*out = bus;
	return 0;
}

static int helper_write(enum pci_sysfs_write_op op, const char *bdf, const char *driver)
{
	__attribute__((cleanup(sd_bus_error_free))) sd_bus_error error = SD_BUS_ERROR_NULL;
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *call = NULL;
	sd_bus *bus = NULL;
	int r;

	r = helper_connect(&bus);
	if (r < 0) {
		log_error("cannot reach the sysfs helper at %s: %s (is viommud-sysfs.socket "
			  "running?)",
			  helper_addr.sun_path, strerror(-r));
		return r;
	}
	r = sd_bus_message_new_method_call(bus, &call, NULL, SYSFS_HELPER_PATH,
					   SYSFS_HELPER_IFACE, SYSFS_HELPER_WRITE);
	if (r >= 0)
		r = sd_bus_message_append(call, "uss", (uint32_t)op, bdf, driver);
	if (r >= 0)
		r = sd_bus_call(bus, call, op == PCI_SYSFS_UNBIND ? UNBIND_USEC : WRITE_USEC, &error,
				NULL);
	if (r < 0 && sd_bus_error_is_set(&error)) {
		log_debug("sysfs helper: %s", error.message ? error.message : error.name);
		r = sd_bus_error_get_errno(&error) ? -sd_bus_error_get_errno(&error) : r;
	}
	sd_bus_flush_close_unref(bus);
	return r;
}

void sysfs_client_use(const char *path)
{
	if (!path || strlen(path) >= sizeof(helper_addr.sun_path)) {
		pci_sysfs_set_writer(NULL);
		return;
	}
	helper_addr.sun_family = AF_UNIX;
	snprintf(helper_addr.sun_path, sizeof(helper_addr.sun_path), "%s", path);
	pci_sysfs_set_writer(helper_write);
	log_info("sysfs writes go through the helper at %s", path);
}
