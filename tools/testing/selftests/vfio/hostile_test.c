// SPDX-License-Identifier: GPL-2.0-only
/*
 * A hostile user: no information leaks through ioctl replies or region
 * reads, and no config-space write that reaches what would hurt the host
 * (BAR addresses, MSI address/data).  Who may open the group node and
 * whether a device fd needs a container are devtmpfs' and vfio.ko's
 * business, not this driver's: not tested here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define PATTERN 0xa5

/* Every byte is the user's pattern or zero: no kernel memory came back */
static int foreign_bytes(const uint8_t *p, size_t from, size_t to)
{
	size_t i;
	int n = 0;

	for (i = from; i < to; i++)
		if (p[i] != PATTERN && p[i] != 0)
			n++;
	return n;
}

/* Read the function's real config space through sysfs */
static int sysfs_config(const char *bdf, uint32_t off, void *buf, size_t len)
{
	char path[128];
	int fd, n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, off);
	close(fd);
	return n;
}

FIXTURE(hostile) {
	struct vfio_dev d;
	const char *bdf;
};

FIXTURE_VARIANT(hostile) {
	const char *name;
	bool hot_reset;		/* alone below a root port (guest-run.sh) */
};

FIXTURE_VARIANT_ADD(hostile, edu) { .name = "edu" };
FIXTURE_VARIANT_ADD(hostile, e1000e) { .name = "e1000e", .hot_reset = true };
FIXTURE_VARIANT_ADD(hostile, nvme) { .name = "nvme", .hot_reset = true };
FIXTURE_VARIANT_ADD(hostile, ivshmem) { .name = "ivshmem" };

FIXTURE_SETUP(hostile)
{
	self->bdf = vfio_test_bdf(variant->name);
	if (!self->bdf)
		SKIP(return, "no %s device bound", variant->name);
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
}

FIXTURE_TEARDOWN(hostile)
{
	vfio_dev_close(&self->d);
}

TEST_F(hostile, device_info_no_leak)
{
	uint8_t buf[256];
	struct vfio_device_info *info = (void *)buf;

	memset(buf, PATTERN, sizeof(buf));
	info->argsz = sizeof(buf);
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, info));
	EXPECT_EQ(0, foreign_bytes(buf, sizeof(*info), sizeof(buf)));
	if (info->flags & VFIO_DEVICE_FLAGS_CAPS)
		EXPECT_GE(info->cap_offset, sizeof(*info));
}

TEST_F(hostile, region_info_no_leak)
{
	uint8_t buf[1024];
	struct vfio_region_info *ri = (void *)buf;
	int answered = 0;
	uint32_t i;

	for (i = 0; i < self->d.info.num_regions; i++) {
		size_t used = sizeof(*ri);
		uint32_t off;

		memset(buf, PATTERN, sizeof(buf));
		ri->argsz = sizeof(buf);
		ri->index = i;
		/* Absent regions (VGA on most devices) answer EINVAL */
		if (ioctl(self->d.fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
			EXPECT_EQ(EINVAL, errno);
			/* All but the argsz and index the test wrote itself */
			EXPECT_EQ(0, foreign_bytes(buf, 4, 8) +
				     foreign_bytes(buf, 12, sizeof(buf)));
			continue;
		}
		answered++;
		ASSERT_LE(ri->argsz, sizeof(buf));
		if (ri->flags & VFIO_REGION_INFO_FLAG_CAPS) {
			for (off = ri->cap_offset; off; ) {
				struct vfio_info_cap_header *h = (void *)(buf + off);

				ASSERT_LT(off, sizeof(buf));
				if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
					struct vfio_region_info_cap_sparse_mmap *sp = (void *)h;

					EXPECT_EQ(0, sp->reserved);
				}
				off = h->next;
			}
			used = ri->argsz;
		}
		/* Beyond what the reply describes: only the user's bytes */
		EXPECT_EQ(0, foreign_bytes(buf, used, sizeof(buf)));
	}
	EXPECT_GE(answered, VFIO_PCI_CONFIG_REGION_INDEX);
}

TEST_F(hostile, irq_info_no_leak)
{
	uint8_t buf[128];
	struct vfio_irq_info *ii = (void *)buf;
	int answered = 0;
	uint32_t i;

	for (i = 0; i < self->d.info.num_irqs; i++) {
		memset(buf, PATTERN, sizeof(buf));
		ii->argsz = sizeof(buf);
		ii->index = i;
		/* ERR exists only on PCIe functions: EINVAL elsewhere */
		if (ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, ii)) {
			EXPECT_EQ(EINVAL, errno);
			/* All but the argsz and index the test wrote itself */
			EXPECT_EQ(0, foreign_bytes(buf, 4, 8) +
				     foreign_bytes(buf, 12, sizeof(buf)));
			continue;
		}
		answered++;
		EXPECT_EQ(0, foreign_bytes(buf, sizeof(*ii), sizeof(buf)));
	}
	EXPECT_GE(answered, 4);
}

TEST_F(hostile, hot_reset_info_no_leak)
{
	uint8_t buf[1024];
	struct vfio_pci_hot_reset_info *hi = (void *)buf;
	size_t used;

	memset(buf, PATTERN, sizeof(buf));
	hi->argsz = sizeof(buf);
	if (!variant->hot_reset) {
		/* On the root bus: no slot or bus to reset, and nothing written */
		EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, hi));
		EXPECT_EQ(ENODEV, errno);
		EXPECT_EQ(0, foreign_bytes(buf, 4, sizeof(buf)));
		return;
	}
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, hi))
		TH_LOG("hot reset info: %s", strerror(errno));
	used = sizeof(*hi) + hi->count * sizeof(hi->devices[0]);
	ASSERT_LE(used, sizeof(buf));
	EXPECT_EQ(0, foreign_bytes(buf, used, sizeof(buf)));
	EXPECT_GE(hi->count, 1);
}

TEST_F(hostile, reads_past_region_ends_fail)
{
	struct vfio_region_info ri;
	uint8_t b[8];
	uint32_t i;

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		if (vfio_region_info(&self->d, i, &ri) || !ri.size ||
		    !(ri.flags & VFIO_REGION_INFO_FLAG_READ))
			continue;
		memset(b, PATTERN, sizeof(b));
		EXPECT_GT(0, pread(self->d.fd, b, 4, ri.offset + ri.size)) {
			TH_LOG("region %u: read at its end succeeded", i);
		}
		EXPECT_GT(0, pread(self->d.fd, b, 8, ri.offset + ri.size - 4)) {
			TH_LOG("region %u: read straddling its end succeeded", i);
		}
	}
}

TEST_F(hostile, bar_writes_do_not_reach_hardware)
{
	uint32_t hw_before[6], hw_after[6], ones = 0xffffffff, junk = 0x12345670;
	int i;

	ASSERT_EQ(24, sysfs_config(self->bdf, PCI_BASE_ADDRESS_0, hw_before, 24));
	for (i = 0; i < 6; i++) {
		vfio_region_write(&self->d, VFIO_PCI_CONFIG_REGION_INDEX,
				  PCI_BASE_ADDRESS_0 + 4 * i, i % 2 ? &ones : &junk, 4);
	}
	ASSERT_EQ(24, sysfs_config(self->bdf, PCI_BASE_ADDRESS_0, hw_after, 24));
	EXPECT_EQ(0, memcmp(hw_before, hw_after, sizeof(hw_before)));
}

TEST_F(hostile, msi_message_writes_do_not_reach_hardware)
{
	uint8_t hw_before[16], hw_after[16], junk[12];
	int pos = vfio_cfg_find_cap(&self->d, PCI_CAP_ID_MSI);

	if (!pos)
		SKIP(return, "no MSI capability");
	ASSERT_EQ(16, sysfs_config(self->bdf, pos, hw_before, 16));
	memset(junk, 0x5a, sizeof(junk));
	/* address low/high and data, whatever the layout */
	vfio_region_write(&self->d, VFIO_PCI_CONFIG_REGION_INDEX, pos + 4, junk, 4);
	vfio_region_write(&self->d, VFIO_PCI_CONFIG_REGION_INDEX, pos + 8, junk, 4);
	vfio_region_write(&self->d, VFIO_PCI_CONFIG_REGION_INDEX, pos + 12, junk, 2);
	ASSERT_EQ(16, sysfs_config(self->bdf, pos, hw_after, 16));
	EXPECT_EQ(0, memcmp(hw_before + 4, hw_after + 4, 10));
}

TEST_F(hostile, vendor_and_device_are_read_only)
{
	uint32_t id = vfio_cfg_read32(&self->d, PCI_VENDOR_ID), junk = 0;
	uint32_t hw;

	vfio_region_write(&self->d, VFIO_PCI_CONFIG_REGION_INDEX, PCI_VENDOR_ID, &junk, 4);
	EXPECT_EQ(id, vfio_cfg_read32(&self->d, PCI_VENDOR_ID));
	ASSERT_EQ(4, sysfs_config(self->bdf, PCI_VENDOR_ID, &hw, 4));
	EXPECT_EQ(id, hw);
}

TEST_HARNESS_MAIN
