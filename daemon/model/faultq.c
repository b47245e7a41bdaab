/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IO page fault queues (PRI/PPR). Nested domains can be allocated
 * fault-capable against one. Its fd goes to the VMM, or with "relay" the
 * daemon reads it, hands each fault up (model_hooks.fault: a Fault signal
 * to the VM's owner) and takes the answers (RespondFault). A fault nobody answered does not
 * wedge the device once its owner is gone: the teardown answers it.
 */
#include "model.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define FAULT_PENDING_MAX 1024

static int fault_respond(struct fault_queue *q, uint32_t cookie, uint32_t code)
{
	struct kabi_iommu_hwpt_page_response resp = { .cookie = cookie, .code = code };

	if (write(q->fd, &resp, sizeof(resp)) != sizeof(resp))
		return -errno ? -errno : -EIO;
	for (size_t i = 0; i < q->npending; i++) {
		if (q->pending[i] == cookie) {
			q->pending[i] = q->pending[--q->npending];
			break;
		}
	}
	return 0;
}

static const char *fault_device_path(struct vm *vm, uint32_t dev_id)
{
	for (struct vm_device *vd = vm->devices; vd; vd = vd->next)
		if (vd->dev_id == dev_id)
			return vd->device->path;
	return "/";
}

static void fault_relay(struct fault_queue *q, const struct kabi_iommu_hwpt_pgfault *f)
{
	struct vm *vm = q->vm;
	const struct model_hooks *hooks = vm->daemon->hooks;
	uint64_t one = 1;

	q->faults++;
	vm->counters.faults_relayed++;
	/* The last page of a group is what gets answered; remember it. */
	if ((f->flags & KABI_IOMMU_PGFAULT_FLAGS_LAST_PAGE) && q->npending < FAULT_PENDING_MAX) {
		q->pending[q->npending++] = f->cookie;
		/* A restart must still answer it: written soon, not per fault. */
		vm_mark_dirty(vm);
		model_changed_soon(vm->daemon);
	}
	vm_counters_changed(vm);
	/* Counted before it is sent: a VMM woken by the signal finds the count. */
	if (write(q->notify_fd, &one, sizeof(one)) < 0)
		log_debug("fault queue %u: cannot count a fault: %s", q->kernel_id, strerror(errno));
	if (hooks && hooks->fault)
		hooks->fault(q, f, fault_device_path(vm, f->dev_id));
}

static void fault_on_readable(evutil_socket_t fd, short events, void *arg)
{
	struct fault_queue *q = arg;
	struct kabi_iommu_hwpt_pgfault faults[16];
	ssize_t n;

	while ((n = read(fd, faults, sizeof(faults))) > 0)
		for (size_t i = 0; i < (size_t)n / sizeof(faults[0]); i++)
			fault_relay(q, &faults[i]);
}

int fault_queue_watch(struct fault_queue *q)
{
	q->event = event_new(q->vm->daemon->base, q->fd, EV_READ | EV_PERSIST, fault_on_readable,
			     q);
	if (!q->event || event_add(q->event, NULL) < 0)
		return -ENOMEM;
	return 0;
}

int fault_queue_destroy(struct fault_queue *q, bool force)
{
	struct vm *vm = q->vm;
	int r;

	for (struct domain *dom = vm->domains; dom; dom = dom->next)
		if (dom->fault == q && !force)
			return -EBUSY;
	/* Whatever is still pending is answered, so no device waits for ever. */
	while (q->fd >= 0 && q->npending)
		if (fault_respond(q, q->pending[0], KABI_IOMMUFD_PAGE_RESP_INVALID) < 0)
			q->pending[0] = q->pending[--q->npending];
	if (q->fd >= 0)
		vm_fd_store_queue(vm, "faultq", q->kernel_id, q->fd, q->notify_fd, false);
	if (q->event)
		event_free(q->event);
	if (q->fd >= 0)
		close(q->fd);
	if (q->notify_fd >= 0)
		close(q->notify_fd);
	r = iommufd_destroy(vm->iommufd, q->kernel_id);
	if (r < 0 && r != -ENOENT && r != -EBUSY)
		log_warning("VM %s: cannot destroy fault queue %u: %s", vm->name, q->kernel_id,
			    strerror(-r));
	model_object_removed(vm->daemon, vm, MODEL_FAULT_QUEUE, q->path);
	for (struct fault_queue **p = &vm->fault_queues; *p; p = &(*p)->next) {
		if (*p == q) {
			*p = q->next;
			break;
		}
	}
	free(q);
	return 0;
}

struct fault_queue *fault_queue_by_path(struct vm *vm, const char *path)
{
	for (struct fault_queue *q = vm->fault_queues; q; q = q->next)
		if (strcmp(q->path, path) == 0)
			return q;
	return NULL;
}

int fault_queue_open(struct vm *vm, bool relay, struct fault_queue **out, int *out_fd,
		     struct verror *error)
{
	struct fault_queue *q;
	int fd, r;

	if (vm->mode != VM_MODE_MANAGED)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "VM %s is a broker VM: its VMM allocates its own fault queues",
				 vm->name);
	r = vm_check_object_quota(vm, "OpenFaultQueue", error);
	if (r < 0)
		return r;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->vm = vm;
	q->relay = relay;
	q->fd = q->notify_fd = -1;
	r = iommufd_fault_queue_alloc(vm->iommufd, &q->kernel_id, &fd);
	if (r < 0) {
		free(q);
		return error_kernel(error, r, "IOMMU_FAULT_QUEUE_ALLOC", "cannot open the fault queue");
	}
	snprintf(q->path, sizeof(q->path), VIOMMU_VM_PREFIX "/%u/faultqueue/%u", vm->id,
		 vm->next_object++);
	q->next = vm->fault_queues;
	vm->fault_queues = q;
	model_object_added(vm->daemon, vm, MODEL_FAULT_QUEUE, q->path, q);
	*out = q;
	if (!relay) {
		*out_fd = fd; /* the VMM's copy, once sent, is the only one */
		return 0;
	}
	q->fd = fd;
	r = relay_counter_open(&q->notify_fd, out_fd);
	if (r >= 0 && (r = fault_queue_watch(q)) < 0)
		close(*out_fd);
	if (r < 0) {
		fault_queue_destroy(q, true);
		return error_errno(error, r, "cannot relay the fault queue");
	}
	vm_fd_store_queue(vm, "faultq", q->kernel_id, q->fd, q->notify_fd, true);
	return 0;
}

int fault_queue_respond(struct fault_queue *q, uint32_t cookie, uint32_t code,
			struct verror *error)
{
	bool pending = false;
	int r;

	if (!q->relay)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "the fault queue was handed out: answer on its fd");
	if (code != KABI_IOMMUFD_PAGE_RESP_SUCCESS && code != KABI_IOMMUFD_PAGE_RESP_INVALID)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "code %u is neither SUCCESS (0) nor INVALID (1)", code);
	for (size_t i = 0; i < q->npending; i++)
		pending |= q->pending[i] == cookie;
	if (!pending)
		return error_set(error, VIOMMU_ERROR_NOT_FOUND, "no fault with cookie %u is pending",
				 cookie);
	r = fault_respond(q, cookie, code);
	if (r < 0)
		return error_kernel(error, r, "write(fault queue)", "cannot answer the fault");
	q->responses++;
	q->vm->counters.faults_answered++;
	vm_counters_changed(q->vm);
	return 0;
}

int fault_queue_destroy_checked(struct fault_queue *q, struct verror *error)
{
	int r = fault_queue_destroy(q, false);

	if (r == -EBUSY)
		return error_set(error, VIOMMU_ERROR_BUSY,
				 "a domain is fault-capable against it: destroy the domain first");
	return r;
}

