/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* viommuctl vms, vm show and vm destroy. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "names.h"
#include "viommuctl.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A VM's path from its name or path. Names are per owner, so root may see
 * two VMs of one name: then only the path will do. */
static int resolve_vm(struct ctl *c, const char *arg, char **path)
{
	char **vms = NULL;
	size_t found = 0;
	int r;

	if (!vm_arg_valid(arg))
		return ctl_usage(c, "\"%s\" is no VM", arg);
	if (vm_arg_is_path(arg)) {
		*path = strdup(arg);
		return *path ? 0 : -ENOMEM;
	}
	r = bus_list(c, "ListVms", &vms);
	if (r < 0)
		return r;
	*path = NULL;
	for (size_t i = 0; vms[i]; i++) {
		char *name = NULL;

		if (bus_get_string(c, vms[i], VIOMMU_IFACE_VM, "Name", &name) < 0) {
			sd_bus_error_free(&c->error); /* destroyed since the list */
			continue;
		}
		if (strcmp(name, arg) == 0 && found++ == 0)
			*path = strdup(vms[i]);
		free(name);
	}
	strv_free(vms);
	if (found == 0)
		return bus_set_error(c, VIOMMU_ERROR_NOT_FOUND, ENOENT, "no VM named \"%s\"", arg);
	if (found > 1) {
		free(*path);
		return bus_set_error(c, VIOMMU_ERROR_INVALID_ARGUMENT, EINVAL,
				     "%zu VMs of different owners are named \"%s\": give the path",
				     found, arg);
	}
	return *path ? 0 : -ENOMEM;
}

static const struct out_column vm_columns[] = {
	{ "name", "NAME" },
	{ "path", NULL },
	{ "owner", "OWNER" },
	{ "mode", "MODE" },
	{ "persist", "PERSIST" },
	{ "claimed", NULL }, /* JSON only: one more column crowds the line; vm show has it */
	{ "shared", "SHARED" },
	{ "device_count", "DEVICES" },
	{ "viommu_count", "VIOMMUS" },
	{ "domain_count", "DOMAINS" },
	{ "mapped_bytes", "MAPPED" },
};

static size_t count(struct json_object *props, const char *name)
{
	char **v = prop_strv(props, name);
	size_t n = strv_length(v);

	strv_free(v);
	return n;
}

int cmd_vms(struct ctl *c, int argc, char **argv)
{
	char **vms = NULL;
	int r = bus_list(c, "ListVms", &vms);

	if (r < 0)
		return r;
	out_table_begin(c->out, NULL, NULL, vm_columns, N(vm_columns), 0);
	for (size_t i = 0; vms[i]; i++) {
		struct json_object *vm = NULL;

		if (bus_get_all(c, vms[i], VIOMMU_IFACE_VM, &vm) < 0) {
			sd_bus_error_free(&c->error); /* destroyed since the list */
			continue;
		}
		out_row(c->out, (struct out_value[]){
			OV_STR(prop_str(vm, "Name")),
			OV_STR(vms[i]),
			OV_U64(prop_u64(vm, "Owner")),
			OV_STR(prop_str(vm, "Mode")),
			OV_BOOL(prop_bool(vm, "Persist")),
			OV_BOOL(prop_bool(vm, "Claimed")),
			OV_BOOL(prop_bool(vm, "Shared")),
			OV_U64(count(vm, "Devices")),
			OV_U64(count(vm, "Viommus")),
			OV_U64(count(vm, "Domains")),
			OV_BYTES(prop_u64(vm, "MappedBytes")),
		});
		json_object_put(vm);
	}
	out_table_end(c->out);
	strv_free(vms);
	return 0;
}

/* The properties of every object in paths, in order; NULL-terminated. */
static int get_all_list(struct ctl *c, char **paths, const char *iface,
			struct json_object ***out)
{
	size_t n = strv_length(paths);
	struct json_object **objs = calloc(n + 1, sizeof(*objs));
	int r = objs ? 0 : -ENOMEM;

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = bus_get_all(c, paths[i], iface, &objs[i]);
	if (r < 0) {
		for (size_t i = 0; objs && objs[i]; i++)
			json_object_put(objs[i]);
		free(objs);
		return r;
	}
	*out = objs;
	return 0;
}

static void put_list(struct json_object **objs)
{
	for (size_t i = 0; objs && objs[i]; i++)
		json_object_put(objs[i]);
	free(objs);
}

/* Every object a VM shows, read once. */
struct vm_view {
	struct json_object *vm;
	char **device_paths, **viommu_paths, **domain_paths, **vdevice_paths;
	struct json_object **devices, **viommus, **domains, **vdevices;
};

static void vm_view_free(struct vm_view *v)
{
	json_object_put(v->vm);
	strv_free(v->device_paths);
	strv_free(v->viommu_paths);
	strv_free(v->domain_paths);
	strv_free(v->vdevice_paths);
	put_list(v->devices);
	put_list(v->viommus);
	put_list(v->domains);
	put_list(v->vdevices);
}

/* The vDEVICE paths of every vIOMMU, one list. */
static int collect_vdevices(struct vm_view *v)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; v->viommus[i]; i++) {
		char **l = prop_strv(v->viommus[i], "VDevices");

		n += strv_length(l);
		strv_free(l);
	}
	v->vdevice_paths = calloc(n + 1, sizeof(char *));
	if (!v->vdevice_paths)
		return -ENOMEM;
	for (size_t i = 0; v->viommus[i]; i++) {
		char **l = prop_strv(v->viommus[i], "VDevices");

		for (size_t j = 0; l && l[j]; j++) {
			v->vdevice_paths[k++] = l[j];
			l[j] = NULL;
		}
		free(l);
	}
	return 0;
}

static int vm_view_read(struct ctl *c, const char *path, struct vm_view *v)
{
	int r = bus_get_all(c, path, VIOMMU_IFACE_VM, &v->vm);

	if (r < 0)
		return r;
	v->device_paths = prop_strv(v->vm, "Devices");
	v->viommu_paths = prop_strv(v->vm, "Viommus");
	v->domain_paths = prop_strv(v->vm, "Domains");
	if (!v->device_paths || !v->viommu_paths || !v->domain_paths)
		return -ENOMEM;
	r = get_all_list(c, v->device_paths, VIOMMU_IFACE_DEVICE, &v->devices);
	if (r >= 0)
		r = get_all_list(c, v->viommu_paths, VIOMMU_IFACE_VIOMMU, &v->viommus);
	if (r >= 0)
		r = get_all_list(c, v->domain_paths, VIOMMU_IFACE_DOMAIN, &v->domains);
	if (r >= 0)
		r = collect_vdevices(v);
	if (r >= 0)
		r = get_all_list(c, v->vdevice_paths, VIOMMU_IFACE_VDEVICE, &v->vdevices);
	return r;
}

/* The nested domain a device is on, "/" for the parent. */
static const char *domain_of(struct vm_view *v, const char *device)
{
	for (size_t i = 0; v->domains[i]; i++) {
		char **devs = prop_strv(v->domains[i], "Devices");
		bool on = false;

		for (size_t j = 0; devs && devs[j] && !on; j++)
			on = strcmp(devs[j], device) == 0;
		strv_free(devs);
		if (on)
			return v->domain_paths[i];
	}
	return "/";
}

static const char *short_or_parent(const char *path)
{
	return strcmp(path, "/") == 0 ? "parent" : short_path(path);
}

static const struct out_column range_columns[] = {
	{ "start", "START" },
	{ "last", "LAST" },
};

static const struct out_column device_columns[] = {
	{ "name", "NAME" },  { "path", NULL },	  { "vendor", "IOMMU" },
	{ "driver", "DRIVER" }, { "domain", NULL }, { NULL, "DOMAIN" },
};

static const struct out_column viommu_columns[] = {
	{ "path", NULL },
	{ NULL, "VIOMMU" },
	{ "type", "TYPE" },
	{ "kernel_id", "KERNEL ID" },
	{ "parent_id", "PARENT ID" },
	{ "invalidations", "INVALIDATIONS" },
	{ "mmap_offset", NULL },
	{ "mmap_length", "MMAP LENGTH" },
};

static const struct out_column vdevice_columns[] = {
	{ "path", NULL },   { NULL, "VDEVICE" }, { "viommu", NULL },	 { NULL, "VIOMMU" },
	{ "device", NULL }, { NULL, "DEVICE" },	 { "virt_id", "VIRT ID" }, { "kernel_id", "KERNEL ID" },
};

static const struct out_column domain_columns[] = {
	{ "path", NULL },	   { NULL, "DOMAIN" },	     { "kernel_id", "KERNEL ID" },
	{ "data_type", "DATA TYPE" }, { "viommu", NULL },	     { NULL, "ON" },
	{ "devices", NULL },	   { "device_names", "DEVICES" }, { "invalidations", "INVALIDATIONS" },
};

static void show_tables(struct ctl *c, struct vm_view *v)
{
	struct json_object *ranges = NULL;

	out_table_begin(c->out, "iova_ranges", "IOVA ranges", range_columns, N(range_columns), 0);
	json_object_object_get_ex(v->vm, "IovaRanges", &ranges);
	for (size_t i = 0; i < json_object_array_length(ranges); i++) {
		struct json_object *rg = json_object_array_get_idx(ranges, i);

		out_row(c->out, (struct out_value[]){
			OV_HEX(json_object_get_uint64(json_object_array_get_idx(rg, 0))),
			OV_HEX(json_object_get_uint64(json_object_array_get_idx(rg, 1))),
		});
	}
	out_table_end(c->out);

	out_table_begin(c->out, "devices", "Devices", device_columns, N(device_columns), 0);
	for (size_t i = 0; v->devices[i]; i++) {
		const char *dom = domain_of(v, v->device_paths[i]);

		out_row(c->out, (struct out_value[]){
			OV_STR(prop_str(v->devices[i], "Name")),
			OV_STR(v->device_paths[i]),
			OV_STR(prop_str(v->devices[i], "Vendor")),
			OV_STR(prop_str(v->devices[i], "Driver")),
			OV_STR(dom),
			OV_STR(short_or_parent(dom)),
		});
	}
	out_table_end(c->out);

	out_table_begin(c->out, "viommus", "vIOMMUs", viommu_columns, N(viommu_columns), 0);
	for (size_t i = 0; v->viommus[i]; i++) {
		struct json_object *vi = v->viommus[i];
		uint64_t len = prop_u64(vi, "MmapLength");

		out_row(c->out, (struct out_value[]){
			OV_STR(v->viommu_paths[i]),
			OV_STR(short_path(v->viommu_paths[i])),
			OV_STR(prop_str(vi, "Type")),
			OV_U64(prop_u64(vi, "KernelId")),
			OV_U64(prop_u64(vi, "ParentId")),
			OV_U64(prop_u64(vi, "Invalidations")),
			/* No MMIO window: null, as Describe leaves the keys out. */
			len ? OV_U64(prop_u64(vi, "MmapOffset")) : OV_NONE(),
			len ? OV_U64(len) : OV_NONE(),
		});
	}
	out_table_end(c->out);

	out_table_begin(c->out, "vdevices", "vDEVICEs", vdevice_columns, N(vdevice_columns), 0);
	for (size_t i = 0; v->vdevices[i]; i++) {
		struct json_object *vd = v->vdevices[i];
		char *dev = device_name_from_path(prop_str(vd, "Device"));

		out_row(c->out, (struct out_value[]){
			OV_STR(v->vdevice_paths[i]),
			OV_STR(short_path(v->vdevice_paths[i])),
			OV_STR(prop_str(vd, "Viommu")),
			OV_STR(short_path(prop_str(vd, "Viommu"))),
			OV_STR(prop_str(vd, "Device")),
			OV_STR(dev ? dev : ""),
			OV_HEX(prop_u64(vd, "VirtId")),
			OV_U64(prop_u64(vd, "KernelId")),
		});
		free(dev);
	}
	out_table_end(c->out);

	out_table_begin(c->out, "domains", "Domains", domain_columns, N(domain_columns), 0);
	for (size_t i = 0; v->domains[i]; i++) {
		struct json_object *d = v->domains[i];
		char **devs = prop_strv(d, "Devices"), **names = calloc(strv_length(devs) + 1,
								      sizeof(char *));

		for (size_t j = 0; names && devs && devs[j]; j++)
			names[j] = device_name_from_path(devs[j]);
		out_row(c->out, (struct out_value[]){
			OV_STR(v->domain_paths[i]),
			OV_STR(short_path(v->domain_paths[i])),
			OV_U64(prop_u64(d, "KernelId")),
			OV_HEX(prop_u64(d, "DataType")),
			OV_STR(prop_str(d, "Viommu")),
			OV_STR(short_or_parent(prop_str(d, "Viommu"))),
			OV_STRV(devs),
			OV_STRV(names),
			OV_U64(prop_u64(d, "Invalidations")),
		});
		strv_free(names);
		strv_free(devs);
	}
	out_table_end(c->out);
}

int cmd_vm_show(struct ctl *c, int argc, char **argv)
{
	struct vm_view v = { 0 };
	char *path = NULL;
	int r = resolve_vm(c, argv[0], &path);

	if (r >= 0)
		r = vm_view_read(c, path, &v);
	if (r >= 0) {
		struct json_object *vm = v.vm;

		out_object_begin(c->out, NULL, "");
		out_field(c->out, "name", "Name", OV_STR(prop_str(vm, "Name")));
		out_field(c->out, "path", "Path", OV_STR(path));
		out_field(c->out, "owner", "Owner", OV_U64(prop_u64(vm, "Owner")));
		out_field(c->out, "mode", "Mode", OV_STR(prop_str(vm, "Mode")));
		out_field(c->out, "persist", "Persistent", OV_BOOL(prop_bool(vm, "Persist")));
		/* Unclaimed after a restart: torn down at the grace's end unless it persists. */
		out_field(c->out, "claimed", "Claimed", OV_GOOD(prop_bool(vm, "Claimed")));
		/* launch: the VM lives as long as this process. */
		out_field(c->out, "vmm_pid", "VMM pid", OV_U64(prop_u64(vm, "VmmPid")));
		out_field(c->out, "pasid", "PASID", OV_BOOL(prop_bool(vm, "Pasid")));
		out_field(c->out, "shared", "Fast path handed out", OV_BOOL(prop_bool(vm, "Shared")));
		out_field(c->out, "nesting", "Nesting parent", OV_BOOL(prop_bool(vm, "Nesting")));
		out_field(c->out, "ioas_id", "IOAS ID", OV_U64(prop_u64(vm, "IoasId")));
		out_field(c->out, "parent_id", "Parent HWPT ID", OV_U64(prop_u64(vm, "ParentId")));
		out_field(c->out, "mapped_bytes", "Mapped", OV_BYTES(prop_u64(vm, "MappedBytes")));
		show_tables(c, &v);
		out_object_end(c->out);
	}
	vm_view_free(&v);
	free(path);
	return r;
}

int cmd_vm_destroy(struct ctl *c, int argc, char **argv)
{
	char *path = NULL;
	int r = resolve_vm(c, argv[0], &path);

	if (r >= 0)
		r = bus_call(c, path, VIOMMU_IFACE_VM, "Destroy", NULL, NULL);
	free(path);
	return r;
}
