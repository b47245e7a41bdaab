/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wire contract's errors for sd-bus: apart, so that wire.h needs no D-Bus. */
#pragma once

#include <systemd/sd-bus.h>

#include "wire.h"

/* Each error name with its errno, for sd_bus_error_add_map(). */
extern const sd_bus_error_map wire_error_map[];
