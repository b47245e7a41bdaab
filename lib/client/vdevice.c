/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.viommu1.VDevice: a device's guest virtual ID on a vIOMMU.
 */
#include <errno.h>
#include <stdlib.h>

#include "client-internal.h"

const char *viommu_vdevice_path(const struct viommu_vdevice *vdevice)
{
	return vdevice ? vdevice->path : NULL;
}

uint32_t viommu_vdevice_kernel_id(const struct viommu_vdevice *vdevice)
{
	return vdevice ? vdevice->kernel_id : 0;
}

void viommu_vdevice_free(struct viommu_vdevice *vdevice)
{
	if (!vdevice)
		return;
	free(vdevice->path);
	free(vdevice);
}

int viommu_vdevice_destroy(struct viommu_vdevice *vdevice)
{
	int r;

	if (!vdevice)
		return -EINVAL;
	client_clear_error(vdevice->client);
	r = client_destroy(vdevice->client, vdevice->path, VIOMMU_IFACE_VDEVICE);
	if (r < 0)
		return r;
	viommu_vdevice_free(vdevice);
	return 0;
}
