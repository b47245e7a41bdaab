/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dirty tracking, virtual event queues (relayed and handed out) and hardware
 * queues through the daemon, on the selftest mock IOMMU, each proven against
 * the kernel: dirty bits set by the mock read back through ReadDirtyBitmap,
 * vEVENTs triggered in the kernel arriving as Event signals or on the fd, HW
 * queues pinning their memory until they go. Needs "fast_path_users": [0]
 * (the test drives the mock through the VM's own iommufd).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "iommufd.h"
#include "selftest.h"

#define IOVA (16ull << 20)
#define MEM_SIZE (256 * 1024ull)
#define VIRT_ID 0x42

static struct vc c;

struct vm_setup {
	char *vm, *viommu, *domain, *dev;
	int memfd;
	uint8_t *mem;
	int iommufd;
	uint32_t dev_id, ioas_id, parent_id;
};

static int make_memfd(uint64_t size, uint8_t **view)
{
	int fd = memfd_create("guest-ram", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)size) == 0 && fallocate(fd, 0, 0, (off_t)size) == 0);
	*view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(*view != MAP_FAILED);
	memset(*view, 0x11, size);
	return fd;
}

/* A memfd for ReadDirtyBitmap: sealed against shrinking, as the daemon needs. */
static int make_bitmap_memfd(uint64_t size, uint8_t **view)
{
	int fd = memfd_create("dirty-bitmap", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)size) == 0 && fallocate(fd, 0, 0, (off_t)size) == 0);
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	*view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(*view != MAP_FAILED);
	return fd;
}

/* The iommufd device ID of the VM's device, from Describe. */
static uint32_t describe_dev_id(const char *vm)
{
	struct json_object *root = vc_describe_json(&c), *v, *devs;
	uint32_t id;

	CHECK(root);
	v = vc_json_by_path(root, "vms", vm);
	CHECK(v);
	CHECK(json_object_object_get_ex(v, "devices", &devs));
	CHECK(json_object_array_length(devs) >= 1);
	id = (uint32_t)vc_json_u64(json_object_array_get_idx(devs, 0), "dev_id");
	json_object_put(root);
	return id;
}

static void setup(struct vm_setup *s, const char *name, bool dirty)
{
	sd_bus_message *reply = NULL;

	memset(s, 0, sizeof(*s));
	CHECK_DBUS_OK(&c, vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}", name, 1,
				  "dirty-tracking", "b", dirty));
	const char *path;
	CHECK(sd_bus_message_read(reply, "o", &path) > 0);
	s->vm = strdup(path);
	sd_bus_message_unref(reply);
	s->dev = vc_find_device(&c, "selftest0");
	CHECK(s->dev);
	CHECK_DBUS_OK(&c, vc_attach_device(&c, s->vm, s->dev));
	CHECK_DBUS_OK(&c, vc_get_fd(&c, s->vm, NULL, &s->iommufd));
	CHECK_DBUS_OK(&c, vc_get_u32(&c, s->vm, VC_VM, "IoasId", &s->ioas_id));
	CHECK_DBUS_OK(&c, vc_get_u32(&c, s->vm, VC_VM, "ParentId", &s->parent_id));
	s->dev_id = describe_dev_id(s->vm);
	s->memfd = -1;
}

static void teardown(struct vm_setup *s)
{
	CHECK_DBUS_OK(&c, vc_destroy(&c, s->vm, VC_VM));
	if (s->mem) {
		/* Every pin the VM held is gone with it. */
		CHECK_OK(mock_check_refs(s->iommufd, s->mem, MEM_SIZE, 0));
		CHECK(munmap(s->mem, MEM_SIZE) == 0);
		CHECK(close(s->memfd) == 0);
	}
	CHECK(close(s->iommufd) == 0);
	free(s->vm);
	free(s->viommu);
	free(s->domain);
	free(s->dev);
}

static void test_connect(void)
{
	CHECK_OK(vc_connect(&c, NULL));
}

static void test_dirty_tracking(void)
{
	uint64_t set = 0x8000000000000005ull, dirty = 0, *bitmap;
	struct vm_setup s;
	bool enabled = true;
	int bitmap_fd;
	uint8_t *view;

	setup(&s, "dirty", true);
	/* One IOPTE per page, so that contiguous pages keep their own dirty bit. */
	CHECK_OK(iommufd_option_set(s.iommufd, KABI_IOMMU_OPTION_HUGE_PAGES, s.ioas_id, 0));
	s.memfd = make_memfd(MEM_SIZE, &s.mem);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, s.vm, s.memfd, 0, MEM_SIZE, IOVA, 6));
	CHECK_DBUS_OK(&c, vc_get_bool(&c, s.vm, VC_VM, "DirtyTrackingEnabled", &enabled));
	CHECK(!enabled);
	CHECK_DBUS_OK(&c, vc_call(&c, s.vm, VC_VM, "SetDirtyTracking", NULL, "b", 1));
	CHECK_DBUS_OK(&c, vc_get_bool(&c, s.vm, VC_VM, "DirtyTrackingEnabled", &enabled));
	CHECK(enabled);
	/* The mock IOMMU marks three pages dirty, as a device's writes would. */
	CHECK_OK(mock_set_dirty(s.iommufd, s.parent_id, IOVA, 64 * 4096, 4096, &set, NULL));

	bitmap_fd = make_bitmap_memfd(4096, &view);
	bitmap = (uint64_t *)view;
	for (int pass = 0; pass < 3; pass++) {
		uint32_t flags = pass == 0 ? KABI_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR : 0;
		sd_bus_message *reply = NULL;

		CHECK_DBUS_OK(&c, vc_call(&c, s.vm, VC_VM, "ReadDirtyBitmap", &reply, "ttthu", IOVA,
					  64 * 4096ull, 4096ull, bitmap_fd, flags));
		CHECK(sd_bus_message_read(reply, "t", &dirty) > 0);
		sd_bus_message_unref(reply);
		/* NO_CLEAR leaves them for the next read; a plain read clears them. */
		CHECK_EQ(dirty, pass < 2 ? 3 : 0);
		CHECK_EQ(bitmap[0], pass < 2 ? set : 0);
	}
	/* Bad input: unknown flags, an unmapped range, a page size that is no power of two. */
	CHECK_DBUS_ERROR(&c, vc_call(&c, s.vm, VC_VM, "ReadDirtyBitmap", NULL, "ttthu", IOVA,
				     4096ull, 4096ull, bitmap_fd, 2u), VC_ERR_INVALID);
	CHECK_DBUS_ERROR(&c, vc_call(&c, s.vm, VC_VM, "ReadDirtyBitmap", NULL, "ttthu",
				     IOVA + MEM_SIZE, 4096ull, 4096ull, bitmap_fd, 0u),
			 VC_ERR_INVALID);
	CHECK_DBUS_ERROR(&c, vc_call(&c, s.vm, VC_VM, "ReadDirtyBitmap", NULL, "ttthu", IOVA,
				     12288ull, 12288ull, bitmap_fd, 0u), VC_ERR_INVALID);
	/* Hostile bitmap fds: the daemon maps the bitmap on its loop, so a file
	 * the caller can shrink meanwhile (SIGBUS) or a FUSE file that never
	 * answers would take every tenant down. Only a shrink-sealed memfd goes. */
	{
		uint8_t *plain_view;
		int plain = make_memfd(4096, &plain_view), tmp;
		char path[] = "/tmp/viommu-bitmap-XXXXXX";

		CHECK_DBUS_ERROR(&c, vc_call(&c, s.vm, VC_VM, "ReadDirtyBitmap", NULL, "ttthu",
					     IOVA, 4096ull, 4096ull, plain, 0u), VC_ERR_INVALID);
		CHECK(strstr(vc_error_message(&c), "F_SEAL_SHRINK"));
		CHECK(munmap(plain_view, 4096) == 0);
		close(plain);
		tmp = mkstemp(path);
		CHECK(tmp >= 0 && ftruncate(tmp, 4096) == 0);
		unlink(path);
		CHECK_DBUS_ERROR(&c, vc_call(&c, s.vm, VC_VM, "ReadDirtyBitmap", NULL, "ttthu",
					     IOVA, 4096ull, 4096ull, tmp, 0u), VC_ERR_INVALID);
		close(tmp);
		/* What the seal buys: the caller cannot shrink it under the daemon. */
		CHECK(ftruncate(bitmap_fd, 0) < 0 && errno == EPERM);
	}
	CHECK_DBUS_OK(&c, vc_call(&c, s.vm, VC_VM, "SetDirtyTracking", NULL, "b", 0));
	CHECK(munmap(view, 4096) == 0);
	CHECK(close(bitmap_fd) == 0);
	teardown(&s);

	/* A VM made without it cannot switch it on. */
	setup(&s, "clean", false);
	CHECK_DBUS_ERROR(&c, vc_call(&c, s.vm, VC_VM, "SetDirtyTracking", NULL, "b", 1),
			 VC_ERR_NOT_SUPPORTED);
	teardown(&s);
}

/* A vIOMMU with the device's vDEVICE and a nested domain, the device not yet on it. */
static void nest(struct vm_setup *s)
{
	static const uint32_t data[2] = { 0xbadbeef, 0 };
	char *vdev = NULL;

	CHECK_DBUS_OK(&c, vc_create_viommu(&c, s->vm, "auto", &s->viommu));
	CHECK_DBUS_OK(&c, vc_add_device(&c, s->viommu, s->dev, VIRT_ID, &vdev));
	free(vdev);
	CHECK_DBUS_OK(&c, vc_alloc_domain(&c, s->viommu, VC_VIOMMU, KABI_IOMMU_HWPT_DATA_SELFTEST,
					  data, sizeof(data), &s->domain));
}

struct events_seen {
	int count;
	uint64_t virt_id[4];
	uint32_t seq[4];
	uint32_t type[4];
	size_t len[4];
};

static int on_event(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct events_seen *seen = userdata;
	const void *data;
	size_t len;
	int i = seen->count;

	if (i >= 4)
		return 0;
	if (sd_bus_message_read(m, "tu", &seen->virt_id[i], &seen->type[i]) < 0 ||
	    sd_bus_message_read_array(m, 'y', &data, &len) < 0 ||
	    sd_bus_message_read(m, "u", &seen->seq[i]) < 0)
		return 0;
	seen->len[i] = len;
	seen->count++;
	return 0;
}

static void test_event_relay(void)
{
	struct events_seen seen = { 0 };
	struct timespec start, now;
	sd_bus_slot *slot = NULL;
	struct vm_setup s;
	uint64_t counted = 0, relayed = 0;
	int efd;

	setup(&s, "events", false);
	nest(&s);
	CHECK(sd_bus_match_signal(c.bus, &slot, NULL, s.viommu, VC_VIOMMU, "Event", on_event,
				  &seen) >= 0);
	CHECK_DBUS_ERROR(&c, vc_call(&c, s.viommu, VC_VIOMMU, "OpenEventQueue", NULL, "uua{sv}",
				     0x1234u, 4u, 0), VC_ERR_INVALID);
	CHECK_DBUS_ERROR(&c, vc_call(&c, s.viommu, VC_VIOMMU, "OpenEventQueue", NULL, "uua{sv}",
				     KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 0u, 0), VC_ERR_INVALID);
	CHECK_DBUS_OK(&c, vc_open_event_queue(&c, s.viommu, KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 4,
					      true, &efd));
	/* One queue per type per vIOMMU. */
	CHECK_DBUS_ERROR(&c, vc_call(&c, s.viommu, VC_VIOMMU, "OpenEventQueue", NULL, "uua{sv}",
				     KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 4u, 0), VC_ERR_BUSY);
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, s.domain, s.dev));
	CHECK_OK(mock_trigger_vevent(s.iommufd, s.dev_id));
	CHECK_OK(mock_trigger_vevent(s.iommufd, s.dev_id));
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		int r = sd_bus_process(c.bus, NULL);

		CHECK(r >= 0);
		if (r == 0)
			sd_bus_wait(c.bus, 100 * 1000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (seen.count < 2 && now.tv_sec - start.tv_sec < 10);
	CHECK_EQ(seen.count, 2);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(seen.virt_id[i], VIRT_ID);
		CHECK_EQ(seen.type[i], KABI_IOMMU_VEVENTQ_TYPE_SELFTEST);
		CHECK_EQ(seen.len[i], sizeof(struct kabi_iommu_viommu_event_selftest));
	}
	CHECK_EQ(seen.seq[1], seen.seq[0] + 1);
	CHECK_EQ(read(efd, &counted, sizeof(counted)), sizeof(counted));
	CHECK_EQ(counted, 2);
	CHECK_DBUS_OK(&c, vc_get_u64(&c, s.viommu, VC_VIOMMU, "EventsRelayed", &relayed));
	CHECK_EQ(relayed, 2);

	/* Lost events: the daemon stopped, six events into a queue of four. The
	 * kernel keeps four and marks two lost; the relay counts them. */
	const char *pid_text = getenv("VIOMMUD_PID");
	pid_t daemon = pid_text ? (pid_t)atoi(pid_text) : 0;
	uint64_t lost = 0;

	CHECK(daemon > 0);
	CHECK(kill(daemon, SIGSTOP) == 0);
	for (int i = 0; i < 6; i++)
		CHECK_OK(mock_trigger_vevent(s.iommufd, s.dev_id));
	CHECK(kill(daemon, SIGCONT) == 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		struct timespec ms = { 0, 20 * 1000 * 1000 };

		CHECK_DBUS_OK(&c, vc_get_u64(&c, s.viommu, VC_VIOMMU, "EventsRelayed", &relayed));
		CHECK_DBUS_OK(&c, vc_get_u64(&c, s.viommu, VC_VIOMMU, "EventsLost", &lost));
		nanosleep(&ms, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((relayed < 6 || lost < 2) && now.tv_sec - start.tv_sec < 10);
	CHECK_EQ(relayed, 6);
	CHECK_EQ(lost, 2);
	/* The operator hears of it: the journal's record, here its stderr form. */
	CHECK(vc_daemon_log_has("has lost 2 events"));
	sd_bus_slot_unref(slot);
	CHECK(close(efd) == 0);
	teardown(&s);
}

static void test_event_handout(void)
{
	struct {
		struct kabi_iommufd_vevent_header hdr;
		struct kabi_iommu_viommu_event_selftest event;
	} rec;
	struct vm_setup s;
	int qfd;

	setup(&s, "handout", false);
	nest(&s);
	CHECK_DBUS_OK(&c, vc_open_event_queue(&c, s.viommu, KABI_IOMMU_VEVENTQ_TYPE_SELFTEST, 4,
					      false, &qfd));
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, s.domain, s.dev));
	CHECK_OK(mock_trigger_vevent(s.iommufd, s.dev_id));
	/* The fast path: the event is on the fd the VMM holds, not a signal. */
	struct pollfd pfd = { .fd = qfd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 5000) == 1);
	CHECK_EQ(read(qfd, &rec, sizeof(rec)), sizeof(rec));
	CHECK_EQ(rec.hdr.flags, 0);
	CHECK_EQ(rec.event.virt_id, VIRT_ID);
	CHECK(close(qfd) == 0);
	teardown(&s);
}

static void test_hw_queue(void)
{
	sd_bus_message *reply = NULL;
	char *q0 = NULL, *q1 = NULL;
	struct vm_setup s;
	uint64_t unmapped;
	uint32_t kid = 0;
	const char *path;

	setup(&s, "hwq", false);
	nest(&s);
	s.memfd = make_memfd(MEM_SIZE, &s.mem);
	CHECK_DBUS_OK(&c, vc_map_memory(&c, s.vm, s.memfd, 0, MEM_SIZE, IOVA, 6));
	/* Bad input first: wrong type, index out of order, memory not mapped. */
	CHECK_DBUS_ERROR(&c, vc_call(&c, s.viommu, VC_VIOMMU, "AllocHwQueue", NULL, "uutt",
				     0x77u, 0u, IOVA, 4096ull), VC_ERR_INVALID);
	CHECK_DBUS_ERROR(&c, vc_call(&c, s.viommu, VC_VIOMMU, "AllocHwQueue", NULL, "uutt",
				     KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 1u, IOVA, 4096ull),
			 VC_ERR_INVALID);
	CHECK_DBUS_ERROR(&c, vc_call(&c, s.viommu, VC_VIOMMU, "AllocHwQueue", NULL, "uutt",
				     KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 0u, IOVA + MEM_SIZE, 4096ull),
			 VC_ERR_INVALID);
	CHECK_DBUS_OK(&c, vc_call(&c, s.viommu, VC_VIOMMU, "AllocHwQueue", &reply, "uutt",
				  KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 0u, IOVA, 4096ull));
	CHECK(sd_bus_message_read(reply, "o", &path) > 0);
	q0 = strdup(path);
	sd_bus_message_unref(reply);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, q0, "org.viommu1.HwQueue", "KernelId", &kid));
	CHECK(kid != 0);
	/* The kernel owns the range now: it cannot be unmapped. */
	CHECK_DBUS_ERROR(&c, vc_unmap_memory(&c, s.vm, IOVA, MEM_SIZE, &unmapped), VC_ERR_BUSY);
	CHECK_DBUS_OK(&c, vc_call(&c, s.viommu, VC_VIOMMU, "AllocHwQueue", &reply, "uutt",
				  KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 1u, IOVA + 4096, 4096ull));
	CHECK(sd_bus_message_read(reply, "o", &path) > 0);
	q1 = strdup(path);
	sd_bus_message_unref(reply);
	/* Highest index first; the vIOMMU is busy while they live. */
	CHECK_DBUS_ERROR(&c, vc_destroy(&c, q0, "org.viommu1.HwQueue"), VC_ERR_BUSY);
	CHECK_DBUS_ERROR(&c, vc_destroy(&c, s.viommu, VC_VIOMMU), VC_ERR_BUSY);
	CHECK_DBUS_OK(&c, vc_destroy(&c, q1, "org.viommu1.HwQueue"));
	CHECK_DBUS_OK(&c, vc_destroy(&c, q0, "org.viommu1.HwQueue"));
	CHECK_DBUS_OK(&c, vc_unmap_memory(&c, s.vm, IOVA, MEM_SIZE, &unmapped));
	CHECK_EQ(unmapped, MEM_SIZE);
	/* A queue left to the teardown goes first, in order. */
	CHECK_DBUS_OK(&c, vc_map_memory(&c, s.vm, s.memfd, 0, MEM_SIZE, IOVA, 6));
	CHECK_DBUS_OK(&c, vc_call(&c, s.viommu, VC_VIOMMU, "AllocHwQueue", NULL, "uutt",
				  KABI_IOMMU_HW_QUEUE_TYPE_SELFTEST, 0u, IOVA, 4096ull));
	free(q0);
	free(q1);
	teardown(&s);
}

struct fault_seen {
	int count;
	char device[128];
	uint32_t pasid, grpid, perm, cookie, flags;
	uint64_t addr;
};

static int on_fault(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct fault_seen *f = userdata;
	const char *dev;

	if (sd_bus_message_read(m, "ouuutuu", &dev, &f->pasid, &f->grpid, &f->perm, &f->addr,
				&f->cookie, &f->flags) < 0)
		return 0;
	snprintf(f->device, sizeof(f->device), "%s", dev);
	f->count++;
	return 0;
}

/* Viommu.AllocDomain with the selftest data and a "fault-queue" option. */
static int alloc_fault_domain(const char *viommu, const char *fq, char **out)
{
	static const uint32_t data[2] = { 0xbadbeef, 0 };
	sd_bus_message *m = NULL, *reply = NULL;
	const char *path;
	int r;

	sd_bus_error_free(&c.error);
	r = sd_bus_message_new_method_call(c.bus, &m, c.destination, viommu, VC_VIOMMU,
					   "AllocDomain");
	if (r >= 0)
		r = sd_bus_message_append(m, "u", KABI_IOMMU_HWPT_DATA_SELFTEST);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', data, sizeof(data));
	if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 1, "fault-queue", "o", fq);
	if (r >= 0)
		r = sd_bus_call(c.bus, m, 0, &c.error, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0)
		*out = strdup(path);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

/* A fault queue, a fault-capable nested domain against it, the device on it. */
static char *fault_setup(struct vm_setup *s, bool relay, int *out_fd)
{
	sd_bus_message *reply = NULL;
	const char *path;
	char *fq, *vdev = NULL;
	int fd;

	CHECK_DBUS_OK(&c, vc_create_viommu(&c, s->vm, "auto", &s->viommu));
	CHECK_DBUS_OK(&c, vc_add_device(&c, s->viommu, s->dev, VIRT_ID, &vdev));
	free(vdev);
	if (relay)
		CHECK_DBUS_OK(&c, vc_call(&c, s->vm, VC_VM, "OpenFaultQueue", &reply, "a{sv}", 1,
					  "relay", "b", 1));
	else
		CHECK_DBUS_OK(&c, vc_call(&c, s->vm, VC_VM, "OpenFaultQueue", &reply, "a{sv}", 0));
	CHECK(sd_bus_message_read(reply, "oh", &path, &fd) > 0);
	fq = strdup(path);
	*out_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	sd_bus_message_unref(reply);
	CHECK(*out_fd >= 0);
	/* An unknown fault queue is named. */
	CHECK_DBUS_ERROR(&c, alloc_fault_domain(s->viommu, "/org/viommu1/vm/999/faultqueue/1",
						&s->domain),
			 VC_ERR_NOT_FOUND);
	CHECK_DBUS_OK(&c, alloc_fault_domain(s->viommu, fq, &s->domain));
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, s->domain, s->dev));
	return fq;
}

static void test_fault_relay(void)
{
	struct fault_seen f = { 0 };
	struct timespec start, now;
	sd_bus_slot *slot = NULL;
	struct vm_setup s;
	uint32_t pending = 9;
	uint64_t counted = 0;
	char *fq;
	int efd;

	setup(&s, "faults", false);
	fq = fault_setup(&s, true, &efd);
	CHECK(sd_bus_match_signal(c.bus, &slot, NULL, fq, "org.viommu1.FaultQueue", "Fault",
				  on_fault, &f) >= 0);
	CHECK_OK(mock_trigger_iopf(s.iommufd, s.dev_id, 0x100, 7, KABI_IOMMU_PGFAULT_PERM_READ,
				   0xdead000));
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		int r = sd_bus_process(c.bus, NULL);

		CHECK(r >= 0);
		if (r == 0)
			sd_bus_wait(c.bus, 100 * 1000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (f.count < 1 && now.tv_sec - start.tv_sec < 10);
	CHECK_EQ(f.count, 1);
	CHECK_STREQ(f.device, s.dev);
	CHECK_EQ(f.pasid, 0x100);
	CHECK_EQ(f.grpid, 7);
	CHECK_EQ(f.addr, 0xdead000);
	CHECK(f.flags & KABI_IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	CHECK_EQ(read(efd, &counted, sizeof(counted)), sizeof(counted));
	CHECK_EQ(counted, 1);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, fq, "org.viommu1.FaultQueue", "Pending", &pending));
	CHECK_EQ(pending, 1);
	CHECK_DBUS_ERROR(&c, vc_call(&c, fq, "org.viommu1.FaultQueue", "RespondFault", NULL, "uu",
				     f.cookie, 7u), VC_ERR_INVALID);
	CHECK_DBUS_OK(&c, vc_call(&c, fq, "org.viommu1.FaultQueue", "RespondFault", NULL, "uu",
				  f.cookie, KABI_IOMMUFD_PAGE_RESP_SUCCESS));
	CHECK_DBUS_OK(&c, vc_get_u32(&c, fq, "org.viommu1.FaultQueue", "Pending", &pending));
	CHECK_EQ(pending, 0);
	CHECK_DBUS_ERROR(&c, vc_call(&c, fq, "org.viommu1.FaultQueue", "RespondFault", NULL, "uu",
				     f.cookie, KABI_IOMMUFD_PAGE_RESP_SUCCESS), VC_ERR_NOT_FOUND);
	/* The domain holds its fault queue. */
	CHECK_DBUS_ERROR(&c, vc_destroy(&c, fq, "org.viommu1.FaultQueue"), VC_ERR_BUSY);
	/* A fault left unanswered: the teardown answers it, and the daemon goes on. */
	CHECK_OK(mock_trigger_iopf(s.iommufd, s.dev_id, 0x100, 8, KABI_IOMMU_PGFAULT_PERM_READ,
				   0xbeef000));
	sd_bus_slot_unref(slot);
	CHECK(close(efd) == 0);
	free(fq);
	teardown(&s);
	CHECK(vc_alive(&c));
}

static void test_fault_handout(void)
{
	struct kabi_iommu_hwpt_pgfault fault;
	struct kabi_iommu_hwpt_page_response resp;
	struct vm_setup s;
	char *fq;
	int fd;

	setup(&s, "faultfd", false);
	fq = fault_setup(&s, false, &fd);
	CHECK_OK(mock_trigger_iopf(s.iommufd, s.dev_id, 0x200, 3, KABI_IOMMU_PGFAULT_PERM_WRITE,
				   0xcafe000));
	/* The fast path: the fault is on the VMM's fd, answered there. */
	CHECK_EQ(read(fd, &fault, sizeof(fault)), sizeof(fault));
	CHECK_EQ(fault.pasid, 0x200);
	CHECK_EQ(fault.addr, 0xcafe000);
	resp.cookie = fault.cookie;
	resp.code = KABI_IOMMUFD_PAGE_RESP_SUCCESS;
	CHECK_EQ(write(fd, &resp, sizeof(resp)), sizeof(resp));
	CHECK(close(fd) == 0);
	free(fq);
	teardown(&s);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_connect),
		CHECK_CASE(test_dirty_tracking),
		CHECK_CASE(test_event_relay),
		CHECK_CASE(test_event_handout),
		CHECK_CASE(test_hw_queue),
		CHECK_CASE(test_fault_relay),
		CHECK_CASE(test_fault_handout),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
