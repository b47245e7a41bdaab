/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Manager.GetMetrics, and the measurement of every method's latency that it
 * shows: a bus filter notes when a call of ours is dispatched, the loop's
 * after-dispatch hook (server_callbacks) records how long its handler took.
 */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "method-stats.h"

/* The interfaces whose methods are measured, with their vtables. */
static const struct {
	const char *iface;
	const sd_bus_vtable *vtable;
} measured[] = {
	{ VIOMMU_IFACE_MANAGER, manager_vtable },   { VIOMMU_IFACE_DEVICE, device_vtable },
	{ VIOMMU_IFACE_VM, vm_vtable },		    { VIOMMU_IFACE_VIOMMU, viommu_vtable },
	{ VIOMMU_IFACE_DOMAIN, domain_vtable },	    { VIOMMU_IFACE_VDEVICE, vdevice_vtable },
	{ VIOMMU_IFACE_HW_QUEUE, hw_queue_vtable }, { VIOMMU_IFACE_FAULT_QUEUE, fault_queue_vtable },
};
#define NMEASURED (sizeof(measured) / sizeof(measured[0]))
#define IFACE_PREFIX VIOMMU_BUS_NAME "."

/* "org.viommu1.Manager" -> "Manager". */
static const char *short_iface(const char *iface)
{
	return strncmp(iface, IFACE_PREFIX, strlen(IFACE_PREFIX)) == 0 ? iface + strlen(IFACE_PREFIX)
									: NULL;
}

int metrics_init(struct daemon *d)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < NMEASURED; i++) {
		for (const sd_bus_vtable *v = measured[i].vtable;
		     r == 0 && v->type != _SD_BUS_VTABLE_END; v++) {
			char **grown;

			if (v->type != _SD_BUS_VTABLE_METHOD)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				grown = realloc(names, cap * sizeof(*names));
				if (!grown) {
					r = -ENOMEM;
					break;
				}
				names = grown;
			}
			if (asprintf(&names[n], "%s.%s", short_iface(measured[i].iface),
				     v->x.method.member) < 0)
				r = -ENOMEM;
			else
				n++;
		}
	}
	if (r == 0)
		r = method_stats_new((const char *const *)names, n, &d->method_stats);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

void metrics_fini(struct daemon *d)
{
	method_stats_free(d->method_stats);
	d->method_stats = NULL;
}

int metrics_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	const char *iface = sd_bus_message_get_interface(m);
	const char *member = sd_bus_message_get_member(m);

	if (!d->method_stats || !sd_bus_message_is_method_call(m, NULL, NULL) || !iface ||
	    !member || !short_iface(iface))
		return 0;
	method_stats_begin(d->method_stats, sd_bus_message_get_bus(m), short_iface(iface), member);
	return 0;
}

void daemon_after_dispatch(sd_bus *bus, void *userdata)
{
	struct daemon *d = userdata;

	if (d->method_stats)
		method_stats_end(d->method_stats, bus);
}

/* Who is connected now: the transport knows. */
static uint64_t connections(const struct daemon *d)
{
	if (!d->server)
		return 0;
	return server_connection_count(d->server) + server_system_peer_count(d->server);
}

int manager_method_get_metrics(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	struct server_peer peer;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int r = daemon_caller(m, &peer, error);

	if (r < 0)
		return r;
	f = open_memstream(&text, &len);
	if (!f)
		return bus_error_errno(error, -ENOMEM, "cannot write the metrics");
	r = metrics_write_model(f, d, &peer, connections(d));
	if (r == 0 && d->method_stats)
		r = method_stats_write(f, d->method_stats);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(text);
		return bus_error_errno(error, r, "cannot write the metrics");
	}
	r = sd_bus_reply_method_return(m, "s", text);
	free(text);
	return r;
}
