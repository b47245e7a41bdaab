/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backend for people: "Label: value" lines with aligned values, tables
 * with a header and aligned columns. Everything of one group is buffered
 * until it ends so the widths fit; colour only when the caller allows it.
 */
#include "output-internal.h"

#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 8
#define BOLD "\033[1m"
#define RED "\033[31m"
#define RESET "\033[0m"

struct cell {
	char *text;
	bool bad; /* an OUT_GOOD "no" */
};

struct level {
	bool table;
	bool hidden; /* JSON-only: nothing of it is shown */
	unsigned int indent;
	const char *label;
	/* object: fields not yet written; table: every row */
	struct cell *cells;
	const char **labels; /* object only, one per cell */
	size_t ncells, cap;
	const struct out_column *cols;
	size_t ncols;
	unsigned int flags;
	size_t *width; /* stream tables: widest cell so far */
};

struct out_human {
	struct out base;
	bool color;
	unsigned int depth;
	struct level stack[DEPTH_MAX];
};

static struct out_human *H(struct out *o)
{
	return (struct out_human *)o;
}

static struct level *top(struct out_human *h)
{
	return h->depth ? &h->stack[h->depth - 1] : NULL;
}

static void put_cell(struct out_human *h, const struct cell *c, size_t pad, bool last)
{
	FILE *f = h->base.f;
	size_t len = strlen(c->text);

	if (c->bad && h->color)
		fprintf(f, RED "%s" RESET, c->text);
	else
		fputs(c->text, f);
	if (!last)
		fprintf(f, "%*s", (int)(pad > len ? pad - len : 0) + 2, "");
}

static int add_cell(struct out_human *h, struct level *l, const char *label, struct out_value v)
{
	if (l->ncells == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct cell *cells = realloc(l->cells, cap * sizeof(*cells));
		const char **labels;

		if (!cells)
			return -1;
		l->cells = cells;
		labels = realloc(l->labels, cap * sizeof(*labels));
		if (!labels)
			return -1;
		l->labels = labels;
		l->cap = cap;
	}
	l->cells[l->ncells].text = out_value_text(v);
	if (!l->cells[l->ncells].text)
		return -1;
	l->cells[l->ncells].bad = v.kind == OUT_GOOD && !v.b;
	l->labels[l->ncells] = label;
	l->ncells++;
	return 0;
}

static void drop_cells(struct level *l)
{
	for (size_t i = 0; i < l->ncells; i++)
		free(l->cells[i].text);
	l->ncells = 0;
}

/* Writes an object's pending fields, values aligned after the labels. */
static void flush_fields(struct out_human *h, struct level *l)
{
	size_t w = 0;

	for (size_t i = 0; i < l->ncells; i++)
		if (strlen(l->labels[i]) > w)
			w = strlen(l->labels[i]);
	for (size_t i = 0; i < l->ncells; i++) {
		fprintf(h->base.f, "%*s%s:%*s", (int)l->indent, "", l->labels[i],
			(int)(w - strlen(l->labels[i]) + 1), "");
		put_cell(h, &l->cells[i], 0, true);
		fputc('\n', h->base.f);
	}
	drop_cells(l);
}

/* A nested object or table begins: what its parent had comes first. */
static struct level *push(struct out_human *h, bool table, const char *label)
{
	struct level *parent = top(h), *l;

	if (h->depth == DEPTH_MAX) {
		h->base.failed = true;
		return NULL;
	}
	l = &h->stack[h->depth++];
	memset(l, 0, sizeof(*l));
	l->table = table;
	l->label = label;
	if (parent) {
		l->hidden = parent->hidden || !label;
		l->indent = parent->indent + (label ? 2 : 0);
		if (!parent->hidden && !parent->table)
			flush_fields(h, parent);
	}
	return l;
}

static void pop(struct out_human *h)
{
	struct level *l = top(h);

	drop_cells(l);
	free(l->cells);
	free(l->labels);
	free(l->width);
	h->depth--;
}

static void human_object_begin(struct out *o, const char *key, const char *label)
{
	struct out_human *h = H(o);
	struct level *l = push(h, false, label);

	if (l && !l->hidden && h->depth > 1)
		fprintf(o->f, "%*s%s:\n", (int)(l->indent - 2), "", label);
}

static void human_object_end(struct out *o)
{
	struct out_human *h = H(o);
	struct level *l = top(h);

	if (!l->hidden)
		flush_fields(h, l);
	pop(h);
}

static void human_field(struct out *o, const char *key, const char *label, struct out_value v)
{
	struct out_human *h = H(o);
	struct level *l = top(h);

	if (!l || l->table || l->hidden || !label)
		return;
	if (add_cell(h, l, label, v) < 0)
		o->failed = true;
}

static void human_table_begin(struct out *o, const char *key, const char *label,
			      const struct out_column *cols, size_t ncols, unsigned int flags)
{
	struct out_human *h = H(o);
	struct level *l = push(h, true, label);

	if (!l)
		return;
	l->cols = cols;
	l->ncols = ncols;
	l->flags = flags;
	if (flags & OUT_TABLE_STREAM) {
		l->width = calloc(ncols, sizeof(*l->width));
		if (!l->width)
			o->failed = true;
	}
}

static void stream_row(struct out_human *h, struct level *l)
{
	size_t last = 0;

	for (size_t c = 0; c < l->ncols; c++)
		if (l->cols[c].title)
			last = c;
	for (size_t c = 0; c < l->ncols; c++) {
		if (!l->cols[c].title)
			continue;
		if (strlen(l->cells[c].text) > l->width[c])
			l->width[c] = strlen(l->cells[c].text);
		put_cell(h, &l->cells[c], l->width[c], c == last);
	}
	fputc('\n', h->base.f);
	fflush(h->base.f);
	drop_cells(l);
}

static void human_row(struct out *o, const struct out_value *cells)
{
	struct out_human *h = H(o);
	struct level *l = top(h);

	if (!l || !l->table || l->hidden)
		return;
	for (size_t c = 0; c < l->ncols; c++)
		if (add_cell(h, l, NULL, cells[c]) < 0) {
			o->failed = true;
			return;
		}
	if ((l->flags & OUT_TABLE_STREAM) && l->width)
		stream_row(h, l);
}

static void print_table(struct out_human *h, struct level *l)
{
	FILE *f = h->base.f;
	size_t nrows = l->ncells / l->ncols, last = 0;
	size_t *w = calloc(l->ncols, sizeof(*w));

	if (!w) {
		h->base.failed = true;
		return;
	}
	for (size_t c = 0; c < l->ncols; c++) {
		if (!l->cols[c].title)
			continue;
		last = c;
		w[c] = strlen(l->cols[c].title);
		for (size_t r = 0; r < nrows; r++)
			if (strlen(l->cells[r * l->ncols + c].text) > w[c])
				w[c] = strlen(l->cells[r * l->ncols + c].text);
	}
	fprintf(f, "%*s%s", (int)l->indent, "", h->color ? BOLD : "");
	for (size_t c = 0; c < l->ncols; c++) {
		struct cell title = { (char *)l->cols[c].title, false };

		if (l->cols[c].title)
			put_cell(h, &title, w[c], c == last);
	}
	fprintf(f, "%s\n", h->color ? RESET : "");
	for (size_t r = 0; r < nrows; r++) {
		fprintf(f, "%*s", (int)l->indent, "");
		for (size_t c = 0; c < l->ncols; c++)
			if (l->cols[c].title)
				put_cell(h, &l->cells[r * l->ncols + c], w[c], c == last);
		fputc('\n', f);
	}
	free(w);
}

static void human_table_end(struct out *o)
{
	struct out_human *h = H(o);
	struct level *l = top(h);
	bool nested = h->depth > 1;

	if (!l->hidden && !(l->flags & OUT_TABLE_STREAM)) {
		/* At the top only an empty table shows its label, else the header says it all. */
		if (l->label && l->ncells == 0)
			fprintf(o->f, "%*s%s: none\n", (int)(nested ? l->indent - 2 : 0), "", l->label);
		else {
			if (nested)
				fprintf(o->f, "%*s%s:\n", (int)(l->indent - 2), "", l->label);
			print_table(h, l);
		}
	}
	pop(h);
}

static void human_free(struct out *o)
{
	struct out_human *h = H(o);

	while (h->depth)
		pop(h);
}

static const struct out_ops human_ops = {
	.object_begin = human_object_begin,
	.object_end = human_object_end,
	.field = human_field,
	.table_begin = human_table_begin,
	.row = human_row,
	.table_end = human_table_end,
	.free = human_free,
};

struct out *out_new_human(FILE *f, bool color)
{
	struct out_human *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->base.ops = &human_ops;
	h->base.f = f;
	h->color = color;
	return &h->base;
}
