/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel uevent datagrams. The input comes from a socket and will be fuzzed:
 * every read stays inside ev->buf[0, len), and len - 1 is checked to be a
 * NUL before any string function runs, so each strlen() stops inside it.
 */
#include "uevent-parse.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static const char *const action_names[] = {
	[UEVENT_ACTION_OTHER] = "other",   [UEVENT_ACTION_ADD] = "add",
	[UEVENT_ACTION_REMOVE] = "remove", [UEVENT_ACTION_BIND] = "bind",
	[UEVENT_ACTION_UNBIND] = "unbind", [UEVENT_ACTION_CHANGE] = "change",
	[UEVENT_ACTION_RESYNC] = "resync",
};

const char *uevent_action_name(enum uevent_action action)
{
	if ((size_t)action >= sizeof(action_names) / sizeof(action_names[0]))
		return "other";
	return action_names[action];
}

/* Only what the kernel sends: "resync" is the monitor's own. */
static enum uevent_action action_from_name(const char *name)
{
	for (enum uevent_action a = UEVENT_ACTION_ADD; a <= UEVENT_ACTION_CHANGE; a++)
		if (strcmp(name, action_names[a]) == 0)
			return a;
	return UEVENT_ACTION_OTHER;
}

/* Everything but the copy of the datagram. */
static void uevent_reset(struct uevent *ev)
{
	memset(ev, 0, offsetof(struct uevent, buf));
}

const char *uevent_get(const struct uevent *ev, const char *key)
{
	for (unsigned int i = 0; i < ev->nvars; i++)
		if (strcmp(ev->vars[i].key, key) == 0)
			return ev->vars[i].value;
	return NULL;
}

/* "ACTION@DEVPATH": split at the first '@'; devpath is absolute. */
static int parse_header(struct uevent *ev, char *s)
{
	char *at = strchr(s, '@'), *slash;

	if (!at || at == s || at[1] != '/')
		return -EINVAL;
	*at = '\0';
	ev->action_name = s;
	ev->devpath = at + 1;
	slash = strrchr(ev->devpath, '/');
	if (slash[1] == '\0')
		return -EINVAL;
	ev->sysname = slash + 1;
	ev->action = action_from_name(ev->action_name);
	return 0;
}

/* "KEY=VALUE" with a non-empty key; a repeated key must repeat its value. */
static int parse_var(struct uevent *ev, char *s)
{
	char *eq = strchr(s, '=');

	if (!eq || eq == s || ev->nvars >= UEVENT_VARS_MAX)
		return -EINVAL;
	*eq = '\0';
	for (unsigned int i = 0; i < ev->nvars; i++)
		if (strcmp(ev->vars[i].key, s) == 0 && strcmp(ev->vars[i].value, eq + 1) != 0)
			return -EINVAL;
	ev->vars[ev->nvars].key = s;
	ev->vars[ev->nvars].value = eq + 1;
	ev->nvars++;
	return 0;
}

static int parse_seqnum(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned int digit = (unsigned char)*s - '0';

		if (digit > 9 || v > (UINT64_MAX - digit) / 10)
			return -EINVAL;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

/* The header and the keys must tell the same story. */
static int parse_known(struct uevent *ev)
{
	const char *action = uevent_get(ev, "ACTION"), *devpath = uevent_get(ev, "DEVPATH");
	const char *seqnum = uevent_get(ev, "SEQNUM");

	if (action && strcmp(action, ev->action_name) != 0)
		return -EINVAL;
	if (devpath && strcmp(devpath, ev->devpath) != 0)
		return -EINVAL;
	if (seqnum) {
		if (parse_seqnum(seqnum, &ev->seqnum) < 0)
			return -EINVAL;
		ev->has_seqnum = true;
	}
	ev->subsystem = uevent_get(ev, "SUBSYSTEM");
	ev->devtype = uevent_get(ev, "DEVTYPE");
	ev->driver = uevent_get(ev, "DRIVER");
	ev->pci_slot_name = uevent_get(ev, "PCI_SLOT_NAME");
	ev->pci_id = uevent_get(ev, "PCI_ID");
	return 0;
}

static int parse(struct uevent *ev, size_t len)
{
	size_t off;
	int r;

	if (ev->buf[len - 1] != '\0')
		return -EINVAL;
	off = strlen(ev->buf) + 1; /* before parse_header() splits it at '@' */
	r = parse_header(ev, ev->buf);
	while (r == 0 && off < len) {
		char *s = ev->buf + off;
		size_t n = strlen(s);

		if (n == 0)
			return -EINVAL;
		off += n + 1;
		r = parse_var(ev, s);
	}
	return r < 0 ? r : parse_known(ev);
}

int uevent_parse(const void *data, size_t len, struct uevent *ev)
{
	static const char libudev[] = "libudev"; /* with its NUL: 8 bytes */
	int r;

	uevent_reset(ev);
	if (!data || len == 0 || len > sizeof(ev->buf))
		return -EINVAL;
	if (len >= sizeof(libudev) && memcmp(data, libudev, sizeof(libudev)) == 0)
		return -EPROTO;
	memcpy(ev->buf, data, len);
	r = parse(ev, len);
	if (r < 0)
		uevent_reset(ev);
	return r;
}
