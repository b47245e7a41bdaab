/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Describe()'s queues: a vIOMMU's HW queues and a VM's fault queues, so that
 * a client that reconnects (after a restart of the daemon, say) finds them. */
#include "daemon.h"

#include <errno.h>
#include <json-c/json.h>

static int put(struct json_object *obj, const char *key, struct json_object *value)
{
	if (!value)
		return -ENOMEM;
	return json_object_object_add(obj, key, value) < 0 ? -ENOMEM : 0;
}

static struct json_object *finish(struct json_object *a, int r)
{
	if (r < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

struct json_object *describe_hw_queues(const struct viommu *v)
{
	struct json_object *a = json_object_new_array();
	int r = a ? 0 : -ENOMEM;

	for (const struct hw_queue *q = v->hw_queues; r == 0 && q; q = q->next) {
		struct json_object *o = json_object_new_object();

		r = o ? 0 : -ENOMEM;
		if (r == 0)
			r = put(o, "path", json_object_new_string(q->path));
		if (r == 0)
			r = put(o, "kernel_id", json_object_new_int64(q->kernel_id));
		if (r == 0)
			r = put(o, "type", json_object_new_int64(q->type));
		if (r == 0)
			r = put(o, "index", json_object_new_int64(q->index));
		if (r == 0)
			r = put(o, "base_iova", json_object_new_uint64(q->base_iova));
		if (r == 0)
			r = put(o, "length", json_object_new_uint64(q->length));
		if (r == 0)
			r = json_object_array_add(a, o) < 0 ? -ENOMEM : 0;
		else
			json_object_put(o);
	}
	return finish(a, r);
}

struct json_object *describe_fault_queues(const struct vm *vm)
{
	struct json_object *a = json_object_new_array();
	int r = a ? 0 : -ENOMEM;

	for (const struct fault_queue *q = vm->fault_queues; r == 0 && q; q = q->next) {
		struct json_object *o = json_object_new_object();

		r = o ? 0 : -ENOMEM;
		if (r == 0)
			r = put(o, "path", json_object_new_string(q->path));
		if (r == 0)
			r = put(o, "kernel_id", json_object_new_int64(q->kernel_id));
		if (r == 0)
			r = put(o, "relay", json_object_new_boolean(q->relay));
		if (r == 0)
			r = put(o, "faults", json_object_new_uint64(q->faults));
		if (r == 0)
			r = put(o, "pending", json_object_new_uint64(q->npending));
		if (r == 0)
			r = json_object_array_add(a, o) < 0 ? -ENOMEM : 0;
		else
			json_object_put(o);
	}
	return finish(a, r);
}
