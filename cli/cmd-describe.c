/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommuctl describe: Manager.Describe(), pretty-printed. The document is
 * JSON whichever backend is chosen, so it bypasses them.
 */
#include <errno.h>
#include <stdio.h>

#include "bus.h"
#include "viommuctl.h"

#define PRETTY \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

int cmd_describe(struct ctl *c, int argc, char **argv)
{
	sd_bus_message *reply = NULL;
	struct json_object *doc;
	const char *json = NULL;
	int r = bus_call(c, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, "Describe", &reply, NULL);

	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "s", &json);
	doc = r >= 0 ? json_tokener_parse(json) : NULL;
	if (!doc)
		r = bus_set_error(c, SD_BUS_ERROR_INCONSISTENT_MESSAGE, EBADMSG,
				  "the daemon's description is not JSON");
	else
		printf("%s\n", json_object_to_json_string_ext(doc, PRETTY));
	json_object_put(doc);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}
