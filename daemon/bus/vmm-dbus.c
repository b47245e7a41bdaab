/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Vm.BindVmm on the bus: who the caller's process is, as the kernel says. */
#include "daemon.h"

#include <errno.h>
#include <unistd.h>

#include "errors.h"

int vm_method_bind_vmm(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct verror e = VERROR_INIT;
	struct server_peer peer;
	uint64_t guest_bytes, limit = 0;
	int pidfd, peer_pidfd = -1, r;
	pid_t caller_pid;

	r = daemon_caller(m, &peer, error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(m, "ht", &pidfd, &guest_bytes);
	if (r < 0)
		return r;
	/* The caller's process as the kernel names it: SO_PEERPIDFD on the
	 * private socket; -ENXIO elsewhere (the model refuses then). */
	r = server_peer_pidfd(m, &peer_pidfd);
	if (r == 0) {
		r = pidfd_pid(peer_pidfd, &caller_pid);
		close(peer_pidfd);
		if (r < 0)
			caller_pid = r;
	} else {
		caller_pid = r == -ENXIO ? -ENXIO : peer.pid;
	}
	r = vm_bind_vmm(userdata, &peer, caller_pid, pidfd, guest_bytes, &limit, &e);
	if (r < 0)
		return bus_error(error, &e, r);
	return sd_bus_reply_method_return(m, "t", limit);
}
