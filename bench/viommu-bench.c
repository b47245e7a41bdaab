/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommu-bench: the daemon's path against the direct path, measured in the
 * same run, inside the test guest, against the running viommud (started by
 * tests/integration/run-daemon, which sets VIOMMU_SOCKET and VIOMMUD_PID; with
 * --bus system also DBUS_SYSTEM_BUS_ADDRESS).
 *
 *   viommu-bench [--quick] [--json PATH|-] [--rows LETTERS]
 *
 * Prints one table, each daemon figure beside its direct-path twin, the ratio,
 * the target and whether it is met; --json writes the same as JSON ("-":
 * stdout, between marker lines, which scripts/bench.sh picks up). Rows:
 *
 *   a  a no-op call: org.freedesktop.DBus.Peer.Ping, which sd-bus answers
 *      inside the daemon without reaching its vtables (filters still run), so
 *      it is the floor of every call. Over the private socket and through
 *      the system bus's dbus-daemon, against a raw AF_UNIX request/response
 *      that moves exactly the bytes of the Ping call and its reply over the
 *      private socket (measured, not estimated: see measure_ping_bytes()).
 *   b  Domain.Invalidate and Viommu.Invalidate with 1, 16 and 256 entries
 *      against IOMMU_HWPT_INVALIDATE on the iommufd handed out by
 *      Vm.GetIommufd: the fast path is that ioctl itself.
 *   c  MapMemory and UnmapMemory of a 1 GiB memfd against IOMMU_IOAS_MAP_FILE
 *      and IOMMU_IOAS_UNMAP on our own iommufd, IOAS, mock device and nesting
 *      parent (the same setup); the same memfd, one mapping at a time.
 *   d  A VM with 64 mock devices, each with a vDEVICE and a nested domain it
 *      is attached to, against the same ioctl sequence in this process (what
 *      the daemon issues for CreateVm, AttachDevice, CreateViommu, AddDevice,
 *      AllocDomain and Domain.Attach); teardown too.
 *   e  A vEVENT triggered in the kernel (the selftest's TRIGGER_VEVENT, from
 *      a thread of its own) until the client, asleep until then, has it: a
 *      relayed queue's Event signal against a read of the handed-out vEVENTQ
 *      fd.
 *   f  The daemon's VmRSS per idle VM at 1, 100 and 1000 VMs (delta over a
 *      baseline); the twin is this process's own VmRSS per iommufd context
 *      with an IOAS opened directly.
 *   g  Connect, authenticate and the first call (Ping) on a new private
 *      socket connection, against connect plus one raw request/response.
 *
 * Timing: CLOCK_MONOTONIC, warm-up first, daemon and direct iterations
 * interleaved in chunks so that drift hits both. Nothing here fails on speed:
 * the exit status is 1 only for an error (a failed call, a wrong result).
 * Needs the daemon's config to have "mock_devices": 64, "fast_path_users": [0]
 * and "quota_vms_per_uid" above 4096 (bench/meson.build passes them), and,
 * for row f, an RLIMIT_NOFILE above 4096 (it runs under prlimit, as the unit's
 * LimitNOFILE=65536). Row f runs first, so that memory the other rows free
 * cannot hide what the VMs take; the table shows the rows in order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-id128.h>

#include "client.h"
#include "iommufd.h"
#include "selftest.h"

#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)
#define VIRT_ID 0x42
#define MOCK_DEVICES 64
#define PEER_IFACE "org.freedesktop.DBus.Peer"
#define CALL_TIMEOUT_USEC (120 * 1000 * 1000ull)

static bool quick;
static bool host; /* --host: rows a and g, no IOMMU */
static struct vc c; /* the private-socket connection the rows share */

/* --- errors: the only thing that changes the exit status --- */

static _Noreturn __attribute__((format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "viommu-bench: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* expr returns 0 (or >= 0) or a negative errno. */
#define MUST(expr)                                                                       \
	do {                                                                             \
		int must_r_ = (expr);                                                    \
		if (must_r_ < 0)                                                         \
			die("%s:%d: %s: %s", __FILE__, __LINE__, #expr, strerror(-must_r_)); \
	} while (0)

/* expr is a vc_* call on c. */
#define MUST_DBUS(expr)                                                                  \
	do {                                                                             \
		int must_r_ = (expr);                                                    \
		if (must_r_ < 0)                                                         \
			die("%s:%d: %s: %s (%s)", __FILE__, __LINE__, #expr,              \
			    vc_error_name(&c), vc_error_message(&c));                     \
	} while (0)

#define MUST_TRUE(cond)                                                                  \
	do {                                                                             \
		if (!(cond))                                                             \
			die("%s:%d: %s is false", __FILE__, __LINE__, #cond);           \
	} while (0)

/* --- time and statistics --- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct samples {
	uint64_t *v;
	size_t n, cap;
	uint64_t total; /* sum of v */
};

static void samples_add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = ns;
	s->total += ns;
}

static void samples_free(struct samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct stats {
	size_t n;
	double p50, p99, mean, min, max; /* ns */
	double per_sec;			 /* n / total time of the samples */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least p of them at or below it. */
static double percentile(const struct samples *s, double p)
{
	size_t rank = (size_t)ceil(p * (double)s->n);

	if (rank == 0)
		rank = 1;
	return (double)s->v[rank - 1];
}

static struct stats stats_of(struct samples *s)
{
	struct stats st = { .n = s->n };

	if (!s->n)
		die("no samples");
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	st.p50 = percentile(s, 0.50);
	st.p99 = percentile(s, 0.99);
	st.min = (double)s->v[0];
	st.max = (double)s->v[s->n - 1];
	st.mean = (double)s->total / (double)s->n;
	st.per_sec = s->total ? (double)s->n * 1e9 / (double)s->total : 0;
	return st;
}

/* --- JSON --- */

static struct json_object *jroot, *jlines, *jdetails;

static void jput(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v || json_object_object_add(o, key, v) < 0)
		die("out of memory (JSON)");
}

/* A JSON null (json-c's NULL object). */
static void jput_null(struct json_object *o, const char *key)
{
	if (json_object_object_add(o, key, NULL) < 0)
		die("out of memory (JSON)");
}

static struct json_object *jstats(const struct stats *st)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		die("out of memory (JSON)");
	jput(o, "n", json_object_new_uint64(st->n));
	jput(o, "p50_ns", json_object_new_double(st->p50));
	jput(o, "p99_ns", json_object_new_double(st->p99));
	jput(o, "mean_ns", json_object_new_double(st->mean));
	jput(o, "min_ns", json_object_new_double(st->min));
	jput(o, "max_ns", json_object_new_double(st->max));
	jput(o, "per_sec", json_object_new_double(st->per_sec));
	return o;
}

/* The details object of a row ("a", "b", ...), made on first use. */
static struct json_object *jrow(char row)
{
	char key[2] = { row, 0 };
	struct json_object *o;

	if (json_object_object_get_ex(jdetails, key, &o))
		return o;
	o = json_object_new_object();
	jput(jdetails, key, o);
	return o;
}

/* --- the table --- */

enum unit { UNIT_TIME, UNIT_RATE, UNIT_KIB, UNIT_BYTES };
enum verdict { VERDICT_INFO, VERDICT_MET, VERDICT_MISSED };

struct line {
	char row;
	char what[48];
	enum unit unit;
	char dlabel[8], xlabel[8];
	double dval, xval; /* xval NAN: no twin */
	double ratio;	   /* NAN: none */
	char target[24];
	enum verdict verdict;
};

#define LINES_MAX 64
static struct line lines[LINES_MAX];
static size_t nlines;

static const char *unit_name(enum unit u)
{
	switch (u) {
	case UNIT_TIME:
		return "ns";
	case UNIT_RATE:
		return "per_s";
	case UNIT_KIB:
		return "KiB";
	case UNIT_BYTES:
		return "bytes";
	}
	return "?";
}

static struct line *line_new(char row, const char *what, enum unit unit, const char *dlabel,
			     double dval, const char *xlabel, double xval)
{
	struct line *l;

	if (nlines == LINES_MAX)
		die("too many table lines");
	l = &lines[nlines++];
	memset(l, 0, sizeof(*l));
	l->row = row;
	snprintf(l->what, sizeof(l->what), "%s", what);
	l->unit = unit;
	snprintf(l->dlabel, sizeof(l->dlabel), "%s", dlabel);
	snprintf(l->xlabel, sizeof(l->xlabel), "%s", xlabel ? xlabel : "");
	l->dval = dval;
	l->xval = xlabel ? xval : NAN;
	/* > 1 always means the daemon's path costs more. */
	if (isnan(l->xval) || l->xval <= 0 || l->dval <= 0 || unit == UNIT_KIB)
		l->ratio = NAN;
	else if (unit == UNIT_RATE)
		l->ratio = l->xval / l->dval;
	else
		l->ratio = l->dval / l->xval;
	snprintf(l->target, sizeof(l->target), "-");
	l->verdict = VERDICT_INFO;
	return l;
}

/* A line whose target is a bound on the ratio (NAN: no target). */
static void line_ratio(char row, const char *what, enum unit unit, const char *dlabel,
		       double dval, const char *xlabel, double xval, double max_ratio)
{
	struct line *l = line_new(row, what, unit, dlabel, dval, xlabel, xval);

	if (isnan(max_ratio))
		return;
	snprintf(l->target, sizeof(l->target), "<= %.2fx", max_ratio);
	l->verdict = !isnan(l->ratio) && l->ratio <= max_ratio ? VERDICT_MET : VERDICT_MISSED;
}

/* A line whose target bounds the daemon's value itself. */
static void line_absolute(char row, const char *what, enum unit unit, const char *dlabel,
			  double dval, const char *xlabel, double xval, double max_value,
			  const char *target)
{
	struct line *l = line_new(row, what, unit, dlabel, dval, xlabel, xval);

	snprintf(l->target, sizeof(l->target), "%s", target);
	l->verdict = dval <= max_value ? VERDICT_MET : VERDICT_MISSED;
}

static void line_note(struct line *l, const char *target)
{
	snprintf(l->target, sizeof(l->target), "%s", target);
}

static void format_value(char *buf, size_t len, enum unit unit, double v)
{
	if (isnan(v)) {
		snprintf(buf, len, "-");
		return;
	}
	switch (unit) {
	case UNIT_TIME:
		if (v < 10e3)
			snprintf(buf, len, "%.2f us", v / 1e3);
		else if (v < 10e6)
			snprintf(buf, len, "%.1f us", v / 1e3);
		else if (v < 10e9)
			snprintf(buf, len, "%.1f ms", v / 1e6);
		else
			snprintf(buf, len, "%.2f s", v / 1e9);
		break;
	case UNIT_RATE:
		snprintf(buf, len, "%.0f/s", v);
		break;
	case UNIT_KIB:
		snprintf(buf, len, "%.1f KiB", v);
		break;
	case UNIT_BYTES:
		snprintf(buf, len, "%.0f B", v);
		break;
	}
}

static const char *verdict_name(enum verdict v)
{
	return v == VERDICT_MET ? "met" : v == VERDICT_MISSED ? "MISSED" : "-";
}

static void print_table(void)
{
	char d[32], x[32], cell_d[48], cell_x[48], ratio[16];

	printf("\n%-3s %-40s %-20s %-20s %8s  %-14s %s\n", "row", "measure", "daemon path",
	       "direct path", "ratio", "target", "status");
	for (size_t i = 0; i < nlines; i++) {
		const struct line *l = &lines[i];

		if (i && lines[i - 1].row != l->row)
			printf("\n");
		format_value(d, sizeof(d), l->unit, l->dval);
		format_value(x, sizeof(x), l->unit, l->xval);
		snprintf(cell_d, sizeof(cell_d), "%-6s %s", l->dlabel, d);
		if (l->xlabel[0])
			snprintf(cell_x, sizeof(cell_x), "%-6s %s", l->xlabel, x);
		else
			snprintf(cell_x, sizeof(cell_x), "-");
		if (isnan(l->ratio))
			snprintf(ratio, sizeof(ratio), "-");
		else
			snprintf(ratio, sizeof(ratio), "%.2fx", l->ratio);
		printf("%-3c %-40s %-20s %-20s %8s  %-14s %s\n", l->row, l->what, cell_d, cell_x,
		       ratio, l->target, verdict_name(l->verdict));
	}
	printf("\nratio: daemon / direct for times and memory, direct / daemon for rates "
	       "(above 1: the daemon's path costs more)\n");
}

static void lines_to_json(void)
{
	for (size_t i = 0; i < nlines; i++) {
		const struct line *l = &lines[i];
		struct json_object *o = json_object_new_object();
		char row[2] = { l->row, 0 };

		if (!o)
			die("out of memory (JSON)");
		jput(o, "row", json_object_new_string(row));
		jput(o, "measure", json_object_new_string(l->what));
		jput(o, "unit", json_object_new_string(unit_name(l->unit)));
		jput(o, "daemon_label", json_object_new_string(l->dlabel));
		if (isnan(l->dval))
			jput_null(o, "daemon");
		else
			jput(o, "daemon", json_object_new_double(l->dval));
		if (l->xlabel[0]) {
			jput(o, "direct_label", json_object_new_string(l->xlabel));
			if (isnan(l->xval))
				jput_null(o, "direct");
			else
				jput(o, "direct", json_object_new_double(l->xval));
		}
		if (!isnan(l->ratio))
			jput(o, "ratio", json_object_new_double(l->ratio));
		jput(o, "target", json_object_new_string(l->target));
		jput(o, "status", json_object_new_string(l->verdict == VERDICT_MET ? "met"
							 : l->verdict == VERDICT_MISSED ? "missed"
											 : "info"));
		if (json_object_array_add(jlines, o) < 0)
			die("out of memory (JSON)");
	}
}

/* --- small helpers --- */

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* VmRSS of a process in KiB (pid 0: this one). */
static uint64_t vm_rss_kib(pid_t pid)
{
	char path[64], line[256];
	uint64_t kib = 0;
	bool found = false;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %" SCNu64, &kib) == 1) {
			found = true;
			break;
		}
	fclose(f);
	if (!found)
		die("no VmRSS in %s", path);
	return kib;
}

static sd_bus *connect_private(void)
{
	const char *path = getenv("VIOMMU_SOCKET");
	char address[256];
	sd_bus *bus = NULL;

	snprintf(address, sizeof(address), "unix:path=%s", path);
	MUST(sd_bus_new(&bus));
	MUST(sd_bus_set_address(bus, address));
	MUST(sd_bus_negotiate_fds(bus, 1));
	MUST(sd_bus_start(bus));
	return bus;
}

/* The no-op call of rows a and g. */
static void ping(sd_bus *bus, const char *destination)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, destination, VC_ROOT, PEER_IFACE, "Ping");
	if (r >= 0)
		r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
	if (r < 0)
		die("Peer.Ping%s%s: %s (%s)", destination ? " to " : "",
		    destination ? destination : "", error.name ? error.name : strerror(-r),
		    error.message ? error.message : "");
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
}

/* The size of the daemon's state file ($VIOMMUD_STATE, from run-daemon),
 * which it rewrites before and after every call that changes state; -1 when
 * unknown. */
/* The state on disk: the manifest and every VM's file (state.json.d). */
static long long state_file_bytes(void)
{
	const char *path = getenv("VIOMMUD_STATE");
	char dir[512], file[1024];
	long long total;
	struct dirent *e;
	struct stat st;
	DIR *dp;

	if (!path || stat(path, &st) < 0)
		return -1;
	total = (long long)st.st_size;
	snprintf(dir, sizeof(dir), "%s.d", path);
	dp = opendir(dir);
	while (dp && (e = readdir(dp))) {
		snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
		if (e->d_name[0] != '.' && stat(file, &st) == 0)
			total += (long long)st.st_size;
	}
	if (dp)
		closedir(dp);
	return total;
}

static long long state_bytes_d = -1, state_bytes_f = -1;

static char *str_dup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		die("out of memory");
	return d;
}

static char *mock_path(int i)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/device/selftest%d", VC_ROOT, i);
	return str_dup(path);
}

/* The iommufd device ID of a device in a VM, from Describe. */
static uint32_t describe_dev_id(const char *vm, const char *dev)
{
	struct json_object *root = vc_describe_json(&c), *o;
	uint64_t id;

	if (!root)
		die("Describe: %s (%s)", vc_error_name(&c), vc_error_message(&c));
	o = vc_json_by_path(root, "vms", vm);
	MUST_TRUE(o);
	o = vc_json_by_path(o, "devices", dev);
	MUST_TRUE(o);
	id = vc_json_u64(o, "dev_id");
	json_object_put(root);
	MUST_TRUE(id != 0 && id <= UINT32_MAX);
	return (uint32_t)id;
}

static char *create_vm(const char *name)
{
	char *vm = NULL;

	MUST_DBUS(vc_create_vm(&c, name, &vm));
	return vm;
}

/* A vIOMMU of the selftest type in vm, the device's vDEVICE and a nested
 * domain the device is attached to. */
struct nested {
	char *vm, *dev, *viommu, *vdev, *domain;
	int iommufd; /* from GetIommufd */
	uint32_t dev_id, viommu_kid, domain_kid;
};

static void nested_setup(struct nested *n, const char *name, int device)
{
	const struct kabi_iommu_hwpt_selftest data = { .iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT };

	memset(n, 0, sizeof(*n));
	n->vm = create_vm(name);
	n->dev = mock_path(device);
	MUST_DBUS(vc_attach_device(&c, n->vm, n->dev));
	MUST_DBUS(vc_create_viommu(&c, n->vm, "selftest", &n->viommu));
	MUST_DBUS(vc_add_device(&c, n->viommu, n->dev, VIRT_ID, &n->vdev));
	MUST_DBUS(vc_alloc_domain(&c, n->viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST, &data,
				  sizeof(data), &n->domain));
	MUST_DBUS(vc_domain_attach(&c, n->domain, n->dev));
	MUST_DBUS(vc_get_fd(&c, n->vm, NULL, &n->iommufd));
	MUST_DBUS(vc_get_u32(&c, n->viommu, VC_VIOMMU, "KernelId", &n->viommu_kid));
	MUST_DBUS(vc_get_u32(&c, n->domain, VC_DOMAIN, "KernelId", &n->domain_kid));
	n->dev_id = describe_dev_id(n->vm, n->dev);
}

static void nested_teardown(struct nested *n)
{
	MUST_DBUS(vc_destroy(&c, n->vm, VC_VM));
	MUST(close(n->iommufd) == 0 ? 0 : -errno);
	free(n->vm);
	free(n->dev);
	free(n->viommu);
	free(n->vdev);
	free(n->domain);
}

/* --- row a: the no-op call --- */

/*
 * The bytes of one Ping call and of its reply on the private socket: a relay
 * thread between an sd-bus connection (one end of a socketpair) and the
 * daemon's socket counts them. Measured after the authentication and a first
 * call, over several calls; every call and reply has the same size (the
 * serial is a fixed-size field).
 */
struct relay {
	int client, daemon;
	atomic_uint_fast64_t up, down;
};

static void *relay_thread(void *arg)
{
	struct relay *rl = arg;
	uint8_t buf[65536];

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = rl->client, .events = POLLIN },
			{ .fd = rl->daemon, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0)
				goto out;
			/* Counted before it is passed on: the reader sees the count. */
			atomic_fetch_add(i == 0 ? &rl->up : &rl->down, (uint_fast64_t)n);
			if (write_full(p[1 - i].fd, buf, (size_t)n) < 0)
				goto out;
		}
	}
out:
	close(rl->daemon);
	return NULL;
}

static void measure_ping_bytes(size_t *out_call, size_t *out_reply)
{
	const char *path = getenv("VIOMMU_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct relay rl = { .client = -1, .daemon = -1 };
	uint64_t up0, down0, up, down;
	const int calls = 16;
	sd_bus *bus = NULL;
	pthread_t thread;
	int sp[2];

	MUST(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0 ? 0 : -errno);
	rl.client = sp[1];
	rl.daemon = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	MUST(rl.daemon >= 0 ? 0 : -errno);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	MUST(connect(rl.daemon, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno);
	atomic_init(&rl.up, 0);
	atomic_init(&rl.down, 0);
	MUST(-pthread_create(&thread, NULL, relay_thread, &rl));

	MUST(sd_bus_new(&bus));
	MUST(sd_bus_set_fd(bus, sp[0], sp[0]));
	MUST(sd_bus_negotiate_fds(bus, 1));
	MUST(sd_bus_start(bus));
	ping(bus, NULL); /* authenticates */
	up0 = atomic_load(&rl.up);
	down0 = atomic_load(&rl.down);
	for (int i = 0; i < calls; i++)
		ping(bus, NULL);
	up = atomic_load(&rl.up) - up0;
	down = atomic_load(&rl.down) - down0;
	sd_bus_flush_close_unref(bus); /* closes sp[0]: the relay ends */
	pthread_join(thread, NULL);
	close(sp[1]);
	if (up % calls || down % calls || !up || !down)
		die("Ping sizes vary: %llu bytes up, %llu down over %d calls",
		    (unsigned long long)up, (unsigned long long)down, calls);
	*out_call = up / calls;
	*out_reply = down / calls;
}

/* The raw twin: a process that answers each request of req bytes with
 * reply bytes, on a listening AF_UNIX socket (abstract name). */
struct raw_server {
	pid_t pid;
	struct sockaddr_un addr;
	socklen_t addr_len;
	size_t req, reply;
};

static void raw_server_start(struct raw_server *s, size_t req, size_t reply)
{
	int lfd;

	memset(s, 0, sizeof(*s));
	s->req = req;
	s->reply = reply;
	s->addr.sun_family = AF_UNIX;
	/* Abstract: sun_path[0] is NUL. */
	snprintf(s->addr.sun_path + 1, sizeof(s->addr.sun_path) - 1, "viommu-bench-raw-%d",
		 (int)getpid());
	s->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				  strlen(s->addr.sun_path + 1));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	MUST(lfd >= 0 ? 0 : -errno);
	MUST(bind(lfd, (struct sockaddr *)&s->addr, s->addr_len) == 0 ? 0 : -errno);
	MUST(listen(lfd, 128) == 0 ? 0 : -errno);
	fflush(stdout);
	s->pid = fork();
	MUST(s->pid >= 0 ? 0 : -errno);
	if (s->pid == 0) {
		uint8_t *buf = calloc(1, req > reply ? req : reply);

		if (!buf)
			_exit(1);
		for (;;) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			while (read_full(fd, buf, req) == 0)
				if (write_full(fd, buf, reply) < 0)
					break;
			close(fd);
		}
	}
	close(lfd);
}

static int raw_connect(const struct raw_server *s)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	MUST(fd >= 0 ? 0 : -errno);
	MUST(connect(fd, (const struct sockaddr *)&s->addr, s->addr_len) == 0 ? 0 : -errno);
	return fd;
}

static void raw_call(const struct raw_server *s, int fd, uint8_t *buf)
{
	MUST(write_full(fd, buf, s->req));
	MUST(read_full(fd, buf, s->reply));
}

static void raw_server_stop(struct raw_server *s)
{
	int status;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

/* The minimal sd-bus twin: a process serving peer-to-peer D-Bus with no
 * object at all (sd-bus answers Peer.Ping itself), one connection at a time,
 * as viommud's private socket does but without viommud. */
static void sdbus_server_serve(int fd)
{
	sd_bus *bus = NULL;
	sd_id128_t id;
	int r = sd_id128_randomize(&id);

	if (r >= 0)
		r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_fd(bus, fd, fd);
	if (r >= 0)
		r = sd_bus_set_server(bus, 1, id);
	if (r >= 0)
		r = sd_bus_negotiate_fds(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	while (r >= 0) {
		r = sd_bus_process(bus, NULL);
		if (r == 0)
			r = sd_bus_wait(bus, UINT64_MAX);
	}
	if (bus)
		sd_bus_flush_close_unref(bus);
	else
		close(fd);
}

static void sdbus_server_start(struct raw_server *s)
{
	int lfd;

	memset(s, 0, sizeof(*s));
	s->addr.sun_family = AF_UNIX;
	snprintf(s->addr.sun_path + 1, sizeof(s->addr.sun_path) - 1, "viommu-bench-sdbus-%d",
		 (int)getpid());
	s->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				  strlen(s->addr.sun_path + 1));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	MUST(lfd >= 0 ? 0 : -errno);
	MUST(bind(lfd, (struct sockaddr *)&s->addr, s->addr_len) == 0 ? 0 : -errno);
	MUST(listen(lfd, 128) == 0 ? 0 : -errno);
	fflush(stdout);
	s->pid = fork();
	MUST(s->pid >= 0 ? 0 : -errno);
	if (s->pid == 0) {
		for (;;) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0 && errno == EINTR)
				continue;
			if (fd < 0)
				_exit(1);
			sdbus_server_serve(fd);
		}
	}
	close(lfd);
}

/* A client connection to the minimal sd-bus twin. */
static sd_bus *connect_sdbus_twin(const struct raw_server *s)
{
	sd_bus *bus = NULL;
	int fd = raw_connect(s);

	MUST(sd_bus_new(&bus));
	MUST(sd_bus_set_fd(bus, fd, fd));
	MUST(sd_bus_negotiate_fds(bus, 1));
	MUST(sd_bus_start(bus));
	return bus;
}

static struct raw_server raw, twin;
static uint8_t raw_buf[4096];

static void row_a(void)
{
	const int warm = quick ? 50 : 300, iters = quick ? 400 : 3000, chunk = 100;
	struct samples p2p = { 0 }, rawt = { 0 }, bus = { 0 }, mini = { 0 };
	struct stats sp, sr, sb, sm;
	struct vc sys = { 0 };
	bool have_bus = getenv("DBUS_SYSTEM_BUS_ADDRESS") != NULL;
	struct json_object *j = jrow('a');
	sd_bus *twin_bus = connect_sdbus_twin(&twin);
	int fd;

	progress("a: Peer.Ping over the private socket, a raw AF_UNIX twin%s",
		 have_bus ? " and the system bus" : " (no system bus: run-daemon --bus system)");
	fd = raw_connect(&raw);
	if (have_bus) {
		int r = vc_connect_system(&sys);

		if (r < 0)
			die("cannot connect to the system bus: %s", strerror(-r));
	}
	for (int i = 0; i < warm; i++) {
		ping(c.bus, NULL);
		raw_call(&raw, fd, raw_buf);
		ping(twin_bus, NULL);
		if (have_bus)
			ping(sys.bus, VC_BUS_NAME);
	}
	for (int done = 0; done < iters; done += chunk) {
		for (int i = 0; i < chunk; i++) {
			uint64_t t0 = now_ns();

			ping(c.bus, NULL);
			samples_add(&p2p, now_ns() - t0);
		}
		for (int i = 0; i < chunk; i++) {
			uint64_t t0 = now_ns();

			raw_call(&raw, fd, raw_buf);
			samples_add(&rawt, now_ns() - t0);
		}
		for (int i = 0; i < chunk; i++) {
			uint64_t t0 = now_ns();

			ping(twin_bus, NULL);
			samples_add(&mini, now_ns() - t0);
		}
		for (int i = 0; have_bus && i < chunk; i++) {
			uint64_t t0 = now_ns();

			ping(sys.bus, VC_BUS_NAME);
			samples_add(&bus, now_ns() - t0);
		}
	}
	close(fd);
	sd_bus_flush_close_unref(twin_bus);
	sp = stats_of(&p2p);
	sr = stats_of(&rawt);
	sm = stats_of(&mini);
	line_ratio('a', "Peer.Ping p50, private socket vs raw", UNIT_TIME, "p2p", sp.p50, "raw",
		   sr.p50, 1.6);
	line_ratio('a', "Peer.Ping p50, private socket vs sd-bus", UNIT_TIME, "p2p", sp.p50,
		   "sd-bus", sm.p50, 1.05);
	line_ratio('a', "Peer.Ping p50, sd-bus vs raw", UNIT_TIME, "sd-bus", sm.p50, "raw",
		   sr.p50, NAN);
	line_ratio('a', "Peer.Ping p99, private socket vs raw", UNIT_TIME, "p2p", sp.p99, "raw",
		   sr.p99, NAN);
	line_ratio('a', "Peer.Ping calls/s, private socket vs raw", UNIT_RATE, "p2p", sp.per_sec,
		   "raw", sr.per_sec, NAN);
	jput(j, "p2p", jstats(&sp));
	jput(j, "raw", jstats(&sr));
	jput(j, "sdbus", jstats(&sm));
	if (have_bus) {
		sb = stats_of(&bus);
		line_ratio('a', "Peer.Ping p50, system bus vs raw", UNIT_TIME, "bus", sb.p50, "raw",
			   sr.p50, NAN);
		line_ratio('a', "Peer.Ping p99, system bus vs raw", UNIT_TIME, "bus", sb.p99, "raw",
			   sr.p99, NAN);
		line_ratio('a', "Peer.Ping calls/s, system bus vs raw", UNIT_RATE, "bus", sb.per_sec,
			   "raw", sr.per_sec, NAN);
		jput(j, "system_bus", jstats(&sb));
		vc_close(&sys);
	} else {
		line_new('a', "Peer.Ping p50, system bus (not run)", UNIT_TIME, "bus", NAN, NULL, NAN);
		jput_null(j, "system_bus");
	}
	jput(j, "call_bytes", json_object_new_uint64(raw.req));
	jput(j, "reply_bytes", json_object_new_uint64(raw.reply));
	jput(j, "iterations", json_object_new_int(iters));
	samples_free(&p2p);
	samples_free(&rawt);
	samples_free(&bus);
	samples_free(&mini);
}

/* --- row b: batched invalidation --- */

static void row_b(void)
{
	const int warm = quick ? 20 : 100, iters = quick ? 100 : 600, chunk = 50;
	static const uint32_t counts[] = { 1, 16, 256 };
	struct kabi_iommu_hwpt_invalidate_selftest hwpt_inv[256];
	struct kabi_iommu_viommu_invalidate_selftest viommu_inv[256];
	struct json_object *j = jrow('b');
	struct nested n;

	progress("b: Domain.Invalidate and Viommu.Invalidate against IOMMU_HWPT_INVALIDATE on "
		 "the handed-out iommufd");
	nested_setup(&n, "bench-b", 0);
	for (uint32_t i = 0; i < 256; i++) {
		hwpt_inv[i] = (struct kabi_iommu_hwpt_invalidate_selftest){
			.iotlb_id = i % (KABI_MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1),
		};
		viommu_inv[i] = (struct kabi_iommu_viommu_invalidate_selftest){
			.vdev_id = VIRT_ID,
			.cache_id = i % (KABI_MOCK_DEV_CACHE_ID_MAX + 1),
		};
	}
	for (int target = 0; target < 2; target++) {
		const bool dom = target == 0;
		const char *path = dom ? n.domain : n.viommu, *iface = dom ? VC_DOMAIN : VC_VIOMMU;
		const uint32_t kid = dom ? n.domain_kid : n.viommu_kid;
		const uint32_t type = dom ? KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST
					  : KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST;
		const void *entries = dom ? (const void *)hwpt_inv : (const void *)viommu_inv;
		const uint32_t entry_len = dom ? sizeof(hwpt_inv[0]) : sizeof(viommu_inv[0]);

		for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
			const uint32_t count = counts[k];
			struct samples sd = { 0 }, sx = { 0 };
			struct stats std, stx;
			char what[64], key[32];

			for (int i = 0; i < warm + iters; i += chunk) {
				for (int m = 0; m < chunk; m++) {
					uint32_t handled = 0, left = count;
					int32_t err = -1;
					uint64_t t0 = now_ns(), t1;

					MUST_DBUS(vc_invalidate(&c, path, iface, type, entry_len, entries,
								(size_t)count * entry_len, &handled,
								&err));
					t1 = now_ns();
					if (handled != count || err != 0)
						die("%s.Invalidate of %u entries: handled %u, error %d",
						    iface, count, handled, err);
					if (i >= warm)
						samples_add(&sd, t1 - t0);
					t0 = now_ns();
					MUST(iommufd_hwpt_invalidate(n.iommufd, kid, type, entries,
								     entry_len, &left));
					t1 = now_ns();
					if (left != count)
						die("IOMMU_HWPT_INVALIDATE of %u entries handled %u",
						    count, left);
					if (i >= warm)
						samples_add(&sx, t1 - t0);
				}
			}
			std = stats_of(&sd);
			stx = stats_of(&sx);
			snprintf(what, sizeof(what), "%s.Invalidate %u entr%s p50",
				 dom ? "Domain" : "Viommu", count, count == 1 ? "y" : "ies");
			line_ratio('b', what, UNIT_TIME, "dbus", std.p50, "ioctl", stx.p50, NAN);
			line_note(&lines[nlines - 1], "ioctl=fastpath");
			snprintf(key, sizeof(key), "%s_%u", dom ? "domain" : "viommu", count);
			struct json_object *o = json_object_new_object();

			jput(o, "daemon", jstats(&std));
			jput(o, "direct_ioctl", jstats(&stx));
			jput(j, key, o);
			samples_free(&sd);
			samples_free(&sx);
		}
	}
	nested_teardown(&n);
}

/* --- row c: MapMemory of 1 GiB --- */

/* Our own context with the daemon's setup of a managed VM with one mock
 * device: IOAS, the device on it, a nesting parent, the device on that. */
struct direct_vm {
	int fd;
	uint32_t ioas, parent;
	struct mock_device md;
};

static void direct_vm_open(struct direct_vm *v)
{
	struct iommufd_hwpt_alloc_args args = { .flags = KABI_IOMMU_HWPT_ALLOC_NEST_PARENT };
	uint32_t pt;

	v->fd = iommufd_open();
	MUST(v->fd);
	MUST(iommufd_ioas_alloc(v->fd, &v->ioas));
	MUST(mock_device_create(v->fd, v->ioas, 0, &v->md));
	args.dev_id = v->md.idev_id;
	args.pt_id = v->ioas;
	MUST(iommufd_hwpt_alloc(v->fd, &args, &v->parent));
	pt = v->parent;
	MUST(mock_device_replace(v->fd, v->md.stdev_id, &pt));
}

static void row_c(void)
{
	const uint64_t size = quick ? 64 * MIB : 1 * GIB;
	const uint64_t iova = KABI_MOCK_APERTURE_START;
	const int warm = 1, iters = quick ? 3 : 8;
	struct samples dmap = { 0 }, dunmap = { 0 }, xmap = { 0 }, xunmap = { 0 };
	struct stats s1, s2, s3, s4;
	struct json_object *j = jrow('c');
	struct direct_vm dv;
	char *vm, *dev, what[64];
	uint8_t *view;
	int memfd;

	progress("c: MapMemory of a %llu MiB memfd against IOMMU_IOAS_MAP_FILE, and unmap",
		 (unsigned long long)(size / MIB));
	memfd = memfd_create("bench-guest-ram", MFD_CLOEXEC);
	MUST(memfd >= 0 ? 0 : -errno);
	MUST(ftruncate(memfd, (off_t)size) == 0 && fallocate(memfd, 0, 0, (off_t)size) == 0 ? 0 : -errno);
	/* Every page exists before either side pins it. */
	MUST(fallocate(memfd, 0, 0, (off_t)size) == 0 ? 0 : -errno);
	view = mmap(NULL, 64 * KIB, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	MUST_TRUE(view != MAP_FAILED);

	vm = create_vm("bench-c");
	dev = mock_path(0);
	MUST_DBUS(vc_attach_device(&c, vm, dev));
	direct_vm_open(&dv);

	/* Daemon first on even rounds, direct first on odd ones. */
	for (int i = 0; i < 2 * (warm + iters); i++) {
		const bool daemon_side = (i % 2) == ((i / 2) % 2);
		const bool measured = i / 2 >= warm;
		uint64_t t0, t1, unmapped = 0, got = iova;

		if (daemon_side) {
			t0 = now_ns();
			MUST_DBUS(vc_map_memory(&c, vm, memfd, 0, size, iova, RW));
			t1 = now_ns();
			if (measured)
				samples_add(&dmap, t1 - t0);
			/* The daemon's mapping pins the pages once. */
			MUST(mock_check_refs(dv.fd, view, 64 * KIB, 1));
			t0 = now_ns();
			MUST_DBUS(vc_unmap_memory(&c, vm, iova, size, &unmapped));
			t1 = now_ns();
			MUST_TRUE(unmapped == size);
			if (measured)
				samples_add(&dunmap, t1 - t0);
		} else {
			t0 = now_ns();
			MUST(iommufd_ioas_map_file(dv.fd, dv.ioas, RW | KABI_IOMMU_IOAS_MAP_FIXED_IOVA,
						   memfd, 0, size, &got));
			t1 = now_ns();
			if (measured)
				samples_add(&xmap, t1 - t0);
			MUST(mock_check_refs(dv.fd, view, 64 * KIB, 1));
			t0 = now_ns();
			MUST(iommufd_ioas_unmap(dv.fd, dv.ioas, iova, size, &unmapped));
			t1 = now_ns();
			MUST_TRUE(unmapped == size);
			if (measured)
				samples_add(&xunmap, t1 - t0);
		}
		MUST(mock_check_refs(dv.fd, view, 64 * KIB, 0));
	}
	s1 = stats_of(&dmap);
	s2 = stats_of(&xmap);
	s3 = stats_of(&dunmap);
	s4 = stats_of(&xunmap);
	snprintf(what, sizeof(what), "MapMemory %llu MiB p50", (unsigned long long)(size / MIB));
	line_ratio('c', what, UNIT_TIME, "dbus", s1.p50, "ioctl", s2.p50, 1.05);
	snprintf(what, sizeof(what), "UnmapMemory %llu MiB p50", (unsigned long long)(size / MIB));
	line_ratio('c', what, UNIT_TIME, "dbus", s3.p50, "ioctl", s4.p50, 1.05);
	jput(j, "bytes", json_object_new_uint64(size));
	jput(j, "map_daemon", jstats(&s1));
	jput(j, "map_direct", jstats(&s2));
	jput(j, "unmap_daemon", jstats(&s3));
	jput(j, "unmap_direct", jstats(&s4));

	MUST_DBUS(vc_destroy(&c, vm, VC_VM));
	free(vm);
	free(dev);
	MUST(close(dv.fd) == 0 ? 0 : -errno);
	munmap(view, 64 * KIB);
	close(memfd);
	samples_free(&dmap);
	samples_free(&dunmap);
	samples_free(&xmap);
	samples_free(&xunmap);
}

/* --- row d: a VM with 64 mock devices, nested --- */

static char *dev_paths[MOCK_DEVICES];

/* Through the daemon: what a VMM calls. Returns the VM's path. */
static char *daemon_vm_setup(int ndev)
{
	const struct kabi_iommu_hwpt_selftest data = { .iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT };
	char *vm, *viommu = NULL;

	vm = create_vm("bench-d");
	for (int i = 0; i < ndev; i++)
		MUST_DBUS(vc_attach_device(&c, vm, dev_paths[i]));
	MUST_DBUS(vc_create_viommu(&c, vm, "selftest", &viommu));
	for (int i = 0; i < ndev; i++) {
		char *vdev = NULL, *dom = NULL;

		MUST_DBUS(vc_add_device(&c, viommu, dev_paths[i], VIRT_ID + (uint64_t)i, &vdev));
		MUST_DBUS(vc_alloc_domain(&c, viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST, &data,
					  sizeof(data), &dom));
		MUST_DBUS(vc_domain_attach(&c, dom, dev_paths[i]));
		free(vdev);
		free(dom);
	}
	free(viommu);
	return vm;
}

/* The same through the batched calls: AttachDevices and NestDevices. */
static char *daemon_vm_setup_batched(int ndev)
{
	const struct kabi_iommu_hwpt_selftest data = { .iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT };
	sd_bus_message *m = NULL;
	char *vm, *viommu = NULL;
	int r;

	vm = create_vm("bench-d");
	r = sd_bus_message_new_method_call(c.bus, &m, c.destination, vm, VC_VM, "AttachDevices");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "o");
	for (int i = 0; r >= 0 && i < ndev; i++)
		r = sd_bus_message_append(m, "o", dev_paths[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	MUST(r);
	MUST_DBUS(vc_call_message(&c, m, NULL));
	sd_bus_message_unref(m);
	MUST_DBUS(vc_create_viommu(&c, vm, "selftest", &viommu));
	r = sd_bus_message_new_method_call(c.bus, &m, c.destination, viommu, VC_VIOMMU,
					   "NestDevices");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(ot)");
	for (int i = 0; r >= 0 && i < ndev; i++)
		r = sd_bus_message_append(m, "(ot)", dev_paths[i], VIRT_ID + (uint64_t)i);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "u", KABI_IOMMU_HWPT_DATA_SELFTEST);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', &data, sizeof(data));
	MUST(r);
	MUST_DBUS(vc_call_message(&c, m, NULL));
	sd_bus_message_unref(m);
	free(viommu);
	return vm;
}

struct direct_setup {
	int fd;
	uint32_t ioas, parent, viommu;
	struct mock_device md[MOCK_DEVICES];
	uint32_t vdev[MOCK_DEVICES], nested[MOCK_DEVICES];
	int ndev;
};

/* The ioctls the daemon issues for the same calls, in its order. */
static void direct_vm_setup(struct direct_setup *s, int ndev)
{
	const struct kabi_iommu_hwpt_selftest data = { .iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT };
	struct iommufd_iova_range ranges[8];
	struct iommufd_hw_info info;
	uint8_t hw[256];
	uint32_t count;

	memset(s, 0, sizeof(*s));
	s->ndev = ndev;
	/* CreateVm */
	s->fd = iommufd_open();
	MUST(s->fd);
	MUST(iommufd_ioas_alloc(s->fd, &s->ioas));
	count = 8;
	MUST(iommufd_ioas_iova_ranges(s->fd, s->ioas, ranges, &count, NULL));
	/* AttachDevice: the mock device, the parent with the first, the
	 * device onto it, its hardware info, the IOVA ranges again. */
	for (int i = 0; i < ndev; i++) {
		uint32_t pt;

		MUST(mock_device_create(s->fd, s->ioas, 0, &s->md[i]));
		if (i == 0) {
			struct iommufd_hwpt_alloc_args args = {
				.dev_id = s->md[0].idev_id,
				.pt_id = s->ioas,
				.flags = KABI_IOMMU_HWPT_ALLOC_NEST_PARENT,
			};

			MUST(iommufd_hwpt_alloc(s->fd, &args, &s->parent));
		}
		pt = s->parent;
		MUST(mock_device_replace(s->fd, s->md[i].stdev_id, &pt));
		MUST(iommufd_get_hw_info(s->fd, s->md[i].idev_id, 0, hw, sizeof(hw), &info));
		count = 8;
		MUST(iommufd_ioas_iova_ranges(s->fd, s->ioas, ranges, &count, NULL));
	}
	/* CreateViommu, on the most recently attached device */
	struct iommufd_viommu_alloc_args vargs = {
		.type = KABI_IOMMU_VIOMMU_TYPE_SELFTEST,
		.dev_id = s->md[ndev - 1].idev_id,
		.hwpt_id = s->parent,
	};
	MUST(iommufd_viommu_alloc(s->fd, &vargs, &s->viommu));
	/* AddDevice, AllocDomain (the first device of the vendor), Domain.Attach */
	for (int i = 0; i < ndev; i++) {
		struct iommufd_hwpt_alloc_args args = {
			.dev_id = s->md[0].idev_id,
			.pt_id = s->viommu,
			.data_type = KABI_IOMMU_HWPT_DATA_SELFTEST,
			.data = &data,
			.data_len = sizeof(data),
		};
		uint32_t pt;

		MUST(iommufd_vdevice_alloc(s->fd, s->viommu, s->md[i].idev_id, VIRT_ID + (uint64_t)i,
					   &s->vdev[i]));
		MUST(iommufd_hwpt_alloc(s->fd, &args, &s->nested[i]));
		pt = s->nested[i];
		MUST(mock_device_replace(s->fd, s->md[i].stdev_id, &pt));
		MUST_TRUE(pt == s->nested[i]);
	}
}

/* The daemon's teardown order (daemon/teardown.c). */
static void direct_vm_teardown(struct direct_setup *s)
{
	for (int i = 0; i < s->ndev; i++) {
		uint32_t pt = s->parent;

		MUST(mock_device_replace(s->fd, s->md[i].stdev_id, &pt));
	}
	for (int i = 0; i < s->ndev; i++)
		MUST(iommufd_destroy(s->fd, s->nested[i]));
	for (int i = 0; i < s->ndev; i++)
		MUST(iommufd_destroy(s->fd, s->vdev[i]));
	MUST(iommufd_destroy(s->fd, s->viommu));
	for (int i = 0; i < s->ndev; i++)
		MUST(iommufd_destroy(s->fd, s->md[i].stdev_id));
	MUST(iommufd_destroy(s->fd, s->parent));
	MUST(iommufd_ioas_unmap(s->fd, s->ioas, 0, UINT64_MAX, NULL));
	MUST(iommufd_destroy(s->fd, s->ioas));
	MUST(close(s->fd) == 0 ? 0 : -errno);
}

static void row_d(void)
{
	const int ndev = MOCK_DEVICES, warm = quick ? 0 : 1, iters = quick ? 1 : 3;
	struct samples dset = { 0 }, xset = { 0 }, ddown = { 0 }, xdown = { 0 }, bset = { 0 };
	struct json_object *j = jrow('d');
	struct stats s1, s2, s3, s4, s5;
	char **devices = NULL;
	char what[64];

	progress("d: a VM with %d mock devices, each with a vDEVICE and a nested domain", ndev);
	MUST_DBUS(vc_list(&c, "ListDevices", &devices));
	for (int i = 0; i < ndev; i++) {
		dev_paths[i] = mock_path(i);
		if (!vc_strv_contains(devices, dev_paths[i]))
			die("the daemon has no %s: its config needs \"mock_devices\": %d", dev_paths[i],
			    ndev);
	}
	vc_strv_free(devices);

	for (int i = 0; i < warm + iters; i++) {
		struct direct_setup *s = calloc(1, sizeof(*s));
		uint64_t t0, t1;
		char *vm;

		if (!s)
			die("out of memory");
		t0 = now_ns();
		vm = daemon_vm_setup(ndev);
		t1 = now_ns();
		if (i >= warm)
			samples_add(&dset, t1 - t0);
		/* Right: every device on its own nested domain, kernel IDs and all. */
		if (i == warm) {
			struct json_object *root = vc_describe_json(&c), *o, *a;

			MUST_TRUE(root);
			o = vc_json_by_path(root, "vms", vm);
			MUST_TRUE(o);
			MUST_TRUE(json_object_object_get_ex(o, "vdevices", &a) &&
				  json_object_array_length(a) == (size_t)ndev);
			MUST_TRUE(json_object_object_get_ex(o, "domains", &a) &&
				  json_object_array_length(a) == (size_t)ndev);
			MUST_TRUE(json_object_object_get_ex(o, "devices", &a) &&
				  json_object_array_length(a) == (size_t)ndev);
			for (size_t k = 0; k < (size_t)ndev; k++)
				MUST_TRUE(strcmp(vc_json_str(json_object_array_get_idx(a, k), "domain"),
						 "/") != 0);
			json_object_put(root);
			state_bytes_d = state_file_bytes();
			jput(j, "state_file_bytes", json_object_new_int64(state_bytes_d));
		}
		t0 = now_ns();
		MUST_DBUS(vc_destroy(&c, vm, VC_VM));
		t1 = now_ns();
		if (i >= warm)
			samples_add(&ddown, t1 - t0);
		free(vm);

		/* Batched: the same objects in four calls. */
		t0 = now_ns();
		vm = daemon_vm_setup_batched(ndev);
		t1 = now_ns();
		if (i >= warm)
			samples_add(&bset, t1 - t0);
		MUST_DBUS(vc_destroy(&c, vm, VC_VM));
		free(vm);

		t0 = now_ns();
		direct_vm_setup(s, ndev);
		t1 = now_ns();
		if (i >= warm)
			samples_add(&xset, t1 - t0);
		t0 = now_ns();
		direct_vm_teardown(s);
		t1 = now_ns();
		if (i >= warm)
			samples_add(&xdown, t1 - t0);
		free(s);
	}
	s1 = stats_of(&dset);
	s2 = stats_of(&xset);
	s3 = stats_of(&ddown);
	s4 = stats_of(&xdown);
	s5 = stats_of(&bset);
	snprintf(what, sizeof(what), "VM setup, %d nested, batched, p50", ndev);
	line_ratio('d', what, UNIT_TIME, "dbus", s5.p50, "ioctl", s2.p50, 1.5);
	snprintf(what, sizeof(what), "VM setup, %d nested, per call, p50", ndev);
	line_ratio('d', what, UNIT_TIME, "dbus", s1.p50, "ioctl", s2.p50, NAN);
	snprintf(what, sizeof(what), "VM teardown, %d devices, p50", ndev);
	line_ratio('d', what, UNIT_TIME, "dbus", s3.p50, "ioctl", s4.p50, NAN);
	/* Per call: 2 + 4 per device method calls make the setup. */
	line_ratio('d', "setup per D-Bus call (mean)", UNIT_TIME, "dbus",
		   s1.mean / (2.0 + 4.0 * ndev), "ioctl", s2.mean / (2.0 + 4.0 * ndev), NAN);
	jput(j, "devices", json_object_new_int(ndev));
	jput(j, "method_calls", json_object_new_int(2 + 4 * ndev));
	jput(j, "setup_daemon", jstats(&s1));
	jput(j, "setup_daemon_batched", jstats(&s5));
	jput(j, "setup_direct", jstats(&s2));
	jput(j, "teardown_daemon", jstats(&s3));
	jput(j, "teardown_direct", jstats(&s4));
	for (int i = 0; i < ndev; i++) {
		free(dev_paths[i]);
		dev_paths[i] = NULL;
	}
	samples_free(&dset);
	samples_free(&bset);
	samples_free(&xset);
	samples_free(&ddown);
	samples_free(&xdown);
}

/* --- row e: event latency --- */

struct event_wait {
	int seen;
	uint64_t virt_id;
	uint32_t seq, type;
	size_t len;
};

static int on_event(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct event_wait *w = userdata;
	const void *data;

	if (sd_bus_message_read(m, "tu", &w->virt_id, &w->type) < 0 ||
	    sd_bus_message_read_array(m, 'y', &data, &w->len) < 0 ||
	    sd_bus_message_read(m, "u", &w->seq) < 0)
		die("an Event signal that does not read as (tuayu)");
	w->seen++;
	return 0;
}

static int open_event_queue(const char *viommu, bool relay)
{
	sd_bus_message *reply = NULL;
	int fd;

	if (relay)
		MUST_DBUS(vc_call(&c, viommu, VC_VIOMMU, "OpenEventQueue", &reply, "uua{sv}",
				  KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 64u, 1, "relay", "b", 1));
	else
		MUST_DBUS(vc_call(&c, viommu, VC_VIOMMU, "OpenEventQueue", &reply, "uua{sv}",
				  KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 64u, 0));
	MUST(sd_bus_message_read(reply, "h", &fd));
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	MUST(fd >= 0 ? 0 : -errno);
	sd_bus_message_unref(reply);
	return fd;
}

/*
 * The event source: a thread that fires one vEVENT per request, after a pause
 * that lets the client go to sleep first, and stamps the time just before the
 * trigger. So in both paths the client is asleep when the event comes, as a
 * VMM's event loop is: the relay wakes the daemon, which wakes the client;
 * the fast path wakes the client on the vEVENTQ fd.
 */
struct trigger {
	pthread_t thread;
	int go[2]; /* a byte per event; EOF ends the thread */
	int iommufd;
	uint32_t dev_id;
	atomic_uint_fast64_t t0;
	atomic_int err;
};

#define TRIGGER_PAUSE_NS (500 * 1000)

static void *trigger_thread(void *arg)
{
	struct trigger *t = arg;
	char byte;

	while (read(t->go[0], &byte, 1) == 1) {
		struct timespec pause = { 0, TRIGGER_PAUSE_NS };
		int r;

		nanosleep(&pause, NULL);
		atomic_store(&t->t0, now_ns());
		r = mock_trigger_vevent(t->iommufd, t->dev_id);
		if (r < 0)
			atomic_store(&t->err, r);
	}
	return NULL;
}

static void trigger_fire(struct trigger *t, const struct nested *n)
{
	t->iommufd = n->iommufd;
	t->dev_id = n->dev_id;
	atomic_store(&t->t0, 0);
	MUST(write(t->go[1], "e", 1) == 1 ? 0 : -errno);
}

/* The trigger's time stamp, once the event has arrived. */
static uint64_t trigger_t0(struct trigger *t)
{
	uint64_t t0 = atomic_load(&t->t0);

	MUST(atomic_load(&t->err));
	MUST_TRUE(t0 != 0);
	return t0;
}

static void row_e(void)
{
	const int warm = quick ? 20 : 100, iters = quick ? 200 : 2000, chunk = 50;
	struct samples srelay = { 0 }, sfd = { 0 };
	struct json_object *j = jrow('e');
	struct event_wait w = { 0 };
	struct nested relay, direct;
	struct trigger trig = { .go = { -1, -1 } };
	sd_bus_slot *slot = NULL;
	uint32_t last_seq = 0, last_fd_seq = 0;
	bool fd_first = true;
	uint64_t counted = 0, relayed = 0, lost = 0;
	struct stats s1, s2;
	int efd, qfd, total = 0;

	progress("e: a triggered vEVENT to the sleeping client, relayed Event signal against the "
		 "handed-out vEVENTQ fd");
	nested_setup(&relay, "bench-e-relay", 0);
	nested_setup(&direct, "bench-e-fd", 1);
	MUST(sd_bus_match_signal(c.bus, &slot, NULL, relay.viommu, VC_VIOMMU, "Event", on_event,
				 &w));
	efd = open_event_queue(relay.viommu, true);
	qfd = open_event_queue(direct.viommu, false);
	MUST(pipe2(trig.go, O_CLOEXEC) == 0 ? 0 : -errno);
	atomic_init(&trig.t0, 0);
	atomic_init(&trig.err, 0);
	MUST(-pthread_create(&trig.thread, NULL, trigger_thread, &trig));

	for (int i = 0; i < warm + iters; i += chunk) {
		for (int m = 0; m < chunk; m++) {
			const int before = w.seen;
			const uint64_t start = now_ns();
			uint64_t t1;

			trigger_fire(&trig, &relay);
			while (w.seen == before) {
				int r = sd_bus_process(c.bus, NULL);

				MUST(r);
				if (r == 0)
					MUST(sd_bus_wait(c.bus, 10 * 1000 * 1000));
				if (w.seen == before && now_ns() - start > 10 * 1000000000ull)
					die("no Event signal 10 s after the vEVENT");
			}
			t1 = now_ns();
			total++;
			if (w.seen != before + 1 || w.virt_id != VIRT_ID ||
			    w.type != KABI_IOMMU_VEVENTQ_TYPE_SELFTEST ||
			    w.len != sizeof(struct kabi_iommu_viommu_event_selftest) ||
			    (total > 1 && w.seq != last_seq + 1))
				die("Event %d: virt_id 0x%llx type 0x%x len %zu seq %u (last %u)", total,
				    (unsigned long long)w.virt_id, w.type, w.len, w.seq, last_seq);
			last_seq = w.seq;
			if (i >= warm)
				samples_add(&srelay, t1 - trigger_t0(&trig));
		}
		for (int m = 0; m < chunk; m++) {
			struct {
				struct kabi_iommufd_vevent_header hdr;
				struct kabi_iommu_viommu_event_selftest event;
			} rec;
			struct pollfd pfd = { .fd = qfd, .events = POLLIN };
			uint64_t t1;

			trigger_fire(&trig, &direct);
			if (poll(&pfd, 1, 10000) != 1)
				die("no vEVENT on the fd 10 s after the trigger");
			if (read(qfd, &rec, sizeof(rec)) != (ssize_t)sizeof(rec))
				die("short read of a vEVENT: %s", strerror(errno));
			t1 = now_ns();
			if (rec.hdr.flags != 0 || rec.event.virt_id != VIRT_ID ||
			    (!fd_first && rec.hdr.sequence != last_fd_seq + 1))
				die("vEVENT on the fd: flags 0x%x virt_id 0x%x seq %u (last %u)",
				    rec.hdr.flags, rec.event.virt_id, rec.hdr.sequence, last_fd_seq);
			last_fd_seq = rec.hdr.sequence;
			fd_first = false;
			if (i >= warm)
				samples_add(&sfd, t1 - trigger_t0(&trig));
		}
	}
	close(trig.go[1]);
	pthread_join(trig.thread, NULL);
	close(trig.go[0]);
	/* Everything relayed, nothing lost, the eventfd counted each. */
	MUST_TRUE(read(efd, &counted, sizeof(counted)) == (ssize_t)sizeof(counted));
	MUST_TRUE(counted == (uint64_t)total);
	MUST_DBUS(vc_get_u64(&c, relay.viommu, VC_VIOMMU, "EventsRelayed", &relayed));
	MUST_DBUS(vc_get_u64(&c, relay.viommu, VC_VIOMMU, "EventsLost", &lost));
	MUST_TRUE(relayed == (uint64_t)total && lost == 0);

	s1 = stats_of(&srelay);
	s2 = stats_of(&sfd);
	line_ratio('e', "vEVENT to client p50", UNIT_TIME, "relay", s1.p50, "fd", s2.p50, NAN);
	line_ratio('e', "vEVENT to client p99", UNIT_TIME, "relay", s1.p99, "fd", s2.p99, 3.0);
	jput(j, "relay", jstats(&s1));
	jput(j, "fd", jstats(&s2));
	jput(j, "trigger_pause_ns", json_object_new_int(TRIGGER_PAUSE_NS));
	sd_bus_slot_unref(slot);
	close(efd);
	close(qfd);
	nested_teardown(&relay);
	nested_teardown(&direct);
	samples_free(&srelay);
	samples_free(&sfd);
}

/* --- row f: resident memory per idle VM --- */

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static bool wait_no_vms(int seconds)
{
	uint64_t deadline = now_ns() + (uint64_t)seconds * 1000000000ull;

	do {
		char **vms = NULL;
		size_t n;

		MUST_DBUS(vc_list(&c, "ListVms", &vms));
		n = vc_strv_length(vms);
		vc_strv_free(vms);
		if (n == 0)
			return true;
		usleep(50 * 1000);
	} while (now_ns() < deadline);
	return false;
}

static void row_f(pid_t daemon)
{
	/* CreateVm is compared over each pair of steps ending in a hundred:
	 * 901-1000 and 3997-4096 against 2-100. */
	static const int full_steps[] = { 1, 100, 900, 1000, 3996, 4096 },
			 quick_steps[] = { 1, 10, 90, 100, 390, 400 };
	const int *steps = quick ? quick_steps : full_steps;
	const int nsteps = 6, max_vms = steps[nsteps - 1];
	struct json_object *j = jrow('f'), *jsteps = json_object_new_array();
	struct vc idle = { 0 };
	uint64_t base_d, base_x;
	int *fds, made = 0;

	progress("f: the daemon's VmRSS per idle VM and CreateVm, up to %d VMs", max_vms);
	MUST_TRUE(jsteps);
	raise_nofile((rlim_t)max_vms + 256);
	fds = calloc((size_t)max_vms, sizeof(*fds));
	MUST_TRUE(fds);
	/* The VMs belong to a connection of their own: closing it ends them. */
	if (vc_connect(&idle, NULL) < 0)
		die("cannot connect to $VIOMMU_SOCKET");
	MUST(vc_alive(&idle) ? 0 : -EIO);
	/* A first VM made and destroyed, so that the baseline has what any VM
	 * touches once (the code paths, the state file's buffers). */
	{
		char *vm = NULL;

		if (vc_create_vm(&idle, "bench-f-warm", &vm) < 0)
			die("CreateVm: %s (%s)", vc_error_name(&idle), vc_error_message(&idle));
		if (vc_destroy(&idle, vm, VC_VM) < 0)
			die("Destroy: %s (%s)", vc_error_name(&idle), vc_error_message(&idle));
		free(vm);
	}
	base_d = vm_rss_kib(daemon);
	base_x = vm_rss_kib(0);
	for (int k = 0; k < nsteps; k++) {
		struct json_object *o = json_object_new_object();
		uint64_t rss_d, rss_x, t_step = now_ns();
		double per_d, per_x;
		struct samples step_create = { 0 };
		char what[64];

		for (; made < steps[k]; made++) {
			char name[32], *vm = NULL;
			uint64_t t0;
			int r;

			snprintf(name, sizeof(name), "bench-f-%d", made);
			t0 = now_ns();
			r = vc_create_vm(&idle, name, &vm);
			samples_add(&step_create, now_ns() - t0);
			if (r < 0)
				die("CreateVm %d: %s (%s)%s", made, vc_error_name(&idle),
				    vc_error_message(&idle),
				    strstr(vc_error_name(&idle), "Quota")
					    ? "; the config needs a larger quota_vms_per_uid"
					    : "");
			free(vm);
			/* The twin: the same kernel objects, opened here. */
			fds[made] = iommufd_open();
			if (fds[made] < 0)
				die("iommufd %d: %s (RLIMIT_NOFILE?)", made, strerror(-fds[made]));
			uint32_t ioas;

			MUST(iommufd_ioas_alloc(fds[made], &ioas));
		}
		rss_d = vm_rss_kib(daemon);
		rss_x = vm_rss_kib(0);
		per_d = ((double)rss_d - (double)base_d) / steps[k];
		per_x = ((double)rss_x - (double)base_x) / steps[k];
		snprintf(what, sizeof(what), "VmRSS per idle VM at %d VMs", steps[k]);
		line_absolute('f', what, UNIT_KIB, "daemon", per_d, "self", per_x, 64.0,
			      "<= 64 KiB/VM");
		struct stats cs = stats_of(&step_create);

		jput(o, "vms", json_object_new_int(steps[k]));
		jput(o, "daemon_rss_kib", json_object_new_uint64(rss_d));
		jput(o, "daemon_per_vm_kib", json_object_new_double(per_d));
		jput(o, "self_rss_kib", json_object_new_uint64(rss_x));
		jput(o, "self_per_vm_kib", json_object_new_double(per_x));
		jput(o, "create_vm", jstats(&cs));
		jput(o, "step_seconds", json_object_new_double((double)(now_ns() - t_step) / 1e9));
		if (json_object_array_add(jsteps, o) < 0)
			die("out of memory (JSON)");
		samples_free(&step_create);
		/* The state file the daemon rewrites around each call, at this size. */
		state_bytes_f = state_file_bytes();
		jput(o, "state_file_bytes", json_object_new_int64(state_bytes_f));
	}
	jput(j, "baseline_daemon_kib", json_object_new_uint64(base_d));
	jput(j, "baseline_self_kib", json_object_new_uint64(base_x));
	jput(j, "steps", jsteps);

	/* CreateVm late against early: what a commit costs as the VMs grow (a
	 * commit writes the VM it changed, not the model). */
	for (int k = 3; k < nsteps; k += 2) {
		struct json_object *first = json_object_array_get_idx(jsteps, 1);
		struct json_object *last = json_object_array_get_idx(jsteps, (size_t)k);
		struct json_object *cf, *cl, *pf, *pl;
		char what[64];

		if (json_object_object_get_ex(first, "create_vm", &cf) &&
		    json_object_object_get_ex(last, "create_vm", &cl) &&
		    json_object_object_get_ex(cf, "p50_ns", &pf) &&
		    json_object_object_get_ex(cl, "p50_ns", &pl)) {
			snprintf(what, sizeof(what), "CreateVm p50, VMs %d-%d vs %d-%d",
				 steps[k - 1] + 1, steps[k], steps[0] + 1, steps[1]);
			line_ratio('f', what, UNIT_TIME, "late", json_object_get_double(pl), "early",
				   json_object_get_double(pf), 1.2);
		}
	}

	for (int i = 0; i < made; i++)
		close(fds[i]);
	free(fds);
	{
		uint64_t t0 = now_ns();

		vc_close(&idle);
		if (!wait_no_vms(300))
			die("the %d idle VMs were not torn down 300 s after their connection closed",
			    made);
		jput(j, "teardown_on_close_seconds",
		     json_object_new_double((double)(now_ns() - t0) / 1e9));
	}
}

/* --- row g: connect + authenticate + first call --- */

static void row_g(void)
{
	const int warm = quick ? 10 : 50, iters = quick ? 50 : 500, chunk = 25;
	struct samples sd = { 0 }, sx = { 0 }, sm = { 0 };
	struct json_object *j = jrow('g');
	struct stats s1, s2, s3;

	progress("g: connect, authenticate and a first call (Peer.Ping) against a raw connect and "
		 "request/response");
	for (int i = 0; i < warm + iters; i += chunk) {
		for (int m = 0; m < chunk; m++) {
			uint64_t t0 = now_ns(), t1;
			sd_bus *bus = connect_private();

			ping(bus, NULL);
			t1 = now_ns();
			sd_bus_flush_close_unref(bus);
			if (i >= warm)
				samples_add(&sd, t1 - t0);
		}
		for (int m = 0; m < chunk; m++) {
			uint64_t t0 = now_ns(), t1;
			sd_bus *bus = connect_sdbus_twin(&twin);

			ping(bus, NULL);
			t1 = now_ns();
			sd_bus_flush_close_unref(bus);
			if (i >= warm)
				samples_add(&sm, t1 - t0);
		}
		for (int m = 0; m < chunk; m++) {
			uint64_t t0 = now_ns(), t1;
			int fd = raw_connect(&raw);

			raw_call(&raw, fd, raw_buf);
			t1 = now_ns();
			close(fd);
			if (i >= warm)
				samples_add(&sx, t1 - t0);
		}
	}
	s1 = stats_of(&sd);
	s2 = stats_of(&sx);
	s3 = stats_of(&sm);
	line_ratio('g', "connect+auth+Ping p50", UNIT_TIME, "p2p", s1.p50, "raw", s2.p50, NAN);
	line_ratio('g', "connect+auth+Ping p99", UNIT_TIME, "p2p", s1.p99, "raw", s2.p99, NAN);
	line_ratio('g', "connect+auth+Ping p50 vs sd-bus", UNIT_TIME, "p2p", s1.p50, "sd-bus",
		   s3.p50, 1.1);
	jput(j, "daemon", jstats(&s1));
	jput(j, "raw", jstats(&s2));
	jput(j, "sdbus", jstats(&s3));
	samples_free(&sd);
	samples_free(&sx);
	samples_free(&sm);
}

/* --- main --- */

static void usage(FILE *f)
{
	fprintf(f, "usage: viommu-bench [--quick] [--host] [--json PATH|-] [--rows LETTERS]\n"
		   "  --quick        a short run (a few seconds; smaller sizes in rows c and f)\n"
		   "  --host         rows a and g only, against a daemon with no IOMMU (the\n"
		   "                 host's own figures: no TCG in them)\n"
		   "  --json PATH    also write the results as JSON ('-': to stdout, between\n"
		   "                 marker lines)\n"
		   "  --rows abc..   only these rows (default: all, a to g)\n"
		   "Runs against the daemon at $VIOMMU_SOCKET (pid $VIOMMUD_PID); row a also\n"
		   "through the system bus when $DBUS_SYSTEM_BUS_ADDRESS is set.\n");
}

static bool row_selected(const char *rows, char row)
{
	return !rows || strchr(rows, row);
}

int main(int argc, char **argv)
{
	const char *json_path = NULL, *rows = NULL, *pid_text = getenv("VIOMMUD_PID");
	const char *socket_path = getenv("VIOMMU_SOCKET");
	size_t call_bytes = 0, reply_bytes = 0;
	uint64_t t_start = now_ns();
	pid_t daemon;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
		} else if (strcmp(argv[i], "--host") == 0) {
			host = true;
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			json_path = argv[++i];
		} else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
			rows = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!socket_path || !*socket_path || !pid_text || !*pid_text)
		die("VIOMMU_SOCKET and VIOMMUD_PID must be set (run under "
		    "tests/integration/run-daemon)");
	daemon = (pid_t)atoi(pid_text);
	if (daemon <= 0)
		die("VIOMMUD_PID=%s is no pid", pid_text);
	signal(SIGPIPE, SIG_IGN);

	jroot = json_object_new_object();
	jlines = json_object_new_array();
	jdetails = json_object_new_object();
	if (!jroot || !jlines || !jdetails)
		die("out of memory (JSON)");

	if (vc_connect(&c, NULL) < 0)
		die("cannot connect to %s", socket_path);
	MUST(vc_alive(&c) ? 0 : -EIO);
	if (host) {
		if (rows && strspn(rows, "ag") != strlen(rows))
			die("--host runs rows a and g only: the others need an IOMMU");
		rows = rows ? rows : "ag";
	} else {
		int fd = iommufd_open();

		if (fd < 0)
			die("cannot open /dev/iommu: %s", strerror(-fd));
		if (!mock_available(fd))
			die("the kernel has no iommufd selftest (CONFIG_IOMMUFD_TEST)");
		close(fd);
	}
	progress("viommu-bench%s against viommud pid %d at %s", quick ? " --quick" : "",
		 (int)daemon, socket_path);

	/* Row f first: the daemon's heap is then at its smallest, so freed
	 * memory of the other rows cannot hide what the VMs take. */
	if (row_selected(rows, 'f'))
		row_f(daemon);

	measure_ping_bytes(&call_bytes, &reply_bytes);
	progress("a Peer.Ping call is %zu bytes on the private socket, its reply %zu", call_bytes,
		 reply_bytes);
	if (call_bytes > sizeof(raw_buf) || reply_bytes > sizeof(raw_buf))
		die("Ping messages larger than %zu bytes", sizeof(raw_buf));
	raw_server_start(&raw, call_bytes, reply_bytes);
	sdbus_server_start(&twin);

	if (row_selected(rows, 'a'))
		row_a();
	if (row_selected(rows, 'b'))
		row_b();
	if (row_selected(rows, 'c'))
		row_c();
	if (row_selected(rows, 'd'))
		row_d();
	if (row_selected(rows, 'e'))
		row_e();
	if (row_selected(rows, 'g'))
		row_g();
	raw_server_stop(&raw);
	raw_server_stop(&twin);

	/* Nothing of ours is left in the daemon. */
	MUST_TRUE(wait_no_vms(30));
	MUST(vc_alive(&c) ? 0 : -EIO);
	vc_close(&c);

	/* Row f ran first but is shown in order. */
	{
		struct line sorted[LINES_MAX];
		size_t n = 0;

		for (char row = 'a'; row <= 'g'; row++)
			for (size_t i = 0; i < nlines; i++)
				if (lines[i].row == row)
					sorted[n++] = lines[i];
		memcpy(lines, sorted, n * sizeof(lines[0]));
	}
	printf("\nviommu-bench%s: the daemon's path against the direct path, same run",
	       quick ? " --quick (short; row c 64 MiB, row f up to 400 VMs)" : "");
	printf("\n%s: %ld CPU(s); Peer.Ping is %zu bytes, its reply %zu (measured on the private "
	       "socket), and the raw twin moves the same\n",
	       host ? "host, no guest" : "guest", sysconf(_SC_NPROCESSORS_ONLN), call_bytes,
	       reply_bytes);
	print_table();
	{
		size_t met = 0, missed = 0;

		for (size_t i = 0; i < nlines; i++) {
			met += lines[i].verdict == VERDICT_MET;
			missed += lines[i].verdict == VERDICT_MISSED;
		}
		if (state_bytes_d >= 0 || state_bytes_f >= 0)
			printf("the daemon's state file (rewritten after each call that "
			       "changes state): %lld bytes with row d's VM, %lld with row f's VMs\n",
			       state_bytes_d, state_bytes_f);
		printf("targets: %zu met, %zu missed; %.1f s\n", met, missed,
		       (double)(now_ns() - t_start) / 1e9);
	}

	lines_to_json();
	jput(jroot, "program", json_object_new_string("viommu-bench"));
	jput(jroot, "quick", json_object_new_boolean(quick));
	jput(jroot, "guest_cpus", json_object_new_int64(sysconf(_SC_NPROCESSORS_ONLN)));
	jput(jroot, "call_bytes", json_object_new_uint64(call_bytes));
	jput(jroot, "reply_bytes", json_object_new_uint64(reply_bytes));
	jput(jroot, "seconds", json_object_new_double((double)(now_ns() - t_start) / 1e9));
	jput(jroot, "lines", jlines);
	jput(jroot, "details", jdetails);
	if (json_path) {
		const char *text = json_object_to_json_string_ext(jroot, JSON_C_TO_STRING_PRETTY |
									 JSON_C_TO_STRING_NOSLASHESCAPE);

		if (strcmp(json_path, "-") == 0) {
			printf("--- viommu-bench json begin ---\n%s\n--- viommu-bench json end ---\n",
			       text);
		} else {
			FILE *f = fopen(json_path, "we");

			if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0)
				die("cannot write %s: %s", json_path, strerror(errno));
		}
	}
	json_object_put(jroot);
	fflush(stdout);
	return 0;
}
