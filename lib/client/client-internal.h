/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of libviommu share: the handles' layouts and the call
 * helpers that keep the daemon's last error in the client.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include <viommu/viommu.h>

#include "wire.h"

struct viommu_client {
	sd_bus *bus;
	const char *destination; /* NULL on the private socket: no bus to route */
	char *error_name;
	char *error_message;
};

struct viommu_vm {
	struct viommu_client *client;
	char *path;
};

struct viommu_viommu {
	struct viommu_client *client;
	char *path;
	uint32_t kernel_id;
};

struct viommu_domain {
	struct viommu_client *client;
	char *path;
	uint32_t kernel_id;
};

struct viommu_vdevice {
	struct viommu_client *client;
	char *path;
	uint32_t kernel_id;
};

struct viommu_hw_queue {
	struct viommu_client *client;
	char *path;
	uint32_t kernel_id;
};

struct viommu_fault_queue {
	struct viommu_client *client;
	char *path;
	uint32_t kernel_id;
};

/* Forgets the previous call's error: every public call starts with it. */
void client_clear_error(struct viommu_client *client);

/* A new method call on path/iface; append its arguments, then client_call(). */
int client_new_call(struct viommu_client *client, const char *path, const char *iface,
		    const char *member, sd_bus_message **out);
/* Sends m (and unrefs it); on failure keeps the error in client. reply may be NULL. */
int client_call(struct viommu_client *client, sd_bus_message *m, sd_bus_message **reply);

/* Properties; the failure is kept in client like a call's. */
int client_get_u32(struct viommu_client *client, const char *path, const char *iface,
		   const char *member, uint32_t *out);
int client_get_u64(struct viommu_client *client, const char *path, const char *iface,
		   const char *member, uint64_t *out);
int client_get_string(struct viommu_client *client, const char *path, const char *iface,
		      const char *member, char **out);
int client_get_reply(struct viommu_client *client, const char *path, const char *iface,
		     const char *member, const char *type, sd_bus_message **reply);

/* Reads one "h" of reply and returns a CLOEXEC copy the caller owns. */
int client_read_fd(sd_bus_message *reply, int *out_fd);
/* Reads an "ao" of reply into a NULL-terminated array, never NULL on success. */
int client_read_paths(sd_bus_message *reply, char ***out);

/* device (a name or a path) -> its object path, validated, into buf. */
int client_device_path(const char *device, char *buf, size_t size);
/* An object path the daemon could have made (no I/O). */
int client_check_path(const char *path);

/* Appends an empty a{sv}. */
int client_append_no_options(sd_bus_message *m);
/* Appends count entries of entry_len bytes as "ay", refusing sizes that overflow. */
int client_append_entries(sd_bus_message *m, uint32_t entry_len, const void *entries,
			  uint32_t count);
/* Sends "Invalidate" (uuay -> ui) to path on iface. */
int client_invalidate(struct viommu_client *client, const char *path, const char *iface,
		      uint32_t data_type, uint32_t entry_len, const void *entries, uint32_t count,
		      uint32_t *out_handled, int *out_error);
/* Sends "Destroy" to path on iface. */
int client_destroy(struct viommu_client *client, const char *path, const char *iface);
/* Sends member, with no arguments and no reply, to path on iface. */
/* member with arguments (sd_bus_message_append() types) and a "t" reply into
 * *out (may be NULL). */
int client_call_u64(struct viommu_client *client, const char *path, const char *iface,
		    const char *member, uint64_t *out, const char *types, ...);
int client_call_simple(struct viommu_client *client, const char *path, const char *iface,
		       const char *member);

/* Room for any device path client_device_path() accepts from a caller. */
#define VIOMMU_DEVICE_PATH_MAX 256
/* The largest nested domain data the daemon takes (a vendor's structure). */
#define DOMAIN_DATA_MAX 4096
/* The most entries one batched call (AttachDevices, NestDevices) takes. */
#define BATCH_MAX 1024

/* Reads the "o" of reply into a new string. */
int client_read_path(sd_bus_message *reply, char **out);

/* Sends AllocDomain (uaya{sv} -> o) to path on iface and makes the handle. */
int domain_alloc_on(struct viommu_client *client, const char *path, const char *iface,
		    uint32_t data_type, const void *data, size_t len, struct viommu_domain **out);

/* Calls member(o device) on path, device a name or a path (-EINVAL before any I/O if bad). */
int client_call_with_device(struct viommu_client *client, const char *path, const char *iface,
			    const char *member, const char *device, sd_bus_message **reply);

/*
 * Reads the new object's path from reply (unref'd here) and its KernelId
 * (constant, so read once).
 */
int client_new_object(struct viommu_client *client, sd_bus_message *reply, const char *iface,
		      char **out_path, uint32_t *out_kernel_id);
