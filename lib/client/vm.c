/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.viommu1.Vm: creating, opening and destroying a VM, its memory and its
 * properties. Devices and fds are in vm-device.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client-internal.h"

/* The daemon's limit on AllowIovas ranges. */
#define ALLOW_RANGES_MAX 64

static int vm_new(struct viommu_client *client, char *path, struct viommu_vm **out)
{
	struct viommu_vm *vm = calloc(1, sizeof(*vm));

	if (!vm) {
		free(path);
		return -ENOMEM;
	}
	vm->client = client;
	vm->path = path;
	*out = vm;
	return 0;
}

static int append_vm_options(sd_bus_message *m, const struct viommu_vm_options *options)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r < 0 || !options)
		return r < 0 ? r : sd_bus_message_close_container(m);
	r = sd_bus_message_append(m, "{sv}{sv}{sv}", "persist", "b", (int)options->persist, "pasid",
				  "b", (int)options->pasid, "dirty-tracking", "b",
				  (int)options->dirty_tracking);
	if (r >= 0 && options->mode)
		r = sd_bus_message_append(m, "{sv}", "mode", "s", options->mode);
	if (r < 0)
		return r;
	return sd_bus_message_close_container(m);
}

int viommu_vm_create(struct viommu_client *client, const char *name,
		     const struct viommu_vm_options *options, struct viommu_vm **out)
{
	sd_bus_message *m, *reply = NULL;
	char *path = NULL;
	int r;

	if (!client)
		return -EINVAL;
	client_clear_error(client);
	if (!name || !*name || !out)
		return -EINVAL;
	*out = NULL;
	r = client_new_call(client, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, "CreateVm", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "s", name);
	if (r >= 0)
		r = append_vm_options(m, options);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	r = client_call(client, m, &reply);
	if (r < 0)
		return r;
	r = client_read_path(reply, &path);
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	return vm_new(client, path, out);
}

int viommu_vm_open(struct viommu_client *client, const char *path, struct viommu_vm **out)
{
	char *mode = NULL, *copy;
	int r;

	if (!client)
		return -EINVAL;
	client_clear_error(client);
	if (!out || client_check_path(path) < 0 || strncmp(path, VIOMMU_VM_PREFIX "/", strlen(VIOMMU_VM_PREFIX "/")) != 0)
		return -EINVAL;
	*out = NULL;
	/* A VM the caller may not see does not exist for it: find out now. */
	r = client_get_string(client, path, VIOMMU_IFACE_VM, "Mode", &mode);
	if (r < 0)
		return r;
	free(mode);
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	return vm_new(client, copy, out);
}

const char *viommu_vm_path(const struct viommu_vm *vm)
{
	return vm ? vm->path : NULL;
}

void viommu_vm_free(struct viommu_vm *vm)
{
	if (!vm)
		return;
	free(vm->path);
	free(vm);
}

int viommu_vm_destroy(struct viommu_vm *vm)
{
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	r = client_destroy(vm->client, vm->path, VIOMMU_IFACE_VM);
	if (r < 0)
		return r;
	viommu_vm_free(vm);
	return 0;
}

int viommu_vm_map(struct viommu_vm *vm, int memfd, uint64_t offset, uint64_t length,
		  uint64_t iova, uint32_t flags)
{
	sd_bus_message *m;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if (memfd < 0)
		return -EINVAL;
	r = client_new_call(vm->client, vm->path, VIOMMU_IFACE_VM, "MapMemory", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "htttu", memfd, offset, length, iova, flags);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	return client_call(vm->client, m, NULL);
}

int viommu_vm_unmap(struct viommu_vm *vm, uint64_t iova, uint64_t length, uint64_t *out_unmapped)
{
	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	return client_call_u64(vm->client, vm->path, VIOMMU_IFACE_VM, "UnmapMemory", out_unmapped,
			       "tt", iova, length);
}

int viommu_vm_allow_iovas(struct viommu_vm *vm, const struct viommu_iova_range *ranges,
			  size_t count)
{
	sd_bus_message *m;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if ((count && !ranges) || count > ALLOW_RANGES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < count; i++)
		if (ranges[i].last < ranges[i].start)
			return -EINVAL;
	r = client_new_call(vm->client, vm->path, VIOMMU_IFACE_VM, "AllowIovas", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(m, 'a', "(tt)");
	for (size_t i = 0; r >= 0 && i < count; i++)
		r = sd_bus_message_append(m, "(tt)", ranges[i].start, ranges[i].last);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	return client_call(vm->client, m, NULL);
}

int viommu_vm_iova_ranges(struct viommu_vm *vm, struct viommu_iova_range *ranges,
			  size_t *inout_count)
{
	sd_bus_message *reply = NULL;
	uint64_t start, last;
	size_t n = 0;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if (!inout_count || (*inout_count && !ranges))
		return -EINVAL;
	r = client_get_reply(vm->client, vm->path, VIOMMU_IFACE_VM, "IovaRanges", "a(tt)", &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "(tt)");
	while (r >= 0) {
		r = sd_bus_message_read(reply, "(tt)", &start, &last);
		if (r <= 0)
			break;
		if (n < *inout_count) {
			ranges[n].start = start;
			ranges[n].last = last;
		}
		n++;
	}
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	r = n > *inout_count ? -EMSGSIZE : 0;
	*inout_count = n;
	return r;
}

int viommu_vm_kernel_ids(struct viommu_vm *vm, uint32_t *out_ioas_id, uint32_t *out_parent_id)
{
	uint32_t ioas, parent;
	int r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	r = client_get_u32(vm->client, vm->path, VIOMMU_IFACE_VM, "IoasId", &ioas);
	if (r >= 0)
		r = client_get_u32(vm->client, vm->path, VIOMMU_IFACE_VM, "ParentId", &parent);
	if (r < 0)
		return r;
	if (out_ioas_id)
		*out_ioas_id = ioas;
	if (out_parent_id)
		*out_parent_id = parent;
	return 0;
}

int viommu_vm_alloc_domain(struct viommu_vm *vm, uint32_t data_type, const void *data,
			   size_t len, struct viommu_domain **out)
{
	if (!vm)
		return -EINVAL;
	return domain_alloc_on(vm->client, vm->path, VIOMMU_IFACE_VM, data_type, data, len, out);
}
