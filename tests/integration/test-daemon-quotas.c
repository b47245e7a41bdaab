/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Quotas, with small limits from the test's config: VMs per uid, objects per
 * VM, pinned bytes per uid (the daemon's own ledger), connections per uid and
 * unread replies per connection. Each refusal is a QuotaExceeded naming the
 * limit, and a flooding client does not stop another's calls.
 *
 * Config: {"mock_devices": 2, "quota_vms_per_uid": 2, "quota_objects_per_vm": 3,
 *          "quota_pinned_bytes_per_uid": 131072, "quota_connections_per_uid": 3,
 *          "quota_queued_messages": 64, "connection_stall_seconds": 3,
 *          "vm_users": [1000]}
 */
#include <fcntl.h>
#include <poll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define IOVA (16ull << 20)
#define ERR_QUOTA "org.viommu1.Error.QuotaExceeded"

static struct vc c;

static int memfd_of(uint64_t size)
{
	int fd = memfd_create("quota", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)size) == 0 && fallocate(fd, 0, 0, (off_t)size) == 0);
	return fd;
}

static void test_vms_per_uid(void)
{
	char *a = NULL, *b = NULL, *d = NULL;

	CHECK_OK(vc_connect(&c, NULL));
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "q1", &a));
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "q2", &b));
	CHECK_DBUS_ERROR(&c, vc_create_vm(&c, "q3", &d), ERR_QUOTA);
	CHECK(strstr(vc_error_message(&c), "quota_vms_per_uid"));
	/* Room again once one goes. */
	CHECK_DBUS_OK(&c, vc_destroy(&c, b, VC_VM));
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "q3", &d));
	CHECK_DBUS_OK(&c, vc_destroy(&c, a, VC_VM));
	CHECK_DBUS_OK(&c, vc_destroy(&c, d, VC_VM));
	free(a);
	free(b);
	free(d);
}

static void test_objects_and_pins(void)
{
	char *vm = NULL, *dev = vc_find_device(&c, "selftest0");
	uint64_t unmapped;
	int fd = memfd_of(256 * 1024);

	CHECK(dev);
	CHECK_DBUS_OK(&c, vc_create_vm(&c, "objects", &vm));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm, dev)); /* object 1 */
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, fd, 0, 65536, IOVA, 6)); /* 2 */
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm, fd, 65536, 65536, IOVA + 65536, 6)); /* 3 */
	CHECK_DBUS_ERROR(&c, vc_map_memory(&c, vm, fd, 131072, 4096, IOVA + 131072, 6), ERR_QUOTA);
	CHECK(strstr(vc_error_message(&c), "quota_objects_per_vm"));
	CHECK_DBUS_ERROR(&c, vc_create_viommu(&c, vm, "auto", NULL), ERR_QUOTA);
	/* 128 KiB mapped is the uid's whole pinned-bytes quota: a second VM
	 * cannot pin more, while what it asks fits its own objects. */
	char *vm2 = NULL;

	CHECK_DBUS_OK(&c, vc_create_vm(&c, "pins", &vm2));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, vm2, "/org/viommu1/device/selftest1"));
	CHECK_DBUS_ERROR(&c, vc_map_memory(&c, vm2, fd, 0, 4096, IOVA, 6), ERR_QUOTA);
	CHECK(strstr(vc_error_message(&c), "quota_pinned_bytes_per_uid"));
	CHECK_DBUS_OK(&c, vc_unmap_memory(&c, vm, IOVA, 65536, &unmapped));
	CHECK_DBUS_OK(&c, vc_map_memory(&c, vm2, fd, 0, 4096, IOVA, 6));
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm, VC_VM));
	CHECK_DBUS_OK(&c, vc_destroy(&c, vm2, VC_VM));
	CHECK(close(fd) == 0);
	free(vm);
	free(vm2);
	free(dev);
}

/* As uid 1000: three connections are served, a fourth is closed at once. */
static void test_connections_per_uid(void)
{
	pid_t pid = fork();
	int status;

	CHECK(pid >= 0);
	if (pid == 0) {
		struct vc conns[4];
		int ok = 0;

		if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0)
			_exit(10);
		for (int i = 0; i < 4; i++) {
			char **vms = NULL;

			memset(&conns[i], 0, sizeof(conns[i]));
			if (vc_connect(&conns[i], NULL) == 0 && vc_list(&conns[i], "ListVms", &vms) >= 0) {
				ok++;
				vc_strv_free(vms);
			}
		}
		_exit(ok == 3 ? 0 : 20 + ok);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	/* Root was never held up. */
	CHECK(vc_alive(&c));
}

/* A client that sends and never reads does not stop others being served. */
static void test_flood_does_not_starve_others(void)
{
	struct timespec start, now;
	struct vc flood = { 0 };
	bool dropped = false;
	int small = 4096, large = 16 << 20, fd, max_inq = 0, max_outq = 0;

	CHECK_OK(vc_connect(&flood, NULL));
	/* Authenticated first: until then sd-bus queues every message. */
	CHECK(vc_alive(&flood));
	fd = sd_bus_get_fd(flood.bus);
	CHECK(fd >= 0);
	/* A tiny receive buffer, so the daemon's replies back up at once, and a
	 * large send buffer, so that our requests reach it all the same. */
	CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == 0);
	CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &large, sizeof(large)) == 0);
	/* sd_bus_send() writes what the socket takes and queues the rest,
	 * never reading a reply. A cookie pointer, or sd-bus marks the call
	 * NO_REPLY_EXPECTED and the daemon sends nothing back. */
	for (int i = 0; i < 20000; i++) {
		sd_bus_message *m = NULL;
		uint64_t cookie;

		CHECK(sd_bus_message_new_method_call(flood.bus, &m, NULL, VC_ROOT,
						     "org.freedesktop.DBus.Peer", "Ping") >= 0);
		if (sd_bus_send(flood.bus, m, &cookie) < 0)
			dropped = true;
		sd_bus_message_unref(m);
		if (dropped)
			break;
		/* Where the bytes sit, while sending too: a slow build may be
		 * dropped (connection_stall_seconds) before the loop ends. */
		if (i % 500 == 0) {
			int inq = 0, outq = 0;

			if (ioctl(fd, SIOCINQ, &inq) == 0 && inq > max_inq)
				max_inq = inq;
			if (ioctl(fd, SIOCOUTQ, &outq) == 0 && outq > max_outq)
				max_outq = outq;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!dropped) {
		struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };
		int inq = 0, outq = 0;

		CHECK(ioctl(fd, SIOCINQ, &inq) == 0);
		CHECK(ioctl(fd, SIOCOUTQ, &outq) == 0);
		max_inq = inq > max_inq ? inq : max_inq;
		max_outq = outq > max_outq ? outq : max_outq;
		CHECK(vc_alive(&c)); /* served all along */
		if (poll(&pfd, 1, 200) > 0 && (pfd.revents & (POLLHUP | POLLRDHUP)))
			dropped = true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 20)
			break;
	}
	/*
	 * Where the flood sits: replies the daemon sent wait in our receive
	 * queue, charged to the daemon's send buffer; requests it has not read
	 * wait in its receive queue, charged to our send buffer. sd-bus raises
	 * its send buffer to 16 MiB, which held all 20000 replies (480000 bytes)
	 * in the kernel; the daemon lowers it to 2 x 128 KiB, stops reading
	 * while its replies wait, and drops us after connection_stall_seconds.
	 */
	check_note("flood: at most %d bytes of replies unread here, %d bytes of requests "
		   "unread by the daemon",
		   max_inq, max_outq);
	CHECK(max_inq <= 256 * 1024);
	CHECK(max_outq > 0);
	CHECK(dropped);
	vc_close(&flood);
	CHECK(vc_alive(&c));
}

/* CreateVm with n fds in its options (variants), or a name of len bytes. */
static int create_vm_with(size_t nfds, size_t name_len)
{
	sd_bus_message *m = NULL;
	char *name = malloc(name_len + 1);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC), r;

	if (!name || devnull < 0) {
		free(name);
		return -ENOMEM;
	}
	memset(name, 'n', name_len);
	name[name_len] = '\0';
	r = sd_bus_message_new_method_call(c.bus, &m, c.destination, VC_ROOT, VC_MANAGER,
					   "CreateVm");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", name);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	for (size_t i = 0; r >= 0 && i < nfds; i++)
		r = sd_bus_message_append(m, "{sv}", "fd", "h", devnull);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = vc_call_message(&c, m, NULL);
	sd_bus_message_unref(m);
	close(devnull);
	free(name);
	return r;
}

/* Config: quota_message_fds 4, quota_message_bytes 65536. Refused before any
 * handler: the handler's own errors show where the line is. */
static void test_message_limits(void)
{
	CHECK_DBUS_ERROR(&c, create_vm_with(5, 8), ERR_QUOTA);
	CHECK(strstr(vc_error_message(&c), "quota_message_fds"));
	/* Four pass the filter; CreateVm itself then refuses the unknown option. */
	CHECK_DBUS_ERROR(&c, create_vm_with(4, 8), VC_ERR_INVALID);
	CHECK_DBUS_ERROR(&c, create_vm_with(0, 70000), ERR_QUOTA);
	CHECK(strstr(vc_error_message(&c), "quota_message_bytes"));
	CHECK_DBUS_ERROR(&c, create_vm_with(0, 60000), VC_ERR_INVALID);
	CHECK(vc_alive(&c));
}

/*
 * A raw client that speaks only as much D-Bus as an attacker needs: the
 * EXTERNAL handshake, then a message's 16-byte fixed header announcing a body
 * of body bytes. sd-bus would buffer such a message, and every fd that comes
 * with its pieces, until it is whole; the daemon must not.
 */
static int raw_connect_announce(uint32_t body)
{
	const char *path = getenv("VIOMMU_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char auth[128], uid[16], reply[256];
	uint8_t header[24] = { 'l', 1, 0, 1 };
	uint32_t fields = 8, serial = 1;
	size_t len;
	ssize_t n;
	int fd;

	CHECK(path && strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	snprintf(uid, sizeof(uid), "%u", (unsigned int)geteuid());
	auth[0] = '\0';
	len = 1 + (size_t)snprintf(auth + 1, sizeof(auth) - 1, "AUTH EXTERNAL ");
	for (size_t i = 0; uid[i]; i++)
		len += (size_t)snprintf(auth + len, sizeof(auth) - len, "%02x", (unsigned char)uid[i]);
	len += (size_t)snprintf(auth + len, sizeof(auth) - len, "\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n");
	CHECK(write(fd, auth, len) == (ssize_t)len);
	/* "OK <guid>\r\nAGREE_UNIX_FD\r\n" */
	n = read(fd, reply, sizeof(reply) - 1);
	CHECK(n > 0);
	reply[n] = '\0';
	CHECK(strncmp(reply, "OK ", 3) == 0);
	memcpy(header + 4, &body, 4);
	memcpy(header + 8, &serial, 4);
	memcpy(header + 12, &fields, 4);
	CHECK(write(fd, header, sizeof(header)) == (ssize_t)sizeof(header));
	return fd;
}

/* Whether the daemon closed fd, waiting at most seconds. */
static bool closed_within(int fd, int seconds)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	char byte;

	for (int i = 0; i < seconds * 10; i++) {
		if (poll(&p, 1, 100) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)))
			return true;
		if (p.revents & POLLIN && recv(fd, &byte, 1, MSG_DONTWAIT) == 0)
			return true;
	}
	return false;
}

/* A header announcing 120 MiB: dropped at the header, nothing buffered. */
static void test_body_flood(void)
{
	int fd = raw_connect_announce(120u << 20);

	CHECK(closed_within(fd, 10));
	close(fd);
	CHECK(vc_alive(&c));
}

/* One byte and 250 fds at a time, never finishing: dropped at the first
 * batch, and the daemon keeps none of them. */
static void test_fd_flood(void)
{
	int fd = raw_connect_announce(1000), fds[250], devnull;
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { .iov_base = (char[]){ 0 }, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int before = vc_daemon_fds("/dev/null");

	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(devnull >= 0);
	for (int i = 0; i < 250; i++)
		fds[i] = devnull;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	for (int i = 0; i < 20; i++)
		if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
			break; /* dropped already */
	CHECK(closed_within(fd, 10));
	check_note("daemon fds on /dev/null: %d before, %d after", before,
		   vc_daemon_fds("/dev/null"));
	CHECK_EQ(vc_daemon_fds("/dev/null"), before);
	close(fd);
	close(devnull);
	CHECK(vc_alive(&c));
}

/* Half a message, then nothing: dropped after connection_stall_seconds (3). */
static void test_half_message(void)
{
	int fd = raw_connect_announce(1000);
	char part[500] = { 0 };

	CHECK(write(fd, part, sizeof(part)) == (ssize_t)sizeof(part));
	CHECK(closed_within(fd, 20));
	close(fd);
	CHECK(vc_alive(&c));
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_vms_per_uid),
		CHECK_CASE(test_message_limits),
		CHECK_CASE(test_objects_and_pins),
		CHECK_CASE(test_connections_per_uid),
		CHECK_CASE(test_flood_does_not_starve_others),
		CHECK_CASE(test_body_flood),
		CHECK_CASE(test_fd_flood),
		CHECK_CASE(test_half_message),
	};

	signal(SIGPIPE, SIG_IGN);
	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
