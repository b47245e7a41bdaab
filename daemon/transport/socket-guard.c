/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sd-bus 252 buffers a message that arrives in pieces until it is whole, with
 * every fd that came with a piece, and offers no hook before: a peer that
 * announces a large body, or sends one byte and 253 fds at a time, fills the
 * daemon's memory or fd table long before a bus filter sees the message. So
 * the daemon defines recvmsg(2) itself; libsystemd's calls resolve to it as
 * to any interposed symbol. Every call goes to the kernel unchanged. For the
 * sockets of private-socket connections the bytes read are followed through
 * the D-Bus framing: the authentication lines up to BEGIN, then each
 * message's fixed header (byte order, version, body and header-field
 * lengths; the D-Bus specification's first 16 bytes). A message announcing
 * more than the limits, or bringing more fds, fails that read, having
 * buffered at most its 16 header bytes, and sd-bus closes the connection.
 * Nothing else of the protocol is parsed here.
 */
#include "socket-guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log-event.h"
#include "log.h"

/* The header fields (path, interface, member, signature, ...) of any call. */
#define FIELDS_MAX (64u * 1024)
#define PEER_MAX 64

struct guard {
	struct socket_guard_limits limits;
	char peer[PEER_MAX];
	bool authenticated;
	char line[8]; /* the start of the current authentication line */
	size_t line_len;
	uint8_t header[16];
	size_t header_len;
	uint64_t remaining; /* bytes of the current message after its header */
	unsigned int fds;   /* fds the current message brought */
	uint64_t since;	    /* when its first byte came; 0 between messages */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct guard **guards; /* by fd */
static size_t nguards;

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int socket_guard_add(int fd, const struct socket_guard_limits *limits, const char *peer)
{
	struct guard *g = calloc(1, sizeof(*g));
	int r = 0;

	if (!g || fd < 0)
		return g ? -EBADF : -ENOMEM;
	g->limits = *limits;
	strncpy(g->peer, peer ? peer : "?", sizeof(g->peer) - 1);
	pthread_mutex_lock(&lock);
	if ((size_t)fd >= nguards) {
		size_t n = (size_t)fd + 64;
		struct guard **grown = realloc(guards, n * sizeof(*grown));

		if (grown) {
			memset(grown + nguards, 0, (n - nguards) * sizeof(*grown));
			guards = grown;
			nguards = n;
		} else {
			r = -ENOMEM;
		}
	}
	if (r == 0) {
		free(guards[fd]);
		guards[fd] = g;
	}
	pthread_mutex_unlock(&lock);
	if (r < 0)
		free(g);
	return r;
}

void socket_guard_remove(int fd)
{
	pthread_mutex_lock(&lock);
	if (fd >= 0 && (size_t)fd < nguards) {
		free(guards[fd]);
		guards[fd] = NULL;
	}
	pthread_mutex_unlock(&lock);
}

uint64_t socket_guard_partial_since(int fd)
{
	uint64_t since = 0;

	pthread_mutex_lock(&lock);
	if (fd >= 0 && (size_t)fd < nguards && guards[fd])
		since = guards[fd]->since;
	pthread_mutex_unlock(&lock);
	return since;
}

static uint32_t header_u32(const uint8_t *h, size_t off)
{
	uint32_t v;

	memcpy(&v, h + off, sizeof(v));
	if ((h[0] == 'B') != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__))
		v = __builtin_bswap32(v);
	return v;
}

/* A whole fixed header: how much of the message is still to come. */
static const char *header_check(struct guard *g)
{
	uint32_t body = header_u32(g->header, 4), fields = header_u32(g->header, 12);

	if ((g->header[0] != 'l' && g->header[0] != 'B') || g->header[3] != 1)
		return "not a D-Bus message";
	if (fields > FIELDS_MAX)
		return "header fields over 64 KiB";
	if (g->limits.max_body && body > g->limits.max_body)
		return "body over the limit (quota_message_bytes)";
	/* Fields start at 16; the body at the next multiple of 8 after them. */
	g->remaining = (((uint64_t)16 + fields + 7) & ~7ull) - 16 + body;
	return NULL;
}

/* Follows n bytes of data; the reason to refuse, or NULL. */
static const char *follow(struct guard *g, const uint8_t *p, size_t n)
{
	while (n) {
		if (!g->authenticated) {
			char c = (char)*p++;

			n--;
			if (g->line_len < sizeof(g->line))
				g->line[g->line_len] = c;
			g->line_len++;
			if (c != '\n')
				continue;
			/* "BEGIN\r\n" ends the authentication; a message follows. */
			if (g->line_len == 7 && memcmp(g->line, "BEGIN\r\n", 7) == 0)
				g->authenticated = true;
			g->line_len = 0;
			continue;
		}
		if (!g->since)
			g->since = now_usec();
		if (g->header_len < sizeof(g->header)) {
			size_t take = sizeof(g->header) - g->header_len;
			const char *why;

			take = take < n ? take : n;
			memcpy(g->header + g->header_len, p, take);
			g->header_len += take;
			p += take;
			n -= take;
			if (g->header_len < sizeof(g->header))
				continue;
			why = header_check(g);
			if (why)
				return why;
		} else {
			size_t take = g->remaining < n ? (size_t)g->remaining : n;

			g->remaining -= take;
			p += take;
			n -= take;
		}
		if (g->header_len == sizeof(g->header) && g->remaining == 0) {
			g->header_len = 0;
			g->fds = 0;
			g->since = 0;
		}
	}
	return NULL;
}

static void close_received_fds(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
	msg->msg_controllen = 0;
}

static const char *account(struct guard *g, struct msghdr *msg, size_t n)
{
	unsigned int fds = 0;
	size_t left = n;
	const char *why = NULL;

	for (struct cmsghdr *c = msg->msg_controllen ? CMSG_FIRSTHDR(msg) : NULL; c;
	     c = CMSG_NXTHDR(msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			fds += (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	/* The fds came with the first of these bytes: its message counts them. */
	if (fds && !g->authenticated)
		return "fds before the authentication ended";
	g->fds += fds;
	if (g->limits.max_fds && g->fds > g->limits.max_fds)
		return "more fds than the limit (quota_message_fds)";
	for (size_t i = 0; !why && left && i < (size_t)msg->msg_iovlen; i++) {
		size_t take = msg->msg_iov[i].iov_len < left ? msg->msg_iov[i].iov_len : left;

		why = follow(g, msg->msg_iov[i].iov_base, take);
		left -= take;
	}
	return why;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t n = syscall(SYS_recvmsg, fd, msg, flags);
	const char *why = NULL;
	char peer[PEER_MAX] = "";

	if (n <= 0 || (flags & MSG_PEEK) || fd < 0)
		return n;
	pthread_mutex_lock(&lock);
	if ((size_t)fd < nguards && guards[fd]) {
		why = account(guards[fd], msg, (size_t)n);
		if (why)
			memcpy(peer, guards[fd]->peer, sizeof(peer));
	}
	pthread_mutex_unlock(&lock);
	if (!why)
		return n;
	/* The key the refusal counts against (viommud.conf(5)): fds or bytes. */
	log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE,
		  LOG_FIELDS(.limit = strstr(why, "fds") ? "quota_message_fds"
							 : "quota_message_bytes"),
		  "AUDIT quota-refused peer=%s what=connection dropped while reading a "
		  "message: %s",
		  peer, why);
	close_received_fds(msg);
	errno = ECONNRESET;
	return -1;
}
