/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Vm.BindVmm: a VM that lives exactly as long as its VMM process. The daemon
 * holds a pidfd of the process (the launcher's, which becomes the VMM's at
 * exec), raises its RLIMIT_MEMLOCK for what its uid will pin (a broker VM's
 * iommufd charges the uid's locked_vm: one counter per uid, checked against
 * the pinning task's limit), puts the old limit back when the VM ends, and
 * tears the VM down when the process exits, whatever happened to its
 * connection, and across a restart of the daemon (the pidfd is in the fd
 * store).
 */
#include "model.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log-event.h"
#include "log.h"

/* The pid a pidfd names (its fdinfo); -ESRCH once the process is gone. */
int pidfd_pid(int pidfd, pid_t *out)
{
	char path[64], line[128];
	FILE *f;
	int pid = 0, found = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1) {
			found = 1;
			break;
		}
	fclose(f);
	if (!found)
		return -EBADF; /* not a pidfd */
	if (pid <= 0)
		return -ESRCH;
	*out = pid;
	return 0;
}

/* The real uid of a process, from /proc. */
static int proc_uid(pid_t pid, uid_t *out)
{
	char path[64], line[256];
	unsigned int uid;
	FILE *f;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u", &uid) == 1) {
			*out = uid;
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

/* RLIMIT_MEMLOCK of pid raised to at least bytes (never lowered); the old
 * one in *old. */
static int raise_memlock(pid_t pid, uint64_t bytes, struct rlimit *old, uint64_t *out_limit)
{
	struct rlimit want;

	if (prlimit(pid, RLIMIT_MEMLOCK, NULL, old) < 0)
		return -errno;
	want.rlim_cur = old->rlim_cur == RLIM_INFINITY || old->rlim_cur >= bytes ? old->rlim_cur
										  : bytes;
	want.rlim_max = old->rlim_max == RLIM_INFINITY || old->rlim_max >= want.rlim_cur
				? old->rlim_max
				: want.rlim_cur;
	if ((want.rlim_cur != old->rlim_cur || want.rlim_max != old->rlim_max) &&
	    prlimit(pid, RLIMIT_MEMLOCK, &want, NULL) < 0)
		return -errno;
	*out_limit = want.rlim_cur;
	return 0;
}

/*
 * The VM is over: the VMM's limit goes back to what it was, if the process
 * still runs and nobody changed the limit since (the pidfd makes sure the
 * pid is still that process). Whatever it still pins stays on its uid's
 * locked_vm until it lets go.
 */
static void restore_memlock(struct vm *vm)
{
	struct rlimit now;

	if (!vm->vmm_old_memlock_set || vm->vmm_pid <= 0)
		return;
	vm->vmm_old_memlock_set = false;
	if (syscall(SYS_pidfd_send_signal, vm->vmm_pidfd, 0, NULL, 0) < 0 ||
	    prlimit(vm->vmm_pid, RLIMIT_MEMLOCK, NULL, &now) < 0 ||
	    now.rlim_cur != vm->vmm_set_memlock.rlim_cur ||
	    now.rlim_max != vm->vmm_set_memlock.rlim_max)
		return;
	if (prlimit(vm->vmm_pid, RLIMIT_MEMLOCK, &vm->vmm_old_memlock, NULL) < 0)
		log_warning("VM %s: cannot put back the memlock limit of pid %d: %s", vm->name,
			    (int)vm->vmm_pid, strerror(errno));
	else
		log_info("VM %s: pid %d has its memlock limit of before BindVmm again", vm->name,
			 (int)vm->vmm_pid);
}

static void vmm_on_exit(evutil_socket_t fd, short events, void *arg)
{
	struct vm *vm = arg;
	struct daemon *d = vm->daemon;

	log_info("VM %s (%s): its VMM (pid %d) exited; tearing it down", vm->name, vm->path,
		 (int)vm->vmm_pid);
	vm_teardown(vm);
	vm_free(vm);
	model_changed(d);
}

int vm_vmm_watch(struct vm *vm)
{
	/* A pidfd polls readable once the process has exited. */
	vm->vmm_event = event_new(vm->daemon->base, vm->vmm_pidfd, EV_READ, vmm_on_exit, vm);
	if (!vm->vmm_event || event_add(vm->vmm_event, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void vm_vmm_release(struct vm *vm)
{
	if (vm->vmm_pidfd >= 0)
		restore_memlock(vm);
	if (vm->vmm_event) {
		event_free(vm->vmm_event);
		vm->vmm_event = NULL;
	}
	if (vm->vmm_pidfd >= 0) {
		vm_fd_unstore(vm, "pidfd");
		close(vm->vmm_pidfd);
		vm->vmm_pidfd = -1;
	}
}

/* The pidfd must be the caller's own process, seen by the kernel: its
 * SO_PEERPIDFD on the private socket, the bus's credentials otherwise. */
static int check_caller_process(const struct server_peer *peer, pid_t peer_pid, pid_t pid,
				struct verror *error)
{
	uid_t uid = (uid_t)-1;
	int r;

	/* The system bus names the caller by a pid alone, which the process may
	 * have left and another taken: only the private socket's kernel-made
	 * pidfd (SO_PEERPIDFD) ties the pidfd to the caller. */
	if (peer_pid == -ENXIO)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "BindVmm is served on the private socket only, where the "
				 "kernel names the caller's process");
	if (peer_pid < 0)
		return error_errno(error, peer_pid, "cannot tell the caller's process");
	if (peer_pid == 0)
		return error_set(error, VIOMMU_ERROR_PERMISSION_DENIED,
				 "cannot tell the caller's process to check the pidfd against");
	if (peer_pid != pid)
		return error_set(error, VIOMMU_ERROR_PERMISSION_DENIED,
				 "the pidfd names pid %d, not the caller (pid %d): pass "
				 "pidfd_open(getpid())",
				 (int)pid, (int)peer_pid);
	r = proc_uid(pid, &uid);
	if (r < 0 || uid != peer->uid)
		return error_set(error, VIOMMU_ERROR_PERMISSION_DENIED,
				 "pid %d does not run as uid %u", (int)pid, (unsigned int)peer->uid);
	return 0;
}

int vm_bind_vmm(struct vm *vm, const struct server_peer *caller, pid_t caller_pid, int pidfd,
		uint64_t guest_bytes, uint64_t *out_limit, struct verror *error)
{
	struct daemon *d = vm->daemon;
	const struct server_peer peer = *caller;
	uint64_t want, limit = 0, quota = d->config->quota_pinned_bytes;
	struct rlimit old;
	int own = -1, r;
	pid_t pid;

	if (peer.uid != vm->owner)
		return error_set(error, VIOMMU_ERROR_PERMISSION_DENIED,
				 "VM %s belongs to uid %u: only its owner's VMM may bind to it",
				 vm->name, (unsigned int)vm->owner);
	if (vm->mode != VM_MODE_BROKER)
		return error_set(error, VIOMMU_ERROR_NOT_SUPPORTED,
				 "VM %s is a managed VM: BindVmm is for broker VMs, whose VMM "
				 "pins guest memory itself",
				 vm->name);
	if (vm->vmm_pidfd >= 0)
		return error_set(error, VIOMMU_ERROR_BUSY, "VM %s is already bound to pid %d",
				 vm->name, (int)vm->vmm_pid);
	r = pidfd_pid(pidfd, &pid);
	if (r == -EBADF)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "the fd is not a pidfd (pidfd_open(2))");
	if (r < 0)
		return error_errno(error, r, "the pidfd's process is gone");
	r = check_caller_process(&peer, caller_pid, pid, error);
	if (r < 0)
		return r;
	if (guest_bytes > UINT64_MAX - d->config->memlock_headroom)
		return error_set(error, VIOMMU_ERROR_INVALID_ARGUMENT,
				 "guest_bytes 0x%llx is too large",
				 (unsigned long long)guest_bytes);
	want = guest_bytes + d->config->memlock_headroom;
	/* The VMM pins through its own iommufd: the uid's ledger counts it too. */
	uint64_t pinned = vm_pinned_bytes_of(d, vm->owner);

	if (quota && (pinned > quota || want > quota - pinned)) {
		log_event(LOG_EVENT_QUOTA_REFUSED, LOG_NOTICE,
			  LOG_FIELDS(.vm = vm->name, LOG_UID(peer.uid),
				     .limit = "quota_pinned_bytes_per_uid"),
			  "AUDIT quota-refused uid=%u pid=%d vm=%s limit=quota_pinned_bytes_per_uid"
			  "(%llu) what=BindVmm bytes=%llu",
			  (unsigned int)peer.uid, (int)pid, vm->name, (unsigned long long)quota,
			  (unsigned long long)want);
		return error_set(error, VIOMMU_ERROR_QUOTA_EXCEEDED,
				 "uid %u has %llu bytes pinned; %llu more (guest memory plus "
				 "memlock_headroom_bytes) would pass the quota_pinned_bytes_per_uid "
				 "limit of %llu",
				 (unsigned int)peer.uid, (unsigned long long)pinned,
				 (unsigned long long)want, (unsigned long long)quota);
	}
	own = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
	if (own < 0)
		return error_errno(error, -errno, "cannot keep the pidfd");
	/* The uid's pins share one counter: this VMM's limit is the uid's
	 * whole allowance, what its other VMs hold plus this one. */
	r = raise_memlock(pid, pinned + want < pinned ? UINT64_MAX : pinned + want, &old, &limit);
	/* The pid was checked through the pidfd: it must still be that process. */
	if (r == 0 && syscall(SYS_pidfd_send_signal, own, 0, NULL, 0) < 0)
		r = -ESRCH;
	if (r < 0) {
		close(own);
		return error_errno(error, r, "cannot raise the memlock limit of pid %d", (int)pid);
	}
	vm->vmm_pidfd = own;
	vm->vmm_pid = pid;
	model_vm_property_changed(vm, "VmmPid");
	vm->vmm_memlock = want;
	vm->vmm_old_memlock = old;
	vm->vmm_set_memlock = (struct rlimit){ .rlim_cur = limit,
					       .rlim_max = old.rlim_max == RLIM_INFINITY ||
								   old.rlim_max >= limit
							   ? old.rlim_max
							   : limit };
	vm->vmm_old_memlock_set = true;
	r = vm_vmm_watch(vm);
	if (r < 0) {
		vm_vmm_release(vm);
		return error_errno(error, r, "cannot watch pid %d", (int)pid);
	}
	{
		char name[FDSTORE_NAME_MAX];

		/* FDPOLL=0: a pidfd hangs up when its process exits. */
		vm_fd_name(vm, "pidfd", name, sizeof(name));
		fdstore_add(name, &own, 1, false);
	}
	log_event(LOG_EVENT_FAST_PATH, LOG_NOTICE, LOG_FIELDS(.vm = vm->name, LOG_UID(peer.uid)),
		  "AUDIT bind-vmm uid=%u pid=%d vm=%s memlock=%llu", (unsigned int)peer.uid,
		  (int)pid, vm->name, (unsigned long long)limit);
	*out_limit = limit;
	return 0;
}
