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

/* A device's object path, or its name as org.viommu1(5) spells it (lib/wire). */
int client_device_path(const char *device, char *buf, size_t size)
{
	if (!device || !*device)
		return -EINVAL;
	if (device[0] != '/')
		return wire_device_path(device, buf, size) == 0 ? 0 : -EINVAL;
	if (client_check_path(device) < 0 || strlen(device) >= size ||
	    strncmp(device, VIOMMU_DEVICE_PREFIX "/", strlen(VIOMMU_DEVICE_PREFIX "/")) != 0)
		return -EINVAL;
	strcpy(buf, device);
	return 0;
}

int viommu_device_path(const char *device, char **out_path)
{
	char buf[sizeof(VIOMMU_DEVICE_PREFIX) + WIRE_DEVICE_NAME_MAX + 1];
	int r;

	if (!out_path)
		return -EINVAL;
	*out_path = NULL;
	/* A path given as is may be longer than any name. */
	if (device && device[0] == '/') {
		if (client_check_path(device) < 0 ||
		    strncmp(device, VIOMMU_DEVICE_PREFIX "/", strlen(VIOMMU_DEVICE_PREFIX "/")) != 0)
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
