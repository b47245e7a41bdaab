/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every iommufd wrapper against the real kernel, on the selftest mock IOMMU
 * (CONFIG_IOMMUFD_TEST). Runs inside the test guest as root. Each case ends
 * with nothing left: its IDs are gone (DESTROY says ENOENT), no page of its
 * buffers is pinned, and the fd count is back where it started.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "iommufd.h"
#include "selftest.h"

#define BUF_SIZE (64 * 4096ul)
#define IOVA_BASE ((uint64_t)KABI_MOCK_APERTURE_START)
#define VIRT_ID 0x42

/* One iommufd with one mock device attached to an IOAS, and a buffer. */
struct fixture {
	int fds_before;
	int fd;
	uint32_t ioas;
	struct mock_device dev;
	uint8_t *buf;
	uint32_t ids[32]; /* every ID made, to prove each is gone at the end */
	unsigned int nids;
};

static void *buffer_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED);
	memset(p, 0x5a, size); /* fault every page in: no huge pages, so refs are checkable */
	return p;
}

static void remember(struct fixture *f, uint32_t id)
{
	CHECK(f->nids < sizeof(f->ids) / sizeof(f->ids[0]));
	CHECK(id != 0);
	f->ids[f->nids++] = id;
}

static void fixture_setup(struct fixture *f, uint32_t dev_flags)
{
	memset(f, 0, sizeof(*f));
	f->fds_before = check_count_fds();
	f->fd = iommufd_open();
	CHECK(f->fd >= 0);
	CHECK(mock_available(f->fd));
	CHECK_OK(iommufd_ioas_alloc(f->fd, &f->ioas));
	remember(f, f->ioas);
	CHECK_OK(mock_device_create(f->fd, f->ioas, dev_flags, &f->dev));
	remember(f, f->dev.stdev_id);
	CHECK(f->dev.hwpt_id != f->ioas); /* an auto-domain was made for the IOAS */
	f->buf = buffer_alloc(BUF_SIZE);
}

/*
 * Destroys every ID, newest first, in passes: an object still in use says
 * EBUSY and goes in a later pass, once what used it is gone. Then proves every
 * one is gone and nothing is pinned or open.
 */
static void fixture_teardown(struct fixture *f)
{
	bool progress = true, busy = true;

	while (busy && progress) {
		busy = progress = false;
		for (unsigned int i = f->nids; i-- > 0;) {
			int r = iommufd_destroy(f->fd, f->ids[i]);

			CHECK(r == 0 || r == -ENOENT || r == -EBUSY);
			progress |= r == 0;
			busy |= r == -EBUSY;
		}
	}
	for (unsigned int i = 0; i < f->nids; i++)
		CHECK_RET(iommufd_destroy(f->fd, f->ids[i]), -ENOENT);
	CHECK_RET(iommufd_destroy(f->fd, f->dev.hwpt_id), -ENOENT);
	CHECK_OK(mock_check_refs(f->fd, f->buf, BUF_SIZE, 0));
	CHECK(close(f->fd) == 0);
	CHECK(munmap(f->buf, BUF_SIZE) == 0);
	CHECK_EQ(check_count_fds(), f->fds_before);
}

static void map_fixed(struct fixture *f, uint64_t iova, void *va, uint64_t len)
{
	uint64_t got = iova;

	CHECK_OK(iommufd_ioas_map(f->fd, f->ioas,
				  KABI_IOMMU_IOAS_MAP_FIXED_IOVA | KABI_IOMMU_IOAS_MAP_READABLE |
					  KABI_IOMMU_IOAS_MAP_WRITEABLE,
				  va, len, &got));
	CHECK_EQ(got, iova);
}

static void test_iova_ranges(void)
{
	struct iommufd_iova_range ranges[8];
	struct fixture f;
	uint32_t count = 0;
	uint64_t align = 0;

	fixture_setup(&f, 0);
	/* Too small an array: EMSGSIZE, and the count the kernel needs. */
	CHECK_RET(iommufd_ioas_iova_ranges(f.fd, f.ioas, NULL, &count, NULL), -EMSGSIZE);
	CHECK(count >= 1 && count <= 8);
	count = 8;
	CHECK_OK(iommufd_ioas_iova_ranges(f.fd, f.ioas, ranges, &count, &align));
	CHECK_EQ(count, 1);
	/* The mock's aperture, narrowed by the attached device. */
	CHECK_EQ(ranges[0].start, KABI_MOCK_APERTURE_START);
	CHECK_EQ(ranges[0].last, KABI_MOCK_APERTURE_LAST);
	CHECK(align >= 1 && align <= 4096);
	fixture_teardown(&f);
}

static void test_map_unmap(void)
{
	struct fixture f;
	uint64_t iova, unmapped = 0;

	fixture_setup(&f, 0);
	map_fixed(&f, IOVA_BASE, f.buf, BUF_SIZE);
	CHECK_OK(mock_check_map(f.fd, f.dev.hwpt_id, IOVA_BASE, f.buf, BUF_SIZE));
	CHECK_OK(mock_check_refs(f.fd, f.buf, BUF_SIZE, 1));
	/* Outside the aperture the device can reach. */
	iova = 0x1000;
	CHECK_RET(iommufd_ioas_map(f.fd, f.ioas, KABI_IOMMU_IOAS_MAP_FIXED_IOVA |
				   KABI_IOMMU_IOAS_MAP_READABLE, f.buf, 4096, &iova), -EINVAL);
	/* Overlapping an existing mapping. */
	iova = IOVA_BASE + 4096;
	CHECK_RET(iommufd_ioas_map(f.fd, f.ioas, KABI_IOMMU_IOAS_MAP_FIXED_IOVA |
				   KABI_IOMMU_IOAS_MAP_READABLE, f.buf, 4096, &iova), -EEXIST);
	/* Without FIXED_IOVA the kernel picks a free IOVA inside the aperture. */
	iova = 0;
	CHECK_OK(iommufd_ioas_map(f.fd, f.ioas, KABI_IOMMU_IOAS_MAP_READABLE, f.buf, 4096,
				  &iova));
	CHECK(iova >= KABI_MOCK_APERTURE_START && iova < KABI_MOCK_APERTURE_LAST);
	CHECK(iova >= IOVA_BASE + BUF_SIZE || iova + 4096 <= IOVA_BASE);
	CHECK_OK(mock_check_refs(f.fd, f.buf, 4096, 2));
	CHECK_OK(iommufd_ioas_unmap(f.fd, f.ioas, iova, 4096, &unmapped));
	CHECK_EQ(unmapped, 4096);
	/* A hole in the middle of a mapping cannot be cut. */
	CHECK_RET(iommufd_ioas_unmap(f.fd, f.ioas, IOVA_BASE + 4096, 4096, NULL), -ENOENT);
	CHECK_OK(iommufd_ioas_unmap(f.fd, f.ioas, IOVA_BASE, BUF_SIZE, &unmapped));
	CHECK_EQ(unmapped, BUF_SIZE);
	CHECK_OK(mock_check_refs(f.fd, f.buf, BUF_SIZE, 0));
	CHECK_RET(iommufd_ioas_unmap(f.fd, f.ioas, IOVA_BASE, BUF_SIZE, NULL), -ENOENT);
	/* Unmap-all of an empty IOAS unmaps nothing. */
	CHECK_OK(iommufd_ioas_unmap(f.fd, f.ioas, 0, UINT64_MAX, &unmapped));
	CHECK_EQ(unmapped, 0);
	fixture_teardown(&f);
}

static void test_map_file(void)
{
	struct fixture f;
	uint64_t iova = IOVA_BASE, unmapped;
	uint8_t *view;
	int memfd;

	fixture_setup(&f, 0);
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	CHECK(ftruncate(memfd, BUF_SIZE) == 0);
	view = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(view != MAP_FAILED);
	memset(view, 0xa5, BUF_SIZE);
	/* Map the second half of the file. */
	CHECK_OK(iommufd_ioas_map_file(f.fd, f.ioas,
				       KABI_IOMMU_IOAS_MAP_FIXED_IOVA |
					       KABI_IOMMU_IOAS_MAP_READABLE |
					       KABI_IOMMU_IOAS_MAP_WRITEABLE,
				       memfd, BUF_SIZE / 2, BUF_SIZE / 2, &iova));
	CHECK_EQ(iova, IOVA_BASE);
	CHECK_OK(mock_check_map(f.fd, f.dev.hwpt_id, IOVA_BASE, view + BUF_SIZE / 2,
				BUF_SIZE / 2));
	CHECK_OK(mock_check_refs(f.fd, view + BUF_SIZE / 2, BUF_SIZE / 2, 1));
	CHECK_OK(mock_check_refs(f.fd, view, BUF_SIZE / 2, 0));
	/* Past the end of the file. */
	iova = IOVA_BASE + BUF_SIZE;
	CHECK_RET(iommufd_ioas_map_file(f.fd, f.ioas, KABI_IOMMU_IOAS_MAP_FIXED_IOVA |
					KABI_IOMMU_IOAS_MAP_READABLE, memfd, BUF_SIZE, 4096,
					&iova), -EINVAL);
	/* Not a file that can be mapped. */
	CHECK_RET(iommufd_ioas_map_file(f.fd, f.ioas, KABI_IOMMU_IOAS_MAP_READABLE, -1, 0,
					4096, &iova), -EBADF);
	CHECK_OK(iommufd_ioas_unmap(f.fd, f.ioas, 0, UINT64_MAX, &unmapped));
	CHECK_EQ(unmapped, BUF_SIZE / 2);
	CHECK_OK(mock_check_refs(f.fd, view, BUF_SIZE, 0));
	CHECK(munmap(view, BUF_SIZE) == 0);
	CHECK(close(memfd) == 0);
	fixture_teardown(&f);
}

static void test_copy_and_allow(void)
{
	struct iommufd_iova_range allowed = { IOVA_BASE + BUF_SIZE, IOVA_BASE + 4 * BUF_SIZE - 1 };
	struct iommufd_iova_range below_aperture = { 0x10000, 0x1ffff };
	struct mock_device dev2;
	struct fixture f;
	uint32_t ioas2;
	uint64_t dst = 0, unmapped;

	fixture_setup(&f, 0);
	map_fixed(&f, IOVA_BASE, f.buf, BUF_SIZE);
	CHECK_OK(iommufd_ioas_alloc(f.fd, &ioas2));
	remember(&f, ioas2);
	CHECK_OK(iommufd_ioas_allow_iovas(f.fd, ioas2, &allowed, 1));
	/* A device on ioas2 too, so that what ioas2 maps is pinned for it. */
	CHECK_OK(mock_device_create(f.fd, ioas2, 0, &dev2));
	remember(&f, dev2.stdev_id);
	/* The copy shares the pages: no second pin, and lands where allowed. */
	CHECK_OK(iommufd_ioas_copy(f.fd, ioas2, f.ioas, KABI_IOMMU_IOAS_MAP_READABLE, IOVA_BASE,
				   BUF_SIZE, &dst));
	CHECK(dst >= allowed.start && dst + BUF_SIZE - 1 <= allowed.last);
	/* Allowed IOVAs are a promise the attached devices must keep: below
	 * the mock's aperture it cannot be made. */
	CHECK_RET(iommufd_ioas_allow_iovas(f.fd, f.ioas, &below_aperture, 1), -EADDRINUSE);
	CHECK_OK(iommufd_ioas_unmap(f.fd, f.ioas, 0, UINT64_MAX, NULL));
	CHECK_OK(mock_check_refs(f.fd, f.buf, BUF_SIZE, 1)); /* still held by ioas2 */
	CHECK_OK(mock_check_map(f.fd, dev2.hwpt_id, dst, f.buf, BUF_SIZE));
	CHECK_OK(iommufd_ioas_unmap(f.fd, ioas2, 0, UINT64_MAX, &unmapped));
	CHECK_EQ(unmapped, BUF_SIZE);
	/* Allowed ranges must not exclude what is mapped; empty lifts the limit. */
	CHECK_OK(iommufd_ioas_allow_iovas(f.fd, ioas2, NULL, 0));
	fixture_teardown(&f);
}

static void test_options_and_change_process(void)
{
	struct fixture f;
	uint64_t value = 99, iova, unmapped;
	int memfd;

	fixture_setup(&f, 0);
	CHECK_OK(iommufd_option_get(f.fd, KABI_IOMMU_OPTION_RLIMIT_MODE, 0, &value));
	CHECK_EQ(value, 0); /* per-user accounting is the default */
	/* RLIMIT_MODE may only change while the iommufd holds no objects. */
	CHECK_RET(iommufd_option_set(f.fd, KABI_IOMMU_OPTION_RLIMIT_MODE, 0, 1), -EBUSY);
	CHECK_OK(iommufd_option_get(f.fd, KABI_IOMMU_OPTION_HUGE_PAGES, f.ioas, &value));
	CHECK_EQ(value, 1);
	CHECK_OK(iommufd_option_set(f.fd, KABI_IOMMU_OPTION_HUGE_PAGES, f.ioas, 0));
	CHECK_OK(iommufd_option_get(f.fd, KABI_IOMMU_OPTION_HUGE_PAGES, f.ioas, &value));
	CHECK_EQ(value, 0);
	CHECK_RET(iommufd_option_set(f.fd, KABI_IOMMU_OPTION_HUGE_PAGES, f.ioas, 2), -EINVAL);
	CHECK_RET(iommufd_option_get(f.fd, 77, 0, &value), -EOPNOTSUPP);
	/* Only file mappings can change process: a user-VA one is tied to our mm. */
	map_fixed(&f, IOVA_BASE, f.buf, BUF_SIZE);
	CHECK_RET(iommufd_ioas_change_process(f.fd), -EINVAL);
	CHECK_OK(iommufd_ioas_unmap(f.fd, f.ioas, 0, UINT64_MAX, NULL));
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	CHECK(memfd >= 0);
	CHECK(ftruncate(memfd, BUF_SIZE) == 0);
	iova = IOVA_BASE;
	CHECK_OK(iommufd_ioas_map_file(f.fd, f.ioas, KABI_IOMMU_IOAS_MAP_FIXED_IOVA |
				       KABI_IOMMU_IOAS_MAP_READABLE, memfd, 0, BUF_SIZE, &iova));
	CHECK_OK(iommufd_ioas_change_process(f.fd));
	CHECK_OK(iommufd_ioas_unmap(f.fd, f.ioas, 0, UINT64_MAX, &unmapped));
	CHECK_EQ(unmapped, BUF_SIZE);
	CHECK(close(memfd) == 0);
	fixture_teardown(&f);

	/* On a fresh iommufd the mode can be set: per-process accounting. */
	f.fd = iommufd_open();
	CHECK(f.fd >= 0);
	CHECK_OK(iommufd_option_set(f.fd, KABI_IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	CHECK_OK(iommufd_option_get(f.fd, KABI_IOMMU_OPTION_RLIMIT_MODE, 0, &value));
	CHECK_EQ(value, 1);
	CHECK(close(f.fd) == 0);
}

static void test_hw_info(void)
{
	struct kabi_iommu_test_hw_info data;
	struct iommufd_hw_info info;
	struct fixture f;

	fixture_setup(&f, 0);
	memset(&data, 0xff, sizeof(data));
	CHECK_OK(iommufd_get_hw_info(f.fd, f.dev.idev_id, 0, &data, sizeof(data), &info));
	CHECK_EQ(info.type, KABI_IOMMU_HW_INFO_TYPE_SELFTEST);
	CHECK_EQ(info.data_len, sizeof(data));
	CHECK_EQ(data.test_reg, KABI_IOMMU_HW_INFO_SELFTEST_REGVAL);
	CHECK_EQ(info.max_pasid_log2, 0); /* created without the PASID flag */
	CHECK(info.capabilities & KABI_IOMMU_HW_CAP_DIRTY_TRACKING);
	/* Asking for its own type by name gives the same. */
	CHECK_OK(iommufd_get_hw_info(f.fd, f.dev.idev_id, KABI_IOMMU_HW_INFO_TYPE_SELFTEST, &data,
				     sizeof(data), &info));
	CHECK_EQ(info.type, KABI_IOMMU_HW_INFO_TYPE_SELFTEST);
	/* Another vendor's type is refused. */
	CHECK_RET(iommufd_get_hw_info(f.fd, f.dev.idev_id, KABI_IOMMU_HW_INFO_TYPE_AMD, &data,
				      sizeof(data), &info), -EOPNOTSUPP);
	/* A zero-length buffer still reports the type and the length it has. */
	CHECK_OK(iommufd_get_hw_info(f.fd, f.dev.idev_id, 0, NULL, 0, &info));
	CHECK_EQ(info.data_len, sizeof(data));
	/* Not a device ID. */
	CHECK_RET(iommufd_get_hw_info(f.fd, f.ioas, 0, &data, sizeof(data), &info), -ENOENT);
	fixture_teardown(&f);
}

struct nest {
	uint32_t parent, viommu, vdev, nested;
};

static const struct kabi_iommu_hwpt_selftest nested_data = {
	.iotlb = KABI_IOMMU_TEST_IOTLB_DEFAULT,
};

/* Nesting parent over the IOAS, a vIOMMU on it, a vDEVICE and a nested HWPT. */
static void nest_setup(struct fixture *f, struct nest *n, uint32_t parent_flags)
{
	struct iommufd_hwpt_alloc_args parent = {
		.dev_id = f->dev.idev_id,
		.pt_id = f->ioas,
		.flags = KABI_IOMMU_HWPT_ALLOC_NEST_PARENT | parent_flags,
	};
	struct iommufd_viommu_alloc_args viommu = {
		.type = KABI_IOMMU_VIOMMU_TYPE_SELFTEST,
		.dev_id = f->dev.idev_id,
	};
	struct iommufd_hwpt_alloc_args nested = {
		.dev_id = f->dev.idev_id,
		.data_type = KABI_IOMMU_HWPT_DATA_SELFTEST,
		.data = &nested_data,
		.data_len = sizeof(nested_data),
	};

	CHECK_OK(iommufd_hwpt_alloc(f->fd, &parent, &n->parent));
	remember(f, n->parent);
	viommu.hwpt_id = n->parent;
	CHECK_OK(iommufd_viommu_alloc(f->fd, &viommu, &n->viommu));
	remember(f, n->viommu);
	/* The vDEVICE must exist before the device sits on a nested domain. */
	CHECK_OK(iommufd_vdevice_alloc(f->fd, n->viommu, f->dev.idev_id, VIRT_ID, &n->vdev));
	remember(f, n->vdev);
	nested.pt_id = n->viommu;
	CHECK_OK(iommufd_hwpt_alloc(f->fd, &nested, &n->nested));
	remember(f, n->nested);
}

static void test_nesting_and_invalidate(void)
{
	struct kabi_iommu_hwpt_invalidate_selftest inv[3] = {
		{ .iotlb_id = 1 },
		{ .iotlb_id = 2 },
		{ .iotlb_id = KABI_MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1 }, /* rejected */
	};
	struct kabi_iommu_viommu_invalidate_selftest dev_inv = { .vdev_id = VIRT_ID, .cache_id = 0 };
	struct fixture f;
	struct nest n;
	uint32_t pt, count;

	fixture_setup(&f, 0);
	nest_setup(&f, &n, 0);
	/* The parent is busy while a vIOMMU holds it. */
	CHECK_RET(iommufd_destroy(f.fd, n.parent), -EBUSY);
	pt = n.nested;
	CHECK_OK(mock_device_replace(f.fd, f.dev.stdev_id, &pt));
	CHECK_EQ(pt, n.nested);
	for (uint32_t i = 0; i <= KABI_MOCK_NESTED_DOMAIN_IOTLB_ID_MAX; i++)
		CHECK_OK(mock_check_iotlb(f.fd, n.nested, i, KABI_IOMMU_TEST_IOTLB_DEFAULT));
	/* A nested HWPT with a device attached is busy. */
	CHECK_RET(iommufd_destroy(f.fd, n.nested), -EBUSY);

	/* Empty array: only asks whether the type is supported. */
	count = 0;
	CHECK_OK(iommufd_hwpt_invalidate(f.fd, n.nested, KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					 NULL, sizeof(inv[0]), &count));
	CHECK_EQ(count, 0);
	/* Two good entries, then one the mock rejects: two come back handled. */
	count = 3;
	CHECK_RET(iommufd_hwpt_invalidate(f.fd, n.nested, KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					  inv, sizeof(inv[0]), &count), -EINVAL);
	CHECK_EQ(count, 2);
	CHECK_OK(mock_check_iotlb(f.fd, n.nested, 0, KABI_IOMMU_TEST_IOTLB_DEFAULT));
	CHECK_OK(mock_check_iotlb(f.fd, n.nested, 1, 0));
	CHECK_OK(mock_check_iotlb(f.fd, n.nested, 2, 0));
	CHECK_OK(mock_check_iotlb(f.fd, n.nested, 3, KABI_IOMMU_TEST_IOTLB_DEFAULT));
	/* Wrong data type for a nested HWPT. */
	count = 1;
	CHECK_RET(iommufd_hwpt_invalidate(f.fd, n.nested, KABI_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
					  inv, sizeof(inv[0]), &count), -EINVAL);
	CHECK_EQ(count, 0);
	/* The vIOMMU invalidates device caches by virtual ID. */
	CHECK_OK(mock_check_dev_cache(f.fd, f.dev.idev_id, 0, KABI_IOMMU_TEST_DEV_CACHE_DEFAULT));
	count = 1;
	CHECK_OK(iommufd_hwpt_invalidate(f.fd, n.viommu, KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					 &dev_inv, sizeof(dev_inv), &count));
	CHECK_EQ(count, 1);
	CHECK_OK(mock_check_dev_cache(f.fd, f.dev.idev_id, 0, 0));
	CHECK_OK(mock_check_dev_cache(f.fd, f.dev.idev_id, 1, KABI_IOMMU_TEST_DEV_CACHE_DEFAULT));
	/* Unknown virtual ID. */
	dev_inv.vdev_id = VIRT_ID + 1;
	count = 1;
	CHECK_RET(iommufd_hwpt_invalidate(f.fd, n.viommu, KABI_IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					  &dev_inv, sizeof(dev_inv), &count), -EINVAL);
	CHECK_EQ(count, 0);

	/* Back onto the parent; the nested HWPT is then free to go. */
	pt = n.parent;
	CHECK_OK(mock_device_replace(f.fd, f.dev.stdev_id, &pt));
	CHECK_EQ(pt, n.parent);
	fixture_teardown(&f);
}

static void test_veventq(void)
{
	struct {
		struct kabi_iommufd_vevent_header hdr;
		struct kabi_iommu_viommu_event_selftest event;
	} rec[2];
	struct fixture f;
	struct nest n;
	uint32_t pt, veventq, other;
	int qfd, other_fd;
	ssize_t got;

	fixture_setup(&f, 0);
	nest_setup(&f, &n, 0);
	CHECK_OK(iommufd_veventq_alloc(f.fd, n.viommu, KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 4,
				       &veventq, &qfd));
	remember(&f, veventq);
	CHECK(qfd >= 0);
	CHECK(fcntl(qfd, F_GETFD) & FD_CLOEXEC);
	/* One vEVENTQ per type per vIOMMU. */
	CHECK_RET(iommufd_veventq_alloc(f.fd, n.viommu, KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 4,
					&other, &other_fd), -EEXIST);
	CHECK_RET(iommufd_veventq_alloc(f.fd, n.viommu, KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 0,
					&other, &other_fd), -EINVAL);
	pt = n.nested;
	CHECK_OK(mock_device_replace(f.fd, f.dev.stdev_id, &pt));
	CHECK_OK(mock_trigger_vevent(f.fd, f.dev.idev_id));
	CHECK_OK(mock_trigger_vevent(f.fd, f.dev.idev_id));
	struct pollfd pfd = { .fd = qfd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 1000) == 1);
	got = read(qfd, rec, sizeof(rec));
	CHECK_EQ(got, sizeof(rec));
	CHECK_EQ(rec[0].hdr.flags, 0);
	CHECK_EQ(rec[0].event.virt_id, VIRT_ID);
	CHECK_EQ(rec[1].hdr.sequence, rec[0].hdr.sequence + 1);
	CHECK_EQ(rec[1].event.virt_id, VIRT_ID);
	CHECK(poll(&pfd, 1, 0) == 0); /* drained */
	pt = n.parent;
	CHECK_OK(mock_device_replace(f.fd, f.dev.stdev_id, &pt));
	/* The queue object goes away only once its fd is closed too. */
	CHECK(close(qfd) == 0);
	fixture_teardown(&f);
}

static void test_fault_queue(void)
{
	struct kabi_iommu_hwpt_pgfault fault;
	struct kabi_iommu_hwpt_page_response resp;
	struct iommufd_hwpt_alloc_args args = {
		.data_type = KABI_IOMMU_HWPT_DATA_SELFTEST,
		.data = &nested_data,
		.data_len = sizeof(nested_data),
	};
	struct fixture f;
	struct nest n;
	uint32_t fault_id, iopf_hwpt, pt;
	int fault_fd;

	fixture_setup(&f, 0);
	nest_setup(&f, &n, 0);
	CHECK_OK(iommufd_fault_queue_alloc(f.fd, &fault_id, &fault_fd));
	remember(&f, fault_id);
	args.dev_id = f.dev.idev_id;
	args.pt_id = n.parent;
	args.fault_id = fault_id;
	CHECK_OK(iommufd_hwpt_alloc(f.fd, &args, &iopf_hwpt));
	remember(&f, iopf_hwpt);
	/* A fault-capable HWPT holds its fault queue. */
	CHECK_RET(iommufd_destroy(f.fd, fault_id), -EBUSY);
	pt = iopf_hwpt;
	CHECK_OK(mock_device_replace(f.fd, f.dev.stdev_id, &pt));
	CHECK_OK(mock_trigger_iopf(f.fd, f.dev.idev_id, 0x100, 0x7, KABI_IOMMU_PGFAULT_PERM_READ,
				   0xdead000));
	CHECK_EQ(read(fault_fd, &fault, sizeof(fault)), sizeof(fault));
	CHECK_EQ(fault.dev_id, f.dev.idev_id);
	CHECK_EQ(fault.pasid, 0x100);
	CHECK_EQ(fault.grpid, 0x7);
	CHECK_EQ(fault.addr, 0xdead000);
	CHECK(fault.flags & KABI_IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	CHECK(fault.flags & KABI_IOMMU_PGFAULT_FLAGS_PASID_VALID);
	CHECK_EQ(fault.perm, KABI_IOMMU_PGFAULT_PERM_READ);
	resp.cookie = fault.cookie;
	resp.code = KABI_IOMMUFD_PAGE_RESP_SUCCESS;
	CHECK_EQ(write(fault_fd, &resp, sizeof(resp)), sizeof(resp));
	/* The same cookie again is no longer pending. */
	CHECK(write(fault_fd, &resp, sizeof(resp)) < 0);
	pt = n.parent;
	CHECK_OK(mock_device_replace(f.fd, f.dev.stdev_id, &pt));
	CHECK(close(fault_fd) == 0);
	fixture_teardown(&f);
}

static void test_hw_queue(void)
{
	struct kabi_iommu_viommu_selftest drv = { .in_data = 0xbeef };
	struct iommufd_viommu_alloc_args viommu_args = {
		.type = KABI_IOMMU_VIOMMU_TYPE_SELFTEST,
		.data = &drv,
		.data_len = sizeof(drv),
	};
	struct fixture f;
	struct nest n;
	uint32_t viommu, q0, q1;

	fixture_setup(&f, 0);
	nest_setup(&f, &n, 0);
	/* With driver data the selftest vIOMMU hands back an mmap window. */
	viommu_args.dev_id = f.dev.idev_id;
	viommu_args.hwpt_id = n.parent;
	CHECK_OK(iommufd_viommu_alloc(f.fd, &viommu_args, &viommu));
	remember(&f, viommu);
	CHECK_EQ(drv.out_data, 0xbeef);
	CHECK(drv.out_mmap_length > 0);
	void *window = mmap(NULL, drv.out_mmap_length, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd,
			    (off_t)drv.out_mmap_offset);
	CHECK(window != MAP_FAILED);
	CHECK(munmap(window, drv.out_mmap_length) == 0);

	/* The queue's memory must be mapped in the parent's IOAS. */
	CHECK_RET(iommufd_hw_queue_alloc(f.fd, viommu, KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 0,
					 IOVA_BASE, 4096, &q0), -ENOENT);
	map_fixed(&f, IOVA_BASE, f.buf, 2 * 4096);
	/* Indexes go in order. */
	CHECK_RET(iommufd_hw_queue_alloc(f.fd, viommu, KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 1,
					 IOVA_BASE, 4096, &q1), -EIO);
	CHECK_RET(iommufd_hw_queue_alloc(f.fd, viommu, KABI_IOMMU_HW_QUEUE_TYPE_DEFAULT, 0,
					 IOVA_BASE, 4096, &q0), -EOPNOTSUPP);
	CHECK_OK(iommufd_hw_queue_alloc(f.fd, viommu, KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 0,
					IOVA_BASE, 4096, &q0));
	remember(&f, q0);
	/* The queue pins its range: unmap is refused while it lives. */
	CHECK_RET(iommufd_ioas_unmap(f.fd, f.ioas, IOVA_BASE, 2 * 4096, NULL), -EBUSY);
	CHECK_OK(iommufd_hw_queue_alloc(f.fd, viommu, KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 1,
					IOVA_BASE + 4096, 4096, &q1));
	remember(&f, q1);
	CHECK_RET(iommufd_hw_queue_alloc(f.fd, viommu, KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST,
					 KABI_IOMMU_TEST_HW_QUEUE_MAX, IOVA_BASE, 4096, &q1),
		  -EINVAL);
	/* Highest index first. */
	CHECK_RET(iommufd_destroy(f.fd, q0), -EBUSY);
	CHECK_OK(iommufd_destroy(f.fd, q1));
	CHECK_OK(iommufd_destroy(f.fd, q0));
	CHECK_OK(iommufd_ioas_unmap(f.fd, f.ioas, IOVA_BASE, 2 * 4096, NULL));
	fixture_teardown(&f);
}

static void test_dirty_tracking(void)
{
	struct iommufd_hwpt_alloc_args args = { .flags = KABI_IOMMU_HWPT_ALLOC_DIRTY_TRACKING };
	const uint64_t page = 4096, npages = BUF_SIZE / 4096;
	uint64_t set[1] = { 0x8000000000000005ull }, got[1], nr = 0;
	struct fixture f;
	uint32_t hwpt, plain, pt;

	_Static_assert(BUF_SIZE / 4096 == 64, "one u64 of bitmap");
	fixture_setup(&f, 0);
	args.dev_id = f.dev.idev_id;
	args.pt_id = f.ioas;
	CHECK_OK(iommufd_hwpt_alloc(f.fd, &args, &hwpt));
	remember(&f, hwpt);
	pt = hwpt;
	CHECK_OK(mock_device_replace(f.fd, f.dev.stdev_id, &pt));
	/* One IOPTE per page: pages that happen to be physically contiguous
	 * would otherwise share a larger IOPTE, and so its dirty bit. */
	CHECK_OK(iommufd_option_set(f.fd, KABI_IOMMU_OPTION_HUGE_PAGES, f.ioas, 0));
	map_fixed(&f, IOVA_BASE, f.buf, BUF_SIZE);
	CHECK_OK(iommufd_hwpt_set_dirty_tracking(f.fd, hwpt, true));
	CHECK_OK(mock_set_dirty(f.fd, hwpt, IOVA_BASE, BUF_SIZE, page, set, &nr));
	CHECK_EQ(nr, 3);
	/* Reading without clearing leaves the bits for the next read. */
	got[0] = 0;
	CHECK_OK(iommufd_hwpt_get_dirty_bitmap(f.fd, hwpt, KABI_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
					       IOVA_BASE, npages * page, page, got));
	CHECK_EQ(got[0], set[0]);
	got[0] = 0;
	CHECK_OK(iommufd_hwpt_get_dirty_bitmap(f.fd, hwpt, 0, IOVA_BASE, npages * page, page, got));
	CHECK_EQ(got[0], set[0]);
	got[0] = 0;
	CHECK_OK(iommufd_hwpt_get_dirty_bitmap(f.fd, hwpt, 0, IOVA_BASE, npages * page, page, got));
	CHECK_EQ(got[0], 0);
	/* An unaligned IOVA. */
	CHECK_RET(iommufd_hwpt_get_dirty_bitmap(f.fd, hwpt, 0, IOVA_BASE + 1, page, page, got),
		  -EINVAL);
	CHECK_OK(iommufd_hwpt_set_dirty_tracking(f.fd, hwpt, false));
	/* A HWPT allocated without dirty tracking cannot switch it on. */
	args.flags = 0;
	CHECK_OK(iommufd_hwpt_alloc(f.fd, &args, &plain));
	remember(&f, plain);
	CHECK_RET(iommufd_hwpt_set_dirty_tracking(f.fd, plain, true), -EOPNOTSUPP);
	CHECK_OK(iommufd_ioas_unmap(f.fd, f.ioas, 0, UINT64_MAX, NULL));
	pt = f.ioas;
	CHECK_OK(mock_device_replace(f.fd, f.dev.stdev_id, &pt));
	f.dev.hwpt_id = pt; /* a fresh auto-domain */
	fixture_teardown(&f);
}

static void test_pasid(void)
{
	struct iommufd_hwpt_alloc_args args = { .flags = KABI_IOMMU_HWPT_ALLOC_PASID };
	struct kabi_iommu_test_hw_info data;
	struct iommufd_hw_info info;
	struct fixture f;
	uint32_t rid_hwpt, pasid_a, pasid_b, pt;
	const uint32_t pasid = 100;

	fixture_setup(&f, KABI_MOCK_FLAGS_DEVICE_PASID);
	CHECK_OK(iommufd_get_hw_info(f.fd, f.dev.idev_id, 0, &data, sizeof(data), &info));
	CHECK_EQ(info.max_pasid_log2, KABI_MOCK_PASID_WIDTH);
	args.dev_id = f.dev.idev_id;
	args.pt_id = f.ioas;
	CHECK_OK(iommufd_hwpt_alloc(f.fd, &args, &rid_hwpt));
	remember(&f, rid_hwpt);
	CHECK_OK(iommufd_hwpt_alloc(f.fd, &args, &pasid_a));
	remember(&f, pasid_a);
	CHECK_OK(iommufd_hwpt_alloc(f.fd, &args, &pasid_b));
	remember(&f, pasid_b);
	/* The RID must sit on a PASID-capable domain first. */
	pt = rid_hwpt;
	CHECK_OK(mock_device_replace(f.fd, f.dev.stdev_id, &pt));
	pt = pasid_a;
	CHECK_OK(mock_pasid_attach(f.fd, f.dev.stdev_id, pasid, &pt));
	CHECK_OK(mock_pasid_check_hwpt(f.fd, f.dev.stdev_id, pasid, pasid_a));
	pt = pasid_b;
	CHECK_OK(mock_pasid_replace(f.fd, f.dev.stdev_id, pasid, &pt));
	CHECK_OK(mock_pasid_check_hwpt(f.fd, f.dev.stdev_id, pasid, pasid_b));
	CHECK_RET(mock_pasid_check_hwpt(f.fd, f.dev.stdev_id, pasid, pasid_a), -EINVAL);
	/* The mock fails the replace that follows an attach of PASID 1024: the
	 * old domain must then stay in place. */
	pt = pasid_a;
	CHECK_OK(mock_pasid_attach(f.fd, f.dev.stdev_id, KABI_IOMMU_TEST_PASID_RESERVED, &pt));
	pt = pasid_b;
	CHECK_RET(mock_pasid_replace(f.fd, f.dev.stdev_id, KABI_IOMMU_TEST_PASID_RESERVED, &pt),
		  -ENOMEM);
	CHECK_OK(mock_pasid_check_hwpt(f.fd, f.dev.stdev_id, KABI_IOMMU_TEST_PASID_RESERVED,
				       pasid_a));
	CHECK_RET(iommufd_destroy(f.fd, pasid_a), -EBUSY);
	CHECK_OK(mock_pasid_detach(f.fd, f.dev.stdev_id, KABI_IOMMU_TEST_PASID_RESERVED));
	CHECK_RET(iommufd_destroy(f.fd, pasid_b), -EBUSY);
	CHECK_OK(mock_pasid_detach(f.fd, f.dev.stdev_id, pasid));
	CHECK_OK(mock_pasid_check_hwpt(f.fd, f.dev.stdev_id, pasid, 0));
	pt = f.ioas;
	CHECK_OK(mock_device_replace(f.fd, f.dev.stdev_id, &pt));
	f.dev.hwpt_id = pt;
	fixture_teardown(&f);
}

static void test_bad_input(void)
{
	struct iommufd_hwpt_alloc_args hwpt = { 0 };
	struct iommufd_viommu_alloc_args viommu = { .type = KABI_IOMMU_VIOMMU_TYPE_SELFTEST };
	struct fixture f;
	struct nest n;
	uint32_t id, count = 1;
	uint64_t iova = IOVA_BASE;
	int devnull;

	fixture_setup(&f, 0);
	/* IDs that do not exist, or are of the wrong kind. */
	CHECK_RET(iommufd_destroy(f.fd, 0), -ENOENT);
	CHECK_RET(iommufd_destroy(f.fd, 0xfffffff0), -ENOENT);
	CHECK_RET(iommufd_ioas_map(f.fd, 0xfffffff0, KABI_IOMMU_IOAS_MAP_READABLE, f.buf, 4096,
				   &iova), -ENOENT);
	CHECK_RET(iommufd_ioas_map(f.fd, f.dev.idev_id, KABI_IOMMU_IOAS_MAP_READABLE, f.buf, 4096,
				   &iova), -ENOENT);
	/* Sizes: zero, unaligned, wrapping. */
	CHECK_RET(iommufd_ioas_map(f.fd, f.ioas, KABI_IOMMU_IOAS_MAP_READABLE, f.buf, 0, &iova),
		  -EINVAL);
	iova = IOVA_BASE + 1;
	CHECK_RET(iommufd_ioas_map(f.fd, f.ioas, KABI_IOMMU_IOAS_MAP_FIXED_IOVA |
				   KABI_IOMMU_IOAS_MAP_READABLE, f.buf, 4096, &iova), -EINVAL);
	iova = UINT64_MAX - 4095;
	CHECK_RET(iommufd_ioas_map(f.fd, f.ioas, KABI_IOMMU_IOAS_MAP_FIXED_IOVA |
				   KABI_IOMMU_IOAS_MAP_READABLE, f.buf, 8192, &iova), -EOVERFLOW);
	/* Flags the kernel does not know; a map with neither read nor write. */
	iova = IOVA_BASE;
	CHECK_RET(iommufd_ioas_map(f.fd, f.ioas, 1u << 30, f.buf, 4096, &iova), -EOPNOTSUPP);
	CHECK_RET(iommufd_ioas_map(f.fd, f.ioas, KABI_IOMMU_IOAS_MAP_FIXED_IOVA, f.buf, 4096,
				   &iova), -EINVAL);
	/* Our own argument checks, before the kernel. */
	CHECK_RET(iommufd_ioas_map(f.fd, f.ioas, 0, f.buf, 4096, NULL), -EINVAL);
	CHECK_RET(iommufd_ioas_alloc(f.fd, NULL), -EINVAL);
	CHECK_RET(iommufd_hwpt_invalidate(f.fd, f.ioas, 0, NULL, 16, &count), -EINVAL);
	CHECK_RET(iommufd_destroy(-1, f.ioas), -EBADF);
	hwpt.flags = KABI_IOMMU_HWPT_FAULT_ID_VALID;
	CHECK_RET(iommufd_hwpt_alloc(f.fd, &hwpt, &id), -EINVAL);
	/* Data types and flags the mock does not take. */
	hwpt = (struct iommufd_hwpt_alloc_args){ .dev_id = f.dev.idev_id, .pt_id = f.ioas,
						 .flags = 1u << 20 };
	CHECK_RET(iommufd_hwpt_alloc(f.fd, &hwpt, &id), -EOPNOTSUPP);
	nest_setup(&f, &n, 0);
	hwpt = (struct iommufd_hwpt_alloc_args){ .dev_id = f.dev.idev_id, .pt_id = n.viommu,
						 .data_type = KABI_IOMMU_HWPT_DATA_VTD_S1,
						 .data = &nested_data,
						 .data_len = sizeof(nested_data) };
	CHECK_RET(iommufd_hwpt_alloc(f.fd, &hwpt, &id), -EOPNOTSUPP);
	/* A nested domain needs data. */
	hwpt.data_type = KABI_IOMMU_HWPT_DATA_NONE;
	hwpt.data = NULL;
	hwpt.data_len = 0;
	CHECK_RET(iommufd_hwpt_alloc(f.fd, &hwpt, &id), -EOPNOTSUPP);
	viommu.dev_id = f.dev.idev_id;
	viommu.hwpt_id = f.dev.hwpt_id; /* not a nesting parent */
	CHECK_RET(iommufd_viommu_alloc(f.fd, &viommu, &id), -EINVAL);
	viommu.hwpt_id = n.parent;
	viommu.type = 0x1234;
	CHECK_RET(iommufd_viommu_alloc(f.fd, &viommu, &id), -EOPNOTSUPP);
	/* The same device twice on one vIOMMU; a virtual ID for a foreign vIOMMU. */
	CHECK_RET(iommufd_vdevice_alloc(f.fd, n.viommu, f.dev.idev_id, VIRT_ID + 1, &id), -EEXIST);
	CHECK_RET(iommufd_vdevice_alloc(f.fd, 0xfffffff0, f.dev.idev_id, 1, &id), -ENOENT);
	/* Invalidation with an entry length the kernel cannot take. */
	count = 1;
	CHECK_RET(iommufd_hwpt_invalidate(f.fd, n.nested, KABI_IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					  &nested_data, 65536, &count), -EINVAL);
	CHECK_EQ(count, 0);
	CHECK_RET(iommufd_hw_queue_alloc(f.fd, n.viommu, KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 0,
					 UINT64_MAX, 4096, &id), -EOVERFLOW);
	CHECK_RET(iommufd_hw_queue_alloc(f.fd, n.viommu, KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 0,
					 IOVA_BASE, 0, &id), -EINVAL);
	/* Not an iommufd at all. */
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(devnull >= 0);
	CHECK_RET(iommufd_ioas_alloc(devnull, &id), -ENOTTY);
	count = 3;
	CHECK_RET(iommufd_hwpt_invalidate(devnull, 1, 0, &nested_data, 8, &count), -ENOTTY);
	CHECK_EQ(count, 0);
	CHECK(close(devnull) == 0);
	CHECK_RET(iommufd_fault_queue_alloc(f.fd, &id, NULL), -EINVAL);
	fixture_teardown(&f);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_iova_ranges),
		CHECK_CASE(test_map_unmap),
		CHECK_CASE(test_map_file),
		CHECK_CASE(test_copy_and_allow),
		CHECK_CASE(test_options_and_change_process),
		CHECK_CASE(test_hw_info),
		CHECK_CASE(test_nesting_and_invalidate),
		CHECK_CASE(test_veventq),
		CHECK_CASE(test_fault_queue),
		CHECK_CASE(test_hw_queue),
		CHECK_CASE(test_dirty_tracking),
		CHECK_CASE(test_pasid),
		CHECK_CASE(test_bad_input),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
