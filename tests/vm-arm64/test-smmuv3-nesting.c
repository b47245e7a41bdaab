/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel layer's nesting path on the real arm-smmu-v3 driver, in the arm64
 * guest (tests/vm-arm64/guest-run): QEMU's SMMUv3 in nested mode, the edu
 * device, an IORT that says CANWBS. The test plays a guest's SMMU driver:
 *
 *   hw_info   IOMMU_GET_HW_INFO is the SMMUv3 type and the vendor table
 *             decodes it; its rows (vIOMMU, nested data, invalidation,
 *             vEVENTQ) are what the kernel then takes
 *   parent    a nesting-parent HWPT on the IOAS (stage 2); DMA lands
 *   objects   VIOMMU_ALLOC(ARM_SMMUV3), VDEVICE_ALLOC (virtual ID: the
 *             device's stream ID)
 *   abort     nested HWPT from an abort vSTE: the DMA is blocked
 *   bypass    from a bypass vSTE: DMA goes through stage 2 alone
 *   stage 1   from a stage-1 vSTE whose CD and page tables the test builds in
 *             memory it mapped into the IOAS: the DMA to a stage-1 IOVA lands
 *             in the memfd page that stage 1 and stage 2 together select
 *
 * The memfd layout (stage-1 IOVAs, stage-2 addresses, memfd offsets) and the
 * stage-1 structures are smmuv3-guest.h's, shared with test-smmuv3-daemon.
 *
 * Then the stage-1 entry of the destination is changed and invalidated through
 * the vIOMMU (CMD_TLBI_NH_VA, CMD_CFGI_CD): the next DMA follows the new entry;
 * a batch with an invalid command stops at it (-EIO, the count handled before).
 * A DMA to a stage-1 IOVA that stage 1 does not map is blocked, and its fault
 * record arrives on a vEVENTQ with the virtual ID in place of the stream ID.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "edu.h"
#include "iommufd.h"
#include "pci-sysfs.h"
#include "smmuv3-guest.h"
#include "vendor.h"
#include "vfio.h"

static struct pci_sysfs_device edu;
static struct pci_driver_binding saved;
static bool bound;
static int fds_at_start;

static void require_edu(void)
{
	if (!bound)
		check_fail(__FILE__, __LINE__, "the edu device is not bound to vfio-pci");
}

static void test_discover_and_bind(void)
{
	struct pci_assignability a;

	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu));
	check_note("edu at %s (stream ID 0x%x), driver '%s', IOMMU group %d", edu.bdf,
		   s1g_stream_id(edu.bdf), edu.driver, edu.iommu_group);
	CHECK(edu.iommu_group != PCI_NO_GROUP);
	CHECK_STREQ(edu.driver, "");
	if (pci_sysfs_assignable(NULL, edu.bdf, &a) == 0)
		check_note("assignable %d, MSI isolation %d, reason '%s'", a.assignable,
			   a.msi_isolation, a.reason);

	CHECK_OK(pci_sysfs_bind_vfio(NULL, edu.bdf, &saved));
	bound = true;
	CHECK_OK(pci_sysfs_device_get(NULL, edu.bdf, &edu));
	CHECK_STREQ(edu.driver, "vfio-pci");
	check_note("cdev /dev/vfio/devices/%s", edu.vfio_cdev);
}

struct session {
	int iommufd;
	int devfd;
	uint32_t dev_id;
};

static void session_open(struct session *s)
{
	s->iommufd = iommufd_open();
	CHECK(s->iommufd >= 0);
	CHECK_OK(vfio_device_open_by_bdf(NULL, edu.bdf, &s->devfd));
	CHECK_OK(vfio_device_bind_iommufd(s->devfd, s->iommufd, NULL, &s->dev_id));
}

static void session_close(struct session *s)
{
	CHECK(close(s->devfd) == 0);
	CHECK(close(s->iommufd) == 0);
}

static const struct viommu_vendor *vendor;

static void test_hw_info(void)
{
	struct kabi_iommu_hw_info_arm_smmuv3 info;
	struct iommufd_hw_info hw;
	struct viommu_caps caps = { 0 };
	struct session s;
	uint64_t v;

	require_edu();
	session_open(&s);
	memset(&info, 0, sizeof(info));
	CHECK_OK(iommufd_get_hw_info(s.iommufd, s.dev_id, 0, &info, sizeof(info), &hw));
	check_note("hw_info type %u len %u caps 0x%llx flags 0x%x", hw.type, hw.data_len,
		   (unsigned long long)hw.capabilities, info.flags);
	check_note("idr0..5 %08x %08x %08x %08x %08x %08x iidr %08x aidr %08x", info.idr[0],
		   info.idr[1], info.idr[2], info.idr[3], info.idr[4], info.idr[5], info.iidr,
		   info.aidr);
	CHECK_EQ(hw.type, KABI_IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	CHECK_EQ(hw.data_len, sizeof(info));

	vendor = viommu_vendor_by_hw_info_type(hw.type);
	CHECK(vendor != NULL);
	CHECK_STREQ(vendor->name, "arm-smmuv3");
	CHECK_OK(viommu_vendor_decode(vendor, &info, sizeof(info), &caps));
	for (unsigned int i = 0; i < caps.count; i++)
		check_note("  %-12s 0x%llx", caps.cap[i].name,
			   (unsigned long long)caps.cap[i].value);
	/* QEMU 10's virt SMMUv3 in nested mode: both stages, AArch64 tables, 4K. */
	CHECK_OK(viommu_caps_get(&caps, "S1P", &v));
	CHECK_EQ(v, 1);
	CHECK_OK(viommu_caps_get(&caps, "S2P", &v));
	CHECK_EQ(v, 1);
	CHECK_OK(viommu_caps_get(&caps, "nesting", &v));
	CHECK_EQ(v, 1);
	CHECK_OK(viommu_caps_get(&caps, "GRAN4K", &v));
	CHECK_EQ(v, 1);
	CHECK_OK(viommu_caps_get(&caps, "FWB", &v));
	check_note("FWB %llu: vIOMMU allocation rests on the IORT's CANWBS",
		   (unsigned long long)v);
	/* The table's rows for what the nesting test uses. */
	CHECK(vendor->nest_anchor == VIOMMU_NEST_ON_VIOMMU);
	CHECK(vendor->viommu.supported);
	CHECK(vendor->nested.supported);
	CHECK_EQ(vendor->nested.data_len, sizeof(struct kabi_iommu_hwpt_arm_smmuv3));
	CHECK(vendor->invalidate.supported);
	CHECK(vendor->veventq.supported);
	session_close(&s);
}

struct rig {
	struct session s;
	uint32_t ioas, parent, viommu, vdev;
	int memfd;
	uint8_t *mem;
	struct edu edu;
};

static bool dma_lands(struct rig *r, uint64_t src_iova, uint64_t dst_iova, uint64_t src_off,
		      uint64_t land_off, uint8_t seed)
{
	return s1g_dma_lands(r->mem, &r->edu, src_iova, dst_iova, src_off, land_off, seed);
}

static void nested_alloc(struct rig *r, uint64_t ste0, uint32_t *out)
{
	struct kabi_iommu_hwpt_arm_smmuv3 ste = { .ste = { ste0, 0 } };
	struct iommufd_hwpt_alloc_args a = {
		.dev_id = r->s.dev_id,
		.pt_id = r->viommu,
		.data_type = vendor->nested.type,
		.data = &ste,
		.data_len = sizeof(ste),
	};

	CHECK_OK(iommufd_hwpt_alloc(r->s.iommufd, &a, out));
}

static void test_nesting(void)
{
	struct iommufd_hwpt_alloc_args pa = { 0 };
	struct iommufd_viommu_alloc_args va = { 0 };
	uint32_t got, h_abort, h_bypass, h_s1, veq;
	int veq_fd;
	uint64_t unmapped;
	struct rig r = { 0 };
	uint32_t sid;

	require_edu();
	CHECK(vendor != NULL);
	sid = s1g_stream_id(edu.bdf);
	CHECK(sid != UINT32_MAX);
	session_open(&r.s);

	r.memfd = memfd_create("smmuv3-nesting", MFD_CLOEXEC);
	CHECK(r.memfd >= 0);
	CHECK(ftruncate(r.memfd, S1G_MEMFD_SIZE) == 0);
	r.mem = mmap(NULL, S1G_MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, r.memfd, 0);
	CHECK(r.mem != MAP_FAILED);
	memset(r.mem, 0, S1G_MEMFD_SIZE);

	/* Stage 2: the IOAS. */
	CHECK_OK(iommufd_ioas_alloc(r.s.iommufd, &r.ioas));
	for (size_t i = 0; i < sizeof(s1g_maps) / sizeof(s1g_maps[0]); i++) {
		uint64_t iova = s1g_maps[i].iova;

		CHECK_OK(iommufd_ioas_map_file(r.s.iommufd, r.ioas,
					       KABI_IOMMU_IOAS_MAP_FIXED_IOVA |
						       KABI_IOMMU_IOAS_MAP_READABLE |
						       KABI_IOMMU_IOAS_MAP_WRITEABLE,
					       r.memfd, s1g_maps[i].off, s1g_maps[i].len, &iova));
		CHECK_EQ(iova, s1g_maps[i].iova);
	}

	pa.dev_id = r.s.dev_id;
	pa.pt_id = r.ioas;
	pa.flags = KABI_IOMMU_HWPT_ALLOC_NEST_PARENT;
	CHECK_OK(iommufd_hwpt_alloc(r.s.iommufd, &pa, &r.parent));
	CHECK_OK(vfio_device_attach_pt(r.s.devfd, r.parent, &got));
	CHECK_EQ(got, r.parent);
	check_note("IOAS %u, nesting parent HWPT %u attached", r.ioas, r.parent);
	CHECK_OK(edu_open(r.s.devfd, &r.edu));

	/* Stage 2 alone. */
	CHECK(dma_lands(&r, S1G_IPA(S1G_OFF_S2_SRC), S1G_IPA(S1G_OFF_S2_DST), S1G_OFF_S2_SRC,
			S1G_OFF_S2_DST, 1));
	check_note("parent (stage 2): DMA 0x%llx -> 0x%llx landed at memfd 0x%llx",
		   S1G_IPA(S1G_OFF_S2_SRC), S1G_IPA(S1G_OFF_S2_DST), S1G_OFF_S2_DST);

	va.type = vendor->viommu.type;
	va.dev_id = r.s.dev_id;
	va.hwpt_id = r.parent;
	CHECK_OK(iommufd_viommu_alloc(r.s.iommufd, &va, &r.viommu));
	CHECK_OK(iommufd_vdevice_alloc(r.s.iommufd, r.viommu, r.s.dev_id, sid, &r.vdev));
	check_note("vIOMMU %u (type %u), vDEVICE %u (virtual ID 0x%x)", r.viommu, va.type,
		   r.vdev, sid);

	/* Abort vSTE: nothing moves. */
	nested_alloc(&r, S1G_STE0_V | S1G_STE0_CFG_ABORT, &h_abort);
	CHECK_OK(vfio_device_attach_pt(r.s.devfd, h_abort, &got));
	CHECK(!dma_lands(&r, S1G_IPA(S1G_OFF_S2_SRC), S1G_IPA(S1G_OFF_S2_DST), S1G_OFF_S2_SRC,
			 S1G_OFF_S2_DST, 2));
	CHECK(!dma_lands(&r, S1G_SRC, S1G_DST, S1G_OFF_S1_SRC, S1G_OFF_S1_DST, 3));
	check_note("abort vSTE: HWPT %u, DMA blocked", h_abort);

	/* Bypass vSTE: stage 2 alone again. */
	nested_alloc(&r, S1G_STE0_V | S1G_STE0_CFG_BYPASS, &h_bypass);
	CHECK_OK(vfio_device_attach_pt(r.s.devfd, h_bypass, &got));
	CHECK(dma_lands(&r, S1G_IPA(S1G_OFF_S2_SRC), S1G_IPA(S1G_OFF_S2_DST), S1G_OFF_S2_SRC,
			S1G_OFF_S2_DST, 4));
	/* Without stage 1, the stage-1 IOVAs are IPAs: the decoy pages. */
	CHECK(dma_lands(&r, S1G_SRC, S1G_DST, S1G_OFF_DECOY_SRC, S1G_OFF_DECOY_DST, 5));
	check_note("bypass vSTE: HWPT %u, DMA through stage 2 alone", h_bypass);

	/* Stage-1 vSTE: the CD and tables at IPAs in the IOAS. */
	s1g_build_stage1(r.mem);
	nested_alloc(&r, S1G_STE0_S1(S1G_IPA(S1G_OFF_CD)), &h_s1);
	CHECK_OK(vfio_device_attach_pt(r.s.devfd, h_s1, &got));
	CHECK_EQ(got, h_s1);
	CHECK(dma_lands(&r, S1G_SRC, S1G_DST, S1G_OFF_S1_SRC, S1G_OFF_S1_DST, 6));
	check_note("stage-1 vSTE: HWPT %u, DMA 0x%llx -> 0x%llx (S1) -> IPA 0x%llx (S2) -> "
		   "memfd 0x%llx",
		   h_s1, S1G_SRC, S1G_DST, S1G_IPA(S1G_OFF_S1_DST), S1G_OFF_S1_DST);
	/* Remap the destination in stage 1, invalidate through the vIOMMU. */
	struct kabi_iommu_viommu_arm_smmuv3_invalidate inv[2];
	uint64_t cmds[2][2];
	uint32_t count = 2;

	CHECK_EQ(vendor->invalidate.data_len, sizeof(inv[0]));
	s1g_invalidation(cmds, sid);
	memcpy(inv, cmds, sizeof(inv));
	s1g_remap_dst(r.mem);
	/* Not asserted: whether the SMMU still uses its cached entry. */
	if (dma_lands(&r, S1G_SRC, S1G_DST, S1G_OFF_S1_SRC, S1G_OFF_S1_DST, 10))
		check_note("before the invalidation the DMA still lands at memfd 0x15000 (cached)");
	else
		check_note("before the invalidation the DMA does not land at memfd 0x15000");
	CHECK_OK(iommufd_hwpt_invalidate(r.s.iommufd, r.viommu, vendor->invalidate.type, inv,
					 sizeof(inv[0]), &count));
	CHECK_EQ(count, 2);
	CHECK(dma_lands(&r, S1G_SRC, S1G_DST, S1G_OFF_S1_SRC, S1G_OFF_S1_DST2, 9));
	check_note("after TLBI_NH_VA + CFGI_CD: DMA to 0x%llx lands at memfd 0x%llx", S1G_DST,
		   S1G_OFF_S1_DST2);
	/* A batch stops at an invalid command: the ones before it are done. */
	inv[1].cmd[0] = S1G_CMD_BAD;
	inv[1].cmd[1] = 0;
	count = 2;
	CHECK_RET(iommufd_hwpt_invalidate(r.s.iommufd, r.viommu, vendor->invalidate.type, inv,
					  sizeof(inv[0]), &count),
		  -EIO);
	CHECK_EQ(count, 1);

	/* An IOVA stage 1 does not map: blocked, and the fault is the VMM's. */
	CHECK(vendor->veventq.supported);
	CHECK_OK(iommufd_veventq_alloc(r.s.iommufd, r.viommu, vendor->veventq.type, 256, &veq,
				       &veq_fd));
	CHECK(!dma_lands(&r, S1G_SRC, S1G_UNMAPPED, S1G_OFF_S1_SRC, S1G_OFF_S1_DST2, 7));
	CHECK(s1g_read_faults(veq_fd, sid, S1G_UNMAPPED) > 0);
	CHECK(close(veq_fd) == 0);
	CHECK_OK(iommufd_destroy(r.s.iommufd, veq));

	/* Back to the parent; everything goes in the kernel's order. */
	CHECK_OK(vfio_device_attach_pt(r.s.devfd, r.parent, &got));
	CHECK(dma_lands(&r, S1G_IPA(S1G_OFF_S2_SRC), S1G_IPA(S1G_OFF_S2_DST), S1G_OFF_S2_SRC,
			S1G_OFF_S2_DST, 8));
	CHECK_OK(iommufd_destroy(r.s.iommufd, h_s1));
	CHECK_OK(iommufd_destroy(r.s.iommufd, h_bypass));
	CHECK_OK(iommufd_destroy(r.s.iommufd, h_abort));
	CHECK_OK(iommufd_destroy(r.s.iommufd, r.vdev));
	CHECK_OK(iommufd_destroy(r.s.iommufd, r.viommu));
	edu_close(&r.edu);
	CHECK_OK(vfio_device_detach_pt(r.s.devfd));
	CHECK_OK(iommufd_destroy(r.s.iommufd, r.parent));
	CHECK_OK(iommufd_ioas_unmap(r.s.iommufd, r.ioas, 0, UINT64_MAX, &unmapped));
	CHECK_EQ(unmapped, S1G_MAPPED_BYTES);
	CHECK_OK(iommufd_destroy(r.s.iommufd, r.ioas));
	CHECK(munmap(r.mem, S1G_MEMFD_SIZE) == 0);
	CHECK(close(r.memfd) == 0);
	session_close(&r.s);
}

static void test_restore(void)
{
	struct pci_sysfs_device d;

	require_edu();
	CHECK_EQ(check_count_fds(), fds_at_start);
	CHECK_OK(pci_sysfs_restore_driver(NULL, &saved));
	bound = false;
	CHECK_OK(pci_sysfs_device_get(NULL, edu.bdf, &d));
	CHECK_STREQ(d.driver, "");
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_discover_and_bind),
		CHECK_CASE(test_hw_info),
		CHECK_CASE(test_nesting),
		CHECK_CASE(test_restore),
	};

	fds_at_start = check_count_fds();
	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
