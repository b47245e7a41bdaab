/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libviommu: the C client library of viommud, for VMMs and tools.
 *
 * Every function returns 0 or a negative errno. When the daemon answered
 * with an error, viommu_client_error_name() and viommu_client_error_message()
 * tell which and why (e.g. "org.viommu1.Error.InvalidArgument"), until the
 * next call on the same client. Handles are opaque; freeing a handle never
 * destroys the object in the daemon (the *_destroy() calls do that).
 *
 * Where a device is named, either its object path ("/org/viommu1/device/...")
 * or its name ("0000:00:05.0", "selftest0") is accepted.
 *
 * A client is not thread-safe: use one per thread. It cannot be used in a
 * child after fork(). Handles keep a pointer to their client: free them
 * before the client. Argument errors (a NULL handle, a device name that
 * cannot be one) give -EINVAL before anything is sent, with no error name.
 */
#ifndef VIOMMU_VIOMMU_H
#define VIOMMU_VIOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct viommu_client;
struct viommu_vm;
struct viommu_viommu;
struct viommu_domain;
struct viommu_vdevice;
struct viommu_hw_queue;
struct viommu_fault_queue;

/* The private socket when neither an explicit path nor $VIOMMU_SOCKET is given. */
#define VIOMMU_DEFAULT_SOCKET "/run/viommud/viommud.sock"

/* Mapping flags of viommu_vm_map(): the kernel's IOMMU_IOAS_MAP_* bits. */
#define VIOMMU_MAP_WRITEABLE (1u << 1)
#define VIOMMU_MAP_READABLE (1u << 2)

/* Flags of viommu_vm_read_dirty_bitmap(): the kernel's IOMMU_HWPT_GET_DIRTY_BITMAP_* bits. */
#define VIOMMU_DIRTY_NO_CLEAR (1u << 0)

/* Codes of viommu_fault_queue_respond(): the kernel's IOMMUFD_PAGE_RESP_* values. */
#define VIOMMU_PAGE_RESP_SUCCESS 0u
#define VIOMMU_PAGE_RESP_INVALID 1u

/*
 * Connects to the private socket: socket_path, else $VIOMMU_SOCKET (ignored
 * in a set-uid program), else the default. A socket that is missing gives
 * -ENOENT, one nobody listens on -ECONNREFUSED.
 */
int viommu_client_connect(const char *socket_path, struct viommu_client **out);
/* Connects to org.viommu1 on the system bus. */
int viommu_client_connect_system(struct viommu_client **out);
/* Closes the connection; VMs not created with persist are torn down by the daemon. */
void viommu_client_free(struct viommu_client *client);
/*
 * The D-Bus error name of the last failed call, or NULL (success, or a local
 * failure). An org.freedesktop.DBus.Error.UnknownObject (an object that does
 * not exist or that the caller may not see) is returned as -ENOENT.
 */
const char *viommu_client_error_name(const struct viommu_client *client);
/* The daemon's message for that error, for people; or NULL. */
const char *viommu_client_error_message(const struct viommu_client *client);

/*
 * The object path of a device: "/org/viommu1/device/" + its name with ':'
 * and '.' replaced by '_'. A name is "selftestN" or a PCI address, with its
 * domain ("0000:00:05.0") or without ("00:05.0", domain 0000), in either
 * case. A string starting with '/' must be a path under
 * "/org/viommu1/device/" and is taken as it is. -EINVAL for anything else.
 * No I/O; free() *out_path.
 */
int viommu_device_path(const char *device, char **out_path);

/* NULL-terminated arrays of object paths; free with viommu_strv_free(). */
/* Every assignable device present. */
int viommu_list_devices(struct viommu_client *client, char ***out_paths);
/* The VMs the caller may see (root: all). */
int viommu_list_vms(struct viommu_client *client, char ***out_paths);
/* Frees such an array and its strings; NULL is a no-op. */
void viommu_strv_free(char **strv);
/* The daemon's state as the caller may see it, JSON; free() it. */
int viommu_describe(struct viommu_client *client, char **out_json);
/* The daemon's metrics, Prometheus text (format 0.0.4): the daemon-wide
 * series and those of the VMs the caller may see; free() it. */
int viommu_get_metrics(struct viommu_client *client, char **out_text);
/* The daemon's version string; free() it. */
int viommu_version(struct viommu_client *client, char **out_version);

struct viommu_orphan {
	char *name;   /* its fd store name, for viommu_release_orphan() */
	char *target; /* what the fd refers to, e.g. "/dev/iommu" */
};

/*
 * The fds from the service manager's fd store that no VM explains (root
 * only): an array ended by an entry whose name is NULL, never NULL on
 * success; free it with viommu_orphans_free().
 */
int viommu_list_orphans(struct viommu_client *client, struct viommu_orphan **out_orphans);
/* Frees such an array and its strings; NULL is a no-op. */
void viommu_orphans_free(struct viommu_orphan *orphans);
/* Closes every orphaned fd stored under name (root only); -ENOENT when none is. */
int viommu_release_orphan(struct viommu_client *client, const char *name);

/*
 * Binds a device to vfio-pci, remembering its previous driver (root only;
 * -EBUSY while a VM has it, -EOPNOTSUPP for a mock device).
 */
int viommu_device_bind_vfio(struct viommu_client *client, const char *device);
/* Takes it off vfio-pci: back to the driver the daemon took it from, else none (root only). */
int viommu_device_unbind_vfio(struct viommu_client *client, const char *device);

struct viommu_vm_options {
	const char *mode;    /* "managed" (NULL) or "broker" */
	bool persist;	     /* survives its creator's connection */
	bool pasid;	     /* PASID-capable nesting parent */
	bool dirty_tracking; /* dirty-capable nesting parent, for live migration (managed) */
};

/*
 * Creates a VM owned by the caller, bound to this connection unless
 * options->persist. The name is 1 to 63 of [A-Za-z0-9._-], unique per uid.
 * options may be NULL for the defaults.
 */
int viommu_vm_create(struct viommu_client *client, const char *name,
		     const struct viommu_vm_options *options, struct viommu_vm **out);
/* A handle on an existing VM the caller may see, by object path. */
int viommu_vm_open(struct viommu_client *client, const char *path, struct viommu_vm **out);
/* The VM's object path, valid while the handle lives. */
const char *viommu_vm_path(const struct viommu_vm *vm);
/* Frees the handle only; NULL is a no-op. */
void viommu_vm_free(struct viommu_vm *vm);
/* Tears the VM down in the daemon and frees the handle (kept on failure). */
int viommu_vm_destroy(struct viommu_vm *vm);
/*
 * Makes this connection the VM's owner connection: after a restart of the
 * daemon (within claim_grace_seconds), or to take over a persistent VM.
 * -EPERM for another uid's VM, -EBUSY while another connection holds it.
 */
int viommu_vm_claim(struct viommu_vm *vm);
/*
 * Ties a broker VM to the caller's own process, pidfd (pidfd_open(2) of
 * itself; the daemon gets a copy, the caller keeps its own), and raises its
 * RLIMIT_MEMLOCK for guest_bytes more; *out_memlock_limit (may be NULL) gets
 * the new soft limit. Private socket only.
 */
int viommu_vm_bind_vmm(struct viommu_vm *vm, int pidfd, uint64_t guest_bytes,
		       uint64_t *out_memlock_limit);

/*
 * IOMMU_IOAS_MAP_FILE of [offset, offset + length) of memfd at iova, all
 * multiples of 4096, inside one of the IOVA ranges; flags: VIOMMU_MAP_*.
 * The daemon gets a copy of memfd; the caller keeps its own.
 */
int viommu_vm_map(struct viommu_vm *vm, int memfd, uint64_t offset, uint64_t length,
		  uint64_t iova, uint32_t flags);
/* Unmaps what lies in [iova, iova + length); *out_unmapped (may be NULL) gets the bytes. */
int viommu_vm_unmap(struct viommu_vm *vm, uint64_t iova, uint64_t length, uint64_t *out_unmapped);

struct viommu_iova_range {
	uint64_t start;
	uint64_t last; /* inclusive */
};

/*
 * The IOVA ranges usable for viommu_vm_map() (they change when devices
 * come and go). *inout_count: capacity in, ranges out; -EMSGSIZE (with the
 * count needed) if too small; ranges may be NULL when the capacity is 0.
 */
int viommu_vm_iova_ranges(struct viommu_vm *vm, struct viommu_iova_range *ranges,
			  size_t *inout_count);
/*
 * Keeps count ranges (at most 64) usable in the VM's IOAS, replacing the last
 * call's: a device whose IOMMU cannot reach them all cannot be attached. It
 * restricts nothing else. count 0 lifts it (ranges may then be NULL).
 */
int viommu_vm_allow_iovas(struct viommu_vm *vm, const struct viommu_iova_range *ranges,
			  size_t count);

struct viommu_attach_options {
	const char *vf_token; /* SR-IOV VF token UUID, or NULL */
	bool has_pasid;
	uint32_t pasid;
};

/*
 * Attaches a device to the VM (managed: binds its cdev and puts it on the
 * parent domain; broker: reserves it). options may be NULL.
 */
int viommu_vm_attach(struct viommu_vm *vm, const char *device,
		     const struct viommu_attach_options *options);
/*
 * Attaches count devices (1 to 1024) with no options in one call: all or
 * nothing; on failure the error is the first failing device's.
 */
int viommu_vm_attach_devices(struct viommu_vm *vm, const char *const *devices, size_t count);
/* Releases a device; -EBUSY while it is on a nested domain or has a vDEVICE. */
int viommu_vm_detach(struct viommu_vm *vm, const char *device);

/*
 * The fast path: the VM's own iommufd (close-on-exec). The caller owns
 * *out_fd. The VM is marked shared from then on.
 */
int viommu_vm_get_iommufd(struct viommu_vm *vm, int *out_fd);
/* The device's VFIO cdev (bound in a managed VM, unbound in a broker VM); caller owns it. */
int viommu_vm_get_device_fd(struct viommu_vm *vm, const char *device, int *out_fd);
/* Kernel IDs inside the VM's iommufd: its IOAS and nesting parent (0: none yet).
 * Either pointer may be NULL. */
int viommu_vm_kernel_ids(struct viommu_vm *vm, uint32_t *out_ioas_id, uint32_t *out_parent_id);

/* Dirty tracking of the VM's parent domain on or off (VMs created with dirty-tracking). */
int viommu_vm_set_dirty_tracking(struct viommu_vm *vm, bool enable);
/*
 * Writes the dirty bitmap of [iova, iova + length) into bitmap_fd from
 * offset 0, one bit per page_size page (a power of two, at least 4096, that
 * iova and length are non-zero multiples of). bitmap_fd: a memfd open
 * read-write, sealed with F_SEAL_SHRINK, large enough; the caller keeps it.
 * flags: VIOMMU_DIRTY_NO_CLEAR or 0. *out_dirty_pages (may be NULL) gets the
 * number of dirty pages.
 */
int viommu_vm_read_dirty_bitmap(struct viommu_vm *vm, uint64_t iova, uint64_t length,
				uint64_t page_size, int bitmap_fd, uint32_t flags,
				uint64_t *out_dirty_pages);

/*
 * Creates a vIOMMU over the VM's nesting parent (a device must be attached).
 * type: "auto" or a vendor name; data: the vendor's driver data in (may be
 * NULL), at most 4096 bytes.
 */
int viommu_viommu_create(struct viommu_vm *vm, const char *type, const void *data,
			 size_t data_len, struct viommu_viommu **out);
/* The vIOMMU's object path, valid while the handle lives. */
const char *viommu_viommu_path(const struct viommu_viommu *viommu);
/* Its kernel ID in the VM's iommufd: the hwpt_id of IOMMU_HWPT_INVALIDATE on the fast path. */
uint32_t viommu_viommu_kernel_id(const struct viommu_viommu *viommu);
/* The MMIO window the driver data reported, to mmap() from the VM's iommufd
 * (HW queues); both 0 when the type has none. */
int viommu_viommu_mmap_window(struct viommu_viommu *viommu, uint64_t *out_offset,
			      uint64_t *out_length);
/* Frees the handle only; NULL is a no-op. */
void viommu_viommu_free(struct viommu_viommu *viommu);
/* Destroys the vIOMMU and frees the handle (kept on failure: -EBUSY while
 * a domain or vDEVICE of it exists). */
int viommu_viommu_destroy(struct viommu_viommu *viommu);
/* A vDEVICE for an attached device with the guest's virtual ID (vSID, vRID, ...). */
int viommu_viommu_add_device(struct viommu_viommu *viommu, const char *device, uint64_t virt_id,
			     struct viommu_vdevice **out);

struct viommu_nest_device {
	const char *device;		/* in: an attached device, on no nested domain */
	uint64_t virt_id;		/* in: its guest virtual ID */
	struct viommu_vdevice *vdevice; /* out: its new vDEVICE */
	struct viommu_domain *domain;	/* out: its new nested domain, with it on it */
};

/*
 * For each of count entries (1 to 1024), in one call: a vDEVICE, a nested
 * domain from data_type and data (as viommu_viommu_alloc_domain()), and the
 * device moved onto it. All or nothing. On success every entry's vdevice
 * and domain are new handles; on failure none is made.
 */
int viommu_viommu_nest_devices(struct viommu_viommu *viommu, struct viommu_nest_device *devices,
			       size_t count, uint32_t data_type, const void *data, size_t len);
/* A nested domain on this vIOMMU from the guest's data: the vendor's
 * IOMMU_HWPT_DATA_* type and structure, of exactly its size. */
int viommu_viommu_alloc_domain(struct viommu_viommu *viommu, uint32_t data_type, const void *data,
			       size_t len, struct viommu_domain **out);
/*
 * Invalidates with count entries of entry_len bytes. *out_handled gets how
 * many the kernel handled. A rejected entry is no failure of the call: it
 * returns 0 and sets *out_error to the kernel's (positive) errno for it.
 */
int viommu_viommu_invalidate(struct viommu_viommu *viommu, uint32_t data_type, uint32_t entry_len,
			     const void *entries, uint32_t count, uint32_t *out_handled,
			     int *out_error);

/*
 * Opens the vIOMMU's event queue of type (the vendor's vEVENTQ type) for
 * depth events (1 to 65536). Without relay *out_fd is the queue's own fd;
 * with relay the daemon reads it and sends Event signals, and *out_fd is an
 * eventfd counting them. The caller owns *out_fd (close-on-exec).
 */
int viommu_viommu_open_event_queue(struct viommu_viommu *viommu, uint32_t type, uint32_t depth,
				   bool relay, int *out_fd);
/*
 * Allocates HW queue index of type (the vendor's) over the guest memory at
 * [base_iova, base_iova + length), inside one mapping and physically
 * contiguous; length must not be 0.
 */
int viommu_viommu_alloc_hw_queue(struct viommu_viommu *viommu, uint32_t type, uint32_t index,
				 uint64_t base_iova, uint64_t length, struct viommu_hw_queue **out);
/* The HW queue's object path, valid while the handle lives. */
const char *viommu_hw_queue_path(const struct viommu_hw_queue *hw_queue);
/* Its kernel ID in the VM's iommufd. */
uint32_t viommu_hw_queue_kernel_id(const struct viommu_hw_queue *hw_queue);
/* Frees the handle only; NULL is a no-op. */
void viommu_hw_queue_free(struct viommu_hw_queue *hw_queue);
/* Destroys the HW queue and frees the handle (kept on failure: -EBUSY while
 * a queue of higher index exists). */
int viommu_hw_queue_destroy(struct viommu_hw_queue *hw_queue);

/* A nested domain directly on the VM's parent (vendors without a vIOMMU object). */
int viommu_vm_alloc_domain(struct viommu_vm *vm, uint32_t data_type, const void *data,
			   size_t len, struct viommu_domain **out);
/* The domain's object path, valid while the handle lives. */
const char *viommu_domain_path(const struct viommu_domain *domain);
/* The nested HWPT's kernel ID in the VM's iommufd. */
uint32_t viommu_domain_kernel_id(const struct viommu_domain *domain);
/* Frees the handle only; NULL is a no-op. */
void viommu_domain_free(struct viommu_domain *domain);
/* Destroys the domain and frees the handle (kept on failure: -EBUSY while a device is on it). */
int viommu_domain_destroy(struct viommu_domain *domain);
/* Moves an attached device onto this domain, without a gap. */
int viommu_domain_attach(struct viommu_domain *domain, const char *device);
/* Moves the device back to the VM's parent domain. */
int viommu_domain_detach(struct viommu_domain *domain, const char *device);
/* Like viommu_viommu_invalidate(), on this nested domain (e.g. IOTLB entries). */
int viommu_domain_invalidate(struct viommu_domain *domain, uint32_t data_type, uint32_t entry_len,
			     const void *entries, uint32_t count, uint32_t *out_handled,
			     int *out_error);

/* The vDEVICE's object path, valid while the handle lives. */
const char *viommu_vdevice_path(const struct viommu_vdevice *vdevice);
/* Its kernel ID in the VM's iommufd. */
uint32_t viommu_vdevice_kernel_id(const struct viommu_vdevice *vdevice);
/* Frees the handle only; NULL is a no-op. */
void viommu_vdevice_free(struct viommu_vdevice *vdevice);
/* Destroys the vDEVICE and frees the handle (kept on failure). */
int viommu_vdevice_destroy(struct viommu_vdevice *vdevice);

/*
 * Opens an IO page fault queue (managed VMs). Without relay *out_fd is the
 * queue's own fd (read faults, write responses); with relay the daemon
 * sends Fault signals, answered with viommu_fault_queue_respond(), and
 * *out_fd is an eventfd counting them. The caller owns *out_fd
 * (close-on-exec).
 */
int viommu_vm_open_fault_queue(struct viommu_vm *vm, bool relay, struct viommu_fault_queue **out,
			       int *out_fd);
/* The fault queue's object path, valid while the handle lives. */
const char *viommu_fault_queue_path(const struct viommu_fault_queue *fault_queue);
/* Its kernel ID in the VM's iommufd. */
uint32_t viommu_fault_queue_kernel_id(const struct viommu_fault_queue *fault_queue);
/* Frees the handle only; NULL is a no-op. */
void viommu_fault_queue_free(struct viommu_fault_queue *fault_queue);
/* Answers what is pending, destroys the queue and frees the handle (kept on
 * failure: -EBUSY while a domain reports to it). */
int viommu_fault_queue_destroy(struct viommu_fault_queue *fault_queue);
/*
 * Answers the relayed fault group whose last page had cookie, with
 * VIOMMU_PAGE_RESP_SUCCESS or VIOMMU_PAGE_RESP_INVALID. -ENOENT when none
 * is pending; -EINVAL for a queue that was handed out.
 */
int viommu_fault_queue_respond(struct viommu_fault_queue *fault_queue, uint32_t cookie,
			       uint32_t code);

#ifdef __cplusplus
}
#endif

#endif /* VIOMMU_VIOMMU_H */
