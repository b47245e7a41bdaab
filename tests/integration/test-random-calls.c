/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Random calls in the spirit of dfuzzer, against the real daemon in the test
 * guest (config {"mock_devices": 4, "allowed_devices": ["1234:11e8"],
 * "bind_on_demand": true, "fast_path_users": [0]}).
 *
 * First real objects, so that valid paths exist: two managed VMs with mock
 * devices (one PASID-capable, a device attached at a PASID), mappings of this
 * program's memfd, a vIOMMU with a vDEVICE, nested domains (one reporting to
 * a relayed fault queue, a device on it), a relayed event queue, a HW queue;
 * a broker VM with the edu reserved; objects destroyed again (paths that
 * existed). Then several connections at once (children, the last of them as
 * uid 65534, who may connect (fast_path_users lists it) but create no VM and
 * see none of root's) send
 * generated calls (tests/common/dbus-gen.h: every method of every interface
 * introspection shows, right and wrong signatures, edge values, fds of the
 * wrong kind, Properties with right and wrong names), each outcome counted.
 *
 * Each child also makes objects of its own now and then (a VM with a free mock
 * device, a mapping, a vIOMMU, a vDEVICE, a domain), so that live targets stay
 * around whatever the random calls destroy. Calls that sd-bus refuses to
 * build, and BindVfio/UnbindVfio on the guest's own PCI devices, are not sent.
 * A finding is a reply outside org.viommu1.Error.* and
 * org.freedesktop.DBus.Error.*, an error without a message, no reply, a
 * dropped connection, or uid 65534 answered about root's VMs; each is printed
 * with the call that got it.
 *
 * Afterwards, with the children still connected: the daemon is alive and
 * answers; Describe() agrees with ListVms, the VMs' properties and the
 * devices' Vm. Then the children disconnect: they exit cleanly and their VMs
 * go (unless they persist), and Describe() is consistent again. Once every VM
 * is destroyed nothing the program mapped is pinned (selftest page refs on a
 * fresh iommufd) and the daemon holds no /dev/iommu, VFIO or memfd fd and no
 * more fds than before.
 *
 *   test-random-calls [--calls N] [--children N] [--seed N] [--seconds N] [CASE...]
 *
 * --calls (default 20000) in total over --children (default 4) connections;
 * the calls stop early when --seconds (default 150) have passed. The seed
 * (default: from the clock) is printed so a run can be repeated, as far as
 * concurrency allows.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "dbus-gen.h"
#include "edu.h"
#include "iommufd.h"
#include "pci-sysfs.h"
#include "selftest.h"

#define MIB (1024ull * 1024)
#define MEM_SIZE (4 * MIB)
#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)
#define VIRT_ID 0x10
#define PASID 7
#define NOBODY 65534
#define MAX_CHILDREN 16
#define MAX_KEYS 4096
#define MAX_FINDINGS 20
#define CALL_TIMEOUT_USEC (25ull * 1000 * 1000)
#define REPLENISH_EVERY 500 /* calls of a child between its own new objects */

static unsigned long opt_calls = 20000;
static unsigned int opt_children = 4;
static uint64_t opt_seed;
static unsigned int opt_seconds = 150;

static struct vc c;
static struct dbus_gen *gen;
static int memfd = -1;
static uint8_t *mem = MAP_FAILED;
static char *dev[4], *edu_path;
static char *vm_a, *vm_b, *vm_c;
static uint64_t iova_a, iova_b;
static int daemon_fds_start = -1;
static char *daemon_fds_list; /* what they are, for a report */
static bool setup_done, calls_done;
/* The children: each says it is done on done_pipe, then keeps its connection
 * (and its VMs) until go_pipe closes. */
static pid_t children[MAX_CHILDREN];
static unsigned int nchildren;
static int done_pipe[2] = { -1, -1 }, go_pipe[2] = { -1, -1 };

/* ---- counting ---- */

struct counter {
	char key[192];
	unsigned long n;
};

struct counters {
	struct counter v[MAX_KEYS];
	size_t n;
};

static void count_add(struct counters *t, const char *key, unsigned long n)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].key, key) == 0) {
			t->v[i].n += n;
			return;
		}
	}
	if (t->n >= MAX_KEYS)
		return;
	snprintf(t->v[t->n].key, sizeof(t->v[0].key), "%s", key);
	t->v[t->n++].n = n;
}

static unsigned long count_get(const struct counters *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0)
			return t->v[i].n;
	return 0;
}

static int by_count(const void *a, const void *b)
{
	const struct counter *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->key, y->key);
}

/* The daemon's fds, "fd -> target" one a line (NULL when it cannot tell). */
static char *daemon_fd_list(void)
{
	const char *pid = getenv("VIOMMUD_PID");
	char dirname[64], link[384], target[256], *out = NULL;
	size_t len = 0;
	struct dirent *de;
	FILE *f;
	DIR *dir;

	if (!pid)
		return NULL;
	snprintf(dirname, sizeof(dirname), "/proc/%s/fd", pid);
	dir = opendir(dirname);
	f = dir ? open_memstream(&out, &len) : NULL;
	while (f && (de = readdir(dir))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dirname, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		fprintf(f, "%s -> %s\n", de->d_name, target);
	}
	if (f)
		fclose(f);
	if (dir)
		closedir(dir);
	return out;
}

static void note_lines(const char *what, const char *text)
{
	char *copy = strdup(text ? text : ""), *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		check_note("%s: %s", what, line);
	free(copy);
}

/* ---- set-up helpers ---- */

static void require(const void *p)
{
	if (!p)
		check_fail(__FILE__, __LINE__, "an earlier case did not set this up");
}

static char *read_path_reply(sd_bus_message *reply)
{
	const char *p = NULL;
	char *copy;

	CHECK(sd_bus_message_read(reply, "o", &p) > 0);
	copy = strdup(p);
	CHECK(copy);
	return copy;
}

/* Vm/Viommu.AllocDomain with the selftest data, and a fault queue or not. */
static int alloc_domain(const char *path, const char *iface, const char *fault_queue,
			char **out)
{
	const struct kabi_iommu_hwpt_selftest data = { .iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT };
	sd_bus_message *m = NULL, *reply = NULL;
	int r;

	sd_bus_error_free(&c.error);
	c.error = SD_BUS_ERROR_NULL;
	r = sd_bus_message_new_method_call(c.bus, &m, NULL, path, iface, "AllocDomain");
	if (r >= 0)
		r = sd_bus_message_append(m, "u", KABI_IOMMU_HWPT_DATA_SELFTEST);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', &data, sizeof(data));
	if (r >= 0 && fault_queue)
		r = sd_bus_message_append(m, "a{sv}", 1, "fault-queue", "o", fault_queue);
	else if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 0);
	if (r >= 0)
		r = sd_bus_call(c.bus, m, CALL_TIMEOUT_USEC, &c.error, &reply);
	sd_bus_message_unref(m);
	if (r >= 0)
		*out = read_path_reply(reply);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

static uint64_t first_iova(const char *vm)
{
	struct vc_range ranges[8];
	size_t n = 0;

	CHECK_DBUS_OK(&c, vc_get_ranges(&c, vm, "IovaRanges", ranges, 8, &n));
	CHECK(n >= 1);
	for (size_t i = 0; i < n && i < 8; i++) {
		dbus_gen_add_number(gen, ranges[i].start);
		dbus_gen_add_number(gen, ranges[i].last);
	}
	/* 2 MiB aligned, so a huge mapping would fit as well. */
	return (ranges[0].start + 2 * MIB - 1) & ~(2 * MIB - 1);
}

/* ---- the cases ---- */

static void test_setup(void)
{
	struct pci_sysfs_device edu;
	sd_bus_message *reply = NULL;
	char *viommu = NULL, *vdev = NULL, *fq = NULL, *dom = NULL, *dom2 = NULL, *hwq = NULL;
	char *gone_vm = NULL, *gone_dom = NULL, name[16];
	int fd, nodes;

	CHECK_OK(vc_connect(&c, NULL));
	/* After a round trip: the daemon has accepted the connection. */
	CHECK(vc_alive(&c));
	daemon_fds_start = vc_daemon_fds("");
	daemon_fds_list = daemon_fd_list();
	check_note("daemon fds at the start: %d", daemon_fds_start);
	gen = dbus_gen_new();
	CHECK(gen);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "selftest%d", i);
		dev[i] = vc_find_device(&c, name);
		CHECK(dev[i]);
	}
	if (pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu) == 0)
		edu_path = vc_find_device(&c, edu.bdf);
	check_note("edu: %s", edu_path ? edu_path : "none");

	memfd = memfd_create("itest-random", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	CHECK(ftruncate(memfd, MEM_SIZE) == 0 && fallocate(memfd, 0, 0, MEM_SIZE) == 0);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(mem != MAP_FAILED);
	memset(mem, 0x5a, MEM_SIZE);

	/* VM a: two mock devices, two mappings, the vIOMMU objects and queues. */
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "rc-a", &vm_a));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm_a, dev[0]));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm_a, dev[1]));
	iova_a = first_iova(vm_a);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm_a, memfd, 0, MIB, iova_a, RW));
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm_a, memfd, MIB, MIB, iova_a + 2 * MIB,
					KABI_IOMMU_IOAS_MAP_READABLE));
	CHECK_DBUS_OK(&c, vc_create_viommu(&c, vm_a, "selftest", &viommu));
	CHECK_DBUS_OK(&c, vc_add_device(&c, viommu, dev[0], VIRT_ID, &vdev));
	CHECK_DBUS_OK(&c, vc_call(&c, vm_a, VC_VM, "OpenFaultQueue", &reply, "a{sv}", 1, "relay",
				  "b", 1));
	{
		const char *p;

		CHECK(sd_bus_message_read(reply, "oh", &p, &fd) > 0);
		fq = strdup(p);
		sd_bus_message_unref(reply);
		reply = NULL;
	}
	CHECK_DBUS_OK(&c, alloc_domain(viommu, VC_VIOMMU, fq, &dom));
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, dom, dev[0]));
	CHECK_DBUS_OK(&c, alloc_domain(viommu, VC_VIOMMU, NULL, &dom2));
	CHECK_DBUS_OK(&c, vc_call(&c, viommu, VC_VIOMMU, "OpenEventQueue", NULL, "uua{sv}",
				  KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 16u, 1, "relay", "b", 1));
	CHECK_DBUS_OK(&c, vc_call(&c, viommu, VC_VIOMMU, "AllocHwQueue", &reply, "uutt",
				  KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 0u, iova_a, 4096ull));
	hwq = read_path_reply(reply);
	sd_bus_message_unref(reply);
	reply = NULL;
	/* A domain that existed. */
	CHECK_DBUS_OK(&c, alloc_domain(viommu, VC_VIOMMU, NULL, &gone_dom));
	CHECK_DBUS_OK(&c, vc_destroy(&c, gone_dom, VC_DOMAIN));

	/* VM b: PASID-capable, a device attached at a PASID, a mapping. */
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", "rc-b", 1,
				  "pasid", "b", 1));
	vm_b = read_path_reply(reply);
	sd_bus_message_unref(reply);
	reply = NULL;
	CHECK_DBUS_OK(&c, vc_call(&c, vm_b, VC_VM, "AttachDevice", NULL, "oa{sv}", dev[2], 1,
				  "pasid", "u", (uint32_t)PASID));
	iova_b = first_iova(vm_b);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm_b, memfd, 2 * MIB, MIB, iova_b, RW));

	/* VM c: a broker VM, the edu reserved for it when there is one. */
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", "rc-c", 1,
				  "mode", "s", "broker"));
	vm_c = read_path_reply(reply);
	sd_bus_message_unref(reply);
	reply = NULL;
	if (edu_path)
		CHECK_DBUS_OK(&c, vc_attach_device(&c, vm_c, edu_path));

	/* A VM that existed. */
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "rc-gone", &gone_vm));
	CHECK_DBUS_OK(&c, vc_destroy(&c, gone_vm, VC_VM));

	/* What the generator knows: the API and the objects, numbers, fds. */
	nodes = dbus_gen_introspect(gen, c.bus, NULL, "/");
	CHECK(nodes > 0);
	/* No property names a fault queue; OpenFaultQueue's reply does. */
	CHECK(dbus_gen_introspect(gen, c.bus, NULL, fq) == 1);
	dbus_gen_add_path(gen, gone_vm, DG_PATH_GONE);
	dbus_gen_add_path(gen, gone_dom, DG_PATH_GONE);
	check_note("introspection: %d nodes, %zu interfaces, %zu methods; %zu live paths", nodes + 1,
		   dbus_gen_interface_count(gen), dbus_gen_method_count(gen),
		   dbus_gen_path_count(gen, DG_PATH_LIVE));
	CHECK(dbus_gen_has_method(gen, VC_VM, "MapMemory"));
	CHECK(dbus_gen_has_method(gen, "org.viommu1.HwQueue", "Destroy"));
	CHECK(dbus_gen_has_method(gen, "org.viommu1.FaultQueue", "RespondFault"));
	{
		/* IOVAs, lengths and offsets of the mappings, IDs, the selftest's
		 * types and sizes, map flags. */
		const uint64_t numbers[] = {
			0, 4096, iova_a, iova_a + MIB, iova_a + 2 * MIB, iova_a + 3 * MIB,
			iova_a + 4 * MIB, iova_a + 8 * MIB, iova_b, iova_b + MIB, iova_b + 4 * MIB,
			64 * 1024, MIB, 2 * MIB, 3 * MIB, MEM_SIZE, VIRT_ID, PASID, 1024,
			KABI_IOMMU_HWPT_DATA_SELFTEST, KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
			KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, KABI_IOMMU_VEVENTQ_TYPE_SELFTEST,
			KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, sizeof(struct kabi_iommu_hwpt_selftest),
			sizeof(struct kabi_iommu_viommu_invalidate_selftest),
			sizeof(struct kabi_iommu_viommu_selftest), RW, KABI_IOMMU_IOAS_MAP_READABLE,
		};

		for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
			dbus_gen_add_number(gen, numbers[i]);
	}
	{
		/* By argument name, for the calls meant to get through. */
		static const struct {
			const char *arg;
			uint64_t value;
		} by_name[] = {
			{ "offset", 0 },	   { "offset", MIB },	     { "offset", 2 * MIB },
			{ "length", 4096 },	   { "length", 64 * 1024 },  { "length", MIB },
			{ "flags", 0 },		   { "flags", 1 },	     { "flags", RW },
			{ "flags", KABI_IOMMU_IOAS_MAP_READABLE },	     { "page_size", 4096 },
			{ "virt_id", 0x20 },	   { "virt_id", 0x21 },	     { "virt_id", VIRT_ID },
			{ "data_type", KABI_IOMMU_HWPT_DATA_SELFTEST },
			{ "data_type", KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST },
			{ "data_type", KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST },
			{ "entry_len", sizeof(struct kabi_iommu_hwpt_invalidate_selftest) },
			{ "entry_len", sizeof(struct kabi_iommu_viommu_invalidate_selftest) },
			{ "type", KABI_IOMMU_VEVENTQ_TYPE_SELFTEST },
			{ "type", KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST },
			{ "depth", 16 },	   { "index", 0 },	     { "index", 1 },
			{ "cookie", 0 },	   { "cookie", 1 },	     { "code", 0 },
			{ "code", 1 },		   { "guest_bytes", MIB },
		};

		for (size_t i = 0; i < sizeof(by_name) / sizeof(by_name[0]); i++)
			dbus_gen_add_arg_number(gen, by_name[i].arg, by_name[i].value);
		for (uint64_t k = 0; k < 4; k++) {
			dbus_gen_add_arg_number(gen, "iova", iova_a + (4 + 2 * k) * MIB);
			dbus_gen_add_arg_number(gen, "iova", iova_b + (4 + 2 * k) * MIB);
			dbus_gen_add_arg_number(gen, "base_iova", iova_a + k * 4096);
			dbus_gen_add_arg_number(gen, "ranges", iova_a + k * 16 * MIB);
			dbus_gen_add_arg_number(gen, "ranges", iova_a + (k + 1) * 16 * MIB - 1);
		}
		dbus_gen_add_arg_number(gen, "iova", iova_a);
		dbus_gen_add_arg_number(gen, "iova", iova_b);
	}
	dbus_gen_add_string(gen, "rc-a");
	dbus_gen_add_string(gen, "rc-b");
	dbus_gen_add_string(gen, "rc-gone");
	dbus_gen_add_valid_fd(gen, memfd, "memfd-guest");
	CHECK(dbus_gen_open_fds(gen) > 0);
	/* Objects should live a while: Destroy is drawn less often. */
	dbus_gen_set_weight(gen, "Destroy", 15);
	fd = open("/proc/self/fd/0", O_RDONLY | O_CLOEXEC); /* stdin, whatever it is */
	if (fd >= 0)
		dbus_gen_add_fd(gen, fd, "stdin");
	free(viommu);
	free(vdev);
	free(fq);
	free(dom);
	free(dom2);
	free(hwq);
	free(gone_vm);
	free(gone_dom);
	setup_done = true;
}

/* The last outcome names a call may not get. */
static bool name_is_transport(const char *name)
{
	return strcmp(name, SD_BUS_ERROR_NO_REPLY) == 0 || strcmp(name, SD_BUS_ERROR_TIMEOUT) == 0 ||
	       strcmp(name, SD_BUS_ERROR_DISCONNECTED) == 0;
}

/* BindVfio and UnbindVfio only on the edu and the mocks: the guest's other
 * PCI devices (its root file system's virtio-9p among them) must stay. */
static bool call_allowed(const struct dbus_gen_call *call)
{
	if (strcmp(call->member, "BindVfio") != 0 && strcmp(call->member, "UnbindVfio") != 0)
		return true;
	if (strncmp(call->path, VC_ROOT "/device/", strlen(VC_ROOT "/device/")) != 0)
		return true;
	return strncmp(call->path, VC_ROOT "/device/selftest", strlen(VC_ROOT "/device/selftest")) == 0 ||
	       (edu_path && strcmp(call->path, edu_path) == 0);
}

static void describe_call(char *buf, size_t size, const struct dbus_gen_call *call)
{
	snprintf(buf, size, "%s %.255s %.127s.%.127s(%.200s) [%s]",
		 call->path_state == DG_PATH_LIVE ? "live" :
		 call->path_state == DG_PATH_GONE ? "gone" :
						    "never",
		 call->path, call->iface[0] ? call->iface : "(no interface)", call->member,
		 call->signature, call->kind);
}

struct child_report {
	FILE *out;
	int index;
	unsigned int findings;
};

__attribute__((format(printf, 3, 4))) static void finding(struct child_report *rep,
							   sd_bus_message *m, const char *fmt, ...)
{
	char text[1024], *dump = NULL;
	size_t len = 0;
	va_list ap;
	FILE *f;

	rep->findings++;
	if (rep->findings > MAX_FINDINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	fprintf(rep->out, "f\t%s\n", text);
	printf("# child %d: finding: %s\n", rep->index, text);
	f = m ? open_memstream(&dump, &len) : NULL;
	if (f) {
		sd_bus_message_rewind(m, true);
		sd_bus_message_dump(m, f, SD_BUS_MESSAGE_DUMP_WITH_HEADER);
		fclose(f);
		for (char *line = strtok(dump, "\n"); line; line = strtok(NULL, "\n"))
			printf("#   %s\n", line);
		free(dump);
	}
}

/* Whether an unprivileged caller was answered about root's VMs. */
static bool leaks_root_vm(const struct dbus_gen_call *call, sd_bus_message *reply)
{
	const char *xml = NULL;

	if (strncmp(call->path, VC_ROOT "/vm/", strlen(VC_ROOT "/vm/")) != 0)
		return false;
	if (strcmp(call->iface, "org.freedesktop.DBus.Peer") == 0 || strcmp(call->member, "Ping") == 0 ||
	    strcmp(call->member, "GetMachineId") == 0)
		return false;
	if (strcmp(call->member, "Introspect") == 0) {
		bool leak = sd_bus_message_read(reply, "s", &xml) > 0 && strstr(xml, "org.viommu1.");

		sd_bus_message_rewind(reply, true);
		return leak;
	}
	return true;
}

/* Objects of the child's own, so that valid targets stay around whatever the
 * random calls destroyed: a VM with a free mock device, a mapping, a vIOMMU,
 * a vDEVICE and a nested domain, each step best-effort. Then the generator
 * learns every object there is again. Not counted as random calls. */
static void replenish(struct vc *cc, int index, unsigned int round)
{
	const struct kabi_iommu_hwpt_selftest data = { .iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT };
	sd_bus_message *m = NULL, *reply = NULL;
	char name[32], *vm = NULL, *viommu = NULL, *vdev = NULL;
	struct vc_range ranges[4];
	const char *attached = NULL;
	size_t n = 0;

	snprintf(name, sizeof(name), "rc-child%d-%u", index, round);
	if (vc_create_vm(cc, name, &vm) < 0)
		goto out;
	for (int i = 0; i < 4 && !attached; i++)
		if (vc_attach_device(cc, vm, dev[i]) == 0)
			attached = dev[i];
	if (vc_get_ranges(cc, vm, "IovaRanges", ranges, 4, &n) == 0 && n > 0)
		vc_map_memory(cc, vm, memfd, (uint64_t)(index % 4) * MIB, 64 * 1024,
			      (ranges[0].start + 0xffff) & ~0xffffull, RW);
	if (!attached || vc_create_viommu(cc, vm, "auto", &viommu) < 0)
		goto out;
	vc_add_device(cc, viommu, attached, 0x100 + (uint64_t)round, &vdev);
	if (sd_bus_message_new_method_call(cc->bus, &m, NULL, viommu, VC_VIOMMU, "AllocDomain") >= 0 &&
	    sd_bus_message_append(m, "u", KABI_IOMMU_HWPT_DATA_SELFTEST) >= 0 &&
	    sd_bus_message_append_array(m, 'y', &data, sizeof(data)) >= 0 &&
	    sd_bus_message_append(m, "a{sv}", 0) >= 0)
		sd_bus_call(cc->bus, m, CALL_TIMEOUT_USEC, NULL, &reply);
out:
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	free(vm);
	free(viommu);
	free(vdev);
	dbus_gen_introspect(gen, cc->bus, NULL, "/");
}

static int child_main(int index, bool unprivileged, unsigned long calls, uint64_t seed,
		      time_t deadline, int out_fd)
{
	struct child_report rep = { .index = index };
	struct counters *counts = calloc(1, sizeof(*counts));
	unsigned long made = 0, next_replenish = 0;
	struct dg_source src;
	struct vc cc;
	int pidfd;

	rep.out = fdopen(out_fd, "w");
	if (!rep.out || !counts)
		return 2;
	if (unprivileged && (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
			     setresuid(NOBODY, NOBODY, NOBODY) < 0)) {
		finding(&rep, NULL, "cannot become uid %d: %s", NOBODY, strerror(errno));
		fclose(rep.out);
		return 1;
	}
	if (vc_connect(&cc, NULL) < 0) {
		finding(&rep, NULL, "cannot connect");
		fclose(rep.out);
		return 1;
	}
	/* BindVmm wants a pidfd of the caller's own process. */
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd >= 0)
		dbus_gen_add_fd(gen, pidfd, "pidfd-own");
	dg_source_seed(&src, seed);
	while (made < calls && time(NULL) < deadline) {
		if (!unprivileged && made >= next_replenish) {
			replenish(&cc, index, (unsigned int)(made / REPLENISH_EVERY));
			next_replenish = made + REPLENISH_EVERY;
		}
		sd_bus_error error = SD_BUS_ERROR_NULL;
		sd_bus_message *m = NULL, *reply = NULL;
		struct dbus_gen_call call;
		char what[1024], key[192];
		const char *outcome;
		int r;

		r = dbus_gen_call(gen, &src, cc.bus, NULL, &m, &call);
		if (r < 0) {
			count_add(counts, "s\tnot built (sd-bus refused it)", 1);
			continue;
		}
		if (!call_allowed(&call)) {
			count_add(counts, "s\tnot sent (BindVfio/UnbindVfio on a guest device)", 1);
			sd_bus_message_unref(m);
			continue;
		}
		made++;
		r = sd_bus_call(cc.bus, m, CALL_TIMEOUT_USEC, &error, &reply);
		outcome = r >= 0 ? "OK" : error.name ? error.name : "(no error name)";
		count_add(counts, "c\tcalls", 1);
		snprintf(key, sizeof(key), "o\t%s", outcome);
		count_add(counts, key, 1);
		snprintf(key, sizeof(key), "m\t%.60s.%.40s -> %.80s", call.iface[0] ? call.iface : "-",
			 call.member, outcome);
		count_add(counts, key, 1);
		describe_call(what, sizeof(what), &call);
		if (r < 0 && (!error.name || !dbus_gen_error_name_ok(error.name) ||
			      name_is_transport(error.name)))
			finding(&rep, m, "%s: error %s (%s): %s", what, outcome, strerror(-r),
				error.message ? error.message : "");
		else if (r < 0 && (!error.message || !error.message[0]))
			finding(&rep, m, "%s: error %s without a message", what, outcome);
		else if (r < 0 && strcmp(error.message, strerror(-r)) == 0) {
			/* A bare errno: a handler returned it without saying why. */
			snprintf(key, sizeof(key), "b\t%.40s.%.40s: %.50s: %.50s", call.iface, call.member,
				 error.name, error.message);
			for (char *p = key + 2; *p; p++)
				if (*p == '\t' || *p == '\n')
					*p = ' ';
			count_add(counts, key, 1);
		}
		if (r < 0 && error.name && error.message && strcmp(error.name, VC_ERR_KERNEL) == 0) {
			/* Rare and telling: which ioctl failed, and how. */
			snprintf(key, sizeof(key), "k\t%.40s: %.140s", call.member, error.message);
			for (char *p = key + 2; *p; p++)
				if (*p == '\t' || *p == '\n')
					*p = ' ';
			count_add(counts, key, 1);
		}
		if (r >= 0 && unprivileged && leaks_root_vm(&call, reply))
			finding(&rep, m, "%s: uid %d was answered about root's VM", what, NOBODY);
		dbus_gen_learn(gen, &call, reply, r < 0 ? error.name : NULL);
		sd_bus_message_unref(reply);
		sd_bus_message_unref(m);
		sd_bus_error_free(&error);
		if (sd_bus_is_open(cc.bus) <= 0) {
			finding(&rep, NULL, "the daemon closed the connection after: %s", what);
			break;
		}
	}
	if (unprivileged) {
		struct json_object *root = vc_describe_json(&cc), *vms = NULL;
		sd_bus_message *metrics = NULL;
		const char *text = NULL;
		char **list = NULL;

		if (vc_list(&cc, "ListVms", &list) < 0 || vc_strv_length(list) != 0)
			finding(&rep, NULL, "uid %d: ListVms lists root's VMs", NOBODY);
		if (!root || !json_object_object_get_ex(root, "vms", &vms) ||
		    json_object_array_length(vms) != 0)
			finding(&rep, NULL, "uid %d: Describe shows root's VMs", NOBODY);
		/* It owns no VM: no per-VM series at all. */
		if (vc_call(&cc, VC_ROOT, VC_MANAGER, VIOMMU_MANAGER_GET_METRICS, &metrics, "") < 0 ||
		    sd_bus_message_read(metrics, "s", &text) <= 0 || strstr(text, "viommu_vm_"))
			finding(&rep, NULL, "uid %d: GetMetrics shows root's VMs", NOBODY);
		sd_bus_message_unref(metrics);
		vc_strv_free(list);
		json_object_put(root);
	}
	for (size_t i = 0; i < counts->n; i++)
		fprintf(rep.out, "%s\t%lu\n", counts->v[i].key, counts->v[i].n);
	fclose(rep.out);
	free(counts);
	/* Done; the connection (and what it owns) stays until the parent has
	 * looked at the daemon's state. */
	if (write(done_pipe[1], "x", 1) != 1)
		return 3;
	{
		char byte;

		while (read(go_pipe[0], &byte, 1) < 0 && errno == EINTR)
			;
	}
	vc_close(&cc);
	return rep.findings ? 1 : 0;
}

static void test_random_calls(void)
{
	struct counters *total = calloc(1, sizeof(*total)), *outcomes = NULL;
	int results[MAX_CHILDREN];
	time_t start = time(NULL), deadline = start + opt_seconds;
	unsigned int done = 0, nfindings = 0;
	char summary[4096];
	size_t len;

	CHECK(total);
	if (!setup_done)
		check_fail(__FILE__, __LINE__, "the setup failed");
	check_note("seed %" PRIu64 " (repeat with --seed %" PRIu64 "), %lu calls over %u connections",
		   opt_seed, opt_seed, opt_calls, opt_children);
	CHECK(pipe2(done_pipe, O_CLOEXEC) == 0 && pipe2(go_pipe, O_CLOEXEC) == 0);
	fflush(stdout);
	for (unsigned int i = 0; i < opt_children; i++) {
		unsigned long share = opt_calls / opt_children + (i < opt_calls % opt_children);
		bool unprivileged = opt_children > 1 && i == opt_children - 1;

		results[i] = memfd_create("itest-random-result", MFD_CLOEXEC);
		CHECK(results[i] >= 0);
		children[i] = fork();
		CHECK(children[i] >= 0);
		if (children[i] == 0) {
			close(done_pipe[0]);
			close(go_pipe[1]);
			_exit(child_main((int)i, unprivileged, share, opt_seed + i, deadline,
					 dup(results[i])));
		}
		nchildren++;
	}
	close(done_pipe[1]);
	close(go_pipe[0]);
	done_pipe[1] = go_pipe[0] = -1;
	/* The calls stop at the deadline; a child that is not done a minute
	 * later hangs. */
	while (done < nchildren && time(NULL) < deadline + 60) {
		struct pollfd pfd = { .fd = done_pipe[0], .events = POLLIN };
		char bytes[MAX_CHILDREN];
		ssize_t n;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		n = read(done_pipe[0], bytes, sizeof(bytes));
		if (n <= 0)
			break; /* every child gone */
		done += (unsigned int)n;
	}
	if (done < nchildren) {
		for (unsigned int i = 0; i < nchildren; i++)
			kill(children[i], SIGKILL);
		check_fail(__FILE__, __LINE__, "%u of %u connections did not finish their calls",
			   nchildren - done, nchildren);
	}
	for (unsigned int i = 0; i < nchildren; i++) {
		char line[512];
		FILE *f;

		lseek(results[i], 0, SEEK_SET);
		f = fdopen(results[i], "r");
		CHECK(f);
		while (fgets(line, sizeof(line), f)) {
			char *tab = strrchr(line, '\t');

			if (strncmp(line, "f\t", 2) == 0) {
				nfindings++;
				continue;
			}
			if (!tab)
				continue;
			*tab = '\0';
			count_add(total, line, strtoul(tab + 1, NULL, 10));
		}
		fclose(f);
	}
	/* The summary: calls, then each outcome by count. */
	outcomes = calloc(1, sizeof(*outcomes));
	CHECK(outcomes);
	for (size_t i = 0; i < total->n; i++)
		if (strncmp(total->v[i].key, "o\t", 2) == 0)
			count_add(outcomes, total->v[i].key + 2, total->v[i].n);
	qsort(outcomes->v, outcomes->n, sizeof(outcomes->v[0]), by_count);
	len = (size_t)snprintf(summary, sizeof(summary), "calls: %lu", count_get(total, "c\tcalls"));
	for (size_t i = 0; i < outcomes->n && len < sizeof(summary); i++)
		len += (size_t)snprintf(summary + len, sizeof(summary) - len, "; %s: %lu",
					outcomes->v[i].key, outcomes->v[i].n);
	check_note("%s", summary);
	check_note("in %ld s; %lu generated calls sd-bus would not build, %lu not sent",
		   (long)(time(NULL) - start), count_get(total, "s\tnot built (sd-bus refused it)"),
		   count_get(total, "s\tnot sent (BindVfio/UnbindVfio on a guest device)"));
	/* Per method and outcome, and the errors that came without an explanation. */
	qsort(total->v, total->n, sizeof(total->v[0]), by_count);
	for (size_t i = 0; i < total->n; i++)
		if (strncmp(total->v[i].key, "m\t", 2) == 0)
			check_note("  %6lu %s", total->v[i].n, total->v[i].key + 2);
	for (size_t i = 0; i < total->n; i++)
		if (strncmp(total->v[i].key, "b\t", 2) == 0)
			check_note("bare errno message, %lu times: %s", total->v[i].n,
				   total->v[i].key + 2);
	for (size_t i = 0; i < total->n; i++)
		if (strncmp(total->v[i].key, "k\t", 2) == 0)
			check_note("Kernel error, %lu times: %s", total->v[i].n, total->v[i].key + 2);
	free(outcomes);
	free(total);
	calls_done = true;
	if (nfindings)
		check_fail(__FILE__, __LINE__, "%u findings (see above)", nfindings);
}

static void test_daemon_alive(void)
{
	const char *pid = getenv("VIOMMUD_PID");

	require(calls_done ? "" : NULL);
	CHECK(pid && kill(atoi(pid), 0) == 0);
	CHECK(vc_alive(&c));
}

static bool strv_same(char **a, char **b)
{
	if (vc_strv_length(a) != vc_strv_length(b))
		return false;
	for (size_t i = 0; a && a[i]; i++)
		if (!vc_strv_contains(b, a[i]))
			return false;
	return true;
}

/* The paths of an array of objects in a JSON object. */
static char **json_paths(struct json_object *o, const char *array, const char *key)
{
	struct json_object *a, *e, *p;
	size_t n;
	char **out;

	if (!json_object_object_get_ex(o, array, &a) || !json_object_is_type(a, json_type_array))
		return calloc(1, sizeof(char *));
	n = json_object_array_length(a);
	out = calloc(n + 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++) {
		e = json_object_array_get_idx(a, i);
		out[i] = strdup(json_object_object_get_ex(e, key, &p) ? json_object_get_string(p) : "");
	}
	return out;
}

static void check_vm(struct json_object *root, struct json_object *vmj, const char *vm)
{
	char **devs = json_paths(vmj, "devices", "path"), **prop = NULL;
	char **viommus = json_paths(vmj, "viommus", "path"), **domains = json_paths(vmj, "domains",
										     "path");
	char **vdev_viommu = json_paths(vmj, "vdevices", "viommu");
	char **vdev_device = json_paths(vmj, "vdevices", "device");
	char **dev_domain = json_paths(vmj, "devices", "domain");
	char **dom_viommu = json_paths(vmj, "domains", "viommu");
	struct json_object *maps;
	uint64_t mapped = 0, sum = 0;

	CHECK(devs && viommus && domains && vdev_viommu && vdev_device && dev_domain && dom_viommu);
	CHECK_DBUS_OK(&c, vc_get_strv(&c, vm, VC_VM, "Devices", &prop));
	if (!strv_same(devs, prop))
		check_fail(__FILE__, __LINE__, "%s: Devices and Describe's devices differ", vm);
	vc_strv_free(prop);
	CHECK_DBUS_OK(&c, vc_get_strv(&c, vm, VC_VM, "Viommus", &prop));
	if (!strv_same(viommus, prop))
		check_fail(__FILE__, __LINE__, "%s: Viommus and Describe's viommus differ", vm);
	vc_strv_free(prop);
	CHECK_DBUS_OK(&c, vc_get_strv(&c, vm, VC_VM, "Domains", &prop));
	if (!strv_same(domains, prop))
		check_fail(__FILE__, __LINE__, "%s: Domains and Describe's domains differ", vm);
	vc_strv_free(prop);
	/* Every device points back at its VM, in Describe and as a property. */
	for (size_t i = 0; devs[i]; i++) {
		struct json_object *d = vc_json_by_path(root, "devices", devs[i]);
		char *back = NULL;

		if (!d || !vc_json_str(d, "vm") || strcmp(vc_json_str(d, "vm"), vm) != 0)
			check_fail(__FILE__, __LINE__, "%s: Describe's device %s is not in it", vm,
				   devs[i]);
		CHECK_DBUS_OK(&c, vc_get_string(&c, devs[i], VC_DEVICE, "Vm", &back));
		if (strcmp(back, vm) != 0)
			check_fail(__FILE__, __LINE__, "%s: device %s has Vm %s", vm, devs[i], back);
		free(back);
		if (strcmp(dev_domain[i], "/") != 0 && !vc_strv_contains(domains, dev_domain[i]))
			check_fail(__FILE__, __LINE__, "%s: device %s is on domain %s of no VM's",
				   vm, devs[i], dev_domain[i]);
	}
	for (size_t i = 0; vdev_viommu[i]; i++)
		if (!vc_strv_contains(viommus, vdev_viommu[i]) || !vc_strv_contains(devs, vdev_device[i]))
			check_fail(__FILE__, __LINE__, "%s: a vDEVICE on %s for %s is not the VM's",
				   vm, vdev_viommu[i], vdev_device[i]);
	for (size_t i = 0; dom_viommu[i]; i++)
		if (strcmp(dom_viommu[i], "/") != 0 && !vc_strv_contains(viommus, dom_viommu[i]))
			check_fail(__FILE__, __LINE__, "%s: a domain is on vIOMMU %s, not the VM's", vm,
				   dom_viommu[i]);
	/* MappedBytes is the sum of the mappings. */
	if (json_object_object_get_ex(vmj, "mappings", &maps))
		for (size_t i = 0; i < json_object_array_length(maps); i++)
			sum += vc_json_u64(json_object_array_get_idx(maps, i), "length");
	CHECK_DBUS_OK(&c, vc_get_u64(&c, vm, VC_VM, "MappedBytes", &mapped));
	CHECK_EQ(mapped, sum);
	CHECK_EQ(vc_json_u64(vmj, "mapped_bytes"), sum);
	vc_strv_free(devs);
	vc_strv_free(viommus);
	vc_strv_free(domains);
	vc_strv_free(vdev_viommu);
	vc_strv_free(vdev_device);
	vc_strv_free(dev_domain);
	vc_strv_free(dom_viommu);
}

static void test_describe_consistent(void)
{
	struct json_object *root, *devices;
	char **vms = NULL, **described;
	char *json = NULL;

	require(calls_done ? "" : NULL);
	CHECK_DBUS_OK(&c, vc_describe(&c, &json));
	root = json_tokener_parse(json);
	CHECK(root);
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &vms));
	described = json_paths(root, "vms", "path");
	check_note("%zu VMs after the random calls", vc_strv_length(vms));
	if (!strv_same(vms, described)) {
		check_note("Describe: %s", json);
		check_fail(__FILE__, __LINE__, "ListVms and Describe's vms differ");
	}
	for (size_t i = 0; vms && vms[i]; i++)
		check_vm(root, vc_json_by_path(root, "vms", vms[i]), vms[i]);
	/* A device attached to a VM is in that VM's devices. */
	CHECK(json_object_object_get_ex(root, "devices", &devices));
	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		struct json_object *d = json_object_array_get_idx(devices, i), *vmj;
		const char *vm = vc_json_str(d, "vm"), *path = vc_json_str(d, "path");
		char **devs;

		CHECK(vm && path);
		if (strcmp(vm, "/") == 0)
			continue;
		vmj = vc_json_by_path(root, "vms", vm);
		if (!vmj)
			check_fail(__FILE__, __LINE__, "device %s is in VM %s, which Describe lacks",
				   path, vm);
		devs = json_paths(vmj, "devices", "path");
		if (!vc_strv_contains(devs, path))
			check_fail(__FILE__, __LINE__, "device %s says VM %s, which does not list it",
				   path, vm);
		vc_strv_free(devs);
	}
	json_object_put(root);
	vc_strv_free(described);
	vc_strv_free(vms);
	free(json);
}

/* A VM that may outlive the connections of the children. */
static bool may_outlive(struct json_object *vmj)
{
	static const char *const ours[] = { "rc-a", "rc-b", "rc-c" };
	struct json_object *v;
	const char *name = vc_json_str(vmj, "name");

	if (json_object_object_get_ex(vmj, "persist", &v) && json_object_get_boolean(v))
		return true;
	for (size_t i = 0; name && i < sizeof(ours) / sizeof(ours[0]); i++)
		if (strcmp(name, ours[i]) == 0)
			return true;
	return false;
}

/* The children close their connections: they exit cleanly, and every VM one
 * of them made goes with it unless it persists. */
static void test_connections_close(void)
{
	struct json_object *root = NULL, *vms;
	unsigned int failed = 0, left = 0;

	require(calls_done ? "" : NULL);
	close(go_pipe[1]);
	go_pipe[1] = -1;
	for (unsigned int i = 0; i < nchildren; i++) {
		int status = 0;
		pid_t r;

		for (int t = 0; (r = waitpid(children[i], &status, WNOHANG)) == 0 && t < 300; t++)
			usleep(100 * 1000);
		if (r == 0) {
			check_note("child %u does not exit: killed", i);
			kill(children[i], SIGKILL);
			waitpid(children[i], &status, 0);
			failed++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			check_note("child %u: %s %d", i, WIFEXITED(status) ? "exit status" : "signal",
				   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			failed++;
		}
	}
	nchildren = 0;
	if (failed)
		check_fail(__FILE__, __LINE__, "%u connections did not finish cleanly", failed);
	/* The daemon tears a gone peer's VMs down once it has seen it go. */
	for (int t = 0; t < 100; t++) {
		json_object_put(root);
		root = vc_describe_json(&c);
		CHECK(root);
		CHECK(json_object_object_get_ex(root, "vms", &vms));
		left = 0;
		for (size_t i = 0; i < json_object_array_length(vms); i++)
			left += !may_outlive(json_object_array_get_idx(vms, i));
		if (!left)
			break;
		usleep(100 * 1000);
	}
	check_note("%zu VMs once the children are gone", json_object_array_length(vms));
	if (left)
		check_note("Describe: %s", json_object_to_json_string(root));
	json_object_put(root);
	if (left)
		check_fail(__FILE__, __LINE__, "%u VMs of closed connections are still there", left);
	test_describe_consistent();
}

/* No page of the memfd at fd is pinned: checked on a fresh iommufd. */
static int memfd_unpinned(int fd, const char *what)
{
	struct stat st;
	void *view;
	int iommufd, r;

	if (fstat(fd, &st) < 0 || st.st_size == 0)
		return 0;
	view = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (view == MAP_FAILED)
		return 0; /* write-only or sealed in a way that forbids it: never mappable */
	iommufd = iommufd_open();
	if (iommufd < 0) {
		munmap(view, (size_t)st.st_size);
		return iommufd;
	}
	r = mock_check_refs(iommufd, view, (uint64_t)st.st_size, 0);
	if (r < 0)
		check_note("%s: pages still pinned (%s)", what, strerror(-r));
	close(iommufd);
	munmap(view, (size_t)st.st_size);
	return r;
}

static bool is_memfd(int fd)
{
	char link[64], target[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strncmp(target, "/memfd:", 7) == 0;
}

static void test_teardown(void)
{
	char **vms = NULL;
	const char *what;
	int fd, fds;

	require(setup_done ? "" : NULL);
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &vms));
	for (size_t i = 0; vms && vms[i]; i++)
		CHECK_DBUS_OK(&c, vc_destroy(&c, vms[i], VC_VM));
	vc_strv_free(vms);
	vms = NULL;
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &vms));
	CHECK_EQ(vc_strv_length(vms), 0);
	vc_strv_free(vms);
	/* Nothing this program mapped (or let the generator pass) is pinned. */
	CHECK_OK(memfd_unpinned(memfd, "the guest memfd"));
	for (size_t i = 0; (fd = dbus_gen_fd(gen, i, &what)) >= 0; i++)
		if (fd != memfd && is_memfd(fd))
			CHECK_OK(memfd_unpinned(fd, what));
	CHECK_EQ(vc_daemon_fds("/dev/iommu"), 0);
	CHECK_EQ(vc_daemon_fds("/dev/vfio/"), 0);
	CHECK_EQ(vc_daemon_fds("/memfd:"), 0);
	fds = vc_daemon_fds("");
	check_note("daemon fds at the end: %d", fds);
	if (fds != daemon_fds_start) {
		char *now = daemon_fd_list();

		note_lines("daemon fd at the start", daemon_fds_list);
		note_lines("daemon fd at the end", now);
		free(now);
	}
	CHECK_EQ(fds, daemon_fds_start);
}

static const struct check_case cases[] = {
	CHECK_CASE(test_setup),
	CHECK_CASE(test_random_calls),
	CHECK_CASE(test_daemon_alive),
	CHECK_CASE(test_describe_consistent),
	CHECK_CASE(test_connections_close),
	CHECK_CASE(test_teardown),
};

static void usage(void)
{
	fprintf(stderr, "usage: test-random-calls [--calls N] [--children N] [--seed N] "
			"[--seconds N] [CASE...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int nrest = 0, r;

	if (!rest)
		return 1;
	opt_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rest[nrest++] = argv[0];
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		unsigned long long v;

		if (strcmp(argv[i], "--calls") != 0 && strcmp(argv[i], "--children") != 0 &&
		    strcmp(argv[i], "--seed") != 0 && strcmp(argv[i], "--seconds") != 0) {
			rest[nrest++] = argv[i];
			continue;
		}
		if (i + 1 >= argc)
			usage();
		errno = 0;
		v = strtoull(argv[i + 1], &end, 0);
		if (errno || !end || *end || end == argv[i + 1])
			usage();
		if (strcmp(argv[i], "--calls") == 0)
			opt_calls = (unsigned long)v;
		else if (strcmp(argv[i], "--children") == 0 && v >= 1 && v <= MAX_CHILDREN)
			opt_children = (unsigned int)v;
		else if (strcmp(argv[i], "--seed") == 0)
			opt_seed = v;
		else if (strcmp(argv[i], "--seconds") == 0 && v >= 1)
			opt_seconds = (unsigned int)v;
		else
			usage();
		i++;
	}
	/* A client that goes away mid-call must not take us with it. */
	signal(SIGPIPE, SIG_IGN);
	r = check_run(cases, sizeof(cases) / sizeof(cases[0]), nrest, rest);
	free(rest);
	return r;
}
