/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The object model: the device inventory and the VMs with their kernel
 * objects. Each VM has its own iommufd context, so IDs never cross VMs. Plain
 * C: no D-Bus here. Functions return 0 or a negative errno and say why in a
 * struct verror; changes the layers above care about go out through
 * struct model_hooks, and a VM whose saved state is stale is marked
 * (state_dirty).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "config.h"
#include "fdstore.h"
#include "iommufd.h"
#include "pci-sysfs.h"
#include "peer.h"
#include "vendor.h"
#include "verror.h"
#include "wire.h"

#define VIOMMU_PATH_MAX 128
#define VM_NAME_MAX 64
#define VIOMMU_DATA_MAX 4096 /* driver data and nested-domain data, bytes */

struct event;
struct uevent;
struct uevent_monitor;
struct vm;
struct domain;
struct method_stats;

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

/* The kernel numbers vEVENTs modulo 2^31, lost ones included. */
#define VEVENTQ_SEQ_MASK 0x7fffffffu

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
	bool have_seq;	   /* relay: a record was read; next_seq finds gaps */
	uint32_t next_seq; /* both kept in the state across restarts */
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

/* What a VM did, for metrics (metrics.c); kept in its state file, so a
 * change is followed by vm_counters_changed(). */
struct vm_counters {
	uint64_t invalidation_calls;	/* Invalidate calls that reached the kernel */
	uint64_t invalidation_entries;	/* entries the kernel handled */
	uint64_t invalidation_errors;	/* calls in which it refused an entry */
	uint64_t events_relayed;	/* every vIOMMU's, destroyed ones too */
	uint64_t events_lost;
	uint64_t faults_relayed;
	uint64_t faults_answered;	/* through RespondFault */
	uint64_t dirty_reads;		/* ReadDirtyBitmap calls the kernel answered */
};

/* The viommud.conf(5) limits whose refusals are counted, by key. */
enum quota_limit {
	QUOTA_VMS_PER_UID,
	QUOTA_OBJECTS_PER_VM,
	QUOTA_PINNED_BYTES_PER_UID,
	QUOTA_CONNECTIONS_PER_UID,
	QUOTA_QUEUED_MESSAGES,
	QUOTA_MESSAGE_BYTES,
	QUOTA_MESSAGE_FDS,
	QUOTA_CONNECTION_STALL,
	QUOTA_LIMIT_COUNT,
};

/* What the daemon did, for metrics; kept in the state's manifest, so a
 * change is followed by daemon_counters_changed() (adoption's are written
 * with the state it commits). */
struct daemon_counters {
	uint64_t connections_accepted; /* private-socket connections let in */
	uint64_t quota_refusals[QUOTA_LIMIT_COUNT];
	uint64_t restarts;	   /* starts that found a state to adopt */
	uint64_t vms_adopted;
	uint64_t orphans_released; /* fds closed by ReleaseOrphan */
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
	bool state_dirty; /* its state file is rewritten at the next write (vm_mark_dirty) */
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
	struct vm_counters counters;
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

/* The kinds of objects the model has, each with a path of its own. */
enum model_object {
	MODEL_DEVICE,
	MODEL_VM,
	MODEL_VIOMMU,
	MODEL_DOMAIN,
	MODEL_VDEVICE,
	MODEL_HW_QUEUE,
	MODEL_FAULT_QUEUE,
};

/* What the model tells the layers above it (the bus, the state files). */
struct model_hooks {
	/* An object of vm (NULL: a device of the inventory) was made, or is
	 * about to go (path still valid). */
	void (*object_added)(struct daemon *d, struct vm *vm, enum model_object kind,
			     const char *path, void *object);
	void (*object_removed)(struct daemon *d, struct vm *vm, enum model_object kind,
			       const char *path);
	/* A Vm property changed: ParentId, Nesting, DirtyTrackingEnabled, VmmPid. */
	void (*vm_property_changed)(struct vm *vm, const char *property);
	/* A device appeared ("DeviceAdded") or went ("DeviceRemoved"). */
	void (*device_signal)(struct daemon *d, const char *member, const struct device *dev);
	/* VM id is gone: what was saved of it goes too. */
	void (*vm_gone)(struct daemon *d, unsigned int id);
	/* The number of VMs or of attached devices changed. */
	void (*usage_changed)(struct daemon *d);
	/* vm is about to map or unmap [iova, iova + length): recorded first, so
	 * that a crash in between can be finished after a restart. */
	void (*memory_change)(struct vm *vm, uint64_t iova, uint64_t length);
	/* The model changed outside any call (a device taken back, a VMM gone). */
	void (*changed)(struct daemon *d);
	/* The same, where saving a little later is fine (a relayed fault). */
	void (*changed_soon)(struct daemon *d);
	/* The same, within a second: counters (metrics), whose loss in a crash
	 * costs at most that second's counts. */
	void (*changed_later)(struct daemon *d);
	/* The relay of a vEVENTQ: an event for the VM's owner, and lost events. */
	void (*viommu_event)(struct viommu *v, uint64_t virt_id, uint32_t type, const void *data,
			     size_t len, uint32_t seq);
	void (*viommu_events_lost)(struct viommu *v, uint32_t type, uint32_t count, uint32_t seq);
	/* The relay of a fault queue: a fault of the device at device_path. */
	void (*fault)(struct fault_queue *q, const struct kabi_iommu_hwpt_pgfault *f,
		      const char *device_path);
};

struct daemon {
	struct event_base *base;
	const struct model_hooks *hooks; /* NULL: nobody listens (a test) */
	struct server *server; /* the transport above, opaque here */
	struct polkit *polkit; /* the bus layer's polkit checks, opaque here */
	struct config *config;
	const char *config_path;
	bool config_required;
	struct device *devices;
	struct vm *vms;		 /* in ID order (vm-index.c) */
	struct vm **vm_index;	 /* the same, sorted by ID */
	struct vm **vm_owner_index; /* the same, sorted by owner, then name */
	/* The VMs marked dirty since the last write, so that a write costs what
	 * changed; dirty_overflow: the list is incomplete, look at every VM. */
	unsigned int *dirty_vms;
	size_t ndirty_vms, dirty_vms_cap;
	bool dirty_overflow;
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
	struct daemon_counters counters;
	/* The bus layer's latency of each method (metrics), opaque here. */
	struct method_stats *method_stats;
};

static inline void model_vm_property_changed(struct vm *vm, const char *property)
{
	if (vm->daemon->hooks && vm->daemon->hooks->vm_property_changed)
		vm->daemon->hooks->vm_property_changed(vm, property);
}

static inline void model_object_added(struct daemon *d, struct vm *vm, enum model_object kind,
				      const char *path, void *object)
{
	if (d->hooks && d->hooks->object_added)
		d->hooks->object_added(d, vm, kind, path, object);
}

static inline void model_object_removed(struct daemon *d, struct vm *vm, enum model_object kind,
					const char *path)
{
	if (d->hooks && d->hooks->object_removed)
		d->hooks->object_removed(d, vm, kind, path);
}

static inline void model_device_signal(struct daemon *d, const char *member,
				       const struct device *dev)
{
	if (d->hooks && d->hooks->device_signal)
		d->hooks->device_signal(d, member, dev);
}

static inline void model_vm_gone(struct daemon *d, unsigned int id)
{
	if (d->hooks && d->hooks->vm_gone)
		d->hooks->vm_gone(d, id);
}

static inline void model_usage_changed(struct daemon *d)
{
	if (d->hooks && d->hooks->usage_changed)
		d->hooks->usage_changed(d);
}

static inline void model_memory_change(struct vm *vm, uint64_t iova, uint64_t length)
{
	if (vm->daemon->hooks && vm->daemon->hooks->memory_change)
		vm->daemon->hooks->memory_change(vm, iova, length);
}

static inline void model_changed(struct daemon *d)
{
	if (d->hooks && d->hooks->changed)
		d->hooks->changed(d);
}

static inline void model_changed_soon(struct daemon *d)
{
	if (d->hooks && d->hooks->changed_soon)
		d->hooks->changed_soon(d);
}

static inline void model_changed_later(struct daemon *d)
{
	if (d->hooks && d->hooks->changed_later)
		d->hooks->changed_later(d);
}


/* model.c */
struct event_base;
/* Probes the kernel, scans the inventory and follows hot-plug; hooks may be NULL. */
int model_init(struct daemon *d, struct event_base *base, struct config *config,
	       const struct model_hooks *hooks);
/* Tears every VM down and stops following hot-plug. */
void model_stop(struct daemon *d);
/* model_stop(), then frees the inventory and the config. */
void model_fini(struct daemon *d);

/* device.c */
int device_inventory_scan(struct daemon *d);
void device_inventory_free(struct daemon *d);
struct device *device_by_path(struct daemon *d, const char *path);
struct device *device_by_name(struct daemon *d, const char *name);
void device_refresh(struct daemon *d, struct device *dev);
/* A mock device a restored VM names, outside the configured count. */
struct device *device_add_mock(struct daemon *d, const char *name);
/* Follows a kernel uevent of a PCI device (or a resync). */
struct uevent;
void device_uevent(struct daemon *d, const struct uevent *ev);
/* Whether the device may be assigned now; reason gets why not. */
bool device_assignable(struct daemon *d, struct device *dev, char *reason, size_t len);
/* Device.BindVfio and Device.UnbindVfio: root's, checked above. */
int device_bind_vfio(struct daemon *d, struct device *dev, const struct server_peer *caller,
		     struct verror *error);
int device_unbind_vfio(struct daemon *d, struct device *dev, const struct server_peer *caller,
		       struct verror *error);

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
/* The VM of owner called name, or NULL. */
struct vm *vm_by_owner_name(const struct daemon *d, uid_t owner, const char *name);
/* The VMs of owner: *first and the count returned. */
size_t vm_owner_range(const struct daemon *d, uid_t owner, struct vm *const **first);
void vm_index_free(struct daemon *d);

/* vm.c */
struct vm_options {
	bool persist;
	bool pasid;
	bool dirty_tracking;
	enum vm_mode mode;
};
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
/* Whether the caller may see the VM: its owner, or root. */
bool vm_visible_to(const struct vm *vm, const struct server_peer *peer);
/* The caller has authorised peer to create it (and for a broker VM, to take
 * the fast path): the bus layer's authorize.h. */
int vm_create(struct daemon *d, const struct server_peer *peer, const char *name,
	      const struct vm_options *options, struct vm **out, struct verror *error);
void vm_free(struct vm *vm);
int vm_refresh_ranges(struct vm *vm);
/* NotSupported for a broker VM, whose VMM does what (a method name) itself. */
int vm_require_managed(const struct vm *vm, const char *what, struct verror *error);
/* The iommufd goes to caller's VMM (audited): from now on the VM's state is
 * shared (Shared). */
void vm_share_iommufd(struct vm *vm, const struct server_peer *caller);
/* Vm.GetDeviceFd: *out_fd, the caller's to send and close, is the VM's own
 * bound cdev (managed) or one unbound open per reservation (broker). */
int vm_open_device_fd(struct vm *vm, struct device *dev, const struct server_peer *caller,
		      int *out_fd, struct verror *error);
/* Vm.Claim: the owner's connection takes the VM over, unless another live
 * connection of its holds it (holder_connected). */
int vm_claim(struct vm *vm, const struct server_peer *caller, bool holder_connected,
	     struct verror *error);
/* Its saved state is stale: written at the next state write. */
void vm_mark_dirty(struct vm *vm);
/* Every VM is: the list of dirty VMs is dropped. */
void vm_mark_all_dirty(struct daemon *d);
/* QuotaExceeded (and an audit log line) when the VM holds quota_objects_per_vm objects. */
int vm_check_object_quota(struct vm *vm, const char *what, struct verror *error);
/* The bytes the VMs of uid have mapped through MapMemory: the pinned-bytes ledger. */
uint64_t vm_pinned_bytes_of(struct daemon *d, uid_t uid);
struct vm_device *vm_device_of(struct vm *vm, const struct device *dev);

/* vmm.c: Vm.BindVmm */
/* Binds a broker VM to the process of pidfd, which must be the caller's:
 * caller_pid is the caller's pid as the kernel named it (-ENXIO where it
 * cannot: not on the private socket). The VMM may then pin guest_bytes (plus
 * headroom); *out_limit gets the memlock limit set. The pidfd is kept. */
int vm_bind_vmm(struct vm *vm, const struct server_peer *caller, pid_t caller_pid, int pidfd,
		uint64_t guest_bytes, uint64_t *out_limit, struct verror *error);
int vm_vmm_watch(struct vm *vm);
/* Stops watching, drops the pidfd from the fd store and closes it. */
void vm_vmm_release(struct vm *vm);
/* The pid a pidfd names; -ESRCH when its process is gone, -EBADF for no pidfd. */
int pidfd_pid(int pidfd, pid_t *out);

/* vm-dirty.c: dirty tracking on the nesting parent */
int vm_set_dirty_tracking(struct vm *vm, bool enable, struct verror *error);
/* Reads (and clears, unless flags has NO_CLEAR) the dirty bits of
 * [iova, iova + length) into the memfd bitmap_fd (sealed F_SEAL_SHRINK), one
 * bit per page_size; *out_dirty gets how many were set. */
int vm_read_dirty_bitmap(struct vm *vm, uint64_t iova, uint64_t length, uint64_t page_size,
			 int bitmap_fd, uint32_t flags, uint64_t *out_dirty, struct verror *error);

/* vm-memory.c */
int vm_map_memory(struct vm *vm, int memfd, uint64_t offset, uint64_t length, uint64_t iova,
		  uint32_t flags, struct verror *error);
int vm_unmap_memory(struct vm *vm, uint64_t iova, uint64_t length, uint64_t *out_unmapped,
		    struct verror *error);
int vm_unmap_all(struct vm *vm);
/* Vm.AllowIovas: keeps the ranges usable by the IOAS (restricts nothing). */
int vm_allow_iovas(struct vm *vm, const struct iommufd_iova_range *ranges, uint32_t count,
		   struct verror *error);

/* vm-attach.c */
struct attach_options {
	bool has_vf_token;
	uint8_t vf_token[16]; /* the VF token (a UUID) vfio-pci wants */
	bool has_pasid;
	uint32_t pasid;
};
/* Attaches dev to the VM, audited as caller's (NULL: the daemon's). */
int vm_attach_device(struct vm *vm, struct device *dev, const struct attach_options *options,
		     const struct server_peer *caller, struct verror *error);
int vm_detach_device(struct vm *vm, struct device *dev, struct verror *error);
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

/* batch.c: many devices in one call, all or nothing */
int vm_attach_devices(struct vm *vm, struct device *const *devs, size_t n,
		      const struct server_peer *caller, struct verror *error);
/* One device of Viommu.NestDevices: what it asks, and what it got. */
struct nest_entry {
	struct vm_device *vd;
	uint64_t virt_id;
	struct vdevice *vdev;
	struct domain *dom;
};
/* Each entry's device gets a vDEVICE and a nested domain of its own, on it. */
int viommu_nest_devices(struct viommu *v, struct nest_entry *entries, size_t n,
			uint32_t data_type, const void *data, size_t len, struct verror *error);
/* Undoes n entries that viommu_nest_devices() made, newest first. */
void viommu_nest_undo(struct vm *vm, struct nest_entry *entries, size_t n);

/* viommu.c, domain.c, vdevice.c */
/* type: a vendor name or "auto"; data NULL: none. */
int viommu_create(struct vm *vm, const char *type, const void *data, size_t data_len,
		  struct viommu **out, struct verror *error);
/* fault_queue: the path of one of the VM's fault queues, or NULL. */
int domain_alloc(struct vm *vm, struct viommu *viommu, uint32_t data_type, const void *data,
		 size_t len, const char *fault_queue, struct domain **out, struct verror *error);
/* A vDEVICE of an attached device on the vIOMMU. */
int vdevice_create(struct viommu *v, struct device *dev, uint64_t virt_id, struct vdevice **out,
		   struct verror *error);
/* The device's vDEVICE on the vIOMMU, or NULL. */
struct vdevice *vdevice_on(struct viommu *v, struct device *dev);
/* Moves an attached device's RID onto the domain, or back to the parent. */
int domain_attach_device(struct domain *dom, struct vm_device *vd, struct verror *error);
int domain_detach_device(struct domain *dom, struct vm_device *vd, struct verror *error);
/* Each keeps its record and returns the kernel's error when it refuses,
 * unless forced (teardown: closing the iommufd frees what is left). */
int viommu_destroy(struct viommu *viommu, bool force);
int domain_destroy(struct domain *domain, bool force);
int vdevice_destroy(struct vdevice *vdev, bool force);
/* Destroy as a caller asks: Busy while something uses the object. */
int viommu_destroy_checked(struct viommu *v, struct verror *error);
int domain_destroy_checked(struct domain *dom, struct verror *error);
int hw_queue_destroy_checked(struct hw_queue *q, struct verror *error);
int vdevice_destroy_checked(struct vdevice *vdev, struct verror *error);
/* Forwards entries (count of entry_len bytes each) to the kernel's HWPT or
 * vIOMMU id; *handled gets how many it took, *kernel_error the errno of the
 * first it refused (0: none). A refused entry is an answer, not a failure. */
int invalidate_entries(struct vm *vm, uint32_t id, const struct viommu_vendor_feature *feature,
		       uint32_t data_type, uint32_t entry_len, const void *entries, size_t len,
		       uint64_t *counter, uint32_t *handled, int *kernel_error,
		       struct verror *error);
/* The physical IOMMU a device sits behind ("selftest" for mocks). */
void device_iommu_name(struct daemon *d, const struct device *dev, char *buf, size_t len);

/* veventq.c: vEVENTQs and the relay */
/* Opens a vEVENTQ. *out_fd is the caller's to hand to the VMM and close:
 * the queue itself, or with relay an eventfd counting the events the daemon
 * relays (model_hooks.viommu_event). */
int veventq_open(struct viommu *v, uint32_t type, uint32_t depth, bool relay, int *out_fd,
		 struct verror *error);
void veventq_destroy(struct veventq *q);
/* A relayed queue's counter: an eventfd the daemon counts on (*notify_fd)
 * and a copy of it for the VMM (*out_fd). Event and fault queues use it. */
int relay_counter_open(int *notify_fd, int *out_fd);
/* Relays from q->fd (adopted after a restart too). */
int veventq_watch(struct veventq *q);

/* hwqueue.c */
int hw_queue_alloc(struct viommu *v, uint32_t type, uint32_t index, uint64_t base_iova,
		   uint64_t length, struct hw_queue **out, struct verror *error);
int hw_queue_destroy(struct hw_queue *q, bool force);

/* faultq.c */
/* Opens a fault queue. *out_fd is the caller's to hand to the VMM and close:
 * the queue itself, or with relay an eventfd counting the faults the daemon
 * relays (model_hooks.fault). */
int fault_queue_open(struct vm *vm, bool relay, struct fault_queue **out, int *out_fd,
		     struct verror *error);
struct fault_queue *fault_queue_by_path(struct vm *vm, const char *path);
/* Answers a relayed fault (cookie) with code. */
int fault_queue_respond(struct fault_queue *q, uint32_t cookie, uint32_t code,
			struct verror *error);
/* Answers what is pending (relay) and closes it; -EBUSY while a domain uses it. */
int fault_queue_destroy(struct fault_queue *q, bool force);
int fault_queue_destroy_checked(struct fault_queue *q, struct verror *error);
int fault_queue_watch(struct fault_queue *q);

/* counters.c */
/* A counter of vm moved: its state file is rewritten within a second, once
 * for a burst. */
void vm_counters_changed(struct vm *vm);
/* The same for the daemon's counters (the manifest). */
void daemon_counters_changed(struct daemon *d);
/* The viommud.conf(5) key of a limit, and back (-ENOENT: no limit's key). */
const char *quota_limit_name(enum quota_limit limit);
int quota_limit_by_name(const char *name);
/* Counts the quota refusals the journal records (LOG_EVENT_QUOTA_REFUSED,
 * from any layer) into d->counters; NULL stops it. */
void counters_watch(struct daemon *d);

/* metrics.c: the Prometheus text exposition format, version 0.0.4 */
/* "# HELP" and "# TYPE" of a metric family. */
void metrics_family(FILE *f, const char *name, const char *type, const char *help);
/* A label value between its quotes: backslash, quote and newline escaped. */
void metrics_label_value(FILE *f, const char *value);
/* The daemon-wide series, and those of the VMs peer may see (root: all);
 * connections is the transport's count. 0, or -EIO when f failed. */
int metrics_write_model(FILE *f, const struct daemon *d, const struct server_peer *peer,
			uint64_t connections);

/* teardown.c: every kernel object of the VM, in the safe order. */
void vm_teardown(struct vm *vm);
/* device-release.c: a device that left a VM is quarantined, on a thread,
 * until every fd of it is closed; then it goes back to its previous driver
 * (the daemon bound it, restore_driver) or to vfio-pci (a VMM had an fd). */
void device_release(struct daemon *d, struct device *dev, bool fd_handed_out);
int device_release_init(struct daemon *d);
void device_release_fini(struct daemon *d);
