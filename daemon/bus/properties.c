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

const sd_bus_vtable *bus_vtable_property(const sd_bus_vtable *vtable, const char *member)
{
	for (const sd_bus_vtable *v = vtable; v->type != _SD_BUS_VTABLE_END; v++)
		if (v->type == _SD_BUS_VTABLE_PROPERTY && strcmp(v->x.property.member, member) == 0)
			return v;
	return NULL;
}

int bus_property_append_entry(sd_bus *bus, sd_bus_message *m, const sd_bus_vtable *p,
			      const char *path, const char *iface, void *object)
{
	void *at = (uint8_t *)object + p->x.property.offset;
	int r = sd_bus_message_open_container(m, 'e', "sv");

	if (r >= 0)
		r = sd_bus_message_append(m, "s", p->x.property.member);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', p->x.property.signature);
	if (r >= 0)
		r = p->x.property.get ? p->x.property.get(bus, path, iface, p->x.property.member, m,
							  at, NULL)
				      : sd_bus_message_append_basic(m, p->x.property.signature[0],
								    at);
	for (int i = 0; r >= 0 && i < 2; i++)
		r = sd_bus_message_close_container(m);
	return r;
}
