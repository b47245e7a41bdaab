/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Properties read straight from an object's field, by offsetof() in the
 * vtable. sd-bus reads a fixed-width number itself when a property has no
 * getter ("u" from a uint32_t, "t" from a uint64_t); these cover the fields
 * it cannot: a C bool (sd-bus wants an int) and a string held in an array
 * (sd-bus wants a char *). The getter gets the object plus the offset.
 */
#pragma once

#include <systemd/sd-bus.h>

int bus_property_get_bool(sd_bus *bus, const char *path, const char *iface, const char *property,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error);
int bus_property_get_string(sd_bus *bus, const char *path, const char *iface,
			    const char *property, sd_bus_message *reply, void *userdata,
			    sd_bus_error *error);

/* The vtable's entry of property member, or NULL. */
const sd_bus_vtable *bus_vtable_property(const sd_bus_vtable *vtable, const char *member);

/* Appends the {sv} entry of property p of object (its getter's value, or the
 * field's), as PropertiesChanged and InterfacesAdded carry it. */
int bus_property_append_entry(sd_bus *bus, sd_bus_message *m, const sd_bus_vtable *p,
			      const char *path, const char *iface, void *object);
