/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "authorize.h"
#include "errors.h"
#include "log.h"
#include "selftest.h"
#include "state.h"
#include "uevent.h"

/* A call that changed state without committing it itself commits here,
 * once its dispatch is over. */
static void daemon_on_commit(evutil_socket_t fd, short events, void *arg)
{
	struct daemon *d = arg;

	if (d->intent.active)
		state_commit(d);
}

static void daemon_on_write_soon(evutil_socket_t fd, short events, void *arg)
{
	struct daemon *d = arg;
	int r = state_write(d);

	if (r < 0)
		log_warning("cannot write the state: %s", strerror(-r));
}

/* One timer for both: a write due sooner than asked is left as it is. */
static void state_write_within(struct daemon *d, unsigned int ms)
{
	struct timeval within = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	struct timeval due, now, want;

	if (!d->write_soon_event)
		return;
	if (evtimer_pending(d->write_soon_event, &due)) {
		event_base_gettimeofday_cached(d->base, &now);
		timeradd(&now, &within, &want);
		if (!timercmp(&want, &due, <))
			return;
	}
	if (evtimer_add(d->write_soon_event, &within) < 0)
		daemon_on_write_soon(-1, 0, d);
}

void state_write_soon(struct daemon *d)
{
	state_write_within(d, STATE_WRITE_SOON_MS);
}

void state_write_later(struct daemon *d)
{
	state_write_within(d, STATE_WRITE_LATER_MS);
}

struct signal_args {
	const char *member;
	const char *path;
};

static void emit_on(sd_bus *bus, void *ud)
{
	const struct signal_args *a = ud;
	int r = sd_bus_emit_signal(bus, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, a->member, "o",
				   a->path);

	if (r < 0)
		log_debug("cannot emit %s on a connection: %s", a->member, strerror(-r));
}

static void daemon_emit_device_signal(struct daemon *d, const char *member,
				      const struct device *dev)
{
	struct signal_args a = { member, dev->path };

	if (d->server)
		server_foreach_bus(d->server, emit_on, &a);
}

static void daemon_on_memory_change(struct vm *vm, uint64_t iova, uint64_t length)
{
	state_begin_range(vm->daemon, iova, length);
}

static void daemon_on_model_changed(struct daemon *d)
{
	state_commit(d);
}

/* The layers above the model: the bus (signals, STATUS=) and the state files. */
static const struct model_hooks daemon_model_hooks = {
	.object_added = object_signal_added,
	.object_removed = object_signal_removed,
	.vm_property_changed = vm_property_changed,
	.device_signal = daemon_emit_device_signal,
	.vm_gone = state_vm_gone,
	.usage_changed = daemon_update_status,
	.memory_change = daemon_on_memory_change,
	.changed = daemon_on_model_changed,
	.changed_soon = state_write_soon,
	.changed_later = state_write_later,
	.viommu_event = viommu_signal_event,
	.viommu_events_lost = viommu_signal_events_lost,
	.fault = fault_queue_signal_fault,
};

int daemon_init(struct daemon *d, struct event_base *base, struct config *config)
{
	int r;

	memset(d, 0, sizeof(*d));
	d->state_durable = -1;
	r = errors_register();
	if (r < 0)
		return r;
	d->commit_event = event_new(base, -1, 0, daemon_on_commit, d);
	d->write_soon_event = evtimer_new(base, daemon_on_write_soon, d);
	if (!d->commit_event || !d->write_soon_event)
		return -ENOMEM;
	r = metrics_init(d);
	if (r < 0)
		return r;
	return model_init(d, base, config, &daemon_model_hooks);
}

void daemon_fini(struct daemon *d)
{
	polkit_free(d);
	model_stop(d);
	if (d->commit_event)
		event_free(d->commit_event);
	if (d->write_soon_event) {
		/* Whatever was due is written now. */
		if (evtimer_pending(d->write_soon_event, NULL))
			daemon_on_write_soon(-1, 0, d);
		event_free(d->write_soon_event);
		d->write_soon_event = NULL;
	}
	if (d->claim_timer)
		event_free(d->claim_timer);
	d->commit_event = d->claim_timer = NULL;
	/* Orphans stay in the service manager's store; our copies just close. */
	for (size_t i = 0; i < d->norphans; i++)
		close(d->orphans[i].fd);
	free(d->orphans);
	d->orphans = NULL;
	d->norphans = 0;
	state_files_free(d);
	model_fini(d);
	metrics_fini(d);
}

void daemon_apply_limits(struct daemon *d)
{
	struct server_limits limits = {
		.connections_per_uid = d->config->quota_connections,
		.queued_messages = d->config->quota_queued_messages,
		.stall_seconds = d->config->connection_stall_seconds,
		/* Up to twice the quota a message is read and answered QuotaExceeded
		 * (msg-limits.c); past that its connection goes at its header. */
		.message_bytes_cap = 2 * d->config->quota_message_bytes,
		.message_fds_cap = 2 * d->config->quota_message_fds + 1,
	};

	if (d->server)
		server_set_limits(d->server, &limits);
}

void daemon_set_config(struct daemon *d, struct config *config)
{
	config_free(d->config);
	d->config = config;
	daemon_apply_limits(d);
	/* Assignability and the mock devices on offer follow the config. */
	device_inventory_scan(d);
}

static int daemon_register_objects(sd_bus *bus, struct daemon *d);

/* A private-socket connection's objects are registered with its first call
 * (Peer aside: sd-bus answers it without them), so a connection that only
 * connects, pings or goes costs no more than a bare sd-bus server's. sd-bus
 * runs the filters again when one adds filters, so the call that triggers
 * this meets the limits and intent filters and finds its object. */
static int attach_on_first_call(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *iface = sd_bus_message_get_interface(m);
	sd_bus *bus = sd_bus_message_get_bus(m);
	struct daemon *d = userdata;
	int r;

	if (!d || !sd_bus_message_is_method_call(m, NULL, NULL) ||
	    (iface && strcmp(iface, "org.freedesktop.DBus.Peer") == 0))
		return 0;
	/* Once: this filter stays, with nothing to do. */
	sd_bus_slot_set_userdata(sd_bus_get_current_slot(bus), NULL);
	r = daemon_register_objects(bus, d);
	if (r < 0) {
		r = sd_bus_reply_method_errorf(m, SD_BUS_ERROR_NO_MEMORY,
					       "cannot register the objects: %s", strerror(-r));
		return r < 0 ? r : 1; /* answered: no handler runs */
	}
	return 0;
}

int daemon_attach_bus(sd_bus *bus, void *userdata)
{
	struct daemon *d = userdata;

	/* The system bus is one connection for everyone: registered now. */
	if (sd_bus_is_bus_client(bus))
		return daemon_register_objects(bus, d);
	d->counters.connections_accepted++;
	daemon_counters_changed(d);
	return sd_bus_add_filter(bus, NULL, attach_on_first_call, d);
}

static int daemon_register_objects(sd_bus *bus, struct daemon *d)
{
	int r;

	r = sd_bus_add_object_vtable(bus, NULL, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER,
				     manager_vtable, d);
	if (r >= 0)
		r = sd_bus_add_object_manager(bus, NULL, VIOMMU_ROOT_PATH);
	/* The oldest of our filters runs last: a call measured is one the
	 * others let through to its handler. */
	if (r >= 0)
		r = sd_bus_add_filter(bus, NULL, metrics_filter, d);
	if (r >= 0)
		r = sd_bus_add_filter(bus, NULL, object_manager_filter, d);
	/* Before any handler: the per-message limits, then polkit (system bus),
	 * then the intent of a call that changes state (sd-bus runs the newest
	 * filter first). */
	if (r >= 0)
		r = sd_bus_add_filter(bus, NULL, state_bus_filter, d);
	if (r >= 0 && sd_bus_is_bus_client(bus))
		r = sd_bus_add_filter(bus, NULL, polkit_filter, d);
	if (r >= 0)
		r = sd_bus_add_filter(bus, NULL, message_limits_filter, d);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(bus, NULL, VIOMMU_DEVICE_PREFIX, VIOMMU_IFACE_DEVICE,
					       device_vtable, device_find, d);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(bus, NULL, VIOMMU_DEVICE_PREFIX, device_enumerate, d);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(bus, NULL, VIOMMU_VM_PREFIX, VIOMMU_IFACE_VM,
					       vm_vtable, vm_find, d);
	if (r >= 0)
		r = sd_bus_add_node_enumerator(bus, NULL, VIOMMU_VM_PREFIX, vm_enumerate, d);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(bus, NULL, VIOMMU_VM_PREFIX, VIOMMU_IFACE_VIOMMU,
					       viommu_vtable, object_find, d);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(bus, NULL, VIOMMU_VM_PREFIX, VIOMMU_IFACE_DOMAIN,
					       domain_vtable, object_find, d);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(bus, NULL, VIOMMU_VM_PREFIX, VIOMMU_IFACE_VDEVICE,
					       vdevice_vtable, object_find, d);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(bus, NULL, VIOMMU_VM_PREFIX, VIOMMU_IFACE_HW_QUEUE,
					       hw_queue_vtable, object_find, d);
	if (r >= 0)
		r = sd_bus_add_fallback_vtable(bus, NULL, VIOMMU_VM_PREFIX,
					       VIOMMU_IFACE_FAULT_QUEUE, fault_queue_vtable,
					       object_find, d);
	if (r < 0)
		log_error("cannot register the D-Bus objects: %s", strerror(-r));
	return r < 0 ? r : 0;
}

bool daemon_may_connect(const struct server_peer *peer, void *userdata)
{
	const struct daemon *d = userdata;

	return peer->uid == 0 ||
	       config_may_create_vm(d->config, peer->uid, peer->gid, peer->groups, peer->ngroups) ||
	       config_may_take_fast_path(d->config, peer->uid, peer->gid, peer->groups,
					 peer->ngroups);
}

void daemon_peer_gone(const char *peer_id, void *userdata)
{
	struct daemon *d = userdata;
	struct vm *vm = d->vms, *next;
	bool changed = false;

	polkit_forget(d, peer_id);
	for (; vm; vm = next) {
		next = vm->next;
		/* A VM bound to its VMM's process goes when the process does. */
		if (strcmp(vm->peer_id, peer_id) != 0 || vm->persist || vm->vmm_pidfd >= 0)
			continue;
		log_info("VM %s (%s): its owner %s went away, tearing it down", vm->name, vm->path,
			 peer_id);
		vm_teardown(vm);
		vm_free(vm);
		changed = true;
	}
	if (changed)
		state_commit(d);
}

int daemon_caller(sd_bus_message *m, struct server_peer *out, sd_bus_error *error)
{
	int r = server_peer(m, out);

	if (r < 0)
		return bus_error_set(error, VIOMMU_ERROR_PERMISSION_DENIED,
				 "cannot tell who is calling (%s)", strerror(-r));
	return 0;
}

void daemon_update_status(struct daemon *d)
{
	unsigned int devices = 0, attached = 0;

	for (struct device *dev = d->devices; dev; dev = dev->next) {
		devices += dev->present;
		attached += dev->vm != NULL;
	}
	sd_notifyf(0, "STATUS=%zu VMs, %u of %u devices attached", d->nvm_index, attached, devices);
}

void strv_free(char **strv)
{
	for (char **p = strv; p && *p; p++)
		free(*p);
	free(strv);
}
