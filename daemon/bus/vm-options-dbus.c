/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The a{sv} options of CreateVm, AttachDevice(s) and AllocDomain, decoded for the model. */
#include "daemon.h"

#include <string.h>

#include "errors.h"
#include "options.h"

int vm_options_read(sd_bus_message *m, struct vm_options *out, sd_bus_error *error)
{
	char mode[16] = "managed";
	const struct option_spec specs[] = {
		{ "persist", OPTION_BOOL, &out->persist },
		{ "pasid", OPTION_BOOL, &out->pasid },
		{ "mode", OPTION_STRING, mode, sizeof(mode) },
		{ "dirty-tracking", OPTION_BOOL, &out->dirty_tracking },
	};
	int r;

	*out = (struct vm_options){ .mode = VM_MODE_MANAGED };
	r = options_read(m, specs, sizeof(specs) / sizeof(specs[0]), error);
	if (r < 0)
		return r;
	if (strcmp(mode, "broker") == 0)
		out->mode = VM_MODE_BROKER;
	else if (strcmp(mode, "managed") != 0)
		return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				     "mode \"%s\" is neither \"managed\" nor \"broker\"", mode);
	return 0;
}

int attach_options_read(sd_bus_message *m, struct attach_options *out, sd_bus_error *error)
{
	char token[40] = "";
	const struct option_spec specs[] = {
		{ "vf-token", OPTION_STRING, token, sizeof(token), NULL, &out->has_vf_token },
		{ "pasid", OPTION_U32, &out->pasid, 0, NULL, &out->has_pasid },
	};
	sd_id128_t id;
	int r;

	*out = (struct attach_options){ 0 };
	r = options_read(m, specs, sizeof(specs) / sizeof(specs[0]), error);
	if (r < 0)
		return r;
	if (!out->has_vf_token)
		return 0;
	/* sd-bus also takes 32 bare hex digits; vfio-pci's users write the UUID form. */
	if (strlen(token) != 36 || sd_id128_from_string(token, &id) < 0)
		return bus_error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				     "vf-token \"%s\" is not a UUID", token);
	memcpy(out->vf_token, id.bytes, sizeof(out->vf_token));
	return 0;
}

int domain_options_read(sd_bus_message *m, char *fault_queue, size_t size, sd_bus_error *error)
{
	const struct option_spec specs[] = {
		{ "fault-queue", OPTION_PATH, fault_queue, size },
	};

	fault_queue[0] = '\0';
	return options_read(m, specs, 1, error);
}
