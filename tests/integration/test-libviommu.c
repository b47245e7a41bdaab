/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libviommu against the real daemon in the test guest (config
 * {"mock_devices": 2, "fast_path_users": [0]}): each call libviommu gained
 * beyond the basics, with what the kernel shows for it. AllowIovas below
 * the mock aperture keeps the devices out, lifted it lets AttachDevices
 * take both in one call;
 * NestDevices gives each its vDEVICE and nested domain (kernel IDs, the
 * device on the domain); an event queue's own fd reads the event the mock
 * IOMMU reports; a HW queue is allocated over mapped memory; dirty tracking
 * reads back the pages the mock IOMMU marked; fault queues, handed out and
 * relayed, answer only what they should; Claim; no orphans, ReleaseOrphan of an unknown name is
 * -ENOENT; Destroy releases every pin.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <viommu/viommu.h>

#include "check.h"
#include "iommufd.h"
#include "kabi-selftest.h"
#include "selftest.h"

#define MEM_SIZE (1ull << 20)
#define IOVA 0x1000000ull /* the mock aperture starts at 16 MiB */
#define RW (VIOMMU_MAP_READABLE | VIOMMU_MAP_WRITEABLE)

static struct viommu_client *client;
static struct viommu_vm *vm;
static struct viommu_viommu *viommu;
static struct viommu_nest_device nest[2] = { { "selftest0", 0x10 }, { "selftest1", 0x11 } };
static int memfd = -1, iommufd = -1;
static uint8_t *mem = MAP_FAILED;
static uint32_t parent_id;

static int sealed_memfd(uint64_t size, bool seal)
{
	int fd = memfd_create("libviommu-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)size) == 0 && fallocate(fd, 0, 0, (off_t)size) == 0);
	if (seal)
		CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	return fd;
}

/* The iommufd device ID of the VM's first device, from Describe. */
static uint32_t first_dev_id(void)
{
	struct json_object *root, *vms, *devs;
	char *text = NULL;
	uint32_t id = 0;

	CHECK_OK(viommu_describe(client, &text));
	root = json_tokener_parse(text);
	free(text);
	CHECK(root && json_object_object_get_ex(root, "vms", &vms));
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		struct json_object *v = json_object_array_get_idx(vms, i), *path;

		if (json_object_object_get_ex(v, "path", &path) &&
		    strcmp(json_object_get_string(path), viommu_vm_path(vm)) == 0 &&
		    json_object_object_get_ex(v, "devices", &devs)) {
			struct json_object *d = json_object_array_get_idx(devs, 0), *dev_id;

			CHECK(d && json_object_object_get_ex(d, "dev_id", &dev_id));
			id = (uint32_t)json_object_get_int64(dev_id);
		}
	}
	json_object_put(root);
	return id;
}

static void test_setup(void)
{
	const struct viommu_vm_options options = { .dirty_tracking = true };
	/* Below the mock IOMMU's aperture (it starts at 16 MiB). */
	const struct viommu_iova_range low = { 0x1000, 0x1fff };
	const char *const devices[] = { "selftest0", "selftest1" };

	CHECK_OK(viommu_client_connect(NULL, &client));
	CHECK_OK(viommu_vm_create(client, "libviommu", &options, &vm));
	CHECK_OK(viommu_vm_claim(vm));
	memfd = sealed_memfd(MEM_SIZE, false);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(mem != MAP_FAILED);
	CHECK_OK(viommu_vm_map(vm, memfd, 0, MEM_SIZE, IOVA, RW));
	/* AllowIovas keeps IOVAs usable: a device that cannot reach them stays out. */
	CHECK_OK(viommu_vm_allow_iovas(vm, &low, 1));
	CHECK(viommu_vm_attach_devices(vm, devices, 2) < 0);
	check_note("attach with 0x1000 kept usable: %s", viommu_client_error_message(client));
	CHECK_OK(viommu_vm_allow_iovas(vm, NULL, 0));
	CHECK_OK(viommu_vm_attach_devices(vm, devices, 2));
	CHECK_OK(viommu_vm_kernel_ids(vm, NULL, &parent_id));
	CHECK(parent_id != 0);
	CHECK_OK(viommu_vm_get_iommufd(vm, &iommufd));
	/* Both devices attached: the memory is pinned once, for the parent. */
	CHECK_OK(mock_check_refs(iommufd, mem, MEM_SIZE, 1));
}

static void test_nest_devices(void)
{
	static const uint32_t data[2] = { 0xbadbeef, 0 };

	CHECK_OK(viommu_viommu_create(vm, "auto", NULL, 0, &viommu));
	CHECK_OK(viommu_viommu_nest_devices(viommu, nest, 2, KABI_IOMMU_HWPT_DATA_SELFTEST, data,
					    sizeof(data)));
	for (int i = 0; i < 2; i++) {
		CHECK(nest[i].vdevice && nest[i].domain);
		CHECK(viommu_vdevice_kernel_id(nest[i].vdevice) != 0);
		CHECK(viommu_domain_kernel_id(nest[i].domain) != 0);
	}
	CHECK(viommu_domain_kernel_id(nest[0].domain) != viommu_domain_kernel_id(nest[1].domain));
}

static void test_event_queue(void)
{
	struct pollfd pfd = { .events = POLLIN };
	uint8_t buf[256];

	CHECK_OK(viommu_viommu_open_event_queue(viommu, KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 16, false,
						&pfd.fd));
	CHECK(fcntl(pfd.fd, F_GETFD) == FD_CLOEXEC);
	CHECK_OK(mock_trigger_vevent(iommufd, first_dev_id()));
	CHECK(poll(&pfd, 1, 5000) == 1);
	CHECK(read(pfd.fd, buf, sizeof(buf)) > 0);
	close(pfd.fd);
}

static void test_hw_queue(void)
{
	struct viommu_hw_queue *q = NULL;

	CHECK_OK(viommu_viommu_alloc_hw_queue(viommu, KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, IOVA,
					      4096, &q));
	CHECK(viommu_hw_queue_kernel_id(q) != 0);
	CHECK(strstr(viommu_hw_queue_path(q), viommu_vm_path(vm)) == viommu_hw_queue_path(q));
	CHECK_OK(viommu_hw_queue_destroy(q)); /* frees the handle too */
}

static void test_dirty_tracking(void)
{
	const uint64_t marked = 0x8000000000000005ull;
	uint64_t dirty = 0, *bitmap;
	int fd = sealed_memfd(4096, true), unsealed = sealed_memfd(4096, false);

	bitmap = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(bitmap != MAP_FAILED);
	CHECK_OK(viommu_vm_set_dirty_tracking(vm, true));
	CHECK_OK(mock_set_dirty(iommufd, parent_id, IOVA, 64 * 4096, 4096, &marked, NULL));
	CHECK_OK(viommu_vm_read_dirty_bitmap(vm, IOVA, 64 * 4096, 4096, fd, 0, &dirty));
	check_note("dirty pages: %llu, bitmap 0x%llx", (unsigned long long)dirty,
		   (unsigned long long)bitmap[0]);
	CHECK(dirty > 0);
	CHECK(bitmap[0] & 1);
	/* A bitmap that could shrink under the daemon's mapping is refused. */
	CHECK_RET(viommu_vm_read_dirty_bitmap(vm, IOVA, 64 * 4096, 4096, unsealed, 0, NULL),
		  -EINVAL);
	CHECK_OK(viommu_vm_set_dirty_tracking(vm, false));
	munmap(bitmap, 4096);
	close(fd);
	close(unsealed);
}

static void test_fault_queue(void)
{
	struct viommu_fault_queue *q = NULL;
	int fd = -1;

	/* Handed out: the VMM answers on the queue's own fd, not through us. */
	CHECK_OK(viommu_vm_open_fault_queue(vm, false, &q, &fd));
	CHECK(fd >= 0 && viommu_fault_queue_kernel_id(q) != 0);
	CHECK_RET(viommu_fault_queue_respond(q, 1, VIOMMU_PAGE_RESP_SUCCESS), -EINVAL);
	CHECK_OK(viommu_fault_queue_destroy(q)); /* frees the handle too */
	close(fd);
	/* Relayed: answered here, and only what is pending. */
	CHECK_OK(viommu_vm_open_fault_queue(vm, true, &q, &fd));
	CHECK_RET(viommu_fault_queue_respond(q, 12345, VIOMMU_PAGE_RESP_SUCCESS), -ENOENT);
	CHECK_OK(viommu_fault_queue_destroy(q));
	close(fd);
}

static void test_orphans(void)
{
	struct viommu_orphan *orphans = NULL;

	CHECK_OK(viommu_list_orphans(client, &orphans));
	CHECK(orphans && orphans[0].name == NULL);
	viommu_orphans_free(orphans);
	CHECK_RET(viommu_release_orphan(client, "vm999.iommufd"), -ENOENT);
}

static void test_destroy(void)
{
	for (int i = 0; i < 2; i++) {
		viommu_vdevice_free(nest[i].vdevice);
		viommu_domain_free(nest[i].domain);
	}
	viommu_viommu_free(viommu);
	CHECK_OK(viommu_vm_destroy(vm)); /* frees the handle too */
	CHECK_OK(mock_check_refs(iommufd, mem, MEM_SIZE, 0));
	close(iommufd);
	munmap(mem, MEM_SIZE);
	close(memfd);
	viommu_client_free(client);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_setup),	      CHECK_CASE(test_nest_devices), CHECK_CASE(test_event_queue),
		CHECK_CASE(test_hw_queue),    CHECK_CASE(test_dirty_tracking),
		CHECK_CASE(test_fault_queue), CHECK_CASE(test_orphans),	     CHECK_CASE(test_destroy),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
