/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IO page fault queues (PRI/PPR). Nested domains can be allocated
 * fault-capable against one. Its fd goes to the VMM, or with "relay" the
 * daemon reads it, sends each fault to the VM's owner as a Fault signal and
 * takes the answers through RespondFault. A fault nobody answered does not
 * wedge the device once its owner is gone: the teardown answers it.
 */
#include "daemon.h"
#include "state.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "options.h"

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
	sd_bus *bus = server_peer_bus(vm->daemon->server, vm->peer_id);
	sd_bus_message *m = NULL;
	uint64_t one = 1;

	q->faults++;
	/* The last page of a group is what gets answered; remember it. */
	if ((f->flags & KABI_IOMMU_PGFAULT_FLAGS_LAST_PAGE) && q->npending < FAULT_PENDING_MAX) {
		q->pending[q->npending++] = f->cookie;
		/* A restart must still answer it: written soon, not per fault. */
		state_mark_dirty(q->vm);
		state_write_soon(q->vm->daemon);
	}
	/* Counted before it is sent: a VMM woken by the signal finds the count. */
	if (write(q->notify_fd, &one, sizeof(one)) < 0)
		log_debug("fault queue %u: cannot count a fault: %s", q->kernel_id, strerror(errno));
	if (bus && sd_bus_message_new_signal(bus, &m, q->path, VIOMMU_IFACE_FAULT_QUEUE,
					     "Fault") >= 0 &&
	    (vm->peer_id[0] != ':' || sd_bus_message_set_destination(m, vm->peer_id) >= 0) &&
	    sd_bus_message_append(m, "ouuutuu", fault_device_path(vm, f->dev_id), f->pasid,
				  f->grpid, f->perm, f->addr, f->cookie, f->flags) >= 0)
		sd_bus_send(NULL, m, NULL);
	sd_bus_message_unref(m);
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

int vm_method_open_fault_queue(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct vm *vm = userdata;
	bool relay = false;
	const struct option_spec specs[] = { { "relay", OPTION_BOOL, &relay } };
	struct fault_queue *q;
	int fd, r;

	r = options_read(m, specs, 1, error);
	if (r < 0)
		return r;
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
	if (!relay) {
		r = sd_bus_reply_method_return(m, "oh", q->path, fd);
		close(fd); /* the VMM's copy is the only one */
		return r;
	}
	q->fd = fd;
	q->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->notify_fd < 0 || fault_queue_watch(q) < 0) {
		fault_queue_destroy(q, true);
		return error_set(error, VIOMMU_ERROR_KERNEL, "cannot watch the fault queue");
	}
	vm_fd_store_queue(vm, "faultq", q->kernel_id, q->fd, q->notify_fd, true);
	return sd_bus_reply_method_return(m, "oh", q->path, q->notify_fd);
}

static int method_respond_fault(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fault_queue *q = userdata;
	uint32_t cookie, code;
	bool pending = false;
	int r;

	r = sd_bus_message_read(m, "uu", &cookie, &code);
	if (r < 0)
		return r;
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
	return sd_bus_reply_method_return(m, NULL);
}

static int method_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fault_queue *q = userdata;
	int r = fault_queue_destroy(q, false);

	if (r == -EBUSY)
		return error_set(error, VIOMMU_ERROR_BUSY,
				 "a domain is fault-capable against it: destroy the domain first");
	return r < 0 ? r : sd_bus_reply_method_return(m, NULL);
}

static int prop_fault_queue(sd_bus *bus, const char *path, const char *iface,
			    const char *property, sd_bus_message *reply, void *userdata,
			    sd_bus_error *error)
{
	struct fault_queue *q = userdata;

	if (strcmp(property, "KernelId") == 0)
		return sd_bus_message_append(reply, "u", q->kernel_id);
	if (strcmp(property, "Relay") == 0)
		return sd_bus_message_append(reply, "b", q->relay);
	if (strcmp(property, "Faults") == 0)
		return sd_bus_message_append(reply, "t", q->faults);
	if (strcmp(property, "Responses") == 0)
		return sd_bus_message_append(reply, "t", q->responses);
	return sd_bus_message_append(reply, "u", (uint32_t)q->npending);
}

const sd_bus_vtable fault_queue_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("KernelId", "u", prop_fault_queue, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Relay", "b", prop_fault_queue, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Faults", "t", prop_fault_queue, 0, 0),
	SD_BUS_PROPERTY("Responses", "t", prop_fault_queue, 0, 0),
	SD_BUS_PROPERTY("Pending", "u", prop_fault_queue, 0, 0),
	SD_BUS_METHOD_WITH_NAMES("RespondFault", "uu", SD_BUS_PARAM(cookie) SD_BUS_PARAM(code),
				 "", , method_respond_fault, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Destroy", "", "", method_destroy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("Fault", "ouuutuu",
				 SD_BUS_PARAM(device) SD_BUS_PARAM(pasid) SD_BUS_PARAM(grpid)
					 SD_BUS_PARAM(perm) SD_BUS_PARAM(addr) SD_BUS_PARAM(cookie)
						 SD_BUS_PARAM(flags),
				 0),
	SD_BUS_VTABLE_END,
};
