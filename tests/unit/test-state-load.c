/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state file is input like any other: a name in it becomes a sysfs path
 * and a sysfs write (driver, driver_override of a device the daemon bound),
 * so the loader takes nothing but a driver name there, and refuses the whole
 * file otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "pci-sysfs.h"
#include "state.h"

static int parse(const char *bound, char *err, size_t len)
{
	char doc[1024];
	struct daemon d;
	struct state_intent intent;
	struct vm *vms = NULL;
	unsigned int next = 0;
	int r;

	snprintf(doc, sizeof(doc),
		 "{\"version\": %d, \"next_vm_id\": 1, \"bound_devices\": [%s], \"vms\": []}",
		 STATE_DOC_VERSION, bound);
	memset(&d, 0, sizeof(d));
	err[0] = '\0';
	r = state_parse(&d, doc, strlen(doc), &vms, &intent, &next, err, len);
	state_free_parsed(vms);
	device_inventory_free(&d);
	return r;
}

static void test_driver_names(void)
{
	CHECK(pci_driver_name_valid("vfio-pci"));
	CHECK(pci_driver_name_valid("snd_hda_intel"));
	CHECK(pci_driver_name_valid("nvme"));
	CHECK(!pci_driver_name_valid(""));
	CHECK(!pci_driver_name_valid("."));
	CHECK(!pci_driver_name_valid(".."));
	CHECK(!pci_driver_name_valid("../../../devices/platform"));
	CHECK(!pci_driver_name_valid("e1000e\n"));
	CHECK(!pci_driver_name_valid("a b"));
}

static void test_good_binding(void)
{
	char err[512];

	CHECK_EQ(parse("{\"name\": \"0000:00:05.0\", \"driver\": \"e1000e\", "
		       "\"driver_override\": \"\"}",
		       err, sizeof(err)),
		 0);
}

static void test_driver_escapes_sysfs(void)
{
	char err[512];

	CHECK_EQ(parse("{\"name\": \"0000:00:05.0\", \"driver\": \"../../../../../dev\", "
		       "\"driver_override\": \"\"}",
		       err, sizeof(err)),
		 -EINVAL);
	check_note("%s", err);
	CHECK(strstr(err, "not a driver name"));
}

static void test_override_escapes_sysfs(void)
{
	char err[512];

	CHECK_EQ(parse("{\"name\": \"0000:00:05.0\", \"driver\": \"\", "
		       "\"driver_override\": \"..\"}",
		       err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "driver_override"));
}

static void test_bound_name_not_bdf(void)
{
	char err[512];

	CHECK_EQ(parse("{\"name\": \"../0000:00:05.0\", \"driver\": \"e1000e\", "
		       "\"driver_override\": \"\"}",
		       err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "not a PCI address"));
}

/* Even handed a bad name, the kernel layer writes nothing. */
static void test_restore_refuses(void)
{
	struct pci_driver_binding b = { .bdf = "0000:00:05.0", .driver = "../x" };

	CHECK_EQ(pci_sysfs_restore_driver("/nonexistent", &b), -EINVAL);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_driver_names),
		CHECK_CASE(test_good_binding),
		CHECK_CASE(test_driver_escapes_sysfs),
		CHECK_CASE(test_override_escapes_sysfs),
		CHECK_CASE(test_bound_name_not_bdf),
		CHECK_CASE(test_restore_refuses),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
