// SPDX-License-Identifier: GPL-2.0-only
/*
 * Region tests: VFIO_DEVICE_GET_REGION_INFO for every index, BAR and ROM
 * reads and writes through the device fd, mmap of BARs (including SIGBUS
 * while memory decode is off), the MSI-X table policy (filler through the
 * fd, sparse mmap or MSIX_MAPPABLE) and VFIO_DEVICE_IOEVENTFD.
 *
 * Device facts relied on (QEMU 7.2):
 *   edu      BAR0 1 MiB: 0x00 ID 0x010000ed, 0x04 liveness (reads back the
 *            inverse of the last write, 4-byte accesses only), 0x80 DMA
 *            source address (4- or 8-byte accesses)
 *   ivshmem  BAR2 is plain shared RAM, any access size works
 *   e1000e, nvme  MSI-X; table entries start masked (vector control bit 0)
 *   vga      std VGA: VGA class, a 16 MiB framebuffer BAR, an option ROM
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define PAGE		4096ULL
#define IORES_IO	0x100
#define IORES_MEM	0x200
#define EDU_ID		0x010000ed

/* ---- helpers ------------------------------------------------------------ */

/* Size and flags of resource @idx from sysfs; 0 when absent */
static int sysfs_resource(const char *bdf, int idx, uint64_t *size,
			  uint64_t *flags)
{
	char path[128], line[256];
	unsigned long long start, end, fl;
	FILE *f;
	int i, ret = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return -1;
	for (i = 0; fgets(line, sizeof(line), f); i++) {
		if (i != idx)
			continue;
		if (sscanf(line, "%llx %llx %llx", &start, &end, &fl) == 3) {
			*size = (start || end) ? end - start + 1 : 0;
			*flags = fl;
			ret = 0;
		}
		break;
	}
	fclose(f);
	return ret;
}

static long sysfs_config_size(const char *bdf)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	return stat(path, &st) ? -1 : st.st_size;
}

static int region_info(struct vfio_dev *d, uint32_t index,
		       struct vfio_region_info *ri)
{
	return vfio_region_info(d, index, ri);
}

/* First BAR with @flag set in its region info, or -1 */
static int find_bar(struct vfio_dev *d, uint32_t flag,
		    struct vfio_region_info *ri)
{
	int i;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++)
		if (!region_info(d, i, ri) && ri->size && (ri->flags & flag))
			return i;
	return -1;
}

static int ioeventfd(struct vfio_dev *d, uint64_t offset, uint64_t data,
		     uint32_t flags, int32_t fd)
{
	struct vfio_device_ioeventfd e = {
		.argsz = sizeof(e),
		.flags = flags,
		.offset = offset,
		.data = data,
		.fd = fd,
	};

	return ioctl(d->fd, VFIO_DEVICE_IOEVENTFD, &e) ? -errno : 0;
}

static uint32_t pread32(struct vfio_dev *d, uint64_t off)
{
	uint32_t v = 0;

	if (pread(d->fd, &v, 4, off) != 4)
		return 0xdead0000;
	return v;
}

static int pwrite32(struct vfio_dev *d, uint64_t off, uint32_t v)
{
	return pwrite(d->fd, &v, 4, off) == 4 ? 0 : -errno;
}

static void *map(struct vfio_dev *d, uint64_t off, size_t len, int flags)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, d->fd, off);
}

/* mmap errno, 0 on success (the mapping is dropped again) */
static int map_err(struct vfio_dev *d, uint64_t off, size_t len, int flags)
{
	void *p = map(d, off, len, flags);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, len);
	return 0;
}

/* Poll a BAR dword until it equals @want or ~2 s pass */
static uint32_t wait_reg(struct vfio_dev *d, uint64_t off, uint32_t want)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 200; i++) {
		v = pread32(d, off);
		if (v == want)
			break;
		usleep(10000);
	}
	return v;
}

static void set_memory(struct vfio_dev *d, int on)
{
	uint16_t cmd = vfio_cfg_read16(d, PCI_COMMAND);

	if (on)
		cmd |= PCI_COMMAND_MEMORY;
	else
		cmd &= ~PCI_COMMAND_MEMORY;
	vfio_cfg_write16(d, PCI_COMMAND, cmd);
}

/* MSI-X table location from the (virtual) config space; 0 if none */
static int msix_table(struct vfio_dev *d, int *bar, uint32_t *off,
		      uint32_t *size)
{
	int pos = vfio_cfg_find_cap(d, PCI_CAP_ID_MSIX);
	uint32_t table;

	if (!pos)
		return 0;
	table = vfio_cfg_read32(d, pos + PCI_MSIX_TABLE);
	*bar = table & PCI_MSIX_TABLE_BIR;
	*off = table & PCI_MSIX_TABLE_OFFSET;
	*size = ((vfio_cfg_read16(d, pos + PCI_MSIX_FLAGS) &
		  PCI_MSIX_FLAGS_QSIZE) + 1) * 16;
	return 1;
}

/* ---- fixture ------------------------------------------------------------ */

FIXTURE(region) {
	struct vfio_dev d;
	const char *bdf;
};

FIXTURE_VARIANT(region) {
	const char *name;
};

FIXTURE_VARIANT_ADD(region, edu) { .name = "edu" };
FIXTURE_VARIANT_ADD(region, e1000e) { .name = "e1000e" };
FIXTURE_VARIANT_ADD(region, nvme) { .name = "nvme" };
FIXTURE_VARIANT_ADD(region, ivshmem) { .name = "ivshmem" };
FIXTURE_VARIANT_ADD(region, vga) { .name = "vga" };

FIXTURE_SETUP(region)
{
	memset(&self->d, 0, sizeof(self->d));
	self->d.fd = -1;
	self->d.group = -1;
	self->d.container = -1;
	self->bdf = vfio_test_bdf(variant->name);
	if (!self->bdf)
		SKIP(return, "no %s device bound", variant->name);
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
}

FIXTURE_TEARDOWN(region)
{
	vfio_dev_close(&self->d);
}

/* ---- region info -------------------------------------------------------- */

TEST_F(region, info_every_index)
{
	struct vfio_region_info ri;
	uint64_t size, flags;
	uint32_t i;
	int ret, vga_kconfig;

	ASSERT_GE(self->d.info.num_regions, VFIO_PCI_NUM_REGIONS);
	vga_kconfig = vfio_kconfig("CONFIG_VFIO_PCI_VGA");
	ASSERT_NE(-1, vga_kconfig) TH_LOG("the kernel's config is unknown");

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		ret = region_info(&self->d, i, &ri);
		if (i == VFIO_PCI_VGA_REGION_INDEX) {
			/*
			 * Only a VGA-class device has the legacy ranges, and
			 * only in a kernel built with CONFIG_VFIO_PCI_VGA
			 */
			if (strcmp(variant->name, "vga") || !vga_kconfig) {
				EXPECT_EQ(-EINVAL, ret);
				continue;
			}
			ASSERT_EQ(0, ret);
			EXPECT_EQ(0xc0000, ri.size);
			EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE, ri.flags);
			continue;
		}
		ASSERT_EQ(0, ret);
		EXPECT_EQ((uint64_t)i << 40, ri.offset);
		EXPECT_EQ(i, ri.index);

		if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			EXPECT_EQ(sysfs_config_size(self->bdf), (long)ri.size);
			EXPECT_TRUE(ri.size == 256 || ri.size == 4096);
			EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE,
				  ri.flags & ~VFIO_REGION_INFO_FLAG_CAPS);
			continue;
		}

		ASSERT_EQ(0, sysfs_resource(self->bdf, i, &size, &flags));
		if (i == VFIO_PCI_ROM_REGION_INDEX) {
			/* Reported only when there is a valid image */
			EXPECT_TRUE(ri.size == 0 || ri.size == size);
			EXPECT_EQ(ri.size ? VFIO_REGION_INFO_FLAG_READ : 0,
				  ri.flags);
			continue;
		}

		EXPECT_EQ(size, ri.size) {
			TH_LOG("BAR%u size %llx, sysfs %llx", i,
			       (unsigned long long)ri.size,
			       (unsigned long long)size);
		}
		if (!size) {
			EXPECT_EQ(0, ri.flags);
			continue;
		}
		EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
			  ri.flags & (VFIO_REGION_INFO_FLAG_READ |
				      VFIO_REGION_INFO_FLAG_WRITE));
		/* I/O ports never map; memory BARs of a page or more do */
		EXPECT_FALSE((flags & IORES_IO) &&
			     (ri.flags & VFIO_REGION_INFO_FLAG_MMAP));
		EXPECT_FALSE((flags & IORES_MEM) && size >= PAGE &&
			     !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP));
	}
}

TEST_F(region, info_bad_index_and_argsz)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };

	ri.index = self->d.info.num_regions;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);

	ri.index = 0xffffffff;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);

	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	ri.argsz = sizeof(ri) - 1;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_REGION_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(region, info_caps_need_room)
{
	struct vfio_region_info ri, *full;
	struct vfio_info_cap_header *h;
	uint32_t i;
	int found = 0;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		ASSERT_EQ(0, region_info(&self->d, i, &ri));
		if (!(ri.flags & VFIO_REGION_INFO_FLAG_CAPS))
			continue;
		found = 1;
		/* Exactly the base struct: told how much is needed */
		EXPECT_GT(ri.argsz, sizeof(ri));
		EXPECT_EQ(0, ri.cap_offset);

		ASSERT_EQ(0, vfio_region_info_full(&self->d, i, &full));
		EXPECT_TRUE(full->flags & VFIO_REGION_INFO_FLAG_CAPS);
		EXPECT_EQ(sizeof(*full), full->cap_offset);
		h = (void *)((char *)full + full->cap_offset);
		EXPECT_TRUE(h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP ||
			    h->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
		EXPECT_EQ(1, h->version);
		free(full);
	}
	/* Only the MSI-X BARs of e1000e and nvme carry capabilities */
	EXPECT_EQ(!strcmp(variant->name, "e1000e") || !strcmp(variant->name, "nvme"),
		  found);
}

/* ---- MSI-X BAR ---------------------------------------------------------- */

TEST_F(region, msix_mmap_policy)
{
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct vfio_info_cap_header *mappable;
	struct vfio_region_info *ri;
	uint32_t toff, tsize, a;
	uint64_t pstart, pend;
	uint32_t *p;
	uint32_t v;
	int bar;

	if (!msix_table(&self->d, &bar, &toff, &tsize))
		SKIP(return, "no MSI-X");

	ASSERT_EQ(0, vfio_region_info_full(&self->d, bar, &ri));
	pstart = toff & ~(PAGE - 1);
	pend = (toff + tsize + PAGE - 1) & ~(PAGE - 1);

	mappable = vfio_find_cap(ri, ri->cap_offset,
				 VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
	sp = (void *)vfio_find_cap(ri, ri->cap_offset,
				   VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	/* One or the other, never both */
	ASSERT_TRUE(!!mappable != !!sp);

	if (mappable) {
		/* The whole BAR maps, table included */
		ASSERT_TRUE(ri->flags & VFIO_REGION_INFO_FLAG_MMAP);
		p = map(&self->d, ri->offset, ri->size, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, p);
		/* Entry 0's vector control: masked since reset */
		ASSERT_EQ(0, vfio_probe_read32(p + (toff + 12) / 4, &v));
		EXPECT_EQ(1, v & 1);
		munmap(p, ri->size);
	} else {
		for (a = 0; a < sp->nr_areas; a++) {
			EXPECT_TRUE(sp->areas[a].offset + sp->areas[a].size <= pstart ||
				    sp->areas[a].offset >= pend);
			EXPECT_EQ(0, map_err(&self->d, ri->offset + sp->areas[a].offset,
					     sp->areas[a].size, MAP_SHARED));
		}
		EXPECT_EQ(EINVAL, map_err(&self->d, ri->offset + pstart,
					  pend - pstart, MAP_SHARED));
	}
	free(ri);
}

TEST_F(region, msix_table_filler)
{
	struct vfio_region_info ri, *full;
	uint32_t toff, tsize, v;
	uint8_t buf[16], ones[16];
	bool mappable;
	uint32_t *p;
	int bar;

	if (!msix_table(&self->d, &bar, &toff, &tsize))
		SKIP(return, "no MSI-X");
	ASSERT_EQ(0, region_info(&self->d, bar, &ri));

	/* The hardware has vector control == 1; the fd shows filler */
	memset(ones, 0xff, sizeof(ones));
	ASSERT_EQ(16, pread(self->d.fd, buf, 16, ri.offset + toff));
	EXPECT_EQ(0, memcmp(buf, ones, 16));
	EXPECT_EQ(0xffffffff, pread32(&self->d, ri.offset + toff + 12));

	/* Writes are accepted and dropped */
	v = 0;
	EXPECT_EQ(4, pwrite(self->d.fd, &v, 4, ri.offset + toff + 12));

	/*
	 * Through a mapping: the whole BAR maps only when the table is
	 * declared mappable (otherwise the sparse areas leave it out, and
	 * msix_mmap_policy checks those); then the hardware entry shows
	 */
	ASSERT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ASSERT_EQ(0, vfio_region_info_full(&self->d, bar, &full));
	mappable = vfio_find_cap(full, full->cap_offset,
				 VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) != NULL;
	free(full);
	p = map(&self->d, ri.offset, ri.size, MAP_SHARED);
	if (!mappable) {
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EINVAL, errno);
		if (p != MAP_FAILED)
			munmap(p, ri.size);
		return;
	}
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vfio_probe_read32(p + (toff + 12) / 4, &v));
	EXPECT_EQ(1, v & 1);
	munmap(p, ri.size);
}

/* ---- BAR read/write ----------------------------------------------------- */

TEST_F(region, edu_bar_rw)
{
	struct vfio_region_info ri;
	uint32_t v, three[3];
	uint64_t q, back;

	if (strcmp(variant->name, "edu"))
		SKIP(return, "edu only");
	ASSERT_EQ(0, region_info(&self->d, 0, &ri));
	EXPECT_EQ(1 << 20, ri.size);

	EXPECT_EQ(EDU_ID, pread32(&self->d, ri.offset));

	ASSERT_EQ(0, pwrite32(&self->d, ri.offset + 4, 0x12345678));
	EXPECT_EQ(~0x12345678u, pread32(&self->d, ri.offset + 4));
	ASSERT_EQ(0, pwrite32(&self->d, ri.offset + 4, 0));
	EXPECT_EQ(0xffffffff, pread32(&self->d, ri.offset + 4));

	/* 8-byte access: one 64-bit transaction to the DMA source register */
	q = 0x1122334455667788ULL;
	ASSERT_EQ(8, pwrite(self->d.fd, &q, 8, ri.offset + 0x80));
	back = 0;
	ASSERT_EQ(8, pread(self->d.fd, &back, 8, ri.offset + 0x80));
	EXPECT_EQ(q, back);
	v = pread32(&self->d, ri.offset + 0x80);
	EXPECT_EQ(0x55667788u, v);
	q = 0;
	ASSERT_EQ(8, pwrite(self->d.fd, &q, 8, ri.offset + 0x80));

	/* 12 bytes at 4 are split 4 + 8; the 4-byte part is the liveness reg */
	ASSERT_EQ(0, pwrite32(&self->d, ri.offset + 4, 0x0f0f0f0f));
	ASSERT_EQ(12, pread(self->d.fd, three, 12, ri.offset + 4));
	EXPECT_EQ(0xf0f0f0f0, three[0]);
}

TEST_F(region, ivshmem_bar_rw_sizes)
{
	static uint8_t pat[4096 + 16], back[4096 + 16], zero[64];
	struct vfio_region_info ri;
	size_t sz;
	int i;

	if (strcmp(variant->name, "ivshmem"))
		SKIP(return, "ivshmem only");
	ASSERT_EQ(0, region_info(&self->d, 2, &ri));
	ASSERT_GE(ri.size, 2 * PAGE);

	for (i = 0; i < (int)sizeof(pat); i++)
		pat[i] = i * 7 + 3;

	/* Every size at every alignment it allows */
	for (sz = 1; sz <= 8; sz <<= 1) {
		for (i = 0; i < 16; i += sz) {
			ASSERT_EQ(64, pwrite(self->d.fd, zero, 64, ri.offset));
			ASSERT_EQ((ssize_t)sz, pwrite(self->d.fd, pat, sz,
						      ri.offset + i));
			ASSERT_EQ(64, pread(self->d.fd, back, 64, ri.offset));
			EXPECT_EQ(0, memcmp(back + i, pat, sz));
			EXPECT_EQ(0, memcmp(back, zero, i));
			EXPECT_EQ(0, memcmp(back + i + sz, zero, 64 - i - sz));
			memset(back, 0, sz);
			ASSERT_EQ((ssize_t)sz, pread(self->d.fd, back, sz,
						     ri.offset + i));
			EXPECT_EQ(0, memcmp(back, pat, sz));
		}
	}

	/* Unaligned and odd-sized: split into aligned pieces */
	ASSERT_EQ(64, pwrite(self->d.fd, zero, 64, ri.offset));
	ASSERT_EQ(7, pwrite(self->d.fd, pat, 7, ri.offset + 1));
	ASSERT_EQ(9, pread(self->d.fd, back, 9, ri.offset));
	EXPECT_EQ(0, back[0]);
	EXPECT_EQ(0, memcmp(back + 1, pat, 7));
	EXPECT_EQ(0, back[8]);

	/* Large and crossing a page */
	ASSERT_EQ(4096 + 3, pwrite(self->d.fd, pat, 4096 + 3, ri.offset + 5));
	memset(back, 0, sizeof(back));
	ASSERT_EQ(4096 + 3, pread(self->d.fd, back, 4096 + 3, ri.offset + 5));
	EXPECT_EQ(0, memcmp(back, pat, 4096 + 3));

	/* Last bytes of the BAR are reachable */
	ASSERT_EQ(8, pwrite(self->d.fd, pat, 8, ri.offset + ri.size - 8));
	ASSERT_EQ(8, pread(self->d.fd, back, 8, ri.offset + ri.size - 8));
	EXPECT_EQ(0, memcmp(back, pat, 8));
}

TEST_F(region, io_port_bar_rw)
{
	struct vfio_region_info ri;
	uint64_t size, flags;
	uint32_t v;
	int i, found = -1;

	for (i = 0; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		if (!sysfs_resource(self->bdf, i, &size, &flags) && size &&
		    (flags & IORES_IO)) {
			found = i;
			break;
		}
	}
	if (found < 0)
		SKIP(return, "no I/O port BAR");

	ASSERT_EQ(0, region_info(&self->d, found, &ri));
	EXPECT_EQ(size, ri.size);
	/* Reads work at every size; past the end does not */
	EXPECT_EQ(4, pread(self->d.fd, &v, 4, ri.offset));
	EXPECT_EQ(2, pread(self->d.fd, &v, 2, ri.offset + 2));
	EXPECT_EQ(1, pread(self->d.fd, &v, 1, ri.offset + ri.size - 1));
	EXPECT_EQ(-1, pread(self->d.fd, &v, 4, ri.offset + ri.size));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(region, bar_rw_bad)
{
	struct vfio_region_info ri, empty;
	uint8_t buf[16];
	void *bad;
	int bar, i;

	bar = find_bar(&self->d, VFIO_REGION_INFO_FLAG_READ, &ri);
	ASSERT_GE(bar, 0);

	/* Past the end, straddling the end, far past, beyond the index */
	EXPECT_EQ(-1, pread(self->d.fd, buf, 4, ri.offset + ri.size));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->d.fd, buf, 8, ri.offset + ri.size - 4));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(self->d.fd, buf, 8, ri.offset + ri.size - 4));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->d.fd, buf, 4, ri.offset + (1ULL << 39)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->d.fd, buf, 1, ri.offset + (1ULL << 40) - 1));
	EXPECT_EQ(EINVAL, errno);

	/* Nothing moved, nothing failed */
	EXPECT_EQ(0, pread(self->d.fd, buf, 0, ri.offset));

	/* A user buffer that cannot be written */
	bad = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	EXPECT_EQ(-1, pread(self->d.fd, bad, 4, ri.offset));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pwrite(self->d.fd, bad, 4, ri.offset));
	EXPECT_EQ(EFAULT, errno);
	munmap(bad, PAGE);

	/* A BAR that does not exist */
	for (i = 0; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		if (region_info(&self->d, i, &empty) || empty.size)
			continue;
		EXPECT_EQ(-1, pread(self->d.fd, buf, 4, empty.offset));
		EXPECT_EQ(EINVAL, errno);
		break;
	}

	/*
	 * Region indexes that do not exist; VGA offset 0 (no VGA region, or
	 * below its legacy ranges)
	 */
	EXPECT_EQ(-1, pread(self->d.fd, buf, 4,
			    (uint64_t)self->d.info.num_regions << 40));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->d.fd, buf, 4, 0xfffULL << 40));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->d.fd, buf, 4,
			    (uint64_t)VFIO_PCI_VGA_REGION_INDEX << 40));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(region, rom_read_only)
{
	struct vfio_region_info ri;
	uint8_t sig[2] = { 0, 0 };

	ASSERT_EQ(0, region_info(&self->d, VFIO_PCI_ROM_REGION_INDEX, &ri));
	EXPECT_FALSE(ri.flags & VFIO_REGION_INFO_FLAG_WRITE);
	EXPECT_FALSE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);

	EXPECT_EQ(-1, pwrite(self->d.fd, sig, 2, ri.offset));
	EXPECT_EQ(EINVAL, errno);

	if (!ri.size) {
		EXPECT_EQ(-1, pread(self->d.fd, sig, 2, ri.offset));
		EXPECT_EQ(EINVAL, errno);
		return;
	}
	ASSERT_EQ(2, pread(self->d.fd, sig, 2, ri.offset));
	EXPECT_EQ(0x55, sig[0]);
	EXPECT_EQ(0xaa, sig[1]);
	EXPECT_EQ(-1, pread(self->d.fd, sig, 2, ri.offset + ri.size));
	EXPECT_EQ(EINVAL, errno);
}

/* The whole ROM BAR in one read: the image as sysfs shows it, then 0xff */
TEST_F(region, rom_matches_sysfs)
{
	struct vfio_region_info ri;
	uint8_t *ours, *theirs;
	char path[128];
	ssize_t n = 0, got;
	int fd;

	ASSERT_EQ(0, region_info(&self->d, VFIO_PCI_ROM_REGION_INDEX, &ri));
	if (!ri.size)
		SKIP(return, "no option ROM");

	ours = malloc(ri.size);
	theirs = malloc(ri.size);
	ASSERT_TRUE(ours && theirs);
	ASSERT_EQ((ssize_t)ri.size, pread(self->d.fd, ours, ri.size, ri.offset));

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/rom", self->bdf);
	fd = open(path, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(2, write(fd, "1\n", 2));	/* allow reading */
	lseek(fd, 0, SEEK_SET);
	while ((got = read(fd, theirs + n, ri.size - n)) > 0)
		n += got;
	write(fd, "0\n", 2);
	close(fd);

	ASSERT_GT(n, 0);
	EXPECT_EQ(0, memcmp(ours, theirs, n));
	while (n < (ssize_t)ri.size && ours[n] == 0xff)
		n++;
	EXPECT_EQ((ssize_t)ri.size, n);
	free(ours);
	free(theirs);
}

TEST_F(region, config_dispatch)
{
	char path[128];
	unsigned int vendor = 0;
	uint16_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", self->bdf);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%x", &vendor));
	fclose(f);

	ASSERT_EQ(2, pread(self->d.fd, &v, 2,
			   (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40));
	EXPECT_EQ(vendor, v);
}

/* ---- mmap --------------------------------------------------------------- */

TEST_F(region, edu_mmap)
{
	struct vfio_region_info ri;
	uint32_t *p, *q;
	uint32_t v;

	if (strcmp(variant->name, "edu"))
		SKIP(return, "edu only");
	ASSERT_EQ(0, region_info(&self->d, 0, &ri));
	ASSERT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);

	p = map(&self->d, ri.offset, ri.size, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vfio_probe_read32(p, &v));
	EXPECT_EQ(EDU_ID, v);

	ASSERT_EQ(0, vfio_probe_write32(p + 1, 0xa5a5a5a5));
	EXPECT_EQ(0x5a5a5a5a, pread32(&self->d, ri.offset + 4));
	ASSERT_EQ(0, pwrite32(&self->d, ri.offset + 4, 0x11111111));
	ASSERT_EQ(0, vfio_probe_read32(p + 1, &v));
	EXPECT_EQ(0xeeeeeeee, v);

	/* A window further in maps the right pages */
	q = map(&self->d, ri.offset + PAGE, PAGE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, vfio_probe_read32(q, &v));	/* unimplemented: reads ~0 */
	EXPECT_EQ(0xffffffff, v);
	munmap(q, PAGE);
	munmap(p, ri.size);
}

/*
 * Whether @bdf's BAR @bar is claimed by vfio: /proc/iomem then has an
 * entry "vfio" spanning exactly the BAR (the request nests under the
 * device's own entry).  -1 when the BAR's range cannot be read.
 */
static int bar_claimed(const char *bdf, int bar)
{
	unsigned long long start, end, s, e;
	char path[128], line[256], name[64];
	int i, found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return -1;
	for (i = 0; i <= bar; i++)
		if (!fgets(line, sizeof(line), f))
			break;
	fclose(f);
	if (i <= bar || sscanf(line, "%llx %llx", &start, &end) != 2 || !end)
		return -1;

	f = fopen("/proc/iomem", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %llx-%llx : %63s", &s, &e, name) == 3 &&
		    s == start && e == end && !strcmp(name, "vfio"))
			found = 1;
	fclose(f);
	return found;
}

/*
 * A BAR is claimed by its first mapping, as upstream does, not at open,
 * and given back at close: a BAR the user never maps stays free, so root
 * can still map its sysfs resource file.  (Where the kernel is built with
 * CONFIG_IO_STRICT_DEVMEM, as Debian's is, a claimed one refuses that.)
 */
TEST_F(region, bar_claimed_at_first_mmap)
{
	struct vfio_region_info ri;
	char path[128];
	void *s, *p;
	int fd;

	if (strcmp(variant->name, "edu"))
		SKIP(return, "edu only");
	ASSERT_EQ(0, region_info(&self->d, 0, &ri));
	ASSERT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	EXPECT_EQ(0, bar_claimed(self->bdf, 0));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", self->bdf);
	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd);
	s = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_NE(MAP_FAILED, s);
	if (s != MAP_FAILED)
		munmap(s, PAGE);

	p = map(&self->d, ri.offset, PAGE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(1, bar_claimed(self->bdf, 0));
	munmap(p, PAGE);

	/* Close gives it back */
	vfio_dev_close(&self->d);
	EXPECT_EQ(0, bar_claimed(self->bdf, 0));
	s = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_NE(MAP_FAILED, s);
	if (s != MAP_FAILED)
		munmap(s, PAGE);
	close(fd);
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
}

TEST_F(region, ivshmem_mmap)
{
	struct vfio_region_info ri;
	uint8_t back[256];
	uint8_t *p;
	int i;

	if (strcmp(variant->name, "ivshmem"))
		SKIP(return, "ivshmem only");
	ASSERT_EQ(0, region_info(&self->d, 2, &ri));
	ASSERT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);

	p = map(&self->d, ri.offset, ri.size, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);

	/* Write through the mapping on two pages, read back through the fd */
	for (i = 0; i < 256; i++) {
		p[i] = i ^ 0x5a;
		p[ri.size - 256 + i] = i ^ 0xc3;
	}
	ASSERT_EQ(256, pread(self->d.fd, back, 256, ri.offset));
	for (i = 0; i < 256; i++)
		ASSERT_EQ((uint8_t)(i ^ 0x5a), back[i]);
	ASSERT_EQ(256, pread(self->d.fd, back, 256, ri.offset + ri.size - 256));
	for (i = 0; i < 256; i++)
		ASSERT_EQ((uint8_t)(i ^ 0xc3), back[i]);

	/* And the other way */
	for (i = 0; i < 256; i++)
		back[i] = 255 - i;
	ASSERT_EQ(256, pwrite(self->d.fd, back, 256, ri.offset + PAGE));
	for (i = 0; i < 256; i++)
		ASSERT_EQ(255 - i, p[PAGE + i]);

	munmap(p, ri.size);
}

TEST_F(region, mmap_bad)
{
	struct vfio_region_info ri, other;
	uint64_t len;
	int bar, i;

	bar = find_bar(&self->d, VFIO_REGION_INFO_FLAG_MMAP, &ri);
	if (bar < 0)
		SKIP(return, "no mmappable BAR");
	len = ri.size < PAGE ? PAGE : ri.size;

	/* Sanity: the good case works */
	EXPECT_EQ(0, map_err(&self->d, ri.offset, PAGE, MAP_SHARED));

	EXPECT_EQ(EINVAL, map_err(&self->d, ri.offset, PAGE, MAP_PRIVATE));
	EXPECT_EQ(EINVAL, map_err(&self->d, ri.offset + 1, PAGE, MAP_SHARED));
	EXPECT_EQ(EINVAL, map_err(&self->d, ri.offset, len + PAGE, MAP_SHARED));
	EXPECT_EQ(EINVAL, map_err(&self->d, ri.offset + len, PAGE, MAP_SHARED));
	EXPECT_EQ(EINVAL, map_err(&self->d, ri.offset + len - PAGE, 2 * PAGE,
				  MAP_SHARED));
	/* Would run off the region's offset space into the next index */
	EXPECT_EQ(EINVAL, map_err(&self->d, ri.offset + (1ULL << 40) - PAGE,
				  2 * PAGE, MAP_SHARED));

	/* Config, ROM, VGA and unknown indexes do not map */
	EXPECT_EQ(EINVAL, map_err(&self->d,
				  (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40,
				  PAGE, MAP_SHARED));
	EXPECT_EQ(EINVAL, map_err(&self->d,
				  (uint64_t)VFIO_PCI_ROM_REGION_INDEX << 40,
				  PAGE, MAP_SHARED));
	EXPECT_EQ(EINVAL, map_err(&self->d,
				  (uint64_t)VFIO_PCI_VGA_REGION_INDEX << 40,
				  PAGE, MAP_SHARED));
	EXPECT_EQ(EINVAL, map_err(&self->d,
				  (uint64_t)self->d.info.num_regions << 40,
				  PAGE, MAP_SHARED));

	/* BARs without the MMAP flag (absent, I/O ports) refuse */
	for (i = 0; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		ASSERT_EQ(0, region_info(&self->d, i, &other));
		if (other.flags & VFIO_REGION_INFO_FLAG_MMAP)
			continue;
		EXPECT_EQ(EINVAL, map_err(&self->d, other.offset, PAGE,
					  MAP_SHARED));
	}
}

TEST_F(region, mmap_sigbus_while_memory_off)
{
	struct vfio_region_info ri;
	uint32_t *p;
	uint32_t v, before, after;
	size_t len;

	if (find_bar(&self->d, VFIO_REGION_INFO_FLAG_MMAP, &ri) < 0)
		SKIP(return, "no mmappable BAR");
	len = ri.size <= PAGE ? PAGE : 2 * PAGE;

	p = map(&self->d, ri.offset, len, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vfio_probe_read32(p, &before));	/* page 0 now populated */

	set_memory(&self->d, 0);
	EXPECT_EQ(-1, vfio_probe_read32(p, &v));		/* was mapped: zapped */
	/* A page never touched before faults the same way */
	EXPECT_TRUE(len == PAGE || vfio_probe_read32(p + PAGE / 4, &v) == -1);
	EXPECT_EQ(-1, vfio_probe_write32(p, 0));
	/* The fd path refuses too */
	EXPECT_EQ(-1, pread(self->d.fd, &v, 4, ri.offset));
	EXPECT_EQ(EIO, errno);

	set_memory(&self->d, 1);
	ASSERT_EQ(0, vfio_probe_read32(p, &after));
	EXPECT_EQ(before, after);
	EXPECT_TRUE(len == PAGE || !vfio_probe_read32(p + PAGE / 4, &v));
	EXPECT_EQ(4, pread(self->d.fd, &v, 4, ri.offset));
	munmap(p, len);
}

TEST_F(region, mmap_outlives_fd_and_fork)
{
	struct vfio_region_info ri;
	uint32_t *p;
	uint32_t v;
	pid_t pid;
	int status;

	if (strcmp(variant->name, "edu"))
		SKIP(return, "edu only");
	ASSERT_EQ(0, region_info(&self->d, 0, &ri));
	p = map(&self->d, ri.offset, PAGE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);

	/* A child sees the same registers */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		uint32_t c = 0;

		_exit(vfio_probe_read32(p, &c) == 0 && c == EDU_ID ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The mapping keeps working after the fd it came from is closed */
	close(self->d.fd);
	self->d.fd = -1;
	ASSERT_EQ(0, vfio_probe_read32(p, &v));
	EXPECT_EQ(EDU_ID, v);
	munmap(p, PAGE);
}

/* ---- ioeventfd ---------------------------------------------------------- */

/*
 * edu's inverting register (BAR0 + 4, reads back ~value) as a device fd
 * offset in *@reg, and a fresh eventfd to trigger ioeventfds on it
 */
static int edu_inv_reg_eventfd(struct __test_metadata *_metadata,
			       struct vfio_dev *d, uint64_t *reg)
{
	struct vfio_region_info ri;
	int efd;

	ASSERT_EQ(0, region_info(d, 0, &ri));
	*reg = ri.offset + 4;
	efd = eventfd(0, EFD_CLOEXEC);
	EXPECT_GE(efd, 0);
	return efd;
}

TEST_F(region, ioeventfd_edu)
{
	uint64_t one = 1, reg;
	int efd;

	if (strcmp(variant->name, "edu"))
		SKIP(return, "edu only");
	efd = edu_inv_reg_eventfd(_metadata, &self->d, &reg);
	ASSERT_GE(efd, 0);

	ASSERT_EQ(0, ioeventfd(&self->d, reg, 0x12345678,
			       VFIO_DEVICE_IOEVENTFD_32, efd));
	ASSERT_EQ(0, pwrite32(&self->d, reg, 0xdeadbeef));
	EXPECT_EQ(~0xdeadbeefu, pread32(&self->d, reg));

	ASSERT_EQ(8, write(efd, &one, 8));
	EXPECT_EQ(~0x12345678u, wait_reg(&self->d, reg, ~0x12345678u));

	/* Same triple again: duplicate; another value on the same register: fine */
	EXPECT_EQ(-EEXIST, ioeventfd(&self->d, reg, 0x12345678,
				     VFIO_DEVICE_IOEVENTFD_32, efd));
	EXPECT_EQ(0, ioeventfd(&self->d, reg, 0x87654321,
			       VFIO_DEVICE_IOEVENTFD_32, efd));
	EXPECT_EQ(0, ioeventfd(&self->d, reg, 0x87654321,
			       VFIO_DEVICE_IOEVENTFD_32, -1));

	/* Remove, remove again */
	EXPECT_EQ(0, ioeventfd(&self->d, reg, 0x12345678,
			       VFIO_DEVICE_IOEVENTFD_32, -1));
	EXPECT_EQ(-ENODEV, ioeventfd(&self->d, reg, 0x12345678,
				     VFIO_DEVICE_IOEVENTFD_32, -1));

	/* Gone: signalling no longer writes */
	ASSERT_EQ(0, pwrite32(&self->d, reg, 0x0badf00d));
	ASSERT_EQ(8, write(efd, &one, 8));
	usleep(200000);
	EXPECT_EQ(~0x0badf00du, pread32(&self->d, reg));
	close(efd);
}

TEST_F(region, ioeventfd_ivshmem_sizes)
{
	struct vfio_region_info ri;
	uint64_t one = 1, got;
	uint32_t flags;
	int efd, sz;

	if (strcmp(variant->name, "ivshmem"))
		SKIP(return, "ivshmem only");
	ASSERT_EQ(0, region_info(&self->d, 2, &ri));

	for (sz = 1; sz <= 8; sz <<= 1) {
		uint64_t data = 0xa1b2c3d4e5f60718ULL, off = ri.offset + 8 * sz + sz;
		uint64_t zero = 0;

		if (sz < 8)
			data &= (1ULL << (8 * sz)) - 1;
		if (sz == 8)
			off = ri.offset + 64;
		flags = sz;	/* VFIO_DEVICE_IOEVENTFD_8 .. _64 */
		efd = eventfd(0, EFD_CLOEXEC);
		ASSERT_GE(efd, 0);

		ASSERT_EQ(8, pwrite(self->d.fd, &zero, 8, off & ~7ULL));
		ASSERT_EQ(0, ioeventfd(&self->d, off, data, flags, efd));
		ASSERT_EQ(8, write(efd, &one, 8));
		got = 0;
		for (int i = 0; i < 200; i++) {
			ASSERT_EQ(sz, pread(self->d.fd, &got, sz, off));
			if (got == data)
				break;
			usleep(10000);
		}
		EXPECT_EQ(data, got);
		EXPECT_EQ(0, ioeventfd(&self->d, off, data, flags, -1));
		close(efd);
	}
}

TEST_F(region, ioeventfd_memory_off_drops)
{
	uint64_t one = 1, reg;
	int efd;

	if (strcmp(variant->name, "edu"))
		SKIP(return, "edu only");
	efd = edu_inv_reg_eventfd(_metadata, &self->d, &reg);
	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, pwrite32(&self->d, reg, 0x13572468));
	ASSERT_EQ(0, ioeventfd(&self->d, reg, 0x2468ace0,
			       VFIO_DEVICE_IOEVENTFD_32, efd));

	set_memory(&self->d, 0);
	ASSERT_EQ(8, write(efd, &one, 8));
	usleep(200000);
	set_memory(&self->d, 1);
	EXPECT_EQ(~0x13572468u, pread32(&self->d, reg));

	/* And it works again with memory on */
	ASSERT_EQ(8, write(efd, &one, 8));
	EXPECT_EQ(~0x2468ace0u, wait_reg(&self->d, reg, ~0x2468ace0u));
	close(efd);
}

TEST_F(region, ioeventfd_bad)
{
	struct vfio_device_ioeventfd e;
	struct vfio_region_info ri, rom;
	uint32_t toff, tsize;
	int bar, mbar, efd;

	bar = find_bar(&self->d, VFIO_REGION_INFO_FLAG_WRITE, &ri);
	ASSERT_GE(bar, 0);
	ASSERT_GE(ri.size, 8);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(efd, 0);

	memset(&e, 0, sizeof(e));
	/* argsz must cover up to fd; the reserved word after it is optional */
	e.argsz = offsetof(struct vfio_device_ioeventfd, fd) + sizeof(e.fd) - 1;
	e.flags = VFIO_DEVICE_IOEVENTFD_32;
	e.offset = ri.offset;
	e.fd = efd;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_IOEVENTFD, &e));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_IOEVENTFD, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* Size flags: none, two, unknown bits */
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset, 0, 0, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset, 0,
				     VFIO_DEVICE_IOEVENTFD_8 |
				     VFIO_DEVICE_IOEVENTFD_16, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset, 0,
				     VFIO_DEVICE_IOEVENTFD_32 | 0x10, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset, 0, 0x80000000, efd));

	/* Offsets: end, straddling, unaligned, other regions */
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset + ri.size, 0,
				     VFIO_DEVICE_IOEVENTFD_32, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset + ri.size - 2, 0,
				     VFIO_DEVICE_IOEVENTFD_32, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset + 2, 0,
				     VFIO_DEVICE_IOEVENTFD_32, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset + 4, 0,
				     VFIO_DEVICE_IOEVENTFD_64, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d,
				     (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40,
				     0, VFIO_DEVICE_IOEVENTFD_32, efd));
	ASSERT_EQ(0, region_info(&self->d, VFIO_PCI_ROM_REGION_INDEX, &rom));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, rom.offset, 0,
				     VFIO_DEVICE_IOEVENTFD_32, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, 99ULL << 40, 0,
				     VFIO_DEVICE_IOEVENTFD_32, efd));

	/* Data wider than the write */
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset, 0x100,
				     VFIO_DEVICE_IOEVENTFD_8, efd));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset, 0x100000000ULL,
				     VFIO_DEVICE_IOEVENTFD_32, efd));

	/* File descriptors: below -1, closed, not an eventfd */
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset, 0,
				     VFIO_DEVICE_IOEVENTFD_32, -2));
	EXPECT_EQ(-EBADF, ioeventfd(&self->d, ri.offset, 0,
				    VFIO_DEVICE_IOEVENTFD_32, 1000));
	EXPECT_EQ(-EINVAL, ioeventfd(&self->d, ri.offset, 0,
				     VFIO_DEVICE_IOEVENTFD_32, self->d.fd));
	/* Nothing was added by any of the above */
	EXPECT_EQ(-ENODEV, ioeventfd(&self->d, ri.offset, 0,
				     VFIO_DEVICE_IOEVENTFD_32, -1));

	/* Never over the MSI-X table */
	if (msix_table(&self->d, &mbar, &toff, &tsize)) {
		struct vfio_region_info mri;

		ASSERT_EQ(0, region_info(&self->d, mbar, &mri));
		EXPECT_EQ(-EINVAL, ioeventfd(&self->d, mri.offset + toff, 0,
					     VFIO_DEVICE_IOEVENTFD_32, efd));
		EXPECT_EQ(-EINVAL, ioeventfd(&self->d,
					     mri.offset + toff + tsize - 4, 0,
					     VFIO_DEVICE_IOEVENTFD_32, efd));
	}
	close(efd);
}

TEST_F(region, ioeventfd_limit)
{
	struct vfio_region_info ri;
	int efd, i, ret = 0;

	if (strcmp(variant->name, "edu"))
		SKIP(return, "edu only");
	ASSERT_EQ(0, region_info(&self->d, 0, &ri));
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(efd, 0);

	for (i = 0; i < 1000 && !ret; i++)
		ret = ioeventfd(&self->d, ri.offset + 4, i,
				VFIO_DEVICE_IOEVENTFD_32, efd);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(-ENOSPC, ioeventfd(&self->d, ri.offset + 4, 1000,
				     VFIO_DEVICE_IOEVENTFD_32, efd));
	EXPECT_EQ(0, ioeventfd(&self->d, ri.offset + 4, 500,
			       VFIO_DEVICE_IOEVENTFD_32, -1));
	EXPECT_EQ(0, ioeventfd(&self->d, ri.offset + 4, 1000,
			       VFIO_DEVICE_IOEVENTFD_32, efd));
	/* The rest go away with the device fd (fixture teardown) */
	close(efd);
}

TEST_HARNESS_MAIN
