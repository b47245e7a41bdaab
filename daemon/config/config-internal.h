/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the parts of the config parser share, not for the rest of the daemon:
 * config.c (loading and parsing, error messages), config-text.c (checks of
 * the text: UTF-8, JSON syntax, repeated keys), config-keys.c (the key table
 * and the scalar handlers), config-devices.c and config-ids.c (the list
 * handlers) and config-policy.c (the queries of config.h).
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void json_putp(struct json_object **o)
{
	json_object_put(*o);
}

static inline void tokener_freep(struct json_tokener **tok)
{
	if (*tok)
		json_tokener_free(*tok);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)

struct parser {
	const char *source;
	const char *text;
	size_t len;
	struct config *config;
	char *err;
	size_t errlen;
};

struct config_key;
typedef int (*config_handler)(struct parser *p, const struct config_key *key,
			      struct json_object *value);

struct config_key {
	const char *name;
	json_type type;	       /* checked before the handler runs */
	config_handler handler;
	size_t offset;	       /* of the field in struct config */
	uint64_t max;	       /* for integers */
};

/* config.c: "source: path: why". Returns r so callers can "return config_fail(...)". */
__attribute__((format(printf, 4, 5))) int config_fail(struct parser *p, int r, const char *path,
						       const char *fmt, ...);
/* config.c: a string for a message: quoted, escaped, shortened; never a raw control byte. */
const char *config_quote(char *buf, size_t size, const char *s, size_t len);

#define QUOTE_MAX 80
#define QUOTE(buf, s) config_quote(buf, sizeof(buf), s, strlen(s))

/* config-text.c: the checks config_parse() runs before and after json-c. */
int config_check_encoding(struct parser *p);
int config_parse_json(struct parser *p, struct json_object **out);
int config_check_text(struct parser *p);

/* config-keys.c: the key table (at most CONFIG_KEYS_MAX keys), lookup, and
 * applying a parsed root object to p->config. */
#define CONFIG_KEYS_MAX 32
extern const struct config_key config_keys[];
const struct config_key *config_key_find(const char *name, size_t len);
int config_apply_keys(struct parser *p, struct json_object *root);
/* "not a string ("4")": what the value is, for a wrong-type message. */
const char *config_describe_value(char *buf, size_t size, struct json_object *v);
/* A string value without embedded NULs, or an error naming path. */
int config_get_string(struct parser *p, const char *path, struct json_object *v,
		      const char *what, const char **out);

/* config-devices.c: "allowed_devices". */
int config_parse_devices(struct parser *p, const struct config_key *key, struct json_object *v);
/* "dddd:bb:dd.f" in the kernel's spelling, so a match is a string compare. */
void config_bdf_normalise(const char *bdf, char *out, size_t size);

/* config-ids.c: "vm_users", "fast_path_users"; "vm_groups", "fast_path_groups". */
int config_parse_users(struct parser *p, const struct config_key *key, struct json_object *v);
int config_parse_groups(struct parser *p, const struct config_key *key, struct json_object *v);
