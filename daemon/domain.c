/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Nested domains (stage-1 HWPTs from guest data), on a vIOMMU or the parent. */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "options.h"

#define INVALIDATE_ENTRY_MAX 4096	     /* the kernel's cap: one page */
#define INVALIDATE_BYTES_MAX (1024 * 1024) /* one call's array */

static struct vm_device *domain_pick_device(struct vm *vm, const struct viommu_vendor *vendor)
{
	for (struct vm_device *vd = vm->devices; vd; vd = vd->next)
		if (vd->device->vendor == vendor)
			return vd;
	return NULL;
}

int domain_alloc(struct vm *vm, struct viommu *viommu, uint32_t data_type, const void *data,
		 size_t len, sd_bus_message *options, struct domain **out, sd_bus_error *error)
{
	char fault_path[VIOMMU_PATH_MAX] = "";
	const struct option_spec specs[] = {
		{ "fault-queue", OPTION_PATH, fault_path, sizeof(fault_path) },
	};
	struct iommufd_hwpt_alloc_args args = { 0 };
	const struct viommu_vendor *vendor;
	struct fault_queue *fault = NULL;
	struct domain *dom, **tail;
	struct vm_device *vd;
	int r;

	r = options_read(options, specs, 1, error);
	if (r < 0)
		return r;
	if (fault_path[0]) {
		fault = fault_queue_by_path(vm, fault_path);
		if (!fault)
			return error_set(error, VIOMMU_ERROR_NOT_FOUND,
					 "no fault queue %s in VM %s", fault_path, vm->name);
	}
	if (!vm->devices)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "VM %s has no attached device: attach one first", vm->name);
	if (!vm->nesting)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "VM %s has no nesting parent: the IOMMU of its first device cannot nest",
				 vm->name);
	if (viommu) {
		vendor = viommu->vendor;
	} else {
		vendor = vm->devices ? vm->devices->device->vendor : NULL;
		if (!vendor)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "VM %s has no attached device of a known vendor", vm->name);
		if (vendor->nest_anchor == VIOMMU_NEST_ON_VIOMMU)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "%s nests on a vIOMMU: call AllocDomain on the Viommu object",
					 vendor->name);
	}
	if (!vendor->nested.supported)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED, "%s", vendor->nested.missing);
	if (data_type != vendor->nested.type)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "data type 0x%x is not %s's nested type 0x%x", data_type,
				 vendor->name, vendor->nested.type);
	if (len != vendor->nested.data_len)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s nested data is %u bytes, not %zu", vendor->name,
				 vendor->nested.data_len, len);
	r = vm_check_object_quota(vm, "AllocDomain", error);
	if (r < 0)
		return r;
	vd = domain_pick_device(vm, vendor);
	if (!vd)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "VM %s has no attached %s device", vm->name, vendor->name);

	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	args.dev_id = vd->dev_id;
	args.pt_id = viommu ? viommu->kernel_id : vm->parent_id;
	args.data_type = data_type;
	args.data = data;
	args.data_len = (uint32_t)len;
	args.fault_id = fault ? fault->kernel_id : 0;
	r = iommufd_hwpt_alloc(vm->iommufd, &args, &dom->kernel_id);
	if (r < 0) {
		free(dom);
		if (r == -EINVAL)
			return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "the kernel refused the nested domain's data (%s)",
					 strerror(-r));
		return error_kernel(error, r, "IOMMU_HWPT_ALLOC", "cannot allocate the nested domain");
	}
	dom->vm = vm;
	dom->viommu = viommu;
	dom->vendor = vendor;
	dom->fault = fault;
	dom->data_type = data_type;
	snprintf(dom->path, sizeof(dom->path), VIOMMU_VM_PREFIX "/%u/domain/%u", vm->id,
		 vm->next_object++);
	for (tail = &vm->domains; *tail; tail = &(*tail)->next)
		;
	*tail = dom;
	*out = dom;
	return 0;
}

int domain_method_alloc(sd_bus_message *m, struct vm *vm, struct viommu *viommu,
			sd_bus_error *error)
{
	struct domain *dom;
	const void *data;
	uint32_t data_type;
	size_t len;
	int r;

	r = sd_bus_message_read(m, "u", &data_type);
	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &data, &len);
	if (r < 0)
		return r;
	r = domain_alloc(vm, viommu, data_type, data, len, m, &dom, error);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(m, "o", dom->path);
}

int domain_destroy(struct domain *dom, bool force)
{
	struct vm *vm = dom->vm;
	int r = iommufd_destroy(vm->iommufd, dom->kernel_id);

	if (r < 0 && r != -ENOENT) {
		log_warning("VM %s: cannot destroy domain %u: %s", vm->name, dom->kernel_id,
			    strerror(-r));
		if (!force)
			return r;
	}
	for (struct domain **p = &vm->domains; *p; p = &(*p)->next) {
		if (*p == dom) {
			*p = dom->next;
			break;
		}
	}
	free(dom);
	return 0;
}

int invalidate_reply(sd_bus_message *m, struct vm *vm, uint32_t id,
		     const struct viommu_vendor_feature *feature, uint64_t *counter,
		     sd_bus_error *error)
{
	uint32_t data_type, entry_len, count;
	const void *entries;
	size_t len;
	int r;

	r = sd_bus_message_read(m, "uu", &data_type, &entry_len);
	if (r >= 0)
		r = sd_bus_message_read_array(m, 'y', &entries, &len);
	if (r < 0)
		return r;
	if (entry_len == 0 || entry_len > INVALIDATE_ENTRY_MAX || len % entry_len ||
	    len > INVALIDATE_BYTES_MAX)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "entry_len must be 1 to %d and divide the %zu bytes of entries "
				 "(at most %d)",
				 INVALIDATE_ENTRY_MAX, len, INVALIDATE_BYTES_MAX);
	/* The kernel takes some types it cannot serve: the vendor table decides. */
	if (!feature->supported)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED, "%s", feature->missing);
	if (data_type != feature->type)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "data type 0x%x is not the invalidation type 0x%x here", data_type,
				 feature->type);
	count = (uint32_t)(len / entry_len);
	r = iommufd_hwpt_invalidate(vm->iommufd, id, data_type, len ? entries : NULL, entry_len,
				    &count);
	*counter += count;
	/* A rejected entry is an answer, not a failure of the call. */
	return sd_bus_reply_method_return(m, "ui", count, r < 0 ? -r : 0);
}

/* --- D-Bus --- */

static int prop_domain(sd_bus *bus, const char *path, const char *iface, const char *property,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct domain *dom = userdata;
	int r;

	if (strcmp(property, "KernelId") == 0)
		return sd_bus_message_append(reply, "u", dom->kernel_id);
	if (strcmp(property, "DataType") == 0)
		return sd_bus_message_append(reply, "u", dom->data_type);
	if (strcmp(property, "Invalidations") == 0)
		return sd_bus_message_append(reply, "t", dom->invalidations);
	if (strcmp(property, "Viommu") == 0)
		return sd_bus_message_append(reply, "o", dom->viommu ? dom->viommu->path : "/");
	r = sd_bus_message_open_container(reply, 'a', "o");
	for (struct vm_device *vd = dom->vm->devices; r >= 0 && vd; vd = vd->next)
		if (vd->domain == dom)
			r = sd_bus_message_append(reply, "o", vd->device->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int domain_device_arg(struct domain *dom, sd_bus_message *m, struct vm_device **out,
			     sd_bus_error *error)
{
	const char *path;
	struct device *dev;
	int r = sd_bus_message_read(m, "o", &path);

	if (r < 0)
		return r;
	dev = device_by_path(dom->vm->daemon, path);
	if (!dev)
		return error_set(error, VIOMMU_ERROR_NOT_FOUND, "no device %s", path);
	*out = vm_device_of(dom->vm, dev);
	if (!*out)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s is not attached to VM %s", dev->name, dom->vm->name);
	return 0;
}

int domain_attach_device(struct domain *dom, struct vm_device *vd, sd_bus_error *error)
{
	int r;

	if (vd->device->vendor != dom->vendor)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s is not behind this domain's IOMMU", vd->device->name);
	r = vm_device_replace(dom->vm, vd, dom->kernel_id);
	if (r < 0)
		return error_errno(error, r, "cannot attach %s to domain %u", vd->device->name,
				   dom->kernel_id);
	vd->domain = dom;
	return 0;
}

static int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct domain *dom = userdata;
	struct vm_device *vd;
	int r = domain_device_arg(dom, m, &vd, error);

	if (r >= 0)
		r = domain_attach_device(dom, vd, error);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(m, NULL);
}

static int method_detach(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct domain *dom = userdata;
	struct vm_device *vd;
	int r = domain_device_arg(dom, m, &vd, error);

	if (r < 0)
		return r;
	if (vd->domain != dom)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT, "%s is not on this domain",
				 vd->device->name);
	r = vm_device_replace(dom->vm, vd, dom->vm->parent_id);
	if (r < 0)
		return error_kernel(error, r, "attach", "cannot move the device back to the parent");
	vd->domain = NULL;
	return sd_bus_reply_method_return(m, NULL);
}

static int method_invalidate(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct domain *dom = userdata;

	const struct viommu_vendor *vendor = dom->vendor;

	return invalidate_reply(m, dom->vm, dom->kernel_id,
				vendor->nest_anchor == VIOMMU_NEST_ON_PARENT ? &vendor->invalidate
									  : &vendor->hwpt_invalidate,
				&dom->invalidations, error);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct domain *dom = userdata;
	int r;

	for (struct vm_device *vd = dom->vm->devices; vd; vd = vd->next)
		if (vd->domain == dom)
			return error_set(error, VIOMMU_ERROR_BUSY,
					 "%s is attached to it: detach it first", vd->device->name);
	r = domain_destroy(dom, false);
	if (r < 0)
		return error_errno(error, r, "cannot destroy the domain");
	return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable domain_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("KernelId", "u", prop_domain, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("DataType", "u", prop_domain, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Viommu", "o", prop_domain, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Devices", "ao", prop_domain, 0, 0),
	SD_BUS_PROPERTY("Invalidations", "t", prop_domain, 0, 0),
	SD_BUS_METHOD_WITH_NAMES("Attach", "o", SD_BUS_PARAM(device), "", , method_attach,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Detach", "o", SD_BUS_PARAM(device), "", , method_detach,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Invalidate", "uuay",
				 SD_BUS_PARAM(data_type) SD_BUS_PARAM(entry_len) SD_BUS_PARAM(entries),
				 "ui", SD_BUS_PARAM(handled) SD_BUS_PARAM(error), method_invalidate,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};
