// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device DMA through the legacy container path (type1 IOMMU): memory mapped
 * with VFIO_IOMMU_MAP_DMA is what QEMU's edu reads and writes at the IOVA,
 * and without the user's bus-master bit nothing reaches it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define PAGE	4096
#define IOVA	0x400000ULL
#define LEN	2048	/* what vfio_edu_dma_copy() moves at most */

FIXTURE(dma) {
	struct vfio_dev d;
	uint8_t *buf;		/* two pages: source, destination */
	bool mapped;
};

FIXTURE_SETUP(dma)
{
	const char *bdf = vfio_test_bdf("edu");
	int i;

	self->d.fd = -1;
	self->d.group = -1;
	self->d.container = -1;
	self->buf = MAP_FAILED;
	if (!bdf)
		SKIP(return, "no edu device bound");
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	self->buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	for (i = 0; i < PAGE; i++)
		self->buf[i] = (uint8_t)(i * 13 + 7);
	ASSERT_EQ(0, vfio_dma_map(&self->d, self->buf, IOVA, 2 * PAGE));
	self->mapped = true;
}

FIXTURE_TEARDOWN(dma)
{
	if (self->mapped)
		vfio_dma_unmap(&self->d, IOVA, 2 * PAGE);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, 2 * PAGE);
	vfio_dev_close(&self->d);
}

static uint64_t bar0(void)
{
	return (uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40;
}

TEST_F(dma, round_trip_through_the_iommu)
{
	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ASSERT_EQ(0, vfio_edu_dma_copy(self->d.fd, bar0(), IOVA, IOVA + PAGE, LEN));
	EXPECT_EQ(0, memcmp(self->buf, self->buf + PAGE, LEN));

	/* A second, shorter transfer to another offset lands exactly there */
	memset(self->buf + PAGE, 0, PAGE);
	ASSERT_EQ(0, vfio_edu_dma_copy(self->d.fd, bar0(), IOVA + 100,
				       IOVA + PAGE + 1000, 200));
	EXPECT_EQ(0, memcmp(self->buf + 100, self->buf + PAGE + 1000, 200));
	EXPECT_EQ(0, self->buf[PAGE + 999]);
	EXPECT_EQ(0, self->buf[PAGE + 1200]);
}

TEST_F(dma, no_dma_without_bus_master)
{
	static const uint8_t zero[PAGE];

	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY);
	vfio_cfg_write16(&self->d, PCI_COMMAND,
			 vfio_cfg_read16(&self->d, PCI_COMMAND) & ~PCI_COMMAND_MASTER);
	EXPECT_EQ(0, vfio_hw_cfg_read(self->d.bdf, PCI_COMMAND, 2) &
		  PCI_COMMAND_MASTER);
	/* The engine runs, but its reads and writes go nowhere */
	ASSERT_EQ(0, vfio_edu_dma_copy(self->d.fd, bar0(), IOVA, IOVA + PAGE, LEN));
	EXPECT_EQ(0, memcmp(self->buf + PAGE, zero, PAGE));

	/* Bus master on again: the same copy goes through */
	vfio_cmd_set(&self->d, PCI_COMMAND_MASTER);
	ASSERT_EQ(0, vfio_edu_dma_copy(self->d.fd, bar0(), IOVA, IOVA + PAGE, LEN));
	EXPECT_EQ(0, memcmp(self->buf, self->buf + PAGE, LEN));
}

TEST_HARNESS_MAIN
