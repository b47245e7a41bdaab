/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "client.h"

#include "iommufd.h"
#include "selftest.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void vc_reset_error(struct vc *c)
{
	sd_bus_error_free(&c->error);
	c->error = SD_BUS_ERROR_NULL;
}

/* A failure without a D-Bus error (transport, local) still gets a name. */
static int vc_fail_local(struct vc *c, int r)
{
	if (!sd_bus_error_is_set(&c->error))
		sd_bus_error_set_errno(&c->error, r);
	return r;
}

int vc_connect(struct vc *c, const char *address)
{
	char buf[512];
	int r;

	memset(c, 0, sizeof(*c));
	c->error = SD_BUS_ERROR_NULL;
	if (!address) {
		const char *path = getenv("VIOMMU_SOCKET");

		if (!path || !*path)
			return -EINVAL;
		snprintf(buf, sizeof(buf), "unix:path=%s", path);
		address = buf;
	}
	r = sd_bus_new(&c->bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(c->bus, address);
	if (r >= 0)
		r = sd_bus_negotiate_fds(c->bus, 1);
	if (r >= 0)
		r = sd_bus_start(c->bus);
	if (r < 0) {
		c->bus = sd_bus_flush_close_unref(c->bus);
		return r;
	}
	return 0;
}

int vc_connect_system(struct vc *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->error = SD_BUS_ERROR_NULL;
	c->destination = VC_BUS_NAME;
	r = sd_bus_open_system(&c->bus);
	if (r < 0)
		c->bus = NULL;
	return r;
}

void vc_close(struct vc *c)
{
	if (c->bus)
		c->bus = sd_bus_flush_close_unref(c->bus);
	vc_reset_error(c);
}

const char *vc_error_name(const struct vc *c)
{
	return c->error.name ? c->error.name : "";
}

const char *vc_error_message(const struct vc *c)
{
	return c->error.message ? c->error.message : "";
}

static int vc_callv(struct vc *c, const char *path, const char *iface, const char *member,
		    sd_bus_message **reply, const char *types, va_list ap)
{
	sd_bus_message *m = NULL;
	int r;

	vc_reset_error(c);
	if (!c->bus)
		return vc_fail_local(c, -ENOTCONN);
	r = sd_bus_message_new_method_call(c->bus, &m, c->destination, path, iface, member);
	if (r >= 0 && types && *types)
		r = sd_bus_message_appendv(m, types, ap);
	if (r < 0) {
		sd_bus_message_unref(m);
		return vc_fail_local(c, r);
	}
	r = vc_call_message(c, m, reply);
	sd_bus_message_unref(m);
	return r;
}

int vc_call_message(struct vc *c, sd_bus_message *m, sd_bus_message **reply)
{
	sd_bus_message *rep = NULL;
	int r;

	vc_reset_error(c);
	r = sd_bus_call(c->bus, m, 30 * 1000 * 1000, &c->error, &rep);
	if (r < 0)
		return vc_fail_local(c, r);
	if (reply)
		*reply = rep;
	else
		sd_bus_message_unref(rep);
	return 0;
}

int vc_call(struct vc *c, const char *path, const char *iface, const char *member,
	    sd_bus_message **reply, const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = vc_callv(c, path, iface, member, reply, types, ap);
	va_end(ap);
	return r;
}

/* Reads one value of the reply, then drops it. */
static int vc_call_read(struct vc *c, const char *path, const char *iface, const char *member,
			const char *out_type, void *out, const char *types, ...)
{
	sd_bus_message *reply = NULL;
	va_list ap;
	int r;

	va_start(ap, types);
	r = vc_callv(c, path, iface, member, &reply, types, ap);
	va_end(ap);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, out_type, out);
	if (r >= 0 && (strcmp(out_type, "s") == 0 || strcmp(out_type, "o") == 0)) {
		*(char **)out = strdup(*(char **)out);
		if (!*(char **)out)
			r = -ENOMEM;
	}
	sd_bus_message_unref(reply);
	return r < 0 ? vc_fail_local(c, r) : 0;
}

int vc_list(struct vc *c, const char *method, char ***out)
{
	sd_bus_message *reply = NULL;
	int r = vc_call(c, VC_ROOT, VC_MANAGER, method, &reply, NULL);

	if (r < 0)
		return r;
	r = sd_bus_message_read_strv(reply, out);
	sd_bus_message_unref(reply);
	return r < 0 ? vc_fail_local(c, r) : 0;
}

int vc_create_vm(struct vc *c, const char *name, char **out_path)
{
	return vc_call_read(c, VC_ROOT, VC_MANAGER, "CreateVm", "o", out_path, "sa{sv}", name, 0);
}

int vc_vm_path(struct vc *c, const char *name, char **out_path)
{
	char **list = NULL;
	int r = vc_list(c, "ListVms", &list);

	*out_path = NULL;
	for (char **p = list; r == 0 && p && *p && !*out_path; p++) {
		char *n = NULL;

		if (vc_get_string(c, *p, VC_VM, "Name", &n) == 0 && strcmp(n, name) == 0)
			*out_path = strdup(*p);
		free(n);
	}
	vc_strv_free(list);
	return r < 0 ? r : *out_path ? 0 : -ENOENT;
}

int vc_describe(struct vc *c, char **out_json)
{
	return vc_call_read(c, VC_ROOT, VC_MANAGER, "Describe", "s", out_json, NULL);
}

char *vc_find_device(struct vc *c, const char *name)
{
	char **devices = NULL, *found = NULL;

	if (vc_list(c, "ListDevices", &devices) < 0)
		return NULL;
	for (size_t i = 0; devices[i] && !found; i++) {
		char *n = NULL;

		if (vc_get_string(c, devices[i], VC_DEVICE, "Name", &n) == 0 &&
		    strcmp(n, name) == 0)
			found = strdup(devices[i]);
		free(n);
	}
	vc_strv_free(devices);
	return found;
}

int vc_map_memory(struct vc *c, const char *vm, int memfd, uint64_t offset, uint64_t length,
		  uint64_t iova, uint32_t flags)
{
	return vc_call(c, vm, VC_VM, "MapMemory", NULL, "htttu", memfd, offset, length, iova,
		       flags);
}

int vc_unmap_memory(struct vc *c, const char *vm, uint64_t iova, uint64_t length,
		    uint64_t *out_unmapped)
{
	uint64_t unmapped = 0;
	int r = vc_call_read(c, vm, VC_VM, "UnmapMemory", "t", &unmapped, "tt", iova, length);

	if (r == 0 && out_unmapped)
		*out_unmapped = unmapped;
	return r;
}

int vc_attach_device(struct vc *c, const char *vm, const char *device)
{
	return vc_call(c, vm, VC_VM, "AttachDevice", NULL, "oa{sv}", device, 0);
}

int vc_detach_device(struct vc *c, const char *vm, const char *device)
{
	return vc_call(c, vm, VC_VM, "DetachDevice", NULL, "o", device);
}

int vc_create_viommu(struct vc *c, const char *vm, const char *type, char **out_path)
{
	return vc_call_read(c, vm, VC_VM, "CreateViommu", "o", out_path, "sa{sv}", type, 0);
}

int vc_alloc_domain(struct vc *c, const char *path, const char *iface, uint32_t data_type,
		    const void *data, size_t len, char **out_path)
{
	sd_bus_message *m = NULL, *reply = NULL;
	const char *p;
	int r;

	vc_reset_error(c);
	r = sd_bus_message_new_method_call(c->bus, &m, c->destination, path, iface,
					   "AllocDomain");
	if (r >= 0)
		r = sd_bus_message_append(m, "u", data_type);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', data, len);
	if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 0);
	if (r < 0) {
		sd_bus_message_unref(m);
		return vc_fail_local(c, r);
	}
	r = sd_bus_call(c->bus, m, 30 * 1000 * 1000, &c->error, &reply);
	sd_bus_message_unref(m);
	if (r < 0)
		return vc_fail_local(c, r);
	r = sd_bus_message_read(reply, "o", &p);
	if (r >= 0 && out_path) {
		*out_path = strdup(p);
		if (!*out_path)
			r = -ENOMEM;
	}
	sd_bus_message_unref(reply);
	return r < 0 ? vc_fail_local(c, r) : 0;
}

int vc_get_fd(struct vc *c, const char *vm, const char *device, int *out_fd)
{
	sd_bus_message *reply = NULL;
	int r, fd;

	if (device)
		r = vc_call(c, vm, VC_VM, "GetDeviceFd", &reply, "o", device);
	else
		r = vc_call(c, vm, VC_VM, "GetIommufd", &reply, NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "h", &fd);
	if (r >= 0) {
		/* The message owns the fd it carries. */
		*out_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (*out_fd < 0)
			r = -errno;
	}
	sd_bus_message_unref(reply);
	return r < 0 ? vc_fail_local(c, r) : 0;
}

int vc_destroy(struct vc *c, const char *path, const char *iface)
{
	return vc_call(c, path, iface, "Destroy", NULL, NULL);
}

int vc_add_device(struct vc *c, const char *viommu, const char *device, uint64_t virt_id,
		  char **out_path)
{
	return vc_call_read(c, viommu, VC_VIOMMU, "AddDevice", "o", out_path, "ot", device,
			    virt_id);
}

int vc_invalidate(struct vc *c, const char *path, const char *iface, uint32_t data_type,
		  uint32_t entry_len, const void *entries, size_t len, uint32_t *out_handled,
		  int32_t *out_error)
{
	sd_bus_message *m = NULL, *reply = NULL;
	int r;

	vc_reset_error(c);
	r = sd_bus_message_new_method_call(c->bus, &m, c->destination, path, iface,
					   "Invalidate");
	if (r >= 0)
		r = sd_bus_message_append(m, "uu", data_type, entry_len);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', entries, len);
	if (r < 0) {
		sd_bus_message_unref(m);
		return vc_fail_local(c, r);
	}
	r = sd_bus_call(c->bus, m, 30 * 1000 * 1000, &c->error, &reply);
	sd_bus_message_unref(m);
	if (r < 0)
		return vc_fail_local(c, r);
	r = sd_bus_message_read(reply, "ui", out_handled, out_error);
	sd_bus_message_unref(reply);
	return r < 0 ? vc_fail_local(c, r) : 0;
}

int vc_open_event_queue(struct vc *c, const char *viommu, uint32_t type, uint32_t depth,
			bool relay, int *out_fd)
{
	sd_bus_message *reply = NULL;
	int fd, r;

	if (relay)
		r = vc_call(c, viommu, VC_VIOMMU, "OpenEventQueue", &reply, "uua{sv}", type, depth,
			    1, "relay", "b", 1);
	else
		r = vc_call(c, viommu, VC_VIOMMU, "OpenEventQueue", &reply, "uua{sv}", type, depth,
			    0);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "h", &fd);
	if (r >= 0) {
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		r = fd < 0 ? -errno : 0;
	}
	sd_bus_message_unref(reply);
	if (r < 0)
		return vc_fail_local(c, r);
	*out_fd = fd;
	return 0;
}

int vc_domain_attach(struct vc *c, const char *domain, const char *device)
{
	return vc_call(c, domain, VC_DOMAIN, "Attach", NULL, "o", device);
}

int vc_domain_detach(struct vc *c, const char *domain, const char *device)
{
	return vc_call(c, domain, VC_DOMAIN, "Detach", NULL, "o", device);
}

/* Properties.Get, positioned inside the variant of type type. */
static int vc_get_property(struct vc *c, const char *path, const char *iface, const char *name,
			   const char *type, sd_bus_message **reply)
{
	int r = vc_call(c, path, "org.freedesktop.DBus.Properties", "Get", reply, "ss", iface,
			name);

	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(*reply, 'v', type);
	if (r < 0) {
		*reply = sd_bus_message_unref(*reply);
		return vc_fail_local(c, r);
	}
	return 0;
}

static int vc_get_basic(struct vc *c, const char *path, const char *iface, const char *name,
			const char *type, void *out)
{
	sd_bus_message *reply = NULL;
	int r = vc_get_property(c, path, iface, name, type, &reply);

	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, type, out);
	sd_bus_message_unref(reply);
	return r < 0 ? vc_fail_local(c, r) : 0;
}

int vc_get_u32(struct vc *c, const char *path, const char *iface, const char *name,
	       uint32_t *out)
{
	return vc_get_basic(c, path, iface, name, "u", out);
}

int vc_get_i32(struct vc *c, const char *path, const char *iface, const char *name,
	       int32_t *out)
{
	return vc_get_basic(c, path, iface, name, "i", out);
}

int vc_get_u64(struct vc *c, const char *path, const char *iface, const char *name,
	       uint64_t *out)
{
	return vc_get_basic(c, path, iface, name, "t", out);
}

int vc_get_bool(struct vc *c, const char *path, const char *iface, const char *name,
		bool *out)
{
	int b = 0, r = vc_get_basic(c, path, iface, name, "b", &b);

	if (r == 0)
		*out = b;
	return r;
}

int vc_get_string(struct vc *c, const char *path, const char *iface, const char *name,
		  char **out)
{
	sd_bus_message *reply = NULL;
	const char *contents = NULL, *s = NULL;
	char type, kind = 's';
	int r;

	r = vc_call(c, path, "org.freedesktop.DBus.Properties", "Get", &reply, "ss", iface, name);
	if (r < 0)
		return r;
	r = sd_bus_message_peek_type(reply, &type, &contents);
	if (r >= 0 && contents && (contents[0] == 'o' || contents[0] == 's'))
		kind = contents[0];
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'v', kind == 'o' ? "o" : "s");
	if (r >= 0)
		r = sd_bus_message_read_basic(reply, kind, &s);
	if (r >= 0) {
		*out = strdup(s);
		if (!*out)
			r = -ENOMEM;
	}
	sd_bus_message_unref(reply);
	return r < 0 ? vc_fail_local(c, r) : 0;
}

int vc_get_strv(struct vc *c, const char *path, const char *iface, const char *name,
		char ***out)
{
	sd_bus_message *reply = NULL;
	const char *contents = NULL;
	char type;
	int r;

	r = vc_call(c, path, "org.freedesktop.DBus.Properties", "Get", &reply, "ss", iface, name);
	if (r < 0)
		return r;
	r = sd_bus_message_peek_type(reply, &type, &contents);
	if (r >= 0)
		r = sd_bus_message_enter_container(reply, 'v', contents);
	if (r >= 0)
		r = sd_bus_message_read_strv(reply, out);
	sd_bus_message_unref(reply);
	return r < 0 ? vc_fail_local(c, r) : 0;
}

int vc_get_ranges(struct vc *c, const char *path, const char *name, struct vc_range *out,
		  size_t max, size_t *count)
{
	sd_bus_message *reply = NULL;
	uint64_t start, last;
	int r = vc_get_property(c, path, VC_VM, name, "a(tt)", &reply);

	if (r < 0)
		return r;
	*count = 0;
	r = sd_bus_message_enter_container(reply, 'a', "(tt)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(tt)", &start, &last)) > 0) {
		if (*count < max) {
			out[*count].start = start;
			out[*count].last = last;
		}
		(*count)++;
	}
	sd_bus_message_unref(reply);
	return r < 0 ? vc_fail_local(c, r) : 0;
}

size_t vc_strv_length(char **strv)
{
	size_t n = 0;

	while (strv && strv[n])
		n++;
	return n;
}

bool vc_strv_contains(char **strv, const char *s)
{
	for (size_t i = 0; strv && strv[i]; i++)
		if (strcmp(strv[i], s) == 0)
			return true;
	return false;
}

void vc_strv_free(char **strv)
{
	for (size_t i = 0; strv && strv[i]; i++)
		free(strv[i]);
	free(strv);
}

bool vc_alive(struct vc *c)
{
	char **vms = NULL;

	if (vc_call(c, VC_ROOT, "org.freedesktop.DBus.Peer", "Ping", NULL, NULL) < 0)
		return false;
	if (vc_list(c, "ListVms", &vms) < 0)
		return false;
	vc_strv_free(vms);
	return true;
}

struct json_object *vc_describe_json(struct vc *c)
{
	struct json_object *root;
	char *json = NULL;

	if (vc_describe(c, &json) < 0)
		return NULL;
	root = json_tokener_parse(json);
	if (!root)
		sd_bus_error_set_const(&c->error, "local.BadJson", "Describe() is not JSON");
	free(json);
	return root;
}

struct json_object *vc_json_by_path(struct json_object *root, const char *array,
				    const char *path)
{
	struct json_object *a, *o, *p;

	if (!json_object_object_get_ex(root, array, &a) || !json_object_is_type(a, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		o = json_object_array_get_idx(a, i);
		if (json_object_object_get_ex(o, "path", &p) &&
		    strcmp(json_object_get_string(p), path) == 0)
			return o;
	}
	return NULL;
}

uint64_t vc_json_u64(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v))
		return UINT64_MAX - 1; /* never a real value in these tests */
	return json_object_get_uint64(v);
}

const char *vc_json_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return json_object_get_string(v);
}

int vc_pins_are(const void *va, uint64_t len, uint32_t refs)
{
	int fd = iommufd_open(), r;

	if (fd < 0)
		return fd;
	r = mock_check_refs(fd, va, len, refs);
	close(fd);
	return r;
}

bool vc_file_has(const char *path, const char *text)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	char line[1024];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found;
}

bool vc_daemon_log_has(const char *text)
{
	return vc_file_has(getenv("VIOMMUD_LOG"), text);
}

int vc_daemon_fds(const char *prefix)
{
	const char *pid = getenv("VIOMMUD_PID");
	char dirname[64], link[384], target[512];
	struct dirent *de;
	int count = 0;
	DIR *dir;

	if (!pid || !*pid)
		return -1;
	snprintf(dirname, sizeof(dirname), "/proc/%s/fd", pid);
	dir = opendir(dirname);
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dirname, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		count += strncmp(target, prefix, strlen(prefix)) == 0;
	}
	closedir(dir);
	return count;
}

char *vc_vm_snapshot(struct vc *c, const char *vm)
{
	struct json_object *root = vc_describe_json(c), *o;
	char *s = NULL;

	if (!root)
		return NULL;
	o = vc_json_by_path(root, "vms", vm);
	if (o) {
		/* Claimed is the one field a restart changes on purpose. */
		json_object_object_del(o, "claimed");
		s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(root);
	return s;
}

uint32_t vc_orphan_count(struct vc *c, const char *prefix)
{
	sd_bus_message *reply = NULL;
	const char *name, *target;
	uint32_t n = 0;

	if (vc_call(c, VC_ROOT, VC_MANAGER, "ListOrphans", &reply, "") < 0)
		return UINT32_MAX;
	if (sd_bus_message_enter_container(reply, 'a', "(ss)") >= 0)
		while (sd_bus_message_read(reply, "(ss)", &name, &target) > 0)
			n += strncmp(name, prefix, strlen(prefix)) == 0;
	sd_bus_message_unref(reply);
	return n;
}

double vc_now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vc_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

bool vc_wait_given_back(struct vc *c, const char *device, const char *driver)
{
	bool back = false, assignable = false;
	char *now = NULL;

	for (int i = 0; i < 500 && !back; i++) {
		free(now);
		now = NULL;
		if (vc_get_string(c, device, VC_DEVICE, "Driver", &now) < 0 ||
		    vc_get_bool(c, device, VC_DEVICE, "Assignable", &assignable) < 0)
			break;
		back = strcmp(now, driver) == 0 && assignable;
		if (!back)
			vc_sleep_ms(20);
	}
	if (!back)
		check_note("not given back: Driver \"%s\", Assignable %d", now ? now : "?",
			   (int)assignable);
	free(now);
	return back;
}
