/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Batched set-up, for VMs with many devices: Vm.AttachDevices attaches a
 * list of devices and Viommu.NestDevices gives each of a list a vDEVICE and
 * a nested domain of its own with the device on it. One call, one state
 * commit, one round trip, instead of one of each per device. All or nothing:
 * a failure undoes what the call did so far, newest first.
 */
#include "daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"

/* The most entries one call takes; the VM's object quota applies as well. */
#define BATCH_MAX 1024

int vm_method_attach_devices(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct device *devs[BATCH_MAX];
	size_t n = 0, done = 0;
	const char *path;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "o");
	while (r >= 0 && (r = sd_bus_message_read(m, "o", &path)) > 0) {
		if (n == BATCH_MAX)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "more than %d devices in one call", BATCH_MAX);
		devs[n] = device_by_path(vm->daemon, path);
		if (!devs[n])
			return error_set(error, VIOMMU_ERROR_NOT_FOUND, "no device %s", path);
		for (size_t i = 0; i < n; i++)
			if (devs[i] == devs[n])
				return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
						 "%s is named twice", devs[n]->name);
		n++;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	for (; done < n; done++) {
		r = vm_attach_device_with(vm, devs[done], m, NULL, error);
		if (r < 0)
			break;
	}
	if (r < 0) {
		while (done-- > 0)
			vm_detach_device(vm, devs[done], NULL);
		return r;
	}
	return sd_bus_reply_method_return(m, NULL);
}

struct nested {
	struct vm_device *vd;
	uint64_t virt_id;
	struct vdevice *vdev;
	struct domain *dom;
};

static void nested_undo(struct vm *vm, struct nested *e)
{
	if (e->vd->domain == e->dom && e->dom)
		vm_device_replace(vm, e->vd, vm->parent_id);
	if (e->dom) {
		e->vd->domain = NULL;
		domain_destroy(e->dom, true);
	}
	if (e->vdev)
		vdevice_destroy(e->vdev, true);
}

/* Reads a(ot) into entries; every device must be attached to the VM. */
static int read_entries(sd_bus_message *m, struct vm *vm, struct nested *entries, size_t *n,
			sd_bus_error *error)
{
	const char *path;
	uint64_t virt_id;
	int r = sd_bus_message_enter_container(m, 'a', "(ot)");

	*n = 0;
	while (r >= 0 && (r = sd_bus_message_read(m, "(ot)", &path, &virt_id)) > 0) {
		struct device *dev = device_by_path(vm->daemon, path);

		if (*n == BATCH_MAX)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "more than %d devices in one call", BATCH_MAX);
		if (!dev)
			return error_set(error, VIOMMU_ERROR_NOT_FOUND, "no device %s", path);
		entries[*n] = (struct nested){ .vd = vm_device_of(vm, dev), .virt_id = virt_id };
		if (!entries[*n].vd)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "%s is not attached to VM %s", dev->name, vm->name);
		if (entries[*n].vd->domain)
			return error_set(error, VIOMMU_ERROR_BUSY, "%s is on domain %s already",
					 dev->name, entries[*n].vd->domain->path);
		(*n)++;
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

int viommu_method_nest_devices(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;
	struct vm *vm = v->vm;
	struct nested *entries = calloc(BATCH_MAX, sizeof(*entries));
	sd_bus_message *reply = NULL;
	const void *data = NULL;
	size_t n = 0, len = 0, i = 0;
	uint32_t data_type;
	int r;

	if (!entries)
		return -ENOMEM;
	r = read_entries(m, vm, entries, &n, error);
	if (r >= 0)
		r = sd_bus_message_read(m, "u", &data_type);
	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &data, &len);
	if (r >= 0 && len > VIOMMU_DATA_MAX)
		r = error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
			      "domain data of %zu bytes, at most %d", len, VIOMMU_DATA_MAX);
	while (r >= 0 && i < n) {
		struct nested *e = &entries[i];

		r = vdevice_create(v, e->vd->device, e->virt_id, &e->vdev, error);
		if (r >= 0)
			r = domain_alloc(vm, v, data_type, data, len, NULL, &e->dom, error);
		if (r >= 0)
			r = domain_attach_device(e->dom, e->vd, error);
		if (r < 0) {
			nested_undo(vm, e); /* the entry that failed, as far as it got */
			break;
		}
		i++;
	}
	if (r >= 0)
		r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(oo)");
	for (size_t k = 0; r >= 0 && k < n; k++)
		r = sd_bus_message_append(reply, "(oo)", entries[k].vdev->path, entries[k].dom->path);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	/* Those before i were made whole: undone newest first. */
	while (r < 0 && i-- > 0)
		nested_undo(vm, &entries[i]);
	sd_bus_message_unref(reply);
	free(entries);
	return r;
}
