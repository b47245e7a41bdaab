/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reads an a{sv} options argument against a table of the options a method
 * takes. An unknown option, a wrong variant type or a repeated option is an
 * InvalidArgument naming it; nothing is applied then.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

enum option_type {
	OPTION_BOOL,   /* "b" -> bool */
	OPTION_STRING, /* "s" -> char[size] */
	OPTION_PATH,   /* "o" -> char[size] */
	OPTION_U32,    /* "u" -> uint32_t */
	OPTION_U64,    /* "t" -> uint64_t */
	OPTION_BYTES,  /* "ay" -> uint8_t[size], length to *len */
};

struct option_spec {
	const char *name;
	enum option_type type;
	void *out;
	size_t size;  /* OPTION_STRING, OPTION_BYTES: capacity of out */
	size_t *len;  /* OPTION_BYTES: bytes read */
	bool *present; /* may be NULL */
};

/* Reads the a{sv} at the message's read position; with m NULL, nothing (the defaults). */
int options_read(sd_bus_message *m, const struct option_spec *specs, size_t count,
		 sd_bus_error *error);
