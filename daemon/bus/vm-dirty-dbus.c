/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Vm.SetDirtyTracking and Vm.ReadDirtyBitmap on the bus. */
#include "daemon.h"

#include "errors.h"

int vm_method_set_dirty_tracking(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	int enable, r;

	r = sd_bus_message_read(m, "b", &enable);
	if (r < 0)
		return r;
	r = vm_set_dirty_tracking(userdata, enable, &e);
	return bus_reply_empty(m, error, &e, r);
}

int vm_method_read_dirty_bitmap(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	uint64_t iova, length, page_size, dirty = 0;
	uint32_t flags;
	int memfd, r;

	r = sd_bus_message_read(m, "ttthu", &iova, &length, &page_size, &memfd, &flags);
	if (r < 0)
		return r;
	r = vm_read_dirty_bitmap(userdata, iova, length, page_size, memfd, flags, &dirty, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	return sd_bus_reply_method_return(m, "t", dirty);
}
