/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A former tenant keeps nothing (guest flavour vtd; config
 * {"allowed_devices": ["1234:11e8"], "bind_on_demand": true,
 *  "restore_driver": false, "fast_path_users": [0]}): the edu stays on
 * vfio-pci between VMs, so a device fd a VMM still holds after its VM is
 * gone would reach the next tenant's device. The daemon quarantines the
 * device until every such fd is closed (it rebinds it, and the kernel waits
 * for every open), hands out one cdev per broker reservation, and checks the
 * policy in force at every hand-out.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "edu.h"
#include "pci-sysfs.h"

static struct vc c;
static struct pci_sysfs_device edu;
static char *dev;

static char *create_vm(const char *name, const char *mode)
{
	sd_bus_message *reply = NULL;
	const char *path;
	char *out = NULL;

	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", name, 1,
				  "mode", "s", mode));
	CHECK(sd_bus_message_read(reply, "o", &path) > 0);
	out = strdup(path);
	sd_bus_message_unref(reply);
	return out;
}

static char *reason(void)
{
	char *s = NULL;

	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Reason", &s));
	return s;
}

/* Until the device is assignable again (bounded: 10 s). */
static bool wait_assignable(void)
{
	struct timespec ms = { 0, 20 * 1000 * 1000 };
	bool assignable = false;

	for (int i = 0; i < 500 && !assignable; i++) {
		CHECK_DBUS_OK(&c, vc_get_bool(&c, dev, VC_DEVICE, "Assignable", &assignable));
		if (!assignable)
			nanosleep(&ms, NULL);
	}
	return assignable;
}

static void test_find(void)
{
	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu));
	CHECK_OK(vc_connect(&c, NULL));
	dev = vc_find_device(&c, edu.bdf);
	CHECK(dev);
}

/* A managed VM's device fd, held past Destroy: the next VM waits for it. */
static void test_managed_fd_held(void)
{
	char *a = create_vm("tenant-a", "managed"), *b = create_vm("tenant-b", "managed");
	char *s, *driver = NULL;
	int fd = -1;

	CHECK_DBUS_OK(&c, vc_attach_device(&c, a, dev));
	CHECK_DBUS_OK(&c, vc_get_fd(&c, a, dev, &fd));
	CHECK_DBUS_OK(&c, vc_destroy(&c, a, VC_VM));
	s = reason();
	check_note("Reason while the old fd is open: %s", s);
	CHECK(strstr(s, "quarantined until every fd of its last VM is closed"));
	CHECK(strstr(s, "bound to vfio-pci"));
	free(s);
	/* Before the fix the next tenant got it at once. */
	CHECK(vc_attach_device(&c, b, dev) < 0);
	CHECK(close(fd) == 0);
	CHECK(wait_assignable());
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Driver", &driver));
	CHECK_STREQ(driver, "vfio-pci");
	free(driver);
	CHECK_DBUS_OK(&c, vc_attach_device(&c, b, dev));
	/* No fd left the daemon this time: free again at once. */
	CHECK_DBUS_OK(&c, vc_destroy(&c, b, VC_VM));
	s = reason();
	CHECK(!strstr(s, "quarantined"));
	free(s);
	free(a);
	free(b);
}

/* A broker reservation hands out one cdev; the device waits for it after. */
static void test_broker_one_fd(void)
{
	char *vm = create_vm("broker", "broker"), *s;
	int fd = -1, second = -1;

	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev));
	CHECK_DBUS_OK(&c, vc_get_fd(&c, vm, dev, &fd));
	CHECK_DBUS_ERROR(&c, vc_get_fd(&c, vm, dev, &second), VC_ERR_BUSY);
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	s = reason();
	CHECK(strstr(s, "quarantined"));
	free(s);
	CHECK(close(fd) == 0);
	CHECK(wait_assignable());
	free(vm);
}

/* The policy in force at the hand-out decides, not the one of the attach. */
static void test_policy_rechecked(void)
{
	const char *conf = getenv("VIOMMUD_CONFIG"), *pid = getenv("VIOMMUD_PID");
	char *vm = create_vm("policy", "managed");
	int fd = -1;
	FILE *f;

	CHECK(conf && pid);
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev));
	f = fopen(conf, "w");
	CHECK(f);
	fputs("{\"allowed_devices\": [], \"bind_on_demand\": true, \"restore_driver\": false, "
	      "\"fast_path_users\": [0]}\n",
	      f);
	CHECK(fclose(f) == 0);
	CHECK(kill(atoi(pid), SIGHUP) == 0);
	for (int i = 0; i < 100; i++) {
		if (vc_get_fd(&c, vm, dev, &fd) < 0)
			break;
		close(fd);
		fd = -1;
		usleep(20000);
	}
	CHECK_STREQ(vc_error_name(&c), VC_ERR_PERMISSION);
	CHECK(strstr(vc_error_message(&c), "allowed_devices"));
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	free(vm);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_find),
		CHECK_CASE(test_managed_fd_held),
		CHECK_CASE(test_broker_one_fd),
		CHECK_CASE(test_policy_rechecked),
	};
	int status = check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);

	vc_close(&c);
	free(dev);
	return status;
}
