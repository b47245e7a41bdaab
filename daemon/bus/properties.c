/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "properties.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

int bus_property_get_bool(sd_bus *bus, const char *path, const char *iface, const char *property,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	int value = *(const bool *)userdata;

	return sd_bus_message_append_basic(reply, 'b', &value);
}

int bus_property_get_string(sd_bus *bus, const char *path, const char *iface,
			    const char *property, sd_bus_message *reply, void *userdata,
			    sd_bus_error *error)
{
	return sd_bus_message_append_basic(reply, 's', userdata);
}

int bus_property_append(sd_bus *bus, sd_bus_message *m, const sd_bus_vtable *vtable,
			const char *path, const char *iface, const char *member, void *object)
{
	for (const sd_bus_vtable *v = vtable; v->type != _SD_BUS_VTABLE_END; v++) {
		void *at;

		if (v->type != _SD_BUS_VTABLE_PROPERTY || strcmp(v->x.property.member, member) != 0)
			continue;
		at = (uint8_t *)object + v->x.property.offset;
		if (v->x.property.get)
			return v->x.property.get(bus, path, iface, member, m, at, NULL);
		return sd_bus_message_append_basic(m, v->x.property.signature[0], at);
	}
	return -ENOENT;
}
