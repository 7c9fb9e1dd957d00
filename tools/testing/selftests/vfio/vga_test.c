// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VGA region of a VGA-class device (QEMU's std VGA): present with the
 * legacy layout, its ports and memory reachable, everything between and
 * beyond them refused; and its option ROM through the ROM region.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

FIXTURE(vga) {
	struct vfio_dev d;
	struct vfio_region_info ri;
};

FIXTURE_SETUP(vga)
{
	const char *bdf = vfio_test_bdf("vga");
	int kconfig, ret;

	if (!bdf)
		SKIP(return, "no VGA device bound");
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	/*
	 * The kernel's build options decide: with CONFIG_VFIO_PCI_VGA
	 * (Debian's) the region must be there, without it (the debug kernel)
	 * it must be absent, and only then is the rest skipped
	 */
	kconfig = vfio_kconfig("CONFIG_VFIO_PCI_VGA");
	ASSERT_NE(-1, kconfig) TH_LOG("the kernel's config is unknown");
	ret = vfio_region_info(&self->d, VFIO_PCI_VGA_REGION_INDEX, &self->ri);
	if (!kconfig) {
		ASSERT_EQ(-EINVAL, ret);
		SKIP(return, "kernel without CONFIG_VFIO_PCI_VGA");
	}
	ASSERT_EQ(0, ret);
	ASSERT_NE(0, self->ri.size);
}

FIXTURE_TEARDOWN(vga)
{
	vfio_dev_close(&self->d);
}

TEST_F(vga, region_layout)
{
	EXPECT_EQ(0xc0000, self->ri.size);
	EXPECT_TRUE(self->ri.flags & VFIO_REGION_INFO_FLAG_READ);
	EXPECT_TRUE(self->ri.flags & VFIO_REGION_INFO_FLAG_WRITE);
	EXPECT_FALSE(self->ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
}

TEST_F(vga, text_memory_round_trip)
{
	uint8_t old[2], val[2] = { 'V', 0x1f }, back[2];
	uint64_t off = self->ri.offset + 0xb8000;

	ASSERT_EQ(2, pread(self->d.fd, old, 2, off));
	ASSERT_EQ(2, pwrite(self->d.fd, val, 2, off));
	ASSERT_EQ(2, pread(self->d.fd, back, 2, off));
	EXPECT_EQ(0, memcmp(val, back, 2));
	pwrite(self->d.fd, old, 2, off);
}

TEST_F(vga, io_ports)
{
	uint8_t misc = 0xff, idx;

	/* Miscellaneous Output, read port: bit 0 selects the CRTC at 3Dx */
	ASSERT_EQ(1, pread(self->d.fd, &misc, 1, self->ri.offset + 0x3cc));
	EXPECT_NE(0xff, misc);
	/* Sequencer index register reads back what was written */
	idx = 0x02;
	ASSERT_EQ(1, pwrite(self->d.fd, &idx, 1, self->ri.offset + 0x3c4));
	idx = 0;
	ASSERT_EQ(1, pread(self->d.fd, &idx, 1, self->ri.offset + 0x3c4));
	EXPECT_EQ(0x02, idx & 0x07);
}

TEST_F(vga, outside_the_legacy_ranges)
{
	uint32_t v;

	/* Between the ranges, past the end, straddling an end */
	EXPECT_GT(0, pread(self->d.fd, &v, 4, self->ri.offset + 0x100));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_GT(0, pread(self->d.fd, &v, 4, self->ri.offset + 0xc0000));
	EXPECT_GT(0, pread(self->d.fd, &v, 4, self->ri.offset + 0xbfffe));
	EXPECT_GT(0, pread(self->d.fd, &v, 4, self->ri.offset + 0x3de));
}

/* QEMU's std VGA carries its video BIOS in the expansion ROM BAR */
TEST_F(vga, rom_region_reads_the_option_rom)
{
	struct vfio_region_info rom;
	uint8_t sig[2] = { 0, 0 };

	ASSERT_EQ(0, vfio_region_info(&self->d, VFIO_PCI_ROM_REGION_INDEX, &rom));
	if (!rom.size)
		SKIP(return, "no option ROM on this VGA");
	EXPECT_FALSE(rom.flags & VFIO_REGION_INFO_FLAG_WRITE);
	ASSERT_EQ(2, pread(self->d.fd, sig, 2, rom.offset));
	EXPECT_EQ(0x55, sig[0]);
	EXPECT_EQ(0xaa, sig[1]);
	EXPECT_GT(0, pwrite(self->d.fd, sig, 2, rom.offset));
	EXPECT_GT(0, pread(self->d.fd, sig, 2, rom.offset + rom.size - 1));
}

TEST_HARNESS_MAIN
