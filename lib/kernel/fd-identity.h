/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What an fd is, asked of the kernel: its device number (fstat) against the
 * one sysfs gives, or its fdinfo. Never the path /proc/self/fd/N reads back:
 * a file opened in another mount namespace (a sandboxed service's previous
 * start) reads back relative to that namespace ("/iommu").
 *
 * Each returns 0 when the fd is what is asked, -ENOTTY when it is something
 * else, or another negative errno when it cannot tell.
 */
#pragma once

/* The fd is /dev/iommu: sysfs_root NULL means "/sys" (class/misc/iommu/dev). */
int fd_is_iommufd(const char *sysfs_root, int fd);

/* The fd is the VFIO cdev of the PCI device bdf (its vfio-dev/vfioN/dev). */
int fd_is_vfio_cdev_of(const char *sysfs_root, const char *bdf, int fd);

/* The fd is an eventfd (its fdinfo has "eventfd-count:"). */
int fd_is_eventfd(int fd);
