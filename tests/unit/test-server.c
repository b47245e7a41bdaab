/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The transport: a server on a temporary socket, clients in the same thread
 * (async calls; the server's event_base is pumped between client steps), a
 * private dbus-daemon for the system-bus path when one is installed.
 */
#include <errno.h>
#include <poll.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "server.h"

#define TEST_PATH "/org/viommu1/test"
#define TEST_IFACE "org.viommu1.Test"
#define MAX_GONE 16

struct test_server {
	char dir[64];
	char path[128];
	struct event_base *base;
	struct server *server;
	int attached;
	size_t ngone;
	char gone[MAX_GONE][SERVER_PEER_ID_MAX];
	unsigned int whoamis; /* Whoami handler runs */
};

static struct test_server *current; /* the method handlers reach it here */

/* ---- the test vtable ---- */

static int method_echo(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *s;
	int r;

	r = sd_bus_message_read(m, "s", &s);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(m, "s", s);
}

static int method_whoami(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct test_server *t = userdata;
	struct server_peer peer;
	int r;

	t->whoamis++;
	r = server_peer(m, &peer);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(m, "usuuub", (uint32_t)peer.uid, peer.id,
					  (uint32_t)peer.gid, (uint32_t)peer.pid,
					  (uint32_t)peer.ngroups, peer.p2p);
}

static int method_fd_mode(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct stat st;
	int fd, r;

	r = sd_bus_message_read(m, "h", &fd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;
	return sd_bus_reply_method_return(m, "u", (uint32_t)st.st_mode);
}

/* server_peer_pidfd(): its result, and the pid the pidfd names. */
static int method_peer_pid(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	char path[64], line[128];
	unsigned int pid = 0;
	int fd = -1, r;
	FILE *f;

	r = server_peer_pidfd(m, &fd);
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "Pid: %u", &pid) == 1)
				break;
		if (f)
			fclose(f);
		close(fd);
	}
	return sd_bus_reply_method_return(m, "iu", r, pid);
}

/* Replies, then has the server drop the caller. */
static int method_kick_me(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct test_server *t = userdata;
	struct server_peer peer;
	int r;

	r = server_peer(m, &peer);
	if (r < 0)
		return r;
	r = server_peer_disconnect(t->server, peer.id);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable test_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD_WITH_ARGS("Echo", SD_BUS_ARGS("s", text), SD_BUS_RESULT("s", text),
				method_echo, 0),
	SD_BUS_METHOD_WITH_ARGS("Whoami", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("u", uid, "s", id, "u", gid, "u", pid, "u", ngroups,
					      "b", p2p),
				method_whoami, 0),
	SD_BUS_METHOD_WITH_ARGS("FdMode", SD_BUS_ARGS("h", fd), SD_BUS_RESULT("u", mode),
				method_fd_mode, 0),
	SD_BUS_METHOD_WITH_ARGS("PeerPid", SD_BUS_NO_ARGS, SD_BUS_RESULT("i", result, "u", pid),
				method_peer_pid, 0),
	SD_BUS_METHOD_WITH_ARGS("KickMe", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_kick_me, 0),
	SD_BUS_SIGNAL_WITH_ARGS("Hello", SD_BUS_ARGS("s", text), 0),
	SD_BUS_VTABLE_END,
};

static int test_attach(sd_bus *bus, void *userdata)
{
	struct test_server *t = userdata;

	t->attached++;
	/* A floating slot: it lives as long as the connection. */
	return sd_bus_add_object_vtable(bus, NULL, TEST_PATH, TEST_IFACE, test_vtable, t);
}

static void test_peer_gone(const char *peer_id, void *userdata)
{
	struct test_server *t = userdata;

	if (t->ngone < MAX_GONE)
		snprintf(t->gone[t->ngone], sizeof(t->gone[0]), "%s", peer_id);
	t->ngone++;
}

static size_t gone_count(struct test_server *t, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < t->ngone && i < MAX_GONE; i++)
		n += strcmp(t->gone[i], id) == 0;
	return n;
}

/* ---- set-up ---- */

static void test_server_init(struct test_server *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/test-server-XXXXXX");
	CHECK(mkdtemp(t->dir));
	/* A sub-directory the server has to create. */
	snprintf(t->path, sizeof(t->path), "%s/run/viommud.sock", t->dir);
	t->base = event_base_new();
	CHECK(t->base);
	current = t;
}

static int test_server_start(struct test_server *t, const char *path, enum server_bus_mode mode,
			     struct server **out)
{
	const struct server_options options = {
		.socket_path = path,
		.bus_mode = mode,
		.bus_name = "org.viommu1",
	};
	const struct server_callbacks callbacks = {
		.attach = test_attach,
		.peer_gone = test_peer_gone,
		.userdata = t,
	};

	return server_new(t->base, &options, &callbacks, out);
}

static void rm_rf_dir(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		check_note("could not remove %s", dir);
}

static void test_server_fini(struct test_server *t)
{
	server_free(t->server);
	t->server = NULL;
	event_base_free(t->base);
	rm_rf_dir(t->dir);
	current = NULL;
}

static sd_bus *client_connect(const char *path)
{
	char address[160];
	sd_bus *bus = NULL;

	snprintf(address, sizeof(address), "unix:path=%s", path);
	/* sd-bus setters return 0 or 1 on success. */
	CHECK(sd_bus_new(&bus) >= 0);
	CHECK(sd_bus_set_address(bus, address) >= 0);
	CHECK(sd_bus_negotiate_fds(bus, 1) >= 0);
	CHECK(sd_bus_start(bus) >= 0);
	return bus;
}

/* ---- pumping: the server loop and the clients, in turn ---- */

struct pending {
	sd_bus_message *reply;
	bool done;
};

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct pending *p = userdata;

	p->reply = sd_bus_message_ref(m);
	p->done = true;
	return 0;
}

static void pending_clear(struct pending *p)
{
	p->reply = sd_bus_message_unref(p->reply);
	p->done = false;
}

/* Runs until cond(arg) holds; false after 5 s. */
static bool pump(struct test_server *t, sd_bus **clients, size_t n, bool (*cond)(void *),
		 void *arg)
{
	time_t deadline = time(NULL) + 5;

	for (;;) {
		event_base_loop(t->base, EVLOOP_NONBLOCK);
		for (size_t i = 0; i < n; i++)
			if (clients[i])
				while (sd_bus_process(clients[i], NULL) > 0)
					;
		if (cond && cond(arg))
			return true;
		if (time(NULL) > deadline)
			return false;
		usleep(500);
	}
}

/* Gives late events 200 ms to show up. */
static void pump_idle(struct test_server *t, sd_bus **clients, size_t n)
{
	for (int i = 0; i < 200; i++) {
		event_base_loop(t->base, EVLOOP_NONBLOCK);
		for (size_t j = 0; j < n; j++)
			if (clients[j])
				while (sd_bus_process(clients[j], NULL) > 0)
					;
		usleep(1000);
	}
}

static bool pending_done(void *arg)
{
	return ((struct pending *)arg)->done;
}

struct pendings {
	struct pending *p;
	size_t n;
};

static bool all_done(void *arg)
{
	struct pendings *ps = arg;

	for (size_t i = 0; i < ps->n; i++)
		if (!ps->p[i].done)
			return false;
	return true;
}

struct gone_wait {
	struct test_server *t;
	size_t n;
};

static bool gone_reached(void *arg)
{
	struct gone_wait *w = arg;

	return w->t->ngone >= w->n;
}

static void call_async(sd_bus *bus, const char *destination, struct pending *p,
		       const char *method, const char *types, ...)
{
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *m = NULL;
	va_list ap;
	int r;

	CHECK(sd_bus_message_new_method_call(bus, &m, destination, TEST_PATH, TEST_IFACE,
					     method) >= 0);
	if (types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
		CHECK(r >= 0);
	}
	r = sd_bus_call_async(bus, NULL, m, on_reply, p, 0);
	if (r < 0)
		check_fail(__FILE__, __LINE__, "%s: %s", method, strerror(-r));
}

/* Whoami on one client: its peer as the server sees it. */
static void whoami(struct test_server *t, sd_bus *client, const char *destination,
		   struct server_peer *out)
{
	struct pending p = { 0 };
	uint32_t uid, gid, pid, ngroups;
	const char *id;
	int p2p;

	call_async(client, destination, &p, "Whoami", NULL);
	CHECK(pump(t, &client, 1, pending_done, &p));
	if (sd_bus_message_is_method_error(p.reply, NULL))
		check_note("Whoami: %s: %s", sd_bus_message_get_error(p.reply)->name,
			   sd_bus_message_get_error(p.reply)->message);
	CHECK(!sd_bus_message_is_method_error(p.reply, NULL));
	CHECK(sd_bus_message_read(p.reply, "usuuub", &uid, &id, &gid, &pid, &ngroups, &p2p) >= 0);
	memset(out, 0, sizeof(*out));
	out->uid = uid;
	out->gid = gid;
	out->pid = (pid_t)pid;
	out->ngroups = ngroups;
	out->p2p = p2p;
	snprintf(out->id, sizeof(out->id), "%s", id);
	pending_clear(&p);
}

/* PeerPid on one client: server_peer_pidfd()'s result and pid. */
static int peer_pid(struct test_server *t, sd_bus *client, const char *destination,
		    uint32_t *pid)
{
	struct pending p = { 0 };
	int32_t result;

	call_async(client, destination, &p, "PeerPid", NULL);
	CHECK(pump(t, &client, 1, pending_done, &p));
	CHECK(!sd_bus_message_is_method_error(p.reply, NULL));
	CHECK(sd_bus_message_read(p.reply, "iu", &result, pid) >= 0);
	pending_clear(&p);
	return result;
}

/* ---- the cases ---- */

static void test_echo_many_clients(void)
{
	struct test_server t;
	sd_bus *clients[4];
	struct pending p[8] = { 0 };
	struct pendings ps = { p, 8 };
	struct stat st;
	char text[8][16];
	int fds = check_count_fds();

	test_server_init(&t);
	CHECK_OK(test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server));
	CHECK(stat(t.path, &st) == 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0666);

	for (size_t i = 0; i < 4; i++)
		clients[i] = client_connect(t.path);
	/* Two calls in flight per client, all at once. */
	for (size_t i = 0; i < 8; i++) {
		snprintf(text[i], sizeof(text[i]), "hello %zu", i);
		call_async(clients[i % 4], NULL, &p[i], "Echo", "s", text[i]);
	}
	CHECK(pump(&t, clients, 4, all_done, &ps));
	for (size_t i = 0; i < 8; i++) {
		const char *s;

		CHECK(!sd_bus_message_is_method_error(p[i].reply, NULL));
		CHECK(sd_bus_message_read(p[i].reply, "s", &s) >= 0);
		CHECK_STREQ(s, text[i]);
		pending_clear(&p[i]);
	}
	CHECK_EQ(server_connection_count(t.server), 4);
	CHECK_EQ(t.attached, 4);

	for (size_t i = 0; i < 4; i++)
		clients[i] = sd_bus_flush_close_unref(clients[i]);
	struct gone_wait w = { &t, 4 };
	CHECK(pump(&t, NULL, 0, gone_reached, &w));
	CHECK_EQ(server_connection_count(t.server), 0);
	test_server_fini(&t);
	/* Every connection's fd is closed, and the loop's. */
	CHECK_EQ(check_count_fds(), fds);
}

static void test_socket_modes(void)
{
	struct test_server t;
	struct stat st;
	char dir[160];

	test_server_init(&t);
	CHECK_OK(test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server));
	CHECK(stat(t.path, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 0666);
	snprintf(dir, sizeof(dir), "%s/run", t.dir);
	CHECK(stat(dir, &st) == 0);
	CHECK_EQ(st.st_mode & 07777, 0755);
	server_free(t.server);
	t.server = NULL;
	/* A path it bound is removed on free. */
	CHECK(access(t.path, F_OK) < 0 && errno == ENOENT);
	test_server_fini(&t);
}

static void test_whoami(void)
{
	struct test_server t;
	struct server_peer peer;
	sd_bus *client;

	test_server_init(&t);
	CHECK_OK(test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server));
	client = client_connect(t.path);
	whoami(&t, client, NULL, &peer);
	CHECK_EQ(peer.uid, geteuid());
	CHECK_EQ(peer.gid, getegid());
	CHECK_EQ(peer.pid, getpid());
	CHECK(peer.p2p);
	CHECK(strncmp(peer.id, "p2p:", 4) == 0);
	CHECK(server_peer_alive(t.server, peer.id));
	CHECK(server_peer_bus(t.server, peer.id) != NULL);
	CHECK(!server_peer_alive(t.server, "p2p:999"));
	CHECK(server_peer_bus(t.server, "p2p:999") == NULL);
	CHECK(!server_peer_alive(t.server, ":1.999"));

	uint32_t pid;
	int r = peer_pid(&t, client, NULL, &pid);

	if (r == -EOPNOTSUPP)
		check_note("no SO_PEERPIDFD in this kernel");
	else
		CHECK(r == 0 && pid == (uint32_t)getpid());

	client = sd_bus_flush_close_unref(client);
	struct gone_wait w = { &t, 1 };
	CHECK(pump(&t, NULL, 0, gone_reached, &w));
	CHECK_STREQ(t.gone[0], peer.id);
	CHECK(!server_peer_alive(t.server, peer.id));
	CHECK(server_peer_bus(t.server, peer.id) == NULL);
	test_server_fini(&t);
}

static void test_fd_passing(void)
{
	struct test_server t;
	struct pending p[2] = { 0 };
	struct pendings ps = { p, 2 };
	struct server_peer peer;
	sd_bus *client;
	uint32_t mode;
	int pipefd[2];

	test_server_init(&t);
	CHECK_OK(test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server));
	client = client_connect(t.path);
	/* sd-bus sends fds only once it knows the server takes them, i.e.
	 * after the handshake: a blocking client waits for it there, this
	 * single-threaded one makes a first call. */
	whoami(&t, client, NULL, &peer);
	CHECK(pipe2(pipefd, O_CLOEXEC) == 0);
	call_async(client, NULL, &p[0], "FdMode", "h", pipefd[0]);
	call_async(client, NULL, &p[1], "FdMode", "h", STDIN_FILENO);
	close(pipefd[0]);
	close(pipefd[1]);
	CHECK(pump(&t, &client, 1, all_done, &ps));
	CHECK(!sd_bus_message_is_method_error(p[0].reply, NULL));
	CHECK(sd_bus_message_read(p[0].reply, "u", &mode) >= 0);
	CHECK(S_ISFIFO(mode));
	CHECK(!sd_bus_message_is_method_error(p[1].reply, NULL));
	pending_clear(&p[0]);
	pending_clear(&p[1]);
	client = sd_bus_flush_close_unref(client);
	struct gone_wait w = { &t, 1 };
	CHECK(pump(&t, NULL, 0, gone_reached, &w));
	test_server_fini(&t);
}

static void test_peer_gone_once(void)
{
	struct test_server t;
	struct server_peer peers[3];
	sd_bus *clients[3];
	struct gone_wait w = { &t, 1 };

	test_server_init(&t);
	CHECK_OK(test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server));
	for (size_t i = 0; i < 3; i++) {
		clients[i] = client_connect(t.path);
		whoami(&t, clients[i], NULL, &peers[i]);
	}
	CHECK(strcmp(peers[0].id, peers[1].id) != 0);
	CHECK(strcmp(peers[1].id, peers[2].id) != 0);
	CHECK_EQ(server_connection_count(t.server), 3);

	/* The middle one goes: only its id, once; the others live on. */
	clients[1] = sd_bus_flush_close_unref(clients[1]);
	CHECK(pump(&t, clients, 3, gone_reached, &w));
	CHECK_EQ(t.ngone, 1);
	CHECK_STREQ(t.gone[0], peers[1].id);
	CHECK_EQ(server_connection_count(t.server), 2);
	CHECK(server_peer_alive(t.server, peers[0].id));
	CHECK(!server_peer_alive(t.server, peers[1].id));

	struct server_peer again;

	whoami(&t, clients[2], NULL, &again);
	CHECK_STREQ(again.id, peers[2].id);

	clients[0] = sd_bus_flush_close_unref(clients[0]);
	clients[2] = sd_bus_flush_close_unref(clients[2]);
	w.n = 3;
	CHECK(pump(&t, NULL, 0, gone_reached, &w));
	/* A little more time: nothing is reported twice. */
	pump_idle(&t, NULL, 0);
	CHECK_EQ(t.ngone, 3);
	for (size_t i = 0; i < 3; i++)
		CHECK_EQ(gone_count(&t, peers[i].id), 1);
	CHECK_EQ(server_connection_count(t.server), 0);
	test_server_fini(&t);
}

static void test_server_disconnects(void)
{
	struct test_server t;
	struct server_peer peer;
	struct pending p = { 0 };
	sd_bus *client;
	struct gone_wait w = { &t, 1 };

	test_server_init(&t);
	CHECK_OK(test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server));
	client = client_connect(t.path);
	whoami(&t, client, NULL, &peer);
	call_async(client, NULL, &p, "KickMe", NULL);
	CHECK(pump(&t, &client, 1, gone_reached, &w));
	/* The reply still went out before the close. */
	CHECK(pump(&t, &client, 1, pending_done, &p));
	CHECK(!sd_bus_message_is_method_error(p.reply, NULL));
	pending_clear(&p);
	CHECK_STREQ(t.gone[0], peer.id);
	CHECK_EQ(server_connection_count(t.server), 0);
	CHECK_RET(server_peer_disconnect(t.server, peer.id), -ENOENT);
	CHECK_RET(server_peer_disconnect(t.server, ":1.5"), -EOPNOTSUPP);
	/* The client sees the hang-up. */
	pump_idle(&t, &client, 1);
	CHECK(sd_bus_is_open(client) <= 0);
	sd_bus_unref(client);
	test_server_fini(&t);
}

static void emit_hello(sd_bus *bus, void *userdata)
{
	CHECK(sd_bus_emit_signal(bus, TEST_PATH, TEST_IFACE, "Hello", "s", "to all") >= 0);
}

static int on_hello(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	(*(int *)userdata)++;
	return 0;
}

static bool signals_reached(void *arg)
{
	return *(int *)arg >= 3;
}

static void test_foreach_signal(void)
{
	struct test_server t;
	struct server_peer peer;
	sd_bus *clients[3];
	int received = 0;

	test_server_init(&t);
	CHECK_OK(test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server));
	for (size_t i = 0; i < 3; i++) {
		clients[i] = client_connect(t.path);
		CHECK(sd_bus_match_signal(clients[i], NULL, NULL, TEST_PATH, TEST_IFACE, "Hello",
					  on_hello, &received) >= 0);
		whoami(&t, clients[i], NULL, &peer);
	}
	/* From outside any dispatch, as a timer would. */
	server_foreach_bus(t.server, emit_hello, NULL);
	CHECK(pump(&t, clients, 3, signals_reached, &received));
	CHECK_EQ(received, 3);
	for (size_t i = 0; i < 3; i++)
		sd_bus_flush_close_unref(clients[i]);
	test_server_fini(&t);
}

static void sun_set_path(struct sockaddr_un *sa, const char *path)
{
	CHECK(strlen(path) < sizeof(sa->sun_path));
	memcpy(sa->sun_path, path, strlen(path) + 1);
}

static void test_stale_and_live_socket(void)
{
	struct test_server t;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct server *second = NULL;
	char dir[160];
	int fd;

	test_server_init(&t);
	snprintf(dir, sizeof(dir), "%s/run", t.dir);
	CHECK(mkdir(dir, 0700) == 0);
	/* A socket file nobody listens on: what a crash leaves. */
	sun_set_path(&sa, t.path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CHECK_OK(test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server));
	/* A live one is left alone. */
	CHECK_RET(test_server_start(&t, t.path, SERVER_BUS_NONE, &second), -EADDRINUSE);
	CHECK(access(t.path, F_OK) == 0);
	server_free(t.server);
	t.server = NULL;

	/* Not a socket: refused, not removed. */
	fd = open(t.path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK_RET(test_server_start(&t, t.path, SERVER_BUS_NONE, &second), -EEXIST);
	CHECK(access(t.path, F_OK) == 0);
	test_server_fini(&t);
}

static void test_listen_fds(void)
{
	struct test_server t;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct server_peer peer;
	char pid[32], passed[160];
	sd_bus *client;
	int fd, saved = -1, r;

	test_server_init(&t);
	/* The loop's own fds must not sit on fd 3: make it again afterwards. */
	event_base_free(t.base);
	snprintf(passed, sizeof(passed), "%s/passed.sock", t.dir);
	sun_set_path(&sa, passed);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(fd, 16) == 0);
	/* It must arrive as fd 3: move whatever holds 3 out of the way. */
	if (fd != 3) {
		if (fcntl(3, F_GETFD) >= 0)
			saved = fcntl(3, F_DUPFD_CLOEXEC, 10);
		CHECK(dup2(fd, 3) == 3);
		close(fd);
	}
	t.base = event_base_new();
	CHECK(t.base);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	r = test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	CHECK_OK(r);
	/* It did not bind the configured path. */
	CHECK(access(t.path, F_OK) < 0);

	client = client_connect(passed);
	whoami(&t, client, NULL, &peer);
	CHECK_EQ(peer.uid, geteuid());
	sd_bus_flush_close_unref(client);
	server_free(t.server);
	t.server = NULL;
	/* The socket file belongs to the service manager: still there. */
	CHECK(access(passed, F_OK) == 0);
	if (saved >= 0) {
		dup2(saved, 3);
		close(saved);
	}
	test_server_fini(&t);
}

/* A peer speaking nonsense is dropped; the others do not notice. */
static bool raw_closed(void *arg)
{
	struct pollfd p = { .fd = *(int *)arg, .events = POLLIN };
	char c;

	if (poll(&p, 1, 0) <= 0)
		return false;
	return recv(p.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

static bool no_connections(void *arg)
{
	struct test_server *t = arg;

	return server_connection_count(t->server) == 0;
}

static void test_garbage_peer(void)
{
	/* A valid EXTERNAL handshake, then a header no endianness marks. */
	static const char junk[] = "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
	char auth[96], uid[16];
	struct test_server t;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct server_peer peer, again;
	struct gone_wait w = { &t, 1 };
	sd_bus *client;
	int raw;

	test_server_init(&t);
	CHECK_OK(test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server));
	client = client_connect(t.path);
	whoami(&t, client, NULL, &peer);
	sun_set_path(&sa, t.path);
	raw = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(raw >= 0);
	CHECK(connect(raw, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	snprintf(uid, sizeof(uid), "%u", (unsigned int)geteuid());
	memcpy(auth, "\0AUTH EXTERNAL ", 16); /* 15 characters and a NUL */
	for (size_t i = 0; uid[i]; i++)
		snprintf(auth + 15 + 2 * i, 3, "%02x", (unsigned char)uid[i]);
	strcat(auth + 1, "\r\nBEGIN\r\n");
	CHECK(write(raw, auth, 1 + strlen(auth + 1)) == (ssize_t)(1 + strlen(auth + 1)));
	CHECK(write(raw, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	/* Closed at its header (socket-guard.c), whether sd-bus reads it while
	 * starting the connection or later: the socket sees the end. */
	CHECK(pump(&t, &client, 1, raw_closed, &raw));
	whoami(&t, client, NULL, &again);
	CHECK_STREQ(again.id, peer.id);
	close(raw);
	sd_bus_flush_close_unref(client);
	CHECK(pump(&t, NULL, 0, no_connections, &t));
	CHECK_EQ(gone_count(&t, peer.id), 1);
	(void)w;
	test_server_fini(&t);
}

struct count_wait {
	struct test_server *t;
	size_t n;
};

static bool count_reached(void *arg)
{
	struct count_wait *w = arg;

	return server_connection_count(w->t->server) == w->n;
}

/* Out of fds, the listener pauses instead of spinning, and then recovers. */
static void test_emfile(void)
{
	struct test_server t;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct rlimit saved, low;
	int raw[3], filler[64];
	size_t nfiller = 0;
	struct count_wait cw = { &t, 3 };
	struct gone_wait gw = { &t, 3 };

	test_server_init(&t);
	CHECK_OK(test_server_start(&t, t.path, SERVER_BUS_NONE, &t.server));
	sun_set_path(&sa, t.path);
	for (size_t i = 0; i < 3; i++) {
		raw[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		CHECK(raw[i] >= 0);
		CHECK(connect(raw[i], (struct sockaddr *)&sa, sizeof(sa)) == 0);
	}
	CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0);
	low = saved;
	low.rlim_cur = 64;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	while (nfiller < 64) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			break;
		filler[nfiller++] = fd;
	}
	/* A while without fds: nothing accepted, the loop keeps running. */
	time_t start = time(NULL);

	while (time(NULL) - start < 1) {
		event_base_loop(t.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	CHECK_EQ(server_connection_count(t.server), 0);
	while (nfiller > 0)
		close(filler[--nfiller]);
	CHECK(setrlimit(RLIMIT_NOFILE, &saved) == 0);
	CHECK(pump(&t, NULL, 0, count_reached, &cw));
	for (size_t i = 0; i < 3; i++)
		close(raw[i]);
	CHECK(pump(&t, NULL, 0, gone_reached, &gw));
	CHECK_EQ(server_connection_count(t.server), 0);
	test_server_fini(&t);
}

/* ---- the system bus, through a private dbus-daemon ---- */

static pid_t dbus_daemon_start(const char *dir, char *address, size_t size)
{
	static const char conf[] =
		"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
		" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		"<busconfig>\n"
		"  <type>system</type>\n"
		"  <listen>unix:path=%s/system_bus_socket</listen>\n"
		"  <auth>EXTERNAL</auth>\n"
		"  <policy context=\"default\">\n"
		"    <allow user=\"*\"/>\n"
		"    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
		"    <allow eavesdrop=\"true\"/>\n"
		"    <allow own=\"*\"/>\n"
		"  </policy>\n"
		"</busconfig>\n";
	char path[160], arg[192], fdarg[32];
	int pipefd[2];
	ssize_t n;
	FILE *f;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/bus.conf", dir);
	f = fopen(path, "we");
	CHECK(f);
	fprintf(f, conf, dir);
	fclose(f);
	CHECK(pipe2(pipefd, O_CLOEXEC) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* Keep the write end across exec: the address comes back on it. */
		int w = dup(pipefd[1]);

		snprintf(arg, sizeof(arg), "--config-file=%s", path);
		snprintf(fdarg, sizeof(fdarg), "--print-address=%d", w);
		execlp("dbus-daemon", "dbus-daemon", arg, "--nofork", "--nopidfile", fdarg,
		       (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	n = read(pipefd[0], address, size - 1);
	close(pipefd[0]);
	if (n <= 0) {
		waitpid(pid, NULL, 0);
		return -1;
	}
	address[n] = '\0';
	address[strcspn(address, "\n")] = '\0';
	return pid;
}

static void dbus_daemon_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* A private dbus-daemon as the system bus ($DBUS_SYSTEM_BUS_ADDRESS set to
 * it, address kept in address) and t's server started on it in mode; skips
 * without dbus-daemon. The bus daemon's pid. */
static pid_t system_bus_server(struct test_server *t, enum server_bus_mode mode, char *address,
			       size_t len)
{
	pid_t daemon;
	int r;

	if (access("/usr/bin/dbus-daemon", X_OK) < 0 && access("/bin/dbus-daemon", X_OK) < 0)
		check_skip("dbus-daemon is not installed");
	test_server_init(t);
	daemon = dbus_daemon_start(t->dir, address, len);
	CHECK(daemon > 0);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1);
	r = test_server_start(t, t->path, mode, &t->server);
	if (r < 0)
		dbus_daemon_stop(daemon);
	CHECK_OK(r);
	return daemon;
}

static void test_system_bus(void)
{
	struct test_server t;
	struct server *second = NULL;
	struct server_peer peer;
	struct pending p = { 0 };
	sd_bus *clients[2] = { 0 };
	const char *unique, *s;
	char address[256], unique_copy[SERVER_PEER_ID_MAX], path2[160];
	struct gone_wait w = { &t, 1 };
	pid_t daemon;
	int fds = check_count_fds(), r;

	daemon = system_bus_server(&t, SERVER_BUS_SYSTEM, address, sizeof(address));
	CHECK_EQ(t.attached, 1);
	/* The name is taken: a second daemon fails to start. */
	snprintf(path2, sizeof(path2), "%s/second.sock", t.dir);
	r = test_server_start(&t, path2, SERVER_BUS_SYSTEM, &second);
	if (r != -EEXIST)
		dbus_daemon_stop(daemon);
	CHECK_RET(r, -EEXIST);

	/* A client that never calls us, and one that does. */
	CHECK(sd_bus_open_system(&clients[0]) >= 0);
	CHECK(sd_bus_open_system(&clients[1]) >= 0);
	CHECK(sd_bus_get_unique_name(clients[1], &unique) >= 0);
	snprintf(unique_copy, sizeof(unique_copy), "%s", unique);

	call_async(clients[1], "org.viommu1", &p, "Echo", "s", "over the bus");
	CHECK(pump(&t, clients, 2, pending_done, &p));
	CHECK(!sd_bus_message_is_method_error(p.reply, NULL));
	CHECK(sd_bus_message_read(p.reply, "s", &s) >= 0);
	CHECK_STREQ(s, "over the bus");
	pending_clear(&p);

	whoami(&t, clients[1], "org.viommu1", &peer);
	CHECK_STREQ(peer.id, unique_copy);
	CHECK_EQ(peer.uid, geteuid());
	/* No gid from /proc after the fact: the bus's UnixGroupIDs hold it. */
	CHECK_EQ(peer.gid, SERVER_GID_UNKNOWN);
	{
		bool primary = false;

		for (size_t i = 0; i < peer.ngroups; i++)
			primary |= peer.groups[i] == getegid();
		CHECK(primary);
	}
	CHECK_EQ(peer.pid, getpid());
	CHECK(!peer.p2p);
	CHECK(server_peer_alive(t.server, unique_copy));
	CHECK(server_peer_bus(t.server, unique_copy) != NULL);
	/* No pidfd from the bus: the client passes one itself. */
	uint32_t pid;

	CHECK_RET(peer_pid(&t, clients[1], "org.viommu1", &pid), -ENXIO);
	/* Cached: the same answer again. */
	whoami(&t, clients[1], "org.viommu1", &peer);
	CHECK_STREQ(peer.id, unique_copy);
	CHECK_EQ(server_connection_count(t.server), 0);

	clients[0] = sd_bus_flush_close_unref(clients[0]);
	clients[1] = sd_bus_flush_close_unref(clients[1]);
	CHECK(pump(&t, NULL, 0, gone_reached, &w));
	pump_idle(&t, NULL, 0);
	CHECK_EQ(t.ngone, 1);
	CHECK_STREQ(t.gone[0], unique_copy);
	CHECK(!server_peer_alive(t.server, unique_copy));

	server_free(t.server);
	t.server = NULL;
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	dbus_daemon_stop(daemon);
	test_server_fini(&t);
	CHECK_EQ(check_count_fds(), fds);
}

/*
 * A new system-bus caller waits for the bus daemon to say who it is; the
 * loop does not. With the bus daemon stopped after the call reached us, a
 * private-socket client is answered while that call is held (its handler has
 * not run), and it runs, with the right caller, once the bus answers.
 */
static void test_system_bus_slow_credentials(void)
{
	struct test_server t;
	struct server_peer peer;
	struct pending held = { 0 }, echo = { 0 };
	sd_bus *known = NULL, *fresh = NULL, *p2p, *server_bus;
	char address[256], fresh_name[SERVER_PEER_ID_MAX];
	const char *unique, *id;
	uint32_t uid;
	struct pollfd pfd = { .events = POLLIN };
	pid_t daemon;
	int r;

	daemon = system_bus_server(&t, SERVER_BUS_SYSTEM, address, sizeof(address));
	CHECK(sd_bus_open_system(&known) >= 0);
	CHECK(sd_bus_open_system(&fresh) >= 0);
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	whoami(&t, known, "org.viommu1", &peer);
	server_bus = server_peer_bus(t.server, peer.id);
	CHECK(server_bus);
	pfd.fd = sd_bus_get_fd(server_bus);
	CHECK(pfd.fd >= 0);
	CHECK(sd_bus_get_unique_name(fresh, &unique) >= 0);
	snprintf(fresh_name, sizeof(fresh_name), "%s", unique);

	t.whoamis = 0;
	call_async(fresh, "org.viommu1", &held, "Whoami", NULL);
	CHECK(sd_bus_flush(fresh) >= 0);
	/* The call is in the server's socket: then the bus daemon stops. */
	CHECK(poll(&pfd, 1, 5000) == 1);
	CHECK(kill(daemon, SIGSTOP) == 0);
	p2p = client_connect(t.path);
	call_async(p2p, NULL, &echo, "Echo", "s", "meanwhile");
	r = pump(&t, &p2p, 1, pending_done, &echo);
	kill(daemon, SIGCONT);
	if (!r || t.whoamis)
		dbus_daemon_stop(daemon); /* a failed check must not leave it running */
	CHECK(r);
	CHECK(!sd_bus_message_is_method_error(echo.reply, NULL));
	CHECK_EQ(t.whoamis, 0);
	CHECK(pump(&t, &fresh, 1, pending_done, &held));
	CHECK(!sd_bus_message_is_method_error(held.reply, NULL));
	CHECK(sd_bus_message_read(held.reply, "us", &uid, &id) >= 0);
	CHECK_EQ(uid, geteuid());
	CHECK_STREQ(id, fresh_name);
	CHECK_EQ(t.whoamis, 1);
	pending_clear(&held);
	pending_clear(&echo);
	sd_bus_flush_close_unref(p2p);
	sd_bus_flush_close_unref(known);
	sd_bus_flush_close_unref(fresh);
	server_free(t.server);
	t.server = NULL;
	dbus_daemon_stop(daemon);
	test_server_fini(&t);
}

/* The bus daemon dies: every client seen there is gone, the private
 * socket keeps serving. */
static void test_system_bus_lost(void)
{
	struct test_server t;
	struct server_peer peer;
	sd_bus *client = NULL, *p2p;
	char address[256], unique[SERVER_PEER_ID_MAX];
	struct gone_wait w = { &t, 1 };
	pid_t daemon;
	int r;

	daemon = system_bus_server(&t, SERVER_BUS_AUTO, address, sizeof(address));
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	CHECK_EQ(t.attached, 1); /* AUTO found the bus through the variable */

	setenv("DBUS_SYSTEM_BUS_ADDRESS", address, 1);
	r = sd_bus_open_system(&client);
	unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	CHECK(r >= 0);
	whoami(&t, client, "org.viommu1", &peer);
	snprintf(unique, sizeof(unique), "%s", peer.id);
	dbus_daemon_stop(daemon);
	CHECK(pump(&t, &client, 1, gone_reached, &w));
	CHECK_STREQ(t.gone[0], unique);
	CHECK(!server_peer_alive(t.server, unique));
	sd_bus_unref(client);

	p2p = client_connect(t.path);
	whoami(&t, p2p, NULL, &peer);
	CHECK(peer.p2p);
	sd_bus_flush_close_unref(p2p);
	test_server_fini(&t);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_echo_many_clients),
		CHECK_CASE(test_socket_modes),
		CHECK_CASE(test_whoami),
		CHECK_CASE(test_fd_passing),
		CHECK_CASE(test_peer_gone_once),
		CHECK_CASE(test_server_disconnects),
		CHECK_CASE(test_foreach_signal),
		CHECK_CASE(test_stale_and_live_socket),
		CHECK_CASE(test_listen_fds),
		CHECK_CASE(test_emfile),
		CHECK_CASE(test_garbage_peer),
		CHECK_CASE(test_system_bus),
		CHECK_CASE(test_system_bus_lost),
		CHECK_CASE(test_system_bus_slow_credentials),
	};

	signal(SIGPIPE, SIG_IGN);
	log_set_max_priority(getenv("TEST_DEBUG") ? LOG_DEBUG : LOG_WARNING);
	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
