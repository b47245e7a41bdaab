/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A test hook around every kernel call of this layer: the ioctl helpers of
 * iommufd.c, vfio.c and selftest.c, and iommufd_open(). It exists for the
 * fault-injection sweep (tests/integration/test-fail-nth.c), which arms the
 * kernel's per-thread fail-nth just before one call and reads it back just
 * after, so that an injected failure lands in that call and nowhere else.
 * Unset (the daemon, the tools), it costs one branch on a NULL pointer.
 */
#pragma once

#include <stdbool.h>

/* The request of iommufd_open(): open("/dev/iommu"), not an ioctl. */
#define KERNEL_CALL_OPEN_IOMMUFD 0ul

/* request: the ioctl request (or KERNEL_CALL_OPEN_IOMMUFD); arg: its argument
 * (NULL for the open); after: false just before the call, true just after it,
 * with result its 0 (an fd for the open) or negative errno. */
typedef void (*kernel_call_hook_fn)(unsigned long request, const void *arg, bool after,
				    int result, void *ud);

/* Sets the hook for the whole process (NULL: none). Not thread-safe: set it
 * while no other thread makes kernel calls. */
void kernel_call_hook_set(kernel_call_hook_fn fn, void *ud);

/* For the helpers. */
extern kernel_call_hook_fn kernel_call_hook;
extern void *kernel_call_hook_ud;

static inline void kernel_call_hook_run(unsigned long request, const void *arg, bool after,
					int result)
{
	if (kernel_call_hook)
		kernel_call_hook(request, arg, after, result, kernel_call_hook_ud);
}
