/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The backend-independent part of the output interface. */
#include "output-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int out_free(struct out *o)
{
	int r = 0;

	if (!o)
		return 0;
	o->ops->free(o);
	if (fflush(o->f) != 0 || ferror(o->f) || o->failed)
		r = -EIO;
	free(o);
	return r;
}

void out_object_begin(struct out *o, const char *key, const char *label)
{
	o->ops->object_begin(o, key, label);
}

void out_object_end(struct out *o)
{
	o->ops->object_end(o);
}

void out_field(struct out *o, const char *key, const char *label, struct out_value v)
{
	o->ops->field(o, key, label, v);
}

void out_table_begin(struct out *o, const char *key, const char *label,
		     const struct out_column *cols, size_t ncols, unsigned int flags)
{
	o->ops->table_begin(o, key, label, cols, ncols, flags);
}

void out_row(struct out *o, const struct out_value *cells)
{
	o->ops->row(o, cells);
}

void out_table_end(struct out *o)
{
	o->ops->table_end(o);
}

static char *bytes_text(uint64_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)n;
	unsigned int u = 0;
	char *s = NULL;

	if (n < 1024)
		return asprintf(&s, "%" PRIu64 " B", n) < 0 ? NULL : s;
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	return asprintf(&s, "%.1f %s (%" PRIu64 ")", v, units[u], n) < 0 ? NULL : s;
}

static char *strv_text(char *const *v)
{
	size_t len = 1;
	char *s, *p;

	if (!v || !v[0])
		return strdup("-");
	for (size_t i = 0; v[i]; i++)
		len += strlen(v[i]) + 2;
	s = malloc(len);
	if (!s)
		return NULL;
	p = s;
	for (size_t i = 0; v[i]; i++)
		p += sprintf(p, "%s%s", i ? ", " : "", v[i]);
	return s;
}

char *out_value_text(struct out_value v)
{
	char *s = NULL;
	int r = 0;

	switch (v.kind) {
	case OUT_NONE:
		return strdup("-");
	case OUT_STR:
		return strdup(v.s && *v.s ? v.s : "-");
	case OUT_U64:
		r = asprintf(&s, "%" PRIu64, v.u);
		break;
	case OUT_I64:
		r = asprintf(&s, "%" PRId64, v.i);
		break;
	case OUT_BOOL:
	case OUT_GOOD:
		return strdup(v.b ? "yes" : "no");
	case OUT_HEX:
		r = asprintf(&s, "0x%" PRIx64, v.u);
		break;
	case OUT_BYTES:
		return bytes_text(v.u);
	case OUT_STRV:
		return strv_text(v.v);
	}
	return r < 0 ? NULL : s;
}
