/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Virtual event queues. The kernel allows one vEVENTQ per type per vIOMMU,
 * so each is either handed to the VMM (the fast path: it counts its own
 * losses) or relayed: the daemon reads it and hands each event up
 * (model_hooks.viommu_event: an Event signal to the VM's owner alone), counting lost events (the kernel's
 * lost-events record and sequence gaps) in Viommu.EventsLost and marking them
 * with an EventsLost signal.
 */
#include "model.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log-event.h"
#include "log.h"

#define VEVENTQ_DEPTH_MAX 65536
#define VEVENTQ_READ_MAX 16384

/* The guest-visible ID the event is about, where the record names one. */
static uint64_t veventq_virt_id(const struct viommu_vendor *vendor, const uint8_t *data,
				size_t len)
{
	uint64_t evt0;
	uint32_t id;

	if (strcmp(vendor->name, "selftest") == 0 && len >= sizeof(id)) {
		memcpy(&id, data, sizeof(id));
		return id;
	}
	/* SMMUv3 event records carry the StreamID in bits 63:32 of the first word. */
	if (strcmp(vendor->name, "arm-smmuv3") == 0 && len >= sizeof(evt0)) {
		memcpy(&evt0, data, sizeof(evt0));
		return le64toh(evt0) >> 32;
	}
	return 0;
}

static void veventq_signal_lost(struct veventq *q, uint32_t count, uint32_t seq)
{
	const struct model_hooks *hooks = q->viommu->vm->daemon->hooks;

	uint64_t before = q->viommu->events_lost;

	q->viommu->events_lost += count;
	/* The VM's total outlives the vIOMMU. */
	q->viommu->vm->counters.events_lost += count;
	/* The journal hears of the first loss and then whenever the count's top
	 * bit moves (it doubled), not of every one: a guest that floods its
	 * queue cannot flood the journal. */
	if ((before ^ q->viommu->events_lost) > before)
		log_event(LOG_EVENT_EVENTS_LOST, LOG_WARNING,
			  LOG_FIELDS(.vm = q->viommu->vm->name, LOG_UID(q->viommu->vm->owner)),
			  "VM %s: vIOMMU %s has lost %llu events (type 0x%x): its guest reads "
			  "them too slowly, or the queue is too short",
			  q->viommu->vm->name, q->viommu->path,
			  (unsigned long long)q->viommu->events_lost, q->type);
	if (hooks && hooks->viommu_events_lost)
		hooks->viommu_events_lost(q->viommu, q->type, count, seq);
}

static void veventq_relay(struct veventq *q, uint32_t flags, uint32_t seq, const uint8_t *data,
			  size_t len)
{
	struct viommu *v = q->viommu;
	const struct model_hooks *hooks = v->vm->daemon->hooks;
	uint64_t one = 1;
	uint32_t missing = q->have_seq ? (seq - q->next_seq) & VEVENTQ_SEQ_MASK : 0;

	q->have_seq = true;
	q->next_seq = (seq + 1) & VEVENTQ_SEQ_MASK;
	/* The counts and the sequence survive a restart: written within a second. */
	vm_counters_changed(v->vm);
	/* The lost-events record carries the number of the last event lost. */
	if (flags & KABI_IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
		veventq_signal_lost(q, missing + 1, seq);
		return;
	}
	if (missing)
		veventq_signal_lost(q, missing, seq);
	v->events_relayed++;
	v->vm->counters.events_relayed++;
	/* Counted before it is sent: a VMM woken by the signal finds the count. */
	if (write(q->notify_fd, &one, sizeof(one)) < 0)
		log_debug("vEVENTQ %u: cannot count an event: %s", q->kernel_id, strerror(errno));
	if (hooks && hooks->viommu_event)
		hooks->viommu_event(v, veventq_virt_id(v->vendor, data, len), q->type, data, len,
				    seq);
}

static void veventq_on_readable(evutil_socket_t fd, short events, void *arg)
{
	struct veventq *q = arg;
	const size_t record = q->viommu->vendor->veventq.data_len;
	uint8_t buf[VEVENTQ_READ_MAX];
	ssize_t n;

	/* A read returns whole records: headers, each followed by its event
	 * unless it only marks lost events. */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		size_t at = 0;

		while (at + sizeof(struct kabi_iommufd_vevent_header) <= (size_t)n) {
			struct kabi_iommufd_vevent_header hdr;
			size_t len;

			memcpy(&hdr, buf + at, sizeof(hdr));
			at += sizeof(hdr);
			len = (hdr.flags & KABI_IOMMU_VEVENTQ_FLAG_LOST_EVENTS) ? 0 : record;
			if (at + len > (size_t)n) {
				log_warning("vEVENTQ %u: a record is cut short", q->kernel_id);
				break;
			}
			veventq_relay(q, hdr.flags, hdr.sequence, buf + at, len);
			at += len;
		}
	}
}

int relay_counter_open(int *notify_fd, int *out_fd)
{
	int r;

	*notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*notify_fd < 0)
		return -errno;
	*out_fd = fcntl(*notify_fd, F_DUPFD_CLOEXEC, 3);
	if (*out_fd >= 0)
		return 0;
	r = -errno;
	close(*notify_fd);
	*notify_fd = -1;
	return r;
}

int veventq_watch(struct veventq *q)
{
	q->event = event_new(q->viommu->vm->daemon->base, q->fd, EV_READ | EV_PERSIST,
			     veventq_on_readable, q);
	if (!q->event || event_add(q->event, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void veventq_destroy(struct veventq *q)
{
	struct viommu *v = q->viommu;
	int r;

	if (q->fd >= 0)
		vm_fd_store_queue(v->vm, "eventq", q->kernel_id, q->fd, q->notify_fd, false);
	if (q->event)
		event_free(q->event);
	if (q->fd >= 0)
		close(q->fd);
	if (q->notify_fd >= 0)
		close(q->notify_fd);
	/* Closing our fd lets go of it; a VMM's copy keeps the queue alive. */
	r = iommufd_destroy(v->vm->iommufd, q->kernel_id);
	if (r < 0 && r != -ENOENT && r != -EBUSY)
		log_warning("VM %s: cannot destroy vEVENTQ %u: %s", v->vm->name, q->kernel_id,
			    strerror(-r));
	for (struct veventq **p = &v->veventqs; *p; p = &(*p)->next) {
		if (*p == q) {
			*p = q->next;
			break;
		}
	}
	free(q);
}

int veventq_open(struct viommu *v, uint32_t type, uint32_t depth, bool relay, int *out_fd,
		 struct verror *error)
{
	const struct viommu_vendor_feature *feature = &v->vendor->veventq;
	struct veventq *q;
	int fd, r;

	/* The kernel accepts any non-zero type: the vendor table decides. */
	if (!feature->supported)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED, "%s", feature->missing);
	if (type != feature->type)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "event queue type 0x%x is not %s's 0x%x", type, v->vendor->name,
				 feature->type);
	if (depth == 0 || depth > VEVENTQ_DEPTH_MAX)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "depth must be 1 to %d, not %u", VEVENTQ_DEPTH_MAX, depth);
	for (q = v->veventqs; q; q = q->next)
		if (q->type == type)
			return error_set(error, VIOMMU_ERROR_BUSY,
					 "the vIOMMU already has an event queue of type 0x%x", type);
	r = vm_check_object_quota(v->vm, "OpenEventQueue", error);
	if (r < 0)
		return r;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->viommu = v;
	q->type = type;
	q->relay = relay;
	q->fd = q->notify_fd = -1;
	r = iommufd_veventq_alloc(v->vm->iommufd, v->kernel_id, type, depth, &q->kernel_id, &fd);
	if (r < 0) {
		free(q);
		return error_kernel(error, r, "IOMMU_VEVENTQ_ALLOC", "cannot open the event queue");
	}
	q->next = v->veventqs;
	v->veventqs = q;
	if (!relay) {
		*out_fd = fd; /* the VMM's copy, once sent, is the only one */
		return 0;
	}
	q->fd = fd;
	r = relay_counter_open(&q->notify_fd, out_fd);
	if (r >= 0 && (r = veventq_watch(q)) < 0)
		close(*out_fd);
	if (r < 0) {
		veventq_destroy(q);
		return error_errno(error, r, "cannot relay the event queue");
	}
	vm_fd_store_queue(v->vm, "eventq", q->kernel_id, q->fd, q->notify_fd, true);
	return 0;
}
