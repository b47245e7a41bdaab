/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* viommuctl's sd-bus calls; see bus.h. */
#include "bus.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALL_TIMEOUT_USEC (30 * 1000 * 1000ull)

int bus_set_error(struct ctl *c, const char *name, int errno_value, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	sd_bus_error_free(&c->error);
	sd_bus_error_set(&c->error, name, msg ? msg : "out of memory");
	free(msg);
	return -errno_value;
}

/* A D-Bus address value escapes every byte outside [-0-9A-Za-z_/.\*]. */
static char *socket_address(const char *path)
{
	static const char ok[] = "-_/.\\*";
	size_t len = strlen(path);
	char *a = malloc(strlen("unix:path=") + 3 * len + 1), *p;

	if (!a)
		return NULL;
	p = a + sprintf(a, "unix:path=");
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || strchr(ok, *s))
			*p++ = (char)*s;
		else
			p += sprintf(p, "%%%02x", *s);
	}
	*p = '\0';
	return a;
}

int bus_connect(struct ctl *c, const char *socket, bool system)
{
	char *address;
	int r;

	if (system) {
		c->destination = VIOMMU_BUS_NAME;
		c->socket = NULL;
		r = sd_bus_open_system(&c->bus);
		if (r < 0)
			return bus_set_error(c, SD_BUS_ERROR_NO_SERVER, -r,
					     "cannot connect to the system bus: %s", strerror(-r));
		return 0;
	}
	c->destination = NULL;
	c->socket = socket;
	address = socket_address(socket);
	if (!address)
		return bus_set_error(c, SD_BUS_ERROR_NO_MEMORY, ENOMEM, "out of memory");
	/* A peer-to-peer connection: no Hello, no bus name, signals need no match rule. */
	r = sd_bus_new(&c->bus);
	if (r >= 0)
		r = sd_bus_set_address(c->bus, address);
	if (r >= 0)
		r = sd_bus_start(c->bus);
	free(address);
	if (r < 0) {
		c->bus = sd_bus_unref(c->bus);
		return bus_set_error(c, SD_BUS_ERROR_NO_SERVER, -r,
				     "cannot connect to viommud at %s: %s", socket, strerror(-r));
	}
	return 0;
}

void bus_disconnect(struct ctl *c)
{
	if (c->bus)
		c->bus = sd_bus_flush_close_unref(c->bus);
}

static int callv(struct ctl *c, const char *path, const char *iface, const char *member,
		 sd_bus_message **reply, const char *types, va_list ap)
{
	sd_bus_message *m = NULL, *rep = NULL;
	int r;

	sd_bus_error_free(&c->error);
	r = sd_bus_message_new_method_call(c->bus, &m, c->destination, path, iface, member);
	if (r >= 0 && types && *types)
		r = sd_bus_message_appendv(m, types, ap);
	if (r < 0) {
		sd_bus_message_unref(m);
		return bus_set_error(c, SD_BUS_ERROR_FAILED, -r, "cannot build %s.%s: %s", iface,
				     member, strerror(-r));
	}
	r = sd_bus_call(c->bus, m, CALL_TIMEOUT_USEC, &c->error, &rep);
	sd_bus_message_unref(m);
	if (r < 0) {
		/* Transport failures carry no D-Bus error of their own. */
		if (!sd_bus_error_is_set(&c->error))
			sd_bus_error_set_errno(&c->error, r);
		return r;
	}
	if (reply)
		*reply = rep;
	else
		sd_bus_message_unref(rep);
	return 0;
}

int bus_call(struct ctl *c, const char *path, const char *iface, const char *member,
	     sd_bus_message **reply, const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = callv(c, path, iface, member, reply, types, ap);
	va_end(ap);
	return r;
}

static int bad_reply(struct ctl *c, int r)
{
	return bus_set_error(c, SD_BUS_ERROR_INCONSISTENT_MESSAGE, r < 0 ? -r : EBADMSG,
			     "cannot read the daemon's reply: %s", strerror(r < 0 ? -r : EBADMSG));
}

int bus_list(struct ctl *c, const char *method, char ***out)
{
	sd_bus_message *reply = NULL;
	int r = bus_call(c, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, method, &reply, NULL);

	if (r < 0)
		return r;
	*out = NULL;
	r = sd_bus_message_read_strv(reply, out);
	sd_bus_message_unref(reply);
	if (r < 0)
		return bad_reply(c, r);
	/* sd-bus gives NULL for an empty array. */
	if (!*out)
		*out = calloc(1, sizeof(char *));
	return *out ? 0 : -ENOMEM;
}

static int read_value(sd_bus_message *m, struct json_object **out);

static int read_basic(sd_bus_message *m, char type, struct json_object **out)
{
	union {
		uint8_t y;
		int b;
		int16_t n;
		uint16_t q;
		int32_t i;
		uint32_t u;
		int64_t x;
		uint64_t t;
		double d;
		const char *s;
		int h;
	} v;
	int r = sd_bus_message_read_basic(m, type, &v);

	if (r < 0)
		return r;
	switch (type) {
	case 'y': *out = json_object_new_int64(v.y); break;
	case 'b': *out = json_object_new_boolean(v.b); break;
	case 'n': *out = json_object_new_int64(v.n); break;
	case 'q': *out = json_object_new_int64(v.q); break;
	case 'i': *out = json_object_new_int64(v.i); break;
	case 'u': *out = json_object_new_int64(v.u); break;
	case 'x': *out = json_object_new_int64(v.x); break;
	case 't': *out = json_object_new_uint64(v.t); break;
	case 'd': *out = json_object_new_double(v.d); break;
	case 'h': *out = json_object_new_int64(v.h); break;
	default: *out = json_object_new_string(v.s); break; /* s, o, g */
	}
	return *out ? 1 : -ENOMEM;
}

/* The members of the container m is in, into array (or object, for dicts). */
static int read_members(sd_bus_message *m, struct json_object *into)
{
	struct json_object *v;
	int r;

	while ((r = read_value(m, &v)) > 0)
		if (json_object_array_add(into, v) < 0) {
			json_object_put(v);
			return -ENOMEM;
		}
	return r;
}

static int read_dict(sd_bus_message *m, const char *entry, struct json_object *into)
{
	int r;

	while ((r = sd_bus_message_enter_container(m, 'e', entry)) > 0) {
		struct json_object *key = NULL, *value = NULL;

		r = read_value(m, &key);
		if (r > 0)
			r = read_value(m, &value);
		if (r > 0)
			r = json_object_object_add(into, json_object_get_string(key), value) < 0 ?
				    -ENOMEM : 1;
		else
			json_object_put(value);
		json_object_put(key);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	return r;
}

/* The next value of m as json: 1, 0 at the end of the container, or -errno. */
static int read_value(sd_bus_message *m, struct json_object **out)
{
	const char *contents = NULL;
	char type;
	int r = sd_bus_message_peek_type(m, &type, &contents);

	if (r <= 0)
		return r;
	if (type != 'a' && type != 'v' && type != 'r' && type != 'e')
		return read_basic(m, type, out);
	r = sd_bus_message_enter_container(m, type, contents);
	if (r < 0)
		return r;
	if (type == 'v')
		r = read_value(m, out);
	else if (type == 'a' && contents[0] == '{') {
		char entry[64];

		snprintf(entry, sizeof(entry), "%.*s", (int)strlen(contents) - 2, contents + 1);
		*out = json_object_new_object();
		r = *out ? read_dict(m, entry, *out) : -ENOMEM;
	} else {
		*out = json_object_new_array();
		r = *out ? read_members(m, *out) : -ENOMEM;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0) {
		json_object_put(*out);
		*out = NULL;
		return r;
	}
	return 1;
}

int bus_get_all(struct ctl *c, const char *path, const char *iface, struct json_object **out)
{
	sd_bus_message *reply = NULL;
	int r = bus_call(c, path, "org.freedesktop.DBus.Properties", "GetAll", &reply, "s", iface);

	if (r < 0)
		return r;
	*out = NULL;
	r = read_value(reply, out);
	sd_bus_message_unref(reply);
	if (r <= 0 || !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return bad_reply(c, r);
	}
	return 0;
}

static struct json_object *prop(struct json_object *props, const char *name)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(props, name, &v) ? v : NULL;
}

const char *prop_str(struct json_object *props, const char *name)
{
	const char *s = json_object_get_string(prop(props, name));

	return s ? s : "";
}

uint64_t prop_u64(struct json_object *props, const char *name)
{
	return json_object_get_uint64(prop(props, name));
}

int64_t prop_i64(struct json_object *props, const char *name)
{
	return json_object_get_int64(prop(props, name));
}

bool prop_bool(struct json_object *props, const char *name)
{
	return json_object_get_boolean(prop(props, name));
}

char **prop_strv(struct json_object *props, const char *name)
{
	struct json_object *a = prop(props, name);
	size_t n = json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	char **v = calloc(n + 1, sizeof(*v));

	for (size_t i = 0; v && i < n; i++) {
		v[i] = strdup(json_object_get_string(json_object_array_get_idx(a, i)));
		if (!v[i]) {
			strv_free(v);
			return NULL;
		}
	}
	return v;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

char *device_name_from_path(const char *path)
{
	char name[WIRE_DEVICE_NAME_MAX];
	const char *tail = strrchr(path, '/');

	/* A path the daemon would not make is shown as its last part. */
	if (wire_device_name(path, name, sizeof(name)) < 0)
		return strdup(tail ? tail + 1 : path);
	return strdup(name);
}

const char *short_path(const char *path)
{
	size_t n = strlen(VIOMMU_VM_PREFIX "/");
	const char *p;

	/* "/org/viommu1/vm/1/viommu/2" -> "viommu/2" */
	if (strncmp(path, VIOMMU_VM_PREFIX "/", n) != 0)
		return path;
	p = strchr(path + n, '/');
	return p ? p + 1 : path;
}

int bus_get_string(struct ctl *c, const char *path, const char *iface, const char *name,
		   char **out)
{
	sd_bus_message *reply = NULL;
	const char *s = NULL;
	char type = 's';
	int r = bus_call(c, path, "org.freedesktop.DBus.Properties", "Get", &reply, "ss", iface,
			 name);

	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'v', NULL);
	if (r >= 0)
		r = sd_bus_message_peek_type(reply, &type, NULL);
	if (r >= 0)
		r = sd_bus_message_read_basic(reply, type == 'o' ? 'o' : 's', &s);
	if (r >= 0) {
		*out = strdup(s);
		r = *out ? 0 : -ENOMEM;
	}
	sd_bus_message_unref(reply);
	return r < 0 ? bad_reply(c, r) : 0;
}
