/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.freedesktop.DBus.ObjectManager at /org/viommu1: sd-bus answers
 * GetManagedObjects from the node enumerators and find callbacks, which show
 * a caller only the devices and its own VMs (root: all). InterfacesAdded and
 * InterfacesRemoved are built here from the model's hooks, for the peers
 * that follow the object manager (they called GetManagedObjects: a peer-to-
 * peer connection has no match rules, and a client that never reads would
 * only fill its socket). Devices go to each of them (on the system bus as a
 * broadcast, for the bus's match rules); a VM's objects only to those that
 * may see the VM (its owner's uid and root), on the system bus as a unicast,
 * as sd-bus 252 has no sd_bus_emit_interfaces_added_to.
 */
#include "daemon.h"

#include <string.h>

#include "log.h"
#include "properties.h"

static const struct {
	const char *iface;
	const sd_bus_vtable *vtable;
} object_kinds[] = {
	[MODEL_DEVICE] = { VIOMMU_IFACE_DEVICE, device_vtable },
	[MODEL_VM] = { VIOMMU_IFACE_VM, vm_vtable },
	[MODEL_VIOMMU] = { VIOMMU_IFACE_VIOMMU, viommu_vtable },
	[MODEL_DOMAIN] = { VIOMMU_IFACE_DOMAIN, domain_vtable },
	[MODEL_VDEVICE] = { VIOMMU_IFACE_VDEVICE, vdevice_vtable },
	[MODEL_HW_QUEUE] = { VIOMMU_IFACE_HW_QUEUE, hw_queue_vtable },
	[MODEL_FAULT_QUEUE] = { VIOMMU_IFACE_FAULT_QUEUE, fault_queue_vtable },
};

/* {interface: {property: value}} of one object, as GetManagedObjects has it. */
static int append_interface(sd_bus *bus, sd_bus_message *m, enum model_object kind,
			    const char *path, void *object)
{
	const char *iface = object_kinds[kind].iface;
	int r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");

	if (r >= 0)
		r = sd_bus_message_open_container(m, 'e', "sa{sv}");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", iface);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	for (const sd_bus_vtable *v = object_kinds[kind].vtable;
	     r >= 0 && v->type != _SD_BUS_VTABLE_END; v++)
		if (v->type == _SD_BUS_VTABLE_PROPERTY)
			r = bus_property_append_entry(bus, m, v, path, iface, object);
	for (int i = 0; r >= 0 && i < 3; i++)
		r = sd_bus_message_close_container(m);
	return r;
}

struct object_signal {
	const char *member; /* InterfacesAdded or InterfacesRemoved */
	const char *destination; /* a unique name, or NULL */
	const struct vm *vm;	 /* whose object it is; NULL: a device */
	enum model_object kind;
	const char *path;
	void *object; /* NULL: removed */
};

static void object_signal_send(sd_bus *bus, void *userdata)
{
	const struct object_signal *s = userdata;
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_signal(bus, &m, VIOMMU_ROOT_PATH,
					  "org.freedesktop.DBus.ObjectManager", s->member);

	if (r >= 0 && s->destination)
		r = sd_bus_message_set_destination(m, s->destination);
	if (r >= 0)
		r = sd_bus_message_append(m, "o", s->path);
	if (r >= 0 && s->object)
		r = append_interface(bus, m, s->kind, s->path, s->object);
	else if (r >= 0)
		r = sd_bus_message_append(m, "as", 1, object_kinds[s->kind].iface);
	if (r >= 0)
		r = sd_bus_send(NULL, m, NULL);
	if (r < 0)
		log_debug("cannot send %s(%s): %s", s->member, s->path, strerror(-r));
	sd_bus_message_unref(m);
}

/* To one peer that follows the objects and may see this one. */
static void object_signal_to_peer(sd_bus *bus, const struct server_peer *peer, void *userdata)
{
	struct object_signal *s = userdata;

	if (!peer->follows_objects)
		return;
	if (!s->vm && !peer->p2p)
		return; /* a device's: the system-bus broadcast */
	if (s->vm && !vm_visible_to(s->vm, peer))
		return;
	s->destination = peer->p2p ? NULL : peer->id;
	object_signal_send(bus, s);
}

static void object_signal(struct daemon *d, struct object_signal *s)
{
	sd_bus *system = d->server ? server_system_bus(d->server) : NULL;

	if (!d->server)
		return; /* the model driven in process */
	server_foreach_peer(d->server, object_signal_to_peer, s);
	if (!s->vm && system) {
		s->destination = NULL;
		object_signal_send(system, s);
	}
}

int object_manager_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	struct server_peer peer;

	if (d->server &&
	    sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager",
					  "GetManagedObjects") &&
	    server_peer(m, &peer) == 0)
		server_peer_follow_objects(d->server, peer.id);
	return 0;
}

void object_signal_added(struct daemon *d, struct vm *vm, enum model_object kind,
			 const char *path, void *object)
{
	struct object_signal s = { "InterfacesAdded", NULL, vm, kind, path, object };

	object_signal(d, &s);
}

void object_signal_removed(struct daemon *d, struct vm *vm, enum model_object kind,
			   const char *path)
{
	struct object_signal s = { "InterfacesRemoved", NULL, vm, kind, path, NULL };

	object_signal(d, &s);
}
