/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON backend: objects become JSON objects, tables arrays of objects
 * keyed by the columns' keys. A finished top-level value is printed pretty;
 * a streamed table prints each row as one line as soon as it comes.
 */
#include "output-internal.h"

#include <json-c/json.h>
#include <stdlib.h>

#define DEPTH_MAX 8
#define PRETTY (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
			 JSON_C_TO_STRING_NOSLASHESCAPE)
#define PLAIN (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct jlevel {
	struct json_object *obj;
	const char *key; /* its member name in the parent object */
	const struct out_column *cols;
	size_t ncols;
	bool stream;
};

struct out_json {
	struct out base;
	unsigned int depth;
	struct jlevel stack[DEPTH_MAX];
};

static struct out_json *J(struct out *o)
{
	return (struct out_json *)o;
}

static struct json_object *json_value(struct out_value v)
{
	struct json_object *a;

	switch (v.kind) {
	case OUT_NONE:
		break;
	case OUT_STR:
		return json_object_new_string(v.s ? v.s : "");
	case OUT_U64:
	case OUT_HEX:
	case OUT_BYTES:
		return json_object_new_uint64(v.u);
	case OUT_I64:
		return json_object_new_int64(v.i);
	case OUT_BOOL:
	case OUT_GOOD:
		return json_object_new_boolean(v.b);
	case OUT_STRV:
		a = json_object_new_array();
		for (size_t i = 0; a && v.v && v.v[i]; i++)
			if (json_object_array_add(a, json_object_new_string(v.v[i])) < 0) {
				json_object_put(a);
				return NULL;
			}
		return a;
	}
	return NULL;
}

static void print(struct out_json *j, struct json_object *obj, int flags)
{
	fprintf(j->base.f, "%s\n", json_object_to_json_string_ext(obj, flags));
	fflush(j->base.f);
}

/* Adds value to the innermost container (a NULL value is JSON null). */
static void attach(struct out_json *j, const char *key, struct json_object *value)
{
	struct jlevel *l = j->depth ? &j->stack[j->depth - 1] : NULL;
	int r;

	if (!l) {
		print(j, value, PRETTY);
		json_object_put(value);
		return;
	}
	if (json_object_is_type(l->obj, json_type_array))
		r = json_object_array_add(l->obj, value);
	else
		r = json_object_object_add(l->obj, key, value);
	if (r < 0) {
		json_object_put(value);
		j->base.failed = true;
	}
}

static void push(struct out_json *j, struct json_object *obj, const char *key)
{
	if (!obj || j->depth == DEPTH_MAX) {
		json_object_put(obj);
		j->base.failed = true;
		/* Keep the nesting balanced: an orphan level swallows its content. */
		obj = NULL;
	}
	if (j->depth < DEPTH_MAX)
		j->stack[j->depth++] = (struct jlevel){ .obj = obj, .key = key };
}

static void pop(struct out_json *j)
{
	struct jlevel l = j->stack[--j->depth];

	if (!l.obj)
		return;
	if (l.stream) {
		json_object_put(l.obj);
		return;
	}
	attach(j, l.key, l.obj);
}

static void json_object_begin(struct out *o, const char *key, const char *label)
{
	struct out_json *j = J(o);

	push(j, json_object_new_object(), key);
}

static void json_object_end(struct out *o)
{
	struct out_json *j = J(o);

	pop(j);
}

static void json_field(struct out *o, const char *key, const char *label, struct out_value v)
{
	struct out_json *j = J(o);

	if (key && j->depth && j->stack[j->depth - 1].obj)
		attach(j, key, json_value(v));
}

static void json_table_begin(struct out *o, const char *key, const char *label,
			     const struct out_column *cols, size_t ncols, unsigned int flags)
{
	struct out_json *j = J(o);

	push(j, json_object_new_array(), key);
	j->stack[j->depth - 1].cols = cols;
	j->stack[j->depth - 1].ncols = ncols;
	j->stack[j->depth - 1].stream = flags & OUT_TABLE_STREAM;
}

static void json_row(struct out *o, const struct out_value *cells)
{
	struct out_json *j = J(o);
	struct jlevel *l = &j->stack[j->depth - 1];
	struct json_object *row;

	if (!l->obj)
		return;
	row = json_object_new_object();
	for (size_t c = 0; row && c < l->ncols; c++)
		if (l->cols[c].key && json_object_object_add(row, l->cols[c].key, json_value(cells[c])) < 0) {
			json_object_put(row);
			row = NULL;
		}
	if (!row) {
		o->failed = true;
		return;
	}
	if (l->stream) {
		print(j, row, PLAIN);
		json_object_put(row);
	} else if (json_object_array_add(l->obj, row) < 0) {
		json_object_put(row);
		o->failed = true;
	}
}

static void json_table_end(struct out *o)
{
	struct out_json *j = J(o);

	pop(j);
}

static void json_free(struct out *o)
{
	struct out_json *j = J(o);

	/* An unfinished document is not printed half. */
	while (j->depth)
		json_object_put(j->stack[--j->depth].obj);
}

static const struct out_ops json_ops = {
	.object_begin = json_object_begin,
	.object_end = json_object_end,
	.field = json_field,
	.table_begin = json_table_begin,
	.row = json_row,
	.table_end = json_table_end,
	.free = json_free,
};

struct out *out_new_json(FILE *f)
{
	struct out_json *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->base.ops = &json_ops;
	j->base.f = f;
	return &j->base;
}
