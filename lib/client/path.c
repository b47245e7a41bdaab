/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device names to object paths. Checked here so that a bad name is -EINVAL
 * before anything is sent, rather than an sd-bus error about the path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-internal.h"

int client_check_path(const char *path)
{
	if (!path || !sd_bus_object_path_is_valid(path))
		return -EINVAL;
	return 0;
}

int client_device_path(const char *device, char *buf, size_t size)
{
	size_t prefix = strlen(VIOMMU_DEVICE_PREFIX), len;

	if (!device || !*device)
		return -EINVAL;
	if (device[0] == '/') {
		if (client_check_path(device) < 0)
			return -EINVAL;
		if (strlen(device) >= size)
			return -EINVAL;
		strcpy(buf, device);
		return 0;
	}
	len = strlen(device);
	if (len > VIOMMU_DEVICE_NAME_MAX)
		return -EINVAL;
	if (prefix + len >= size)
		return -EINVAL;
	memcpy(buf, VIOMMU_DEVICE_PREFIX, prefix);
	for (size_t i = 0; i < len; i++) {
		char c = device[i];

		/* A PCI address's separators become '_', as the daemon names them. */
		if (c == ':' || c == '.')
			c = '_';
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '_'))
			return -EINVAL;
		buf[prefix + i] = c;
	}
	buf[prefix + len] = '\0';
	return 0;
}

int viommu_device_path(const char *device, char **out_path)
{
	char buf[sizeof(VIOMMU_DEVICE_PREFIX) + VIOMMU_DEVICE_NAME_MAX + 1];
	int r;

	if (!out_path)
		return -EINVAL;
	*out_path = NULL;
	/* A path given as is may be longer than any name. */
	if (device && device[0] == '/') {
		if (client_check_path(device) < 0)
			return -EINVAL;
		*out_path = strdup(device);
		return *out_path ? 0 : -ENOMEM;
	}
	r = client_device_path(device, buf, sizeof(buf));
	if (r < 0)
		return r;
	*out_path = strdup(buf);
	return *out_path ? 0 : -ENOMEM;
}
