/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libviommu without a daemon: device names to paths, arguments refused
 * before any I/O, connection failures that leave nothing behind, and the
 * error and fd contract, against a fake peer (sd-bus server in a thread)
 * that counts the calls it gets and records the last method call (not a
 * property read) with its arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#include <viommu/viommu.h>

#include "check.h"

struct fake {
	char dir[64];
	char path[108];
	int listen_fd;
	pthread_t thread;
	atomic_bool stop;
	atomic_int calls;
	pthread_mutex_t lock; /* over last: written by the fake's thread */
	char last[1024];
};

static struct fake fake = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The arguments read from m, space-separated: [] for arrays, () structs, {} dict entries. */
static int dump_args(sd_bus_message *m, FILE *f)
{
	const char *contents;
	bool first = true;
	char type;
	int r;

	while ((r = sd_bus_message_peek_type(m, &type, &contents)) > 0) {
		union {
			uint8_t y;
			int b, h;
			uint32_t u;
			int32_t i;
			uint64_t t;
			int64_t x;
			const char *s;
		} v;

		if (!first)
			fputc(' ', f);
		first = false;
		if (type == 'a' || type == 'r' || type == 'e' || type == 'v') {
			/* A variant shows its value alone. */
			const char *marks = type == 'a' ? "[]" :
					    type == 'r' ? "()" :
					    type == 'e' ? "{}" :
							  "";

			r = sd_bus_message_enter_container(m, type, contents);
			if (r >= 0) {
				fprintf(f, "%.1s", marks);
				r = dump_args(m, f);
				fprintf(f, "%s", *marks ? marks + 1 : "");
			}
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
			if (r < 0)
				return r;
			continue;
		}
		r = sd_bus_message_read_basic(m, type, &v);
		if (r < 0)
			return r;
		switch (type) {
		case 'y':
			fprintf(f, "%u", v.y);
			break;
		case 'b':
			fprintf(f, "%s", v.b ? "true" : "false");
			break;
		case 'h':
			fprintf(f, "fd");
			break;
		case 'u':
			fprintf(f, "%" PRIu32, v.u);
			break;
		case 'i':
			fprintf(f, "%" PRId32, v.i);
			break;
		case 't':
			fprintf(f, "%" PRIu64, v.t);
			break;
		case 'x':
			fprintf(f, "%" PRId64, v.x);
			break;
		case 's':
		case 'o':
		case 'g':
			fprintf(f, "%s", v.s);
			break;
		default:
			fprintf(f, "?%c", type);
		}
	}
	return r;
}

/* Keeps "interface.Member path args" of a method call in fake.last. */
static void record(sd_bus_message *m)
{
	const char *iface;
	char *args = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&args, &size);

	if (!f)
		return;
	if (dump_args(m, f) < 0)
		fprintf(f, " (unreadable)");
	fclose(f);
	iface = sd_bus_message_get_interface(m);
	pthread_mutex_lock(&fake.lock);
	snprintf(fake.last, sizeof(fake.last), "%s.%s %s%s%s", iface ? iface : "(none)",
		 sd_bus_message_get_member(m), sd_bus_message_get_path(m), *args ? " " : "", args);
	pthread_mutex_unlock(&fake.lock);
	free(args);
	sd_bus_message_rewind(m, 1);
}

/* The last method call the fake got, as record() keeps it. */
#define CHECK_LAST(expected)                              \
	do {                                              \
		char last_[sizeof(fake.last)];            \
		pthread_mutex_lock(&fake.lock);           \
		memcpy(last_, fake.last, sizeof(last_));  \
		pthread_mutex_unlock(&fake.lock);         \
		CHECK_STREQ(last_, expected);             \
	} while (0)

/* A number an object's KernelId reads as: its last path component + 100. */
static uint32_t fake_kernel_id(const char *path)
{
	const char *slash = strrchr(path, '/');

	return (uint32_t)strtoul(slash ? slash + 1 : path, NULL, 10) + 100;
}

static int reply_property(sd_bus_message *m)
{
	const char *iface, *prop;
	sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_read(m, "ss", &iface, &prop);
	if (r < 0)
		return r;
	if (strcmp(prop, "Version") == 0)
		return sd_bus_reply_method_return(m, "v", "s", "fake-1");
	if (strcmp(prop, "KernelId") == 0)
		return sd_bus_reply_method_return(m, "v", "u",
						  fake_kernel_id(sd_bus_message_get_path(m)));
	if (strcmp(prop, "IovaRanges") != 0)
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_PROPERTY, "no %s", prop);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "v", "a(tt)", 3, 0x1000000ull, 0x1ffffffull,
					  0x4000000ull, 0x4ffffffull, 0x8000000ull, ~0ull);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

/* Calls answered with an empty reply; a Destroy only on a queue. */
static bool fake_void(const char *member, const char *path)
{
	static const char *const members[] = {
		"AllowIovas", "AttachDevices", "SetDirtyTracking", "Claim",
		"RespondFault", "BindVfio", "UnbindVfio", "ReleaseOrphan",
	};

	if (strcmp(member, "Destroy") == 0)
		return strstr(path, "/hwqueue/") || strstr(path, "/faultqueue/");
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		if (strcmp(member, members[i]) == 0)
			return true;
	return false;
}

/* A reply with a copy of /dev/null in place of each "h" of types. */
static int reply_with_fd(sd_bus_message *m, const char *types, const char *path)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), r;

	r = strcmp(types, "oh") == 0 ? sd_bus_reply_method_return(m, types, path, fd) :
				       sd_bus_reply_method_return(m, types, fd);
	close(fd);
	return r;
}

/* Every method call lands here: a few have canned answers, the rest are Busy. */
static int fake_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *member = sd_bus_message_get_member(m);
	const char *path = sd_bus_message_get_path(m), *name = NULL;
	int r = 1;

	if (!sd_bus_message_is_method_call(m, NULL, NULL))
		return 0;
	fake.calls++;
	if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", NULL))
		record(m);
	if (strcmp(path, "/org/viommu1/vm/2") == 0)
		r = sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_OBJECT, "no such VM");
	else if (strcmp(member, "ReleaseOrphan") == 0 && sd_bus_message_read(m, "s", &name) > 0 &&
		 strcmp(name, "gone") == 0)
		r = sd_bus_reply_method_errorf(m, "org.viommu1.Error.NotFound", "no orphan %s",
					       name);
	else if (strcmp(member, "NestDevices") == 0)
		r = sd_bus_reply_method_return(m, "a(oo)", 2, "/org/viommu1/vm/1/vdevice/2",
					       "/org/viommu1/vm/1/domain/3",
					       "/org/viommu1/vm/1/vdevice/4",
					       "/org/viommu1/vm/1/domain/5");
	else if (fake_void(member, path))
		r = sd_bus_reply_method_return(m, NULL);
	else if (strcmp(member, "CreateViommu") == 0)
		r = sd_bus_reply_method_return(m, "o", "/org/viommu1/vm/1/viommu/1");
	else if (strcmp(member, "AllocHwQueue") == 0)
		r = sd_bus_reply_method_return(m, "o", "/org/viommu1/vm/1/hwqueue/6");
	else if (strcmp(member, "OpenFaultQueue") == 0)
		r = reply_with_fd(m, "oh", "/org/viommu1/vm/1/faultqueue/7");
	else if (strcmp(member, "OpenEventQueue") == 0)
		r = reply_with_fd(m, "h", NULL);
	else if (strcmp(member, "ReadDirtyBitmap") == 0)
		r = sd_bus_reply_method_return(m, "t", UINT64_C(5));
	else if (strcmp(member, "BindVmm") == 0)
		r = sd_bus_reply_method_return(m, "t", UINT64_C(1) << 30);
	else if (strcmp(member, "ListOrphans") == 0)
		r = sd_bus_reply_method_return(m, "a(ss)", 2, "vm7.iommufd", "/dev/iommu",
					       "vm7.eventq.3", "anon_inode:[eventfd]");
	else if (strcmp(member, "CreateVm") == 0)
		r = sd_bus_reply_method_return(m, "o", "/org/viommu1/vm/1");
	else if (strcmp(member, "ListDevices") == 0)
		r = sd_bus_reply_method_return(m, "ao", 2, "/org/viommu1/device/selftest0",
					       "/org/viommu1/device/0000_00_05_0");
	else if (strcmp(member, "ListVms") == 0)
		r = sd_bus_reply_method_return(m, "ao", 0);
	else if (strcmp(member, "Describe") == 0)
		r = sd_bus_reply_method_return(m, "s", "{}");
	else if (strcmp(member, "GetMetrics") == 0)
		r = sd_bus_reply_method_return(m, "s", "# TYPE viommu_vms gauge\nviommu_vms 0\n");
	else if (strcmp(member, "GetIommufd") == 0) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		r = sd_bus_reply_method_return(m, "h", fd);
		close(fd);
	} else if (strcmp(member, "Get") == 0)
		r = reply_property(m);
	else
		r = sd_bus_reply_method_errorf(m, "org.viommu1.Error.Busy", "fake: %s is busy",
					       member);
	return r < 0 ? r : 1;
}

static void *fake_serve(void *arg)
{
	struct pollfd pfd = { .fd = fake.listen_fd, .events = POLLIN };
	sd_bus *bus = NULL;
	sd_id128_t id;
	int fd;

	while (!fake.stop && poll(&pfd, 1, 50) == 0)
		;
	if (fake.stop)
		return NULL;
	fd = accept4(fake.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0 || sd_id128_randomize(&id) < 0 || sd_bus_new(&bus) < 0 ||
	    sd_bus_set_fd(bus, fd, fd) < 0 || sd_bus_set_server(bus, 1, id) < 0 ||
	    sd_bus_negotiate_fds(bus, 1) < 0 ||
	    sd_bus_add_filter(bus, NULL, fake_filter, NULL) < 0 || sd_bus_start(bus) < 0)
		goto out;
	while (!fake.stop) {
		int r = sd_bus_process(bus, NULL);

		if (r < 0)
			break;
		if (r == 0)
			sd_bus_wait(bus, 50 * 1000);
	}
out:
	sd_bus_flush_close_unref(bus);
	return NULL;
}

static void fake_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(fake.dir, sizeof(fake.dir), "/tmp/libviommu-test-XXXXXX");
	CHECK(mkdtemp(fake.dir));
	snprintf(fake.path, sizeof(fake.path), "%s/sock", fake.dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fake.path);
	fake.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fake.listen_fd >= 0);
	CHECK(bind(fake.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(fake.listen_fd, 4) == 0);
	fake.stop = false;
	fake.calls = 0;
	CHECK(pthread_create(&fake.thread, NULL, fake_serve, NULL) == 0);
}

static void fake_stop(void)
{
	fake.stop = true;
	pthread_join(fake.thread, NULL);
	close(fake.listen_fd);
	unlink(fake.path);
	rmdir(fake.dir);
}

static void test_device_path(void)
{
	static const char *const bad[] = {
		"", "a/b", "sel test", "vfio-0", "0000:00:05.0/x", "//", "00:20.0", "00:05.8",
		"/org/viommu1/vm/1", "selftest", "0000:00:05",
		"x1234567890123456789012345678901234567890123456789012345678901234",
	};
	char *path = NULL;

	CHECK_OK(viommu_device_path("0000:00:05.0", &path));
	CHECK_STREQ(path, "/org/viommu1/device/0000_00_05_0");
	free(path);
	CHECK_OK(viommu_device_path("selftest0", &path));
	CHECK_STREQ(path, "/org/viommu1/device/selftest0");
	free(path);
	/* As lspci prints it, and as viommuctl takes it: the same device. */
	CHECK_OK(viommu_device_path("00:05.0", &path));
	CHECK_STREQ(path, "/org/viommu1/device/0000_00_05_0");
	free(path);
	CHECK_OK(viommu_device_path("0000:0A:1F.7", &path));
	CHECK_STREQ(path, "/org/viommu1/device/0000_0a_1f_7");
	free(path);
	CHECK_OK(viommu_device_path("/org/viommu1/device/selftest1", &path));
	CHECK_STREQ(path, "/org/viommu1/device/selftest1");
	free(path);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = (char *)1;
		CHECK_RET(viommu_device_path(bad[i], &path), -EINVAL);
		CHECK(path == NULL);
	}
	CHECK_RET(viommu_device_path(NULL, &path), -EINVAL);
	CHECK_RET(viommu_device_path("selftest0", NULL), -EINVAL);
}

static void test_connect_missing(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct viommu_client *client = (struct viommu_client *)1;
	char dir[] = "/tmp/libviommu-test-XXXXXX";
	int fds = check_count_fds(), s;

	CHECK(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/none", dir);
	CHECK_RET(viommu_client_connect(sa.sun_path, &client), -ENOENT);
	CHECK(client == NULL);

	/* A socket file nobody listens on any more. */
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(s >= 0);
	CHECK(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(s);
	CHECK_RET(viommu_client_connect(sa.sun_path, &client), -ECONNREFUSED);
	CHECK(client == NULL);
	unlink(sa.sun_path);
	rmdir(dir);

	CHECK_RET(viommu_client_connect(NULL, NULL), -EINVAL);
	CHECK_EQ(check_count_fds(), fds);
}

static void test_args_before_io(void)
{
	static const char *const two[] = { "selftest0", "bad name" };
	static const struct viommu_iova_range many[65];
	const struct viommu_iova_range backwards = { .start = 0x2000, .last = 0x1fff };
	struct viommu_nest_device nest = { .device = "selftest0", .virt_id = 1 };
	struct viommu_client *client = NULL;
	struct viommu_vm *vm = NULL;
	struct viommu_orphan *orphans = NULL;
	struct viommu_fault_queue *fault_queue = NULL;
	struct viommu_hw_queue *hw_queue = NULL;
	char *version = NULL;
	int fd = 0;

	fake_start();
	CHECK_OK(viommu_client_connect(fake.path, &client));
	CHECK_OK(viommu_vm_create(client, "guest", NULL, &vm));
	CHECK_STREQ(viommu_vm_path(vm), "/org/viommu1/vm/1");
	CHECK_EQ(fake.calls, 1);

	CHECK_RET(viommu_vm_create(client, "", NULL, &vm), -EINVAL);
	CHECK_RET(viommu_vm_create(NULL, "guest", NULL, &vm), -EINVAL);
	CHECK_RET(viommu_vm_open(client, "not-a-path", &vm), -EINVAL);
	CHECK_RET(viommu_vm_open(client, "/org/viommu1/device/selftest0", &vm), -EINVAL);
	CHECK_RET(viommu_vm_attach(vm, "", NULL), -EINVAL);
	CHECK_RET(viommu_vm_attach(vm, "a/b", NULL), -EINVAL);
	CHECK_RET(viommu_vm_attach(vm, "/bad//path", NULL), -EINVAL);
	CHECK_RET(viommu_vm_attach(NULL, "selftest0", NULL), -EINVAL);
	CHECK_RET(viommu_vm_detach(vm, NULL), -EINVAL);
	CHECK_RET(viommu_vm_get_device_fd(vm, "bad name", &fd), -EINVAL);
	CHECK_RET(viommu_vm_get_iommufd(vm, NULL), -EINVAL);
	CHECK_RET(viommu_vm_map(vm, -1, 0, 4096, 0, VIOMMU_MAP_READABLE), -EINVAL);
	CHECK_RET(viommu_vm_iova_ranges(vm, NULL, NULL), -EINVAL);
	CHECK_RET(viommu_viommu_create(vm, "", NULL, 0, NULL), -EINVAL);
	CHECK_RET(viommu_viommu_create(vm, "auto", NULL, 8, NULL), -EINVAL);
	CHECK_RET(viommu_vm_alloc_domain(vm, 0xdead, NULL, 8, NULL), -EINVAL);
	CHECK_RET(viommu_viommu_invalidate(NULL, 0, 12, NULL, 1, NULL, NULL), -EINVAL);
	CHECK_RET(viommu_domain_attach(NULL, "selftest0"), -EINVAL);
	CHECK_RET(viommu_vdevice_destroy(NULL), -EINVAL);

	CHECK_RET(viommu_list_orphans(NULL, &orphans), -EINVAL);
	CHECK_RET(viommu_list_orphans(client, NULL), -EINVAL);
	CHECK_RET(viommu_get_metrics(NULL, &version), -EINVAL);
	CHECK_RET(viommu_get_metrics(client, NULL), -EINVAL);
	CHECK_RET(viommu_release_orphan(client, ""), -EINVAL);
	CHECK_RET(viommu_release_orphan(client, NULL), -EINVAL);
	CHECK_RET(viommu_release_orphan(NULL, "vm7.iommufd"), -EINVAL);
	CHECK_RET(viommu_device_bind_vfio(client, "bad name"), -EINVAL);
	CHECK_RET(viommu_device_bind_vfio(NULL, "selftest0"), -EINVAL);
	CHECK_RET(viommu_device_unbind_vfio(client, NULL), -EINVAL);
	CHECK_RET(viommu_device_unbind_vfio(client, "/org/viommu1/vm/1"), -EINVAL);
	CHECK_RET(viommu_vm_claim(NULL), -EINVAL);
	CHECK_RET(viommu_vm_bind_vmm(vm, -1, 0, NULL), -EINVAL);
	CHECK_RET(viommu_vm_bind_vmm(NULL, 0, 0, NULL), -EINVAL);
	CHECK_RET(viommu_vm_allow_iovas(vm, NULL, 1), -EINVAL);
	CHECK_RET(viommu_vm_allow_iovas(vm, &backwards, 1), -EINVAL);
	CHECK_RET(viommu_vm_allow_iovas(vm, many, 65), -EINVAL);
	CHECK_RET(viommu_vm_allow_iovas(NULL, NULL, 0), -EINVAL);
	CHECK_RET(viommu_vm_attach_devices(vm, NULL, 1), -EINVAL);
	CHECK_RET(viommu_vm_attach_devices(vm, two, 0), -EINVAL);
	CHECK_RET(viommu_vm_attach_devices(vm, two, 2), -EINVAL);
	CHECK_RET(viommu_vm_attach_devices(vm, two, 1025), -EINVAL);
	CHECK_RET(viommu_vm_attach_devices(NULL, two, 1), -EINVAL);
	CHECK_RET(viommu_vm_set_dirty_tracking(NULL, true), -EINVAL);
	CHECK_RET(viommu_vm_read_dirty_bitmap(vm, 0, 4096, 4096, -1, 0, NULL), -EINVAL);
	CHECK_RET(viommu_vm_read_dirty_bitmap(vm, 0, 0, 4096, fd, 0, NULL), -EINVAL);
	CHECK_RET(viommu_vm_read_dirty_bitmap(vm, 0, 12288, 6144, fd, 0, NULL), -EINVAL);
	CHECK_RET(viommu_vm_read_dirty_bitmap(vm, 0, 4096, 2048, fd, 0, NULL), -EINVAL);
	CHECK_RET(viommu_vm_read_dirty_bitmap(vm, 2048, 4096, 4096, fd, 0, NULL), -EINVAL);
	CHECK_RET(viommu_vm_read_dirty_bitmap(vm, ~0ull << 12, 8192, 4096, fd, 0, NULL), -EINVAL);
	CHECK_RET(viommu_vm_read_dirty_bitmap(NULL, 0, 4096, 4096, fd, 0, NULL), -EINVAL);
	CHECK_RET(viommu_vm_open_fault_queue(vm, false, NULL, &fd), -EINVAL);
	CHECK_RET(viommu_vm_open_fault_queue(vm, false, &fault_queue, NULL), -EINVAL);
	CHECK_RET(viommu_vm_open_fault_queue(NULL, false, &fault_queue, &fd), -EINVAL);
	CHECK_RET(viommu_viommu_nest_devices(NULL, &nest, 1, 0, NULL, 0), -EINVAL);
	CHECK_RET(viommu_viommu_open_event_queue(NULL, 1, 1, false, &fd), -EINVAL);
	CHECK_RET(viommu_viommu_alloc_hw_queue(NULL, 1, 0, 0, 4096, &hw_queue), -EINVAL);
	CHECK_RET(viommu_hw_queue_destroy(NULL), -EINVAL);
	CHECK_RET(viommu_fault_queue_destroy(NULL), -EINVAL);
	CHECK_RET(viommu_fault_queue_respond(NULL, 1, VIOMMU_PAGE_RESP_SUCCESS), -EINVAL);
	CHECK(viommu_hw_queue_path(NULL) == NULL && viommu_hw_queue_kernel_id(NULL) == 0);
	CHECK(viommu_fault_queue_path(NULL) == NULL && viommu_fault_queue_kernel_id(NULL) == 0);
	viommu_orphans_free(NULL);
	viommu_hw_queue_free(NULL);
	viommu_fault_queue_free(NULL);
	CHECK(viommu_client_error_name(client) == NULL);

	/* Nothing of the above reached the peer; the next call does. */
	CHECK_OK(viommu_version(client, &version));
	CHECK_STREQ(version, "fake-1");
	free(version);
	CHECK_EQ(fake.calls, 2);

	viommu_vm_free(vm);
	viommu_client_free(client);
	fake_stop();
}

static void test_daemon_errors(void)
{
	struct viommu_client *client = NULL;
	struct viommu_vm *vm = NULL, *other = NULL;
	struct viommu_iova_range ranges[2];
	size_t count = 2;
	char **paths = NULL, *json = NULL, *version = NULL;
	int fd = -1, fds;

	fake_start();
	fds = check_count_fds();
	CHECK_OK(viommu_client_connect(fake.path, &client));
	CHECK_OK(viommu_vm_create(client, "guest", NULL, &vm));

	/* The daemon's name gives the errno; name and message are kept. */
	CHECK_RET(viommu_vm_attach(vm, "0000:00:05.0", NULL), -EBUSY);
	CHECK_STREQ(viommu_client_error_name(client), "org.viommu1.Error.Busy");
	CHECK_STREQ(viommu_client_error_message(client), "fake: AttachDevice is busy");
	CHECK_OK(viommu_version(client, &version));
	free(version);
	CHECK(viommu_client_error_name(client) == NULL);
	/* A local failure forgets the daemon's last error too. */
	CHECK_RET(viommu_vm_attach(vm, "0000:00:06.0", NULL), -EBUSY);
	CHECK_RET(viommu_vm_attach(vm, "bad/name", NULL), -EINVAL);
	CHECK(viommu_client_error_name(client) == NULL);
	CHECK(viommu_client_error_message(client) == NULL);

	/* An object the caller may not see does not exist. */
	CHECK_RET(viommu_vm_open(client, "/org/viommu1/vm/2", &other), -ENOENT);
	CHECK_STREQ(viommu_client_error_name(client), SD_BUS_ERROR_UNKNOWN_OBJECT);

	CHECK_OK(viommu_list_vms(client, &paths));
	CHECK(paths && paths[0] == NULL);
	viommu_strv_free(paths);
	CHECK_OK(viommu_list_devices(client, &paths));
	CHECK_STREQ(paths[0], "/org/viommu1/device/selftest0");
	CHECK_STREQ(paths[1], "/org/viommu1/device/0000_00_05_0");
	CHECK(paths[2] == NULL);
	viommu_strv_free(paths);
	CHECK_OK(viommu_describe(client, &json));
	CHECK_STREQ(json, "{}");
	free(json);

	CHECK_RET(viommu_vm_iova_ranges(vm, ranges, &count), -EMSGSIZE);
	CHECK_EQ(count, 3);
	CHECK_EQ(ranges[1].start, 0x4000000);
	count = 0;
	CHECK_RET(viommu_vm_iova_ranges(vm, NULL, &count), -EMSGSIZE);
	CHECK_EQ(count, 3);

	/* The fd outlives the reply and is ours, close-on-exec. */
	CHECK_OK(viommu_vm_get_iommufd(vm, &fd));
	CHECK(fd >= 3);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	close(fd);

	CHECK_RET(viommu_vm_destroy(vm), -EBUSY);
	viommu_vm_free(vm);
	viommu_client_free(client);
	fake_stop();
	CHECK_EQ(check_count_fds(), fds - 1);
}

/* Manager and Device calls: what goes on the wire, and what comes back. */
static void test_manager_calls(void)
{
	struct viommu_client *client = NULL;
	struct viommu_orphan *orphans = NULL;
	char *text = NULL;

	fake_start();
	CHECK_OK(viommu_client_connect(fake.path, &client));

	CHECK_OK(viommu_get_metrics(client, &text));
	CHECK_LAST("org.viommu1.Manager.GetMetrics /org/viommu1");
	CHECK_STREQ(text, "# TYPE viommu_vms gauge\nviommu_vms 0\n");
	free(text);

	CHECK_OK(viommu_list_orphans(client, &orphans));
	CHECK_LAST("org.viommu1.Manager.ListOrphans /org/viommu1");
	CHECK_STREQ(orphans[0].name, "vm7.iommufd");
	CHECK_STREQ(orphans[0].target, "/dev/iommu");
	CHECK_STREQ(orphans[1].name, "vm7.eventq.3");
	CHECK_STREQ(orphans[1].target, "anon_inode:[eventfd]");
	CHECK(orphans[2].name == NULL);
	viommu_orphans_free(orphans);
	CHECK_OK(viommu_release_orphan(client, "vm7.iommufd"));
	CHECK_LAST("org.viommu1.Manager.ReleaseOrphan /org/viommu1 vm7.iommufd");
	CHECK_RET(viommu_release_orphan(client, "gone"), -ENOENT);
	CHECK_STREQ(viommu_client_error_name(client), "org.viommu1.Error.NotFound");

	CHECK_OK(viommu_device_bind_vfio(client, "00:05.0"));
	CHECK_LAST("org.viommu1.Device.BindVfio /org/viommu1/device/0000_00_05_0");
	CHECK_OK(viommu_device_unbind_vfio(client, "/org/viommu1/device/0000_00_05_0"));
	CHECK_LAST("org.viommu1.Device.UnbindVfio /org/viommu1/device/0000_00_05_0");

	viommu_client_free(client);
	fake_stop();
}

/* Vm calls beyond the basics, and the fault queue. */
static void test_vm_calls(void)
{
	static const char *const devices[] = { "selftest0", "0000:00:05.0" };
	const struct viommu_iova_range ranges[] = { { 0x1000, 0x1fff }, { 0x100000, 0xffffffff } };
	const struct viommu_vm_options options = { .dirty_tracking = true };
	struct viommu_client *client = NULL;
	struct viommu_vm *vm = NULL;
	struct viommu_fault_queue *fault_queue = NULL;
	uint64_t value = 0;
	int fd = -1, null_fd, fds, calls;

	fake_start();
	fds = check_count_fds();
	CHECK_OK(viommu_client_connect(fake.path, &client));
	CHECK_OK(viommu_vm_create(client, "guest", &options, &vm));
	CHECK_LAST("org.viommu1.Manager.CreateVm /org/viommu1 guest "
		   "[{persist false} {pasid false} {dirty-tracking true}]");

	CHECK_OK(viommu_vm_claim(vm));
	CHECK_LAST("org.viommu1.Vm.Claim /org/viommu1/vm/1");
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(null_fd >= 0);
	CHECK_OK(viommu_vm_bind_vmm(vm, null_fd, 1ull << 20, &value));
	CHECK_LAST("org.viommu1.Vm.BindVmm /org/viommu1/vm/1 fd 1048576");
	CHECK_EQ(value, 1ull << 30);
	CHECK_OK(viommu_vm_allow_iovas(vm, ranges, 2));
	CHECK_LAST("org.viommu1.Vm.AllowIovas /org/viommu1/vm/1 "
		   "[(4096 8191) (1048576 4294967295)]");
	CHECK_OK(viommu_vm_allow_iovas(vm, NULL, 0));
	CHECK_LAST("org.viommu1.Vm.AllowIovas /org/viommu1/vm/1 []");
	CHECK_OK(viommu_vm_attach_devices(vm, devices, 2));
	CHECK_LAST("org.viommu1.Vm.AttachDevices /org/viommu1/vm/1 "
		   "[/org/viommu1/device/selftest0 /org/viommu1/device/0000_00_05_0]");
	CHECK_OK(viommu_vm_set_dirty_tracking(vm, true));
	CHECK_LAST("org.viommu1.Vm.SetDirtyTracking /org/viommu1/vm/1 true");
	CHECK_OK(viommu_vm_read_dirty_bitmap(vm, 0x100000, 0x200000, 4096, null_fd,
					     VIOMMU_DIRTY_NO_CLEAR, &value));
	CHECK_LAST("org.viommu1.Vm.ReadDirtyBitmap /org/viommu1/vm/1 1048576 2097152 4096 fd 1");
	CHECK_EQ(value, 5);
	close(null_fd);

	/* The fd is ours and close-on-exec; the handle reads its KernelId. */
	CHECK_OK(viommu_vm_open_fault_queue(vm, true, &fault_queue, &fd));
	CHECK_LAST("org.viommu1.Vm.OpenFaultQueue /org/viommu1/vm/1 [{relay true}]");
	CHECK_STREQ(viommu_fault_queue_path(fault_queue), "/org/viommu1/vm/1/faultqueue/7");
	CHECK_EQ(viommu_fault_queue_kernel_id(fault_queue), 107);
	CHECK(fd >= 3);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	close(fd);
	calls = fake.calls;
	CHECK_RET(viommu_fault_queue_respond(fault_queue, 9, 2), -EINVAL);
	CHECK_EQ(fake.calls, calls);
	CHECK_OK(viommu_fault_queue_respond(fault_queue, 9, VIOMMU_PAGE_RESP_INVALID));
	CHECK_LAST("org.viommu1.FaultQueue.RespondFault /org/viommu1/vm/1/faultqueue/7 9 1");
	CHECK_OK(viommu_fault_queue_destroy(fault_queue));
	CHECK_LAST("org.viommu1.FaultQueue.Destroy /org/viommu1/vm/1/faultqueue/7");

	viommu_vm_free(vm);
	viommu_client_free(client);
	fake_stop();
	CHECK_EQ(check_count_fds(), fds - 1);
}

/* Viommu calls: batched nesting, event and HW queues. */
static void test_viommu_calls(void)
{
	static const uint8_t data[] = { 1, 2 };
	struct viommu_nest_device nest[] = {
		{ .device = "selftest0", .virt_id = 16 },
		{ .device = "/org/viommu1/device/selftest1", .virt_id = 17 },
	};
	struct viommu_nest_device bad = { .device = "bad name" };
	struct viommu_client *client = NULL;
	struct viommu_vm *vm = NULL;
	struct viommu_viommu *viommu = NULL;
	struct viommu_hw_queue *hw_queue = NULL;
	int fd = -1, fds, calls;

	fake_start();
	fds = check_count_fds();
	CHECK_OK(viommu_client_connect(fake.path, &client));
	CHECK_OK(viommu_vm_create(client, "guest", NULL, &vm));
	CHECK_OK(viommu_viommu_create(vm, "auto", NULL, 0, &viommu));
	CHECK_EQ(viommu_viommu_kernel_id(viommu), 101);

	/* Refused before anything is sent. */
	calls = fake.calls;
	CHECK_RET(viommu_viommu_open_event_queue(viommu, 0xbeefbeef, 0, false, &fd), -EINVAL);
	CHECK_RET(viommu_viommu_open_event_queue(viommu, 0xbeefbeef, 65537, false, &fd), -EINVAL);
	CHECK_RET(viommu_viommu_open_event_queue(viommu, 0xbeefbeef, 64, false, NULL), -EINVAL);
	CHECK_RET(viommu_viommu_alloc_hw_queue(viommu, 1, 0, 0x100000, 0, &hw_queue), -EINVAL);
	CHECK_RET(viommu_viommu_alloc_hw_queue(viommu, 1, 0, ~0ull, 2, &hw_queue), -EINVAL);
	CHECK_RET(viommu_viommu_alloc_hw_queue(viommu, 1, 0, 0, 4096, NULL), -EINVAL);
	CHECK_RET(viommu_viommu_nest_devices(viommu, NULL, 1, 0, NULL, 0), -EINVAL);
	CHECK_RET(viommu_viommu_nest_devices(viommu, nest, 0, 0, NULL, 0), -EINVAL);
	CHECK_RET(viommu_viommu_nest_devices(viommu, nest, 1025, 0, NULL, 0), -EINVAL);
	CHECK_RET(viommu_viommu_nest_devices(viommu, nest, 2, 0, NULL, 8), -EINVAL);
	CHECK_RET(viommu_viommu_nest_devices(viommu, nest, 2, 0, data, 4097), -EINVAL);
	CHECK_RET(viommu_viommu_nest_devices(viommu, &bad, 1, 0, NULL, 0), -EINVAL);
	CHECK(bad.vdevice == NULL && bad.domain == NULL);
	CHECK_EQ(fake.calls, calls);
	CHECK(viommu_client_error_name(client) == NULL);

	CHECK_OK(viommu_viommu_open_event_queue(viommu, 0xbeefbeef, 64, false, &fd));
	CHECK_LAST("org.viommu1.Viommu.OpenEventQueue /org/viommu1/vm/1/viommu/1 3203383023 64 []");
	CHECK(fd >= 3);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	close(fd);

	CHECK_OK(viommu_viommu_alloc_hw_queue(viommu, 1, 0, 0x200000, 0x10000, &hw_queue));
	CHECK_LAST("org.viommu1.Viommu.AllocHwQueue /org/viommu1/vm/1/viommu/1 1 0 2097152 65536");
	CHECK_STREQ(viommu_hw_queue_path(hw_queue), "/org/viommu1/vm/1/hwqueue/6");
	CHECK_EQ(viommu_hw_queue_kernel_id(hw_queue), 106);
	CHECK_OK(viommu_hw_queue_destroy(hw_queue));
	CHECK_LAST("org.viommu1.HwQueue.Destroy /org/viommu1/vm/1/hwqueue/6");

	CHECK_OK(viommu_viommu_nest_devices(viommu, nest, 2, 0xdead, data, sizeof(data)));
	CHECK_LAST("org.viommu1.Viommu.NestDevices /org/viommu1/vm/1/viommu/1 "
		   "[(/org/viommu1/device/selftest0 16) (/org/viommu1/device/selftest1 17)] "
		   "57005 [1 2]");
	CHECK_STREQ(viommu_vdevice_path(nest[0].vdevice), "/org/viommu1/vm/1/vdevice/2");
	CHECK_EQ(viommu_vdevice_kernel_id(nest[0].vdevice), 102);
	CHECK_STREQ(viommu_domain_path(nest[0].domain), "/org/viommu1/vm/1/domain/3");
	CHECK_STREQ(viommu_vdevice_path(nest[1].vdevice), "/org/viommu1/vm/1/vdevice/4");
	CHECK_STREQ(viommu_domain_path(nest[1].domain), "/org/viommu1/vm/1/domain/5");
	CHECK_EQ(viommu_domain_kernel_id(nest[1].domain), 105);
	for (size_t i = 0; i < 2; i++) {
		viommu_vdevice_free(nest[i].vdevice);
		viommu_domain_free(nest[i].domain);
	}
	/* The fake always answers two entries: a reply that does not match is refused whole. */
	CHECK_RET(viommu_viommu_nest_devices(viommu, nest, 1, 0xdead, data, sizeof(data)),
		  -EBADMSG);
	CHECK(nest[0].vdevice == NULL && nest[0].domain == NULL);

	viommu_viommu_free(viommu);
	viommu_vm_free(vm);
	viommu_client_free(client);
	fake_stop();
	CHECK_EQ(check_count_fds(), fds - 1);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_device_path),
		CHECK_CASE(test_connect_missing),
		CHECK_CASE(test_args_before_io),
		CHECK_CASE(test_daemon_errors),
		CHECK_CASE(test_manager_calls),
		CHECK_CASE(test_vm_calls),
		CHECK_CASE(test_viommu_calls),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
