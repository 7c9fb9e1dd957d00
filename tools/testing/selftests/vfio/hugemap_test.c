// SPDX-License-Identifier: GPL-2.0-only
/*
 * Large BAR mappings: an ivshmem-plain function with a 64 MiB BAR2 (the
 * boot's "ivshmem=64M", behind a root port of its own so a bus reset can
 * reset it).  A mapping whose virtual and physical addresses line up on
 * 2 MiB is populated with PMD entries, one fault per 2 MiB; one that does
 * not falls back to pages.  The contents seen through either kind equal
 * what pread/pwrite see, and every entry, huge ones included, is zapped
 * when memory must not be reachable (reset, decode off, low power).
 *
 * Faults are counted with getrusage(): every fault that inserts an entry
 * into a BAR mapping is a minor fault of the process.  A kernel built
 * without huge PFN mappings (CONFIG_ARCH_SUPPORTS_PMD_PFNMAP unset, as
 * the debug kernel without THP) must then take one fault per page.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define SZ_4K	0x1000UL
#define SZ_1M	0x100000UL
#define SZ_2M	0x200000UL
#define SZ_1G	0x40000000UL
#define BAR2	VFIO_PCI_BAR2_REGION_INDEX

static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* The word the pattern puts at byte offset @off of the BAR */
static uint32_t pattern(uint64_t off, uint32_t seed)
{
	return (uint32_t)(off / 4) * 2654435761u ^ seed;
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/* Read one word through a mapping: 0 and *val, or -1 on SIGBUS */
static int guarded_read(volatile uint32_t *p, uint32_t *val)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int ret = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1))
		ret = -1;
	else
		*val = *p;
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

FIXTURE(hugemap) {
	struct vfio_dev d;
	struct vfio_region_info ri;
	uint32_t seed;
	bool pmd;	/* the kernel maps PFNs with PMD entries */
};

FIXTURE_SETUP(hugemap)
{
	const char *bdf = vfio_test_bdf("ivshmem");

	/* The boot that runs this program adds the device: no skip */
	ASSERT_NE(NULL, bdf);
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	ASSERT_EQ(0, vfio_region_info(&self->d, BAR2, &self->ri));
	ASSERT_GE(self->ri.size, 16 * SZ_1M);
	ASSERT_TRUE(self->ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	self->seed = (uint32_t)getpid() * 7919u;
	ASSERT_LE(0, vfio_kconfig("CONFIG_ARCH_SUPPORTS_PMD_PFNMAP"));
	self->pmd = vfio_kconfig("CONFIG_ARCH_SUPPORTS_PMD_PFNMAP") == 'y' &&
		    vfio_kconfig("CONFIG_TRANSPARENT_HUGEPAGE") == 'y';
}

/* Faults that touching @len bytes of a PMD-aligned mapping may take */
static long faults_allowed(bool pmd, size_t len)
{
	/* one per 2 MiB, and a little slack for the test's own pages */
	return pmd ? (long)(len / SZ_2M) + 8 : (long)(len / SZ_4K) + 8;
}

FIXTURE_TEARDOWN(hugemap)
{
	vfio_dev_close(&self->d);
}

/*
 * Map @len bytes of BAR2 from byte @off at a virtual address that is
 * @align-aligned plus @skew, or MAP_FAILED.
 */
static void *map_at(struct vfio_dev *d, struct vfio_region_info *ri,
		    uint64_t off, size_t len, size_t align, size_t skew)
{
	uint8_t *area, *want;
	void *p;

	area = mmap(NULL, len + align + skew, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		return MAP_FAILED;
	want = (uint8_t *)(((uintptr_t)area + align - 1) & ~(uintptr_t)(align - 1)) + skew;
	p = mmap(want, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 d->fd, ri->offset + off);
	if (p == MAP_FAILED) {
		munmap(area, len + align + skew);
		return MAP_FAILED;
	}
	/* Give back the reservation around the mapping */
	if (want > area)
		munmap(area, want - area);
	if (area + len + align + skew > want + len)
		munmap(want + len, area + len + align + skew - (want + len));
	return p;
}

/* Fill [off, off + len) of the BAR with the pattern through @map */
static void fill(volatile uint32_t *map, uint64_t off, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len / 4; i++)
		map[i] = pattern(off + i * 4, seed);
}

/* Index of the first word of @map that differs from the pattern, or -1 */
static long check(const volatile uint32_t *map, uint64_t off, size_t len,
		  uint32_t seed)
{
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (map[i] != pattern(off + i * 4, seed))
			return i;
	return -1;
}

/* Read one word of every page: faults in every entry the range needs */
static uint32_t touch_pages(const volatile uint32_t *map, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len; i += SZ_4K)
		sum += map[i / 4];
	return sum;
}

TEST_F(hugemap, aligned_mapping_uses_pmd_entries)
{
	size_t len = self->ri.size;
	long before, faults;
	uint32_t *map;

	map = map_at(&self->d, &self->ri, 0, len, SZ_1G, 0);
	ASSERT_NE(MAP_FAILED, map);
	before = minor_faults();
	touch_pages(map, len);
	faults = minor_faults() - before;
	TH_LOG("%zu MiB touched page by page: %ld faults (%s)", len >> 20, faults,
	       self->pmd ? "PMD entries expected" : "kernel without huge PFN maps");
	EXPECT_LE(faults, faults_allowed(self->pmd, len));
	if (!self->pmd)
		EXPECT_GE(faults, (long)(len / SZ_4K));
	munmap(map, len);
}

TEST_F(hugemap, contents_equal_pread_and_pwrite)
{
	size_t len = self->ri.size, chunk = SZ_1M;
	uint32_t *map, *buf;
	uint64_t off;

	map = map_at(&self->d, &self->ri, 0, len, SZ_2M, 0);
	ASSERT_NE(MAP_FAILED, map);
	buf = malloc(chunk);
	ASSERT_NE(NULL, buf);

	/* Written through the huge mapping, read with pread */
	fill(map, 0, len, self->seed);
	for (off = 0; off < len; off += len / 4 - chunk / 2) {
		if (off + chunk > len)
			off = len - chunk;
		ASSERT_EQ((ssize_t)chunk, pread(self->d.fd, buf, chunk,
						self->ri.offset + off));
		EXPECT_EQ(-1, check(buf, off, chunk, self->seed)) {
			TH_LOG("pread differs from the mapping at 0x%llx",
			       (unsigned long long)off);
		}
		if (off == len - chunk)
			break;
	}
	/* Written with pwrite, read through the mapping */
	off = len / 2 + SZ_4K;
	fill(buf, off, chunk, ~self->seed);
	ASSERT_EQ((ssize_t)chunk, pwrite(self->d.fd, buf, chunk, self->ri.offset + off));
	EXPECT_EQ(-1, check(map + off / 4, off, chunk, ~self->seed));

	free(buf);
	munmap(map, len);
}

TEST_F(hugemap, unaligned_mapping_falls_back_to_pages)
{
	size_t len = 4 * SZ_2M;
	long before, faults;
	uint32_t *map;

	/* Virtually 2 MiB-aligned, physically one page off: no PMD fits */
	map = map_at(&self->d, &self->ri, SZ_4K, len, SZ_2M, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill(map, SZ_4K, len, self->seed);
	munmap(map, len);

	map = map_at(&self->d, &self->ri, SZ_4K, len, SZ_2M, 0);
	ASSERT_NE(MAP_FAILED, map);
	before = minor_faults();
	touch_pages(map, len);
	faults = minor_faults() - before;
	TH_LOG("%zu pages touched: %ld faults", len / SZ_4K, faults);
	EXPECT_GE(faults, (long)(len / SZ_4K));
	EXPECT_EQ(-1, check(map, SZ_4K, len, self->seed));

	/* Virtually off by a page, physically aligned: no PMD either */
	munmap(map, len);
	map = map_at(&self->d, &self->ri, 0, len, SZ_2M, SZ_4K);
	ASSERT_NE(MAP_FAILED, map);
	fill(map, 0, len, self->seed);
	munmap(map, len);
	map = map_at(&self->d, &self->ri, 0, len, SZ_2M, SZ_4K);
	ASSERT_NE(MAP_FAILED, map);
	before = minor_faults();
	touch_pages(map, len);
	faults = minor_faults() - before;
	EXPECT_GE(faults, (long)(len / SZ_4K));
	EXPECT_EQ(-1, check(map, 0, len, self->seed));
	munmap(map, len);
}

TEST_F(hugemap, partial_munmap_and_mremap)
{
	size_t len = 8 * SZ_2M;
	uint8_t *map, *dst, *moved;

	map = map_at(&self->d, &self->ri, 0, len, SZ_2M, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill((uint32_t *)map, 0, len, self->seed);
	touch_pages((uint32_t *)map, len);

	/* A hole in the middle of the second PMD: the rest stays right */
	ASSERT_EQ(0, munmap(map + SZ_2M + SZ_1M / 2, SZ_1M));
	EXPECT_EQ(-1, check((uint32_t *)map, 0, SZ_2M + SZ_1M / 2, self->seed));
	EXPECT_EQ(-1, check((uint32_t *)(map + SZ_2M + 3 * SZ_1M / 2),
			    SZ_2M + 3 * SZ_1M / 2, len - (SZ_2M + 3 * SZ_1M / 2),
			    self->seed));

	/* Move the last four PMDs elsewhere: same contents there */
	dst = map_at(&self->d, &self->ri, 0, 4 * SZ_2M, SZ_2M, 0);
	ASSERT_NE(MAP_FAILED, dst);
	munmap(dst, 4 * SZ_2M);
	moved = mremap(map + 4 * SZ_2M, 4 * SZ_2M, 4 * SZ_2M,
		       MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, moved);
	EXPECT_EQ(-1, check((uint32_t *)moved, 4 * SZ_2M, 4 * SZ_2M, self->seed));
	/* A BAR mapping cannot grow in place (VM_DONTEXPAND: EFAULT) */
	EXPECT_EQ(MAP_FAILED, mremap(moved, 4 * SZ_2M, 8 * SZ_2M, 0));
	EXPECT_EQ(EFAULT, errno);

	munmap(moved, 4 * SZ_2M);
	munmap(map, SZ_2M + SZ_1M / 2);
	munmap(map + SZ_2M + 3 * SZ_1M / 2, 4 * SZ_2M - (SZ_2M + 3 * SZ_1M / 2));
}

/* Touch @len of @map; the number of faults it took */
static long faults_to_touch(const uint32_t *map, size_t len)
{
	long before = minor_faults();

	touch_pages(map, len);
	return minor_faults() - before;
}

TEST_F(hugemap, reset_zaps_huge_entries)
{
	size_t len = 4 * SZ_2M;
	uint32_t *map;
	long faults;

	ASSERT_TRUE(self->d.info.flags & VFIO_DEVICE_FLAGS_RESET);
	map = map_at(&self->d, &self->ri, 0, len, SZ_2M, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill(map, 0, len, self->seed);
	faults_to_touch(map, len);
	/* Populated: touching again costs nothing */
	EXPECT_EQ(0, faults_to_touch(map, len));

	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	/* The reset zapped every entry: they fault in again, still huge */
	faults = faults_to_touch(map, len);
	EXPECT_GE(faults, (long)(len / (self->pmd ? SZ_2M : SZ_4K)));
	EXPECT_LE(faults, faults_allowed(self->pmd, len));
	EXPECT_EQ(-1, check(map, 0, len, self->seed));
	munmap(map, len);
}

TEST_F(hugemap, decode_off_is_sigbus_through_huge_entries)
{
	size_t len = 2 * SZ_2M;
	uint16_t cmd;
	uint32_t v;
	uint32_t *map;

	map = map_at(&self->d, &self->ri, 0, len, SZ_2M, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill(map, 0, len, self->seed);
	faults_to_touch(map, len);

	cmd = vfio_cfg_read16(&self->d, PCI_COMMAND);
	vfio_cfg_write16(&self->d, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	EXPECT_EQ(-1, guarded_read(map + SZ_2M / 4 + 3, &v));
	EXPECT_EQ(-1, guarded_read(map, &v));
	vfio_cfg_write16(&self->d, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, guarded_read(map + SZ_2M / 4 + 3, &v));
	EXPECT_EQ(pattern(SZ_2M + 12, self->seed), v);
	munmap(map, len);
}

TEST_F(hugemap, low_power_entry_refuses_faults_until_exit)
{
	struct {
		struct vfio_device_feature hdr;
	} f = { .hdr = { .argsz = sizeof(f) } };
	size_t len = 2 * SZ_2M;
	uint32_t *map;
	uint32_t v;

	map = map_at(&self->d, &self->ri, 0, len, SZ_2M, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill(map, 0, len, self->seed);

	/*
	 * Right after entry the function may still be in D0, waiting for the
	 * runtime-suspend work: the mapping must already be refused.
	 */
	f.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_FEATURE, &f));
	EXPECT_EQ(-1, guarded_read(map + 5, &v));
	EXPECT_EQ(-1, guarded_read(map + SZ_2M / 4, &v));
	usleep(200 * 1000);
	EXPECT_EQ(-1, guarded_read(map + 5, &v));

	f.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_EXIT;
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_FEATURE, &f));
	ASSERT_EQ(0, guarded_read(map + 5, &v));
	EXPECT_EQ(pattern(20, self->seed), v);
	EXPECT_EQ(-1, check(map, 0, len, self->seed));
	munmap(map, len);
}

TEST_HARNESS_MAIN
