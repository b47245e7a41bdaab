/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "options.h"

#include <errno.h>
#include <string.h>

#include "errors.h"

static const char *option_signature(enum option_type type)
{
	switch (type) {
	case OPTION_BOOL:
		return "b";
	case OPTION_STRING:
		return "s";
	case OPTION_PATH:
		return "o";
	case OPTION_U32:
		return "u";
	case OPTION_U64:
		return "t";
	case OPTION_BYTES:
		return "ay";
	}
	return "";
}

static int option_read_value(sd_bus_message *m, const struct option_spec *spec,
			     sd_bus_error *error)
{
	const void *bytes;
	const char *text;
	size_t n;
	int b, r;

	switch (spec->type) {
	case OPTION_BOOL:
		r = sd_bus_message_read(m, "b", &b);
		if (r >= 0)
			*(bool *)spec->out = b;
		return r;
	case OPTION_STRING:
	case OPTION_PATH:
		r = sd_bus_message_read(m, option_signature(spec->type), &text);
		if (r < 0)
			return r;
		if (strlen(text) >= spec->size)
			return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "option \"%s\" is longer than %zu bytes", spec->name,
					 spec->size - 1);
		strcpy(spec->out, text);
		return 0;
	case OPTION_U32:
		return sd_bus_message_read(m, "u", spec->out);
	case OPTION_U64:
		return sd_bus_message_read(m, "t", spec->out);
	case OPTION_BYTES:
		r = sd_bus_message_read_array(m, 'y', &bytes, &n);
		if (r < 0)
			return r;
		if (n > spec->size)
			return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "option \"%s\" holds %zu bytes, at most %zu are allowed",
					 spec->name, n, spec->size);
		memcpy(spec->out, bytes, n);
		*spec->len = n;
		return 0;
	}
	return -EINVAL;
}

int options_read(sd_bus_message *m, const struct option_spec *specs, size_t count,
		 sd_bus_error *error)
{
	uint64_t seen = 0;
	int r;

	/* No message: the defaults (batched calls take no per-item options). */
	if (!m)
		return 0;
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const struct option_spec *spec = NULL;
		const char *name;
		size_t i;

		r = sd_bus_message_read(m, "s", &name);
		if (r < 0)
			return r;
		for (i = 0; i < count && !spec; i++)
			if (strcmp(specs[i].name, name) == 0)
				spec = &specs[i];
		if (!spec)
			return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT, "unknown option \"%s\"",
					 name);
		i--;
		if (seen & (UINT64_C(1) << i))
			return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "option \"%s\" is given twice", name);
		seen |= UINT64_C(1) << i;
		r = sd_bus_message_enter_container(m, 'v', option_signature(spec->type));
		if (r == -ENXIO || r == -EBADMSG)
			return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "option \"%s\" takes a value of type \"%s\"", name,
					 option_signature(spec->type));
		if (r < 0)
			return r;
		r = option_read_value(m, spec, error);
		if (r < 0)
			return r;
		if (spec->present)
			*spec->present = true;
		r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}
