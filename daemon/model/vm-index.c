/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VMs by ID: d->vms in ID order, with an array of the same VMs sorted
 * by ID beside it, so that finding a call's VM from its object path, adding
 * a VM and removing one cost O(log n) rather than a walk of every VM with a
 * path comparison each (what made CreateVm grow with the VMs there are).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static size_t lower_bound(const struct daemon *d, unsigned int id)
{
	size_t lo = 0, hi = d->nvm_index;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->vm_index[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int vm_index_reserve(struct daemon *d)
{
	size_t cap;
	struct vm **grown;

	if (d->nvm_index < d->vm_index_cap)
		return 0;
	cap = d->vm_index_cap ? 2 * d->vm_index_cap : 64;
	grown = realloc(d->vm_index, cap * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	d->vm_index = grown;
	d->vm_index_cap = cap;
	return 0;
}

void vm_index_link(struct daemon *d, struct vm *vm)
{
	size_t pos = lower_bound(d, vm->id);
	struct vm **link = pos ? &d->vm_index[pos - 1]->next : &d->vms;

	vm->next = *link;
	*link = vm;
	memmove(&d->vm_index[pos + 1], &d->vm_index[pos],
		(d->nvm_index - pos) * sizeof(d->vm_index[0]));
	d->vm_index[pos] = vm;
	d->nvm_index++;
}

void vm_index_unlink(struct daemon *d, struct vm *vm)
{
	size_t pos = lower_bound(d, vm->id);
	struct vm **link;

	if (pos == d->nvm_index || d->vm_index[pos] != vm)
		return; /* never linked (a VM that failed to be made) */
	link = pos ? &d->vm_index[pos - 1]->next : &d->vms;
	*link = vm->next;
	vm->next = NULL;
	memmove(&d->vm_index[pos], &d->vm_index[pos + 1],
		(d->nvm_index - pos - 1) * sizeof(d->vm_index[0]));
	d->nvm_index--;
}

struct vm *vm_by_id(const struct daemon *d, unsigned int id)
{
	size_t pos = lower_bound(d, id);

	return pos < d->nvm_index && d->vm_index[pos]->id == id ? d->vm_index[pos] : NULL;
}

struct vm *vm_of_object_path(const struct daemon *d, const char *path)
{
	static const char prefix[] = VIOMMU_VM_PREFIX "/";
	unsigned long id = 0;
	const char *p;

	if (!path || strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	p = path + sizeof(prefix) - 1;
	/* Digits as the daemon writes them: no sign, no leading zero. */
	if (*p < '1' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		id = id * 10 + (unsigned long)(*p - '0');
		if (id > UINT32_MAX)
			return NULL;
	}
	if (*p != '\0' && *p != '/')
		return NULL;
	return vm_by_id(d, (unsigned int)id);
}

void vm_index_free(struct daemon *d)
{
	free(d->vm_index);
	d->vm_index = NULL;
	d->nvm_index = d->vm_index_cap = 0;
}
