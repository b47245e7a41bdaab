/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who may do what: the actions of org.viommu1.policy. On the system bus
 * polkit decides them while polkitd runs (polkit.c asks it before the call is
 * dispatched); on the private socket, and on the system bus when polkitd is
 * not there, viommud.conf(5) does. Root always may.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "model.h"

enum auth_action {
	AUTH_MANAGE_VMS,      /* CreateVm */
	AUTH_FAST_PATH,	      /* GetIommufd, GetDeviceFd, a broker VM */
	AUTH_BIND_DEVICES,    /* Device.BindVfio, Device.UnbindVfio */
	AUTH_RELEASE_ORPHANS, /* ListOrphans, ReleaseOrphan */
	AUTH_ACTION_COUNT,
};

#define AUTH_BIT(a) (1u << (a))

/* "org.viommu1.manage-vms" and so on: the IDs of org.viommu1.policy. */
const char *auth_action_id(enum auth_action a);

/* The actions the method call m needs (AUTH_BIT()s; 0: none beyond the
 * handler's own checks). Matched by member alone, whatever the interface,
 * so that leaving the interface out cannot skip polkit. */
unsigned int auth_actions_of(sd_bus_message *m);

/* Whether the caller of m (peer) may do a. */
bool daemon_may(struct daemon *d, sd_bus_message *m, const struct server_peer *peer,
		enum auth_action a);

/* 0 when the caller of m may do a, else PermissionDenied saying where the
 * grant is (what: what the call was for, "create VMs"), audited. The caller
 * goes to *out_peer (may be NULL). */
int daemon_authorize(struct daemon *d, sd_bus_message *m, enum auth_action a, const char *what,
		     struct server_peer *out_peer, sd_bus_error *error);

/* polkit.c: a bus filter on the system bus that holds a call needing an
 * action (auth_actions_of()) while polkit is asked, without blocking the
 * loop; a refused call is answered PermissionDenied there, a granted one
 * dispatched again. */
int polkit_filter(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Whether polkit granted a for m, the call being dispatched. False also when
 * polkit was not asked or is not running: viommud.conf decides then. */
bool polkit_granted(struct daemon *d, sd_bus_message *m, enum auth_action a);
/* Whether polkit decided m (granted it: a refused call is not dispatched). */
bool polkit_decided(struct daemon *d, sd_bus_message *m);
/* The caller left: its checks in flight are dropped. */
void polkit_forget(struct daemon *d, const char *peer_id);
void polkit_free(struct daemon *d);
