/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "allowed_devices": PCI addresses and vendor:device IDs. */
#include "config-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci-sysfs.h"

/* "dddd:bb:dd.f" in the kernel's spelling, so a match is a string compare. */
void config_bdf_normalise(const char *bdf, char *out, size_t size)
{
	unsigned long dom = strtoul(bdf, NULL, 16);
	const char *p = strchr(bdf, ':') + 1;
	unsigned int bus = (unsigned int)strtoul(p, NULL, 16);
	unsigned int dev = (unsigned int)strtoul(p + 3, NULL, 16);
	unsigned int fn = (unsigned int)(p[6] - '0');

	snprintf(out, size, "%04lx:%02x:%02x.%x", dom, bus, dev, fn);
}

static bool parse_id_pair(const char *s, uint16_t *vendor, uint16_t *device)
{
	for (size_t i = 0; i < 9; i++) {
		if (i == 4 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	if (s[9])
		return false;
	*vendor = (uint16_t)strtoul(s, NULL, 16);
	*device = (uint16_t)strtoul(s + 5, NULL, 16);
	return true;
}

/* lspci's short "bb:dd.f", which needs the domain in front. */
static bool looks_like_short_bdf(const char *s)
{
	char full[32];

	if (strlen(s) != 7)
		return false;
	snprintf(full, sizeof(full), "0000:%s", s);
	return pci_bdf_valid(full);
}

static bool device_match_equal(const struct config_device_match *a,
			       const struct config_device_match *b)
{
	if (a->by_id != b->by_id)
		return false;
	if (a->by_id)
		return a->vendor == b->vendor && a->device == b->device;
	return strcmp(a->bdf, b->bdf) == 0;
}

int config_parse_devices(struct parser *p, const struct config_key *key, struct json_object *v)
{
	size_t n = json_object_array_length(v);
	struct config *c = p->config;

	c->devices = calloc(n ? n : 1, sizeof(*c->devices));
	if (!c->devices)
		return config_fail(p, -ENOMEM, key->name, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct config_device_match *m = &c->devices[i];
		char path[64], q[QUOTE_MAX];
		const char *s;
		int r;

		snprintf(path, sizeof(path), "%s[%zu]", key->name, i);
		r = config_get_string(p, path, json_object_array_get_idx(v, i),
				      "a string (a PCI address or a vendor:device ID)", &s);
		if (r < 0)
			return r;
		if (pci_bdf_valid(s)) {
			config_bdf_normalise(s, m->bdf, sizeof(m->bdf));
		} else if (parse_id_pair(s, &m->vendor, &m->device)) {
			m->by_id = true;
		} else if (looks_like_short_bdf(s)) {
			return config_fail(p, -EINVAL, path,
					   "%s lacks the PCI domain; write it as \"0000:%s\"",
					   QUOTE(q, s), s);
		} else {
			return config_fail(p, -EINVAL, path,
					   "%s is neither a PCI address (dddd:bb:dd.f) nor a vendor:device ID (vvvv:dddd)",
					   QUOTE(q, s));
		}
		for (size_t j = 0; j < i; j++) {
			if (device_match_equal(&c->devices[j], m))
				return config_fail(p, -EINVAL, path,
						   "%s is already listed as %s[%zu]", QUOTE(q, s),
						   key->name, j);
		}
		c->ndevices = i + 1;
	}
	return 0;
}
