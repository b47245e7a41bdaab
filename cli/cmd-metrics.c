/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommuctl metrics: Manager.GetMetrics(), printed as it comes. The text is
 * Prometheus' exposition format whichever backend is chosen, for a textfile
 * collector or a person, so it bypasses them.
 */
#include <stdio.h>

#include "bus.h"
#include "viommuctl.h"

int cmd_metrics(struct ctl *c, int argc, char **argv)
{
	sd_bus_message *reply = NULL;
	const char *text = NULL;
	int r = bus_call(c, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, VIOMMU_MANAGER_GET_METRICS,
			 &reply, NULL);

	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "s", &text);
	if (r < 0)
		r = bus_set_error(c, SD_BUS_ERROR_INCONSISTENT_MESSAGE, -r,
				  "cannot read the daemon's reply");
	else
		fputs(text, stdout);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}
