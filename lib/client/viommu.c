/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.viommu1.Viommu: the vIOMMU object, its vDEVICEs, nested domains on it
 * and invalidations through the daemon.
 */
#include <errno.h>
#include <stdlib.h>

#include "client-internal.h"

/* The daemon's limit on a vIOMMU's driver data. */
#define VIOMMU_DATA_MAX 4096

static int append_viommu_options(sd_bus_message *m, const void *data, size_t data_len)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0 && data) {
		r = sd_bus_message_open_container(m, 'e', "sv");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", "data");
		if (r >= 0)
			r = sd_bus_message_open_container(m, 'v', "ay");
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', data, data_len);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	if (r < 0)
		return r;
	return sd_bus_message_close_container(m);
}

int viommu_viommu_create(struct viommu_vm *vm, const char *type, const void *data,
			 size_t data_len, struct viommu_viommu **out)
{
	struct viommu_viommu *viommu;
	sd_bus_message *m, *reply = NULL;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if (!type || !*type || !out || (data_len && !data) || data_len > VIOMMU_DATA_MAX)
		return -EINVAL;
	*out = NULL;
	viommu = calloc(1, sizeof(*viommu));
	if (!viommu)
		return -ENOMEM;
	viommu->client = vm->client;
	r = client_new_call(vm->client, vm->path, VIOMMU_IFACE_VM, "CreateViommu", &m);
	if (r >= 0) {
		r = sd_bus_message_append(m, "s", type);
		if (r >= 0)
			r = append_viommu_options(m, data, data_len);
		if (r >= 0)
			r = client_call(vm->client, m, &reply);
		else
			sd_bus_message_unref(m);
	}
	if (r >= 0)
		r = client_new_object(vm->client, reply, VIOMMU_IFACE_VIOMMU, &viommu->path,
				      &viommu->kernel_id);
	if (r < 0) {
		free(viommu);
		return r;
	}
	*out = viommu;
	return 0;
}

const char *viommu_viommu_path(const struct viommu_viommu *viommu)
{
	return viommu ? viommu->path : NULL;
}

uint32_t viommu_viommu_kernel_id(const struct viommu_viommu *viommu)
{
	return viommu ? viommu->kernel_id : 0;
}

int viommu_viommu_mmap_window(struct viommu_viommu *viommu, uint64_t *out_offset,
			      uint64_t *out_length)
{
	uint64_t offset, length;
	int r;

	if (!viommu)
		return -EINVAL;
	client_clear_error(viommu->client);
	r = client_get_u64(viommu->client, viommu->path, VIOMMU_IFACE_VIOMMU, "MmapOffset",
			   &offset);
	if (r >= 0)
		r = client_get_u64(viommu->client, viommu->path, VIOMMU_IFACE_VIOMMU, "MmapLength",
				   &length);
	if (r < 0)
		return r;
	if (out_offset)
		*out_offset = offset;
	if (out_length)
		*out_length = length;
	return 0;
}

void viommu_viommu_free(struct viommu_viommu *viommu)
{
	if (!viommu)
		return;
	free(viommu->path);
	free(viommu);
}

int viommu_viommu_destroy(struct viommu_viommu *viommu)
{
	int r;

	if (!viommu)
		return -EINVAL;
	client_clear_error(viommu->client);
	r = client_destroy(viommu->client, viommu->path, VIOMMU_IFACE_VIOMMU);
	if (r < 0)
		return r;
	viommu_viommu_free(viommu);
	return 0;
}

int viommu_viommu_add_device(struct viommu_viommu *viommu, const char *device, uint64_t virt_id,
			     struct viommu_vdevice **out)
{
	char dev_path[VIOMMU_DEVICE_PATH_MAX];
	struct viommu_vdevice *vdevice;
	sd_bus_message *m, *reply = NULL;
	int r;

	if (!viommu)
		return -EINVAL;
	client_clear_error(viommu->client);
	if (!out || client_device_path(device, dev_path, sizeof(dev_path)) < 0)
		return -EINVAL;
	*out = NULL;
	vdevice = calloc(1, sizeof(*vdevice));
	if (!vdevice)
		return -ENOMEM;
	vdevice->client = viommu->client;
	r = client_new_call(viommu->client, viommu->path, VIOMMU_IFACE_VIOMMU, "AddDevice", &m);
	if (r >= 0) {
		r = sd_bus_message_append(m, "ot", dev_path, virt_id);
		if (r >= 0)
			r = client_call(viommu->client, m, &reply);
		else
			sd_bus_message_unref(m);
	}
	if (r >= 0)
		r = client_new_object(viommu->client, reply, VIOMMU_IFACE_VDEVICE, &vdevice->path,
				      &vdevice->kernel_id);
	if (r < 0) {
		free(vdevice);
		return r;
	}
	*out = vdevice;
	return 0;
}

int viommu_viommu_alloc_domain(struct viommu_viommu *viommu, uint32_t data_type, const void *data,
			       size_t len, struct viommu_domain **out)
{
	if (!viommu)
		return -EINVAL;
	return domain_alloc_on(viommu->client, viommu->path, VIOMMU_IFACE_VIOMMU, data_type, data,
			       len, out);
}

int viommu_viommu_invalidate(struct viommu_viommu *viommu, uint32_t data_type, uint32_t entry_len,
			     const void *entries, uint32_t count, uint32_t *out_handled,
			     int *out_error)
{
	if (!viommu)
		return -EINVAL;
	client_clear_error(viommu->client);
	return client_invalidate(viommu->client, viommu->path, VIOMMU_IFACE_VIOMMU, data_type,
				 entry_len, entries, count, out_handled, out_error);
}
