/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every command handler of viommuctl gets, and the handlers. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "output.h"

#include "wire.h"

#define DEFAULT_SOCKET "/run/viommud/viommud.sock"

struct ctl {
	sd_bus *bus;
	const char *destination; /* NULL on the private socket */
	const char *socket;	 /* its path; NULL on the system bus */
	struct out *out;
	sd_bus_error error; /* why the last call failed */
	bool usage_failed;  /* the arguments were wrong: exit 2 */
};

/* Reports a usage error (printed at once); returns -EINVAL. */
int ctl_usage(struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Handlers: 0, or a negative errno with c->error (or c->usage_failed) set. */
typedef int (*ctl_handler)(struct ctl *c, int argc, char **argv);

int cmd_status(struct ctl *c, int argc, char **argv);
int cmd_devices(struct ctl *c, int argc, char **argv);
int cmd_device_show(struct ctl *c, int argc, char **argv);
int cmd_hw_info(struct ctl *c, int argc, char **argv);
int cmd_bind(struct ctl *c, int argc, char **argv);
int cmd_unbind(struct ctl *c, int argc, char **argv);
int cmd_vms(struct ctl *c, int argc, char **argv);
int cmd_vm_show(struct ctl *c, int argc, char **argv);
int cmd_vm_destroy(struct ctl *c, int argc, char **argv);
int cmd_describe(struct ctl *c, int argc, char **argv);
int cmd_metrics(struct ctl *c, int argc, char **argv);
int cmd_monitor(struct ctl *c, int argc, char **argv);
int cmd_orphans(struct ctl *c, int argc, char **argv);
int cmd_orphan_release(struct ctl *c, int argc, char **argv);
int cmd_launch(struct ctl *c, int argc, char **argv);
int cmd_launch_check(struct ctl *c, int argc, char **argv);
