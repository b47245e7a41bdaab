/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The model on D-Bus: each object's vtable, its method handlers (they decode
 * the arguments, call the model, encode the reply) and the daemon's glue to
 * the transport. Handlers fill an sd_bus_error through errors.h.
 */
#pragma once

#include <systemd/sd-bus.h>

#include "model.h"
#include "server.h"

/* daemon.c */
int daemon_init(struct daemon *d, struct event_base *base, struct config *config);
void daemon_fini(struct daemon *d);
/* Registers every vtable on a new connection (server callback). */
int daemon_attach_bus(sd_bus *bus, void *userdata);
/* Tears down the VMs of a peer that left, unless they persist (server callback). */
void daemon_peer_gone(const char *peer_id, void *userdata);
/* The private socket is for callers who may use the API: root, and users
 * allowed VMs or the raw-fd grant. Others use the system bus, read-only. */
bool daemon_may_connect(const struct server_peer *peer, void *userdata);
/* Hands the config's connection quotas to the server. */
void daemon_apply_limits(struct daemon *d);
/* Replaces the config (SIGHUP); the old one is freed. */
void daemon_set_config(struct daemon *d, struct config *config);
/* Tells the service manager how many VMs and devices are in use (STATUS=). */
void daemon_update_status(struct daemon *d);

/* Frees a NULL-terminated string array (what node enumerators hand sd-bus). */
void strv_free(char **strv);

/* Access: the caller of the current message. */
int daemon_caller(sd_bus_message *m, struct server_peer *out, sd_bus_error *error);
/* PermissionDenied unless the caller holds the raw-fd (fast-path) grant. */
int vm_require_raw_grant(struct daemon *d, sd_bus_message *m, const char *what,
			 sd_bus_error *error);

/* objects-dbus.c: InterfacesAdded and InterfacesRemoved of the ObjectManager
 * at /org/viommu1 (a VM's objects to its owner alone, devices to everyone). */
void object_signal_added(struct daemon *d, struct vm *vm, enum model_object kind,
			 const char *path, void *object);
void object_signal_removed(struct daemon *d, struct vm *vm, enum model_object kind,
			   const char *path);
/* A bus filter: a caller of GetManagedObjects follows the objects from then on. */
int object_manager_filter(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* vm-dbus.c: a signal of path about vm, to the VM's owner alone (on the system
 * bus a unicast: sd-bus 252 has no sd_bus_emit_signal_to); -ENOTCONN when the
 * owner's connection is gone. *out_bus (may be NULL) gets the connection. */
int vm_owner_signal_new(const struct vm *vm, const char *path, const char *iface,
			const char *member, sd_bus **out_bus, sd_bus_message **out);
/* The caller of the message being dispatched may see vm (no message: a
 * signal the daemon emits, true). */
bool vm_visible_now(sd_bus *bus, const struct vm *vm);
/* PropertiesChanged of one Vm property, to the owner alone. */
void vm_property_changed(struct vm *vm, const char *property);

/* device.c */
extern const sd_bus_vtable device_vtable[];
int device_find(sd_bus *bus, const char *path, const char *iface, void *ud, void **found,
		sd_bus_error *error);
int device_enumerate(sd_bus *bus, const char *prefix, void *ud, char ***nodes,
		     sd_bus_error *error);

/* manager.c */
extern const sd_bus_vtable manager_vtable[];
/* orphans.c: Manager.ListOrphans and Manager.ReleaseOrphan (root only) */
int manager_method_list_orphans(sd_bus_message *m, void *userdata, sd_bus_error *error);
int manager_method_release_orphan(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* What a stored fd is (its device numbers, what sysfs says of them). */
void orphan_describe(const struct stored_fd *sf, const char *sysfs_root, char *buf, size_t len);

/* vm-dbus.c */
extern const sd_bus_vtable vm_vtable[];
int vm_find(sd_bus *bus, const char *path, const char *iface, void *ud, void **found,
	    sd_bus_error *error);
int vm_enumerate(sd_bus *bus, const char *prefix, void *ud, char ***nodes, sd_bus_error *error);

/* metrics-dbus.c: Manager.GetMetrics and the method latencies it shows */
int metrics_init(struct daemon *d);
void metrics_fini(struct daemon *d);
int manager_method_get_metrics(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* A bus filter: a call of ours is being dispatched, measure it. */
int metrics_filter(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* The loop dispatched a message on bus: its measurement ends (server callback). */
void daemon_after_dispatch(sd_bus *bus, void *userdata);

/* state-intent-dbus.c: a bus filter calling state_begin (state.h) for every
 * call that may change state. */
int state_bus_filter(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* msg-limits.c: a bus filter refusing messages over quota_message_fds/_bytes */
int message_limits_filter(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* batch-dbus.c: Vm.AttachDevices and Viommu.NestDevices, all or nothing */
int vm_method_attach_devices(sd_bus_message *m, void *userdata, sd_bus_error *error);
int viommu_method_nest_devices(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* vmm-dbus.c */
int vm_method_bind_vmm(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* vm-dirty-dbus.c */
int vm_method_set_dirty_tracking(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_method_read_dirty_bitmap(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* faultq-dbus.c */
extern const sd_bus_vtable fault_queue_vtable[];
int vm_method_open_fault_queue(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* The relay's Fault signal, to the VM's owner. */
void fault_queue_signal_fault(struct fault_queue *q, const struct kabi_iommu_hwpt_pgfault *f,
			      const char *device_path);

/* vm-options-dbus.c: the a{sv} options of CreateVm, AttachDevice and AllocDomain */
int vm_options_read(sd_bus_message *m, struct vm_options *out, sd_bus_error *error);
int attach_options_read(sd_bus_message *m, struct attach_options *out, sd_bus_error *error);
/* "fault-queue": a path, or "" for none. */
int domain_options_read(sd_bus_message *m, char *fault_queue, size_t size, sd_bus_error *error);

/* viommu-dbus.c, domain-dbus.c, vdevice-dbus.c, hwqueue-dbus.c, veventq-dbus.c */
extern const sd_bus_vtable viommu_vtable[];
extern const sd_bus_vtable domain_vtable[];
extern const sd_bus_vtable vdevice_vtable[];
extern const sd_bus_vtable hw_queue_vtable[];
int object_find(sd_bus *bus, const char *path, const char *iface, void *ud, void **found,
		sd_bus_error *error);
/* Reads (u data_type, ay data, a{sv} options), allocates, replies with the path:
 * Vm.AllocDomain and Viommu.AllocDomain. */
int domain_method_alloc(sd_bus_message *m, struct vm *vm, struct viommu *viommu,
			sd_bus_error *error);
/* Reads (u data_type, u entry_len, ay entries), replies (u handled, i error):
 * Viommu.Invalidate and Domain.Invalidate. */
int invalidate_reply(sd_bus_message *m, struct vm *vm, uint32_t id,
		     const struct viommu_vendor_feature *feature, uint64_t *counter,
		     sd_bus_error *error);
int viommu_method_open_event_queue(sd_bus_message *m, void *userdata, sd_bus_error *error);
int viommu_method_alloc_hw_queue(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* The relay's signals: Viommu.Event and Viommu.EventsLost, to the owner. */
void viommu_signal_event(struct viommu *v, uint64_t virt_id, uint32_t type, const void *data,
			 size_t len, uint32_t seq);
void viommu_signal_events_lost(struct viommu *v, uint32_t type, uint32_t count, uint32_t seq);

/* describe-queues.c: the queue arrays of Describe() */
struct json_object;
struct json_object *describe_hw_queues(const struct viommu *v);
struct json_object *describe_fault_queues(const struct vm *vm);

/* describe.c: Manager.Describe, the whole visible model as JSON */
int describe_json(struct daemon *d, const struct server_peer *peer, char **out);
