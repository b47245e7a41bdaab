/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes the introspection XML of each org.viommu1 interface, as sd-bus
 * itself renders the daemon's vtables, into DIR/<interface>.xml. Run at build
 * time, so the installed XML can never drift from the code.
 *
 *   introspect-dump DIR
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"

static const struct {
	const char *iface;
	const sd_bus_vtable *vtable;
} interfaces[] = {
	{ VIOMMU_IFACE_MANAGER, manager_vtable }, { VIOMMU_IFACE_DEVICE, device_vtable },
	{ VIOMMU_IFACE_VM, vm_vtable },		  { VIOMMU_IFACE_VIOMMU, viommu_vtable },
	{ VIOMMU_IFACE_DOMAIN, domain_vtable },	  { VIOMMU_IFACE_VDEVICE, vdevice_vtable },
	{ VIOMMU_IFACE_HW_QUEUE, hw_queue_vtable },
	{ VIOMMU_IFACE_FAULT_QUEUE, fault_queue_vtable },
};

static volatile int server_done;

static void *serve(void *arg)
{
	sd_bus *bus = arg;

	while (!server_done) {
		int r = sd_bus_process(bus, NULL);

		if (r < 0)
			break;
		if (r == 0)
			sd_bus_wait(bus, 100 * 1000);
	}
	return NULL;
}

/* Cuts the <interface name="iface">...</interface> element out of xml. */
static int write_interface(const char *dir, const char *iface, const char *xml)
{
	char open_tag[128], path[4096];
	const char *start, *end;
	FILE *f;

	snprintf(open_tag, sizeof(open_tag), "<interface name=\"%s\">", iface);
	start = strstr(xml, open_tag);
	end = start ? strstr(start, "</interface>") : NULL;
	if (!end)
		return -ENOENT;
	end += strlen("</interface>");
	snprintf(path, sizeof(path), "%s/%s.xml", dir, iface);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection "
		   "1.0//EN\"\n \"http://www.freedesktop.org/standards/dbus/1.0/"
		   "introspect.dtd\">\n<!-- viommud: see org.viommu1(5) -->\n<node>\n %.*s\n</node>\n",
		(int)(end - start), start);
	return fclose(f) == 0 ? 0 : -errno;
}

int main(int argc, char **argv)
{
	sd_bus *server = NULL, *client = NULL;
	sd_id128_t id;
	pthread_t thread;
	int fds[2], r = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: introspect-dump DIR\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 ||
	    sd_id128_randomize(&id) < 0 || sd_bus_new(&server) < 0 || sd_bus_new(&client) < 0 ||
	    sd_bus_set_fd(server, fds[0], fds[0]) < 0 || sd_bus_set_server(server, 1, id) < 0 ||
	    sd_bus_set_anonymous(server, 1) < 0 || sd_bus_set_fd(client, fds[1], fds[1]) < 0 ||
	    sd_bus_set_anonymous(client, 1) < 0) {
		fprintf(stderr, "introspect-dump: cannot set up the buses\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(interfaces) / sizeof(interfaces[0]); i++) {
		char path[128];

		snprintf(path, sizeof(path), "/i%zu", i);
		r = sd_bus_add_object_vtable(server, NULL, path, interfaces[i].iface,
					     interfaces[i].vtable, NULL);
		if (r < 0) {
			fprintf(stderr, "introspect-dump: %s: %s\n", interfaces[i].iface, strerror(-r));
			return 1;
		}
	}
	if (sd_bus_start(server) < 0 || pthread_create(&thread, NULL, serve, server) != 0 ||
	    sd_bus_start(client) < 0) {
		fprintf(stderr, "introspect-dump: cannot start the buses\n");
		return 1;
	}
	for (size_t i = 0; r >= 0 && i < sizeof(interfaces) / sizeof(interfaces[0]); i++) {
		sd_bus_error error = SD_BUS_ERROR_NULL;
		sd_bus_message *reply = NULL;
		const char *xml;
		char path[128];

		snprintf(path, sizeof(path), "/i%zu", i);
		r = sd_bus_call_method(client, NULL, path, "org.freedesktop.DBus.Introspectable",
				       "Introspect", &error, &reply, "");
		if (r >= 0)
			r = sd_bus_message_read(reply, "s", &xml);
		if (r >= 0)
			r = write_interface(argv[1], interfaces[i].iface, xml);
		if (r < 0)
			fprintf(stderr, "introspect-dump: %s: %s\n", interfaces[i].iface,
				error.message ? error.message : strerror(-r));
		sd_bus_message_unref(reply);
		sd_bus_error_free(&error);
	}
	server_done = 1;
	pthread_join(thread, NULL);
	sd_bus_flush_close_unref(client);
	sd_bus_flush_close_unref(server);
	return r < 0 ? 1 : 0;
}
