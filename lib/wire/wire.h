/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire contract of org.viommu1(5), written once: the bus name, the object
 * tree, the interfaces, the error names with their errnos, and how a device's
 * name becomes its object path. The daemon, libviommu, viommuctl and the
 * tests all take it from here. Its functions are named wire_*, not viommu_*:
 * libviommu links it in, and exports viommu_* alone (libviommu.sym).
 */
#pragma once

#include <stddef.h>

#define VIOMMU_BUS_NAME "org.viommu1"
#define VIOMMU_ROOT_PATH "/org/viommu1"
/* Subtrees: no trailing '/', as sd-bus wants a fallback prefix. */
#define VIOMMU_DEVICE_PREFIX VIOMMU_ROOT_PATH "/device"
#define VIOMMU_VM_PREFIX VIOMMU_ROOT_PATH "/vm"

#define VIOMMU_IFACE_MANAGER "org.viommu1.Manager"
#define VIOMMU_IFACE_DEVICE "org.viommu1.Device"
#define VIOMMU_IFACE_VM "org.viommu1.Vm"
#define VIOMMU_IFACE_VIOMMU "org.viommu1.Viommu"
#define VIOMMU_IFACE_DOMAIN "org.viommu1.Domain"
#define VIOMMU_IFACE_VDEVICE "org.viommu1.VDevice"
#define VIOMMU_IFACE_HW_QUEUE "org.viommu1.HwQueue"
#define VIOMMU_IFACE_FAULT_QUEUE "org.viommu1.FaultQueue"

/* The polkit actions of org.viommu1.policy (viommud(8), AUTHORIZATION). */
#define VIOMMU_ACTION_MANAGE_VMS "org.viommu1.manage-vms"
#define VIOMMU_ACTION_FAST_PATH "org.viommu1.fast-path"
#define VIOMMU_ACTION_BIND_DEVICES "org.viommu1.bind-devices"
#define VIOMMU_ACTION_RELEASE_ORPHANS "org.viommu1.release-orphans"

/* Members named once here, where more than the daemon calls them. */
#define VIOMMU_MANAGER_GET_METRICS "GetMetrics" /* Prometheus text, org.viommu1(5) */

#define VIOMMU_ERROR_NOT_FOUND "org.viommu1.Error.NotFound"
#define VIOMMU_ERROR_BUSY "org.viommu1.Error.Busy"
#define VIOMMU_ERROR_PERMISSION_DENIED "org.viommu1.Error.PermissionDenied"
#define VIOMMU_ERROR_INVALID_ARGUMENT "org.viommu1.Error.InvalidArgument"
#define VIOMMU_ERROR_NOT_SUPPORTED "org.viommu1.Error.NotSupported"
#define VIOMMU_ERROR_QUOTA_EXCEEDED "org.viommu1.Error.QuotaExceeded"
#define VIOMMU_ERROR_KERNEL "org.viommu1.Error.Kernel"

/* The negative errno of an error name above; -EIO for any other name. */
int wire_error_errno(const char *name);

/* The longest device name: a selftest mock's or a PCI address. */
#define WIRE_DEVICE_NAME_MAX 64

/*
 * A device's object path from its name: "selftestN", or a PCI address as
 * sysfs has it ("0000:00:05.0") or as lspci prints it ("00:05.0", the domain
 * 0000; hex in either case). ':' and '.' become '_':
 * "/org/viommu1/device/0000_00_05_0". -EINVAL for anything else,
 * -ENAMETOOLONG when buf is too small.
 */
int wire_device_path(const char *name, char *buf, size_t size);

/*
 * The other way: the device name a device's object path stands for,
 * "selftestN" or "DDDD:BB:DD.F" (lower case). -EINVAL for a path that is no
 * device path wire_device_path() would make, -ENAMETOOLONG when buf is too
 * small.
 */
int wire_device_name(const char *path, char *buf, size_t size);
