// SPDX-License-Identifier: GPL-2.0-only
/*
 * Config-space virtualization: what a VFIO user reads and writes in the
 * config region, compared with what the function really holds (sysfs
 * "config", "resource", "vendor", ...).
 *
 * Behaviour asserted here, beyond the obvious:
 *  - any access length within the config space is accepted and split: a
 *    3-byte read returns the same bytes as three 1-byte reads, an 8-byte or
 *    whole-space read the same as dword reads;
 *  - a zero-length access returns 0 (as with the stock driver); one
 *    starting or ending past the config space fails as a whole with EFAULT
 *    (as with the stock driver), and nothing is transferred;
 *  - BAR and ROM BAR sizing is answered from the region sizes and never
 *    reaches the hardware BARs;
 *  - MSI and MSI-X control bits are virtual: the hardware registers do not
 *    change when the user writes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define CFG	VFIO_PCI_CONFIG_REGION_INDEX
#define STATUS_W1C	(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | \
			 PCI_STATUS_REC_TARGET_ABORT | \
			 PCI_STATUS_REC_MASTER_ABORT | \
			 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)

/* Read a sysfs file of the function; returns bytes read or -errno */
static ssize_t sysfs_read(const char *bdf, const char *file, off_t off,
			  void *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, off);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

static unsigned long sysfs_ulong(const char *bdf, const char *file)
{
	char buf[64] = {};

	if (sysfs_read(bdf, file, 0, buf, sizeof(buf) - 1) <= 0)
		return ~0UL;
	return strtoul(buf, NULL, 0);
}

/* The function's real config space (a failed read aborts the test) */
static uint32_t hw_read(const char *bdf, unsigned int off, unsigned int len)
{
	return vfio_hw_cfg_read(bdf, off, len);
}

/* pread/pwrite of the config region; bytes moved or -errno */
static ssize_t cfg_pread(struct vfio_dev *d, uint64_t off, void *buf, size_t len)
{
	return vfio_region_read(d, CFG, off, buf, len);
}

static ssize_t cfg_pwrite(struct vfio_dev *d, uint64_t off, const void *buf,
			  size_t len)
{
	return vfio_region_write(d, CFG, off, buf, len);
}

static bool known_cap(uint8_t id)
{
	switch (id) {
	case PCI_CAP_ID_PM: case PCI_CAP_ID_VPD: case PCI_CAP_ID_MSI:
	case PCI_CAP_ID_PCIX: case PCI_CAP_ID_VNDR: case PCI_CAP_ID_EXP:
	case PCI_CAP_ID_MSIX: case PCI_CAP_ID_SATA: case PCI_CAP_ID_AF:
	case PCI_CAP_ID_AGP: case PCI_CAP_ID_HT:
		return true;
	default:
		return false;
	}
}

static bool known_ecap(uint16_t id)
{
	switch (id) {
	case PCI_EXT_CAP_ID_ERR: case PCI_EXT_CAP_ID_VNDR:
	case PCI_EXT_CAP_ID_VC: case PCI_EXT_CAP_ID_PWR:
	case PCI_EXT_CAP_ID_MFVC: case PCI_EXT_CAP_ID_VC9:
	case PCI_EXT_CAP_ID_ATS: case PCI_EXT_CAP_ID_MCAST:
	case PCI_EXT_CAP_ID_PRI: case PCI_EXT_CAP_ID_REBAR:
	case PCI_EXT_CAP_ID_DPA: case PCI_EXT_CAP_ID_TPH:
	case PCI_EXT_CAP_ID_DSN: case PCI_EXT_CAP_ID_ACS:
	case PCI_EXT_CAP_ID_ARI: case PCI_EXT_CAP_ID_SRIOV:
	case PCI_EXT_CAP_ID_LTR: case PCI_EXT_CAP_ID_SECPCI:
	case PCI_EXT_CAP_ID_L1SS: case PCI_EXT_CAP_ID_PTM:
	case PCI_EXT_CAP_ID_DVSEC: case PCI_EXT_CAP_ID_DLF:
	case PCI_EXT_CAP_ID_PL_16GT:
		return true;
	default:
		return false;
	}
}

FIXTURE(config) {
	struct vfio_dev d;
	const char *bdf;
	uint32_t size;
};

FIXTURE_VARIANT(config) {
	const char *name;
	bool msi, msix, exp, aer_dsn, flr, pm;
	/* A BAR0 register that keeps a value until the function is reset */
	unsigned int mark_off;
	uint32_t mark;
};

FIXTURE_VARIANT_ADD(config, edu) {
	.name = "edu", .msi = true,
};

FIXTURE_VARIANT_ADD(config, e1000e) {
	.name = "e1000e", .msi = true, .msix = true, .exp = true,
	.aer_dsn = true, .pm = true,
	.mark_off = 0x2800, .mark = 0x12345670,	/* RDBAL */
};

FIXTURE_VARIANT_ADD(config, nvme) {
	.name = "nvme", .msix = true, .exp = true, .flr = true,
	.mark_off = 0x14, .mark = 0x00460000,	/* CC: queue entry sizes */
};

FIXTURE_VARIANT_ADD(config, ivshmem) {
	.name = "ivshmem",
};

FIXTURE_SETUP(config)
{
	struct vfio_region_info ri;

	self->bdf = vfio_test_bdf(variant->name);
	if (!self->bdf)
		SKIP(return, "no %s device bound", variant->name);
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
	ASSERT_EQ(0, vfio_region_info(&self->d, CFG, &ri));
	self->size = ri.size;
}

FIXTURE_TEARDOWN(config)
{
	vfio_dev_close(&self->d);
}

TEST_F(config, region_size)
{
	/* PCIe functions expose extended config space, the others do not */
	EXPECT_EQ(variant->exp ? 4096u : 256u, self->size);
}

TEST_F(config, ids_match_sysfs)
{
	struct vfio_dev *d = &self->d;

	EXPECT_EQ(sysfs_ulong(self->bdf, "vendor"),
		  vfio_cfg_read16(d, PCI_VENDOR_ID));
	EXPECT_EQ(sysfs_ulong(self->bdf, "device"),
		  vfio_cfg_read16(d, PCI_DEVICE_ID));
	EXPECT_EQ(sysfs_ulong(self->bdf, "class"),
		  vfio_cfg_read32(d, PCI_CLASS_REVISION) >> 8);
	EXPECT_EQ(sysfs_ulong(self->bdf, "subsystem_vendor"),
		  vfio_cfg_read16(d, PCI_SUBSYSTEM_VENDOR_ID));
	EXPECT_EQ(hw_read(self->bdf, PCI_HEADER_TYPE, 1),
		  vfio_cfg_read8(d, PCI_HEADER_TYPE));
}

TEST_F(config, ids_read_only)
{
	struct vfio_dev *d = &self->d;
	uint32_t id = vfio_cfg_read32(d, PCI_VENDOR_ID);
	uint32_t class = vfio_cfg_read32(d, PCI_CLASS_REVISION);

	vfio_cfg_write32(d, PCI_VENDOR_ID, ~id);
	vfio_cfg_write16(d, PCI_DEVICE_ID, 0);
	vfio_cfg_write32(d, PCI_CLASS_REVISION, ~class);
	vfio_cfg_write8(d, PCI_HEADER_TYPE, 0xff);
	vfio_cfg_write8(d, PCI_CAPABILITY_LIST, 0xfc);
	EXPECT_EQ(id, vfio_cfg_read32(d, PCI_VENDOR_ID));
	EXPECT_EQ(class, vfio_cfg_read32(d, PCI_CLASS_REVISION));
	EXPECT_EQ(hw_read(self->bdf, PCI_HEADER_TYPE, 1),
		  vfio_cfg_read8(d, PCI_HEADER_TYPE));
	EXPECT_EQ(id, hw_read(self->bdf, PCI_VENDOR_ID, 4));
}

TEST_F(config, bar_sizing)
{
	struct vfio_dev *d = &self->d;
	char res_before[1024] = {}, res_after[1024] = {};
	uint32_t hw_before[6], hw_after[6];
	struct vfio_region_info ri;
	unsigned int i, tested = 0;

	ASSERT_LT(0, sysfs_read(self->bdf, "resource", 0, res_before,
				sizeof(res_before) - 1));
	for (i = 0; i < 6; i++)
		hw_before[i] = hw_read(self->bdf, PCI_BASE_ADDRESS_0 + 4 * i, 4);

	for (i = 0; i < 6; i++) {
		unsigned int off = PCI_BASE_ADDRESS_0 + 4 * i;
		uint32_t orig = vfio_cfg_read32(d, off), rb, want;
		uint64_t mask;

		ASSERT_EQ(0, vfio_region_info(d, i, &ri));
		vfio_cfg_write32(d, off, 0xffffffff);
		rb = vfio_cfg_read32(d, off);
		if (!ri.size) {
			EXPECT_EQ(0u, rb) TH_LOG("BAR%u is unimplemented", i);
			vfio_cfg_write32(d, off, orig);
			continue;
		}
		tested++;
		mask = ~(ri.size - 1);
		if (orig & PCI_BASE_ADDRESS_SPACE_IO)
			want = ((uint32_t)mask & ~3u) | (orig & 3u);
		else
			want = ((uint32_t)mask & ~0xfu) | (orig & 0xfu);
		EXPECT_EQ(want, rb) TH_LOG("BAR%u, size %#llx", i,
					   (unsigned long long)ri.size);
		/* Zero keeps the read-only type bits */
		vfio_cfg_write32(d, off, 0);
		EXPECT_EQ(want & (orig & PCI_BASE_ADDRESS_SPACE_IO ? 3u : 0xfu),
			  vfio_cfg_read32(d, off));
		vfio_cfg_write32(d, off, orig);
		EXPECT_EQ(orig, vfio_cfg_read32(d, off));

		if (!(orig & PCI_BASE_ADDRESS_SPACE_IO) &&
		    (orig & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
		    PCI_BASE_ADDRESS_MEM_TYPE_64) {
			/* The high half sizes with the upper address bits */
			ASSERT_LT(i, 5u);
			i++;
			off += 4;
			orig = vfio_cfg_read32(d, off);
			vfio_cfg_write32(d, off, 0xffffffff);
			EXPECT_EQ((uint32_t)(mask >> 32),
				  vfio_cfg_read32(d, off));
			vfio_cfg_write32(d, off, orig);
			EXPECT_EQ(orig, vfio_cfg_read32(d, off));
		}
	}
	EXPECT_LT(0u, tested);

	/* The kernel's resources and the hardware BARs never moved */
	ASSERT_LT(0, sysfs_read(self->bdf, "resource", 0, res_after,
				sizeof(res_after) - 1));
	EXPECT_STREQ(res_before, res_after);
	for (i = 0; i < 6; i++) {
		hw_after[i] = hw_read(self->bdf, PCI_BASE_ADDRESS_0 + 4 * i, 4);
		EXPECT_EQ(hw_before[i], hw_after[i]) TH_LOG("hardware BAR%u", i);
	}
}

struct bar_flipper {
	struct vfio_dev *d;
	volatile bool stop;
	unsigned long writes;	/* that went through */
	unsigned long failed;	/* that did not */
};

/* Write all-ones and zero to BAR0, over and over */
static void *bar_flip(void *arg)
{
	struct bar_flipper *f = arg;
	uint32_t v[2] = { 0xffffffff, 0 };

	while (!f->stop) {
		if (vfio_region_write(f->d, CFG, PCI_BASE_ADDRESS_0,
				      &v[f->writes & 1], 4) == 4)
			f->writes++;
		else
			f->failed++;
	}
	return NULL;
}

/*
 * Config reads run without the emulation lock: one racing a write must
 * still see the register before or after the write, never the user's raw
 * value before the BAR mask was applied to it.
 */
TEST_F(config, reads_see_whole_writes)
{
	struct vfio_dev *d = &self->d;
	struct bar_flipper f = { .d = d };
	uint32_t orig, sized, zero, rb;
	struct vfio_region_info ri;
	pthread_t t;
	int i, odd = 0, n_sized = 0, n_zero = 0;

	ASSERT_EQ(0, vfio_region_info(d, 0, &ri));
	if (!ri.size || ri.size > (1ull << 31))
		SKIP(return, "BAR0 is not a 32-bit BAR");
	orig = vfio_cfg_read32(d, PCI_BASE_ADDRESS_0);
	vfio_cfg_write32(d, PCI_BASE_ADDRESS_0, 0xffffffff);
	sized = vfio_cfg_read32(d, PCI_BASE_ADDRESS_0);
	vfio_cfg_write32(d, PCI_BASE_ADDRESS_0, 0);
	zero = vfio_cfg_read32(d, PCI_BASE_ADDRESS_0);
	ASSERT_NE(0xffffffffu, sized);

	ASSERT_EQ(0, pthread_create(&t, NULL, bar_flip, &f));
	for (i = 0; i < 200000; i++) {
		rb = vfio_cfg_read32(d, PCI_BASE_ADDRESS_0);
		if (rb == sized)
			n_sized++;
		else if (rb == zero)
			n_zero++;
		else if (!odd++)
			TH_LOG("read %#x, want %#x or %#x", rb, sized, zero);
	}
	f.stop = true;
	pthread_join(t, NULL);
	vfio_cfg_write32(d, PCI_BASE_ADDRESS_0, orig);
	TH_LOG("%lu writes raced %d reads: %d sized, %d zero", f.writes, i,
	       n_sized, n_zero);
	EXPECT_EQ(0, odd);
	/* Every write went through, and the reads did run against them */
	EXPECT_EQ(0, f.failed);
	EXPECT_LT(1, f.writes);
}

TEST_F(config, rom_sizing)
{
	struct vfio_dev *d = &self->d;
	uint32_t orig = vfio_cfg_read32(d, PCI_ROM_ADDRESS);
	uint32_t hw = hw_read(self->bdf, PCI_ROM_ADDRESS, 4);
	struct vfio_region_info ri;
	uint32_t rb;

	ASSERT_EQ(0, vfio_region_info(d, VFIO_PCI_ROM_REGION_INDEX, &ri));
	vfio_cfg_write32(d, PCI_ROM_ADDRESS, 0xffffffff);
	rb = vfio_cfg_read32(d, PCI_ROM_ADDRESS);
	if (ri.size) {
		EXPECT_EQ(((uint32_t)~(ri.size - 1) & PCI_ROM_ADDRESS_MASK) |
			  PCI_ROM_ADDRESS_ENABLE, rb);
	} else {
		EXPECT_EQ(0u, rb);
	}
	vfio_cfg_write32(d, PCI_ROM_ADDRESS, orig);
	EXPECT_EQ(orig, vfio_cfg_read32(d, PCI_ROM_ADDRESS));
	EXPECT_EQ(hw, hw_read(self->bdf, PCI_ROM_ADDRESS, 4));
}

TEST_F(config, cap_chain)
{
	struct vfio_dev *d = &self->d;
	bool seen[256] = {}, msi = false, msix = false, exp = false;
	uint16_t status = vfio_cfg_read16(d, PCI_STATUS);
	unsigned int pos, n = 0;

	pos = vfio_cfg_read8(d, PCI_CAPABILITY_LIST);
	if (!(status & PCI_STATUS_CAP_LIST)) {
		EXPECT_EQ(0u, pos);
		pos = 0;
	}
	while (pos) {
		uint8_t id = vfio_cfg_read8(d, pos);

		ASSERT_GE(pos, 0x40u);
		ASSERT_EQ(0u, pos & 3);
		ASSERT_FALSE(seen[pos]) TH_LOG("loop at %#x", pos);
		ASSERT_LT(++n, 48u);
		seen[pos] = true;
		EXPECT_TRUE(known_cap(id)) TH_LOG("cap %#x at %#x", id, pos);
		/* Every exposed capability is really there, at that place */
		EXPECT_EQ(id, hw_read(self->bdf, pos, 1));
		msi |= id == PCI_CAP_ID_MSI;
		msix |= id == PCI_CAP_ID_MSIX;
		exp |= id == PCI_CAP_ID_EXP;
		pos = vfio_cfg_read8(d, pos + PCI_CAP_LIST_NEXT);
	}
	EXPECT_EQ(variant->msi, msi);
	EXPECT_EQ(variant->msix, msix);
	EXPECT_EQ(variant->exp, exp);
	EXPECT_EQ(n > 0, !!(status & PCI_STATUS_CAP_LIST));
}

TEST_F(config, ext_cap_chain)
{
	struct vfio_dev *d = &self->d;
	bool aer = false, dsn = false;
	unsigned int pos = 0x100, n = 0;
	uint32_t buf, hdr;

	if (self->size <= 0x100) {
		/* No extended space: reading there is past the end */
		EXPECT_EQ(-EFAULT, cfg_pread(d, 0x100, &buf, 4));
		return;
	}
	while (pos) {
		hdr = vfio_cfg_read32(d, pos);
		ASSERT_GE(pos, 0x100u);
		ASSERT_EQ(0u, pos & 3);
		ASSERT_LT(++n, 64u);
		if (!hdr)
			break;
		if (pos == 0x100 && PCI_EXT_CAP_ID(hdr) == 0) {
			/* Null header standing in for a hidden capability */
		} else {
			EXPECT_TRUE(known_ecap(PCI_EXT_CAP_ID(hdr)))
				TH_LOG("ecap %#x at %#x", PCI_EXT_CAP_ID(hdr), pos);
			EXPECT_EQ(PCI_EXT_CAP_ID(hdr),
				  hw_read(self->bdf, pos, 2));
		}
		aer |= PCI_EXT_CAP_ID(hdr) == PCI_EXT_CAP_ID_ERR;
		dsn |= PCI_EXT_CAP_ID(hdr) == PCI_EXT_CAP_ID_DSN;
		ASSERT_TRUE(PCI_EXT_CAP_NEXT(hdr) == 0 ||
			    PCI_EXT_CAP_NEXT(hdr) > pos) TH_LOG("chain goes back");
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
	if (variant->aer_dsn) {
		EXPECT_TRUE(aer);
		EXPECT_TRUE(dsn);
	}
}

TEST_F(config, aer_registers)
{
	struct vfio_dev *d = &self->d;
	int pos = vfio_cfg_find_ecap(d, PCI_EXT_CAP_ID_ERR);
	uint32_t mask, cap;

	if (!pos)
		SKIP(return, "no AER");
	/* The mask register passes through to the hardware */
	mask = vfio_cfg_read32(d, pos + PCI_ERR_COR_MASK);
	vfio_cfg_write32(d, pos + PCI_ERR_COR_MASK, mask ^ PCI_ERR_COR_BAD_TLP);
	EXPECT_EQ(mask ^ PCI_ERR_COR_BAD_TLP,
		  hw_read(self->bdf, pos + PCI_ERR_COR_MASK, 4));
	vfio_cfg_write32(d, pos + PCI_ERR_COR_MASK, mask);
	EXPECT_EQ(mask, hw_read(self->bdf, pos + PCI_ERR_COR_MASK, 4));
	/* Capabilities and control are read-only */
	cap = vfio_cfg_read32(d, pos + PCI_ERR_CAP);
	vfio_cfg_write32(d, pos + PCI_ERR_CAP, ~cap);
	EXPECT_EQ(cap, vfio_cfg_read32(d, pos + PCI_ERR_CAP));
	/* Status is write-1-to-clear: nothing is pending in QEMU */
	vfio_cfg_write32(d, pos + PCI_ERR_UNCOR_STATUS, 0xffffffff);
	EXPECT_EQ(0u, vfio_cfg_read32(d, pos + PCI_ERR_UNCOR_STATUS));
}

TEST_F(config, msi_fields)
{
	struct vfio_dev *d = &self->d;
	int pos = vfio_cfg_find_cap(d, PCI_CAP_ID_MSI);
	uint8_t hw_before[24], hw_after[24];
	unsigned int mmc, data_off;
	struct vfio_irq_info ii;
	uint16_t flags;

	ASSERT_EQ(0, vfio_irq_info(d, VFIO_PCI_MSI_IRQ_INDEX, &ii));
	if (!variant->msi) {
		EXPECT_EQ(0, pos);
		EXPECT_EQ(0u, ii.count);
		return;
	}
	ASSERT_NE(0, pos);
	flags = vfio_cfg_read16(d, pos + PCI_MSI_FLAGS);
	mmc = (flags & PCI_MSI_FLAGS_QMASK) >> 1;
	EXPECT_EQ(1u << mmc, ii.count);
	EXPECT_EQ(0, flags & PCI_MSI_FLAGS_ENABLE);
	data_off = flags & PCI_MSI_FLAGS_64BIT ? PCI_MSI_DATA_64 :
						 PCI_MSI_DATA_32;

	ASSERT_EQ(24, sysfs_read(self->bdf, "config", pos, hw_before, 24));
	vfio_cfg_write32(d, pos + PCI_MSI_ADDRESS_LO, 0xfee01000);
	vfio_cfg_write16(d, pos + data_off, 0x4321);
	/* Enable, ask for 32 vectors, try to change the capability bits */
	vfio_cfg_write16(d, pos + PCI_MSI_FLAGS,
			 (flags ^ PCI_MSI_FLAGS_QMASK) | PCI_MSI_FLAGS_ENABLE |
			 PCI_MSI_FLAGS_QSIZE);
	EXPECT_EQ(0xfee01000u, vfio_cfg_read32(d, pos + PCI_MSI_ADDRESS_LO));
	EXPECT_EQ(0x4321, vfio_cfg_read16(d, pos + data_off));
	EXPECT_EQ((flags & ~PCI_MSI_FLAGS_QSIZE) | PCI_MSI_FLAGS_ENABLE |
		  (mmc << 4), vfio_cfg_read16(d, pos + PCI_MSI_FLAGS));

	/* None of it reached the hardware: the kernel owns the real MSI */
	ASSERT_EQ(24, sysfs_read(self->bdf, "config", pos, hw_after, 24));
	EXPECT_EQ(0, memcmp(hw_before, hw_after, sizeof(hw_before)));

	vfio_cfg_write16(d, pos + PCI_MSI_FLAGS, flags);
	EXPECT_EQ(flags, vfio_cfg_read16(d, pos + PCI_MSI_FLAGS));
}

TEST_F(config, msix_fields)
{
	struct vfio_dev *d = &self->d;
	int pos = vfio_cfg_find_cap(d, PCI_CAP_ID_MSIX);
	uint32_t table, pba, entries;
	struct vfio_region_info ri;
	struct vfio_irq_info ii;
	uint16_t flags, hw_flags;

	ASSERT_EQ(0, vfio_irq_info(d, VFIO_PCI_MSIX_IRQ_INDEX, &ii));
	if (!variant->msix) {
		EXPECT_EQ(0, pos);
		EXPECT_EQ(0u, ii.count);
		return;
	}
	ASSERT_NE(0, pos);
	flags = vfio_cfg_read16(d, pos + PCI_MSIX_FLAGS);
	table = vfio_cfg_read32(d, pos + PCI_MSIX_TABLE);
	pba = vfio_cfg_read32(d, pos + PCI_MSIX_PBA);
	entries = (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	EXPECT_EQ(entries, ii.count);

	/* The table and PBA sit inside the BAR they name */
	ASSERT_EQ(0, vfio_region_info(d, table & PCI_MSIX_TABLE_BIR, &ri));
	EXPECT_LE((table & PCI_MSIX_TABLE_OFFSET) + entries * 16, ri.size);
	ASSERT_EQ(0, vfio_region_info(d, pba & PCI_MSIX_PBA_BIR, &ri));
	EXPECT_LE((pba & PCI_MSIX_PBA_OFFSET) + 8 * ((entries + 63) / 64),
		  ri.size);

	/* Table and PBA location are read-only */
	vfio_cfg_write32(d, pos + PCI_MSIX_TABLE, ~table);
	vfio_cfg_write32(d, pos + PCI_MSIX_PBA, ~pba);
	EXPECT_EQ(table, vfio_cfg_read32(d, pos + PCI_MSIX_TABLE));
	EXPECT_EQ(pba, vfio_cfg_read32(d, pos + PCI_MSIX_PBA));

	/* Enable and function mask are virtual; the table size is not */
	hw_flags = hw_read(self->bdf, pos + PCI_MSIX_FLAGS, 2);
	vfio_cfg_write16(d, pos + PCI_MSIX_FLAGS, 0xffff);
	EXPECT_EQ(flags | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
		  vfio_cfg_read16(d, pos + PCI_MSIX_FLAGS));
	EXPECT_EQ(hw_flags, hw_read(self->bdf, pos + PCI_MSIX_FLAGS, 2));
	vfio_cfg_write16(d, pos + PCI_MSIX_FLAGS, flags);
	EXPECT_EQ(flags, vfio_cfg_read16(d, pos + PCI_MSIX_FLAGS));
}

TEST_F(config, status_w1c)
{
	struct vfio_dev *d = &self->d;
	uint16_t status = vfio_cfg_read16(d, PCI_STATUS);
	uint16_t hw = hw_read(self->bdf, PCI_STATUS, 2);

	/* Only the capability-list bit is the emulation's own */
	EXPECT_EQ(hw & ~(PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT),
		  status & ~(PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT));

	/* Ones clear the error bits and leave the rest */
	vfio_cfg_write16(d, PCI_STATUS, 0xffff);
	EXPECT_EQ(status & ~(STATUS_W1C | PCI_STATUS_INTERRUPT),
		  vfio_cfg_read16(d, PCI_STATUS) & ~PCI_STATUS_INTERRUPT);
	EXPECT_EQ(0, vfio_cfg_read16(d, PCI_STATUS) & STATUS_W1C);
	/* Zeroes change nothing */
	vfio_cfg_write16(d, PCI_STATUS, 0);
	EXPECT_EQ(status & ~(STATUS_W1C | PCI_STATUS_INTERRUPT),
		  vfio_cfg_read16(d, PCI_STATUS) & ~PCI_STATUS_INTERRUPT);
}

/* The first memory BAR with something to read, or -1 */
static int first_mem_bar(struct vfio_dev *d)
{
	struct vfio_region_info ri;
	int i;

	for (i = 0; i < 6; i++) {
		if (vfio_region_info(d, i, &ri) || ri.size < 4)
			continue;
		if (vfio_cfg_read32(d, PCI_BASE_ADDRESS_0 + 4 * i) &
		    PCI_BASE_ADDRESS_SPACE_IO)
			continue;
		return i;
	}
	return -1;
}

TEST_F(config, command_memory)
{
	struct vfio_dev *d = &self->d;
	int bar = first_mem_bar(d);
	uint16_t cmd;
	uint32_t v;

	ASSERT_LE(0, bar);
	vfio_cmd_set(d, PCI_COMMAND_MEMORY);
	cmd = vfio_cfg_read16(d, PCI_COMMAND);
	ASSERT_EQ(4, vfio_region_read(d, bar, 0, &v, 4));
	EXPECT_TRUE(hw_read(self->bdf, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);

	/* Decode off: the emulated bit, the hardware bit, BAR access */
	vfio_cfg_write16(d, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	EXPECT_EQ(0, vfio_cfg_read16(d, PCI_COMMAND) & PCI_COMMAND_MEMORY);
	EXPECT_EQ(0, hw_read(self->bdf, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	EXPECT_EQ(-EIO, vfio_region_read(d, bar, 0, &v, 4));

	vfio_cfg_write16(d, PCI_COMMAND, cmd);
	EXPECT_EQ(cmd, vfio_cfg_read16(d, PCI_COMMAND));
	EXPECT_TRUE(hw_read(self->bdf, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	EXPECT_EQ(4, vfio_region_read(d, bar, 0, &v, 4));
}

/* Write the function's real config space behind vfio's back */
static void hw_write(const char *bdf, unsigned int off, uint32_t v,
		     unsigned int len)
{
	vfio_hw_cfg_write(bdf, off, v, len);
}

/*
 * A function that resets itself behind the kernel's back (here: its
 * decode bits, a BAR and its MSI-X enable cleared through sysfs) comes
 * back when the user writes the command register again, even with the
 * same bits, as a guest's pci_restore_state() does: BAR put back,
 * decoding on, MSI-X enabled again.
 */
TEST_F(config, command_self_reset)
{
	struct vfio_dev *d = &self->d;
	int bar = first_mem_bar(d);
	int msix = vfio_cfg_find_cap(d, PCI_CAP_ID_MSIX);
	int32_t efd = -1;
	unsigned int off;
	uint32_t v0, v, hw_bar;
	uint16_t cmd, hw_cmd, hw_msix = 0;

	ASSERT_LE(0, bar);
	off = PCI_BASE_ADDRESS_0 + 4 * bar;
	hw_bar = hw_read(self->bdf, off, 4);
	if (!(hw_bar & PCI_BASE_ADDRESS_MEM_MASK))
		SKIP(return, "BAR %d has a zero low dword", bar);
	vfio_cmd_set(d, PCI_COMMAND_MEMORY);
	cmd = vfio_cfg_read16(d, PCI_COMMAND);
	ASSERT_EQ(4, vfio_region_read(d, bar, 0, &v0, 4));
	hw_cmd = hw_read(self->bdf, PCI_COMMAND, 2);
	ASSERT_TRUE(hw_cmd & PCI_COMMAND_MEMORY);
	if (msix) {
		efd = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, efd);
		ASSERT_EQ(0, vfio_irq_set_eventfds(d, VFIO_PCI_MSIX_IRQ_INDEX,
						   0, 1, &efd));
		hw_msix = hw_read(self->bdf, msix + PCI_MSIX_FLAGS, 2);
		ASSERT_TRUE(hw_msix & PCI_MSIX_FLAGS_ENABLE);
		hw_write(self->bdf, msix + PCI_MSIX_FLAGS,
			 hw_msix & ~PCI_MSIX_FLAGS_ENABLE, 2);
	}

	hw_write(self->bdf, PCI_COMMAND,
		 hw_cmd & ~(PCI_COMMAND_MEMORY | PCI_COMMAND_IO), 2);
	hw_write(self->bdf, off, 0, 4);
	ASSERT_EQ(0, hw_read(self->bdf, off, 4) & PCI_BASE_ADDRESS_MEM_MASK);
	/* The user's view has not changed */
	EXPECT_EQ(cmd, vfio_cfg_read16(d, PCI_COMMAND));

	vfio_cfg_write16(d, PCI_COMMAND, cmd);
	v = hw_read(self->bdf, off, 4);
	EXPECT_EQ(hw_bar, v);
	EXPECT_TRUE(hw_read(self->bdf, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	ASSERT_EQ(4, vfio_region_read(d, bar, 0, &v, 4));
	EXPECT_EQ(v0, v);
	if (msix) {
		EXPECT_TRUE(hw_read(self->bdf, msix + PCI_MSIX_FLAGS, 2) &
			    PCI_MSIX_FLAGS_ENABLE);
		EXPECT_EQ(0, vfio_irq_disable(d, VFIO_PCI_MSIX_IRQ_INDEX));
		close(efd);
	}

	/* Whatever happened, leave the function as it was */
	if (hw_read(self->bdf, off, 4) != hw_bar) {
		hw_write(self->bdf, PCI_COMMAND, hw_cmd & ~PCI_COMMAND_MEMORY, 2);
		hw_write(self->bdf, off, hw_bar, 4);
	}
	hw_write(self->bdf, PCI_COMMAND, hw_cmd, 2);
}

TEST_F(config, command_bus_master)
{
	struct vfio_dev *d = &self->d;
	uint16_t cmd = vfio_cfg_read16(d, PCI_COMMAND);

	/* Bus master passes through, both ways */
	vfio_cfg_write16(d, PCI_COMMAND, cmd | PCI_COMMAND_MASTER);
	EXPECT_TRUE(hw_read(self->bdf, PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
	EXPECT_TRUE(vfio_cfg_read16(d, PCI_COMMAND) & PCI_COMMAND_MASTER);
	vfio_cfg_write16(d, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
	EXPECT_FALSE(hw_read(self->bdf, PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
	EXPECT_FALSE(vfio_cfg_read16(d, PCI_COMMAND) & PCI_COMMAND_MASTER);

	/* INTx disable is virtual: it reads back as written */
	vfio_cfg_write16(d, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE);
	EXPECT_TRUE(vfio_cfg_read16(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
	vfio_cfg_write16(d, PCI_COMMAND, cmd & ~PCI_COMMAND_INTX_DISABLE);
	EXPECT_FALSE(vfio_cfg_read16(d, PCI_COMMAND) &
		     PCI_COMMAND_INTX_DISABLE);
	vfio_cfg_write16(d, PCI_COMMAND, cmd);
}

TEST_F(config, interrupt_line_pin)
{
	struct vfio_dev *d = &self->d;
	uint8_t hw_pin = hw_read(self->bdf, PCI_INTERRUPT_PIN, 1);
	uint8_t hw_line = hw_read(self->bdf, PCI_INTERRUPT_LINE, 1);
	uint8_t pin = vfio_cfg_read8(d, PCI_INTERRUPT_PIN);
	uint8_t line = vfio_cfg_read8(d, PCI_INTERRUPT_LINE);
	struct vfio_irq_info ii;

	/* The pin is offered exactly when INTx is */
	ASSERT_EQ(0, vfio_irq_info(d, VFIO_PCI_INTX_IRQ_INDEX, &ii));
	EXPECT_EQ(ii.count ? hw_pin : 0, pin);
	vfio_cfg_write8(d, PCI_INTERRUPT_PIN, pin ^ 3);
	EXPECT_EQ(pin, vfio_cfg_read8(d, PCI_INTERRUPT_PIN));

	/* The line is a virtual scratch register */
	vfio_cfg_write8(d, PCI_INTERRUPT_LINE, 0x5a);
	EXPECT_EQ(0x5a, vfio_cfg_read8(d, PCI_INTERRUPT_LINE));
	EXPECT_EQ(hw_line, hw_read(self->bdf, PCI_INTERRUPT_LINE, 1));
	vfio_cfg_write8(d, PCI_INTERRUPT_LINE, line);
}

TEST_F(config, pcie_read_only_fields)
{
	struct vfio_dev *d = &self->d;
	int pos = vfio_cfg_find_cap(d, PCI_CAP_ID_EXP);
	uint16_t flags, ctl, lnkctl;
	uint32_t devcap;

	if (!pos)
		SKIP(return, "not PCIe");
	flags = vfio_cfg_read16(d, pos + PCI_EXP_FLAGS);
	devcap = vfio_cfg_read32(d, pos + PCI_EXP_DEVCAP);
	lnkctl = vfio_cfg_read16(d, pos + PCI_EXP_LNKCTL);
	vfio_cfg_write16(d, pos + PCI_EXP_FLAGS, ~flags);
	vfio_cfg_write32(d, pos + PCI_EXP_DEVCAP, ~devcap);
	vfio_cfg_write16(d, pos + PCI_EXP_LNKCTL, ~lnkctl &
			 ~PCI_EXP_LNKCTL_LD);
	EXPECT_EQ(flags, vfio_cfg_read16(d, pos + PCI_EXP_FLAGS));
	EXPECT_EQ(devcap, vfio_cfg_read32(d, pos + PCI_EXP_DEVCAP));
	EXPECT_EQ(lnkctl, vfio_cfg_read16(d, pos + PCI_EXP_LNKCTL));

	/*
	 * Max payload size must match the fabric: the hardware keeps its
	 * own, the user reads back what it wrote
	 */
	ctl = vfio_cfg_read16(d, pos + PCI_EXP_DEVCTL);
	vfio_cfg_write16(d, pos + PCI_EXP_DEVCTL, ctl ^ PCI_EXP_DEVCTL_PAYLOAD);
	EXPECT_EQ(~ctl & PCI_EXP_DEVCTL_PAYLOAD,
		  vfio_cfg_read16(d, pos + PCI_EXP_DEVCTL) &
		  PCI_EXP_DEVCTL_PAYLOAD);
	EXPECT_EQ(ctl & PCI_EXP_DEVCTL_PAYLOAD,
		  hw_read(self->bdf, pos + PCI_EXP_DEVCTL, 2) &
		  PCI_EXP_DEVCTL_PAYLOAD);
	/*
	 * Relaxed ordering passes through: what the user reads back is what
	 * the hardware kept (QEMU may or may not implement the bit).
	 */
	vfio_cfg_write16(d, pos + PCI_EXP_DEVCTL, ctl ^ PCI_EXP_DEVCTL_RELAX_EN);
	EXPECT_EQ(hw_read(self->bdf, pos + PCI_EXP_DEVCTL, 2) &
		  PCI_EXP_DEVCTL_RELAX_EN,
		  vfio_cfg_read16(d, pos + PCI_EXP_DEVCTL) &
		  PCI_EXP_DEVCTL_RELAX_EN);
	vfio_cfg_write16(d, pos + PCI_EXP_DEVCTL, ctl);
	EXPECT_EQ(ctl, vfio_cfg_read16(d, pos + PCI_EXP_DEVCTL));
}

/* Byte image of the config space read one byte at a time */
static void byte_image(struct vfio_dev *d, uint8_t *img, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		img[i] = vfio_cfg_read8(d, i);
}

TEST_F(config, access_sizes)
{
	struct vfio_dev *d = &self->d;
	uint8_t *img = calloc(1, self->size), *big = calloc(1, self->size);
	unsigned int i;
	uint8_t b[8];
	uint32_t v;

	ASSERT_TRUE(img && big);
	byte_image(d, img, self->size);

	for (i = 0; i + 2 <= self->size; i++) {
		/* Aligned words, and unaligned ones split in two */
		ASSERT_EQ(2, cfg_pread(d, i, &v, 2));
		EXPECT_EQ(0, memcmp(&v, img + i, 2)) TH_LOG("word at %#x", i);
	}
	for (i = 0; i + 4 <= self->size; i++) {
		/* Aligned dwords, and straddling ones */
		ASSERT_EQ(4, cfg_pread(d, i, &v, 4));
		EXPECT_EQ(0, memcmp(&v, img + i, 4)) TH_LOG("dword at %#x", i);
	}
	for (i = 0; i + 8 <= 0x100; i += 5) {
		/* Odd lengths are split too */
		ASSERT_EQ(3, cfg_pread(d, i, b, 3));
		EXPECT_EQ(0, memcmp(b, img + i, 3)) TH_LOG("3 bytes at %#x", i);
		ASSERT_EQ(8, cfg_pread(d, i, b, 8));
		EXPECT_EQ(0, memcmp(b, img + i, 8)) TH_LOG("8 bytes at %#x", i);
	}
	/* All of it at once, as QEMU reads it */
	ASSERT_EQ((ssize_t)self->size, cfg_pread(d, 0, big, self->size));
	EXPECT_EQ(0, memcmp(big, img, self->size));
	free(img);
	free(big);
}

TEST_F(config, split_write)
{
	struct vfio_dev *d = &self->d;
	uint8_t line = vfio_cfg_read8(d, PCI_INTERRUPT_LINE);
	uint8_t pin = vfio_cfg_read8(d, PCI_INTERRUPT_PIN);
	uint8_t buf[3] = { 0x33, 0x7, 0x44 };

	/* Line (writable), pin and min_gnt (read-only) in one 3-byte write */
	ASSERT_EQ(3, cfg_pwrite(d, PCI_INTERRUPT_LINE, buf, 3));
	EXPECT_EQ(0x33, vfio_cfg_read8(d, PCI_INTERRUPT_LINE));
	EXPECT_EQ(pin, vfio_cfg_read8(d, PCI_INTERRUPT_PIN));
	vfio_cfg_write8(d, PCI_INTERRUPT_LINE, line);
}

TEST_F(config, bad_access)
{
	struct vfio_dev *d = &self->d;
	uint8_t buf[16];

	/* Empty accesses move nothing and succeed, anywhere (as upstream) */
	EXPECT_EQ(0, cfg_pread(d, 0, buf, 0));
	EXPECT_EQ(0, cfg_pwrite(d, PCI_INTERRUPT_LINE, buf, 0));
	EXPECT_EQ(0, cfg_pread(d, self->size + 4, buf, 0));
	/* Out of range, as a whole: EFAULT like the stock driver */
	EXPECT_EQ(-EFAULT, cfg_pread(d, self->size, buf, 4));
	EXPECT_EQ(-EFAULT, cfg_pread(d, self->size, buf, 1));
	EXPECT_EQ(-EFAULT, cfg_pread(d, self->size - 2, buf, 4));
	EXPECT_EQ(-EFAULT, cfg_pread(d, self->size - 8, buf, 16));
	EXPECT_EQ(-EFAULT, cfg_pwrite(d, self->size, buf, 4));
	EXPECT_EQ(-EFAULT, cfg_pwrite(d, self->size - 1, buf, 2));
	EXPECT_EQ(-EFAULT, cfg_pread(d, 0xffffffffffull, buf, 4));
	/* A bad user pointer is refused, not a crash */
	EXPECT_EQ(-EFAULT, cfg_pread(d, 0, (void *)8, 4));
	EXPECT_EQ(-EFAULT, cfg_pwrite(d, PCI_INTERRUPT_LINE, (void *)8, 1));
	/* The last byte is fine */
	EXPECT_EQ(1, cfg_pread(d, self->size - 1, buf, 1));
}

TEST_F(config, dump_stable_across_opens)
{
	uint8_t *a = calloc(1, self->size), *b = calloc(1, self->size);
	unsigned int i;

	ASSERT_TRUE(a && b);
	for (i = 0; i < self->size; i += 4)
		*(uint32_t *)(a + i) = vfio_cfg_read32(&self->d, i);
	vfio_dev_close(&self->d);
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
	for (i = 0; i < self->size; i += 4)
		*(uint32_t *)(b + i) = vfio_cfg_read32(&self->d, i);
	for (i = 0; i < self->size; i += 4)
		EXPECT_EQ(*(uint32_t *)(a + i), *(uint32_t *)(b + i))
			TH_LOG("dword at %#x", i);
	free(a);
	free(b);
}

TEST_F(config, pm_d3hot_round_trip)
{
	struct vfio_dev *d = &self->d;
	int pos = vfio_cfg_find_cap(d, PCI_CAP_ID_PM);
	int bar = first_mem_bar(d);
	uint16_t pmcsr, pmc;
	uint32_t v;

	if (!variant->pm)
		SKIP(return, "PM not checked on %s", variant->name);
	ASSERT_NE(0, pos);
	ASSERT_LE(0, bar);
	vfio_cmd_set(d, PCI_COMMAND_MEMORY);
	pmc = vfio_cfg_read16(d, pos + PCI_PM_PMC);
	pmcsr = vfio_cfg_read16(d, pos + PCI_PM_CTRL);
	ASSERT_EQ(0, pmcsr & PCI_PM_CTRL_STATE_MASK);

	/* An unsupported state is ignored, as in hardware */
	if (!(pmc & PCI_PM_CAP_D1)) {
		vfio_cfg_write16(d, pos + PCI_PM_CTRL, pmcsr | 1);
		EXPECT_EQ(0, vfio_cfg_read16(d, pos + PCI_PM_CTRL) &
			  PCI_PM_CTRL_STATE_MASK);
	}

	vfio_cfg_write16(d, pos + PCI_PM_CTRL, pmcsr | 3);
	EXPECT_EQ(3, vfio_cfg_read16(d, pos + PCI_PM_CTRL) &
		  PCI_PM_CTRL_STATE_MASK);
	EXPECT_EQ(3, hw_read(self->bdf, pos + PCI_PM_CTRL, 2) &
		  PCI_PM_CTRL_STATE_MASK);
	/* No BAR access outside D0 */
	EXPECT_EQ(-EIO, vfio_region_read(d, bar, 0, &v, 4));

	vfio_cfg_write16(d, pos + PCI_PM_CTRL, pmcsr & ~PCI_PM_CTRL_STATE_MASK);
	EXPECT_EQ(0, vfio_cfg_read16(d, pos + PCI_PM_CTRL) &
		  PCI_PM_CTRL_STATE_MASK);
	EXPECT_EQ(0, hw_read(self->bdf, pos + PCI_PM_CTRL, 2) &
		  PCI_PM_CTRL_STATE_MASK);
	EXPECT_EQ(4, vfio_region_read(d, bar, 0, &v, 4));
	EXPECT_NE(0xffffffffu, v);
}

/*
 * The user sees no PME (the host handles wake-ups): no PME_Support, and
 * PME_En stays zero whatever is written, in the emulation and in the
 * hardware alike
 */
TEST_F(config, pm_no_pme)
{
	struct vfio_dev *d = &self->d;
	int pos = vfio_cfg_find_cap(d, PCI_CAP_ID_PM);
	uint16_t pmcsr, hw;

	if (!pos)
		SKIP(return, "no PM capability");
	EXPECT_EQ(0, vfio_cfg_read16(d, pos + PCI_PM_PMC) & PCI_PM_CAP_PME_MASK);
	pmcsr = vfio_cfg_read16(d, pos + PCI_PM_CTRL);
	EXPECT_EQ(0, pmcsr & (PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS));
	hw = hw_read(self->bdf, pos + PCI_PM_CTRL, 2);
	vfio_cfg_write16(d, pos + PCI_PM_CTRL, pmcsr | PCI_PM_CTRL_PME_ENABLE);
	EXPECT_EQ(pmcsr, vfio_cfg_read16(d, pos + PCI_PM_CTRL));
	EXPECT_EQ(hw & PCI_PM_CTRL_PME_ENABLE,
		  hw_read(self->bdf, pos + PCI_PM_CTRL, 2) & PCI_PM_CTRL_PME_ENABLE);
}

/*
 * Initiate FLR in the emulated Device Control resets a function that
 * advertises FLR (QEMU's nvme) and is ignored by one that does not (QEMU's
 * e1000e); either way the bit reads back as zero.
 */
TEST_F(config, flr_through_devctl)
{
	struct vfio_dev *d = &self->d;
	int pos = vfio_cfg_find_cap(d, PCI_CAP_ID_EXP);
	uint32_t v, mark = variant->mark;
	uint16_t ctl;

	if (!pos || !variant->mark_off)
		SKIP(return, "not a PCIe function with a known register");
	EXPECT_EQ(variant->flr, !!(vfio_cfg_read32(d, pos + PCI_EXP_DEVCAP) &
				   PCI_EXP_DEVCAP_FLR));
	vfio_cmd_set(d, PCI_COMMAND_MEMORY);

	/* Leave a mark in a register a reset clears */
	ASSERT_EQ(4, vfio_region_write(d, 0, variant->mark_off, &mark, 4));
	ASSERT_EQ(4, vfio_region_read(d, 0, variant->mark_off, &v, 4));
	ASSERT_EQ(mark, v);

	ctl = vfio_cfg_read16(d, pos + PCI_EXP_DEVCTL);
	ctl |= PCI_EXP_DEVCTL_BCR_FLR;
	ASSERT_EQ(2, cfg_pwrite(d, pos + PCI_EXP_DEVCTL, &ctl, 2));

	EXPECT_EQ(0, vfio_cfg_read16(d, pos + PCI_EXP_DEVCTL) &
		  PCI_EXP_DEVCTL_BCR_FLR);
	EXPECT_TRUE(vfio_cfg_read16(d, PCI_COMMAND) & PCI_COMMAND_MEMORY);
	EXPECT_TRUE(hw_read(self->bdf, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	ASSERT_EQ(4, vfio_region_read(d, 0, variant->mark_off, &v, 4));
	EXPECT_EQ(variant->flr ? 0 : mark, v);
	/* The function still answers, at the addresses it had */
	ASSERT_EQ(4, vfio_region_read(d, 0, 0, &v, 4));
	EXPECT_NE(0xffffffffu, v);
	EXPECT_EQ(sysfs_ulong(self->bdf, "vendor"),
		  hw_read(self->bdf, PCI_VENDOR_ID, 2));
}

/* ---- A virtual function ------------------------------------------------- */

/*
 * A VF has no IDs and no memory-enable bit of its own in hardware: the
 * emulation supplies them.  Runs in the "sriov" boot (nvme PF with VFs,
 * vfio-pci enable_sriov=1); the PF is opened before the VF exists and is
 * never reset while it has one.
 */
static const char vf_token[] = " vf_token=2b9c5e1a-7f30-4d6e-a812-c4f05b9d3e67";
static const uint8_t vf_uuid[16] = {
	0x2b, 0x9c, 0x5e, 0x1a, 0x7f, 0x30, 0x4d, 0x6e,
	0xa8, 0x12, 0xc4, 0xf0, 0x5b, 0x9d, 0x3e, 0x67,
};

static void dev_unset(struct vfio_dev *d)
{
	d->fd = -1;
	d->group = -1;
	d->container = -1;
}

FIXTURE(config_vf) {
	struct vfio_dev pf, vf;
	char vf_bdf[32];
	bool enabled;
};

FIXTURE_SETUP(config_vf)
{
	const char *bdf = vfio_test_bdf("nvme_sriov");
	uint8_t buf[sizeof(struct vfio_device_feature) + 16] = {};
	struct vfio_device_feature *f = (void *)buf;
	char link[256], drv[256], name[128], *base;
	int ret, i, fd;
	ssize_t n;

	dev_unset(&self->pf);
	dev_unset(&self->vf);
	if (!bdf)
		SKIP(return, "no nvme_sriov device bound");
	ASSERT_EQ(0, vfio_dev_open(&self->pf, bdf));

	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	memcpy(f->data, vf_uuid, 16);
	ASSERT_EQ(0, ioctl(self->pf.fd, VFIO_DEVICE_FEATURE, f));

	/* Only a vfio-pci loaded without enable_sriov=1 may refuse */
	ret = vfio_sysfs_write(bdf, "sriov_numvfs", "1");
	if (ret == -ENOENT && vfio_module_param("vfio_pci", "enable_sriov") == 0)
		SKIP(return, "vfio-pci was loaded without enable_sriov=1");
	ASSERT_EQ(0, ret);
	self->enabled = true;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/virtfn0", bdf);
	n = readlink(link, name, sizeof(name) - 1);
	ASSERT_LT(0, n);
	name[n] = 0;
	base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	ASSERT_LT(strlen(base), sizeof(self->vf_bdf));
	memcpy(self->vf_bdf, base, strlen(base) + 1);

	/* Wait for the VF to bind to vfio-pci */
	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/driver",
		 self->vf_bdf);
	for (i = 0; i < 500; i++) {
		n = readlink(link, drv, sizeof(drv) - 1);
		if (n > 0)
			break;
		usleep(10000);
	}
	ASSERT_LT(0, n);
	drv[n] = 0;
	ASSERT_NE(NULL, strstr(drv, "vfio-pci"));

	if (vfio_group_of(self->vf_bdf) != self->pf.groupno) {
		ASSERT_EQ(0, vfio_dev_open_ex(&self->vf, self->vf_bdf, vf_token));
	} else {
		/* Same group as the PF: a device fd through the PF's group */
		snprintf(name, sizeof(name), "%s%s", self->vf_bdf, vf_token);
		fd = ioctl(self->pf.group, VFIO_GROUP_GET_DEVICE_FD, name);
		ASSERT_LE(0, fd);
		self->vf = self->pf;
		dev_unset(&self->vf);
		self->vf.fd = fd;
		memcpy(self->vf.bdf, self->vf_bdf, sizeof(self->vf.bdf));
	}
}

FIXTURE_TEARDOWN(config_vf)
{
	vfio_dev_close(&self->vf);
	if (self->enabled)
		vfio_sysfs_write(self->pf.bdf, "sriov_numvfs", "0");
	vfio_dev_close(&self->pf);
}

TEST_F(config_vf, ids_and_memory)
{
	struct vfio_dev *d = &self->vf;
	struct vfio_region_info ri;
	struct vfio_irq_info ii;
	uint32_t v, w, orig;
	void *map;
	int bar;

	EXPECT_EQ(sysfs_ulong(self->vf_bdf, "vendor"),
		  vfio_cfg_read16(d, PCI_VENDOR_ID));
	EXPECT_EQ(sysfs_ulong(self->vf_bdf, "device"),
		  vfio_cfg_read16(d, PCI_DEVICE_ID));

	/*
	 * Memory decode reads as on and reads back what the user writes, but
	 * a VF decodes whatever its command register says (the PF's VF MSE
	 * bit gates it), so BAR access and a mapping go on with it off, as
	 * upstream 6.12 lets them
	 */
	EXPECT_TRUE(vfio_cfg_read16(d, PCI_COMMAND) & PCI_COMMAND_MEMORY);
	bar = first_mem_bar(d);
	ASSERT_LE(0, bar);
	ASSERT_EQ(0, vfio_region_info(d, bar, &ri));
	EXPECT_EQ(4, vfio_region_read(d, bar, 0, &v, 4));
	vfio_cfg_write16(d, PCI_COMMAND, vfio_cfg_read16(d, PCI_COMMAND) &
			 ~PCI_COMMAND_MEMORY);
	EXPECT_EQ(0, vfio_cfg_read16(d, PCI_COMMAND) & PCI_COMMAND_MEMORY);
	EXPECT_EQ(4, vfio_region_read(d, bar, 0, &w, 4));
	EXPECT_EQ(v, w);
	if (ri.flags & VFIO_REGION_INFO_FLAG_MMAP) {
		map = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, d->fd,
			   ri.offset);
		ASSERT_NE(MAP_FAILED, map);
		/* a fault while the bit is off maps the page, no SIGBUS */
		EXPECT_EQ(v, *(volatile uint32_t *)map);
		munmap(map, getpagesize());
	}
	vfio_cmd_set(d, PCI_COMMAND_MEMORY);
	EXPECT_TRUE(vfio_cfg_read16(d, PCI_COMMAND) & PCI_COMMAND_MEMORY);
	EXPECT_EQ(4, vfio_region_read(d, bar, 0, &w, 4));
	EXPECT_EQ(v, w);

	/* Its BARs size from the VF resources */
	orig = vfio_cfg_read32(d, PCI_BASE_ADDRESS_0 + 4 * bar);
	vfio_cfg_write32(d, PCI_BASE_ADDRESS_0 + 4 * bar, 0xffffffff);
	EXPECT_EQ(((uint32_t)~(ri.size - 1) & ~0xfu) | (orig & 0xfu),
		  vfio_cfg_read32(d, PCI_BASE_ADDRESS_0 + 4 * bar));
	vfio_cfg_write32(d, PCI_BASE_ADDRESS_0 + 4 * bar, orig);

	/* No INTx on a VF; MSI-X it has */
	EXPECT_EQ(0, vfio_cfg_read8(d, PCI_INTERRUPT_PIN));
	ASSERT_EQ(0, vfio_irq_info(d, VFIO_PCI_INTX_IRQ_INDEX, &ii));
	EXPECT_EQ(0u, ii.count);
	EXPECT_NE(0, vfio_cfg_find_cap(d, PCI_CAP_ID_MSIX));
}

TEST_HARNESS_MAIN
