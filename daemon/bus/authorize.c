/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "authorize.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "errors.h"
#include "wire.h"

static const struct {
	const char *id;
	const char *members[3];
} actions[AUTH_ACTION_COUNT] = {
	[AUTH_MANAGE_VMS] = { VIOMMU_ACTION_MANAGE_VMS, { "CreateVm" } },
	[AUTH_FAST_PATH] = { VIOMMU_ACTION_FAST_PATH, { "GetIommufd", "GetDeviceFd" } },
	[AUTH_BIND_DEVICES] = { VIOMMU_ACTION_BIND_DEVICES, { "BindVfio", "UnbindVfio" } },
	[AUTH_RELEASE_ORPHANS] = { VIOMMU_ACTION_RELEASE_ORPHANS,
				   { "ListOrphans", "ReleaseOrphan" } },
};

const char *auth_action_id(enum auth_action a)
{
	return a < AUTH_ACTION_COUNT ? actions[a].id : "?";
}

/* CreateVm with mode "broker" hands out raw fds too. Options that do not
 * decode ask for no more: the handler refuses them anyway. */
static bool create_vm_is_broker(sd_bus_message *m)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	struct vm_options options;
	const char *name;
	bool broker = sd_bus_message_read(m, "s", &name) >= 0 &&
		      vm_options_read(m, &options, &error) >= 0 &&
		      options.mode == VM_MODE_BROKER;

	sd_bus_error_free(&error);
	(void)sd_bus_message_rewind(m, true);
	return broker;
}

unsigned int auth_actions_of(sd_bus_message *m)
{
	const char *member = sd_bus_message_get_member(m);

	if (!member)
		return 0;
	for (unsigned int a = 0; a < AUTH_ACTION_COUNT; a++)
		for (size_t i = 0; i < sizeof(actions[a].members) / sizeof(actions[a].members[0]);
		     i++)
			if (actions[a].members[i] && strcmp(member, actions[a].members[i]) == 0)
				return a == AUTH_MANAGE_VMS && create_vm_is_broker(m)
					       ? AUTH_BIT(a) | AUTH_BIT(AUTH_FAST_PATH)
					       : AUTH_BIT(a);
	return 0;
}

bool daemon_may(struct daemon *d, sd_bus_message *m, const struct server_peer *peer,
		enum auth_action a)
{
	if (peer_is_root(peer) || polkit_granted(d, m, a))
		return true;
	/* polkit answered for this call, and did not grant a: it was not
	 * asked for a, which this call does not need. */
	if (polkit_decided(d, m))
		return false;
	switch (a) {
	case AUTH_MANAGE_VMS:
		return config_may_create_vm(d->config, peer->uid, peer->gid, peer->groups,
					    peer->ngroups);
	case AUTH_FAST_PATH:
		return config_may_take_fast_path(d->config, peer->uid, peer->gid, peer->groups,
						 peer->ngroups);
	default:
		return false; /* root's alone without polkit */
	}
}

/* Where a refused action is granted, without polkit. */
static const char *const grant_hint[AUTH_ACTION_COUNT] = {
	[AUTH_MANAGE_VMS] = "list the user or one of its groups in vm_users or vm_groups of ",
	[AUTH_FAST_PATH] = "raw kernel objects need the fast-path grant: list the user or one "
			   "of its groups in fast_path_users or fast_path_groups of ",
	[AUTH_BIND_DEVICES] = "driver changes are root's, whatever says ",
	[AUTH_RELEASE_ORPHANS] = "orphaned fds may hold any user's memory: they are root's, "
				 "whatever says ",
};

int daemon_authorize(struct daemon *d, sd_bus_message *m, enum auth_action a, const char *what,
		     struct server_peer *out_peer, sd_bus_error *error)
{
	struct server_peer peer;
	char audit[160];
	int r = daemon_caller(m, &peer, error);

	if (r < 0)
		return r;
	if (out_peer)
		*out_peer = peer;
	if (daemon_may(d, m, &peer, a))
		return 0;
	snprintf(audit, sizeof(audit), "refused action=%s what=\"%s\"", auth_action_id(a), what);
	audit_peer(&peer, LOG_EVENT_ACCESS_REFUSED, audit, NULL, NULL);
	return bus_error_set(error, VIOMMU_ERROR_PERMISSION_DENIED,
			 "uid %u may not %s: %s%s; on the system bus polkit's %s decides "
			 "while polkitd runs (viommud(8), AUTHORIZATION)",
			 (unsigned int)peer.uid, what, grant_hint[a],
			 d->config && d->config->path ? d->config->path : CONFIG_DEFAULT_PATH,
			 auth_action_id(a));
}
