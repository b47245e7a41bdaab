/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Our own definitions of the IOMMUFD uAPI (Linux 7.3) that viommud uses.
 *
 * Debian 12 ships 6.1 uAPI headers, which predate most of iommufd, so we do not
 * include <linux/iommufd.h>. Layouts are kernel ABI facts; kabi-check.c
 * verifies every struct, offset and constant here against the test kernel's
 * installed headers whenever the build is given them (-Duapi_headers=).
 */
#pragma once

#include <linux/ioctl.h>
#include <stdint.h>

#define KABI_IOMMUFD_TYPE ';'

enum {
	KABI_IOMMUFD_CMD_DESTROY = 0x80,
	KABI_IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	KABI_IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	KABI_IOMMUFD_CMD_IOAS_COPY = 0x83,
	KABI_IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	KABI_IOMMUFD_CMD_IOAS_MAP = 0x85,
	KABI_IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	KABI_IOMMUFD_CMD_OPTION = 0x87,
	KABI_IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	KABI_IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	KABI_IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	KABI_IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	KABI_IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	KABI_IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	KABI_IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
	KABI_IOMMUFD_CMD_VIOMMU_ALLOC = 0x90,
	KABI_IOMMUFD_CMD_VDEVICE_ALLOC = 0x91,
	KABI_IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
	KABI_IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93,
	KABI_IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94,
};

#define KABI_IOMMU_IOCTL(cmd) _IO(KABI_IOMMUFD_TYPE, (cmd))

struct kabi_iommu_destroy {
	uint32_t size;
	uint32_t id;
};

struct kabi_iommu_ioas_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};

struct kabi_iommu_iova_range {
	uint64_t start;
	uint64_t last;
};

struct kabi_iommu_ioas_iova_ranges {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	uint64_t allowed_iovas;
	uint64_t out_iova_alignment;
};

struct kabi_iommu_ioas_allow_iovas {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	uint64_t allowed_iovas;
};

enum {
	KABI_IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	KABI_IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	KABI_IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

struct kabi_iommu_ioas_map {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	uint64_t user_va;
	uint64_t length;
	uint64_t iova;
};

struct kabi_iommu_ioas_map_file {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	int32_t fd;
	uint64_t start;
	uint64_t length;
	uint64_t iova;
};

struct kabi_iommu_ioas_copy {
	uint32_t size;
	uint32_t flags;
	uint32_t dst_ioas_id;
	uint32_t src_ioas_id;
	uint64_t length;
	uint64_t dst_iova;
	uint64_t src_iova;
};

struct kabi_iommu_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	uint64_t iova;
	uint64_t length;
};

enum {
	KABI_IOMMU_OPTION_RLIMIT_MODE = 0,
	KABI_IOMMU_OPTION_HUGE_PAGES = 1,
};

enum {
	KABI_IOMMU_OPTION_OP_SET = 0,
	KABI_IOMMU_OPTION_OP_GET = 1,
};

struct kabi_iommu_option {
	uint32_t size;
	uint32_t option_id;
	uint16_t op;
	uint16_t reserved;
	uint32_t object_id;
	uint64_t val64;
};

enum {
	KABI_IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	KABI_IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	KABI_IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
	KABI_IOMMU_HWPT_ALLOC_PASID = 1 << 3,
};

enum {
	KABI_IOMMU_HWPT_DATA_NONE = 0,
	KABI_IOMMU_HWPT_DATA_VTD_S1 = 1,
	KABI_IOMMU_HWPT_DATA_ARM_SMMUV3 = 2,
	KABI_IOMMU_HWPT_DATA_AMD_GUEST = 3,
};

struct kabi_iommu_hwpt_vtd_s1 {
	uint64_t flags;
	uint64_t pgtbl_addr;
	uint32_t addr_width;
	uint32_t reserved;
};

struct kabi_iommu_hwpt_arm_smmuv3 {
	uint64_t ste[2]; /* little endian */
};

struct kabi_iommu_hwpt_amd_guest {
	uint64_t dte[4];
};

struct kabi_iommu_hwpt_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pt_id;
	uint32_t out_hwpt_id;
	uint32_t reserved;
	uint32_t data_type;
	uint32_t data_len;
	uint64_t data_uptr;
	uint32_t fault_id;
	uint32_t reserved2;
};

enum {
	KABI_IOMMU_HW_INFO_TYPE_NONE = 0,
	KABI_IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	KABI_IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,
	KABI_IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3,
	KABI_IOMMU_HW_INFO_TYPE_AMD = 4,
};

enum {
	KABI_IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	KABI_IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	KABI_IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
	KABI_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED = 1 << 3,
};

enum {
	KABI_IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0,
};

enum {
	KABI_IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

struct kabi_iommu_hw_info_vtd {
	uint32_t flags;
	uint32_t reserved;
	uint64_t cap_reg;
	uint64_t ecap_reg;
};

enum {
	KABI_IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI = 1 << 0,
};

struct kabi_iommu_hw_info_arm_smmuv3 {
	uint32_t flags;
	uint32_t reserved;
	uint32_t idr[6];
	uint32_t iidr;
	uint32_t aidr;
};

struct kabi_iommu_hw_info_tegra241_cmdqv {
	uint32_t flags;
	uint8_t version;
	uint8_t log2vcmdqs;
	uint8_t log2vsids;
	uint8_t reserved;
};

struct kabi_iommu_hw_info_amd {
	uint64_t efr;
	uint64_t efr2;
};

struct kabi_iommu_hw_info {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t data_len;
	uint64_t data_uptr;
	uint32_t data_type; /* in_data_type / out_data_type */
	uint8_t out_max_pasid_log2;
	uint8_t reserved[3];
	uint64_t out_capabilities;
};

enum {
	KABI_IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

struct kabi_iommu_hwpt_set_dirty_tracking {
	uint32_t size;
	uint32_t flags;
	uint32_t hwpt_id;
	uint32_t reserved;
};

enum {
	KABI_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

struct kabi_iommu_hwpt_get_dirty_bitmap {
	uint32_t size;
	uint32_t hwpt_id;
	uint32_t flags;
	uint32_t reserved;
	uint64_t iova;
	uint64_t length;
	uint64_t page_size;
	uint64_t data;
};

enum {
	KABI_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	KABI_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
};

struct kabi_iommu_hwpt_vtd_s1_invalidate {
	uint64_t addr;
	uint64_t npages;
	uint32_t flags;
	uint32_t reserved;
};

struct kabi_iommu_viommu_arm_smmuv3_invalidate {
	uint64_t cmd[2]; /* little endian */
};

struct kabi_iommu_hwpt_invalidate {
	uint32_t size;
	uint32_t hwpt_id;
	uint64_t data_uptr;
	uint32_t data_type;
	uint32_t entry_len;
	uint32_t entry_num;
	uint32_t reserved;
};

enum {
	KABI_IOMMU_PGFAULT_FLAGS_PASID_VALID = 1 << 0,
	KABI_IOMMU_PGFAULT_FLAGS_LAST_PAGE = 1 << 1,
};

enum {
	KABI_IOMMU_PGFAULT_PERM_READ = 1 << 0,
	KABI_IOMMU_PGFAULT_PERM_WRITE = 1 << 1,
	KABI_IOMMU_PGFAULT_PERM_EXEC = 1 << 2,
	KABI_IOMMU_PGFAULT_PERM_PRIV = 1 << 3,
};

struct kabi_iommu_hwpt_pgfault {
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;
	uint32_t reserved;
	uint64_t addr;
	uint32_t length;
	uint32_t cookie;
};

enum {
	KABI_IOMMUFD_PAGE_RESP_SUCCESS = 0,
	KABI_IOMMUFD_PAGE_RESP_INVALID = 1,
};

struct kabi_iommu_hwpt_page_response {
	uint32_t cookie;
	uint32_t code;
};

struct kabi_iommu_fault_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_fault_id;
	uint32_t out_fault_fd;
};

enum {
	KABI_IOMMU_VIOMMU_TYPE_DEFAULT = 0,
	KABI_IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
	KABI_IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2,
};

struct kabi_iommu_viommu_tegra241_cmdqv {
	uint64_t out_vintf_mmap_offset;
	uint64_t out_vintf_mmap_length;
};

struct kabi_iommu_viommu_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t type;
	uint32_t dev_id;
	uint32_t hwpt_id;
	uint32_t out_viommu_id;
	uint32_t data_len;
	uint32_t reserved;
	uint64_t data_uptr;
};

struct kabi_iommu_vdevice_alloc {
	uint32_t size;
	uint32_t viommu_id;
	uint32_t dev_id;
	uint32_t out_vdevice_id;
	uint64_t virt_id;
};

struct kabi_iommu_ioas_change_process {
	uint32_t size;
	uint32_t reserved;
};

enum {
	KABI_IOMMU_VEVENTQ_FLAG_LOST_EVENTS = 1u << 0,
};

struct kabi_iommufd_vevent_header {
	uint32_t flags;
	uint32_t sequence;
};

enum {
	KABI_IOMMU_VEVENTQ_TYPE_DEFAULT = 0,
	KABI_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1,
	KABI_IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV = 2,
};

struct kabi_iommu_vevent_arm_smmuv3 {
	uint64_t evt[4]; /* little endian */
};

struct kabi_iommu_vevent_tegra241_cmdqv {
	uint64_t lvcmdq_err_map[2]; /* little endian */
};

struct kabi_iommu_veventq_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t veventq_depth;
	uint32_t out_veventq_id;
	uint32_t out_veventq_fd;
	uint32_t reserved;
};

enum {
	KABI_IOMMU_HW_QUEUE_TYPE_DEFAULT = 0,
	KABI_IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1,
};

struct kabi_iommu_hw_queue_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t index;
	uint32_t out_hw_queue_id;
	uint64_t nesting_parent_iova;
	uint64_t length;
};

#define KABI_IOMMU_DESTROY KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_DESTROY)
#define KABI_IOMMU_IOAS_ALLOC KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_IOAS_ALLOC)
#define KABI_IOMMU_IOAS_ALLOW_IOVAS KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_IOAS_ALLOW_IOVAS)
#define KABI_IOMMU_IOAS_COPY KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_IOAS_COPY)
#define KABI_IOMMU_IOAS_IOVA_RANGES KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_IOAS_IOVA_RANGES)
#define KABI_IOMMU_IOAS_MAP KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_IOAS_MAP)
#define KABI_IOMMU_IOAS_MAP_FILE KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_IOAS_MAP_FILE)
#define KABI_IOMMU_IOAS_UNMAP KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_IOAS_UNMAP)
#define KABI_IOMMU_IOAS_CHANGE_PROCESS KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_IOAS_CHANGE_PROCESS)
#define KABI_IOMMU_OPTION KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_OPTION)
#define KABI_IOMMU_HWPT_ALLOC KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_HWPT_ALLOC)
#define KABI_IOMMU_GET_HW_INFO KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_GET_HW_INFO)
#define KABI_IOMMU_HWPT_SET_DIRTY_TRACKING KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)
#define KABI_IOMMU_HWPT_GET_DIRTY_BITMAP KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)
#define KABI_IOMMU_HWPT_INVALIDATE KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_HWPT_INVALIDATE)
#define KABI_IOMMU_FAULT_QUEUE_ALLOC KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_FAULT_QUEUE_ALLOC)
#define KABI_IOMMU_VIOMMU_ALLOC KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_VIOMMU_ALLOC)
#define KABI_IOMMU_VDEVICE_ALLOC KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_VDEVICE_ALLOC)
#define KABI_IOMMU_VEVENTQ_ALLOC KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_VEVENTQ_ALLOC)
#define KABI_IOMMU_HW_QUEUE_ALLOC KABI_IOMMU_IOCTL(KABI_IOMMUFD_CMD_HW_QUEUE_ALLOC)
