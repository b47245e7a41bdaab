/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libviommu without a daemon: device names to paths, arguments refused
 * before any I/O, connection failures that leave nothing behind, and the
 * error and fd contract, against a fake peer (sd-bus server in a thread)
 * that counts the calls it gets.
 */
#include <errno.h>
#include <fcntl.h>
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
};

static struct fake fake;

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

/* Every method call lands here: a few have canned answers, the rest are Busy. */
static int fake_filter(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	const char *member = sd_bus_message_get_member(m);
	int r = 1;

	if (!sd_bus_message_is_method_call(m, NULL, NULL))
		return 0;
	fake.calls++;
	if (strcmp(sd_bus_message_get_path(m), "/org/viommu1/vm/2") == 0)
		r = sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_OBJECT, "no such VM");
	else if (strcmp(member, "CreateVm") == 0)
		r = sd_bus_reply_method_return(m, "o", "/org/viommu1/vm/1");
	else if (strcmp(member, "ListDevices") == 0)
		r = sd_bus_reply_method_return(m, "ao", 2, "/org/viommu1/device/selftest0",
					       "/org/viommu1/device/0000_00_05_0");
	else if (strcmp(member, "ListVms") == 0)
		r = sd_bus_reply_method_return(m, "ao", 0);
	else if (strcmp(member, "Describe") == 0)
		r = sd_bus_reply_method_return(m, "s", "{}");
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
	struct viommu_client *client = NULL;
	struct viommu_vm *vm = NULL;
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

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_device_path),
		CHECK_CASE(test_connect_missing),
		CHECK_CASE(test_args_before_io),
		CHECK_CASE(test_daemon_errors),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
