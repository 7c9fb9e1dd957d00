// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci device dirty-page tracking (VFIO_DEVICE_FEATURE_DMA_LOGGING_*)
 * on a simulated VF: an ivshmem-plain function bound to mlx5_vfio_pci with
 * its PF half from mlx5-vfio-sim.  The simulated VF "DMA-writes" through
 * the debugfs knob /sys/kernel/debug/mlx5_vfio_sim/<BDF>/dma_write; the
 * expected bitmap is computed here from the writes and compared bit for
 * bit with what DMA_LOGGING_REPORT returns.
 *
 * The vfio core reports through iova_bitmap, which a kernel has only with
 * CONFIG_IOMMUFD_DRIVER (the debug kernel; Debian's 6.12 has none).  The
 * driver offers tracking exactly where the core can report: the "offered"
 * test checks that on every kernel, the others need the report path and
 * skip, naming why, on a kernel without it.  Tracking ends when the
 * device is closed, reset or its PF half removed (del_vf).
 *
 * Simulator limits (drivers/vfio/pci/mlx5/sim.h): 8 ranges, page sizes
 * 4 KiB to 2 MiB, addresses below 2^48, 2^25 tracked pages in all.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define SIM_DEL_VF "/sys/bus/mlx5_vfio_sim/del_vf"
#define SIM_DBG "/sys/kernel/debug/mlx5_vfio_sim"
#define KIB 1024ULL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define SIM_RANGES 8

#define range_t struct vfio_device_feature_dma_logging_range

/* Whether the running kernel has the vfio core's report path */
static bool kernel_reports(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " iova_bitmap_for_each");
	fclose(f);
	return found;
}

/* ---- the uAPI ---- */

static int feature(int fd, uint32_t flags, void *data, size_t len)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) + 64) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;

	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	if (len)
		memcpy(f->data, data, len);
	if (ioctl(fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	if (len)
		memcpy(data, f->data, len);
	return 0;
}

/* START; 0 or -errno, *ps gets the page size the driver chose */
static int log_start(int fd, uint64_t *ps, const range_t *r, uint32_t n)
{
	struct vfio_device_feature_dma_logging_control c = {
		.page_size = *ps, .num_ranges = n, .ranges = (uintptr_t)r,
	};
	int ret;

	ret = feature(fd, VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &c, sizeof(c));
	if (!ret)
		*ps = c.page_size;
	return ret;
}

static int log_stop(int fd)
{
	return feature(fd, VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0);
}

static int log_report(int fd, uint64_t iova, uint64_t len, uint64_t ps,
		      uint64_t *bitmap)
{
	struct vfio_device_feature_dma_logging_report r = {
		.iova = iova, .length = len, .page_size = ps,
		.bitmap = (uintptr_t)bitmap,
	};

	return feature(fd, VFIO_DEVICE_FEATURE_GET |
		       VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &r, sizeof(r));
}

static int dma_write_str(const char *bdf, const char *s)
{
	char path[160];

	snprintf(path, sizeof(path), SIM_DBG "/%s/dma_write", bdf);
	return vfio_write_file(path, s);
}

/* What mlx5_core's DISABLE_VF (@on) or ENABLE_VF does to the PF side */
static int sim_detach(const char *bdf, bool on)
{
	return vfio_mlx5_knob_write(bdf, "detached", on ? "Y" : "N");
}

static int dma_write(const char *bdf, uint64_t iova, uint64_t len)
{
	char s[64];

	snprintf(s, sizeof(s), "0x%llx %llu", (unsigned long long)iova,
		 (unsigned long long)len);
	return dma_write_str(bdf, s);
}

/*
 * The bitmap a report of [base, base + nbits * rps) must show after
 * writes @w (pairs iova, len) on a tracker of page size @tps: every
 * tracker page a write touched, inside the tracked ranges @r, reported in
 * report pages of @rps.
 */
static void expect(uint64_t *bm, uint64_t base, uint64_t nbits, uint64_t rps,
		   uint64_t tps, const uint64_t (*w)[2], int nw,
		   const range_t *r, int nr)
{
	uint64_t a, first, last, b;
	int i, j;

	memset(bm, 0, (nbits + 63) / 64 * 8);
	for (i = 0; i < nw; i++) {
		for (a = w[i][0] & ~(tps - 1); a <= w[i][0] + w[i][1] - 1; a += tps) {
			for (j = 0; j < nr; j++)
				if (a >= r[j].iova && a < r[j].iova + r[j].length)
					break;
			if (j == nr)
				continue;
			/* report bits of the tracker page [a, a + tps) */
			if (a + tps <= base || a >= base + nbits * rps)
				continue;
			first = (a < base ? 0 : a - base) / rps;
			last = (a + tps - 1 - base) / rps;
			for (b = first; b <= last && b < nbits; b++)
				bm[b / 64] |= 1ULL << (b % 64);
		}
	}
}

static int popcount(const uint64_t *bm, uint64_t nbits)
{
	uint64_t i;
	int n = 0;

	for (i = 0; i < (nbits + 63) / 64; i++)
		n += __builtin_popcountll(bm[i]);
	return n;
}

/* ---- fixture: one simulated VF, open ---- */

FIXTURE(dirty) {
	struct vfio_dev d;
	const char *bdf;
};

FIXTURE_SETUP(dirty)
{
	self->d.fd = -1;
	self->bdf = vfio_test_bdf("ivshmem");
	ASSERT_NE(NULL, self->bdf);
	ASSERT_EQ(0, vfio_mlx5_bind(self->bdf));
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
	if (!kernel_reports())
		SKIP(return, "kernel without CONFIG_IOMMUFD_DRIVER: the vfio core cannot report, the driver offers no tracking");
}

FIXTURE_TEARDOWN(dirty)
{
	if (self->bdf)
		sim_detach(self->bdf, false);
	if (self->d.fd >= 0) {
		log_stop(self->d.fd);
		vfio_dev_close(&self->d);
	}
}

/* Offered exactly where the kernel can report (checked on every kernel) */
TEST(offered_matches_kernel)
{
	const char *bdf = vfio_test_bdf("ivshmem");
	struct vfio_dev d;
	int ret;

	ASSERT_NE(NULL, bdf);
	ASSERT_EQ(0, vfio_mlx5_bind(bdf));
	ASSERT_EQ(0, vfio_dev_open(&d, bdf));
	ret = feature(d.fd, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_DMA_LOGGING_START, NULL, 0);
	vfio_dev_close(&d);
	ASSERT_EQ(kernel_reports() ? 0 : -ENOTTY, ret);
}

/* One range, 4 KiB: exactly the written pages, then clean */
TEST_F(dirty, report_exact_then_clean)
{
	const range_t r[] = { { .iova = 1 * MIB, .length = 256 * 4 * KIB } };
	const uint64_t w[][2] = {
		{ 1 * MIB, 1 },				/* first byte */
		{ 1 * MIB + 5 * 4 * KIB, 4 * KIB },	/* page 5 exactly */
		{ 1 * MIB + 10 * 4 * KIB + 100, 8 * KIB },	/* pages 10-12 */
		{ 1 * MIB + 63 * 4 * KIB + 4095, 2 },	/* pages 63-64 */
		{ 1 * MIB + 255 * 4 * KIB, 4 * KIB },	/* last page */
	};
	uint64_t got[4], want[4], ps = 4 * KIB;
	int i;

	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(4 * KIB, ps);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, dma_write(self->bdf, w[i][0], w[i][1]));
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, ps, got));
	expect(want, r[0].iova, 256, ps, ps, w, 5, r, 1);
	ASSERT_EQ(8, popcount(want, 256));
	ASSERT_EQ(0, memcmp(want, got, sizeof(got)));

	/* read and cleared: a second report shows nothing */
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, ps, got));
	ASSERT_EQ(0, popcount(got, 256));

	/* a report of part of the range clears that part only */
	ASSERT_EQ(0, dma_write(self->bdf, 1 * MIB + 3 * 4 * KIB, 1));
	ASSERT_EQ(0, dma_write(self->bdf, 1 * MIB + 200 * 4 * KIB, 1));
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, log_report(self->d.fd, 1 * MIB, 64 * 4 * KIB, ps, got));
	ASSERT_EQ(1ULL << 3, got[0]);
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, ps, got));
	ASSERT_EQ(1ULL << (200 % 64), got[200 / 64]);
	ASSERT_EQ(1, popcount(got, 256));
	ASSERT_EQ(0, log_stop(self->d.fd));
}

/* Several ranges with gaps; writes in the gaps and outside do not show */
TEST_F(dirty, multiple_ranges_and_outside)
{
	const range_t r[] = {
		{ .iova = 0, .length = 64 * 4 * KIB },
		{ .iova = 1 * GIB, .length = 128 * 4 * KIB },
		{ .iova = 4 * GIB, .length = 64 * 4 * KIB },
	};
	const uint64_t w[][2] = {
		{ 7 * 4 * KIB, 1 },			/* range 0 */
		{ 64 * 4 * KIB, 4 * KIB },		/* gap after range 0 */
		{ 1 * GIB - 4 * KIB, 8 * KIB },		/* gap + first page of 1 */
		{ 1 * GIB + 127 * 4 * KIB, 8 * KIB },	/* last page of 1 + gap */
		{ 2 * GIB, 1 * MIB },			/* gap */
		{ 4 * GIB + 40 * 4 * KIB, 3 * 4 * KIB },	/* range 2 */
		{ 5 * GIB, 4 * KIB },			/* beyond every range */
	};
	uint64_t got[2], want[2], ps = 4 * KIB;
	int i, j, total = 0;

	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 3));
	ASSERT_EQ(4 * KIB, ps);
	for (i = 0; i < 7; i++)
		ASSERT_EQ(0, dma_write(self->bdf, w[i][0], w[i][1]));
	for (j = 0; j < 3; j++) {
		uint64_t n = r[j].length / ps;

		memset(got, 0, sizeof(got));
		ASSERT_EQ(0, log_report(self->d.fd, r[j].iova, r[j].length,
					ps, got));
		expect(want, r[j].iova, n, ps, ps, w, 7, r, 3);
		ASSERT_EQ(0, memcmp(want, got, (n + 63) / 64 * 8));
		total += popcount(got, n);
	}
	/* 1 in range 0, 2 in range 1, 3 in range 2 */
	ASSERT_EQ(6, total);

	/* only outside: nothing */
	ASSERT_EQ(0, dma_write(self->bdf, 2 * GIB, 4 * KIB));
	ASSERT_EQ(0, dma_write(self->bdf, 64 * 4 * KIB, 1));
	for (j = 0; j < 3; j++) {
		memset(got, 0, sizeof(got));
		ASSERT_EQ(0, log_report(self->d.fd, r[j].iova, r[j].length,
					ps, got));
		ASSERT_EQ(0, popcount(got, r[j].length / ps));
	}
	ASSERT_EQ(0, log_stop(self->d.fd));
}

/* Tracker pages of 64 KiB and 2 MiB, reported at other page sizes */
TEST_F(dirty, larger_pages)
{
	const range_t r[] = { { .iova = 16 * MIB, .length = 16 * MIB } };
	const uint64_t w[][2] = {
		{ 16 * MIB + 5, 1 },
		{ 16 * MIB + 6 * MIB - 1, 2 },		/* two 2 MiB pages */
	};
	uint64_t *got, *want, ps = 64 * KIB;
	uint64_t n4k = r[0].length / (4 * KIB);

	got = calloc(n4k / 64, 8);
	want = calloc(n4k / 64, 8);
	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, want);

	/* 64 KiB tracking, reported per 4 KiB: 16 bits per dirty page */
	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(64 * KIB, ps);
	ASSERT_EQ(0, dma_write(self->bdf, w[0][0], w[0][1]));
	ASSERT_EQ(0, dma_write(self->bdf, w[1][0], w[1][1]));
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, 4 * KIB, got));
	expect(want, r[0].iova, n4k, 4 * KIB, ps, w, 2, r, 1);
	ASSERT_EQ(3 * 16, popcount(want, n4k));
	ASSERT_EQ(0, memcmp(want, got, n4k / 8));
	ASSERT_EQ(0, log_stop(self->d.fd));

	/* 4 MiB asked, above the maximum: 2 MiB chosen */
	ps = 4 * MIB;
	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(2 * MIB, ps);
	ASSERT_EQ(0, dma_write(self->bdf, w[0][0], w[0][1]));
	ASSERT_EQ(0, dma_write(self->bdf, w[1][0], w[1][1]));
	/*
	 * a window that cuts a tracker page is refused (it would clear the
	 * page's part outside the window); nothing is cleared by it
	 */
	ASSERT_EQ(-EINVAL, log_report(self->d.fd, r[0].iova, 4 * KIB, 4 * KIB, got));
	ASSERT_EQ(-EINVAL, log_report(self->d.fd, r[0].iova + 4 * KIB,
				      2 * MIB, 4 * KIB, got));
	/* per 2 MiB: pages 0, 2 and 3 */
	memset(got, 0, n4k / 8);
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, 2 * MIB, got));
	ASSERT_EQ(0xdULL, got[0]);
	/* again, per 4 KiB: 512 bits per 2 MiB page */
	ASSERT_EQ(0, dma_write(self->bdf, w[0][0], w[0][1]));
	ASSERT_EQ(0, dma_write(self->bdf, w[1][0], w[1][1]));
	memset(got, 0, n4k / 8);
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, 4 * KIB, got));
	expect(want, r[0].iova, n4k, 4 * KIB, ps, w, 2, r, 1);
	ASSERT_EQ(3 * 512, popcount(want, n4k));
	ASSERT_EQ(0, memcmp(want, got, n4k / 8));
	ASSERT_EQ(0, log_stop(self->d.fd));
	free(got);
	free(want);
}

/* Bad START input: each case its own errno, and tracking still works */
TEST_F(dirty, bad_start)
{
	range_t r[SIM_RANGES + 2];
	range_t *many;
	uint64_t ps;
	int i, fd = self->d.fd;

	/* no ranges (core) */
	ps = 4 * KIB;
	ASSERT_EQ(-EINVAL, log_start(fd, &ps, r, 0));
	/* a range not aligned to the page size (core) */
	r[0] = (range_t){ .iova = 4 * KIB + 512, .length = 4 * KIB };
	ASSERT_EQ(-EINVAL, log_start(fd, &ps, r, 1));
	/* overlapping ranges (core) */
	r[0] = (range_t){ .iova = 0, .length = 64 * KIB };
	r[1] = (range_t){ .iova = 60 * KIB, .length = 64 * KIB };
	ASSERT_EQ(-EINVAL, log_start(fd, &ps, r, 2));
	/* a range wrapping the address space (core) */
	r[0] = (range_t){ .iova = -4 * KIB, .length = 8 * KIB };
	ASSERT_EQ(-EOVERFLOW, log_start(fd, &ps, r, 1));
	/* more ranges than the firmware tracks (driver) */
	for (i = 0; i < SIM_RANGES + 1; i++)
		r[i] = (range_t){ .iova = i * MIB, .length = 4 * KIB };
	ASSERT_EQ(-E2BIG, log_start(fd, &ps, r, SIM_RANGES + 1));
	/* more than the core takes (a page of ranges) */
	many = calloc(4096, sizeof(*many));
	ASSERT_NE(NULL, many);
	for (i = 0; i < 4096; i++)
		many[i] = (range_t){ .iova = i * MIB, .length = 4 * KIB };
	ASSERT_EQ(-E2BIG, log_start(fd, &ps, many, 4096));
	free(many);
	/* page size not a power of two (driver), below 4 KiB (driver), 0 */
	r[0] = (range_t){ .iova = 1 * MIB, .length = 64 * KIB };
	ps = 12 * KIB;
	ASSERT_EQ(-EINVAL, log_start(fd, &ps, r, 1));
	ps = 1 * KIB;
	ASSERT_EQ(-EINVAL, log_start(fd, &ps, r, 1));
	ps = 0;
	r[0] = (range_t){ .iova = 0, .length = 0 };
	ASSERT_EQ(-EINVAL, log_start(fd, &ps, r, 1));
	/* an empty range (driver) */
	ps = 4 * KIB;
	r[0] = (range_t){ .iova = 1 * MIB, .length = 0 };
	ASSERT_EQ(-EINVAL, log_start(fd, &ps, r, 1));
	/* beyond the firmware's address space (2^48, driver) */
	ps = 4 * KIB;
	r[0] = (range_t){ .iova = 1ULL << 48, .length = 4 * KIB };
	ASSERT_EQ(-E2BIG, log_start(fd, &ps, r, 1));
	/* more pages than the simulator's memory bound (firmware LIM_ERR) */
	r[0] = (range_t){ .iova = 0, .length = 1ULL << 40 };
	ASSERT_EQ(-ENOSPC, log_start(fd, &ps, r, 1));
	/* the firmware fails the create (fail_next): its errno */
	{
		char path[160];

		snprintf(path, sizeof(path), SIM_DBG "/%s/fail_next", self->bdf);
		ASSERT_EQ(0, vfio_write_file(path, "a00"));
	}
	r[0] = (range_t){ .iova = 1 * MIB, .length = 64 * KIB };
	ASSERT_EQ(-EIO, log_start(fd, &ps, r, 1));

	/* none of that started anything: STOP refuses, START works */
	ASSERT_EQ(-EINVAL, log_stop(fd));
	ASSERT_EQ(0, log_start(fd, &ps, r, 1));
	/* a second START while running */
	ASSERT_EQ(-EBUSY, log_start(fd, &ps, r, 1));
	ASSERT_EQ(0, log_stop(fd));
	/* STOP without START */
	ASSERT_EQ(-EINVAL, log_stop(fd));
}

/* Bad REPORT input; refused knob writes do not count */
TEST_F(dirty, bad_report_and_knob)
{
	const range_t r[] = {
		{ .iova = 1 * MIB, .length = 64 * KIB },
		{ .iova = 2 * MIB, .length = 64 * KIB },
	};
	uint64_t bm[4] = {}, ps = 4 * KIB;
	int fd = self->d.fd;

	/* no tracking */
	ASSERT_EQ(-EINVAL, log_report(fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(0, log_start(fd, &ps, r, 2));
	/* outside, straddling the end, spanning the gap between ranges */
	ASSERT_EQ(-EINVAL, log_report(fd, 0, 64 * KIB, ps, bm));
	ASSERT_EQ(-EINVAL, log_report(fd, r[0].iova + 32 * KIB, 64 * KIB, ps, bm));
	ASSERT_EQ(-EINVAL, log_report(fd, r[0].iova, 2 * MIB, ps, bm));
	/* page size not a power of two, below 4 KiB (core) */
	ASSERT_EQ(-EINVAL, log_report(fd, r[0].iova, r[0].length, 12 * KIB, bm));
	ASSERT_EQ(-EINVAL, log_report(fd, r[0].iova, r[0].length, 512, bm));
	/* the good one still works */
	ASSERT_EQ(0, dma_write_str(self->bdf, "1052672 1"));	/* decimal */
	ASSERT_EQ(0, log_report(fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(1ULL << 1, bm[0]);

	/* refused knob writes mark nothing (the cases: knob_bad_input) */
	ASSERT_EQ(-EINVAL, dma_write_str(self->bdf, "0x100000 0"));
	ASSERT_EQ(-EINVAL, dma_write_str(self->bdf, "0x100000 1 2"));
	memset(bm, 0, sizeof(bm));
	ASSERT_EQ(0, log_report(fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(0, popcount(bm, 16));
	ASSERT_EQ(0, log_stop(fd));
}

/* The dma_write knob's input checks (on every kernel) */
TEST(knob_bad_input)
{
	const char *bdf = vfio_test_bdf("ivshmem");
	char longer[80];

	ASSERT_NE(NULL, bdf);
	ASSERT_EQ(0, vfio_mlx5_bind(bdf));
	/* good: hex, decimal, blanks, newline; no tracker: ignored */
	ASSERT_EQ(0, dma_write_str(bdf, "0x100000 0x1000"));
	ASSERT_EQ(0, dma_write_str(bdf, "1048576  4096\n"));
	ASSERT_EQ(0, dma_write_str(bdf, "0xfffffffffffff000 0x1000"));
	/* garbage, one number, a third, zero length, wrapping, too long */
	ASSERT_EQ(-EINVAL, dma_write_str(bdf, "garbage"));
	ASSERT_EQ(-EINVAL, dma_write_str(bdf, "0x100000"));
	ASSERT_EQ(-EINVAL, dma_write_str(bdf, "0x100000 1 2"));
	ASSERT_EQ(-EINVAL, dma_write_str(bdf, "0x100000 0"));
	ASSERT_EQ(-EINVAL, dma_write_str(bdf, "0x100000 -1"));
	ASSERT_EQ(-EINVAL, dma_write_str(bdf, "0xfffffffffffff000 0x1001"));
	memset(longer, '0', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	memcpy(longer, "0x100000 1", 10);
	ASSERT_EQ(-EINVAL, dma_write_str(bdf, longer));
}

/* Closing the device and resetting it end tracking */
TEST_F(dirty, torn_down_on_close_and_reset)
{
	const range_t r[] = { { .iova = 1 * MIB, .length = 64 * KIB } };
	uint64_t bm[1] = {}, ps = 4 * KIB;

	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, dma_write(self->bdf, 1 * MIB, 1));
	vfio_dev_close(&self->d);
	self->d.fd = -1;
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
	/* nothing runs: REPORT and STOP refuse, START works again */
	ASSERT_EQ(-EINVAL, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(-EINVAL, log_stop(self->d.fd));
	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	/* the earlier write was not carried over */
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(0ULL, bm[0]);

	/* a reset ends it too */
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(-EINVAL, log_stop(self->d.fd));
	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, log_stop(self->d.fd));
}

/*
 * mlx5_core disables the VF's HCA while tracking runs (a health
 * recovery): REPORT fails with EIO (the dirty pages since the last one
 * are lost), START with ENOTCONN while detached, the user's STOP succeeds
 * once; attached again, tracking works from a new START.
 */
TEST_F(dirty, ended_by_pf_detach)
{
	const range_t r[] = { { .iova = 1 * MIB, .length = 64 * KIB } };
	uint64_t bm[1] = {}, ps = 4 * KIB;

	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, dma_write(self->bdf, 1 * MIB, 1));
	ASSERT_EQ(0, sim_detach(self->bdf, true));
	EXPECT_EQ(-EIO, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	EXPECT_EQ(-ENOTCONN, log_start(self->d.fd, &ps, r, 1));
	EXPECT_EQ(-EIO, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	EXPECT_EQ(0, log_stop(self->d.fd));
	EXPECT_EQ(-EINVAL, log_stop(self->d.fd));
	EXPECT_EQ(-ENOTCONN, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, sim_detach(self->bdf, false));
	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(0ULL, bm[0]);
	ASSERT_EQ(0, dma_write(self->bdf, 1 * MIB + 4 * KIB, 1));
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(2ULL, bm[0]);
	ASSERT_EQ(0, log_stop(self->d.fd));
}

/*
 * A detach whose tracker DESTROY the firmware refuses: the driver tried,
 * the tracker goes with the HCA, and tracking starts again after the
 * attach.  The simulator once warned here (the boot's dmesg check fails
 * on a WARNING).
 */
TEST_F(dirty, detach_with_destroy_refused)
{
	const range_t r[] = { { .iova = 1 * MIB, .length = 64 * KIB } };
	uint64_t bm[1] = {}, ps = 4 * KIB;
	char v[16];

	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "fail_next", "0xa03"));
	ASSERT_EQ(0, sim_detach(self->bdf, true));
	/* The driver sent the DESTROY: the knob is used up */
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "fail_next", v, sizeof(v)));
	EXPECT_STREQ("none", v);
	vfio_mlx5_knob_write(self->bdf, "fail_next", "none");
	ASSERT_EQ(0, sim_detach(self->bdf, false));
	/* The session the detach ended, as in ended_by_pf_detach */
	EXPECT_EQ(0, log_stop(self->d.fd));
	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, dma_write(self->bdf, 1 * MIB, 1));
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(1ULL, bm[0]);
	ASSERT_EQ(0, log_stop(self->d.fd));
}

/* del_vf in a thread: it waits until the user closes the device */
struct del {
	const char *bdf;
	volatile int done;
	int ret;
};

static void *del_run(void *arg)
{
	struct del *d = arg;

	d->ret = vfio_write_file(SIM_DEL_VF, d->bdf);
	d->done = 1;
	return NULL;
}

/* Removing the PF half ends tracking at once, before the user lets go */
TEST_F(dirty, torn_down_on_removal)
{
	const range_t r[] = { { .iova = 1 * MIB, .length = 64 * KIB } };
	uint64_t bm[1] = {}, ps = 4 * KIB;
	struct del del = { .bdf = self->bdf };
	pthread_t t;
	int i, ret = 0;

	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, dma_write(self->bdf, 1 * MIB, 1));
	ASSERT_EQ(0, pthread_create(&t, NULL, del_run, &del));
	/* tracking runs (EBUSY) until removal tore it down (ENODEV) */
	for (i = 0; i < 200; i++) {
		ret = log_start(self->d.fd, &ps, r, 1);
		if (ret != -EBUSY)
			break;
		usleep(50000);
	}
	EXPECT_EQ(-ENODEV, ret);
	EXPECT_EQ(-ENODEV, log_stop(self->d.fd));
	EXPECT_EQ(-ENODEV, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	EXPECT_FALSE(del.done);
	vfio_dev_close(&self->d);
	self->d.fd = -1;
	pthread_join(t, NULL);
	ASSERT_EQ(0, del.ret);

	/* a new PF half: tracking works again */
	ASSERT_EQ(0, vfio_mlx5_bind(self->bdf));
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(0ULL, bm[0]);
	ASSERT_EQ(0, log_stop(self->d.fd));
}

/* Tracking and migration are independent */
TEST_F(dirty, independent_of_migration)
{
	const range_t r[] = { { .iova = 1 * MIB, .length = 64 * KIB } };
	struct vfio_device_feature_mig_state m = { .data_fd = -1 };
	uint64_t bm[1] = {}, ps = 4 * KIB;

	ASSERT_EQ(0, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, dma_write(self->bdf, 1 * MIB + 4 * KIB, 1));
	m.device_state = VFIO_DEVICE_STATE_STOP;
	ASSERT_EQ(0, feature(self->d.fd, VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m)));
	/* still tracking while stopped */
	ASSERT_EQ(-EBUSY, log_start(self->d.fd, &ps, r, 1));
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(1ULL << 1, bm[0]);
	m.device_state = VFIO_DEVICE_STATE_RUNNING;
	m.data_fd = -1;
	ASSERT_EQ(0, feature(self->d.fd, VFIO_DEVICE_FEATURE_SET |
			     VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m)));
	ASSERT_EQ(0, dma_write(self->bdf, 1 * MIB + 8 * KIB, 1));
	bm[0] = 0;
	ASSERT_EQ(0, log_report(self->d.fd, r[0].iova, r[0].length, ps, bm));
	ASSERT_EQ(1ULL << 2, bm[0]);
	ASSERT_EQ(0, log_stop(self->d.fd));
}

TEST_HARNESS_MAIN
