/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel-hook.h"

#include <stddef.h>

kernel_call_hook_fn kernel_call_hook;
void *kernel_call_hook_ud;

void kernel_call_hook_set(kernel_call_hook_fn fn, void *ud)
{
	kernel_call_hook = fn;
	kernel_call_hook_ud = ud;
}
