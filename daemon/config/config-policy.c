/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The queries of config.h: which devices may be used, and by whom. */
#include "config-internal.h"

#include <string.h>

#include "pci-sysfs.h"

bool config_device_allowed(const struct config *config, const char *bdf, uint16_t vendor,
			   uint16_t device)
{
	char norm[sizeof(config->devices[0].bdf)] = "";

	if (!config)
		return false;
	if (bdf && pci_bdf_valid(bdf))
		config_bdf_normalise(bdf, norm, sizeof(norm));
	for (size_t i = 0; i < config->ndevices; i++) {
		const struct config_device_match *m = &config->devices[i];

		if (m->by_id ? m->vendor == vendor && m->device == device
			     : norm[0] && strcmp(m->bdf, norm) == 0)
			return true;
	}
	return false;
}

static bool ids_contain(const struct config_ids *ids, uint32_t id)
{
	for (size_t i = 0; i < ids->count; i++) {
		if (ids->ids[i] == id)
			return true;
	}
	return false;
}

static bool may(const struct config_ids *users, const struct config_ids *groups, uid_t uid,
		gid_t gid, const gid_t *supp, size_t nsupp)
{
	if (uid == 0)
		return true;
	if (ids_contain(users, uid) || ids_contain(groups, gid))
		return true;
	for (size_t i = 0; i < nsupp; i++) {
		if (ids_contain(groups, supp[i]))
			return true;
	}
	return false;
}

bool config_may_create_vm(const struct config *config, uid_t uid, gid_t gid,
			  const gid_t *groups, size_t ngroups)
{
	if (!config)
		return uid == 0;
	return may(&config->vm_users, &config->vm_groups, uid, gid, groups, ngroups);
}

bool config_may_take_fast_path(const struct config *config, uid_t uid, gid_t gid,
			       const gid_t *groups, size_t ngroups)
{
	if (!config)
		return uid == 0;
	return may(&config->fast_path_users, &config->fast_path_groups, uid, gid, groups,
		   ngroups);
}
