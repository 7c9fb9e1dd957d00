// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO device fuzzer.  On each bound device, issues random and mutated
 * calls: every device ioctl with random argsz/flags/index/start/count/data,
 * reads and writes at random offsets and sizes across all regions, mmaps of
 * random ranges and protections (touched under a SIGBUS guard), device
 * features, resets, close and reopen.  Everything derives from a seed that
 * is printed, so a failure replays with -s SEED.
 *
 *   fuzz_test [-n CALLS] [-s SEED] [-m] [device...]
 *
 * With -m each device is first bound to mlx5-vfio-pci with a simulated PF
 * half (mlx5-vfio-sim), and a fifth of the calls drive migration: state
 * changes, reads and writes of the data fd (saved streams, mutated or
 * not, and bad buffers), its ioctls, dirty-page tracking, and the
 * simulator's failure knobs.  Such a device must then also reset to
 * RUNNING and save a whole stream.
 *
 * One TAP case per device: it passes when no call crashed the program and
 * the device still works afterwards (reopen, config vendor ID matches sysfs,
 * GET_INFO answers; edu's ID register reads back).  The harness fails the
 * run if the guest dmesg shows a splat.
 *
 * New ioctls (a variant driver's features, migration) are added by
 * appending a generator to gens[] or a feature index to features[].
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "vfio_util.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: small, deterministic from the seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* Values that tend to find edge cases */
static uint64_t rnd_interesting(void)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000,
		0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xffffffffffffffffULL,
	};

	if (rnd_below(3))
		return v[rnd_below(ARRAY_SIZE(v))];
	return rnd();
}

struct fuzz {
	struct vfio_dev d;
	const char *name;
	uint64_t region_off[16];
	uint64_t region_size[16];
	uint32_t nregions;
	int efds[8];
	int resets;	/* a bus reset costs a second or more: ration them */
	uint64_t calls;
	uint64_t errors;
	/* -m: migration */
	const char *bdf;
	bool mig;		/* the device offers migration */
	int data_fd;		/* the last data fd a state change gave, or -1 */
	uint8_t *mbuf;		/* MIG_BUF bytes: what reads got, what writes send */
	size_t mlen;		/* bytes of the stream read so far, at mbuf */
	size_t wpos;		/* of those, bytes written to a resuming fd */
	bool resuming;		/* data_fd is a resuming one */
	uint8_t *ro;		/* MIG_BUF read-only bytes: reads into them must fail */
	uint64_t *bitmap;	/* MIG_BITMAP bytes for DMA_LOGGING_REPORT */
	uint64_t mig_sets;	/* state changes taken */
	uint64_t mig_read;	/* stream bytes read */
	uint64_t mig_written;	/* stream bytes the device took */
	uint64_t mig_loads;	/* whole streams written and then left RESUMING */
};

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t in_touch;

static void on_sigbus(int sig)
{
	if (in_touch)
		siglongjmp(bus_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void refresh_regions(struct fuzz *f)
{
	struct vfio_region_info ri;
	uint32_t i;

	f->nregions = f->d.info.num_regions < 16 ? f->d.info.num_regions : 16;
	for (i = 0; i < f->nregions; i++) {
		if (vfio_region_info(&f->d, i, &ri)) {
			f->region_off[i] = (uint64_t)i << 40;
			f->region_size[i] = 0;
		} else {
			f->region_off[i] = ri.offset;
			f->region_size[i] = ri.size;
		}
	}
}

static void fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/* A random offset in the device fd: mostly inside or at the edge of a region */
static uint64_t rnd_offset(struct fuzz *f, size_t len)
{
	uint32_t idx = rnd_below(f->nregions + 2);
	uint64_t base = idx < f->nregions ? f->region_off[idx] : (uint64_t)idx << 40;
	uint64_t size = idx < f->nregions ? f->region_size[idx] : 0x1000;

	switch (rnd_below(5)) {
	case 0:
		return base + size - rnd_below(len + 8);	/* straddle the end */
	case 1:
		return rnd_interesting();
	default:
		return base + rnd_below(size ? size : 1);
	}
}

static size_t rnd_len(void)
{
	static const size_t l[] = { 1, 2, 3, 4, 5, 8, 16, 64, 256, 4096 };

	/* Long transfers cost a trap per dword under TCG: keep them rare */
	return rnd_below(64) ? l[rnd_below(10)] : rnd_below(70000);
}

/*
 * Writes the emulator, not the driver, cannot take: QEMU 7.2 aborts the
 * whole machine on them, which says nothing about our driver.
 */
static const struct {
	const char *dev;
	int bar;
	uint64_t start, end;	/* [start, end) in the BAR */
} fragile[] = {
	/* edu: its DMA engine started outside its buffer is a "hardware error" */
	{ "edu", 0, 0x80, 0xa0 },
	/* e1000e: an interrupt throttling timer outliving MSI-X asserts */
	{ "e1000e", 0, 0xc4, 0xc8 },	/* ITR */
	{ "e1000e", 0, 0xe8, 0xfc },	/* EITR[0..4] */
};

static bool emulator_fragile(struct fuzz *f, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fragile); i++) {
		uint64_t base = f->region_off[fragile[i].bar];

		if (!strcmp(f->name, fragile[i].dev) && off < base + fragile[i].end &&
		    off + len > base + fragile[i].start)
			return true;
	}
	return false;
}

static void do_rw(struct fuzz *f, bool wr)
{
	static uint8_t buf[70000];
	size_t len = rnd_len();
	uint64_t off = rnd_offset(f, len);
	ssize_t n;

	if (wr) {
		if (emulator_fragile(f, off, len))
			return;
		fill_random(buf, len);
		n = pwrite(f->d.fd, buf, len, off);
	} else {
		n = pread(f->d.fd, buf, len, off);
	}
	if (n < 0)
		f->errors++;
}

static void do_mmap(struct fuzz *f)
{
	static const int prots[] = { PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE, PROT_EXEC,
				     PROT_NONE };
	uint32_t idx = rnd_below(f->nregions + 1);
	uint64_t base = idx < f->nregions ? f->region_off[idx] : (uint64_t)idx << 40;
	size_t len = (rnd_below(4) + 1) * 4096;
	int flags = rnd_below(6) ? MAP_SHARED : MAP_PRIVATE;
	uint64_t off = base + (rnd_below(4) ? rnd_below(8) * 4096 : rnd_below(0x100000));
	int prot = prots[rnd_below(5)];
	volatile uint32_t *p;

	p = mmap(NULL, len, prot, flags, f->d.fd, (off_t)off);
	if (p == MAP_FAILED) {
		f->errors++;
		return;
	}
	if (prot & PROT_READ) {
		in_touch = 1;
		if (!sigsetjmp(bus_jmp, 1))
			(void)p[rnd_below(len / 4)];
		in_touch = 0;
	}
	munmap((void *)p, len);
}

static void do_ioctl_raw(struct fuzz *f, unsigned long cmd, size_t minsz)
{
	static uint8_t buf[8192];
	uint32_t *w = (uint32_t *)buf;
	size_t len = minsz + rnd_below(64);

	fill_random(buf, len);
	w[0] = rnd_below(3) ? (uint32_t)len : (uint32_t)rnd_interesting();	/* argsz */
	if (rnd_below(2))
		w[1] = (uint32_t)rnd_below(16);		/* flags, small */
	if (rnd_below(2) && len >= 12)
		w[2] = (uint32_t)rnd_below(12);		/* index */
	if (ioctl(f->d.fd, cmd, buf) < 0)
		f->errors++;
}

static void do_set_irqs(struct fuzz *f)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 64 * 4];
	struct vfio_irq_set *s = (void *)buf;
	static const uint32_t data[] = { VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL,
					 VFIO_IRQ_SET_DATA_EVENTFD };
	static const uint32_t action[] = { VFIO_IRQ_SET_ACTION_MASK,
					   VFIO_IRQ_SET_ACTION_UNMASK,
					   VFIO_IRQ_SET_ACTION_TRIGGER };
	uint32_t i, count = rnd_below(4) ? rnd_below(9) : (uint32_t)rnd_interesting();
	size_t payload;

	memset(buf, 0, sizeof(buf));
	s->flags = rnd_below(10) ? data[rnd_below(3)] | action[rnd_below(3)] : (uint32_t)rnd();
	s->index = rnd_below(8) ? rnd_below(5) : (uint32_t)rnd_interesting();
	s->start = rnd_below(8) ? rnd_below(4) : (uint32_t)rnd_interesting();
	s->count = count;
	payload = (count < 64 ? count : 64) * 4;
	for (i = 0; i < 64; i++) {
		int32_t *fds = (int32_t *)s->data;

		if (s->flags & VFIO_IRQ_SET_DATA_EVENTFD)
			fds[i] = rnd_below(5) ? f->efds[rnd_below(8)] : (int32_t)rnd_below(40) - 1;
		else
			s->data[i] = (uint8_t)rnd_below(3);
	}
	s->argsz = rnd_below(6) ? sizeof(*s) + payload : (uint32_t)rnd_below(sizeof(buf));
	if (ioctl(f->d.fd, VFIO_DEVICE_SET_IRQS, s) < 0)
		f->errors++;
}

static void do_ioeventfd(struct fuzz *f)
{
	struct vfio_device_ioeventfd e = {
		.argsz = rnd_below(8) ? sizeof(e) : (uint32_t)rnd_interesting(),
		.flags = rnd_below(6) ? 1u << rnd_below(4) : (uint32_t)rnd(),
		.offset = rnd_offset(f, 8),
		.data = rnd(),
		.fd = rnd_below(3) ? f->efds[rnd_below(8)] : -1,
	};

	/* An ioeventfd writes when an interrupt signals the same eventfd */
	if (emulator_fragile(f, e.offset, 8))
		return;

	if (ioctl(f->d.fd, VFIO_DEVICE_IOEVENTFD, &e) < 0)
		f->errors++;
}

/* Feature indexes the drivers under test answer; variant drivers add theirs */
static const uint32_t features[] = {
	VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
	VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
	VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
	VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
	VFIO_DEVICE_FEATURE_MIGRATION,
	VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
	VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
	VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
	VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
};

static void do_feature(struct fuzz *f)
{
	uint8_t buf[sizeof(struct vfio_device_feature) + 64];
	struct vfio_device_feature *ft = (void *)buf;
	static const uint32_t ops[] = { VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_FEATURE_SET,
					VFIO_DEVICE_FEATURE_PROBE };

	fill_random(buf, sizeof(buf));
	ft->flags = features[rnd_below(ARRAY_SIZE(features))];
	ft->flags |= rnd_below(6) ? ops[rnd_below(3)] : (uint32_t)rnd() & ~0xffffu;
	if (rnd_below(2) && (ft->flags & 0xffff) == VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP)
		*(int32_t *)ft->data = f->efds[rnd_below(8)];
	ft->argsz = rnd_below(6) ? sizeof(*ft) + rnd_below(64) : (uint32_t)rnd_interesting();
	if (ioctl(f->d.fd, VFIO_DEVICE_FEATURE, ft) < 0)
		f->errors++;
	/* Never leave the device in low power for long: exit again */
	if (rnd_below(2)) {
		struct vfio_device_feature ex = {
			.argsz = sizeof(ex),
			.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
		};

		ioctl(f->d.fd, VFIO_DEVICE_FEATURE, &ex);
	}
}

static void do_hot_reset(struct fuzz *f)
{
	uint8_t buf[sizeof(struct vfio_pci_hot_reset) + 8 * 4];
	struct vfio_pci_hot_reset *h = (void *)buf;
	uint32_t i;

	memset(buf, 0, sizeof(buf));
	h->count = rnd_below(4) ? rnd_below(4) : (uint32_t)rnd_interesting();
	h->flags = rnd_below(6) ? 0 : (uint32_t)rnd();
	for (i = 0; i < 8; i++)
		h->group_fds[i] = rnd_below(2) ? f->d.group : (int32_t)rnd_below(40) - 1;
	h->argsz = rnd_below(6) ? sizeof(*h) + 4 * (h->count < 8 ? h->count : 8) :
				  (uint32_t)rnd_interesting();
	if (ioctl(f->d.fd, VFIO_DEVICE_PCI_HOT_RESET, h) < 0)
		f->errors++;
}

#define MAX_RESETS 12

static void do_misc(struct fuzz *f)
{
	switch (rnd_below(6)) {
	case 0:
		if (f->resets++ >= MAX_RESETS)
			break;
		if (ioctl(f->d.fd, VFIO_DEVICE_RESET) < 0)
			f->errors++;
		break;
	case 1:
		do_ioctl_raw(f, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
			     sizeof(struct vfio_pci_hot_reset_info));
		break;
	case 2:
		if (f->resets++ < MAX_RESETS)
			do_hot_reset(f);
		break;
	case 3: {
		/* close and reopen the device fd: teardown under load */
		int fd = vfio_dev_reopen_fd(&f->d);

		if (fd >= 0) {
			close(f->d.fd);
			f->d.fd = fd;
		}
		break;
	}
	default:
		/* an unknown ioctl number in the VFIO range */
		if (ioctl(f->d.fd, _IO(VFIO_TYPE, VFIO_BASE + rnd_below(40)), 0) < 0)
			f->errors++;
	}
}

/* ---- migration (-m) ---- */

#define MIG_BUF		(4UL << 20)
#define MIG_BITMAP	(64UL << 10)
#define MIG_RESETS	400	/* a device in ERROR needs one */

static const uint32_t mig_states[] = {
	VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_RUNNING,
	VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_RESUMING,
	VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_PRE_COPY,
	VFIO_DEVICE_STATE_PRE_COPY_P2P, VFIO_DEVICE_STATE_ERROR,
};

static void mig_set_state(struct fuzz *f)
{
	uint32_t state = rnd_below(8) ? mig_states[rnd_below(ARRAY_SIZE(mig_states))] :
					(uint32_t)rnd_interesting();
	/* The stream read so far, all written to a resuming fd */
	bool whole = f->resuming && f->data_fd >= 0 && f->mlen && f->wpos == f->mlen;
	int fd;

	/* A stream read and not loaded yet: often load it */
	if (f->mlen && !f->wpos && !rnd_below(3))
		state = VFIO_DEVICE_STATE_RESUMING;

	if (vfio_mig_set_state(&f->d, state, &fd)) {
		f->errors++;
		/* A failed step leaves ERROR, which only a reset leaves */
		if (vfio_mig_get_state(&f->d) == VFIO_DEVICE_STATE_ERROR &&
		    f->resets < MIG_RESETS + MAX_RESETS) {
			f->resets++;
			ioctl(f->d.fd, VFIO_DEVICE_RESET);
		}
		return;
	}
	f->mig_sets++;
	if (whole && state != VFIO_DEVICE_STATE_RESUMING)
		f->mig_loads++;
	if (fd >= 0) {
		if (f->data_fd >= 0)
			close(f->data_fd);
		f->data_fd = fd;
		/* A saving fd starts a stream; a resuming one loads the last */
		f->resuming = state == VFIO_DEVICE_STATE_RESUMING;
		if (f->resuming)
			f->wpos = 0;
		else
			f->mlen = 0;
	}
}

/* A buffer for the data fd: mostly mbuf, sometimes one the kernel must refuse */
static void *mig_ptr(struct fuzz *f, size_t len, bool reading)
{
	switch (rnd_below(16)) {
	case 0:
		return NULL;
	case 1:
		return (void *)(uintptr_t)-4096;
	case 2:
		/* read-only memory: a read must not land there */
		return reading ? f->ro : f->mbuf;
	default:
		return f->mbuf + (len < MIG_BUF ? rnd_below(rnd_below(4) ? 1 : MIG_BUF - len) : 0);
	}
}

static size_t mig_len(void)
{
	switch (rnd_below(6)) {
	case 0:
		return rnd_below(64);
	case 1:
		return (size_t)rnd_interesting();
	default:
		return rnd_below(MIG_BUF + 1);
	}
}

/* How far @len may run from @p: to the end of our buffer it is in */
static size_t mig_room(struct fuzz *f, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t room = len;

	if (b >= f->mbuf && b < f->mbuf + MIG_BUF)
		room = MIG_BUF - (size_t)(b - f->mbuf);
	else if (b >= f->ro && b < f->ro + MIG_BUF)
		room = MIG_BUF - (size_t)(b - f->ro);
	/* else an address the kernel must refuse: any length */
	return len < room ? len : room;
}

/* Mostly the stream goes on at the end of what was read; else anywhere */
static void mig_read(struct fuzz *f)
{
	size_t len = mig_len();
	bool append = rnd_below(4) && f->mlen < MIG_BUF;
	void *p = append ? f->mbuf + f->mlen : mig_ptr(f, len, true);
	ssize_t n;

	n = read(f->data_fd, p, mig_room(f, p, len));
	if (n < 0) {
		f->errors++;
		return;
	}
	f->mig_read += n;
	if (append)
		f->mlen += n;
}

/* Mostly the next piece of the stream read last, maybe changed a little */
static void mig_write(struct fuzz *f)
{
	bool next = rnd_below(4) && f->wpos < f->mlen;
	size_t len = next ? (rnd_below(2) ? f->mlen - f->wpos : 1 + rnd_below(f->mlen - f->wpos)) :
		     mig_len();
	void *p = next ? f->mbuf + f->wpos : mig_ptr(f, len, false);
	uint32_t i, flips = rnd_below(4) ? 0 : 1 + rnd_below(8);
	ssize_t n;

	for (i = 0; i < flips && f->mlen; i++)
		f->mbuf[rnd_below(f->mlen)] ^= 1 + rnd_below(255);
	n = write(f->data_fd, p, mig_room(f, p, len));
	if (n < 0) {
		f->errors++;
		return;
	}
	f->mig_written += n;
	if (next)
		f->wpos += n;
}

static void mig_data_fd_misc(struct fuzz *f)
{
	struct vfio_precopy_info info = {};
	struct pollfd pfd = { .fd = f->data_fd, .events = POLLIN | POLLOUT };

	switch (rnd_below(5)) {
	case 0:
		info.argsz = rnd_below(4) ? sizeof(info) : (uint32_t)rnd_interesting();
		info.flags = rnd_below(4) ? 0 : (uint32_t)rnd();
		if (ioctl(f->data_fd, VFIO_MIG_GET_PRECOPY_INFO, &info) < 0)
			f->errors++;
		break;
	case 1:
		poll(&pfd, 1, 0);
		break;
	case 2:
		if (lseek(f->data_fd, (off_t)rnd_interesting(), SEEK_SET) < 0)
			f->errors++;
		break;
	case 3:
		if (ioctl(f->data_fd, _IO(VFIO_TYPE, VFIO_BASE + rnd_below(40)), 0) < 0)
			f->errors++;
		break;
	default:
		close(f->data_fd);
		f->data_fd = -1;
	}
}

static int mig_feature(struct fuzz *f, uint32_t flags, void *data, size_t len)
{
	int ret = vfio_device_feature(f->d.fd, flags, data, len);

	if (ret)
		f->errors++;
	return ret;
}

/* An IOVA: mostly page-aligned below 64 GiB */
static uint64_t rnd_iova(void)
{
	return rnd_below(4) ? rnd_below(1ULL << 36) & ~0xfffULL : rnd_interesting();
}

/* Dirty-page tracking: random ranges and page sizes, reports into a bitmap */
static void mig_logging(struct fuzz *f)
{
	struct vfio_device_feature_dma_logging_range r[4];
	struct vfio_device_feature_dma_logging_control c = {};
	struct vfio_device_feature_dma_logging_report rep = {};
	uint32_t i, n = 1 + rnd_below(4);
	uint64_t ps = rnd_below(4) ? 4096ULL << (9 * rnd_below(2)) : rnd_interesting();

	switch (rnd_below(3)) {
	case 0:
		for (i = 0; i < n; i++) {
			r[i].iova = rnd_iova();
			r[i].length = rnd_below(4) ? (1 + rnd_below(4096)) * 4096ULL :
						     rnd_interesting();
		}
		c.page_size = ps;
		c.num_ranges = rnd_below(8) ? n : (uint32_t)rnd_interesting();
		c.ranges = rnd_below(8) ? (uintptr_t)r : (uintptr_t)rnd_interesting();
		mig_feature(f, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			    &c, sizeof(c));
		break;
	case 1:
		mig_feature(f, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
			    NULL, 0);
		break;
	default:
		rep.iova = rnd_iova();
		rep.page_size = ps;
		/* A bitmap as long as the report, or none the kernel may write */
		rep.length = rnd_below(4) ? ps * (1 + rnd_below(MIG_BITMAP * 8)) :
					    rnd_interesting();
		if (ps && ps < (1ULL << 40) && rep.length / ps / 8 < MIG_BITMAP)
			rep.bitmap = (uintptr_t)f->bitmap;
		else
			rep.bitmap = rnd_below(2) ? 0 : (uintptr_t)-4096;
		mig_feature(f, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
			    &rep, sizeof(rep));
	}
}

/* The simulated firmware misbehaves: failures, corruption, delays, detach */
static void mig_knob(struct fuzz *f)
{
	static const char * const ops[] = {
		"0x100", "0x115", "0x116", "0x117", "0x118", "0x119", "0x200", "0x202",
		"0xa00", "0xa01", "0xa02", "0xa03", "any", "none",
	};
	char v[48];

	switch (rnd_below(6)) {
	case 0:
		vfio_mlx5_knob_write(f->bdf, "fail_next", ops[rnd_below(ARRAY_SIZE(ops))]);
		break;
	case 1:
		vfio_mlx5_knob_write(f->bdf, rnd_below(2) ? "corrupt_next_save" :
				     "corrupt_next_save_page", rnd_below(2) ? "Y" : "N");
		break;
	case 2:
		vfio_mlx5_knob_write(f->bdf, "cmd_delay_ms", rnd_below(4) ? "0" : "1");
		break;
	case 3:
		vfio_mlx5_knob_write(f->bdf, "detached", rnd_below(3) ? "N" : "Y");
		break;
	case 4:
		vfio_mlx5_knob_write(f->bdf, "tracking", "N");
		break;
	default:
		/* the device writes guest memory (what the tracker must see) */
		snprintf(v, sizeof(v), "0x%llx %llu",
			 (unsigned long long)(rnd_below(1ULL << 32) & ~0xfffULL),
			 (unsigned long long)rnd_below(1 << 20));
		vfio_mlx5_knob_write(f->bdf, "dma_write", v);
	}
}

static void do_mig(struct fuzz *f)
{
	uint64_t size = 0;

	switch (rnd_below(16)) {
	case 0: case 1: case 2: case 3:
		mig_set_state(f);
		return;
	case 4:
		if (vfio_mig_get_state(&f->d) < 0)
			f->errors++;
		return;
	case 5:
		mig_feature(f, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
			    &size, sizeof(size));
		return;
	case 6: case 7:
		mig_logging(f);
		return;
	case 8:
		mig_knob(f);
		return;
	}
	if (f->data_fd < 0) {
		mig_set_state(f);
		return;
	}
	/* Mostly what the fd is for, sometimes the other */
	switch (rnd_below(7)) {
	case 0: case 1: case 2: case 3:
		if (f->resuming)
			mig_write(f);
		else
			mig_read(f);
		break;
	case 4:
		if (f->resuming)
			mig_read(f);
		else
			mig_write(f);
		break;
	default:
		mig_data_fd_misc(f);
	}
}

/* Knobs back to a well-behaved firmware, attached */
static void mig_knobs_off(const char *bdf)
{
	vfio_mlx5_knob_write(bdf, "fail_next", "none");
	vfio_mlx5_knob_write(bdf, "corrupt_next_save", "N");
	vfio_mlx5_knob_write(bdf, "corrupt_next_save_page", "N");
	vfio_mlx5_knob_write(bdf, "cmd_delay_ms", "0");
	vfio_mlx5_knob_write(bdf, "detached", "N");
}

/* After the storm, for -m: a reset gives RUNNING, and a whole stream saves */
static int mig_still_works(const char *bdf)
{
	struct vfio_dev d;
	ssize_t n = -1;
	int fd, ok;

	if (vfio_dev_open(&d, bdf))
		return 0;
	ok = !ioctl(d.fd, VFIO_DEVICE_RESET) &&
	     vfio_mig_get_state(&d) == VFIO_DEVICE_STATE_RUNNING &&
	     !vfio_mig_set_state(&d, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (ok) {
		n = vfio_mig_pump(fd, -1, false, NULL, NULL);
		close(fd);
		ok = n > 0 && !vfio_mig_set_state(&d, VFIO_DEVICE_STATE_RUNNING, NULL);
	}
	if (!ok)
		printf("# migration after the storm: state %d, stream %zd\n",
		       vfio_mig_get_state(&d), n);
	vfio_dev_close(&d);
	return ok;
}

static void one_call(struct fuzz *f)
{
	if (f->mig && !rnd_below(5)) {
		do_mig(f);
		f->calls++;
		return;
	}
	switch (rnd_below(16)) {
	case 0: case 1: case 2:
		do_rw(f, false);
		break;
	case 3: case 4: case 5:
		do_rw(f, true);
		break;
	case 6:
		do_mmap(f);
		break;
	case 7:
		do_ioctl_raw(f, VFIO_DEVICE_GET_INFO, sizeof(struct vfio_device_info));
		break;
	case 8:
		do_ioctl_raw(f, VFIO_DEVICE_GET_REGION_INFO, sizeof(struct vfio_region_info));
		break;
	case 9:
		do_ioctl_raw(f, VFIO_DEVICE_GET_IRQ_INFO, sizeof(struct vfio_irq_info));
		break;
	case 10: case 11:
		do_set_irqs(f);
		break;
	case 12:
		do_ioeventfd(f);
		break;
	case 13:
		do_feature(f);
		break;
	default:
		if (!rnd_below(8))
			do_misc(f);
		else
			do_rw(f, false);
	}
	f->calls++;
}

/* After the storm: the device must open again and answer sensibly */
static int device_still_works(const char *name, const char *bdf)
{
	char path[128], buf[16];
	struct vfio_dev d;
	unsigned int vendor = 0;
	uint32_t id;
	FILE *fp;
	int ok;

	if (vfio_dev_open(&d, bdf))
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	fp = fopen(path, "r");
	if (fp) {
		if (fgets(buf, sizeof(buf), fp))
			vendor = strtoul(buf, NULL, 16);
		fclose(fp);
	}
	ok = vfio_cfg_read16(&d, PCI_VENDOR_ID) == vendor && (d.info.flags & VFIO_DEVICE_FLAGS_PCI);
	if (ok && !strcmp(name, "edu")) {
		vfio_cmd_set(&d, PCI_COMMAND_MEMORY);
		ok = vfio_region_read(&d, 0, 0, &id, 4) == 4 && id == 0x010000ed;
	}
	vfio_dev_close(&d);
	return ok;
}

int main(int argc, char **argv)
{
	static const char * const all[] = { "edu", "e1000e", "nvme", "ivshmem" };
	const char *names[8];
	uint64_t calls = 100000, seed = 0;
	int i, c, n = 0, failed = 0, ndev;
	uint8_t *mbuf = NULL, *ro = NULL;
	uint64_t *bitmap = NULL;
	bool mlx5 = false;

	while ((c = getopt(argc, argv, "n:s:m")) != -1) {
		if (c == 'n')
			calls = strtoull(optarg, NULL, 0);
		else if (c == 's')
			seed = strtoull(optarg, NULL, 0);
		else if (c == 'm')
			mlx5 = true;
	}
	for (i = optind; i < argc && n < 8; i++)
		names[n++] = argv[i];
	if (!n)
		for (i = 0; i < 4; i++)
			names[n++] = all[i];
	if (!seed) {
		int fd = open("/dev/urandom", O_RDONLY);

		if (fd < 0 || read(fd, &seed, sizeof(seed)) != sizeof(seed))
			seed = 0x5eed;
		if (fd >= 0)
			close(fd);
		seed |= 1;
	}
	signal(SIGBUS, on_sigbus);
	signal(SIGSEGV, on_sigbus);
	if (mlx5) {
		mbuf = malloc(MIG_BUF);
		bitmap = malloc(2 * MIG_BITMAP);
		ro = mmap(NULL, MIG_BUF, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (!mbuf || !bitmap || ro == MAP_FAILED) {
			printf("Bail out! no memory for -m\n");
			return 1;
		}
	}

	printf("TAP version 13\n1..%d\n", n);
	printf("# seed %#" PRIx64 " (replay: fuzz_test -n %" PRIu64 " -s %#" PRIx64 "%s)\n",
	       seed, calls, seed, mlx5 ? " -m" : "");
	for (ndev = 0; ndev < n; ndev++) {
		const char *bdf = vfio_test_bdf(names[ndev]);
		struct fuzz f;
		uint64_t k;

		if (!bdf) {
			printf("ok %d fuzz.%s # SKIP not bound\n", ndev + 1, names[ndev]);
			continue;
		}
		memset(&f, 0, sizeof(f));
		f.name = names[ndev];
		f.bdf = bdf;
		f.data_fd = -1;
		f.mbuf = mbuf;
		f.ro = ro;
		f.bitmap = bitmap;
		rng_state = seed ^ (0x9e3779b97f4a7c15ULL * (ndev + 1));
		if (mlx5 && vfio_mlx5_bind(bdf)) {
			printf("not ok %d fuzz.%s binding to %s failed\n", ndev + 1,
			       names[ndev], VFIO_MLX5_DRV);
			failed++;
			continue;
		}
		if (vfio_dev_open(&f.d, bdf)) {
			printf("not ok %d fuzz.%s open failed\n", ndev + 1, names[ndev]);
			failed++;
			continue;
		}
		for (i = 0; i < 8; i++)
			f.efds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		refresh_regions(&f);
		if (mlx5) {
			struct vfio_device_feature_migration m = {};

			f.mig = !vfio_device_feature(f.d.fd, VFIO_DEVICE_FEATURE_GET |
						     VFIO_DEVICE_FEATURE_MIGRATION, &m, sizeof(m));
			if (!f.mig) {
				printf("not ok %d fuzz.%s offers no migration\n", ndev + 1,
				       names[ndev]);
				failed++;
				vfio_dev_close(&f.d);
				continue;
			}
		}
		for (k = 0; k < calls; k++)
			one_call(&f);
		for (i = 0; i < 8; i++)
			close(f.efds[i]);
		if (f.data_fd >= 0)
			close(f.data_fd);
		vfio_dev_close(&f.d);
		if (mlx5)
			mig_knobs_off(bdf);
		if (mlx5)
			printf("# %s: %" PRIu64 " state changes, %" PRIu64 " stream bytes read, %"
			       PRIu64 " written, %" PRIu64 " loads taken\n", names[ndev],
			       f.mig_sets, f.mig_read, f.mig_written, f.mig_loads);
		if (mlx5 && (!f.mig_sets || !f.mig_read || !f.mig_written)) {
			/* The storm must have reached the migration paths */
			printf("not ok %d fuzz.%s no stream moved\n", ndev + 1, names[ndev]);
			failed++;
		} else if (device_still_works(names[ndev], bdf) &&
			   (!mlx5 || mig_still_works(bdf))) {
			printf("ok %d fuzz.%s %" PRIu64 " calls, %" PRIu64 " refused\n",
			       ndev + 1, names[ndev], f.calls, f.errors);
		} else {
			printf("not ok %d fuzz.%s device unusable after %" PRIu64 " calls\n",
			       ndev + 1, names[ndev], f.calls);
			failed++;
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
