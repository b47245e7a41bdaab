/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How long each D-Bus method of org.viommu1 takes to answer: one latency
 * histogram per method, for GetMetrics. Plain C (no sd-bus types): the table
 * is made once from the names of the vtables' methods, so a caller naming
 * other members cannot grow it. One message is measured at a time: the loop
 * dispatches one per round (bus-loop.h).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct method_stats;

/* names: n "Interface.Member" short names ("Manager.CreateVm"); copied. */
int method_stats_new(const char *const *names, size_t n, struct method_stats **out);
void method_stats_free(struct method_stats *s);
/* A message of iface (short: "Manager") and member is dispatched on key (its
 * connection): measured from now, if the method is in the table. */
void method_stats_begin(struct method_stats *s, const void *key, const char *iface,
			const char *member);
/* key's dispatch is over: the measurement begun on it, if any, is recorded. */
void method_stats_end(struct method_stats *s, const void *key);
/* Records one call of method index i that took ns nanoseconds. */
void method_stats_record(struct method_stats *s, size_t i, uint64_t ns);
/* The index of a method, or -ENOENT. */
int method_stats_find(const struct method_stats *s, const char *iface, const char *member);
/* viommu_method_duration_seconds, the methods called at least once; nothing
 * when none was. 0, or -EIO when f failed. */
int method_stats_write(FILE *f, const struct method_stats *s);
