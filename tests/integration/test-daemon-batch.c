/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Batched set-up (config {"mock_devices": 8}): Vm.AttachDevices attaches six
 * mock devices in one call and Viommu.NestDevices gives each a vDEVICE and a
 * nested domain with the device on it, checked against the kernel IDs in
 * Describe. A batch that fails part-way leaves nothing of itself behind.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "client.h"
#include "iommufd.h"
#include "selftest.h"

#define NDEV 8
#define NBATCH 6

static struct vc c;
static char *vm, *viommu, *devs[NDEV];
static const uint32_t nest_data[2] = { 0xbadbeef, 0 };

/* The VM's Describe() object (root freed by the caller through *root). */
static struct json_object *vm_json(struct json_object **root)
{
	*root = vc_describe_json(&c);
	return *root ? vc_json_by_path(*root, "vms", vm) : NULL;
}

static size_t count_of(const char *key)
{
	struct json_object *root, *o = vm_json(&root);
	size_t n = o ? json_object_array_length(json_object_object_get(o, key)) : SIZE_MAX;

	json_object_put(root);
	return n;
}

static struct json_object *device_json(struct json_object *o, const char *dev_path)
{
	struct json_object *devices = json_object_object_get(o, "devices");

	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		struct json_object *d = json_object_array_get_idx(devices, i);

		if (strcmp(vc_json_str(d, "path"), dev_path) == 0)
			return d;
	}
	return NULL;
}

static int attach_devices(char **paths, size_t n)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(c.bus, &m, c.destination, vm, VC_VM,
					       "AttachDevices");

	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "o");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = sd_bus_message_append(m, "o", paths[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = vc_call_message(&c, m, NULL);
	sd_bus_message_unref(m);
	return r;
}

/* NestDevices for devs[first..first+n) with virtual IDs from virt_ids. */
static int nest_devices(size_t first, size_t n, const uint64_t *virt_ids,
			sd_bus_message **reply)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(c.bus, &m, c.destination, viommu, VC_VIOMMU,
					       "NestDevices");

	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(ot)");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = sd_bus_message_append(m, "(ot)", devs[first + i], virt_ids[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "u", KABI_IOMMU_HWPT_DATA_SELFTEST);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', nest_data, sizeof(nest_data));
	if (r >= 0)
		r = vc_call_message(&c, m, reply);
	sd_bus_message_unref(m);
	return r;
}

static void test_attach_devices(void)
{
	char *batch[NBATCH + 1] = { 0 }, *bad[3] = { 0 };
	struct json_object *root, *o;
	uint32_t parent;

	CHECK_OK(vc_connect(&c, NULL));
	for (int i = 0; i < NDEV; i++) {
		char name[16];

		snprintf(name, sizeof(name), "selftest%d", i);
		devs[i] = vc_find_device(&c, name);
		CHECK(devs[i]);
	}
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "batch", &vm));
	for (int i = 0; i < NBATCH; i++)
		batch[i] = devs[i];
	CHECK_DBUS_OK(&c, attach_devices(batch, NBATCH));
	o = vm_json(&root);
	CHECK(o);
	parent = (uint32_t)vc_json_u64(o, "parent_id");
	CHECK(parent != 0);
	CHECK_EQ(json_object_array_length(json_object_object_get(o, "devices")), NBATCH);
	for (int i = 0; i < NBATCH; i++)
		CHECK_EQ(vc_json_u64(device_json(o, devs[i]), "pt_id"), parent);
	json_object_put(root);

	/* Not a device, twice the same, one attached already: nothing changes. */
	bad[0] = devs[6];
	bad[1] = (char *)"/org/viommu1/device/nosuch";
	CHECK_DBUS_ERROR(&c, attach_devices(bad, 2), VC_ERR_NOT_FOUND);
	bad[1] = devs[6];
	CHECK_DBUS_ERROR(&c, attach_devices(bad, 2), VC_ERR_INVALID);
	bad[1] = devs[0];
	CHECK_DBUS_ERROR(&c, attach_devices(bad, 2), VC_ERR_BUSY);
	CHECK_EQ(count_of("devices"), NBATCH);
}

static void test_nest_devices(void)
{
	uint64_t ids[NBATCH];
	sd_bus_message *reply = NULL;
	struct json_object *root, *o;
	const char *vdev, *dom;
	size_t n = 0;

	CHECK(vm);
	CHECK_DBUS_OK(&c, vc_create_viommu(&c, vm, "auto", &viommu));
	for (int i = 0; i < NBATCH; i++)
		ids[i] = 0x100 + (uint64_t)i;
	CHECK_DBUS_OK(&c, nest_devices(0, NBATCH, ids, &reply));
	o = vm_json(&root);
	CHECK(o);
	CHECK(sd_bus_message_enter_container(reply, 'a', "(oo)") > 0);
	while (sd_bus_message_read(reply, "(oo)", &vdev, &dom) > 0) {
		struct json_object *d = device_json(o, devs[n]);
		struct json_object *jdom = vc_json_by_path(o, "domains", dom);
		struct json_object *jvdev = vc_json_by_path(o, "vdevices", vdev);

		CHECK(d && jdom && jvdev);
		/* The device's RID is on its own nested domain, in the kernel. */
		CHECK_STREQ(vc_json_str(d, "domain"), dom);
		CHECK_EQ(vc_json_u64(d, "pt_id"), vc_json_u64(jdom, "kernel_id"));
		CHECK_STREQ(vc_json_str(jdom, "viommu"), viommu);
		CHECK_STREQ(vc_json_str(jvdev, "device"), devs[n]);
		CHECK_EQ(vc_json_u64(jvdev, "virt_id"), ids[n]);
		n++;
	}
	sd_bus_message_unref(reply);
	json_object_put(root);
	CHECK_EQ(n, NBATCH);
}

/* The second entry fails (its virtual ID is taken): the first one's vDEVICE
 * and domain go again, and its device is back on the parent. */
static void test_nest_rollback(void)
{
	char *pair[3] = { 0 };
	const uint64_t ids[2] = { 0x200, 0x100 };
	struct json_object *root, *o;
	uint32_t parent;

	CHECK(viommu);
	pair[0] = devs[6];
	pair[1] = devs[7];
	CHECK_DBUS_OK(&c, attach_devices(pair, 2));
	CHECK_DBUS_ERROR(&c, nest_devices(6, 2, ids, NULL), VC_ERR_BUSY);
	o = vm_json(&root);
	CHECK(o);
	parent = (uint32_t)vc_json_u64(o, "parent_id");
	CHECK_EQ(json_object_array_length(json_object_object_get(o, "vdevices")), NBATCH);
	CHECK_EQ(json_object_array_length(json_object_object_get(o, "domains")), NBATCH);
	CHECK_STREQ(vc_json_str(device_json(o, devs[6]), "domain"), "/");
	CHECK_EQ(vc_json_u64(device_json(o, devs[6]), "pt_id"), parent);
	json_object_put(root);
	/* A device not in the VM, or already nested. */
	CHECK_DBUS_ERROR(&c, nest_devices(0, 1, ids, NULL), VC_ERR_BUSY);
	CHECK_DBUS_OK(&c, vc_detach_device(&c, vm, devs[7]));
	CHECK_DBUS_ERROR(&c, nest_devices(7, 1, ids, NULL), VC_ERR_INVALID);
}

static void test_destroy(void)
{
	CHECK(vm);
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	CHECK_EQ(vc_daemon_fds("/dev/iommu"), 0);
	vc_close(&c);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_attach_devices),
		CHECK_CASE(test_nest_devices),
		CHECK_CASE(test_nest_rollback),
		CHECK_CASE(test_destroy),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
