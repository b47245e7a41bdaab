/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommuctl launch: runs an unmodified VMM (QEMU) on a broker VM. It creates
 * or claims the VM, attaches the devices, binds the VM to this process
 * (Vm.BindVmm: the daemon raises our RLIMIT_MEMLOCK and ties the VM's life to
 * this process, which becomes the VMM at exec), receives the iommufd and the
 * device fds, and execs the command with them inherited and the placeholders
 * {iommufd} and {device:DEV} replaced by their numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bus.h"
#include "names.h"
#include "viommuctl.h"

#define LAUNCH_DEVICES_MAX 32
#define PLACEHOLDER_IOMMUFD "{iommufd}"
#define PLACEHOLDER_DEVICE "{device:"

struct launch {
	const char *name;
	uint64_t memory;
	size_t ndevices;
	const char *device_args[LAUNCH_DEVICES_MAX];
	char device_paths[LAUNCH_DEVICES_MAX][DEV_PATH_MAX];
	int device_fds[LAUNCH_DEVICES_MAX];
	int iommufd;
	char vm[128];
};

/* "64M", "2G", "1048576": bytes; 0 when malformed. */
static uint64_t parse_size(const char *text)
{
	static const char units[] = "KMGT";
	char *end = NULL;
	unsigned long long n;
	const char *u;

	errno = 0;
	if (text[0] < '0' || text[0] > '9')
		return 0;
	n = strtoull(text, &end, 10);
	if (errno || end == text)
		return 0;
	if (*end == '\0')
		return n;
	u = strchr(units, *end);
	if (!u || end[1] != '\0')
		return 0;
	for (const char *p = units; p <= u; p++) {
		if (n > UINT64_MAX / 1024)
			return 0;
		n *= 1024;
	}
	return n;
}

/* The index of the --device a {device:DEV} placeholder names; -1 if none. */
static int device_index(const struct launch *l, const char *arg, size_t len)
{
	char dev[DEV_PATH_MAX], path[DEV_PATH_MAX];

	if (len >= sizeof(dev))
		return -1;
	memcpy(dev, arg, len);
	dev[len] = '\0';
	if (!dev_arg_to_path(dev, path))
		return -1;
	for (size_t i = 0; i < l->ndevices; i++)
		if (strcmp(path, l->device_paths[i]) == 0)
			return (int)i;
	return -1;
}

/* One argument with its placeholders replaced; NULL (and *bad set) when it
 * names a device that is not launched. check_only: fds are not known yet. */
static char *substitute(const struct launch *l, const char *arg, bool check_only, bool *bad)
{
	size_t cap = strlen(arg) + 1, len = 0;
	char *out = malloc(cap);

	for (const char *p = arg; out && *p;) {
		char num[16] = "";
		size_t skip = 0;

		if (strncmp(p, PLACEHOLDER_IOMMUFD, strlen(PLACEHOLDER_IOMMUFD)) == 0) {
			snprintf(num, sizeof(num), "%d", l->iommufd);
			skip = strlen(PLACEHOLDER_IOMMUFD);
		} else if (strncmp(p, PLACEHOLDER_DEVICE, strlen(PLACEHOLDER_DEVICE)) == 0) {
			const char *name = p + strlen(PLACEHOLDER_DEVICE), *close = strchr(name, '}');
			int i = close ? device_index(l, name, (size_t)(close - name)) : -1;

			if (i < 0) {
				*bad = true;
				free(out);
				return NULL;
			}
			snprintf(num, sizeof(num), "%d", check_only ? 0 : l->device_fds[i]);
			skip = (size_t)(close + 1 - p);
		}
		if (skip) {
			size_t n = strlen(num);

			if (len + n + strlen(p + skip) + 1 > cap) {
				char *grown = realloc(out, cap = len + n + strlen(p + skip) + 1);

				if (!grown) {
					free(out);
					return NULL;
				}
				out = grown;
			}
			memcpy(out + len, num, n);
			len += n;
			p += skip;
			continue;
		}
		out[len++] = *p++;
	}
	if (out)
		out[len] = '\0';
	return out;
}

static int parse_options(struct ctl *c, int argc, char **argv, struct launch *l, int *first)
{
	static const struct option options[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "memory", required_argument, NULL, 'm' },
		{ "device", required_argument, NULL, 'd' },
		{ 0 },
	};
	int opt;

	/* argv[-1] is the verb, which getopt takes for the program name; a fresh
	 * scan (optind 0), "+": stop at the VMM's command. */
	optind = 0;
	while ((opt = getopt_long(argc + 1, argv - 1, "+", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (!vm_arg_valid(optarg) || vm_arg_is_path(optarg))
				return ctl_usage(c, "launch: --name \"%s\" is no VM name", optarg);
			l->name = optarg;
			break;
		case 'm':
			l->memory = parse_size(optarg);
			if (l->memory == 0)
				return ctl_usage(c, "launch: --memory \"%s\" is no size (64M, 2G, bytes)",
						 optarg);
			break;
		case 'd':
			if (l->ndevices == LAUNCH_DEVICES_MAX)
				return ctl_usage(c, "launch: more than %d devices", LAUNCH_DEVICES_MAX);
			if (!dev_arg_to_path(optarg, l->device_paths[l->ndevices]))
				return ctl_usage(c, "launch: --device \"%s\" is no device", optarg);
			l->device_args[l->ndevices++] = optarg;
			break;
		default:
			return ctl_usage(c, "launch: unknown option");
		}
	}
	if (!l->name)
		return ctl_usage(c, "launch: --name is required");
	if (!l->memory)
		return ctl_usage(c, "launch: --memory is required (the guest RAM the VMM pins)");
	if (optind - 1 >= argc)
		return ctl_usage(c, "launch: the VMM's command is missing (after --)");
	*first = optind - 1;
	return 0;
}

/* Our own VM of that name, claimed for this connection; else a new broker VM. */
static int create_or_claim(struct ctl *c, struct launch *l)
{
	char **vms = NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	int r = bus_list(c, "ListVms", &vms);

	for (size_t i = 0; r >= 0 && vms[i]; i++) {
		struct json_object *props = NULL;

		if (bus_get_all(c, vms[i], VIOMMU_IFACE_VM, &props) < 0) {
			sd_bus_error_free(&c->error);
			continue;
		}
		if (strcmp(prop_str(props, "Name"), l->name) == 0 &&
		    prop_u64(props, "Owner") == (uint64_t)getuid()) {
			snprintf(l->vm, sizeof(l->vm), "%s", vms[i]);
			if (strcmp(prop_str(props, "Mode"), "broker") != 0)
				r = bus_set_error(c, VIOMMU_ERROR_INVALID_ARGUMENT, EINVAL,
						  "VM %s is a managed VM; launch needs a broker VM",
						  l->name);
			else
				r = bus_call(c, vms[i], VIOMMU_IFACE_VM, "Claim", NULL, NULL);
			json_object_put(props);
			strv_free(vms);
			return r;
		}
		json_object_put(props);
	}
	strv_free(vms);
	if (r < 0)
		return r;
	r = bus_call(c, VIOMMU_ROOT_PATH, VIOMMU_IFACE_MANAGER, "CreateVm", &reply, "sa{sv}", l->name, 1,
		     "mode", "s", "broker");
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &path);
	if (r > 0)
		snprintf(l->vm, sizeof(l->vm), "%s", path);
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

/* An fd of a reply, as an fd of ours that the VMM inherits (no CLOEXEC). */
static int take_fd(struct ctl *c, const char *path, const char *member, const char *types,
		   const char *device, int *out)
{
	sd_bus_message *reply = NULL;
	int fd, r = device ? bus_call(c, path, VIOMMU_IFACE_VM, member, &reply, types, device)
			   : bus_call(c, path, VIOMMU_IFACE_VM, member, &reply, NULL);

	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "h", &fd);
	if (r > 0) {
		*out = fcntl(fd, F_DUPFD, 3);
		r = *out < 0 ? -errno : 0;
	}
	sd_bus_message_unref(reply);
	return r < 0 ? r : 0;
}

/* The daemon raises our memlock limit and binds the VM to this process. */
static int bind_vmm(struct ctl *c, struct launch *l)
{
	sd_bus_message *reply = NULL;
	struct rlimit lim;
	uint64_t limit = 0;
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0), r;

	if (pidfd < 0)
		return bus_set_error(c, SD_BUS_ERROR_NOT_SUPPORTED, errno,
				     "pidfd_open: %s", strerror(errno));
	r = bus_call(c, l->vm, VIOMMU_IFACE_VM, "BindVmm", &reply, "ht", pidfd, l->memory);
	close(pidfd);
	if (r < 0)
		return r;
	if (sd_bus_message_read(reply, "t", &limit) < 0)
		limit = 0;
	sd_bus_message_unref(reply);
	/* QEMU would fail to map guest RAM with ENOMEM: say so before it starts. */
	if (getrlimit(RLIMIT_MEMLOCK, &lim) < 0 ||
	    (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < l->memory))
		return bus_set_error(c, SD_BUS_ERROR_LIMITS_EXCEEDED, ENOMEM,
				     "RLIMIT_MEMLOCK is %llu bytes, below the %llu the VMM will pin",
				     (unsigned long long)lim.rlim_cur,
				     (unsigned long long)l->memory);
	return 0;
}

/* The options, and placeholders naming devices not launched. */
static int check_arguments(struct ctl *c, int argc, char **argv, struct launch *l, int *first)
{
	bool bad = false;
	int r = parse_options(c, argc, argv, l, first);

	for (int i = *first; r >= 0 && i < argc; i++) {
		free(substitute(l, argv[i], true, &bad));
		if (bad)
			return ctl_usage(c, "launch: \"%s\" names a device not given with --device",
					 argv[i]);
	}
	return r;
}

int cmd_launch_check(struct ctl *c, int argc, char **argv)
{
	struct launch l = { .iommufd = -1 };
	int first = 0;

	return check_arguments(c, argc, argv, &l, &first);
}

int cmd_launch(struct ctl *c, int argc, char **argv)
{
	struct launch l = { .iommufd = -1 };
	char **vmm_argv;
	bool bad = false;
	int first = 0, r;

	r = check_arguments(c, argc, argv, &l, &first);
	if (r < 0)
		return r;
	r = create_or_claim(c, &l);
	for (size_t i = 0; r >= 0 && i < l.ndevices; i++) {
		char *vm = NULL;

		/* A claimed VM may have the device already: that is what we want. */
		r = bus_get_string(c, l.device_paths[i], VIOMMU_IFACE_DEVICE, "Vm", &vm);
		if (r >= 0 && strcmp(vm, l.vm) != 0)
			r = bus_call(c, l.vm, VIOMMU_IFACE_VM, "AttachDevice", NULL, "oa{sv}",
				     l.device_paths[i], 0);
		free(vm);
	}
	if (r >= 0)
		r = bind_vmm(c, &l);
	if (r >= 0)
		r = take_fd(c, l.vm, "GetIommufd", NULL, NULL, &l.iommufd);
	for (size_t i = 0; r >= 0 && i < l.ndevices; i++)
		r = take_fd(c, l.vm, "GetDeviceFd", "o", l.device_paths[i], &l.device_fds[i]);
	if (r < 0)
		return r;
	vmm_argv = calloc((size_t)(argc - first + 1), sizeof(*vmm_argv));
	for (int i = first; vmm_argv && i < argc; i++) {
		vmm_argv[i - first] = substitute(&l, argv[i], false, &bad);
		if (!vmm_argv[i - first])
			return -ENOMEM;
	}
	if (!vmm_argv)
		return -ENOMEM;
	fprintf(stderr, "viommuctl: launching %s on %s (iommufd %d, pid %d)\n", vmm_argv[0], l.vm,
		l.iommufd, (int)getpid());
	fflush(NULL);
	/* Only the VMM's fds cross exec: the bus connection is ours. */
	bus_disconnect(c);
	execvp(vmm_argv[0], vmm_argv);
	return bus_set_error(c, SD_BUS_ERROR_FILE_NOT_FOUND, errno, "cannot run %s: %s",
			     vmm_argv[0], strerror(errno));
}
