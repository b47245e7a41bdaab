/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.viommu1.Vm: attaching devices and taking the fds the fast path needs.
 */
#include <errno.h>
#include <stdlib.h>

#include "client-internal.h"

static int append_attach_options(sd_bus_message *m, const struct viommu_attach_options *options)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0 && options && options->vf_token)
		r = sd_bus_message_append(m, "{sv}", "vf-token", "s", options->vf_token);
	if (r >= 0 && options && options->has_pasid)
		r = sd_bus_message_append(m, "{sv}", "pasid", "u", options->pasid);
	if (r < 0)
		return r;
	return sd_bus_message_close_container(m);
}

int viommu_vm_attach(struct viommu_vm *vm, const char *device,
		     const struct viommu_attach_options *options)
{
	char path[VIOMMU_DEVICE_PATH_MAX];
	sd_bus_message *m;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if (client_device_path(device, path, sizeof(path)) < 0)
		return -EINVAL;
	r = client_new_call(vm->client, vm->path, VIOMMU_IFACE_VM, "AttachDevice", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "o", path);
	if (r >= 0)
		r = append_attach_options(m, options);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	return client_call(vm->client, m, NULL);
}

int client_call_with_device(struct viommu_client *client, const char *path, const char *iface,
			    const char *member, const char *device, sd_bus_message **reply)
{
	char dev_path[VIOMMU_DEVICE_PATH_MAX];
	sd_bus_message *m;
	int r;

	client_clear_error(client);
	if (client_device_path(device, dev_path, sizeof(dev_path)) < 0)
		return -EINVAL;
	r = client_new_call(client, path, iface, member, &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "o", dev_path);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	return client_call(client, m, reply);
}

int viommu_vm_detach(struct viommu_vm *vm, const char *device)
{
	if (!vm)
		return -EINVAL;
	return client_call_with_device(vm->client, vm->path, VIOMMU_IFACE_VM, "DetachDevice",
				       device, NULL);
}

int viommu_vm_get_iommufd(struct viommu_vm *vm, int *out_fd)
{
	sd_bus_message *m, *reply = NULL;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if (!out_fd)
		return -EINVAL;
	*out_fd = -1;
	r = client_new_call(vm->client, vm->path, VIOMMU_IFACE_VM, "GetIommufd", &m);
	if (r < 0)
		return r;
	r = client_call(vm->client, m, &reply);
	if (r < 0)
		return r;
	r = client_read_fd(reply, out_fd);
	sd_bus_message_unref(reply);
	return r;
}

int viommu_vm_get_device_fd(struct viommu_vm *vm, const char *device, int *out_fd)
{
	sd_bus_message *reply = NULL;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if (!out_fd)
		return -EINVAL;
	*out_fd = -1;
	r = client_call_with_device(vm->client, vm->path, VIOMMU_IFACE_VM, "GetDeviceFd", device,
				    &reply);
	if (r < 0)
		return r;
	r = client_read_fd(reply, out_fd);
	sd_bus_message_unref(reply);
	return r;
}
