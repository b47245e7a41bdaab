/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Latency histograms of the D-Bus methods (method-stats.h). */
#include "method-stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

#define METHOD_NAME_MAX 64

/* The upper bounds of the buckets, in ns and as the text writes them; +Inf
 * is the count. */
static const struct bucket {
	uint64_t ns;
	const char *le;
} buckets[] = {
	{ 100000, "0.0001" },	  { 250000, "0.00025" },     { 500000, "0.0005" },
	{ 1000000, "0.001" },	  { 2500000, "0.0025" },     { 5000000, "0.005" },
	{ 10000000, "0.01" },	  { 25000000, "0.025" },     { 50000000, "0.05" },
	{ 100000000, "0.1" },	  { 250000000, "0.25" },     { 500000000, "0.5" },
	{ 1000000000, "1" },	  { 2500000000ull, "2.5" },
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct method_stat {
	char name[METHOD_NAME_MAX];
	uint64_t in_bucket[NBUCKETS]; /* calls at or below its bound, above the one before */
	uint64_t count;
	uint64_t sum_ns;
};

struct method_stats {
	struct method_stat *methods; /* sorted by name */
	size_t n;
	/* The message being measured: its method, its connection, its start. */
	bool open;
	size_t open_method;
	const void *open_key;
	uint64_t open_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_method(const void *a, const void *b)
{
	return strcmp(((const struct method_stat *)a)->name, ((const struct method_stat *)b)->name);
}

int method_stats_new(const char *const *names, size_t n, struct method_stats **out)
{
	struct method_stats *s = calloc(1, sizeof(*s));

	if (!s || (n && !(s->methods = calloc(n, sizeof(*s->methods))))) {
		free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (strlen(names[i]) >= METHOD_NAME_MAX) {
			method_stats_free(s);
			return -ENAMETOOLONG;
		}
		snprintf(s->methods[i].name, METHOD_NAME_MAX, "%s", names[i]);
	}
	s->n = n;
	qsort(s->methods, n, sizeof(*s->methods), cmp_method);
	*out = s;
	return 0;
}

void method_stats_free(struct method_stats *s)
{
	if (!s)
		return;
	free(s->methods);
	free(s);
}

int method_stats_find(const struct method_stats *s, const char *iface, const char *member)
{
	struct method_stat key;
	const struct method_stat *found;
	int n = snprintf(key.name, sizeof(key.name), "%s.%s", iface, member);

	if (n < 0 || (size_t)n >= sizeof(key.name))
		return -ENOENT;
	found = bsearch(&key, s->methods, s->n, sizeof(*s->methods), cmp_method);
	return found ? (int)(found - s->methods) : -ENOENT;
}

void method_stats_record(struct method_stats *s, size_t i, uint64_t ns)
{
	struct method_stat *m = &s->methods[i];
	size_t b = 0;

	while (b < NBUCKETS && ns > buckets[b].ns)
		b++;
	if (b < NBUCKETS)
		m->in_bucket[b]++;
	m->count++;
	m->sum_ns += ns;
}

void method_stats_begin(struct method_stats *s, const void *key, const char *iface,
			const char *member)
{
	int i = method_stats_find(s, iface, member);

	s->open = i >= 0;
	if (i < 0)
		return;
	s->open_method = (size_t)i;
	s->open_key = key;
	s->open_ns = now_ns();
}

void method_stats_end(struct method_stats *s, const void *key)
{
	if (!s->open || s->open_key != key)
		return;
	s->open = false;
	method_stats_record(s, s->open_method, now_ns() - s->open_ns);
}

int method_stats_write(FILE *f, const struct method_stats *s)
{
	bool any = false;

	for (size_t i = 0; i < s->n && !any; i++)
		any = s->methods[i].count > 0;
	if (!any)
		return ferror(f) ? -EIO : 0;
	metrics_family(f, "viommu_method_duration_seconds", "histogram",
		       "Time from a method call's dispatch to its answer, by Interface.Member.");
	for (size_t i = 0; i < s->n; i++) {
		const struct method_stat *m = &s->methods[i];
		uint64_t cumulative = 0;

		if (!m->count)
			continue;
		for (size_t b = 0; b < NBUCKETS; b++) {
			cumulative += m->in_bucket[b];
			fprintf(f, "viommu_method_duration_seconds_bucket{method=\"");
			metrics_label_value(f, m->name);
			fprintf(f, "\",le=\"%s\"} %" PRIu64 "\n", buckets[b].le, cumulative);
		}
		fprintf(f, "viommu_method_duration_seconds_bucket{method=\"");
		metrics_label_value(f, m->name);
		fprintf(f, "\",le=\"+Inf\"} %" PRIu64 "\n", m->count);
		fprintf(f, "viommu_method_duration_seconds_sum{method=\"");
		metrics_label_value(f, m->name);
		fprintf(f, "\"} %" PRIu64 ".%09" PRIu64 "\n", m->sum_ns / 1000000000u,
			m->sum_ns % 1000000000u);
		fprintf(f, "viommu_method_duration_seconds_count{method=\"");
		metrics_label_value(f, m->name);
		fprintf(f, "\"} %" PRIu64 "\n", m->count);
	}
	return ferror(f) ? -EIO : 0;
}
