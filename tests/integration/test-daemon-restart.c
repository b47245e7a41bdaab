/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restart survival, under systemd 252 as PID 1 with the installed package
 * (the systemd suite: run-systemd) and under fdstore-manager.py, a stand-in
 * for its fd store (run-daemon --fdstore). Config: {"mock_devices": 4,
 * "allowed_devices": ["1234:11e8"], "bind_on_demand": true,
 * "fast_path_users": [0], "claim_grace_seconds": 30}.
 *
 * Four VMs are set up (mock devices nested on a vIOMMU, a relayed event
 * queue, the edu device doing DMA, a persistent one); then the daemon is
 * killed with SIGKILL 20 times while a second process keeps creating VMs and
 * mapping memory. After every restart each VM is there with the same object
 * paths and kernel IDs, waits for its owner's Claim, its memory is still
 * pinned, the edu's DMA still lands, events are relayed again, and no stored
 * fd is left unexplained. A corrupt state file turns the VMs' fds into
 * orphans, which ReleaseOrphan frees. A version 1 state file (the previous
 * release's) is adopted and rewritten as version 2. A state file that pairs a VM
 * with another VM's iommufd: the VM's context mark is not in it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "edu.h"
#include "iommufd.h"
#include "pci-sysfs.h"
#include "selftest.h"
#include "service-manager.h"

#define MEM_SIZE (2ull << 20)
#define IOVA_MOCK 0x1000000ull /* the mock aperture starts at 16 MiB */
#define EDU_MEM 0x10000ull
#define IOVA_EDU_SRC 0x100000ull
#define IOVA_EDU_DST 0x101000ull
#define COPY_LEN 256
#define KILLS 20
#define VIRT_ID 0x42
#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)
#define WAIT_SECONDS 30

enum { VM_MOCK, VM_EVENTS, VM_EDU, VM_KEEP, NVMS };
static const char *const vm_names[NVMS] = { "mock", "events", "edu", "keep" };

static struct vc c;
static char *vms[NVMS];
static char *snapshots[NVMS];
static char *events_viommu;
static uint8_t *mem = MAP_FAILED, *edu_mem = MAP_FAILED;
static int memfd = -1, edu_memfd = -1, edu_devfd = -1, events_iommufd = -1, events_efd = -1;
static uint32_t events_dev_id;
static struct edu edu_dev;
static bool have_edu;
static pid_t churner = -1;


static pid_t daemon_pid(void)
{
	return sm_daemon_pid();
}

/* Until a daemon other than old is ready; its pid, or 0 after WAIT_SECONDS. */
static pid_t wait_daemon(pid_t old)
{
	return sm_wait_daemon(old, WAIT_SECONDS);
}

static char *vm_snapshot(const char *vm)
{
	return vc_vm_snapshot(&c, vm);
}

static int create_vm(struct vc *cc, const char *name, bool persist, char **out)
{
	sd_bus_message *reply = NULL;
	const char *path;
	int r = vc_call(cc, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", name, 1, "persist",
			"b", persist);

	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0)
		*out = strdup(path);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

static int on_event(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	uint64_t *virt_id = userdata;
	uint32_t type;

	if (sd_bus_message_read(m, "tu", virt_id, &type) < 0)
		*virt_id = 0;
	return 0;
}

/* An event triggered in the kernel reaches this connection as a signal,
 * and the eventfd handed out before any restart counts it. */
static void check_event_relay(void)
{
	uint64_t virt_id = 0, counted = 0;
	sd_bus_slot *slot = NULL;
	double deadline;

	CHECK(sd_bus_match_signal(c.bus, &slot, NULL, events_viommu, VC_VIOMMU, "Event", on_event,
				  &virt_id) >= 0);
	CHECK_OK(mock_trigger_vevent(events_iommufd, events_dev_id));
	deadline = vc_now_seconds() + 10;
	while (virt_id == 0 && vc_now_seconds() < deadline) {
		int r = sd_bus_process(c.bus, NULL);

		if (r < 0)
			break;
		if (r == 0)
			sd_bus_wait(c.bus, 100 * 1000);
	}
	sd_bus_slot_unref(slot);
	CHECK_EQ(virt_id, VIRT_ID);
	CHECK_EQ(read(events_efd, &counted, sizeof(counted)), sizeof(counted));
	CHECK(counted >= 1);
}

static void check_edu_dma(void)
{
	if (!have_edu)
		return;
	for (unsigned int i = 0; i < COPY_LEN; i++)
		edu_mem[i] = (uint8_t)(rand() & 0xff);
	memset(edu_mem + 0x1000, 0, COPY_LEN);
	CHECK_OK(edu_copy(&edu_dev, IOVA_EDU_SRC, IOVA_EDU_DST, COPY_LEN));
	CHECK(memcmp(edu_mem + 0x1000, edu_mem, COPY_LEN) == 0);
}

static void setup_mock_vm(void)
{
	static const uint32_t data[2] = { 0xbadbeef, 0 };
	char *dev0 = vc_find_device(&c, "selftest0"), *dev1 = vc_find_device(&c, "selftest1");
	char *viommu = NULL, *vdev = NULL, *domain = NULL;

	CHECK(dev0 && dev1);
	CHECK_DBUS_OK(&c, create_vm(&c, vm_names[VM_MOCK], false, &vms[VM_MOCK]));
	memfd = memfd_create("itest-restart", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, MEM_SIZE) == 0 && fallocate(memfd, 0, 0, MEM_SIZE) == 0);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(mem != MAP_FAILED);
	memset(mem, 0x5a, MEM_SIZE);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vms[VM_MOCK], memfd, 0, MEM_SIZE, IOVA_MOCK, RW));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vms[VM_MOCK], dev0));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vms[VM_MOCK], dev1));
	CHECK_DBUS_OK(&c, vc_create_viommu(&c, vms[VM_MOCK], "auto", &viommu));
	CHECK_DBUS_OK(&c, vc_add_device(&c, viommu, dev0, VIRT_ID, &vdev));
	CHECK_DBUS_OK(&c, vc_alloc_domain(&c, viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST, data,
					  sizeof(data), &domain));
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, domain, dev0));
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 1));
	free(dev0);
	free(dev1);
	free(viommu);
	free(vdev);
	free(domain);
}

static void setup_events_vm(void)
{
	static const uint32_t data[2] = { 0xbadbeef, 0 };
	char *dev = vc_find_device(&c, "selftest3"), *vdev = NULL, *domain = NULL;
	sd_bus_message *reply = NULL;
	struct json_object *root;
	int efd = -1;

	CHECK(dev);
	CHECK_DBUS_OK(&c, create_vm(&c, vm_names[VM_EVENTS], false, &vms[VM_EVENTS]));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vms[VM_EVENTS], dev));
	CHECK_DBUS_OK(&c, vc_create_viommu(&c, vms[VM_EVENTS], "auto", &events_viommu));
	CHECK_DBUS_OK(&c, vc_add_device(&c, events_viommu, dev, VIRT_ID, &vdev));
	CHECK_DBUS_OK(&c, vc_alloc_domain(&c, events_viommu, VC_VIOMMU,
					  KABI_IOMMU_HWPT_DATA_SELFTEST, data, sizeof(data),
					  &domain));
	CHECK_DBUS_OK(&c, vc_call(&c, events_viommu, VC_VIOMMU, "OpenEventQueue", &reply,
				  "uua{sv}", KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 16u, 1, "relay", "b",
				  1));
	CHECK(sd_bus_message_read(reply, "h", &efd) > 0);
	events_efd = fcntl(efd, F_DUPFD_CLOEXEC, 3);
	sd_bus_message_unref(reply);
	CHECK(events_efd >= 0);
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, domain, dev));
	/* The test triggers events on the VM's own context. */
	CHECK_DBUS_OK(&c, vc_get_fd(&c, vms[VM_EVENTS], NULL, &events_iommufd));
	root = vc_describe_json(&c);
	CHECK(root);
	events_dev_id = (uint32_t)vc_json_u64(
		json_object_array_get_idx(
			json_object_object_get(vc_json_by_path(root, "vms", vms[VM_EVENTS]),
					       "devices"),
			0),
		"dev_id");
	json_object_put(root);
	CHECK(events_dev_id != 0);
	free(dev);
	free(vdev);
	free(domain);
}

static void setup_edu_vm(void)
{
	struct pci_sysfs_device edu;
	char *dev;

	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu));
	dev = vc_find_device(&c, edu.bdf);
	CHECK(dev);
	CHECK_DBUS_OK(&c, create_vm(&c, vm_names[VM_EDU], false, &vms[VM_EDU]));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vms[VM_EDU], dev));
	edu_memfd = memfd_create("itest-restart-edu", MFD_CLOEXEC);
	CHECK(edu_memfd >= 0 && ftruncate(edu_memfd, EDU_MEM) == 0 && fallocate(edu_memfd, 0, 0, EDU_MEM) == 0);
	edu_mem = mmap(NULL, EDU_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, edu_memfd, 0);
	CHECK(edu_mem != MAP_FAILED);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vms[VM_EDU], edu_memfd, 0, 0x1000, IOVA_EDU_SRC, RW));
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vms[VM_EDU], edu_memfd, 0x1000, EDU_MEM - 0x1000,
					IOVA_EDU_DST, RW));
	CHECK_DBUS_OK(&c, vc_get_fd(&c, vms[VM_EDU], dev, &edu_devfd));
	CHECK_OK(edu_open(edu_devfd, &edu_dev));
	have_edu = true;
	check_edu_dma();
	free(dev);
}

static void test_setup(void)
{
	CHECK(daemon_pid() > 0);
	CHECK_OK(vc_connect(&c, NULL));
	setup_mock_vm();
	setup_events_vm();
	setup_edu_vm();
	CHECK_DBUS_OK(&c, create_vm(&c, vm_names[VM_KEEP], true, &vms[VM_KEEP]));
	for (int i = 0; i < NVMS; i++) {
		snapshots[i] = vm_snapshot(vms[i]);
		CHECK(snapshots[i]);
	}
	check_event_relay();
}

/* Counts PropertiesChanged(Claimed = true) of the VMs. */
static int on_claimed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	unsigned int *count = userdata;
	const char *iface, *name;
	int value = 0;

	if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged") &&
	    sd_bus_message_read(m, "s", &iface) >= 0 && strcmp(iface, VC_VM) == 0 &&
	    sd_bus_message_enter_container(m, 'a', "{sv}") >= 0 &&
	    sd_bus_message_read(m, "{sv}", &name, "b", &value) >= 0 &&
	    strcmp(name, "Claimed") == 0 && value)
		(*count)++;
	return 0;
}

/* After a restart: reconnect, every VM as it was, claimed by us again. */
static void check_after_restart(void)
{
	unsigned int claimed_signals = 0;
	sd_bus_slot *slot = NULL;
	char **orphans = NULL;
	sd_bus_message *reply = NULL;
	bool claimed = true;
	const char *name, *target;
	int n = 0;

	vc_close(&c);
	CHECK_OK(vc_connect(&c, NULL));
	CHECK(sd_bus_add_filter(c.bus, &slot, on_claimed, &claimed_signals) >= 0);
	for (int i = 0; i < NVMS; i++) {
		char *now = vm_snapshot(vms[i]);

		CHECK(now);
		if (strcmp(now, snapshots[i]) != 0)
			check_note("before: %s\nafter:  %s", snapshots[i], now);
		CHECK_STREQ(now, snapshots[i]);
		free(now);
		CHECK_DBUS_OK(&c, vc_get_bool(&c, vms[i], VC_VM, "Claimed", &claimed));
		CHECK(!claimed);
		CHECK_DBUS_OK(&c, vc_call(&c, vms[i], VC_VM, "Claim", NULL, ""));
		CHECK_DBUS_OK(&c, vc_get_bool(&c, vms[i], VC_VM, "Claimed", &claimed));
		CHECK(claimed);
	}
	/* Each Claim was announced to us: PropertiesChanged, Claimed true. */
	for (int i = 0; i < 40 && claimed_signals < NVMS; i++) {
		while (sd_bus_process(c.bus, NULL) > 0)
			;
		if (claimed_signals < NVMS)
			sd_bus_wait(c.bus, 50000);
	}
	sd_bus_slot_unref(slot);
	CHECK_EQ(claimed_signals, NVMS);
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "ListOrphans", &reply, ""));
	CHECK(sd_bus_message_enter_container(reply, 'a', "(ss)") >= 0);
	while (sd_bus_message_read(reply, "(ss)", &name, &target) > 0) {
		check_note("orphan %s -> %s", name, target);
		n++;
	}
	sd_bus_message_unref(reply);
	(void)orphans;
	CHECK_EQ(n, 0);
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 1));
	check_edu_dma();
	check_event_relay();
}

static void test_restart_once(void)
{
	pid_t pid = daemon_pid();
	struct vc other;

	CHECK(pid > 0);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(wait_daemon(pid) > 0);
	check_after_restart();
	/* A second connection of the same uid cannot take a claimed VM. */
	CHECK_OK(vc_connect(&other, NULL));
	CHECK_DBUS_ERROR(&other, vc_call(&other, vms[VM_MOCK], VC_VM, "Claim", NULL, ""),
			 VC_ERR_BUSY);
	vc_close(&other);
}

/* A broker VM bound to a process (Vm.BindVmm) needs no Claim after a
 * restart: it lives as long as the process, restarts or not. */
static void test_vmm_across_restart(void)
{
	pid_t child, pid = daemon_pid();
	char *path = NULL;
	uint32_t vmm_pid = 0;
	bool claimed = false;
	int ready[2];
	char byte;

	CHECK(pid > 0 && pipe(ready) == 0);
	fflush(stdout);
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		struct vc cc;
		sd_bus_message *reply = NULL;
		const char *p;
		int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);

		if (pidfd < 0 || vc_connect(&cc, NULL) < 0 ||
		    vc_call(&cc, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", "vmm", 1, "mode",
			    "s", "broker") < 0 ||
		    sd_bus_message_read(reply, "o", &p) < 0 ||
		    vc_call(&cc, p, VC_VM, "BindVmm", NULL, "ht", pidfd, (uint64_t)(1 << 20)) < 0)
			_exit(1);
		/* The connection goes; the VM stays with this process. */
		vc_close(&cc);
		if (write(ready[1], "", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	CHECK(read(ready[0], &byte, 1) == 1);
	close(ready[0]);
	CHECK_DBUS_OK(&c, vc_vm_path(&c, "vmm", &path));
	CHECK_DBUS_OK(&c, vc_get_u32(&c, path, VC_VM, "VmmPid", &vmm_pid));
	CHECK_EQ(vmm_pid, child);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK((pid = wait_daemon(pid)) > 0);
	vc_close(&c);
	CHECK_OK(vc_connect(&c, NULL));
	CHECK_DBUS_OK(&c, vc_get_u32(&c, path, VC_VM, "VmmPid", &vmm_pid));
	CHECK_EQ(vmm_pid, child);
	CHECK_DBUS_OK(&c, vc_get_bool(&c, path, VC_VM, "Claimed", &claimed));
	CHECK(claimed);
	/* The process ends: so does the VM. */
	CHECK(kill(child, SIGKILL) == 0);
	CHECK(waitpid(child, NULL, 0) == child);
	for (int i = 0; i < 200 && vc_get_u32(&c, path, VC_VM, "VmmPid", &vmm_pid) == 0; i++)
		vc_sleep_ms(50);
	CHECK_DBUS_ERROR(&c, vc_get_u32(&c, path, VC_VM, "VmmPid", &vmm_pid),
			 VC_ERR_UNKNOWN_OBJECT);
	free(path);
	/* The other VMs wait for their Claim, as after any restart. */
	check_after_restart();
}

/* An intent record found at start-up is resolved: a MapMemory the state does
 * not hold is unmapped. The mapping is made on the events VM's handed-out
 * iommufd, as if the daemon had died right after its map. */
static void test_intent_resolved(void)
{
	const char *state = getenv("VIOMMUD_STATE");
	const uint64_t iova = 0x40000000, len = 0x10000;
	struct json_object *root;
	char path[512];
	uint32_t ioas = 0;
	unsigned int id = 0;
	pid_t pid = daemon_pid();
	FILE *f;

	CHECK(state && pid > 0);
	CHECK(sscanf(vms[VM_EVENTS], VC_ROOT "/vm/%u", &id) == 1);
	root = vc_describe_json(&c);
	CHECK(root);
	ioas = (uint32_t)vc_json_u64(vc_json_by_path(root, "vms", vms[VM_EVENTS]), "ioas_id");
	json_object_put(root);
	CHECK_OK(iommufd_ioas_map_file(events_iommufd, ioas,
				       KABI_IOMMU_IOAS_MAP_FIXED_IOVA | RW, memfd, 0, len,
				       &(uint64_t){ iova }));
	CHECK_OK(vc_pins_are(mem, len, 2)); /* the mock VM's mapping and this one */
	CHECK(kill(pid, SIGSTOP) == 0);
	snprintf(path, sizeof(path), "%s.intent", state);
	f = fopen(path, "w");
	CHECK(f);
	fprintf(f, "{\"intent\": {\"op\": \"MapMemory\", \"path\": \"%s\", \"vm\": %u, "
		   "\"iova\": %llu, \"length\": %llu}}",
		vms[VM_EVENTS], id, (unsigned long long)iova, (unsigned long long)len);
	fclose(f);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(wait_daemon(pid) > 0);
	CHECK_OK(vc_pins_are(mem, len, 1));
	CHECK(access(path, F_OK) < 0 && errno == ENOENT);
	check_after_restart();
}

/* --- the churner: a second client, killed under by the restarts --- */

static volatile sig_atomic_t churn_stop;

static void on_churn_stop(int sig)
{
	churn_stop = 1;
}

/* Destroys the churner's VMs left from before a restart. */
static void churn_cleanup(struct vc *cc)
{
	char **list = NULL;

	if (vc_list(cc, "ListVms", &list) < 0)
		return;
	for (char **p = list; p && *p; p++) {
		char *name = NULL;

		if (vc_get_string(cc, *p, VC_VM, "Name", &name) == 0 &&
		    strncmp(name, "churn-", 6) == 0)
			vc_destroy(cc, *p, VC_VM);
		free(name);
	}
	vc_strv_free(list);
}

static int churn(void)
{
	const uint64_t len = 0x10000;
	struct vc cc = { 0 };
	bool connected = false;
	unsigned long rounds = 0, broken = 0;
	uint8_t *buf;
	int fd = memfd_create("itest-churn", MFD_CLOEXEC), r;
	char *dev = NULL;

	signal(SIGTERM, on_churn_stop);
	if (fd < 0 || ftruncate(fd, (off_t)len * 16) < 0 || fallocate(fd, 0, 0, (off_t)len * 16) < 0)
		return 2;
	buf = mmap(NULL, len * 16, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (buf == MAP_FAILED)
		return 2;
	memset(buf, 1, len * 16);
	for (unsigned int k = 0; !churn_stop; k++) {
		char name[32], *vm = NULL;
		uint64_t unmapped;

		if (!connected) {
			if (vc_connect(&cc, NULL) < 0) {
				vc_sleep_ms(5);
				continue;
			}
			connected = true;
			churn_cleanup(&cc);
			free(dev);
			dev = vc_find_device(&cc, "selftest2");
		}
		snprintf(name, sizeof(name), "churn-%u", k);
		r = create_vm(&cc, name, false, &vm);
		if (r == 0 && dev)
			r = vc_attach_device(&cc, vm, dev);
		for (unsigned int m = 0; r == 0 && m < 4; m++)
			r = vc_map_memory(&cc, vm, fd, (uint64_t)m * len, len,
					  IOVA_MOCK + (uint64_t)m * len, RW);
		if (r == 0)
			r = vc_unmap_memory(&cc, vm, IOVA_MOCK, len, &unmapped);
		if (vm && (r == 0 || vc_alive(&cc)))
			vc_destroy(&cc, vm, VC_VM);
		free(vm);
		rounds++;
		if (r < 0 && !vc_alive(&cc)) {
			broken++;
			vc_close(&cc);
			connected = false;
		}
	}
	/* Stopped: whatever the churner still has goes, and nothing stays pinned. */
	if (connected)
		vc_close(&cc);
	for (int tries = 0; vc_connect(&cc, NULL) < 0; tries++) {
		if (tries == 1000)
			return 3;
		vc_sleep_ms(10);
	}
	churn_cleanup(&cc);
	vc_close(&cc);
	printf("# churner: %lu rounds, %lu broken by restarts\n", rounds, broken);
	fflush(stdout);
	return vc_pins_are(buf, len * 16, 0) == 0 ? 0 : 4;
}

static void test_kill_loop(void)
{
	int status = 0;

	fflush(stdout);
	churner = fork();
	CHECK(churner >= 0);
	if (churner == 0)
		_exit(churn());
	for (int i = 0; i < KILLS; i++) {
		pid_t pid = daemon_pid();

		CHECK(pid > 0);
		/* Somewhere in the churner's calls, a different point each time. */
		vc_sleep_ms(20 + (i * 37) % 150);
		CHECK(kill(pid, SIGKILL) == 0);
		CHECK(wait_daemon(pid) > 0);
		check_after_restart();
	}
	CHECK(kill(churner, SIGTERM) == 0);
	CHECK(waitpid(churner, &status, 0) == churner);
	churner = -1;
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

/* SIGUSR2: the upgrade path; the daemon leaves on purpose and comes back. */
static void test_upgrade_signal(void)
{
	pid_t pid = daemon_pid();

	CHECK(pid > 0);
	CHECK(kill(pid, SIGUSR2) == 0);
	CHECK(wait_daemon(pid) > 0);
	check_after_restart();
}

/* The version 1 file the previous release wrote: the manifest with every
 * VM file folded into "vms". */
static void state_write_v1(const char *state)
{
	struct json_object *root = json_object_from_file(state), *list = json_object_new_array();
	char dir[512], path[1024];
	struct dirent *e;
	DIR *dp;

	CHECK(root && list);
	snprintf(dir, sizeof(dir), "%s.d", state);
	dp = opendir(dir);
	CHECK(dp);
	while ((e = readdir(dp))) {
		struct json_object *vm;

		if (strncmp(e->d_name, "vm", 2) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		vm = json_object_from_file(path);
		CHECK(vm);
		CHECK(json_object_array_add(list, vm) == 0);
		CHECK(unlink(path) == 0);
	}
	closedir(dp);
	CHECK(rmdir(dir) == 0);
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "vms", list);
	CHECK(json_object_to_file(state, root) == 0);
	json_object_put(root);
}

/* The state as the previous release left it (version 1, one file): every VM
 * is adopted from it, and the next commit writes version 2, one file per VM. */
static void test_state_v1_upgrade(void)
{
	const char *state = getenv("VIOMMUD_STATE");
	struct json_object *manifest;
	char path[600];
	pid_t pid = daemon_pid();

	CHECK(state && pid > 0);
	CHECK(kill(pid, SIGSTOP) == 0);
	state_write_v1(state);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(wait_daemon(pid) > 0);
	check_after_restart();
	manifest = json_object_from_file(state);
	CHECK(manifest);
	CHECK_EQ(vc_json_u64(manifest, "version"), 2);
	CHECK(!json_object_object_get_ex(manifest, "vms", NULL));
	json_object_put(manifest);
	for (int i = 0; i < NVMS; i++) {
		unsigned int id = 0;

		CHECK(sscanf(vms[i], VC_ROOT "/vm/%u", &id) == 1);
		snprintf(path, sizeof(path), "%s.d/vm%u.json", state, id);
		CHECK(access(path, F_OK) == 0);
	}
}

static uint32_t orphan_count(const char *prefix)
{
	return vc_orphan_count(&c, prefix);
}

/* A state file that cannot be read: no VM is guessed at, every stored fd is
 * kept as an orphan (the pins stay) until the operator releases it. */
static void test_corrupt_state(void)
{
	const char *state = getenv("VIOMMUD_STATE");
	char corrupt[512], prefix[32], **list = NULL;
	unsigned int id = 0;
	pid_t pid = daemon_pid();
	FILE *f;

	CHECK(state && pid > 0);
	CHECK(sscanf(vms[VM_MOCK], VC_ROOT "/vm/%u", &id) == 1);
	/* Our own copies of the edu VM's fds go first: they are not orphans. */
	edu_close(&edu_dev);
	have_edu = false;
	close(edu_devfd);
	edu_devfd = -1;
	close(events_iommufd);
	events_iommufd = -1;
	CHECK(kill(pid, SIGSTOP) == 0);
	f = fopen(state, "w");
	CHECK(f);
	fputs("{\"version\": 1, \"vms\": [ {\"id\": \"not a number\"} ]", f);
	fclose(f);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(wait_daemon(pid) > 0);
	vc_close(&c);
	CHECK_OK(vc_connect(&c, NULL));
	snprintf(corrupt, sizeof(corrupt), "%s.corrupt", state);
	CHECK(access(corrupt, F_OK) == 0);
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &list));
	CHECK(!list || !list[0]);
	vc_strv_free(list);
	snprintf(prefix, sizeof(prefix), "vm%u.", id);
	CHECK_EQ(orphan_count(prefix), 1); /* the mock VM: its iommufd alone */
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 1));
	snprintf(prefix, sizeof(prefix), "vm%u.iommufd", id);
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "ReleaseOrphan", NULL, "s", prefix));
	CHECK_DBUS_ERROR(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "ReleaseOrphan", NULL, "s", prefix),
			 VC_ERR_NOT_FOUND);
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 0));
	/* The rest too; then nothing is held. */
	for (int i = 0; i < NVMS; i++) {
		CHECK(sscanf(vms[i], VC_ROOT "/vm/%u", &id) == 1);
		snprintf(prefix, sizeof(prefix), "vm%u.", id);
		while (orphan_count(prefix) > 0) {
			sd_bus_message *reply = NULL;
			const char *name, *target;

			CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "ListOrphans", &reply, ""));
			CHECK(sd_bus_message_enter_container(reply, 'a', "(ss)") >= 0);
			CHECK(sd_bus_message_read(reply, "(ss)", &name, &target) > 0);
			check_note("releasing %s (%s)", name, target);
			CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "ReleaseOrphan", NULL, "s",
						  name));
			sd_bus_message_unref(reply);
		}
	}
	CHECK_EQ(orphan_count(""), 0);
	CHECK_OK(vc_pins_are(edu_mem, EDU_MEM, 0));
}

/* A managed VM with `memfd` mapped at IOVA_MOCK and one mock device on it. */
static char *swap_vm(const char *name, const char *device, int fd)
{
	char *path = NULL, *dev = vc_find_device(&c, device);

	CHECK(dev);
	CHECK_DBUS_OK(&c, create_vm(&c, name, false, &path));
	CHECK_DBUS_OK(&c, vc_map_memory(&c, path, fd, 0, MEM_SIZE, IOVA_MOCK, RW));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, path, dev));
	free(dev);
	return path;
}

/* Swaps VMs id_a and id_b in the state (their files, each with the other's
 * "id"): each VM's entry now names the other's stored fds. */
static void state_swap_ids(const char *state, unsigned int id_a, unsigned int id_b)
{
	char path_a[600], path_b[600];
	struct json_object *va, *vb;

	snprintf(path_a, sizeof(path_a), "%s.d/vm%u.json", state, id_a);
	snprintf(path_b, sizeof(path_b), "%s.d/vm%u.json", state, id_b);
	va = json_object_from_file(path_a);
	vb = json_object_from_file(path_b);
	CHECK(va && vb);
	json_object_object_add(va, "id", json_object_new_int64(id_b));
	json_object_object_add(vb, "id", json_object_new_int64(id_a));
	CHECK(json_object_to_file(path_b, va) == 0);
	CHECK(json_object_to_file(path_a, vb) == 0);
	json_object_put(va);
	json_object_put(vb);
}

/*
 * Two VMs alike in every ID (IOAS 1, the same mapping, a device each), each
 * paired in the state file with the other's iommufd. Each IOAS answers, so
 * only the context mark tells them apart: neither is adopted, both contexts
 * stay orphans (their pins held) until released.
 */
static void test_swapped_contexts(void)
{
	const char *state = getenv("VIOMMUD_STATE");
	char *a, *b, prefix[32], **list = NULL;
	unsigned int id_a = 0, id_b = 0;
	uint8_t *mem_a, *mem_b;
	int fd_a, fd_b;
	pid_t pid;

	CHECK(state);
	fd_a = memfd_create("itest-swap-a", MFD_CLOEXEC);
	fd_b = memfd_create("itest-swap-b", MFD_CLOEXEC);
	CHECK(fd_a >= 0 && fd_b >= 0);
	CHECK(ftruncate(fd_a, MEM_SIZE) == 0 && fallocate(fd_a, 0, 0, MEM_SIZE) == 0);
	CHECK(ftruncate(fd_b, MEM_SIZE) == 0 && fallocate(fd_b, 0, 0, MEM_SIZE) == 0);
	mem_a = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd_a, 0);
	mem_b = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd_b, 0);
	CHECK(mem_a != MAP_FAILED && mem_b != MAP_FAILED);
	vc_close(&c);
	CHECK_OK(vc_connect(&c, NULL));
	a = swap_vm("swap-a", "selftest0", fd_a);
	b = swap_vm("swap-b", "selftest1", fd_b);
	CHECK(sscanf(a, VC_ROOT "/vm/%u", &id_a) == 1 && sscanf(b, VC_ROOT "/vm/%u", &id_b) == 1);
	CHECK_OK(vc_pins_are(mem_a, MEM_SIZE, 1));
	CHECK_OK(vc_pins_are(mem_b, MEM_SIZE, 1));
	/* This connection outlives the kill: nothing tears them down first. */
	pid = daemon_pid();
	CHECK(pid > 0 && kill(pid, SIGSTOP) == 0);
	state_swap_ids(state, id_a, id_b);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(wait_daemon(pid) > 0);
	vc_close(&c);
	CHECK_OK(vc_connect(&c, NULL));
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &list));
	for (char **p = list; p && *p; p++)
		CHECK(strcmp(*p, a) != 0 && strcmp(*p, b) != 0);
	vc_strv_free(list);
	snprintf(prefix, sizeof(prefix), "vm%u.iommufd", id_a);
	CHECK_EQ(orphan_count(prefix), 1);
	snprintf(prefix, sizeof(prefix), "vm%u.iommufd", id_b);
	CHECK_EQ(orphan_count(prefix), 1);
	CHECK_OK(vc_pins_are(mem_a, MEM_SIZE, 1));
	CHECK_OK(vc_pins_are(mem_b, MEM_SIZE, 1));
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "ReleaseOrphan", NULL, "s", prefix));
	snprintf(prefix, sizeof(prefix), "vm%u.iommufd", id_a);
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "ReleaseOrphan", NULL, "s", prefix));
	CHECK_OK(vc_pins_are(mem_a, MEM_SIZE, 0));
	CHECK_OK(vc_pins_are(mem_b, MEM_SIZE, 0));
	CHECK_EQ(orphan_count(""), 0);
	munmap(mem_a, MEM_SIZE);
	munmap(mem_b, MEM_SIZE);
	close(fd_a);
	close(fd_b);
	free(a);
	free(b);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_setup),
		CHECK_CASE(test_restart_once),
		CHECK_CASE(test_vmm_across_restart),
		CHECK_CASE(test_intent_resolved),
		CHECK_CASE(test_kill_loop),
		CHECK_CASE(test_upgrade_signal),
		CHECK_CASE(test_state_v1_upgrade),
		CHECK_CASE(test_corrupt_state),
		CHECK_CASE(test_swapped_contexts),
	};
	int status;

	srand(1);
	status = check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	if (churner > 0) {
		kill(churner, SIGKILL);
		waitpid(churner, NULL, 0);
	}
	vc_close(&c);
	return status;
}
