/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VFIO cdev wrappers and pci-sysfs against the real kernel, on QEMU's edu
 * device behind the emulated VT-d (guest-run --flavour vtd). Runs as root in
 * the test guest. The edu DMA engine proves that an IOAS mapping is live and
 * that after IOAS_UNMAP it is gone. The device goes back to no driver at the
 * end and no fd is left open.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "iommufd.h"
#include "selftest.h"
#include "pci-sysfs.h"
#include "vendor.h"
#include "vfio.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_BAR0_SIZE (1u << 20)

/* edu's BAR0 registers (QEMU hw/misc/edu.c) */
#define EDU_ID 0x00	    /* 0x010000ed: version 1.0 */
#define EDU_LIVENESS 0x04   /* reads back the inverse of what was written */
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1
#define EDU_DMA_TO_RAM 0x2  /* direction bit: 0 RAM -> edu buffer, 1 edu buffer -> RAM */
#define EDU_DMA_BUF 0x40000 /* the edu's 4 KiB buffer in its DMA address space */

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4

#define MEMFD_SIZE 0x10000ul
#define IOVA_SRC 0x100000ull /* memfd [0, 0x1000) */
#define IOVA_DST 0x101000ull /* memfd [0x1000, 0x10000) */
#define COPY_LEN 256

static struct pci_sysfs_device edu;
static struct pci_iommu_regs sysfs_regs; /* read before binding */
static struct pci_driver_binding saved;
static bool bound;
static int fds_at_start;
static bool bar_mapped; /* a mapping of BAR0 holds the device open too */

/* One open of the edu cdev, bound to its own iommufd when asked. */
struct session {
	int iommufd;
	int devfd;
	uint32_t dev_id;
};

static void session_open(struct session *s, bool bind)
{
	s->iommufd = iommufd_open();
	CHECK(s->iommufd >= 0);
	CHECK_OK(vfio_device_open_by_bdf(NULL, edu.bdf, &s->devfd));
	s->dev_id = 0;
	if (bind) {
		CHECK_OK(vfio_device_bind_iommufd(s->devfd, s->iommufd, NULL, &s->dev_id));
		CHECK(s->dev_id != 0);
	}
}

static void session_close(struct session *s)
{
	CHECK(close(s->devfd) == 0);
	CHECK(close(s->iommufd) == 0);
}

static void require_edu(void)
{
	if (!bound)
		check_fail(__FILE__, __LINE__, "the edu device is not bound to vfio-pci");
}

static void test_discover_and_bind(void)
{
	struct pci_assignability a;
	struct pci_iommu_regs regs;
	char (*members)[PCI_NAME_MAX];
	size_t count;

	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu));
	check_note("edu at %s, driver '%s', IOMMU group %d", edu.bdf, edu.driver,
		   edu.iommu_group);
	CHECK_EQ(edu.class >> 8, 0x00ff);
	CHECK(edu.iommu_group != PCI_NO_GROUP);
	CHECK_STREQ(edu.driver, "");

	CHECK_OK(pci_sysfs_group_members(NULL, edu.iommu_group, &members, &count));
	CHECK_EQ(count, 1);
	CHECK_STREQ(members[0], edu.bdf);
	free(members);

	CHECK_OK(pci_sysfs_assignable(NULL, edu.bdf, &a));
	check_note("assignable %d, MSI isolation %d, reason '%s'", a.assignable,
		   a.msi_isolation, a.reason);
	CHECK(a.assignable);
	CHECK_EQ(a.msi_isolation, PCI_MSI_ISOLATION_YES); /* intremap=on */

	/* Registers from sysfs before binding, as the VT-d of QEMU 7.2 has them. */
	CHECK_OK(pci_sysfs_iommu_regs(NULL, edu.bdf, &regs));
	check_note("IOMMU %s: cap 0x%016llx ecap 0x%llx", regs.iommu,
		   (unsigned long long)regs.data.vtd.cap_reg,
		   (unsigned long long)regs.data.vtd.ecap_reg);
	CHECK_EQ(regs.type, KABI_IOMMU_HW_INFO_TYPE_INTEL_VTD);
	CHECK(regs.data.vtd.cap_reg != 0);
	CHECK(regs.data.vtd.ecap_reg != 0);
	sysfs_regs = regs;

	CHECK_OK(pci_sysfs_bind_vfio(NULL, edu.bdf, &saved));
	bound = true;
	CHECK_STREQ(saved.driver, "");
	CHECK_OK(pci_sysfs_device_get(NULL, edu.bdf, &edu));
	CHECK_STREQ(edu.driver, "vfio-pci");
	CHECK(strncmp(edu.vfio_cdev, "vfio", 4) == 0);
	check_note("cdev /dev/vfio/devices/%s", edu.vfio_cdev);
}

static void test_bad_bind(void)
{
	struct session s;
	struct vfio_dev_info info;
	uint8_t token[16] = { 1 };
	uint32_t id = 0xdead;
	int efd;

	require_edu();
	session_open(&s, false);
	efd = eventfd(0, EFD_CLOEXEC);
	CHECK(efd >= 0);

	/* Nothing but BIND works before the bind. */
	CHECK_RET(vfio_device_get_info(s.devfd, &info), -EINVAL);

	CHECK_RET(vfio_device_bind_iommufd(s.devfd, -1, NULL, &id), -EINVAL);
	CHECK_RET(vfio_device_bind_iommufd(s.devfd, 1000, NULL, &id), -EBADF);
	CHECK_RET(vfio_device_bind_iommufd(s.devfd, efd, NULL, &id), -EBADFD);
	/* edu is neither a PF nor a VF: a VF token is refused */
	CHECK_RET(vfio_device_bind_iommufd(s.devfd, s.iommufd, token, &id), -EINVAL);
	CHECK_EQ(id, 0xdead);

	CHECK_OK(vfio_device_bind_iommufd(s.devfd, s.iommufd, NULL, &id));
	CHECK_RET(vfio_device_bind_iommufd(s.devfd, s.iommufd, NULL, &id), -EINVAL);

	CHECK(close(efd) == 0);
	session_close(&s);
}

static void test_info(void)
{
	struct vfio_dev_region reg;
	struct vfio_dev_info info;
	struct vfio_dev_irq irq;
	struct session s;
	uint32_t ioas, pt = 0xdead;

	require_edu();
	session_open(&s, true);

	CHECK_OK(vfio_device_get_info(s.devfd, &info));
	check_note("flags 0x%x, %u regions, %u irqs", info.flags, info.num_regions,
		   info.num_irqs);
	CHECK(info.flags & KABI_VFIO_DEVICE_FLAGS_PCI);
	CHECK(info.num_regions >= KABI_VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(info.num_irqs, KABI_VFIO_PCI_NUM_IRQS);

	CHECK_OK(vfio_device_get_region_info(s.devfd, KABI_VFIO_PCI_BAR0_REGION_INDEX, &reg));
	CHECK_EQ(reg.size, EDU_BAR0_SIZE);
	CHECK(reg.flags & KABI_VFIO_REGION_INFO_FLAG_MMAP);
	CHECK(reg.flags & KABI_VFIO_REGION_INFO_FLAG_READ);
	CHECK(reg.flags & KABI_VFIO_REGION_INFO_FLAG_WRITE);
	CHECK_OK(vfio_device_get_region_info(s.devfd, KABI_VFIO_PCI_BAR1_REGION_INDEX, &reg));
	CHECK_EQ(reg.size, 0); /* edu has BAR0 only */
	CHECK_OK(vfio_device_get_region_info(s.devfd, KABI_VFIO_PCI_CONFIG_REGION_INDEX, &reg));
	CHECK(reg.size >= 256);
	CHECK(reg.flags & KABI_VFIO_REGION_INFO_FLAG_READ);
	CHECK_RET(vfio_device_get_region_info(s.devfd, 100, &reg), -EINVAL);

	CHECK_OK(vfio_device_get_irq_info(s.devfd, KABI_VFIO_PCI_REQ_IRQ_INDEX, &irq));
	CHECK_EQ(irq.count, 1);
	CHECK(irq.flags & KABI_VFIO_IRQ_INFO_EVENTFD);
	CHECK_OK(vfio_device_get_irq_info(s.devfd, KABI_VFIO_PCI_INTX_IRQ_INDEX, &irq));
	CHECK_EQ(irq.count, 1);
	CHECK_RET(vfio_device_get_irq_info(s.devfd, KABI_VFIO_PCI_NUM_IRQS, &irq), -EINVAL);

	uint16_t vendor = 0, device = 0;

	CHECK_OK(vfio_device_config_read(s.devfd, 0, &vendor, 2));
	CHECK_OK(vfio_device_config_read(s.devfd, 2, &device, 2));
	CHECK_EQ(vendor, EDU_VENDOR);
	CHECK_EQ(device, EDU_DEVICE);
	CHECK_RET(vfio_device_config_read(s.devfd, reg.size, &vendor, 2), -EINVAL);

	/* IOMMU_GET_HW_INFO agrees with what sysfs said before the bind. */
	struct kabi_iommu_hw_info_vtd vtd;
	struct iommufd_hw_info hw;

	CHECK_OK(iommufd_get_hw_info(s.iommufd, s.dev_id, 0, &vtd, sizeof(vtd), &hw));
	check_note("hw_info type %u len %u flags 0x%x cap 0x%016llx ecap 0x%llx", hw.type,
		   hw.data_len, vtd.flags, (unsigned long long)vtd.cap_reg,
		   (unsigned long long)vtd.ecap_reg);
	CHECK_EQ(hw.type, KABI_IOMMU_HW_INFO_TYPE_INTEL_VTD);
	CHECK_EQ(hw.data_len, sizeof(vtd));
	CHECK_EQ(vtd.cap_reg, sysfs_regs.data.vtd.cap_reg);
	CHECK_EQ(vtd.ecap_reg, sysfs_regs.data.vtd.ecap_reg);

	/* The decoded "nesting" cap predicts the kernel: QEMU's VT-d is not in
	 * scalable mode, so the driver refuses a nesting parent. */
	struct iommufd_hwpt_alloc_args parent = {
		.dev_id = s.dev_id,
		.flags = KABI_IOMMU_HWPT_ALLOC_NEST_PARENT,
	};
	struct viommu_caps caps;
	uint64_t nesting = 1;
	uint32_t hwpt;

	CHECK_OK(viommu_vendor_decode(viommu_vendor_by_hw_info_type(hw.type), &vtd, sizeof(vtd),
				      &caps));
	CHECK_OK(viommu_caps_get(&caps, "nesting", &nesting));
	CHECK_EQ(nesting, 0);
	CHECK_OK(iommufd_ioas_alloc(s.iommufd, &ioas));
	parent.pt_id = ioas;
	CHECK_RET(iommufd_hwpt_alloc(s.iommufd, &parent, &hwpt), -EOPNOTSUPP);

	/* Attaching to an ID that does not exist. */
	CHECK_RET(vfio_device_attach_pt(s.devfd, ioas + 100, &pt), -ENOENT);
	CHECK_EQ(pt, 0xdead);
	CHECK_OK(iommufd_destroy(s.iommufd, ioas));

	session_close(&s);
}

static void test_irq_eventfds(void)
{
	struct vfio_dev_irq err;
	struct session s;
	uint64_t n = 0;
	int req, efd;

	require_edu();
	session_open(&s, true);
	req = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK(req >= 0 && efd >= 0);

	CHECK_OK(vfio_device_set_irq_eventfd(s.devfd, KABI_VFIO_PCI_REQ_IRQ_INDEX, req));
	/* The kernel's loopback proves the eventfd is the one it signals. */
	CHECK_OK(vfio_device_trigger_irq(s.devfd, KABI_VFIO_PCI_REQ_IRQ_INDEX));
	CHECK(read(req, &n, sizeof(n)) == sizeof(n));
	CHECK_EQ(n, 1);
	CHECK_OK(vfio_device_set_irq_eventfd(s.devfd, KABI_VFIO_PCI_REQ_IRQ_INDEX, -1));
	CHECK_RET(vfio_device_trigger_irq(s.devfd, KABI_VFIO_PCI_REQ_IRQ_INDEX), -EINVAL);

	/* ERR (AER) exists for PCIe devices only; edu is conventional PCI. */
	CHECK_OK(vfio_device_get_irq_info(s.devfd, KABI_VFIO_PCI_ERR_IRQ_INDEX, &err));
	check_note("ERR irq count %u", err.count);
	if (err.count) {
		CHECK_OK(vfio_device_set_irq_eventfd(s.devfd, KABI_VFIO_PCI_ERR_IRQ_INDEX, efd));
		CHECK_OK(vfio_device_set_irq_eventfd(s.devfd, KABI_VFIO_PCI_ERR_IRQ_INDEX, -1));
	} else {
		CHECK_RET(vfio_device_set_irq_eventfd(s.devfd, KABI_VFIO_PCI_ERR_IRQ_INDEX, efd),
			  -EINVAL);
	}
	/* Leave REQ registered: closing the device must release it. */
	CHECK_OK(vfio_device_set_irq_eventfd(s.devfd, KABI_VFIO_PCI_REQ_IRQ_INDEX, req));

	CHECK(close(req) == 0);
	CHECK(close(efd) == 0);
	session_close(&s);
}

static void reg_write(volatile uint8_t *bar, unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(bar + off) = v;
}

static uint64_t reg_read(volatile uint8_t *bar, unsigned int off)
{
	return *(volatile uint64_t *)(bar + off);
}

/* One DMA of the edu; waits (bounded) for the engine to finish. */
static void edu_dma(volatile uint8_t *bar, uint64_t src, uint64_t dst, uint64_t len,
		    bool to_ram)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	reg_write(bar, EDU_DMA_SRC, src);
	reg_write(bar, EDU_DMA_DST, dst);
	reg_write(bar, EDU_DMA_COUNT, len);
	reg_write(bar, EDU_DMA_CMD, EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
	for (i = 0; i < 5000 && (reg_read(bar, EDU_DMA_CMD) & EDU_DMA_RUN); i++)
		nanosleep(&ms, NULL);
	CHECK(i < 5000);
}

/* RAM (IOVA_SRC) -> edu buffer -> RAM (IOVA_DST). */
static void edu_copy(volatile uint8_t *bar)
{
	edu_dma(bar, IOVA_SRC, EDU_DMA_BUF, COPY_LEN, false);
	edu_dma(bar, EDU_DMA_BUF, IOVA_DST, COPY_LEN, true);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static bool iova_in(const struct iommufd_iova_range *r, uint32_t n, uint64_t first,
		    uint64_t last)
{
	for (uint32_t i = 0; i < n; i++)
		if (r[i].start <= first && last <= r[i].last)
			return true;
	return false;
}

static void map_part(struct session *s, uint32_t ioas, int memfd, uint64_t start,
		     uint64_t len, uint64_t iova)
{
	uint64_t got = iova;

	CHECK_OK(iommufd_ioas_map_file(s->iommufd, ioas,
				       KABI_IOMMU_IOAS_MAP_FIXED_IOVA |
					       KABI_IOMMU_IOAS_MAP_READABLE |
					       KABI_IOMMU_IOAS_MAP_WRITEABLE,
				       memfd, start, len, &got));
	CHECK_EQ(got, iova);
}

static void test_dma(void)
{
	struct iommufd_iova_range ranges[16];
	uint32_t ioas, hwpt = 0, nranges = 16;
	uint64_t align, unmapped = 0;
	volatile uint8_t *bar;
	size_t bar_len;
	struct session s;
	uint16_t cmd;
	uint8_t *mem;
	void *p;
	int memfd;

	require_edu();
	session_open(&s, true);

	CHECK_OK(iommufd_ioas_alloc(s.iommufd, &ioas));
	CHECK_OK(vfio_device_attach_pt(s.devfd, ioas, &hwpt));
	check_note("IOAS %u, auto HWPT %u", ioas, hwpt);
	CHECK(hwpt != 0 && hwpt != ioas);

	CHECK_OK(iommufd_ioas_iova_ranges(s.iommufd, ioas, ranges, &nranges, &align));
	for (uint32_t i = 0; i < nranges; i++)
		check_note("IOVA range 0x%llx-0x%llx", (unsigned long long)ranges[i].start,
			   (unsigned long long)ranges[i].last);
	CHECK(iova_in(ranges, nranges, IOVA_SRC, IOVA_SRC + MEMFD_SIZE - 1));

	memfd = memfd_create("edu-dma", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	CHECK(ftruncate(memfd, MEMFD_SIZE) == 0);
	mem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(mem != MAP_FAILED);
	for (unsigned int i = 0; i < COPY_LEN; i++)
		mem[i] = (uint8_t)(i * 7 + 3);
	map_part(&s, ioas, memfd, 0, 0x1000, IOVA_SRC);
	map_part(&s, ioas, memfd, 0x1000, MEMFD_SIZE - 0x1000, IOVA_DST);
	/* A real device's domain pins every mapped page once. */
	CHECK_OK(mock_check_refs(s.iommufd, mem, MEMFD_SIZE, 1));

	/* Memory decoding for BAR0 and bus mastering for the DMA. */
	CHECK_OK(vfio_device_config_read(s.devfd, PCI_COMMAND, &cmd, sizeof(cmd)));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	CHECK_OK(vfio_device_config_write(s.devfd, PCI_COMMAND, &cmd, sizeof(cmd)));
	CHECK_OK(vfio_device_map_bar(s.devfd, 0, &p, &bar_len));
	bar = p;
	bar_mapped = true;
	CHECK_EQ(bar_len, EDU_BAR0_SIZE);
	CHECK_EQ(*(volatile uint32_t *)(bar + EDU_ID), 0x010000ed);
	*(volatile uint32_t *)(bar + EDU_LIVENESS) = 0x12345678;
	CHECK_EQ(*(volatile uint32_t *)(bar + EDU_LIVENESS), 0xedcba987);

	/* Mapped: the bytes land in the memfd. */
	edu_copy(bar);
	CHECK(memcmp(mem + 0x1000, mem, COPY_LEN) == 0);

	/* Destination unmapped: the copy out of the edu faults, nothing lands. */
	memset(mem + 0x1000, 0, COPY_LEN);
	for (unsigned int i = 0; i < COPY_LEN; i++)
		mem[i] = (uint8_t)(0xff - i);
	CHECK_OK(iommufd_ioas_unmap(s.iommufd, ioas, IOVA_DST, MEMFD_SIZE - 0x1000, &unmapped));
	CHECK_EQ(unmapped, MEMFD_SIZE - 0x1000);
	CHECK_OK(mock_check_refs(s.iommufd, mem + 0x1000, MEMFD_SIZE - 0x1000, 0));
	CHECK_OK(mock_check_refs(s.iommufd, mem, 0x1000, 1));
	edu_copy(bar);
	CHECK(all_zero(mem + 0x1000, COPY_LEN));

	/* Mapped again: the device still works, so the unmap was the cause. */
	map_part(&s, ioas, memfd, 0x1000, MEMFD_SIZE - 0x1000, IOVA_DST);
	edu_copy(bar);
	CHECK(memcmp(mem + 0x1000, mem, COPY_LEN) == 0);

	CHECK_OK(iommufd_ioas_unmap(s.iommufd, ioas, IOVA_SRC, 0x1000, &unmapped));
	CHECK_EQ(unmapped, 0x1000);
	CHECK_OK(iommufd_ioas_unmap(s.iommufd, ioas, IOVA_DST, MEMFD_SIZE - 0x1000, &unmapped));
	CHECK_EQ(unmapped, MEMFD_SIZE - 0x1000);
	CHECK_OK(mock_check_refs(s.iommufd, mem, MEMFD_SIZE, 0));
	CHECK_OK(vfio_device_unmap_bar(p, bar_len));
	bar_mapped = false;
	CHECK(munmap(mem, MEMFD_SIZE) == 0);
	CHECK(close(memfd) == 0);

	/* Detach frees the auto HWPT; destroying the IOAS then works once. */
	CHECK_OK(vfio_device_detach_pt(s.devfd));
	CHECK_RET(iommufd_destroy(s.iommufd, hwpt), -ENOENT);
	CHECK(close(s.devfd) == 0);
	CHECK_OK(iommufd_destroy(s.iommufd, ioas));
	CHECK_RET(iommufd_destroy(s.iommufd, ioas), -ENOENT);
	CHECK_RET(iommufd_destroy(s.iommufd, s.dev_id), -ENOENT);
	CHECK(close(s.iommufd) == 0);
}

static void test_restore(void)
{
	struct pci_sysfs_device d;
	char name[PCI_NAME_MAX];
	int fd = -1;

	require_edu();
	/* Every fd and mapping of the device gone first, or unbinding waits
	 * for ever (a failed case leaves them: then the device stays bound). */
	CHECK_EQ(check_count_fds(), fds_at_start);
	CHECK(!bar_mapped);
	CHECK_OK(pci_sysfs_restore_driver(NULL, &saved));
	bound = false;
	CHECK_OK(pci_sysfs_device_get(NULL, edu.bdf, &d));
	CHECK_STREQ(d.driver, "");
	CHECK_STREQ(d.vfio_cdev, "");
	CHECK_RET(pci_sysfs_vfio_cdev(NULL, edu.bdf, name, sizeof(name)), -ENODEV);
	CHECK_RET(vfio_device_open_by_bdf(NULL, edu.bdf, &fd), -ENODEV);
	CHECK_RET(vfio_device_open_by_bdf(NULL, "0000:00:1f.7", &fd), -ENOENT);
	CHECK_RET(vfio_device_open_by_bdf(NULL, "edu", &fd), -EINVAL);
	CHECK_EQ(fd, -1);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_discover_and_bind),
		CHECK_CASE(test_bad_bind),
		CHECK_CASE(test_info),
		CHECK_CASE(test_irq_eventfds),
		CHECK_CASE(test_dma),
		CHECK_CASE(test_restore),
	};

	fds_at_start = check_count_fds();
	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
