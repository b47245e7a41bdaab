/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helper of test-viommuctl.sh: gives viommuctl something to show.
 *
 *   test-viommuctl-vm mock NAME      persistent VM: selftest0, 1 MiB mapped, a
 *                                    vIOMMU, a vDEVICE (virt ID 0x10), a nested
 *                                    domain with selftest0 on it, fast path taken
 *   test-viommuctl-vm pci NAME BDF   persistent VM with that PCI device, 1 MiB mapped
 *   test-viommuctl-vm describe       Manager.Describe() as the daemon sends it
 *
 * Prints the VM's path; exits 1 with the daemon's error on failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client.h"
#include "kabi-iommufd.h"
#include "kabi-selftest.h"

#define MEM (1024 * 1024)
#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)

static struct vc c;

_Noreturn static void die(const char *what)
{
	fprintf(stderr, "test-viommuctl-vm: %s: %s: %s\n", what, vc_error_name(&c),
		vc_error_message(&c));
	exit(1);
}

static char *create(const char *name, const char *device)
{
	sd_bus_message *reply = NULL;
	struct vc_range range;
	const char *p;
	char *vm, *dev = vc_find_device(&c, device);
	size_t n = 0;
	int memfd = memfd_create("viommuctl-test", MFD_CLOEXEC);

	if (!dev)
		die("no such device");
	if (vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", name, 1, "persist",
		    "b", 1) < 0)
		die("CreateVm");
	if (sd_bus_message_read(reply, "o", &p) < 0 || !(vm = strdup(p)))
		die("CreateVm reply");
	sd_bus_message_unref(reply);
	if (vc_attach_device(&c, vm, dev) < 0)
		die("AttachDevice");
	if (vc_get_ranges(&c, vm, "IovaRanges", &range, 1, &n) < 0 || n == 0)
		die("IovaRanges");
	if (memfd < 0 || ftruncate(memfd, MEM) < 0 || fallocate(memfd, 0, 0, MEM) < 0)
		die("memfd");
	/* The range's start rounded up to a page. */
	if (vc_map_memory(&c, vm, memfd, 0, MEM, (range.start + 4095) & ~4095ull, RW) < 0)
		die("MapMemory");
	close(memfd);
	free(dev);
	return vm;
}

static void mock(const char *name)
{
	const struct kabi_iommu_hwpt_selftest data = { .iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT };
	char *vm = create(name, "selftest0"), *dev = vc_find_device(&c, "selftest0");
	char *viommu = NULL, *vdev = NULL, *dom = NULL;
	int fd = -1;

	if (vc_create_viommu(&c, vm, "selftest", &viommu) < 0)
		die("CreateViommu");
	if (vc_add_device(&c, viommu, dev, 0x10, &vdev) < 0)
		die("AddDevice");
	if (vc_alloc_domain(&c, viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST, &data,
			    sizeof(data), &dom) < 0)
		die("AllocDomain");
	if (vc_domain_attach(&c, dom, dev) < 0)
		die("Domain.Attach");
	if (vc_get_fd(&c, vm, NULL, &fd) < 0)
		die("GetIommufd");
	close(fd);
	printf("%s\n", vm);
	free(vm);
	free(dev);
	free(viommu);
	free(vdev);
	free(dom);
}

int main(int argc, char **argv)
{
	char *json = NULL;

	if (argc < 2 || vc_connect(&c, NULL) < 0) {
		fprintf(stderr, "usage: test-viommuctl-vm mock NAME | pci NAME BDF | describe\n");
		return 2;
	}
	if (strcmp(argv[1], "mock") == 0 && argc == 3)
		mock(argv[2]);
	else if (strcmp(argv[1], "pci") == 0 && argc == 4) {
		char *vm = create(argv[2], argv[3]);

		printf("%s\n", vm);
		free(vm);
	}
	else if (strcmp(argv[1], "describe") == 0) {
		if (vc_describe(&c, &json) < 0)
			die("Describe");
		printf("%s\n", json);
		free(json);
	} else
		return 2;
	vc_close(&c);
	return 0;
}
