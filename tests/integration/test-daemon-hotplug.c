/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hot-plug through the kernel's uevents (guest flavour vtd; config
 * {"allowed_devices": ["1234:11e8"]}). The edu device is removed through
 * sysfs: DeviceRemoved, and it leaves ListDevices; a PCI rescan brings it
 * back with DeviceAdded. Bound to vfio-pci by hand (driver_override +
 * drivers_probe), and unbound again: Describe shows the new driver. Describe
 * does not re-read sysfs (the Driver and Cdev properties do), so only the
 * uevent can have told the daemon; no SIGHUP is sent. Last, a uevent storm
 * while the daemon is stopped overflows its socket and the removal that
 * follows is lost: the resync after the overflow still finds it.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "pci-sysfs.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define SYS_PCI "/sys/bus/pci"
#define SIGNAL_TIMEOUT_MS 20000
#define STORM 30000 /* change events: far more than the daemon's 4 MiB buffer holds */

static struct vc c;
static struct pci_sysfs_device edu;
static char *dev;

/* DeviceAdded/DeviceRemoved seen and not yet waited for. */
static struct {
	char member[16];
	char path[128];
} seen[64];
static unsigned int nseen;

static int on_device_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *path = NULL;

	if (sd_bus_message_read(m, "o", &path) < 0 || nseen >= sizeof(seen) / sizeof(seen[0]))
		return 0;
	snprintf(seen[nseen].member, sizeof(seen[nseen].member), "%s",
		 sd_bus_message_get_member(m));
	snprintf(seen[nseen].path, sizeof(seen[nseen].path), "%s", path);
	nseen++;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Takes a seen signal out of the list; whether there was one. */
static bool take_seen(const char *member, const char *path)
{
	for (unsigned int i = 0; i < nseen; i++) {
		if (strcmp(seen[i].member, member) != 0 || strcmp(seen[i].path, path) != 0)
			continue;
		memmove(&seen[i], &seen[i + 1], (nseen - i - 1) * sizeof(seen[0]));
		nseen--;
		return true;
	}
	return false;
}

/* Dispatches the connection until member(path) arrives or time runs out. */
static bool wait_signal(const char *member, const char *path, unsigned int timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		int r;

		while ((r = sd_bus_process(c.bus, NULL)) > 0)
			;
		if (r < 0 || take_seen(member, path))
			return r >= 0;
		if (now_ms() >= deadline)
			return false;
		sd_bus_wait(c.bus, (deadline - now_ms()) * 1000);
	}
}

static int write_sysfs(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int write_dev_attr(const char *attr, const char *value)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), SYS_PCI "/devices/%s/%s", edu.bdf, attr);
	return write_sysfs(path, value);
}

static bool listed(void)
{
	char **devices = NULL;
	bool found;

	CHECK_DBUS_OK(&c, vc_list(&c, "ListDevices", &devices));
	found = vc_strv_contains(devices, dev);
	vc_strv_free(devices);
	return found;
}

/* The driver Describe() shows: the daemon's record, not a fresh sysfs read.
 * NULL when the device is not in it. */
static char *described_driver(void)
{
	struct json_object *root = vc_describe_json(&c), *obj;
	char *driver = NULL;

	CHECK(root);
	obj = vc_json_by_path(root, "devices", dev);
	if (obj)
		driver = strdup(vc_json_str(obj, "driver"));
	json_object_put(root);
	return driver;
}

/* Polls Describe() until it shows driver; bounded. */
static void wait_described_driver(const char *driver)
{
	struct timespec ms = { 0, 20 * 1000 * 1000 };
	uint64_t deadline = now_ms() + SIGNAL_TIMEOUT_MS;
	char *now = NULL;

	for (;;) {
		free(now);
		now = described_driver();
		CHECK(now);
		if (strcmp(now, driver) == 0)
			break;
		if (now_ms() >= deadline)
			check_fail(__FILE__, __LINE__,
				   "Describe still says driver \"%s\", not \"%s\"", now, driver);
		nanosleep(&ms, NULL);
	}
	free(now);
}

static void test_setup(void)
{
	char *driver;

	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu));
	check_note("edu at %s, driver \"%s\"", edu.bdf, edu.driver);
	CHECK_OK(vc_connect(&c, NULL));
	CHECK(sd_bus_match_signal(c.bus, NULL, NULL, VC_ROOT, VC_MANAGER, "DeviceAdded",
				  on_device_signal, NULL) >= 0);
	CHECK(sd_bus_match_signal(c.bus, NULL, NULL, VC_ROOT, VC_MANAGER, "DeviceRemoved",
				  on_device_signal, NULL) >= 0);
	dev = vc_find_device(&c, edu.bdf);
	CHECK(dev);
	driver = described_driver();
	CHECK_STREQ(driver, edu.driver);
	free(driver);
}

static void test_remove(void)
{
	char *s = NULL;

	CHECK(dev && listed());
	CHECK_OK(write_dev_attr("remove", "1"));
	CHECK(wait_signal("DeviceRemoved", dev, SIGNAL_TIMEOUT_MS));
	CHECK(!listed());
	s = described_driver();
	CHECK(!s);
	CHECK_DBUS_ERROR(&c, vc_get_string(&c, dev, VC_DEVICE, "Name", &s),
			 VC_ERR_UNKNOWN_OBJECT);
}

static void test_rescan(void)
{
	struct pci_sysfs_device again;
	char *s = NULL;

	CHECK(dev);
	CHECK_OK(write_sysfs(SYS_PCI "/rescan", "1"));
	CHECK(wait_signal("DeviceAdded", dev, SIGNAL_TIMEOUT_MS));
	CHECK(listed());
	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &again));
	CHECK_STREQ(again.bdf, edu.bdf);
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Name", &s));
	CHECK_STREQ(s, edu.bdf);
	free(s);
	s = described_driver();
	CHECK_STREQ(s, "");
	free(s);
}

static void test_bind_by_hand(void)
{
	char *s = NULL;

	CHECK(dev);
	s = described_driver();
	CHECK_STREQ(s, "");
	free(s);
	CHECK_OK(write_dev_attr("driver_override", "vfio-pci"));
	CHECK_OK(write_sysfs(SYS_PCI "/drivers_probe", edu.bdf));
	/* Nothing asked the daemon to look: the bind uevent did. */
	wait_described_driver("vfio-pci");
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Driver", &s));
	CHECK_STREQ(s, "vfio-pci");
	free(s);
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Cdev", &s));
	check_note("cdev %s", s);
	CHECK(strncmp(s, "vfio", 4) == 0);
	free(s);
}

static void test_unbind_by_hand(void)
{
	char path[PATH_MAX];

	CHECK(dev);
	snprintf(path, sizeof(path), SYS_PCI "/devices/%s/driver/unbind", edu.bdf);
	CHECK_OK(write_sysfs(path, edu.bdf));
	CHECK_OK(write_dev_attr("driver_override", "\n"));
	wait_described_driver("");
	CHECK(listed());
}

/* A PCI device other than the edu, to storm with change events. */
static int other_pci_device(char *out, size_t size)
{
	struct pci_sysfs_device *list = NULL;
	size_t count = 0;
	int r = pci_sysfs_list(NULL, &list, &count);

	if (r < 0)
		return r;
	r = -ENODEV;
	for (size_t i = 0; i < count && r < 0; i++) {
		if (strcmp(list[i].bdf, edu.bdf) == 0)
			continue;
		snprintf(out, size, "%s", list[i].bdf);
		r = 0;
	}
	free(list);
	return r;
}

/* Whether the daemon's log (beside its socket) has line in it. */
static bool daemon_logged(const char *line)
{
	const char *sock = getenv("VIOMMU_SOCKET");
	char path[PATH_MAX], buf[512];
	bool found = false;
	FILE *f;

	if (!sock)
		return false;
	snprintf(path, sizeof(path), "%.*s/viommud.log", (int)(strrchr(sock, '/') - sock), sock);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(buf, sizeof(buf), f))
		found = strstr(buf, line) != NULL;
	fclose(f);
	return found;
}

static void test_storm_overflow(void)
{
	const char *pid_s = getenv("VIOMMUD_PID");
	pid_t pid = pid_s ? (pid_t)atoi(pid_s) : 0;
	char other[PCI_NAME_MAX], path[PATH_MAX];
	unsigned int written = 0;
	int fd, removed;

	CHECK(dev && pid > 0);
	CHECK(!daemon_logged("receive buffer overflow"));
	CHECK_OK(other_pci_device(other, sizeof(other)));
	snprintf(path, sizeof(path), SYS_PCI "/devices/%s/uevent", other);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	/* Stopped, the daemon reads nothing: the storm fills its socket, and
	 * the edu's removal right after it is dropped by the kernel. Nothing
	 * here may end the case before SIGCONT. */
	CHECK(kill(pid, SIGSTOP) == 0);
	for (unsigned int i = 0; i < STORM; i++)
		written += pwrite(fd, "change", 6, 0) == 6;
	removed = write_dev_attr("remove", "1");
	kill(pid, SIGCONT);
	close(fd);
	check_note("%u change events on %s while stopped", written, other);
	CHECK_EQ(written, STORM);
	CHECK_OK(removed);
	/* Only the resync after the overflow can find the removal now. */
	CHECK(wait_signal("DeviceRemoved", dev, 60000));
	CHECK(!listed());
	CHECK(daemon_logged("receive buffer overflow"));
	CHECK(vc_alive(&c));
	/* And the monitor still works after it. */
	CHECK_OK(write_sysfs(SYS_PCI "/rescan", "1"));
	CHECK(wait_signal("DeviceAdded", dev, SIGNAL_TIMEOUT_MS));
	CHECK(listed());
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_setup),		 CHECK_CASE(test_remove),
		CHECK_CASE(test_rescan),	 CHECK_CASE(test_bind_by_hand),
		CHECK_CASE(test_unbind_by_hand), CHECK_CASE(test_storm_overflow),
	};
	int r = check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);

	free(dev);
	vc_close(&c);
	return r;
}
