/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The org.viommu1.Vm object: its properties and methods, and finding it. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authorize.h"
#include "errors.h"
#include "log-event.h"
#include "log.h"
#include "options.h"
#include "properties.h"

/* --- properties --- */

/* Owner is read by sd-bus from the uid_t field, as a "u". */
_Static_assert(sizeof(uid_t) == sizeof(uint32_t), "uid_t is not 32 bits");

static int prop_mode(sd_bus *bus, const char *path, const char *iface, const char *property,
		     sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return sd_bus_message_append(reply, "s", vm->mode == VM_MODE_BROKER ? "broker" : "managed");
}

static int prop_vmm_pid(sd_bus *bus, const char *path, const char *iface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return sd_bus_message_append(reply, "u", (uint32_t)(vm->vmm_pidfd >= 0 ? vm->vmm_pid : 0));
}

static int prop_claimed(sd_bus *bus, const char *path, const char *iface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	return sd_bus_message_append(reply, "b", !vm->unclaimed);
}

static int prop_devices(sd_bus *bus, const char *path, const char *iface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "o");

	for (struct vm_device *vd = vm->devices; r >= 0 && vd; vd = vd->next)
		r = sd_bus_message_append(reply, "o", vd->device->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int prop_viommus(sd_bus *bus, const char *path, const char *iface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "o");

	for (struct viommu *v = vm->viommus; r >= 0 && v; v = v->next)
		r = sd_bus_message_append(reply, "o", v->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int prop_domains(sd_bus *bus, const char *path, const char *iface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "o");

	for (struct domain *dom = vm->domains; r >= 0 && dom; dom = dom->next)
		r = sd_bus_message_append(reply, "o", dom->path);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int prop_iova_ranges(sd_bus *bus, const char *path, const char *iface,
			    const char *property, sd_bus_message *reply, void *userdata,
			    sd_bus_error *error)
{
	struct vm *vm = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "(tt)");

	for (uint32_t i = 0; r >= 0 && i < vm->nranges; i++)
		r = sd_bus_message_append(reply, "(tt)", vm->ranges[i].start, vm->ranges[i].last);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* --- methods --- */

/*
 * org.freedesktop.DBus.Properties.PropertiesChanged for one property of the
 * VM, with its new value, to the VM's owner only: on the system bus a
 * broadcast would tell every client about a VM they may not see (sd-bus 252
 * has no sd_bus_emit_properties_changed_to).
 */
int vm_owner_signal_new(const struct vm *vm, const char *path, const char *iface,
			const char *member, sd_bus **out_bus, sd_bus_message **out)
{
	sd_bus *bus = vm->daemon->server ? server_peer_bus(vm->daemon->server, vm->peer_id)
					  : NULL; /* no server: the model driven in process */
	int r;

	if (!bus)
		return -ENOTCONN;
	r = sd_bus_message_new_signal(bus, out, path, iface, member);
	if (r >= 0 && vm->peer_id[0] == ':')
		r = sd_bus_message_set_destination(*out, vm->peer_id);
	if (out_bus)
		*out_bus = bus;
	return r;
}

void vm_property_changed(struct vm *vm, const char *name)
{
	const sd_bus_vtable *p = bus_vtable_property(vm_vtable, name);
	sd_bus_message *m = NULL;
	sd_bus *bus = NULL;
	int r;

	if (!p)
		return;
	r = vm_owner_signal_new(vm, vm->path, "org.freedesktop.DBus.Properties",
				"PropertiesChanged", &bus, &m);
	if (r == -ENOTCONN)
		return; /* the owner is gone */
	if (r >= 0)
		r = sd_bus_message_append(m, "s", VIOMMU_IFACE_VM);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = bus_property_append_entry(bus, m, p, vm->path, VIOMMU_IFACE_VM, vm);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "as", 0);
	if (r >= 0)
		r = sd_bus_send(NULL, m, NULL);
	if (r < 0)
		log_debug("VM %s: cannot send PropertiesChanged(%s): %s", vm->name, name,
			  strerror(-r));
	sd_bus_message_unref(m);
}

static int method_map_memory(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct verror e = VERROR_INIT;
	uint64_t offset, length, iova;
	uint32_t flags;
	int memfd, r;

	r = sd_bus_message_read(m, "htttu", &memfd, &offset, &length, &iova, &flags);
	if (r < 0)
		return r;
	r = vm_map_memory(vm, memfd, offset, length, iova, flags, &e);
	return bus_reply_empty(m, error, &e, r);
}

static int method_unmap_memory(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct verror e = VERROR_INIT;
	uint64_t iova, length, unmapped = 0;
	int r;

	r = sd_bus_message_read(m, "tt", &iova, &length);
	if (r < 0)
		return r;
	r = vm_unmap_memory(vm, iova, length, &unmapped, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	return sd_bus_reply_method_return(m, "t", unmapped);
}

#define VM_ALLOW_RANGES_MAX 64

static int method_allow_iovas(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct verror e = VERROR_INIT;
	struct iommufd_iova_range ranges[VM_ALLOW_RANGES_MAX];
	uint32_t count = 0;
	uint64_t start, last;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "(tt)");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read(m, "(tt)", &start, &last)) > 0) {
		if (count == VM_ALLOW_RANGES_MAX)
			return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "at most %d ranges", VM_ALLOW_RANGES_MAX);
		if (last < start)
			return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
					 "range 0x%llx-0x%llx ends before it starts",
					 (unsigned long long)start, (unsigned long long)last);
		ranges[count].start = start;
		ranges[count].last = last;
		count++;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	r = vm_allow_iovas(vm, ranges, count, &e);
	return bus_reply_empty(m, error, &e, r);
}

static int vm_device_arg(struct vm *vm, sd_bus_message *m, struct device **out,
			 sd_bus_error *error)
{
	const char *path;
	int r = sd_bus_message_read(m, "o", &path);

	if (r < 0)
		return r;
	*out = device_by_path(vm->daemon, path);
	if (!*out)
		return bus_error_set(error, VIOMMU_ERROR_NOT_FOUND, "no device %s", path);
	return 0;
}

static int method_attach_device(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct verror e = VERROR_INIT;
	struct attach_options options;
	struct server_peer peer;
	struct device *dev;
	int r = vm_device_arg(vm, m, &dev, error);

	if (r >= 0)
		r = attach_options_read(m, &options, error);
	if (r >= 0)
		r = daemon_caller(m, &peer, error);
	if (r < 0)
		return r;
	r = vm_attach_device(vm, dev, &options, &peer, &e);
	return bus_reply_empty(m, error, &e, r);
}

static int method_detach_device(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct verror e = VERROR_INIT;
	struct device *dev;
	int r = vm_device_arg(vm, m, &dev, error);

	if (r < 0)
		return r;
	r = vm_detach_device(vm, dev, &e);
	return bus_reply_empty(m, error, &e, r);
}

static int method_create_viommu(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct verror e = VERROR_INIT;
	uint8_t data[VIOMMU_DATA_MAX];
	size_t data_len = 0;
	bool has_data = false;
	const struct option_spec specs[] = {
		{ "data", OPTION_BYTES, data, sizeof(data), &data_len, &has_data },
	};
	struct viommu *viommu;
	const char *type;
	int r = sd_bus_message_read(m, "s", &type);

	if (r >= 0)
		r = options_read(m, specs, 1, error);
	if (r < 0)
		return r;
	r = vm_require_managed(vm, "CreateViommu", &e);
	if (r >= 0)
		r = viommu_create(vm, type, has_data ? data : NULL, data_len, &viommu, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	return sd_bus_reply_method_return(m, "o", viommu->path);
}

static int method_alloc_domain(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct verror e = VERROR_INIT;
	int r = vm_require_managed(vm, "AllocDomain", &e);

	if (r < 0)
		return bus_error(error, &e, r);
	return domain_method_alloc(m, vm, NULL, error);
}

/*
 * The one grant for raw kernel objects (the fast path): a VM's iommufd, a
 * device's cdev, and so broker VMs, which exist to hand both over. With
 * either a VMM can change the VM behind the daemon's state.
 */
int vm_require_raw_grant(struct daemon *d, sd_bus_message *m, const char *what,
			 sd_bus_error *error)
{
	char have[96];

	snprintf(have, sizeof(have), "have %s", what);
	return daemon_authorize(d, m, AUTH_FAST_PATH, have, NULL, error);
}

static int method_get_iommufd(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct server_peer peer;
	int r = vm_require_raw_grant(vm->daemon, m, "a VM's iommufd", error);

	if (r >= 0)
		r = daemon_caller(m, &peer, error);
	if (r < 0)
		return r;
	vm_share_iommufd(vm, &peer);
	return sd_bus_reply_method_return(m, "h", vm->iommufd);
}

static int method_get_device_fd(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct verror e = VERROR_INIT;
	struct server_peer peer;
	struct device *dev;
	int r = vm_require_raw_grant(vm->daemon, m, "a device's VFIO cdev", error), fd;

	if (r < 0)
		return r;
	r = vm_device_arg(vm, m, &dev, error);
	if (r < 0)
		return r;
	r = daemon_caller(m, &peer, error);
	if (r < 0)
		return r;
	r = vm_open_device_fd(vm, dev, &peer, &fd, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	r = sd_bus_reply_method_return(m, "h", fd);
	close(fd);
	return r;
}

/* After a restart: the owner's new connection takes the VM over. */
static int method_claim(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	struct verror e = VERROR_INIT;
	struct server_peer peer;
	int r = daemon_caller(m, &peer, error);

	if (r < 0)
		return r;
	r = vm_claim(vm, &peer, server_peer_bus(vm->daemon->server, vm->peer_id) != NULL, &e);
	return bus_reply_empty(m, error, &e, r);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;

	log_info("VM %s (%s): Destroy", vm->name, vm->path);
	vm_teardown(vm);
	vm_free(vm);
	return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable vm_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Name", "s", bus_property_get_string, offsetof(struct vm, name),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Owner", "u", NULL, offsetof(struct vm, owner), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Mode", "s", prop_mode, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Persist", "b", bus_property_get_bool, offsetof(struct vm, persist),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Pasid", "b", bus_property_get_bool, offsetof(struct vm, pasid),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("DirtyTracking", "b", bus_property_get_bool,
			offsetof(struct vm, dirty_tracking), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("DirtyTrackingEnabled", "b", bus_property_get_bool,
			offsetof(struct vm, dirty_tracking_enabled),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Shared", "b", bus_property_get_bool, offsetof(struct vm, shared),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Nesting", "b", bus_property_get_bool, offsetof(struct vm, nesting),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Claimed", "b", prop_claimed, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("VmmPid", "u", prop_vmm_pid, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("IoasId", "u", NULL, offsetof(struct vm, ioas_id),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ParentId", "u", NULL, offsetof(struct vm, parent_id),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Devices", "ao", prop_devices, 0, 0),
	SD_BUS_PROPERTY("Viommus", "ao", prop_viommus, 0, 0),
	SD_BUS_PROPERTY("Domains", "ao", prop_domains, 0, 0),
	SD_BUS_PROPERTY("MappedBytes", "t", NULL, offsetof(struct vm, mapped_bytes), 0),
	SD_BUS_PROPERTY("IovaRanges", "a(tt)", prop_iova_ranges, 0, 0),
	SD_BUS_METHOD_WITH_NAMES("MapMemory", "htttu",
				 SD_BUS_PARAM(memfd) SD_BUS_PARAM(offset) SD_BUS_PARAM(length)
					 SD_BUS_PARAM(iova) SD_BUS_PARAM(flags),
				 "", , method_map_memory, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("UnmapMemory", "tt", SD_BUS_PARAM(iova) SD_BUS_PARAM(length),
				 "t", SD_BUS_PARAM(unmapped), method_unmap_memory,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("AllowIovas", "a(tt)", SD_BUS_PARAM(ranges), "", ,
				 method_allow_iovas, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("AttachDevice", "oa{sv}",
				 SD_BUS_PARAM(device) SD_BUS_PARAM(options), "", ,
				 method_attach_device, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("AttachDevices", "ao", SD_BUS_PARAM(devices), "", ,
				 vm_method_attach_devices, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("DetachDevice", "o", SD_BUS_PARAM(device), "", ,
				 method_detach_device, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("CreateViommu", "sa{sv}",
				 SD_BUS_PARAM(type) SD_BUS_PARAM(options), "o",
				 SD_BUS_PARAM(viommu), method_create_viommu,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("AllocDomain", "uaya{sv}",
				 SD_BUS_PARAM(data_type) SD_BUS_PARAM(data) SD_BUS_PARAM(options),
				 "o", SD_BUS_PARAM(domain), method_alloc_domain,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("GetIommufd", "", , "h", SD_BUS_PARAM(iommufd),
				 method_get_iommufd, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("GetDeviceFd", "o", SD_BUS_PARAM(device), "h",
				 SD_BUS_PARAM(fd), method_get_device_fd,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("OpenFaultQueue", "a{sv}", SD_BUS_PARAM(options), "oh",
				 SD_BUS_PARAM(fault_queue) SD_BUS_PARAM(fd),
				 vm_method_open_fault_queue, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("SetDirtyTracking", "b", SD_BUS_PARAM(enable), "", ,
				 vm_method_set_dirty_tracking, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ReadDirtyBitmap", "ttthu",
				 SD_BUS_PARAM(iova) SD_BUS_PARAM(length) SD_BUS_PARAM(page_size)
					 SD_BUS_PARAM(bitmap) SD_BUS_PARAM(flags),
				 "t", SD_BUS_PARAM(dirty_pages), vm_method_read_dirty_bitmap,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Claim", "", "", method_claim, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("BindVmm", "ht", SD_BUS_PARAM(pidfd) SD_BUS_PARAM(guest_bytes),
				 "t", SD_BUS_PARAM(memlock_limit), vm_method_bind_vmm,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

bool vm_visible_now(sd_bus *bus, const struct vm *vm)
{
	sd_bus_message *m = sd_bus_get_current_message(bus);
	struct server_peer peer;

	if (!m)
		return true; /* not a call: e.g. a signal the daemon emits */
	if (server_peer(m, &peer) < 0)
		return false;
	return vm_visible_to(vm, &peer);
}

int vm_find(sd_bus *bus, const char *path, const char *iface, void *ud, void **found,
	    sd_bus_error *error)
{
	struct vm *vm = vm_by_path(ud, path);

	/* Another user's VM does not exist, as far as the caller can tell. */
	if (!vm || !vm_visible_now(bus, vm))
		return 0;
	*found = vm;
	return 1;
}

/* Appends a copy of path to *list (n entries, NULL-terminated, cap slots). */
static int nodes_push(char ***list, size_t *n, size_t *cap, const char *path)
{
	if (*n + 1 >= *cap) {
		size_t grown_cap = *cap ? 2 * *cap : 64;
		char **grown = realloc(*list, grown_cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		*list = grown;
		*cap = grown_cap;
	}
	(*list)[*n] = strdup(path);
	if (!(*list)[*n])
		return -ENOMEM;
	(*list)[++*n] = NULL;
	return 0;
}

/* Every VM the caller may see, and the objects of each (introspection and
 * GetManagedObjects list them). */
int vm_enumerate(sd_bus *bus, const char *prefix, void *ud, char ***nodes, sd_bus_error *error)
{
	struct daemon *d = ud;
	size_t n = 0, cap = 0;
	char **list = NULL;
	int r = 0;

	for (struct vm *vm = d->vms; r == 0 && vm; vm = vm->next) {
		if (!vm_visible_now(bus, vm))
			continue;
		r = nodes_push(&list, &n, &cap, vm->path);
		for (struct viommu *v = vm->viommus; r == 0 && v; v = v->next) {
			r = nodes_push(&list, &n, &cap, v->path);
			for (struct hw_queue *q = v->hw_queues; r == 0 && q; q = q->next)
				r = nodes_push(&list, &n, &cap, q->path);
		}
		for (struct domain *dom = vm->domains; r == 0 && dom; dom = dom->next)
			r = nodes_push(&list, &n, &cap, dom->path);
		for (struct vdevice *v = vm->vdevices; r == 0 && v; v = v->next)
			r = nodes_push(&list, &n, &cap, v->path);
		for (struct fault_queue *q = vm->fault_queues; r == 0 && q; q = q->next)
			r = nodes_push(&list, &n, &cap, q->path);
	}
	if (r == 0 && !list) {
		list = calloc(1, sizeof(*list)); /* none: an empty list */
		r = list ? 0 : -ENOMEM;
	}
	if (r < 0) {
		strv_free(list);
		return r;
	}
	*nodes = list;
	return 0;
}
