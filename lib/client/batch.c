/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Batched set-up, for VMs with many devices: Vm.AttachDevices and
 * Viommu.NestDevices, one call and one state commit in the daemon for the
 * whole list. All or nothing on the daemon's side.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client-internal.h"

int viommu_vm_attach_devices(struct viommu_vm *vm, const char *const *devices, size_t count)
{
	char path[VIOMMU_DEVICE_PATH_MAX];
	sd_bus_message *m;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if (!devices || count == 0 || count > BATCH_MAX)
		return -EINVAL;
	r = client_new_call(vm->client, vm->path, VIOMMU_IFACE_VM, "AttachDevices", &m);
	if (r < 0)
		return r;
	/* A bad name is refused here, before anything is sent. */
	r = sd_bus_message_open_container(m, 'a', "o");
	for (size_t i = 0; r >= 0 && i < count; i++) {
		r = client_device_path(devices[i], path, sizeof(path));
		if (r >= 0)
			r = sd_bus_message_append(m, "o", path);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	return client_call(vm->client, m, NULL);
}

/* The path as the reply gives it, and its KernelId (constant, so read once). */
static int object_read(struct viommu_client *client, const char *path, const char *iface,
		       char **out_path, uint32_t *out_kernel_id)
{
	char *copy = strdup(path);
	int r;

	if (!copy)
		return -ENOMEM;
	r = client_get_u32(client, copy, iface, "KernelId", out_kernel_id);
	if (r < 0) {
		free(copy);
		return r;
	}
	*out_path = copy;
	return 0;
}

static int nested_new(struct viommu_client *client, const char *vdevice_path,
		      const char *domain_path, struct viommu_nest_device *entry)
{
	struct viommu_vdevice *vdevice = calloc(1, sizeof(*vdevice));
	struct viommu_domain *domain = calloc(1, sizeof(*domain));
	int r = vdevice && domain ? 0 : -ENOMEM;

	if (r >= 0) {
		vdevice->client = domain->client = client;
		r = object_read(client, vdevice_path, VIOMMU_IFACE_VDEVICE, &vdevice->path,
				&vdevice->kernel_id);
	}
	if (r >= 0)
		r = object_read(client, domain_path, VIOMMU_IFACE_DOMAIN, &domain->path,
				&domain->kernel_id);
	if (r < 0) {
		viommu_vdevice_free(vdevice);
		viommu_domain_free(domain);
		return r;
	}
	entry->vdevice = vdevice;
	entry->domain = domain;
	return 0;
}

static void nested_free(struct viommu_nest_device *devices, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		viommu_vdevice_free(devices[i].vdevice);
		viommu_domain_free(devices[i].domain);
		devices[i].vdevice = NULL;
		devices[i].domain = NULL;
	}
}

/* Reads the a(oo) of reply, one entry per device, in order. */
static int nested_read(struct viommu_client *client, sd_bus_message *reply,
		       struct viommu_nest_device *devices, size_t count)
{
	const char *vdevice_path, *domain_path;
	size_t n = 0;
	int r;

	r = sd_bus_message_enter_container(reply, 'a', "(oo)");
	while (r >= 0) {
		r = sd_bus_message_read(reply, "(oo)", &vdevice_path, &domain_path);
		if (r <= 0)
			break;
		if (n == count)
			return -EBADMSG;
		r = nested_new(client, vdevice_path, domain_path, &devices[n++]);
	}
	if (r < 0)
		return r;
	return n == count ? 0 : -EBADMSG;
}

int viommu_viommu_nest_devices(struct viommu_viommu *viommu, struct viommu_nest_device *devices,
			       size_t count, uint32_t data_type, const void *data, size_t len)
{
	char path[VIOMMU_DEVICE_PATH_MAX];
	sd_bus_message *m, *reply = NULL;
	int r;

	if (!viommu)
		return -EINVAL;
	client_clear_error(viommu->client);
	if (!devices || count == 0 || count > BATCH_MAX || (len && !data) || len > DOMAIN_DATA_MAX)
		return -EINVAL;
	for (size_t i = 0; i < count; i++) {
		devices[i].vdevice = NULL;
		devices[i].domain = NULL;
	}
	r = client_new_call(viommu->client, viommu->path, VIOMMU_IFACE_VIOMMU, "NestDevices", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(m, 'a', "(ot)");
	for (size_t i = 0; r >= 0 && i < count; i++) {
		r = client_device_path(devices[i].device, path, sizeof(path));
		if (r >= 0)
			r = sd_bus_message_append(m, "(ot)", path, devices[i].virt_id);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "u", data_type);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', len ? data : "", len);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	r = client_call(viommu->client, m, &reply);
	if (r < 0)
		return r;
	/* The objects exist now: a failure here leaves them to the VM's teardown. */
	r = nested_read(viommu->client, reply, devices, count);
	sd_bus_message_unref(reply);
	if (r < 0)
		nested_free(devices, count);
	return r;
}
