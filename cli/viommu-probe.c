/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommu-probe: what the kernel layer sees on this host, without the daemon.
 * Lists PCI devices with their IOMMU group, driver and assignability, decodes
 * each IOMMU's capability registers from sysfs, and with --bind binds the
 * named devices to vfio-pci and an iommufd to read IOMMU_GET_HW_INFO (then
 * gives them back). --mock adds a selftest mock device where the kernel has
 * CONFIG_IOMMUFD_TEST. Exit: 0 ok, 1 failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommufd.h"
#include "pci-sysfs.h"
#include "selftest.h"
#include "vendor.h"
#include "vfio.h"

static void print_caps(const struct viommu_vendor *vendor, const void *data, size_t len)
{
	struct viommu_caps caps;
	int r = viommu_vendor_decode(vendor, data, len, &caps);

	if (r < 0) {
		printf("    (cannot decode: %s)\n", strerror(-r));
		return;
	}
	for (unsigned int i = 0; i < caps.count; i++)
		printf("    %-22s %#-18llx %s\n", caps.cap[i].name,
		       (unsigned long long)caps.cap[i].value, caps.cap[i].help);
}

static void print_vendor_features(const struct viommu_vendor *vendor)
{
	const struct {
		const char *name;
		const struct viommu_vendor_feature *f;
	} features[] = {
		{ "vIOMMU", &vendor->viommu },	     { "nested HWPT", &vendor->nested },
		{ "invalidation", &vendor->invalidate }, { "vEVENTQ", &vendor->veventq },
		{ "HW queue", &vendor->hw_queue },
	};

	printf("    nesting hangs on the %s\n",
	       vendor->nest_anchor == VIOMMU_NEST_ON_VIOMMU ? "vIOMMU" : "nesting parent");
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (features[i].f->supported)
			printf("    %-13s type %#x, %u bytes\n", features[i].name,
			       features[i].f->type, features[i].f->data_len);
		else
			printf("    %-13s not supported: %s\n", features[i].name,
			       features[i].f->missing);
	}
}

static int list_devices(void)
{
	struct pci_sysfs_device *devs = NULL;
	size_t count = 0;
	int r = pci_sysfs_list(NULL, &devs, &count);

	if (r < 0) {
		fprintf(stderr, "viommu-probe: cannot list PCI devices: %s\n", strerror(-r));
		return r;
	}
	printf("%-13s %-9s %-6s %-10s %-5s %-8s %s\n", "DEVICE", "ID", "CLASS", "DRIVER",
	       "GROUP", "IOMMU", "ASSIGNABLE");
	for (size_t i = 0; i < count; i++) {
		struct pci_assignability a;
		struct pci_iommu_regs regs;
		char group[16] = "-";

		if (devs[i].iommu_group != PCI_NO_GROUP)
			snprintf(group, sizeof(group), "%d", devs[i].iommu_group);
		if (pci_sysfs_iommu_regs(NULL, devs[i].bdf, &regs) < 0)
			strcpy(regs.iommu, "-");
		if (pci_sysfs_assignable(NULL, devs[i].bdf, &a) < 0)
			snprintf(a.reason, sizeof(a.reason), "unknown");
		printf("%-13s %04x:%04x %06x %-10s %-5s %-8s %s%s%s\n", devs[i].bdf, devs[i].vendor,
		       devs[i].device, devs[i].class, devs[i].driver[0] ? devs[i].driver : "-",
		       group, regs.iommu, a.assignable ? "yes" : "no", a.reason[0] ? ": " : "",
		       a.reason);
	}
	free(devs);
	return 0;
}

/* Each IOMMU once, decoded from the registers it publishes in sysfs. */
static int list_iommus(void)
{
	struct pci_sysfs_device *devs = NULL;
	char seen[16][PCI_NAME_MAX];
	size_t count = 0, nseen = 0;
	int r = pci_sysfs_list(NULL, &devs, &count);

	if (r < 0)
		return r;
	for (size_t i = 0; i < count; i++) {
		struct pci_iommu_regs regs;
		const struct viommu_vendor *vendor;
		bool known = false;

		if (pci_sysfs_iommu_regs(NULL, devs[i].bdf, &regs) < 0)
			continue;
		for (size_t j = 0; j < nseen; j++)
			known |= strcmp(seen[j], regs.iommu) == 0;
		if (known || nseen == sizeof(seen) / sizeof(seen[0]))
			continue;
		strcpy(seen[nseen++], regs.iommu);
		vendor = viommu_vendor_by_hw_info_type(regs.type);
		printf("\nIOMMU %s (%s), from sysfs:\n", regs.iommu,
		       vendor ? vendor->description : "unknown vendor");
		if (vendor) {
			print_caps(vendor, &regs.data, regs.data_len);
			print_vendor_features(vendor);
		}
	}
	free(devs);
	return 0;
}

static void print_hw_info(const char *what, int iommufd, uint32_t dev_id)
{
	uint8_t data[256];
	struct iommufd_hw_info info;
	const struct viommu_vendor *vendor;
	int r = iommufd_get_hw_info(iommufd, dev_id, 0, data, sizeof(data), &info);

	if (r < 0) {
		printf("\n%s: IOMMU_GET_HW_INFO failed: %s\n", what, strerror(-r));
		return;
	}
	vendor = viommu_vendor_by_hw_info_type(info.type);
	printf("\n%s: IOMMU_GET_HW_INFO type %#x (%s), %u bytes, PASID width %u, caps %#llx\n",
	       what, info.type, vendor ? vendor->name : "unknown", info.data_len,
	       info.max_pasid_log2, (unsigned long long)info.capabilities);
	if (vendor) {
		print_caps(vendor, data, info.data_len);
		print_vendor_features(vendor);
	}
}

static int probe_bound(const char *bdf)
{
	struct pci_driver_binding saved;
	uint32_t dev_id;
	int iommufd, devfd, r;
	char what[64];

	r = pci_sysfs_bind_vfio(NULL, bdf, &saved);
	if (r < 0) {
		fprintf(stderr, "viommu-probe: cannot bind %s to vfio-pci: %s\n", bdf, strerror(-r));
		return r;
	}
	iommufd = iommufd_open();
	if (iommufd < 0) {
		fprintf(stderr, "viommu-probe: cannot open /dev/iommu: %s\n", strerror(-iommufd));
		r = iommufd;
		goto restore;
	}
	r = vfio_device_open_by_bdf(NULL, bdf, &devfd);
	if (r < 0) {
		fprintf(stderr, "viommu-probe: cannot open the VFIO cdev of %s: %s\n", bdf,
			strerror(-r));
		goto close_iommufd;
	}
	r = vfio_device_bind_iommufd(devfd, iommufd, NULL, &dev_id);
	if (r < 0)
		fprintf(stderr, "viommu-probe: cannot bind %s to an iommufd: %s\n", bdf,
			strerror(-r));
	else {
		snprintf(what, sizeof(what), "%s bound to an iommufd", bdf);
		print_hw_info(what, iommufd, dev_id);
	}
	close(devfd);
close_iommufd:
	close(iommufd);
restore:
	if (pci_sysfs_restore_driver(NULL, &saved) < 0)
		fprintf(stderr, "viommu-probe: could not give %s back to its driver\n", bdf);
	return r;
}

static int probe_mock(void)
{
	struct mock_device dev;
	uint32_t ioas;
	int fd = iommufd_open(), r;

	if (fd < 0)
		return fd;
	if (!mock_available(fd)) {
		printf("\nselftest mock IOMMU: not in this kernel (CONFIG_IOMMUFD_TEST)\n");
		close(fd);
		return 0;
	}
	r = iommufd_ioas_alloc(fd, &ioas);
	if (r == 0)
		r = mock_device_create(fd, ioas, KABI_MOCK_FLAGS_DEVICE_PASID, &dev);
	if (r == 0)
		print_hw_info("selftest mock device", fd, dev.idev_id);
	close(fd); /* takes every object of this iommufd with it */
	return r;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: viommu-probe [--bind BDF]... [--mock]\n"
		     "  --bind BDF  bind BDF to vfio-pci and an iommufd, read its hw_info, give it back\n"
		     "  --mock      also show a selftest mock device (CONFIG_IOMMUFD_TEST)\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "mock", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *binds[16];
	size_t nbinds = 0;
	bool mock = false;
	int c, failed = 0;

	while ((c = getopt_long(argc, argv, "b:mh", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (!pci_bdf_valid(optarg)) {
				fprintf(stderr, "viommu-probe: '%s' is not a PCI address "
						"(dddd:bb:dd.f)\n", optarg);
				return 2;
			}
			if (nbinds == sizeof(binds) / sizeof(binds[0])) {
				fprintf(stderr, "viommu-probe: at most 16 --bind\n");
				return 2;
			}
			binds[nbinds++] = optarg;
			break;
		case 'm':
			mock = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	printf("/dev/iommu: %s\n\n", access("/dev/iommu", F_OK) == 0 ? "present" : "absent");
	failed |= list_devices() < 0;
	failed |= list_iommus() < 0;
	for (size_t i = 0; i < nbinds; i++)
		failed |= probe_bound(binds[i]) < 0;
	if (mock)
		failed |= probe_mock() < 0;
	return failed ? 1 : 0;
}
