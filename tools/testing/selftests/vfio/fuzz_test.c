// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO device fuzzer.  On each bound device, issues random and mutated
 * calls: every device ioctl with random argsz/flags/index/start/count/data,
 * reads and writes at random offsets and sizes across all regions, mmaps of
 * random ranges and protections (touched under a SIGBUS guard), device
 * features, resets, close and reopen.  Everything derives from a seed that
 * is printed, so a failure replays with -s SEED.
 *
 *   fuzz_test [-n CALLS] [-s SEED] [device...]
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

static void one_call(struct fuzz *f)
{
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

	while ((c = getopt(argc, argv, "n:s:")) != -1) {
		if (c == 'n')
			calls = strtoull(optarg, NULL, 0);
		else if (c == 's')
			seed = strtoull(optarg, NULL, 0);
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

	printf("TAP version 13\n1..%d\n", n);
	printf("# seed %#" PRIx64 " (replay: fuzz_test -n %" PRIu64 " -s %#" PRIx64 ")\n",
	       seed, calls, seed);
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
		rng_state = seed ^ (0x9e3779b97f4a7c15ULL * (ndev + 1));
		if (vfio_dev_open(&f.d, bdf)) {
			printf("not ok %d fuzz.%s open failed\n", ndev + 1, names[ndev]);
			failed++;
			continue;
		}
		for (i = 0; i < 8; i++)
			f.efds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		refresh_regions(&f);
		for (k = 0; k < calls; k++)
			one_call(&f);
		for (i = 0; i < 8; i++)
			close(f.efds[i]);
		vfio_dev_close(&f.d);
		if (device_still_works(names[ndev], bdf)) {
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
