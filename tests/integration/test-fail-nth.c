/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fault-injection sweep of the daemon's kernel work, in the test guest.
 *
 * The daemon's library is driven directly, through its object model (no
 * socket), in one process and one thread: a VM with guest memory, two mock
 * devices (one at a PASID), a vIOMMU with the devices' vDEVICEs, a fault
 * queue, a fault-capable nested domain with a device on it, more guest memory
 * (mapped into the domains now), an event queue and a HW queue; then the
 * teardown. The kernel layer's test hook (lib/kernel/kernel-hook.h) sees
 * every kernel call. Each step is a plain model function (model.h): no D-Bus.
 *
 * A first run counts the calls (K). Then for every call k and nth = 1, 2, ...
 * the flow runs again with the kernel's fail-nth (/proc/thread-self/fail-nth,
 * as tools/testing/selftests/iommu/iommufd_fail_nth.c arms it) written just
 * before call k and read back just after it: 0 means the call's nth failable
 * site failed; anything else means the call has fewer than nth, and k is
 * done. The sites are every slab and page allocation (failslab and
 * fail_page_alloc are told not to spare sleeping allocations, nor order-0
 * pages), mempool allocations, and the iommufd selftest's own fail_iommufd
 * points (object lookups, page pinning): whatever fail-nth counts down.
 *
 * Every run must end either with the flow done (the kernel coped, or the
 * daemon chose to ignore the failed call) or with a clean error at one step: a
 * negative errno with the struct verror set, and that step rolled back (the daemon's records, the
 * pins, the mock devices, the fds, as before the step). After the teardown
 * nothing may be left: no VM, no device attached, no /dev/iommu fd, no fd at
 * all more than before, no mock device, and no page pinned (checked with the
 * selftest's page refs on a fresh iommufd). No run may make the kernel warn
 * (its log is read after each run).
 *
 * TAP: one line per kernel call. A failure the daemon ignored that made a
 * later step fail is a failure of the step that ignored it. Arguments:
 * --max-nth N (default 2000) caps the points per call; reaching it fails.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "model.h"
#include "iommufd.h"
#include "kabi-vfio.h"
#include "kernel-hook.h"
#include "log.h"
#include "selftest.h"

#define MEM_SIZE (64 * 4096ull)
#define HALF (MEM_SIZE / 2) /* mapped before the devices come, and after */
#define IOVA (16ull << 20)  /* the mock aperture starts at 16 MiB */
#define HWQ_IOVA (IOVA + MEM_SIZE - 4096)
#define VIRT_ID0 0x10
#define VIRT_ID1 0x20
#define PASID1 1
#define MAX_CALLS 256
#define DEBUGFS "/sys/kernel/debug"
#define MOCK_BUS_DEVICES "/sys/bus/iommufd_mock/devices"

/* ---- TAP ---- */

static unsigned int tap_count, tap_failed;

static void tap(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %u - ", ok ? "ok" : "not ok", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	tap_failed += !ok;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static _Noreturn void bail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* ---- kernel call names ---- */

static const struct {
	unsigned long request;
	const char *name;
} request_names[] = {
	{ KERNEL_CALL_OPEN_IOMMUFD, "open(/dev/iommu)" },
	{ KABI_IOMMU_DESTROY, "IOMMU_DESTROY" },
	{ KABI_IOMMU_IOAS_ALLOC, "IOMMU_IOAS_ALLOC" },
	{ KABI_IOMMU_IOAS_ALLOW_IOVAS, "IOMMU_IOAS_ALLOW_IOVAS" },
	{ KABI_IOMMU_IOAS_COPY, "IOMMU_IOAS_COPY" },
	{ KABI_IOMMU_IOAS_IOVA_RANGES, "IOMMU_IOAS_IOVA_RANGES" },
	{ KABI_IOMMU_IOAS_MAP, "IOMMU_IOAS_MAP" },
	{ KABI_IOMMU_IOAS_MAP_FILE, "IOMMU_IOAS_MAP_FILE" },
	{ KABI_IOMMU_IOAS_UNMAP, "IOMMU_IOAS_UNMAP" },
	{ KABI_IOMMU_IOAS_CHANGE_PROCESS, "IOMMU_IOAS_CHANGE_PROCESS" },
	{ KABI_IOMMU_OPTION, "IOMMU_OPTION" },
	{ KABI_IOMMU_HWPT_ALLOC, "IOMMU_HWPT_ALLOC" },
	{ KABI_IOMMU_GET_HW_INFO, "IOMMU_GET_HW_INFO" },
	{ KABI_IOMMU_HWPT_SET_DIRTY_TRACKING, "IOMMU_HWPT_SET_DIRTY_TRACKING" },
	{ KABI_IOMMU_HWPT_GET_DIRTY_BITMAP, "IOMMU_HWPT_GET_DIRTY_BITMAP" },
	{ KABI_IOMMU_HWPT_INVALIDATE, "IOMMU_HWPT_INVALIDATE" },
	{ KABI_IOMMU_FAULT_QUEUE_ALLOC, "IOMMU_FAULT_QUEUE_ALLOC" },
	{ KABI_IOMMU_VIOMMU_ALLOC, "IOMMU_VIOMMU_ALLOC" },
	{ KABI_IOMMU_VDEVICE_ALLOC, "IOMMU_VDEVICE_ALLOC" },
	{ KABI_IOMMU_VEVENTQ_ALLOC, "IOMMU_VEVENTQ_ALLOC" },
	{ KABI_IOMMU_HW_QUEUE_ALLOC, "IOMMU_HW_QUEUE_ALLOC" },
	{ KABI_VFIO_DEVICE_GET_INFO, "VFIO_DEVICE_GET_INFO" },
	{ KABI_VFIO_DEVICE_GET_REGION_INFO, "VFIO_DEVICE_GET_REGION_INFO" },
	{ KABI_VFIO_DEVICE_GET_IRQ_INFO, "VFIO_DEVICE_GET_IRQ_INFO" },
	{ KABI_VFIO_DEVICE_SET_IRQS, "VFIO_DEVICE_SET_IRQS" },
	{ KABI_VFIO_DEVICE_RESET, "VFIO_DEVICE_RESET" },
	{ KABI_VFIO_DEVICE_BIND_IOMMUFD, "VFIO_DEVICE_BIND_IOMMUFD" },
	{ KABI_VFIO_DEVICE_ATTACH_IOMMUFD_PT, "VFIO_DEVICE_ATTACH_IOMMUFD_PT" },
	{ KABI_VFIO_DEVICE_DETACH_IOMMUFD_PT, "VFIO_DEVICE_DETACH_IOMMUFD_PT" },
};

static const struct {
	uint32_t op;
	const char *name;
} test_op_names[] = {
	{ KABI_IOMMU_TEST_OP_MOCK_DOMAIN, "MOCK_DOMAIN" },
	{ KABI_IOMMU_TEST_OP_MD_CHECK_REFS, "MD_CHECK_REFS" },
	{ KABI_IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, "MOCK_DOMAIN_REPLACE" },
	{ KABI_IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, "MOCK_DOMAIN_FLAGS" },
	{ KABI_IOMMU_TEST_OP_PASID_ATTACH, "PASID_ATTACH" },
	{ KABI_IOMMU_TEST_OP_PASID_REPLACE, "PASID_REPLACE" },
	{ KABI_IOMMU_TEST_OP_PASID_DETACH, "PASID_DETACH" },
};

static void call_name(unsigned long request, uint32_t op, char *buf, size_t len)
{
	if (request == KABI_IOMMU_TEST_CMD) {
		for (size_t i = 0; i < sizeof(test_op_names) / sizeof(test_op_names[0]); i++)
			if (test_op_names[i].op == op) {
				snprintf(buf, len, "IOMMU_TEST_CMD(%s)", test_op_names[i].name);
				return;
			}
		snprintf(buf, len, "IOMMU_TEST_CMD(op %u)", op);
		return;
	}
	for (size_t i = 0; i < sizeof(request_names) / sizeof(request_names[0]); i++)
		if (request_names[i].request == request) {
			snprintf(buf, len, "%s", request_names[i].name);
			return;
		}
	snprintf(buf, len, "ioctl 0x%lx", request);
}

/* ---- the hook: counting calls, arming fail-nth around one of them ---- */

struct call {
	unsigned long request;
	uint32_t op; /* IOMMU_TEST_CMD: the selftest op */
	int result;
	const char *step;
};

struct sweep {
	int nth_fd; /* /proc/thread-self/fail-nth */
	unsigned int ncalls;
	struct call calls[MAX_CALLS];
	const struct call *expected; /* the counting run's calls, when sweeping */
	unsigned int nexpected;
	const char *step;
	/* Arming. */
	int target; /* the call index to arm; -1: none */
	unsigned int nth;
	bool reached;	  /* call target was made */
	bool injected;	  /* and fail-nth ran out inside it */
	unsigned int left; /* what fail-nth read back after it */
	bool mismatch;	  /* a call differs from the counting run's */
	char why[256];
};

static struct sweep sw;

static void nth_write(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	/* As the kernel's test does: writing can fail once with EFAULT. */
	if (pwrite(sw.nth_fd, buf, (size_t)len, 0) != len &&
	    pwrite(sw.nth_fd, buf, (size_t)len, 0) != len)
		bail("cannot write %u to fail-nth: %s", n, strerror(errno));
}

/* fail-nth as it is now; on EFAULT (the read faulted: nothing injected in
 * the call) 1, as the kernel's test takes it. */
static unsigned int nth_read(void)
{
	char buf[32] = "";
	ssize_t n = pread(sw.nth_fd, buf, sizeof(buf) - 1, 0);

	if (n < 0 && errno == EFAULT)
		return 1;
	if (n <= 0)
		bail("cannot read fail-nth: %s", n < 0 ? strerror(errno) : "empty");
	return (unsigned int)strtoul(buf, NULL, 10);
}

static void hook(unsigned long request, const void *arg, bool after, int result, void *ud)
{
	struct sweep *s = ud;
	uint32_t op = 0;

	if (request == KABI_IOMMU_TEST_CMD && arg)
		op = ((const struct kabi_iommu_test_cmd *)arg)->op;
	if (after) {
		unsigned int idx = s->ncalls - 1;

		if ((int)idx == s->target && s->target >= 0) {
			/* First read, then disarm: nothing in between allocates. */
			s->left = nth_read();
			nth_write(0);
			s->reached = true;
			s->injected = s->left == 0;
		}
		if (idx < MAX_CALLS)
			s->calls[idx].result = result;
		return;
	}
	unsigned int idx = s->ncalls++;

	if (idx < MAX_CALLS)
		s->calls[idx] = (struct call){ request, op, 0, s->step };
	if (s->expected && !s->mismatch &&
	    (idx >= s->nexpected || s->expected[idx].request != request ||
	     s->expected[idx].op != op) &&
	    (int)idx <= s->target) {
		s->mismatch = true;
		snprintf(s->why, sizeof(s->why), "call %u is not the counting run's", idx);
	}
	if ((int)idx == s->target)
		nth_write(s->nth); /* the next failable allocation of this thread is call k's */
}

/* ---- the process: fds, mock devices, pins ---- */

static int count_fds(int *iommu_fds)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int count = 0, iommu = 0;

	if (!dir)
		bail("cannot open /proc/self/fd: %s", strerror(errno));
	while ((de = readdir(dir))) {
		char path[300], target[256];
		ssize_t n;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(dir))
			continue;
		count++;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			iommu += strcmp(target, "/dev/iommu") == 0;
		}
	}
	closedir(dir);
	*iommu_fds = iommu;
	return count;
}

static int count_mock_devices(void)
{
	DIR *dir = opendir(MOCK_BUS_DEVICES);
	struct dirent *de;
	int count = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		count += de->d_name[0] != '.';
	closedir(dir);
	return count;
}

static uint8_t *mem; /* the memfd's pages, mapped here for the page-ref checks */
static int memfd = -1;

/* How many times every page of [va, va + len) is pinned (0..3), or -1 (mixed,
 * or the check failed); on a fresh iommufd, closed again. */
static int pins_of(const void *va, uint64_t len)
{
	int fd = iommufd_open(), pins = -1;

	if (fd < 0)
		bail("cannot open /dev/iommu for the page-ref check: %s", strerror(-fd));
	for (int refs = 0; refs <= 3 && pins < 0; refs++)
		if (mock_check_refs(fd, va, len, (uint32_t)refs) == 0)
			pins = refs;
	close(fd);
	return pins;
}

/* ---- the daemon's state, before and after a step ---- */

struct snapshot {
	bool has_vm;
	unsigned int devices, mappings, viommus, vdevices, domains, on_domain, pasids;
	unsigned int fault_queues, veventqs, hw_queues, attached;
	uint32_t parent_id;
	uint64_t mapped_bytes;
	int fds, iommu_fds, mock_devices;
	int pins_a, pins_b; /* how often the pages of each half are pinned */
};

static struct daemon dmn;
static struct vm *vm;

static void snapshot_take(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	for (struct device *dev = dmn.devices; dev; dev = dev->next)
		s->attached += dev->vm != NULL;
	s->has_vm = vm != NULL;
	if (vm) {
		for (struct vm_device *vd = vm->devices; vd; vd = vd->next) {
			s->devices++;
			s->on_domain += vd->domain != NULL;
			s->pasids += vd->pasid_attached;
		}
		for (struct vm_mapping *map = vm->mappings; map; map = map->next)
			s->mappings++;
		for (struct viommu *v = vm->viommus; v; v = v->next) {
			s->viommus++;
			for (struct veventq *q = v->veventqs; q; q = q->next)
				s->veventqs++;
			for (struct hw_queue *q = v->hw_queues; q; q = q->next)
				s->hw_queues++;
		}
		for (struct vdevice *v = vm->vdevices; v; v = v->next)
			s->vdevices++;
		for (struct domain *dom = vm->domains; dom; dom = dom->next)
			s->domains++;
		for (struct fault_queue *q = vm->fault_queues; q; q = q->next)
			s->fault_queues++;
		s->parent_id = vm->parent_id;
		s->mapped_bytes = vm->mapped_bytes;
	}
	s->fds = count_fds(&s->iommu_fds);
	s->mock_devices = count_mock_devices();
	s->pins_a = pins_of(mem, HALF);
	s->pins_b = pins_of(mem + HALF, HALF);
}

/* What differs, in words; empty when nothing does. */
static void snapshot_diff(const struct snapshot *a, const struct snapshot *b, char *buf,
			  size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
#define DIFF(field)                                                                      \
	if (a->field != b->field && at < len)                                            \
		at += (size_t)snprintf(buf + at, len - at, "%s%s %lld -> %lld", at ? ", " : "", \
				       #field, (long long)a->field, (long long)b->field)
	DIFF(has_vm);
	DIFF(devices);
	DIFF(mappings);
	DIFF(viommus);
	DIFF(vdevices);
	DIFF(domains);
	DIFF(on_domain);
	DIFF(pasids);
	DIFF(fault_queues);
	DIFF(veventqs);
	DIFF(hw_queues);
	DIFF(attached);
	DIFF(parent_id);
	DIFF(mapped_bytes);
	DIFF(fds);
	DIFF(iommu_fds);
	DIFF(mock_devices);
	DIFF(pins_a);
	DIFF(pins_b);
#undef DIFF
}

/* ---- the flow ---- */

enum step {
	STEP_CREATE,
	STEP_MAP,
	STEP_ATTACH0,
	STEP_ATTACH1,
	STEP_VIOMMU,
	STEP_VDEVICE0,
	STEP_VDEVICE1,
	STEP_FAULT_QUEUE,
	STEP_DOMAIN,
	STEP_DOMAIN_ATTACH,
	STEP_MAP2,
	STEP_EVENT_QUEUE,
	STEP_HW_QUEUE,
	STEP_COUNT,
	STEP_TEARDOWN = STEP_COUNT,
};

static const char *const step_names[] = {
	"vm_create",
	"vm_map_memory",
	"vm_attach_device(selftest0)",
	"vm_attach_device(selftest1, pasid)",
	"viommu_create",
	"vdevice_create(selftest0)",
	"vdevice_create(selftest1)",
	"fault_queue_open(relay)",
	"domain_alloc(nested, fault-queue)",
	"domain_attach_device(selftest0)",
	"vm_map_memory(into the domains)",
	"veventq_open(relay)",
	"hw_queue_alloc",
	"vm_teardown",
};

struct outcome {
	int failed_step; /* -1: the whole set-up was done */
	int r;
	char error[600];
	bool unclean;	 /* failed without a verror, or "succeeded" with one */
	bool unrolled;	 /* the failed step left something behind */
	char diff[600];
};

static struct device *dev0, *dev1;

static int do_step(enum step step, struct verror *error)
{
	static const struct kabi_iommu_hwpt_selftest nested = { .iotlb = 0xbadbeef };
	static const struct kabi_iommu_viommu_selftest vdata = { .in_data = 0x1234 };
	const struct server_peer peer = { .id = "p2p:1", .p2p = true, .pid = getpid() };
	const struct vm_options vm_options = { .pasid = true, .mode = VM_MODE_MANAGED };
	const struct attach_options at_pasid = { .has_pasid = true, .pasid = PASID1 };
	const struct attach_options none = { 0 };
	struct viommu *viommu = vm ? vm->viommus : NULL;
	struct fault_queue *fq;
	struct hw_queue *hwq;
	struct vdevice *vdev;
	struct domain *dom;
	int r, fd = -1;

	switch (step) {
	case STEP_CREATE:
		r = vm_create(&dmn, &peer, "failnth", &vm_options, &vm, error);
		break;
	case STEP_MAP:
	case STEP_MAP2: {
		uint64_t at = step == STEP_MAP ? 0 : HALF;

		r = vm_map_memory(vm, memfd, at, HALF, IOVA + at,
				  KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE, error);
		break;
	}
	case STEP_ATTACH0:
		r = vm_attach_device(vm, dev0, &none, &peer, error);
		break;
	case STEP_ATTACH1:
		r = vm_attach_device(vm, dev1, &at_pasid, &peer, error);
		break;
	case STEP_VIOMMU:
		r = viommu_create(vm, "auto", &vdata, sizeof(vdata), &viommu, error);
		break;
	case STEP_VDEVICE0:
	case STEP_VDEVICE1:
		r = vdevice_create(viommu, step == STEP_VDEVICE0 ? dev0 : dev1,
				   step == STEP_VDEVICE0 ? VIRT_ID0 : VIRT_ID1, &vdev, error);
		break;
	case STEP_FAULT_QUEUE:
		r = fault_queue_open(vm, true, &fq, &fd, error);
		break;
	case STEP_DOMAIN:
		r = domain_alloc(vm, viommu, KABI_IOMMU_HWPT_DATA_SELFTEST, &nested, sizeof(nested),
				 vm->fault_queues->path, &dom, error);
		break;
	case STEP_DOMAIN_ATTACH:
		r = domain_attach_device(vm->domains, vm_device_of(vm, dev0), error);
		break;
	case STEP_EVENT_QUEUE:
		r = veventq_open(viommu, KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 16, true, &fd, error);
		break;
	case STEP_HW_QUEUE:
		r = hw_queue_alloc(viommu, KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, HWQ_IOVA, 4096, &hwq,
				   error);
		break;
	default:
		r = -EINVAL;
	}
	/* The VMM's copy of a queue's counter, as a reply would have sent it. */
	if (fd >= 0)
		close(fd);
	return r;
}

/* Snapshots before each step are taken from this step on (STEP_COUNT: never). */
static int snapshot_from;

static void run_flow(struct outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->failed_step = -1;
	for (int step = 0; step < STEP_COUNT; step++) {
		struct verror error = VERROR_INIT;
		struct snapshot before, after;
		bool snap = step >= snapshot_from;
		int r;

		if (snap)
			snapshot_take(&before);
		sw.step = step_names[step];
		kernel_call_hook_set(hook, &sw);
		r = do_step((enum step)step, &error);
		kernel_call_hook_set(NULL, NULL);
		if (r >= 0) {
			if (verror_is_set(&error)) {
				out->unclean = true;
				snprintf(out->error, sizeof(out->error),
					 "%s returned %d with an error set: %s: %s", step_names[step],
					 r, error.name, error.message);
			}
			continue;
		}
		out->failed_step = step;
		out->r = r;
		if (verror_is_set(&error))
			snprintf(out->error, sizeof(out->error), "%s: %s", error.name, error.message);
		else {
			out->unclean = true;
			snprintf(out->error, sizeof(out->error), "%s returned %d (%s) with no error set",
				 step_names[step], r, strerror(-r));
		}
		if (snap) {
			snapshot_take(&after);
			snapshot_diff(&before, &after, out->diff, sizeof(out->diff));
			out->unrolled = out->diff[0] != '\0';
		}
		return;
	}
}

static void run_teardown(void)
{
	sw.step = step_names[STEP_TEARDOWN];
	kernel_call_hook_set(hook, &sw);
	if (vm) {
		vm_teardown(vm);
		vm_free(vm);
		vm = NULL;
	}
	kernel_call_hook_set(NULL, NULL);
}

/* ---- logs: the daemon's, per run, shown when a run goes wrong ---- */

static int log_fd = -1, saved_stderr = -1;

static void log_capture_start(void)
{
	if (ftruncate(log_fd, 0) < 0 || lseek(log_fd, 0, SEEK_SET) < 0 ||
	    dup2(log_fd, STDERR_FILENO) < 0)
		bail("cannot capture the log: %s", strerror(errno));
}

static void log_capture_stop(void)
{
	if (dup2(saved_stderr, STDERR_FILENO) < 0)
		bail("cannot restore stderr: %s", strerror(errno));
}

/* The last 8 KiB of the run's log, as TAP comments. */
static void log_dump(void)
{
	char buf[8192];
	off_t size = lseek(log_fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(log_fd, buf, sizeof(buf) - 1, from);
	char *line, *save = NULL;

	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		printf("#   log: %s\n", line);
	fflush(stdout);
}

/* ---- the kernel's log: a warning in any run fails it ---- */

static int kmsg_fd = -1;
static char kmsg_run[16384]; /* this run's records, for the report */
static size_t kmsg_len;
static unsigned int kmsg_errors; /* records at KERN_ERR or worse, all runs */

static const char *const splats[] = {
	"WARNING:", "BUG:", "BUG ", "Oops", "general protection", "refcount_t:", "UBSAN:",
	"list_add corruption", "list_del corruption", "kernel BUG", "Unable to handle",
	"RCU", "lockdep", "possible circular", "hung_task", "INFO: task",
};

/* Reads what the kernel logged since the last call; the first splat goes to
 * splat (empty: none). */
static void kmsg_scan(char *splat, size_t len)
{
	char rec[2048];
	ssize_t n;

	splat[0] = '\0';
	kmsg_len = 0;
	kmsg_run[0] = '\0';
	if (kmsg_fd < 0)
		return;
	while ((n = read(kmsg_fd, rec, sizeof(rec) - 1)) != 0) {
		unsigned int prio;
		char *msg, *nl;

		if (n < 0) {
			if (errno == EPIPE) /* overwritten before we read it: go on */
				continue;
			break; /* EAGAIN: all read */
		}
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg || sscanf(rec, "%u", &prio) != 1)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if ((prio & 7) <= LOG_ERR)
			kmsg_errors++;
		if (kmsg_len < sizeof(kmsg_run) - 1)
			kmsg_len += (size_t)snprintf(kmsg_run + kmsg_len, sizeof(kmsg_run) - kmsg_len,
						     "%s\n", msg);
		if (kmsg_len >= sizeof(kmsg_run))
			kmsg_len = sizeof(kmsg_run) - 1;
		for (size_t i = 0; !splat[0] && i < sizeof(splats) / sizeof(splats[0]); i++)
			if (strstr(msg, splats[i]))
				snprintf(splat, len, "the kernel said: %s", msg);
	}
}

static void kmsg_dump(void)
{
	char *line, *save = NULL;

	for (line = strtok_r(kmsg_run, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		printf("#   kernel: %s\n", line);
	fflush(stdout);
}

/* ---- one run and its checks ---- */

static struct snapshot baseline;
static struct event_base *base;

/* Lets the daemon's loop take in what came (uevents of the mock devices). */
static void pump(void)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Runs the flow and the teardown; false (with why) when a check fails. */
static bool run_once(struct outcome *out, char *why, size_t len)
{
	struct snapshot end;
	char diff[600], splat[512];

	sw.ncalls = 0;
	sw.reached = sw.injected = sw.mismatch = false;
	sw.left = 0;
	sw.why[0] = '\0';
	log_capture_start();
	pump();
	run_flow(out);
	run_teardown();
	pump();
	log_capture_stop();

	kmsg_scan(splat, sizeof(splat));
	snapshot_take(&end);
	snapshot_diff(&baseline, &end, diff, sizeof(diff));
	if (splat[0]) {
		snprintf(why, len, "%s; after the teardown: %s", splat, diff[0] ? diff : "nothing left");
		return false;
	}
	if (sw.mismatch) {
		snprintf(why, len, "%s", sw.why);
		return false;
	}
	if (out->unclean) {
		snprintf(why, len, "unclean error: %s", out->error);
		return false;
	}
	if (out->unrolled) {
		snprintf(why, len, "%s failed (%s) and left: %s", step_names[out->failed_step],
			 out->error, out->diff);
		return false;
	}
	if (dmn.vms) {
		snprintf(why, len, "a VM is left in the daemon");
		return false;
	}
	if (diff[0]) {
		snprintf(why, len, "after the teardown: %s", diff);
		return false;
	}
	return true;
}

/* ---- fault injection set-up (as the kernel's iommufd_fail_nth.c) ---- */

struct knob {
	char path[320];
	char old[64];
};

static struct knob knobs[32];
static size_t nknobs;

static bool knob_set(const char *rel, const char *value)
{
	struct knob *k = &knobs[nknobs];
	ssize_t n;
	int fd;

	if (nknobs >= sizeof(knobs) / sizeof(knobs[0]))
		return false;
	if (rel[0] == '/')
		snprintf(k->path, sizeof(k->path), "%s", rel);
	else
		snprintf(k->path, sizeof(k->path), DEBUGFS "/%s", rel);
	/* Some of these files cannot seek: one open to read, one to write. */
	fd = open(k->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, k->old, sizeof(k->old) - 1);
	close(fd);
	k->old[n > 0 ? n : 0] = '\0';
	k->old[strcspn(k->old, "\n")] = '\0';
	fd = open(k->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value)) {
		note("cannot set %s to %s: %s", k->path, value, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	note("%s: %s (was %s)", k->path, value, k->old);
	nknobs++;
	return true;
}

static void knobs_restore(void)
{
	for (size_t i = nknobs; i-- > 0;) {
		int fd = open(knobs[i].path, O_WRONLY | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (write(fd, knobs[i].old, strlen(knobs[i].old)) < 0)
			note("cannot restore %s", knobs[i].path);
		close(fd);
	}
}

static void setup_fault_injection(void)
{
	DIR *dir;
	struct dirent *de;

	/* Sleeping allocations (GFP_KERNEL: nearly all of them) are failable too. */
	if (!knob_set("failslab/ignore-gfp-wait", "N") ||
	    !knob_set("fail_page_alloc/ignore-gfp-wait", "N"))
		bail("no failslab/fail_page_alloc in " DEBUGFS " (CONFIG_FAILSLAB, "
		     "CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS)");
	knob_set("fail_page_alloc/ignore-gfp-highmem", "N");
	/* Order-0 pages too (the default spares them): the page tables of the
	 * mock domains come from there. */
	knob_set("fail_page_alloc/min-order", "0");
	/* No stack dump per injected failure (failslab, fail_page_alloc,
	 * fail_iommufd): the console is a slow serial line. */
	dir = opendir(DEBUGFS);
	if (!dir)
		bail("cannot open " DEBUGFS ": %s", strerror(errno));
	while ((de = readdir(dir))) {
		char rel[300];

		if (strncmp(de->d_name, "fail", 4) != 0)
			continue;
		snprintf(rel, sizeof(rel), "%s/verbose", de->d_name);
		knob_set(rel, "0");
	}
	closedir(dir);
	/* The kernel's complaints about failed allocations stay off the console
	 * (they are counted, and shown for a run that goes wrong); an oops
	 * raises the level itself. */
	knob_set("/proc/sys/kernel/printk", "2");
	/* fail-nth needs none of probability, interval, times or task-filter:
	 * the kernel counts it down before looking at any of them. */
}

/* ---- main ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Up to 4 distinct strings, "a; b; c", into a fixed buffer. */
static void add_distinct(char *buf, size_t len, unsigned int *count, const char *what)
{
	if (strstr(buf, what) || *count >= 4 || strlen(buf) + strlen(what) + 3 >= len)
		return;
	snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "; " : "", what);
	(*count)++;
}

static void counting_run(struct call *counted, unsigned int *ncounted)
{
	struct snapshot full;
	struct outcome out;
	char why[1024], splat[512];

	sw.ncalls = 0;
	log_capture_start();
	pump();
	run_flow(&out);
	log_capture_stop();
	if (out.failed_step >= 0 || out.unclean) {
		log_dump();
		bail("the flow fails without injection: step %s: %s",
		     out.failed_step >= 0 ? step_names[out.failed_step] : "-", out.error);
	}
	snapshot_take(&full);
	note("set up: %u devices (%u on the nested domain, %u at a PASID), %u mappings, %u "
	     "vIOMMU, %u vDEVICEs, %u domain, %u fault queue, %u event queue, %u HW queue; %d "
	     "mock devices in sysfs, pages pinned %d/%d times (each half), %d /dev/iommu fd",
	     full.devices, full.on_domain, full.pasids, full.mappings, full.viommus,
	     full.vdevices, full.domains, full.fault_queues, full.veventqs, full.hw_queues,
	     full.mock_devices, full.pins_a, full.pins_b, full.iommu_fds);
	if (full.devices != 2 || full.on_domain != 1 || full.pasids != 1 || full.mappings != 2 ||
	    full.vdevices != 2 || full.hw_queues != 1 || full.veventqs != 1 ||
	    full.fault_queues != 1 || full.mock_devices != 2 || full.pins_a != 1 ||
	    full.pins_b != 1 || full.iommu_fds != 1)
		bail("the set-up is not what the checks expect");
	log_capture_start();
	run_teardown();
	pump();
	log_capture_stop();
	if (sw.ncalls > MAX_CALLS)
		bail("%u kernel calls: more than %d", sw.ncalls, MAX_CALLS);
	*ncounted = sw.ncalls;
	memcpy(counted, sw.calls, sizeof(counted[0]) * sw.ncalls);
	kmsg_scan(splat, sizeof(splat));
	if (splat[0]) {
		kmsg_dump();
		bail("without injection, %s", splat);
	}
	snapshot_take(&full);
	snapshot_diff(&baseline, &full, why, sizeof(why));
	if (why[0] || dmn.vms)
		bail("the plain flow leaves something: %s", why[0] ? why : "a VM");
}

/* Injection points per kernel call name, for the summary. */
struct tally {
	char name[96];
	unsigned int calls, points;
};

int main(int argc, char **argv)
{
	static const char config_text[] = "{\"mock_devices\": 2}";
	unsigned int max_nth = 2000, total_points = 0, total_runs = 0;
	unsigned int total_failed = 0, total_kernel = 0, total_ignored = 0, total_deferred = 0;
	static struct call counted[MAX_CALLS];
	static struct tally tallies[MAX_CALLS];
	unsigned int ncounted = 0, ntallies = 0;
	struct config *config = NULL;
	struct outcome out;
	char err[256], why[2048];
	double start = now();
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--max-nth") == 0 && i + 1 < argc)
			max_nth = (unsigned int)strtoul(argv[++i], NULL, 10);
		else
			bail("usage: %s [--max-nth N]", argv[0]);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0)
		bail("needs root (the test guest runs it as root)");
	if (access("/dev/iommu", F_OK) < 0) {
		const char *ci = getenv("CI");

		if (ci && strcmp(ci, "true") == 0)
			bail("no /dev/iommu");
		printf("1..0 # SKIP no /dev/iommu: run it in the test guest\n");
		return 0;
	}
	setup_fault_injection();
	sw.nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (sw.nth_fd < 0)
		bail("cannot open /proc/thread-self/fail-nth: %s", strerror(errno));
	sw.target = -1;
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0 || lseek(kmsg_fd, 0, SEEK_END) < 0)
		bail("cannot read the kernel log (/dev/kmsg): %s", strerror(errno));

	/* Guest memory: ours, mapped, every page present. */
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, MEM_SIZE) < 0 || fallocate(memfd, 0, 0, MEM_SIZE) < 0)
		bail("cannot make the memfd: %s", strerror(errno));
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		bail("cannot map the memfd: %s", strerror(errno));
	memset(mem, 0x5a, MEM_SIZE);

	log_fd = memfd_create("daemon-log", MFD_CLOEXEC);
	saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (log_fd < 0 || saved_stderr < 0)
		bail("cannot set up the log capture: %s", strerror(errno));
	log_set_max_priority(LOG_DEBUG);

	base = event_base_new();
	if (!base)
		bail("cannot make an event base");
	r = config_parse(config_text, strlen(config_text), "test-fail-nth", &config, err,
			 sizeof(err));
	if (r < 0)
		bail("config: %s", err);
	log_capture_start();
	r = model_init(&dmn, base, config, NULL);
	log_capture_stop();
	if (r < 0) {
		log_dump();
		bail("model_init: %s", strerror(-r));
	}
	if (!dmn.has_selftest)
		bail("the kernel has no iommufd selftest (CONFIG_IOMMUFD_TEST)");
	dev0 = device_by_name(&dmn, "selftest0");
	dev1 = device_by_name(&dmn, "selftest1");
	if (!dev0 || !dev1)
		bail("the daemon offers no selftest0 and selftest1");
	pump();
	snapshot_from = STEP_COUNT;
	snapshot_take(&baseline);
	if (baseline.iommu_fds != 0 || baseline.mock_devices != 0 || baseline.pins_a != 0 ||
	    baseline.pins_b != 0)
		bail("not a clean start: %d /dev/iommu fds, %d mock devices, pins %d/%d",
		     baseline.iommu_fds, baseline.mock_devices, baseline.pins_a, baseline.pins_b);

	counting_run(counted, &ncounted);
	note("%u kernel calls in the flow and its teardown; fail-nth capped at %u per call",
	     ncounted, max_nth);

	/* The sweep. */
	sw.expected = counted;
	sw.nexpected = ncounted;
	for (unsigned int k = 0; k < ncounted; k++) {
		unsigned int points = 0, runs = 0, failed = 0, kernel_ok = 0, ignored = 0;
		unsigned int deferred = 0, nerrors = 0, ndeferred = 0;
		int own_step = STEP_TEARDOWN;
		bool ok = true, done = false;
		char name[96], errors[1024] = "", deferred_what[1024] = "";
		struct tally *t = NULL;

		call_name(counted[k].request, counted[k].op, name, sizeof(name));
		for (int step = 0; step < STEP_COUNT; step++)
			if (counted[k].step == step_names[step])
				own_step = step;
		/* Snapshots before the steps that can fail from here on. */
		snapshot_from = own_step;
		for (unsigned int nth = 1; nth <= max_nth && !done; nth++) {
			bool good;

			sw.target = (int)k;
			sw.nth = nth;
			good = run_once(&out, why, sizeof(why));
			runs++;
			if (good && !sw.reached) {
				good = false;
				snprintf(why, sizeof(why), "call %u was not made", k);
			}
			if (!good) {
				note("kernel call %u (%s, in %s), nth %u: %s", k, name, counted[k].step,
				     nth, why);
				log_dump();
				kmsg_dump();
				ok = false;
				/* Later runs would start from what is left: next call. */
				break;
			}
			if (!sw.injected) {
				done = true; /* fewer than nth failable allocations */
				break;
			}
			points++;
			if (out.failed_step > own_step && sw.calls[k].result < 0) {
				/* The daemon went on after the failed call; a later step paid. */
				char what[700];

				deferred++;
				snprintf(what, sizeof(what), "the call returned %d, then %s failed: %s",
					 sw.calls[k].result, step_names[out.failed_step], out.error);
				add_distinct(deferred_what, sizeof(deferred_what), &ndeferred, what);
			} else if (out.failed_step >= 0) {
				/* Its own step, or (the call itself succeeded) a later one. */
				char what[800];

				failed++;
				snprintf(what, sizeof(what), "%s%s%s [%d]",
					 out.failed_step > own_step ? step_names[out.failed_step] : "",
					 out.failed_step > own_step ? ": " : "", out.error, out.r);
				add_distinct(errors, sizeof(errors), &nerrors, what);
			} else if (sw.calls[k].result < 0) {
				ignored++;
			} else {
				kernel_ok++;
			}
		}
		sw.target = -1;
		if (ok && !done) {
			ok = false;
			note("kernel call %u (%s): still failing at nth %u, the cap", k, name, max_nth);
		}
		total_points += points;
		total_runs += runs;
		total_failed += failed;
		total_kernel += kernel_ok;
		total_ignored += ignored;
		total_deferred += deferred;
		for (unsigned int i = 0; i < ntallies && !t; i++)
			if (strcmp(tallies[i].name, name) == 0)
				t = &tallies[i];
		if (!t) {
			t = &tallies[ntallies++];
			snprintf(t->name, sizeof(t->name), "%s", name);
		}
		t->calls++;
		t->points += points;

		if (errors[0])
			note("  clean errors [errno]: %s", errors);
		/* A failure the daemon ignored and a later step tripped over is a bug
		 * of the step that ignored it. */
		if (ok && deferred) {
			note("  ignored by the daemon, failing later: %s", deferred_what);
			printf("not ok %u - kernel call %u (%s, in %s): %u injection point%s, all rolled "
			       "back, but %u failure(s) the daemon ignored made a later step fail\n",
			       ++tap_count, k, name, counted[k].step, points, points == 1 ? "" : "s",
			       deferred);
			fflush(stdout);
			continue;
		}
		tap(ok, "kernel call %u (%s, in %s): %u injection point%s, all rolled back (%u: "
			"a step failed cleanly, %u: the kernel coped, %u: the daemon ignored the "
			"failed call)",
		    k, name, counted[k].step, points, points == 1 ? "" : "s", failed, kernel_ok,
		    ignored);
	}

	note("injection points per kernel call:");
	for (unsigned int i = 0; i < ntallies; i++)
		note("  %-40s %2u call(s), %4u points", tallies[i].name, tallies[i].calls,
		     tallies[i].points);
	note("%u injection points over %u kernel calls (set-up and teardown), %u runs: %u failed "
	     "a step cleanly, %u coped with by the kernel, %u ignored by the daemon, %u "
	     "ignored then failing a later step; %u kernel error messages; %.1f s",
	     total_points, ncounted, total_runs + 1, total_failed, total_kernel, total_ignored,
	     total_deferred, kmsg_errors, now() - start);
	printf("1..%u\n", tap_count);

	log_capture_start();
	model_fini(&dmn);
	log_capture_stop();
	event_base_free(base);
	knobs_restore();
	return tap_failed ? 1 : 0;
}
