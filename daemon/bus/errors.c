/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

int errors_register(void)
{
	int r = sd_bus_error_add_map(wire_error_map);

	return r < 0 ? r : 0;
}

int bus_error(sd_bus_error *ret, const struct verror *e, int r)
{
	if (r < 0 && verror_is_set(e))
		sd_bus_error_set(ret, e->name, e->message);
	return r;
}

int bus_reply_empty(sd_bus_message *m, sd_bus_error *ret, const struct verror *e, int r)
{
	if (r < 0)
		return bus_error(ret, e, r);
	return sd_bus_reply_method_return(m, NULL);
}

int bus_error_set(sd_bus_error *error, const char *name, const char *fmt, ...)
{
	char message[VERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return sd_bus_error_set(error, name, message);
}

int bus_error_errno(sd_bus_error *error, int r, const char *fmt, ...)
{
	char message[VERROR_MESSAGE_MAX];
	struct verror e = VERROR_INIT;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return bus_error(error, &e, error_errno(&e, r, "%s", message));
}
