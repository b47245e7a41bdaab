/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's object model: the device inventory and the VMs with their
 * kernel objects. Each VM has its own iommufd context, so IDs never cross VMs.
 * Functions return 0 or a negative errno; those serving D-Bus fill an
 * sd_bus_error through errors.h.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "config.h"
#include "fdstore.h"
#include "iommufd.h"
#include "pci-sysfs.h"
#include "server.h"
#include "wire.h"
#include "vendor.h"


#define VIOMMU_PATH_MAX 128
#define VM_NAME_MAX 64
#define VIOMMU_DATA_MAX 4096 /* driver data and nested-domain data, bytes */

struct event;
struct uevent;
struct uevent_monitor;
struct vm;
struct domain;

/* An assignable device: a PCI device behind an IOMMU, or a selftest mock. */
struct device {
	struct device *next;
	struct daemon *daemon;
	char name[PCI_NAME_MAX]; /* PCI address, or "selftestN" */
	char path[VIOMMU_PATH_MAX];
	bool mock;
	bool present; /* false once the kernel removed it */
	struct pci_sysfs_device pci;
	struct vm *vm; /* NULL when free */
	/* Set when the daemon bound it to vfio-pci, to give it back later. */
	bool daemon_bound;
	struct pci_driver_binding saved;
	/* A thread is giving it back, waiting for a VMM to close its fd. */
	bool quarantined;	   /* left a VM; see device-release.c */
	bool quarantine_to_driver; /* then to saved.driver, not vfio-pci */
	/* The vendor of its IOMMU and its decoded capabilities, from sysfs
	 * registers until a VM binds it, then from IOMMU_GET_HW_INFO. */
	const struct viommu_vendor *vendor;
	struct viommu_caps caps;
	bool hw_info_from_kernel;
};

/* A device attached to a VM. */
struct vm_device {
	struct vm_device *next;
	struct device *device;
	int devfd;	   /* VFIO cdev bound to the VM's iommufd; -1 for a mock */
	uint32_t dev_id;   /* iommufd device ID (idev) */
	uint32_t stdev_id; /* mock: the selftest object that owns the device */
	uint32_t pt_id;	   /* what the RID is attached to now */
	struct domain *domain; /* the nested domain it is on, or NULL (parent) */
	bool pasid_attached;
	uint32_t pasid;
	bool fd_handed_out;
	/* The kernel's request IRQ: it wants the device back (unbind, removal). */
	int req_fd;
	struct event *req_event;
};

struct vm_mapping {
	struct vm_mapping *next;
	uint64_t iova, length;
};

struct vdevice {
	struct vdevice *next;
	struct viommu *viommu;
	struct device *device;
	uint64_t virt_id;
	uint32_t kernel_id;
	char path[VIOMMU_PATH_MAX];
};

/* An IO page fault queue of a VM. */
struct fault_queue {
	struct fault_queue *next;
	struct vm *vm;
	uint32_t kernel_id;
	bool relay;
	int fd;	       /* relay: the fault fd the daemon reads and answers on */
	int notify_fd; /* relay: an eventfd the VMM got, counting faults */
	struct event *event;
	uint64_t faults, responses;
	size_t npending;
	uint32_t pending[1024]; /* relay: cookies not answered yet */
	char path[VIOMMU_PATH_MAX];
};

struct domain {
	struct domain *next;
	struct vm *vm;
	struct fault_queue *fault; /* fault-capable against it, or NULL */
	struct viommu *viommu; /* NULL: nested directly on the parent */
	const struct viommu_vendor *vendor;
	uint32_t kernel_id;
	uint32_t data_type;
	char path[VIOMMU_PATH_MAX];
	uint64_t invalidations;
};

/* A vEVENTQ: handed to the VMM, or relayed by the daemon as signals. */
struct veventq {
	struct veventq *next;
	struct viommu *viommu;
	uint32_t kernel_id;
	uint32_t type;
	bool relay;
	int fd;	       /* relay: the vEVENTQ fd the daemon reads; else -1 */
	int notify_fd; /* relay: an eventfd the VMM got, counting relayed events */
	struct event *event;
	bool have_seq;
	uint32_t next_seq;
};

/* A hardware queue (guest command buffer and the like) on a vIOMMU. */
struct hw_queue {
	struct hw_queue *next;
	struct viommu *viommu;
	uint32_t kernel_id;
	uint32_t type;
	uint32_t index;
	uint64_t base_iova, length;
	char path[VIOMMU_PATH_MAX];
};

struct viommu {
	struct viommu *next;
	struct vm *vm;
	const struct viommu_vendor *vendor;
	uint32_t kernel_id;
	uint32_t type;
	uint64_t invalidations;
	struct veventq *veventqs;
	struct hw_queue *hw_queues;
	uint64_t events_relayed;
	uint64_t events_lost;
	bool has_mmap;
	uint64_t mmap_offset, mmap_length;
	char iommu[PCI_NAME_MAX]; /* the physical IOMMU it stands for */
	char path[VIOMMU_PATH_MAX];
};

enum vm_mode {
	VM_MODE_MANAGED, /* the daemon owns every kernel object */
	VM_MODE_BROKER,	 /* an empty iommufd and unbound cdevs are handed over */
};

struct vm {
	struct vm *next;
	struct daemon *daemon;
	unsigned int id;
	char name[VM_NAME_MAX];
	char path[VIOMMU_PATH_MAX];
	char peer_id[SERVER_PEER_ID_MAX]; /* the connection that created it */
	uid_t owner;
	enum vm_mode mode;
	bool persist;
	bool pasid;   /* nesting parent allocated PASID-capable */
	bool shared;  /* the iommufd was handed out: our state covers only our own work */
	bool nesting; /* the parent is a nesting parent */
	bool parent_mock; /* the parent belongs to the selftest IOMMU, not a real one */
	bool state_dirty; /* its state file is rewritten at the next write */
	/* context-mark.c: proves after a restart that a stored iommufd is ours. */
	uint32_t mark_ioas_id;
	uint64_t mark_iova;
	bool dirty_tracking;	     /* the parent was allocated dirty-capable */
	bool dirty_tracking_enabled; /* and tracking is switched on */
	int iommufd;
	uint32_t ioas_id;
	uint32_t parent_id; /* 0 until the first device is attached */
	struct vm_device *devices;
	struct vm_mapping *mappings;
	uint64_t mapped_bytes;
	struct viommu *viommus;
	struct domain *domains;
	struct vdevice *vdevices;
	struct fault_queue *fault_queues;
	unsigned int next_object; /* numbers the paths of its objects */
	uint32_t nranges;
	struct iommufd_iova_range ranges[16];
	bool tearing_down;
	/* Adopted after a restart and not yet claimed by its owner (Vm.Claim). */
	bool unclaimed;
	/* Vm.BindVmm: the VM lives as long as this process (vmm.c). */
	int vmm_pidfd; /* -1: not bound */
	pid_t vmm_pid;
	uint64_t vmm_memlock; /* bytes the VMM may pin: its memlock limit's share */
	/* RLIMIT_MEMLOCK before BindVmm, put back when the VM ends (not across a
	 * restart of the daemon), and what BindVmm set. */
	struct rlimit vmm_old_memlock, vmm_set_memlock;
	bool vmm_old_memlock_set;
	struct event *vmm_event;
};

/* A call's kernel changes in flight (see state.h). */
struct state_intent {
	bool active;
	char op[64];		    /* the D-Bus member, e.g. "AttachDevice" */
	char path[VIOMMU_PATH_MAX]; /* the object it was called on */
	unsigned int vm;	    /* the VM it changes; for CreateVm, the ID it gets */
	bool has_range;		    /* MapMemory and UnmapMemory: the range */
	uint64_t iova, length;
};

struct daemon {
	struct event_base *base;
	struct server *server;
	struct config *config;
	const char *config_path;
	bool config_required;
	struct device *devices;
	struct vm *vms;		 /* in ID order (vm-index.c) */
	struct vm **vm_index;	 /* the same, sorted by ID */
	size_t nvm_index, vm_index_cap;
	unsigned int next_vm_id;
	bool has_iommufd;
	bool has_selftest;
	bool has_vfio_cdev;
	enum pci_msi_isolation msi_isolation; /* read at each inventory scan */
	struct event *write_soon_event;	      /* state_write_soon() */
	const char *sysfs_root; /* NULL: /sys */
	/* Give-back threads say they are done through this pipe. */
	int release_pipe[2];
	struct event *release_event;
	size_t release_pending; /* quarantines not yet reported on the pipe */
	struct uevent_monitor *uevents; /* NULL: no hot-plug, SIGHUP rescans */
	/* Restart survival (state.h, fdstore.h). */
	const char *state_path; /* NULL: no state file */
	struct state_intent intent;
	struct event *commit_event; /* commits a call that did not itself */
	struct event *claim_timer;  /* tears down VMs nobody claimed in time */
	struct stored_fd *orphans;  /* stored fds nothing explains */
	size_t norphans;
	/* state-files.c */
	int state_durable;	    /* -1 until known; 0 on tmpfs: no fsync */
	bool state_legacy;	    /* the file on disk is version 1's */
	char *state_manifest;	    /* the manifest as last written */
	unsigned int *state_gone;   /* VMs whose files go at the next write */
	size_t nstate_gone, state_gone_cap;
};

/* daemon.c */
int daemon_init(struct daemon *d, struct event_base *base, struct config *config);
void daemon_fini(struct daemon *d);
/* Registers every vtable on a new connection (server callback). */
int daemon_attach_bus(sd_bus *bus, void *userdata);
/* Tears down the VMs of a peer that left, unless they persist (server callback). */
void daemon_peer_gone(const char *peer_id, void *userdata);
/* The private socket is for callers who may use the API: root, and users
 * allowed VMs or the raw-fd grant. Others use the system bus, read-only. */
bool daemon_may_connect(const struct server_peer *peer, void *userdata);
/* Hands the config's connection quotas to the server. */
void daemon_apply_limits(struct daemon *d);
/* Replaces the config (SIGHUP); the old one is freed. */
void daemon_set_config(struct daemon *d, struct config *config);
/* Tells the service manager how many VMs and devices are in use (STATUS=). */
void daemon_update_status(struct daemon *d);
/* Emits a signal on every connection. */
void daemon_emit_device_signal(struct daemon *d, const char *member, const char *path);

/* Frees a NULL-terminated string array (what node enumerators hand sd-bus). */
void strv_free(char **strv);

/* Access: the caller of the current message. */
int daemon_caller(sd_bus_message *m, struct server_peer *out, sd_bus_error *error);
/* PropertiesChanged of one Vm property, its type and new value (vm-dbus.c),
 * to the owner alone. */
void vm_property_changed(struct vm *vm, const char *name, const char *type, ...);
/* PermissionDenied unless the caller holds the raw-fd (fast-path) grant. */
int vm_require_raw_grant(struct daemon *d, sd_bus_message *m, const char *what,
			 sd_bus_error *error);
bool peer_is_root(const struct server_peer *peer);
/* PermissionDenied with why unless the sender of m is root. */
int daemon_require_root(sd_bus_message *m, const char *why, sd_bus_error *error);
/* An audit record (log_notice "AUDIT ...") of what the sender of m did. */
void audit_message(sd_bus_message *m, const char *action, const char *vm, const char *device);

/* device.c */
int device_inventory_scan(struct daemon *d);
void device_inventory_free(struct daemon *d);
struct device *device_by_path(struct daemon *d, const char *path);
struct device *device_by_name(struct daemon *d, const char *name);
void device_refresh(struct daemon *d, struct device *dev);
/* A mock device a restored VM names, outside the configured count. */
struct device *device_add_mock(struct daemon *d, const char *name);
/* Follows a kernel uevent of a PCI device (or a resync). */
void device_uevent(struct daemon *d, const struct uevent *ev);
/* Whether the device may be assigned now; reason gets why not. */
bool device_assignable(struct daemon *d, struct device *dev, char *reason, size_t len);
extern const sd_bus_vtable device_vtable[];
int device_find(sd_bus *bus, const char *path, const char *iface, void *ud, void **found,
		sd_bus_error *error);
int device_enumerate(sd_bus *bus, const char *prefix, void *ud, char ***nodes,
		     sd_bus_error *error);

/* manager.c */
extern const sd_bus_vtable manager_vtable[];
/* orphans.c: Manager.ListOrphans and Manager.ReleaseOrphan (root only) */
int manager_method_list_orphans(sd_bus_message *m, void *userdata, sd_bus_error *error);
int manager_method_release_orphan(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* What a stored fd is (its /proc/self/fd link). */
void orphan_describe(const struct stored_fd *sf, const char *sysfs_root, char *buf, size_t len);

/* context-mark.c */
/* Puts a managed VM's mark into its context (an IOAS, a page at a random IOVA). */
int context_mark_create(struct vm *vm);
/* 0 when vm->iommufd carries the VM's mark; -ESTALE when not, -ENOENT: no mark. */
int context_mark_prove(struct vm *vm);

/* vm-index.c: d->vms by ID. Reserve before linking: linking cannot fail. */
int vm_index_reserve(struct daemon *d);
void vm_index_link(struct daemon *d, struct vm *vm);
void vm_index_unlink(struct daemon *d, struct vm *vm);
struct vm *vm_by_id(const struct daemon *d, unsigned int id);
/* The VM whose path path is, or is under; NULL for none. */
struct vm *vm_of_object_path(const struct daemon *d, const char *path);
void vm_index_free(struct daemon *d);

/* vm.c */
struct vm *vm_by_path(struct daemon *d, const char *path);
/* Letters, digits, '.', '_' and '-', 1 to VM_NAME_MAX - 1 of them. */
bool vm_name_valid(const char *name);
/* The fd store names of a VM's fds (fdstore.h). */
void vm_fd_name(const struct vm *vm, const char *what, char *buf, size_t len);
/* Stores one fd of the VM under vm<ID>.<what>; failures are logged only. */
void vm_fd_store(const struct vm *vm, const char *what, int fd);
void vm_fd_unstore(const struct vm *vm, const char *what);
/* A relayed queue's fd and notify eventfd: "<kind><ID>" and "<kind><ID>.notify"
 * stored (or dropped); adopt.c looks them up by the same names. */
void vm_fd_store_queue(const struct vm *vm, const char *kind, uint32_t kernel_id, int fd,
		       int notify_fd, bool store);
/* The VM named by path if the caller may see it (owner or root), else NULL. */
struct vm *vm_visible(struct daemon *d, const char *path, const struct server_peer *peer);
bool vm_visible_to(const struct vm *vm, const struct server_peer *peer);
int vm_create(struct daemon *d, const struct server_peer *peer, const char *name,
	      sd_bus_message *options, struct vm **out, sd_bus_error *error);
void vm_free(struct vm *vm);
extern const sd_bus_vtable vm_vtable[];
int vm_find(sd_bus *bus, const char *path, const char *iface, void *ud, void **found,
	    sd_bus_error *error);
int vm_enumerate(sd_bus *bus, const char *prefix, void *ud, char ***nodes, sd_bus_error *error);
int vm_refresh_ranges(struct vm *vm);
/* QuotaExceeded (and an audit log line) when the VM holds quota_objects_per_vm objects. */
int vm_check_object_quota(struct vm *vm, const char *what, sd_bus_error *error);
/* The bytes the VMs of uid have mapped through MapMemory: the pinned-bytes ledger. */
uint64_t vm_pinned_bytes_of(struct daemon *d, uid_t uid);
struct vm_device *vm_device_of(struct vm *vm, const struct device *dev);

/* msg-limits.c: a bus filter refusing messages over quota_message_fds/_bytes */
int message_limits_filter(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* batch.c: Vm.AttachDevices and Viommu.NestDevices, all or nothing */
int vm_method_attach_devices(sd_bus_message *m, void *userdata, sd_bus_error *error);
int viommu_method_nest_devices(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* vmm.c: Vm.BindVmm */
int vm_method_bind_vmm(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_vmm_watch(struct vm *vm);
/* Stops watching, drops the pidfd from the fd store and closes it. */
void vm_vmm_release(struct vm *vm);
/* The pid a pidfd names; -ESRCH when its process is gone, -EBADF for no pidfd. */
int pidfd_pid(int pidfd, pid_t *out);

/* vm-dirty.c: Vm.SetDirtyTracking and Vm.ReadDirtyBitmap */
int vm_method_set_dirty_tracking(sd_bus_message *m, void *userdata, sd_bus_error *error);
int vm_method_read_dirty_bitmap(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* vm-memory.c */
int vm_map_memory(struct vm *vm, int memfd, uint64_t offset, uint64_t length, uint64_t iova,
		  uint32_t flags, sd_bus_error *error);
int vm_unmap_memory(struct vm *vm, uint64_t iova, uint64_t length, uint64_t *out_unmapped,
		    sd_bus_error *error);
int vm_unmap_all(struct vm *vm);

/* vm-attach.c */
int vm_attach_device(struct vm *vm, struct device *dev, sd_bus_message *options,
		     sd_bus_error *error);
/* The same with the options read from options (NULL: none) and m audited. */
int vm_attach_device_with(struct vm *vm, struct device *dev, sd_bus_message *m,
			  sd_bus_message *options, sd_bus_error *error);
int vm_detach_device(struct vm *vm, struct device *dev, sd_bus_error *error);
/* Moves a device's RID to pt_id (a parent or nested HWPT). */
int vm_device_replace(struct vm *vm, struct vm_device *vd, uint32_t pt_id);
/* Gives a device up: detach, close, unbind from the iommufd, back to its driver. */
void vm_device_release(struct vm *vm, struct vm_device *vd);
/* The same, first taking it off its nested domain and removing its vDEVICEs. */
void vm_device_force_release(struct vm *vm, struct vm_device *vd);
/* Watches the device's request IRQ (the kernel wants it back). */
void vm_device_watch_request(struct vm *vm, struct vm_device *vd);
/* HwInfo from the kernel (IOMMU_GET_HW_INFO) for a device bound in the VM. */
void vm_device_read_hw_info(struct vm *vm, struct vm_device *vd);

/* viommu.c, domain.c, vdevice.c */
extern const sd_bus_vtable viommu_vtable[];
extern const sd_bus_vtable domain_vtable[];
extern const sd_bus_vtable vdevice_vtable[];
int viommu_create(struct vm *vm, const char *type, sd_bus_message *options,
		  struct viommu **out, sd_bus_error *error);
int domain_alloc(struct vm *vm, struct viommu *viommu, uint32_t data_type, const void *data,
		 size_t len, sd_bus_message *options, struct domain **out, sd_bus_error *error);
/* Reads (u data_type, ay data, a{sv} options), allocates, replies with the path:
 * Vm.AllocDomain and Viommu.AllocDomain. */
int domain_method_alloc(sd_bus_message *m, struct vm *vm, struct viommu *viommu,
			sd_bus_error *error);
/* A vDEVICE of an attached device on the vIOMMU. */
int vdevice_create(struct viommu *v, struct device *dev, uint64_t virt_id, struct vdevice **out,
		   sd_bus_error *error);
/* Moves an attached device's RID onto the domain. */
int domain_attach_device(struct domain *dom, struct vm_device *vd, sd_bus_error *error);
int object_find(sd_bus *bus, const char *path, const char *iface, void *ud, void **found,
		sd_bus_error *error);
/* Each keeps its record and returns the kernel's error when it refuses,
 * unless forced (teardown: closing the iommufd frees what is left). */
int viommu_destroy(struct viommu *viommu, bool force);
int domain_destroy(struct domain *domain, bool force);
int vdevice_destroy(struct vdevice *vdev, bool force);

/* veventq.c: Viommu.OpenEventQueue and the relay */
int viommu_method_open_event_queue(sd_bus_message *m, void *userdata, sd_bus_error *error);
void veventq_destroy(struct veventq *q);
/* Relays from q->fd (adopted after a restart too). */
int veventq_watch(struct veventq *q);

/* hwqueue.c: Viommu.AllocHwQueue and org.viommu1.HwQueue */
extern const sd_bus_vtable hw_queue_vtable[];
int viommu_method_alloc_hw_queue(sd_bus_message *m, void *userdata, sd_bus_error *error);
int hw_queue_destroy(struct hw_queue *q, bool force);

/* faultq.c: Vm.OpenFaultQueue and org.viommu1.FaultQueue */
extern const sd_bus_vtable fault_queue_vtable[];
int vm_method_open_fault_queue(sd_bus_message *m, void *userdata, sd_bus_error *error);
struct fault_queue *fault_queue_by_path(struct vm *vm, const char *path);
/* Answers what is pending (relay) and closes it; -EBUSY while a domain uses it. */
int fault_queue_destroy(struct fault_queue *q, bool force);
int fault_queue_watch(struct fault_queue *q);

/* teardown.c: every kernel object of the VM, in the safe order. */
void vm_teardown(struct vm *vm);
/* device-release.c: a device that left a VM is quarantined, on a thread,
 * until every fd of it is closed; then it goes back to its previous driver
 * (the daemon bound it, restore_driver) or to vfio-pci (a VMM had an fd). */
void device_release(struct daemon *d, struct device *dev, bool fd_handed_out);
int device_release_init(struct daemon *d);
void device_release_fini(struct daemon *d);
/* Invalidation shared by Viommu.Invalidate and Domain.Invalidate. */
int invalidate_reply(sd_bus_message *m, struct vm *vm, uint32_t id,
		     const struct viommu_vendor_feature *feature, uint64_t *counter,
		     sd_bus_error *error);
/* The physical IOMMU a device sits behind ("selftest" for mocks). */
void device_iommu_name(struct daemon *d, const struct device *dev, char *buf, size_t len);

/* describe-queues.c: the queue arrays of Describe() */
struct json_object;
struct json_object *describe_hw_queues(const struct viommu *v);
struct json_object *describe_fault_queues(const struct vm *vm);

/* describe.c */
int describe_json(struct daemon *d, const struct server_peer *peer, char **out);
