/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The counters behind the metrics (metrics.c): a change marks what keeps
 * them (the VM's state file, the manifest) to be written soon, so that a
 * burst of events costs one write, not one per event.
 */
#include "model.h"

#include <errno.h>
#include <string.h>

#include "log-event.h"

static const char *const limit_names[QUOTA_LIMIT_COUNT] = {
	[QUOTA_VMS_PER_UID] = "quota_vms_per_uid",
	[QUOTA_OBJECTS_PER_VM] = "quota_objects_per_vm",
	[QUOTA_PINNED_BYTES_PER_UID] = "quota_pinned_bytes_per_uid",
	[QUOTA_CONNECTIONS_PER_UID] = "quota_connections_per_uid",
	[QUOTA_QUEUED_MESSAGES] = "quota_queued_messages",
	[QUOTA_MESSAGE_BYTES] = "quota_message_bytes",
	[QUOTA_MESSAGE_FDS] = "quota_message_fds",
	[QUOTA_CONNECTION_STALL] = "connection_stall_seconds",
};

const char *quota_limit_name(enum quota_limit limit)
{
	return limit < QUOTA_LIMIT_COUNT ? limit_names[limit] : "";
}

int quota_limit_by_name(const char *name)
{
	for (int i = 0; name && i < QUOTA_LIMIT_COUNT; i++)
		if (strcmp(limit_names[i], name) == 0)
			return i;
	return -ENOENT;
}

void vm_counters_changed(struct vm *vm)
{
	vm_mark_dirty(vm);
	model_changed_later(vm->daemon);
}

void daemon_counters_changed(struct daemon *d)
{
	model_changed_later(d);
}

/* Every refusal is audited once, wherever it happens (the transport, the
 * bus, the model): counting the audit record counts each exactly once. */
static void count_event(enum log_event event, const struct log_fields *fields, void *userdata)
{
	struct daemon *d = userdata;
	int limit;

	if (event != LOG_EVENT_QUOTA_REFUSED || !fields)
		return;
	limit = quota_limit_by_name(fields->limit);
	if (limit < 0)
		return;
	d->counters.quota_refusals[limit]++;
	daemon_counters_changed(d);
}

void counters_watch(struct daemon *d)
{
	log_event_observe(d ? count_event : NULL, d);
}
