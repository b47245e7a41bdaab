/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommud on its private socket with selftest mock devices (config
 * {"mock_devices": 4}): one client drives the whole flow of a VM and checks
 * every step against the properties, Describe() and the kernel itself
 * (pins of the guest memory, the mock IOTLB and device caches, the fast-path
 * iommufd). The cases build on each other, in order.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "iommufd.h"
#include "selftest.h"

#define MIB (1024ull * 1024)
#define MEM_SIZE (1 * MIB)
#define HALF (MEM_SIZE / 2)
#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)
#define VIRT_ID0 0x10
#define VIRT_ID1 0x20

static struct vc c;
static bool connected;
static int fds_at_start, fds_connected;
static char *vm, *dev[2], *viommu, *vdev[2], *dom;
static uint64_t iova0, iova1; /* the two mappings: [0, HALF) and [HALF, MEM_SIZE) */
static int memfd = -1;
static uint8_t *mem = MAP_FAILED;
static uint32_t parent_id, viommu_kid, dom_kid, dev_id[2];

static void require(const void *p)
{
	if (!p)
		check_fail(__FILE__, __LINE__, "an earlier case did not set this up");
}

/* The pins the kernel holds on [off, off + len) of the memfd: checked on a
 * fresh iommufd, so no object of the daemon's is needed for it. */
static int pins_are(uint64_t off, uint64_t len, uint32_t refs)
{
	int fd = iommufd_open(), r;

	if (fd < 0)
		return fd;
	r = mock_check_refs(fd, mem + off, len, refs);
	close(fd);
	return r;
}

static void test_connect(void)
{
	char **devices = NULL, **vms = NULL, *name = NULL;
	int mocks = 0;

	CHECK_OK(vc_connect(&c, NULL));
	connected = true;
	fds_connected = check_count_fds();
	CHECK_DBUS_OK(&c, vc_list(&c, "ListDevices", &devices));
	for (size_t i = 0; devices[i]; i++) {
		CHECK_DBUS_OK(&c, vc_get_string(&c, devices[i], VC_DEVICE, "Name", &name));
		if (strncmp(name, "selftest", 8) == 0)
			mocks++;
		free(name);
	}
	vc_strv_free(devices);
	CHECK_EQ(mocks, 4);
	dev[0] = vc_find_device(&c, "selftest0");
	dev[1] = vc_find_device(&c, "selftest1");
	require(dev[0]);
	require(dev[1]);
	check_note("devices %s %s", dev[0], dev[1]);
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &vms));
	CHECK_EQ(vc_strv_length(vms), 0);
	vc_strv_free(vms);
}

static void test_create_vm(void)
{
	struct vc_range ranges[8];
	char **vms = NULL, *s = NULL;
	uint64_t bytes = 1;
	uint32_t owner = 1;
	size_t n = 0;
	bool b = true;

	require(connected ? "" : NULL);
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "mock-flow", &vm));
	check_note("VM %s", vm);
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &vms));
	CHECK_EQ(vc_strv_length(vms), 1);
	CHECK_STREQ(vms[0], vm);
	vc_strv_free(vms);

	CHECK_DBUS_OK(&c, vc_get_string(&c, vm, VC_VM, "Name", &s));
	CHECK_STREQ(s, "mock-flow");
	free(s);
	CHECK_DBUS_OK(&c, vc_get_string(&c, vm, VC_VM, "Mode", &s));
	CHECK_STREQ(s, "managed");
	free(s);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, vm, VC_VM, "Owner", &owner));
	CHECK_EQ(owner, 0);
	CHECK_DBUS_OK(&c, vc_get_bool(&c, vm, VC_VM, "Persist", &b));
	CHECK(!b);
	CHECK_DBUS_OK(&c, vc_get_bool(&c, vm, VC_VM, "Shared", &b));
	CHECK(!b);
	CHECK_DBUS_OK(&c, vc_get_u64(&c, vm, VC_VM, "MappedBytes", &bytes));
	CHECK_EQ(bytes, 0);
	CHECK_DBUS_OK(&c, vc_get_ranges(&c, vm, "IovaRanges", ranges, 8, &n));
	CHECK(n >= 1);
	check_note("IovaRanges before any device: %zu, first 0x%llx-0x%llx", n,
		   (unsigned long long)ranges[0].start, (unsigned long long)ranges[0].last);
}

static void test_attach(void)
{
	struct vc_range ranges[8];
	char **devs = NULL, *s = NULL;
	size_t n = 0;
	bool nesting = false;

	require(vm);
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev[0]));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev[1]));
	CHECK_DBUS_OK(&c, vc_get_strv(&c, vm, VC_VM, "Devices", &devs));
	CHECK_EQ(vc_strv_length(devs), 2);
	CHECK(vc_strv_contains(devs, dev[0]) && vc_strv_contains(devs, dev[1]));
	vc_strv_free(devs);
	for (int i = 0; i < 2; i++) {
		CHECK_DBUS_OK(&c, vc_get_string(&c, dev[i], VC_DEVICE, "Vm", &s));
		CHECK_STREQ(s, vm);
		free(s);
		CHECK_DBUS_OK(&c, vc_get_string(&c, dev[i], VC_DEVICE, "Vendor", &s));
		CHECK_STREQ(s, "selftest");
		free(s);
	}
	CHECK_DBUS_OK(&c, vc_get_bool(&c, vm, VC_VM, "Nesting", &nesting));
	CHECK(nesting);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, vm, VC_VM, "ParentId", &parent_id));
	CHECK(parent_id != 0);

	/* The mock IOMMU's aperture: [16 MiB, 2 GiB). */
	CHECK_DBUS_OK(&c, vc_get_ranges(&c, vm, "IovaRanges", ranges, 8, &n));
	CHECK_EQ(n, 1);
	CHECK_EQ(ranges[0].start, KABI_MOCK_APERTURE_START);
	CHECK_EQ(ranges[0].last, KABI_MOCK_APERTURE_LAST);
	iova0 = ranges[0].start;
	iova1 = ranges[0].start + 4 * MIB; /* not contiguous with the first */
}

static void test_map(void)
{
	struct json_object *root, *o, *maps;
	uint64_t bytes = 0;

	require(vm);
	require(iova0 ? "" : NULL);
	memfd = memfd_create("itest-guest", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	CHECK(ftruncate(memfd, MEM_SIZE) == 0 && fallocate(memfd, 0, 0, MEM_SIZE) == 0);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(mem != MAP_FAILED);
	memset(mem, 0x5a, MEM_SIZE); /* allocates every page */
	CHECK_OK(pins_are(0, MEM_SIZE, 0));

	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, 0, HALF, iova0, RW));
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, HALF, HALF, iova1,
					KABI_IOMMU_IOAS_MAP_READABLE));
	CHECK_DBUS_OK(&c, vc_get_u64(&c, vm, VC_VM, "MappedBytes", &bytes));
	CHECK_EQ(bytes, MEM_SIZE);
	/* Two devices on one parent: each page is pinned once. */
	CHECK_OK(pins_are(0, MEM_SIZE, 1));

	root = vc_describe_json(&c);
	CHECK(root);
	o = vc_json_by_path(root, "vms", vm);
	CHECK(o);
	CHECK_EQ(vc_json_u64(o, "mapped_bytes"), MEM_SIZE);
	CHECK(json_object_object_get_ex(o, "mappings", &maps));
	CHECK_EQ(json_object_array_length(maps), 2);
	for (size_t i = 0; i < 2; i++) {
		struct json_object *m = json_object_array_get_idx(maps, i);
		uint64_t iova = vc_json_u64(m, "iova");

		CHECK(iova == iova0 || iova == iova1);
		CHECK_EQ(vc_json_u64(m, "length"), HALF);
	}
	json_object_put(root);
}

static void test_viommu(void)
{
	char **list = NULL, *s = NULL, *again = NULL;
	uint32_t pid = 0;

	require(vm);
	CHECK_DBUS_OK(&c, vc_create_viommu(&c, vm, "selftest", &viommu));
	check_note("vIOMMU %s", viommu);
	CHECK_DBUS_OK(&c, vc_get_string(&c, viommu, VC_VIOMMU, "Type", &s));
	CHECK_STREQ(s, "selftest");
	free(s);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, viommu, VC_VIOMMU, "KernelId", &viommu_kid));
	CHECK(viommu_kid != 0);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, viommu, VC_VIOMMU, "ParentId", &pid));
	CHECK_EQ(pid, parent_id);
	CHECK(viommu_kid != parent_id);
	CHECK_DBUS_OK(&c, vc_get_strv(&c, vm, VC_VM, "Viommus", &list));
	CHECK_EQ(vc_strv_length(list), 1);
	CHECK_STREQ(list[0], viommu);
	vc_strv_free(list);
	/* One vIOMMU per physical IOMMU: "auto" picks the same mock IOMMU. */
	CHECK_DBUS_ERROR(&c, vc_create_viommu(&c, vm, "auto", &again), VC_ERR_BUSY);
}

static void test_vdevices(void)
{
	const uint64_t virt[2] = { VIRT_ID0, VIRT_ID1 };
	uint32_t kid[2] = { 0, 0 };
	char **list = NULL, *s = NULL;
	uint64_t v = 0;

	require(viommu);
	for (int i = 0; i < 2; i++) {
		CHECK_DBUS_OK(&c, vc_add_device(&c, viommu, dev[i], virt[i], &vdev[i]));
		CHECK_DBUS_OK(&c, vc_get_string(&c, vdev[i], VC_VDEVICE, "Device", &s));
		CHECK_STREQ(s, dev[i]);
		free(s);
		CHECK_DBUS_OK(&c, vc_get_u64(&c, vdev[i], VC_VDEVICE, "VirtId", &v));
		CHECK_EQ(v, virt[i]);
		CHECK_DBUS_OK(&c, vc_get_u32(&c, vdev[i], VC_VDEVICE, "KernelId", &kid[i]));
		CHECK(kid[i] != 0 && kid[i] != viommu_kid && kid[i] != parent_id);
	}
	CHECK(kid[0] != kid[1]);
	CHECK_DBUS_OK(&c, vc_get_strv(&c, viommu, VC_VIOMMU, "VDevices", &list));
	CHECK_EQ(vc_strv_length(list), 2);
	CHECK(vc_strv_contains(list, vdev[0]) && vc_strv_contains(list, vdev[1]));
	vc_strv_free(list);
}

/* The device's current attachment, as Describe() shows it. */
static uint64_t device_pt_id(int i)
{
	struct json_object *root = vc_describe_json(&c), *o, *devs;
	uint64_t pt = 0;

	CHECK(root);
	o = vc_json_by_path(root, "vms", vm);
	CHECK(o && json_object_object_get_ex(o, "devices", &devs));
	o = vc_json_by_path(o, "devices", dev[i]);
	CHECK(o);
	pt = vc_json_u64(o, "pt_id");
	dev_id[i] = (uint32_t)vc_json_u64(o, "dev_id");
	json_object_put(root);
	return pt;
}

static void test_domain(void)
{
	const struct kabi_iommu_hwpt_selftest data = {
		.iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT,
		.pagetable_type = 0,
	};
	char **list = NULL, *s = NULL;
	uint32_t type = 0;

	require(vdev[1]);
	CHECK_DBUS_OK(&c, vc_alloc_domain(&c, viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST,
					  &data, sizeof(data), &dom));
	check_note("domain %s", dom);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, dom, VC_DOMAIN, "KernelId", &dom_kid));
	CHECK(dom_kid != 0 && dom_kid != parent_id && dom_kid != viommu_kid);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, dom, VC_DOMAIN, "DataType", &type));
	CHECK_EQ(type, KABI_IOMMU_HWPT_DATA_SELFTEST);
	CHECK_DBUS_OK(&c, vc_get_strv(&c, viommu, VC_VIOMMU, "Domains", &list));
	CHECK_EQ(vc_strv_length(list), 1);
	CHECK_STREQ(list[0], dom);
	vc_strv_free(list);

	CHECK_EQ(device_pt_id(0), parent_id);
	/* Attach replaces the device's domain; Detach puts it back on the parent. */
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, dom, dev[0]));
	CHECK_DBUS_OK(&c, vc_get_strv(&c, dom, VC_DOMAIN, "Devices", &list));
	CHECK_EQ(vc_strv_length(list), 1);
	CHECK_STREQ(list[0], dev[0]);
	vc_strv_free(list);
	CHECK_EQ(device_pt_id(0), dom_kid);
	CHECK_EQ(device_pt_id(1), parent_id);
	CHECK_DBUS_OK(&c, vc_domain_detach(&c, dom, dev[0]));
	CHECK_DBUS_OK(&c, vc_get_strv(&c, dom, VC_DOMAIN, "Devices", &list));
	CHECK_EQ(vc_strv_length(list), 0);
	vc_strv_free(list);
	CHECK_EQ(device_pt_id(0), parent_id);
	/* On it again: the teardown must move it off before destroying the domain. */
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, dom, dev[1]));
	CHECK_EQ(device_pt_id(1), dom_kid);
	CHECK_DBUS_ERROR(&c, vc_detach_device(&c, vm, dev[1]), VC_ERR_BUSY);
	CHECK_DBUS_ERROR(&c, vc_destroy(&c, dom, VC_DOMAIN), VC_ERR_BUSY);
	CHECK_DBUS_ERROR(&c, vc_destroy(&c, viommu, VC_VIOMMU), VC_ERR_BUSY);
	(void)s;
}

static void test_invalidate(void)
{
	const struct kabi_iommu_hwpt_invalidate_selftest bad[3] = {
		{ .iotlb_id = 1 },
		{ .iotlb_id = 2 },
		{ .iotlb_id = KABI_MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1 },
	};
	const struct kabi_iommu_hwpt_invalidate_selftest good = { .iotlb_id = 0 };
	const struct kabi_iommu_viommu_invalidate_selftest vbad = {
		.vdev_id = VIRT_ID0, .cache_id = KABI_MOCK_DEV_CACHE_ID_MAX + 1,
	};
	const struct kabi_iommu_viommu_invalidate_selftest vgood[2] = {
		{ .vdev_id = VIRT_ID0, .cache_id = 1 },
		{ .vdev_id = VIRT_ID1, .cache_id = 2 },
	};
	uint32_t handled = 99;
	int32_t err = -1;
	uint64_t count = 0;

	require(dom);
	/* A rejected entry is an answer: how many were handled, and the errno. */
	CHECK_DBUS_OK(&c, vc_invalidate(&c, dom, VC_DOMAIN, KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					sizeof(bad[0]), bad, sizeof(bad), &handled, &err));
	CHECK_EQ(handled, 2);
	CHECK_EQ(err, EINVAL);
	CHECK_DBUS_OK(&c, vc_invalidate(&c, dom, VC_DOMAIN, KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					sizeof(good), &good, sizeof(good), &handled, &err));
	CHECK_EQ(handled, 1);
	CHECK_EQ(err, 0);
	CHECK_DBUS_OK(&c, vc_get_u64(&c, dom, VC_DOMAIN, "Invalidations", &count));
	CHECK_EQ(count, 3);

	CHECK_DBUS_OK(&c, vc_invalidate(&c, viommu, VC_VIOMMU,
					KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, sizeof(vgood[0]),
					vgood, sizeof(vgood), &handled, &err));
	CHECK_EQ(handled, 2);
	CHECK_EQ(err, 0);
	CHECK_DBUS_OK(&c, vc_invalidate(&c, viommu, VC_VIOMMU,
					KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, sizeof(vbad),
					&vbad, sizeof(vbad), &handled, &err));
	CHECK_EQ(handled, 0);
	CHECK_EQ(err, EINVAL);
	CHECK_DBUS_OK(&c, vc_get_u64(&c, viommu, VC_VIOMMU, "Invalidations", &count));
	CHECK_EQ(count, 2);
}

static void test_describe(void)
{
	struct json_object *root, *o, *x;
	uint32_t kid = 0;

	require(dom);
	root = vc_describe_json(&c);
	CHECK(root);
	o = vc_json_by_path(root, "vms", vm);
	CHECK(o);
	CHECK_STREQ(vc_json_str(o, "name"), "mock-flow");
	CHECK_STREQ(vc_json_str(o, "mode"), "managed");
	CHECK_EQ(vc_json_u64(o, "owner"), 0);
	CHECK_EQ(vc_json_u64(o, "parent_id"), parent_id);
	CHECK(json_object_object_get_ex(o, "nesting", &x) && json_object_get_boolean(x));
	CHECK_EQ(vc_json_u64(o, "mapped_bytes"), MEM_SIZE);

	x = vc_json_by_path(o, "viommus", viommu);
	CHECK(x);
	CHECK_EQ(vc_json_u64(x, "kernel_id"), viommu_kid);
	CHECK_STREQ(vc_json_str(x, "type"), "selftest");
	CHECK_EQ(vc_json_u64(x, "invalidations"), 2);

	x = vc_json_by_path(o, "domains", dom);
	CHECK(x);
	CHECK_EQ(vc_json_u64(x, "kernel_id"), dom_kid);
	CHECK_EQ(vc_json_u64(x, "data_type"), KABI_IOMMU_HWPT_DATA_SELFTEST);
	CHECK_STREQ(vc_json_str(x, "viommu"), viommu);

	for (int i = 0; i < 2; i++) {
		x = vc_json_by_path(o, "vdevices", vdev[i]);
		CHECK(x);
		CHECK_DBUS_OK(&c, vc_get_u32(&c, vdev[i], VC_VDEVICE, "KernelId", &kid));
		CHECK_EQ(vc_json_u64(x, "kernel_id"), kid);
		CHECK_EQ(vc_json_u64(x, "virt_id"), i ? VIRT_ID1 : VIRT_ID0);
		CHECK_STREQ(vc_json_str(x, "device"), dev[i]);
		x = vc_json_by_path(o, "devices", dev[i]);
		CHECK(x);
		CHECK_EQ(vc_json_u64(x, "pt_id"), i ? dom_kid : parent_id);
		CHECK_STREQ(vc_json_str(x, "domain"), i ? dom : "/");
	}
	/* Every device on offer is listed, ours with this VM. */
	x = vc_json_by_path(root, "devices", dev[0]);
	CHECK(x);
	CHECK_STREQ(vc_json_str(x, "vm"), vm);
	json_object_put(root);
}

/* The IoasId property agrees with Describe()'s ioas_id. */
static void test_ioas_id_property(void)
{
	struct json_object *root;
	uint32_t ioas = 0;

	require(vm);
	root = vc_describe_json(&c);
	CHECK(root);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, vm, VC_VM, "IoasId", &ioas));
	CHECK_EQ(ioas, vc_json_u64(vc_json_by_path(root, "vms", vm), "ioas_id"));
	json_object_put(root);
}

static void test_fast_path(void)
{
	struct iommufd_iova_range ranges[8];
	struct vc_range vranges[8];
	struct json_object *root;
	uint32_t ioas, n = 8;
	size_t vn = 0;
	bool shared = false;
	int fd = -1;

	require(dom);
	root = vc_describe_json(&c);
	CHECK(root);
	ioas = (uint32_t)vc_json_u64(vc_json_by_path(root, "vms", vm), "ioas_id");
	json_object_put(root);

	CHECK_DBUS_OK(&c, vc_get_fd(&c, vm, NULL, &fd));
	CHECK_DBUS_OK(&c, vc_get_bool(&c, vm, VC_VM, "Shared", &shared));
	CHECK(shared);
	/* It is the VM's own context: its IOAS is there, with the same ranges. */
	CHECK_OK(iommufd_ioas_iova_ranges(fd, ioas, ranges, &n, NULL));
	CHECK_DBUS_OK(&c, vc_get_ranges(&c, vm, "IovaRanges", vranges, 8, &vn));
	CHECK_EQ(n, vn);
	CHECK_EQ(ranges[0].start, vranges[0].start);
	CHECK_EQ(ranges[0].last, vranges[0].last);
	CHECK_OK(mock_check_refs(fd, mem, MEM_SIZE, 1));
	/* The nested domain's mock IOTLB: entries 0-2 invalidated, 3 untouched. */
	CHECK_OK(mock_check_iotlb(fd, dom_kid, 0, 0));
	CHECK_OK(mock_check_iotlb(fd, dom_kid, 1, 0));
	CHECK_OK(mock_check_iotlb(fd, dom_kid, 2, 0));
	CHECK_OK(mock_check_iotlb(fd, dom_kid, 3, KABI_IOMMU_TEST_IOTLB_DEFAULT));
	/* The mock devices' caches, by the vDEVICEs' virtual IDs. */
	device_pt_id(0);
	device_pt_id(1);
	CHECK_OK(mock_check_dev_cache(fd, dev_id[0], 1, 0));
	CHECK_OK(mock_check_dev_cache(fd, dev_id[0], 0, KABI_IOMMU_TEST_DEV_CACHE_DEFAULT));
	CHECK_OK(mock_check_dev_cache(fd, dev_id[1], 2, 0));
	CHECK_OK(mock_check_dev_cache(fd, dev_id[1], 1, KABI_IOMMU_TEST_DEV_CACHE_DEFAULT));
	CHECK(close(fd) == 0);
}

static void test_unmap(void)
{
	struct json_object *root, *maps;
	uint64_t unmapped = 0, bytes = 0;

	require(mem != MAP_FAILED ? "" : NULL);
	CHECK_DBUS_OK(&c, vc_unmap_memory(&c, vm, iova0, HALF, &unmapped));
	CHECK_EQ(unmapped, HALF);
	CHECK_DBUS_OK(&c, vc_get_u64(&c, vm, VC_VM, "MappedBytes", &bytes));
	CHECK_EQ(bytes, HALF);
	CHECK_OK(pins_are(0, HALF, 0));
	CHECK_OK(pins_are(HALF, HALF, 1));
	root = vc_describe_json(&c);
	CHECK(root);
	CHECK(json_object_object_get_ex(vc_json_by_path(root, "vms", vm), "mappings", &maps));
	CHECK_EQ(json_object_array_length(maps), 1);
	CHECK_EQ(vc_json_u64(json_object_array_get_idx(maps, 0), "iova"), iova1);
	json_object_put(root);
}

static void test_destroy(void)
{
	char **vms = NULL, *s = NULL;
	uint32_t u = 0;

	require(vm);
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &vms));
	CHECK_EQ(vc_strv_length(vms), 0);
	vc_strv_free(vms);
	for (int i = 0; i < 2; i++) {
		CHECK_DBUS_OK(&c, vc_get_string(&c, dev[i], VC_DEVICE, "Vm", &s));
		CHECK_STREQ(s, "/");
		free(s);
	}
	/* Its objects are gone with it. */
	CHECK_DBUS_ERROR(&c, vc_get_string(&c, vm, VC_VM, "Name", &s), VC_ERR_UNKNOWN_OBJECT);
	CHECK_DBUS_ERROR(&c, vc_get_u32(&c, viommu, VC_VIOMMU, "KernelId", &u),
			 VC_ERR_UNKNOWN_OBJECT);
	CHECK_DBUS_ERROR(&c, vc_get_u32(&c, dom, VC_DOMAIN, "KernelId", &u), VC_ERR_UNKNOWN_OBJECT);
	CHECK_DBUS_ERROR(&c, vc_get_u32(&c, vdev[0], VC_VDEVICE, "KernelId", &u),
			 VC_ERR_UNKNOWN_OBJECT);
	/* Nothing pinned, no iommufd left in the daemon. */
	CHECK_OK(pins_are(0, MEM_SIZE, 0));
	if (vc_daemon_fds("/dev/iommu") >= 0)
		CHECK_EQ(vc_daemon_fds("/dev/iommu"), 0);
	CHECK_EQ(vc_daemon_fds("/memfd:"), 0);
	CHECK(munmap(mem, MEM_SIZE) == 0);
	mem = MAP_FAILED;
	CHECK(close(memfd) == 0);
	memfd = -1;
	CHECK_EQ(check_count_fds(), fds_connected);
	/* The daemon still serves a new VM with the same devices. */
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "mock-again", &s));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, s, dev[0]));
	CHECK_DBUS_OK(&c, vc_destroy(&c, s, VC_VM));
	free(s);
	vc_close(&c);
	connected = false;
	CHECK_EQ(check_count_fds(), fds_at_start);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_connect),
		CHECK_CASE(test_create_vm),
		CHECK_CASE(test_attach),
		CHECK_CASE(test_map),
		CHECK_CASE(test_viommu),
		CHECK_CASE(test_vdevices),
		CHECK_CASE(test_domain),
		CHECK_CASE(test_invalidate),
		CHECK_CASE(test_describe),
		CHECK_CASE(test_ioas_id_property),
		CHECK_CASE(test_fast_path),
		CHECK_CASE(test_unmap),
		CHECK_CASE(test_destroy),
	};
	int r;

	fds_at_start = check_count_fds();
	r = check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	if (connected)
		vc_close(&c);
	return r;
}
