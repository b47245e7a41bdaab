/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log-event.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

/* Stable: the catalog and operators' queries name them. Never reuse one. */
static const char *const event_ids[LOG_EVENT_COUNT] = {
	[LOG_EVENT_VM_CREATED] = "42147d64ef22473ab5f849cdb2a74414",
	[LOG_EVENT_VM_DESTROYED] = "63187291a02e4c0fa300bfc573bdb95c",
	[LOG_EVENT_DEVICE_BOUND] = "4d1d2b4e74884f30835fb4fa788c98c6",
	[LOG_EVENT_DEVICE_UNBOUND] = "18a61bd873dd4c90bdf9652a5df21196",
	[LOG_EVENT_DEVICE_ASSIGNED] = "7bcdbd24cb66471e8a88913aa7394c44",
	[LOG_EVENT_DEVICE_RELEASED] = "4558efb36d954a66966d140f62a4377f",
	[LOG_EVENT_DEVICE_QUARANTINED] = "dbc2401089e443db81f80474e0573d64",
	[LOG_EVENT_QUOTA_REFUSED] = "8bca869b83a5431b83180961713354c4",
	[LOG_EVENT_ACCESS_REFUSED] = "13716063f9034703984cb8d28c4f5c02",
	[LOG_EVENT_ADOPTED] = "3961236421ac4fb2bb96f230f2ba1d6c",
	[LOG_EVENT_VM_CLAIMED] = "465e46c82687495d909c85e08727ebf1",
	[LOG_EVENT_ORPHAN_KEPT] = "6e7ba62550a447ed89097c3bd3d61576",
	[LOG_EVENT_ORPHAN_RELEASED] = "b4c5d2cd076c4e96b312366231ffbf95",
	[LOG_EVENT_FAST_PATH] = "53df12f63fe54a05bf21f4d10bd4477f",
	[LOG_EVENT_EVENTS_LOST] = "837e6ad287284fb78004da0a201092d5",
};

static log_event_observer_fn observer;
static void *observer_data;

void log_event_observe(log_event_observer_fn fn, void *userdata)
{
	observer = fn;
	observer_data = userdata;
}

static const char *log_event_id(enum log_event event)
{
	return event < LOG_EVENT_COUNT ? event_ids[event] : "";
}

/* Whether stderr is journald's stream ($JOURNAL_STREAM is "device:inode"). */
static bool stderr_is_journal(void)
{
	static int known = -1;
	unsigned long long dev, ino;
	const char *e;
	struct stat st;

	if (known >= 0)
		return known;
	e = getenv("JOURNAL_STREAM");
	known = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
		(unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	return known;
}

/* "NAME=value" into buf, as an iovec at iov[(*n)++]. */
static void field(struct iovec *iov, size_t *n, char *buf, size_t size, const char *name,
		  const char *value)
{
	snprintf(buf, size, "%s=%s", name, value);
	iov[(*n)++] = (struct iovec){ buf, strlen(buf) };
}

void log_event(enum log_event event, int priority, const struct log_fields *f, const char *fmt,
	       ...)
{
	char message[1024], fields[8][1100], number[24];
	struct iovec iov[8];
	size_t n = 0;
	va_list ap;

	if (observer)
		observer(event, f, observer_data);
	if (priority > log_get_max_priority())
		return;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (stderr_is_journal()) {
		field(iov, &n, fields[n], sizeof(fields[0]), "MESSAGE", message);
		field(iov, &n, fields[n], sizeof(fields[0]), "MESSAGE_ID", log_event_id(event));
		field(iov, &n, fields[n], sizeof(fields[0]), "SYSLOG_IDENTIFIER", "viommud");
		snprintf(number, sizeof(number), "%d", priority);
		field(iov, &n, fields[n], sizeof(fields[0]), "PRIORITY", number);
		if (f->vm)
			field(iov, &n, fields[n], sizeof(fields[0]), "VIOMMU_VM", f->vm);
		if (f->device)
			field(iov, &n, fields[n], sizeof(fields[0]), "VIOMMU_DEVICE", f->device);
		if (f->has_uid) {
			snprintf(number, sizeof(number), "%lld", f->uid);
			field(iov, &n, fields[n], sizeof(fields[0]), "VIOMMU_UID", number);
		}
		if (f->limit)
			field(iov, &n, fields[n], sizeof(fields[0]), "VIOMMU_LIMIT", f->limit);
		if (sd_journal_sendv(iov, (int)n) >= 0)
			return;
	}
	/* No journal (or it failed): a log line like any other. */
	log_msg(priority, "%s", message);
}
