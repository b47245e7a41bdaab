/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Method calls and property reads. Every failure passes through
 * keep_error(), so the caller can ask the client what the daemon said.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "client-internal.h"

/* 1 MiB of entries is the daemon's limit too; more cannot be meant. */
#define ENTRIES_MAX (1u << 20)

static int keep_error(struct viommu_client *client, const sd_bus_error *error, int r)
{
	client_clear_error(client);
	if (!sd_bus_error_is_set(error))
		return r;
	client->error_name = strdup(error->name);
	if (error->message)
		client->error_message = strdup(error->message);
	/* sd-bus says EBADR for an object we may not see: "no such object" reads better. */
	if (sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT))
		return -ENOENT;
	return r;
}

/* Signals arrive unasked on the private socket: drop them so they do not pile up. */
static void drain(struct viommu_client *client)
{
	for (int i = 0; i < 64; i++)
		if (sd_bus_process(client->bus, NULL) <= 0)
			break;
}

int client_new_call(struct viommu_client *client, const char *path, const char *iface,
		    const char *member, sd_bus_message **out)
{
	return sd_bus_message_new_method_call(client->bus, out, client->destination, path, iface,
					      member);
}

int client_call(struct viommu_client *client, sd_bus_message *m, sd_bus_message **reply)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call(client->bus, m, 0, &error, reply);
	sd_bus_message_unref(m);
	if (r < 0)
		r = keep_error(client, &error, r);
	sd_bus_error_free(&error);
	drain(client);
	return r < 0 ? r : 0;
}

static int get_trivial(struct viommu_client *client, const char *path, const char *iface,
		       const char *member, char type, void *out)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_get_property_trivial(client->bus, client->destination, path, iface, member,
					&error, type, out);
	if (r < 0)
		r = keep_error(client, &error, r);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

int client_get_u32(struct viommu_client *client, const char *path, const char *iface,
		   const char *member, uint32_t *out)
{
	return get_trivial(client, path, iface, member, 'u', out);
}

int client_get_u64(struct viommu_client *client, const char *path, const char *iface,
		   const char *member, uint64_t *out)
{
	return get_trivial(client, path, iface, member, 't', out);
}

int client_get_string(struct viommu_client *client, const char *path, const char *iface,
		      const char *member, char **out)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_get_property_string(client->bus, client->destination, path, iface, member,
				       &error, out);
	if (r < 0)
		r = keep_error(client, &error, r);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

int client_get_reply(struct viommu_client *client, const char *path, const char *iface,
		     const char *member, const char *type, sd_bus_message **reply)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_get_property(client->bus, client->destination, path, iface, member, &error,
				reply, type);
	if (r < 0)
		r = keep_error(client, &error, r);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

int client_read_fd(sd_bus_message *reply, int *out_fd)
{
	int fd, r;

	r = sd_bus_message_read(reply, "h", &fd);
	if (r < 0)
		return r;
	/* The reply owns fd and closes it when unref'd: keep our own copy. */
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	*out_fd = fd;
	return 0;
}

int client_read_paths(sd_bus_message *reply, char ***out)
{
	char **strv = NULL;
	int r;

	r = sd_bus_message_read_strv(reply, &strv);
	if (r < 0)
		return r;
	/* sd-bus gives NULL for an empty array; callers get an empty list. */
	if (!strv) {
		strv = calloc(1, sizeof(*strv));
		if (!strv)
			return -ENOMEM;
	}
	*out = strv;
	return 0;
}

int client_append_no_options(sd_bus_message *m)
{
	int r = sd_bus_message_open_container(m, 'a', "{sv}");

	return r < 0 ? r : sd_bus_message_close_container(m);
}

int client_append_entries(sd_bus_message *m, uint32_t entry_len, const void *entries,
			  uint32_t count)
{
	uint64_t size = (uint64_t)entry_len * count;

	if (entry_len == 0 || (count && !entries) || size > ENTRIES_MAX)
		return -EINVAL;
	return sd_bus_message_append_array(m, 'y', count ? entries : "", (size_t)size);
}

int client_invalidate(struct viommu_client *client, const char *path, const char *iface,
		      uint32_t data_type, uint32_t entry_len, const void *entries, uint32_t count,
		      uint32_t *out_handled, int *out_error)
{
	sd_bus_message *m, *reply = NULL;
	uint32_t handled;
	int32_t error;
	int r;

	r = client_new_call(client, path, iface, "Invalidate", &m);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "uu", data_type, entry_len);
	if (r >= 0)
		r = client_append_entries(m, entry_len, entries, count);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	r = client_call(client, m, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "ui", &handled, &error);
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	if (out_handled)
		*out_handled = handled;
	if (out_error)
		*out_error = error;
	return 0;
}

int client_call_simple(struct viommu_client *client, const char *path, const char *iface,
		       const char *member)
{
	sd_bus_message *m;
	int r;

	r = client_new_call(client, path, iface, member, &m);
	if (r < 0)
		return r;
	return client_call(client, m, NULL);
}

int client_call_u64(struct viommu_client *client, const char *path, const char *iface,
		    const char *member, uint64_t *out, const char *types, ...)
{
	sd_bus_message *m, *reply = NULL;
	uint64_t value;
	va_list ap;
	int r;

	r = client_new_call(client, path, iface, member, &m);
	if (r < 0)
		return r;
	va_start(ap, types);
	r = sd_bus_message_appendv(m, types, ap);
	va_end(ap);
	if (r < 0) {
		sd_bus_message_unref(m);
		return r;
	}
	r = client_call(client, m, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "t", &value);
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	if (out)
		*out = value;
	return 0;
}

int client_destroy(struct viommu_client *client, const char *path, const char *iface)
{
	return client_call_simple(client, path, iface, "Destroy");
}

int client_read_path(sd_bus_message *reply, char **out)
{
	const char *path;
	int r;

	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	*out = strdup(path);
	return *out ? 0 : -ENOMEM;
}

int client_new_object(struct viommu_client *client, sd_bus_message *reply, const char *iface,
		      char **out_path, uint32_t *out_kernel_id)
{
	char *path = NULL;
	int r;

	r = client_read_path(reply, &path);
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	/* Fails only when the connection is gone: the VM's teardown frees the object then. */
	r = client_get_u32(client, path, iface, "KernelId", out_kernel_id);
	if (r < 0) {
		free(path);
		return r;
	}
	*out_path = path;
	return 0;
}
