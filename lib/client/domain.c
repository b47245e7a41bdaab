/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.viommu1.Domain: a nested domain, on a vIOMMU or on the VM's parent.
 */
#include <errno.h>
#include <stdlib.h>

#include "client-internal.h"

int domain_alloc_on(struct viommu_client *client, const char *path, const char *iface,
		    uint32_t data_type, const void *data, size_t len, struct viommu_domain **out)
{
	struct viommu_domain *domain;
	sd_bus_message *m, *reply = NULL;
	int r;

	client_clear_error(client);
	if (!out || (len && !data) || len > DOMAIN_DATA_MAX)
		return -EINVAL;
	*out = NULL;
	domain = calloc(1, sizeof(*domain));
	if (!domain)
		return -ENOMEM;
	domain->client = client;
	r = client_new_call(client, path, iface, "AllocDomain", &m);
	if (r >= 0) {
		r = sd_bus_message_append(m, "u", data_type);
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', len ? data : "", len);
		if (r >= 0)
			r = client_append_no_options(m);
		if (r >= 0)
			r = client_call(client, m, &reply);
		else
			sd_bus_message_unref(m);
	}
	if (r >= 0)
		r = client_new_object(client, reply, VIOMMU_IFACE_DOMAIN, &domain->path,
				      &domain->kernel_id);
	if (r < 0) {
		free(domain);
		return r;
	}
	*out = domain;
	return 0;
}

const char *viommu_domain_path(const struct viommu_domain *domain)
{
	return domain ? domain->path : NULL;
}

uint32_t viommu_domain_kernel_id(const struct viommu_domain *domain)
{
	return domain ? domain->kernel_id : 0;
}

void viommu_domain_free(struct viommu_domain *domain)
{
	if (!domain)
		return;
	free(domain->path);
	free(domain);
}

int viommu_domain_destroy(struct viommu_domain *domain)
{
	int r;

	if (!domain)
		return -EINVAL;
	client_clear_error(domain->client);
	r = client_destroy(domain->client, domain->path, VIOMMU_IFACE_DOMAIN);
	if (r < 0)
		return r;
	viommu_domain_free(domain);
	return 0;
}

int viommu_domain_attach(struct viommu_domain *domain, const char *device)
{
	if (!domain)
		return -EINVAL;
	return client_call_with_device(domain->client, domain->path, VIOMMU_IFACE_DOMAIN, "Attach",
				       device, NULL);
}

int viommu_domain_detach(struct viommu_domain *domain, const char *device)
{
	if (!domain)
		return -EINVAL;
	return client_call_with_device(domain->client, domain->path, VIOMMU_IFACE_DOMAIN, "Detach",
				       device, NULL);
}

int viommu_domain_invalidate(struct viommu_domain *domain, uint32_t data_type, uint32_t entry_len,
			     const void *entries, uint32_t count, uint32_t *out_handled,
			     int *out_error)
{
	if (!domain)
		return -EINVAL;
	client_clear_error(domain->client);
	return client_invalidate(domain->client, domain->path, VIOMMU_IFACE_DOMAIN, data_type,
				 entry_len, entries, count, out_handled, out_error);
}
