/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vIOMMU objects: one per physical IOMMU of a VM, over its nesting parent. */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "options.h"

void device_iommu_name(struct daemon *d, const struct device *dev, char *buf, size_t len)
{
	struct pci_iommu_regs regs;

	if (dev->mock)
		snprintf(buf, len, "selftest");
	else if (pci_sysfs_iommu_regs(d->sysfs_root, dev->name, &regs) == 0)
		snprintf(buf, len, "%s", regs.iommu);
	else
		snprintf(buf, len, "group%d", dev->pci.iommu_group);
}

/* The first attached device of the vendor: the vIOMMU is allocated against it. */
static struct vm_device *viommu_pick_device(struct vm *vm, const struct viommu_vendor *vendor)
{
	for (struct vm_device *vd = vm->devices; vd; vd = vd->next)
		if (!vendor || vd->device->vendor == vendor)
			return vd;
	return NULL;
}

static uint64_t read_u64_at(const uint8_t *data, size_t len, uint32_t at)
{
	uint64_t v = 0;

	if (at + sizeof(v) <= len)
		memcpy(&v, data + at, sizeof(v));
	return v;
}

int viommu_create(struct vm *vm, const char *type, sd_bus_message *options,
		  struct viommu **out, sd_bus_error *error)
{
	uint8_t data[VIOMMU_DATA_MAX];
	size_t data_len = 0;
	bool has_data = false;
	const struct option_spec specs[] = {
		{ "data", OPTION_BYTES, data, sizeof(data), &data_len, &has_data },
	};
	const struct viommu_vendor *vendor = NULL;
	struct iommufd_viommu_alloc_args args = { 0 };
	struct vm_device *vd;
	struct viommu *viommu, **tail;
	char iommu[PCI_NAME_MAX];
	int r;

	r = options_read(options, specs, 1, error);
	if (r < 0)
		return r;
	if (strcmp(type, "auto") != 0) {
		vendor = viommu_vendor_by_name(type);
		if (!vendor)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "unknown vIOMMU type \"%.40s\" (auto, amd, intel-vtd, "
					 "arm-smmuv3, tegra241-cmdqv, selftest)", type);
	}
	vd = viommu_pick_device(vm, vendor);
	if (!vd)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "VM %s has no attached device%s%s: attach one first", vm->name,
				 vendor ? " behind a " : "", vendor ? vendor->name : "");
	vendor = vd->device->vendor;
	if (!vendor)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "the IOMMU of %s is of no vendor viommud knows", vd->device->name);
	/* The kernel accepts some types it cannot serve: the table decides. */
	if (!vendor->viommu.supported)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED, "%s", vendor->viommu.missing);
	if (!vm->nesting)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "VM %s has no nesting parent: the IOMMU of its first device cannot nest",
				 vm->name);
	if (has_data && data_len != vendor->viommu.data_len)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "\"data\" for a %s vIOMMU is %u bytes, not %zu", vendor->name,
				 vendor->viommu.data_len, data_len);
	r = vm_check_object_quota(vm, "CreateViommu", error);
	if (r < 0)
		return r;
	device_iommu_name(vm->daemon, vd->device, iommu, sizeof(iommu));
	for (struct viommu *v = vm->viommus; v; v = v->next)
		if (strcmp(v->iommu, iommu) == 0)
			return error_set(error, VIOMMU_ERROR_BUSY,
					 "VM %s already has %s for IOMMU %s: one vIOMMU per IOMMU",
					 vm->name, v->path, iommu);

	viommu = calloc(1, sizeof(*viommu));
	if (!viommu)
		return -ENOMEM;
	args.type = vendor->viommu.type;
	args.dev_id = vd->dev_id;
	args.hwpt_id = vm->parent_id;
	args.data = has_data ? data : NULL;
	args.data_len = has_data ? (uint32_t)data_len : 0;
	r = iommufd_viommu_alloc(vm->iommufd, &args, &viommu->kernel_id);
	if (r < 0) {
		free(viommu);
		if (r == -EOPNOTSUPP)
			return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
					 "the kernel's %s driver offers no vIOMMU here", vendor->name);
		return error_kernel(error, r, "IOMMU_VIOMMU_ALLOC", "cannot create the vIOMMU");
	}
	viommu->vm = vm;
	viommu->vendor = vendor;
	viommu->type = vendor->viommu.type;
	snprintf(viommu->iommu, sizeof(viommu->iommu), "%s", iommu);
	if (has_data && vendor->viommu_mmap) {
		viommu->mmap_offset = read_u64_at(data, data_len, vendor->viommu_mmap_offset_at);
		viommu->mmap_length = read_u64_at(data, data_len, vendor->viommu_mmap_length_at);
		viommu->has_mmap = viommu->mmap_length != 0;
	}
	snprintf(viommu->path, sizeof(viommu->path), VIOMMU_VM_PREFIX "/%u/viommu/%u", vm->id,
		 vm->next_object++);
	for (tail = &vm->viommus; *tail; tail = &(*tail)->next)
		;
	*tail = viommu;
	log_info("VM %s: vIOMMU %s (%s, kernel ID %u) on parent %u", vm->name, viommu->path,
		 vendor->name, viommu->kernel_id, vm->parent_id);
	*out = viommu;
	return 0;
}

int viommu_destroy(struct viommu *viommu, bool force)
{
	struct vm *vm = viommu->vm;
	int r;

	/* Its event queues go with it (closing the relay's fds). */
	while (viommu->veventqs)
		veventq_destroy(viommu->veventqs);
	r = iommufd_destroy(vm->iommufd, viommu->kernel_id);

	/* Still held (an fd the VMM has): keep the record, say so. */
	if (r < 0 && r != -ENOENT) {
		log_warning("VM %s: cannot destroy vIOMMU %u: %s", vm->name, viommu->kernel_id,
			    strerror(-r));
		if (!force)
			return r;
	}
	for (struct viommu **p = &vm->viommus; *p; p = &(*p)->next) {
		if (*p == viommu) {
			*p = viommu->next;
			break;
		}
	}
	free(viommu);
	return 0;
}

/* --- D-Bus --- */

static int prop_viommu(sd_bus *bus, const char *path, const char *iface, const char *property,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;
	int r;

	if (strcmp(property, "Type") == 0)
		return sd_bus_message_append(reply, "s", v->vendor->name);
	if (strcmp(property, "KernelId") == 0)
		return sd_bus_message_append(reply, "u", v->kernel_id);
	if (strcmp(property, "ParentId") == 0)
		return sd_bus_message_append(reply, "u", v->vm->parent_id);
	if (strcmp(property, "Invalidations") == 0)
		return sd_bus_message_append(reply, "t", v->invalidations);
	if (strcmp(property, "MmapOffset") == 0)
		return sd_bus_message_append(reply, "t", v->mmap_offset);
	if (strcmp(property, "MmapLength") == 0)
		return sd_bus_message_append(reply, "t", v->mmap_length);
	if (strcmp(property, "EventsRelayed") == 0)
		return sd_bus_message_append(reply, "t", v->events_relayed);
	if (strcmp(property, "EventsLost") == 0)
		return sd_bus_message_append(reply, "t", v->events_lost);
	r = sd_bus_message_open_container(reply, 'a', "o");
	if (strcmp(property, "HwQueues") == 0) {
		for (struct hw_queue *q = v->hw_queues; r >= 0 && q; q = q->next)
			r = sd_bus_message_append(reply, "o", q->path);
	} else if (strcmp(property, "VDevices") == 0) {
		for (struct vdevice *vdev = v->vm->vdevices; r >= 0 && vdev; vdev = vdev->next)
			if (vdev->viommu == v)
				r = sd_bus_message_append(reply, "o", vdev->path);
	} else {
		for (struct domain *dom = v->vm->domains; r >= 0 && dom; dom = dom->next)
			if (dom->viommu == v)
				r = sd_bus_message_append(reply, "o", dom->path);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

int vdevice_create(struct viommu *v, struct device *dev, uint64_t virt_id, struct vdevice **out,
		   sd_bus_error *error)
{
	struct vm *vm = v->vm;
	struct vdevice *vdev, **tail;
	struct vm_device *vd = vm_device_of(vm, dev);
	int r;

	if (!vd)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s is not attached to VM %s", dev->name, vm->name);
	if (dev->vendor != v->vendor)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s is not behind a %s IOMMU", dev->name, v->vendor->name);
	for (vdev = vm->vdevices; vdev; vdev = vdev->next) {
		if (vdev->viommu == v && vdev->virt_id == virt_id)
			return error_set(error, VIOMMU_ERROR_BUSY,
					 "virtual ID 0x%llx is taken by %s",
					 (unsigned long long)virt_id, vdev->path);
		if (vdev->device == dev)
			return error_set(error, VIOMMU_ERROR_BUSY, "%s already has vDEVICE %s",
					 dev->name, vdev->path);
	}
	r = vm_check_object_quota(vm, "AddDevice", error);
	if (r < 0)
		return r;
	vdev = calloc(1, sizeof(*vdev));
	if (!vdev)
		return -ENOMEM;
	r = iommufd_vdevice_alloc(vm->iommufd, v->kernel_id, vd->dev_id, virt_id, &vdev->kernel_id);
	if (r < 0) {
		free(vdev);
		return error_kernel(error, r, "IOMMU_VDEVICE_ALLOC", dev->name);
	}
	vdev->viommu = v;
	vdev->device = dev;
	vdev->virt_id = virt_id;
	snprintf(vdev->path, sizeof(vdev->path), VIOMMU_VM_PREFIX "/%u/vdevice/%u", vm->id,
		 vm->next_object++);
	for (tail = &vm->vdevices; *tail; tail = &(*tail)->next)
		;
	*tail = vdev;
	*out = vdev;
	return 0;
}

static int method_add_device(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;
	struct vdevice *vdev = NULL;
	struct device *dev;
	const char *path;
	uint64_t virt_id;
	int r;

	r = sd_bus_message_read(m, "ot", &path, &virt_id);
	if (r < 0)
		return r;
	dev = device_by_path(v->vm->daemon, path);
	if (!dev)
		return error_set(error, VIOMMU_ERROR_NOT_FOUND, "no device %s", path);
	r = vdevice_create(v, dev, virt_id, &vdev, error);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(m, "o", vdev->path);
}

static int method_alloc_domain(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;

	return domain_method_alloc(m, v->vm, v, error);
}

static int method_invalidate(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;

	return invalidate_reply(m, v->vm, v->kernel_id, &v->vendor->invalidate, &v->invalidations,
				error);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct viommu *v = userdata;
	struct vm *vm = v->vm;
	int r;

	if (v->hw_queues)
		return error_set(error, VIOMMU_ERROR_BUSY, "HW queue %s uses it: destroy it first",
				 v->hw_queues->path);
	for (struct domain *dom = vm->domains; dom; dom = dom->next)
		if (dom->viommu == v)
			return error_set(error, VIOMMU_ERROR_BUSY, "domain %s uses it: destroy it first",
					 dom->path);
	for (struct vdevice *vdev = vm->vdevices; vdev; vdev = vdev->next)
		if (vdev->viommu == v)
			return error_set(error, VIOMMU_ERROR_BUSY,
					 "vDEVICE %s uses it: destroy it first", vdev->path);
	r = viommu_destroy(v, false);
	if (r < 0)
		return error_errno(error, r, "cannot destroy the vIOMMU");
	return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable viommu_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Type", "s", prop_viommu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("KernelId", "u", prop_viommu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ParentId", "u", prop_viommu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("VDevices", "ao", prop_viommu, 0, 0),
	SD_BUS_PROPERTY("Domains", "ao", prop_viommu, 0, 0),
	SD_BUS_PROPERTY("Invalidations", "t", prop_viommu, 0, 0),
	SD_BUS_PROPERTY("MmapOffset", "t", prop_viommu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("MmapLength", "t", prop_viommu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("EventsRelayed", "t", prop_viommu, 0, 0),
	SD_BUS_PROPERTY("EventsLost", "t", prop_viommu, 0, 0),
	SD_BUS_PROPERTY("HwQueues", "ao", prop_viommu, 0, 0),
	SD_BUS_METHOD_WITH_NAMES("AddDevice", "ot", SD_BUS_PARAM(device) SD_BUS_PARAM(virt_id),
				 "o", SD_BUS_PARAM(vdevice), method_add_device,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("NestDevices", "a(ot)uay",
				 SD_BUS_PARAM(devices) SD_BUS_PARAM(data_type) SD_BUS_PARAM(data),
				 "a(oo)", SD_BUS_PARAM(nested), viommu_method_nest_devices,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("AllocDomain", "uaya{sv}",
				 SD_BUS_PARAM(data_type) SD_BUS_PARAM(data) SD_BUS_PARAM(options),
				 "o", SD_BUS_PARAM(domain), method_alloc_domain,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Invalidate", "uuay",
				 SD_BUS_PARAM(data_type) SD_BUS_PARAM(entry_len) SD_BUS_PARAM(entries),
				 "ui", SD_BUS_PARAM(handled) SD_BUS_PARAM(error), method_invalidate,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("OpenEventQueue", "uua{sv}",
				 SD_BUS_PARAM(type) SD_BUS_PARAM(depth) SD_BUS_PARAM(options), "h",
				 SD_BUS_PARAM(fd), viommu_method_open_event_queue,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("AllocHwQueue", "uutt",
				 SD_BUS_PARAM(type) SD_BUS_PARAM(index) SD_BUS_PARAM(base_iova)
					 SD_BUS_PARAM(length),
				 "o", SD_BUS_PARAM(hw_queue), viommu_method_alloc_hw_queue,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("Event", "tuayu",
				 SD_BUS_PARAM(virt_id) SD_BUS_PARAM(type) SD_BUS_PARAM(data)
					 SD_BUS_PARAM(seq),
				 0),
	SD_BUS_SIGNAL_WITH_NAMES("EventsLost", "uuu",
				 SD_BUS_PARAM(type) SD_BUS_PARAM(count) SD_BUS_PARAM(seq), 0),
	SD_BUS_VTABLE_END,
};
