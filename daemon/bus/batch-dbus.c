/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Vm.AttachDevices and Viommu.NestDevices: the batches' arguments and replies. */
#include "daemon.h"

#include <errno.h>
#include <stdlib.h>

#include "errors.h"

/* The most entries one call takes; the VM's object quota applies as well. */
#define BATCH_MAX 1024

int vm_method_attach_devices(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct verror e = VERROR_INIT;
	struct device *devs[BATCH_MAX];
	struct server_peer peer;
	const char *path;
	size_t n = 0;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "o");
	while (r >= 0 && (r = sd_bus_message_read(m, "o", &path)) > 0) {
		if (n == BATCH_MAX)
			return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					     "more than %d devices in one call", BATCH_MAX);
		devs[n] = device_by_path(vm->daemon, path);
		if (!devs[n])
			return bus_error_set(error, VIOMMU_ERROR_NOT_FOUND, "no device %s", path);
		for (size_t i = 0; i < n; i++)
			if (devs[i] == devs[n])
				return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
						     "%s is named twice", devs[n]->name);
		n++;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = daemon_caller(m, &peer, error);
	if (r < 0)
		return r;
	r = vm_attach_devices(vm, devs, n, &peer, &e);
	return bus_reply_empty(m, error, &e, r);
}

/* Reads a(ot) into entries; every device must be attached to the VM. */
static int read_entries(sd_bus_message *m, struct vm *vm, struct nest_entry *entries, size_t *n,
			sd_bus_error *error)
{
	const char *path;
	uint64_t virt_id;
	int r = sd_bus_message_enter_container(m, 'a', "(ot)");

	*n = 0;
	while (r >= 0 && (r = sd_bus_message_read(m, "(ot)", &path, &virt_id)) > 0) {
		struct device *dev = device_by_path(vm->daemon, path);

		if (*n == BATCH_MAX)
			return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					     "more than %d devices in one call", BATCH_MAX);
		if (!dev)
			return bus_error_set(error, VIOMMU_ERROR_NOT_FOUND, "no device %s", path);
		entries[*n] = (struct nest_entry){ .vd = vm_device_of(vm, dev), .virt_id = virt_id };
		if (!entries[*n].vd)
			return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					     "%s is not attached to VM %s", dev->name, vm->name);
		(*n)++;
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

int viommu_method_nest_devices(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;
	struct verror e = VERROR_INIT;
	struct nest_entry *entries = calloc(BATCH_MAX, sizeof(*entries));
	sd_bus_message *reply = NULL;
	const void *data = NULL;
	size_t n = 0, len = 0;
	uint32_t data_type;
	int r;

	if (!entries)
		return -ENOMEM;
	r = read_entries(m, v->vm, entries, &n, error);
	if (r >= 0)
		r = sd_bus_message_read(m, "u", &data_type);
	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &data, &len);
	if (r < 0) {
		free(entries);
		return r;
	}
	r = viommu_nest_devices(v, entries, n, data_type, data, len, &e);
	if (r < 0) {
		free(entries);
		return bus_error(error, &e, r);
	}
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(oo)");
	for (size_t k = 0; r >= 0 && k < n; k++)
		r = sd_bus_message_append(reply, "(oo)", entries[k].vdev->path, entries[k].dom->path);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	/* No reply, no change: undone newest first. */
	if (r < 0)
		viommu_nest_undo(v->vm, entries, n);
	sd_bus_message_unref(reply);
	free(entries);
	return r;
}
