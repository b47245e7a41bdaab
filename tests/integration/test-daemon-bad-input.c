/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bad input gets a named error and changes nothing (config
 * {"mock_devices": 4}). One VM "bad" is set up with a mapping, two devices,
 * a vIOMMU, a vDEVICE and a nested domain, beside a second VM "other"; every
 * case below makes one bad call, checks its error name, then checks that the
 * daemon still answers and that Describe() is exactly what it was.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "iommufd.h"
#include "selftest.h"

#define MEM_SIZE 0x10000ull
#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)

static struct vc c;
static char *vm, *other, *low, *dev[4], *viommu, *vdev, *dom;
static char *snapshot; /* Describe() after the setup */
static uint64_t iova;  /* of the one mapping: [iova, iova + MEM_SIZE) */
static uint64_t aperture_last;
static int memfd = -1, pipefd[2] = { -1, -1 }, sockfd[2] = { -1, -1 }, nullfd = -1;
static char *out; /* an object path a call would return */
static int fd_out = -1, wronly = -1, sealed = -1; /* sealed: F_SEAL_WRITE */
static int sparse = -1; /* a memfd never allocated: pinning would charge the daemon */

static void test_setup(void)
{
	const struct kabi_iommu_hwpt_selftest data = { .iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT };
	struct vc_range ranges[4];
	size_t n = 0;
	char name[16];

	CHECK_OK(vc_connect(&c, NULL));
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "selftest%d", i);
		dev[i] = vc_find_device(&c, name);
		CHECK(dev[i]);
	}
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "bad", &vm));
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "other", &other));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev[0]));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev[2]));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, other, dev[1]));
	CHECK_DBUS_OK(&c, vc_get_ranges(&c, vm, "IovaRanges", ranges, 4, &n));
	CHECK_EQ(n, 1);
	iova = ranges[0].start;
	aperture_last = ranges[0].last;

	memfd = memfd_create("itest-bad", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	CHECK(ftruncate(memfd, MEM_SIZE) == 0 && fallocate(memfd, 0, 0, MEM_SIZE) == 0);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, 0, MEM_SIZE, iova, RW));
	/* A VM without devices maps below the mock aperture: no mock device
	 * can join it then. */
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "low", &low));
	CHECK_DBUS_OK(&c, vc_map_memory(&c, low, memfd, 0, 0x1000, 0x1000, RW));
	{
		char proc[64];

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", memfd);
		wronly = open(proc, O_WRONLY | O_CLOEXEC);
		CHECK(wronly >= 0);
	}
	sparse = memfd_create("itest-sparse", MFD_CLOEXEC);
	CHECK(sparse >= 0 && ftruncate(sparse, 0x10000) == 0);
	/* A memfd sealed against writes: no device may write it either. */
	sealed = memfd_create("itest-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK(sealed >= 0 && ftruncate(sealed, 0x1000) == 0 && fallocate(sealed, 0, 0, 0x1000) == 0);
	CHECK(fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) == 0);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, low, sealed, 0, 0x1000, 0x2000,
					KABI_IOMMU_IOAS_MAP_READABLE));
	CHECK_DBUS_OK(&c, vc_create_viommu(&c, vm, "selftest", &viommu));
	CHECK_DBUS_OK(&c, vc_add_device(&c, viommu, dev[0], 1, &vdev));
	CHECK_DBUS_OK(&c, vc_alloc_domain(&c, viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST,
					  &data, sizeof(data), &dom));
	CHECK(pipe2(pipefd, O_CLOEXEC) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockfd) == 0);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(nullfd >= 0);
	CHECK_DBUS_OK(&c, vc_describe(&c, &snapshot));
}

/* After each bad call: the daemon answers and nothing changed. */
static void check_unchanged(void)
{
	struct json_object *root;
	char *now = NULL;

	CHECK(vc_alive(&c));
	CHECK_DBUS_OK(&c, vc_describe(&c, &now));
	root = json_tokener_parse(now);
	CHECK(root);
	json_object_put(root);
	if (strcmp(now, snapshot) != 0) {
		check_note("before: %s", snapshot);
		check_note("after:  %s", now);
		free(now);
		check_fail(__FILE__, __LINE__, "the state changed");
	}
	free(now);
}

static void expect(int r, const char *call, const char *error, const char *alt)
{
	bool right_name;

	if (!snapshot)
		check_fail(__FILE__, __LINE__, "the setup failed");
	if (r >= 0) {
		check_unchanged();
		check_fail(__FILE__, __LINE__, "%s succeeded, expected %s", call, error);
	}
	right_name = strcmp(vc_error_name(&c), error) == 0 ||
		     (alt && strcmp(vc_error_name(&c), alt) == 0);
	check_note("%s: %s", vc_error_name(&c), vc_error_message(&c));
	if (!right_name)
		check_note("%s failed with %s, expected %s%s%s", call, vc_error_name(&c), error,
			   alt ? " or " : "", alt ? alt : "");
	/* Whatever the name, nothing may have changed. */
	check_unchanged();
	if (!right_name)
		check_fail(__FILE__, __LINE__, "wrong error name");
}

/* One case per bad call. */
#define BAD2(name, error, alt, call)                    \
	static void name(void)                          \
	{                                               \
		expect((call), #call, (error), (alt));  \
	}
#define BAD(name, error, call) BAD2(name, error, NULL, call)

static int create_vm_opt(const char *name, const char *types, ...)
{
	/* Builds "sa{sv}" with one option of the given variant. */
	sd_bus_message *m = NULL, *reply = NULL;
	va_list ap;
	int r;

	sd_bus_error_free(&c.error);
	c.error = SD_BUS_ERROR_NULL;
	r = sd_bus_message_new_method_call(c.bus, &m, NULL, VC_ROOT, VC_MANAGER, "CreateVm");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", name);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'e', "sv");
	va_start(ap, types);
	if (r >= 0)
		r = sd_bus_message_appendv(m, types, ap);
	va_end(ap);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(c.bus, m, 30 * 1000 * 1000, &c.error, &reply);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	return r;
}

static const char long_name[] =
	"a123456789b123456789c123456789d123456789e123456789f123456789g123";

static const uint8_t nested_data[8] = { 0xef, 0xbe, 0xad, 0x0b };
static const uint8_t entries8[8];
static uint8_t big[4097]; /* one more than the daemon takes */

/* --- CreateVm --- */
BAD(vm_name_empty, VC_ERR_INVALID, vc_create_vm(&c, "", &out))
BAD(vm_name_too_long, VC_ERR_INVALID, vc_create_vm(&c, long_name, &out))
BAD(vm_name_slash, VC_ERR_INVALID, vc_create_vm(&c, "a/b", &out))
BAD(vm_name_space, VC_ERR_INVALID, vc_create_vm(&c, "a b", &out))
BAD(vm_name_taken, VC_ERR_BUSY, vc_create_vm(&c, "bad", &out))
BAD(vm_option_unknown, VC_ERR_INVALID, create_vm_opt("x1", "sv", "bogus", "b", 1))
BAD(vm_option_wrong_type, VC_ERR_INVALID, create_vm_opt("x2", "sv", "persist", "s", "yes"))
BAD(vm_mode_bogus, VC_ERR_INVALID, create_vm_opt("x3", "sv", "mode", "s", "bogus"))

/* --- MapMemory --- */
BAD(map_length_zero, VC_ERR_INVALID, vc_map_memory(&c, vm, memfd, 0, 0, iova + MEM_SIZE, RW))
BAD(map_iova_unaligned, VC_ERR_INVALID,
    vc_map_memory(&c, vm, memfd, 0, 0x1000, iova + MEM_SIZE + 0x800, RW))
BAD(map_offset_unaligned, VC_ERR_INVALID,
    vc_map_memory(&c, vm, memfd, 0x10, 0x1000, iova + MEM_SIZE, RW))
BAD(map_length_unaligned, VC_ERR_INVALID,
    vc_map_memory(&c, vm, memfd, 0, 0xfff, iova + MEM_SIZE, RW))
BAD(map_iova_below_ranges, VC_ERR_INVALID, vc_map_memory(&c, vm, memfd, 0, 0x1000, 0x1000, RW))
BAD(map_iova_past_ranges, VC_ERR_INVALID,
    vc_map_memory(&c, vm, memfd, 0, 0x2000, aperture_last + 1 - 0x1000, RW))
BAD(map_iova_wraps, VC_ERR_INVALID,
    vc_map_memory(&c, vm, memfd, 0, 0x2000, UINT64_MAX - 0xfff, RW))
BAD(map_overlap, VC_ERR_BUSY, vc_map_memory(&c, vm, memfd, 0, 0x2000, iova + 0x1000, RW))
BAD(map_past_memfd_end, VC_ERR_INVALID,
    vc_map_memory(&c, vm, memfd, MEM_SIZE - 0x1000, 0x2000, iova + MEM_SIZE, RW))
BAD(map_pipe, VC_ERR_INVALID, vc_map_memory(&c, vm, pipefd[0], 0, 0x1000, iova + MEM_SIZE, RW))
BAD(map_socket, VC_ERR_INVALID,
    vc_map_memory(&c, vm, sockfd[0], 0, 0x1000, iova + MEM_SIZE, RW))
BAD(map_dev_null, VC_ERR_INVALID, vc_map_memory(&c, vm, nullfd, 0, 0x1000, iova + MEM_SIZE, RW))
BAD(map_write_only_fd, VC_ERR_INVALID,
    vc_map_memory(&c, vm, wronly, 0, 0x1000, iova + MEM_SIZE, RW))
BAD(map_sparse_memfd, VC_ERR_INVALID,
    vc_map_memory(&c, vm, sparse, 0, 0x10000, iova + MEM_SIZE, RW))
BAD(map_write_sealed_writeable, VC_ERR_INVALID,
    vc_map_memory(&c, vm, sealed, 0, 0x1000, iova + MEM_SIZE, RW))
BAD(map_flags_zero, VC_ERR_INVALID, vc_map_memory(&c, vm, memfd, 0, 0x1000, iova + MEM_SIZE, 0))
BAD(map_flags_unknown, VC_ERR_INVALID,
    vc_map_memory(&c, vm, memfd, 0, 0x1000, iova + MEM_SIZE, RW | 0x100))
BAD(map_flags_fixed_iova, VC_ERR_INVALID,
    vc_map_memory(&c, vm, memfd, 0, 0x1000, iova + MEM_SIZE,
		  RW | KABI_IOMMU_IOAS_MAP_FIXED_IOVA))

/* --- UnmapMemory --- */
BAD(unmap_nothing, VC_ERR_NOT_FOUND, vc_unmap_memory(&c, vm, iova + MEM_SIZE, 0x1000, NULL))
BAD(unmap_cuts_mapping, VC_ERR_INVALID, vc_unmap_memory(&c, vm, iova, 0x1000, NULL))
BAD(unmap_cuts_mapping_end, VC_ERR_INVALID,
    vc_unmap_memory(&c, vm, iova + 0x1000, MEM_SIZE, NULL))
BAD(unmap_length_zero, VC_ERR_INVALID, vc_unmap_memory(&c, vm, iova, 0, NULL))

/* --- AttachDevice / DetachDevice --- */
BAD(attach_no_device, VC_ERR_NOT_FOUND,
    vc_attach_device(&c, vm, "/org/viommu1/device/selftest99"))
BAD(attach_vm_as_device, VC_ERR_NOT_FOUND, vc_attach_device(&c, vm, other))
BAD(attach_other_vms_device, VC_ERR_BUSY, vc_attach_device(&c, vm, dev[1]))
BAD(attach_twice, VC_ERR_BUSY, vc_attach_device(&c, vm, dev[0]))
BAD2(attach_outside_aperture_of_mappings, VC_ERR_INVALID, VC_ERR_BUSY,
     vc_attach_device(&c, low, dev[3]))
BAD(attach_pasid_without_pasid_vm, VC_ERR_INVALID,
    vc_call(&c, vm, VC_VM, "AttachDevice", NULL, "oa{sv}", dev[3], 1, "pasid", "u", 1))
BAD(attach_vf_token_not_uuid, VC_ERR_INVALID,
    vc_call(&c, vm, VC_VM, "AttachDevice", NULL, "oa{sv}", dev[3], 1, "vf-token", "s",
	    "not-a-uuid"))
BAD(attach_option_twice, VC_ERR_INVALID,
    vc_call(&c, vm, VC_VM, "AttachDevice", NULL, "oa{sv}", dev[3], 2, "pasid", "u", 1,
	    "pasid", "u", 2))
BAD(allow_iovas_reversed, VC_ERR_INVALID,
    vc_call(&c, vm, VC_VM, "AllowIovas", NULL, "a(tt)", 1, iova + 0x2000, iova))
BAD(detach_not_attached, VC_ERR_INVALID, vc_detach_device(&c, vm, dev[3]))
BAD(detach_with_vdevice, VC_ERR_BUSY, vc_detach_device(&c, vm, dev[0]))
BAD(device_fd_of_mock, VC_ERR_NOT_SUPPORTED, vc_get_fd(&c, vm, dev[0], &fd_out))

/* --- CreateViommu --- */
BAD(viommu_type_bogus, VC_ERR_INVALID, vc_create_viommu(&c, vm, "bogus", &out))
BAD2(viommu_type_vtd_on_mock, VC_ERR_NOT_SUPPORTED, VC_ERR_INVALID,
     vc_create_viommu(&c, vm, "intel-vtd", &out))
BAD(viommu_second_for_iommu, VC_ERR_BUSY, vc_create_viommu(&c, vm, "selftest", &out))

/* --- AllocDomain --- */
BAD(domain_wrong_type, VC_ERR_INVALID,
    vc_alloc_domain(&c, viommu, VC_VIOMMU, 0xbeef, nested_data, sizeof(nested_data), &out))
BAD(domain_wrong_length, VC_ERR_INVALID,
    vc_alloc_domain(&c, viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST, nested_data, 4, &out))
BAD(domain_empty_data, VC_ERR_INVALID,
    vc_alloc_domain(&c, viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST, NULL, 0, &out))
BAD(domain_oversized_data, VC_ERR_INVALID,
    vc_alloc_domain(&c, viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST, big, sizeof(big),
		    &out))
BAD(domain_on_vm_for_viommu_vendor, VC_ERR_INVALID,
    vc_alloc_domain(&c, vm, VC_VM, KABI_IOMMU_HWPT_DATA_SELFTEST, nested_data,
		    sizeof(nested_data), &out))
BAD(domain_attach_foreign_device, VC_ERR_INVALID, vc_domain_attach(&c, dom, dev[1]))
BAD(domain_detach_not_on_it, VC_ERR_INVALID, vc_domain_detach(&c, dom, dev[0]))

/* --- Invalidate --- */
static uint32_t handled;
static int32_t inv_error;
BAD(domain_invalidate_entry_len_zero, VC_ERR_INVALID,
    vc_invalidate(&c, dom, VC_DOMAIN, KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 0, entries8,
		  sizeof(entries8), &handled, &inv_error))
BAD(domain_invalidate_len_not_multiple, VC_ERR_INVALID,
    vc_invalidate(&c, dom, VC_DOMAIN, KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 3, entries8,
		  sizeof(entries8), &handled, &inv_error))
BAD(viommu_invalidate_entry_len_zero, VC_ERR_INVALID,
    vc_invalidate(&c, viommu, VC_VIOMMU, KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, 0,
		  entries8, sizeof(entries8), &handled, &inv_error))
BAD(viommu_invalidate_len_not_multiple, VC_ERR_INVALID,
    vc_invalidate(&c, viommu, VC_VIOMMU, KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, 12,
		  entries8, sizeof(entries8), &handled, &inv_error))

/* The data type must be the vendor's: checked before the kernel sees it. */
BAD(domain_invalidate_wrong_data_type, VC_ERR_INVALID,
    vc_invalidate(&c, dom, VC_DOMAIN, 0x1234, 8, entries8, sizeof(entries8), &handled,
		  &inv_error))
BAD(viommu_invalidate_wrong_data_type, VC_ERR_INVALID,
    vc_invalidate(&c, viommu, VC_VIOMMU, 0x1234, 8, entries8, sizeof(entries8), &handled,
		  &inv_error))

/* --- AddDevice, Destroy --- */
BAD(add_device_not_attached, VC_ERR_INVALID, vc_add_device(&c, viommu, dev[3], 7, &out))
BAD(add_device_other_vms, VC_ERR_INVALID, vc_add_device(&c, viommu, dev[1], 7, &out))
BAD(add_device_duplicate_virt_id, VC_ERR_BUSY, vc_add_device(&c, viommu, dev[2], 1, &out))
BAD(add_device_twice, VC_ERR_BUSY, vc_add_device(&c, viommu, dev[0], 9, &out))
BAD(destroy_viommu_in_use, VC_ERR_BUSY, vc_destroy(&c, viommu, VC_VIOMMU))

/* --- the D-Bus level --- */
BAD(signature_create_vm_no_options, VC_ERR_INVALID_ARGS,
    vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", NULL, "s", "sig1"))
BAD(signature_create_vm_int, VC_ERR_INVALID_ARGS,
    vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", NULL, "ia{sv}", 5, 0))
BAD(signature_map_no_fd, VC_ERR_INVALID_ARGS,
    vc_call(&c, vm, VC_VM, "MapMemory", NULL, "utttu", 0, (uint64_t)0, (uint64_t)0x1000,
	    iova + MEM_SIZE, RW))
BAD(signature_unmap_extra, VC_ERR_INVALID_ARGS,
    vc_call(&c, vm, VC_VM, "UnmapMemory", NULL, "ttt", iova, MEM_SIZE, (uint64_t)0))
BAD(signature_invalidate_swapped, VC_ERR_INVALID_ARGS,
    vc_call(&c, dom, VC_DOMAIN, "Invalidate", NULL, "ayuu", 0, 1, 8))
BAD(unknown_method, VC_ERR_UNKNOWN_METHOD,
    vc_call(&c, VC_ROOT, VC_MANAGER, "Frobnicate", NULL, NULL))
BAD(unknown_vm_path, VC_ERR_UNKNOWN_OBJECT,
    vc_call(&c, "/org/viommu1/vm/999", VC_VM, "Destroy", NULL, NULL))
BAD(unknown_object_path, VC_ERR_UNKNOWN_OBJECT,
    vc_call(&c, "/org/viommu1/nothing", VC_MANAGER, "ListVms", NULL, NULL))
BAD(unknown_viommu_path, VC_ERR_UNKNOWN_OBJECT,
    vc_call(&c, "/org/viommu1/vm/1/viommu/999", VC_VIOMMU, "Destroy", NULL, NULL))

BAD(bindvmm_managed_vm, VC_ERR_NOT_SUPPORTED,
    vc_call(&c, vm, VC_VM, "BindVmm", NULL, "ht", nullfd, (uint64_t)1 << 20))

/* BindVmm on a broker VM: no pidfd, another process's pidfd, a size that
 * overflows, a second bind; each refused, and the VM leaves nothing behind. */
static void bindvmm_broker(void)
{
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	int init = (int)syscall(SYS_pidfd_open, 1, 0);
	struct rlimit before, during, after;
	char *broker = NULL;

	CHECK(snapshot && self >= 0 && init >= 0);
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", NULL, "sa{sv}", "brk", 1,
				  "mode", "s", "broker"));
	CHECK_OK(vc_vm_path(&c, "brk", &broker));
	CHECK_DBUS_ERROR(&c, vc_call(&c, broker, VC_VM, "BindVmm", NULL, "ht", pipefd[0],
				     (uint64_t)1 << 20), VC_ERR_INVALID);
	CHECK_DBUS_ERROR(&c, vc_call(&c, broker, VC_VM, "BindVmm", NULL, "ht", init,
				     (uint64_t)1 << 20), VC_ERR_PERMISSION);
	CHECK_DBUS_ERROR(&c, vc_call(&c, broker, VC_VM, "BindVmm", NULL, "ht", self, UINT64_MAX),
			 VC_ERR_INVALID);
	/* The default quota is finite (half the guest's memory): no 1 PiB. */
	CHECK_DBUS_ERROR(&c, vc_call(&c, broker, VC_VM, "BindVmm", NULL, "ht", self,
				     (uint64_t)1 << 50), "org.viommu1.Error.QuotaExceeded");
	CHECK(getrlimit(RLIMIT_MEMLOCK, &before) == 0);
	CHECK_DBUS_OK(&c, vc_call(&c, broker, VC_VM, "BindVmm", NULL, "ht", self,
				  (uint64_t)1 << 20));
	CHECK(getrlimit(RLIMIT_MEMLOCK, &during) == 0);
	check_note("memlock %llu before BindVmm, %llu after",
		   (unsigned long long)before.rlim_cur, (unsigned long long)during.rlim_cur);
	CHECK(during.rlim_cur >= (1u << 20));
	CHECK_DBUS_ERROR(&c, vc_call(&c, broker, VC_VM, "BindVmm", NULL, "ht", self,
				     (uint64_t)1 << 20), VC_ERR_BUSY);
	CHECK_DBUS_OK(&c, vc_destroy(&c, broker, VC_VM));
	/* The VM is over: the raise does not outlive it. */
	CHECK(getrlimit(RLIMIT_MEMLOCK, &after) == 0);
	CHECK_EQ(after.rlim_cur, before.rlim_cur);
	CHECK_EQ(after.rlim_max, before.rlim_max);
	close(self);
	close(init);
	free(broker);
	check_unchanged();
}

static void test_after(void)
{
	struct json_object *root, *o, *vms;
	char **list = NULL;

	CHECK(snapshot);
	CHECK(vc_alive(&c));
	root = vc_describe_json(&c);
	CHECK(root);
	CHECK(json_object_object_get_ex(root, "vms", &vms));
	CHECK_EQ(json_object_array_length(vms), 3);
	o = vc_json_by_path(root, "vms", vm);
	CHECK(o);
	CHECK_STREQ(vc_json_str(o, "name"), "bad");
	CHECK_EQ(vc_json_u64(o, "mapped_bytes"), MEM_SIZE);
	json_object_put(root);
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &list));
	CHECK_EQ(vc_strv_length(list), 3);
	vc_strv_free(list);
	/* Still usable: the bad calls left the VM working. */
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, memfd, 0, 0x1000, iova + MEM_SIZE, RW));
	CHECK_DBUS_OK(&c, vc_destroy(&c, other, VC_VM));
	CHECK_DBUS_OK(&c, vc_destroy(&c, low, VC_VM));
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &list));
	CHECK_EQ(vc_strv_length(list), 0);
	vc_strv_free(list);
	vc_close(&c);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_setup),
		CHECK_CASE(bindvmm_managed_vm),
		CHECK_CASE(bindvmm_broker),
		CHECK_CASE(vm_name_empty),
		CHECK_CASE(vm_name_too_long),
		CHECK_CASE(vm_name_slash),
		CHECK_CASE(vm_name_space),
		CHECK_CASE(vm_name_taken),
		CHECK_CASE(vm_option_unknown),
		CHECK_CASE(vm_option_wrong_type),
		CHECK_CASE(vm_mode_bogus),
		CHECK_CASE(map_length_zero),
		CHECK_CASE(map_iova_unaligned),
		CHECK_CASE(map_offset_unaligned),
		CHECK_CASE(map_length_unaligned),
		CHECK_CASE(map_iova_below_ranges),
		CHECK_CASE(map_iova_past_ranges),
		CHECK_CASE(map_iova_wraps),
		CHECK_CASE(map_overlap),
		CHECK_CASE(map_past_memfd_end),
		CHECK_CASE(map_pipe),
		CHECK_CASE(map_socket),
		CHECK_CASE(map_dev_null),
		CHECK_CASE(map_write_sealed_writeable),
		CHECK_CASE(map_sparse_memfd),
		CHECK_CASE(map_write_only_fd),
		CHECK_CASE(map_flags_zero),
		CHECK_CASE(map_flags_unknown),
		CHECK_CASE(map_flags_fixed_iova),
		CHECK_CASE(unmap_nothing),
		CHECK_CASE(unmap_cuts_mapping),
		CHECK_CASE(unmap_cuts_mapping_end),
		CHECK_CASE(unmap_length_zero),
		CHECK_CASE(attach_no_device),
		CHECK_CASE(attach_vm_as_device),
		CHECK_CASE(attach_other_vms_device),
		CHECK_CASE(attach_twice),
		CHECK_CASE(attach_outside_aperture_of_mappings),
		CHECK_CASE(attach_pasid_without_pasid_vm),
		CHECK_CASE(attach_vf_token_not_uuid),
		CHECK_CASE(attach_option_twice),
		CHECK_CASE(allow_iovas_reversed),
		CHECK_CASE(detach_not_attached),
		CHECK_CASE(detach_with_vdevice),
		CHECK_CASE(device_fd_of_mock),
		CHECK_CASE(viommu_type_bogus),
		CHECK_CASE(viommu_type_vtd_on_mock),
		CHECK_CASE(viommu_second_for_iommu),
		CHECK_CASE(domain_wrong_type),
		CHECK_CASE(domain_wrong_length),
		CHECK_CASE(domain_empty_data),
		CHECK_CASE(domain_oversized_data),
		CHECK_CASE(domain_on_vm_for_viommu_vendor),
		CHECK_CASE(domain_attach_foreign_device),
		CHECK_CASE(domain_detach_not_on_it),
		CHECK_CASE(domain_invalidate_entry_len_zero),
		CHECK_CASE(domain_invalidate_len_not_multiple),
		CHECK_CASE(viommu_invalidate_entry_len_zero),
		CHECK_CASE(viommu_invalidate_len_not_multiple),
		CHECK_CASE(domain_invalidate_wrong_data_type),
		CHECK_CASE(viommu_invalidate_wrong_data_type),
		CHECK_CASE(add_device_not_attached),
		CHECK_CASE(add_device_other_vms),
		CHECK_CASE(add_device_duplicate_virt_id),
		CHECK_CASE(add_device_twice),
		CHECK_CASE(destroy_viommu_in_use),
		CHECK_CASE(signature_create_vm_no_options),
		CHECK_CASE(signature_create_vm_int),
		CHECK_CASE(signature_map_no_fd),
		CHECK_CASE(signature_unmap_extra),
		CHECK_CASE(signature_invalidate_swapped),
		CHECK_CASE(unknown_method),
		CHECK_CASE(unknown_vm_path),
		CHECK_CASE(unknown_object_path),
		CHECK_CASE(unknown_viommu_path),
		CHECK_CASE(test_after),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
