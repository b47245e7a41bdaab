/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager.Describe(): the state a caller may see, as one JSON document. */
#include "daemon.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VIOMMUD_VERSION
#define VIOMMUD_VERSION "0"
#endif

/* json-c calls return 0 or -1 and take ownership of the value either way. */
static int put(struct json_object *obj, const char *key, struct json_object *value)
{
	if (!value)
		return -ENOMEM;
	return json_object_object_add(obj, key, value) < 0 ? -ENOMEM : 0;
}

static int push(struct json_object *array, struct json_object *value)
{
	if (!value)
		return -ENOMEM;
	return json_object_array_add(array, value) < 0 ? -ENOMEM : 0;
}

static struct json_object *describe_device(struct daemon *d, struct device *dev,
					   const struct server_peer *peer)
{
	struct json_object *o = json_object_new_object(), *caps = json_object_new_object();
	char reason[512];
	bool assignable = device_assignable(d, dev, reason, sizeof(reason));
	/* Another user's VM is not named, only that the device is taken. */
	bool foreign = dev->vm && !vm_visible_to(dev->vm, peer);
	int r = o && caps ? 0 : -ENOMEM;

	if (foreign)
		snprintf(reason, sizeof(reason), "attached to another user's VM");

	for (unsigned int i = 0; r == 0 && i < dev->caps.count; i++)
		r = put(caps, dev->caps.cap[i].name, json_object_new_uint64(dev->caps.cap[i].value));
	if (r == 0)
		r = put(o, "path", json_object_new_string(dev->path));
	if (r == 0)
		r = put(o, "name", json_object_new_string(dev->name));
	if (r == 0)
		r = put(o, "mock", json_object_new_boolean(dev->mock));
	if (r == 0)
		r = put(o, "driver", json_object_new_string(dev->mock ? "" : dev->pci.driver));
	if (r == 0)
		r = put(o, "iommu_group", json_object_new_int(dev->mock ? -1 : dev->pci.iommu_group));
	if (r == 0)
		r = put(o, "vendor", json_object_new_string(dev->vendor ? dev->vendor->name : ""));
	if (r == 0)
		r = put(o, "hw_info", caps);
	else
		json_object_put(caps);
	if (r == 0)
		r = put(o, "vm", json_object_new_string(dev->vm && !foreign ? dev->vm->path : "/"));
	if (r == 0)
		r = put(o, "assignable", json_object_new_boolean(assignable));
	if (r == 0)
		r = put(o, "reason", json_object_new_string(reason));
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *describe_vm_devices(struct vm *vm)
{
	struct json_object *a = json_object_new_array();
	int r = a ? 0 : -ENOMEM;

	for (struct vm_device *vd = vm->devices; r == 0 && vd; vd = vd->next) {
		struct json_object *o = json_object_new_object();

		r = o ? 0 : -ENOMEM;
		if (r == 0)
			r = put(o, "path", json_object_new_string(vd->device->path));
		if (r == 0)
			r = put(o, "name", json_object_new_string(vd->device->name));
		if (r == 0)
			r = put(o, "dev_id", json_object_new_int64(vd->dev_id));
		if (r == 0)
			r = put(o, "pt_id", json_object_new_int64(vd->pt_id));
		if (r == 0)
			r = put(o, "domain",
				json_object_new_string(vd->domain ? vd->domain->path : "/"));
		if (r == 0 && vd->pasid_attached)
			r = put(o, "pasid", json_object_new_int64(vd->pasid));
		if (r == 0)
			r = put(o, "fd_handed_out", json_object_new_boolean(vd->fd_handed_out));
		r = r == 0 ? push(a, o) : (json_object_put(o), r);
	}
	if (r < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *describe_viommus(struct vm *vm)
{
	struct json_object *a = json_object_new_array();
	int r = a ? 0 : -ENOMEM;

	for (struct viommu *v = vm->viommus; r == 0 && v; v = v->next) {
		struct json_object *o = json_object_new_object();

		r = o ? 0 : -ENOMEM;
		if (r == 0)
			r = put(o, "path", json_object_new_string(v->path));
		if (r == 0)
			r = put(o, "type", json_object_new_string(v->vendor->name));
		if (r == 0)
			r = put(o, "kernel_id", json_object_new_int64(v->kernel_id));
		if (r == 0)
			r = put(o, "iommu", json_object_new_string(v->iommu));
		if (r == 0)
			r = put(o, "invalidations", json_object_new_uint64(v->invalidations));
		if (r == 0 && v->has_mmap)
			r = put(o, "mmap_offset", json_object_new_uint64(v->mmap_offset));
		if (r == 0 && v->has_mmap)
			r = put(o, "mmap_length", json_object_new_uint64(v->mmap_length));
		if (r == 0)
			r = put(o, "hw_queues", describe_hw_queues(v));
		r = r == 0 ? push(a, o) : (json_object_put(o), r);
	}
	if (r < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *describe_domains(struct vm *vm)
{
	struct json_object *a = json_object_new_array();
	int r = a ? 0 : -ENOMEM;

	for (struct domain *dom = vm->domains; r == 0 && dom; dom = dom->next) {
		struct json_object *o = json_object_new_object();

		r = o ? 0 : -ENOMEM;
		if (r == 0)
			r = put(o, "path", json_object_new_string(dom->path));
		if (r == 0)
			r = put(o, "kernel_id", json_object_new_int64(dom->kernel_id));
		if (r == 0)
			r = put(o, "data_type", json_object_new_int64(dom->data_type));
		if (r == 0)
			r = put(o, "viommu",
				json_object_new_string(dom->viommu ? dom->viommu->path : "/"));
		if (r == 0)
			r = put(o, "invalidations", json_object_new_uint64(dom->invalidations));
		r = r == 0 ? push(a, o) : (json_object_put(o), r);
	}
	if (r < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *describe_vdevices(struct vm *vm)
{
	struct json_object *a = json_object_new_array();
	int r = a ? 0 : -ENOMEM;

	for (struct vdevice *v = vm->vdevices; r == 0 && v; v = v->next) {
		struct json_object *o = json_object_new_object();

		r = o ? 0 : -ENOMEM;
		if (r == 0)
			r = put(o, "path", json_object_new_string(v->path));
		if (r == 0)
			r = put(o, "device", json_object_new_string(v->device->path));
		if (r == 0)
			r = put(o, "viommu", json_object_new_string(v->viommu->path));
		if (r == 0)
			r = put(o, "virt_id", json_object_new_uint64(v->virt_id));
		if (r == 0)
			r = put(o, "kernel_id", json_object_new_int64(v->kernel_id));
		r = r == 0 ? push(a, o) : (json_object_put(o), r);
	}
	if (r < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *describe_ranges(const struct iommufd_iova_range *ranges, size_t n)
{
	struct json_object *a = json_object_new_array();
	int r = a ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		struct json_object *o = json_object_new_object();

		r = o ? 0 : -ENOMEM;
		if (r == 0)
			r = put(o, "start", json_object_new_uint64(ranges[i].start));
		if (r == 0)
			r = put(o, "last", json_object_new_uint64(ranges[i].last));
		r = r == 0 ? push(a, o) : (json_object_put(o), r);
	}
	if (r < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *describe_mappings(struct vm *vm)
{
	struct json_object *a = json_object_new_array();
	int r = a ? 0 : -ENOMEM;

	for (struct vm_mapping *map = vm->mappings; r == 0 && map; map = map->next) {
		struct json_object *o = json_object_new_object();

		r = o ? 0 : -ENOMEM;
		if (r == 0)
			r = put(o, "iova", json_object_new_uint64(map->iova));
		if (r == 0)
			r = put(o, "length", json_object_new_uint64(map->length));
		r = r == 0 ? push(a, o) : (json_object_put(o), r);
	}
	if (r < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *describe_vm(struct vm *vm)
{
	struct json_object *o = json_object_new_object();
	int r = o ? 0 : -ENOMEM;

	if (r == 0)
		r = put(o, "path", json_object_new_string(vm->path));
	if (r == 0)
		r = put(o, "name", json_object_new_string(vm->name));
	if (r == 0)
		r = put(o, "owner", json_object_new_int64(vm->owner));
	if (r == 0)
		r = put(o, "mode",
			json_object_new_string(vm->mode == VM_MODE_BROKER ? "broker" : "managed"));
	if (r == 0)
		r = put(o, "persist", json_object_new_boolean(vm->persist));
	if (r == 0)
		r = put(o, "claimed", json_object_new_boolean(!vm->unclaimed));
	if (r == 0)
		r = put(o, "vmm_pid", json_object_new_int64(vm->vmm_pidfd >= 0 ? vm->vmm_pid : 0));
	if (r == 0)
		r = put(o, "pasid", json_object_new_boolean(vm->pasid));
	if (r == 0)
		r = put(o, "shared", json_object_new_boolean(vm->shared));
	if (r == 0)
		r = put(o, "nesting", json_object_new_boolean(vm->nesting));
	if (r == 0)
		r = put(o, "ioas_id", json_object_new_int64(vm->ioas_id));
	if (r == 0)
		r = put(o, "parent_id", json_object_new_int64(vm->parent_id));
	if (r == 0)
		r = put(o, "mapped_bytes", json_object_new_uint64(vm->mapped_bytes));
	if (r == 0)
		r = put(o, "mappings", describe_mappings(vm));
	if (r == 0)
		r = put(o, "iova_ranges", describe_ranges(vm->ranges, vm->nranges));
	if (r == 0)
		r = put(o, "devices", describe_vm_devices(vm));
	if (r == 0)
		r = put(o, "viommus", describe_viommus(vm));
	if (r == 0)
		r = put(o, "domains", describe_domains(vm));
	if (r == 0)
		r = put(o, "vdevices", describe_vdevices(vm));
	if (r == 0)
		r = put(o, "fault_queues", describe_fault_queues(vm));
	if (r < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int describe_json(struct daemon *d, const struct server_peer *peer, char **out)
{
	struct json_object *root = json_object_new_object(), *devices, *vms;
	int r = root ? 0 : -ENOMEM;

	if (r == 0)
		r = put(root, "version", json_object_new_string(VIOMMUD_VERSION));
	devices = json_object_new_array();
	if (r == 0)
		r = put(root, "devices", devices);
	for (struct device *dev = d->devices; r == 0 && dev; dev = dev->next)
		if (dev->present)
			r = push(devices, describe_device(d, dev, peer));
	vms = json_object_new_array();
	if (r == 0)
		r = put(root, "vms", vms);
	for (struct vm *vm = d->vms; r == 0 && vm; vm = vm->next)
		if (vm_visible_to(vm, peer))
			r = push(vms, describe_vm(vm));
	/* Stored fds nothing explains after a restart: the operator's to release. */
	if (r == 0 && peer_is_root(peer)) {
		struct json_object *orphans = json_object_new_array();
		char target[4096];

		r = put(root, "orphans", orphans);
		for (size_t i = 0; r == 0 && i < d->norphans; i++) {
			struct json_object *o = json_object_new_object();

			orphan_describe(&d->orphans[i], d->sysfs_root, target, sizeof(target));
			r = o ? 0 : -ENOMEM;
			if (r == 0)
				r = put(o, "name", json_object_new_string(d->orphans[i].name));
			if (r == 0)
				r = put(o, "target", json_object_new_string(target));
			if (r == 0)
				r = push(orphans, o);
			else
				json_object_put(o);
		}
	}
	if (r == 0) {
		*out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
		r = *out ? 0 : -ENOMEM;
	}
	json_object_put(root);
	return r;
}
