/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmm-fastpath: what a VMM does with libviommu. It sets up a VM with one
 * device and a vIOMMU through viommud, then takes the VM's iommufd and does
 * its invalidations itself with IOMMU_HWPT_INVALIDATE (the fast path),
 * without a round trip to the daemon.
 *
 *   vmm-fastpath [--socket PATH] [--selftest] [--keep] [--tap] [DEVICE]
 *
 * DEVICE defaults to "selftest0". --selftest passes the iommufd selftest
 * mock's data (nested domain, invalidation entries); without it the program
 * stops after taking the fd, since other vendors' data come from a guest.
 * Exit status: 0 done, 1 a call failed, 2 usage.
 */
/* memfd_create(); the project's build defines it, a VMM's may not. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <fcntl.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <viommu/viommu.h>

/* From the iommufd uAPI (linux/iommufd.h), so the example needs no kernel headers. */
struct iommu_hwpt_invalidate {
	uint32_t size;
	uint32_t hwpt_id;
	uint64_t data_uptr;
	uint32_t data_type;
	uint32_t entry_len;
	uint32_t entry_num;
	uint32_t reserved;
};

#define IOMMUFD_TYPE ';'
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, 0x8d)

/* The selftest mock's ABI (CONFIG_IOMMUFD_TEST, not uAPI). */
#define SELFTEST_HWPT_DATA 0xdeadu
#define SELFTEST_IOTLB_DEFAULT 0xbadbeefu
#define SELFTEST_VIOMMU_INVALIDATE 0xdeadbeefu
#define SELFTEST_HWPT_INVALIDATE 0xdeadbeefu

struct selftest_hwpt {
	uint32_t iotlb;
	uint32_t pagetable_type;
};

struct selftest_viommu_invalidate {
	uint32_t flags;
	uint32_t vdev_id;
	uint32_t cache_id;
};

struct selftest_hwpt_invalidate {
	uint32_t flags;
	uint32_t iotlb_id;
};

#define GUEST_RAM (64u << 10)
#define PAGE 4096u
#define VIRT_ID 1

static bool tap;

/* In TAP mode everything but the result line is a comment on stdout. */
__attribute__((format(printf, 2, 0))) static void vreport(FILE *f, const char *fmt, va_list ap)
{
	if (tap) {
		f = stdout;
		fputs("# ", f);
	}
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(stdout, fmt, ap);
	va_end(ap);
}

static void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void complain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(stderr, fmt, ap);
	va_end(ap);
}

/* Reports a failed call with the daemon's own words, when it said any. */
static int failed(struct viommu_client *client, const char *what, int r)
{
	const char *name = client ? viommu_client_error_name(client) : NULL;

	const char *message = client ? viommu_client_error_message(client) : NULL;

	complain("%s failed: %s", what, strerror(-r));
	if (name)
		complain("  %s: %s", name, message ? message : "");
	return r;
}

/* IOMMU_HWPT_INVALIDATE straight on the iommufd: no daemon involved. */
static int invalidate(int iommufd, uint32_t id, uint32_t type, const void *entries,
		      uint32_t entry_len, uint32_t count, uint32_t *handled)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = id,
		.data_uptr = (uint64_t)(uintptr_t)entries,
		.data_type = type,
		.entry_len = entry_len,
		.entry_num = count,
	};
	int r = ioctl(iommufd, IOMMU_HWPT_INVALIDATE, &cmd) < 0 ? -errno : 0;

	*handled = cmd.entry_num;
	return r;
}

struct setup {
	const char *socket;
	const char *device;
	bool selftest;
	bool keep;
};

static int map_guest_ram(struct viommu_client *client, struct viommu_vm *vm)
{
	struct viommu_iova_range ranges[16];
	size_t count = 16;
	uint64_t iova = 0;
	bool found = false;
	int memfd, r;

	r = viommu_vm_iova_ranges(vm, ranges, &count);
	if (r < 0 && r != -EMSGSIZE)
		return failed(client, "IovaRanges", r);
	if (count > 16)
		count = 16;
	/* The first range with room for the RAM at a page boundary. */
	for (size_t i = 0; i < count && !found; i++) {
		iova = (ranges[i].start + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		found = iova >= ranges[i].start && iova <= ranges[i].last &&
			ranges[i].last - iova >= GUEST_RAM - 1;
	}
	if (!found) {
		complain("no IOVA range can take %u bytes", GUEST_RAM);
		return -ERANGE;
	}
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, GUEST_RAM) < 0 || fallocate(memfd, 0, 0, GUEST_RAM) < 0) {
		r = -errno;
		if (memfd >= 0)
			close(memfd);
		return failed(NULL, "memfd", r);
	}
	r = viommu_vm_map(vm, memfd, 0, GUEST_RAM, iova,
			  VIOMMU_MAP_READABLE | VIOMMU_MAP_WRITEABLE);
	/* The daemon holds its own copy: ours is not needed any more. */
	close(memfd);
	if (r < 0)
		return failed(client, "MapMemory", r);
	say("mapped %u KiB of a memfd at IOVA 0x%llx", GUEST_RAM >> 10, (unsigned long long)iova);
	return 0;
}

/* The selftest's invalidations, done by us on the VM's iommufd. */
static int fast_path_selftest(int iommufd, uint32_t viommu_id, uint32_t domain_id)
{
	struct selftest_viommu_invalidate dev_cache = { .vdev_id = VIRT_ID, .cache_id = 0 };
	struct selftest_hwpt_invalidate iotlb = { .iotlb_id = 0 };
	uint32_t handled;
	int r;

	r = invalidate(iommufd, viommu_id, SELFTEST_VIOMMU_INVALIDATE, &dev_cache,
		       sizeof(dev_cache), 1, &handled);
	if (r < 0 || handled != 1) {
		complain("IOMMU_HWPT_INVALIDATE on vIOMMU %u: %s, %u of 1 handled", viommu_id,
		    strerror(-r), handled);
		return r < 0 ? r : -EIO;
	}
	say("fast path: IOMMU_HWPT_INVALIDATE on vIOMMU %u (device cache of virtual ID %u): "
	    "1 entry handled", viommu_id, VIRT_ID);

	r = invalidate(iommufd, domain_id, SELFTEST_HWPT_INVALIDATE, &iotlb, sizeof(iotlb), 1,
		       &handled);
	if (r < 0 || handled != 1) {
		complain("IOMMU_HWPT_INVALIDATE on domain %u: %s, %u of 1 handled", domain_id,
		    strerror(-r), handled);
		return r < 0 ? r : -EIO;
	}
	say("fast path: IOMMU_HWPT_INVALIDATE on nested domain %u (IOTLB 0): 1 entry handled",
	    domain_id);
	return 0;
}

/* Everything after the VM exists; the caller destroys the VM. */
static int run_vm(struct viommu_client *client, struct viommu_vm *vm, const struct setup *s)
{
	struct selftest_hwpt nested = { .iotlb = SELFTEST_IOTLB_DEFAULT };
	struct viommu_viommu *viommu = NULL;
	struct viommu_vdevice *vdevice = NULL;
	struct viommu_domain *domain = NULL;
	uint32_t ioas_id, parent_id;
	int iommufd = -1, r;

	r = viommu_vm_attach(vm, s->device, NULL);
	if (r < 0)
		return failed(client, "AttachDevice", r);
	r = viommu_vm_kernel_ids(vm, &ioas_id, &parent_id);
	if (r < 0)
		return failed(client, "IoasId/ParentId", r);
	say("attached %s: IOAS %u, nesting parent %u", s->device, ioas_id, parent_id);

	r = map_guest_ram(client, vm);
	if (r < 0)
		return r;

	r = viommu_viommu_create(vm, "auto", NULL, 0, &viommu);
	if (r < 0)
		return failed(client, "CreateViommu", r);
	say("vIOMMU %s: kernel ID %u", viommu_viommu_path(viommu), viommu_viommu_kernel_id(viommu));

	r = viommu_viommu_add_device(viommu, s->device, VIRT_ID, &vdevice);
	if (r < 0) {
		failed(client, "AddDevice", r);
		goto out;
	}
	say("vDEVICE %s: virtual ID %u, kernel ID %u", viommu_vdevice_path(vdevice), VIRT_ID,
	    viommu_vdevice_kernel_id(vdevice));

	if (s->selftest) {
		r = viommu_viommu_alloc_domain(viommu, SELFTEST_HWPT_DATA, &nested, sizeof(nested),
					       &domain);
		if (r < 0) {
			failed(client, "AllocDomain", r);
			goto out;
		}
		r = viommu_domain_attach(domain, s->device);
		if (r < 0) {
			failed(client, "Domain.Attach", r);
			goto out;
		}
		say("nested domain %s: kernel ID %u, %s on it", viommu_domain_path(domain),
		    viommu_domain_kernel_id(domain), s->device);
	}

	r = viommu_vm_get_iommufd(vm, &iommufd);
	if (r < 0) {
		failed(client, "GetIommufd", r);
		goto out;
	}
	say("took the VM's iommufd (fd %d): the VM is shared from now on", iommufd);

	if (s->selftest)
		r = fast_path_selftest(iommufd, viommu_viommu_kernel_id(viommu),
				       viommu_domain_kernel_id(domain));
	else
		say("no --selftest: a real VMM now passes its guest's invalidations on this fd");
out:
	if (iommufd >= 0)
		close(iommufd);
	/* Handles only: the objects go with the VM (or stay with it under --keep). */
	viommu_domain_free(domain);
	viommu_vdevice_free(vdevice);
	viommu_viommu_free(viommu);
	return r;
}

static int run(const struct setup *s)
{
	struct viommu_vm_options options = { .persist = s->keep };
	struct viommu_client *client = NULL;
	struct viommu_vm *vm = NULL;
	char name[32];
	int r;

	r = viommu_client_connect(s->socket, &client);
	if (r < 0)
		return failed(NULL, "connecting to viommud", r);

	snprintf(name, sizeof(name), "fastpath-%ld", (long)getpid());
	r = viommu_vm_create(client, name, &options, &vm);
	if (r < 0) {
		failed(client, "CreateVm", r);
		goto out;
	}
	say("VM %s: %s", name, viommu_vm_path(vm));

	r = run_vm(client, vm, s);
	if (s->keep) {
		say("kept VM %s (persistent)", viommu_vm_path(vm));
		viommu_vm_free(vm);
	} else {
		int d = viommu_vm_destroy(vm);

		if (d < 0) {
			failed(client, "Vm.Destroy", d);
			viommu_vm_free(vm);
			r = r < 0 ? r : d;
		} else {
			say("destroyed the VM");
		}
	}
out:
	viommu_client_free(client);
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vmm-fastpath [--socket PATH] [--selftest] [--keep] [--tap] [DEVICE]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "selftest", no_argument, NULL, 'S' },
		{ "keep", no_argument, NULL, 'k' },
		{ "tap", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct setup s = { .device = "selftest0" };
	int c, r;

	while ((c = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			s.socket = optarg;
			break;
		case 'S':
			s.selftest = true;
			break;
		case 'k':
			s.keep = true;
			break;
		case 't':
			tap = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		s.device = argv[optind++];
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (tap)
		printf("1..1\n");
	r = run(&s);
	if (tap)
		printf("%sok 1 - vmm-fastpath on %s\n", r < 0 ? "not " : "", s.device);
	return r < 0 ? 1 : 0;
}
