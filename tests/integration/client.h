/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small test-side client of viommud's D-Bus API, over sd-bus: the private
 * socket (peer-to-peer) or the system bus. Test code only; the public client
 * library is libviommu. Calls return 0 or a negative errno and keep the
 * D-Bus error (name and message) of the last failed call for assertions.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "check.h"
#include "wire.h"

/* The wire contract (lib/wire), under the tests' short names. */
#define VC_BUS_NAME VIOMMU_BUS_NAME
#define VC_ROOT VIOMMU_ROOT_PATH
#define VC_MANAGER VIOMMU_IFACE_MANAGER
#define VC_DEVICE VIOMMU_IFACE_DEVICE
#define VC_VM VIOMMU_IFACE_VM
#define VC_VIOMMU VIOMMU_IFACE_VIOMMU
#define VC_DOMAIN VIOMMU_IFACE_DOMAIN
#define VC_VDEVICE VIOMMU_IFACE_VDEVICE

#define VC_ERR_NOT_FOUND VIOMMU_ERROR_NOT_FOUND
#define VC_ERR_BUSY VIOMMU_ERROR_BUSY
#define VC_ERR_PERMISSION VIOMMU_ERROR_PERMISSION_DENIED
#define VC_ERR_INVALID VIOMMU_ERROR_INVALID_ARGUMENT
#define VC_ERR_NOT_SUPPORTED VIOMMU_ERROR_NOT_SUPPORTED
#define VC_ERR_KERNEL VIOMMU_ERROR_KERNEL
#define VC_ERR_UNKNOWN_OBJECT "org.freedesktop.DBus.Error.UnknownObject"
#define VC_ERR_UNKNOWN_METHOD "org.freedesktop.DBus.Error.UnknownMethod"
#define VC_ERR_UNKNOWN_INTERFACE "org.freedesktop.DBus.Error.UnknownInterface"
#define VC_ERR_UNKNOWN_PROPERTY "org.freedesktop.DBus.Error.UnknownProperty"
#define VC_ERR_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

struct vc {
	sd_bus *bus;
	const char *destination; /* NULL on the private socket */
	sd_bus_error error;	 /* of the last failed call */
};

/* address NULL: "unix:path=$VIOMMU_SOCKET". */
int vc_connect(struct vc *c, const char *address);
/* The system bus ($DBUS_SYSTEM_BUS_ADDRESS), talking to org.viommu1. */
int vc_connect_system(struct vc *c);
void vc_close(struct vc *c);

/* The last error's name and message ("" when the last call succeeded). */
const char *vc_error_name(const struct vc *c);
const char *vc_error_message(const struct vc *c);

/* Any call: types/... as sd_bus_message_append; reply may be NULL. */
int vc_call(struct vc *c, const char *path, const char *iface, const char *member,
	    sd_bus_message **reply, const char *types, ...);

/* A call built by the caller (for arguments vc_call cannot express). */
int vc_call_message(struct vc *c, sd_bus_message *m, sd_bus_message **reply);

/* Manager */
int vc_list(struct vc *c, const char *method, char ***out); /* ListDevices, ListVms */
int vc_create_vm(struct vc *c, const char *name, char **out_path);
/* The path of the visible VM named name (freed by the caller); -ENOENT if none. */
int vc_vm_path(struct vc *c, const char *name, char **out_path);
int vc_describe(struct vc *c, char **out_json);
/* The Device whose Name is name; NULL when none. Returns its path (freed by caller). */
char *vc_find_device(struct vc *c, const char *name);

/* Vm */
int vc_map_memory(struct vc *c, const char *vm, int memfd, uint64_t offset, uint64_t length,
		  uint64_t iova, uint32_t flags);
int vc_unmap_memory(struct vc *c, const char *vm, uint64_t iova, uint64_t length,
		    uint64_t *out_unmapped);
int vc_attach_device(struct vc *c, const char *vm, const char *device);
int vc_detach_device(struct vc *c, const char *vm, const char *device);
int vc_create_viommu(struct vc *c, const char *vm, const char *type, char **out_path);
/* On a Vm (VC_VM) or a Viommu (VC_VIOMMU). */
int vc_alloc_domain(struct vc *c, const char *path, const char *iface, uint32_t data_type,
		    const void *data, size_t len, char **out_path);
/* GetIommufd (device NULL) or GetDeviceFd: *out_fd is the caller's own copy. */
int vc_get_fd(struct vc *c, const char *vm, const char *device, int *out_fd);
/* Destroy() on any object with that interface. */
int vc_destroy(struct vc *c, const char *path, const char *iface);

/* Viommu / Domain */
int vc_add_device(struct vc *c, const char *viommu, const char *device, uint64_t virt_id,
		  char **out_path);
int vc_invalidate(struct vc *c, const char *path, const char *iface, uint32_t data_type,
		  uint32_t entry_len, const void *entries, size_t len, uint32_t *out_handled,
		  int32_t *out_error);
/* Viommu.OpenEventQueue: the queue's own fd, or with relay an eventfd that
 * counts relayed events; *out_fd is the caller's own copy. */
int vc_open_event_queue(struct vc *c, const char *viommu, uint32_t type, uint32_t depth,
			bool relay, int *out_fd);
int vc_domain_attach(struct vc *c, const char *domain, const char *device);
int vc_domain_detach(struct vc *c, const char *domain, const char *device);

/* Properties */
int vc_get_u32(struct vc *c, const char *path, const char *iface, const char *name,
	       uint32_t *out);
int vc_get_i32(struct vc *c, const char *path, const char *iface, const char *name,
	       int32_t *out);
int vc_get_u64(struct vc *c, const char *path, const char *iface, const char *name,
	       uint64_t *out);
int vc_get_bool(struct vc *c, const char *path, const char *iface, const char *name,
		bool *out);
/* s or o */
int vc_get_string(struct vc *c, const char *path, const char *iface, const char *name,
		  char **out);
/* as or ao */
int vc_get_strv(struct vc *c, const char *path, const char *iface, const char *name,
		char ***out);
struct vc_range {
	uint64_t start, last;
};
int vc_get_ranges(struct vc *c, const char *path, const char *name, struct vc_range *out,
		  size_t max, size_t *count);

size_t vc_strv_length(char **strv);
bool vc_strv_contains(char **strv, const char *s);
void vc_strv_free(char **strv);

/* Describe(), parsed; NULL on failure (the error is kept). */
struct json_object *vc_describe_json(struct vc *c);
/* The VM's Describe() object without "claimed", as a string (caller frees);
 * NULL when there is no such VM. What a restart must keep. */
char *vc_vm_snapshot(struct vc *c, const char *vm);
/* Orphans (Manager.ListOrphans) whose name starts with prefix ("" for all);
 * UINT32_MAX when the call fails. */
uint32_t vc_orphan_count(struct vc *c, const char *prefix);

/* CLOCK_MONOTONIC in seconds; a sleep of ms milliseconds. */
double vc_now_seconds(void);
void vc_sleep_ms(long ms);
/* The object in root["vms"] (or any array key) whose "path" is path, or NULL. */
struct json_object *vc_json_by_path(struct json_object *root, const char *array,
				   const char *path);
uint64_t vc_json_u64(struct json_object *obj, const char *key);
const char *vc_json_str(struct json_object *obj, const char *key);
/* Open fds of the daemon ($VIOMMUD_PID) whose target starts with prefix
 * ("/dev/iommu", "/dev/vfio/", "/memfd:"); -1 when it cannot tell. */
int vc_daemon_fds(const char *prefix);
/* Whether the device was given back: on driver again and Assignable, polled
 * for up to 10 s (the give-back thread unbinds, then the loop clears the
 * quarantine). Notes what it saw when not. */
bool vc_wait_given_back(struct vc *c, const char *device, const char *driver);
/* Whether the file (NULL: none) has a line containing text. */
bool vc_file_has(const char *path, const char *text);
/* The same for the daemon's stderr ($VIOMMUD_LOG, run-daemon). */
bool vc_daemon_log_has(const char *text);

/* The selftest's page-ref check on [va, va + len) of this process, through a
 * fresh iommufd: 0 when every page holds refs pins (0: none). */
int vc_pins_are(const void *va, uint64_t len, uint32_t refs);

/* The daemon still answers (a Peer.Ping and a ListVms). */
bool vc_alive(struct vc *c);

/* expr (a vc_* call on c) fails with the D-Bus error name. */
#define CHECK_DBUS_ERROR(c, expr, name)                                                   \
	do {                                                                              \
		int check_dr_ = (expr);                                                   \
		const char *check_dn_ = (name);                                           \
		if (check_dr_ >= 0)                                                       \
			check_fail(__FILE__, __LINE__, "%s succeeded, expected %s", #expr, \
				   check_dn_);                                            \
		if (strcmp(vc_error_name(c), check_dn_) != 0)                              \
			check_fail(__FILE__, __LINE__, "%s failed with %s (%s), expected %s", \
				   #expr, vc_error_name(c), vc_error_message(c), check_dn_); \
	} while (0)

/* expr (a vc_* call on c) succeeds; prints the D-Bus error otherwise. */
#define CHECK_DBUS_OK(c, expr)                                                          \
	do {                                                                            \
		int check_dr_ = (expr);                                                 \
		if (check_dr_ < 0)                                                      \
			check_fail(__FILE__, __LINE__, "%s failed: %d %s (%s)", #expr,   \
				   check_dr_, vc_error_name(c), vc_error_message(c));     \
	} while (0)
