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
 * Addresses (every stage-1 IOVA, stage-2 address and memfd offset differs, so
 * only the right composition passes; all clear of the MSI window at
 * 0x8000000):
 *
 *   memfd offset   IPA (stage 2)   what
 *   0x00000        0x40000000      CD (64 bytes)
 *   0x01000        0x40001000      stage-1 level-1 table
 *   0x02000        0x40002000      level 2
 *   0x03000        0x40003000      level 3
 *   0x10000        0x50012000      stage-2-only source (parent and bypass)
 *   0x11000        0x50013000      stage-2-only destination
 *   0x13000        0x50015000      source page        S1 IOVA 0x12345000
 *   0x15000        0x50017000      destination page   S1 IOVA 0x12346000
 *   0x16000        0x50018000      destination after the stage-1 remap
 *   0x1a000        0x12345000      decoy: what S1 IOVA 0x12345000 hits without S1
 *   0x1b000        0x12346000      decoy: the same for 0x12346000
 *
 * Then the stage-1 entry of the destination is changed and invalidated through
 * the vIOMMU (CMD_TLBI_NH_VA, CMD_CFGI_CD): the next DMA follows the new entry;
 * a batch with an invalid command stops at it (-EIO, the count handled before).
 * A DMA to a stage-1 IOVA that stage 1 does not map is blocked, and its fault
 * record arrives on a vEVENTQ with the virtual ID in place of the stream ID.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "iommufd.h"
#include "pci-sysfs.h"
#include "vendor.h"
#include "vfio.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_BAR0_SIZE (1u << 20)
/* edu's BAR0 registers (QEMU hw/misc/edu.c) */
#define EDU_ID 0x00
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1
#define EDU_DMA_TO_RAM 0x2
#define EDU_DMA_BUF 0x40000 /* the edu's 4 KiB buffer in its DMA address space */

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4

#define PAGE 0x1000ull
#define MEMFD_SIZE 0x20000ull
#define COPY_LEN 256

/* memfd offsets */
#define OFF_CD 0x00000ull
#define OFF_L1 0x01000ull
#define OFF_L2 0x02000ull
#define OFF_L3 0x03000ull
#define OFF_S2_SRC 0x10000ull
#define OFF_S2_DST 0x11000ull
#define OFF_S1_SRC 0x13000ull
#define OFF_S1_DST 0x15000ull
#define OFF_S1_DST2 0x16000ull /* where S1_DST points after the remap */
#define OFF_DECOY_SRC 0x1a000ull
#define OFF_DECOY_DST 0x1b000ull
/* stage-2 addresses (IPAs): the tables' window and the data window */
#define IPA_TABLES 0x40000000ull	      /* memfd [0, 0x4000) */
#define IPA_DATA 0x50012000ull		      /* memfd [0x10000, 0x18000) */
#define IPA(off) ((off) < 0x10000 ? IPA_TABLES + (off) : IPA_DATA + (off) - 0x10000)
/* stage-1 IOVAs */
#define S1_SRC 0x12345000ull
#define S1_DST 0x12346000ull

/* SMMUv3 STE and CD fields (SMMUv3 spec 5.2 and 5.4) */
#define STE0_V (1ull << 0)
#define STE0_CFG_ABORT (0ull << 1)
#define STE0_CFG_BYPASS (4ull << 1)
#define STE0_CFG_S1 (5ull << 1)
#define STE0_S1CTXPTR_MASK 0x000fffffffffffc0ull /* [51:6] */
#define CD0_T0SZ(x) ((uint64_t)(x) << 0)
#define CD0_TG0_4K (0ull << 6)
#define CD0_IRGN0_WBWA (1ull << 8)
#define CD0_ORGN0_WBWA (1ull << 10)
#define CD0_SH0_IS (3ull << 12)
#define CD0_EPD1 (1ull << 30)
#define CD0_V (1ull << 31)
#define CD0_IPS(x) ((uint64_t)(x) << 32)
#define CD0_AA64 (1ull << 41)
#define CD0_R (1ull << 45)
#define CD0_A (1ull << 46)
#define CD0_ASID(x) ((uint64_t)(x) << 48)
#define CD1_TTB0_MASK 0x000ffffffffffff0ull /* [51:4] */
/* AArch64 stage-1 descriptors, 4K granule */
#define DESC_TABLE 0x3ull
#define DESC_PAGE 0x3ull
#define DESC_ATTRIDX0 (0ull << 2)
#define DESC_AP_RW_ANY (1ull << 6) /* AP[2:1] = 01 */
#define DESC_SH_IS (3ull << 8)
#define DESC_AF (1ull << 10)
#define T0SZ 25 /* 39-bit input: a level-1, level-2, level-3 walk */
/* SMMUv3 event record (spec 7.3): ID in [7:0], StreamID in [63:32] of word 0,
 * input address in word 2 */
#define EVT_F_TRANSLATION 0x10
/* SMMUv3 commands (spec 4.1): opcode in [7:0] of word 0 */
#define CMD_CFGI_CD 0x05
#define CMD_TLBI_NH_VA 0x12
#define CMD_CFGI_SID(x) ((uint64_t)(x) << 32)
#define CMD_CFGI_LEAF (1ull << 0)
#define CMD_TLBI_ASID(x) ((uint64_t)(x) << 48)
#define CMD_TLBI_LEAF (1ull << 0)
#define CMD_BAD 0x7f /* no such opcode */

static struct pci_sysfs_device edu;
static struct pci_driver_binding saved;
static bool bound;
static int fds_at_start;

static void require_edu(void)
{
	if (!bound)
		check_fail(__FILE__, __LINE__, "the edu device is not bound to vfio-pci");
}

/* The stream ID of a device on segment 0 behind QEMU's root complex: the
 * IORT maps requester IDs to stream IDs one to one. */
static uint32_t stream_id(const char *bdf)
{
	unsigned int dom, bus, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return UINT32_MAX;
	return bus << 8 | dev << 3 | fn;
}

static void test_discover_and_bind(void)
{
	struct pci_assignability a;

	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu));
	check_note("edu at %s (stream ID 0x%x), driver '%s', IOMMU group %d", edu.bdf,
		   stream_id(edu.bdf), edu.driver, edu.iommu_group);
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

/* --- the DMA engine --- */

static void reg_write(volatile uint8_t *bar, unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(bar + off) = v;
}

static uint64_t reg_read(volatile uint8_t *bar, unsigned int off)
{
	return *(volatile uint64_t *)(bar + off);
}

static void edu_dma(volatile uint8_t *bar, uint64_t src, uint64_t dst, bool to_ram)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	reg_write(bar, EDU_DMA_SRC, src);
	reg_write(bar, EDU_DMA_DST, dst);
	reg_write(bar, EDU_DMA_COUNT, COPY_LEN);
	reg_write(bar, EDU_DMA_CMD, EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
	for (i = 0; i < 5000 && (reg_read(bar, EDU_DMA_CMD) & EDU_DMA_RUN); i++)
		nanosleep(&ms, NULL);
	CHECK(i < 5000);
}

struct rig {
	struct session s;
	uint32_t ioas, parent, viommu, vdev;
	int memfd;
	uint8_t *mem;
	volatile uint8_t *bar;
	void *bar_map;
	size_t bar_len;
};

static uint64_t *u64_at(struct rig *r, uint64_t off)
{
	return (uint64_t *)(r->mem + off);
}

/* Fills the source with a pattern unique to this round, clears every other
 * data page, copies src -> edu -> dst by DMA, and says whether the pattern
 * arrived at memfd offset land (and nowhere else). */
static bool dma_round(struct rig *r, uint64_t src_iova, uint64_t dst_iova, uint64_t src_off,
		      uint64_t land_off, uint8_t seed)
{
	static const uint64_t data_pages[] = { OFF_S2_SRC,    OFF_S2_DST,    OFF_S1_SRC,
					       OFF_S1_DST,    OFF_S1_DST2,   OFF_DECOY_SRC,
					       OFF_DECOY_DST };
	uint8_t want[COPY_LEN];
	bool landed = true;

	for (size_t i = 0; i < sizeof(data_pages) / sizeof(data_pages[0]); i++)
		memset(r->mem + data_pages[i], 0, PAGE);
	for (unsigned int i = 0; i < COPY_LEN; i++)
		want[i] = (uint8_t)(i * 13 + seed) | 1; /* never 0 */
	memcpy(r->mem + src_off, want, COPY_LEN);
	/* The decoy source carries another pattern: a copy from it is told apart. */
	if (src_off != OFF_DECOY_SRC)
		memset(r->mem + OFF_DECOY_SRC, 0xdc, COPY_LEN);

	edu_dma(r->bar, src_iova, EDU_DMA_BUF, false);
	edu_dma(r->bar, EDU_DMA_BUF, dst_iova, true);

	if (memcmp(r->mem + land_off, want, COPY_LEN) != 0)
		landed = false;
	for (size_t i = 0; i < sizeof(data_pages) / sizeof(data_pages[0]); i++) {
		uint64_t off = data_pages[i];

		if (off == land_off || off == src_off || off == OFF_DECOY_SRC)
			continue;
		for (unsigned int j = 0; j < COPY_LEN; j++)
			if (r->mem[off + j]) {
				check_note("memfd page 0x%llx was written",
					   (unsigned long long)off);
				return false;
			}
	}
	return landed;
}

static void map_fixed(struct rig *r, uint64_t off, uint64_t len, uint64_t iova)
{
	uint64_t got = iova;

	CHECK_OK(iommufd_ioas_map_file(r->s.iommufd, r->ioas,
				       KABI_IOMMU_IOAS_MAP_FIXED_IOVA |
					       KABI_IOMMU_IOAS_MAP_READABLE |
					       KABI_IOMMU_IOAS_MAP_WRITEABLE,
				       r->memfd, off, len, &got));
	CHECK_EQ(got, iova);
}

/* The guest's stage 1: a CD and a 3-level table mapping S1_SRC and S1_DST. */
static void build_stage1(struct rig *r)
{
	uint64_t *cd = u64_at(r, OFF_CD);
	uint64_t page = DESC_PAGE | DESC_AF | DESC_SH_IS | DESC_AP_RW_ANY | DESC_ATTRIDX0;

	memset(r->mem + OFF_CD, 0, 4 * PAGE);
	/* level 1 index VA[38:30], level 2 VA[29:21], level 3 VA[20:12] */
	u64_at(r, OFF_L1)[(S1_SRC >> 30) & 0x1ff] = IPA(OFF_L2) | DESC_TABLE;
	u64_at(r, OFF_L2)[(S1_SRC >> 21) & 0x1ff] = IPA(OFF_L3) | DESC_TABLE;
	u64_at(r, OFF_L3)[(S1_SRC >> 12) & 0x1ff] = IPA(OFF_S1_SRC) | page;
	u64_at(r, OFF_L3)[(S1_DST >> 12) & 0x1ff] = IPA(OFF_S1_DST) | page;

	cd[0] = CD0_T0SZ(T0SZ) | CD0_TG0_4K | CD0_IRGN0_WBWA | CD0_ORGN0_WBWA | CD0_SH0_IS |
		CD0_EPD1 | CD0_V | CD0_IPS(4) /* 44 bits */ | CD0_AA64 | CD0_R | CD0_A |
		CD0_ASID(1);
	cd[1] = IPA(OFF_L1) & CD1_TTB0_MASK;
	cd[3] = 0xff; /* MAIR: attribute 0 normal write-back */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
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

/* Reads the vEVENTQ: stage-1 translation faults of the device, under its
 * virtual ID, at addresses in [iova, iova + COPY_LEN). */
static void check_veventq(int fd, uint32_t vsid, uint64_t iova)
{
	static uint8_t buf[64 * 1024];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned int events = 0, lost = 0;
	ssize_t n;

	CHECK(poll(&pfd, 1, 5000) == 1);
	n = read(fd, buf, sizeof(buf));
	CHECK(n > 0);
	for (size_t at = 0; at < (size_t)n;) {
		struct kabi_iommufd_vevent_header h;
		struct kabi_iommu_vevent_arm_smmuv3 e;

		CHECK((size_t)n - at >= sizeof(h));
		memcpy(&h, buf + at, sizeof(h));
		at += sizeof(h);
		if (h.flags & KABI_IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
			lost++;
			continue;
		}
		CHECK((size_t)n - at >= sizeof(e));
		memcpy(&e, buf + at, sizeof(e));
		at += sizeof(e);
		if (events++ == 0)
			check_note("vEVENT seq %u: %016llx %016llx %016llx %016llx", h.sequence,
				   (unsigned long long)e.evt[0], (unsigned long long)e.evt[1],
				   (unsigned long long)e.evt[2], (unsigned long long)e.evt[3]);
		CHECK_EQ(e.evt[0] & 0xff, EVT_F_TRANSLATION);
		CHECK_EQ(e.evt[0] >> 32, vsid);
		CHECK(e.evt[2] >= iova && e.evt[2] < iova + COPY_LEN);
	}
	check_note("%u stage-1 fault records on the vEVENTQ (%u lost-events markers)", events,
		   lost);
	CHECK(events > 0);
}

static void test_nesting(void)
{
	struct iommufd_hwpt_alloc_args pa = { 0 };
	struct iommufd_viommu_alloc_args va = { 0 };
	uint32_t got, h_abort, h_bypass, h_s1, veq;
	int veq_fd;
	uint64_t unmapped;
	struct rig r = { 0 };
	uint16_t cmd;
	uint32_t sid;

	require_edu();
	CHECK(vendor != NULL);
	sid = stream_id(edu.bdf);
	CHECK(sid != UINT32_MAX);
	session_open(&r.s);

	r.memfd = memfd_create("smmuv3-nesting", MFD_CLOEXEC);
	CHECK(r.memfd >= 0);
	CHECK(ftruncate(r.memfd, MEMFD_SIZE) == 0);
	r.mem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, r.memfd, 0);
	CHECK(r.mem != MAP_FAILED);
	memset(r.mem, 0, MEMFD_SIZE);

	/* Stage 2: the IOAS. */
	CHECK_OK(iommufd_ioas_alloc(r.s.iommufd, &r.ioas));
	map_fixed(&r, 0, 4 * PAGE, IPA_TABLES);
	map_fixed(&r, 0x10000, 0x8000, IPA_DATA);
	map_fixed(&r, OFF_DECOY_SRC, PAGE, S1_SRC);
	map_fixed(&r, OFF_DECOY_DST, PAGE, S1_DST);

	pa.dev_id = r.s.dev_id;
	pa.pt_id = r.ioas;
	pa.flags = KABI_IOMMU_HWPT_ALLOC_NEST_PARENT;
	CHECK_OK(iommufd_hwpt_alloc(r.s.iommufd, &pa, &r.parent));
	CHECK_OK(vfio_device_attach_pt(r.s.devfd, r.parent, &got));
	CHECK_EQ(got, r.parent);
	check_note("IOAS %u, nesting parent HWPT %u attached", r.ioas, r.parent);

	CHECK_OK(vfio_device_config_read(r.s.devfd, PCI_COMMAND, &cmd, sizeof(cmd)));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	CHECK_OK(vfio_device_config_write(r.s.devfd, PCI_COMMAND, &cmd, sizeof(cmd)));
	CHECK_OK(vfio_device_map_bar(r.s.devfd, 0, &r.bar_map, &r.bar_len));
	r.bar = r.bar_map;
	CHECK_EQ(*(volatile uint32_t *)(r.bar + EDU_ID), 0x010000ed);

	/* Stage 2 alone. */
	CHECK(dma_round(&r, IPA(OFF_S2_SRC), IPA(OFF_S2_DST), OFF_S2_SRC, OFF_S2_DST, 1));
	check_note("parent (stage 2): DMA 0x%llx -> 0x%llx landed at memfd 0x%llx",
		   IPA(OFF_S2_SRC), IPA(OFF_S2_DST), OFF_S2_DST);

	va.type = vendor->viommu.type;
	va.dev_id = r.s.dev_id;
	va.hwpt_id = r.parent;
	CHECK_OK(iommufd_viommu_alloc(r.s.iommufd, &va, &r.viommu));
	CHECK_OK(iommufd_vdevice_alloc(r.s.iommufd, r.viommu, r.s.dev_id, sid, &r.vdev));
	check_note("vIOMMU %u (type %u), vDEVICE %u (virtual ID 0x%x)", r.viommu, va.type,
		   r.vdev, sid);

	/* Abort vSTE: nothing moves. */
	nested_alloc(&r, STE0_V | STE0_CFG_ABORT, &h_abort);
	CHECK_OK(vfio_device_attach_pt(r.s.devfd, h_abort, &got));
	CHECK(!dma_round(&r, IPA(OFF_S2_SRC), IPA(OFF_S2_DST), OFF_S2_SRC, OFF_S2_DST, 2));
	CHECK(!dma_round(&r, S1_SRC, S1_DST, OFF_S1_SRC, OFF_S1_DST, 3));
	check_note("abort vSTE: HWPT %u, DMA blocked", h_abort);

	/* Bypass vSTE: stage 2 alone again. */
	nested_alloc(&r, STE0_V | STE0_CFG_BYPASS, &h_bypass);
	CHECK_OK(vfio_device_attach_pt(r.s.devfd, h_bypass, &got));
	CHECK(dma_round(&r, IPA(OFF_S2_SRC), IPA(OFF_S2_DST), OFF_S2_SRC, OFF_S2_DST, 4));
	/* Without stage 1, the stage-1 IOVAs are IPAs: the decoy pages. */
	CHECK(dma_round(&r, S1_SRC, S1_DST, OFF_DECOY_SRC, OFF_DECOY_DST, 5));
	check_note("bypass vSTE: HWPT %u, DMA through stage 2 alone", h_bypass);

	/* Stage-1 vSTE: the CD and tables at IPAs in the IOAS. */
	build_stage1(&r);
	nested_alloc(&r, STE0_V | STE0_CFG_S1 | (IPA(OFF_CD) & STE0_S1CTXPTR_MASK), &h_s1);
	CHECK_OK(vfio_device_attach_pt(r.s.devfd, h_s1, &got));
	CHECK_EQ(got, h_s1);
	CHECK(dma_round(&r, S1_SRC, S1_DST, OFF_S1_SRC, OFF_S1_DST, 6));
	check_note("stage-1 vSTE: HWPT %u, DMA 0x%llx -> 0x%llx (S1) -> IPA 0x%llx (S2) -> "
		   "memfd 0x%llx",
		   h_s1, S1_SRC, S1_DST, IPA(OFF_S1_DST), OFF_S1_DST);
	/* Remap the destination in stage 1, invalidate through the vIOMMU. */
	struct kabi_iommu_viommu_arm_smmuv3_invalidate inv[2] = {
		{ .cmd = { CMD_TLBI_NH_VA | CMD_TLBI_ASID(1), S1_DST | CMD_TLBI_LEAF } },
		{ .cmd = { CMD_CFGI_CD | CMD_CFGI_SID(sid), CMD_CFGI_LEAF } },
	};
	uint32_t count = 2;

	CHECK_EQ(vendor->invalidate.data_len, sizeof(inv[0]));
	u64_at(&r, OFF_L3)[(S1_DST >> 12) & 0x1ff] =
		IPA(OFF_S1_DST2) | DESC_PAGE | DESC_AF | DESC_SH_IS | DESC_AP_RW_ANY;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* Not asserted: whether the SMMU still uses its cached entry. */
	if (dma_round(&r, S1_SRC, S1_DST, OFF_S1_SRC, OFF_S1_DST, 10))
		check_note("before the invalidation the DMA still lands at memfd 0x15000 (cached)");
	else
		check_note("before the invalidation the DMA does not land at memfd 0x15000");
	CHECK_OK(iommufd_hwpt_invalidate(r.s.iommufd, r.viommu, vendor->invalidate.type, inv,
					 sizeof(inv[0]), &count));
	CHECK_EQ(count, 2);
	CHECK(dma_round(&r, S1_SRC, S1_DST, OFF_S1_SRC, OFF_S1_DST2, 9));
	check_note("after TLBI_NH_VA + CFGI_CD: DMA to 0x%llx lands at memfd 0x%llx", S1_DST,
		   OFF_S1_DST2);
	/* A batch stops at an invalid command: the ones before it are done. */
	inv[1].cmd[0] = CMD_BAD;
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
	CHECK(!dma_round(&r, S1_SRC, S1_DST + 0x10000, OFF_S1_SRC, OFF_S1_DST2, 7));
	check_veventq(veq_fd, sid, S1_DST + 0x10000);
	CHECK(close(veq_fd) == 0);
	CHECK_OK(iommufd_destroy(r.s.iommufd, veq));

	/* Back to the parent; everything goes in the kernel's order. */
	CHECK_OK(vfio_device_attach_pt(r.s.devfd, r.parent, &got));
	CHECK(dma_round(&r, IPA(OFF_S2_SRC), IPA(OFF_S2_DST), OFF_S2_SRC, OFF_S2_DST, 8));
	CHECK_OK(iommufd_destroy(r.s.iommufd, h_s1));
	CHECK_OK(iommufd_destroy(r.s.iommufd, h_bypass));
	CHECK_OK(iommufd_destroy(r.s.iommufd, h_abort));
	CHECK_OK(iommufd_destroy(r.s.iommufd, r.vdev));
	CHECK_OK(iommufd_destroy(r.s.iommufd, r.viommu));
	CHECK_OK(vfio_device_unmap_bar(r.bar_map, r.bar_len));
	CHECK_OK(vfio_device_detach_pt(r.s.devfd));
	CHECK_OK(iommufd_destroy(r.s.iommufd, r.parent));
	CHECK_OK(iommufd_ioas_unmap(r.s.iommufd, r.ioas, 0, UINT64_MAX, &unmapped));
	CHECK_EQ(unmapped, 4 * PAGE + 0x8000 + 2 * PAGE);
	CHECK_OK(iommufd_destroy(r.s.iommufd, r.ioas));
	CHECK(munmap(r.mem, MEMFD_SIZE) == 0);
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
