/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The output backends of viommuctl. A command describes what it shows as
 * objects (key/label/value fields) and tables (columns and rows); the backend
 * chosen once at start-up renders them for people (aligned, optionally
 * coloured) or as JSON. Commands never ask which backend is in use.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum out_kind {
	OUT_NONE,  /* no value: "-" for people, null in JSON */
	OUT_STR,   /* "" shows as "-" for people */
	OUT_U64,
	OUT_I64,
	OUT_BOOL,  /* yes/no */
	OUT_GOOD,  /* yes/no, where "no" is a problem (red on a terminal) */
	OUT_HEX,   /* 0x... for people, a number in JSON */
	OUT_BYTES, /* bytes with a readable size for people, a number in JSON */
	OUT_STRV,  /* NULL-terminated; comma-separated for people, an array in JSON */
};

struct out_value {
	enum out_kind kind;
	const char *s;
	uint64_t u;
	int64_t i;
	bool b;
	char *const *v;
};

#define OV_NONE() ((struct out_value){ .kind = OUT_NONE })
#define OV_STR(x) ((struct out_value){ .kind = OUT_STR, .s = (x) })
#define OV_U64(x) ((struct out_value){ .kind = OUT_U64, .u = (x) })
#define OV_I64(x) ((struct out_value){ .kind = OUT_I64, .i = (x) })
#define OV_BOOL(x) ((struct out_value){ .kind = OUT_BOOL, .b = (x) })
#define OV_GOOD(x) ((struct out_value){ .kind = OUT_GOOD, .b = (x) })
#define OV_HEX(x) ((struct out_value){ .kind = OUT_HEX, .u = (x) })
#define OV_BYTES(x) ((struct out_value){ .kind = OUT_BYTES, .u = (x) })
#define OV_STRV(x) ((struct out_value){ .kind = OUT_STRV, .v = (x) })

/* key names the value in JSON; title heads the column for people. A column
 * without a title is JSON-only detail, one without a key is for people only
 * (a short form of a JSON-only column). The same holds for fields. */
struct out_column {
	const char *key;
	const char *title;
};

/* A table whose rows are shown as they come (one line each, flushed):
 * for people without a header, in JSON one object per line. */
#define OUT_TABLE_STREAM 1u

struct out;

struct out *out_new_human(FILE *f, bool color);
struct out *out_new_json(FILE *f);
/* Writes what is pending; 0 or -EIO when the stream failed. */
int out_free(struct out *o);

/*
 * Objects and tables nest. key is the JSON member name inside an object
 * (ignored at the top and inside tables); label is what people read, and an
 * object or field without a label is JSON-only. An empty table with a label
 * shows as "Label: none"; at the top, a table's label shows only then.
 */
void out_object_begin(struct out *o, const char *key, const char *label);
void out_object_end(struct out *o);
void out_field(struct out *o, const char *key, const char *label, struct out_value v);

void out_table_begin(struct out *o, const char *key, const char *label,
		     const struct out_column *cols, size_t ncols, unsigned int flags);
/* One value per column, in the columns' order. */
void out_row(struct out *o, const struct out_value *cells);
void out_table_end(struct out *o);

/* The human text of a value (also used for sizes): malloc()ed, NULL on ENOMEM. */
char *out_value_text(struct out_value v);
