/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "smmuv3-guest.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "kabi-iommufd.h"

/* CD word 0 (SMMUv3 5.4) */
#define CD0_T0SZ(x) ((uint64_t)(x) << 0)
#define CD0_TG0_4K (0ull << 6)
#define CD0_IRGN0_WBWA (1ull << 8)
#define CD0_ORGN0_WBWA (1ull << 10)
#define CD0_SH0_IS (3ull << 12)
#define CD0_EPD1 (1ull << 30)
#define CD0_V (1ull << 31)
#define CD0_IPS(x) ((uint64_t)(x) << 32)
#define CD0_AA64 (1ull << 41)
#define CD0_R (1ull << 45) /* record faults: without it no event reaches the vEVENTQ */
#define CD0_A (1ull << 46)
#define CD0_ASID(x) ((uint64_t)(x) << 48)
#define CD1_TTB0_MASK 0x000ffffffffffff0ull /* [51:4] */
#define CD3_MAIR_ATTR0_WB 0xffull
/* AArch64 stage-1 descriptors, 4K granule */
#define DESC_TABLE 0x3ull
#define DESC_PAGE 0x3ull
#define DESC_ATTRIDX0 (0ull << 2)
#define DESC_AP_RW_ANY (1ull << 6) /* AP[2:1] = 01 */
#define DESC_SH_IS (3ull << 8)
#define DESC_AF (1ull << 10)
#define DESC_LEAF (DESC_PAGE | DESC_AF | DESC_SH_IS | DESC_AP_RW_ANY | DESC_ATTRIDX0)
#define T0SZ 25 /* 39-bit input: a level-1, level-2, level-3 walk */
#define IPS_44BIT 4
/* Command fields (SMMUv3 4.1) */
#define CMD_CFGI_SID(x) ((uint64_t)(x) << 32)
#define CMD_CFGI_LEAF (1ull << 0)
#define CMD_TLBI_ASID(x) ((uint64_t)(x) << 48)
#define CMD_TLBI_LEAF (1ull << 0)

const struct s1g_map s1g_maps[4] = {
	{ S1G_TABLES_OFF, S1G_TABLES_LEN, S1G_TABLES_IPA },
	{ S1G_DATA_OFF, S1G_DATA_LEN, S1G_DATA_IPA },
	{ S1G_OFF_DECOY_SRC, S1G_PAGE, S1G_SRC },
	{ S1G_OFF_DECOY_DST, S1G_PAGE, S1G_DST },
};

static uint64_t *u64_at(uint8_t *mem, uint64_t off)
{
	return (uint64_t *)(void *)(mem + off);
}

uint32_t s1g_stream_id(const char *bdf)
{
	unsigned int dom, bus, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4 || bus > 0xff ||
	    dev > 0x1f || fn > 7)
		return UINT32_MAX;
	return bus << 8 | dev << 3 | fn;
}

void s1g_build_stage1(uint8_t *mem)
{
	uint64_t *cd = u64_at(mem, S1G_OFF_CD);

	memset(mem + S1G_OFF_CD, 0, S1G_TABLES_LEN);
	/* level 1 indexes VA[38:30], level 2 VA[29:21], level 3 VA[20:12] */
	u64_at(mem, S1G_OFF_L1)[(S1G_SRC >> 30) & 0x1ff] = S1G_IPA(S1G_OFF_L2) | DESC_TABLE;
	u64_at(mem, S1G_OFF_L2)[(S1G_SRC >> 21) & 0x1ff] = S1G_IPA(S1G_OFF_L3) | DESC_TABLE;
	u64_at(mem, S1G_OFF_L3)[(S1G_SRC >> 12) & 0x1ff] = S1G_IPA(S1G_OFF_S1_SRC) | DESC_LEAF;
	u64_at(mem, S1G_OFF_L3)[(S1G_DST >> 12) & 0x1ff] = S1G_IPA(S1G_OFF_S1_DST) | DESC_LEAF;

	cd[0] = CD0_T0SZ(T0SZ) | CD0_TG0_4K | CD0_IRGN0_WBWA | CD0_ORGN0_WBWA | CD0_SH0_IS |
		CD0_EPD1 | CD0_V | CD0_IPS(IPS_44BIT) | CD0_AA64 | CD0_R | CD0_A |
		CD0_ASID(S1G_ASID);
	cd[1] = S1G_IPA(S1G_OFF_L1) & CD1_TTB0_MASK;
	cd[3] = CD3_MAIR_ATTR0_WB;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void s1g_remap_dst(uint8_t *mem)
{
	u64_at(mem, S1G_OFF_L3)[(S1G_DST >> 12) & 0x1ff] = S1G_IPA(S1G_OFF_S1_DST2) | DESC_LEAF;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void s1g_invalidation(uint64_t cmds[2][2], uint32_t sid)
{
	cmds[0][0] = S1G_CMD_TLBI_NH_VA | CMD_TLBI_ASID(S1G_ASID);
	cmds[0][1] = S1G_DST | CMD_TLBI_LEAF;
	cmds[1][0] = S1G_CMD_CFGI_CD | CMD_CFGI_SID(sid);
	cmds[1][1] = CMD_CFGI_LEAF;
}

bool s1g_dma_lands(uint8_t *mem, struct edu *e, uint64_t src_iova, uint64_t dst_iova,
		   uint64_t src_off, uint64_t land_off, uint8_t seed)
{
	static const uint64_t data_pages[] = { S1G_OFF_S2_SRC,	  S1G_OFF_S2_DST,
					       S1G_OFF_S1_SRC,	  S1G_OFF_S1_DST,
					       S1G_OFF_S1_DST2,	  S1G_OFF_DECOY_SRC,
					       S1G_OFF_DECOY_DST };
	uint8_t want[S1G_COPY_LEN];
	bool landed;

	for (size_t i = 0; i < sizeof(data_pages) / sizeof(data_pages[0]); i++)
		memset(mem + data_pages[i], 0, S1G_PAGE);
	for (unsigned int i = 0; i < S1G_COPY_LEN; i++)
		want[i] = (uint8_t)(i * 13 + seed) | 1; /* never 0 */
	memcpy(mem + src_off, want, S1G_COPY_LEN);
	/* The decoy source carries another pattern: a copy from it is told apart. */
	if (src_off != S1G_OFF_DECOY_SRC)
		memset(mem + S1G_OFF_DECOY_SRC, 0xdc, S1G_COPY_LEN);

	/* A blocked DMA still completes (the edu sees an error it ignores):
	 * a hang is a failure, not a "blocked". */
	CHECK_OK(edu_copy(e, src_iova, dst_iova, S1G_COPY_LEN));

	landed = memcmp(mem + land_off, want, S1G_COPY_LEN) == 0;
	for (size_t i = 0; i < sizeof(data_pages) / sizeof(data_pages[0]); i++) {
		uint64_t off = data_pages[i];

		if (off == land_off || off == src_off || off == S1G_OFF_DECOY_SRC)
			continue;
		for (unsigned int j = 0; j < S1G_COPY_LEN; j++)
			if (mem[off + j]) {
				check_note("memfd page 0x%llx was written",
					   (unsigned long long)off);
				return false;
			}
	}
	return landed;
}

bool s1g_is_translation_fault(const uint64_t evt[4], uint32_t sid, uint64_t iova)
{
	return (evt[0] & 0xff) == S1G_EVT_F_TRANSLATION && evt[0] >> 32 == sid &&
	       evt[2] >= iova && evt[2] < iova + S1G_COPY_LEN;
}

unsigned int s1g_read_faults(int veventq_fd, uint32_t sid, uint64_t iova)
{
	static uint8_t buf[64 * 1024];
	struct pollfd pfd = { .fd = veventq_fd, .events = POLLIN };
	unsigned int faults = 0, lost = 0;
	ssize_t n;

	CHECK(poll(&pfd, 1, 5000) == 1);
	n = read(veventq_fd, buf, sizeof(buf));
	CHECK(n > 0);
	for (size_t at = 0; at < (size_t)n;) {
		struct kabi_iommufd_vevent_header h;
		struct kabi_iommu_vevent_arm_smmuv3 e;

		CHECK((size_t)n - at >= sizeof(h));
		memcpy(&h, buf + at, sizeof(h));
		at += sizeof(h);
		if (h.flags & KABI_IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
			lost++;
			continue;
		}
		CHECK((size_t)n - at >= sizeof(e));
		memcpy(&e, buf + at, sizeof(e));
		at += sizeof(e);
		if (faults++ == 0)
			check_note("vEVENT seq %u: %016llx %016llx %016llx %016llx", h.sequence,
				   (unsigned long long)e.evt[0], (unsigned long long)e.evt[1],
				   (unsigned long long)e.evt[2], (unsigned long long)e.evt[3]);
		CHECK(s1g_is_translation_fault(e.evt, sid, iova));
	}
	check_note("%u stage-1 fault records on the vEVENTQ (%u lost-events markers)", faults,
		   lost);
	return faults;
}
