/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QEMU's edu device driven from user space through its VFIO cdev: its DMA
 * engine copies between an IOVA and its own buffer, which is how a test sees
 * whether a mapping really reaches memory. Test code only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8

struct edu {
	volatile uint8_t *bar;
	size_t bar_len;
};

/* Enables memory and bus mastering on devfd and maps BAR0; checks the ID. */
int edu_open(int devfd, struct edu *e);
void edu_close(struct edu *e);
/* One DMA between an IOVA and the device's buffer; -ETIMEDOUT if it hangs. */
int edu_dma(struct edu *e, uint64_t src, uint64_t dst, uint64_t len, bool to_ram);
/* iova_src -> the device's buffer -> iova_dst, len bytes. */
int edu_copy(struct edu *e, uint64_t iova_src, uint64_t iova_dst, uint64_t len);
