/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pci-sysfs over a fake sysfs tree in a temporary directory: enumeration,
 * IOMMU groups, assignability, IOMMU registers, binding to vfio-pci (a thread
 * plays the kernel's part) and bad input.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "pci-sysfs.h"
#include "vfio.h"

static char root[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void tree_remove(void)
{
	if (root[0])
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	root[0] = '\0';
}

__attribute__((format(printf, 1, 2))) static const char *P(const char *fmt, ...)
{
	static char bufs[4][PATH_MAX];
	static int next;
	char *buf = bufs[next++ % 4], rel[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(buf, PATH_MAX, "%s/%s", root, rel);
	return buf;
}

static void mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
	mkdir(tmp, 0755);
}

static void put(const char *path, const char *text)
{
	char dir[PATH_MAX];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	f = fopen(path, "w");
	CHECK(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return buf;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void link_to(const char *target, const char *path)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	unlink(path);
	CHECK(symlink(target, path) == 0);
}

static void add_driver(const char *name)
{
	put(P("bus/pci/drivers/%s/bind", name), "");
	put(P("bus/pci/drivers/%s/unbind", name), "");
}

/* A PCI device; driver "" for none, group -1 for none, iommu NULL for none. */
static void add_dev(const char *bdf, const char *vendor, const char *device, const char *class,
		    const char *driver, int group, const char *iommu)
{
	const char *dir = P("devices/pci0000:00/%s", bdf);
	char d[PATH_MAX];

	snprintf(d, sizeof(d), "%s", dir);
	put(P("devices/pci0000:00/%s/vendor", bdf), vendor);
	put(P("devices/pci0000:00/%s/device", bdf), device);
	put(P("devices/pci0000:00/%s/class", bdf), class);
	put(P("devices/pci0000:00/%s/driver_override", bdf), "(null)\n");
	link_to(d, P("bus/pci/devices/%s", bdf));
	if (driver[0])
		link_to(P("bus/pci/drivers/%s", driver), P("devices/pci0000:00/%s/driver", bdf));
	if (group >= 0) {
		link_to(P("kernel/iommu_groups/%d", group),
			P("devices/pci0000:00/%s/iommu_group", bdf));
		link_to(d, P("kernel/iommu_groups/%d/devices/%s", group, bdf));
	}
	if (iommu)
		link_to(P("devices/virtual/iommu/%s", iommu), P("devices/pci0000:00/%s/iommu", bdf));
}

static void set_chips(const char *ioapic, const char *msi)
{
	char rm[PATH_MAX + 16];

	snprintf(rm, sizeof(rm), "rm -rf '%s'", P("kernel/irq"));
	CHECK(system(rm) == 0);
	if (ioapic)
		put(P("kernel/irq/9/chip_name"), ioapic);
	if (msi)
		put(P("kernel/irq/24/chip_name"), msi);
	mkdir_p(P("kernel/irq/25")); /* an irq without a chip */
}

/* Modelled on what QEMU's q35 guests show, plus the cases to reject. */
static void tree_build(void)
{
	add_driver("vfio-pci");
	add_driver("e1000e");
	add_driver("pcieport");
	add_driver("pci-stub");
	add_driver("mlx5_vfio_pci");
	put(P("bus/pci/drivers_probe"), "");
	mkdir_p(P("kernel/iommu_groups"));

	add_dev("0000:00:00.0", "0x8086\n", "0x29c0\n", "0x060000\n", "", 0, "dmar0");
	add_dev("0000:00:05.0", "0x1234\n", "0x11e8\n", "0x00ff00\n", "", 1, "dmar0");
	add_dev("0000:00:06.0", "0x8086\n", "0x10d3\n", "0x020000\n", "", 2, "dmar0");
	add_dev("0000:00:06.1", "0x8086\n", "0x10d3\n", "0x020000\n", "e1000e", 2, "dmar0");
	add_dev("0000:00:07.0", "0x1af4\n", "0x1000\n", "0x020000\n", "", -1, NULL);
	add_dev("0000:00:08.0", "0x15b3\n", "0x101d\n", "0x020000\n", "vfio-pci", 4, "dmar0");
	add_dev("0000:00:08.1", "0x15b3\n", "0x101d\n", "0x020000\n", "pci-stub", 4, "dmar0");
	add_dev("0000:00:08.2", "0x15b3\n", "0x101d\n", "0x020000\n", "mlx5_vfio_pci", 4, "dmar0");
	add_dev("0000:00:1c.0", "0x8086\n", "0x2922\n", "0x060400\n", "pcieport", 4, "dmar0");
	add_dev("0000:00:09.0", "0x1234\n", "0x11e8\n", "0x00ff00\n", "", 6, "ivhd0");
	add_dev("0000:00:0a.0", "0x1234\n", "0x11e8\n", "0x00ff00\n", "", 7, "smmu3.0x0");
	mkdir_p(P("devices/pci0000:00/0000:00:08.0/vfio-dev/vfio999"));
	/* not a PCI address: enumeration skips it */
	mkdir_p(P("bus/pci/devices/pci0000:00"));

	put(P("devices/virtual/iommu/dmar0/intel-iommu/cap"), "d2008c222f0686\n");
	put(P("devices/virtual/iommu/dmar0/intel-iommu/ecap"), "f00f4a\n");
	put(P("devices/virtual/iommu/ivhd0/amd-iommu/features"), "29d3:0\n");
	put(P("devices/virtual/iommu/ivhd0/amd-iommu/cap"), "190b0011\n");
	mkdir_p(P("devices/virtual/iommu/smmu3.0x0"));
	link_to(P("devices/virtual/iommu/dmar0"), P("class/iommu/dmar0"));
	link_to(P("devices/virtual/iommu/ivhd0"), P("class/iommu/ivhd0"));
	link_to(P("devices/virtual/iommu/smmu3.0x0"), P("class/iommu/smmu3.0x0"));

	set_chips("IR-IO-APIC\n", "IR-PCI-MSIX-0000:00:05.0\n");
	put(P("module/iommufd/parameters/allow_unsafe_interrupts"), "N\n");
	put(P("module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"), "N\n");
}

/* The kernel's side of binding, played by a thread on the fake tree. */
static pthread_t kernel_thread;
static atomic_bool kernel_running, kernel_stop;

static void strip(char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
}

static void fake_unbind(const char *driver)
{
	char bdf[64];

	get(P("bus/pci/drivers/%s/unbind", driver), bdf, sizeof(bdf));
	if (!bdf[0])
		return;
	strip(bdf);
	unlink(P("devices/pci0000:00/%s/driver", bdf));
	rmdir(P("devices/pci0000:00/%s/vfio-dev/vfio7", bdf));
	rmdir(P("devices/pci0000:00/%s/vfio-dev", bdf));
	put(P("bus/pci/drivers/%s/unbind", driver), "");
}

/* drivers_probe: driver_override wins, else e1000e takes 8086:10d3. */
static void fake_probe(void)
{
	char bdf[64], override[64], device[16];

	get(P("bus/pci/drivers_probe"), bdf, sizeof(bdf));
	if (!bdf[0])
		return;
	strip(bdf);
	get(P("devices/pci0000:00/%s/driver_override", bdf), override, sizeof(override));
	get(P("devices/pci0000:00/%s/device", bdf), device, sizeof(device));
	strip(override);
	if (strcmp(override, "vfio-pci") == 0) {
		mkdir_p(P("devices/pci0000:00/%s/vfio-dev/vfio7", bdf));
		link_to(P("bus/pci/drivers/vfio-pci"), P("devices/pci0000:00/%s/driver", bdf));
	} else if ((!override[0] || strcmp(override, "(null)") == 0) &&
		   strcmp(device, "0x10d3\n") == 0) {
		link_to(P("bus/pci/drivers/e1000e"), P("devices/pci0000:00/%s/driver", bdf));
	}
	put(P("bus/pci/drivers_probe"), "");
}

static void *kernel_main(void *arg)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < 5000 && !atomic_load(&kernel_stop); i++) {
		fake_unbind("e1000e");
		fake_unbind("vfio-pci");
		fake_probe();
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static void kernel_start(void)
{
	atomic_store(&kernel_stop, false);
	CHECK(pthread_create(&kernel_thread, NULL, kernel_main, NULL) == 0);
	atomic_store(&kernel_running, true);
}

static void kernel_end(void)
{
	if (!atomic_load(&kernel_running))
		return;
	atomic_store(&kernel_stop, true);
	pthread_join(kernel_thread, NULL);
	atomic_store(&kernel_running, false);
}

static void tree_new(void)
{
	const char *tmp = getenv("TMPDIR");

	kernel_end();
	tree_remove();
	snprintf(root, sizeof(root), "%s/test-pci-sysfs.XXXXXX", tmp ? tmp : "/tmp");
	CHECK(mkdtemp(root));
	tree_build();
}

static void test_bdf_valid(void)
{
	CHECK(pci_bdf_valid("0000:00:05.0"));
	CHECK(pci_bdf_valid("0000:ff:1f.7"));
	CHECK(pci_bdf_valid("10000:00:00.0")); /* VMD domains are longer */
	CHECK(pci_bdf_valid("abcd:EF:0a.3"));
	CHECK(!pci_bdf_valid(NULL));
	CHECK(!pci_bdf_valid(""));
	CHECK(!pci_bdf_valid("00:05.0"));
	CHECK(!pci_bdf_valid("0000:00:05"));
	CHECK(!pci_bdf_valid("0000:00:05.8"));
	CHECK(!pci_bdf_valid("0000:00:20.0"));
	CHECK(!pci_bdf_valid("0000:0g:05.0"));
	CHECK(!pci_bdf_valid("0000:00:05.0 "));
	CHECK(!pci_bdf_valid("0000:00:05.0/../../x"));
	CHECK(!pci_bdf_valid("../../../etc:00:05.0"));
	CHECK(!pci_bdf_valid("000:00:05.0"));
}

static void test_device_get(void)
{
	struct pci_sysfs_device d;

	tree_new();
	CHECK_OK(pci_sysfs_device_get(root, "0000:00:05.0", &d));
	CHECK_STREQ(d.bdf, "0000:00:05.0");
	CHECK_EQ(d.vendor, 0x1234);
	CHECK_EQ(d.device, 0x11e8);
	CHECK_EQ(d.class, 0x00ff00);
	CHECK_STREQ(d.driver, "");
	CHECK_EQ(d.iommu_group, 1);
	CHECK_STREQ(d.vfio_cdev, "");

	CHECK_OK(pci_sysfs_device_get(root, "0000:00:08.0", &d));
	CHECK_STREQ(d.driver, "vfio-pci");
	CHECK_EQ(d.iommu_group, 4);
	CHECK_STREQ(d.vfio_cdev, "vfio999");

	CHECK_OK(pci_sysfs_device_get(root, "0000:00:07.0", &d));
	CHECK_EQ(d.iommu_group, PCI_NO_GROUP);

	char name[PCI_NAME_MAX];

	CHECK_OK(pci_sysfs_vfio_cdev(root, "0000:00:08.0", name, sizeof(name)));
	CHECK_STREQ(name, "vfio999");
	CHECK_RET(pci_sysfs_vfio_cdev(root, "0000:00:05.0", name, sizeof(name)), -ENODEV);
}

static void test_list_and_find(void)
{
	struct pci_sysfs_device *devs, d;
	size_t count;

	tree_new();
	CHECK_OK(pci_sysfs_list(root, &devs, &count));
	CHECK_EQ(count, 11);
	CHECK_STREQ(devs[0].bdf, "0000:00:00.0");
	CHECK_STREQ(devs[1].bdf, "0000:00:05.0");
	CHECK_STREQ(devs[10].bdf, "0000:00:1c.0");
	CHECK_EQ(devs[10].class, 0x060400);
	CHECK_STREQ(devs[10].driver, "pcieport");
	free(devs);

	CHECK_OK(pci_sysfs_find(root, 0x1234, 0x11e8, &d));
	CHECK_STREQ(d.bdf, "0000:00:05.0");
	CHECK_RET(pci_sysfs_find(root, 0x1234, 0x0001, &d), -ENOENT);

	char empty[PATH_MAX];

	snprintf(empty, sizeof(empty), "%s/nothing", root);
	CHECK_RET(pci_sysfs_list(empty, &devs, &count), -ENOENT);
}

static void test_group_members(void)
{
	char (*m)[PCI_NAME_MAX];
	size_t count;

	tree_new();
	CHECK_OK(pci_sysfs_group_members(root, 4, &m, &count));
	CHECK_EQ(count, 4);
	CHECK_STREQ(m[0], "0000:00:08.0");
	CHECK_STREQ(m[1], "0000:00:08.1");
	CHECK_STREQ(m[2], "0000:00:08.2");
	CHECK_STREQ(m[3], "0000:00:1c.0");
	free(m);

	CHECK_OK(pci_sysfs_group_members(root, 1, &m, &count));
	CHECK_EQ(count, 1);
	CHECK_STREQ(m[0], "0000:00:05.0");
	free(m);

	CHECK_RET(pci_sysfs_group_members(root, 99, &m, &count), -ENOENT);
	CHECK_RET(pci_sysfs_group_members(root, -1, &m, &count), -EINVAL);
}

static void test_assignable(void)
{
	struct pci_assignability a;

	tree_new();
	CHECK_OK(pci_sysfs_assignable(root, "0000:00:05.0", &a));
	CHECK(a.assignable);
	CHECK_EQ(a.msi_isolation, PCI_MSI_ISOLATION_YES);
	CHECK_STREQ(a.reason, "");

	/* vfio-pci, a vfio variant driver, pci-stub and pcieport share DMA. */
	CHECK_OK(pci_sysfs_assignable(root, "0000:00:08.0", &a));
	CHECK(a.assignable);
	CHECK_OK(pci_sysfs_assignable(root, "0000:00:08.1", &a));
	CHECK(a.assignable);

	CHECK_OK(pci_sysfs_assignable(root, "0000:00:06.0", &a));
	CHECK(!a.assignable);
	check_note("%s", a.reason);
	CHECK(strstr(a.reason, "0000:00:06.1"));
	CHECK(strstr(a.reason, "e1000e"));

	CHECK_OK(pci_sysfs_assignable(root, "0000:00:07.0", &a));
	CHECK(!a.assignable);
	check_note("%s", a.reason);
	CHECK(strstr(a.reason, "no IOMMU group"));

	CHECK_OK(pci_sysfs_assignable(root, "0000:00:1c.0", &a));
	CHECK(!a.assignable);
	CHECK(strstr(a.reason, "bridge"));
}

static void test_msi_isolation(void)
{
	enum pci_msi_isolation iso;
	struct pci_assignability a;

	tree_new();
	CHECK_OK(pci_sysfs_msi_isolation(root, &iso));
	CHECK_EQ(iso, PCI_MSI_ISOLATION_YES);

	/* interrupt remapping off (the AMD-Vi guest without a southbridge IOAPIC) */
	set_chips("IO-APIC\n", "PCI-MSIX-0000:00:05.0\n");
	CHECK_OK(pci_sysfs_msi_isolation(root, &iso));
	CHECK_EQ(iso, PCI_MSI_ISOLATION_NO);
	CHECK_OK(pci_sysfs_assignable(root, "0000:00:05.0", &a));
	CHECK(!a.assignable);
	check_note("%s", a.reason);
	CHECK(strstr(a.reason, "allow_unsafe_interrupts"));

	put(P("module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"), "Y\n");
	CHECK_OK(pci_sysfs_assignable(root, "0000:00:05.0", &a));
	CHECK(!a.assignable);
	CHECK(strstr(a.reason, "does not apply"));

	put(P("module/iommufd/parameters/allow_unsafe_interrupts"), "Y\n");
	CHECK_OK(pci_sysfs_assignable(root, "0000:00:05.0", &a));
	CHECK(a.assignable);
	CHECK(a.unsafe_interrupts_allowed);
	CHECK_EQ(a.msi_isolation, PCI_MSI_ISOLATION_NO);

	/* ARM ITS: no reliable name, so unknown; still assignable, with a note */
	put(P("module/iommufd/parameters/allow_unsafe_interrupts"), "N\n");
	set_chips(NULL, "ITS-PCI-MSIX-0000:00:05.0\n");
	CHECK_OK(pci_sysfs_msi_isolation(root, &iso));
	CHECK_EQ(iso, PCI_MSI_ISOLATION_UNKNOWN);
	CHECK_OK(pci_sysfs_assignable(root, "0000:00:05.0", &a));
	CHECK(a.assignable);
	CHECK(strstr(a.reason, "unknown"));

	set_chips(NULL, NULL);
	CHECK_OK(pci_sysfs_msi_isolation(root, &iso));
	CHECK_EQ(iso, PCI_MSI_ISOLATION_UNKNOWN);
}

static void test_iommu_regs(void)
{
	struct pci_iommu_regs r;

	tree_new();
	CHECK_OK(pci_sysfs_iommu_regs(root, "0000:00:05.0", &r));
	CHECK_STREQ(r.iommu, "dmar0");
	CHECK_EQ(r.type, KABI_IOMMU_HW_INFO_TYPE_INTEL_VTD);
	CHECK_EQ(r.data_len, sizeof(struct kabi_iommu_hw_info_vtd));
	CHECK_EQ(r.data.vtd.flags, 0);
	CHECK_EQ(r.data.vtd.cap_reg, 0x00d2008c222f0686ull);
	CHECK_EQ(r.data.vtd.ecap_reg, 0xf00f4a);

	CHECK_OK(pci_sysfs_iommu_regs(root, "0000:00:09.0", &r));
	CHECK_STREQ(r.iommu, "ivhd0");
	CHECK_EQ(r.type, KABI_IOMMU_HW_INFO_TYPE_AMD);
	CHECK_EQ(r.data_len, 16);
	CHECK_EQ(r.data.amd.efr, 0x29d3);
	CHECK_EQ(r.data.amd.efr2, 0);

	/* what kernels before efr2 print */
	put(P("devices/virtual/iommu/ivhd0/amd-iommu/features"), "800000000029d3\n");
	CHECK_OK(pci_sysfs_iommu_regs(root, "0000:00:09.0", &r));
	CHECK_EQ(r.data.amd.efr, 0x800000000029d3ull);
	CHECK_EQ(r.data.amd.efr2, 0);
	put(P("devices/virtual/iommu/ivhd0/amd-iommu/features"), "246577efa2254afa:10\n");
	CHECK_OK(pci_sysfs_iommu_regs(root, "0000:00:09.0", &r));
	CHECK_EQ(r.data.amd.efr, 0x246577efa2254afaull);
	CHECK_EQ(r.data.amd.efr2, 0x10);
	put(P("devices/virtual/iommu/ivhd0/amd-iommu/features"), "zz\n");
	CHECK_RET(pci_sysfs_iommu_regs(root, "0000:00:09.0", &r), -EINVAL);

	CHECK_RET(pci_sysfs_iommu_regs(root, "0000:00:0a.0", &r), -EOPNOTSUPP);
	CHECK_RET(pci_sysfs_iommu_regs(root, "0000:00:07.0", &r), -ENODEV);
}

static void test_bind_restore(void)
{
	struct pci_driver_binding saved;
	struct pci_sysfs_device d;
	char buf[64];

	tree_new();
	kernel_start();

	/* from no driver, back to none */
	CHECK_OK(pci_sysfs_bind_vfio(root, "0000:00:05.0", &saved));
	CHECK_STREQ(saved.driver, "");
	CHECK_STREQ(saved.driver_override, "");
	CHECK_OK(pci_sysfs_device_get(root, "0000:00:05.0", &d));
	CHECK_STREQ(d.driver, "vfio-pci");
	CHECK_STREQ(d.vfio_cdev, "vfio7");
	CHECK_STREQ(get(P("devices/pci0000:00/0000:00:05.0/driver_override"), buf, sizeof(buf)),
		    "vfio-pci");
	CHECK_OK(pci_sysfs_restore_driver(root, &saved));
	CHECK_OK(pci_sysfs_device_get(root, "0000:00:05.0", &d));
	CHECK_STREQ(d.driver, "");
	CHECK_STREQ(d.vfio_cdev, "");
	CHECK_STREQ(get(P("devices/pci0000:00/0000:00:05.0/driver_override"), buf, sizeof(buf)),
		    "\n");

	/* from a host driver, back to it */
	CHECK_OK(pci_sysfs_bind_vfio(root, "0000:00:06.1", &saved));
	CHECK_STREQ(saved.driver, "e1000e");
	CHECK_OK(pci_sysfs_device_get(root, "0000:00:06.1", &d));
	CHECK_STREQ(d.driver, "vfio-pci");
	CHECK_OK(pci_sysfs_restore_driver(root, &saved));
	CHECK_OK(pci_sysfs_device_get(root, "0000:00:06.1", &d));
	CHECK_STREQ(d.driver, "e1000e");

	/* already on vfio-pci: left alone, both ways */
	CHECK_OK(pci_sysfs_bind_vfio(root, "0000:00:08.0", &saved));
	CHECK_STREQ(saved.driver, "vfio-pci");
	CHECK_OK(pci_sysfs_restore_driver(root, &saved));
	CHECK_OK(pci_sysfs_device_get(root, "0000:00:08.0", &d));
	CHECK_STREQ(d.driver, "vfio-pci");
	kernel_end();
}

static void test_bind_failures(void)
{
	struct pci_driver_binding saved = { .driver = "untouched" };
	char buf[64], from[PATH_MAX], to[PATH_MAX];

	tree_new();
	/* nobody answers the probe: times out, override rolled back */
	CHECK_RET(pci_sysfs_bind_vfio(root, "0000:00:05.0", &saved), -ETIMEDOUT);
	CHECK_STREQ(saved.driver, "untouched");
	CHECK_STREQ(get(P("devices/pci0000:00/0000:00:05.0/driver_override"), buf, sizeof(buf)),
		    "\n");

	snprintf(from, sizeof(from), "%s", P("bus/pci/drivers/vfio-pci"));
	snprintf(to, sizeof(to), "%s", P("bus/pci/drivers/vfio-pci.gone"));
	CHECK(rename(from, to) == 0);
	put(P("devices/pci0000:00/0000:00:05.0/driver_override"), "(null)\n");
	CHECK_RET(pci_sysfs_bind_vfio(root, "0000:00:05.0", &saved), -ENODEV);
	CHECK_STREQ(get(P("devices/pci0000:00/0000:00:05.0/driver_override"), buf, sizeof(buf)),
		    "(null)\n");
}

static void test_bad_input(void)
{
	static const char *const bad[] = { "", "0000:00:05", "00:05.0", "0000:00:05.8",
					   "0000:00:1f.0/..", "../0000:00:05.0" };
	struct pci_sysfs_device d;
	struct pci_assignability a;
	struct pci_iommu_regs r;
	struct pci_driver_binding b;
	char name[PCI_NAME_MAX];
	int fd = -1;

	tree_new();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_RET(pci_sysfs_device_get(root, bad[i], &d), -EINVAL);
		CHECK_RET(pci_sysfs_assignable(root, bad[i], &a), -EINVAL);
		CHECK_RET(pci_sysfs_iommu_regs(root, bad[i], &r), -EINVAL);
		CHECK_RET(pci_sysfs_bind_vfio(root, bad[i], &b), -EINVAL);
		CHECK_RET(pci_sysfs_vfio_cdev(root, bad[i], name, sizeof(name)), -EINVAL);
		CHECK_RET(vfio_device_open_by_bdf(root, bad[i], &fd), -EINVAL);
	}
	CHECK_RET(pci_sysfs_device_get(root, NULL, &d), -EINVAL);

	/* well-formed but absent */
	CHECK_RET(pci_sysfs_device_get(root, "0000:00:1f.7", &d), -ENOENT);
	CHECK_RET(pci_sysfs_assignable(root, "0000:00:1f.7", &a), -ENOENT);
	CHECK_RET(pci_sysfs_iommu_regs(root, "0000:00:1f.7", &r), -ENOENT);
	CHECK_RET(pci_sysfs_bind_vfio(root, "0000:00:1f.7", &b), -ENOENT);
	CHECK_RET(vfio_device_open_by_bdf(root, "0000:00:1f.7", &fd), -ENOENT);
	/* Nothing to restore to: only the address is wrong. */
	b = (struct pci_driver_binding){ .bdf = "0000:00:1f.7" };
	CHECK_RET(pci_sysfs_restore_driver(root, &b), -ENOENT);

	/* present but not on vfio-pci; or its cdev node missing from /dev */
	CHECK_RET(vfio_device_open_by_bdf(root, "0000:00:05.0", &fd), -ENODEV);
	CHECK_RET(vfio_device_open_by_bdf(root, "0000:00:08.0", &fd), -ENODEV);
	CHECK_EQ(fd, -1);
}

static void test_missing_attributes(void)
{
	struct pci_sysfs_device d;

	tree_new();
	CHECK(unlink(P("devices/pci0000:00/0000:00:05.0/vendor")) == 0);
	CHECK_RET(pci_sysfs_device_get(root, "0000:00:05.0", &d), -ENOENT);
	put(P("devices/pci0000:00/0000:00:05.0/vendor"), "vendor?\n");
	CHECK_RET(pci_sysfs_device_get(root, "0000:00:05.0", &d), -EINVAL);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_bdf_valid),	  CHECK_CASE(test_device_get),
		CHECK_CASE(test_list_and_find),	  CHECK_CASE(test_group_members),
		CHECK_CASE(test_assignable),	  CHECK_CASE(test_msi_isolation),
		CHECK_CASE(test_iommu_regs),	  CHECK_CASE(test_bind_restore),
		CHECK_CASE(test_bind_failures),	  CHECK_CASE(test_bad_input),
		CHECK_CASE(test_missing_attributes),
	};
	int fds = check_count_fds(), status;

	status = check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	kernel_end();
	tree_remove();
	if (check_count_fds() != fds) {
		printf("# fds leaked: %d before, %d after\n", fds, check_count_fds());
		status = 1;
	}
	return status;
}
