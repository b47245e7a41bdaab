/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* viommuctl devices, device show, hw-info, bind and unbind. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "names.h"
#include "pci-sysfs.h"
#include "vendor.h"
#include "viommuctl.h"

/* The name of the VM at path ("" for "/" or one that just went away). */
static char *vm_name(struct ctl *c, const char *path)
{
	char *name = NULL;

	if (strcmp(path, "/") == 0 ||
	    bus_get_string(c, path, VIOMMU_IFACE_VM, "Name", &name) < 0) {
		sd_bus_error_free(&c->error);
		return strdup("");
	}
	return name;
}

static bool is_mock(struct json_object *dev)
{
	return prop_i64(dev, "IommuGroup") < 0 && strncmp(prop_str(dev, "Name"), "selftest", 8) == 0;
}

static const struct out_column device_columns[] = {
	{ "name", "NAME" },
	{ "path", NULL },
	{ "mock", NULL },
	{ "driver", "DRIVER" },
	{ "iommu_group", "GROUP" },
	{ "cdev", NULL },
	{ "vendor", "IOMMU" },
	{ "vm", NULL },
	{ "vm_name", "VM" },
	{ "assignable", "ASSIGNABLE" },
	{ "reason", "REASON" },
};

int cmd_devices(struct ctl *c, int argc, char **argv)
{
	char **devices = NULL;
	int r = bus_list(c, "ListDevices", &devices);

	if (r < 0)
		return r;
	out_table_begin(c->out, NULL, NULL, device_columns,
			sizeof(device_columns) / sizeof(device_columns[0]), 0);
	for (size_t i = 0; devices[i]; i++) {
		struct json_object *dev = NULL;
		char *vm;

		if (bus_get_all(c, devices[i], VIOMMU_IFACE_DEVICE, &dev) < 0) {
			sd_bus_error_free(&c->error); /* gone since the list */
			continue;
		}
		vm = vm_name(c, prop_str(dev, "Vm"));
		out_row(c->out, (struct out_value[]){
			OV_STR(prop_str(dev, "Name")),
			OV_STR(devices[i]),
			OV_BOOL(is_mock(dev)),
			OV_STR(prop_str(dev, "Driver")),
			OV_I64(prop_i64(dev, "IommuGroup")),
			OV_STR(prop_str(dev, "Cdev")),
			OV_STR(prop_str(dev, "Vendor")),
			OV_STR(prop_str(dev, "Vm")),
			OV_STR(vm ? vm : ""),
			OV_GOOD(prop_bool(dev, "Assignable")),
			OV_STR(prop_str(dev, "Reason")),
		});
		free(vm);
		json_object_put(dev);
	}
	out_table_end(c->out);
	strv_free(devices);
	return 0;
}

static int get_device(struct ctl *c, const char *arg, char path[DEV_PATH_MAX],
		      struct json_object **dev)
{
	if (!dev_arg_to_path(arg, path))
		return ctl_usage(c, "\"%s\" is no device", arg);
	return bus_get_all(c, path, VIOMMU_IFACE_DEVICE, dev);
}

int cmd_device_show(struct ctl *c, int argc, char **argv)
{
	struct json_object *dev = NULL;
	char path[DEV_PATH_MAX], **caps, *vm;
	int r = get_device(c, argv[0], path, &dev);

	if (r < 0)
		return r;
	caps = prop_strv(dev, "Capabilities");
	vm = vm_name(c, prop_str(dev, "Vm"));
	out_object_begin(c->out, NULL, "");
	out_field(c->out, "name", "Name", OV_STR(prop_str(dev, "Name")));
	out_field(c->out, "path", "Path", OV_STR(path));
	out_field(c->out, "mock", "Mock", OV_BOOL(is_mock(dev)));
	out_field(c->out, "driver", "Driver", OV_STR(prop_str(dev, "Driver")));
	out_field(c->out, "iommu_group", "IOMMU group", OV_I64(prop_i64(dev, "IommuGroup")));
	out_field(c->out, "cdev", "VFIO cdev", OV_STR(prop_str(dev, "Cdev")));
	out_field(c->out, "vendor", "IOMMU", OV_STR(prop_str(dev, "Vendor")));
	out_field(c->out, "capabilities", "Capabilities", OV_STRV(caps));
	out_field(c->out, "vm", "VM path", OV_STR(prop_str(dev, "Vm")));
	out_field(c->out, "vm_name", "VM", OV_STR(vm ? vm : ""));
	out_field(c->out, "assignable", "Assignable", OV_GOOD(prop_bool(dev, "Assignable")));
	out_field(c->out, "reason", "Reason", OV_STR(prop_str(dev, "Reason")));
	out_object_end(c->out);
	free(vm);
	strv_free(caps);
	json_object_put(dev);
	return 0;
}

/* A capability's one-line description from the vendor table: decoding an
 * all-zero hw_info lists every name the decoder knows. */
static const char *cap_help(const struct viommu_vendor *vendor, const char *name)
{
	struct viommu_caps caps = { 0 };
	void *zero;
	const char *help = "";

	if (!vendor || !vendor->hw_info_len)
		return "";
	zero = calloc(1, vendor->hw_info_len);
	if (zero && viommu_vendor_decode(vendor, zero, vendor->hw_info_len, &caps) == 0)
		for (unsigned int i = 0; i < caps.count; i++)
			if (strcmp(caps.cap[i].name, name) == 0)
				help = caps.cap[i].help;
	free(zero);
	return help;
}

/*
 * The daemon decodes the registers of every PCI device it lists; when it had
 * none to give (its sysfs read failed), read them here, as it would.
 */
static int caps_from_sysfs(const char *name, struct json_object *hw, const char **vendor)
{
	struct pci_iommu_regs regs;
	struct viommu_caps caps = { 0 };
	const struct viommu_vendor *v;
	int r = pci_sysfs_iommu_regs(NULL, name, &regs);

	if (r < 0)
		return r;
	v = viommu_vendor_by_hw_info_type(regs.type);
	if (!v)
		return -EOPNOTSUPP;
	r = viommu_vendor_decode(v, &regs.data, regs.data_len, &caps);
	for (unsigned int i = 0; r >= 0 && i < caps.count; i++)
		r = json_object_object_add(hw, caps.cap[i].name,
					   json_object_new_uint64(caps.cap[i].value));
	*vendor = v->name;
	return r < 0 ? r : 0;
}

static const struct out_column cap_columns[] = {
	{ "name", "NAME" },
	{ "value", "VALUE" },
	{ "description", "DESCRIPTION" },
};

int cmd_hw_info(struct ctl *c, int argc, char **argv)
{
	struct json_object *dev = NULL, *hw = NULL;
	const struct viommu_vendor *vendor;
	const char *vendor_name, *source = "daemon";
	char path[DEV_PATH_MAX];
	int r = get_device(c, argv[0], path, &dev);

	if (r < 0)
		return r;
	if (!json_object_object_get_ex(dev, "HwInfo", &hw) || !hw) {
		hw = json_object_new_object();
		if (!hw || json_object_object_add(dev, "HwInfo", hw) < 0) {
			json_object_put(dev);
			return -ENOMEM;
		}
	}
	vendor_name = prop_str(dev, "Vendor");
	if (json_object_object_length(hw) == 0 && !is_mock(dev) &&
	    caps_from_sysfs(prop_str(dev, "Name"), hw, &vendor_name) == 0)
		source = "sysfs";
	vendor = viommu_vendor_by_name(vendor_name);

	out_object_begin(c->out, NULL, "");
	out_field(c->out, "name", "Device", OV_STR(prop_str(dev, "Name")));
	out_field(c->out, "path", NULL, OV_STR(path));
	out_field(c->out, "vendor", "IOMMU", OV_STR(vendor_name));
	out_field(c->out, "vendor_description", "IOMMU type",
		  OV_STR(vendor ? vendor->description : ""));
	out_field(c->out, "source", "Read from", OV_STR(source));
	/* JSON: the same name -> value object as Describe's hw_info. */
	out_object_begin(c->out, "hw_info", NULL);
	json_object_object_foreach(hw, key, val)
		out_field(c->out, key, NULL, OV_U64(json_object_get_uint64(val)));
	out_object_end(c->out);
	out_table_begin(c->out, "capabilities", "Capabilities", cap_columns,
			sizeof(cap_columns) / sizeof(cap_columns[0]), 0);
	json_object_object_foreach(hw, name, value) {
		uint64_t v = json_object_get_uint64(value);

		/* Registers and masks read best in hex, flags and counts in decimal. */
		out_row(c->out, (struct out_value[]){
			OV_STR(name),
			v > 0xffff ? OV_HEX(v) : OV_U64(v),
			OV_STR(cap_help(vendor, name)),
		});
	}
	out_table_end(c->out);
	out_object_end(c->out);
	json_object_put(dev);
	return 0;
}

static int call_device(struct ctl *c, const char *arg, const char *method)
{
	char path[DEV_PATH_MAX];

	if (!dev_arg_to_path(arg, path))
		return ctl_usage(c, "\"%s\" is no device", arg);
	return bus_call(c, path, VIOMMU_IFACE_DEVICE, method, NULL, NULL);
}

int cmd_bind(struct ctl *c, int argc, char **argv)
{
	return call_device(c, argv[0], "BindVfio");
}

int cmd_unbind(struct ctl *c, int argc, char **argv)
{
	return call_device(c, argv[0], "UnbindVfio");
}
