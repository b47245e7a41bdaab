/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "service-manager.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "client.h"


bool sm_is_systemd(void)
{
	const char *unit = getenv("VIOMMUD_UNIT");

	return unit && *unit;
}

/* PID 1's private socket: no dbus-daemon needed, root only. */
static int systemd_connect(sd_bus **out)
{
	sd_bus *bus = NULL;
	int r = sd_bus_new(&bus);

	if (r >= 0)
		r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*out = bus;
	return 0;
}

static int unit_path(const char *unit, char **out)
{
	return sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, out);
}

int sm_unit_state(const char *unit, char *buf, size_t len)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	char *path = NULL, *state = NULL;
	sd_bus *bus = NULL;
	int r = systemd_connect(&bus);

	if (r >= 0)
		r = unit_path(unit, &path);
	if (r >= 0)
		r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
					       "org.freedesktop.systemd1.Unit", "ActiveState",
					       &error, &state);
	if (r >= 0)
		snprintf(buf, len, "%s", state);
	free(state);
	free(path);
	sd_bus_error_free(&error);
	sd_bus_flush_close_unref(bus);
	return r < 0 ? r : 0;
}

static pid_t systemd_main_pid(const char *unit)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	char state[64] = "", *path = NULL;
	sd_bus *bus = NULL;
	uint32_t pid = 0;

	/* Type=notify: active only once the daemon said READY=1. */
	if (sm_unit_state(unit, state, sizeof(state)) < 0 || strcmp(state, "active") != 0)
		return 0;
	if (systemd_connect(&bus) >= 0 && unit_path(unit, &path) >= 0 &&
	    sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path,
					"org.freedesktop.systemd1.Service", "MainPID", &error,
					'u', &pid) < 0)
		pid = 0;
	free(path);
	sd_bus_error_free(&error);
	sd_bus_flush_close_unref(bus);
	return (pid_t)pid;
}

static pid_t stand_in_pid(void)
{
	const char *path = getenv("VIOMMUD_MANAGER_STATUS");
	struct json_object *root, *v;
	pid_t pid = 0;

	if (!path)
		return 0;
	root = json_object_from_file(path);
	if (!root)
		return 0;
	if (json_object_object_get_ex(root, "ready", &v) && json_object_get_boolean(v) &&
	    json_object_object_get_ex(root, "pid", &v))
		pid = (pid_t)json_object_get_int(v);
	json_object_put(root);
	return pid;
}

pid_t sm_daemon_pid(void)
{
	return sm_is_systemd() ? systemd_main_pid(getenv("VIOMMUD_UNIT")) : stand_in_pid();
}

pid_t sm_wait_daemon(pid_t old, double seconds)
{
	double deadline = vc_now_seconds() + seconds;

	while (vc_now_seconds() < deadline) {
		pid_t pid = sm_daemon_pid();

		if (pid > 0 && pid != old)
			return pid;
		vc_sleep_ms(20);
	}
	return 0;
}

int sm_unit_do(const char *method, const char *unit, double seconds)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *job;
	sd_bus *bus = NULL;
	double deadline = vc_now_seconds() + seconds;
	bool with_mode = strcmp(method, "ResetFailedUnit") != 0;
	int r = systemd_connect(&bus);

	if (r >= 0)
		r = with_mode ? sd_bus_call_method(bus, "org.freedesktop.systemd1",
						   "/org/freedesktop/systemd1",
						   "org.freedesktop.systemd1.Manager", method, &error,
						   &reply, "ss", unit, "replace")
			      : sd_bus_call_method(bus, "org.freedesktop.systemd1",
						   "/org/freedesktop/systemd1",
						   "org.freedesktop.systemd1.Manager", method, &error,
						   NULL, "s", unit);
	if (r >= 0 && with_mode)
		r = sd_bus_message_read(reply, "o", &job);
	/* The job object goes away when the job is done. */
	while (r >= 0 && with_mode) {
		char *state = NULL;
		int q = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", job,
						   "org.freedesktop.systemd1.Job", "State",
						   NULL, &state);

		free(state);
		if (q < 0)
			break;
		if (vc_now_seconds() > deadline) {
			r = -ETIMEDOUT;
			break;
		}
		vc_sleep_ms(20);
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	sd_bus_flush_close_unref(bus);
	return r < 0 ? r : 0;
}
