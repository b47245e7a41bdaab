/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Devices joining and leaving a VM: VFIO cdevs and selftest mock devices. */
#include "model.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fd-identity.h"
#include "log-event.h"
#include "log.h"
#include "selftest.h"
#include "vfio.h"

/* Binds a PCI device to vfio-pci when the config lets the daemon do so. */
static int vm_device_make_vfio(struct vm *vm, struct device *dev, struct verror *error)
{
	struct daemon *d = vm->daemon;
	struct pci_driver_binding saved;
	int r;

	if (strcmp(dev->pci.driver, "vfio-pci") == 0 && dev->pci.vfio_cdev[0])
		return 0;
	if (!d->config->bind_on_demand)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s is not bound to vfio-pci and bind_on_demand is off: call "
				 "BindVfio on it first",
				 dev->name);
	r = pci_sysfs_bind_vfio(d->sysfs_root, dev->name, &saved);
	if (r < 0)
		return error_errno(error, r, "cannot bind %s to vfio-pci", dev->name);
	if (!dev->daemon_bound) {
		dev->saved = saved;
		dev->daemon_bound = strcmp(saved.driver, "vfio-pci") != 0;
	}
	device_refresh(d, dev);
	log_info("%s bound to vfio-pci on demand (was %s)", dev->name,
		 saved.driver[0] ? saved.driver : "unbound");
	return 0;
}

/* The nesting parent, made with the first device; a plain paging domain
 * where that device's IOMMU cannot nest. */
static int vm_ensure_parent(struct vm *vm, uint32_t dev_id, bool mock, struct verror *error)
{
	struct iommufd_hwpt_alloc_args args = {
		.dev_id = dev_id,
		.pt_id = vm->ioas_id,
		.flags = KABI_IOMMU_HWPT_ALLOC_NEST_PARENT |
			 (vm->pasid ? KABI_IOMMU_HWPT_ALLOC_PASID : 0) |
			 (vm->dirty_tracking ? KABI_IOMMU_HWPT_ALLOC_DIRTY_TRACKING : 0),
	};
	int r;

	if (vm->parent_id)
		return 0;
	vm->parent_mock = mock;
	r = iommufd_hwpt_alloc(vm->iommufd, &args, &vm->parent_id);
	if (r == 0) {
		vm->nesting = true;
		model_vm_property_changed(vm, "ParentId");
		model_vm_property_changed(vm, "Nesting");
		return 0;
	}
	if (r != -EOPNOTSUPP)
		return error_kernel(error, r, "IOMMU_HWPT_ALLOC", "cannot allocate the nesting parent");
	args.flags &= ~(uint32_t)KABI_IOMMU_HWPT_ALLOC_NEST_PARENT;
	r = iommufd_hwpt_alloc(vm->iommufd, &args, &vm->parent_id);
	/* The kernel fixes dirty tracking at allocation: no quiet downgrade. */
	if (r == -EOPNOTSUPP && vm->dirty_tracking)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "the IOMMU of this device cannot track dirty pages, and VM %s was "
				 "created with dirty-tracking",
				 vm->name);
	if (r < 0)
		return error_kernel(error, r, "IOMMU_HWPT_ALLOC", "cannot allocate a paging domain");
	vm->nesting = false;
	model_vm_property_changed(vm, "ParentId");
	log_info("VM %s: the IOMMU of the first device cannot nest; a plain paging domain is used",
		 vm->name);
	return 0;
}

int vm_device_replace(struct vm *vm, struct vm_device *vd, uint32_t pt_id)
{
	uint32_t got = pt_id;
	int r;

	if (vd->device->mock)
		r = mock_device_replace(vm->iommufd, vd->stdev_id, &got);
	else
		r = vfio_device_attach_pt(vd->devfd, pt_id, &got);
	if (r == 0)
		vd->pt_id = got;
	return r;
}

static void vm_device_unwatch_request(struct vm_device *vd)
{
	if (vd->req_event) {
		event_free(vd->req_event);
		vd->req_event = NULL;
	}
	if (vd->req_fd >= 0) {
		vfio_device_set_irq_eventfd(vd->devfd, KABI_VFIO_PCI_REQ_IRQ_INDEX, -1);
		close(vd->req_fd);
		vd->req_fd = -1;
	}
}

/* The kernel wants the device (unbind or removal) and waits for every fd of
 * it to close: take it out of the VM now rather than wedge the host. */
static void vm_device_on_request(evutil_socket_t fd, short events, void *arg)
{
	struct vm_device *vd = arg;
	struct device *dev = vd->device;
	struct vm *vm = dev->vm;
	uint64_t count;

	if (read(fd, &count, sizeof(count)) < 0)
		return;
	log_warning("VM %s: the kernel asks for %s back; detaching it", vm->name, dev->name);
	vm_device_force_release(vm, vd);
	vm_mark_dirty(vm);
	model_changed(vm->daemon);
}

void vm_device_watch_request(struct vm *vm, struct vm_device *vd)
{
	struct vfio_dev_irq irq;

	if (vfio_device_get_irq_info(vd->devfd, KABI_VFIO_PCI_REQ_IRQ_INDEX, &irq) < 0 ||
	    irq.count == 0)
		return;
	vd->req_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->req_fd < 0)
		return;
	vd->req_event = event_new(vm->daemon->base, vd->req_fd, EV_READ | EV_PERSIST,
				  vm_device_on_request, vd);
	if (!vd->req_event || event_add(vd->req_event, NULL) < 0 ||
	    vfio_device_set_irq_eventfd(vd->devfd, KABI_VFIO_PCI_REQ_IRQ_INDEX, vd->req_fd) < 0) {
		log_warning("VM %s: cannot watch the request IRQ of %s", vm->name, vd->device->name);
		vm_device_unwatch_request(vd);
	}
}

void vm_device_force_release(struct vm *vm, struct vm_device *vd)
{
	if (vd->domain) {
		vm_device_replace(vm, vd, vm->parent_id);
		vd->domain = NULL;
	}
	for (struct vdevice *v = vm->vdevices, *next; v; v = next) {
		next = v->next;
		if (v->device == vd->device)
			vdevice_destroy(v, true);
	}
	vm_device_release(vm, vd);
}

static void vm_device_free(struct vm *vm, struct vm_device *vd)
{
	for (struct vm_device **p = &vm->devices; *p; p = &(*p)->next) {
		if (*p == vd) {
			*p = vd->next;
			break;
		}
	}
	vd->device->vm = NULL;
	free(vd);
}

/* A VFIO cdev bound to the VM's iommufd keeps its binding across a restart
 * only from the fd store: "dev.<PCI address>". */
static void vm_device_store(struct vm *vm, struct vm_device *vd, bool store)
{
	char what[PCI_NAME_MAX + 8];

	snprintf(what, sizeof(what), "dev.%s", vd->device->name);
	if (store)
		vm_fd_store(vm, what, vd->devfd);
	else
		vm_fd_unstore(vm, what);
}

/* The parent goes with the last device, unless a vIOMMU or domain holds it. */
static void vm_drop_unused_parent(struct vm *vm)
{
	if (vm->devices || vm->viommus || vm->domains || !vm->parent_id)
		return;
	if (iommufd_destroy(vm->iommufd, vm->parent_id) == 0) {
		vm->parent_id = 0;
		model_vm_property_changed(vm, "ParentId");
	}
}

/* A PASID attachment must go before the device does: the selftest's device
 * destroy leaves PASIDs attached (and the kernel warns and leaks), so a failed
 * detach is tried once more. */
static void vm_device_detach_pasid(struct vm *vm, struct vm_device *vd)
{
	struct device *dev = vd->device;
	int r = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		r = dev->mock ? mock_pasid_detach(vm->iommufd, vd->stdev_id, vd->pasid)
			      : vfio_device_detach_pasid_pt(vd->devfd, vd->pasid);
		if (r == 0)
			return;
		log_warning("VM %s: cannot detach %s from PASID %u: %s%s", vm->name, dev->name,
			    vd->pasid, strerror(-r), attempt == 0 ? "; trying again" : "");
	}
}

void vm_device_release(struct vm *vm, struct vm_device *vd)
{
	struct device *dev = vd->device;

	if (vm->mode == VM_MODE_MANAGED) {
		if (vd->pasid_attached)
			vm_device_detach_pasid(vm, vd);
		if (dev->mock) {
			/* Destroying the selftest object unbinds and removes it. */
			int r = iommufd_destroy(vm->iommufd, vd->stdev_id);

			if (r < 0)
				log_warning("VM %s: cannot remove mock device %s: %s", vm->name,
					    dev->name, strerror(-r));
		} else if (vd->devfd >= 0) {
			vm_device_store(vm, vd, false);
			vm_device_unwatch_request(vd);
			vfio_device_detach_pt(vd->devfd);
			/* Closing the cdev unbinds it from the iommufd. */
			close(vd->devfd);
		}
	}
	bool handed_out = vd->fd_handed_out;

	log_event(LOG_EVENT_DEVICE_RELEASED, LOG_NOTICE,
		  LOG_FIELDS(.vm = vm->name, .device = dev->name, LOG_UID(vm->owner)),
		  "AUDIT unassign uid=%u vm=%s device=%s", (unsigned int)vm->owner, vm->name,
		  dev->name);
	dev->hw_info_from_kernel = false;
	vm_device_free(vm, vd);
	device_release(vm->daemon, dev, handed_out);
	vm_drop_unused_parent(vm);
	vm_refresh_ranges(vm);
}

void vm_device_read_hw_info(struct vm *vm, struct vm_device *vd)
{
	uint8_t data[256];
	struct iommufd_hw_info info;
	struct device *dev = vd->device;
	const struct viommu_vendor *vendor;

	if (iommufd_get_hw_info(vm->iommufd, vd->dev_id, 0, data, sizeof(data), &info) < 0)
		return;
	vendor = viommu_vendor_by_hw_info_type(info.type);
	if (!vendor || viommu_vendor_decode(vendor, data, info.data_len, &dev->caps) < 0)
		return;
	dev->vendor = vendor;
	dev->hw_info_from_kernel = true;
}

static int vm_attach_mock(struct vm *vm, struct vm_device *vd, struct verror *error)
{
	struct mock_device md;
	int r;

	r = mock_device_create(vm->iommufd, vm->ioas_id,
			       vm->pasid ? KABI_MOCK_FLAGS_DEVICE_PASID : 0, &md);
	if (r == -EADDRINUSE || r == -EINVAL || r == -ENOSPC)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s cannot join VM %s: its IOMMU cannot reach memory already mapped "
				 "(the mock aperture is 0x%x-0x%x)",
				 vd->device->name, vm->name, KABI_MOCK_APERTURE_START,
				 KABI_MOCK_APERTURE_LAST);
	if (r < 0)
		return error_kernel(error, r, "IOMMU_TEST_OP_MOCK_DOMAIN", "cannot create the mock device");
	vd->stdev_id = md.stdev_id;
	vd->dev_id = md.idev_id;
	vd->pt_id = md.hwpt_id;
	return 0;
}

static int vm_attach_vfio(struct vm *vm, struct vm_device *vd, const uint8_t *token,
			  struct verror *error)
{
	struct device *dev = vd->device;
	int r;

	r = vfio_device_open_by_bdf(vm->daemon->sysfs_root, dev->name, &vd->devfd);
	if (r < 0) {
		vd->devfd = -1;
		return error_errno(error, r, "cannot open the VFIO cdev of %s", dev->name);
	}
	r = vfio_device_bind_iommufd(vd->devfd, vm->iommufd, token, &vd->dev_id);
	if (r == -EPERM)
		return error_set(error, VIOMMU_ERROR_PERMISSION_DENIED,
				 "the kernel refused to bind %s: no interrupt remapping (see "
				 "iommufd.allow_unsafe_interrupts)", dev->name);
	if (r < 0)
		return error_kernel(error, r, "VFIO_DEVICE_BIND_IOMMUFD", dev->name);
	vm_device_watch_request(vm, vd);
	vm_device_store(vm, vd, true);
	return 0;
}

/* Undoes a half-made attachment, giving back a device bound on demand. */
static void vm_attach_abort(struct vm *vm, struct vm_device *vd)
{
	struct device *dev = vd->device;
	bool vd_handed_out;

	if (dev->mock && vd->stdev_id)
		iommufd_destroy(vm->iommufd, vd->stdev_id);
	if (vd->devfd >= 0) {
		vm_device_store(vm, vd, false);
		vm_device_unwatch_request(vd);
		close(vd->devfd);
	}
	vd_handed_out = vd->fd_handed_out;
	vm_device_free(vm, vd);
	device_release(vm->daemon, dev, vd_handed_out);
	vm_drop_unused_parent(vm);
	vm_refresh_ranges(vm);
}

int vm_attach_device(struct vm *vm, struct device *dev, const struct attach_options *options,
		     const struct server_peer *caller, struct verror *error)
{
	const bool has_token = options->has_vf_token, has_pasid = options->has_pasid;
	const uint32_t pasid = options->pasid;
	char reason[512];
	struct vm_device *vd;
	int r;

	if (dev->vm == vm)
		return error_set(error, VIOMMU_ERROR_BUSY, "%s is already attached to VM %s",
				 dev->name, vm->name);
	r = vm_check_object_quota(vm, "AttachDevice", error);
	if (r < 0)
		return r;
	if (dev->vm)
		return error_set(error, VIOMMU_ERROR_BUSY, "%s is attached to another VM", dev->name);
	/* A domain of one IOMMU driver must never reach a device of another: the
	 * kernel's replace path does not check the domain's owner, and the
	 * driver then works on a device it does not know (a host crash). */
	if (vm->parent_id && dev->mock != vm->parent_mock)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s cannot join VM %s: its domains belong to %s IOMMU and %s is %s",
				 dev->name, vm->name, vm->parent_mock ? "the selftest" : "a real",
				 dev->name,
				 dev->mock ? "a selftest mock device" : "behind a real IOMMU");
	if (dev->mock && vm->mode == VM_MODE_BROKER)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "%s is a selftest mock device: it has no cdev to hand to a broker VM",
				 dev->name);
	if (has_pasid && (vm->mode != VM_MODE_MANAGED || !vm->pasid))
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "attaching at a PASID needs a managed VM created with \"pasid\": true");
	if (has_token && vm->mode == VM_MODE_BROKER)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "in a broker VM the VMM binds the device and passes its VF token itself");
	if (!dev->mock) {
		/* Binding on demand is allowed to fix the driver: check the rest. */
		if (!device_assignable(vm->daemon, dev, reason, sizeof(reason)) &&
		    !(vm->daemon->config->bind_on_demand && strstr(reason, "bind_on_demand")))
			return error_set(error, VIOMMU_ERROR_PERMISSION_DENIED, "%s cannot be assigned: %s",
					 dev->name, reason);
		r = vm_device_make_vfio(vm, dev, error);
		if (r < 0)
			return r;
	}

	vd = calloc(1, sizeof(*vd));
	if (!vd)
		return -ENOMEM;
	vd->device = dev;
	vd->devfd = -1;
	vd->req_fd = -1;
	/* Appended: "the first attached device" picks vIOMMU and domain vendors. */
	struct vm_device **tail = &vm->devices;

	while (*tail)
		tail = &(*tail)->next;
	*tail = vd;
	dev->vm = vm;
	if (vm->mode == VM_MODE_BROKER) {
		log_info("VM %s: %s reserved for the VMM", vm->name, dev->name);
		audit_peer(caller, LOG_EVENT_DEVICE_ASSIGNED, "assign", vm->name, dev->name);
		return 0;
	}

	r = dev->mock ? vm_attach_mock(vm, vd, error)
		      : vm_attach_vfio(vm, vd, has_token ? options->vf_token : NULL, error);
	if (r < 0)
		goto fail;
	r = vm_ensure_parent(vm, vd->dev_id, dev->mock, error);
	if (r < 0)
		goto fail;
	r = vm_device_replace(vm, vd, vm->parent_id);
	if (r < 0) {
		if (r == -EINVAL || r == -EADDRINUSE || r == -ENOSPC)
			error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				  "%s cannot join VM %s's domain: its IOMMU is incompatible or cannot "
				  "reach memory already mapped (%s)",
				  dev->name, vm->name, strerror(-r));
		else
			error_kernel(error, r, "attach", dev->name);
		goto fail;
	}
	if (has_pasid) {
		uint32_t got = vm->parent_id;

		r = dev->mock ? mock_pasid_attach(vm->iommufd, vd->stdev_id, pasid, &got)
			      : vfio_device_attach_pasid_pt(vd->devfd, pasid, vm->parent_id, &got);
		if (r < 0) {
			error_errno(error, r, "cannot attach %s at PASID %u", dev->name, pasid);
			goto fail;
		}
		vd->pasid_attached = true;
		vd->pasid = pasid;
	}
	vm_device_read_hw_info(vm, vd);
	vm_refresh_ranges(vm);
	audit_peer(caller, LOG_EVENT_DEVICE_ASSIGNED, "assign", vm->name, dev->name);
	log_info("VM %s: %s attached (device %u on HWPT %u%s)", vm->name, dev->name, vd->dev_id,
		 vd->pt_id, vm->nesting ? ", nesting parent" : "");
	return 0;

fail:
	vm_attach_abort(vm, vd);
	return r;
}

int vm_detach_device(struct vm *vm, struct device *dev, struct verror *error)
{
	struct vm_device *vd = vm_device_of(vm, dev);

	if (!vd)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT, "%s is not attached to VM %s",
				 dev->name, vm->name);
	if (vd->domain)
		return error_set(error, VIOMMU_ERROR_BUSY,
				 "%s is on domain %s: detach it from the domain first", dev->name,
				 vd->domain->path);
	for (struct vdevice *v = vm->vdevices; v; v = v->next)
		if (v->device == dev)
			return error_set(error, VIOMMU_ERROR_BUSY,
					 "%s has vDEVICE %s: destroy it first", dev->name, v->path);
	log_info("VM %s: %s detached", vm->name, dev->name);
	vm_device_release(vm, vd);
	return 0;
}

int vm_open_device_fd(struct vm *vm, struct device *dev, const struct server_peer *caller,
		      int *out_fd, struct verror *error)
{
	struct vm_device *vd = vm_device_of(vm, dev);
	int r;

	if (!vd)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "%s is not attached to VM %s", dev->name, vm->name);
	if (dev->mock)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "%s is a selftest mock device: it has no VFIO cdev", dev->name);
	/* The policy in force now, not the one of the attach. */
	if (!config_device_allowed(vm->daemon->config, dev->name, dev->pci.vendor,
				   dev->pci.device))
		return error_set(error, VIOMMU_ERROR_PERMISSION_DENIED,
				 "%s is no longer allowed by allowed_devices: detach it", dev->name);
	if (vm->mode == VM_MODE_MANAGED) {
		/* The daemon's own open, checked to be this device's cdev. */
		r = fd_is_vfio_cdev_of(vm->daemon->sysfs_root, dev->name, vd->devfd);
		if (r < 0)
			return error_errno(error, r == -ENOTTY ? -ENODEV : r,
					   "the VFIO cdev of %s is not the one the VM opened",
					   dev->name);
		*out_fd = fcntl(vd->devfd, F_DUPFD_CLOEXEC, 3);
		if (*out_fd < 0)
			return error_errno(error, -errno, "cannot hand out the VFIO cdev of %s",
					   dev->name);
		audit_peer(caller, LOG_EVENT_FAST_PATH, "device-fd", vm->name, dev->name);
		vd->fd_handed_out = true;
		return 0;
	}
	/* Broker: one unbound open per reservation, for its VMM; the daemon
	 * keeps no copy (an unbound cdev cannot take the request IRQ, and would
	 * block the device's removal). A second fd would outlive the VM in
	 * another hand, so there is none. */
	if (vd->fd_handed_out)
		return error_set(error, VIOMMU_ERROR_BUSY,
				 "the cdev of %s was handed out for VM %s already: one per "
				 "reservation; destroy the VM to reserve it again",
				 dev->name, vm->name);
	audit_peer(caller, LOG_EVENT_FAST_PATH, "device-fd", vm->name, dev->name);
	r = vfio_device_open_by_bdf(vm->daemon->sysfs_root, dev->name, out_fd);
	if (r < 0)
		return error_errno(error, r, "cannot open the VFIO cdev of %s", dev->name);
	vd->fd_handed_out = true;
	return 0;
}
