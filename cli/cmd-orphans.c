/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommuctl orphans and orphan release: the fds a restarted daemon got back
 * from the service manager's fd store that no VM explains. Root only; the
 * daemon says so.
 */
#include <string.h>

#include "bus.h"
#include "names.h"
#include "viommuctl.h"

static const struct out_column orphan_columns[] = {
	{ "name", "NAME" },
	{ "target", "TARGET" },
};

/* Manager.ListOrphans' a(ss) as table rows. */
static int put_rows(struct ctl *c, sd_bus_message *reply)
{
	const char *name, *target;
	int r = sd_bus_message_enter_container(reply, 'a', "(ss)");

	while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &name, &target)) > 0)
		out_row(c->out, (struct out_value[]){ OV_STR(name), OV_STR(target) });
	if (r >= 0)
		r = sd_bus_message_exit_container(reply);
	if (r < 0)
		return bus_set_error(c, SD_BUS_ERROR_INCONSISTENT_MESSAGE, -r,
				     "cannot read the daemon's reply: %s", strerror(-r));
	return 0;
}

int cmd_orphans(struct ctl *c, int argc, char **argv)
{
	sd_bus_message *reply = NULL;
	int r = bus_call(c, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, "ListOrphans", &reply, NULL);

	if (r < 0)
		return r;
	/* The label is what people read when there is none. */
	out_table_begin(c->out, NULL, "Orphaned fds", orphan_columns,
			sizeof(orphan_columns) / sizeof(orphan_columns[0]), 0);
	r = put_rows(c, reply);
	/* Unended, a table is dropped at out_free(): no half list. */
	if (r >= 0)
		out_table_end(c->out);
	sd_bus_message_unref(reply);
	return r;
}

int cmd_orphan_release(struct ctl *c, int argc, char **argv)
{
	if (!orphan_arg_valid(argv[0]))
		return ctl_usage(c, "\"%s\" is no orphan name", argv[0]);
	return bus_call(c, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, "ReleaseOrphan", NULL, "s", argv[0]);
}
