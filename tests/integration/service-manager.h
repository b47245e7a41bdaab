/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which viommud runs, and under what, for tests that kill and restart it:
 * systemd (VIOMMUD_UNIT, e.g. "viommud.service", asked over PID 1's private
 * socket) or the stand-in fdstore-manager.py (VIOMMUD_MANAGER_STATUS, its
 * status.json). Test code only.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Whether the daemon runs under systemd (VIOMMUD_UNIT is set). */
bool sm_is_systemd(void);

/* The daemon's pid once it is ready (Type=notify: READY=1), else 0. */
pid_t sm_daemon_pid(void);

/* Until a ready daemon other than old runs: its pid, or 0 after seconds. */
pid_t sm_wait_daemon(pid_t old, double seconds);

/* systemd only: the unit's ActiveState ("active", "failed", ...) into buf;
 * 0 or a negative errno. */
int sm_unit_state(const char *unit, char *buf, size_t len);

/* systemd only: a Manager method on a unit, as systemctl does: "StartUnit",
 * "StopUnit", "ReloadUnit", "ResetFailedUnit" (mode "replace"); waits until
 * the unit's job is gone, for at most seconds. 0 or a negative errno. */
int sm_unit_do(const char *method, const char *unit, double seconds);
