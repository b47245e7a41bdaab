/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.freedesktop.DBus.ObjectManager at /org/viommu1, on the system bus
 * (config {"mock_devices": 2}): GetManagedObjects lists the devices and the
 * caller's VMs with their objects and properties; InterfacesAdded and
 * InterfacesRemoved follow a VM and a vIOMMU as they come and go, sent to the
 * owner (root here) and to no other user: a client running as uid 65534
 * sees neither the signals nor the VM in GetManagedObjects. Introspection
 * lists each node's children (what busctl tree walks).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "client.h"

#define OM_IFACE "org.freedesktop.DBus.ObjectManager"

/* The ObjectManager signals a connection saw: "Member path iface[,iface]". */
struct seen {
	char lines[32][192];
	size_t n;
	char name[64]; /* the Name property of an added Vm, if any */
};

static int on_object_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct seen *s = userdata;
	const char *member = sd_bus_message_get_member(m), *path, *iface, *prop;
	bool added;
	char *line;

	if (!sd_bus_message_is_signal(m, OM_IFACE, NULL) || s->n == 32 ||
	    sd_bus_message_read(m, "o", &path) < 0)
		return 0;
	added = strcmp(member, "InterfacesAdded") == 0;
	line = s->lines[s->n++];
	snprintf(line, sizeof(s->lines[0]), "%s %s ", member, path);
	if (sd_bus_message_enter_container(m, 'a', added ? "{sa{sv}}" : "s") < 0)
		return 0;
	while (added ? sd_bus_message_enter_container(m, 'e', "sa{sv}") > 0
		     : sd_bus_message_read(m, "s", &iface) > 0) {
		if (added) {
			if (sd_bus_message_read(m, "s", &iface) < 0 ||
			    sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
				return 0;
			while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
				if (sd_bus_message_read(m, "s", &prop) < 0)
					return 0;
				if (strcmp(prop, "Name") == 0 && strcmp(iface, VIOMMU_IFACE_VM) == 0) {
					const char *name;

					if (sd_bus_message_read(m, "v", "s", &name) > 0)
						snprintf(s->name, sizeof(s->name), "%s", name);
				} else {
					sd_bus_message_skip(m, "v");
				}
				sd_bus_message_exit_container(m);
			}
			sd_bus_message_exit_container(m);
			sd_bus_message_exit_container(m);
		}
		strncat(line, iface, sizeof(s->lines[0]) - strlen(line) - 2);
		strcat(line, ",");
	}
	return 0;
}

/* Whether the seen lines hold want (a prefix match of a whole line). */
static bool saw(const struct seen *s, const char *want)
{
	for (size_t i = 0; i < s->n; i++)
		if (strncmp(s->lines[i], want, strlen(want)) == 0)
			return true;
	return false;
}

/* Processes what came, then waits (bounded) until want is seen. */
static bool wait_for(struct vc *c, const struct seen *s, const char *want)
{
	for (int i = 0; i < 200 && !saw(s, want); i++) {
		while (sd_bus_process(c->bus, NULL) > 0)
			;
		if (!saw(s, want))
			sd_bus_wait(c->bus, 50000);
	}
	return saw(s, want);
}

/* GetManagedObjects as "path iface" lines, one per interface, in buf. */
static int managed_objects(struct vc *c, char *buf, size_t size)
{
	sd_bus_message *reply = NULL;
	const char *path, *iface;
	size_t at = 0;
	int r = vc_call(c, VC_ROOT, OM_IFACE, "GetManagedObjects", &reply, "");

	buf[0] = '\0';
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
		r = sd_bus_message_read(reply, "o", &path);
		if (r >= 0)
			r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
		while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
			r = sd_bus_message_read(reply, "s", &iface);
			if (r >= 0)
				r = sd_bus_message_skip(reply, "a{sv}");
			if (r >= 0)
				r = sd_bus_message_exit_container(reply);
			if (r >= 0 && at < size)
				at += (size_t)snprintf(buf + at, size - at, "%s %s\n", path, iface);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

/* Whether the introspection XML of path holds text. */
static bool introspect_has(struct vc *c, const char *path, const char *text)
{
	sd_bus_message *reply = NULL;
	const char *xml = NULL;
	bool has;

	if (vc_call(c, path, "org.freedesktop.DBus.Introspectable", "Introspect", &reply, "") < 0 ||
	    sd_bus_message_read(reply, "s", &xml) < 0) {
		sd_bus_message_unref(reply);
		return false;
	}
	has = strstr(xml, text) != NULL;
	if (!has)
		check_note("%s has no %s in:\n%s", path, text, xml);
	sd_bus_message_unref(reply);
	return has;
}

/* uid 65534: known to the daemon (it called), told of nothing of root's VM. */
static int nobody(int ready_fd, int go_fd)
{
	struct seen s = { .n = 0 };
	sd_bus_slot *slot = NULL;
	char **devs = NULL, objs[8192];
	struct vc c;
	char byte = 0;

	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		return 10;
	if (vc_connect_system(&c) < 0)
		return 11;
	if (sd_bus_add_match(c.bus, &slot, "type='signal',interface='" OM_IFACE "'",
			     on_object_signal, &s) < 0)
		return 12;
	/* Follows the object manager from now on, as a client of it does. */
	if (managed_objects(&c, objs, sizeof(objs)) < 0)
		return 16;
	if (write(ready_fd, "r", 1) != 1 || read(go_fd, &byte, 1) != 1)
		return 13;
	/* A round trip after root's VM and vIOMMU were made: a signal sent to us
	 * before the reply would have come before it. */
	if (vc_list(&c, "ListDevices", &devs) < 0)
		return 14;
	vc_strv_free(devs);
	while (sd_bus_process(c.bus, NULL) > 0)
		;
	for (size_t i = 0; i < s.n; i++)
		if (strstr(s.lines[i], VIOMMU_VM_PREFIX)) {
			fprintf(stderr, "uid 65534 was told: %s\n", s.lines[i]);
			return 1;
		}
	if (managed_objects(&c, objs, sizeof(objs)) < 0)
		return 15;
	if (strstr(objs, VIOMMU_VM_PREFIX)) {
		fprintf(stderr, "uid 65534 sees:\n%s", objs);
		return 2;
	}
	if (!strstr(objs, " " VIOMMU_IFACE_DEVICE "\n"))
		return 3;
	sd_bus_slot_unref(slot);
	vc_close(&c);
	return 0;
}

static void test_object_manager(void)
{
	struct seen s = { .n = 0 };
	sd_bus_slot *slot = NULL;
	char *vm = NULL, *viommu = NULL, *dev = NULL, **vms = NULL, want[256], objs[8192];
	int ready[2], go[2], status = -1;
	char byte;
	pid_t child;
	struct vc c;

	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	child = fork();
	CHECK(child >= 0);
	if (child == 0)
		_exit(nobody(ready[1], go[0]));
	CHECK(read(ready[0], &byte, 1) == 1);

	CHECK_OK(vc_connect_system(&c));
	CHECK(sd_bus_add_match(c.bus, &slot, "type='signal',interface='" OM_IFACE "'",
			       on_object_signal, &s) >= 0);
	/* The tree first, then its changes: the daemon sends them to callers
	 * of GetManagedObjects. */
	CHECK_DBUS_OK(&c, managed_objects(&c, objs, sizeof(objs)));
	CHECK(!strstr(objs, VIOMMU_VM_PREFIX "/"));
	CHECK_DBUS_OK(&c, vc_list(&c, "ListVms", &vms));
	vc_strv_free(vms);
	dev = vc_find_device(&c, "selftest0");
	CHECK(dev);

	CHECK_DBUS_OK(&c, vc_create_vm(&c, "objects", &vm));
	snprintf(want, sizeof(want), "InterfacesAdded %s " VIOMMU_IFACE_VM ",", vm);
	CHECK(wait_for(&c, &s, want));
	CHECK_STREQ(s.name, "objects");
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev));
	CHECK_DBUS_OK(&c, vc_create_viommu(&c, vm, "auto", &viommu));
	snprintf(want, sizeof(want), "InterfacesAdded %s " VIOMMU_IFACE_VIOMMU ",", viommu);
	CHECK(wait_for(&c, &s, want));

	CHECK_DBUS_OK(&c, managed_objects(&c, objs, sizeof(objs)));
	snprintf(want, sizeof(want), "%s " VIOMMU_IFACE_VM "\n", vm);
	CHECK(strstr(objs, want));
	snprintf(want, sizeof(want), "%s " VIOMMU_IFACE_VIOMMU "\n", viommu);
	CHECK(strstr(objs, want));
	snprintf(want, sizeof(want), "%s " VIOMMU_IFACE_DEVICE "\n", dev);
	CHECK(strstr(objs, want));

	/* Introspection names each node's children: busctl tree walks them. */
	CHECK(introspect_has(&c, VC_ROOT, "<node name=\"vm\"/>"));
	CHECK(introspect_has(&c, VC_ROOT, "<node name=\"device\"/>"));
	CHECK(introspect_has(&c, vm, "<node name=\"viommu/"));

	/* The other user looks now, after both were made. */
	CHECK(write(go[1], "g", 1) == 1);
	CHECK(waitpid(child, &status, 0) == child);
	check_note("uid 65534's checks ended with %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	CHECK_DBUS_OK(&c, vc_destroy(&c, viommu, VC_VIOMMU));
	snprintf(want, sizeof(want), "InterfacesRemoved %s " VIOMMU_IFACE_VIOMMU ",", viommu);
	CHECK(wait_for(&c, &s, want));
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	snprintf(want, sizeof(want), "InterfacesRemoved %s " VIOMMU_IFACE_VM ",", vm);
	CHECK(wait_for(&c, &s, want));
	CHECK_DBUS_OK(&c, managed_objects(&c, objs, sizeof(objs)));
	CHECK(!strstr(objs, VIOMMU_VM_PREFIX "/"));
	for (size_t i = 0; i < s.n; i++)
		check_note("root saw %s", s.lines[i]);
	sd_bus_slot_unref(slot);
	vc_close(&c);
	free(vm);
	free(viommu);
	free(dev);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_object_manager),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
