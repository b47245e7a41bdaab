/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pci-sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VFIO_PCI "vfio-pci"
#define BIND_POLL_MS 10
#define BIND_POLL_TRIES 200 /* about 2 s */

static const char *sysroot(const char *root)
{
	return root ? root : "/sys";
}

__attribute__((format(printf, 3, 4))) static int path_fmt(char *buf, size_t size,
							   const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* Reads a small sysfs attribute, without its trailing newline. */
static int read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int write_text(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC); /* O_TRUNC: sysfs ignores it */
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return (size_t)n == len ? 0 : -EIO;
}

static int parse_hex(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isxdigit((unsigned char)text[0]) &&
	    !(text[0] == '0' && (text[1] == 'x' || text[1] == 'X')))
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 16);
	if (errno || end == text || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The last component of a symlink's target; -ENOENT when there is no link. */
static int link_name(const char *path, char *buf, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

bool pci_bdf_valid(const char *bdf)
{
	size_t dom = 0;
	const char *p = bdf;

	if (!bdf)
		return false;
	while (isxdigit((unsigned char)p[dom]))
		dom++;
	if (dom < 4 || dom > 8 || p[dom] != ':')
		return false;
	p += dom + 1;
	if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || p[2] != ':')
		return false;
	p += 3;
	if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) || p[2] != '.')
		return false;
	if (strtoul((char[3]){ p[0], p[1], '\0' }, NULL, 16) > 0x1f)
		return false;
	p += 3;
	return p[0] >= '0' && p[0] <= '7' && p[1] == '\0';
}

static int device_dir(const char *root, const char *bdf, char *buf, size_t size)
{
	struct stat st;
	int r;

	if (!pci_bdf_valid(bdf))
		return -EINVAL;
	r = path_fmt(buf, size, "%s/bus/pci/devices/%s", sysroot(root), bdf);
	if (r < 0)
		return r;
	if (stat(buf, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOENT;
}

static int read_attr_hex(const char *dir, const char *attr, uint64_t *out)
{
	char path[PATH_MAX], text[64];
	int r;

	r = path_fmt(path, sizeof(path), "%s/%s", dir, attr);
	if (r < 0)
		return r;
	r = read_text(path, text, sizeof(text));
	if (r < 0)
		return r;
	return parse_hex(text, out);
}

/* The driver bound to the device at dir, "" for none. */
static int dir_driver(const char *dir, char *buf, size_t size)
{
	char path[PATH_MAX];
	int r;

	r = path_fmt(path, sizeof(path), "%s/driver", dir);
	if (r < 0)
		return r;
	r = link_name(path, buf, size);
	if (r == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return r;
}

/* The first vfio-dev/vfioN entry, or -ENODEV. */
static int dir_vfio_cdev(const char *dir, char *buf, size_t size)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = -ENODEV;

	if (path_fmt(path, sizeof(path), "%s/vfio-dev", dir) < 0)
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ENODEV : -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4) != 0 || !isdigit((unsigned char)de->d_name[4]))
			continue;
		if (strlen(de->d_name) >= size) {
			r = -ENAMETOOLONG;
			break;
		}
		strcpy(buf, de->d_name);
		r = 0;
		break;
	}
	closedir(d);
	return r;
}

int pci_sysfs_vfio_cdev(const char *root, const char *bdf, char *name, size_t size)
{
	char dir[PATH_MAX];
	int r;

	r = device_dir(root, bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	return dir_vfio_cdev(dir, name, size);
}

int pci_sysfs_device_get(const char *root, const char *bdf, struct pci_sysfs_device *out)
{
	struct pci_sysfs_device d = { .iommu_group = PCI_NO_GROUP };
	char dir[PATH_MAX], path[PATH_MAX], group[32];
	uint64_t v;
	int r;

	r = device_dir(root, bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	strcpy(d.bdf, bdf);

	r = read_attr_hex(dir, "vendor", &v);
	if (r < 0)
		return r;
	d.vendor = (uint16_t)v;
	r = read_attr_hex(dir, "device", &v);
	if (r < 0)
		return r;
	d.device = (uint16_t)v;
	r = read_attr_hex(dir, "class", &v);
	if (r < 0)
		return r;
	d.class = (uint32_t)v;

	r = dir_driver(dir, d.driver, sizeof(d.driver));
	if (r < 0)
		return r;

	r = path_fmt(path, sizeof(path), "%s/iommu_group", dir);
	if (r < 0)
		return r;
	r = link_name(path, group, sizeof(group));
	if (r == 0) {
		char *end;
		long g = strtol(group, &end, 10);

		if (*end || g < 0 || g > INT_MAX)
			return -EINVAL;
		d.iommu_group = (int)g;
	} else if (r != -ENOENT) {
		return r;
	}

	r = dir_vfio_cdev(dir, d.vfio_cdev, sizeof(d.vfio_cdev));
	if (r < 0 && r != -ENODEV)
		return r;

	*out = d;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The entries of a directory (not "." nor ".."), sorted; *out is malloc()ed. */
static int list_dir(const char *path, char (**out)[PCI_NAME_MAX], size_t *out_count)
{
	char (*names)[PCI_NAME_MAX] = NULL;
	size_t count = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= PCI_NAME_MAX)
			continue;
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			void *n = realloc(names, ncap * sizeof(*names));

			if (!n) {
				free(names);
				closedir(d);
				return -ENOMEM;
			}
			names = n;
			cap = ncap;
		}
		strcpy(names[count++], de->d_name);
	}
	closedir(d);
	if (count)
		qsort(names, count, sizeof(*names), cmp_name);
	*out = names;
	*out_count = count;
	return 0;
}

int pci_sysfs_list(const char *root, struct pci_sysfs_device **out, size_t *out_count)
{
	char path[PATH_MAX], (*names)[PCI_NAME_MAX];
	struct pci_sysfs_device *devs;
	size_t count, n = 0;
	int r;

	r = path_fmt(path, sizeof(path), "%s/bus/pci/devices", sysroot(root));
	if (r < 0)
		return r;
	r = list_dir(path, &names, &count);
	if (r < 0)
		return r;
	devs = calloc(count ? count : 1, sizeof(*devs));
	if (!devs) {
		free(names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		if (!pci_bdf_valid(names[i]))
			continue;
		r = pci_sysfs_device_get(root, names[i], &devs[n]);
		if (r == -ENOENT)
			continue; /* removed meanwhile */
		if (r < 0) {
			free(names);
			free(devs);
			return r;
		}
		n++;
	}
	free(names);
	*out = devs;
	*out_count = n;
	return 0;
}

int pci_sysfs_find(const char *root, uint16_t vendor, uint16_t device,
		   struct pci_sysfs_device *out)
{
	struct pci_sysfs_device *devs;
	size_t count;
	int r;

	r = pci_sysfs_list(root, &devs, &count);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < count; i++) {
		if (devs[i].vendor == vendor && devs[i].device == device) {
			*out = devs[i];
			r = 0;
			break;
		}
	}
	free(devs);
	return r;
}

int pci_sysfs_group_members(const char *root, int group, char (**out)[PCI_NAME_MAX],
			    size_t *out_count)
{
	char path[PATH_MAX];
	int r;

	if (group < 0)
		return -EINVAL;
	r = path_fmt(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", sysroot(root),
		     group);
	if (r < 0)
		return r;
	return list_dir(path, out, out_count);
}

/*
 * Drivers that set driver_managed_dma, so VFIO may claim DMA ownership of a
 * group while they hold a member: vfio-pci and its variant drivers
 * (mlx5_vfio_pci, ...), pci-stub and pcieport (see iommu_device_claim_dma_owner
 * and drivers/vfio/pci/vfio_pci_core.c).
 */
static bool driver_leaves_dma(const char *driver)
{
	return !driver[0] || strstr(driver, "vfio") || strcmp(driver, "pci-stub") == 0 ||
	       strcmp(driver, "pcieport") == 0;
}

/*
 * iommufd's bind refuses (EPERM) a device whose MSIs are not isolated, i.e.
 * no irq domain on its MSI path has IRQ_DOMAIN_FLAG_ISOLATED_MSI, unless
 * iommufd.allow_unsafe_interrupts is set. That flag is not in sysfs, and the
 * IR bit of VT-d's ecap (or AMD's features) says what the hardware can do,
 * not whether Linux enabled it. What is visible is the irq chips' names in
 * /sys/kernel/irq/N/chip_name: on x86 the interrupt-remapping domains of both
 * intel-iommu and amd-iommu (the ones that set the flag) prefix their chips
 * with "IR-" ("IR-IO-APIC", "IR-PCI-MSIX-..."), and interrupt remapping is
 * all or nothing there, so the I/O APIC shows "IO-APIC" when it is off.
 * Elsewhere (ARM ITS, which a firmware quirk can make non-isolating; s390,
 * isolated by architecture) no name is reliable, so we say unknown.
 */
int pci_sysfs_msi_isolation(const char *root, enum pci_msi_isolation *out)
{
	char path[PATH_MAX], name[PCI_NAME_MAX];
	bool remapped = false, plain_ioapic = false;
	struct dirent *de;
	DIR *d;
	int r;

	r = path_fmt(path, sizeof(path), "%s/kernel/irq", sysroot(root));
	if (r < 0)
		return r;
	d = opendir(path);
	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*out = PCI_MSI_ISOLATION_UNKNOWN;
		return 0;
	}
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (path_fmt(path, sizeof(path), "%s/kernel/irq/%s/chip_name", sysroot(root),
			     de->d_name) < 0 ||
		    read_text(path, name, sizeof(name)) < 0)
			continue;
		if (strncmp(name, "IR-", 3) == 0)
			remapped = true;
		else if (strcmp(name, "IO-APIC") == 0)
			plain_ioapic = true;
	}
	closedir(d);
	if (remapped)
		*out = PCI_MSI_ISOLATION_YES;
	else if (plain_ioapic)
		*out = PCI_MSI_ISOLATION_NO;
	else
		*out = PCI_MSI_ISOLATION_UNKNOWN;
	return 0;
}

/* A Y/N module parameter; absent counts as N. */
static bool module_param_yes(const char *root, const char *module, const char *param)
{
	char path[PATH_MAX], text[8];

	if (path_fmt(path, sizeof(path), "%s/module/%s/parameters/%s", sysroot(root), module,
		     param) < 0 ||
	    read_text(path, text, sizeof(text)) < 0)
		return false;
	return text[0] == 'Y' || text[0] == 'y' || text[0] == '1';
}

__attribute__((format(printf, 2, 3))) static void add_reason(struct pci_assignability *a,
							      const char *fmt, ...)
{
	size_t len = strlen(a->reason);
	va_list ap;

	if (len && len + 2 < sizeof(a->reason)) {
		strcpy(a->reason + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(a->reason + len, sizeof(a->reason) - len, fmt, ap);
	va_end(ap);
}

static int check_group(const char *root, const struct pci_sysfs_device *dev,
		       struct pci_assignability *a)
{
	char (*members)[PCI_NAME_MAX], path[PATH_MAX], driver[PCI_NAME_MAX];
	size_t count;
	int r;

	r = pci_sysfs_group_members(root, dev->iommu_group, &members, &count);
	if (r < 0)
		return r;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(members[i], dev->bdf) == 0)
			continue;
		r = path_fmt(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices/%s",
			     sysroot(root), dev->iommu_group, members[i]);
		if (r == 0)
			r = dir_driver(path, driver, sizeof(driver));
		if (r < 0)
			break;
		if (!driver_leaves_dma(driver)) {
			a->assignable = false;
			add_reason(a, "IOMMU group %d also holds %s, bound to host driver %s",
				   dev->iommu_group, members[i], driver);
		}
	}
	free(members);
	return r < 0 ? r : 0;
}

int pci_sysfs_assignable(const char *root, const char *bdf, struct pci_assignability *out)
{
	struct pci_assignability a = { .assignable = true };
	struct pci_sysfs_device dev;
	int r;

	r = pci_sysfs_device_get(root, bdf, &dev);
	if (r < 0)
		return r;

	/* vfio-pci takes only type 0 headers: PCI-PCI and CardBus bridges are out. */
	if ((dev.class >> 8) == 0x0604 || (dev.class >> 8) == 0x0607) {
		a.assignable = false;
		add_reason(&a, "%s is a bridge; vfio-pci takes endpoints only", bdf);
	}

	if (dev.iommu_group == PCI_NO_GROUP) {
		a.assignable = false;
		add_reason(&a, "%s has no IOMMU group (no IOMMU, or it is disabled)", bdf);
	} else {
		r = check_group(root, &dev, &a);
		if (r < 0)
			return r;
	}

	r = pci_sysfs_msi_isolation(root, &a.msi_isolation);
	if (r < 0)
		return r;
	/* vfio_iommu_type1's parameter of the same name only covers the legacy
	 * container path; a cdev bound to iommufd obeys iommufd's. */
	a.unsafe_interrupts_allowed = module_param_yes(root, "iommufd", "allow_unsafe_interrupts");
	if (a.msi_isolation == PCI_MSI_ISOLATION_NO && !a.unsafe_interrupts_allowed) {
		a.assignable = false;
		add_reason(&a, "interrupt remapping is off and iommufd.allow_unsafe_interrupts is not set%s",
			   module_param_yes(root, "vfio_iommu_type1", "allow_unsafe_interrupts")
				   ? " (vfio_iommu_type1's does not apply to VFIO cdevs)"
				   : "");
	} else if (a.msi_isolation == PCI_MSI_ISOLATION_UNKNOWN && !a.unsafe_interrupts_allowed) {
		add_reason(&a, "interrupt isolation unknown: binding may fail with EPERM");
	}

	*out = a;
	return 0;
}

static int bus_path(const char *root, char *buf, size_t size, const char *what)
{
	return path_fmt(buf, size, "%s/bus/pci/%s", sysroot(root), what);
}

static int driver_attr_write(const char *root, const char *driver, const char *attr,
			     const char *bdf)
{
	char path[PATH_MAX];
	int r;

	r = path_fmt(path, sizeof(path), "%s/bus/pci/drivers/%s/%s", sysroot(root), driver, attr);
	if (r < 0)
		return r;
	return write_text(path, bdf);
}

static int probe(const char *root, const char *bdf)
{
	char path[PATH_MAX];
	int r;

	r = bus_path(root, path, sizeof(path), "drivers_probe");
	if (r < 0)
		return r;
	return write_text(path, bdf);
}

static int set_override(const char *dir, const char *driver)
{
	char path[PATH_MAX];
	int r;

	r = path_fmt(path, sizeof(path), "%s/driver_override", dir);
	if (r < 0)
		return r;
	/* "\n" clears it. */
	return write_text(path, driver[0] ? driver : "\n");
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Waits until the device's driver is want ("" for none). Unbinding is
 * synchronous, but a driver may probe asynchronously, so a probe is awaited.
 */
static int wait_driver(const char *dir, const char *want)
{
	char driver[PCI_NAME_MAX];
	int r;

	for (int i = 0; i < BIND_POLL_TRIES; i++) {
		r = dir_driver(dir, driver, sizeof(driver));
		if (r < 0)
			return r;
		if (strcmp(driver, want) == 0)
			return 0;
		sleep_ms(BIND_POLL_MS);
	}
	return -ETIMEDOUT;
}

int pci_sysfs_bind_vfio(const char *root, const char *bdf, struct pci_driver_binding *saved)
{
	struct pci_driver_binding b = { 0 };
	char dir[PATH_MAX], path[PATH_MAX], cdev[PCI_NAME_MAX];
	struct stat st;
	int r;

	r = device_dir(root, bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	strcpy(b.bdf, bdf);
	r = dir_driver(dir, b.driver, sizeof(b.driver));
	if (r < 0)
		return r;
	r = path_fmt(path, sizeof(path), "%s/driver_override", dir);
	if (r == 0)
		r = read_text(path, b.driver_override, sizeof(b.driver_override));
	if (r < 0)
		return r;
	if (strcmp(b.driver_override, "(null)") == 0)
		b.driver_override[0] = '\0';

	if (strcmp(b.driver, VFIO_PCI) != 0) {
		r = bus_path(root, path, sizeof(path), "drivers/" VFIO_PCI);
		if (r < 0)
			return r;
		if (stat(path, &st) < 0)
			return -ENODEV; /* vfio-pci is not loaded */
		r = set_override(dir, VFIO_PCI);
		if (r < 0)
			return r;
		if (b.driver[0]) {
			r = driver_attr_write(root, b.driver, "unbind", bdf);
			if (r == 0)
				r = wait_driver(dir, "");
			if (r < 0)
				goto undo;
		}
		r = probe(root, bdf);
		if (r < 0)
			goto undo;
	}

	for (int i = 0; i < BIND_POLL_TRIES; i++) {
		char driver[PCI_NAME_MAX];

		r = dir_driver(dir, driver, sizeof(driver));
		if (r < 0)
			goto undo;
		if (strcmp(driver, VFIO_PCI) == 0 && dir_vfio_cdev(dir, cdev, sizeof(cdev)) == 0) {
			*saved = b;
			return 0;
		}
		sleep_ms(BIND_POLL_MS);
	}
	r = -ETIMEDOUT;
undo:
	pci_sysfs_restore_driver(root, &b);
	return r;
}

int pci_sysfs_restore_driver(const char *root, const struct pci_driver_binding *saved)
{
	char dir[PATH_MAX], driver[PCI_NAME_MAX];
	int r;

	r = device_dir(root, saved->bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	if (strcmp(saved->driver, VFIO_PCI) == 0)
		return 0; /* it was ours before: leave it */

	r = dir_driver(dir, driver, sizeof(driver));
	if (r < 0)
		return r;
	if (strcmp(driver, VFIO_PCI) == 0) {
		/* Blocks until every fd of the device is closed. */
		r = driver_attr_write(root, VFIO_PCI, "unbind", saved->bdf);
		if (r == 0)
			r = wait_driver(dir, "");
		if (r < 0)
			return r;
	}
	r = set_override(dir, saved->driver_override);
	if (r < 0)
		return r;
	if (!saved->driver[0])
		return 0; /* it had no driver: leave it unbound */

	r = probe(root, saved->bdf);
	if (r == 0)
		r = wait_driver(dir, saved->driver);
	if (r != -ETIMEDOUT)
		return r;
	r = dir_driver(dir, driver, sizeof(driver));
	if (r < 0)
		return r;
	if (driver[0])
		return -EBUSY; /* another driver took it */
	/* Probing did not pick it (e.g. it had been bound by hand): bind directly. */
	r = driver_attr_write(root, saved->driver, "bind", saved->bdf);
	if (r == 0)
		r = wait_driver(dir, saved->driver);
	return r == -ETIMEDOUT ? -EBUSY : r;
}

/* A hex attribute of an IOMMU class device, e.g. VT-d's cap ("%llx"). */
static int read_iommu_hex(const char *root, const char *iommu, const char *attr,
			  uint64_t *out)
{
	char path[PATH_MAX], text[64];
	int r;

	r = path_fmt(path, sizeof(path), "%s/class/iommu/%s/%s", sysroot(root), iommu, attr);
	if (r < 0)
		return r;
	r = read_text(path, text, sizeof(text));
	if (r < 0)
		return r;
	return parse_hex(text, out);
}

/* amd-iommu/features is "efr:efr2" in hex in 7.3 (older kernels: "efr"). */
static int read_amd_features(const char *root, const char *iommu,
			     struct kabi_iommu_hw_info_amd *out)
{
	char path[PATH_MAX], text[64], *colon;
	uint64_t efr, efr2 = 0;
	int r;

	r = path_fmt(path, sizeof(path), "%s/class/iommu/%s/amd-iommu/features", sysroot(root),
		     iommu);
	if (r < 0)
		return r;
	r = read_text(path, text, sizeof(text));
	if (r < 0)
		return r;
	colon = strchr(text, ':');
	if (colon) {
		*colon = '\0';
		r = parse_hex(colon + 1, &efr2);
		if (r < 0)
			return r;
	}
	r = parse_hex(text, &efr);
	if (r < 0)
		return r;
	out->efr = efr;
	out->efr2 = efr2;
	return 0;
}

int pci_sysfs_iommu_regs(const char *root, const char *bdf, struct pci_iommu_regs *out)
{
	struct pci_iommu_regs regs = { 0 };
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int r;

	r = device_dir(root, bdf, dir, sizeof(dir));
	if (r < 0)
		return r;
	r = path_fmt(path, sizeof(path), "%s/iommu", dir);
	if (r < 0)
		return r;
	r = link_name(path, regs.iommu, sizeof(regs.iommu));
	if (r == -ENOENT)
		return -ENODEV;
	if (r < 0)
		return r;

	r = path_fmt(path, sizeof(path), "%s/class/iommu/%s/intel-iommu", sysroot(root),
		     regs.iommu);
	if (r < 0)
		return r;
	if (stat(path, &st) == 0) {
		regs.type = KABI_IOMMU_HW_INFO_TYPE_INTEL_VTD;
		regs.data_len = sizeof(regs.data.vtd);
		r = read_iommu_hex(root, regs.iommu, "intel-iommu/cap", &regs.data.vtd.cap_reg);
		if (r == 0)
			r = read_iommu_hex(root, regs.iommu, "intel-iommu/ecap",
					   &regs.data.vtd.ecap_reg);
		if (r < 0)
			return r;
		*out = regs;
		return 0;
	}

	r = path_fmt(path, sizeof(path), "%s/class/iommu/%s/amd-iommu", sysroot(root),
		     regs.iommu);
	if (r < 0)
		return r;
	if (stat(path, &st) == 0) {
		regs.type = KABI_IOMMU_HW_INFO_TYPE_AMD;
		regs.data_len = sizeof(regs.data.amd);
		r = read_amd_features(root, regs.iommu, &regs.data.amd);
		if (r < 0)
			return r;
		*out = regs;
		return 0;
	}
	return -EOPNOTSUPP;
}
