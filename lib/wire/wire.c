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
