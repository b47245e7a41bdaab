/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The model's metrics as Prometheus text (exposition format 0.0.4): the
 * daemon-wide series for every caller, a VM's series only for callers that
 * may see the VM. The bus layer appends its own (method latencies). The text
 * grows with the VMs the caller sees, nothing else: every family and label
 * set is fixed here.
 */
#include "model.h"

#include <errno.h>
#include <inttypes.h>

void metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_label_value(FILE *f, const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
}

static void sample(FILE *f, const char *name, uint64_t value)
{
	fprintf(f, "%s %" PRIu64 "\n", name, value);
}

static void daemon_sample(FILE *f, const char *name, const char *type, const char *help,
			  uint64_t value)
{
	metrics_family(f, name, type, help);
	sample(f, name, value);
}

static uint64_t devices_present(const struct daemon *d)
{
	uint64_t n = 0;

	for (const struct device *dev = d->devices; dev; dev = dev->next)
		n += dev->present;
	return n;
}

static void write_daemon(FILE *f, const struct daemon *d, uint64_t connections)
{
	const struct daemon_counters *c = &d->counters;

	daemon_sample(f, "viommu_vms", "gauge", "VMs the daemon holds, of every owner.",
		      d->nvm_index);
	daemon_sample(f, "viommu_devices", "gauge", "Assignable devices present.",
		      devices_present(d));
	daemon_sample(f, "viommu_connections", "gauge",
		      "Private-socket connections and known system-bus clients now.", connections);
	daemon_sample(f, "viommu_connections_accepted_total", "counter",
		      "Private-socket connections accepted.", c->connections_accepted);
	metrics_family(f, "viommu_quota_refusals_total", "counter",
		       "Calls and connections refused by a viommud.conf(5) limit, by its key.");
	for (int i = 0; i < QUOTA_LIMIT_COUNT; i++)
		fprintf(f, "viommu_quota_refusals_total{limit=\"%s\"} %" PRIu64 "\n",
			quota_limit_name(i), c->quota_refusals[i]);
	daemon_sample(f, "viommu_restarts_total", "counter",
		      "Starts that found a state to adopt.", c->restarts);
	daemon_sample(f, "viommu_vms_adopted_total", "counter", "VMs adopted after restarts.",
		      c->vms_adopted);
	daemon_sample(f, "viommu_orphans", "gauge",
		      "Stored fds no VM explained, kept until released.", d->norphans);
	daemon_sample(f, "viommu_orphans_released_total", "counter",
		      "Orphaned fds closed by ReleaseOrphan.", c->orphans_released);
}

static uint64_t vm_pinned_bytes(const struct vm *vm)
{
	return vm->mapped_bytes;
}

static uint64_t vm_mappings(const struct vm *vm)
{
	uint64_t n = 0;

	for (const struct vm_mapping *map = vm->mappings; map; map = map->next)
		n++;
	return n;
}

static uint64_t vm_devices(const struct vm *vm)
{
	uint64_t n = 0;

	for (const struct vm_device *vd = vm->devices; vd; vd = vd->next)
		n++;
	return n;
}

#define COUNTER(field) \
	static uint64_t vm_##field(const struct vm *vm) { return vm->counters.field; }
COUNTER(invalidation_calls)
COUNTER(invalidation_entries)
COUNTER(invalidation_errors)
COUNTER(events_relayed)
COUNTER(events_lost)
COUNTER(faults_relayed)
COUNTER(faults_answered)
COUNTER(dirty_reads)
#undef COUNTER

static const struct vm_metric {
	const char *name, *type, *help;
	uint64_t (*value)(const struct vm *vm);
} vm_metrics[] = {
	{ "viommu_vm_pinned_bytes", "gauge", "Bytes the VM has mapped through MapMemory.",
	  vm_pinned_bytes },
	{ "viommu_vm_mappings", "gauge", "MapMemory mappings of the VM.", vm_mappings },
	{ "viommu_vm_devices", "gauge", "Devices attached to the VM.", vm_devices },
	{ "viommu_vm_invalidation_calls_total", "counter",
	  "Invalidate calls of the VM that reached the kernel.", vm_invalidation_calls },
	{ "viommu_vm_invalidation_entries_total", "counter",
	  "Invalidation entries the kernel handled.", vm_invalidation_entries },
	{ "viommu_vm_invalidation_errors_total", "counter",
	  "Invalidate calls in which the kernel refused an entry.", vm_invalidation_errors },
	{ "viommu_vm_events_relayed_total", "counter", "vEVENTs relayed as Event signals.",
	  vm_events_relayed },
	{ "viommu_vm_events_lost_total", "counter", "vEVENTs lost on relayed queues.",
	  vm_events_lost },
	{ "viommu_vm_faults_relayed_total", "counter", "IO page faults relayed as Fault signals.",
	  vm_faults_relayed },
	{ "viommu_vm_faults_answered_total", "counter", "Relayed faults answered by RespondFault.",
	  vm_faults_answered },
	{ "viommu_vm_dirty_bitmap_reads_total", "counter",
	  "ReadDirtyBitmap calls the kernel answered.", vm_dirty_reads },
};

static void write_vms(FILE *f, const struct daemon *d, const struct server_peer *peer)
{
	bool any = false;

	for (const struct vm *vm = d->vms; vm && !any; vm = vm->next)
		any = vm_visible_to(vm, peer);
	/* A family without samples is left out, as client libraries do. */
	if (!any)
		return;
	for (size_t i = 0; i < sizeof(vm_metrics) / sizeof(vm_metrics[0]); i++) {
		const struct vm_metric *m = &vm_metrics[i];

		metrics_family(f, m->name, m->type, m->help);
		for (const struct vm *vm = d->vms; vm; vm = vm->next) {
			if (!vm_visible_to(vm, peer))
				continue;
			fprintf(f, "%s{vm=\"", m->name);
			metrics_label_value(f, vm->name);
			fprintf(f, "\",uid=\"%u\"} %" PRIu64 "\n", (unsigned int)vm->owner,
				m->value(vm));
		}
	}
}

int metrics_write_model(FILE *f, const struct daemon *d, const struct server_peer *peer,
			uint64_t connections)
{
	write_daemon(f, d, connections);
	write_vms(f, d, peer);
	return ferror(f) ? -EIO : 0;
}
