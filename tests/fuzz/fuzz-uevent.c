/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness of the kernel uevent parser, uevent_parse()
 * (uevent-parse.h). Besides not crashing or tripping a sanitizer, every
 * input checks:
 *
 * - the parser neither reads nor writes ev->buf past the datagram's length
 *   (under ASan the rest of buf is poisoned while it runs);
 * - on failure: -EINVAL, or -EPROTO exactly for a "libudev\0" message, and
 *   every field but buf zeroed;
 * - on success: every string is NUL-terminated inside buf[0, len); the
 *   header and the KEY=VALUE entries tile the datagram exactly, and buf is
 *   the datagram with only the header's '@' and each entry's first '='
 *   turned into NULs; devpath is absolute and ends in sysname; the action
 *   matches its name; the well-known fields are what uevent_get() returns;
 *   a repeated key repeats its value; ACTION and DEVPATH agree with the
 *   header; SEQNUM is decimal and has_seqnum/seqnum say so;
 * - determinism: a second parse, into a struct full of garbage, gives the
 *   same result with the same offsets.
 *
 * A violated invariant aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uevent-parse.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define HAVE_ASAN 1
#endif
#endif
#ifndef HAVE_ASAN
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

#define INVARIANT(cond)                                                                  \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz-uevent: invariant failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                     \
			abort();                                                         \
		}                                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct uevent ev, ev2;

/* ev->buf[len, end) is off limits to the parser. */
static int parse_fenced(const uint8_t *data, size_t size, struct uevent *e)
{
	size_t len = size < sizeof(e->buf) ? size : sizeof(e->buf);
	int r;

	ASAN_POISON_MEMORY_REGION(e->buf + len, sizeof(e->buf) - len);
	r = uevent_parse(data, size, e);
	ASAN_UNPOISON_MEMORY_REGION(e->buf + len, sizeof(e->buf) - len);
	return r;
}

/* A NUL-terminated string that starts and ends inside buf[0, len). */
static bool in_datagram(const struct uevent *e, const char *s, size_t len)
{
	return s >= e->buf && s < e->buf + len && memchr(s, '\0', (size_t)(e->buf + len - s));
}

static ptrdiff_t offset_of(const struct uevent *e, const char *s)
{
	return s ? s - e->buf : -1;
}

static enum uevent_action expected_action(const char *name)
{
	static const struct {
		const char *name;
		enum uevent_action action;
	} known[] = {
		{ "add", UEVENT_ACTION_ADD },	    { "remove", UEVENT_ACTION_REMOVE },
		{ "bind", UEVENT_ACTION_BIND },	    { "unbind", UEVENT_ACTION_UNBIND },
		{ "change", UEVENT_ACTION_CHANGE },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(name, known[i].name) == 0)
			return known[i].action;
	return UEVENT_ACTION_OTHER;
}

/* The first value of key, found independently of uevent_get(). */
static const char *first_value(const struct uevent *e, const char *key)
{
	for (unsigned int i = 0; i < e->nvars; i++)
		if (strcmp(e->vars[i].key, key) == 0)
			return e->vars[i].value;
	return NULL;
}

static void check_seqnum(const struct uevent *e)
{
	const char *s = first_value(e, "SEQNUM");
	char printed[32];

	INVARIANT(e->has_seqnum == (s != NULL));
	if (!s) {
		INVARIANT(e->seqnum == 0);
		return;
	}
	INVARIANT(*s && strspn(s, "0123456789") == strlen(s));
	while (s[0] == '0' && s[1])
		s++; /* leading zeros */
	snprintf(printed, sizeof(printed), "%" PRIu64, e->seqnum);
	INVARIANT(strcmp(printed, s) == 0);
}

static void check_parsed(const struct uevent *e, const uint8_t *data, size_t len)
{
	const char *end = e->buf + len, *next;
	size_t at;

	/* The header: "ACTION@DEVPATH" at the start. */
	INVARIANT(e->action_name == e->buf);
	INVARIANT(in_datagram(e, e->action_name, len) && e->action_name[0]);
	INVARIANT(!strchr(e->action_name, '@'));
	at = strlen(e->action_name);
	INVARIANT(data[at] == '@');
	INVARIANT(e->devpath == e->action_name + at + 1);
	INVARIANT(in_datagram(e, e->devpath, len) && e->devpath[0] == '/');
	INVARIANT(in_datagram(e, e->sysname, len));
	INVARIANT(e->sysname > e->devpath && e->sysname[-1] == '/' && e->sysname[0]);
	INVARIANT(!strchr(e->sysname, '/'));
	INVARIANT(e->sysname + strlen(e->sysname) == e->devpath + strlen(e->devpath));
	INVARIANT(e->action == expected_action(e->action_name));
	INVARIANT(e->action != UEVENT_ACTION_RESYNC);
	if (e->action != UEVENT_ACTION_OTHER)
		INVARIANT(strcmp(uevent_action_name(e->action), e->action_name) == 0);

	/* The entries follow one another up to the end, nothing skipped. */
	INVARIANT(e->nvars <= UEVENT_VARS_MAX);
	next = e->devpath + strlen(e->devpath) + 1;
	for (unsigned int i = 0; i < e->nvars; i++) {
		const struct uevent_var *v = &e->vars[i];

		INVARIANT(v->key == next);
		INVARIANT(in_datagram(e, v->key, len) && v->key[0] && !strchr(v->key, '='));
		INVARIANT(v->value == v->key + strlen(v->key) + 1);
		INVARIANT(in_datagram(e, v->value, len));
		INVARIANT(data[v->value - 1 - e->buf] == '=');
		next = v->value + strlen(v->value) + 1;
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(e->vars[j].key, v->key) == 0)
				INVARIANT(strcmp(e->vars[j].value, v->value) == 0);
		INVARIANT(uevent_get(e, v->key) == first_value(e, v->key));
	}
	INVARIANT(next == end);

	/* buf is the datagram, with the separators cut: nothing else changed. */
	for (size_t i = 0; i < len; i++) {
		if (e->buf[i] == (char)data[i])
			continue;
		INVARIANT(e->buf[i] == '\0');
		INVARIANT((data[i] == '@' && i == at) || data[i] == '=');
	}
	/* (A '=' cut anywhere but at the end of a key would have broken the
	 * tiling checked above.) */

	/* The well-known keys. */
	INVARIANT(e->subsystem == uevent_get(e, "SUBSYSTEM"));
	INVARIANT(e->devtype == uevent_get(e, "DEVTYPE"));
	INVARIANT(e->driver == uevent_get(e, "DRIVER"));
	INVARIANT(e->pci_slot_name == uevent_get(e, "PCI_SLOT_NAME"));
	INVARIANT(e->pci_id == uevent_get(e, "PCI_ID"));
	if (first_value(e, "ACTION"))
		INVARIANT(strcmp(first_value(e, "ACTION"), e->action_name) == 0);
	if (first_value(e, "DEVPATH"))
		INVARIANT(strcmp(first_value(e, "DEVPATH"), e->devpath) == 0);
	check_seqnum(e);
}

/* Every field but buf is zero (uevent_parse() memsets them, padding too). */
static bool cleared(const struct uevent *e)
{
	static const unsigned char zero[offsetof(struct uevent, buf)];

	return memcmp(e, zero, sizeof(zero)) == 0;
}

static bool same_parse(const struct uevent *a, const struct uevent *b, size_t len)
{
	if (a->action != b->action || a->has_seqnum != b->has_seqnum || a->seqnum != b->seqnum ||
	    a->nvars != b->nvars || memcmp(a->buf, b->buf, len) != 0)
		return false;
	if (offset_of(a, a->action_name) != offset_of(b, b->action_name) ||
	    offset_of(a, a->devpath) != offset_of(b, b->devpath) ||
	    offset_of(a, a->sysname) != offset_of(b, b->sysname) ||
	    offset_of(a, a->subsystem) != offset_of(b, b->subsystem) ||
	    offset_of(a, a->devtype) != offset_of(b, b->devtype) ||
	    offset_of(a, a->driver) != offset_of(b, b->driver) ||
	    offset_of(a, a->pci_slot_name) != offset_of(b, b->pci_slot_name) ||
	    offset_of(a, a->pci_id) != offset_of(b, b->pci_id))
		return false;
	for (unsigned int i = 0; i < a->nvars; i++)
		if (offset_of(a, a->vars[i].key) != offset_of(b, b->vars[i].key) ||
		    offset_of(a, a->vars[i].value) != offset_of(b, b->vars[i].value))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool libudev = size >= 8 && memcmp(data, "libudev", 8) == 0;
	int r, r2;

	r = parse_fenced(data, size, &ev);
	if (r < 0) {
		INVARIANT(r == -EINVAL || r == -EPROTO);
		INVARIANT((r == -EPROTO) == (libudev && size <= UEVENT_SIZE_MAX));
		INVARIANT(cleared(&ev));
	} else {
		INVARIANT(r == 0);
		INVARIANT(size > 0 && size <= UEVENT_SIZE_MAX && data[size - 1] == '\0');
		INVARIANT(!libudev);
		check_parsed(&ev, data, size);
	}

	/* Again, into a struct that holds garbage: the same outcome. */
	memset(&ev2, 0xa5, offsetof(struct uevent, buf));
	r2 = parse_fenced(data, size, &ev2);
	INVARIANT(r2 == r);
	if (r < 0)
		INVARIANT(cleared(&ev2));
	else
		INVARIANT(same_parse(&ev, &ev2, size));
	return 0;
}
