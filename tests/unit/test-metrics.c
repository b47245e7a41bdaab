/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GetMetrics' text without a kernel: the model's series for VMs read from a
 * state document (a caller sees its own VMs' series alone, root every VM's),
 * the daemon-wide series for all, label values escaped, quota refusals
 * counted from the journal's records whatever the log level, and the method
 * latency histograms (cumulative buckets, +Inf the count, bounded names).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log-event.h"
#include "log.h"
#include "method-stats.h"
#include "promtool.h"
#include "state.h"

/* A VM object of a state document, with its mappings and counters. */
#define VM(id, name, owner, mappings, counters)                                                \
	"{\"id\": " #id ", \"name\": \"" name "\", \"owner\": " #owner ", "                  \
	"\"mode\": \"managed\", \"persist\": true, \"pasid\": false, \"shared\": false, "       \
	"\"nesting\": false, \"dirty_tracking\": false, \"dirty_tracking_enabled\": false, "     \
	"\"ioas_id\": 1, \"parent_id\": 0, \"next_object\": 1, \"vmm_pid\": 0, "               \
	"\"vmm_memlock\": 0, \"counters\": {" counters "}, \"mappings\": [" mappings "], "       \
	"\"devices\": [], \"viommus\": [], \"fault_queues\": [], \"domains\": [], "             \
	"\"vdevices\": []}"

/* Two VMs of two owners, with counters. */
static const char state_doc[] =
	"{\"version\": 1, \"next_vm_id\": 3, \"bound_devices\": [], "
	"\"counters\": {\"connections_accepted\": 7, \"restarts\": 2, \"vms_adopted\": 3, "
	"\"orphans_released\": 1, \"quota_refusals\": {\"quota_vms_per_uid\": 4}}, "
	"\"vms\": [" VM(1, "web", 1000,
			"{\"iova\": 16777216, \"length\": 4096}, {\"iova\": 33554432, \"length\": 8192}",
			"\"invalidation_calls\": 5, \"invalidation_entries\": 9, "
			"\"invalidation_errors\": 1, \"events_relayed\": 6, \"events_lost\": 2, "
			"\"faults_relayed\": 3, \"faults_answered\": 2, \"dirty_reads\": 4")
	", " VM(2, "db", 1001, "", "\"dirty_reads\": 11") "]}";

static struct daemon d;

static void load(void)
{
	struct state_intent intent;
	unsigned int next = 0;
	char err[512] = "";
	int r;

	memset(&d, 0, sizeof(d));
	r = state_parse(&d, state_doc, strlen(state_doc), &d.vms, &intent, &next, err, sizeof(err));
	if (r < 0)
		check_note("%s", err);
	CHECK_EQ(r, 0);
	d.nvm_index = 2;
}

static void unload(void)
{
	state_free_parsed(d.vms);
	d.vms = NULL;
	device_inventory_free(&d);
}

/* The text as uid would get it (0: root). */
static char *text_for(uid_t uid)
{
	struct server_peer peer = { .uid = uid };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(f);
	CHECK_EQ(metrics_write_model(f, &d, &peer, 3), 0);
	CHECK_EQ(fclose(f), 0);
	return text;
}

/* A line of text is exactly line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

#define CHECK_LINE(text, line)                                                     \
	do {                                                                       \
		if (!has_line(text, line))                                         \
			check_fail(__FILE__, __LINE__, "no line \"%s\" in:\n%s", line, text); \
	} while (0)

static void test_root_sees_every_vm(void)
{
	char *text;

	load();
	text = text_for(0);
	CHECK_LINE(text, "# TYPE viommu_vm_pinned_bytes gauge");
	CHECK_LINE(text, "viommu_vm_pinned_bytes{vm=\"web\",uid=\"1000\"} 12288");
	CHECK_LINE(text, "viommu_vm_mappings{vm=\"web\",uid=\"1000\"} 2");
	CHECK_LINE(text, "viommu_vm_devices{vm=\"web\",uid=\"1000\"} 0");
	CHECK_LINE(text, "# TYPE viommu_vm_invalidation_calls_total counter");
	CHECK_LINE(text, "viommu_vm_invalidation_calls_total{vm=\"web\",uid=\"1000\"} 5");
	CHECK_LINE(text, "viommu_vm_invalidation_entries_total{vm=\"web\",uid=\"1000\"} 9");
	CHECK_LINE(text, "viommu_vm_invalidation_errors_total{vm=\"web\",uid=\"1000\"} 1");
	CHECK_LINE(text, "viommu_vm_events_relayed_total{vm=\"web\",uid=\"1000\"} 6");
	CHECK_LINE(text, "viommu_vm_events_lost_total{vm=\"web\",uid=\"1000\"} 2");
	CHECK_LINE(text, "viommu_vm_faults_relayed_total{vm=\"web\",uid=\"1000\"} 3");
	CHECK_LINE(text, "viommu_vm_faults_answered_total{vm=\"web\",uid=\"1000\"} 2");
	CHECK_LINE(text, "viommu_vm_dirty_bitmap_reads_total{vm=\"web\",uid=\"1000\"} 4");
	/* A VM file without some counters reads them as zeros. */
	CHECK_LINE(text, "viommu_vm_dirty_bitmap_reads_total{vm=\"db\",uid=\"1001\"} 11");
	CHECK_LINE(text, "viommu_vm_events_relayed_total{vm=\"db\",uid=\"1001\"} 0");
	free(text);
	unload();
}

static void test_daemon_wide(void)
{
	char *text;

	load();
	text = text_for(1000);
	CHECK_LINE(text, "# HELP viommu_vms VMs the daemon holds, of every owner.");
	CHECK_LINE(text, "# TYPE viommu_vms gauge");
	CHECK_LINE(text, "viommu_vms 2");
	CHECK_LINE(text, "viommu_devices 0");
	CHECK_LINE(text, "viommu_connections 3");
	CHECK_LINE(text, "viommu_connections_accepted_total 7");
	CHECK_LINE(text, "viommu_restarts_total 2");
	CHECK_LINE(text, "viommu_vms_adopted_total 3");
	CHECK_LINE(text, "viommu_orphans 0");
	CHECK_LINE(text, "viommu_orphans_released_total 1");
	CHECK_LINE(text, "# TYPE viommu_quota_refusals_total counter");
	CHECK_LINE(text, "viommu_quota_refusals_total{limit=\"quota_vms_per_uid\"} 4");
	/* Every limit, zeros included. */
	for (int i = 1; i < QUOTA_LIMIT_COUNT; i++) {
		char line[128];

		snprintf(line, sizeof(line), "viommu_quota_refusals_total{limit=\"%s\"} 0",
			 quota_limit_name(i));
		CHECK_LINE(text, line);
	}
	free(text);
	unload();
}

static void test_owner_sees_own_vms(void)
{
	char *text;

	load();
	text = text_for(1001);
	CHECK_LINE(text, "viommu_vm_dirty_bitmap_reads_total{vm=\"db\",uid=\"1001\"} 11");
	CHECK(!strstr(text, "vm=\"web\""));
	CHECK(!strstr(text, "uid=\"1000\""));
	free(text);
	/* A caller without VMs gets no per-VM family at all. */
	text = text_for(4242);
	CHECK(!strstr(text, "viommu_vm_"));
	CHECK_LINE(text, "viommu_vms 2");
	free(text);
	unload();
}

static void test_label_escaping(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(f);
	metrics_label_value(f, "a\\b\"c\nd");
	CHECK_EQ(fclose(f), 0);
	CHECK_STREQ(text, "a\\\\b\\\"c\\nd");
	free(text);
}

/* What the journal records as refused is counted, even below the log level. */
static void test_quota_refusals_counted(void)
{
	memset(&d, 0, sizeof(d));
	counters_watch(&d);
	log_set_max_priority(LOG_EMERG);
	log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE, LOG_FIELDS(.limit = "quota_message_fds"),
		  "test");
	log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE, LOG_FIELDS(.limit = "quota_message_fds"),
		  "test");
	log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE,
		  LOG_FIELDS(.limit = "connection_stall_seconds"), "test");
	/* Not a limit, and not a refusal: neither counts. */
	log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE, LOG_FIELDS(.limit = "no_such_key"), "test");
	log_event(LOG_EVENT_VM_CREATED, LOG_NOTICE, LOG_FIELDS(.limit = "quota_vms_per_uid"), "t");
	counters_watch(NULL);
	log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE, LOG_FIELDS(.limit = "quota_message_fds"),
		  "test");
	log_set_max_priority(LOG_INFO);
	CHECK_EQ(d.counters.quota_refusals[QUOTA_MESSAGE_FDS], 2);
	CHECK_EQ(d.counters.quota_refusals[QUOTA_CONNECTION_STALL], 1);
	CHECK_EQ(d.counters.quota_refusals[QUOTA_VMS_PER_UID], 0);
	CHECK_EQ(quota_limit_by_name("quota_pinned_bytes_per_uid"), QUOTA_PINNED_BYTES_PER_UID);
	CHECK_EQ(quota_limit_by_name("nope"), -ENOENT);
}

static char *histogram_text(const struct method_stats *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(f);
	CHECK_EQ(method_stats_write(f, s), 0);
	CHECK_EQ(fclose(f), 0);
	return text;
}

static void test_method_histogram(void)
{
	static const char *const names[] = { "Manager.CreateVm", "Vm.MapMemory", "Domain.Destroy" };
	struct method_stats *s = NULL;
	int i;
	char *text;

	CHECK_OK(method_stats_new(names, 3, &s));
	text = histogram_text(s);
	/* Nothing called yet: no family. */
	CHECK_STREQ(text, "");
	free(text);
	i = method_stats_find(s, "Manager", "CreateVm");
	CHECK(i >= 0);
	/* Unknown members are not measured: the table does not grow. */
	CHECK_EQ(method_stats_find(s, "Manager", "NoSuchMethod"), -ENOENT);
	method_stats_begin(s, &d, "Manager", "NoSuchMethod");
	method_stats_end(s, &d);
	method_stats_record(s, (size_t)i, 100000);    /* on the first bound: in it */
	method_stats_record(s, (size_t)i, 100001);    /* just above: the next */
	method_stats_record(s, (size_t)i, 3000000000); /* past 2.5 s: +Inf only */
	text = histogram_text(s);
	CHECK_LINE(text, "# TYPE viommu_method_duration_seconds histogram");
	CHECK_LINE(text, "viommu_method_duration_seconds_bucket{method=\"Manager.CreateVm\",le=\"0.0001\"} 1");
	CHECK_LINE(text, "viommu_method_duration_seconds_bucket{method=\"Manager.CreateVm\",le=\"0.00025\"} 2");
	CHECK_LINE(text, "viommu_method_duration_seconds_bucket{method=\"Manager.CreateVm\",le=\"2.5\"} 2");
	CHECK_LINE(text, "viommu_method_duration_seconds_bucket{method=\"Manager.CreateVm\",le=\"+Inf\"} 3");
	CHECK_LINE(text, "viommu_method_duration_seconds_sum{method=\"Manager.CreateVm\"} 3.000200001");
	CHECK_LINE(text, "viommu_method_duration_seconds_count{method=\"Manager.CreateVm\"} 3");
	/* Only methods called at least once. */
	CHECK(!strstr(text, "Vm.MapMemory"));
	CHECK(!strstr(text, "NoSuchMethod"));
	free(text);
	/* A measurement ends on the connection it began on, and once. */
	method_stats_begin(s, &d, "Vm", "MapMemory");
	method_stats_end(s, &s);
	method_stats_end(s, &d);
	method_stats_end(s, &d);
	text = histogram_text(s);
	CHECK_LINE(text, "viommu_method_duration_seconds_count{method=\"Vm.MapMemory\"} 1");
	free(text);
	method_stats_free(s);
}

/* promtool (the prometheus package) accepts the whole text, lint included. */
static void test_promtool_accepts(void)
{
	static const char *const names[] = { "Manager.CreateVm", "Vm.MapMemory" };
	struct server_peer root = { .uid = 0 };
	struct method_stats *s = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	load();
	CHECK_OK(method_stats_new(names, 2, &s));
	method_stats_record(s, 0, 1234567);
	f = open_memstream(&text, &len);
	CHECK(f);
	CHECK_OK(metrics_write_model(f, &d, &root, 1));
	CHECK_OK(method_stats_write(f, s));
	CHECK_EQ(fclose(f), 0);
	method_stats_free(s);
	unload();
	check_promtool(text);
	free(text);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_root_sees_every_vm),
		CHECK_CASE(test_daemon_wide),
		CHECK_CASE(test_owner_sees_own_vms),
		CHECK_CASE(test_label_escaping),
		CHECK_CASE(test_quota_refusals_counted),
		CHECK_CASE(test_method_histogram),
		CHECK_CASE(test_promtool_accepts),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
