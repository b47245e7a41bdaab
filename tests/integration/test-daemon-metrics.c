/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Manager.GetMetrics against what was done, value by value, on the selftest
 * mock IOMMU: a VM with two mock devices, two mappings, invalidations (one
 * entry refused) and relayed vEVENTs, a second VM with dirty-bitmap reads, a
 * CreateVm refused by quota_vms_per_uid; what another uid sees; the latency
 * histogram; promtool's verdict; and, after kill -9 under the stand-in
 * service manager, the same counters again.
 *
 * Runs under run-daemon --fdstore with {"mock_devices": 3, "fast_path_users":
 * [0], "vm_users": [1000], "quota_vms_per_uid": 2, "claim_grace_seconds": 30}
 * (the fast path drives the mock through the VM's own iommufd).
 */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "iommufd.h"
#include "promtool.h"
#include "selftest.h"
#include "service-manager.h"

#define IOVA (16ull << 20)
#define MAP0 (64 * 1024ull)  /* the first mapping's length */
#define MAP1 (128 * 1024ull) /* the second's, right after it */
#define VIRT_ID0 0x10
#define VIRT_ID1 0x20
#define RW 6 /* READABLE | WRITEABLE */
#define WAIT_SECONDS 30

static struct vc c;
static char *vm, *dirty_vm, *viommu, *dom, *dev[3];
static int memfd = -1, dirty_memfd = -1, iommufd = -1, event_fd = -1;
static uint8_t *mem = MAP_FAILED, *dirty_mem = MAP_FAILED;
static uint32_t dev_id0;
/* What GetMetrics said before the restart, for after it. */
static char *before;

static void require(const void *p)
{
	if (!p)
		check_skip("an earlier case failed");
}

static int guest_memfd(uint64_t size, uint8_t **view)
{
	int fd = memfd_create("guest-ram", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)size) == 0 && fallocate(fd, 0, 0, (off_t)size) == 0);
	*view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(*view != MAP_FAILED);
	return fd;
}

static char *get_metrics(struct vc *cc)
{
	sd_bus_message *reply = NULL;
	const char *text;
	char *copy;

	if (vc_call(cc, VC_ROOT, VC_MANAGER, VIOMMU_MANAGER_GET_METRICS, &reply, "") < 0)
		return NULL;
	copy = sd_bus_message_read(reply, "s", &text) > 0 ? strdup(text) : NULL;
	sd_bus_message_unref(reply);
	return copy;
}

/* The value of the sample named series (its labels included); -1 when absent. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

#define CHECK_SAMPLE(text, series, want)                                                    \
	do {                                                                                \
		double check_v_ = sample(text, series);                                     \
		if (check_v_ != (double)(want))                                              \
			check_fail(__FILE__, __LINE__, "%s is %.0f, expected %.0f", series, \
				   check_v_, (double)(want));                              \
	} while (0)

/* The VM's series of name: "name{vm="VM",uid="0"}". */
static const char *vm_series(const char *name, const char *vm_name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s{vm=\"%s\",uid=\"0\"}", name, vm_name);
	return buf;
}

static void test_setup(void)
{
	static const struct kabi_iommu_hwpt_selftest data = { .iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT };
	sd_bus_message *reply = NULL;
	struct json_object *root, *o, *devs;
	char *vdev = NULL;
	const char *path;

	CHECK_OK(vc_connect(&c, NULL));
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "metrics", &vm));
	for (int i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "selftest%d", i);
		dev[i] = vc_find_device(&c, name);
		CHECK(dev[i]);
	}
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev[0]));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev[1]));
	memfd = guest_memfd(MAP0 + MAP1, &mem);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, 0, MAP0, IOVA, RW));
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, MAP0, MAP1, IOVA + MAP0, RW));
	CHECK_DBUS_OK(&c, vc_create_viommu(&c, vm, "auto", &viommu));
	CHECK_DBUS_OK(&c, vc_add_device(&c, viommu, dev[0], VIRT_ID0, &vdev));
	free(vdev);
	CHECK_DBUS_OK(&c, vc_add_device(&c, viommu, dev[1], VIRT_ID1, &vdev));
	free(vdev);
	CHECK_DBUS_OK(&c, vc_alloc_domain(&c, viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST,
					  &data, sizeof(data), &dom));
	CHECK_DBUS_OK(&c, vc_get_fd(&c, vm, NULL, &iommufd));
	root = vc_describe_json(&c);
	CHECK(root);
	o = vc_json_by_path(root, "vms", vm);
	CHECK(o && json_object_object_get_ex(o, "devices", &devs));
	o = vc_json_by_path(o, "devices", dev[0]);
	CHECK(o);
	dev_id0 = (uint32_t)vc_json_u64(o, "dev_id");
	json_object_put(root);

	/* The second VM: dirty tracking, one device, one mapping. */
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", "dirty", 1,
				  "dirty-tracking", "b", 1));
	CHECK(sd_bus_message_read(reply, "o", &path) > 0);
	dirty_vm = strdup(path);
	sd_bus_message_unref(reply);
	CHECK_DBUS_OK(&c, vc_attach_device(&c, dirty_vm, dev[2]));
	dirty_memfd = guest_memfd(MAP0, &dirty_mem);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, dirty_vm, dirty_memfd, 0, MAP0, IOVA, RW));
	CHECK_DBUS_OK(&c, vc_call(&c, dirty_vm, VC_VM, "SetDirtyTracking", NULL, "b", 1));
}

/* Three calls reach the kernel: 2 + 1 + 2 entries handled, one refused. */
static void test_invalidate(void)
{
	const struct kabi_iommu_hwpt_invalidate_selftest bad[3] = {
		{ .iotlb_id = 1 },
		{ .iotlb_id = 2 },
		{ .iotlb_id = KABI_MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1 },
	};
	const struct kabi_iommu_hwpt_invalidate_selftest good = { .iotlb_id = 0 };
	const struct kabi_iommu_viommu_invalidate_selftest vgood[2] = {
		{ .vdev_id = VIRT_ID0, .cache_id = 1 },
		{ .vdev_id = VIRT_ID1, .cache_id = 2 },
	};
	uint32_t handled = 0;
	int32_t err = 0;

	require(dom);
	CHECK_DBUS_OK(&c, vc_invalidate(&c, dom, VC_DOMAIN, KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					sizeof(bad[0]), bad, sizeof(bad), &handled, &err));
	CHECK_EQ(handled, 2);
	CHECK(err != 0);
	CHECK_DBUS_OK(&c, vc_invalidate(&c, dom, VC_DOMAIN, KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					sizeof(good), &good, sizeof(good), &handled, &err));
	CHECK_EQ(handled, 1);
	CHECK_DBUS_OK(&c, vc_invalidate(&c, viommu, VC_VIOMMU,
					KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, sizeof(vgood[0]),
					vgood, sizeof(vgood), &handled, &err));
	CHECK_EQ(handled, 2);
	CHECK_EQ(err, 0);
	/* Refused before the kernel: not counted. */
	CHECK_DBUS_ERROR(&c, vc_invalidate(&c, viommu, VC_VIOMMU,
					   KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, 0, vgood,
					   sizeof(vgood), &handled, &err), VC_ERR_INVALID);
}

/* Waits until the vIOMMU's EventsRelayed is want (10 s at most). */
static uint64_t wait_relayed(uint64_t want)
{
	double deadline = vc_now_seconds() + 10;
	uint64_t relayed = 0;

	while (vc_get_u64(&c, viommu, VC_VIOMMU, "EventsRelayed", &relayed) >= 0 &&
	       relayed < want && vc_now_seconds() < deadline)
		vc_sleep_ms(20);
	return relayed;
}

static void test_events(void)
{
	sd_bus_message *reply = NULL;
	int fd;

	require(dom);
	CHECK_DBUS_OK(&c, vc_call(&c, viommu, VC_VIOMMU, "OpenEventQueue", &reply, "uua{sv}",
				  KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 16u, 1, "relay", "b", 1));
	CHECK(sd_bus_message_read(reply, "h", &fd) > 0);
	event_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	sd_bus_message_unref(reply);
	CHECK(event_fd >= 0);
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, dom, dev[0]));
	CHECK_OK(mock_trigger_vevent(iommufd, dev_id0));
	CHECK_OK(mock_trigger_vevent(iommufd, dev_id0));
	CHECK_EQ(wait_relayed(2), 2);
}

static void test_dirty_reads(void)
{
	int fd = memfd_create("dirty-bitmap", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	require(dirty_vm);
	CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	CHECK_DBUS_OK(&c, vc_call(&c, dirty_vm, VC_VM, "ReadDirtyBitmap", NULL, "ttthu", IOVA,
				  MAP0, 4096ull, fd, 0u));
	CHECK_DBUS_OK(&c, vc_call(&c, dirty_vm, VC_VM, "ReadDirtyBitmap", NULL, "ttthu", IOVA,
				  MAP0, 4096ull, fd, 0u));
	/* Refused before the kernel (unknown flags): not counted. */
	CHECK_DBUS_ERROR(&c, vc_call(&c, dirty_vm, VC_VM, "ReadDirtyBitmap", NULL, "ttthu", IOVA,
				     MAP0, 4096ull, fd, 2u), VC_ERR_INVALID);
	close(fd);
}

/* Root's third VM is over quota_vms_per_uid (2). */
static void test_quota_refusal(void)
{
	char *third = NULL;

	require(dirty_vm);
	CHECK_DBUS_ERROR(&c, vc_create_vm(&c, "third", &third), VIOMMU_ERROR_QUOTA_EXCEEDED);
	free(third);
}

/* Every value, as done above. */
static void check_values(const char *text)
{
	CHECK_SAMPLE(text, "viommu_vms", 2);
	CHECK_SAMPLE(text, vm_series("viommu_vm_pinned_bytes", "metrics"), MAP0 + MAP1);
	CHECK_SAMPLE(text, vm_series("viommu_vm_mappings", "metrics"), 2);
	CHECK_SAMPLE(text, vm_series("viommu_vm_devices", "metrics"), 2);
	CHECK_SAMPLE(text, vm_series("viommu_vm_invalidation_calls_total", "metrics"), 3);
	CHECK_SAMPLE(text, vm_series("viommu_vm_invalidation_entries_total", "metrics"), 5);
	CHECK_SAMPLE(text, vm_series("viommu_vm_invalidation_errors_total", "metrics"), 1);
	CHECK_SAMPLE(text, vm_series("viommu_vm_events_lost_total", "metrics"), 0);
	CHECK_SAMPLE(text, vm_series("viommu_vm_dirty_bitmap_reads_total", "metrics"), 0);
	CHECK_SAMPLE(text, vm_series("viommu_vm_pinned_bytes", "dirty"), MAP0);
	CHECK_SAMPLE(text, vm_series("viommu_vm_mappings", "dirty"), 1);
	CHECK_SAMPLE(text, vm_series("viommu_vm_devices", "dirty"), 1);
	CHECK_SAMPLE(text, vm_series("viommu_vm_dirty_bitmap_reads_total", "dirty"), 2);
	CHECK_SAMPLE(text, vm_series("viommu_vm_invalidation_calls_total", "dirty"), 0);
	CHECK_SAMPLE(text, "viommu_quota_refusals_total{limit=\"quota_vms_per_uid\"}", 1);
	CHECK_SAMPLE(text, "viommu_quota_refusals_total{limit=\"quota_message_fds\"}", 0);
	CHECK_SAMPLE(text, "viommu_orphans", 0);
	CHECK(sample(text, "viommu_connections") >= 1);
	CHECK(sample(text, "viommu_connections_accepted_total") >= 1);
}

static void test_values(void)
{
	char **devices = NULL;
	char *text;

	require(dirty_vm);
	text = get_metrics(&c);
	CHECK(text);
	check_values(text);
	CHECK_SAMPLE(text, vm_series("viommu_vm_events_relayed_total", "metrics"), 2);
	CHECK_SAMPLE(text, "viommu_restarts_total", 0);
	CHECK_SAMPLE(text, "viommu_vms_adopted_total", 0);
	CHECK_DBUS_OK(&c, vc_list(&c, "ListDevices", &devices));
	CHECK_SAMPLE(text, "viommu_devices", vc_strv_length(devices));
	vc_strv_free(devices);
	free(text);
}

/* Manager.CreateVm's histogram: cumulative, +Inf its count, the sum plausible. */
static void test_histogram(void)
{
	static const char *const le[] = { "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
					  "0.005", "0.01", "0.025", "0.05", "0.1",
					  "0.25", "0.5", "1", "2.5", "+Inf" };
	const char *m = "method=\"Manager.CreateVm\"";
	double last = 0, count, sum;
	char series[160];
	char *text = get_metrics(&c);

	CHECK(text);
	CHECK(strstr(text, "# TYPE viommu_method_duration_seconds histogram\n"));
	snprintf(series, sizeof(series), "viommu_method_duration_seconds_count{%s}", m);
	count = sample(text, series);
	CHECK(count >= 3); /* two VMs made, one refused */
	snprintf(series, sizeof(series), "viommu_method_duration_seconds_sum{%s}", m);
	sum = sample(text, series);
	CHECK(sum > 0 && sum < 60 * count);
	for (size_t i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
		double v;

		snprintf(series, sizeof(series), "viommu_method_duration_seconds_bucket{%s,le=\"%s\"}",
			 m, le[i]);
		v = sample(text, series);
		if (v < last)
			check_fail(__FILE__, __LINE__, "%s is %.0f, below the bucket before (%.0f)",
				   series, v, last);
		last = v;
	}
	CHECK_EQ(last, count);
	/* Members no vtable has are not measured. */
	CHECK_DBUS_ERROR(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "NoSuchMethod", NULL, ""),
			 VC_ERR_UNKNOWN_METHOD);
	free(text);
	text = get_metrics(&c);
	CHECK(text && !strstr(text, "NoSuchMethod"));
	free(text);
}

/* uid 1000 sees its own VM's series and none of root's. */
static void test_other_uid(void)
{
	char **vms = NULL;
	pid_t pid;
	int status;

	require(dirty_vm);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct vc other = { 0 };
		char *mine = NULL, *text;

		if (setgroups(0, NULL) < 0 || setresgid(1000, 1000, 1000) < 0 ||
		    setresuid(1000, 1000, 1000) < 0)
			_exit(10);
		if (vc_connect(&other, NULL) < 0 || vc_create_vm(&other, "mine", &mine) < 0)
			_exit(11);
		text = get_metrics(&other);
		if (!text)
			_exit(12);
		if (strstr(text, "vm=\"metrics\"") || strstr(text, "vm=\"dirty\"") ||
		    strstr(text, "uid=\"0\""))
			_exit(13);
		if (sample(text, "viommu_vm_pinned_bytes{vm=\"mine\",uid=\"1000\"}") != 0 ||
		    sample(text, "viommu_vms") != 3)
			_exit(14);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	/* Its VM goes with its connection. */
	for (int i = 0; i < 200; i++) {
		CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &vms));
		if (vc_strv_length(vms) == 2)
			break;
		vc_strv_free(vms);
		vms = NULL;
		vc_sleep_ms(50);
	}
	CHECK_EQ(vc_strv_length(vms), 2);
	vc_strv_free(vms);
}

/* promtool, from the prometheus package, accepts the text; CI must have it. */
static void test_promtool(void)
{
	char *text = get_metrics(&c);

	check_promtool(text);
	free(text);
}

/* The counters object of a VM's state file once it holds key = want (5 s at
 * most: they are written soon after they move); NULL otherwise. */
static struct json_object *vm_file_counters(const char *path, const char *key, uint64_t want)
{
	const char *state = getenv("VIOMMUD_STATE");
	double deadline = vc_now_seconds() + 5;
	struct json_object *o, *counters;
	char file[512];

	if (!state)
		return NULL;
	snprintf(file, sizeof(file), "%s.d/vm%s.json", state, strrchr(path, '/') + 1);
	do {
		o = json_object_from_file(file);
		if (o && json_object_object_get_ex(o, "counters", &counters) &&
		    vc_json_u64(counters, key) == want) {
			json_object_get(counters);
			json_object_put(o);
			return counters;
		}
		json_object_put(o);
		vc_sleep_ms(20);
	} while (vc_now_seconds() < deadline);
	return NULL;
}

/* What a restart must find is in the state files before the kill. */
static void test_state_file(void)
{
	struct json_object *o, *counters;

	require(dirty_vm);
	counters = vm_file_counters(vm, "events_relayed", 2);
	CHECK(counters);
	CHECK_EQ(vc_json_u64(counters, "invalidation_calls"), 3);
	CHECK_EQ(vc_json_u64(counters, "invalidation_entries"), 5);
	CHECK_EQ(vc_json_u64(counters, "invalidation_errors"), 1);
	json_object_put(counters);
	counters = vm_file_counters(dirty_vm, "dirty_reads", 2);
	CHECK(counters);
	json_object_put(counters);
	o = json_object_from_file(getenv("VIOMMUD_STATE"));
	CHECK(o && json_object_object_get_ex(o, "counters", &counters));
	CHECK(json_object_object_get_ex(counters, "quota_refusals", &counters));
	CHECK_EQ(vc_json_u64(counters, "quota_vms_per_uid"), 1);
	json_object_put(o);
	before = get_metrics(&c);
	CHECK(before);
}

static void test_restart(void)
{
	pid_t pid = sm_daemon_pid();
	const char *vms[2] = { vm, dirty_vm };
	char *text;

	require(before);
	CHECK(pid > 0);
	CHECK(kill(pid, SIGKILL) == 0);
	/* An event while the daemon is down: relayed after, with no loss. */
	CHECK_OK(mock_trigger_vevent(iommufd, dev_id0));
	CHECK(sm_wait_daemon(pid, WAIT_SECONDS) > 0);
	vc_close(&c);
	CHECK_OK(vc_connect(&c, NULL));
	for (int i = 0; i < 2; i++)
		CHECK_DBUS_OK(&c, vc_call(&c, vms[i], VC_VM, "Claim", NULL, ""));
	CHECK_EQ(wait_relayed(3), 3);
	text = get_metrics(&c);
	CHECK(text);
	check_values(text);
	CHECK_SAMPLE(text, vm_series("viommu_vm_events_relayed_total", "metrics"), 3);
	CHECK_SAMPLE(text, "viommu_restarts_total", 1);
	CHECK_SAMPLE(text, "viommu_vms_adopted_total", 2);
	CHECK(sample(text, "viommu_connections_accepted_total") >
	      sample(before, "viommu_connections_accepted_total"));
	free(text);
}

static void test_teardown(void)
{
	require(dirty_vm);
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	CHECK_DBUS_OK(&c, vc_destroy(&c, dirty_vm, VC_VM));
	CHECK_OK(vc_pins_are(mem, MAP0 + MAP1, 0));
	CHECK_OK(vc_pins_are(dirty_mem, MAP0, 0));
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_setup),	       CHECK_CASE(test_invalidate),
		CHECK_CASE(test_events),       CHECK_CASE(test_dirty_reads),
		CHECK_CASE(test_quota_refusal), CHECK_CASE(test_values),
		CHECK_CASE(test_histogram),    CHECK_CASE(test_other_uid),
		CHECK_CASE(test_promtool),     CHECK_CASE(test_state_file),
		CHECK_CASE(test_restart),      CHECK_CASE(test_teardown),
	};
	int status = check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);

	if (event_fd >= 0)
		close(event_fd);
	if (iommufd >= 0)
		close(iommufd);
	free(before);
	vc_close(&c);
	return status;
}
