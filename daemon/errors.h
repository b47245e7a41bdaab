/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The error contract: org.viommu1.Error.<Name>, each with a message a person
 * can act on. sd_bus_error_add_map() maps each name to an errno, so a client
 * library gets a useful negative errno too.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "wire.h"

/* Makes the names known to sd-bus (errno <-> name). Call once at start. */
int errors_register(void);

/* Sets error to name with a formatted message; returns the name's negative errno. */
int error_set(sd_bus_error *error, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A kernel call that failed for a reason the caller could not have checked:
 * names the ioctl and the errno. Returns r. */
int error_kernel(sd_bus_error *error, int r, const char *ioctl_name, const char *what);

/* Picks the name for a negative errno (ENOENT -> NotFound, EBUSY -> Busy,
 * EPERM/EACCES -> PermissionDenied, EINVAL/ERANGE/EOVERFLOW -> InvalidArgument,
 * EOPNOTSUPP -> NotSupported, EDQUOT -> QuotaExceeded, else Kernel). */
int error_errno(sd_bus_error *error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
