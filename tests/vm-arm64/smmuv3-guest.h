/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the arm64 nesting tests share: they play a guest's SMMUv3 driver over
 * one memfd that holds both the guest's stage-1 structures (a CD and a 3-level
 * table) and its data pages, mapped into the IOAS (stage 2) at addresses that
 * differ from the memfd offsets; the edu copies between stage-1 IOVAs. Every
 * stage-1 IOVA, stage-2 address and memfd offset differs, so only the right
 * composition of the two stages passes; all stay clear of the MSI window at
 * 0x8000000.
 *
 *   memfd offset   IPA (stage 2)   what
 *   0x00000        0x40000000      CD (64 bytes)
 *   0x01000        0x40001000      stage-1 level-1 table
 *   0x02000        0x40002000      level 2
 *   0x03000        0x40003000      level 3
 *   0x10000        0x50012000      stage-2-only source (parent and bypass)
 *   0x11000        0x50013000      stage-2-only destination
 *   0x13000        0x50015000      source page        S1 IOVA 0x12345000
 *   0x15000        0x50017000      destination page   S1 IOVA 0x12346000
 *   0x16000        0x50018000      destination after the stage-1 remap
 *   0x1a000        0x12345000      decoy: what S1 IOVA 0x12345000 hits without S1
 *   0x1b000        0x12346000      decoy: the same for 0x12346000
 *
 * Field values are the SMMUv3 architecture's (spec 5.2 STE, 5.4 CD, 4.1
 * commands, 7.3 event records) and the AArch64 4K-granule descriptors.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "edu.h"

#define S1G_PAGE 0x1000ull
#define S1G_MEMFD_SIZE 0x20000ull
#define S1G_COPY_LEN 256

/* memfd offsets */
#define S1G_OFF_CD 0x00000ull
#define S1G_OFF_L1 0x01000ull
#define S1G_OFF_L2 0x02000ull
#define S1G_OFF_L3 0x03000ull
#define S1G_OFF_S2_SRC 0x10000ull
#define S1G_OFF_S2_DST 0x11000ull
#define S1G_OFF_S1_SRC 0x13000ull
#define S1G_OFF_S1_DST 0x15000ull
#define S1G_OFF_S1_DST2 0x16000ull /* where S1_DST points after the remap */
#define S1G_OFF_DECOY_SRC 0x1a000ull
#define S1G_OFF_DECOY_DST 0x1b000ull
/* The four stage-2 mappings: [memfd offset, length, IPA]. */
#define S1G_TABLES_OFF 0x00000ull
#define S1G_TABLES_LEN (4 * S1G_PAGE)
#define S1G_TABLES_IPA 0x40000000ull
#define S1G_DATA_OFF 0x10000ull
#define S1G_DATA_LEN 0x8000ull
#define S1G_DATA_IPA 0x50012000ull
#define S1G_MAPPED_BYTES (S1G_TABLES_LEN + S1G_DATA_LEN + 2 * S1G_PAGE)
#define S1G_IPA(off)                                                                         \
	((off) < S1G_DATA_OFF ? S1G_TABLES_IPA + (off) : S1G_DATA_IPA + (off) - S1G_DATA_OFF)
/* stage-1 IOVAs; the decoys are mapped in stage 2 at these addresses */
#define S1G_SRC 0x12345000ull
#define S1G_DST 0x12346000ull
/* An IOVA stage 1 does not map. */
#define S1G_UNMAPPED (S1G_DST + 0x10000ull)
#define S1G_ASID 1

/* vSTE word 0 */
#define S1G_STE0_V (1ull << 0)
#define S1G_STE0_CFG_ABORT (0ull << 1)
#define S1G_STE0_CFG_BYPASS (4ull << 1)
#define S1G_STE0_CFG_S1 (5ull << 1)
#define S1G_STE0_S1CTXPTR_MASK 0x000fffffffffffc0ull /* [51:6] */
#define S1G_STE0_S1(ctxptr) (S1G_STE0_V | S1G_STE0_CFG_S1 | ((ctxptr) & S1G_STE0_S1CTXPTR_MASK))

/* Event records: ID in [7:0] and StreamID in [63:32] of word 0, the input
 * address in word 2. */
#define S1G_EVT_F_TRANSLATION 0x10
/* Commands: opcode in [7:0] of word 0. */
#define S1G_CMD_CFGI_CD 0x05
#define S1G_CMD_TLBI_NH_VA 0x12
#define S1G_CMD_BAD 0x7f /* no such opcode */

/* One stage-2 mapping of the layout, as [off, len) of the memfd at iova. */
struct s1g_map {
	uint64_t off, len, iova;
};
extern const struct s1g_map s1g_maps[4];

/* The stream ID of a device on segment 0 behind QEMU's root complex (the
 * IORT maps requester IDs one to one); UINT32_MAX for a malformed BDF. */
uint32_t s1g_stream_id(const char *bdf);

/* Writes the CD and the tables mapping S1G_SRC and S1G_DST into mem. */
void s1g_build_stage1(uint8_t *mem);
/* Points S1G_DST at S1G_OFF_S1_DST2 (the caller invalidates). */
void s1g_remap_dst(uint8_t *mem);
/* The two commands that make the SMMU see s1g_remap_dst: CMD_TLBI_NH_VA for
 * the ASID and CMD_CFGI_CD for the stream (virtual ID) sid. */
void s1g_invalidation(uint64_t cmds[2][2], uint32_t sid);

/*
 * Fills memfd offset src_off with a pattern unique to seed, clears every
 * other data page, copies src_iova -> edu -> dst_iova, and says whether the
 * pattern arrived at land_off and nowhere else.
 */
bool s1g_dma_lands(uint8_t *mem, struct edu *e, uint64_t src_iova, uint64_t dst_iova,
		   uint64_t src_off, uint64_t land_off, uint8_t seed);

/* Whether an SMMUv3 event record (4 x u64) is a stage-1 translation fault
 * of stream sid at an address in [iova, iova + S1G_COPY_LEN). */
bool s1g_is_translation_fault(const uint64_t evt[4], uint32_t sid, uint64_t iova);

/* Waits up to 5 s for a vEVENTQ's fd to be readable, reads it once, and
 * checks that every record is a stage-1 translation fault of sid at iova
 * (s1g_is_translation_fault); returns how many, the lost-events markers
 * skipped. The first record is printed as a note. */
unsigned int s1g_read_faults(int veventq_fd, uint32_t sid, uint64_t iova);
