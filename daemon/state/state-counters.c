/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The counters of the metrics in the state: a VM's in its file, the daemon's
 * in the manifest, each under "counters". The keys came after the files did,
 * so each is optional and a file without them reads as zeros; a value that
 * is there must be a non-negative integer, or the file is refused by name.
 */
#include "state.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

struct counter_key {
	const char *key;
	size_t offset; /* of a uint64_t in the counters struct */
};

#define VM_KEY(field) { #field, offsetof(struct vm_counters, field) }
static const struct counter_key vm_keys[] = {
	VM_KEY(invalidation_calls), VM_KEY(invalidation_entries), VM_KEY(invalidation_errors),
	VM_KEY(events_relayed),	    VM_KEY(events_lost),	  VM_KEY(faults_relayed),
	VM_KEY(faults_answered),    VM_KEY(dirty_reads),
};
#undef VM_KEY

#define DAEMON_KEY(field) { #field, offsetof(struct daemon_counters, field) }
static const struct counter_key daemon_keys[] = {
	DAEMON_KEY(connections_accepted), DAEMON_KEY(restarts), DAEMON_KEY(vms_adopted),
	DAEMON_KEY(orphans_released),
};
#undef DAEMON_KEY

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t *field(void *counters, const struct counter_key *k)
{
	return (uint64_t *)((char *)counters + k->offset);
}

/* json-c takes the value whether adding works or not. */
static int put_u64(struct json_object *o, const char *key, uint64_t v)
{
	struct json_object *value = json_object_new_uint64(v);

	if (!value)
		return -ENOMEM;
	return json_object_object_add(o, key, value) < 0 ? -ENOMEM : 0;
}

static struct json_object *keys_to_json(const void *counters, const struct counter_key *keys,
					size_t n)
{
	struct json_object *o = json_object_new_object();
	int r = o ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++)
		r = put_u64(o, keys[i].key, *field((void *)counters, &keys[i]));
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *state_vm_counters_to_json(const struct vm_counters *c)
{
	return keys_to_json(c, vm_keys, N(vm_keys));
}

struct json_object *state_daemon_counters_to_json(const struct daemon_counters *c)
{
	struct json_object *o = keys_to_json(c, daemon_keys, N(daemon_keys));
	struct json_object *limits = o ? json_object_new_object() : NULL;
	int r = limits ? 0 : -ENOMEM;

	for (int i = 0; r == 0 && i < QUOTA_LIMIT_COUNT; i++)
		r = put_u64(limits, quota_limit_name(i), c->quota_refusals[i]);
	if (r == 0 && json_object_object_add(o, "quota_refusals", limits) < 0)
		r = -ENOMEM;
	else if (r == 0)
		limits = NULL;
	json_object_put(limits);
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* An optional counter: absent leaves *out alone. */
static int read_u64(struct json_object *o, const char *where, const char *key, uint64_t *out,
		    char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	/* json-c keeps the sign: a negative number is not a large unsigned one. */
	if (!json_object_is_type(v, json_type_int) ||
	    (json_object_get_int64(v) < 0 && json_object_get_uint64(v) <= INT64_MAX)) {
		snprintf(err, errlen, "\"%s\".\"%s\" is not a non-negative integer", where, key);
		return -EINVAL;
	}
	*out = json_object_get_uint64(v);
	return 0;
}

/* o's optional "counters" object, or NULL with 0 when there is none. */
static int counters_of(struct json_object *o, const char *key, struct json_object **out,
		       char *err, size_t errlen)
{
	*out = NULL;
	if (!json_object_object_get_ex(o, key, out))
		return 0;
	if (json_object_is_type(*out, json_type_object))
		return 0;
	snprintf(err, errlen, "\"%s\" is not an object", key);
	return -EINVAL;
}

static int keys_from_json(struct json_object *o, void *counters, const struct counter_key *keys,
			  size_t n, const char *where, char *err, size_t errlen)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++)
		r = read_u64(o, where, keys[i].key, field(counters, &keys[i]), err, errlen);
	return r;
}

int state_vm_counters_parse(struct json_object *vm, struct vm_counters *out, char *err,
			    size_t errlen)
{
	struct json_object *o;
	int r = counters_of(vm, "counters", &o, err, errlen);

	*out = (struct vm_counters){ 0 };
	if (r < 0 || !o)
		return r;
	return keys_from_json(o, out, vm_keys, N(vm_keys), "counters", err, errlen);
}

int state_daemon_counters_parse(struct json_object *root, struct daemon_counters *out,
				bool *found, char *err, size_t errlen)
{
	struct json_object *o, *limits;
	int r = counters_of(root, "counters", &o, err, errlen);

	*out = (struct daemon_counters){ 0 };
	*found = o != NULL;
	if (r < 0 || !o)
		return r;
	r = keys_from_json(o, out, daemon_keys, N(daemon_keys), "counters", err, errlen);
	if (r == 0)
		r = counters_of(o, "quota_refusals", &limits, err, errlen);
	/* Limits this daemon does not know (a newer one's) are left out. */
	for (int i = 0; r == 0 && limits && i < QUOTA_LIMIT_COUNT; i++)
		r = read_u64(limits, "quota_refusals", quota_limit_name(i), &out->quota_refusals[i],
			     err, errlen);
	return r;
}
