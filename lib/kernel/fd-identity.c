/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fd-identity.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "pci-sysfs.h"
#include "sysfs-util.h"

/* A sysfs "dev" attribute: "MAJOR:MINOR". */
static int read_dev_attr(const char *path, dev_t *out)
{
	char text[32], tail;
	unsigned int maj, min;
	int r = sysfs_read_text(path, text, sizeof(text));

	if (r < 0)
		return r;
	if (sscanf(text, "%u:%u%c", &maj, &min, &tail) != 2)
		return -EIO;
	*out = makedev(maj, min);
	return 0;
}

static int fd_is_char_dev(int fd, const char *dev_attr)
{
	struct stat st;
	dev_t want;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENOTTY;
	r = read_dev_attr(dev_attr, &want);
	if (r < 0)
		return r;
	return st.st_rdev == want ? 0 : -ENOTTY;
}

int fd_is_iommufd(const char *root, int fd)
{
	char path[PATH_MAX];
	int r = sysfs_path(path, sizeof(path), "%s/class/misc/iommu/dev", sysfs_root(root));

	return r < 0 ? r : fd_is_char_dev(fd, path);
}

int fd_is_vfio_cdev_of(const char *root, const char *bdf, int fd)
{
	char dir[PATH_MAX], cdev[PCI_NAME_MAX], path[PATH_MAX];
	int r = sysfs_pci_device_dir(root, bdf, dir, sizeof(dir));

	if (r == 0)
		r = sysfs_dir_vfio_cdev(dir, cdev, sizeof(cdev));
	if (r == -ENODEV)
		return -ENOTTY; /* no cdev now: the fd cannot be it */
	if (r == 0)
		r = sysfs_path(path, sizeof(path), "%s/vfio-dev/%s/dev", dir, cdev);
	return r < 0 ? r : fd_is_char_dev(fd, path);
}

int fd_is_eventfd(int fd)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -EBADF : -errno;
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, "eventfd-count:", 14) == 0;
	fclose(f);
	return found ? 0 : -ENOTTY;
}
