/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a private-socket connection may make the daemon hold while sd-bus
 * reads a message, bounded as it is read (socket-guard.c).
 */
#pragma once

#include <stdint.h>

struct socket_guard_limits {
	uint64_t max_body;     /* bytes of one message's body; 0: any */
	unsigned int max_fds; /* fds one message may bring; 0: any */
};

/* Watches what sd-bus reads from fd (a connection's socket, before its first
 * read) against limits; peer names it in the audit log. 0 or -errno. */
int socket_guard_add(int fd, const struct socket_guard_limits *limits, const char *peer);
/* Before fd closes. */
void socket_guard_remove(int fd);
/* Since when (CLOCK_MONOTONIC, usec) a message on fd has been half read;
 * 0 when none is. */
uint64_t socket_guard_partial_since(int fd);
