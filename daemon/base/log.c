/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static int log_max_priority = LOG_INFO;

void log_set_max_priority(int priority)
{
	log_max_priority = priority;
}

int log_get_max_priority(void)
{
	return log_max_priority;
}

void log_msg(int priority, const char *fmt, ...)
{
	int saved_errno = errno;
	char line[2048];
	va_list ap;

	if (priority > log_max_priority)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines from the loop never interleave. */
	fprintf(stderr, "<%d>%s\n", priority, line);
	errno = saved_errno;
}
