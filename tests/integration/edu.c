/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "edu.h"

#include <errno.h>
#include <time.h>

#include "vfio.h"

#define EDU_BAR0_SIZE (1u << 20)
#define EDU_ID 0x00
#define EDU_ID_VALUE 0x010000ed
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1
#define EDU_DMA_TO_RAM 0x2
#define EDU_DMA_BUF 0x40000

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4

int edu_open(int devfd, struct edu *e)
{
	uint16_t cmd = 0;
	void *p = NULL;
	int r;

	e->bar = NULL;
	r = vfio_device_config_read(devfd, PCI_COMMAND, &cmd, sizeof(cmd));
	if (r < 0)
		return r;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	r = vfio_device_config_write(devfd, PCI_COMMAND, &cmd, sizeof(cmd));
	if (r < 0)
		return r;
	r = vfio_device_map_bar(devfd, 0, &p, &e->bar_len);
	if (r < 0)
		return r;
	e->bar = p;
	if (e->bar_len != EDU_BAR0_SIZE || *(volatile uint32_t *)(e->bar + EDU_ID) != EDU_ID_VALUE) {
		edu_close(e);
		return -ENODEV;
	}
	return 0;
}

void edu_close(struct edu *e)
{
	if (e->bar)
		vfio_device_unmap_bar((void *)e->bar, e->bar_len);
	e->bar = NULL;
}

static void reg_write(struct edu *e, unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(e->bar + off) = v;
}

static uint64_t reg_read(struct edu *e, unsigned int off)
{
	return *(volatile uint64_t *)(e->bar + off);
}

int edu_dma(struct edu *e, uint64_t src, uint64_t dst, uint64_t len, bool to_ram)
{
	struct timespec ms = { 0, 1000000 };

	reg_write(e, EDU_DMA_SRC, src);
	reg_write(e, EDU_DMA_DST, dst);
	reg_write(e, EDU_DMA_COUNT, len);
	reg_write(e, EDU_DMA_CMD, EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
	for (int i = 0; i < 5000; i++) {
		if (!(reg_read(e, EDU_DMA_CMD) & EDU_DMA_RUN))
			return 0;
		nanosleep(&ms, NULL);
	}
	return -ETIMEDOUT;
}

int edu_copy(struct edu *e, uint64_t iova_src, uint64_t iova_dst, uint64_t len)
{
	int r = edu_dma(e, iova_src, EDU_DMA_BUF, len, false);

	return r < 0 ? r : edu_dma(e, EDU_DMA_BUF, iova_dst, len, true);
}
