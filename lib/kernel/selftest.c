/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "selftest.h"

#include <errno.h>
#include <stddef.h>
#include <sys/ioctl.h>

#include "kernel-hook.h"

static int mock_cmd(int iommufd, struct kabi_iommu_test_cmd *cmd)
{
	int r;

	cmd->size = sizeof(*cmd);
	if (iommufd < 0)
		return -EBADF;
	kernel_call_hook_run(KABI_IOMMU_TEST_CMD, cmd, false, 0);
	r = ioctl(iommufd, KABI_IOMMU_TEST_CMD, cmd) < 0 ? -errno : 0;
	kernel_call_hook_run(KABI_IOMMU_TEST_CMD, cmd, true, r);
	return r;
}

int mock_device_create(int iommufd, uint32_t pt_id, uint32_t dev_flags, struct mock_device *out)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = pt_id,
		.mock_domain_flags.dev_flags = dev_flags,
	};
	int r;

	if (!out)
		return -EINVAL;
	r = mock_cmd(iommufd, &cmd);
	if (r)
		return r;
	out->stdev_id = cmd.mock_domain_flags.out_stdev_id;
	out->idev_id = cmd.mock_domain_flags.out_idev_id;
	out->hwpt_id = cmd.mock_domain_flags.out_hwpt_id;
	return 0;
}

int mock_device_replace(int iommufd, uint32_t stdev_id, uint32_t *inout_pt_id)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev_id,
	};
	int r;

	if (!inout_pt_id)
		return -EINVAL;
	cmd.mock_domain_replace.pt_id = *inout_pt_id;
	r = mock_cmd(iommufd, &cmd);
	if (r == 0)
		*inout_pt_id = cmd.mock_domain_replace.pt_id;
	return r;
}

static int mock_pasid_set(int iommufd, uint32_t op, uint32_t stdev_id, uint32_t pasid,
			  uint32_t *inout_pt_id)
{
	struct kabi_iommu_test_cmd cmd = { .op = op, .id = stdev_id };
	int r;

	if (!inout_pt_id)
		return -EINVAL;
	cmd.pasid_attach.pasid = pasid;
	cmd.pasid_attach.pt_id = *inout_pt_id;
	r = mock_cmd(iommufd, &cmd);
	if (r == 0)
		*inout_pt_id = cmd.pasid_attach.pt_id;
	return r;
}

int mock_pasid_attach(int iommufd, uint32_t stdev_id, uint32_t pasid, uint32_t *inout_pt_id)
{
	return mock_pasid_set(iommufd, KABI_IOMMU_TEST_OP_PASID_ATTACH, stdev_id, pasid,
			      inout_pt_id);
}

int mock_pasid_replace(int iommufd, uint32_t stdev_id, uint32_t pasid, uint32_t *inout_pt_id)
{
	return mock_pasid_set(iommufd, KABI_IOMMU_TEST_OP_PASID_REPLACE, stdev_id, pasid,
			      inout_pt_id);
}

int mock_pasid_detach(int iommufd, uint32_t stdev_id, uint32_t pasid)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_PASID_DETACH,
		.id = stdev_id,
		.pasid_detach.pasid = pasid,
	};

	return mock_cmd(iommufd, &cmd);
}

int mock_pasid_check_hwpt(int iommufd, uint32_t stdev_id, uint32_t pasid, uint32_t hwpt_id)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_PASID_CHECK_HWPT,
		.id = stdev_id,
		.pasid_check = { .pasid = pasid, .hwpt_id = hwpt_id },
	};

	return mock_cmd(iommufd, &cmd);
}

int mock_trigger_vevent(int iommufd, uint32_t idev_id)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_TRIGGER_VEVENT,
		.trigger_vevent.dev_id = idev_id,
	};

	return mock_cmd(iommufd, &cmd);
}

int mock_trigger_iopf(int iommufd, uint32_t idev_id, uint32_t pasid, uint32_t grpid,
		      uint32_t perm, uint64_t addr)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {
			.dev_id = idev_id,
			.pasid = pasid,
			.grpid = grpid,
			.perm = perm,
			.addr = addr,
		},
	};

	return mock_cmd(iommufd, &cmd);
}

int mock_set_dirty(int iommufd, uint32_t hwpt_id, uint64_t iova, uint64_t length,
		   uint64_t page_size, const uint64_t *bitmap, uint64_t *out_nr_dirty)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_DIRTY,
		.id = hwpt_id,
		.dirty = {
			.iova = iova,
			.length = length,
			.page_size = page_size,
			.uptr = (uintptr_t)bitmap,
		},
	};
	int r;

	if (!bitmap)
		return -EINVAL;
	r = mock_cmd(iommufd, &cmd);
	if (r == 0 && out_nr_dirty)
		*out_nr_dirty = cmd.dirty.out_nr_dirty;
	return r;
}

int mock_check_refs(int iommufd, const void *va, uint64_t length, uint32_t refs)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = { .length = length, .uptr = (uintptr_t)va, .refs = refs },
	};

	return mock_cmd(iommufd, &cmd);
}

int mock_check_map(int iommufd, uint32_t hwpt_id, uint64_t iova, const void *va,
		   uint64_t length)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt_id,
		.check_map = { .iova = iova, .length = length, .uptr = (uintptr_t)va },
	};

	return mock_cmd(iommufd, &cmd);
}

int mock_check_iotlb(int iommufd, uint32_t hwpt_id, uint32_t iotlb_id, uint32_t expected)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_MD_CHECK_IOTLB,
		.id = hwpt_id,
		.check_iotlb = { .id = iotlb_id, .iotlb = expected },
	};

	return mock_cmd(iommufd, &cmd);
}

int mock_check_dev_cache(int iommufd, uint32_t idev_id, uint32_t cache_id, uint32_t expected)
{
	struct kabi_iommu_test_cmd cmd = {
		.op = KABI_IOMMU_TEST_OP_DEV_CHECK_CACHE,
		.id = idev_id,
		.check_dev_cache = { .id = cache_id, .cache = expected },
	};

	return mock_cmd(iommufd, &cmd);
}

bool mock_available(int iommufd)
{
	/* Checking zero pins on zero bytes is a no-op that only the selftest knows. */
	return mock_check_refs(iommufd, NULL, 0, 0) == 0;
}
