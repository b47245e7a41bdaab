/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The user and group lists ("vm_users", "vm_groups", "fast_path_users",
 * "fast_path_groups"): numeric ids, or names resolved at load time. */
#include "config-internal.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#define UID_MAX_VALID 4294967294u /* (uid_t)-1 means "no uid" to the kernel */

/* getpwnam_r/getgrnam_r: 0 and the id, -ENOENT for no such name, or an error. */
static int lookup_name(const char *name, bool group, uint32_t *id)
{
	long hint = sysconf(group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
	size_t size = hint > 0 ? (size_t)hint : 1024;

	for (;;) {
		_cleanup_free_ char *buf = malloc(size);
		struct passwd pw, *pwr = NULL;
		struct group gr, *grr = NULL;
		int r;

		if (!buf)
			return -ENOMEM;
		if (group)
			r = getgrnam_r(name, &gr, buf, size, &grr);
		else
			r = getpwnam_r(name, &pw, buf, size, &pwr);
		if (r == ERANGE && size < (1u << 20)) {
			size *= 2;
			continue;
		}
		if (r > 0)
			return -r;
		if (group ? !grr : !pwr)
			return -ENOENT;
		*id = group ? (uint32_t)grr->gr_gid : (uint32_t)pwr->pw_uid;
		return 0;
	}
}

static int parse_id_entry(struct parser *p, const char *path, struct json_object *e,
			  bool group, uint32_t *id)
{
	const char *kind = group ? "group" : "user", *idname = group ? "gid" : "uid";
	char d[QUOTE_MAX + 32], q[QUOTE_MAX];
	const char *name;
	int64_t n;
	int r;

	if (json_object_is_type(e, json_type_int)) {
		n = json_object_get_int64(e);
		if (n < 0 || n > UID_MAX_VALID)
			return config_fail(p, -EINVAL, path, "%s is not a valid %s (0 to %u)",
					   json_object_to_json_string(e), idname, UID_MAX_VALID);
		*id = (uint32_t)n;
		return 0;
	}
	snprintf(d, sizeof(d), "a %s name or a %s", kind, idname);
	r = config_get_string(p, path, e, d, &name);
	if (r < 0)
		return r;
	r = lookup_name(name, group, id);
	if (r == -ENOENT) {
		bool numeric = strspn(name, "0123456789") == strlen(name);

		return config_fail(
			p, -EINVAL, path, "no such %s %s%s", kind, QUOTE(q, name),
			numeric ? "; write a numeric id as a number, without quotes" : "");
	}
	if (r < 0)
		return config_fail(p, r, path, "cannot look up %s %s: %s", kind, QUOTE(q, name),
				   strerror(-r));
	return 0;
}

static int parse_ids(struct parser *p, const struct config_key *key, struct json_object *v,
		     bool group)
{
	struct config_ids *ids = (struct config_ids *)((char *)p->config + key->offset);
	size_t n = json_object_array_length(v);

	ids->ids = calloc(n ? n : 1, sizeof(*ids->ids));
	if (!ids->ids)
		return config_fail(p, -ENOMEM, key->name, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char path[64];
		int r;

		snprintf(path, sizeof(path), "%s[%zu]", key->name, i);
		r = parse_id_entry(p, path, json_object_array_get_idx(v, i), group, &ids->ids[i]);
		if (r < 0)
			return r;
		/* A name and its number, or a name twice: one is a mistake. */
		for (size_t j = 0; j < i; j++) {
			if (ids->ids[j] == ids->ids[i])
				return config_fail(p, -EINVAL, path,
						   "%s %u is already listed as %s[%zu]",
						   group ? "gid" : "uid", ids->ids[i],
						   key->name, j);
		}
		ids->count = i + 1;
	}
	return 0;
}

int config_parse_users(struct parser *p, const struct config_key *key, struct json_object *v)
{
	return parse_ids(p, key, v, false);
}

int config_parse_groups(struct parser *p, const struct config_key *key, struct json_object *v)
{
	return parse_ids(p, key, v, true);
}
