/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a backend implements; output.c dispatches to it. */
#pragma once

#include "output.h"

struct out_ops {
	void (*object_begin)(struct out *o, const char *key, const char *label);
	void (*object_end)(struct out *o);
	void (*field)(struct out *o, const char *key, const char *label, struct out_value v);
	void (*table_begin)(struct out *o, const char *key, const char *label,
			    const struct out_column *cols, size_t ncols, unsigned int flags);
	void (*row)(struct out *o, const struct out_value *cells);
	void (*table_end)(struct out *o);
	void (*free)(struct out *o);
};

struct out {
	const struct out_ops *ops;
	FILE *f;
	bool failed; /* out of memory on the way: the output is incomplete */
};
