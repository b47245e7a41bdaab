/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness of the viommud.conf parser, config_parse() (config.h).
 * Besides not crashing, leaking or tripping a sanitizer, every input checks:
 *
 * - on failure: a negative errno, *out set to NULL, and err a non-empty,
 *   NUL-terminated sentence that starts with the source's name and holds no
 *   raw control byte (it goes to the log as it is);
 * - on success: *out set, err empty, and every field within the bounds that
 *   viommud.conf(5) documents (config-keys.c's table): numbers in range,
 *   addresses valid and in the kernel's spelling, no entry listed twice, and
 *   the queries of config.h agree with the lists;
 * - a key the text never spells keeps its default;
 * - determinism: the same text gives the same result and the same message,
 *   and a short error buffer (or none) gets a truncated prefix of that
 *   message, never a byte past its end.
 *
 * A violated invariant aborts, which libFuzzer reports as a crash.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "config.h"
#include "pci-sysfs.h"

#define SOURCE "fuzz.conf"
#define ERR_MAX 512 /* what the daemon passes (main.c) */

/* The ranges of viommud.conf(5), as config-keys.c's table enforces them. */
#define QUOTA_VMS_MAX (1u << 20)
#define QUOTA_OBJECTS_MAX (1u << 20)
#define QUOTA_CONNECTIONS_MAX (1u << 16)
#define QUOTA_PINNED_MAX ((uint64_t)INT64_MAX - 1)
#define QUOTA_QUEUED_MAX (1u << 20)
#define CLAIM_GRACE_MAX 86400u
#define ID_MAX 4294967294u /* (uid_t)-1 is "no uid" */

#define INVARIANT(cond)                                                                  \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz-config: invariant failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                     \
			abort();                                                         \
		}                                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A sentinel *out must not keep: config_parse() sets it on every path. */
static struct config sentinel;

static void check_message(const char *err, size_t errlen)
{
	size_t n;

	INVARIANT(memchr(err, '\0', errlen) != NULL);
	n = strlen(err);
	INVARIANT(n > 0);
	/* "fuzz.conf: ...", possibly cut short by a small buffer. */
	INVARIANT(strncmp(err, SOURCE ": ", n < sizeof(SOURCE) + 1 ? n : sizeof(SOURCE) + 1) == 0);
	for (size_t i = 0; i < n; i++)
		INVARIANT((unsigned char)err[i] >= 0x20 && err[i] != 0x7f);
}

static bool mentions(const uint8_t *data, size_t size, const char *key)
{
	return memmem(data, size, key, strlen(key)) != NULL;
}

static void check_ids(const struct config_ids *ids)
{
	INVARIANT(ids->count == 0 || ids->ids != NULL);
	for (size_t i = 0; i < ids->count; i++) {
		INVARIANT(ids->ids[i] <= ID_MAX);
		for (size_t j = 0; j < i; j++)
			INVARIANT(ids->ids[i] != ids->ids[j]);
	}
}

static void check_devices(const struct config *c)
{
	INVARIANT(c->ndevices == 0 || c->devices != NULL);
	for (size_t i = 0; i < c->ndevices; i++) {
		const struct config_device_match *m = &c->devices[i];

		if (m->by_id) {
			INVARIANT(m->bdf[0] == '\0');
			INVARIANT(config_device_allowed(c, NULL, m->vendor, m->device));
		} else {
			char norm[sizeof(m->bdf)], upper[sizeof(m->bdf)];

			INVARIANT(memchr(m->bdf, '\0', sizeof(m->bdf)) != NULL);
			INVARIANT(pci_bdf_valid(m->bdf));
			/* Already in the kernel's spelling: normalising changes nothing. */
			config_bdf_normalise(m->bdf, norm, sizeof(norm));
			INVARIANT(strcmp(norm, m->bdf) == 0);
			INVARIANT(m->vendor == 0 && m->device == 0);
			/* Case does not matter to a match. */
			for (size_t k = 0; k < sizeof(upper); k++)
				upper[k] = (char)(m->bdf[k] >= 'a' && m->bdf[k] <= 'f'
							  ? m->bdf[k] - 'a' + 'A'
							  : m->bdf[k]);
			INVARIANT(config_device_allowed(c, m->bdf, 0, 0));
			INVARIANT(config_device_allowed(c, upper, 0, 0));
		}
		for (size_t j = 0; j < i; j++) {
			const struct config_device_match *o = &c->devices[j];

			INVARIANT(m->by_id != o->by_id ||
				  (m->by_id ? m->vendor != o->vendor || m->device != o->device
					    : strcmp(m->bdf, o->bdf) != 0));
		}
	}
}

static void check_config(const struct config *c, const uint8_t *data, size_t size)
{
	INVARIANT(c->path && strcmp(c->path, SOURCE) == 0);
	INVARIANT(c->mock_devices <= CONFIG_MOCK_DEVICES_MAX);
	INVARIANT(c->quota_vms <= QUOTA_VMS_MAX);
	INVARIANT(c->quota_objects <= QUOTA_OBJECTS_MAX);
	INVARIANT(c->quota_connections <= QUOTA_CONNECTIONS_MAX);
	INVARIANT(c->quota_pinned_bytes <= QUOTA_PINNED_MAX);
	INVARIANT(c->quota_queued_messages <= QUOTA_QUEUED_MAX);
#ifdef CONFIG_CLAIM_GRACE_DEFAULT
	INVARIANT(c->claim_grace_seconds <= CLAIM_GRACE_MAX);
#endif
	check_devices(c);
	check_ids(&c->vm_users);
	check_ids(&c->vm_groups);
	check_ids(&c->fast_path_users);
	check_ids(&c->fast_path_groups);

	/* The policy queries agree with the lists (root always may). */
	INVARIANT(config_may_create_vm(c, 0, 1, NULL, 0));
	INVARIANT(config_may_take_fast_path(c, 0, 1, NULL, 0));
	for (size_t i = 0; i < c->vm_users.count; i++)
		INVARIANT(config_may_create_vm(c, c->vm_users.ids[i], ID_MAX, NULL, 0));
	for (size_t i = 0; i < c->vm_groups.count; i++) {
		gid_t g = c->vm_groups.ids[i];

		INVARIANT(config_may_create_vm(c, ID_MAX, g, NULL, 0));
		INVARIANT(config_may_create_vm(c, ID_MAX, ID_MAX, &g, 1));
	}
	for (size_t i = 0; i < c->fast_path_users.count; i++)
		INVARIANT(config_may_take_fast_path(c, c->fast_path_users.ids[i], ID_MAX, NULL, 0));
	for (size_t i = 0; i < c->fast_path_groups.count; i++)
		INVARIANT(config_may_take_fast_path(c, ID_MAX, c->fast_path_groups.ids[i], NULL, 0));

	/* Without escapes a key can only be set by spelling it: one that the
	 * text never spells keeps its default. */
	if (memchr(data, '\\', size))
		return;
	if (!mentions(data, size, "\"allowed_devices\""))
		INVARIANT(c->ndevices == 0);
	if (!mentions(data, size, "\"vm_users\""))
		INVARIANT(c->vm_users.count == 0);
	if (!mentions(data, size, "\"vm_groups\""))
		INVARIANT(c->vm_groups.count == 0);
	if (!mentions(data, size, "\"fast_path_users\""))
		INVARIANT(c->fast_path_users.count == 0);
	if (!mentions(data, size, "\"fast_path_groups\""))
		INVARIANT(c->fast_path_groups.count == 0);
	if (!mentions(data, size, "\"bind_on_demand\""))
		INVARIANT(!c->bind_on_demand);
	if (!mentions(data, size, "\"restore_driver\""))
		INVARIANT(c->restore_driver);
	if (!mentions(data, size, "\"mock_devices\""))
		INVARIANT(c->mock_devices == 0);
	if (!mentions(data, size, "\"quota_vms_per_uid\""))
		INVARIANT(c->quota_vms == CONFIG_QUOTA_VMS_DEFAULT);
	if (!mentions(data, size, "\"quota_objects_per_vm\""))
		INVARIANT(c->quota_objects == CONFIG_QUOTA_OBJECTS_DEFAULT);
	if (!mentions(data, size, "\"quota_connections_per_uid\""))
		INVARIANT(c->quota_connections == CONFIG_QUOTA_CONNECTIONS_DEFAULT);
	/* Its default depends on the host (half of MemTotal): ask the defaults. */
	if (!mentions(data, size, "\"quota_pinned_bytes_per_uid\"")) {
		struct config *def = NULL;

		INVARIANT(config_new_default(&def) == 0);
		INVARIANT(c->quota_pinned_bytes == def->quota_pinned_bytes);
		INVARIANT(c->quota_pinned_bytes > 0);
		config_free(def);
	}
	if (!mentions(data, size, "\"connection_stall_seconds\""))
		INVARIANT(c->connection_stall_seconds == CONFIG_CONNECTION_STALL_DEFAULT);
	if (!mentions(data, size, "\"quota_queued_messages\""))
		INVARIANT(c->quota_queued_messages == CONFIG_QUOTA_QUEUED_DEFAULT);
#ifdef CONFIG_CLAIM_GRACE_DEFAULT
	if (!mentions(data, size, "\"claim_grace_seconds\""))
		INVARIANT(c->claim_grace_seconds == CONFIG_CLAIM_GRACE_DEFAULT);
#endif
}

static bool ids_equal(const struct config_ids *a, const struct config_ids *b)
{
	return a->count == b->count &&
	       (a->count == 0 || memcmp(a->ids, b->ids, a->count * sizeof(*a->ids)) == 0);
}

static bool configs_equal(const struct config *a, const struct config *b)
{
	if (a->ndevices != b->ndevices)
		return false;
	for (size_t i = 0; i < a->ndevices; i++) {
		const struct config_device_match *x = &a->devices[i], *y = &b->devices[i];

		if (x->by_id != y->by_id || x->vendor != y->vendor || x->device != y->device ||
		    strcmp(x->bdf, y->bdf) != 0)
			return false;
	}
	return ids_equal(&a->vm_users, &b->vm_users) && ids_equal(&a->vm_groups, &b->vm_groups) &&
	       ids_equal(&a->fast_path_users, &b->fast_path_users) &&
	       ids_equal(&a->fast_path_groups, &b->fast_path_groups) &&
	       a->bind_on_demand == b->bind_on_demand && a->restore_driver == b->restore_driver &&
	       a->mock_devices == b->mock_devices && a->quota_vms == b->quota_vms &&
	       a->quota_objects == b->quota_objects &&
	       a->quota_connections == b->quota_connections &&
	       a->quota_pinned_bytes == b->quota_pinned_bytes &&
	       a->quota_queued_messages == b->quota_queued_messages &&
#ifdef CONFIG_CLAIM_GRACE_DEFAULT
	       a->claim_grace_seconds == b->claim_grace_seconds &&
#endif
	       strcmp(a->path, b->path) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = &sentinel, *again = &sentinel, *quiet = &sentinel;
	/* Heap buffers of their exact size, so ASan sees a byte written past them. */
	size_t shortlen = 1 + size % 48;
	char *err = malloc(ERR_MAX), *shorterr = malloc(shortlen);
	int r, r2, r3;

	if (!err || !shorterr)
		abort();
	memset(err, 'x', ERR_MAX);
	memset(shorterr, 'x', shortlen);

	r = config_parse((const char *)data, size, SOURCE, &c, err, ERR_MAX);
	if (r == 0) {
		INVARIANT(c != NULL && c != &sentinel);
		INVARIANT(err[0] == '\0');
		check_config(c, data, size);
	} else {
		INVARIANT(r < 0);
		INVARIANT(c == NULL);
		check_message(err, ERR_MAX);
	}

	/* Again, with a short buffer: the same verdict, the message cut short. */
	r2 = config_parse((const char *)data, size, SOURCE, &again, shorterr, shortlen);
	INVARIANT(r2 == r);
	INVARIANT(memchr(shorterr, '\0', shortlen) != NULL);
	if (r == 0) {
		INVARIANT(shorterr[0] == '\0');
		INVARIANT(again != NULL && again != &sentinel && again != c);
		INVARIANT(configs_equal(c, again));
	} else {
		INVARIANT(again == NULL);
		INVARIANT(strlen(shorterr) == (strlen(err) < shortlen ? strlen(err) : shortlen - 1));
		INVARIANT(strncmp(shorterr, err, strlen(shorterr)) == 0);
		if (shortlen > 1)
			check_message(shorterr, shortlen);
	}

	/* And with no buffer at all. */
	r3 = config_parse((const char *)data, size, SOURCE, &quiet, NULL, 0);
	INVARIANT(r3 == r);
	INVARIANT(r == 0 ? quiet != NULL && quiet != &sentinel : quiet == NULL);

	config_free(c);
	config_free(again);
	config_free(quiet);
	free(err);
	free(shorterr);
	return 0;
}
