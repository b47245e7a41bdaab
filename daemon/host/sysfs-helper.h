/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommud-sysfs-helper: the only process that writes sysfs for viommud.
 * Under its unit viommud sees /sys read-only; the four writes binding takes
 * (lib/kernel pci_sysfs_write()) go over D-Bus, peer to peer, to one helper
 * per connection (viommud-sysfs.socket, Accept=yes, root only). The helper
 * can write nothing else: no device's remove, reset, config or sriov_numvfs.
 */
#pragma once

#define SYSFS_HELPER_PATH "/org/viommu1/SysfsHelper"
#define SYSFS_HELPER_IFACE "org.viommu1.SysfsHelper"
/* Write(u op, s bdf, s driver): op is an enum pci_sysfs_write_op. */
#define SYSFS_HELPER_WRITE "Write"
#define SYSFS_HELPER_ENV "VIOMMUD_SYSFS_HELPER" /* the socket's path */

/* sysfs-client.c: from now on pci-bind's writes go to the helper at path. */
void sysfs_client_use(const char *path);
