/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommuctl's D-Bus side, over sd-bus: connecting (private socket or system
 * bus), calls, and properties read as json-c values so that the commands can
 * pick them by name. Every function returns 0 or a negative errno and leaves
 * the reason in c->error.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "viommuctl.h"

/* socket: a path for the private socket; NULL with system for the system bus. */
int bus_connect(struct ctl *c, const char *socket, bool system);
void bus_disconnect(struct ctl *c);

/* A method call; types and the values after it as for sd_bus_message_append. */
int bus_call(struct ctl *c, const char *path, const char *iface, const char *member,
	     sd_bus_message **reply, const char *types, ...);

/* Manager.ListDevices or ListVms: a NULL-terminated list, free with strv_free. */
int bus_list(struct ctl *c, const char *method, char ***out);

/*
 * Every property of iface on path, as a json object keyed by property name.
 * Numbers are JSON integers, ao/as arrays of strings, a(tt) arrays of
 * two-element arrays and a{sv} objects.
 */
int bus_get_all(struct ctl *c, const char *path, const char *iface, struct json_object **out);

/* Sets c->error to a name and a formatted message; returns -errno_value. */
int bus_set_error(struct ctl *c, const char *name, int errno_value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Property accessors on a bus_get_all() object: "" / 0 / false when missing. */
const char *prop_str(struct json_object *props, const char *name);
uint64_t prop_u64(struct json_object *props, const char *name);
int64_t prop_i64(struct json_object *props, const char *name);
bool prop_bool(struct json_object *props, const char *name);
/* An array of strings as a NULL-terminated list (free with strv_free). */
char **prop_strv(struct json_object *props, const char *name);

void strv_free(char **v);
size_t strv_length(char *const *v);

/* "selftest0" or "0000:00:05.0" from a device's object path (malloc()ed). */
char *device_name_from_path(const char *path);
/* The tail of a VM child's path ("viommu/1"), for people. */
const char *short_path(const char *path);

/* One s or o property (malloc()ed). */
int bus_get_string(struct ctl *c, const char *path, const char *iface, const char *name,
		   char **out);
