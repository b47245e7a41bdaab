/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connection to viommud and the error of the last call. A client
 * remembers the daemon's error name and message (copied, so they outlive the
 * reply) until its next call. Also the calls of org.viommu1.Manager and
 * org.viommu1.Device, which need no handle but the client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "client-internal.h"
#include "wire-bus.h"

void client_clear_error(struct viommu_client *client)
{
	free(client->error_name);
	free(client->error_message);
	client->error_name = NULL;
	client->error_message = NULL;
}

const char *viommu_client_error_name(const struct viommu_client *client)
{
	return client ? client->error_name : NULL;
}

const char *viommu_client_error_message(const struct viommu_client *client)
{
	return client ? client->error_message : NULL;
}

static int client_new(struct viommu_client **out)
{
	struct viommu_client *client;
	int r;

	/* Adding the same table again is a no-op in sd-bus. */
	r = sd_bus_error_add_map(wire_error_map);
	if (r < 0)
		return r;
	client = calloc(1, sizeof(*client));
	if (!client)
		return -ENOMEM;
	*out = client;
	return 0;
}

/* D-Bus addresses escape every byte outside this set as %XX. */
static int address_escape(const char *path, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (n + 4 > size)
			return -ENAMETOOLONG;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_/.\\*", *p)) {
			buf[n++] = (char)*p;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 0xf];
		}
	}
	buf[n] = '\0';
	return 0;
}

int viommu_client_connect(const char *socket_path, struct viommu_client **out)
{
	struct sockaddr_un sa;
	char address[sizeof("unix:path=") + 3 * sizeof(sa.sun_path)];
	struct viommu_client *client;
	const char *path = socket_path;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	/* A set-uid VMM must not be pointed at another socket by its caller. */
	if (!path)
		path = secure_getenv("VIOMMU_SOCKET");
	if (!path || !*path)
		path = VIOMMU_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;

	strcpy(address, "unix:path=");
	r = address_escape(path, address + strlen(address), sizeof(address) - strlen(address));
	if (r < 0)
		return r;

	r = client_new(&client);
	if (r < 0)
		return r;
	/* Peer-to-peer: no Hello, no bus name, calls go without a destination. */
	r = sd_bus_new(&client->bus);
	if (r >= 0)
		r = sd_bus_set_address(client->bus, address);
	if (r >= 0)
		r = sd_bus_negotiate_fds(client->bus, 1);
	if (r >= 0)
		r = sd_bus_start(client->bus);
	if (r < 0) {
		viommu_client_free(client);
		return r;
	}
	*out = client;
	return 0;
}

int viommu_client_connect_system(struct viommu_client **out)
{
	struct viommu_client *client;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	r = client_new(&client);
	if (r < 0)
		return r;
	r = sd_bus_open_system(&client->bus);
	if (r < 0) {
		viommu_client_free(client);
		return r;
	}
	client->destination = VIOMMU_BUS_NAME;
	*out = client;
	return 0;
}

void viommu_client_free(struct viommu_client *client)
{
	if (!client)
		return;
	sd_bus_flush_close_unref(client->bus);
	client_clear_error(client);
	free(client);
}

void viommu_strv_free(char **strv)
{
	if (!strv)
		return;
	for (char **s = strv; *s; s++)
		free(*s);
	free(strv);
}

static int list_paths(struct viommu_client *client, const char *member, char ***out_paths)
{
	sd_bus_message *m, *reply = NULL;
	int r;

	if (!client)
		return -EINVAL;
	client_clear_error(client);
	if (!out_paths)
		return -EINVAL;
	*out_paths = NULL;
	r = client_new_call(client, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, member, &m);
	if (r < 0)
		return r;
	r = client_call(client, m, &reply);
	if (r < 0)
		return r;
	r = client_read_paths(reply, out_paths);
	sd_bus_message_unref(reply);
	return r;
}

int viommu_list_devices(struct viommu_client *client, char ***out_paths)
{
	return list_paths(client, "ListDevices", out_paths);
}

int viommu_list_vms(struct viommu_client *client, char ***out_paths)
{
	return list_paths(client, "ListVms", out_paths);
}

/* Reads the a(ss) of reply into an array ended by an entry whose name is NULL. */
static int read_orphans(sd_bus_message *reply, struct viommu_orphan **out)
{
	struct viommu_orphan *orphans = calloc(1, sizeof(*orphans)), *grown;
	const char *name, *target;
	char *name_copy, *target_copy;
	size_t n = 0;
	int r;

	if (!orphans)
		return -ENOMEM;
	r = sd_bus_message_enter_container(reply, 'a', "(ss)");
	while (r >= 0) {
		r = sd_bus_message_read(reply, "(ss)", &name, &target);
		if (r <= 0)
			break;
		grown = reallocarray(orphans, n + 2, sizeof(*orphans));
		name_copy = strdup(name);
		target_copy = strdup(target);
		if (grown)
			orphans = grown;
		if (!grown || !name_copy || !target_copy) {
			free(name_copy);
			free(target_copy);
			r = -ENOMEM;
			break;
		}
		orphans[n].name = name_copy;
		orphans[n].target = target_copy;
		orphans[++n] = (struct viommu_orphan){ NULL, NULL };
	}
	if (r < 0) {
		viommu_orphans_free(orphans);
		return r;
	}
	*out = orphans;
	return 0;
}

int viommu_list_orphans(struct viommu_client *client, struct viommu_orphan **out_orphans)
{
	sd_bus_message *m, *reply = NULL;
	int r;

	if (!client)
		return -EINVAL;
	client_clear_error(client);
	if (!out_orphans)
		return -EINVAL;
	*out_orphans = NULL;
	r = client_new_call(client, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, "ListOrphans", &m);
	if (r < 0)
		return r;
	r = client_call(client, m, &reply);
	if (r < 0)
		return r;
	r = read_orphans(reply, out_orphans);
	sd_bus_message_unref(reply);
	return r;
}

void viommu_orphans_free(struct viommu_orphan *orphans)
{
	if (!orphans)
		return;
	for (struct viommu_orphan *o = orphans; o->name; o++) {
		free(o->name);
		free(o->target);
	}
	free(orphans);
}

int viommu_release_orphan(struct viommu_client *client, const char *name)
{
	sd_bus_message *m;
	int r;

	if (!client)
		return -EINVAL;
	client_clear_error(client);
	if (!name || !*name)
		return -EINVAL;
	r = client_new_call(client, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, "ReleaseOrphan", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "s", name);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	return client_call(client, m, NULL);
}

/* org.viommu1.Device calls take no arguments: the device is the object. */
static int device_call(struct viommu_client *client, const char *device, const char *member)
{
	char path[VIOMMU_DEVICE_PATH_MAX];

	if (!client)
		return -EINVAL;
	client_clear_error(client);
	if (client_device_path(device, path, sizeof(path)) < 0)
		return -EINVAL;
	return client_call_simple(client, path, VIOMMU_IFACE_DEVICE, member);
}

int viommu_device_bind_vfio(struct viommu_client *client, const char *device)
{
	return device_call(client, device, "BindVfio");
}

int viommu_device_unbind_vfio(struct viommu_client *client, const char *device)
{
	return device_call(client, device, "UnbindVfio");
}

/* A Manager method without arguments whose reply is one string: *out, malloc()ed. */
static int manager_string(struct viommu_client *client, const char *member, char **out)
{
	sd_bus_message *m, *reply = NULL;
	const char *text;
	int r;

	if (!client)
		return -EINVAL;
	client_clear_error(client);
	if (!out)
		return -EINVAL;
	*out = NULL;
	r = client_new_call(client, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, member, &m);
	if (r < 0)
		return r;
	r = client_call(client, m, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "s", &text);
	if (r >= 0) {
		*out = strdup(text);
		r = *out ? 0 : -ENOMEM;
	}
	sd_bus_message_unref(reply);
	return r;
}

int viommu_describe(struct viommu_client *client, char **out_json)
{
	return manager_string(client, "Describe", out_json);
}

int viommu_get_metrics(struct viommu_client *client, char **out_text)
{
	return manager_string(client, VIOMMU_MANAGER_GET_METRICS, out_text);
}

int viommu_version(struct viommu_client *client, char **out_version)
{
	if (!client)
		return -EINVAL;
	client_clear_error(client);
	if (!out_version)
		return -EINVAL;
	*out_version = NULL;
	return client_get_string(client, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, "Version",
				 out_version);
}
