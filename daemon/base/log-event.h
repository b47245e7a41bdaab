/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The events an operator may need to find, each with a stable MESSAGE_ID
 * that the catalog (units/viommud.catalog, journalctl -x) explains, and
 * structured fields: VIOMMU_VM=, VIOMMU_DEVICE=, VIOMMU_UID=, VIOMMU_LIMIT=.
 * Under journald (stderr is its stream: $JOURNAL_STREAM) they are sent with
 * sd_journal_send(); elsewhere (the plain test guests) the message goes to
 * stderr as a log line like any other.
 */
#pragma once

#include <stdbool.h>

enum log_event {
	LOG_EVENT_VM_CREATED,
	LOG_EVENT_VM_DESTROYED,
	LOG_EVENT_DEVICE_BOUND,
	LOG_EVENT_DEVICE_UNBOUND,
	LOG_EVENT_DEVICE_ASSIGNED,
	LOG_EVENT_DEVICE_RELEASED,
	LOG_EVENT_DEVICE_QUARANTINED,
	LOG_EVENT_QUOTA_REFUSED,
	LOG_EVENT_ACCESS_REFUSED,
	LOG_EVENT_ADOPTED,
	LOG_EVENT_VM_CLAIMED,
	LOG_EVENT_ORPHAN_KEPT,
	LOG_EVENT_ORPHAN_RELEASED,
	LOG_EVENT_FAST_PATH,
	LOG_EVENT_EVENTS_LOST,
	LOG_EVENT_COUNT,
};

/* The fields of an event; NULL (has_uid false): not given. */
struct log_fields {
	const char *vm;
	const char *device;
	const char *limit;
	long long uid;
	bool has_uid;
};

#define LOG_FIELDS(...) (&(const struct log_fields){ __VA_ARGS__ })
#define LOG_UID(u) .uid = (long long)(u), .has_uid = true

void log_event(enum log_event event, int priority, const struct log_fields *fields,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Told of every event, whatever the log level: the layers above count what
 * the journal records (quota refusals) without each site counting it too.
 * One observer; NULL stops it. */
typedef void (*log_event_observer_fn)(enum log_event event, const struct log_fields *fields,
				      void *userdata);
void log_event_observe(log_event_observer_fn fn, void *userdata);
