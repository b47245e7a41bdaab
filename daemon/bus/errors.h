/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The error contract on the bus: org.viommu1.Error.<Name>, each with a message
 * a person can act on. sd_bus_error_add_map() maps each name to an errno, so a
 * client library gets a useful negative errno too. The model says its errors
 * through struct verror (verror.h); bus_error() turns them into the reply.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "verror.h"
#include "wire-bus.h"

/* Makes the names known to sd-bus (errno <-> name). Call once at start. */
int errors_register(void);

/* Sets ret to what e says; a bare negative errno (nothing said: -ENOMEM, a
 * failed sd-bus call) is left to sd-bus. Returns r. */
int bus_error(sd_bus_error *ret, const struct verror *e, int r);

/* The reply of a method that returns nothing: e's error when r < 0 (as
 * bus_error()), else an empty method return. */
int bus_reply_empty(sd_bus_message *m, sd_bus_error *ret, const struct verror *e, int r);

/* The same as error_set(), error_kernel() and error_errno() for a reply. */
int bus_error_set(sd_bus_error *error, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int bus_error_errno(sd_bus_error *error, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
