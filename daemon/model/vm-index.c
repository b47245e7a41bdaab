/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VMs by ID: d->vms in ID order, with an array of the same VMs sorted
 * by ID beside it, so that finding a call's VM from its object path, adding
 * a VM and removing one cost O(log n) rather than a walk of every VM with a
 * path comparison each (what made CreateVm grow with the VMs there are).
 * A second array holds them by owner and name: CreateVm's check for a VM of
 * the same name, and its count of the caller's VMs, look only at the caller's.
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

/* (owner, name) order; name NULL sorts before every name of its owner. */
static int owner_cmp(const struct vm *vm, uid_t owner, const char *name)
{
	if (vm->owner != owner)
		return vm->owner < owner ? -1 : 1;
	return name ? strcmp(vm->name, name) : 1;
}

static size_t owner_lower_bound(const struct daemon *d, uid_t owner, const char *name)
{
	size_t lo = 0, hi = d->nvm_index;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (owner_cmp(d->vm_owner_index[mid], owner, name) < 0)
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
	grown = realloc(d->vm_owner_index, cap * sizeof(*grown));
	if (!grown)
		return -ENOMEM; /* vm_index is larger than needed: harmless */
	d->vm_owner_index = grown;
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
	pos = owner_lower_bound(d, vm->owner, vm->name);
	memmove(&d->vm_owner_index[pos + 1], &d->vm_owner_index[pos],
		(d->nvm_index - pos) * sizeof(d->vm_owner_index[0]));
	d->vm_owner_index[pos] = vm;
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
	/* Names are unique per owner (vm_create), but a restart may adopt two
	 * VMs of one name: find this very VM among its equals. */
	for (pos = owner_lower_bound(d, vm->owner, vm->name);
	     pos < d->nvm_index && d->vm_owner_index[pos] != vm; pos++)
		;
	if (pos < d->nvm_index)
		memmove(&d->vm_owner_index[pos], &d->vm_owner_index[pos + 1],
			(d->nvm_index - pos - 1) * sizeof(d->vm_owner_index[0]));
	d->nvm_index--;
}

struct vm *vm_by_owner_name(const struct daemon *d, uid_t owner, const char *name)
{
	size_t pos = owner_lower_bound(d, owner, name);

	return pos < d->nvm_index && owner_cmp(d->vm_owner_index[pos], owner, name) == 0
		       ? d->vm_owner_index[pos]
		       : NULL;
}

size_t vm_owner_range(const struct daemon *d, uid_t owner, struct vm *const **first)
{
	size_t lo = owner_lower_bound(d, owner, NULL), hi = d->nvm_index, end = lo;

	/* The first VM of a greater owner. */
	while (end < hi) {
		size_t mid = end + (hi - end) / 2;

		if (d->vm_owner_index[mid]->owner == owner)
			end = mid + 1;
		else
			hi = mid;
	}
	*first = d->vm_owner_index + lo;
	return end - lo;
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
	free(d->vm_owner_index);
	d->vm_index = d->vm_owner_index = NULL;
	d->nvm_index = d->vm_index_cap = 0;
	free(d->dirty_vms);
	d->dirty_vms = NULL;
	d->ndirty_vms = d->dirty_vms_cap = 0;
}
