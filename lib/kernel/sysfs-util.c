/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sysfs-util.h"

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

const char *sysfs_root(const char *root)
{
	return root ? root : "/sys";
}

int sysfs_path(char *buf, size_t size, const char *fmt, ...)
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
int sysfs_read_text(const char *path, char *buf, size_t size)
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

int sysfs_write_text(const char *path, const char *text)
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

int sysfs_parse_hex(const char *text, uint64_t *out)
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
int sysfs_link_name(const char *path, char *buf, size_t size)
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

int sysfs_pci_device_dir(const char *root, const char *bdf, char *buf, size_t size)
{
	struct stat st;
	int r;

	if (!pci_bdf_valid(bdf))
		return -EINVAL;
	r = sysfs_path(buf, size, "%s/bus/pci/devices/%s", sysfs_root(root), bdf);
	if (r < 0)
		return r;
	if (stat(buf, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOENT;
}

int sysfs_read_attr_hex(const char *dir, const char *attr, uint64_t *out)
{
	char path[PATH_MAX], text[64];
	int r;

	r = sysfs_path(path, sizeof(path), "%s/%s", dir, attr);
	if (r < 0)
		return r;
	r = sysfs_read_text(path, text, sizeof(text));
	if (r < 0)
		return r;
	return sysfs_parse_hex(text, out);
}

/* The driver bound to the device at dir, "" for none. */
int sysfs_dir_driver(const char *dir, char *buf, size_t size)
{
	char path[PATH_MAX];
	int r;

	r = sysfs_path(path, sizeof(path), "%s/driver", dir);
	if (r < 0)
		return r;
	r = sysfs_link_name(path, buf, size);
	if (r == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return r;
}

/* The first vfio-dev/vfioN entry, or -ENODEV. */
int sysfs_dir_vfio_cdev(const char *dir, char *buf, size_t size)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = -ENODEV;

	if (sysfs_path(path, sizeof(path), "%s/vfio-dev", dir) < 0)
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

static int sysfs_cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The entries of a directory (not "." nor ".."), sorted; *out is malloc()ed. */
int sysfs_list_dir(const char *path, char (**out)[PCI_NAME_MAX], size_t *out_count)
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
		qsort(names, count, sizeof(*names), sysfs_cmp_name);
	*out = names;
	*out_count = count;
	return 0;
}
