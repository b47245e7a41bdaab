/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "verror.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 0))) static int error_vset(struct verror *error, const char *name,
							     const char *fmt, va_list ap)
{
	if (error && !error->name) {
		error->name = name;
		vsnprintf(error->message, sizeof(error->message), fmt, ap);
	}
	return wire_error_errno(name);
}

int error_set(struct verror *error, const char *name, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = error_vset(error, name, fmt, ap);
	va_end(ap);
	return r;
}

int error_kernel(struct verror *error, int r, const char *ioctl_name, const char *what)
{
	error_set(error, VIOMMU_ERROR_KERNEL, "%s: %s failed: %s (errno %d)", what, ioctl_name,
		  strerror(-r), -r);
	return r;
}

static const char *error_name_of_errno(int r)
{
	switch (-r) {
	case ENOENT:
	case ENODEV:
		return VIOMMU_ERROR_NOT_FOUND;
	case EBUSY:
	case EEXIST:
	case EADDRINUSE:
		return VIOMMU_ERROR_BUSY;
	case EPERM:
	case EACCES:
		return VIOMMU_ERROR_PERMISSION_DENIED;
	case EINVAL:
	case ERANGE:
	case EOVERFLOW:
	case EBADF:
	case ENOSPC:
	case EMSGSIZE:
	case E2BIG:
		return VIOMMU_ERROR_INVALID_ARGUMENT;
	case EOPNOTSUPP:
	case ENOTTY:
		return VIOMMU_ERROR_NOT_SUPPORTED;
	case EDQUOT:
		return VIOMMU_ERROR_QUOTA_EXCEEDED;
	default:
		return VIOMMU_ERROR_KERNEL;
	}
}

int error_errno(struct verror *error, int r, const char *fmt, ...)
{
	char message[VERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	error_set(error, error_name_of_errno(r), "%s: %s", message, strerror(-r));
	return r;
}
