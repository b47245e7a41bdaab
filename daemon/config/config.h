/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommud.conf: a JSON object, parsed with json-c. Every key is optional and
 * documented in viommud.conf(5). A bad file is refused whole, with the file,
 * the key and why; on reload the caller keeps its old config then.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONFIG_DEFAULT_PATH "/etc/viommud/viommud.conf"
#define CONFIG_MOCK_DEVICES_MAX 64
#define CONFIG_FILE_MAX (1024 * 1024) /* bigger files are refused with -EFBIG */

/* One "allowed_devices" entry: a PCI address, or a vendor:device ID pair. */
struct config_device_match {
	bool by_id;
	char bdf[20];	  /* "0000:00:01.0" when !by_id: lower case, as sysfs names it */
	uint16_t vendor;  /* when by_id */
	uint16_t device;
};

struct config_ids {
	size_t count;
	uint32_t *ids; /* uids or gids, names resolved at load time */
};

struct config {
	char *path; /* the file it came from; NULL for the built-in defaults */
	size_t ndevices;
	struct config_device_match *devices; /* "allowed_devices" */
	struct config_ids vm_users, vm_groups;		   /* "vm_users", "vm_groups" */
	struct config_ids fast_path_users, fast_path_groups; /* "fast_path_users", ... */
	bool bind_on_demand;	 /* "bind_on_demand", default false */
	bool restore_driver;	 /* "restore_driver", default true */
	unsigned int mock_devices; /* "mock_devices", default 0 */
	/* Quotas: what one uid, connection or message may take. */
	unsigned int quota_vms;		    /* "quota_vms_per_uid", default 256 */
	unsigned int quota_objects;	    /* "quota_objects_per_vm", default 4096 */
	unsigned int quota_connections;	    /* "quota_connections_per_uid", default 64 */
	uint64_t quota_pinned_bytes;	    /* "quota_pinned_bytes_per_uid", default MemTotal/2, 0: unlimited */
	unsigned int quota_queued_messages; /* "quota_queued_messages", default 4096 */
	unsigned int connection_stall_seconds; /* "connection_stall_seconds", default 30 */
	unsigned int quota_message_fds;	    /* "quota_message_fds", default 16 */
	uint64_t quota_message_bytes;	    /* "quota_message_bytes", default 1 MiB */
	/* After a restart, how long an adopted VM waits for its owner's Claim. */
	unsigned int claim_grace_seconds; /* "claim_grace_seconds", default 60 */
	/* Vm.BindVmm: what a VMM pins beyond guest RAM (ROMs, queues, ...). */
	uint64_t memlock_headroom; /* "memlock_headroom_bytes", default 64 MiB */
};

#define CONFIG_CLAIM_GRACE_DEFAULT 60
#define CONFIG_QUOTA_MESSAGE_FDS_DEFAULT 16
#define CONFIG_QUOTA_MESSAGE_BYTES_DEFAULT (1ull << 20)
#define CONFIG_MEMLOCK_HEADROOM_DEFAULT (64ull << 20)
#define CONFIG_QUOTA_VMS_DEFAULT 256
#define CONFIG_QUOTA_OBJECTS_DEFAULT 4096
#define CONFIG_QUOTA_CONNECTIONS_DEFAULT 64
#define CONFIG_QUOTA_QUEUED_DEFAULT 4096
#define CONFIG_CONNECTION_STALL_DEFAULT 30

/*
 * Loads path. A missing file at the default path gives the defaults (a fresh
 * install works); a missing file named explicitly (required) is an error.
 * On error returns a negative errno and writes a sentence naming the file,
 * the key and the reason into err (never NULL on error).
 */
int config_load(const char *path, bool required, struct config **out, char *err, size_t errlen);
/* Parses JSON text (for tests and fuzzing); source names it in errors. */
int config_parse(const char *text, size_t len, const char *source, struct config **out,
		 char *err, size_t errlen);
/* The built-in defaults, as if the file were "{}". */
int config_new_default(struct config **out);
void config_free(struct config *config);

/* bdf may be NULL or in any case; it matches an address entry in its sysfs form. */
bool config_device_allowed(const struct config *config, const char *bdf, uint16_t vendor,
			   uint16_t device);
/* Root always may. Others by uid, or by one of their groups (gid or supplementary). */
bool config_may_create_vm(const struct config *config, uid_t uid, gid_t gid,
			  const gid_t *groups, size_t ngroups);
bool config_may_take_fast_path(const struct config *config, uid_t uid, gid_t gid,
			       const gid_t *groups, size_t ngroups);
