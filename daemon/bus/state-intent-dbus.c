/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The intent record of a call, begun by a bus filter before its handler runs (state.h). */
#include "daemon.h"

#include <event2/event.h>
#include <string.h>

#include "authorize.h"
#include "state.h"

/* Calls that never change what the state file holds: no intent for them.
 * Invalidate is the hot path; the others only read. */
static bool member_is_read_only(const char *iface, const char *member)
{
	static const char *const read_only[] = {
		"ListDevices", "ListVms", "Describe", "Invalidate", "ReadDirtyBitmap",
		"ListOrphans", VIOMMU_MANAGER_GET_METRICS, "Get", "GetAll", "Introspect", "Ping",
		"GetMachineId",
	};

	if (iface && strcmp(iface, "org.freedesktop.DBus.Properties") == 0 &&
	    strcmp(member, "Set") != 0)
		return true;
	for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
		if (strcmp(member, read_only[i]) == 0)
			return true;
	return false;
}

/* Whether the call may change anything at all: its VM exists and the caller
 * may see it (or, on the manager, may create VMs). A call the handler will
 * refuse must leave no intent, or a restart would resolve it as if it ran. */
static bool call_may_change(struct daemon *d, sd_bus_message *m, const char *path,
			    const char *member)
{
	struct server_peer peer;
	struct vm *vm;

	if (server_peer(m, &peer) < 0)
		return false;
	if (strcmp(path, VIOMMU_ROOT_PATH) == 0)
		return strcmp(member, "CreateVm") == 0 &&
		       daemon_may(d, m, &peer, AUTH_MANAGE_VMS);
	if (strncmp(path, VIOMMU_DEVICE_PREFIX "/", strlen(VIOMMU_DEVICE_PREFIX) + 1) == 0)
		return daemon_may(d, m, &peer, AUTH_BIND_DEVICES); /* BindVfio, UnbindVfio */
	vm = vm_of_object_path(d, path);
	return vm && vm_visible_to(vm, &peer);
}

int state_bus_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	const char *member, *path;

	if (!sd_bus_message_is_method_call(m, NULL, NULL))
		return 0;
	member = sd_bus_message_get_member(m);
	path = sd_bus_message_get_path(m);
	if (!member || !path || member_is_read_only(sd_bus_message_get_interface(m), member) ||
	    !call_may_change(d, m, path, member))
		return 0;
	/* A call that did not commit (an error path) is over: its intent too. */
	if (d->intent.active)
		state_commit(d);
	state_begin(d, member, path);
	event_active(d->commit_event, 0, 0);
	return 0;
}
