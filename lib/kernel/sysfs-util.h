/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers shared by the sysfs readers of the kernel layer. Each
 * returns 0 or a negative errno.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pci-sysfs.h"

/* root, or "/sys" when root is NULL (tests pass a fake tree). */
const char *sysfs_root(const char *root);

/* snprintf into a path buffer; -ENAMETOOLONG when it does not fit. */
int sysfs_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reads a small attribute, without its trailing newline. */
int sysfs_read_text(const char *path, char *buf, size_t size);
int sysfs_write_text(const char *path, const char *text);
int sysfs_parse_hex(const char *text, uint64_t *out);

/* The last component of a symlink's target; -ENOENT when there is no link. */
int sysfs_link_name(const char *path, char *buf, size_t size);

/* /sys/bus/pci/devices/<bdf>: -EINVAL for a malformed BDF, -ENOENT if absent. */
int sysfs_pci_device_dir(const char *root, const char *bdf, char *buf, size_t size);
int sysfs_read_attr_hex(const char *dir, const char *attr, uint64_t *out);

/* The driver bound to the device at dir, "" for none. */
int sysfs_dir_driver(const char *dir, char *buf, size_t size);

/* The first vfio-dev/vfioN entry of the device at dir, or -ENODEV. */
int sysfs_dir_vfio_cdev(const char *dir, char *buf, size_t size);

/* The entries of a directory (not "." nor ".."), sorted; *out is malloc()ed. */
int sysfs_list_dir(const char *path, char (**out)[PCI_NAME_MAX], size_t *out_count);
