/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM indexes (daemon/model/vm-index.c): by ID, the list in ID order, and
 * by owner and name, through links and unlinks in any order. Checked against
 * a plain walk of the VMs after every change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model.h"

#define NVMS 300

static struct vm *vm_new(unsigned int id, uid_t owner, const char *name)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	CHECK(vm);
	vm->id = id;
	vm->owner = owner;
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	snprintf(vm->path, sizeof(vm->path), "%s/%u", VIOMMU_VM_PREFIX, id);
	return vm;
}

/* Every lookup agrees with a walk of d->vms, which must be in ID order. */
static void check_against_walk(const struct daemon *d, uid_t max_owner)
{
	unsigned int last = 0;
	size_t n = 0;

	for (const struct vm *vm = d->vms; vm; vm = vm->next, n++) {
		CHECK(vm->id > last);
		last = vm->id;
		CHECK(vm_by_id(d, vm->id) == vm);
		CHECK(vm_of_object_path(d, vm->path) == vm);
		CHECK(vm_by_owner_name(d, vm->owner, vm->name) == vm);
	}
	CHECK_EQ(n, d->nvm_index);
	for (uid_t owner = 0; owner <= max_owner; owner++) {
		struct vm *const *mine;
		size_t count = vm_owner_range(d, owner, &mine), walked = 0;

		for (const struct vm *vm = d->vms; vm; vm = vm->next)
			walked += vm->owner == owner;
		CHECK_EQ(count, walked);
		for (size_t i = 0; i < count; i++) {
			CHECK_EQ(mine[i]->owner, owner);
			if (i)
				CHECK(strcmp(mine[i - 1]->name, mine[i]->name) < 0);
		}
	}
}

static void test_link_unlink(void)
{
	struct daemon d;
	struct vm *vms[NVMS];
	char name[16];

	memset(&d, 0, sizeof(d));
	/* IDs linked out of order, owners 0-6, names unique per owner. */
	for (unsigned int i = 0; i < NVMS; i++) {
		unsigned int id = (i * 7919) % NVMS + 1;

		snprintf(name, sizeof(name), "vm%u", (id * 31) % 1000);
		vms[i] = vm_new(id, id % 7, name);
		CHECK_OK(vm_index_reserve(&d));
		vm_index_link(&d, vms[i]);
	}
	check_against_walk(&d, 7);
	CHECK(vm_by_owner_name(&d, 3, "no-such-vm") == NULL);
	CHECK(vm_by_id(&d, NVMS + 1) == NULL);
	CHECK(vm_of_object_path(&d, VIOMMU_VM_PREFIX "/0") == NULL);
	CHECK(vm_of_object_path(&d, VIOMMU_VM_PREFIX "/07") == NULL);
	/* Every third VM goes, then the rest, each time checked. */
	for (unsigned int i = 0; i < NVMS; i += 3) {
		vm_index_unlink(&d, vms[i]);
		CHECK(vm_by_id(&d, vms[i]->id) == NULL);
		CHECK(vm_by_owner_name(&d, vms[i]->owner, vms[i]->name) == NULL);
		free(vms[i]);
		vms[i] = NULL;
	}
	check_against_walk(&d, 7);
	for (unsigned int i = 0; i < NVMS; i++) {
		if (!vms[i])
			continue;
		vm_index_unlink(&d, vms[i]);
		free(vms[i]);
	}
	CHECK(d.vms == NULL);
	CHECK_EQ(d.nvm_index, 0);
	vm_index_free(&d);
}

/* Two VMs of one owner and name (a restart may adopt such): each unlinks itself. */
static void test_same_name(void)
{
	struct daemon d;
	struct vm *a = vm_new(1, 5, "twin"), *b = vm_new(2, 5, "twin");
	struct vm *const *mine;

	memset(&d, 0, sizeof(d));
	CHECK_OK(vm_index_reserve(&d));
	vm_index_link(&d, a);
	CHECK_OK(vm_index_reserve(&d));
	vm_index_link(&d, b);
	CHECK_EQ(vm_owner_range(&d, 5, &mine), 2);
	vm_index_unlink(&d, b);
	CHECK(vm_by_owner_name(&d, 5, "twin") == a);
	CHECK_EQ(vm_owner_range(&d, 5, &mine), 1);
	CHECK(mine[0] == a);
	vm_index_unlink(&d, a);
	CHECK_EQ(vm_owner_range(&d, 5, &mine), 0);
	free(a);
	free(b);
	vm_index_free(&d);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_link_unlink),
		CHECK_CASE(test_same_name),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
