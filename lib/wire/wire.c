/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "wire.h"
#include "wire-bus.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

const sd_bus_error_map wire_error_map[] = {
	SD_BUS_ERROR_MAP(VIOMMU_ERROR_NOT_FOUND, ENOENT),
	SD_BUS_ERROR_MAP(VIOMMU_ERROR_BUSY, EBUSY),
	SD_BUS_ERROR_MAP(VIOMMU_ERROR_PERMISSION_DENIED, EPERM),
	SD_BUS_ERROR_MAP(VIOMMU_ERROR_INVALID_ARGUMENT, EINVAL),
	SD_BUS_ERROR_MAP(VIOMMU_ERROR_NOT_SUPPORTED, EOPNOTSUPP),
	SD_BUS_ERROR_MAP(VIOMMU_ERROR_QUOTA_EXCEEDED, EDQUOT),
	SD_BUS_ERROR_MAP(VIOMMU_ERROR_KERNEL, EIO),
	SD_BUS_ERROR_MAP_END,
};

int wire_error_errno(const char *name)
{
	for (const sd_bus_error_map *e = wire_error_map; name && e->name; e++)
		if (strcmp(e->name, name) == 0)
			return -e->code;
	return -EIO;
}

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "DDDD:BB:DD.F" (a domain of 4 to 8 hex digits) or "BB:DD.F" (domain 0000),
 * in either case, as sysfs names it: lower case, with the domain. */
static bool pci_name(const char *name, char *out, size_t size)
{
	const char *colon = strchr(name, ':'), *bus = name;
	unsigned int slot;
	int n;

	if (!colon)
		return false;
	if (strchr(colon + 1, ':')) {
		size_t dom = (size_t)(colon - name);

		if (dom < 4 || dom > 8 || !hex_run(name, dom))
			return false;
		bus = colon + 1;
	}
	if (strlen(bus) != 7 || !hex_run(bus, 2) || bus[2] != ':' || !hex_run(bus + 3, 2) ||
	    bus[5] != '.' || bus[6] < '0' || bus[6] > '7')
		return false;
	if (sscanf(bus + 3, "%2x", &slot) != 1 || slot > 0x1f)
		return false;
	n = snprintf(out, size, "%s%s", bus == name ? "0000:" : "", name);
	if (n < 0 || (size_t)n >= size)
		return false;
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return true;
}

int wire_device_path(const char *name, char *buf, size_t size)
{
	char canonical[WIRE_DEVICE_NAME_MAX];
	size_t n;
	int r;

	if (!name || !buf)
		return -EINVAL;
	if (strncmp(name, "selftest", 8) == 0 && name[8] && strlen(name) < 32 &&
	    strspn(name + 8, "0123456789") == strlen(name + 8))
		snprintf(canonical, sizeof(canonical), "%s", name);
	else if (!pci_name(name, canonical, sizeof(canonical)))
		return -EINVAL;
	r = snprintf(buf, size, "%s/%s", VIOMMU_DEVICE_PREFIX, canonical);
	if (r < 0 || (size_t)r >= size)
		return -ENAMETOOLONG;
	for (n = strlen(VIOMMU_DEVICE_PREFIX) + 1; buf[n]; n++)
		if (buf[n] == ':' || buf[n] == '.')
			buf[n] = '_';
	return 0;
}

int wire_device_name(const char *path, char *buf, size_t size)
{
	static const char prefix[] = VIOMMU_DEVICE_PREFIX "/";
	char name[WIRE_DEVICE_NAME_MAX], again[sizeof(prefix) + WIRE_DEVICE_NAME_MAX];
	const char *tail;
	size_t len;

	if (!path || !buf || strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return -EINVAL;
	tail = path + sizeof(prefix) - 1;
	len = strlen(tail);
	if (len >= sizeof(name))
		return -EINVAL;
	strcpy(name, tail);
	/* "DDDD_BB_DD_F": the last three '_' were ':', ':' and '.'. */
	if (strncmp(name, "selftest", 8) != 0) {
		if (len < 12 || name[len - 2] != '_' || name[len - 5] != '_' || name[len - 8] != '_')
			return -EINVAL;
		name[len - 8] = ':';
		name[len - 5] = ':';
		name[len - 2] = '.';
	}
	/* Only what wire_device_path() makes of it again. */
	if (wire_device_path(name, again, sizeof(again)) < 0 || strcmp(again, path) != 0)
		return -EINVAL;
	if (len >= size)
		return -ENAMETOOLONG;
	strcpy(buf, name);
	return 0;
}
