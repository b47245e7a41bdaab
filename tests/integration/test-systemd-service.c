/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommud.service as installed from its .deb, under systemd 252 as PID 1
 * (run-systemd, drop-in WatchdogSec=4s and TimeoutAbortSec=2s; config
 * {"mock_devices": 2, "claim_grace_seconds": 30, "allowed_devices":
 * ["1234:11e8"]}). What the stand-in service
 * manager could not show:
 *
 *  - a watchdog restart (the daemon SIGSTOPped until WatchdogSec runs out)
 *    keeps the VM, its IDs and its pins;
 *  - systemctl reload re-reads the config in the same process, VMs untouched;
 *  - systemctl stop tears every VM down (pins released), and start comes back
 *    with none and no orphans;
 *  - socket activation: with the service stopped, a connection to the socket
 *    starts it; D-Bus activation: a call to org.viommu1 on the system bus does;
 *  - the package: dpkg -i of the same .debs again while a VM runs hands the
 *    daemon over (postinst: SIGUSR2) and keeps the VM;
 *  - a crash loop (40 kill -9 as fast as it comes back): no start limit
 *    fails the unit, so systemd keeps the fd store, and the VM;
 *  - viommud-metrics.service (its timer enabled by the package) skips without
 *    the node exporter's directory and then writes the VM's series into a
 *    .prom file promtool accepts;
 *  - dpkg --purge: the service stops (VMs torn down, pins released) and
 *    nothing of the package is left but the group;
 *  - /sys is read-only in the daemon's mount namespace (no device's remove
 *    or drivers_probe); BindVfio and UnbindVfio on the edu work through
 *    viommud-sysfs-helper, which refuses a bad BDF, driver or write, and
 *    whose socket refuses a user other than root.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "edu.h"
#include "iommufd.h"
#include "pci-sysfs.h"
#include "service-manager.h"

#define UNIT "viommud.service"
#define MEM_SIZE (1ull << 20)
#define IOVA 0x1000000ull /* the mock aperture starts at 16 MiB */
#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)
#define WAIT_SECONDS 60

static struct vc c;
static char *vm, *snapshot;
static uint8_t *mem = MAP_FAILED;
static int memfd = -1;

/* Whether the file has a line containing text; says so when not. */
static bool file_has(const char *path, const char *text)
{
	bool found = vc_file_has(path, text);

	if (!found)
		check_note("%s has no line with \"%s\"", path, text);
	return found;
}

/* Whether this boot's journal of the unit has a line containing text. */
static bool journal_has(const char *text)
{
	FILE *p = popen("journalctl -b -u " UNIT " -o cat --no-pager", "r");
	char line[1024];
	bool found = false;

	if (!p)
		return true; /* cannot tell: the check fails */
	while (fgets(line, sizeof(line), p))
		found = found || strstr(line, text);
	pclose(p);
	return found;
}

static char *vm_snapshot(void)
{
	return vc_vm_snapshot(&c, vm);
}

static size_t vm_count(void)
{
	char **list = NULL;
	size_t n = 0;

	if (vc_list(&c, "ListVms", &list) < 0)
		return SIZE_MAX;
	while (list && list[n])
		n++;
	vc_strv_free(list);
	return n;
}

static uint32_t orphan_count(void)
{
	return vc_orphan_count(&c, "");
}

/* A persistent mock VM with 1 MiB mapped: it outlives our connection. */
static void make_vm(const char *name)
{
	sd_bus_message *reply = NULL;
	char *dev = vc_find_device(&c, "selftest0");
	const char *path;

	CHECK(dev);
	/* The last case's VM, if a failure left it: one case, one VM. */
	if (vm)
		vc_destroy(&c, vm, VC_VM);
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", name, 1,
				  "persist", "b", 1));
	CHECK(sd_bus_message_read(reply, "o", &path) > 0);
	free(vm);
	vm = strdup(path);
	sd_bus_message_unref(reply);
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev));
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, 0, MEM_SIZE, IOVA, RW));
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 1));
	free(snapshot);
	snapshot = vm_snapshot();
	CHECK(snapshot);
	free(dev);
}

/* After the daemon came back: the same VM, IDs and mapping, pins held. */
static void check_vm_kept(void)
{
	char *now;

	vc_close(&c);
	CHECK_OK(vc_connect(&c, NULL));
	now = vm_snapshot();
	CHECK(now);
	CHECK_STREQ(now, snapshot);
	free(now);
	CHECK_EQ(orphan_count(), 0);
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 1));
}

/* The errno of opening path for writing inside the daemon's mount namespace
 * (0: it opened), from a child that joined it. */
static int open_in_daemon_ns(const char *path)
{
	char ns[64];
	int status = 0;
	pid_t child;

	snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)sm_daemon_pid());
	child = fork();
	if (child == 0) {
		int nsfd = open(ns, O_RDONLY | O_CLOEXEC), fd;

		if (nsfd < 0 || setns(nsfd, CLONE_NEWNS) < 0)
			_exit(255);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		_exit(fd >= 0 ? 0 : errno);
	}
	if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* One Write to the helper as root: 0 or the negative errno it answered. */
static int helper_write(uint32_t op, const char *bdf, const char *driver)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = "/run/viommud-sysfs.sock" };
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_fd(bus, fd, fd);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_call_method(bus, NULL, "/org/viommu1/SysfsHelper",
				       "org.viommu1.SysfsHelper", "Write", &error, NULL, "uss", op,
				       bdf, driver);
	if (r < 0 && sd_bus_error_is_set(&error)) {
		check_note("helper: %s", error.message);
		r = -sd_bus_error_get_errno(&error);
	}
	sd_bus_error_free(&error);
	sd_bus_flush_close_unref(bus);
	return r;
}

static bool helper_journal_has(const char *text)
{
	FILE *p = popen("journalctl -b -u 'viommud-sysfs@*' -o cat --no-pager", "r");
	char line[1024];
	bool found = false;

	if (!p)
		return false;
	while (fgets(line, sizeof(line), p))
		found = found || strstr(line, text);
	pclose(p);
	return found;
}

static char *device_driver(const char *dev)
{
	char *driver = NULL;

	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Driver", &driver));
	return driver;
}

static void test_sysfs_helper(void)
{
	struct pci_sysfs_device edu;
	char path[256], line[128], *dev, *driver;
	struct timespec ms = { 0, 20 * 1000 * 1000 };
	pid_t child;
	int status = 0;

	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu));
	/* The daemon can write no attribute of any device, nor bind by itself. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", edu.bdf);
	CHECK_EQ(open_in_daemon_ns(path), EROFS);
	CHECK_EQ(open_in_daemon_ns("/sys/bus/pci/drivers_probe"), EROFS);
	/* Yet binding works, through the helper. */
	dev = vc_find_device(&c, edu.bdf);
	CHECK(dev);
	CHECK_DBUS_OK(&c, vc_call(&c, dev, VC_DEVICE, "BindVfio", NULL, ""));
	driver = device_driver(dev);
	CHECK_STREQ(driver, "vfio-pci");
	free(driver);
	snprintf(line, sizeof(line), "driver_override %s vfio-pci: done", edu.bdf);
	CHECK(helper_journal_has(line));
	CHECK_DBUS_OK(&c, vc_call(&c, dev, VC_DEVICE, "UnbindVfio", NULL, ""));
	for (int i = 0; i < 250; i++) {
		driver = device_driver(dev);
		if (strcmp(driver, edu.driver) == 0)
			break;
		free(driver);
		driver = NULL;
		nanosleep(&ms, NULL);
	}
	CHECK(driver);
	CHECK_STREQ(driver, edu.driver);
	free(driver);
	free(dev);
	/* The helper checks what it is asked. */
	CHECK_RET(helper_write(PCI_SYSFS_OVERRIDE, "0000:00:1f.7", ""), -ENOENT);
	CHECK_RET(helper_write(PCI_SYSFS_BIND, edu.bdf, "../../../kernel"), -EINVAL);
	CHECK_RET(helper_write(PCI_SYSFS_BIND, edu.bdf, "no-such-driver"), -ENODEV);
	CHECK_RET(helper_write(PCI_SYSFS_OVERRIDE, edu.bdf, "a/b"), -EINVAL);
	CHECK_RET(helper_write(7, edu.bdf, ""), -EINVAL);
	CHECK_RET(helper_write(PCI_SYSFS_PROBE, "../../devices", ""), -EINVAL);
	/* Only root reaches it. */
	child = fork();
	if (child == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(255);
		_exit(helper_write(PCI_SYSFS_PROBE, edu.bdf, "") == -EACCES ? 0 : 1);
	}
	CHECK(child > 0 && waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_setup(void)
{
	memfd = memfd_create("itest-systemd", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, MEM_SIZE) == 0 && fallocate(memfd, 0, 0, MEM_SIZE) == 0);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(mem != MAP_FAILED);
	memset(mem, 0x5a, MEM_SIZE);
	CHECK(sm_daemon_pid() > 0);
	CHECK_OK(vc_connect(&c, NULL));
	make_vm("svc");
}

/* Whether the output of journalctl args holds text. */
static bool journalctl_has(const char *args, const char *text)
{
	char cmd[512], line[1024];
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "journalctl -b -u " UNIT " --no-pager %s", args);
	p = popen(cmd, "r");
	if (!p)
		return false;
	while (fgets(line, sizeof(line), p))
		found = found || strstr(line, text);
	pclose(p);
	if (!found)
		check_note("journalctl %s: no \"%s\"", args, text);
	return found;
}

/* The journal has the VM's creation as a structured event, and journalctl -x
 * explains it from the installed catalog (the package's trigger compiled it). */
static void test_journal_catalog(void)
{
#define VM_CREATED "MESSAGE_ID=42147d64ef22473ab5f849cdb2a74414 VIOMMU_VM=svc"
	CHECK(journalctl_has("-o verbose " VM_CREATED, "VIOMMU_UID=0"));
	CHECK(journalctl_has(VM_CREATED, "VM svc (/org/viommu1/vm/"));
	CHECK(journalctl_has("-x " VM_CREATED, "Subject: VM svc created by uid 0"));
	CHECK(journalctl_has("-x " VM_CREATED, "Defined-By: viommud"));
#undef VM_CREATED
}

/* viommud-metrics.service, as its timer (enabled by the package) runs it:
 * skipped without the node exporter's directory, then the VM's series in a
 * .prom file that promtool accepts, and no temporary file left. */
static void test_metrics_timer(void)
{
#define PROM_DIR "/var/lib/prometheus/node-exporter"
	char want[160];

	CHECK(system("systemctl is-enabled --quiet viommud-metrics.timer") == 0);
	CHECK(system("rm -rf " PROM_DIR) == 0);
	CHECK(system("systemctl start viommud-metrics.service") == 0);
	CHECK(system("test \"$(systemctl show -p ConditionResult --value "
		     "viommud-metrics.service)\" = no") == 0);
	CHECK(system("mkdir -p " PROM_DIR " && systemctl start viommud-metrics.service") == 0);
	CHECK(system("test \"$(systemctl show -p ConditionResult --value "
		     "viommud-metrics.service)\" = yes") == 0);
	snprintf(want, sizeof(want), "viommu_vm_pinned_bytes{vm=\"svc\",uid=\"0\"} %llu",
		 (unsigned long long)MEM_SIZE);
	CHECK(file_has(PROM_DIR "/viommud.prom", want));
	CHECK(file_has(PROM_DIR "/viommud.prom", "# TYPE viommu_method_duration_seconds "
						 "histogram"));
	CHECK(system("promtool check metrics <" PROM_DIR "/viommud.prom") == 0);
	CHECK(access(PROM_DIR "/viommud.prom.tmp", F_OK) < 0 && errno == ENOENT);
#undef PROM_DIR
}

/* Frozen past WatchdogSec: systemd aborts it (SIGABRT, then SIGKILL after
 * TimeoutAbortSec) and Restart=on-failure brings it back with its fds. */
static void test_watchdog(void)
{
	pid_t pid = sm_daemon_pid();

	CHECK(pid > 0);
	CHECK(kill(pid, SIGSTOP) == 0);
	CHECK(sm_wait_daemon(pid, WAIT_SECONDS) > 0);
	check_vm_kept();
}

/* SIGHUP: the same process re-reads viommud.conf; nothing else changes. */
static void test_reload(void)
{
	pid_t pid = sm_daemon_pid();

	CHECK(pid > 0);
	CHECK_OK(sm_unit_do("ReloadUnit", UNIT, WAIT_SECONDS));
	CHECK_EQ(sm_daemon_pid(), pid);
	check_vm_kept();
}

/* SIGUSR2, as the package's postinst sends it on upgrade. */
static void test_upgrade_signal(void)
{
	pid_t pid = sm_daemon_pid();

	CHECK(pid > 0);
	CHECK(kill(pid, SIGUSR2) == 0);
	CHECK(sm_wait_daemon(pid, WAIT_SECONDS) > 0);
	check_vm_kept();
}

/* A stop is SIGTERM: every VM is torn down (viommud(8)); a start has none. */
static void test_stop_start(void)
{
	char state[32] = "";

	vc_close(&c);
	CHECK_OK(sm_unit_do("StopUnit", UNIT, WAIT_SECONDS));
	CHECK_OK(sm_unit_state(UNIT, state, sizeof(state)));
	CHECK_STREQ(state, "inactive");
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 0));
	CHECK_OK(sm_unit_do("StartUnit", UNIT, WAIT_SECONDS));
	CHECK(sm_daemon_pid() > 0);
	CHECK_OK(vc_connect(&c, NULL));
	CHECK_EQ(vm_count(), 0);
	CHECK_EQ(orphan_count(), 0);
	CHECK(!journal_has("is lost"));
}

/* Stopped, the socket stays; a connection to it starts the service. */
static void test_socket_activation(void)
{
	char state[32] = "";

	vc_close(&c);
	CHECK_OK(sm_unit_do("StopUnit", UNIT, WAIT_SECONDS));
	CHECK_OK(sm_unit_state("viommud.socket", state, sizeof(state)));
	CHECK_STREQ(state, "active"); /* SubState "listening" */
	CHECK_EQ(sm_daemon_pid(), 0);
	CHECK_OK(vc_connect(&c, NULL));
	CHECK(vc_alive(&c));
	CHECK(sm_daemon_pid() > 0);
}

/* Stopped, a call to org.viommu1 on the system bus starts it: dbus-daemon
 * asks systemd for viommud.service (SystemdService=). */
static void test_dbus_activation(void)
{
	struct vc sys;

	vc_close(&c);
	CHECK_OK(sm_unit_do("StopUnit", UNIT, WAIT_SECONDS));
	CHECK_EQ(sm_daemon_pid(), 0);
	CHECK_OK(vc_connect_system(&sys));
	CHECK(vc_alive(&sys));
	CHECK(sm_daemon_pid() > 0);
	vc_close(&sys);
	CHECK_OK(vc_connect(&c, NULL));
}

/*
 * A crash loop: the daemon killed as soon as it is ready, 40 times in a row
 * (systemd's default limit is 5 starts in 10 s; the unit had 30 a minute
 * before). The unit has no start limit, since a failed unit makes systemd
 * 252 drop the fd store with every tenant's VMs: it keeps restarting, and the
 * VM is adopted every time, pins held.
 */
static void test_crash_loop(void)
{
	char state[32] = "";
	int kills = 0;

	make_vm("loop");
	vc_close(&c);
	for (; kills < 40; kills++) {
		pid_t pid = sm_wait_daemon(0, WAIT_SECONDS);

		CHECK(pid > 0);
		CHECK(kill(pid, SIGKILL) == 0);
		CHECK(sm_wait_daemon(pid, WAIT_SECONDS) > 0);
	}
	CHECK_OK(sm_unit_state(UNIT, state, sizeof(state)));
	CHECK_STREQ(state, "active");
	check_vm_kept();
}

/* dpkg with the given arguments, its output as TAP comments; its status. */
static int run_dpkg(const char *args)
{
	char cmd[4096], line[1024];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "DEBIAN_FRONTEND=noninteractive dpkg %s 2>&1", args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		check_note("dpkg: %.*s", (int)strcspn(line, "\n"), line);
	return pclose(p);
}

/* An upgrade in place: the same version again, while a VM runs. */
static void test_package_reinstall(void)
{
	const char *debs = getenv("VIOMMU_TEST_DEBS");
	char args[4096];
	pid_t pid;

	CHECK(debs && *debs);
	make_vm("pkg");
	pid = sm_daemon_pid();
	CHECK(pid > 0);
	snprintf(args, sizeof(args), "-i %s", debs);
	CHECK_EQ(run_dpkg(args), 0);
	/* The postinst waited for the new daemon to be ready. */
	CHECK(sm_daemon_pid() > 0);
	CHECK(sm_daemon_pid() != pid);
	CHECK(journal_has("SIGUSR2: exiting for a restart"));
	check_vm_kept();
}

/* Purge: the service is stopped (the VM torn down), the files are gone. */
static void test_package_purge(void)
{
	static const char *const gone[] = {
		"/usr/sbin/viommud", "/lib/systemd/system/viommud.service",
		"/lib/systemd/system/viommud.socket", "/lib/systemd/system/viommud-metrics.timer",
		"/usr/bin/viommuctl",
		"/usr/share/dbus-1/system.d/org.viommu1.conf", "/var/lib/viommud", "/run/viommud",
		NULL,
	};
	char state[32] = "";

	make_vm("purge");
	vc_close(&c);
	CHECK_EQ(run_dpkg("--purge viommud viommuctl libviommu0"), 0);
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 0));
	for (const char *const *path = gone; *path; path++) {
		bool there = access(*path, F_OK) == 0;

		if (there)
			check_note("still there: %s", *path);
		CHECK(!there);
	}
	CHECK(sm_unit_state(UNIT, state, sizeof(state)) < 0 || strcmp(state, "active") != 0);
	/* Debian leaves system groups in place. */
	CHECK(system("getent group viommu >/dev/null") == 0);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_setup),
		CHECK_CASE(test_journal_catalog),
		CHECK_CASE(test_metrics_timer),
		CHECK_CASE(test_watchdog),
		CHECK_CASE(test_reload),
		CHECK_CASE(test_sysfs_helper),
		CHECK_CASE(test_upgrade_signal),
		CHECK_CASE(test_stop_start),
		CHECK_CASE(test_socket_activation),
		CHECK_CASE(test_dbus_activation),
		CHECK_CASE(test_package_reinstall),
		CHECK_CASE(test_crash_loop),
		CHECK_CASE(test_package_purge),
	};
	int status = check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);

	vc_close(&c);
	free(vm);
	free(snapshot);
	return status;
}
