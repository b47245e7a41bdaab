/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device inventory and the org.viommu1.Device objects. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "uevent.h"

/* "0000:00:01.0" -> "/org/viommu1/device/0000_00_01_0": a BDF's shape makes
 * this unambiguous, and it reads better than sd-bus's _XX escapes. */
static void device_make_path(struct device *dev)
{
	/* The inventory's names are sysfs BDFs or "selftestN": always valid. */
	if (wire_device_path(dev->name, dev->path, sizeof(dev->path)) < 0)
		snprintf(dev->path, sizeof(dev->path), "%s/invalid", VIOMMU_DEVICE_PREFIX);
}

struct device *device_by_path(struct daemon *d, const char *path)
{
	for (struct device *dev = d->devices; dev; dev = dev->next)
		if (dev->present && strcmp(dev->path, path) == 0)
			return dev;
	return NULL;
}

struct device *device_by_name(struct daemon *d, const char *name)
{
	for (struct device *dev = d->devices; dev; dev = dev->next)
		if (strcmp(dev->name, name) == 0)
			return dev;
	return NULL;
}

/* The capabilities as sysfs shows them, for a device no VM has bound. */
static void device_read_sysfs_caps(struct daemon *d, struct device *dev)
{
	struct pci_iommu_regs regs;

	dev->caps.count = 0;
	dev->vendor = NULL;
	if (pci_sysfs_iommu_regs(d->sysfs_root, dev->name, &regs) < 0)
		return;
	dev->vendor = viommu_vendor_by_hw_info_type(regs.type);
	if (dev->vendor && viommu_vendor_decode(dev->vendor, &regs.data, regs.data_len, &dev->caps) < 0)
		dev->caps.count = 0;
}

void device_refresh(struct daemon *d, struct device *dev)
{
	struct pci_sysfs_device pci;

	if (dev->mock)
		return;
	if (pci_sysfs_device_get(d->sysfs_root, dev->name, &pci) < 0) {
		dev->present = false;
		return;
	}
	dev->pci = pci;
	if (!dev->hw_info_from_kernel)
		device_read_sysfs_caps(d, dev);
}

static struct device *device_add(struct daemon *d, const char *name, bool mock)
{
	struct device *dev = calloc(1, sizeof(*dev)), **tail = &d->devices;

	if (!dev)
		return NULL;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->daemon = d;
	dev->mock = mock;
	dev->present = true;
	device_make_path(dev);
	if (mock)
		dev->vendor = viommu_vendor_by_name("selftest");
	while (*tail)
		tail = &(*tail)->next;
	*tail = dev;
	return dev;
}

static void device_remove(struct daemon *d, struct device *dev)
{
	for (struct device **p = &d->devices; *p; p = &(*p)->next) {
		if (*p == dev) {
			*p = dev->next;
			break;
		}
	}
	model_object_removed(d, NULL, MODEL_DEVICE, dev->path);
	model_device_signal(d, "DeviceRemoved", dev);
	free(dev);
}

static int device_scan_pci(struct daemon *d)
{
	struct pci_sysfs_device *list = NULL;
	size_t count = 0;
	int r = pci_sysfs_list(d->sysfs_root, &list, &count);

	if (r < 0) {
		log_warning("cannot list PCI devices: %s", strerror(-r));
		return r;
	}
	for (struct device *dev = d->devices; dev; dev = dev->next)
		if (!dev->mock)
			dev->present = false;
	for (size_t i = 0; i < count; i++) {
		struct device *dev;
		bool added = false;

		/* Only devices behind an IOMMU can be assigned at all. */
		if (list[i].iommu_group == PCI_NO_GROUP)
			continue;
		dev = device_by_name(d, list[i].bdf);
		if (!dev) {
			dev = device_add(d, list[i].bdf, false);
			if (!dev) {
				free(list);
				return -ENOMEM;
			}
			added = true;
		}
		dev->present = true;
		dev->pci = list[i];
		if (!dev->hw_info_from_kernel)
			device_read_sysfs_caps(d, dev);
		if (added) {
			model_device_signal(d, "DeviceAdded", dev);
			model_object_added(d, NULL, MODEL_DEVICE, dev->path, dev);
		}
	}
	free(list);
	for (struct device *dev = d->devices, *next; dev; dev = next) {
		next = dev->next;
		if (!dev->mock && !dev->present && !dev->vm)
			device_remove(d, dev);
	}
	return 0;
}

/* The mock devices on offer follow the config; those in use stay. */
static int device_scan_mock(struct daemon *d)
{
	unsigned int want = d->has_selftest ? d->config->mock_devices : 0;
	char name[PCI_NAME_MAX];

	for (unsigned int i = 0; i < want; i++) {
		snprintf(name, sizeof(name), "selftest%u", i);
		if (!device_by_name(d, name)) {
			struct device *dev = device_add(d, name, true);

			if (!dev)
				return -ENOMEM;
			model_device_signal(d, "DeviceAdded", dev);
			model_object_added(d, NULL, MODEL_DEVICE, dev->path, dev);
		}
	}
	for (struct device *dev = d->devices, *next; dev; dev = next) {
		unsigned int index;

		next = dev->next;
		if (dev->mock && sscanf(dev->name, "selftest%u", &index) == 1 && index >= want &&
		    !dev->vm)
			device_remove(d, dev);
	}
	return 0;
}

struct device *device_add_mock(struct daemon *d, const char *name)
{
	unsigned int index;
	char canonical[PCI_NAME_MAX];
	struct device *dev = device_by_name(d, name);

	if (dev)
		return dev->mock ? dev : NULL;
	if (sscanf(name, "selftest%u", &index) != 1)
		return NULL;
	snprintf(canonical, sizeof(canonical), "selftest%u", index);
	if (strcmp(canonical, name) != 0)
		return NULL;
	return device_add(d, name, true);
}

int device_inventory_scan(struct daemon *d)
{
	int r;

	/* Set at boot and the same for every device: read it once a scan,
	 * not once per device and call (it walks every irq). */
	if (pci_sysfs_msi_isolation(d->sysfs_root, &d->msi_isolation) < 0)
		d->msi_isolation = PCI_MSI_ISOLATION_UNKNOWN;
	r = device_scan_pci(d);

	if (r == -ENOMEM)
		return r;
	return device_scan_mock(d);
}

void device_uevent(struct daemon *d, const struct uevent *ev)
{
	const char *name = ev->pci_slot_name ? ev->pci_slot_name : ev->sysname;
	struct device *dev = device_by_name(d, name);
	bool rescan;

	switch (ev->action) {
	case UEVENT_ACTION_ADD:
	case UEVENT_ACTION_REMOVE:
	case UEVENT_ACTION_RESYNC:
		rescan = true;
		break;
	case UEVENT_ACTION_BIND:
	case UEVENT_ACTION_UNBIND:
	case UEVENT_ACTION_CHANGE:
		if (!dev || dev->mock) {
			/* A bind may bring one the last scan skipped. */
			rescan = ev->action != UEVENT_ACTION_CHANGE;
			break;
		}
		/* Same device, another driver and cdev: re-read that one. */
		device_refresh(d, dev);
		rescan = !dev->present; /* gone meanwhile: the scan signals it */
		break;
	default:
		return;
	}
	/* Emits DeviceAdded/DeviceRemoved; keeps the devices a VM holds. */
	if (rescan)
		device_inventory_scan(d);
	model_usage_changed(d);
}

void device_inventory_free(struct daemon *d)
{
	while (d->devices) {
		struct device *dev = d->devices;

		d->devices = dev->next;
		free(dev);
	}
}

bool device_assignable(struct daemon *d, struct device *dev, char *reason, size_t len)
{
	struct pci_assignability a;

	reason[0] = '\0';
	if (dev->vm) {
		snprintf(reason, len, "attached to VM %s", dev->vm->name);
		return false;
	}
	if (dev->mock)
		return true;
	if (dev->quarantined) {
		snprintf(reason, len,
			 "quarantined until every fd of its last VM is closed (a VMM may still "
			 "hold one), then %s %s",
			 dev->quarantine_to_driver ? "given back to" : "bound to",
			 dev->quarantine_to_driver ? (dev->saved.driver[0] ? dev->saved.driver
									: "no driver")
						   : "vfio-pci");
		return false;
	}
	if (!dev->present) {
		snprintf(reason, len, "the device is gone");
		return false;
	}
	if (!config_device_allowed(d->config, dev->name, dev->pci.vendor, dev->pci.device)) {
		snprintf(reason, len,
			 "not allowed by the configuration: add \"%s\" or \"%04x:%04x\" to allowed_devices",
			 dev->name, dev->pci.vendor, dev->pci.device);
		return false;
	}
	if (pci_sysfs_assignable_known(d->sysfs_root, dev->name, &d->msi_isolation, &a) < 0) {
		snprintf(reason, len, "cannot read its IOMMU group from sysfs");
		return false;
	}
	snprintf(reason, len, "%s", a.reason);
	if (a.assignable && strcmp(dev->pci.driver, "vfio-pci") != 0 &&
	    !d->config->bind_on_demand) {
		snprintf(reason, len,
			 "bound to %s, not vfio-pci, and bind_on_demand is off: call BindVfio first",
			 dev->pci.driver[0] ? dev->pci.driver : "no driver");
		return false;
	}
	return a.assignable;
}

/* Whether the device's driver may change now: a real device, in no VM. */
static int device_check_rebind(const struct device *dev, struct verror *error)
{
	if (dev->mock)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "%s is a selftest mock device: it has no driver", dev->name);
	if (dev->vm)
		return error_set(error, VIOMMU_ERROR_BUSY, "%s is attached to VM %s", dev->name,
				 dev->vm->name);
	return 0;
}

int device_bind_vfio(struct daemon *d, struct device *dev, const struct server_peer *caller,
		     struct verror *error)
{
	struct pci_driver_binding saved;
	int r = device_check_rebind(dev, error);

	if (r < 0)
		return r;
	r = pci_sysfs_bind_vfio(d->sysfs_root, dev->name, &saved);
	if (r < 0)
		return error_errno(error, r, "cannot bind %s to vfio-pci", dev->name);
	/* An operator's bind stays: only on-demand binds are given back. */
	device_refresh(d, dev);
	audit_peer(caller, LOG_EVENT_DEVICE_BOUND, "bind", NULL, dev->name);
	log_info("%s bound to vfio-pci (was %s)", dev->name,
		 saved.driver[0] ? saved.driver : "unbound");
	return 0;
}

int device_unbind_vfio(struct daemon *d, struct device *dev, const struct server_peer *caller,
		       struct verror *error)
{
	int r = device_check_rebind(dev, error);

	if (r < 0)
		return r;
	if (strcmp(dev->pci.driver, "vfio-pci") != 0)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT, "%s is not bound to vfio-pci",
				 dev->name);
	if (dev->daemon_bound) {
		r = pci_sysfs_restore_driver(d->sysfs_root, &dev->saved);
		dev->daemon_bound = false;
	} else {
		/* Bound by someone else: just let go of it; no driver takes it. */
		struct pci_driver_binding none = { 0 };

		snprintf(none.bdf, sizeof(none.bdf), "%.*s", (int)sizeof(none.bdf) - 1, dev->name);
		r = pci_sysfs_restore_driver(d->sysfs_root, &none);
	}
	device_refresh(d, dev);
	if (r < 0)
		return error_errno(error, r, "cannot give %s back from vfio-pci", dev->name);
	audit_peer(caller, LOG_EVENT_DEVICE_UNBOUND, "unbind", NULL, dev->name);
	return 0;
}
