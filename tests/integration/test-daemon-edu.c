/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommud with QEMU's edu device behind the emulated VT-d (guest flavour
 * vtd; config {"allowed_devices": ["1234:11e8"], "bind_on_demand": true,
 * "mock_devices": 1}):
 * the daemon binds the device to vfio-pci on demand, attaches it to a VM
 * whose memory the client mapped, hands the device fd out, and the edu's DMA
 * lands in that memory; after UnmapMemory it does not; after Destroy the
 * device is back on its previous driver. A VM never mixes the edu with a
 * selftest mock device (their IOMMU drivers differ), in either order.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "edu.h"
#include "iommufd.h"
#include "pci-sysfs.h"
#include "selftest.h"
#include "vfio.h"

#define MEMFD_SIZE 0x10000ull
#define IOVA_SRC 0x100000ull /* memfd [0, 0x1000) */
#define IOVA_DST 0x101000ull /* memfd [0x1000, MEMFD_SIZE) */
#define COPY_LEN 256
#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)

static struct vc c;
static struct pci_sysfs_device edu;
static char *dev, *vm;
static int memfd = -1, devfd = -1;
static uint8_t *mem = MAP_FAILED;
static struct edu edu_dev;
static int fds_at_start;

/* memfd[0..COPY_LEN) -> the edu's buffer -> memfd[0x1000..0x1000 + COPY_LEN). */
static void edu_copy_check(void)
{
	CHECK_OK(edu_copy(&edu_dev, IOVA_SRC, IOVA_DST, COPY_LEN));
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void test_find(void)
{
	char *s = NULL;
	bool assignable = false;

	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu));
	check_note("edu at %s, driver \"%s\"", edu.bdf, edu.driver);
	CHECK_OK(vc_connect(&c, NULL));
	dev = vc_find_device(&c, edu.bdf);
	CHECK(dev);
	check_note("Device %s", dev);
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Driver", &s));
	CHECK_STREQ(s, edu.driver);
	free(s);
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Vendor", &s));
	CHECK_STREQ(s, "intel-vtd");
	free(s);
	CHECK_DBUS_OK(&c, vc_get_bool(&c, dev, VC_DEVICE, "Assignable", &assignable));
	if (!assignable) {
		CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Reason", &s));
		check_note("Reason: %s", s);
		free(s);
	}
	CHECK(assignable);
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Vm", &s));
	CHECK_STREQ(s, "/");
	free(s);
}

static void test_attach_and_map(void)
{
	struct vc_range ranges[8];
	char *s = NULL;
	bool nesting = true, inside = false;
	size_t n = 0;

	CHECK(dev);
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "edu", &vm));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev));
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Driver", &s));
	CHECK_STREQ(s, "vfio-pci");
	free(s);
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Vm", &s));
	CHECK_STREQ(s, vm);
	free(s);
	/* QEMU's VT-d is not in scalable mode: no nesting parent. */
	CHECK_DBUS_OK(&c, vc_get_bool(&c, vm, VC_VM, "Nesting", &nesting));
	CHECK(!nesting);
	CHECK_DBUS_OK(&c, vc_get_ranges(&c, vm, "IovaRanges", ranges, 8, &n));
	for (size_t i = 0; i < n && i < 8; i++) {
		check_note("IOVA range 0x%llx-0x%llx", (unsigned long long)ranges[i].start,
			   (unsigned long long)ranges[i].last);
		inside |= ranges[i].start <= IOVA_SRC &&
			  IOVA_SRC + MEMFD_SIZE - 1 <= ranges[i].last;
	}
	CHECK(inside);
	/* No vIOMMU object for VT-d in 7.3. */
	CHECK_DBUS_ERROR(&c, vc_create_viommu(&c, vm, "auto", &s), VC_ERR_NOT_SUPPORTED);

	memfd = memfd_create("itest-edu", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	CHECK(ftruncate(memfd, MEMFD_SIZE) == 0 && fallocate(memfd, 0, 0, MEMFD_SIZE) == 0);
	mem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(mem != MAP_FAILED);
	memset(mem, 0, MEMFD_SIZE);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, 0, 0x1000, IOVA_SRC, RW));
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, 0x1000, MEMFD_SIZE - 0x1000, IOVA_DST, RW));
	CHECK_OK(vc_pins_are(mem, MEMFD_SIZE, 1));
}

static void test_dma(void)
{
	uint64_t unmapped = 0;

	CHECK(vm && mem != MAP_FAILED);
	CHECK_DBUS_OK(&c, vc_get_fd(&c, vm, dev, &devfd));
	CHECK_OK(edu_open(devfd, &edu_dev));

	/* Mapped: the bytes land in the memfd. */
	for (unsigned int i = 0; i < COPY_LEN; i++)
		mem[i] = (uint8_t)(i * 7 + 3);
	edu_copy_check();
	CHECK(memcmp(mem + 0x1000, mem, COPY_LEN) == 0);

	/* The destination unmapped through the daemon: nothing lands. */
	memset(mem + 0x1000, 0, COPY_LEN);
	for (unsigned int i = 0; i < COPY_LEN; i++)
		mem[i] = (uint8_t)(0xff - i);
	CHECK_DBUS_OK(&c, vc_unmap_memory(&c, vm, IOVA_DST, MEMFD_SIZE - 0x1000, &unmapped));
	CHECK_EQ(unmapped, MEMFD_SIZE - 0x1000);
	CHECK_OK(vc_pins_are(mem + 0x1000, MEMFD_SIZE - 0x1000, 0));
	CHECK_OK(vc_pins_are(mem, 0x1000, 1));
	edu_copy_check();
	CHECK(all_zero(mem + 0x1000, COPY_LEN));

	/* Mapped again: the device still works, so the unmap was the cause. */
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, 0x1000, MEMFD_SIZE - 0x1000, IOVA_DST, RW));
	edu_copy_check();
	CHECK(memcmp(mem + 0x1000, mem, COPY_LEN) == 0);
}

static void test_destroy(void)
{
	char *s = NULL, **vms = NULL;

	CHECK(vm);
	/* Our copies first: a held device fd keeps the device from its driver. */
	edu_close(&edu_dev);
	if (devfd >= 0) {
		CHECK(close(devfd) == 0);
		devfd = -1;
	}
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &vms));
	CHECK_EQ(vc_strv_length(vms), 0);
	vc_strv_free(vms);
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Vm", &s));
	CHECK_STREQ(s, "/");
	free(s);
	/* Nothing holds the device any more: it is back at once, but allow a
	 * thread's give-back to finish too (bounded). */
	CHECK(vc_wait_given_back(&c, dev, edu.driver));
	CHECK_OK(vc_pins_are(mem, MEMFD_SIZE, 0));
	CHECK_EQ(vc_daemon_fds("/dev/vfio/"), 0);
	if (vc_daemon_fds("/dev/iommu") >= 0)
		CHECK_EQ(vc_daemon_fds("/dev/iommu"), 0);
	CHECK(munmap(mem, MEMFD_SIZE) == 0);
	mem = MAP_FAILED;
	CHECK(close(memfd) == 0);
	memfd = -1;
	vc_close(&c);
	CHECK_EQ(check_count_fds(), fds_at_start);
}

/*
 * A VMM that still holds the device fd when its VM goes: the daemon does not
 * wait on it, shows what it waits for, and gives the device back once the
 * fd is closed.
 */
static void test_destroy_while_held(void)
{
	char *s = NULL, *held_vm = NULL;
	bool assignable = true;
	int fd = -1;

	CHECK_OK(vc_connect(&c, NULL));
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "held", &held_vm));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, held_vm, dev));
	CHECK_DBUS_OK(&c, vc_get_fd(&c, held_vm, dev, &fd));
	CHECK(fd >= 0);
	CHECK_DBUS_OK(&c, vc_destroy(&c, held_vm, VC_VM));
	free(held_vm);
	/* The daemon answered at once; the device waits for our fd. */
	CHECK_DBUS_OK(&c, vc_get_bool(&c, dev, VC_DEVICE, "Assignable", &assignable));
	CHECK(!assignable);
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Reason", &s));
	check_note("Reason while held: %s", s);
	CHECK(strstr(s, "quarantined until every fd of its last VM is closed"));
	free(s);
	CHECK(close(fd) == 0);
	CHECK(vc_wait_given_back(&c, dev, edu.driver));
	CHECK_EQ(vc_daemon_fds("/dev/vfio/"), 0);
	vc_close(&c);
	CHECK_EQ(check_count_fds(), fds_at_start);
}

/*
 * A VMM can hold a device without any fd: a mapping of its BAR keeps the
 * device open in the kernel after the fd is closed, and no /proc/PID/fd
 * shows it. The daemon used to look there, find nothing, and unbind on its
 * loop, which then waited in the kernel for the mapping to go: every tenant
 * froze. Now it answers at once and all the while, and the device comes back
 * when the mapping goes.
 */
static void test_destroy_while_mapped(void)
{
	struct timespec ms = { 0, 20 * 1000 * 1000 };
	char *s = NULL, *held_vm = NULL, **vms = NULL;
	struct edu mapped;
	int fd = -1;

	CHECK_OK(vc_connect(&c, NULL));
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "mapped", &held_vm));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, held_vm, dev));
	CHECK_DBUS_OK(&c, vc_get_fd(&c, held_vm, dev, &fd));
	CHECK_OK(edu_open(fd, &mapped)); /* maps BAR0 */
	CHECK(close(fd) == 0);		  /* no fd left: only the mapping */
	CHECK_DBUS_OK(&c, vc_destroy(&c, held_vm, VC_VM));
	free(held_vm);
	/* Served while the unbind waits on its thread. */
	for (int i = 0; i < 10; i++) {
		CHECK(vc_alive(&c));
		CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &vms));
		vc_strv_free(vms);
		nanosleep(&ms, NULL);
	}
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Reason", &s));
	check_note("Reason while mapped: %s", s);
	CHECK(strstr(s, "quarantined"));
	free(s);
	edu_close(&mapped);
	CHECK(vc_wait_given_back(&c, dev, edu.driver));
	vc_close(&c);
}

/* The kernel fixes dirty tracking at allocation: a VM that asks for it is
 * refused a device whose IOMMU cannot (QEMU's VT-d), with the reason. */
static void test_dirty_tracking_refused(void)
{
	sd_bus_message *reply = NULL;
	const char *path;
	char *dirty_vm = NULL;

	CHECK_OK(vc_connect(&c, NULL));
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", "dirty",
				  1, "dirty-tracking", "b", 1));
	CHECK(sd_bus_message_read(reply, "o", &path) > 0);
	dirty_vm = strdup(path);
	sd_bus_message_unref(reply);
	CHECK_DBUS_ERROR(&c, vc_attach_device(&c, dirty_vm, dev), VC_ERR_NOT_SUPPORTED);
	CHECK(strstr(vc_error_message(&c), "cannot track dirty pages"));
	/* Bound on demand for the attempt, and given back after it (on the
	 * release thread). */
	CHECK(vc_wait_given_back(&c, dev, edu.driver));
	CHECK_DBUS_OK(&c, vc_destroy(&c, dirty_vm, VC_VM));
	free(dirty_vm);
	vc_close(&c);
	CHECK_EQ(check_count_fds(), fds_at_start);
}

static char *vm_with(const char *name, const char *device)
{
	char *path = NULL;

	CHECK_DBUS_OK(&c, vc_create_vm(&c, name, &path));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, path, device));
	return path;
}

/* The kernel's replace path does not check a domain's owner: a mock device
 * on VT-d's domain (or the edu on the mock's) would crash the host. */
static void test_mixed_iommus_refused(void)
{
	char *mock, *edu_vm, *mock_vm;

	CHECK_OK(vc_connect(&c, NULL));
	mock = vc_find_device(&c, "selftest0");
	CHECK(mock != NULL);
	edu_vm = vm_with("mixed-edu", dev);
	CHECK_DBUS_ERROR(&c, vc_attach_device(&c, edu_vm, mock), VC_ERR_INVALID);
	CHECK(strstr(vc_error_message(&c), "selftest mock device"));
	/* The refused device is free: it joins a VM of its own kind. */
	mock_vm = vm_with("mixed-mock", mock);
	CHECK_DBUS_OK(&c, vc_destroy(&c, edu_vm, VC_VM));
	CHECK_DBUS_ERROR(&c, vc_attach_device(&c, mock_vm, dev), VC_ERR_INVALID);
	CHECK(strstr(vc_error_message(&c), "behind a real IOMMU"));
	CHECK_DBUS_OK(&c, vc_destroy(&c, mock_vm, VC_VM));
	free(edu_vm);
	free(mock_vm);
	free(mock);
	vc_close(&c);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_find),
		CHECK_CASE(test_attach_and_map),
		CHECK_CASE(test_dma),
		CHECK_CASE(test_destroy),
		CHECK_CASE(test_destroy_while_held),
		CHECK_CASE(test_destroy_while_mapped),
		CHECK_CASE(test_dirty_tracking_refused),
		CHECK_CASE(test_mixed_iommus_refused),
	};

	fds_at_start = check_count_fds();
	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
