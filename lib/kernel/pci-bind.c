/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Binding a device to vfio-pci and giving it back to its previous driver. */
#include "pci-sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sysfs-util.h"

#define VFIO_PCI "vfio-pci"
#define BIND_POLL_MS 10
#define BIND_POLL_TRIES 200 /* about 2 s */

static pci_sysfs_writer_fn writer;

void pci_sysfs_set_writer(pci_sysfs_writer_fn fn)
{
	writer = fn;
}

static int driver_dir(const char *root, const char *driver, char *buf, size_t size)
{
	struct stat st;
	int r;

	if (!pci_driver_name_valid(driver))
		return -EINVAL;
	r = sysfs_path(buf, size, "%s/bus/pci/drivers/%s", sysfs_root(root), driver);
	if (r < 0)
		return r;
	return stat(buf, &st) < 0 ? -ENODEV : 0;
}

int pci_sysfs_write(const char *root, enum pci_sysfs_write_op op, const char *bdf,
		    const char *driver)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int r;

	if (!bdf || !driver)
		return -EINVAL;
	r = sysfs_pci_device_dir(root, bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	switch (op) {
	case PCI_SYSFS_OVERRIDE:
		if (driver[0] && !pci_driver_name_valid(driver))
			return -EINVAL;
		r = sysfs_path(path, sizeof(path), "%s/driver_override", dir);
		/* "\n" clears it. */
		return r < 0 ? r : sysfs_write_text(path, driver[0] ? driver : "\n");
	case PCI_SYSFS_UNBIND:
	case PCI_SYSFS_BIND:
		r = driver_dir(root, driver, dir, sizeof(dir));
		if (r == 0)
			r = sysfs_path(path, sizeof(path), "%s/%s", dir,
				       op == PCI_SYSFS_BIND ? "bind" : "unbind");
		return r < 0 ? r : sysfs_write_text(path, bdf);
	case PCI_SYSFS_PROBE:
		r = sysfs_path(path, sizeof(path), "%s/bus/pci/drivers_probe", sysfs_root(root));
		return r < 0 ? r : sysfs_write_text(path, bdf);
	}
	return -EINVAL;
}

static int do_write(const char *root, enum pci_sysfs_write_op op, const char *bdf,
		    const char *driver)
{
	if (writer && !root)
		return writer(op, bdf, driver);
	return pci_sysfs_write(root, op, bdf, driver);
}

static int driver_unbind(const char *root, const char *driver, const char *bdf)
{
	return do_write(root, PCI_SYSFS_UNBIND, bdf, driver);
}

static int driver_bind(const char *root, const char *driver, const char *bdf)
{
	return do_write(root, PCI_SYSFS_BIND, bdf, driver);
}

static int probe(const char *root, const char *bdf)
{
	return do_write(root, PCI_SYSFS_PROBE, bdf, "");
}

static int set_override(const char *root, const char *bdf, const char *driver)
{
	return do_write(root, PCI_SYSFS_OVERRIDE, bdf, driver);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Waits until the device's driver is want ("" for none). Unbinding is
 * synchronous, but a driver may probe asynchronously, so a probe is awaited.
 */
static int wait_driver(const char *dir, const char *want)
{
	char driver[PCI_NAME_MAX];
	int r;

	for (int i = 0; i < BIND_POLL_TRIES; i++) {
		r = sysfs_dir_driver(dir, driver, sizeof(driver));
		if (r < 0)
			return r;
		if (strcmp(driver, want) == 0)
			return 0;
		sleep_ms(BIND_POLL_MS);
	}
	return -ETIMEDOUT;
}

int pci_sysfs_bind_vfio(const char *root, const char *bdf, struct pci_driver_binding *saved)
{
	struct pci_driver_binding b = { 0 };
	char dir[PATH_MAX], path[PATH_MAX], cdev[PCI_NAME_MAX];
	int r;

	r = sysfs_pci_device_dir(root, bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	strcpy(b.bdf, bdf);
	r = sysfs_dir_driver(dir, b.driver, sizeof(b.driver));
	if (r < 0)
		return r;
	r = sysfs_path(path, sizeof(path), "%s/driver_override", dir);
	if (r == 0)
		r = sysfs_read_text(path, b.driver_override, sizeof(b.driver_override));
	if (r < 0)
		return r;
	if (strcmp(b.driver_override, "(null)") == 0)
		b.driver_override[0] = '\0';

	if (strcmp(b.driver, VFIO_PCI) != 0) {
		r = driver_dir(root, VFIO_PCI, path, sizeof(path));
		if (r < 0)
			return r; /* -ENODEV: vfio-pci is not loaded */
		r = set_override(root, bdf, VFIO_PCI);
		if (r < 0)
			return r;
		if (b.driver[0]) {
			r = driver_unbind(root, b.driver, bdf);
			if (r == 0)
				r = wait_driver(dir, "");
			if (r < 0)
				goto undo;
		}
		r = probe(root, bdf);
		if (r < 0)
			goto undo;
	}

	for (int i = 0; i < BIND_POLL_TRIES; i++) {
		char driver[PCI_NAME_MAX];

		r = sysfs_dir_driver(dir, driver, sizeof(driver));
		if (r < 0)
			goto undo;
		if (strcmp(driver, VFIO_PCI) == 0 && sysfs_dir_vfio_cdev(dir, cdev, sizeof(cdev)) == 0) {
			*saved = b;
			return 0;
		}
		sleep_ms(BIND_POLL_MS);
	}
	r = -ETIMEDOUT;
undo:
	pci_sysfs_restore_driver(root, &b);
	return r;
}

int pci_sysfs_restore_driver(const char *root, const struct pci_driver_binding *saved)
{
	char dir[PATH_MAX], driver[PCI_NAME_MAX];
	int r;

	/* A name becomes a path and a sysfs write: nothing but a driver name. */
	if ((saved->driver[0] && !pci_driver_name_valid(saved->driver)) ||
	    (saved->driver_override[0] && !pci_driver_name_valid(saved->driver_override)))
		return -EINVAL;
	r = sysfs_pci_device_dir(root, saved->bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	if (strcmp(saved->driver, VFIO_PCI) == 0)
		return 0; /* it was ours before: leave it */

	r = sysfs_dir_driver(dir, driver, sizeof(driver));
	if (r < 0)
		return r;
	if (strcmp(driver, VFIO_PCI) == 0) {
		/* Blocks until every fd of the device is closed. */
		r = driver_unbind(root, VFIO_PCI, saved->bdf);
		if (r == 0)
			r = wait_driver(dir, "");
		if (r < 0)
			return r;
	}
	r = set_override(root, saved->bdf, saved->driver_override);
	if (r < 0)
		return r;
	if (!saved->driver[0])
		return 0; /* it had no driver: leave it unbound */

	r = probe(root, saved->bdf);
	if (r == 0)
		r = wait_driver(dir, saved->driver);
	if (r != -ETIMEDOUT)
		return r;
	r = sysfs_dir_driver(dir, driver, sizeof(driver));
	if (r < 0)
		return r;
	if (driver[0])
		return -EBUSY; /* another driver took it */
	/* Probing did not pick it (e.g. it had been bound by hand): bind directly. */
	r = driver_bind(root, saved->driver, saved->bdf);
	if (r == 0)
		r = wait_driver(dir, saved->driver);
	return r == -ETIMEDOUT ? -EBUSY : r;
}

int pci_sysfs_rebind_vfio(const char *root, const char *bdf)
{
	char dir[PATH_MAX], path[PATH_MAX], override[PCI_NAME_MAX], driver[PCI_NAME_MAX];
	int r, q;

	r = sysfs_pci_device_dir(root, bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	r = sysfs_dir_driver(dir, driver, sizeof(driver));
	if (r < 0)
		return r;
	if (strcmp(driver, VFIO_PCI) != 0)
		return -EBUSY; /* someone else has it now: not ours to move */
	r = sysfs_path(path, sizeof(path), "%s/driver_override", dir);
	if (r == 0)
		r = sysfs_read_text(path, override, sizeof(override));
	if (r < 0)
		return r;
	if (strcmp(override, "(null)") == 0)
		override[0] = '\0';
	/* Back to vfio-pci, whatever else matches the device. */
	r = set_override(root, bdf, VFIO_PCI);
	if (r < 0)
		return r;
	/* Blocks until every fd of the device is closed. */
	r = driver_unbind(root, VFIO_PCI, bdf);
	if (r == 0)
		r = wait_driver(dir, "");
	if (r == 0)
		r = probe(root, bdf);
	if (r == 0)
		r = wait_driver(dir, VFIO_PCI);
	q = set_override(root, bdf, override);
	return r < 0 ? r : q;
}
