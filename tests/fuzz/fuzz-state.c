/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness of the state-file loader (daemon/state-load.c): any
 * bytes in, a parsed model or a named error out. A parsed model saves and
 * parses again to the same text, every VM ID is below next_vm_id, and every
 * reference between objects points into its own VM.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

static void require(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "invariant failed: %s\n", what);
		abort();
	}
}

static char *save(struct daemon *d, struct vm *vms)
{
	struct json_object *o = NULL;
	char *text;

	d->vms = vms;
	require(state_to_json(d, &o) == 0, "a parsed model saves");
	d->vms = NULL;
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	require(text != NULL, "strdup");
	return text;
}

static void check_refs(const struct vm *vm, unsigned int next_vm_id)
{
	require(vm->id > 0 && vm->id < next_vm_id, "VM ids below next_vm_id");
	require(vm_name_valid(vm->name), "VM names valid");
	for (const struct vm_device *vd = vm->devices; vd; vd = vd->next) {
		bool found = !vd->domain;

		for (const struct domain *dom = vm->domains; dom; dom = dom->next)
			found |= dom == vd->domain;
		require(found, "a device's domain is its VM's");
	}
	for (const struct vdevice *v = vm->vdevices; v; v = v->next) {
		bool found = false;

		for (const struct viommu *w = vm->viommus; w; w = w->next)
			found |= w == v->viommu;
		require(found && v->device, "a vDEVICE's vIOMMU is its VM's");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daemon d;
	struct state_intent intent;
	struct vm *vms = NULL, *again = NULL;
	unsigned int next = 0, next_again = 0;
	char err[512] = "", *first, *second;
	int r;

	memset(&d, 0, sizeof(d));
	r = state_parse(&d, (const char *)data, size, &vms, &intent, &next, err, sizeof(err));
	if (r < 0) {
		require(r == -EINVAL || r == -ENOMEM, "errors are EINVAL or ENOMEM");
		require(r != -EINVAL || (err[0] && memchr(err, '\0', sizeof(err))),
			"a refused file is explained");
		require(vms == NULL, "nothing is handed out on failure");
		device_inventory_free(&d);
		return 0;
	}
	for (const struct vm *vm = vms; vm; vm = vm->next)
		check_refs(vm, next);
	d.next_vm_id = next; /* what the daemon takes over from the file */
	first = save(&d, vms);
	r = state_parse(&d, first, strlen(first), &again, &intent, &next_again, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "saved model refused: %s\n%s\n", err, first);
	require(r == 0, "a saved model parses");
	require(next_again == next, "next_vm_id survives");
	second = save(&d, again);
	require(strcmp(first, second) == 0, "save(parse(save(x))) == save(x)");
	free(first);
	free(second);
	state_free_parsed(vms);
	state_free_parsed(again);
	device_inventory_free(&d);
	return 0;
}
