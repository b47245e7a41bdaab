/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state file is input like any other: a name in it becomes a sysfs path
 * and a sysfs write (driver, driver_override of a device the daemon bound),
 * so the loader takes nothing but a driver name there, and refuses the whole
 * file otherwise. The counters of the metrics are optional keys: absent they
 * read as zeros, present they must be non-negative integers.
 */
#include <stdio.h>
#include <stdlib.h>
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

/* A VM with a vIOMMU whose relayed vEVENTQ has seen events; vm_extra and
 * queue_extra go into the VM and its queue, root_extra into the document. */
#define COUNTERS_DOC(root_extra, vm_extra, viommu_extra, queue_extra)                           \
	"{\"version\": 1, \"next_vm_id\": 2, \"bound_devices\": [], " root_extra              \
	"\"vms\": [{\"id\": 1, \"name\": \"web\", \"owner\": 1000, \"mode\": \"managed\", "  \
	"\"persist\": false, \"pasid\": false, \"shared\": false, \"nesting\": true, "          \
	"\"dirty_tracking\": false, \"dirty_tracking_enabled\": false, \"ioas_id\": 1, "         \
	"\"parent_id\": 0, \"next_object\": 2, \"vmm_pid\": 0, \"vmm_memlock\": 0, " vm_extra   \
	"\"mappings\": [], \"devices\": [], \"fault_queues\": [], \"domains\": [], "            \
	"\"vdevices\": [], \"viommus\": [{\"path\": \"/org/viommu1/vm/1/viommu/1\", "          \
	"\"kernel_id\": 4, \"type\": 3, \"vendor\": \"selftest\", \"iommu\": \"selftest\", "  \
	"\"invalidations\": 0, \"has_mmap\": false, \"mmap_offset\": 0, \"mmap_length\": 0, "   \
	viommu_extra "\"hw_queues\": [], \"veventqs\": [{\"kernel_id\": 5, \"type\": 1, "       \
	"\"relay\": true" queue_extra "}]}]}]}"

static int parse_doc(struct daemon *d, const char *doc, struct vm **vms, char *err, size_t len)
{
	struct state_intent intent;
	unsigned int next = 0;

	err[0] = '\0';
	return state_parse(d, doc, strlen(doc), vms, &intent, &next, err, len);
}

/* Every counter the metrics keep comes back from the state. */
static void test_counters_loaded(void)
{
	static const char doc[] = COUNTERS_DOC(
		"\"counters\": {\"connections_accepted\": 9, \"restarts\": 2, \"vms_adopted\": 4, "
		"\"orphans_released\": 3, \"quota_refusals\": {\"quota_message_fds\": 6, "
		"\"a_newer_limit\": 1}}, ",
		"\"counters\": {\"invalidation_calls\": 11, \"invalidation_entries\": 12, "
		"\"invalidation_errors\": 13, \"events_relayed\": 14, \"events_lost\": 15, "
		"\"faults_relayed\": 16, \"faults_answered\": 17, \"dirty_reads\": 18446744073709551615}, ",
		"\"events_relayed\": 21, \"events_lost\": 22, ",
		", \"have_seq\": true, \"next_seq\": 2147483647");
	struct json_object *saved = NULL;
	struct vm *vms = NULL, *again = NULL;
	struct daemon d;
	char err[512], *text;

	memset(&d, 0, sizeof(d));
	CHECK_EQ(parse_doc(&d, doc, &vms, err, sizeof(err)), 0);
	CHECK(vms && vms->viommus && vms->viommus->veventqs);
	CHECK_EQ(vms->counters.invalidation_calls, 11);
	CHECK_EQ(vms->counters.invalidation_entries, 12);
	CHECK_EQ(vms->counters.invalidation_errors, 13);
	CHECK_EQ(vms->counters.events_relayed, 14);
	CHECK_EQ(vms->counters.events_lost, 15);
	CHECK_EQ(vms->counters.faults_relayed, 16);
	CHECK_EQ(vms->counters.faults_answered, 17);
	CHECK_EQ(vms->counters.dirty_reads, UINT64_MAX);
	CHECK_EQ(vms->viommus->events_relayed, 21);
	CHECK_EQ(vms->viommus->events_lost, 22);
	CHECK(vms->viommus->veventqs->have_seq);
	CHECK_EQ(vms->viommus->veventqs->next_seq, 0x7fffffff);
	CHECK_EQ(d.counters.connections_accepted, 9);
	CHECK_EQ(d.counters.restarts, 2);
	CHECK_EQ(d.counters.vms_adopted, 4);
	CHECK_EQ(d.counters.orphans_released, 3);
	CHECK_EQ(d.counters.quota_refusals[QUOTA_MESSAGE_FDS], 6);
	CHECK_EQ(d.counters.quota_refusals[QUOTA_VMS_PER_UID], 0);
	/* Saved and read again: the same. */
	d.vms = vms;
	d.next_vm_id = 2;
	CHECK_OK(state_to_json(&d, &saved));
	text = strdup(json_object_to_json_string(saved));
	json_object_put(saved);
	memset(&d.counters, 0, sizeof(d.counters));
	if (parse_doc(&d, text, &again, err, sizeof(err)) < 0)
		check_note("%s: %s", err, text);
	free(text);
	CHECK(again);
	CHECK_EQ(again->counters.dirty_reads, UINT64_MAX);
	CHECK_EQ(again->viommus->events_lost, 22);
	CHECK_EQ(again->viommus->veventqs->next_seq, 0x7fffffff);
	CHECK_EQ(d.counters.quota_refusals[QUOTA_MESSAGE_FDS], 6);
	d.vms = NULL;
	state_free_parsed(vms);
	state_free_parsed(again);
	device_inventory_free(&d);
}

/* Files from before the counters: zeros, and the daemon's are left alone. */
static void test_counters_absent(void)
{
	static const char doc[] = COUNTERS_DOC("", "", "", "");
	struct vm *vms = NULL;
	struct daemon d;
	char err[512];

	memset(&d, 0, sizeof(d));
	d.counters.restarts = 5;
	CHECK_EQ(parse_doc(&d, doc, &vms, err, sizeof(err)), 0);
	CHECK_EQ(vms->counters.invalidation_calls, 0);
	CHECK_EQ(vms->counters.dirty_reads, 0);
	CHECK_EQ(vms->viommus->events_relayed, 0);
	CHECK(!vms->viommus->veventqs->have_seq);
	CHECK_EQ(d.counters.restarts, 5);
	state_free_parsed(vms);
	device_inventory_free(&d);
}

/* A hostile value is refused by name, and nothing is taken over. */
static void test_counters_hostile(void)
{
	static const struct {
		const char *doc, *named;
	} cases[] = {
		{ COUNTERS_DOC("", "\"counters\": {\"events_lost\": -1}, ", "", ""), "events_lost" },
		{ COUNTERS_DOC("", "\"counters\": {\"dirty_reads\": \"7\"}, ", "", ""), "dirty_reads" },
		{ COUNTERS_DOC("", "\"counters\": {\"dirty_reads\": 1.5}, ", "", ""), "dirty_reads" },
		{ COUNTERS_DOC("", "\"counters\": [], ", "", ""), "counters" },
		{ COUNTERS_DOC("\"counters\": 3, ", "", "", ""), "counters" },
		{ COUNTERS_DOC("\"counters\": {\"restarts\": -9223372036854775808}, ", "", "", ""),
		  "restarts" },
		{ COUNTERS_DOC("\"counters\": {\"quota_refusals\": [1]}, ", "", "", ""),
		  "quota_refusals" },
		{ COUNTERS_DOC("\"counters\": {\"quota_refusals\": {\"quota_vms_per_uid\": null}}, ",
			       "", "", ""),
		  "quota_vms_per_uid" },
		{ COUNTERS_DOC("", "", "\"events_relayed\": -2, ", ""), "events_relayed" },
		{ COUNTERS_DOC("", "", "", ", \"next_seq\": 2147483648"), "next_seq" },
		{ COUNTERS_DOC("", "", "", ", \"have_seq\": 1"), "have_seq" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm *vms = NULL;
		struct daemon d;
		char err[512];
		int r;

		memset(&d, 0, sizeof(d));
		r = parse_doc(&d, cases[i].doc, &vms, err, sizeof(err));
		check_note("%s", err);
		if (r != -EINVAL || !strstr(err, cases[i].named))
			check_fail(__FILE__, __LINE__, "case %zu: %d \"%s\", expected -EINVAL naming %s",
				   i, r, err, cases[i].named);
		CHECK(vms == NULL);
		CHECK_EQ(d.counters.restarts, 0);
		device_inventory_free(&d);
	}
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
		CHECK_CASE(test_counters_loaded),
		CHECK_CASE(test_counters_absent),
		CHECK_CASE(test_counters_hostile),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
