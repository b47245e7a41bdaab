/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hostile D-Bus call generator (dbus-gen.h). */
#include "dbus-gen.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DG_MAX_IFACES 32
#define DG_MAX_METHODS 48
#define DG_MAX_PROPS 48
#define DG_MAX_PATH_IFACES 12
#define DG_MAX_PATHS 2048
#define DG_MAX_NUMBERS 128
#define DG_MAX_LEARNT 256
#define DG_MAX_STRINGS 64
#define DG_MAX_FDS 32
#define DG_MAX_NODES 4096
/* Per message: values appended and fds passed. */
#define DG_VALUE_BUDGET 4096
#define DG_FD_BUDGET 16
#define DG_SCRATCH (64 * 1024 + 16)

#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"

#define DG_MAX_ARGS 16
#define DG_ARG_NAME_MAX 32
#define DG_MAX_ARG_POOLS 32
#define DG_ARG_POOL 16

struct dg_method {
	char name[DG_NAME_MAX];
	char in[DG_SIGNATURE_MAX];
	char args[DG_MAX_ARGS][DG_ARG_NAME_MAX]; /* the input arguments' names */
	size_t nargs;
};

/* Numbers for the arguments of one name ("iova", "length", ...). */
struct dg_arg_pool {
	char name[DG_ARG_NAME_MAX];
	uint64_t values[DG_ARG_POOL];
	size_t n;
};

struct dg_property {
	char name[DG_NAME_MAX];
	char type[DG_SIGNATURE_MAX];
	bool writable;
};

struct dg_iface {
	char name[DG_NAME_MAX];
	struct dg_method methods[DG_MAX_METHODS];
	size_t nmethods;
	struct dg_property props[DG_MAX_PROPS];
	size_t nprops;
};

struct dg_path {
	char path[DG_PATH_MAX];
	enum dg_path_state state;
	int ifaces[DG_MAX_PATH_IFACES]; /* indexes into dbus_gen.ifaces */
	size_t nifaces;
	bool introspected;
	bool expanded; /* the paths its properties name are known */
};

struct dg_fd {
	int fd;
	bool owned;
	bool valid; /* the right kind for the fd arguments (a guest memfd) */
	char what[32];
};

struct dbus_gen {
	struct dg_iface *ifaces; /* DG_MAX_IFACES of them */
	size_t nifaces;
	struct dg_path *paths; /* DG_MAX_PATHS of them */
	size_t npaths;
	uint64_t numbers[DG_MAX_NUMBERS];
	size_t nnumbers;
	uint64_t learnt[DG_MAX_LEARNT]; /* a ring */
	size_t nlearnt, learnt_next;
	char *strings[DG_MAX_STRINGS];
	size_t nstrings;
	struct dg_fd fds[DG_MAX_FDS];
	size_t nfds;
	void (*pump)(void *userdata);
	void *pump_userdata;
	struct {
		char member[DG_NAME_MAX];
		unsigned int percent;
	} weights[8];
	size_t nweights;
	char *scratch; /* DG_SCRATCH bytes for the values of one message */
	struct dg_arg_pool arg_pools[DG_MAX_ARG_POOLS];
	size_t narg_pools;
};

/* One message being built. */
struct dg_ctx {
	struct dbus_gen *g;
	struct dg_source *s;
	sd_bus_message *m;
	size_t budget;	     /* values left */
	unsigned int fds;    /* fds appended */
	uint64_t last_small; /* the last small integer: byte arrays correlate with it */
	char *scratch;	     /* DG_SCRATCH bytes */
	/* A plausible call: the method's own signature on a live path, values
	 * mostly from the pools, few or no options, valid fds: it gets past the
	 * first checks, so what is behind them is reached too. */
	bool plausible;
	const char *arg; /* the name of the argument being built, when known */
	/* One array at the daemon's 1 MiB quota per message: past twice the
	 * quota the daemon drops the connection at the header (by design, see
	 * viommud(8) SECURITY), which would end the run, not test a reply. */
	bool big_used;
	size_t array_bytes; /* of byte arrays so far: kept under 3/2 MiB */
};

/* ---- the byte source ---- */

void dg_source_bytes(struct dg_source *s, const uint8_t *data, size_t size)
{
	memset(s, 0, sizeof(*s));
	s->data = data;
	s->size = size;
}

void dg_source_seed(struct dg_source *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->prng = true;
	s->state = seed ? seed : UINT64_C(0x9e3779b97f4a7c15);
}

static uint64_t xorshift(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

static uint64_t take(struct dg_source *s, unsigned int bytes)
{
	uint64_t v = 0;

	if (s->prng)
		return xorshift(&s->state);
	for (unsigned int i = 0; i < bytes && s->pos < s->size; i++)
		v |= (uint64_t)s->data[s->pos++] << (8 * i);
	return v;
}

uint64_t dg_u64(struct dg_source *s)
{
	return take(s, 8);
}

uint32_t dg_below(struct dg_source *s, uint32_t n)
{
	unsigned int bytes = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : 4;

	if (n == 0)
		return 0;
	return (uint32_t)(take(s, bytes) % n);
}

bool dg_chance(struct dg_source *s, unsigned int percent)
{
	return dg_below(s, 100) < percent;
}

bool dg_exhausted(const struct dg_source *s)
{
	return !s->prng && s->pos >= s->size;
}

/* ---- the API ---- */

struct dbus_gen *dbus_gen_new(void)
{
	struct dbus_gen *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->ifaces = calloc(DG_MAX_IFACES, sizeof(*g->ifaces));
	g->paths = calloc(DG_MAX_PATHS, sizeof(*g->paths));
	g->scratch = malloc(DG_SCRATCH);
	if (!g->ifaces || !g->paths || !g->scratch) {
		dbus_gen_free(g);
		return NULL;
	}
	return g;
}

void dbus_gen_free(struct dbus_gen *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nfds; i++)
		if (g->fds[i].owned)
			close(g->fds[i].fd);
	for (size_t i = 0; i < g->nstrings; i++)
		free(g->strings[i]);
	free(g->ifaces);
	free(g->paths);
	free(g->scratch);
	free(g);
}

void dbus_gen_set_weight(struct dbus_gen *g, const char *member, unsigned int percent)
{
	size_t i;

	for (i = 0; i < g->nweights; i++)
		if (strcmp(g->weights[i].member, member) == 0)
			break;
	if (i == sizeof(g->weights) / sizeof(g->weights[0]) || strlen(member) >= DG_NAME_MAX)
		return;
	snprintf(g->weights[i].member, DG_NAME_MAX, "%s", member);
	g->weights[i].percent = percent;
	if (i == g->nweights)
		g->nweights++;
}

void dbus_gen_set_pump(struct dbus_gen *g, void (*pump)(void *userdata), void *userdata)
{
	g->pump = pump;
	g->pump_userdata = userdata;
}

static int iface_index(const struct dbus_gen *g, const char *name)
{
	for (size_t i = 0; i < g->nifaces; i++)
		if (strcmp(g->ifaces[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int iface_add(struct dbus_gen *g, const char *name)
{
	int i = iface_index(g, name);

	if (i >= 0)
		return i;
	if (g->nifaces >= DG_MAX_IFACES || strlen(name) >= DG_NAME_MAX)
		return -1;
	snprintf(g->ifaces[g->nifaces].name, DG_NAME_MAX, "%s", name);
	return (int)g->nifaces++;
}

size_t dbus_gen_interface_count(const struct dbus_gen *g)
{
	return g->nifaces;
}

size_t dbus_gen_method_count(const struct dbus_gen *g)
{
	size_t n = 0;

	for (size_t i = 0; i < g->nifaces; i++)
		n += g->ifaces[i].nmethods;
	return n;
}

bool dbus_gen_has_method(const struct dbus_gen *g, const char *iface, const char *member)
{
	int i = iface_index(g, iface);

	for (size_t k = 0; i >= 0 && k < g->ifaces[i].nmethods; k++)
		if (strcmp(g->ifaces[i].methods[k].name, member) == 0)
			return true;
	return false;
}

static bool standard_iface(const char *name)
{
	return strncmp(name, "org.freedesktop.DBus.", 21) == 0;
}

/* ---- paths ---- */

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The interface viommud serves at a path of that shape (org.viommu1(5)). */
static const char *infer_iface(const char *path)
{
	static const struct {
		const char *kind, *iface;
	} kinds[] = {
		{ "viommu", "org.viommu1.Viommu" },	{ "domain", "org.viommu1.Domain" },
		{ "vdevice", "org.viommu1.VDevice" },	{ "hwqueue", "org.viommu1.HwQueue" },
		{ "faultqueue", "org.viommu1.FaultQueue" },
	};
	const char *p;
	size_t n;

	if (strcmp(path, "/org/viommu1") == 0)
		return "org.viommu1.Manager";
	/* One element below the device prefix: its last '/' ends the prefix. */
	if (starts_with(path, "/org/viommu1/device/") &&
	    strrchr(path, '/') - path == (ptrdiff_t)strlen("/org/viommu1/device"))
		return "org.viommu1.Device";
	if (!starts_with(path, "/org/viommu1/vm/"))
		return NULL;
	p = path + 16;
	n = strspn(p, "0123456789");
	if (n == 0)
		return NULL;
	p += n;
	if (!*p)
		return "org.viommu1.Vm";
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t k = strlen(kinds[i].kind);

		if (p[0] == '/' && strncmp(p + 1, kinds[i].kind, k) == 0 && p[1 + k] == '/' &&
		    p[2 + k] && strspn(p + 2 + k, "0123456789") == strlen(p + 2 + k))
			return kinds[i].iface;
	}
	return NULL;
}

/* The interfaces a path would have: the standard ones and its own. */
static void path_infer(const struct dbus_gen *g, struct dg_path *p)
{
	const char *own = infer_iface(p->path);

	p->nifaces = 0;
	for (size_t i = 0; i < g->nifaces && p->nifaces < DG_MAX_PATH_IFACES; i++)
		if (standard_iface(g->ifaces[i].name) ||
		    (own && strcmp(g->ifaces[i].name, own) == 0))
			p->ifaces[p->nifaces++] = (int)i;
}

static struct dg_path *path_find(struct dbus_gen *g, const char *path)
{
	for (size_t i = 0; i < g->npaths; i++)
		if (strcmp(g->paths[i].path, path) == 0)
			return &g->paths[i];
	return NULL;
}

static struct dg_path *path_add(struct dbus_gen *g, const char *path, enum dg_path_state state)
{
	struct dg_path *p = path_find(g, path);

	if (strlen(path) >= DG_PATH_MAX)
		return NULL;
	if (p) {
		p->state = state;
		return p;
	}
	if (g->npaths < DG_MAX_PATHS) {
		p = &g->paths[g->npaths++];
	} else {
		/* Full: a gone or made-up path makes room. */
		for (size_t i = 0; i < g->npaths && !p; i++)
			if (g->paths[i].state != DG_PATH_LIVE)
				p = &g->paths[i];
		if (!p)
			return NULL;
	}
	memset(p, 0, sizeof(*p));
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->state = state;
	path_infer(g, p);
	return p;
}

void dbus_gen_add_path(struct dbus_gen *g, const char *path, enum dg_path_state state)
{
	path_add(g, path, state);
}

void dbus_gen_path_gone(struct dbus_gen *g, const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < g->npaths; i++) {
		const char *p = g->paths[i].path;

		if (strcmp(p, path) == 0 || (strncmp(p, path, len) == 0 && p[len] == '/'))
			g->paths[i].state = DG_PATH_GONE;
	}
}

size_t dbus_gen_path_count(const struct dbus_gen *g, enum dg_path_state state)
{
	size_t n = 0;

	for (size_t i = 0; i < g->npaths; i++)
		n += g->paths[i].state == state;
	return n;
}

/* The n-th path in that state matching filter (NULL: any). */
static struct dg_path *path_pick(struct dbus_gen *g, struct dg_source *s, enum dg_path_state state,
				 const char *(*filter)(const char *))
{
	size_t n = 0, k;

	for (size_t i = 0; i < g->npaths; i++)
		n += g->paths[i].state == state && (!filter || filter(g->paths[i].path));
	if (n == 0)
		return NULL;
	k = dg_below(s, (uint32_t)n);
	for (size_t i = 0; i < g->npaths; i++) {
		if (g->paths[i].state != state || (filter && !filter(g->paths[i].path)))
			continue;
		if (k-- == 0)
			return &g->paths[i];
	}
	return NULL;
}

static const char *is_vm_path(const char *path)
{
	const char *iface = infer_iface(path);

	return iface && strcmp(iface, "org.viommu1.Vm") == 0 ? iface : NULL;
}

/* ---- numbers, strings, fds ---- */

void dbus_gen_add_number(struct dbus_gen *g, uint64_t value)
{
	for (size_t i = 0; i < g->nnumbers; i++)
		if (g->numbers[i] == value)
			return;
	if (g->nnumbers < DG_MAX_NUMBERS)
		g->numbers[g->nnumbers++] = value;
}

static void learn_number(struct dbus_gen *g, uint64_t value)
{
	if (value <= 1)
		return;
	for (size_t i = 0; i < g->nlearnt; i++)
		if (g->learnt[i] == value)
			return;
	g->learnt[g->learnt_next] = value;
	g->learnt_next = (g->learnt_next + 1) % DG_MAX_LEARNT;
	if (g->nlearnt < DG_MAX_LEARNT)
		g->nlearnt++;
}

void dbus_gen_add_arg_number(struct dbus_gen *g, const char *arg, uint64_t value)
{
	struct dg_arg_pool *pool = NULL;

	for (size_t i = 0; i < g->narg_pools && !pool; i++)
		if (strcmp(g->arg_pools[i].name, arg) == 0)
			pool = &g->arg_pools[i];
	if (!pool) {
		if (g->narg_pools >= DG_MAX_ARG_POOLS || strlen(arg) >= DG_ARG_NAME_MAX)
			return;
		pool = &g->arg_pools[g->narg_pools++];
		snprintf(pool->name, sizeof(pool->name), "%s", arg);
	}
	for (size_t i = 0; i < pool->n; i++)
		if (pool->values[i] == value)
			return;
	if (pool->n < DG_ARG_POOL)
		pool->values[pool->n++] = value;
}

static const struct dg_arg_pool *arg_pool(const struct dbus_gen *g, const char *arg)
{
	for (size_t i = 0; arg && i < g->narg_pools; i++)
		if (strcmp(g->arg_pools[i].name, arg) == 0)
			return &g->arg_pools[i];
	return NULL;
}

void dbus_gen_add_string(struct dbus_gen *g, const char *s)
{
	char *copy;

	for (size_t i = 0; i < g->nstrings; i++)
		if (strcmp(g->strings[i], s) == 0)
			return;
	if (g->nstrings >= DG_MAX_STRINGS)
		return;
	copy = strdup(s);
	if (copy)
		g->strings[g->nstrings++] = copy;
}

static void fd_add(struct dbus_gen *g, int fd, const char *what, bool owned, bool valid)
{
	if (fd < 0)
		return;
	if (g->nfds >= DG_MAX_FDS) {
		if (owned)
			close(fd);
		return;
	}
	g->fds[g->nfds].fd = fd;
	g->fds[g->nfds].owned = owned;
	g->fds[g->nfds].valid = valid;
	snprintf(g->fds[g->nfds].what, sizeof(g->fds[0].what), "%s", what);
	g->nfds++;
}

void dbus_gen_add_fd(struct dbus_gen *g, int fd, const char *what)
{
	fd_add(g, fd, what, false, false);
}

void dbus_gen_add_valid_fd(struct dbus_gen *g, int fd, const char *what)
{
	fd_add(g, fd, what, false, true);
}

static int memfd_sized(const char *name, off_t size, unsigned int flags)
{
	int fd = memfd_create(name, MFD_CLOEXEC | flags);

	if (fd >= 0 && size && ftruncate(fd, size) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The fd reopened with other flags through /proc/self/fd. */
static int reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

int dbus_gen_open_fds(struct dbus_gen *g)
{
	size_t before = g->nfds;
	int p[2], fd;

	if (pipe2(p, O_CLOEXEC) == 0) {
		fd_add(g, p[0], "pipe-read", true, false);
		fd_add(g, p[1], "pipe-write", true, false);
	}
	fd_add(g, open("/dev/null", O_RDONLY | O_CLOEXEC), "dev-null", true, false);
	fd_add(g, open("/dev/null", O_WRONLY | O_CLOEXEC), "dev-null-write-only", true, false);
	fd_add(g, open("/dev/null", O_PATH | O_CLOEXEC), "o-path", true, false);
	fd_add(g, socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket", true, false);
	fd_add(g, eventfd(0, EFD_CLOEXEC), "eventfd", true, false);
	fd_add(g, memfd_sized("dg-empty", 0, 0), "memfd-empty", true, false);
	fd_add(g, memfd_sized("dg-page", 4096, 0), "memfd-one-page", true, false);
	fd = memfd_sized("dg-ro", 64 * 1024, 0);
	if (fd >= 0) {
		fd_add(g, reopen(fd, O_RDONLY), "memfd-read-only", true, false);
		fd_add(g, reopen(fd, O_WRONLY), "memfd-write-only", true, false);
		close(fd);
	}
	fd = memfd_sized("dg-sealed", 64 * 1024, MFD_ALLOW_SEALING);
	if (fd >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		close(fd);
		fd = -1;
	}
	fd_add(g, fd, "memfd-sealed", true, false);
	fd_add(g, open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), "directory", true, false);
	fd_add(g, open("/proc/self/status", O_RDONLY | O_CLOEXEC), "proc-file", true, false);
	fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 && ftruncate(fd, 64 * 1024) < 0) {
		close(fd);
		fd = -1;
	}
	fd_add(g, fd, "tmpfile", true, false);
#ifdef SYS_pidfd_open
	fd_add(g, (int)syscall(SYS_pidfd_open, getpid(), 0), "pidfd-self", true, false);
#endif
	return (int)(g->nfds - before);
}

bool dbus_gen_error_name_ok(const char *name)
{
	return name && (starts_with(name, "org.viommu1.Error.") ||
			starts_with(name, "org.freedesktop.DBus.Error."));
}

/* ---- introspection XML ---- */

/* The value of attr in the tag [tag, end); false when absent or too long. */
static bool xml_attr(const char *tag, const char *end, const char *attr, char *buf, size_t size)
{
	size_t alen = strlen(attr);

	for (const char *p = tag + 1; p + alen + 2 < end; p++) {
		const char *v, *e;
		char quote;

		if (!(p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r') ||
		    strncmp(p, attr, alen) != 0 || p[alen] != '=')
			continue;
		quote = p[alen + 1];
		if (quote != '"' && quote != '\'')
			continue;
		v = p + alen + 2;
		e = memchr(v, quote, (size_t)(end - v));
		if (!e || (size_t)(e - v) >= size)
			return false;
		memcpy(buf, v, (size_t)(e - v));
		buf[e - v] = '\0';
		return true;
	}
	return false;
}

static bool tag_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncmp(name, want, len) == 0;
}

static void strv_free(char **strv)
{
	for (size_t i = 0; strv && strv[i]; i++)
		free(strv[i]);
	free(strv);
}

int dbus_gen_add_xml(struct dbus_gen *g, const char *path, const char *xml, char ***children)
{
	struct dg_iface *iface = NULL;
	struct dg_method *method = NULL; /* a method being learnt (new) */
	bool in_method = false, saw_root = false;
	int depth = 0, found[DG_MAX_PATH_IFACES];
	size_t nfound = 0, nkids = 0;
	char **kids = NULL;
	struct dg_path *p;
	const char *c = xml;

	while ((c = strchr(c, '<'))) {
		const char *end, *name;
		bool closing, selfclose;
		char attr[DG_SIGNATURE_MAX], attr2[DG_SIGNATURE_MAX], attr3[32];
		size_t nlen;

		if (strncmp(c, "<!--", 4) == 0) {
			end = strstr(c, "-->");
			if (!end)
				break;
			c = end + 3;
			continue;
		}
		end = strchr(c, '>');
		if (!end)
			break;
		if (c[1] == '!' || c[1] == '?') {
			c = end + 1;
			continue;
		}
		closing = c[1] == '/';
		selfclose = end[-1] == '/';
		name = c + 1 + closing;
		nlen = strcspn(name, " \t\r\n/>");

		if (tag_is(name, nlen, "node")) {
			if (closing) {
				depth--;
			} else if (!saw_root) {
				saw_root = true;
				depth = selfclose ? 0 : 1;
			} else {
				if (depth == 1 && children && xml_attr(c, end, "name", attr, sizeof(attr))) {
					char **grown = realloc(kids, (nkids + 2) * sizeof(*kids));

					if (grown) {
						kids = grown;
						kids[nkids] = strdup(attr);
						if (kids[nkids])
							nkids++;
						kids[nkids] = NULL;
					}
				}
				if (!selfclose)
					depth++;
			}
		} else if (tag_is(name, nlen, "interface")) {
			iface = NULL;
			if (!closing && xml_attr(c, end, "name", attr, sizeof(attr))) {
				int i = iface_add(g, attr);

				if (i >= 0) {
					iface = selfclose ? NULL : &g->ifaces[i];
					if (nfound < DG_MAX_PATH_IFACES)
						found[nfound++] = i;
				}
			}
		} else if (tag_is(name, nlen, "method")) {
			method = NULL;
			in_method = !closing && !selfclose;
			if (!closing && iface && xml_attr(c, end, "name", attr, sizeof(attr))) {
				bool known = false;

				for (size_t k = 0; k < iface->nmethods; k++)
					known |= strcmp(iface->methods[k].name, attr) == 0;
				if (!known && iface->nmethods < DG_MAX_METHODS) {
					method = &iface->methods[iface->nmethods++];
					memset(method, 0, sizeof(*method));
					snprintf(method->name, sizeof(method->name), "%.127s", attr);
				}
				if (selfclose)
					method = NULL;
			}
		} else if (tag_is(name, nlen, "signal")) {
			in_method = false;
			method = NULL;
		} else if (tag_is(name, nlen, "arg")) {
			if (in_method && method && xml_attr(c, end, "type", attr, sizeof(attr))) {
				if (!xml_attr(c, end, "direction", attr3, sizeof(attr3)))
					strcpy(attr3, "in");
				if (strcmp(attr3, "in") == 0 &&
				    strlen(method->in) + strlen(attr) < sizeof(method->in)) {
					strcat(method->in, attr);
					if (method->nargs < DG_MAX_ARGS &&
					    !xml_attr(c, end, "name", method->args[method->nargs],
						      DG_ARG_NAME_MAX))
						method->args[method->nargs][0] = '\0';
					method->nargs++;
				}
			}
		} else if (tag_is(name, nlen, "property")) {
			if (!closing && iface && xml_attr(c, end, "name", attr, sizeof(attr)) &&
			    xml_attr(c, end, "type", attr2, sizeof(attr2))) {
				bool known = false;

				for (size_t k = 0; k < iface->nprops; k++)
					known |= strcmp(iface->props[k].name, attr) == 0;
				if (!known && iface->nprops < DG_MAX_PROPS) {
					struct dg_property *prop = &iface->props[iface->nprops++];

					snprintf(prop->name, sizeof(prop->name), "%.127s", attr);
					snprintf(prop->type, sizeof(prop->type), "%s", attr2);
					prop->writable = xml_attr(c, end, "access", attr3, sizeof(attr3)) &&
							 strstr(attr3, "write") != NULL;
				}
			}
		}
		c = end + 1;
	}
	if (!saw_root) {
		strv_free(kids);
		return -EINVAL;
	}
	p = path_add(g, path, DG_PATH_LIVE);
	if (p) {
		p->introspected = true;
		p->nifaces = 0;
		for (size_t i = 0; i < nfound; i++)
			p->ifaces[p->nifaces++] = found[i];
	}
	if (children)
		*children = kids;
	else
		strv_free(kids);
	return 0;
}

struct sync_wait {
	sd_bus_message *reply;
	bool done;
};

static int on_sync_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct sync_wait *w = userdata;

	w->reply = sd_bus_message_ref(m);
	w->done = true;
	return 0;
}

/* A call and its reply, pumping the daemon's loop when it is in this thread. */
static int sync_call(struct dbus_gen *g, sd_bus *bus, sd_bus_message *m, sd_bus_message **reply)
{
	struct sync_wait w = { 0 };
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_slot *slot = NULL;
	time_t deadline;
	int r;

	if (!g->pump) {
		r = sd_bus_call(bus, m, 10 * 1000 * 1000, &error, reply);
		sd_bus_error_free(&error);
		return r;
	}
	r = sd_bus_call_async(bus, &slot, m, on_sync_reply, &w, 10 * 1000 * 1000);
	if (r < 0)
		return r;
	deadline = time(NULL) + 10;
	while (!w.done && time(NULL) <= deadline) {
		while (sd_bus_process(bus, NULL) > 0)
			;
		g->pump(g->pump_userdata);
	}
	sd_bus_slot_unref(slot);
	if (!w.done)
		return -ETIMEDOUT;
	if (sd_bus_message_is_method_error(w.reply, NULL)) {
		r = sd_bus_message_get_errno(w.reply);
		sd_bus_message_unref(w.reply);
		return r > 0 ? -r : -EIO;
	}
	*reply = w.reply;
	return 0;
}

static bool queued(char **queue, size_t tail, const char *path)
{
	for (size_t i = 0; i < tail; i++)
		if (queue[i] && strcmp(queue[i], path) == 0)
			return true;
	return false;
}

/* The object paths of viommud's a reply names that are not queued yet. */
static void collect_paths(struct dbus_gen *g, sd_bus_message *m, char **queue, size_t *tail,
			  int depth)
{
	for (;;) {
		const char *contents = NULL, *path;
		char type;
		int r = sd_bus_message_peek_type(m, &type, &contents);

		if (r <= 0)
			return;
		if (type == 'a' || type == 'r' || type == 'e' || type == 'v') {
			if (depth > 8 || sd_bus_message_enter_container(m, type, contents) <= 0)
				return;
			collect_paths(g, m, queue, tail, depth + 1);
			if (sd_bus_message_exit_container(m) < 0)
				return;
			continue;
		}
		if (type == 't' || type == 'u') {
			uint64_t t = 0;
			uint32_t u = 0;

			if (sd_bus_message_read_basic(m, type, type == 't' ? (void *)&t : (void *)&u) <= 0)
				return;
			learn_number(g, type == 't' ? t : u);
			continue;
		}
		if (type != 'o') {
			if (sd_bus_message_skip(m, NULL) < 0)
				return;
			continue;
		}
		if (sd_bus_message_read_basic(m, 'o', &path) <= 0)
			return;
		if (starts_with(path, "/org/viommu1/") && *tail < DG_MAX_NODES &&
		    !queued(queue, *tail, path)) {
			struct dg_path *p = path_find(g, path);

			if (!p || !p->introspected)
				queue[(*tail)++] = strdup(path);
		}
	}
}

int dbus_gen_introspect(struct dbus_gen *g, sd_bus *bus, const char *destination,
			const char *root)
{
	char **queue = calloc(DG_MAX_NODES, sizeof(*queue));
	size_t head = 0, tail = 0, before;
	int nodes = 0, r = 0;

	if (!queue)
		return -ENOMEM;
	queue[tail++] = strdup(root);
	do {
		while (head < tail && r >= 0) {
			char *path = queue[head++], **kids = NULL;
			sd_bus_message *m = NULL, *reply = NULL;
			const char *xml;

			if (!path) {
				r = -ENOMEM;
				break;
			}
			r = sd_bus_message_new_method_call(bus, &m, destination, path,
							   "org.freedesktop.DBus.Introspectable",
							   "Introspect");
			if (r >= 0)
				r = sync_call(g, bus, m, &reply);
			sd_bus_message_unref(m);
			if (r < 0) {
				/* Gone in between, or hidden: not an error of the walk. */
				r = 0;
				continue;
			}
			r = sd_bus_message_read(reply, "s", &xml);
			if (r >= 0)
				r = dbus_gen_add_xml(g, path, xml, &kids);
			sd_bus_message_unref(reply);
			if (r < 0)
				break;
			nodes++;
			for (size_t i = 0; kids && kids[i]; i++) {
				char child[DG_PATH_MAX];
				int n = snprintf(child, sizeof(child), "%s/%s",
						 strcmp(path, "/") == 0 ? "" : path, kids[i]);

				if (n > 0 && (size_t)n < sizeof(child) && tail < DG_MAX_NODES &&
				    !queued(queue, tail, child))
					queue[tail++] = strdup(child);
			}
			strv_free(kids);
		}
		/* Objects that no node lists as a child (a VM's vIOMMUs, domains,
		 * ...) are found through the properties that name them. */
		before = tail;
		for (size_t i = 0; r >= 0 && i < g->npaths; i++) {
			struct dg_path *p = &g->paths[i];

			if (p->state != DG_PATH_LIVE || !p->introspected || p->expanded)
				continue;
			p->expanded = true;
			for (size_t k = 0; k < p->nifaces; k++) {
				const struct dg_iface *iface = &g->ifaces[p->ifaces[k]];
				sd_bus_message *m = NULL, *reply = NULL;

				if (standard_iface(iface->name) || !iface->nprops)
					continue;
				if (sd_bus_message_new_method_call(bus, &m, destination, p->path,
								   PROPERTIES_IFACE, "GetAll") >= 0 &&
				    sd_bus_message_append(m, "s", iface->name) >= 0 &&
				    sync_call(g, bus, m, &reply) >= 0)
					collect_paths(g, reply, queue, &tail, 0);
				sd_bus_message_unref(m);
				sd_bus_message_unref(reply);
			}
		}
	} while (r >= 0 && tail > before);
	for (size_t i = 0; i < tail; i++)
		free(queue[i]);
	free(queue);
	return r < 0 ? r : nodes;
}

/* ---- signatures ---- */

static bool basic_type(char c)
{
	return c && strchr("ybnqiuxtdsogh", c) != NULL;
}

/* The length of the complete type at t; 0 when there is none. */
static size_t type_len(const char *t)
{
	size_t i, n;

	switch (t[0]) {
	case 'a':
		n = type_len(t + 1);
		return n ? n + 1 : 0;
	case '(':
		for (i = 1; t[i] && t[i] != ')'; i += n) {
			n = type_len(t + i);
			if (!n)
				return 0;
		}
		return t[i] == ')' && i > 1 ? i + 1 : 0;
	case '{':
		if (!basic_type(t[1]))
			return 0;
		n = type_len(t + 2);
		return n && t[2 + n] == '}' ? n + 3 : 0;
	case 'v':
		return 1;
	default:
		return basic_type(t[0]) ? 1 : 0;
	}
}

static const char *const common_types[] = {
	"ay", "as", "ao", "a{sv}", "(tt)", "a(tt)", "a(ss)", "a{ss}", "ah", "(uu)", "a{uv}",
};

/* Appends a random complete type to buf (of size), depth levels deep at most. */
static void random_type(struct dg_source *s, char *buf, size_t size, int depth)
{
	static const char basics[] = "ybnqiuxtdsoghv";
	size_t len = strlen(buf), room = size - len - 1;
	uint32_t r = dg_below(s, 100);

	if (room < 8 || depth >= 3 || r < 50) {
		if (room >= 1) {
			buf[len] = basics[dg_below(s, sizeof(basics) - 1)];
			buf[len + 1] = '\0';
		}
		return;
	}
	if (r < 65) {
		strcat(buf, "a");
		random_type(s, buf, size, depth + 1);
	} else if (r < 75) {
		uint32_t n = 1 + dg_below(s, 3);

		strcat(buf, "(");
		for (uint32_t i = 0; i < n; i++)
			random_type(s, buf, size - 1, depth + 1);
		strcat(buf, ")");
	} else if (r < 85) {
		char key[2] = { "ybnqiuxtdsog"[dg_below(s, 12)], '\0' };

		strcat(buf, "a{");
		strcat(buf, key);
		random_type(s, buf, size - 1, depth + 1);
		strcat(buf, "}");
	} else {
		const char *t = common_types[dg_below(s, sizeof(common_types) / sizeof(common_types[0]))];

		if (strlen(t) <= room)
			strcat(buf, t);
	}
}

/* A signature that is not the method's (usually). */
static void wrong_signature(struct dg_source *s, const char *right, char *buf, size_t size)
{
	uint32_t r = dg_below(s, 100);
	size_t last = 0, n;

	buf[0] = '\0';
	if (r < 40) {
		uint32_t count = 1 + dg_below(s, 5);

		for (uint32_t i = 0; i < count; i++)
			random_type(s, buf, size, 0);
	} else if (r < 60) {
		/* The last argument missing. */
		for (const char *p = right; *p && (n = type_len(p)); p += n)
			last = (size_t)(p - right);
		snprintf(buf, size, "%.*s", (int)last, right);
	} else if (r < 75) {
		/* One argument too many. */
		snprintf(buf, size, "%s", right);
		random_type(s, buf, size, 1);
	} else if (r < 90 && right[0]) {
		/* One basic type swapped for another. */
		size_t len = strlen(right), at = dg_below(s, (uint32_t)len);

		snprintf(buf, size, "%s", right);
		for (size_t i = 0; i < len; i++) {
			size_t k = (at + i) % len;

			if (basic_type(buf[k])) {
				buf[k] = "ybnqiuxtdsogh"[dg_below(s, 13)];
				break;
			}
		}
	}
	/* else: no arguments at all */
}

/* ---- values ---- */

static const uint64_t edge_numbers[] = {
	0, 1, 2, 3, 4, 6, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x3ff, 0x400, 0x401, 0xfff, 0x1000,
	0x1001, 0x1800, 0x2000, 0xffff, 0x10000, 0x10001, 0xfffff, 0x100000, 0x100001, 0x200000,
	0x1000000, 0x7fffffff, 0x80000000, 0xfffff000, 0xffffffff, UINT64_C(0x100000000),
	UINT64_C(0x100001000), UINT64_C(1) << 39, UINT64_C(1) << 47, UINT64_C(1) << 48,
	UINT64_C(1) << 52, UINT64_C(1) << 63, INT64_MAX, UINT64_MAX - 0x1000, UINT64_MAX - 0xfff,
	UINT64_MAX - 1, UINT64_MAX,
	/* PASIDs (20 bits; the selftest mock fails 1024 on purpose) */
	1023, 1024, 1025,
	/* selftest types, data and cookies */
	0xdead, 0xdeadbeef, 0xbeefbeef, 0xdadbeef, 0xbadbeef, 0xbaddad,
	/* queue depths */
	64, 65, 65536, 65537,
};

static uint64_t gen_number(struct dg_ctx *c)
{
	struct dbus_gen *g = c->g;
	uint32_t r = dg_below(c->s, 100);
	size_t pool = g->nnumbers + g->nlearnt;
	uint64_t v;

	if (c->plausible && r < 75) {
		const struct dg_arg_pool *named = arg_pool(g, c->arg);

		if (named && named->n)
			return named->values[dg_below(c->s, (uint32_t)named->n)];
	}
	if (c->plausible && g->nnumbers && r < 60)
		return g->numbers[dg_below(c->s, (uint32_t)g->nnumbers)];
	if (c->plausible && r < 80) {
		static const uint64_t small[] = { 0, 1, 2, 4, 6, 8, 16, 0x1000, 0x10000 };

		return small[dg_below(c->s, sizeof(small) / sizeof(small[0]))];
	}
	if (r < 30 && pool) {
		size_t i = dg_below(c->s, (uint32_t)pool);

		v = i < g->nnumbers ? g->numbers[i] : g->learnt[i - g->nnumbers];
		switch (dg_below(c->s, 10)) {
		case 0:
			v += 1;
			break;
		case 1:
			v -= 1;
			break;
		case 2:
			v += 0x800;
			break;
		case 3:
			v += 0x1000;
			break;
		case 4:
			v -= 0x1000;
			break;
		case 5:
			v *= 2;
			break;
		default:
			break;
		}
	} else if (r < 65) {
		v = edge_numbers[dg_below(c->s, sizeof(edge_numbers) / sizeof(edge_numbers[0]))];
	} else if (r < 80) {
		v = dg_u64(c->s);
	} else if (r < 92) {
		v = dg_below(c->s, 65);
	} else {
		/* A page-aligned value of some magnitude. */
		unsigned int bits = 12 + dg_below(c->s, 40);

		v = dg_u64(c->s) & ((UINT64_C(1) << bits) - 1) & ~UINT64_C(0xfff);
	}
	return v;
}

static const char *const builtin_strings[] = {
	"selftest", "auto", "amd", "intel-vtd", "arm-smmuv3", "tegra241-cmdqv", "managed", "broker",
	"persist", "pasid", "mode", "dirty-tracking", "vf-token", "data", "fault-queue", "relay",
	"vm1.iommufd", "vm1.dev.selftest0", "selftest0", "selftest3", "0000:00:03.0",
	"org.viommu1.Vm", "org.viommu1.Manager", "org.viommu1.Device",
	"00000000-0000-0000-0000-000000000000", "12345678-9abc-def0-1234-56789abcdef0",
	"12345678-9abc-def0-1234-56789abcdef", "not-a-uuid", "guest", "a", ".", "..", "-", "_",
};

static const char name_chars[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

/* A string into c->scratch, or a constant. May be invalid UTF-8. */
static const char *gen_string(struct dg_ctx *c)
{
	struct dbus_gen *g = c->g;
	char *buf = c->scratch;
	uint32_t r = dg_below(c->s, 100), n;
	uint64_t seed;

	if (c->plausible && r < 80)
		r = 0; /* a string from the pool */
	if (r < 30) {
		size_t all = g->nstrings + sizeof(builtin_strings) / sizeof(builtin_strings[0]);
		size_t i = dg_below(c->s, (uint32_t)all);

		return i < g->nstrings ? g->strings[i] : builtin_strings[i - g->nstrings];
	}
	if (r < 55) {
		/* A name: 1 to 66 characters, around the 63 a VM name may have. */
		static const uint32_t lengths[] = { 1, 2, 8, 62, 63, 64, 65, 66 };

		n = dg_chance(c->s, 50) ? lengths[dg_below(c->s, 8)] : 1 + dg_below(c->s, 66);
		for (uint32_t i = 0; i < n; i++)
			buf[i] = name_chars[dg_below(c->s, sizeof(name_chars) - 1)];
		buf[n] = '\0';
		return buf;
	}
	if (r < 60)
		return "";
	if (r <= 65) {
		n = r == 65 ? 64 * 1024 : 4096 + dg_below(c->s, 2);
		memset(buf, dg_chance(c->s, 50) ? 'a' : 'Z', n);
		buf[n] = '\0';
		return buf;
	}
	if (r < 70) {
		static const char *const formats[] = { "%s%s%s%n", "%x%x%x%x", "%p%p%p", "%%",
						      "%999999999s", "\\\"quote\"'" };

		return formats[dg_below(c->s, 6)];
	}
	if (r < 75) {
		static const char *const utf8[] = { "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac",
						   "\xf0\x9f\x98\x80", "\xe2\x80\xa8line\xe2\x80\xa9",
						   "\xef\xbb\xbf" };

		return utf8[dg_below(c->s, 5)];
	}
	if (r < 78) {
		/* Not UTF-8: sd-bus refuses to build it, which is fine. */
		static const char *const bad[] = { "\xff", "\xc3\x28", "abc\xe2\x82", "\xed\xa0\x80" };

		return bad[dg_below(c->s, 4)];
	}
	if (r < 83) {
		static const char *const paths[] = { "/org/viommu1/vm/1", "../../etc/passwd",
						    "/dev/iommu", "selftest0/../selftest1",
						    "vm1.iommufd\n", "" };

		return paths[dg_below(c->s, 6)];
	}
	/* Printable and control characters: quotes, backslashes, newlines. */
	n = dg_below(c->s, 200);
	seed = dg_u64(c->s) | 1;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)(xorshift(&seed) % 128);

		buf[i] = (char)(ch ? ch : ' ');
	}
	buf[n] = '\0';
	return buf;
}

/* Some other live VM's child of a kind, or a number past anything live. */
static void never_path(struct dg_ctx *c, char *buf, size_t size)
{
	static const char *const kinds[] = { "viommu", "domain", "vdevice", "hwqueue",
					     "faultqueue" };
	static const char *const fixed[] = {
		"/", "/org", "/org/viommu1/vm", "/org/viommu1/device", "/org/viommu1/vm/0",
		"/org/viommu1/vm/01", "/org/viommu1/vm/4294967297", "/org/viommu1/vm/18446744073709551617",
		"/org/viommu1/Manager", "/org/viommu1/device/selftest999", "/org/viommu1/device/0000_00_1f_7",
		"/org/viommu1/device/selftest", "/org/viommu1/vm/1/viommu", "/org/freedesktop/DBus",
	};
	struct dg_path *vm = path_pick(c->g, c->s, DG_PATH_LIVE, is_vm_path);
	struct dg_path *any = path_pick(c->g, c->s, DG_PATH_LIVE, NULL);

	switch (dg_below(c->s, 6)) {
	case 0:
	case 1:
		snprintf(buf, size, "%s", fixed[dg_below(c->s, sizeof(fixed) / sizeof(fixed[0]))]);
		break;
	case 2:
		snprintf(buf, size, "/org/viommu1/vm/%u", 1000 + dg_below(c->s, 100000));
		break;
	case 3:
		snprintf(buf, size, "%.200s/%s/%u", vm ? vm->path : "/org/viommu1/vm/1",
			 kinds[dg_below(c->s, 5)], dg_below(c->s, 40));
		break;
	case 4:
		snprintf(buf, size, "%.200s/%s", any && strcmp(any->path, "/") != 0 ? any->path : "/org",
			 dg_chance(c->s, 50) ? "x" : "1");
		break;
	default:
		snprintf(buf, size, "/org/viommu1/device/selftest%u", dg_below(c->s, 16));
		break;
	}
}

/* An object path for an 'o' argument; may be invalid (then sd-bus refuses). */
static const char *gen_object_path(struct dg_ctx *c)
{
	static const char *const invalid[] = { "", "org/viommu1", "/org/viommu1/", "/org//viommu1",
					       "/org/viommu1/vm/1-2", "/org/viommu1/vm/1.0" };
	uint32_t r = dg_below(c->s, 100);
	struct dg_path *p = NULL;

	if (c->plausible && r < 90)
		r = 0;
	if (r < 55)
		p = path_pick(c->g, c->s, DG_PATH_LIVE, NULL);
	else if (r < 65)
		p = path_pick(c->g, c->s, DG_PATH_GONE, NULL);
	if (p)
		return p->path;
	if (r < 88) {
		never_path(c, c->scratch, 256);
		return c->scratch;
	}
	if (r < 96)
		return "/";
	return invalid[dg_below(c->s, sizeof(invalid) / sizeof(invalid[0]))];
}

static int append_value(struct dg_ctx *c, const char *t, size_t len, int depth);

static int append_basic(struct dg_ctx *c, char type)
{
	uint64_t v;
	const char *str;
	int fd;

	switch (type) {
	case 'y': {
		uint8_t y = (uint8_t)gen_number(c);

		return sd_bus_message_append_basic(c->m, type, &y);
	}
	case 'b': {
		int b = (int)dg_below(c->s, 2);

		return sd_bus_message_append_basic(c->m, type, &b);
	}
	case 'n':
	case 'q': {
		uint16_t q = (uint16_t)gen_number(c);

		return sd_bus_message_append_basic(c->m, type, &q);
	}
	case 'i':
	case 'u': {
		uint32_t u = (uint32_t)gen_number(c);

		if (u && u <= 65536)
			c->last_small = u;
		return sd_bus_message_append_basic(c->m, type, &u);
	}
	case 'x':
	case 't':
		v = gen_number(c);
		if (v && v <= 65536)
			c->last_small = v;
		return sd_bus_message_append_basic(c->m, type, &v);
	case 'd': {
		static const double doubles[] = { 0.0, -0.0, 1.0, -1.0, 1e308, -1e308, 4096.5 };
		double d = dg_below(c->s, 10) < 7 ? doubles[dg_below(c->s, 7)] :
			   dg_chance(c->s, 50)	   ? (double)NAN :
						     (double)INFINITY;

		return sd_bus_message_append_basic(c->m, type, &d);
	}
	case 's':
		str = gen_string(c);
		return sd_bus_message_append_basic(c->m, type, str);
	case 'o':
		str = gen_object_path(c);
		return sd_bus_message_append_basic(c->m, type, str);
	case 'g': {
		char sig[DG_SIGNATURE_MAX] = "";

		if (dg_chance(c->s, 85))
			random_type(c->s, sig, 64, 0);
		else
			snprintf(sig, sizeof(sig), "%s",
				 (const char *[]){ "a", "(", "{sv}", "z", "()" }[dg_below(c->s, 5)]);
		return sd_bus_message_append_basic(c->m, type, sig);
	}
	case 'h':
		if (c->g->nfds == 0 || c->fds >= DG_FD_BUDGET)
			return -E2BIG;
		c->fds++;
		fd = c->g->fds[dg_below(c->s, (uint32_t)c->g->nfds)].fd;
		if (c->plausible && dg_chance(c->s, 75)) {
			size_t nvalid = 0, k;

			for (size_t i = 0; i < c->g->nfds; i++)
				nvalid += c->g->fds[i].valid;
			k = dg_below(c->s, (uint32_t)nvalid);
			for (size_t i = 0; i < c->g->nfds; i++)
				if (c->g->fds[i].valid && k-- == 0)
					fd = c->g->fds[i].fd;
		}
		return sd_bus_message_append_basic(c->m, type, &fd);
	default:
		return -EINVAL;
	}
}

/* 'ay': lengths near the sizes that are checked, contents of several kinds. */
static int append_bytes(struct dg_ctx *c)
{
	static const size_t lengths[] = { 0, 1, 2, 3, 4, 7, 8, 12, 16, 20, 24, 32, 40, 48, 64, 4095,
					  4096, 4097, 65536 };
	uint32_t r = dg_below(c->s, 100);
	uint64_t seed;
	uint8_t fill;
	size_t len;
	uint8_t *buf;
	int ret;

	if (c->plausible && r < 50 && c->last_small && c->last_small <= 4096)
		len = (size_t)c->last_small * (1 + dg_below(c->s, 4));
	else if (c->plausible)
		len = (size_t)4 * dg_below(c->s, 9);
	else if (r < 20 && c->last_small && c->last_small <= 4096)
		len = (size_t)c->last_small * dg_below(c->s, 5);
	else if (r < 70)
		len = lengths[dg_below(c->s, sizeof(lengths) / sizeof(lengths[0]))];
	else if (r < 98)
		len = dg_below(c->s, 256);
	else if (!c->big_used) {
		len = (1u << 20) + 8 * dg_below(c->s, 2); /* at and past the 1 MiB limit */
		c->big_used = true;
	} else {
		len = dg_below(c->s, 256);
	}
	if (c->array_bytes + len > (3u << 20) / 2)
		len = dg_below(c->s, 256);
	c->array_bytes += len;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	r = dg_below(c->s, 4);
	seed = dg_u64(c->s) | 1;
	fill = r == 2 ? 0xff : 0;
	for (size_t i = 0; i < len; i++) {
		if (r == 1) {
			buf[i] = (uint8_t)xorshift(&seed);
		} else if (r == 3) {
			/* Little-endian words from the numbers worth trying. */
			static const uint32_t words[] = { 0, 1, 0xdeadbeef, 0xbadbeef, 0xbeefbeef,
							  0xffffffff, 0x10, 0x1000 };

			if (i % 4 == 0) {
				uint32_t w = words[xorshift(&seed) % 8];

				for (size_t k = 0; k < 4 && i + k < len; k++)
					buf[i + k] = (uint8_t)(w >> (8 * k));
			}
		} else {
			buf[i] = fill;
		}
	}
	ret = sd_bus_message_append_array(c->m, 'y', buf, len);
	free(buf);
	return ret;
}

/* The a{sv} options every method takes: known keys of the right and the
 * wrong type, unknown keys, repeated keys. */
static int append_options(struct dg_ctx *c, int depth)
{
	static const struct {
		const char *key, *type;
	} known[] = {
		{ "persist", "b" }, { "pasid", "b" },	    { "mode", "s" },
		{ "dirty-tracking", "b" }, { "vf-token", "s" }, { "pasid", "u" },
		{ "data", "ay" },   { "fault-queue", "o" }, { "relay", "b" },
	};
	static const char *const unknown[] = { "Persist", "relay ", "", "unknown", "pasid\n",
					       "data2", "mode=managed" };
	uint32_t r = dg_below(c->s, 100), n;
	const char *prev = NULL;
	int ret;

	n = r < 30 ? 0 : r < 70 ? 1 : r < 90 ? 2 + dg_below(c->s, 2) : 4 + dg_below(c->s, 5);
	if (c->plausible)
		n = r < 50 ? 0 : 1;
	if (c->budget < 16)
		n = 0;
	ret = sd_bus_message_open_container(c->m, 'a', "{sv}");
	for (uint32_t i = 0; ret >= 0 && i < n; i++) {
		char type[DG_SIGNATURE_MAX] = "";
		const char *key;

		r = c->plausible ? 0 : dg_below(c->s, 100);
		if (r < 70) {
			uint32_t k = dg_below(c->s, sizeof(known) / sizeof(known[0]));

			key = known[k].key;
			if (c->plausible || dg_chance(c->s, 65))
				snprintf(type, sizeof(type), "%s", known[k].type);
		} else if (r < 90 || !prev) {
			key = dg_chance(c->s, 70) ? unknown[dg_below(c->s, 7)] : gen_string(c);
		} else {
			key = prev;
		}
		if (!type[0])
			random_type(c->s, type, 64, 1);
		ret = sd_bus_message_open_container(c->m, 'e', "sv");
		if (ret >= 0)
			ret = sd_bus_message_append_basic(c->m, 's', key);
		/* The key may live in the scratch buffer the value reuses. */
		prev = key == c->scratch ? NULL : key;
		if (ret >= 0)
			ret = sd_bus_message_open_container(c->m, 'v', type);
		if (ret >= 0)
			ret = append_value(c, type, strlen(type), depth + 1);
		if (ret >= 0)
			ret = sd_bus_message_close_container(c->m);
		if (ret >= 0)
			ret = sd_bus_message_close_container(c->m);
	}
	if (ret >= 0)
		ret = sd_bus_message_close_container(c->m);
	return ret;
}

static uint32_t array_count(struct dg_ctx *c, const char *element)
{
	uint32_t r = dg_below(c->s, 100), n;

	if (c->plausible)
		r = r % 75;
	if (r < 25)
		n = 0;
	else if (r < 75)
		n = 1 + dg_below(c->s, 4);
	else if (r < 87)
		n = 5 + dg_below(c->s, 16);
	else if (r < 95)
		n = 64 + dg_below(c->s, 2); /* around AllowIovas' 64 */
	else
		n = 100 + dg_below(c->s, 200);
	if (n > c->budget / 4)
		n = (uint32_t)(c->budget / 4);
	if (strchr(element, 'h') && n > 4)
		n = 4;
	return n;
}

static int append_value(struct dg_ctx *c, const char *t, size_t len, int depth)
{
	char contents[DG_SIGNATURE_MAX];
	int r;

	if (c->budget)
		c->budget--;
	if (len >= sizeof(contents) || depth > 24)
		return -E2BIG;
	switch (t[0]) {
	case 'a': {
		uint32_t n;

		snprintf(contents, sizeof(contents), "%.*s", (int)(len - 1), t + 1);
		if (strcmp(contents, "y") == 0)
			return append_bytes(c);
		if (strcmp(contents, "{sv}") == 0)
			return append_options(c, depth);
		n = array_count(c, contents);
		r = sd_bus_message_open_container(c->m, 'a', contents);
		for (uint32_t i = 0; r >= 0 && i < n; i++)
			r = append_value(c, contents, len - 1, depth + 1);
		return r < 0 ? r : sd_bus_message_close_container(c->m);
	}
	case '(':
	case '{': {
		size_t n;

		snprintf(contents, sizeof(contents), "%.*s", (int)(len - 2), t + 1);
		r = sd_bus_message_open_container(c->m, t[0] == '(' ? 'r' : 'e', contents);
		for (const char *p = contents; r >= 0 && *p; p += n) {
			n = type_len(p);
			if (!n)
				return -EINVAL;
			r = append_value(c, p, n, depth + 1);
		}
		return r < 0 ? r : sd_bus_message_close_container(c->m);
	}
	case 'v':
		contents[0] = '\0';
		if (c->budget < 16 || depth > 6)
			strcpy(contents, "u");
		else
			random_type(c->s, contents, 64, 0);
		r = sd_bus_message_open_container(c->m, 'v', contents);
		if (r >= 0)
			r = append_value(c, contents, strlen(contents), depth + 1);
		return r < 0 ? r : sd_bus_message_close_container(c->m);
	default:
		return append_basic(c, t[0]);
	}
}

/* The arguments of sig; method names them when sig is its own. */
static int append_signature(struct dg_ctx *c, const char *sig, const struct dg_method *method)
{
	size_t n, i = 0;
	int r = 0;

	if (method && strcmp(sig, method->in) != 0)
		method = NULL;
	for (const char *p = sig; r >= 0 && *p; p += n, i++) {
		n = type_len(p);
		if (!n)
			return -EINVAL;
		c->arg = method && i < method->nargs && i < DG_MAX_ARGS && method->args[i][0] ?
				 method->args[i] :
				 NULL;
		r = append_value(c, p, n, 0);
	}
	c->arg = NULL;
	return r;
}

/* ---- calls ---- */

static const struct dg_iface *random_iface(struct dg_ctx *c, bool daemon_only)
{
	size_t n = 0, k;

	for (size_t i = 0; i < c->g->nifaces; i++)
		n += !daemon_only || !standard_iface(c->g->ifaces[i].name);
	if (n == 0)
		return NULL;
	k = dg_below(c->s, (uint32_t)n);
	for (size_t i = 0; i < c->g->nifaces; i++)
		if ((!daemon_only || !standard_iface(c->g->ifaces[i].name)) && k-- == 0)
			return &c->g->ifaces[i];
	return NULL;
}

/* One of the path's own interfaces; daemon ones first when asked. */
static const struct dg_iface *path_iface(struct dg_ctx *c, const struct dg_path *p,
					 bool daemon_only)
{
	size_t n = 0, k;

	for (size_t i = 0; i < p->nifaces; i++)
		n += !daemon_only || !standard_iface(c->g->ifaces[p->ifaces[i]].name);
	if (n == 0)
		return NULL;
	k = dg_below(c->s, (uint32_t)n);
	for (size_t i = 0; i < p->nifaces; i++)
		if ((!daemon_only || !standard_iface(c->g->ifaces[p->ifaces[i]].name)) && k-- == 0)
			return &c->g->ifaces[p->ifaces[i]];
	return NULL;
}

static const char *unknown_iface(struct dg_ctx *c)
{
	static const char *const names[] = { "org.viommu1.Nope", "org.viommu1.vm", "org.viommu1",
					     "org.viommu1.Manager.Vm", "com.example.Iface",
					     "org.freedesktop.DBus.ObjectManager" };

	return names[dg_below(c->s, sizeof(names) / sizeof(names[0]))];
}

static const char *unknown_member(struct dg_ctx *c, const struct dg_iface *iface)
{
	static const char *const names[] = { "Frobnicate", "destroy", "DESTROY", "Destroy2",
					     "MapMemory_", "Get", "Introspect", "Ping" };
	char *buf = c->scratch;

	if (iface && iface->nmethods && dg_chance(c->s, 40)) {
		/* A real name in another case, or one character longer. */
		const char *real = iface->methods[dg_below(c->s, (uint32_t)iface->nmethods)].name;

		snprintf(buf, DG_NAME_MAX, "%s%s", real, dg_chance(c->s, 50) ? "s" : "");
		if (buf[0] >= 'A' && buf[0] <= 'Z')
			buf[0] = (char)(buf[0] - 'A' + 'a');
		return buf;
	}
	return names[dg_below(c->s, sizeof(names) / sizeof(names[0]))];
}

/* A method of iface; a member with a weight below 100 is picked that much
 * less often (a second draw replaces it). */
static const struct dg_method *pick_method(const struct dbus_gen *g, struct dg_source *s,
					   const struct dg_iface *iface)
{
	const struct dg_method *m = &iface->methods[dg_below(s, (uint32_t)iface->nmethods)];

	for (size_t i = 0; i < g->nweights; i++)
		if (strcmp(g->weights[i].member, m->name) == 0 &&
		    !dg_chance(s, g->weights[i].percent))
			return &iface->methods[dg_below(s, (uint32_t)iface->nmethods)];
	return m;
}

/* The target: a live, a gone or a made-up path; its record when there is one. */
static const struct dg_path *pick_target(struct dg_ctx *c, struct dbus_gen_call *call,
					 struct dg_path *scratch)
{
	uint32_t r = c->plausible ? 0 : dg_below(c->s, 100);
	struct dg_path *p = NULL;

	if (r < 72)
		p = path_pick(c->g, c->s, DG_PATH_LIVE, NULL);
	else if (r < 86)
		p = path_pick(c->g, c->s, DG_PATH_GONE, NULL);
	if (p) {
		snprintf(call->path, sizeof(call->path), "%s", p->path);
		call->path_state = p->state;
		return p;
	}
	memset(scratch, 0, sizeof(*scratch));
	never_path(c, scratch->path, sizeof(scratch->path));
	path_infer(c->g, scratch);
	snprintf(call->path, sizeof(call->path), "%s", scratch->path);
	call->path_state = DG_PATH_NEVER;
	{
		/* A made-up path that happens to be live is live. */
		struct dg_path *known = path_find(c->g, scratch->path);

		if (known) {
			call->path_state = known->state;
			return known;
		}
	}
	return scratch;
}

static int property_call(struct dg_ctx *c, const struct dg_path *p, sd_bus *bus,
			 const char *destination, sd_bus_message **out, struct dbus_gen_call *call)
{
	const struct dg_iface *target = NULL;
	const struct dg_property *prop = NULL;
	char iface_name[DG_NAME_MAX], prop_name[DG_NAME_MAX];
	uint32_t r = dg_below(c->s, 100), which = dg_below(c->s, 100);
	char type[DG_SIGNATURE_MAX] = "";
	int ret;

	if (r < 70)
		target = path_iface(c, p, true);
	else if (r < 80)
		target = random_iface(c, false);
	if (target)
		snprintf(iface_name, sizeof(iface_name), "%s", target->name);
	else if (r < 90 || r >= 95)
		snprintf(iface_name, sizeof(iface_name), "%s", unknown_iface(c));
	else
		iface_name[0] = '\0'; /* GetAll(""): every interface */
	r = dg_below(c->s, 100);
	if (r < 75 && target && target->nprops) {
		prop = &target->props[dg_below(c->s, (uint32_t)target->nprops)];
	} else if (r < 85) {
		const struct dg_iface *other = random_iface(c, true);

		if (other && other->nprops)
			prop = &other->props[dg_below(c->s, (uint32_t)other->nprops)];
	}
	if (prop)
		snprintf(prop_name, sizeof(prop_name), "%s", prop->name);
	else
		snprintf(prop_name, sizeof(prop_name), "%s",
			 (const char *[]){ "", "Nope", "name", "Devices ", "KernelID" }[dg_below(c->s, 5)]);

	snprintf(call->iface, sizeof(call->iface), PROPERTIES_IFACE);
	call->kind = "property";
	snprintf(call->member, sizeof(call->member), "%s",
		 which < 50 ? "Get" : which < 75 ? "GetAll" : "Set");
	ret = sd_bus_message_new_method_call(bus, out, destination, call->path, PROPERTIES_IFACE,
					     call->member);
	if (ret < 0)
		return ret;
	c->m = *out;
	if (which < 50) {
		snprintf(call->signature, sizeof(call->signature), "ss");
		return sd_bus_message_append(*out, "ss", iface_name, prop_name);
	}
	if (which < 75) {
		snprintf(call->signature, sizeof(call->signature), "s");
		return sd_bus_message_append(*out, "s", iface_name);
	}
	snprintf(call->signature, sizeof(call->signature), "ssv");
	ret = sd_bus_message_append(*out, "ss", iface_name, prop_name);
	if (prop && dg_chance(c->s, 50))
		snprintf(type, sizeof(type), "%s", prop->type);
	else
		random_type(c->s, type, 64, 0);
	if (ret >= 0)
		ret = sd_bus_message_open_container(*out, 'v', type);
	if (ret >= 0)
		ret = append_value(c, type, strlen(type), 1);
	if (ret >= 0)
		ret = sd_bus_message_close_container(*out);
	return ret;
}

int dbus_gen_call(struct dbus_gen *g, struct dg_source *s, sd_bus *bus, const char *destination,
		  sd_bus_message **out, struct dbus_gen_call *call)
{
	struct dg_ctx c = { .g = g, .s = s, .budget = DG_VALUE_BUDGET };
	struct dg_path scratch_path;
	const struct dg_path *p;
	const struct dg_iface *iface = NULL;
	const struct dg_method *method = NULL;
	const char *iface_name = NULL;
	char sig[DG_SIGNATURE_MAX];
	uint32_t r;
	int ret;

	memset(call, 0, sizeof(*call));
	*out = NULL;
	c.scratch = g->scratch;
	c.plausible = dg_chance(s, 35);
	p = pick_target(&c, call, &scratch_path);

	r = c.plausible ? 0 : dg_below(s, 100);
	if (c.plausible) {
		iface = path_iface(&c, p, true);
		if (!iface)
			iface = path_iface(&c, p, false);
	} else if (r < 80) {
		/* Mostly the daemon's own interface of the path; the standard ones too. */
		iface = path_iface(&c, p, dg_chance(s, 75));
		if (!iface)
			iface = path_iface(&c, p, false);
		if (!iface)
			iface = random_iface(&c, true);
	} else if (r < 88) {
		iface = random_iface(&c, true); /* another object's interface */
	}
	if (iface)
		iface_name = iface->name;
	else if (r < 93)
		iface_name = NULL; /* no interface: sd-bus looks the member up */
	else if (r < 98)
		iface_name = unknown_iface(&c);
	else
		iface_name = "org..viommu1"; /* refused */

	if (iface_name && strcmp(iface_name, PROPERTIES_IFACE) == 0 &&
	    (c.plausible || dg_chance(s, 85))) {
		ret = property_call(&c, p, bus, destination, out, call);
		goto done;
	}

	call->kind = "method";
	r = c.plausible ? 0 : dg_below(s, 100);
	if (!iface)
		iface = path_iface(&c, p, true); /* for the member of a call without one */
	if (r < 88 && iface && iface->nmethods) {
		method = pick_method(g, s, iface);
	} else if (r < 94) {
		const struct dg_iface *other = random_iface(&c, false);

		if (other && other->nmethods)
			method = &other->methods[dg_below(s, (uint32_t)other->nmethods)];
		if (other != iface)
			call->kind = "wrong-member";
	}
	if (method) {
		snprintf(call->member, sizeof(call->member), "%s", method->name);
	} else {
		snprintf(call->member, sizeof(call->member), "%s", unknown_member(&c, iface));
		call->kind = "wrong-member";
	}
	if (iface_name)
		snprintf(call->iface, sizeof(call->iface), "%s", iface_name);

	if (method && (c.plausible || dg_chance(s, 85))) {
		snprintf(sig, sizeof(sig), "%s", method->in);
	} else {
		wrong_signature(s, method ? method->in : "", sig, 200);
		if (!method || strcmp(sig, method->in) != 0)
			call->kind = method ? "wrong-signature" : call->kind;
	}
	snprintf(call->signature, sizeof(call->signature), "%s", sig);

	ret = sd_bus_message_new_method_call(bus, out, destination, call->path, iface_name,
					     call->member);
	c.m = *out;
	if (ret >= 0)
		ret = append_signature(&c, sig, method);
done:
	if (ret < 0) {
		*out = sd_bus_message_unref(*out);
		return ret;
	}
	/* What was actually built (a variant's contents are not in it). */
	{
		const char *built = sd_bus_message_get_signature(*out, true);

		if (built)
			snprintf(call->signature, sizeof(call->signature), "%s", built);
	}
	return 0;
}

/* ---- learning from replies ---- */

static void learn_walk(struct dbus_gen *g, sd_bus_message *m, int depth)
{
	for (;;) {
		union {
			uint8_t y;
			int b;
			uint16_t q;
			uint32_t u;
			uint64_t t;
			double d;
			const char *s;
			int h;
		} v;
		const char *contents = NULL;
		char type;
		int r = sd_bus_message_peek_type(m, &type, &contents);

		if (r <= 0)
			return;
		if (type == 'a' || type == 'r' || type == 'e' || type == 'v') {
			if (depth > 8) {
				if (sd_bus_message_skip(m, NULL) < 0)
					return;
				continue;
			}
			if (sd_bus_message_enter_container(m, type, contents) <= 0)
				return;
			learn_walk(g, m, depth + 1);
			if (sd_bus_message_exit_container(m) < 0)
				return;
			continue;
		}
		if (sd_bus_message_read_basic(m, type, &v) <= 0)
			return;
		if (type == 'o' && starts_with(v.s, "/org/viommu1/"))
			path_add(g, v.s, DG_PATH_LIVE);
		else if (type == 't' || type == 'x')
			learn_number(g, v.t);
		else if (type == 'u' || type == 'i')
			learn_number(g, v.u);
	}
}

void dbus_gen_learn(struct dbus_gen *g, const struct dbus_gen_call *call, sd_bus_message *reply,
		    const char *error_name)
{
	if (error_name) {
		const char *own = infer_iface(call->path);

		/* Someone else destroyed it (another connection, a teardown). */
		if (call->path_state == DG_PATH_LIVE &&
		    strcmp(error_name, "org.freedesktop.DBus.Error.UnknownObject") == 0 && own &&
		    strcmp(call->iface, own) == 0)
			dbus_gen_path_gone(g, call->path);
		return;
	}
	if (!reply)
		return;
	learn_walk(g, reply, 0);
	sd_bus_message_rewind(reply, true);
	if (strcmp(call->member, "Destroy") == 0 && strcmp(call->kind, "property") != 0)
		dbus_gen_path_gone(g, call->path);
}

int dbus_gen_fd(const struct dbus_gen *g, size_t i, const char **what)
{
	if (i >= g->nfds)
		return -1;
	if (what)
		*what = g->fds[i].what;
	return g->fds[i].fd;
}
