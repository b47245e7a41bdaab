/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IOMMU_GET_HW_INFO through the real AMD IOMMU driver: QEMU's edu device
 * behind QEMU's AMD-Vi (guest-run --flavour amd, which also sets
 * iommufd.allow_unsafe_interrupts=1: the guest has no interrupt remapping).
 * The registers sysfs shows before the bind must be those hw_info returns
 * after it, and the vendor table must decode them.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "iommufd.h"
#include "pci-sysfs.h"
#include "vendor.h"
#include "vfio.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define QEMU_AMDVI_EFR 0x29d3ull /* QEMU 7.2's AMD-Vi */

static struct pci_sysfs_device edu;
static struct pci_driver_binding saved;
static struct pci_iommu_regs sysfs_regs;
static bool bound;
static int fds_at_start;

static void test_sysfs_before_bind(void)
{
	struct pci_assignability a;

	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu));
	check_note("edu at %s, driver '%s', IOMMU group %d", edu.bdf, edu.driver,
		   edu.iommu_group);
	CHECK(edu.iommu_group != PCI_NO_GROUP);

	CHECK_OK(pci_sysfs_iommu_regs(NULL, edu.bdf, &sysfs_regs));
	check_note("IOMMU %s: EFR 0x%llx EFR2 0x%llx", sysfs_regs.iommu,
		   (unsigned long long)sysfs_regs.data.amd.efr,
		   (unsigned long long)sysfs_regs.data.amd.efr2);
	CHECK_EQ(sysfs_regs.type, KABI_IOMMU_HW_INFO_TYPE_AMD);
	CHECK_EQ(sysfs_regs.data_len, sizeof(struct kabi_iommu_hw_info_amd));
	CHECK(sysfs_regs.data.amd.efr != 0);
	CHECK_EQ(sysfs_regs.data.amd.efr, QEMU_AMDVI_EFR);
	CHECK_EQ(sysfs_regs.data.amd.efr2, 0);

	/* No southbridge IOAPIC, so Linux leaves interrupt remapping off. */
	CHECK_OK(pci_sysfs_assignable(NULL, edu.bdf, &a));
	check_note("assignable %d, MSI isolation %d, unsafe allowed %d, reason '%s'",
		   a.assignable, a.msi_isolation, a.unsafe_interrupts_allowed, a.reason);
	CHECK_EQ(a.msi_isolation, PCI_MSI_ISOLATION_NO);
	CHECK(a.unsafe_interrupts_allowed);
	CHECK(a.assignable);

	CHECK_OK(pci_sysfs_bind_vfio(NULL, edu.bdf, &saved));
	bound = true;
}

static int set_unsafe_interrupts(bool allow)
{
	int fd = open("/sys/module/iommufd/parameters/allow_unsafe_interrupts",
		      O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, allow ? "Y" : "N", 1);
	close(fd);
	return n == 1 ? 0 : -EIO;
}

/* Without remapping and without the override, iommufd refuses the bind. */
static void test_unsafe_interrupts_refused(void)
{
	struct pci_assignability a;
	uint32_t dev_id = 0;
	int iommufd, devfd, r;

	if (!bound)
		check_fail(__FILE__, __LINE__, "the edu device is not bound to vfio-pci");
	CHECK_OK(set_unsafe_interrupts(false));
	CHECK_OK(pci_sysfs_assignable(NULL, edu.bdf, &a));
	check_note("reason '%s'", a.reason);
	CHECK(!a.assignable);
	CHECK(!a.unsafe_interrupts_allowed);
	CHECK(strstr(a.reason, "interrupt remapping is off"));

	iommufd = iommufd_open();
	CHECK(iommufd >= 0);
	CHECK_OK(vfio_device_open_by_bdf(NULL, edu.bdf, &devfd));
	r = vfio_device_bind_iommufd(devfd, iommufd, NULL, &dev_id);
	close(devfd);
	close(iommufd);
	CHECK_OK(set_unsafe_interrupts(true));
	CHECK_RET(r, -EPERM);
	CHECK_EQ(dev_id, 0);
}

static void test_hw_info(void)
{
	struct kabi_iommu_hw_info_amd amd;
	uint8_t big[32];
	struct iommufd_hw_info hw;
	uint32_t dev_id;
	int iommufd, devfd;

	if (!bound)
		check_fail(__FILE__, __LINE__, "the edu device is not bound to vfio-pci");
	iommufd = iommufd_open();
	CHECK(iommufd >= 0);
	CHECK_OK(vfio_device_open_by_bdf(NULL, edu.bdf, &devfd));
	CHECK_OK(vfio_device_bind_iommufd(devfd, iommufd, NULL, &dev_id));

	/* The default type. */
	CHECK_OK(iommufd_get_hw_info(iommufd, dev_id, 0, &amd, sizeof(amd), &hw));
	check_note("type %u len %u EFR 0x%llx EFR2 0x%llx caps 0x%llx pasid_log2 %u", hw.type,
		   hw.data_len, (unsigned long long)amd.efr, (unsigned long long)amd.efr2,
		   (unsigned long long)hw.capabilities, hw.max_pasid_log2);
	CHECK_EQ(hw.type, KABI_IOMMU_HW_INFO_TYPE_AMD);
	CHECK_EQ(hw.data_len, 16);
	CHECK_EQ(amd.efr, QEMU_AMDVI_EFR);
	CHECK_EQ(amd.efr2, 0);
	CHECK_EQ(amd.efr, sysfs_regs.data.amd.efr);
	CHECK_EQ(amd.efr2, sysfs_regs.data.amd.efr2);

	/* Asked for by type; a larger buffer gets its tail zeroed. */
	memset(big, 0xff, sizeof(big));
	CHECK_OK(iommufd_get_hw_info(iommufd, dev_id, KABI_IOMMU_HW_INFO_TYPE_AMD, big,
				     sizeof(big), &hw));
	CHECK_EQ(hw.type, KABI_IOMMU_HW_INFO_TYPE_AMD);
	CHECK_EQ(hw.data_len, 16);
	CHECK(memcmp(big, &amd, sizeof(amd)) == 0);
	for (size_t i = sizeof(amd); i < sizeof(big); i++)
		CHECK_EQ(big[i], 0);

	/* The AMD driver has no VT-d data to give. */
	CHECK_RET(iommufd_get_hw_info(iommufd, dev_id, KABI_IOMMU_HW_INFO_TYPE_INTEL_VTD, &amd,
				      sizeof(amd), &hw),
		  -EOPNOTSUPP);

	/* The decoded "nesting" cap predicts the kernel: QEMU's AMD-Vi lacks
	 * GIoSup and GCR3TRPMode, so the driver refuses a nesting parent. */
	struct iommufd_hwpt_alloc_args parent = {
		.dev_id = dev_id,
		.flags = KABI_IOMMU_HWPT_ALLOC_NEST_PARENT,
	};
	struct viommu_caps caps;
	uint64_t nesting = 1;
	uint32_t ioas, hwpt;

	CHECK_OK(viommu_vendor_decode(viommu_vendor_by_hw_info_type(hw.type), &amd, sizeof(amd),
				      &caps));
	CHECK_OK(viommu_caps_get(&caps, "nesting", &nesting));
	CHECK_EQ(nesting, 0);
	CHECK_OK(iommufd_ioas_alloc(iommufd, &ioas));
	parent.pt_id = ioas;
	CHECK_RET(iommufd_hwpt_alloc(iommufd, &parent, &hwpt), -EOPNOTSUPP);
	/* A plain paging domain on the same device works. */
	parent.flags = 0;
	CHECK_OK(iommufd_hwpt_alloc(iommufd, &parent, &hwpt));
	CHECK_OK(iommufd_destroy(iommufd, hwpt));
	CHECK_OK(iommufd_destroy(iommufd, ioas));

	CHECK(close(devfd) == 0);
	CHECK_RET(iommufd_destroy(iommufd, dev_id), -ENOENT);
	CHECK(close(iommufd) == 0);
}

static void test_decode(void)
{
	const struct viommu_vendor *v = viommu_vendor_by_hw_info_type(sysfs_regs.type);
	struct viommu_caps caps;
	uint64_t val;

	CHECK(v);
	CHECK_STREQ(v->name, "amd");
	CHECK_OK(viommu_vendor_decode(v, &sysfs_regs.data, sysfs_regs.data_len, &caps));
	/* 0x29d3: PreFSup, PPRSup, GTSup, IASup, GASup, HESup; HATS 2, GATS 2 */
	CHECK_OK(viommu_caps_get(&caps, "PreFSup", &val));
	CHECK_EQ(val, 1);
	CHECK_OK(viommu_caps_get(&caps, "PPRSup", &val));
	CHECK_EQ(val, 1);
	CHECK_OK(viommu_caps_get(&caps, "GTSup", &val));
	CHECK_EQ(val, 1);
	CHECK_OK(viommu_caps_get(&caps, "XTSup", &val));
	CHECK_EQ(val, 0);
	CHECK_OK(viommu_caps_get(&caps, "HATS", &val));
	CHECK_EQ(val, 2);
	CHECK_OK(viommu_caps_get(&caps, "GIoSup", &val));
	CHECK_EQ(val, 0);
	CHECK_OK(viommu_caps_get(&caps, "HDSup", &val));
	CHECK_EQ(val, 0);
}

static void test_restore(void)
{
	struct pci_sysfs_device d;

	if (!bound)
		check_fail(__FILE__, __LINE__, "the edu device is not bound to vfio-pci");
	CHECK_EQ(check_count_fds(), fds_at_start); /* else unbinding waits for ever */
	CHECK_OK(pci_sysfs_restore_driver(NULL, &saved));
	bound = false;
	CHECK_OK(pci_sysfs_device_get(NULL, edu.bdf, &d));
	CHECK_STREQ(d.driver, saved.driver);
	CHECK_STREQ(d.vfio_cdev, "");
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_sysfs_before_bind),
		CHECK_CASE(test_unsafe_interrupts_refused),
		CHECK_CASE(test_hw_info),
		CHECK_CASE(test_decode),
		CHECK_CASE(test_restore),
	};

	fds_at_start = check_count_fds();
	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
