/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The private socket's listener: the socket systemd passes or one we bind,
 * and accepting from it (with a pause when out of fds). */
#include "server-internal.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include "log.h"

#define ACCEPT_TRIES 16 /* past connections that died in the backlog */
#define ACCEPT_BACKOFF_USEC 250000

static void on_accept(evutil_socket_t listen_fd, short what, void *userdata);

static void on_backoff(evutil_socket_t fd, short what, void *userdata)
{
	struct server *server = userdata;

	if (event_add(server->accept_ev, NULL) < 0)
		log_error("Cannot resume accepting connections");
}

static void on_accept(evutil_socket_t listen_fd, short what, void *userdata)
{
	struct server *server = userdata;
	struct timeval backoff = { .tv_usec = ACCEPT_BACKOFF_USEC };

	for (int n = 0; n < ACCEPT_TRIES; n++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			server->accept_starved = false;
			server_conn_new_p2p(server, fd);
			/* One per wake-up: the listening socket is level-triggered,
			 * so the next comes with the next loop iteration, and a
			 * lone connect costs no accept4() that finds nothing. */
			return;
		}
		switch (errno) {
		case EAGAIN:
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* The connection waits in the backlog; polling now
			 * would spin on it. */
			log_msg(server->accept_starved ? LOG_DEBUG : LOG_WARNING,
				"Cannot accept a connection: %s; pausing for %d ms",
				strerror(errno), ACCEPT_BACKOFF_USEC / 1000);
			server->accept_starved = true;
			event_del(server->accept_ev);
			event_add(server->backoff_ev, &backoff);
			return;
		default:
			log_error("Cannot accept a connection: %s", strerror(errno));
			return;
		}
	}
}

/*
 * A listening AF_UNIX stream socket passed by the service manager. LISTEN_FDS
 * may also carry the fd store (restart), so the variables stay set for the
 * state code and only the one listening socket is taken. 1 when adopted.
 */
static int server_adopt_listen_fd(int *out)
{
	int n, found = -1;

	n = sd_listen_fds(0);
	if (n <= 0)
		return n;
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		int r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);

		if (r == -EBADF)
			continue;
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (found >= 0) {
			log_error("LISTEN_FDS passes more than one listening socket (fds %d and %d)",
				  found, fd);
			return -EINVAL;
		}
		found = fd;
	}
	if (found < 0)
		return 0;
	if (fcntl(found, F_SETFL, fcntl(found, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(found, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	*out = found;
	return 1;
}

static int make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0)
		return errno == EEXIST ? 0 : -errno;
	/* Not the umask's idea: clients of every uid must reach the socket. */
	if (chmod(dir, 0755) < 0)
		return -errno;
	return 0;
}

/* A socket file nobody listens on is removed; a live one is another daemon. */
static int remove_stale_socket(const struct sockaddr_un *sa)
{
	__attribute__((cleanup(closep))) int probe = -1;
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_error("%s exists and is not a socket; not touching it", sa->sun_path);
		return -EEXIST;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe < 0)
		return -errno;
	if (connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN) {
		log_error("%s is in use: is another viommud running?", sa->sun_path);
		return -EADDRINUSE;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int server_bind(const char *path, int *out)
{
	__attribute__((cleanup(closep))) int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = make_parent_dir(path);
	if (r < 0)
		return r;
	r = remove_stale_socket(&sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	/* Who may do what is decided per call, not by the file mode. */
	if (chmod(path, 0666) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		unlink(path);
		return r;
	}
	*out = fd;
	fd = -1;
	return 0;
}

int server_listen(struct server *server, const char *path)
{
	int r;

	r = server_adopt_listen_fd(&server->listen_fd);
	if (r < 0)
		return r;
	if (r > 0) {
		log_info("Listening on the socket passed by the service manager (fd %d)",
			 server->listen_fd);
	} else {
		r = server_bind(path, &server->listen_fd);
		if (r < 0) {
			log_error("Cannot listen on %s: %s", path, strerror(-r));
			return r;
		}
		server->socket_path = strdup(path);
		if (!server->socket_path)
			return -ENOMEM;
		log_info("Listening on %s", path);
	}
	server->accept_ev = event_new(server->base, server->listen_fd, EV_READ | EV_PERSIST,
				      on_accept, server);
	server->backoff_ev = evtimer_new(server->base, on_backoff, server);
	if (!server->accept_ev || !server->backoff_ev || event_add(server->accept_ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}


void server_unlisten(struct server *server)
{
	if (server->accept_ev)
		event_free(server->accept_ev);
	if (server->backoff_ev)
		event_free(server->backoff_ev);
	/* A socket passed by the service manager stays its business. */
	if (server->socket_path)
		unlink(server->socket_path);
	if (server->listen_fd >= 0)
		close(server->listen_fd);
	free(server->socket_path);
}
