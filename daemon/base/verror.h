/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A failed operation's named error: org.viommu1.Error.<Name> (wire.h) with a
 * message a person can act on. The model and everything under it report
 * through this, never through D-Bus; the bus layer turns it into the reply
 * (errors.h). The functions return the name's negative errno (wire.h), so
 * `return error_set(error, ...)` reports and fails in one step.
 */
#pragma once

#include <stdbool.h>

#include "wire.h"

#define VERROR_MESSAGE_MAX 512

struct verror {
	const char *name; /* NULL: nothing was said */
	char message[VERROR_MESSAGE_MAX];
};

#define VERROR_INIT { .name = NULL }

static inline bool verror_is_set(const struct verror *e)
{
	return e && e->name;
}

/* Sets error to name with a formatted message (the first error said wins). */
int error_set(struct verror *error, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A kernel call that failed for a reason the caller could not have checked:
 * names the ioctl and the errno. Returns r. */
int error_kernel(struct verror *error, int r, const char *ioctl_name, const char *what);

/* The error name for a negative errno (ENOENT -> NotFound, EBUSY -> Busy,
 * EPERM/EACCES -> PermissionDenied, EINVAL/ERANGE/EOVERFLOW -> InvalidArgument,
 * EOPNOTSUPP -> NotSupported, EDQUOT -> QuotaExceeded, else Kernel), with the
 * message and strerror(-r) after it. Returns r. */
int error_errno(struct verror *error, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
