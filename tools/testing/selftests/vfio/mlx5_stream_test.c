// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci: a migration stream of at least 256 MiB moves in chunks.
 *
 * Two ivshmem functions with a 256 MiB BAR2 (boot mlx5-big) are bound to
 * mlx5_vfio_pci with simulated PF halves.  The source's BAR2 is migrated
 * to the destination through the v2 data fds, data fd to data fd, and
 * compared byte for byte.  While the stream moves, after every piece read,
 * the test watches what the kernel holds:
 *
 *   - MemFree of /proc/meminfo: the drop from before the migration must
 *     stay below three chunks (MLX5VF_REC_MAX, 32 MiB: one piece in the
 *     source's buffer, one in the destination's, and slack).  A driver that
 *     allocated the stream, or a piece of its size, in one buffer of pages
 *     would take 256 MiB here.
 *   - /proc/vmallocinfo: no vmalloc area that appeared during the
 *     migration is larger than a chunk (plus its guard page); ioremap
 *     areas (the BAR mappings) do not count.
 *
 * The test itself moves the stream through one static 9 MiB buffer (64
 * KiB of it: variant "buffered"), so guest memory it uses does not grow
 * with the stream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define MIB (1024ULL * 1024)
#define BIG (256 * MIB)
#define CHUNK (32 * MIB)	/* MLX5VF_REC_MAX in mlx5_vfio_priv.h */
#define MAX_AREAS 8192

/* MemFree in bytes, or 0 when /proc/meminfo cannot be read */
static uint64_t mem_free(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* The vmalloc areas (not ioremap) of /proc/vmallocinfo */
struct areas {
	unsigned long long start[MAX_AREAS];
	unsigned long long size[MAX_AREAS];
	int n;
};

static int read_areas(struct areas *a)
{
	unsigned long long start, end, size;
	char line[512];
	FILE *f = fopen("/proc/vmallocinfo", "r");

	if (!f)
		return -errno;
	a->n = 0;
	while (fgets(line, sizeof(line), f) && a->n < MAX_AREAS) {
		if (sscanf(line, "0x%llx-0x%llx %llu", &start, &end, &size) != 3)
			continue;
		if (strstr(line, " ioremap"))
			continue;
		a->start[a->n] = start;
		a->size[a->n++] = size;
	}
	fclose(f);
	return 0;
}

static bool had_area(const struct areas *a, unsigned long long start,
		     unsigned long long size)
{
	int i;

	for (i = 0; i < a->n; i++)
		if (a->start[i] == start && a->size[i] == size)
			return true;
	return false;
}

/* What the kernel held at its most while the stream moved */
struct watch {
	uint64_t free_before;
	uint64_t free_min;
	struct areas before, now;
	unsigned long long new_area_max;
	int area_err;
	size_t pieces;
};

static void sample(struct watch *w)
{
	uint64_t f = mem_free();
	int i;

	if (f && f < w->free_min)
		w->free_min = f;
	if (read_areas(&w->now)) {
		w->area_err = 1;
		return;
	}
	for (i = 0; i < w->now.n; i++)
		if (w->now.size[i] > w->new_area_max &&
		    !had_area(&w->before, w->now.start[i], w->now.size[i]))
			w->new_area_max = w->now.size[i];
}

static void fill(volatile uint64_t *p, uint64_t size)
{
	uint64_t i;

	for (i = 0; i < size / 8; i++)
		p[i] = i * 0x9e3779b97f4a7c15ULL ^ 0x53545245414dULL;
}

/* The two functions, their BAR2 mappings, the watch over the kernel */
struct big_pair {
	struct vfio_dev src, dst;
	void *sbar, *dbar;
	uint64_t ssize, dsize;
	struct watch *w;
};

FIXTURE(big) {
	struct big_pair p;
};

/*
 * How the stream is read: 9 MiB at a time (room for a whole chunk of the
 * simulated firmware, 8 MiB, which the driver has it save straight into
 * the reader's memory), or 64 KiB at a time (too small to lend: every
 * piece goes through the driver's buffer).
 */
FIXTURE_VARIANT(big) {
	bool small_reads;
};

FIXTURE_VARIANT_ADD(big, lent) { .small_reads = false };
FIXTURE_VARIANT_ADD(big, buffered) { .small_reads = true };

/*
 * vfio_mig_pump() in reads of 64 KiB (@small, looking at the kernel every
 * 16 reads) or 9 MiB (every read)
 */
static ssize_t pump(int fd, int out, bool precopy, struct watch *w, bool small)
{
	static uint8_t buf[9 * MIB];
	size_t len = small ? 64 * 1024 : sizeof(buf);
	ssize_t n, total = 0;

	for (;;) {
		n = read(fd, buf, len);
		if (n < 0)
			return precopy && errno == ENOMSG ? total : -errno;
		if (!n)
			return precopy ? -EPROTO : total;
		if (vfio_write_all(out, buf, n))
			return -EIO;
		total += n;
		if (++w->pieces % (small ? 16 : 1) == 0)
			sample(w);
	}
}

FIXTURE_SETUP(big)
{
	struct big_pair *p = &self->p;
	const char *a = NULL, *b = NULL;

	p->src.fd = -1;
	p->dst.fd = -1;
	p->w = calloc(1, sizeof(*p->w));
	ASSERT_NE(NULL, p->w);
	/* The boot guarantees the pair: no skip */
	ASSERT_TRUE(vfio_ivshmem_pair(BIG, &a, &b));
	ASSERT_EQ(0, vfio_mlx5_open(a, &p->src, &p->sbar, &p->ssize));
	ASSERT_EQ(0, vfio_mlx5_open(b, &p->dst, &p->dbar, &p->dsize));
	ASSERT_EQ(BIG, p->ssize);
	ASSERT_EQ(BIG, p->dsize);
}

FIXTURE_TEARDOWN(big)
{
	struct big_pair *p = &self->p;

	vfio_mlx5_close(&p->src, p->sbar, p->ssize);
	vfio_mlx5_close(&p->dst, p->dbar, p->dsize);
	free(p->w);
}

static void migrate_big(struct __test_metadata *_metadata,
			struct big_pair *p, bool precopy, bool small_reads)
{
	struct watch *w = p->w;
	unsigned long keys[2];
	ssize_t pre = 0, stop;
	int sfd, dfd, i;
	char v[32];

	fill(p->sbar, BIG);
	memset(p->dbar, 0, BIG);
	ASSERT_NE(0, memcmp(p->sbar, p->dbar, BIG));

	ASSERT_EQ(0, read_areas(&w->before));
	w->free_before = mem_free();
	ASSERT_LT(0, w->free_before);
	w->free_min = w->free_before;

	ASSERT_LT(0, vfio_mlx5_knob_read(p->src.bdf, "mkeys_made", v, sizeof(v)));
	keys[0] = strtoul(v, NULL, 10);
	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RESUMING, &dfd));
	if (precopy) {
		ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY, &sfd));
		pre = pump(sfd, dfd, true, w, small_reads);
		ASSERT_LE(BIG, pre);
		ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	} else {
		ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, &sfd));
	}
	stop = pump(sfd, dfd, false, w, small_reads);
	ASSERT_LT(0, stop);
	close(sfd);
	/* Loading the last pieces happens here: look once more */
	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_STOP, NULL));
	sample(w);
	close(dfd);
	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_LT(0, vfio_mlx5_knob_read(p->src.bdf, "mkeys_made", v, sizeof(v)));
	keys[1] = strtoul(v, NULL, 10) - keys[0];
	i = (int)keys[1];

	TH_LOG("source memory keys: %d", i);
	TH_LOG("stream: pre-copy %zd + stop-copy %zd bytes in %zu reads; MemFree dropped by at most %llu KiB; largest new vmalloc area %llu KiB",
	       pre, stop, w->pieces,
	       (unsigned long long)(w->free_before - w->free_min) / 1024,
	       w->new_area_max / 1024);
	/* All of BAR2 travelled: at least 256 MiB of stream */
	ASSERT_LE(BIG, pre + stop);
	/*
	 * 64 KiB reads: one buffer for every chunk; 9 MiB reads: each
	 * full chunk lent under a key of its own
	 */
	ASSERT_LE(small_reads ? 4096 : 32, w->pieces);
	ASSERT_TRUE(small_reads ? i <= 2 : i >= 32);
	ASSERT_EQ(0, w->area_err);
	ASSERT_LT(w->free_before - w->free_min, 3 * CHUNK);
	ASSERT_LE(w->new_area_max, CHUNK + 4096);
	ASSERT_EQ(0, memcmp(p->sbar, p->dbar, BIG));
}

TEST_F(big, stop_copy_256m_in_chunks)
{
	migrate_big(_metadata, &self->p, false, variant->small_reads);
}

TEST_F(big, pre_copy_256m_in_chunks)
{
	migrate_big(_metadata, &self->p, true, variant->small_reads);
}

TEST_HARNESS_MAIN
