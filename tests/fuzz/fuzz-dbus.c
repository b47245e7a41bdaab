/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness of the argument decoding of every D-Bus method: message
 * in, error or call out. In process, no kernel needed: a daemon set up with
 * daemon_init() (config "{}") serves its private socket on a temporary path
 * through the server API, and a client sd-bus in the same thread connects to
 * it; the harness pumps both ends. Each input drives the shared generator
 * (tests/common/dbus-gen.h) for one to three calls, over every interface the
 * daemon's own introspection lists.
 *
 * So that the Vm, Viommu, Domain, VDevice, HwQueue and FaultQueue methods
 * are reached at all without /dev/iommu, the daemon holds VMs parsed from a
 * state document (state_parse(), as a restart adopts them) with every fd
 * -1: the kernel calls fail with EBADF, the decoding before them is what is
 * fuzzed. The devices are mocks and one fake PCI device on a fake sysfs tree
 * that has no vfio-pci driver, so no sysfs of the host is ever written.
 *
 * Invariants, per input: every call gets a reply within 5 s; a reply is a
 * method return or an error named org.viommu1.Error.* or
 * org.freedesktop.DBus.Error.* (not NoReply, Timeout or Disconnected) with a
 * message; the daemon still holds the connection; after the model is reset
 * (every VM torn down and parsed again) the process has the fds it had.
 *
 * FUZZ_DBUS_VERBOSE=1 prints each call and its reply, and the daemon's log.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "dbus-gen.h"
#include "log.h"
#include "state.h"

#define MAX_CALLS 3
#define REPLY_SECONDS 5

/* Three VMs as a restart would find them (see state-load.c): a managed one
 * with two mock devices, a mapping, a vIOMMU with a relayed event queue and a
 * HW queue, a vDEVICE, a nested domain reporting to a relayed fault queue,
 * and a handed-out fault queue; a persistent broker VM of uid 1000; an empty
 * managed VM. VM 4 existed. "%u" is the caller's uid. */
static const char state_fmt[] =
	"{\"version\":1,\"next_vm_id\":5,\"bound_devices\":[],\"vms\":["
	"{\"id\":1,\"name\":\"mock\",\"owner\":%u,\"mode\":\"managed\",\"persist\":false,"
	"\"pasid\":true,\"shared\":false,\"nesting\":true,\"dirty_tracking\":true,"
	"\"dirty_tracking_enabled\":false,\"ioas_id\":1,\"parent_id\":5,\"next_object\":7,"
	"\"vmm_pid\":0,\"vmm_memlock\":0,"
	"\"mappings\":[{\"iova\":16777216,\"length\":2097152}],"
	"\"devices\":[{\"name\":\"selftest0\",\"dev_id\":3,\"stdev_id\":2,\"pt_id\":8,"
	"\"domain\":\"/org/viommu1/vm/1/domain/3\",\"pasid_attached\":false,\"pasid\":0,"
	"\"fd_handed_out\":false},"
	"{\"name\":\"selftest1\",\"dev_id\":7,\"stdev_id\":6,\"pt_id\":5,\"domain\":\"\","
	"\"pasid_attached\":true,\"pasid\":5,\"fd_handed_out\":false}],"
	"\"viommus\":[{\"path\":\"/org/viommu1/vm/1/viommu/1\",\"kernel_id\":9,"
	"\"type\":3735928559,\"vendor\":\"selftest\",\"iommu\":\"selftest\",\"invalidations\":4,"
	"\"has_mmap\":true,\"mmap_offset\":0,\"mmap_length\":4096,"
	"\"veventqs\":[{\"kernel_id\":11,\"type\":3203383023,\"relay\":true}],"
	"\"hw_queues\":[{\"path\":\"/org/viommu1/vm/1/hwqueue/5\",\"kernel_id\":12,"
	"\"type\":3735928559,\"index\":0,\"base_iova\":16777216,\"length\":4096}]}],"
	"\"fault_queues\":[{\"path\":\"/org/viommu1/vm/1/faultqueue/4\",\"kernel_id\":13,"
	"\"relay\":true,\"faults\":2,\"responses\":1,\"pending\":[7]},"
	"{\"path\":\"/org/viommu1/vm/1/faultqueue/6\",\"kernel_id\":14,\"relay\":false,"
	"\"faults\":0,\"responses\":0,\"pending\":[]}],"
	"\"domains\":[{\"path\":\"/org/viommu1/vm/1/domain/3\",\"kernel_id\":8,"
	"\"data_type\":57005,\"vendor\":\"selftest\",\"viommu\":\"/org/viommu1/vm/1/viommu/1\","
	"\"fault\":\"/org/viommu1/vm/1/faultqueue/4\",\"invalidations\":0}],"
	"\"vdevices\":[{\"path\":\"/org/viommu1/vm/1/vdevice/2\","
	"\"viommu\":\"/org/viommu1/vm/1/viommu/1\",\"device\":\"selftest0\",\"virt_id\":66,"
	"\"kernel_id\":10}]},"
	"{\"id\":2,\"name\":\"keep\",\"owner\":1000,\"mode\":\"broker\",\"persist\":true,"
	"\"pasid\":false,\"shared\":true,\"nesting\":false,\"dirty_tracking\":false,"
	"\"dirty_tracking_enabled\":false,\"ioas_id\":0,\"parent_id\":0,\"next_object\":1,"
	"\"vmm_pid\":0,\"vmm_memlock\":0,\"mappings\":[],\"devices\":[],\"viommus\":[],"
	"\"fault_queues\":[],\"domains\":[],\"vdevices\":[]},"
	"{\"id\":3,\"name\":\"plain\",\"owner\":%u,\"mode\":\"managed\",\"persist\":false,"
	"\"pasid\":false,\"shared\":false,\"nesting\":false,\"dirty_tracking\":false,"
	"\"dirty_tracking_enabled\":false,\"ioas_id\":1,\"parent_id\":0,\"next_object\":1,"
	"\"vmm_pid\":0,\"vmm_memlock\":0,\"mappings\":[],\"devices\":[],\"viommus\":[],"
	"\"fault_queues\":[],\"domains\":[],\"vdevices\":[]}]}";

/* Paths that existed: VM 4, and objects of VM 1 numbered past next_object. */
static const char *const gone_paths[] = {
	"/org/viommu1/vm/4",
	"/org/viommu1/vm/4/viommu/1",
	"/org/viommu1/vm/1/domain/7",
	"/org/viommu1/vm/1/vdevice/8",
};

static const char *const fault_queues[] = {
	"/org/viommu1/vm/1/faultqueue/4",
	"/org/viommu1/vm/1/faultqueue/6",
};

struct reply_wait {
	sd_bus_message *call;
	sd_bus_message *reply;
	sd_bus_slot *slot;
	struct dbus_gen_call desc;
	bool done;
};

static struct {
	bool ready;
	bool verbose;
	char dir[256];
	char sysfs[300];
	char socket_path[300];
	char state_path[300];
	char peer_id[SERVER_PEER_ID_MAX];
	struct event_base *base;
	struct daemon d;
	sd_bus *client;
	struct dbus_gen *gen;
	int memfd;
	int fds;
} F;

static void require(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "invariant failed: %s\n", what);
		abort();
	}
}

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	require(dir != NULL, "/proc/self/fd can be read");
	while ((de = readdir(dir)))
		n += de->d_name[0] != '.';
	closedir(dir);
	return n - 1; /* the directory's own */
}

/* The fds of this process: what each one is, "" for none. */
#define FD_SCAN 1024
static char fd_targets[2][FD_SCAN][80];

static int snapshot_fds(char (*out)[80])
{
	char link[64];
	int n = 0;

	for (int fd = 0; fd < FD_SCAN; fd++) {
		ssize_t len;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, out[fd], sizeof(out[fd]) - 1);
		out[fd][len > 0 ? len : 0] = '\0';
		n += len > 0;
	}
	return n;
}

/* ---- a fake sysfs tree: one PCI device in an IOMMU group, no vfio-pci ---- */

static void mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
	mkdir(tmp, 0755);
}

__attribute__((format(printf, 2, 3))) static void put(const char *text, const char *fmt, ...)
{
	char path[PATH_MAX], dir[PATH_MAX], rel[512];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", F.sysfs, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	f = fopen(path, "we");
	require(f != NULL, "the fake sysfs tree can be written");
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *target_rel, const char *path_rel)
{
	char target[PATH_MAX], path[PATH_MAX], dir[PATH_MAX];

	snprintf(target, sizeof(target), "%s/%s", F.sysfs, target_rel);
	snprintf(path, sizeof(path), "%s/%s", F.sysfs, path_rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	mkdir_p(target);
	unlink(path);
	require(symlink(target, path) == 0, "the fake sysfs tree can be linked");
}

static void fake_sysfs(void)
{
	static const char dev[] = "devices/pci0000:00/0000:00:05.0";

	put("", "bus/pci/drivers_probe");
	put("", "bus/pci/drivers/e1000e/bind");
	put("0x1234\n", "%s/vendor", dev);
	put("0x11e8\n", "%s/device", dev);
	put("0x00ff00\n", "%s/class", dev);
	put("(null)\n", "%s/driver_override", dev);
	link_to(dev, "bus/pci/devices/0000:00:05.0");
	link_to("kernel/iommu_groups/5", "devices/pci0000:00/0000:00:05.0/iommu_group");
	link_to(dev, "kernel/iommu_groups/5/devices/0000:00:05.0");
	link_to("devices/virtual/iommu/dmar0", "devices/pci0000:00/0000:00:05.0/iommu");
	put("d2008c222f0686\n", "devices/virtual/iommu/dmar0/intel-iommu/cap");
	put("f00f4a\n", "devices/virtual/iommu/dmar0/intel-iommu/ecap");
	link_to("devices/virtual/iommu/dmar0", "class/iommu/dmar0");
	/* One device outside any IOMMU group: never in the inventory. */
	put("0x8086\n", "devices/pci0000:00/0000:00:07.0/vendor");
	put("0x10d3\n", "devices/pci0000:00/0000:00:07.0/device");
	put("0x020000\n", "devices/pci0000:00/0000:00:07.0/class");
	link_to("devices/pci0000:00/0000:00:07.0", "bus/pci/devices/0000:00:07.0");
	put("IR-IO-APIC\n", "kernel/irq/9/chip_name");
	put("IR-PCI-MSIX-0000:00:05.0\n", "kernel/irq/24/chip_name");
	put("N\n", "module/iommufd/parameters/allow_unsafe_interrupts");
}

/* ---- the loop ---- */

static void pump_daemon(void *userdata)
{
	event_base_loop(F.base, EVLOOP_NONBLOCK);
}

static void pump_once(void)
{
	while (sd_bus_process(F.client, NULL) > 0)
		;
	event_base_loop(F.base, EVLOOP_NONBLOCK);
	while (sd_bus_process(F.client, NULL) > 0)
		;
}

/* ---- the model ---- */

static void model_reset(void)
{
	struct state_intent intent;
	struct vm *parsed = NULL;
	unsigned int next = 0;
	char text[sizeof(state_fmt) + 32], err[512] = "";
	int r;

	while (F.d.vms) {
		struct vm *vm = F.d.vms;

		vm_teardown(vm);
		vm_free(vm);
	}
	snprintf(text, sizeof(text), state_fmt, (unsigned int)getuid(), (unsigned int)getuid());
	r = state_parse(&F.d, text, strlen(text), &parsed, &intent, &next, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "fuzz-dbus: the fake state does not parse: %s\n", err);
	require(r == 0, "the fake state parses");
	/* Linked as adopt.c links an adopted VM; owned by our connection. */
	while (parsed) {
		struct vm *vm = parsed;

		parsed = vm->next;
		vm->next = NULL;
		for (struct vm_device *vd = vm->devices; vd; vd = vd->next)
			vd->device->vm = vm;
		snprintf(vm->peer_id, sizeof(vm->peer_id), "%s", vm->id == 2 ? "" : F.peer_id);
		vm->unclaimed = vm->id == 2;
		if (vm->mode == VM_MODE_MANAGED) {
			vm->nranges = 1;
			vm->ranges[0].start = 0x1000000;
			vm->ranges[0].last = UINT64_C(0xffffffffffff);
		}
		require(vm_index_reserve(&F.d) == 0, "room in the VM index");
		vm_index_link(&F.d, vm);
	}
	F.d.next_vm_id = next;
	F.d.intent.active = false;
}

/* ---- set-up ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* The temporary directory (fake sysfs, socket, state file) goes at exit. */
static void remove_dir(void)
{
	if (F.dir[0])
		nftw(F.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The sanitizers' symbolizer: libFuzzer starts it (two pipe fds) the first
 * time it names a new function, so it starts here, before the fds are
 * counted. */
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out, size_t size)
	__attribute__((weak));

static void start_symbolizer(void)
{
	char buf[256];

	if (__sanitizer_symbolize_pc)
		__sanitizer_symbolize_pc(__builtin_return_address(0), "%p %F %L", buf, sizeof(buf));
}

static void setup_once(void)
{
	const struct server_options options = {
		.socket_path = F.socket_path,
		.bus_mode = SERVER_BUS_NONE,
	};
	const struct server_callbacks callbacks = {
		.attach = daemon_attach_bus,
		.peer_gone = daemon_peer_gone,
		.after_dispatch = daemon_after_dispatch,
		.userdata = &F.d,
	};
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	/* The generator's messages stay within these, so that none is dropped
	 * whole at the socket guard (twice the caps), which answers nothing:
	 * what is fuzzed is the decoding behind it (the caps have their tests). */
	static const char conf[] = "{\"quota_message_bytes\": 8388608, \"quota_message_fds\": 253}";
	struct config *config = NULL;
	char address[320], err[512];
	int r, nodes;

	F.verbose = getenv("FUZZ_DBUS_VERBOSE") && strcmp(getenv("FUZZ_DBUS_VERBOSE"), "1") == 0;
	log_set_max_priority(F.verbose ? LOG_DEBUG : LOG_EMERG);
	/* No service manager and no system bus: a daemon on its own. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	signal(SIGPIPE, SIG_IGN);

	snprintf(F.dir, sizeof(F.dir), "%s/fuzz-dbus-XXXXXX", tmp ? tmp : "/tmp");
	require(mkdtemp(F.dir) != NULL, "a temporary directory");
	atexit(remove_dir);
	snprintf(F.sysfs, sizeof(F.sysfs), "%s/sys", F.dir);
	snprintf(F.socket_path, sizeof(F.socket_path), "%s/viommud.sock", F.dir);
	snprintf(F.state_path, sizeof(F.state_path), "%s/state.json", F.dir);
	fake_sysfs();

	r = config_parse(conf, sizeof(conf) - 1, "fuzz", &config, err, sizeof(err));
	require(r == 0, "the fuzz config parses");
	F.base = event_base_new();
	require(F.base != NULL, "an event base");
	r = daemon_init(&F.d, F.base, config);
	require(r == 0, "daemon_init");
	/* Only the fake tree from here on: no write to the host's sysfs. */
	F.d.sysfs_root = F.sysfs;
	require(device_inventory_scan(&F.d) == 0, "the fake inventory scans");
	require(device_add_mock(&F.d, "selftest3") != NULL, "a free mock device");
	/* The state is written after every call that changes it, as in service. */
	F.d.state_path = F.state_path;
	r = server_new(F.base, &options, &callbacks, &F.d.server);
	require(r == 0, "server_new");
	daemon_apply_limits(&F.d);

	snprintf(address, sizeof(address), "unix:path=%s", F.socket_path);
	require(sd_bus_new(&F.client) >= 0, "sd_bus_new");
	require(sd_bus_set_address(F.client, address) >= 0, "sd_bus_set_address");
	require(sd_bus_negotiate_fds(F.client, 1) >= 0, "sd_bus_negotiate_fds");
	require(sd_bus_start(F.client) >= 0, "sd_bus_start");
	/* The server names its first connection p2p:1. */
	snprintf(F.peer_id, sizeof(F.peer_id), "p2p:1");

	F.gen = dbus_gen_new();
	require(F.gen != NULL, "dbus_gen_new");
	dbus_gen_set_pump(F.gen, pump_daemon, NULL);
	require(dbus_gen_open_fds(F.gen) > 0, "the wrong-kind fds");
	F.memfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	require(F.memfd >= 0 && ftruncate(F.memfd, 4 << 20) == 0 && fallocate(F.memfd, 0, 0, 4 << 20) == 0, "a guest memfd");
	dbus_gen_add_valid_fd(F.gen, F.memfd, "memfd-guest");

	model_reset();
	nodes = dbus_gen_introspect(F.gen, F.client, NULL, "/");
	require(nodes > 0, "the daemon introspects");
	/* No property names a fault queue: only OpenFaultQueue's reply does. */
	for (size_t i = 0; i < sizeof(fault_queues) / sizeof(fault_queues[0]); i++)
		nodes += dbus_gen_introspect(F.gen, F.client, NULL, fault_queues[i]);
	if (F.verbose)
		fprintf(stderr, "fuzz-dbus: %d nodes, %zu interfaces, %zu methods, %zu live paths\n",
			nodes, dbus_gen_interface_count(F.gen), dbus_gen_method_count(F.gen),
			dbus_gen_path_count(F.gen, DG_PATH_LIVE));
	require(server_peer_alive(F.d.server, F.peer_id), "our connection is p2p:1");
	require(dbus_gen_has_method(F.gen, "org.viommu1.Vm", "MapMemory") &&
			dbus_gen_has_method(F.gen, "org.viommu1.FaultQueue", "RespondFault") &&
			dbus_gen_has_method(F.gen, "org.viommu1.HwQueue", "Destroy"),
		"introspection lists the methods of every interface");
	for (size_t i = 0; i < sizeof(gone_paths) / sizeof(gone_paths[0]); i++)
		dbus_gen_add_path(F.gen, gone_paths[i], DG_PATH_GONE);
	/* The numbers and names of the fake model. */
	{
		/* IOVAs and lengths of the mapping, IDs and cookies of the model,
		 * the selftest's types and sizes, map flags. */
		static const uint64_t numbers[] = { 0x1000000, 0x200000, 0x1200000, 0x1001000,
						    4096, 66, 5, 7, 9, 8, 12, 13, 14, 24,
						    0xffffffffffff, 0xdead, 0xdeadbeef, 0xbeefbeef,
						    2, 4, 6 };

		for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
			dbus_gen_add_number(F.gen, numbers[i]);
	}
	{
		/* By argument name, for the calls meant to get past the checks. */
		static const struct {
			const char *arg;
			uint64_t value;
		} by_name[] = {
			{ "offset", 0 },	    { "offset", 0x100000 },   { "length", 4096 },
			{ "length", 0x200000 },	    { "iova", 0x1000000 },    { "iova", 0x4000000 },
			{ "iova", 0x1200000 },	    { "flags", 0 },	      { "flags", 1 },
			{ "flags", 6 },		    { "page_size", 4096 },    { "virt_id", 66 },
			{ "virt_id", 67 },	    { "data_type", 0xdead },  { "data_type", 0xdeadbeef },
			{ "entry_len", 8 },	    { "entry_len", 12 },      { "type", 0xbeefbeef },
			{ "type", 0xdeadbeef },	    { "depth", 16 },	      { "index", 0 },
			{ "index", 1 },		    { "base_iova", 0x1000000 }, { "cookie", 7 },
			{ "code", 0 },		    { "code", 1 },	      { "guest_bytes", 0x100000 },
			{ "ranges", 0x1000000 },    { "ranges", 0x1ffffff },
		};

		for (size_t i = 0; i < sizeof(by_name) / sizeof(by_name[0]); i++)
			dbus_gen_add_arg_number(F.gen, by_name[i].arg, by_name[i].value);
	}
	dbus_gen_add_string(F.gen, "mock");
	dbus_gen_add_string(F.gen, "keep");
	dbus_gen_add_string(F.gen, "plain");
	/* What a reset leaves: the count every input must come back to. */
	start_symbolizer();
	model_reset();
	pump_once();
	snapshot_fds(fd_targets[0]);
	F.fds = count_fds();
	F.ready = true;
}

/* ---- one input ---- */

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct reply_wait *w = userdata;

	w->reply = sd_bus_message_ref(m);
	w->done = true;
	return 0;
}

static void report(const struct reply_wait *w, const char *what)
{
	const sd_bus_error *e = w->reply ? sd_bus_message_get_error(w->reply) : NULL;

	fprintf(stderr, "fuzz-dbus: %s\n  call: %s %s %s.%s(%s) [%s]\n", what,
		w->desc.path_state == DG_PATH_LIVE ? "live" :
		w->desc.path_state == DG_PATH_GONE ? "gone" :
						     "never",
		w->desc.path, w->desc.iface[0] ? w->desc.iface : "(no interface)", w->desc.member,
		w->desc.signature, w->desc.kind);
	if (e)
		fprintf(stderr, "  reply: %s: %s\n", e->name ? e->name : "(no name)",
			e->message ? e->message : "(no message)");
	sd_bus_message_rewind(w->call, true);
	sd_bus_message_dump(w->call, stderr, SD_BUS_MESSAGE_DUMP_WITH_HEADER);
}

static void check_reply(const struct reply_wait *w)
{
	const sd_bus_error *e;

	if (!w->done) {
		report(w, "no reply");
		require(0, "every call is answered");
	}
	if (!sd_bus_message_is_method_error(w->reply, NULL)) {
		uint8_t type = 0;

		require(sd_bus_message_get_type(w->reply, &type) >= 0 &&
				type == SD_BUS_MESSAGE_METHOD_RETURN,
			"a reply is a method return or an error");
		return;
	}
	e = sd_bus_message_get_error(w->reply);
	if (!e || !dbus_gen_error_name_ok(e->name) ||
	    strcmp(e->name, SD_BUS_ERROR_NO_REPLY) == 0 || strcmp(e->name, SD_BUS_ERROR_TIMEOUT) == 0 ||
	    strcmp(e->name, SD_BUS_ERROR_DISCONNECTED) == 0) {
		report(w, "unexpected error name");
		require(0, "errors are named org.viommu1.Error.* or org.freedesktop.DBus.Error.*");
	}
	if (!e->message || !e->message[0]) {
		report(w, "error without a message");
		require(0, "every error carries a message");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_wait waits[MAX_CALLS];
	struct dg_source src;
	size_t ncalls, sent = 0;
	time_t deadline;
	int fds;

	if (!F.ready)
		setup_once();
	memset(waits, 0, sizeof(waits));
	dg_source_bytes(&src, data, size);
	ncalls = 1 + dg_below(&src, MAX_CALLS);
	for (size_t i = 0; i < ncalls; i++) {
		struct reply_wait *w = &waits[sent];
		sd_bus_message *m = NULL;

		int r = dbus_gen_call(F.gen, &src, F.client, NULL, &m, &w->desc);

		if (r < 0) {
			if (F.verbose)
				fprintf(stderr, "fuzz-dbus: %s.%s(%s) on %s not built: %s\n",
					w->desc.iface, w->desc.member, w->desc.signature, w->desc.path,
					strerror(-r));
			continue; /* sd-bus would not build it */
		}
		if (sd_bus_call_async(F.client, &w->slot, m, on_reply, w, REPLY_SECONDS * 1000000ull) <
		    0) {
			sd_bus_message_unref(m);
			continue; /* e.g. an fd the transport cannot pass */
		}
		w->call = m;
		sent++;
	}
	deadline = time(NULL) + REPLY_SECONDS;
	for (;;) {
		bool all = true;

		pump_once();
		for (size_t i = 0; i < sent; i++)
			all &= waits[i].done;
		if (all || time(NULL) > deadline)
			break;
	}
	for (size_t i = 0; i < sent; i++) {
		if (F.verbose) {
			const sd_bus_error *e =
				waits[i].reply ? sd_bus_message_get_error(waits[i].reply) : NULL;

			fprintf(stderr, "fuzz-dbus: %s.%s(%s) on %s -> %s%s%s\n", waits[i].desc.iface,
				waits[i].desc.member, waits[i].desc.signature, waits[i].desc.path,
				e ? e->name : "OK", e ? ": " : "", e && e->message ? e->message : "");
		}
		check_reply(&waits[i]);
	}
	require(sd_bus_is_open(F.client) > 0, "the client is still connected");
	require(server_connection_count(F.d.server) == 1 && server_peer_alive(F.d.server, F.peer_id),
		"the daemon still holds the connection");
	for (size_t i = 0; i < sent; i++) {
		sd_bus_slot_unref(waits[i].slot);
		sd_bus_message_unref(waits[i].call);
		sd_bus_message_unref(waits[i].reply);
	}
	model_reset();
	pump_once();
	fds = count_fds();
	if (fds != F.fds) {
		snapshot_fds(fd_targets[1]);
		fprintf(stderr, "fuzz-dbus: %d fds after the reset, %d before:\n", fds, F.fds);
		for (int fd = 0; fd < FD_SCAN; fd++)
			if (strcmp(fd_targets[0][fd], fd_targets[1][fd]) != 0)
				fprintf(stderr, "  fd %d: was \"%s\", is \"%s\"\n", fd,
					fd_targets[0][fd], fd_targets[1][fd]);
	}
	require(fds == F.fds, "no fd is left behind once the model is reset");
	return 0;
}
