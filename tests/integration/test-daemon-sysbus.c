/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The same daemon reached over the system bus as org.viommu1 (run-daemon
 * --bus system starts a private dbus-daemon for it; config {"mock_devices": 2}):
 * ListDevices, a VM with a mock device and guest memory (the memfd goes
 * through the bus daemon), and the VM torn down when its client's connection
 * closes, as a second client sees.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "iommufd.h"
#include "selftest.h"

#define MEM_SIZE 0x20000ull
#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)

static void test_list_devices(void)
{
	char **devices = NULL, *name = NULL, *ver = NULL;
	int mocks = 0;
	struct vc c;

	CHECK(getenv("DBUS_SYSTEM_BUS_ADDRESS"));
	CHECK_OK(vc_connect_system(&c));
	CHECK_DBUS_OK(&c, vc_list(&c, "ListDevices", &devices));
	for (size_t i = 0; devices[i]; i++) {
		CHECK_DBUS_OK(&c, vc_get_string(&c, devices[i], VC_DEVICE, "Name", &name));
		mocks += strncmp(name, "selftest", 8) == 0;
		free(name);
	}
	vc_strv_free(devices);
	CHECK_EQ(mocks, 2);
	CHECK_DBUS_OK(&c, vc_get_string(&c, VC_ROOT, VC_MANAGER, "Version", &ver));
	check_note("viommud %s on the system bus", ver);
	free(ver);
	vc_close(&c);
}

static void test_vm_gone_with_connection(void)
{
	struct timespec ms = { 0, 20 * 1000 * 1000 };
	char *dev = NULL, *vm = NULL, *s = NULL, **vms = NULL;
	struct vc c, watcher;
	uint64_t bytes = 0;
	uint32_t owner = 1;
	uint8_t *mem;
	bool gone = false;
	int memfd;

	CHECK_OK(vc_connect_system(&watcher));
	CHECK_OK(vc_connect_system(&c));
	dev = vc_find_device(&c, "selftest0");
	CHECK(dev);
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "sysbus", &vm));
	check_note("VM %s", vm);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, vm, VC_VM, "Owner", &owner));
	CHECK_EQ(owner, 0);
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev));

	memfd = memfd_create("itest-sysbus", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	CHECK(ftruncate(memfd, MEM_SIZE) == 0 && fallocate(memfd, 0, 0, MEM_SIZE) == 0);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(mem != MAP_FAILED);
	memset(mem, 1, MEM_SIZE);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, 0, MEM_SIZE, KABI_MOCK_APERTURE_START, RW));
	CHECK_DBUS_OK(&c, vc_get_u64(&c, vm, VC_VM, "MappedBytes", &bytes));
	CHECK_EQ(bytes, MEM_SIZE);
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 1));

	/* Another client (root too) sees it. */
	CHECK_DBUS_OK(&watcher, vc_list(&watcher, "ListVms", &vms));
	CHECK(vc_strv_contains(vms, vm));
	vc_strv_free(vms);
	CHECK_DBUS_OK(&watcher, vc_get_string(&watcher, dev, VC_DEVICE, "Vm", &s));
	CHECK_STREQ(s, vm);
	free(s);

	/* The owner's connection closes: its VM goes. */
	vc_close(&c);
	for (int i = 0; i < 500 && !gone; i++) {
		CHECK_DBUS_OK(&watcher, vc_list(&watcher, "ListVms", &vms));
		gone = !vc_strv_contains(vms, vm);
		vc_strv_free(vms);
		if (!gone)
			nanosleep(&ms, NULL);
	}
	CHECK(gone);
	CHECK_DBUS_OK(&watcher, vc_get_string(&watcher, dev, VC_DEVICE, "Vm", &s));
	CHECK_STREQ(s, "/");
	free(s);
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 0));
	if (vc_daemon_fds("/dev/iommu") >= 0)
		CHECK_EQ(vc_daemon_fds("/dev/iommu"), 0);
	CHECK(munmap(mem, MEM_SIZE) == 0);
	CHECK(close(memfd) == 0);
	vc_close(&watcher);
	free(dev);
	free(vm);
}

/* The private socket serves the same objects beside the bus. */
static void test_private_socket_too(void)
{
	char **vms = NULL, *vm = NULL;
	struct vc p, bus;

	CHECK_OK(vc_connect(&p, NULL));
	CHECK_OK(vc_connect_system(&bus));
	CHECK_DBUS_OK(&p, vc_create_vm(&p, "private", &vm));
	CHECK_DBUS_OK(&bus, vc_list(&bus, "ListVms", &vms));
	CHECK(vc_strv_contains(vms, vm));
	vc_strv_free(vms);
	CHECK_DBUS_OK(&p, vc_destroy(&p, vm, VC_VM));
	free(vm);
	vc_close(&p);
	vc_close(&bus);
}

/* The bus names a caller's process by a pid alone: BindVmm, which ties a
 * VM to a process, is not served here (the private socket has SO_PEERPIDFD). */
static void test_bind_vmm_private_only(void)
{
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	char *vm = NULL;
	struct vc bus;

	CHECK(self >= 0);
	CHECK_OK(vc_connect_system(&bus));
	CHECK_DBUS_OK(&bus, vc_call(&bus, VC_ROOT, VC_MANAGER, "CreateVm", NULL, "sa{sv}", "brk",
				    1, "mode", "s", "broker"));
	CHECK_OK(vc_vm_path(&bus, "brk", &vm));
	CHECK_DBUS_ERROR(&bus, vc_call(&bus, vm, VC_VM, "BindVmm", NULL, "ht", self,
				       (uint64_t)1 << 20),
			 VC_ERR_NOT_SUPPORTED);
	CHECK(strstr(vc_error_message(&bus), "private socket"));
	CHECK_DBUS_OK(&bus, vc_destroy(&bus, vm, VC_VM));
	free(vm);
	close(self);
	vc_close(&bus);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_list_devices),
		CHECK_CASE(test_vm_gone_with_connection),
		CHECK_CASE(test_private_socket_too),
		CHECK_CASE(test_bind_vmm_private_only),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
