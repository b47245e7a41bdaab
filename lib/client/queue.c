/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The queues: a vIOMMU's event queues and HW queues (org.viommu1.HwQueue),
 * and a VM's IO page fault queues (org.viommu1.FaultQueue).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "client-internal.h"

/* The daemon's limit on an event queue's depth. */
#define EVENTQ_DEPTH_MAX 65536

/* No options: the queue's own fd is handed over. */
static int append_relay(sd_bus_message *m, bool relay)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0 && relay)
		r = sd_bus_message_append(m, "{sv}", "relay", "b", 1);
	if (r < 0)
		return r;
	return sd_bus_message_close_container(m);
}

int viommu_viommu_open_event_queue(struct viommu_viommu *viommu, uint32_t type, uint32_t depth,
				   bool relay, int *out_fd)
{
	sd_bus_message *m, *reply = NULL;
	int r;

	if (!viommu)
		return -EINVAL;
	client_clear_error(viommu->client);
	if (!out_fd || depth == 0 || depth > EVENTQ_DEPTH_MAX)
		return -EINVAL;
	*out_fd = -1;
	r = client_new_call(viommu->client, viommu->path, VIOMMU_IFACE_VIOMMU, "OpenEventQueue",
			    &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "uu", type, depth);
	if (r >= 0)
		r = append_relay(m, relay);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	r = client_call(viommu->client, m, &reply);
	if (r < 0)
		return r;
	r = client_read_fd(reply, out_fd);
	sd_bus_message_unref(reply);
	return r;
}

int viommu_viommu_alloc_hw_queue(struct viommu_viommu *viommu, uint32_t type, uint32_t index,
				 uint64_t base_iova, uint64_t length, struct viommu_hw_queue **out)
{
	struct viommu_hw_queue *queue;
	sd_bus_message *m, *reply = NULL;
	int r;

	if (!viommu)
		return -EINVAL;
	client_clear_error(viommu->client);
	if (!out || length == 0 || base_iova + length - 1 < base_iova)
		return -EINVAL;
	*out = NULL;
	queue = calloc(1, sizeof(*queue));
	if (!queue)
		return -ENOMEM;
	queue->client = viommu->client;
	r = client_new_call(viommu->client, viommu->path, VIOMMU_IFACE_VIOMMU, "AllocHwQueue", &m);
	if (r >= 0) {
		r = sd_bus_message_append(m, "uutt", type, index, base_iova, length);
		if (r >= 0)
			r = client_call(viommu->client, m, &reply);
		else
			sd_bus_message_unref(m);
	}
	if (r >= 0)
		r = client_new_object(viommu->client, reply, VIOMMU_IFACE_HW_QUEUE, &queue->path,
				      &queue->kernel_id);
	if (r < 0) {
		free(queue);
		return r;
	}
	*out = queue;
	return 0;
}

const char *viommu_hw_queue_path(const struct viommu_hw_queue *hw_queue)
{
	return hw_queue ? hw_queue->path : NULL;
}

uint32_t viommu_hw_queue_kernel_id(const struct viommu_hw_queue *hw_queue)
{
	return hw_queue ? hw_queue->kernel_id : 0;
}

void viommu_hw_queue_free(struct viommu_hw_queue *hw_queue)
{
	if (!hw_queue)
		return;
	free(hw_queue->path);
	free(hw_queue);
}

int viommu_hw_queue_destroy(struct viommu_hw_queue *hw_queue)
{
	int r;

	if (!hw_queue)
		return -EINVAL;
	client_clear_error(hw_queue->client);
	r = client_destroy(hw_queue->client, hw_queue->path, VIOMMU_IFACE_HW_QUEUE);
	if (r < 0)
		return r;
	viommu_hw_queue_free(hw_queue);
	return 0;
}

int viommu_vm_open_fault_queue(struct viommu_vm *vm, bool relay, struct viommu_fault_queue **out,
			       int *out_fd)
{
	struct viommu_fault_queue *queue;
	sd_bus_message *m, *reply = NULL;
	int fd = -1, r;

	if (!vm)
		return -EINVAL;
	client_clear_error(vm->client);
	if (!out || !out_fd)
		return -EINVAL;
	*out = NULL;
	*out_fd = -1;
	queue = calloc(1, sizeof(*queue));
	if (!queue)
		return -ENOMEM;
	queue->client = vm->client;
	r = client_new_call(vm->client, vm->path, VIOMMU_IFACE_VM, "OpenFaultQueue", &m);
	if (r >= 0) {
		r = append_relay(m, relay);
		if (r >= 0)
			r = client_call(vm->client, m, &reply);
		else
			sd_bus_message_unref(m);
	}
	/* "oh": the path comes before the fd, so client_new_object() cannot read it. */
	if (r >= 0) {
		r = client_read_path(reply, &queue->path);
		if (r >= 0)
			r = client_read_fd(reply, &fd);
		sd_bus_message_unref(reply);
	}
	/* Fails only when the connection is gone: the VM's teardown frees the queue then. */
	if (r >= 0)
		r = client_get_u32(vm->client, queue->path, VIOMMU_IFACE_FAULT_QUEUE, "KernelId",
				   &queue->kernel_id);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		viommu_fault_queue_free(queue);
		return r;
	}
	*out = queue;
	*out_fd = fd;
	return 0;
}

const char *viommu_fault_queue_path(const struct viommu_fault_queue *fault_queue)
{
	return fault_queue ? fault_queue->path : NULL;
}

uint32_t viommu_fault_queue_kernel_id(const struct viommu_fault_queue *fault_queue)
{
	return fault_queue ? fault_queue->kernel_id : 0;
}

void viommu_fault_queue_free(struct viommu_fault_queue *fault_queue)
{
	if (!fault_queue)
		return;
	free(fault_queue->path);
	free(fault_queue);
}

int viommu_fault_queue_destroy(struct viommu_fault_queue *fault_queue)
{
	int r;

	if (!fault_queue)
		return -EINVAL;
	client_clear_error(fault_queue->client);
	r = client_destroy(fault_queue->client, fault_queue->path, VIOMMU_IFACE_FAULT_QUEUE);
	if (r < 0)
		return r;
	viommu_fault_queue_free(fault_queue);
	return 0;
}

int viommu_fault_queue_respond(struct viommu_fault_queue *fault_queue, uint32_t cookie,
			       uint32_t code)
{
	sd_bus_message *m;
	int r;

	if (!fault_queue)
		return -EINVAL;
	client_clear_error(fault_queue->client);
	if (code != VIOMMU_PAGE_RESP_SUCCESS && code != VIOMMU_PAGE_RESP_INVALID)
		return -EINVAL;
	r = client_new_call(fault_queue->client, fault_queue->path, VIOMMU_IFACE_FAULT_QUEUE,
			    "RespondFault", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "uu", cookie, code);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	return client_call(fault_queue->client, m, NULL);
}
