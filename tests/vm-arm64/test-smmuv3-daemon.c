/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommud nesting a guest's stage 1 on the real arm-smmu-v3 driver, in the
 * arm64 guest (run-daemon; config {"allowed_devices": ["1234:11e8"],
 * "bind_on_demand": true, "fast_path_users": [0]}). The test is the VMM and
 * plays its guest's SMMU driver: the CD and stage-1 tables live in memory it
 * maps with MapMemory at stage-2 addresses (smmuv3-guest.h's layout), and
 * every object comes from the daemon:
 *
 *   vm        a managed VM with the edu: Nesting, stage 2 carries the DMA
 *   stage1    vIOMMU, vDEVICE (virtual ID: the stream ID), a nested domain
 *             from a stage-1 vSTE: the DMA to a stage-1 IOVA lands in the
 *             memfd page both stages select; a stage-1 change is followed
 *             after Viommu.Invalidate (CMD_TLBI_NH_VA, CMD_CFGI_CD)
 *   fastpath  the same change invalidated with IOMMU_HWPT_INVALIDATE on the
 *             handed-out iommufd
 *   relay     a DMA to an IOVA stage 1 does not map is blocked and its fault
 *             record arrives as an Event signal with the virtual ID
 *   bad       a forbidden vSTE field, a translating domain attached before
 *             its vDEVICE, an invalid command in a batch: named errors or the
 *             documented handled count; the VM still works afterwards
 *   show      viommuctl vm show and hw-info ($VIOMMUCTL) report all of it
 *   destroy   every kernel ID is gone, the device is back on its driver
 *   handout   a second VM: the fault record on the handed-out vEVENTQ fd
 *   restart   (only under a service manager: run-daemon --fdstore) kill -9;
 *             the VM is adopted with the same objects and stage 1
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "edu.h"
#include "iommufd.h"
#include "pci-sysfs.h"
#include "service-manager.h"
#include "smmuv3-guest.h"

#define RW (KABI_IOMMU_IOAS_MAP_READABLE | KABI_IOMMU_IOAS_MAP_WRITEABLE)
#define NESTED_TYPE KABI_IOMMU_HWPT_DATA_ARM_SMMUV3
#define INV_TYPE KABI_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3
#define VEVENTQ_TYPE KABI_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3
#define CMD_LEN ((uint32_t)sizeof(struct kabi_iommu_viommu_arm_smmuv3_invalidate))

static struct vc c;
static struct pci_sysfs_device edu;
static char *dev;
static uint32_t sid = UINT32_MAX;
static int fds_at_start;

/* One VM as a VMM sets it up. */
struct vmm {
	char *vm, *viommu, *vdevice, *domain;
	int memfd, devfd;
	uint8_t *mem;
	struct edu edu;
};

static struct vmm first = { .memfd = -1, .devfd = -1, .mem = MAP_FAILED };

static bool dma_lands(struct vmm *v, uint64_t src_iova, uint64_t dst_iova, uint64_t src_off,
		      uint64_t land_off, uint8_t seed)
{
	return s1g_dma_lands(v->mem, &v->edu, src_iova, dst_iova, src_off, land_off, seed);
}

static bool stage2_lands(struct vmm *v, uint8_t seed)
{
	return dma_lands(v, S1G_IPA(S1G_OFF_S2_SRC), S1G_IPA(S1G_OFF_S2_DST), S1G_OFF_S2_SRC,
			 S1G_OFF_S2_DST, seed);
}

static bool stage1_lands(struct vmm *v, uint64_t land_off, uint8_t seed)
{
	return dma_lands(v, S1G_SRC, S1G_DST, S1G_OFF_S1_SRC, land_off, seed);
}

/* A VM with the edu, the memfd mapped as stage 2, the device fd's BAR mapped. */
static void vmm_open(struct vmm *v, const char *name)
{
	bool nesting = false;

	CHECK_DBUS_OK(&c, vc_create_vm(&c, name, &v->vm));
	CHECK_DBUS_OK(&c, vc_attach_device(&c, v->vm, dev));
	CHECK_DBUS_OK(&c, vc_get_bool(&c, v->vm, VC_VM, "Nesting", &nesting));
	CHECK(nesting);
	v->memfd = memfd_create("smmuv3-daemon", MFD_CLOEXEC);
	CHECK(v->memfd >= 0);
	CHECK(ftruncate(v->memfd, S1G_MEMFD_SIZE) == 0);
	v->mem = mmap(NULL, S1G_MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, v->memfd, 0);
	CHECK(v->mem != MAP_FAILED);
	memset(v->mem, 0, S1G_MEMFD_SIZE);
	for (size_t i = 0; i < sizeof(s1g_maps) / sizeof(s1g_maps[0]); i++)
		CHECK_DBUS_OK(&c, vc_map_memory(&c, v->vm, v->memfd, s1g_maps[i].off,
						s1g_maps[i].len, s1g_maps[i].iova, RW));
	CHECK_DBUS_OK(&c, vc_get_fd(&c, v->vm, dev, &v->devfd));
	CHECK_OK(edu_open(v->devfd, &v->edu));
}

/* vIOMMU, vDEVICE and a nested domain from the stage-1 vSTE; the device on it. */
static void vmm_nest(struct vmm *v)
{
	struct kabi_iommu_hwpt_arm_smmuv3 ste = { .ste = { S1G_STE0_S1(S1G_IPA(S1G_OFF_CD)), 0 } };
	char *type = NULL;

	s1g_build_stage1(v->mem);
	CHECK_DBUS_OK(&c, vc_create_viommu(&c, v->vm, "auto", &v->viommu));
	CHECK_DBUS_OK(&c, vc_get_string(&c, v->viommu, VC_VIOMMU, "Type", &type));
	CHECK_STREQ(type, "arm-smmuv3");
	free(type);
	CHECK_DBUS_OK(&c, vc_add_device(&c, v->viommu, dev, sid, &v->vdevice));
	CHECK_DBUS_OK(&c, vc_alloc_domain(&c, v->viommu, VC_VIOMMU, NESTED_TYPE, &ste, sizeof(ste),
					  &v->domain));
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, v->domain, dev));
}

static void vmm_close(struct vmm *v)
{
	edu_close(&v->edu);
	if (v->devfd >= 0)
		CHECK(close(v->devfd) == 0);
	v->devfd = -1;
	if (v->vm)
		CHECK_DBUS_OK(&c, vc_destroy(&c, v->vm, VC_VM));
	if (v->mem != MAP_FAILED)
		CHECK(munmap(v->mem, S1G_MEMFD_SIZE) == 0);
	v->mem = MAP_FAILED;
	if (v->memfd >= 0)
		CHECK(close(v->memfd) == 0);
	v->memfd = -1;
	free(v->vm);
	free(v->viommu);
	free(v->vdevice);
	free(v->domain);
	v->vm = v->viommu = v->vdevice = v->domain = NULL;
}

static void test_find(void)
{
	char *s = NULL;
	bool assignable = false;

	CHECK_OK(pci_sysfs_find(NULL, EDU_VENDOR, EDU_DEVICE, &edu));
	sid = s1g_stream_id(edu.bdf);
	CHECK(sid != UINT32_MAX);
	check_note("edu at %s (stream ID 0x%x), driver \"%s\"", edu.bdf, sid, edu.driver);
	CHECK_OK(vc_connect(&c, NULL));
	dev = vc_find_device(&c, edu.bdf);
	CHECK(dev);
	/* An SMMUv3 publishes no registers in sysfs: known once a VM binds it. */
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Vendor", &s));
	CHECK_STREQ(s, "");
	free(s);
	CHECK_DBUS_OK(&c, vc_get_bool(&c, dev, VC_DEVICE, "Assignable", &assignable));
	CHECK(assignable);
}

static void test_vm(void)
{
	char *s = NULL;

	CHECK(dev);
	vmm_open(&first, "nested");
	CHECK_DBUS_OK(&c, vc_get_string(&c, dev, VC_DEVICE, "Vendor", &s));
	CHECK_STREQ(s, "arm-smmuv3");
	free(s);
	CHECK(stage2_lands(&first, 1));
	check_note("VM %s: the parent (stage 2) carries DMA 0x%llx -> 0x%llx", first.vm,
		   S1G_IPA(S1G_OFF_S2_SRC), S1G_IPA(S1G_OFF_S2_DST));
}

/* Viommu.Invalidate of the stage-1 change (s1g_invalidation): both handled. */
static void invalidate_via_daemon(struct vmm *v)
{
	uint64_t cmds[2][2];
	uint32_t handled = 0;
	int32_t kerr = -1;

	s1g_invalidation(cmds, sid);
	CHECK_DBUS_OK(&c, vc_invalidate(&c, v->viommu, VC_VIOMMU, INV_TYPE, CMD_LEN, cmds,
					sizeof(cmds), &handled, &kerr));
	CHECK_EQ(handled, 2);
	CHECK_EQ(kerr, 0);
}

static void test_stage1(void)
{
	uint64_t invalidations = 0;

	CHECK(first.vm && first.mem != MAP_FAILED);
	vmm_nest(&first);
	CHECK(stage1_lands(&first, S1G_OFF_S1_DST, 2));
	check_note("%s: DMA 0x%llx -> 0x%llx (stage 1) -> IPA 0x%llx (stage 2) -> memfd 0x%llx",
		   first.domain, S1G_SRC, S1G_DST, S1G_IPA(S1G_OFF_S1_DST), S1G_OFF_S1_DST);
	/* Without stage 1 the IOVAs are IPAs of the decoys: not hit. */
	CHECK(!dma_lands(&first, S1G_SRC, S1G_DST, S1G_OFF_DECOY_SRC, S1G_OFF_DECOY_DST, 3));

	s1g_remap_dst(first.mem);
	invalidate_via_daemon(&first);
	CHECK(stage1_lands(&first, S1G_OFF_S1_DST2, 4));
	CHECK_DBUS_OK(&c, vc_get_u64(&c, first.viommu, VC_VIOMMU, "Invalidations", &invalidations));
	CHECK_EQ(invalidations, 2);
	check_note("after Viommu.Invalidate (TLBI_NH_VA, CFGI_CD) the DMA lands at memfd 0x%llx",
		   S1G_OFF_S1_DST2);
}

/* The same, with the handed-out iommufd: the VMM's own IOMMU_HWPT_INVALIDATE. */
static void test_fastpath(void)
{
	uint64_t cmds[2][2];
	uint32_t viommu_id = 0, count = 2;
	int iommufd = -1;

	CHECK(first.viommu);
	CHECK_DBUS_OK(&c, vc_get_u32(&c, first.viommu, VC_VIOMMU, "KernelId", &viommu_id));
	CHECK_DBUS_OK(&c, vc_get_fd(&c, first.vm, NULL, &iommufd));
	s1g_build_stage1(first.mem); /* S1G_DST back at S1G_OFF_S1_DST */
	s1g_invalidation(cmds, sid);
	CHECK_OK(iommufd_hwpt_invalidate(iommufd, viommu_id, INV_TYPE, cmds, CMD_LEN, &count));
	CHECK_EQ(count, 2);
	CHECK(stage1_lands(&first, S1G_OFF_S1_DST, 5));
	check_note("after IOMMU_HWPT_INVALIDATE on vIOMMU %u through the handed-out iommufd the "
		   "DMA lands at memfd 0x%llx again",
		   viommu_id, S1G_OFF_S1_DST);
	CHECK(close(iommufd) == 0);
}

struct seen {
	int count;
	bool fault_ok;
	uint64_t virt_id;
	uint32_t type;
	size_t len;
};

static int on_event(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct seen *s = userdata;
	const void *data;
	uint64_t evt[4];
	uint32_t seq;
	size_t len;

	if (sd_bus_message_read(m, "tu", &s->virt_id, &s->type) < 0 ||
	    sd_bus_message_read_array(m, 'y', &data, &len) < 0 ||
	    sd_bus_message_read(m, "u", &seq) < 0)
		return 0;
	s->len = len;
	if (len == sizeof(evt)) {
		memcpy(evt, data, sizeof(evt));
		if (s->count == 0)
			check_note("Event seq %u: %016llx %016llx %016llx %016llx", seq,
				   (unsigned long long)evt[0], (unsigned long long)evt[1],
				   (unsigned long long)evt[2], (unsigned long long)evt[3]);
		s->fault_ok = (s->count == 0 || s->fault_ok) &&
			      s1g_is_translation_fault(evt, sid, S1G_UNMAPPED);
	}
	s->count++;
	return 0;
}

/* A DMA to an IOVA stage 1 does not map is blocked, and its fault record
 * arrives as an Event signal of the vIOMMU (relayed queue) with the virtual
 * ID; the mapping itself is unharmed. Returns the signals seen. */
static int check_fault_relayed(struct vmm *v, uint8_t seed)
{
	sd_bus_slot *slot = NULL;
	struct seen seen = { 0 };
	double deadline;

	CHECK(sd_bus_match_signal(c.bus, &slot, NULL, v->viommu, VC_VIOMMU, "Event", on_event,
				  &seen) >= 0);
	CHECK(!dma_lands(v, S1G_SRC, S1G_UNMAPPED, S1G_OFF_S1_SRC, S1G_OFF_S1_DST, seed));
	deadline = vc_now_seconds() + 10;
	while (seen.count == 0 && vc_now_seconds() < deadline) {
		int r = sd_bus_process(c.bus, NULL);

		CHECK(r >= 0);
		if (r == 0)
			sd_bus_wait(c.bus, 100 * 1000);
	}
	sd_bus_slot_unref(slot);
	check_note("%d Event signals for the blocked DMA", seen.count);
	CHECK(seen.count > 0);
	CHECK_EQ(seen.virt_id, sid);
	CHECK_EQ(seen.type, VEVENTQ_TYPE);
	CHECK_EQ(seen.len, 4 * sizeof(uint64_t));
	CHECK(seen.fault_ok);
	CHECK(stage1_lands(v, S1G_OFF_S1_DST, (uint8_t)(seed + 1)));
	return seen.count;
}

static void test_relay(void)
{
	uint64_t counted = 0, relayed = 0;
	int efd, signals;

	CHECK(first.viommu);
	CHECK_DBUS_OK(&c, vc_open_event_queue(&c, first.viommu, VEVENTQ_TYPE, 64, true, &efd));
	signals = check_fault_relayed(&first, 6);
	CHECK_EQ(read(efd, &counted, sizeof(counted)), sizeof(counted));
	CHECK(counted > 0);
	CHECK_DBUS_OK(&c, vc_get_u64(&c, first.viommu, VC_VIOMMU, "EventsRelayed", &relayed));
	CHECK(relayed >= (uint64_t)signals);
	CHECK(close(efd) == 0);
}

/* The objects the daemon made for the first VM, by kernel ID. */
static void kernel_ids(uint32_t ids[5])
{
	CHECK_DBUS_OK(&c, vc_get_u32(&c, first.vm, VC_VM, "IoasId", &ids[0]));
	CHECK_DBUS_OK(&c, vc_get_u32(&c, first.vm, VC_VM, "ParentId", &ids[1]));
	CHECK_DBUS_OK(&c, vc_get_u32(&c, first.viommu, VC_VIOMMU, "KernelId", &ids[2]));
	CHECK_DBUS_OK(&c, vc_get_u32(&c, first.vdevice, VC_VDEVICE, "KernelId", &ids[3]));
	CHECK_DBUS_OK(&c, vc_get_u32(&c, first.domain, VC_DOMAIN, "KernelId", &ids[4]));
}

/*
 * kill -9 under the service manager (run-daemon --fdstore on this guest):
 * the daemon comes back with the VM from its fd store and state, the same
 * kernel objects, unclaimed until its owner claims it; the edu's DMA goes
 * through the same stage 1 meanwhile, and afterwards a stage-1 change is
 * invalidated and a fault relayed through the adopted objects.
 */
static void test_restart(void)
{
	uint32_t before[5], after[5];
	char *snap_before, *snap_after;
	bool claimed = true;
	pid_t pid = sm_daemon_pid(), now;

	CHECK(first.domain);
	CHECK(pid > 0);
	kernel_ids(before);
	snap_before = vc_vm_snapshot(&c, first.vm);
	CHECK(snap_before);
	CHECK(kill(pid, SIGKILL) == 0);
	/* Nobody serves the VM now, and nothing is torn down: DMA lands. */
	CHECK(stage1_lands(&first, S1G_OFF_S1_DST, 20));
	now = sm_wait_daemon(pid, 60);
	CHECK(now > 0);
	check_note("viommud %d killed; %d adopted the VM", (int)pid, (int)now);
	vc_close(&c);
	CHECK_OK(vc_connect(&c, NULL));
	CHECK_DBUS_OK(&c, vc_get_bool(&c, first.vm, VC_VM, "Claimed", &claimed));
	CHECK(!claimed);
	CHECK_DBUS_OK(&c, vc_call(&c, first.vm, VC_VM, "Claim", NULL, ""));
	snap_after = vc_vm_snapshot(&c, first.vm);
	CHECK(snap_after);
	CHECK_STREQ(snap_after, snap_before);
	kernel_ids(after);
	CHECK(memcmp(before, after, sizeof(before)) == 0);
	CHECK(stage1_lands(&first, S1G_OFF_S1_DST, 21));

	s1g_remap_dst(first.mem);
	invalidate_via_daemon(&first);
	CHECK(stage1_lands(&first, S1G_OFF_S1_DST2, 22));
	s1g_build_stage1(first.mem);
	invalidate_via_daemon(&first);
	CHECK(stage1_lands(&first, S1G_OFF_S1_DST, 23));
	check_note("after the restart: same IDs, stage 1 followed after Viommu.Invalidate");
	check_fault_relayed(&first, 24);
	free(snap_before);
	free(snap_after);
}

static void test_bad(void)
{
	struct kabi_iommu_hwpt_arm_smmuv3 ste = { .ste = { S1G_STE0_S1(S1G_IPA(S1G_OFF_CD)), 0 } };
	uint64_t cmds[2][2];
	uint32_t handled = 9;
	int32_t kerr = 0;
	char *path = NULL;

	CHECK(first.domain);
	/* A vSTE field the kernel does not let a guest set (word 1 bit 40). */
	ste.ste[1] = 1ull << 40;
	CHECK_DBUS_ERROR(&c, vc_alloc_domain(&c, first.viommu, VC_VIOMMU, NESTED_TYPE, &ste,
					     sizeof(ste), &path),
			 VC_ERR_INVALID);
	check_note("forbidden vSTE field: %s", vc_error_message(&c));
	CHECK(strstr(vc_error_message(&c), "refused the nested domain's data"));

	/* A translating domain without the device's vDEVICE (the kernel checks
	 * at attach): off the domain, the vDEVICE destroyed, back on. */
	CHECK_DBUS_OK(&c, vc_domain_detach(&c, first.domain, dev));
	CHECK(stage2_lands(&first, 8));
	CHECK_DBUS_OK(&c, vc_destroy(&c, first.vdevice, VC_VDEVICE));
	CHECK_DBUS_ERROR(&c, vc_domain_attach(&c, first.domain, dev), VC_ERR_INVALID);
	check_note("translating domain before its vDEVICE: %s", vc_error_message(&c));
	CHECK(strstr(vc_error_message(&c), "Viommu.AddDevice"));
	/* The refused attach left the device on the parent. */
	CHECK(stage2_lands(&first, 9));
	free(first.vdevice);
	first.vdevice = NULL;
	CHECK_DBUS_OK(&c, vc_add_device(&c, first.viommu, dev, sid, &first.vdevice));
	CHECK_DBUS_OK(&c, vc_domain_attach(&c, first.domain, dev));
	CHECK(stage1_lands(&first, S1G_OFF_S1_DST, 10));

	/* An invalid command second in a batch: the first is done, the error is
	 * the kernel's, and it is no D-Bus error. */
	s1g_invalidation(cmds, sid);
	cmds[1][0] = S1G_CMD_BAD;
	cmds[1][1] = 0;
	CHECK_DBUS_OK(&c, vc_invalidate(&c, first.viommu, VC_VIOMMU, INV_TYPE, CMD_LEN, cmds,
					sizeof(cmds), &handled, &kerr));
	CHECK_EQ(handled, 1);
	CHECK_EQ(kerr, EIO);
	check_note("invalid command second in a batch: handled %u, error %d (%s)", handled, kerr,
		   strerror(kerr));
	/* A length that is no whole number of commands: refused before the kernel. */
	CHECK_DBUS_ERROR(&c, vc_invalidate(&c, first.viommu, VC_VIOMMU, INV_TYPE, CMD_LEN,
					   cmds, CMD_LEN + 8, &handled, &kerr),
			 VC_ERR_INVALID);
	/* The VM still works. */
	CHECK(stage1_lands(&first, S1G_OFF_S1_DST, 11));
	free(path);
}

/* Runs viommuctl (--json when json) with args; returns its stdout. */
static char *viommuctl(bool json, const char *a1, const char *a2, const char *a3)
{
	const char *tool = getenv("VIOMMUCTL");
	const char *argv[7];
	int argc = 0;
	char *out = NULL;
	size_t len = 0;
	int pipefd[2], status = 0;
	pid_t pid;
	FILE *f;

	CHECK(tool && *tool);
	argv[argc++] = tool;
	argv[argc++] = "--no-color";
	if (json)
		argv[argc++] = "--json";
	argv[argc++] = a1;
	argv[argc++] = a2;
	argv[argc++] = a3; /* NULL for two arguments */
	argv[argc] = NULL;
	CHECK(pipe2(pipefd, O_CLOEXEC) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	f = open_memstream(&out, &len);
	CHECK(f);
	for (;;) {
		char buf[4096];
		ssize_t n = read(pipefd[0], buf, sizeof(buf));

		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, f);
	}
	fclose(f);
	close(pipefd[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return out;
}

static void note_lines(const char *text)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);

		check_note("| %.*s", n, p);
		p += n + (nl ? 1 : 0);
	}
}

static void test_show(void)
{
	struct json_object *root, *a, *o;
	uint64_t invalidations = 0;
	char *text;

	CHECK(first.domain);
	CHECK_DBUS_OK(&c, vc_get_u64(&c, first.viommu, VC_VIOMMU, "Invalidations", &invalidations));
	text = viommuctl(false, "vm", "show", "nested");
	note_lines(text);
	CHECK(strstr(text, "arm-smmuv3"));
	free(text);
	text = viommuctl(true, "vm", "show", "nested");
	root = json_tokener_parse(text);
	free(text);
	CHECK(root);
	CHECK(json_object_object_get_ex(root, "nesting", &o) && json_object_get_boolean(o));
	CHECK(json_object_object_get_ex(root, "viommus", &a) && json_object_array_length(a) == 1);
	CHECK_STREQ(vc_json_str(json_object_array_get_idx(a, 0), "type"), "arm-smmuv3");
	CHECK_EQ(vc_json_u64(json_object_array_get_idx(a, 0), "invalidations"),
		 invalidations);
	CHECK(json_object_object_get_ex(root, "vdevices", &a) && json_object_array_length(a) == 1);
	CHECK_EQ(vc_json_u64(json_object_array_get_idx(a, 0), "virt_id"), sid);
	CHECK(json_object_object_get_ex(root, "domains", &a) && json_object_array_length(a) == 1);
	o = json_object_array_get_idx(a, 0);
	CHECK_STREQ(vc_json_str(o, "path"), first.domain);
	CHECK_EQ(vc_json_u64(o, "data_type"), NESTED_TYPE);
	CHECK(json_object_object_get_ex(root, "devices", &a) && json_object_array_length(a) == 1);
	CHECK_STREQ(vc_json_str(json_object_array_get_idx(a, 0), "domain"), first.domain);
	CHECK_EQ(vc_json_u64(root, "mapped_bytes"), S1G_MAPPED_BYTES);
	json_object_put(root);

	text = viommuctl(false, "hw-info", edu.bdf, NULL);
	note_lines(text);
	CHECK(strstr(text, "arm-smmuv3"));
	CHECK(strstr(text, "S2P"));
	free(text);
	text = viommuctl(true, "hw-info", edu.bdf, NULL);
	root = json_tokener_parse(text);
	free(text);
	CHECK(root);
	CHECK_STREQ(vc_json_str(root, "vendor"), "arm-smmuv3");
	check_note("hw-info source: %s", vc_json_str(root, "source"));
	json_object_put(root);
}

/* Destroy leaves nothing: each kernel ID is gone from the VM's iommufd (our
 * handed-out copy shows it), and once that copy is closed the device goes back. */
static void test_destroy(void)
{
	uint32_t ids[5] = { 0 };
	int iommufd = -1;

	CHECK(first.domain);
	kernel_ids(ids);
	check_note("kernel IDs: IOAS %u, parent %u, vIOMMU %u, vDEVICE %u, nested %u", ids[0],
		   ids[1], ids[2], ids[3], ids[4]);
	CHECK_DBUS_OK(&c, vc_get_fd(&c, first.vm, NULL, &iommufd));
	vmm_close(&first);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		CHECK_RET(iommufd_destroy(iommufd, ids[i]), -ENOENT);
	CHECK(close(iommufd) == 0);
	CHECK(vc_wait_given_back(&c, dev, edu.driver));
	CHECK_EQ(vc_daemon_fds("/dev/vfio/"), 0);
	if (vc_daemon_fds("/dev/iommu") >= 0)
		CHECK_EQ(vc_daemon_fds("/dev/iommu"), 0);
}

/* A second VM takes the vEVENTQ's own fd: the records are the VMM's to read. */
static void test_handout(void)
{
	struct vmm second = { .memfd = -1, .devfd = -1, .mem = MAP_FAILED };
	int fd;

	CHECK(dev);
	vmm_open(&second, "handout");
	vmm_nest(&second);
	CHECK(stage1_lands(&second, S1G_OFF_S1_DST, 12));
	CHECK_DBUS_OK(&c, vc_open_event_queue(&c, second.viommu, VEVENTQ_TYPE, 64, false, &fd));
	CHECK(!dma_lands(&second, S1G_SRC, S1G_UNMAPPED, S1G_OFF_S1_SRC, S1G_OFF_S1_DST, 13));
	CHECK(s1g_read_faults(fd, sid, S1G_UNMAPPED) > 0);
	CHECK(close(fd) == 0);
	vmm_close(&second);
	CHECK(vc_wait_given_back(&c, dev, edu.driver));
	vc_close(&c);
	CHECK_EQ(check_count_fds(), fds_at_start);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_find),	  CHECK_CASE(test_vm),	     CHECK_CASE(test_stage1),
		CHECK_CASE(test_fastpath), CHECK_CASE(test_relay),    CHECK_CASE(test_restart),
		CHECK_CASE(test_bad),	  CHECK_CASE(test_show),     CHECK_CASE(test_destroy),
		CHECK_CASE(test_handout),
	};

	fds_at_start = check_count_fds();
	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
