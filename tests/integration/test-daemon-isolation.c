/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Users are kept apart (config {"mock_devices": 2, "vm_users": [1000, 1001]}):
 * two clients with different uids each create a VM and cannot see or touch
 * the other's, nor have raw fds or a broker VM without the fast-path grant;
 * a uid not in the config cannot even connect; root sees both; a
 * client that dies mid-setup leaves nothing behind.
 *
 * Each client is a child process that drops to its uid before it connects
 * (the daemon takes the peer's credentials at connect time). Children never
 * use CHECK (it would jump into the parent's harness): they report through a
 * pipe and their exit status.
 */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "iommufd.h"
#include "selftest.h"

#define MEM_SIZE 0x40000ull
#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)
#define LINE_MAX_ 512

/* ---- child processes ---- */

struct child {
	pid_t pid;
	int to;	  /* parent -> child */
	int from; /* child -> parent */
};

/* In the child: the pipe ends. */
static int child_in = -1, child_out = -1;
static const char *child_name = "child";

__attribute__((format(printf, 1, 2))) static _Noreturn void child_die(const char *fmt, ...)
{
	char buf[LINE_MAX_];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("# %s: %s\n", child_name, buf);
	fflush(stdout);
	_exit(1);
}

#define CHILD_CHECK(cond)                                                   \
	do {                                                                \
		if (!(cond))                                                \
			child_die("%s:%d: CHECK(%s)", __FILE__, __LINE__, #cond); \
	} while (0)

static bool name_is(const char *got, const char *name, const char *alt)
{
	return strcmp(got, name) == 0 || (alt && strcmp(got, alt) == 0);
}

/* The call fails with name (or alt). */
#define CHILD_ERROR2(c, expr, name, alt)                                                 \
	do {                                                                             \
		int child_r_ = (expr);                                                   \
		const char *child_n_ = vc_error_name(c);                                 \
		if (child_r_ >= 0)                                                       \
			child_die("%s:%d: %s succeeded, expected %s", __FILE__, __LINE__, \
				  #expr, name);                                          \
		if (!name_is(child_n_, name, alt))                                        \
			child_die("%s:%d: %s failed with %s (%s), expected %s", __FILE__,  \
				  __LINE__, #expr, child_n_, vc_error_message(c), name);  \
	} while (0)
#define CHILD_ERROR(c, expr, name) CHILD_ERROR2(c, expr, name, (const char *)NULL)

#define CHILD_OK(c, expr)                                                            \
	do {                                                                         \
		int child_r_ = (expr);                                               \
		if (child_r_ < 0)                                                    \
			child_die("%s:%d: %s failed: %s (%s)", __FILE__, __LINE__, #expr, \
				  vc_error_name(c), vc_error_message(c));            \
	} while (0)

static bool read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(fd, &buf[n], 1);

		if (r <= 0)
			return false;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return true;
}

__attribute__((format(printf, 2, 3))) static void write_line(int fd, const char *fmt, ...)
{
	char buf[LINE_MAX_];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	if (write(fd, buf, (size_t)n) != n)
		return;
}

static void child_send(const char *s)
{
	write_line(child_out, "%s", s);
}

/* The next line from the parent; the child ends when the parent is gone. */
static void child_recv(char *buf, size_t size)
{
	if (!read_line(child_in, buf, size))
		_exit(2);
}

/* Forks a client running fn as uid (and gid uid, no supplementary groups). */
static void spawn(struct child *ch, uid_t uid, const char *name, void (*fn)(void))
{
	int to[2], from[2];

	CHECK(pipe2(to, O_CLOEXEC) == 0);
	CHECK(pipe2(from, O_CLOEXEC) == 0);
	fflush(stdout);
	ch->pid = fork();
	CHECK(ch->pid >= 0);
	if (ch->pid == 0) {
		close(to[1]);
		close(from[0]);
		child_in = to[0];
		child_out = from[1];
		child_name = name;
		if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			child_die("cannot become uid %u", (unsigned int)uid);
		fn();
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	ch->to = to[1];
	ch->from = from[0];
}

/* The parent reads a line the child sent. */
static void from_child(struct child *ch, char *buf, size_t size)
{
	if (!read_line(ch->from, buf, size))
		check_fail(__FILE__, __LINE__, "child %d ended early", (int)ch->pid);
}

/* Waits (bounded) for the child; returns its exit status, -1 if killed. */
static int reap(struct child *ch)
{
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	int status = 0;

	close(ch->to);
	close(ch->from);
	for (int i = 0; i < 3000; i++) {
		pid_t r = waitpid(ch->pid, &status, WNOHANG);

		if (r == ch->pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		nanosleep(&ms, NULL);
	}
	kill(ch->pid, SIGKILL);
	waitpid(ch->pid, &status, 0);
	return -1;
}

/* ---- two users ---- */

static int introspect(struct vc *c, const char *path, char **out)
{
	sd_bus_message *reply = NULL;
	const char *xml;
	int r = vc_call(c, path, "org.freedesktop.DBus.Introspectable", "Introspect", &reply,
			NULL);

	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "s", &xml);
	if (r >= 0)
		*out = strdup(xml);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

static bool has_node(const char *xml, const char *name)
{
	char want[128];

	snprintf(want, sizeof(want), "<node name=\"%s\"", name);
	return strstr(xml, want) != NULL;
}

static char *dev[2];

/*
 * A user's client: creates its VM (user A also attaches selftest0 and makes
 * a vIOMMU), sends its paths, receives the other's, checks it cannot see or
 * touch them, then destroys its own VM when told to.
 */
static void user_client(bool with_objects)
{
	char line[LINE_MAX_], theirs_vm[LINE_MAX_] = "", theirs_viommu[LINE_MAX_] = "";
	char *vm = NULL, *viommu = NULL, *s = NULL, *json = NULL, **vms = NULL;
	struct json_object *root, *a;
	struct vc c;
	uint32_t u;
	int memfd;

	if (vc_connect(&c, NULL) < 0)
		child_die("cannot connect");
	CHILD_OK(&c, vc_create_vm(&c, child_name, &vm));
	if (with_objects) {
		CHILD_OK(&c, vc_attach_device(&c, vm, dev[0]));
		CHILD_OK(&c, vc_create_viommu(&c, vm, "selftest", &viommu));
		/* No fast-path grant: no raw kernel object of our own VM either,
		 * and no broker VM, which exists to hand them over. */
		CHILD_ERROR(&c, vc_call(&c, vm, VC_VM, "GetDeviceFd", NULL, "o", dev[0]),
			    VC_ERR_PERMISSION);
		CHILD_ERROR(&c, vc_call(&c, vm, VC_VM, "GetIommufd", NULL, ""),
			    VC_ERR_PERMISSION);
		CHILD_ERROR(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", NULL, "sa{sv}",
					"raw", 1, "mode", "s", "broker"),
			    VC_ERR_PERMISSION);
	}
	write_line(child_out, "%s %s", vm, viommu ? viommu : "-");
	child_recv(line, sizeof(line));
	CHILD_CHECK(sscanf(line, "%511s %511s", theirs_vm, theirs_viommu) == 2);

	/* ListVms and Describe show only our own VM. */
	CHILD_OK(&c, vc_list(&c, "ListVms", &vms));
	CHILD_CHECK(vc_strv_length(vms) == 1 && strcmp(vms[0], vm) == 0);
	vc_strv_free(vms);
	root = vc_describe_json(&c);
	CHILD_CHECK(root);
	CHILD_CHECK(json_object_object_get_ex(root, "vms", &a));
	CHILD_CHECK(json_object_array_length(a) == 1);
	CHILD_CHECK(vc_json_by_path(root, "vms", vm));
	CHILD_CHECK(!vc_json_by_path(root, "vms", theirs_vm));
	json_object_put(root);

	/* The other's VM and its objects do not exist, as far as we can tell. */
	CHILD_ERROR(&c, vc_get_string(&c, theirs_vm, VC_VM, "Name", &s), VC_ERR_UNKNOWN_OBJECT);
	CHILD_ERROR(&c, vc_get_u32(&c, theirs_vm, VC_VM, "Owner", &u), VC_ERR_UNKNOWN_OBJECT);
	CHILD_ERROR(&c, vc_call(&c, theirs_vm, "org.freedesktop.DBus.Properties", "GetAll", NULL,
				"s", VC_VM),
		    VC_ERR_UNKNOWN_OBJECT);
	memfd = memfd_create("itest-intruder", MFD_CLOEXEC);
	CHILD_CHECK(memfd >= 0 && ftruncate(memfd, 0x1000) == 0 && fallocate(memfd, 0, 0, 0x1000) == 0);
	CHILD_ERROR2(&c, vc_map_memory(&c, theirs_vm, memfd, 0, 0x1000, 0x1000000, RW),
		     VC_ERR_UNKNOWN_OBJECT, VC_ERR_UNKNOWN_METHOD);
	close(memfd);
	CHILD_ERROR2(&c, vc_attach_device(&c, theirs_vm, dev[1]), VC_ERR_UNKNOWN_OBJECT,
		     VC_ERR_UNKNOWN_METHOD);
	CHILD_ERROR2(&c, vc_get_fd(&c, theirs_vm, NULL, &memfd), VC_ERR_UNKNOWN_OBJECT,
		     VC_ERR_UNKNOWN_METHOD);
	CHILD_ERROR2(&c, vc_destroy(&c, theirs_vm, VC_VM), VC_ERR_UNKNOWN_OBJECT,
		     VC_ERR_UNKNOWN_METHOD);
	if (strcmp(theirs_viommu, "-") != 0) {
		CHILD_ERROR(&c, vc_get_u32(&c, theirs_viommu, VC_VIOMMU, "KernelId", &u),
			    VC_ERR_UNKNOWN_OBJECT);
		CHILD_ERROR2(&c, vc_destroy(&c, theirs_viommu, VC_VIOMMU), VC_ERR_UNKNOWN_OBJECT,
			     VC_ERR_UNKNOWN_METHOD);
	}
	/* Introspection of the VM folder does not list it. */
	CHILD_OK(&c, introspect(&c, "/org/viommu1/vm", &json));
	CHILD_CHECK(has_node(json, strrchr(vm, '/') + 1));
	CHILD_CHECK(!has_node(json, strrchr(theirs_vm, '/') + 1));
	free(json);
	/* Ours still works. */
	CHILD_OK(&c, vc_get_string(&c, vm, VC_VM, "Name", &s));
	CHILD_CHECK(strcmp(s, child_name) == 0);
	free(s);
	child_send("done");

	child_recv(line, sizeof(line)); /* "exit" */
	CHILD_OK(&c, vc_destroy(&c, vm, VC_VM));
	vc_close(&c);
	free(vm);
	free(viommu);
}

static void user_a(void)
{
	user_client(true);
}

static void user_b(void)
{
	user_client(false);
}

static struct vc root;
static bool root_connected;

static void connect_root(void)
{
	if (root_connected)
		return;
	CHECK_OK(vc_connect(&root, NULL));
	root_connected = true;
	dev[0] = vc_find_device(&root, "selftest0");
	dev[1] = vc_find_device(&root, "selftest1");
	CHECK(dev[0] && dev[1]);
}

static void test_two_users(void)
{
	char a_line[LINE_MAX_], b_line[LINE_MAX_], a_vm[LINE_MAX_], a_viommu[LINE_MAX_];
	char b_vm[LINE_MAX_], b_viommu[LINE_MAX_], line[LINE_MAX_];
	struct child a, b;
	struct json_object *desc;
	char **vms = NULL;
	int ra, rb;

	connect_root();
	spawn(&a, 1000, "a", user_a);
	from_child(&a, a_line, sizeof(a_line));
	spawn(&b, 1001, "b", user_b);
	from_child(&b, b_line, sizeof(b_line));
	CHECK(sscanf(a_line, "%511s %511s", a_vm, a_viommu) == 2);
	CHECK(sscanf(b_line, "%511s %511s", b_vm, b_viommu) == 2);
	check_note("uid 1000: %s %s; uid 1001: %s", a_vm, a_viommu, b_vm);

	/* Root sees both, with their owners. */
	CHECK_DBUS_OK(&root, vc_list(&root, "ListVms", &vms));
	CHECK_EQ(vc_strv_length(vms), 2);
	CHECK(vc_strv_contains(vms, a_vm) && vc_strv_contains(vms, b_vm));
	vc_strv_free(vms);
	desc = vc_describe_json(&root);
	CHECK(desc);
	CHECK_EQ(vc_json_u64(vc_json_by_path(desc, "vms", a_vm), "owner"), 1000);
	CHECK_EQ(vc_json_u64(vc_json_by_path(desc, "vms", b_vm), "owner"), 1001);
	json_object_put(desc);

	write_line(a.to, "%s %s", b_vm, b_viommu);
	write_line(b.to, "%s %s", a_vm, a_viommu);
	/* Each says "done", or ends with its reason printed. */
	if (!read_line(a.from, line, sizeof(line)) || strcmp(line, "done") != 0) {
		write_line(b.to, "exit");
		reap(&b);
		check_fail(__FILE__, __LINE__, "uid 1000's checks failed (status %d)", reap(&a));
	}
	if (!read_line(b.from, line, sizeof(line)) || strcmp(line, "done") != 0) {
		write_line(a.to, "exit");
		reap(&a);
		check_fail(__FILE__, __LINE__, "uid 1001's checks failed (status %d)", reap(&b));
	}
	/* Nothing of theirs was touched by the other. */
	CHECK_DBUS_OK(&root, vc_list(&root, "ListVms", &vms));
	CHECK_EQ(vc_strv_length(vms), 2);
	vc_strv_free(vms);
	write_line(a.to, "exit");
	write_line(b.to, "exit");
	ra = reap(&a);
	rb = reap(&b);
	CHECK_EQ(ra, 0);
	CHECK_EQ(rb, 0);
	CHECK_DBUS_OK(&root, vc_list(&root, "ListVms", &vms));
	CHECK_EQ(vc_strv_length(vms), 0);
	vc_strv_free(vms);
}

/*
 * Another user's VM leaks through nothing: the Device objects and the devices
 * of Describe() do not name a VM the caller cannot see.
 */
static char leak_vm[LINE_MAX_];

static void leak_client(void)
{
	struct vc c;
	char *s = NULL, *json = NULL, line[LINE_MAX_];
	bool leaked = false;

	if (vc_connect(&c, NULL) < 0)
		child_die("cannot connect");
	child_recv(line, sizeof(line));
	CHILD_OK(&c, vc_get_string(&c, dev[0], VC_DEVICE, "Vm", &s));
	if (strcmp(s, "/") != 0) {
		printf("# b: Device.Vm of selftest0 reads \"%s\", a VM uid 1001 cannot see\n", s);
		leaked = true;
	}
	free(s);
	CHILD_OK(&c, vc_get_string(&c, dev[0], VC_DEVICE, "Reason", &s));
	if (strstr(s, "leaky")) {
		printf("# b: Device.Reason of selftest0 names the VM: \"%s\"\n", s);
		leaked = true;
	}
	free(s);
	CHILD_OK(&c, vc_describe(&c, &json));
	if (strstr(json, leak_vm) || strstr(json, "leaky")) {
		printf("# b: Describe() names the other VM (%s, \"leaky\") in its devices\n",
		       leak_vm);
		leaked = true;
	}
	free(json);
	if (leaked)
		child_die("another user's VM is visible through the devices");
	child_send("done");
	vc_close(&c);
}

static void test_no_leak_through_devices(void)
{
	char *vm = NULL, line[LINE_MAX_] = "";
	struct child b;

	connect_root();
	/* Root's VM holds selftest0: uid 1001 cannot see that VM. */
	CHECK_DBUS_OK(&root, vc_create_vm(&root, "leaky", &vm));
	CHECK_DBUS_OK(&root, vc_attach_device(&root, vm, dev[0]));
	snprintf(leak_vm, sizeof(leak_vm), "%s", vm);
	spawn(&b, 1001, "b", leak_client);
	write_line(b.to, "go");
	if (!read_line(b.from, line, sizeof(line)) || strcmp(line, "done") != 0) {
		reap(&b);
		CHECK_DBUS_OK(&root, vc_destroy(&root, vm, VC_VM));
		free(vm);
		check_fail(__FILE__, __LINE__, "uid 1001 learns of a VM that is not its own");
	}
	CHECK_EQ(reap(&b), 0);
	CHECK_DBUS_OK(&root, vc_destroy(&root, vm, VC_VM));
	free(vm);
}

/* Not listed anywhere in the config: the private socket is not for it. The
 * daemon closes the connection at accept time, before reading a byte, so
 * no call of any kind is answered (the system bus is the read-only way). */
static void outsider_client(void)
{
	struct vc c;
	char *vm = NULL, **vms = NULL;

	if (vc_connect(&c, NULL) == 0) {
		CHILD_CHECK(vc_list(&c, "ListVms", &vms) < 0);
		CHILD_CHECK(strncmp(vc_error_name(&c), "org.viommu1.", 12) != 0);
		CHILD_CHECK(vc_create_vm(&c, "outsider", &vm) < 0);
		CHILD_CHECK(!vc_alive(&c));
		vc_close(&c);
	}
	child_send("done");
}

static void test_not_in_vm_users(void)
{
	char line[LINE_MAX_] = "";
	struct child ch;
	char **vms = NULL;

	connect_root();
	spawn(&ch, 1002, "outsider", outsider_client);
	if (!read_line(ch.from, line, sizeof(line)) || strcmp(line, "done") != 0)
		check_fail(__FILE__, __LINE__, "uid 1002's checks failed (status %d)", reap(&ch));
	CHECK_EQ(reap(&ch), 0);
	CHECK_DBUS_OK(&root, vc_list(&root, "ListVms", &vms));
	CHECK_EQ(vc_strv_length(vms), 0);
	vc_strv_free(vms);
}

/* ---- a client that dies mid-setup ---- */

static int doomed_memfd = -1;

static void doomed_client(void)
{
	char line[LINE_MAX_], *vm = NULL;
	struct vc c;

	if (vc_connect(&c, NULL) < 0)
		child_die("cannot connect");
	CHILD_OK(&c, vc_create_vm(&c, "doomed", &vm));
	CHILD_OK(&c, vc_attach_device(&c, vm, dev[1]));
	CHILD_OK(&c, vc_map_memory(&c, vm, doomed_memfd, 0, MEM_SIZE, 0x1000000, RW));
	child_send(vm);
	child_recv(line, sizeof(line));
	/* Gone, without a word: no Destroy, no close. */
	_exit(0);
}

static void test_client_dies(void)
{
	struct timespec ms = { 0, 20 * 1000 * 1000 };
	char vm[LINE_MAX_], *s = NULL, **vms = NULL;
	struct child ch;
	uint8_t *mem;
	bool gone = false;
	int i;

	connect_root();
	doomed_memfd = memfd_create("itest-doomed", MFD_CLOEXEC);
	CHECK(doomed_memfd >= 0);
	CHECK(ftruncate(doomed_memfd, MEM_SIZE) == 0 && fallocate(doomed_memfd, 0, 0, MEM_SIZE) == 0);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, doomed_memfd, 0);
	CHECK(mem != MAP_FAILED);
	memset(mem, 0xa5, MEM_SIZE);

	spawn(&ch, 1000, "doomed", doomed_client);
	from_child(&ch, vm, sizeof(vm));
	check_note("uid 1000's VM %s", vm);
	CHECK_DBUS_OK(&root, vc_list(&root, "ListVms", &vms));
	CHECK(vc_strv_contains(vms, vm));
	vc_strv_free(vms);
	CHECK_DBUS_OK(&root, vc_get_string(&root, dev[1], VC_DEVICE, "Vm", &s));
	CHECK_STREQ(s, vm);
	free(s);
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 1));

	write_line(ch.to, "die");
	CHECK_EQ(reap(&ch), 0);
	for (i = 0; i < 500 && !gone; i++) {
		CHECK_DBUS_OK(&root, vc_list(&root, "ListVms", &vms));
		gone = !vc_strv_contains(vms, vm);
		vc_strv_free(vms);
		if (!gone)
			nanosleep(&ms, NULL);
	}
	CHECK(gone);
	CHECK_DBUS_OK(&root, vc_get_string(&root, dev[1], VC_DEVICE, "Vm", &s));
	CHECK_STREQ(s, "/");
	free(s);
	CHECK_OK(vc_pins_are(mem, MEM_SIZE, 0));
	if (vc_daemon_fds("/dev/iommu") >= 0)
		CHECK_EQ(vc_daemon_fds("/dev/iommu"), 0);
	CHECK_EQ(vc_daemon_fds("/memfd:"), 0);
	CHECK(munmap(mem, MEM_SIZE) == 0);
	CHECK(close(doomed_memfd) == 0);
	/* The device is free for the next VM. */
	CHECK_DBUS_OK(&root, vc_create_vm(&root, "after", &s));
	CHECK_DBUS_OK(&root, vc_attach_device(&root, s, dev[1]));
	CHECK_DBUS_OK(&root, vc_destroy(&root, s, VC_VM));
	free(s);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_two_users),
		CHECK_CASE(test_not_in_vm_users),
		CHECK_CASE(test_client_dies),
		CHECK_CASE(test_no_leak_through_devices),
	};
	int r = check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);

	if (root_connected)
		vc_close(&root);
	return r;
}
