// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci migration region (the v1 uAPI QEMU 7.2 speaks) between two
 * simulated VFs.
 *
 * The helpers below drive the region the way QEMU 7.2's hw/vfio/migration.c
 * does: every device_state change is "read, (state & mask) | value, write";
 * a buffer is saved by reading data_offset, then data_size, then that many
 * bytes at data_offset; a buffer is loaded by reading data_offset, putting
 * the bytes there and writing their count to data_size.  The migration
 * itself follows QEMU's phases (setup, iterate while pending_bytes, VM
 * stop, complete, STOP), with the VM running (pre-copy) or stopped, through
 * the mmapped window or through read()/write().  Then bad input: every
 * refused access gets an errno and leaves device_state as it was.  Last,
 * the 2 MiB data window exists only once the region is used (v2 users
 * never touch it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define MIB (1024UL * 1024)

#define S_RUN VFIO_DEVICE_STATE_V1_RUNNING
#define S_SAV VFIO_DEVICE_STATE_V1_SAVING
#define S_RES VFIO_DEVICE_STATE_V1_RESUMING
#define S_MASK VFIO_DEVICE_STATE_MASK
#define OFF(f) offsetof(struct vfio_device_migration_info, f)

/* ---- the v2 feature, for the exclusion cases ---- */

static int v2_set(struct vfio_dev *d, uint32_t state)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_mig_state) + 7) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *m = (void *)f->data;

	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	m->device_state = state;
	m->data_fd = -1;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	if (m->data_fd >= 0)
		close(m->data_fd);
	return 0;
}

static int v2_get(struct vfio_dev *d)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_mig_state) + 7) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *m = (void *)f->data;

	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	if (ioctl(d->fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	return m->device_state;
}

/* ---- the region, as QEMU 7.2 finds and drives it ---- */

struct v1dev {
	struct vfio_dev d;
	uint64_t off;		/* fd offset of the region */
	uint64_t size;
	uint64_t win_off;	/* the sparse mmap area */
	uint64_t win_size;
	uint8_t *win;		/* mapped, or NULL */
	void *bar;		/* BAR2 */
	uint64_t bar_size;
};

/* Look up the region by its type capability, as vfio_get_dev_region_info() */
static int v1_find(struct v1dev *v)
{
	struct vfio_region_info_cap_sparse_mmap *sparse;
	struct vfio_region_info_cap_type *type;
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info *ri;
	uint32_t i;

	if (ioctl(v->d.fd, VFIO_DEVICE_GET_INFO, &di))
		return -errno;
	for (i = VFIO_PCI_NUM_REGIONS; i < di.num_regions; i++) {
		if (vfio_region_info_full(&v->d, i, &ri))
			continue;
		type = (void *)vfio_find_cap(ri, ri->cap_offset,
					     VFIO_REGION_INFO_CAP_TYPE);
		if (!type || type->type != VFIO_REGION_TYPE_MIGRATION_DEPRECATED ||
		    type->subtype != VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED) {
			free(ri);
			continue;
		}
		v->off = ri->offset;
		v->size = ri->size;
		sparse = (void *)vfio_find_cap(ri, ri->cap_offset,
					       VFIO_REGION_INFO_CAP_SPARSE_MMAP);
		if (!(ri->flags & VFIO_REGION_INFO_FLAG_MMAP) || !sparse ||
		    sparse->nr_areas != 1) {
			free(ri);
			return -EPROTO;
		}
		v->win_off = sparse->areas[0].offset;
		v->win_size = sparse->areas[0].size;
		free(ri);
		return 0;
	}
	return -ENOENT;
}

static int rd(struct v1dev *v, uint64_t off, void *p, size_t n)
{
	ssize_t r = pread(v->d.fd, p, n, v->off + off);

	return r < 0 ? -errno : r == (ssize_t)n ? 0 : -EIO;
}

static int wr(struct v1dev *v, uint64_t off, const void *p, size_t n)
{
	ssize_t r = pwrite(v->d.fd, p, n, v->off + off);

	return r < 0 ? -errno : r == (ssize_t)n ? 0 : -EIO;
}

static int64_t rd64(struct v1dev *v, uint64_t off)
{
	uint64_t x;
	int ret = rd(v, off, &x, 8);

	return ret ? ret : (int64_t)x;
}

static int wr64(struct v1dev *v, uint64_t off, uint64_t x)
{
	return wr(v, off, &x, 8);
}

static int state(struct v1dev *v)
{
	uint32_t s;
	int ret = rd(v, OFF(device_state), &s, 4);

	return ret ? ret : (int)s;
}

static int put_state(struct v1dev *v, uint32_t s)
{
	return wr(v, OFF(device_state), &s, 4);
}

/* vfio_migration_set_state(): read, mask, value, check, write */
static int set_state(struct v1dev *v, uint32_t mask, uint32_t value)
{
	int s = state(v);

	if (s < 0)
		return s;
	s = (s & mask) | value;
	if (!VFIO_DEVICE_STATE_VALID(s))
		return -EINVAL;
	return put_state(v, s);
}

/* What QEMU puts in its migration file for the device: pieces */
struct file {
	uint8_t *data;
	size_t len, cap;
	size_t pieces;
};

static int file_put(struct file *f, const void *p, size_t n)
{
	if (f->len + n > f->cap) {
		size_t cap = (f->len + n) * 2;
		uint8_t *d = realloc(f->data, cap);

		if (!d)
			return -ENOMEM;
		f->data = d;
		f->cap = cap;
	}
	memcpy(f->data + f->len, p, n);
	f->len += n;
	return 0;
}

/* vfio_save_buffer(): one piece, as a be64-free (size, bytes) pair */
static int64_t save_buffer(struct v1dev *v, struct file *f)
{
	int64_t off, size;
	uint8_t *tmp;
	int ret;

	off = rd64(v, OFF(data_offset));
	if (off < 0)
		return off;
	size = rd64(v, OFF(data_size));
	if (size < 0)
		return size;
	if ((uint64_t)off < v->win_off ||
	    (uint64_t)off + size > v->win_off + v->win_size)
		return -ERANGE;
	ret = file_put(f, &size, 8);
	if (ret || !size)
		return ret ? ret : 0;
	if (v->win) {
		ret = file_put(f, v->win + (off - v->win_off), size);
	} else {
		tmp = malloc(size);
		ret = tmp ? rd(v, off, tmp, size) : -ENOMEM;
		if (!ret)
			ret = file_put(f, tmp, size);
		free(tmp);
	}
	f->pieces++;
	return ret ? ret : size;
}

/* vfio_load_buffer() for every piece of @f */
static int load_file(struct v1dev *v, struct file *f)
{
	size_t pos = 0;
	uint64_t size, n;
	int64_t off;
	int ret;

	while (pos < f->len) {
		memcpy(&size, f->data + pos, 8);
		pos += 8;
		while (size) {
			off = rd64(v, OFF(data_offset));
			if (off < 0)
				return off;
			n = size;
			if (off + n > v->size)
				n = v->size - off;
			ret = 0;
			if (v->win)
				memcpy(v->win + (off - v->win_off),
				       f->data + pos, n);
			else
				ret = wr(v, off, f->data + pos, n);
			if (!ret)
				ret = wr64(v, OFF(data_size), n);
			if (ret)
				return ret;
			pos += n;
			size -= n;
		}
	}
	return 0;
}

static int v1_open(struct v1dev *v, const char *bdf, bool mapped)
{
	struct vfio_region_info ri;
	int ret;

	ret = vfio_mlx5_bind(bdf);
	if (!ret)
		ret = vfio_dev_open(&v->d, bdf);
	if (ret)
		return ret;
	ret = v1_find(v);
	if (ret)
		return ret;
	if (mapped) {
		v->win = mmap(NULL, v->win_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->d.fd, v->off + v->win_off);
		if (v->win == MAP_FAILED) {
			v->win = NULL;
			return -errno;
		}
	}
	if (vfio_region_info(&v->d, VFIO_PCI_BAR2_REGION_INDEX, &ri) || !ri.size)
		return -ENODEV;
	v->bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->d.fd, ri.offset);
	if (v->bar == MAP_FAILED) {
		v->bar = NULL;
		return -errno;
	}
	v->bar_size = ri.size;
	/* Whatever an earlier test left: RUNNING again */
	return ioctl(v->d.fd, VFIO_DEVICE_RESET) ? -errno : 0;
}

static void v1_close(struct v1dev *v)
{
	if (v->win)
		munmap(v->win, v->win_size);
	if (v->bar)
		munmap(v->bar, v->bar_size);
	if (v->d.fd >= 0)
		vfio_dev_close(&v->d);
}

/* ---- migration, QEMU's phases ---- */

FIXTURE(v1) {
	struct v1dev src, dst;
	struct file f;
};

FIXTURE_VARIANT(v1) {
	uint64_t size;		/* BAR2 of the pair */
	bool running;		/* the VM runs: pre-copy with _SAVING|_RUNNING */
	bool mapped;		/* the window through mmap, else read()/write() */
	bool lose;		/* the firmware stops tracking in pre-copy */
};

FIXTURE_VARIANT_ADD(v1, precopy_16m) { .size = 16 * MIB, .running = true, .mapped = true };
FIXTURE_VARIANT_ADD(v1, stopped_16m) { .size = 16 * MIB, .running = false, .mapped = true };
FIXTURE_VARIANT_ADD(v1, precopy_1m_rw) { .size = 1 * MIB, .running = true, .mapped = false };
FIXTURE_VARIANT_ADD(v1, stopped_1m_rw) { .size = 1 * MIB, .running = false, .mapped = false };
FIXTURE_VARIANT_ADD(v1, precopy_1m_lost) {
	.size = 1 * MIB, .running = true, .mapped = true, .lose = true
};

FIXTURE_SETUP(v1)
{
	const char *a = NULL, *b = NULL;

	self->src.d.fd = -1;
	self->dst.d.fd = -1;
	if (!vfio_ivshmem_pair(variant->size, &a, &b))
		SKIP(return, "no two ivshmem functions with a %llu MiB BAR2",
		     (unsigned long long)(variant->size / MIB));
	ASSERT_EQ(0, v1_open(&self->src, a, variant->mapped));
	ASSERT_EQ(0, v1_open(&self->dst, b, variant->mapped));
	ASSERT_EQ(self->src.bar_size, self->dst.bar_size);
}

FIXTURE_TEARDOWN(v1)
{
	v1_close(&self->src);
	v1_close(&self->dst);
	free(self->f.data);
}

TEST_F(v1, migrate)
{
	struct v1dev *s = &self->src, *d = &self->dst;
	size_t pre_bytes = 0, stop_bytes, stop_start;
	int64_t pending, n;
	int i, changed = 5;

	vfio_fill_pattern(s->bar, s->bar_size, variant->size + variant->running);
	memset(d->bar, 0x5a, d->bar_size);
	ASSERT_NE(0, memcmp(s->bar, d->bar, s->bar_size));
	ASSERT_EQ(S_RUN, state(s));

	/* A stopped VM: its vm state handler cleared _RUNNING before */
	if (!variant->running)
		ASSERT_EQ(0, set_state(s, ~S_RUN, 0));

	/* save_setup */
	ASSERT_EQ(0, set_state(s, S_MASK, S_SAV));
	ASSERT_EQ(variant->running ? (S_SAV | S_RUN) : S_SAV, state(s));

	/* iterate while pending_bytes says there is something */
	for (i = 0; i < 1000; i++) {
		pending = rd64(s, OFF(pending_bytes));
		ASSERT_LE(0, pending);
		if (!pending)
			break;
		n = save_buffer(s, &self->f);
		ASSERT_LE(0, n);
		pre_bytes += n;
		/* Stopped: iterate takes everything, to the end of stream */
		if (!variant->running && !n)
			break;
	}
	ASSERT_LT(i, 1000);
	if (variant->running) {
		ASSERT_LE(s->bar_size, pre_bytes);
		/* Idle device: pre-copy has nothing more for now */
		ASSERT_EQ(0, rd64(s, OFF(pending_bytes)));
		/* A few pages change while the VM runs */
		for (i = 0; i < changed; i++)
			((volatile uint8_t *)s->bar)[(s->bar_size / changed) * i] ^= 0xff;
		ASSERT_LE(changed * 4096, rd64(s, OFF(pending_bytes)));
		if (variant->lose) {
			/*
			 * The firmware stops tracking: the next image is
			 * refused, pre-copy ends and stop-copy sends all of
			 * BAR2 (pages changed since included)
			 */
			ASSERT_EQ(0, vfio_mlx5_knob_write(s->d.bdf, "tracking", "N"));
			((volatile uint8_t *)s->bar)[8] ^= 0xff;
			for (i = 0; i < 10; i++) {
				pending = rd64(s, OFF(pending_bytes));
				ASSERT_LE(0, pending);
				if (!pending)
					break;
				n = save_buffer(s, &self->f);
				ASSERT_EQ(0, n);
			}
			ASSERT_LT(i, 10);
		}
		/* The VM stops: _SAVING|_RUNNING -> _SAVING */
		ASSERT_EQ(0, set_state(s, ~S_RUN, 0));
	}
	ASSERT_EQ(S_SAV, state(s));

	/* complete: _SAVING again (no change), then the rest, then STOP */
	ASSERT_EQ(0, set_state(s, ~S_RUN, S_SAV));
	stop_start = self->f.len;
	pending = rd64(s, OFF(pending_bytes));
	ASSERT_LE(0, pending);
	if (variant->running)
		ASSERT_LT(0, pending);
	for (i = 0; pending > 0 && i < 1000; i++) {
		n = save_buffer(s, &self->f);
		ASSERT_LE(0, n);
		if (!n)
			break;
		pending = rd64(s, OFF(pending_bytes));
		ASSERT_LE(0, pending);
	}
	ASSERT_LT(i, 1000);
	ASSERT_EQ(0, rd64(s, OFF(pending_bytes)));
	stop_bytes = self->f.len - stop_start;
	ASSERT_EQ(0, set_state(s, ~S_SAV, 0));
	ASSERT_EQ(0, state(s));
	TH_LOG("pre-copy %zu bytes, stop-copy %zu bytes, %zu pieces",
	       pre_bytes, stop_bytes, self->f.pieces);
	if (variant->lose) {
		ASSERT_LE(s->bar_size, stop_bytes);
	} else if (variant->running) {
		/* About the changed pages only */
		ASSERT_LE(changed * 4096, stop_bytes);
		ASSERT_GT(changed * 4096 + 64 * 1024, stop_bytes);
	} else {
		ASSERT_LE(s->bar_size, self->f.len);
	}

	/*
	 * Destination: load_setup, the pieces, then the VM starts.  QEMU
	 * turned memory decode off when it reset the device at machine
	 * init; its guest turns it on only later.
	 */
	vfio_cfg_write16(&d->d, PCI_COMMAND,
			 vfio_cfg_read16(&d->d, PCI_COMMAND) & ~PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, set_state(d, ~S_MASK, S_RES));
	ASSERT_EQ(S_RES, state(d));
	ASSERT_EQ(0, load_file(d, &self->f));
	ASSERT_EQ(0, set_state(d, ~S_MASK, S_RUN));
	ASSERT_EQ(S_RUN, state(d));
	vfio_cmd_set(&d->d, PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, memcmp(s->bar, d->bar, s->bar_size));

	/* The source goes on (as after a failed switch-over) */
	ASSERT_EQ(0, set_state(s, ~(S_SAV | S_RES), S_RUN));
	ASSERT_EQ(S_RUN, state(s));
}

/* migrate_cancel in pre-copy and in stop-copy: back to _RUNNING, again */
TEST_F(v1, cancel_then_again)
{
	struct v1dev *s = &self->src, *d = &self->dst;
	int64_t pending;
	int round;
	char v[8];

	vfio_fill_pattern(s->bar, s->bar_size, 11);
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, set_state(s, S_MASK, S_SAV));
		ASSERT_LT(0, save_buffer(s, &self->f));
		if (round)
			ASSERT_EQ(0, set_state(s, ~S_RUN, 0));
		/* The migration state notifier on CANCELLING */
		ASSERT_EQ(0, set_state(s, ~(S_SAV | S_RES), S_RUN));
		ASSERT_EQ(S_RUN, state(s));
		ASSERT_EQ(-EINVAL, rd64(s, OFF(pending_bytes)));
		/* The simulated firmware tracks no more */
		ASSERT_LT(0, vfio_mlx5_knob_read(s->d.bdf, "tracking", v, sizeof(v)));
		ASSERT_STREQ("N", v);
		self->f.len = 0;
	}
	/* And a whole migration still works */
	ASSERT_EQ(0, set_state(s, ~S_RUN, 0));
	ASSERT_EQ(0, set_state(s, S_MASK, S_SAV));
	for (pending = 1; pending > 0;) {
		ASSERT_LE(0, save_buffer(s, &self->f));
		pending = rd64(s, OFF(pending_bytes));
		ASSERT_LE(0, pending);
	}
	ASSERT_EQ(0, set_state(s, ~S_SAV, 0));
	ASSERT_EQ(0, set_state(d, ~S_MASK, S_RES));
	ASSERT_EQ(0, load_file(d, &self->f));
	ASSERT_EQ(0, set_state(d, ~S_MASK, S_RUN));
	ASSERT_EQ(0, memcmp(s->bar, d->bar, s->bar_size));
	ASSERT_EQ(0, set_state(s, ~S_MASK, S_RUN));
}

/* ---- bad input: an errno, and device_state as it was ---- */

FIXTURE(bad) {
	struct v1dev a, b;
};

FIXTURE_SETUP(bad)
{
	const char *x = NULL, *y = NULL;

	self->a.d.fd = -1;
	self->b.d.fd = -1;
	ASSERT_TRUE(vfio_ivshmem_pair(0, &x, &y));
	ASSERT_EQ(0, v1_open(&self->a, x, true));
	ASSERT_EQ(0, v1_open(&self->b, y, true));
}

FIXTURE_TEARDOWN(bad)
{
	/* A failed pf_detach_during_save leaves no VF detached behind */
	if (self->a.d.fd >= 0)
		vfio_mlx5_knob_write(self->a.d.bdf, "detached", "N");
	v1_close(&self->a);
	v1_close(&self->b);
}

TEST_F(bad, layout)
{
	struct v1dev *v = &self->a;
	void *p;

	ASSERT_EQ(4096, v->win_off);
	ASSERT_LE(4096, v->win_size);
	ASSERT_EQ(v->win_off + v->win_size, v->size);
	/* The header page is never mapped, nor anything past the end */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, v->d.fd, v->off);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, v->win_size + 4096, PROT_READ, MAP_SHARED, v->d.fd,
		 v->off + v->win_off);
	ASSERT_EQ(MAP_FAILED, p);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, v->d.fd,
		 v->off + v->win_off);
	ASSERT_EQ(MAP_FAILED, p);
}

/*
 * Memory decode off zaps the user's BAR mappings, not the migration
 * window's: the window's page stays mapped (mincore() sees it resident)
 */
TEST_F(bad, window_kept_across_decode_off)
{
	struct v1dev *v = &self->a;
	unsigned char vec = 0;
	uint16_t cmd;

	ASSERT_NE(NULL, v->win);
	(void)*(volatile uint8_t *)v->win;
	ASSERT_EQ(0, mincore(v->win, 4096, &vec));
	ASSERT_EQ(1, vec & 1);

	cmd = vfio_cfg_read16(&v->d, PCI_COMMAND);
	vfio_cfg_write16(&v->d, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, mincore(v->win, 4096, &vec));
	vfio_cfg_write16(&v->d, PCI_COMMAND, cmd);
	EXPECT_EQ(1, vec & 1);
}

TEST_F(bad, registers)
{
	struct v1dev *v = &self->a;
	uint64_t x = 0;
	uint16_t h = 0;
	uint32_t vals[] = { 5, 6, 7, 8, 9, 0x100 | S_RUN, 0xffffffff };
	unsigned int i;

	ASSERT_EQ(S_RUN, state(v));
	/* Whole fields only */
	ASSERT_EQ(-EINVAL, rd(v, OFF(device_state), &x, 8));
	ASSERT_EQ(-EINVAL, rd(v, OFF(device_state), &h, 2));
	ASSERT_EQ(-EINVAL, rd(v, OFF(reserved), &x, 4));
	ASSERT_EQ(-EINVAL, rd(v, OFF(pending_bytes) + 4, &x, 4));
	ASSERT_EQ(-EINVAL, rd(v, OFF(data_size) + 4, &x, 8));
	ASSERT_EQ(-EINVAL, rd(v, 64, &x, 8));
	ASSERT_EQ(-EINVAL, rd(v, v->size, &x, 1));
	ASSERT_EQ(-EINVAL, rd(v, v->size - 4, &x, 8));
	ASSERT_EQ(-EINVAL, rd(v, (uint64_t)-8 & ((1ULL << 40) - 1), &x, 8));
	/* Read-only fields */
	ASSERT_EQ(-EINVAL, wr64(v, OFF(pending_bytes), 0));
	ASSERT_EQ(-EINVAL, wr64(v, OFF(data_offset), 4096));
	/* Invalid, error and reserved-bit states */
	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		ASSERT_EQ(-EINVAL, put_state(v, vals[i]));
		ASSERT_EQ(S_RUN, state(v));
	}
	/* Nothing but device_state outside a migration */
	ASSERT_EQ(-EINVAL, rd64(v, OFF(pending_bytes)));
	ASSERT_EQ(-EINVAL, rd64(v, OFF(data_offset)));
	ASSERT_EQ(-EINVAL, rd64(v, OFF(data_size)));
	ASSERT_EQ(-EINVAL, wr64(v, OFF(data_size), 8));
	ASSERT_EQ(-EINVAL, rd(v, v->win_off, &x, 8));
	ASSERT_EQ(-EINVAL, wr(v, v->win_off, &x, 8));
	ASSERT_EQ(S_RUN, state(v));
	/* Writing the current state is a no-op (QEMU's VM start) */
	ASSERT_EQ(0, put_state(v, S_RUN));
	ASSERT_EQ(S_RUN, state(v));
}

TEST_F(bad, wrong_state)
{
	struct v1dev *v = &self->a;
	uint64_t x = 0;

	/* Saving: data_size before data_offset, writes */
	ASSERT_EQ(0, put_state(v, S_SAV | S_RUN));
	ASSERT_EQ(-EINVAL, rd64(v, OFF(data_size)));
	ASSERT_EQ(-EINVAL, wr64(v, OFF(data_size), 8));
	ASSERT_EQ(-EINVAL, wr(v, v->win_off, &x, 8));
	ASSERT_EQ(-EINVAL, put_state(v, S_SAV | S_RES));
	ASSERT_EQ(S_SAV | S_RUN, state(v));
	ASSERT_EQ(4096, rd64(v, OFF(data_offset)));
	ASSERT_LT(0, rd64(v, OFF(data_size)));
	ASSERT_EQ(0, rd(v, v->win_off, &x, 8));
	ASSERT_EQ(0, put_state(v, S_RUN));

	/* Resuming: more than the window, reads of the window */
	ASSERT_EQ(0, put_state(v, S_RES));
	ASSERT_EQ(4096, rd64(v, OFF(data_offset)));
	ASSERT_EQ(-EINVAL, wr64(v, OFF(data_size), v->win_size + 1));
	ASSERT_EQ(-EINVAL, wr64(v, OFF(data_size), ~0ULL));
	ASSERT_EQ(-EINVAL, rd(v, v->win_off, &x, 8));
	ASSERT_EQ(-EINVAL, rd64(v, OFF(pending_bytes)));
	ASSERT_EQ(-EINVAL, rd64(v, OFF(data_size)));
	ASSERT_EQ(-EINVAL, put_state(v, S_RES | S_RUN));
	ASSERT_EQ(S_RES, state(v));
	/* Nothing loaded: an empty stream cannot end RESUMING */
	ASSERT_GT(0, put_state(v, S_RUN));
}

/* A broken stream: the write fails, leaving RESUMING fails into ERROR */
TEST_F(bad, error_state_then_reset)
{
	struct v1dev *v = &self->a;

	ASSERT_EQ(0, put_state(v, S_RES));
	memset(v->win, 0x77, 4096);
	ASSERT_GT(0, wr64(v, OFF(data_size), 4096));
	ASSERT_EQ(S_RES, state(v));
	ASSERT_GT(0, put_state(v, S_RUN));
	/* The error state as QEMU checks it */
	ASSERT_TRUE(VFIO_DEVICE_STATE_IS_ERROR(state(v)));
	ASSERT_EQ(-EINVAL, put_state(v, S_RUN));
	ASSERT_EQ(-EINVAL, put_state(v, 0));
	ASSERT_TRUE(VFIO_DEVICE_STATE_IS_ERROR(state(v)));
	ASSERT_EQ(VFIO_DEVICE_STATE_ERROR, v2_get(&v->d));
	/* A reset brings it back, through either interface */
	ASSERT_EQ(0, ioctl(v->d.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(S_RUN, state(v));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, v2_get(&v->d));
}

/* A reset mid-migration: _RUNNING, nothing of the old piece remains */
TEST_F(bad, reset_during_save)
{
	struct v1dev *v = &self->a;

	ASSERT_EQ(0, put_state(v, S_SAV | S_RUN));
	ASSERT_EQ(4096, rd64(v, OFF(data_offset)));
	ASSERT_EQ(0, ioctl(v->d.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(S_RUN, state(v));
	ASSERT_EQ(-EINVAL, rd64(v, OFF(data_size)));
	/* A new save starts from the stream header again */
	ASSERT_EQ(0, put_state(v, S_SAV));
	ASSERT_EQ(-EINVAL, rd64(v, OFF(data_size)));
	ASSERT_EQ(4096, rd64(v, OFF(data_offset)));
	ASSERT_LT(24, rd64(v, OFF(data_size)));
	ASSERT_EQ(0x4d, v->win[0]);	/* "MLX5VFMS", little endian */
	ASSERT_EQ(0, put_state(v, S_RUN));
}

/* Attached, the VM stopped, a save begun; then the VF detached: state 0 */
static void detach_stopped_save(struct __test_metadata *_metadata,
				struct v1dev *v)
{
	ASSERT_EQ(0, vfio_mlx5_knob_write(v->d.bdf, "detached", "N"));
	ASSERT_EQ(0, put_state(v, 0));
	ASSERT_EQ(0, put_state(v, S_SAV));
	ASSERT_EQ(4096, rd64(v, OFF(data_offset)));
	ASSERT_EQ(0, vfio_mlx5_knob_write(v->d.bdf, "detached", "Y"));
	ASSERT_EQ(0, state(v));
}

/*
 * mlx5_core disables the VF's HCA while QEMU 7.2 saves (a health
 * recovery): the saving state falls back (_SAVING|_RUNNING to _RUNNING,
 * _SAVING to 0), never to the error state QEMU aborts on; a refused
 * state change keeps the state; QEMU's cancel (_RUNNING) works while
 * detached; attached again, a save works.
 */
TEST_F(bad, pf_detach_during_save)
{
	struct v1dev *v = &self->a;
	const char *bdf = v->d.bdf;

	ASSERT_EQ(0, put_state(v, S_SAV | S_RUN));
	ASSERT_EQ(4096, rd64(v, OFF(data_offset)));
	ASSERT_EQ(0, vfio_mlx5_knob_write(bdf, "detached", "Y"));
	ASSERT_EQ(S_RUN, state(v));
	ASSERT_EQ(-EINVAL, rd64(v, OFF(pending_bytes)));
	ASSERT_EQ(0, set_state(v, ~(S_SAV | S_RES), S_RUN));
	ASSERT_EQ(S_RUN, state(v));

	/* With the VM stopped */
	detach_stopped_save(_metadata, v);
	ASSERT_EQ(-EINVAL, rd64(v, OFF(data_size)));
	ASSERT_EQ(-ENOTCONN, put_state(v, S_SAV));
	ASSERT_EQ(0, state(v));
	ASSERT_EQ(0, set_state(v, ~(S_SAV | S_RES), S_RUN));
	ASSERT_EQ(S_RUN, state(v));

	/* Attached again with the VM stopped: a save from there works */
	detach_stopped_save(_metadata, v);
	ASSERT_EQ(0, vfio_mlx5_knob_write(bdf, "detached", "N"));
	ASSERT_EQ(0, put_state(v, S_SAV));
	ASSERT_EQ(4096, rd64(v, OFF(data_offset)));
	ASSERT_LT(24, rd64(v, OFF(data_size)));
	ASSERT_EQ(0, put_state(v, S_RUN));
}

/* One interface at a time */
TEST_F(bad, v1_v2_exclusive)
{
	struct v1dev *v = &self->a;
	uint32_t st;

	/* v1 took the device off RUNNING: v2 may look, not touch */
	ASSERT_EQ(0, put_state(v, 0));
	ASSERT_EQ(-EBUSY, v2_set(&v->d, VFIO_DEVICE_STATE_RUNNING));
	ASSERT_EQ(-EBUSY, v2_set(&v->d, VFIO_DEVICE_STATE_STOP_COPY));
	ASSERT_EQ(VFIO_DEVICE_STATE_STOP, v2_get(&v->d));
	ASSERT_EQ(0, state(v));
	ASSERT_EQ(0, put_state(v, S_RUN));

	/* v2 took it: the region refuses every access */
	ASSERT_EQ(0, v2_set(&v->d, VFIO_DEVICE_STATE_STOP));
	ASSERT_EQ(-EBUSY, rd(v, OFF(device_state), &st, 4));
	ASSERT_EQ(-EBUSY, put_state(v, S_RUN));
	ASSERT_EQ(-EBUSY, rd64(v, OFF(data_offset)));
	ASSERT_EQ(VFIO_DEVICE_STATE_STOP, v2_get(&v->d));
	ASSERT_EQ(0, v2_set(&v->d, VFIO_DEVICE_STATE_RUNNING));
	ASSERT_EQ(S_RUN, state(v));

	/* And a reset frees a device whichever interface held it */
	ASSERT_EQ(0, v2_set(&v->d, VFIO_DEVICE_STATE_STOP));
	ASSERT_EQ(0, ioctl(v->d.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(0, put_state(v, S_SAV));
	ASSERT_EQ(0, ioctl(v->d.fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(0, v2_set(&v->d, VFIO_DEVICE_STATE_STOP));
	ASSERT_EQ(0, v2_set(&v->d, VFIO_DEVICE_STATE_RUNNING));
}

/* ---- the window is made at its first use ---- */

/*
 * v1 data windows alive: vmalloc areas of 512 pages (the 2 MiB window)
 * made by mlx5-vfio-pci's v1 code (a caller mlx5vf_v1_*, whichever the
 * allocation is inlined into) in /proc/vmallocinfo, or -errno.  Counts
 * every process's: nothing else opens a v1 device while this test runs.
 */
static int windows(void)
{
	FILE *f = fopen("/proc/vmallocinfo", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " mlx5vf_v1_") && strstr(line, "[mlx5_vfio_pci]") &&
		    strstr(line, " pages=512 "))
			n++;
	fclose(f);
	return n;
}

/*
 * Opening the device, looking at the region, its registers and a v2
 * migration allocate no window (users of v2 never touch the region); the
 * first data_offset read while saving does, once; so does a read() of the
 * window, or mmap(); close frees it.
 */
TEST(window_at_first_use)
{
	const char *x = NULL, *y = NULL;
	struct v1dev v = { .d.fd = -1 };
	uint64_t buf[64];
	int fd, n0;

	ASSERT_TRUE(vfio_ivshmem_pair(0, &x, &y));
	n0 = windows();
	ASSERT_LE(0, n0);
	ASSERT_EQ(0, v1_open(&v, x, false));
	EXPECT_EQ(n0, windows()) TH_LOG("open made a window");
	ASSERT_EQ(S_RUN, state(&v));
	ASSERT_EQ(-EINVAL, rd(&v, v.win_off, buf, 8));
	ASSERT_EQ(0, v2_set(&v.d, VFIO_DEVICE_STATE_STOP));
	ASSERT_EQ(0, vfio_mig_set_state(&v.d, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	ASSERT_LT(0, read(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_EQ(0, v2_set(&v.d, VFIO_DEVICE_STATE_RUNNING));
	EXPECT_EQ(n0, windows()) TH_LOG("registers or v2 made a window");

	ASSERT_EQ(0, put_state(&v, S_SAV | S_RUN));
	ASSERT_EQ(4096, rd64(&v, OFF(data_offset)));
	EXPECT_EQ(n0 + 1, windows());
	ASSERT_LT(24, rd64(&v, OFF(data_size)));
	ASSERT_EQ(0, rd(&v, v.win_off, buf, 8));
	ASSERT_EQ(0x4d, ((uint8_t *)buf)[0]);	/* "MLX5VFMS" */
	ASSERT_EQ(4096, rd64(&v, OFF(data_offset)));
	EXPECT_EQ(n0 + 1, windows()) TH_LOG("a second window");
	ASSERT_EQ(0, put_state(&v, S_RUN));
	v1_close(&v);
	EXPECT_EQ(n0, windows()) TH_LOG("close left the window");

	/* The window read first, while saving: zeroes from a new window */
	memset(&v, 0, sizeof(v));
	v.d.fd = -1;
	ASSERT_EQ(0, v1_open(&v, x, false));
	EXPECT_EQ(n0, windows());
	ASSERT_EQ(0, put_state(&v, S_SAV | S_RUN));
	buf[0] = ~0ULL;
	ASSERT_EQ(0, rd(&v, v.win_off, buf, 8));
	ASSERT_EQ(0, buf[0]);
	EXPECT_EQ(n0 + 1, windows());
	ASSERT_EQ(4096, rd64(&v, OFF(data_offset)));
	ASSERT_LT(24, rd64(&v, OFF(data_size)));
	ASSERT_EQ(0, rd(&v, v.win_off, buf, 8));
	ASSERT_EQ(0x4d, ((uint8_t *)buf)[0]);
	EXPECT_EQ(n0 + 1, windows());
	ASSERT_EQ(0, put_state(&v, S_RUN));
	v1_close(&v);
	EXPECT_EQ(n0, windows());

	/* Mapped first: mmap() makes it, the faults find it */
	memset(&v, 0, sizeof(v));
	v.d.fd = -1;
	ASSERT_EQ(0, v1_open(&v, x, true));
	EXPECT_EQ(n0 + 1, windows());
	ASSERT_EQ(0, put_state(&v, S_SAV));
	ASSERT_EQ(4096, rd64(&v, OFF(data_offset)));
	ASSERT_LT(24, rd64(&v, OFF(data_size)));
	ASSERT_EQ(0x4d, v.win[0]);
	ASSERT_EQ(0, put_state(&v, S_RUN));
	v1_close(&v);
	EXPECT_EQ(n0, windows());
}

TEST_HARNESS_MAIN
