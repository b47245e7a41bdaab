/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DEV, VM and orphan NAME arguments; see names.h. */
#include "names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "pci-sysfs.h"
#include "viommuctl.h"

static bool all_of(const char *s, const char *set, bool alnum)
{
	for (; *s; s++)
		if (!(alnum && ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
				(*s >= 'A' && *s <= 'Z'))) &&
		    !strchr(set, *s))
			return false;
	return true;
}

static bool digits(const char *s)
{
	return *s && all_of(s, "0123456789", false);
}

bool dev_arg_to_path(const char *arg, char path[DEV_PATH_MAX])
{
	size_t n = strlen(VIOMMU_DEVICE_PREFIX "/");

	if (arg[0] != '/')
		return wire_device_path(arg, path, DEV_PATH_MAX) == 0;
	if (strncmp(arg, VIOMMU_DEVICE_PREFIX "/", n) != 0 || !arg[n] ||
	    !all_of(arg + n, "_", true) || strlen(arg) >= DEV_PATH_MAX)
		return false;
	snprintf(path, DEV_PATH_MAX, "%s", arg);
	return true;
}

bool vm_arg_is_path(const char *arg)
{
	size_t n = strlen(VIOMMU_VM_PREFIX "/");

	return strncmp(arg, VIOMMU_VM_PREFIX "/", n) == 0 && digits(arg + n) && arg[n] != '0' &&
	       strlen(arg + n) <= 10;
}

bool vm_arg_valid(const char *arg)
{
	size_t len = strlen(arg);

	if (arg[0] == '/')
		return vm_arg_is_path(arg);
	return len >= 1 && len <= 63 && all_of(arg, "._-", true);
}

bool orphan_arg_valid(const char *arg)
{
	size_t len = strlen(arg);

	/* Bytes, not isprint(): the fd store's rule does not follow the locale. */
	for (const unsigned char *p = (const unsigned char *)arg; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == ':')
			return false;
	return len >= 1 && len <= ORPHAN_NAME_MAX;
}
