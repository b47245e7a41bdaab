/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* viommud.conf's keys: the table, finding a key (or the one meant), checking
 * a value's type, and the handlers of the scalar keys. */
#include "config-internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* "not a string ("4")": what the value is, for a wrong-type message. */
const char *config_describe_value(char *buf, size_t size, struct json_object *v)
{
	char q[QUOTE_MAX];

	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return json_object_get_boolean(v) ? "a boolean (true)" : "a boolean (false)";
	case json_type_double:
		snprintf(buf, size, "a fractional number (%.40s)", json_object_to_json_string(v));
		return buf;
	case json_type_int:
		snprintf(buf, size, "an integer (%.40s)", json_object_to_json_string(v));
		return buf;
	case json_type_string:
		snprintf(buf, size, "a string (%s)",
			 config_quote(q, sizeof(q), json_object_get_string(v),
				      (size_t)json_object_get_string_len(v)));
		return buf;
	case json_type_array:
		return "an array";
	case json_type_object:
		return "an object";
	}
	return "something else";
}

static const char *type_noun(json_type type)
{
	switch (type) {
	case json_type_boolean:
		return "a boolean (true or false)";
	case json_type_int:
		return "an integer";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	default:
		return "an object";
	}
}

/* A string value without embedded NULs, or an error naming path. */
int config_get_string(struct parser *p, const char *path, struct json_object *v,
		      const char *what, const char **out)
{
	char d[QUOTE_MAX + 32];

	if (!json_object_is_type(v, json_type_string))
		return config_fail(p, -EINVAL, path, "must be %s, not %s", what,
				   config_describe_value(d, sizeof(d), v));
	*out = json_object_get_string(v);
	if (strlen(*out) != (size_t)json_object_get_string_len(v))
		return config_fail(p, -EINVAL, path, "contains a NUL character (\\u0000)");
	if (!**out)
		return config_fail(p, -EINVAL, path, "is empty");
	return 0;
}

static int parse_bool(struct parser *p, const struct config_key *key, struct json_object *v)
{
	*(bool *)((char *)p->config + key->offset) = json_object_get_boolean(v);
	return 0;
}

/* An unsigned int field from 0 to key->max. */
/* A non-negative integer up to key->max, or a named error. */
static int read_count(struct parser *p, const struct config_key *key, struct json_object *v,
		      uint64_t *out)
{
	int64_t n = json_object_get_int64(v);

	/* json-c saturates numbers beyond 64 bits: they land out of range here too. */
	if (n < 0 || (uint64_t)n > key->max || n == INT64_MAX)
		return config_fail(p, -EINVAL, key->name, "%s is out of range (0 to %" PRIu64 ")",
				   json_object_to_json_string(v), key->max);
	*out = (uint64_t)n;
	return 0;
}

static int parse_uint(struct parser *p, const struct config_key *key, struct json_object *v)
{
	uint64_t n = 0;
	int r = read_count(p, key, v, &n);

	if (r == 0)
		*(unsigned int *)((char *)p->config + key->offset) = (unsigned int)n;
	return r;
}

/* A 64-bit count (bytes). */
static int parse_u64(struct parser *p, const struct config_key *key, struct json_object *v)
{
	uint64_t n = 0;
	int r = read_count(p, key, v, &n);

	if (r == 0)
		*(uint64_t *)((char *)p->config + key->offset) = n;
	return r;
}

#define F(field) offsetof(struct config, field)
const struct config_key config_keys[] = {
	{ "allowed_devices", json_type_array, config_parse_devices, 0, 0 },
	{ "vm_users", json_type_array, config_parse_users, F(vm_users), 0 },
	{ "vm_groups", json_type_array, config_parse_groups, F(vm_groups), 0 },
	{ "fast_path_users", json_type_array, config_parse_users, F(fast_path_users), 0 },
	{ "fast_path_groups", json_type_array, config_parse_groups, F(fast_path_groups), 0 },
	{ "bind_on_demand", json_type_boolean, parse_bool, F(bind_on_demand), 0 },
	{ "restore_driver", json_type_boolean, parse_bool, F(restore_driver), 0 },
	{ "mock_devices", json_type_int, parse_uint, F(mock_devices), CONFIG_MOCK_DEVICES_MAX },
	{ "quota_vms_per_uid", json_type_int, parse_uint, F(quota_vms), 1u << 20 },
	{ "quota_objects_per_vm", json_type_int, parse_uint, F(quota_objects), 1u << 20 },
	{ "quota_connections_per_uid", json_type_int, parse_uint, F(quota_connections), 1u << 16 },
	{ "quota_pinned_bytes_per_uid", json_type_int, parse_u64, F(quota_pinned_bytes), INT64_MAX - 1 },
	{ "quota_queued_messages", json_type_int, parse_uint, F(quota_queued_messages), 1u << 20 },
	{ "connection_stall_seconds", json_type_int, parse_uint, F(connection_stall_seconds), 3600 },
	/* sd-bus's own caps: 1024 fds (the kernel passes 253 per sendmsg), 128 MiB. */
	{ "quota_message_fds", json_type_int, parse_uint, F(quota_message_fds), 253 },
	{ "quota_message_bytes", json_type_int, parse_u64, F(quota_message_bytes), 128ull << 20 },
	{ "claim_grace_seconds", json_type_int, parse_uint, F(claim_grace_seconds), 86400 },
	{ "memlock_headroom_bytes", json_type_int, parse_u64, F(memlock_headroom), 1ull << 40 },
};
#undef F

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))
/* config_check_text() keeps one slot per key. */
_Static_assert(NKEYS <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX in config-internal.h");

const struct config_key *config_key_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (strlen(config_keys[i].name) == len && memcmp(config_keys[i].name, name, len) == 0)
			return &config_keys[i];
	}
	return NULL;
}

/* Edit distance, with '-' and '_' and case counted as equal, for "did you mean". */
static size_t key_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			char ca = (char)tolower((unsigned char)a[i - 1]), cb = b[j - 1];
			size_t best = prev + !(ca == cb || (ca == '-' && cb == '_'));

			tmp = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			prev = tmp;
			row[j] = best;
		}
	}
	return row[lb];
}

static const char *key_suggest(const char *name)
{
	const char *best = NULL;
	size_t best_d = 3; /* at most two edits away */

	for (size_t i = 0; i < NKEYS; i++) {
		size_t d = key_distance(name, config_keys[i].name);

		if (d < best_d) {
			best_d = d;
			best = config_keys[i].name;
		}
	}
	return best;
}

int config_apply_keys(struct parser *p, struct json_object *root)
{
	char d[QUOTE_MAX + 32], q[QUOTE_MAX];

	if (!json_object_is_type(root, json_type_object))
		return config_fail(p, -EINVAL, NULL,
				   "the top level must be a JSON object ({...}), not %s",
				   config_describe_value(d, sizeof(d), root));
	json_object_object_foreach(root, name, value) {
		const struct config_key *key = config_key_find(name, strlen(name));
		const char *hint;
		int r;

		if (!key) {
			hint = key_suggest(name);
			if (hint)
				return config_fail(p, -EINVAL, QUOTE(q, name),
						   "unknown key; did you mean \"%s\"?", hint);
			return config_fail(p, -EINVAL, QUOTE(q, name),
					   "unknown key; see viommud.conf(5) for the keys");
		}
		if (!json_object_is_type(value, key->type))
			return config_fail(p, -EINVAL, key->name, "must be %s, not %s",
					   type_noun(key->type),
					   config_describe_value(d, sizeof(d), value));
		r = key->handler(p, key, value);
		if (r < 0)
			return r;
	}
	return 0;
}
