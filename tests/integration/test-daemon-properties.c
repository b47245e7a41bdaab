/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PropertiesChanged (config {"mock_devices": 2, "fast_path_users": [0]}): each
 * Vm property that changes while a VM lives is announced to its owner with
 * its new value, as it changes: ParentId and Nesting when the first device
 * comes (and ParentId again when the last goes), Shared when the iommufd is
 * handed out, DirtyTrackingEnabled, and VmmPid when a broker VM is bound to
 * its VMM. (Claimed changes only across a restart: test-daemon-restart.)
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"

/* The last PropertiesChanged seen for name on path, as text; "" for none. */
struct seen {
	const char *path, *name;
	char value[64];
};

static struct vc c;

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct seen *s = userdata;
	const char *iface, *name, *contents;
	char type;

	if (!sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged") ||
	    strcmp(sd_bus_message_get_path(m), s->path) != 0 ||
	    sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, VIOMMU_IFACE_VM) != 0 ||
	    sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
		return 0;
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		if (sd_bus_message_read(m, "s", &name) < 0 ||
		    sd_bus_message_peek_type(m, &type, &contents) < 0)
			return 0;
		if (strcmp(name, s->name) == 0 && strcmp(contents, "b") == 0) {
			int b = 0;

			sd_bus_message_read(m, "v", "b", &b);
			snprintf(s->value, sizeof(s->value), "%s", b ? "true" : "false");
		} else if (strcmp(name, s->name) == 0 && strcmp(contents, "u") == 0) {
			uint32_t u = 0;

			sd_bus_message_read(m, "v", "u", &u);
			snprintf(s->value, sizeof(s->value), "%u", u);
		} else {
			sd_bus_message_skip(m, "v");
		}
		sd_bus_message_exit_container(m);
	}
	return 0;
}

/* Runs do_it, then waits (bounded) for the change of name on path; its value. */
static char *watch(const char *path, const char *name, int (*do_it)(void *), void *arg)
{
	struct seen s = { .path = path, .name = name };
	sd_bus_slot *slot = NULL;
	static char value[64];

	CHECK(sd_bus_add_filter(c.bus, &slot, on_signal, &s) >= 0);
	CHECK(do_it(arg) >= 0);
	for (int i = 0; i < 100 && !s.value[0]; i++) {
		while (sd_bus_process(c.bus, NULL) > 0)
			;
		if (!s.value[0])
			sd_bus_wait(c.bus, 50000);
	}
	sd_bus_slot_unref(slot);
	snprintf(value, sizeof(value), "%s", s.value);
	check_note("%s %s -> %s", path, name, value[0] ? value : "(no signal)");
	return value;
}

static const char *vm_path;
static char *dev;

static int attach(void *arg)
{
	return vc_attach_device(&c, vm_path, dev);
}

static int detach(void *arg)
{
	return vc_detach_device(&c, vm_path, dev);
}

static int take_iommufd(void *arg)
{
	sd_bus_message *reply = NULL;
	int r = vc_call(&c, vm_path, VC_VM, "GetIommufd", &reply, "");

	sd_bus_message_unref(reply);
	return r;
}

static int dirty_on(void *arg)
{
	return vc_call(&c, vm_path, VC_VM, "SetDirtyTracking", NULL, "b", 1);
}

static int bind_vmm(void *arg)
{
	return vc_call(&c, vm_path, VC_VM, "BindVmm", NULL, "ht", *(int *)arg, (uint64_t)1 << 20);
}

static char *create(const char *name, const char *mode, bool dirty)
{
	sd_bus_message *reply = NULL;
	const char *path;
	char *out;

	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", name, 2,
				  "mode", "s", mode, "dirty-tracking", "b", (int)dirty));
	CHECK(sd_bus_message_read(reply, "o", &path) > 0);
	out = strdup(path);
	sd_bus_message_unref(reply);
	return out;
}

static void test_managed(void)
{
	char *vm = create("props", "managed", true), *v;
	uint32_t parent = 0;

	vm_path = vm;
	dev = vc_find_device(&c, "selftest0");
	CHECK(dev);
	v = watch(vm, "ParentId", attach, NULL);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, vm, VC_VM, "ParentId", &parent));
	CHECK(parent != 0);
	CHECK_EQ((uint32_t)strtoul(v, NULL, 10), parent);
	CHECK_STREQ(watch(vm, "DirtyTrackingEnabled", dirty_on, NULL), "true");
	CHECK_STREQ(watch(vm, "Shared", take_iommufd, NULL), "true");
	CHECK_STREQ(watch(vm, "ParentId", detach, NULL), "0");
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	free(vm);
	free(dev);
}

static void test_broker(void)
{
	char *vm = create("props-broker", "broker", false), *v;
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	char want[16];

	CHECK(self >= 0);
	vm_path = vm;
	v = watch(vm, "VmmPid", bind_vmm, &self);
	snprintf(want, sizeof(want), "%d", (int)getpid());
	CHECK_STREQ(v, want);
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	close(self);
	free(vm);
}

static void test_connect(void)
{
	CHECK_OK(vc_connect(&c, NULL));
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_connect),
		CHECK_CASE(test_managed),
		CHECK_CASE(test_broker),
	};
	int status = check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);

	vc_close(&c);
	return status;
}
