// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio_bench: stock Debian vfio-pci against ours on the same devices in the
 * same guest.  Rounds alternate the module sets (vfio-swap) and each metric's
 * median over the rounds is reported, with the ratio ours/stock and the
 * syscall floor (the same call on /dev/zero) where one applies.  Within a
 * round a per-call rate is the best of 10 batches, a large-BAR time the
 * best of 5 fresh mappings.
 *
 *   vfio_bench [-r ROUNDS]
 *   vfio_bench -m [-r ROUNDS]
 *
 * -m: mlx5-vfio-pci migration through the v2 data fd between simulated VFs
 * (pairs of ivshmem functions of 1, 16 and 64 MiB BAR2, mlx5-vfio-sim):
 * save and load throughput and the stop-copy time, beside a memcpy of the
 * same size in this guest.  There is no stock counterpart (Debian's
 * mlx5-vfio-pci needs a ConnectX), so the "stock" column is memcpy.
 *
 * Output: a table "metric | unit | stock | ours | ours/stock | floor", then
 * the same as tab-separated lines prefixed "@tsv" for scripts/bench.sh to
 * plot.  This is a benchmark: it asserts nothing about speed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "vfio_util.h"

#define MAX_ROUNDS 31
#define NMETRICS 32

enum { SET_STOCK, SET_OURS, NSETS };

struct metric {
	char *name;
	const char *unit;
	bool higher_better;
	double v[NSETS][MAX_ROUNDS];
	int n[NSETS];
	double floor;
};

static struct metric m[NMETRICS];
static int nm;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct metric *metric(const char *name, const char *unit, bool higher)
{
	int i;

	for (i = 0; i < nm; i++)
		if (!strcmp(m[i].name, name))
			return &m[i];
	if (nm == NMETRICS) {
		fprintf(stderr, "vfio_bench: more than %d metrics (%s)\n", NMETRICS, name);
		exit(1);
	}
	/* A copy: callers may build the name in a buffer of their own */
	m[nm].name = strdup(name);
	m[nm].unit = unit;
	m[nm].higher_better = higher;
	m[nm].floor = -1;
	return &m[nm++];
}

static void record(int set, const char *name, const char *unit, bool higher, double v)
{
	struct metric *x = metric(name, unit, higher);

	if (x->n[set] < MAX_ROUNDS)
		x->v[set][x->n[set]++] = v;
	/* Every sample, for a reader who wants the spread behind a median */
	printf("# sample %s %s %.3f %s\n", set == SET_STOCK ? "stock" : "ours",
	       name, v, unit);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double t[MAX_ROUNDS];

	if (!n)
		return -1;
	memcpy(t, v, n * sizeof(double));
	qsort(t, n, sizeof(double), cmp_d);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/*
 * Per-call rates are the best of BATCHES batches: a batch that the host
 * (this is a TCG guest on a shared machine) preempted or slowed says
 * nothing about the code under test, the fastest batch says the most.
 */
#define BATCHES 10

/*
 * Calls per second of 4-byte pread/pwrite on @fd, at @base, @base + 4, ...
 * up to @span bytes and round again (a @span of 4 stays at @base); every
 * batch starts over at @base.
 */
static double rate_rw(int fd, uint64_t base, uint32_t span, bool wr, int iters)
{
	double t0, best = -1;
	uint32_t v = 0, off;
	int b, i;

	for (b = 0; b < BATCHES; b++) {
		off = 0;
		t0 = now_s();
		for (i = 0; i < iters / BATCHES; i++) {
			if (wr ? pwrite(fd, &v, 4, base + off) != 4 :
				 pread(fd, &v, 4, base + off) != 4)
				return -1;
			off = (off + 4) % span;
		}
		t0 = (iters / BATCHES) / (now_s() - t0);
		if (t0 > best)
			best = t0;
	}
	return best;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* edu MSI: raise-to-eventfd-wakeup latency percentiles in microseconds */
static void msi_latency(struct vfio_dev *d, int set)
{
	enum { N = 400 };
	uint64_t lat[N];
	int32_t efd = eventfd(0, EFD_CLOEXEC);
	struct vfio_region_info bar;
	uint32_t one = 1;
	int i, got = 0;

	vfio_cmd_set(d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (vfio_region_info(d, 0, &bar) ||
	    vfio_irq_set_eventfds(d, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd)) {
		close(efd);
		return;
	}
	for (i = 0; i < N; i++) {
		double t0 = now_s();

		if (pwrite(d->fd, &one, 4, bar.offset + 0x60) != 4)
			break;
		if (!vfio_eventfd_wait(efd, 1000))
			break;
		lat[got++] = (uint64_t)((now_s() - t0) * 1e9);
		pwrite(d->fd, &one, 4, bar.offset + 0x64);
	}
	vfio_irq_disable(d, VFIO_PCI_MSI_IRQ_INDEX);
	close(efd);
	if (got < N / 2)
		return;
	qsort(lat, got, sizeof(lat[0]), cmp_u64);
	record(set, "MSI latency p50 (edu)", "us", false, lat[got / 2] / 1e3);
	record(set, "MSI latency p99 (edu)", "us", false, lat[got * 99 / 100] / 1e3);
}

/* SET_IRQS MSI-X enable+disable cycles per second with @nvec vectors */
static void msix_cycle(struct vfio_dev *d, int set, uint32_t nvec, const char *name)
{
	int32_t fds[16];
	struct vfio_irq_info ii;
	double t0;
	uint32_t i;
	int k, iters = 50;

	if (vfio_irq_info(d, VFIO_PCI_MSIX_IRQ_INDEX, &ii) || ii.count < nvec)
		return;
	for (i = 0; i < nvec; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	t0 = now_s();
	for (k = 0; k < iters; k++) {
		if (vfio_irq_set_eventfds(d, VFIO_PCI_MSIX_IRQ_INDEX, 0, nvec, fds) ||
		    vfio_irq_disable(d, VFIO_PCI_MSIX_IRQ_INDEX))
			break;
	}
	if (k == iters)
		record(set, name, "ms", false, (now_s() - t0) * 1e3 / iters);
	for (i = 0; i < nvec; i++)
		close(fds[i]);
}

static void open_close(const char *bdf, int set, const char *name)
{
	struct vfio_dev d;
	double t0;
	int k, iters = 20, fd;

	if (vfio_dev_open(&d, bdf))
		return;
	/* Keep the group and container; time device fd open+close */
	close(d.fd);
	d.fd = -1;
	t0 = now_s();
	for (k = 0; k < iters; k++) {
		fd = vfio_dev_reopen_fd(&d);
		if (fd < 0)
			break;
		close(fd);
	}
	if (k == iters)
		record(set, name, "ms", false, (now_s() - t0) * 1e3 / iters);
	vfio_dev_close(&d);
}

static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* @len bytes of BAR2 mapped at a 1 GiB-aligned address, or MAP_FAILED */
static void *map_bar2_aligned(struct vfio_dev *d, struct vfio_region_info *ri,
			      size_t len)
{
	const size_t align = 1UL << 30;
	uint8_t *area, *at;
	void *p;

	area = mmap(NULL, len + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		return MAP_FAILED;
	at = (uint8_t *)(((uintptr_t)area + align - 1) & ~(uintptr_t)(align - 1));
	munmap(area, len + align);
	p = mmap(at, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE,
		 d->fd, ri->offset);
	return p;
}

/*
 * A large BAR (ivshmem's BAR2): what a VM pays when it first maps it, and
 * what QEMU pays to map it for peer-to-peer DMA (VFIO_IOMMU_MAP_DMA over a
 * fresh mmap of the BAR: type1 faults it in to find the PFNs).  Each is
 * the best of LARGE_REPS fresh mappings, as the per-call rates are the
 * best of their batches: one map takes tens of milliseconds, in which a
 * TCG guest on a shared host is often preempted once.
 */
#define LARGE_REPS 5

/* Milliseconds to touch every 4 KiB page of a fresh mapping, or -1 */
static double first_touch(struct vfio_dev *d, struct vfio_region_info *ri,
			  long *faults, uint32_t *sum)
{
	volatile uint32_t *map;
	double t0, ms;
	long f0;
	size_t i;

	map = map_bar2_aligned(d, ri, ri->size);
	if (map == MAP_FAILED)
		return -1;
	f0 = minor_faults();
	t0 = now_s();
	for (i = 0; i < ri->size; i += 4096)
		*sum += map[i / 4];
	ms = (now_s() - t0) * 1e3;
	*faults = minor_faults() - f0;
	munmap((void *)map, ri->size);
	return ms;
}

/* Milliseconds of VFIO_IOMMU_MAP_DMA over a fresh mapping of @len, or -1 */
static double map_dma(struct vfio_dev *d, struct vfio_region_info *ri,
		      size_t len)
{
	void *map = map_bar2_aligned(d, ri, len);
	double t0, ms = -1;
	int rc;

	if (map == MAP_FAILED)
		return -1;
	t0 = now_s();
	/* IOVA 1 GiB: inside the emulated IOMMU's 39-bit space */
	rc = vfio_dma_map(d, map, 1UL << 30, len);
	if (!rc) {
		ms = (now_s() - t0) * 1e3;
		vfio_dma_unmap(d, 1UL << 30, len);
	} else {
		printf("# MAP_DMA over the BAR mmap failed: %d\n", rc);
	}
	munmap(map, len);
	return ms;
}

static void large_bar(const char *bdf, int set)
{
	const size_t dma_len = 64UL << 20;
	double touch = -1, dma = -1, ms;
	struct vfio_region_info ri;
	long faults = 0, f;
	struct vfio_dev d;
	uint32_t sum = 0;
	int k;

	if (!bdf || vfio_dev_open(&d, bdf))
		return;
	vfio_cmd_set(&d, PCI_COMMAND_MEMORY);
	if (vfio_region_info(&d, VFIO_PCI_BAR2_REGION_INDEX, &ri) || ri.size < dma_len)
		goto out;

	/* QEMU allocates the backend's host pages on first use: not timed */
	if (first_touch(&d, &ri, &f, &sum) < 0)
		goto out;
	for (k = 0; k < LARGE_REPS; k++) {
		ms = first_touch(&d, &ri, &f, &sum);
		if (ms < 0)
			goto out;
		if (touch < 0 || ms < touch)
			touch = ms;
		/* the most faults any mapping took, not the best */
		if (f > faults)
			faults = f;
		ms = map_dma(&d, &ri, dma_len);
		if (ms >= 0 && (dma < 0 || ms < dma))
			dma = ms;
	}
	record(set, "large BAR first touch (ivshmem 512 MiB)", "ms", false, touch);
	record(set, "large BAR faults (ivshmem 512 MiB)", "faults", false, faults);
	if (dma >= 0)
		record(set, "MAP_DMA of a fresh BAR mmap (64 MiB)", "ms", false, dma);
out:
	vfio_dev_close(&d);
	if (sum == 0xdeadbeef)
		printf("# %u\n", sum);
}

static void round_of(int set)
{
	const char *edu = vfio_test_bdf("edu"), *msix = vfio_test_bdf("nvme");
	struct vfio_region_info bar, cfg;
	struct vfio_dev d;

	if (edu && !vfio_dev_open(&d, edu)) {
		vfio_cmd_set(&d, PCI_COMMAND_MEMORY);
		if (!vfio_region_info(&d, VFIO_PCI_CONFIG_REGION_INDEX, &cfg)) {
			/* Header and capabilities */
			record(set, "config read (sweep)", "kcalls/s", true,
			       rate_rw(d.fd, cfg.offset, cfg.size > 256 ? 256 : cfg.size,
				       false, 20000) / 1e3);
			record(set, "config write (interrupt line)", "kcalls/s", true,
			       rate_rw(d.fd, cfg.offset + PCI_INTERRUPT_LINE, 4, true,
				       20000) / 1e3);
		}
		if (!vfio_region_info(&d, 0, &bar)) {
			record(set, "BAR pread 4B (edu)", "kcalls/s", true,
			       rate_rw(d.fd, bar.offset + 4, 4, false, 20000) / 1e3);
			record(set, "BAR pwrite 4B (edu)", "kcalls/s", true,
			       rate_rw(d.fd, bar.offset + 4, 4, true, 20000) / 1e3);
		}
		msi_latency(&d, set);
		vfio_dev_close(&d);
		open_close(edu, set, "open+close (edu)");
	}
	if (msix && !vfio_dev_open(&d, msix)) {
		vfio_cmd_set(&d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		msix_cycle(&d, set, 1, "MSI-X enable+disable, 1 vector (nvme)");
		msix_cycle(&d, set, 16, "MSI-X enable+disable, 16 vectors (nvme)");
		vfio_dev_close(&d);
		open_close(msix, set, "open+close (nvme)");
	}
	large_bar(vfio_test_bdf("ivshmem"), set);
}

static void floors(void)
{
	int fd = open("/dev/zero", O_RDWR);
	double r, w;
	int i;

	if (fd < 0)
		return;
	r = rate_rw(fd, 0, 4, false, 50000) / 1e3;
	w = rate_rw(fd, 0, 4, true, 50000) / 1e3;
	close(fd);
	for (i = 0; i < nm; i++) {
		if (strstr(m[i].name, "pread") || strstr(m[i].name, "config read"))
			m[i].floor = r;
		else if (strstr(m[i].name, "pwrite") || strstr(m[i].name, "config write"))
			m[i].floor = w;
	}
}

/* ---- mlx5-vfio-pci migration, against memcpy ---- */

#define MIB (1024UL * 1024)

/* MiB/s of a memcpy of @len bytes between two touched buffers */
static double memcpy_rate(uint8_t *to, const uint8_t *from, size_t len)
{
	double t0 = now_s();

	memcpy(to, from, len);
	/* Keep the copy: the compiler may not drop it */
	__asm__ volatile("" : : "r"(to) : "memory");
	return len / (now_s() - t0) / MIB;
}

/*
 * MiB/s of one kernel copy of @len bytes between two buffers of this
 * process: process_vm_readv() (@out: the kernel copies to user from pages
 * it pinned, as a data fd's read copies to user from its buffer) or
 * process_vm_writev() (it copies from user, as a data fd's write does).
 * No file system, no allocation: the most any data fd can move in this
 * guest with one copy per byte.  -errno when the call fails.
 */
static double kcopy_rate(uint8_t *to, uint8_t *from, size_t len, bool out)
{
	struct iovec local, remote;
	double t0, sec;
	ssize_t n;

	if (out) {
		local = (struct iovec){ .iov_base = to, .iov_len = len };
		remote = (struct iovec){ .iov_base = from, .iov_len = len };
	} else {
		local = (struct iovec){ .iov_base = from, .iov_len = len };
		remote = (struct iovec){ .iov_base = to, .iov_len = len };
	}
	t0 = now_s();
	if (out)
		n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	else
		n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	sec = now_s() - t0;
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? len / sec / MIB : -EIO;
}

/* Read all of a stop-copy stream of @d into @buf; bytes or -errno */
static ssize_t save_into(struct vfio_dev *d, uint8_t *buf, size_t cap)
{
	ssize_t n, len = 0;
	int fd, ret;

	ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (ret)
		return ret;
	while ((n = read(fd, buf + len, cap - len)) > 0)
		len += n;
	if (n < 0)
		len = -errno;
	else if ((size_t)len == cap)
		len = -ENOSPC;
	close(fd);
	ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL);
	return len < 0 ? len : ret ? ret : len;
}

/*
 * Stop-copy without pre-copy, data fd to data fd: from A's STOP_COPY
 * until B runs with the state loaded (the downtime of a migration that
 * skips pre-copy).  Seconds, or a negative errno.
 */
static double stop_copy(struct vfio_dev *a, struct vfio_dev *b)
{
	int sfd = -1, dfd = -1, ret;
	double t0;
	ssize_t n;

	ret = vfio_mig_set_state(b, VFIO_DEVICE_STATE_RESUMING, &dfd);
	if (ret)
		return ret;
	t0 = now_s();
	ret = vfio_mig_set_state(a, VFIO_DEVICE_STATE_STOP_COPY, &sfd);
	if (!ret) {
		n = vfio_mig_pump(sfd, dfd, false, NULL, NULL);
		ret = n < 0 ? n : vfio_mig_set_state(b, VFIO_DEVICE_STATE_STOP, NULL);
	}
	if (!ret)
		ret = vfio_mig_set_state(b, VFIO_DEVICE_STATE_RUNNING, NULL);
	t0 = now_s() - t0;
	if (sfd >= 0)
		close(sfd);
	close(dfd);
	if (!ret)
		ret = vfio_mig_set_state(a, VFIO_DEVICE_STATE_RUNNING, NULL);
	return ret ? ret : t0;
}

/*
 * The save and load rows once more, warm: each done twice in a row and
 * the second timed, beside the second of two memcpys in a row.  The
 * first rows start cold (the devices were just opened, and QEMU's TCG
 * flushes its soft TLB and jump cache when BARs are mapped), as a
 * migration does; these show what the same calls cost once TCG has them
 * at hand.  0 or -errno.
 */
static int mlx5_warm(struct vfio_dev *src, struct vfio_dev *dst, void *sbar,
		     void *dbar, uint64_t size, uint8_t *buf, uint8_t *copy,
		     const char *save_name, const char *load_name)
{
	ssize_t len = 0;
	double sec = 0;
	int i, ret;

	for (i = 0; i < 2; i++) {
		double t0 = now_s();

		len = save_into(src, buf, size + 8 * MIB);
		sec = now_s() - t0;
		if (len < 0)
			return len;
	}
	memcpy_rate(copy, buf, size);
	record(SET_STOCK, save_name, "MiB/s", true, memcpy_rate(copy, buf, size));
	record(SET_STOCK, load_name, "MiB/s", true, memcpy_rate(copy, buf, size));
	record(SET_OURS, save_name, "MiB/s", true, len / sec / MIB);
	for (i = 0; i < 2; i++) {
		double t0;

		memset(dbar, 0, size);
		t0 = now_s();
		ret = vfio_mig_load(dst, buf, len);
		if (!ret)
			ret = vfio_mig_set_state(dst, VFIO_DEVICE_STATE_RUNNING, NULL);
		sec = now_s() - t0;
		if (ret)
			return ret;
	}
	record(SET_OURS, load_name, "MiB/s", true, len / sec / MIB);
	return memcmp(sbar, dbar, size) ? -EBADMSG : 0;
}

/* One round of the migration rows for the pair with @size bytes of BAR2 */
static int mlx5_round(uint64_t size, uint8_t *buf, uint8_t *copy)
{
	const char *a, *b;
	struct vfio_dev src, dst;
	void *sbar = NULL, *dbar = NULL;
	uint64_t ssz = 0, dsz = 0, i;
	char name[7][80];
	double t0, sec;
	ssize_t len;
	int ret;

	if (!vfio_ivshmem_pair(size, &a, &b))
		return -ENOENT;
	ret = vfio_mlx5_open(a, &src, &sbar, &ssz);
	if (ret)
		return ret;
	ret = vfio_mlx5_open(b, &dst, &dbar, &dsz);
	if (ret)
		goto out_src;
	for (i = 0; i < size / 8; i++)
		((volatile uint64_t *)sbar)[i] = i * 0x9e3779b97f4a7c15ULL;

	snprintf(name[0], sizeof(name[0]), "mlx5 save via data fd (%lu MiB)", size / MIB);
	snprintf(name[1], sizeof(name[1]), "mlx5 load via data fd (%lu MiB)", size / MIB);
	snprintf(name[2], sizeof(name[2]), "mlx5 stop-copy time (%lu MiB)", size / MIB);
	snprintf(name[3], sizeof(name[3]), "one kernel copy to user (%lu MiB)", size / MIB);
	snprintf(name[4], sizeof(name[4]), "one kernel copy from user (%lu MiB)", size / MIB);
	snprintf(name[5], sizeof(name[5]), "mlx5 save via data fd, warm (%lu MiB)", size / MIB);
	snprintf(name[6], sizeof(name[6]), "mlx5 load via data fd, warm (%lu MiB)", size / MIB);

	/* The "stock" column: memcpy of the same size, here */
	record(SET_STOCK, name[0], "MiB/s", true, memcpy_rate(copy, buf, size));
	record(SET_STOCK, name[1], "MiB/s", true, memcpy_rate(buf, copy, size));
	t0 = now_s();
	memcpy(copy, buf, size);
	__asm__ volatile("" : : "r"(copy) : "memory");
	record(SET_STOCK, name[2], "ms", false, (now_s() - t0) * 1e3);
	/*
	 * What the guest's kernel copies cost, beside the same memcpy;
	 * i = 0: copy <- buf, to user; i = 1: buf <- copy, from user
	 */
	for (i = 0; i < 2; i++) {
		sec = kcopy_rate(i ? buf : copy, i ? copy : buf, size, !i);
		if (sec < 0) {
			ret = sec;
			goto out_dst;
		}
		record(SET_STOCK, name[3 + i], "MiB/s", true,
		       memcpy_rate(i ? buf : copy, i ? copy : buf, size));
		record(SET_OURS, name[3 + i], "MiB/s", true, sec);
	}

	t0 = now_s();
	len = save_into(&src, buf, size + 8 * MIB);
	sec = now_s() - t0;
	if (len < 0) {
		ret = len;
		goto out_dst;
	}
	record(SET_OURS, name[0], "MiB/s", true, len / sec / MIB);
	memset(dbar, 0, size);
	t0 = now_s();
	ret = vfio_mig_load(&dst, buf, len);
	if (!ret)
		ret = vfio_mig_set_state(&dst, VFIO_DEVICE_STATE_RUNNING, NULL);
	sec = now_s() - t0;
	if (ret)
		goto out_dst;
	record(SET_OURS, name[1], "MiB/s", true, len / sec / MIB);
	if (memcmp(sbar, dbar, size)) {
		ret = -EBADMSG;
		goto out_dst;
	}
	memset(dbar, 0, size);
	sec = stop_copy(&src, &dst);
	if (sec < 0) {
		ret = sec;
		goto out_dst;
	}
	record(SET_OURS, name[2], "ms", false, sec * 1e3);
	if (memcmp(sbar, dbar, size)) {
		ret = -EBADMSG;
		goto out_dst;
	}
	ret = mlx5_warm(&src, &dst, sbar, dbar, size, buf, copy, name[5], name[6]);
out_dst:
	vfio_mlx5_close(&dst, dbar, dsz);
out_src:
	vfio_mlx5_close(&src, sbar, ssz);
	return ret;
}

static int mlx5_bench(int rounds)
{
	static const uint64_t sizes[] = { 1 * MIB, 16 * MIB, 64 * MIB };
	size_t cap = 64 * MIB + 8 * MIB;
	uint8_t *buf, *copy;
	int r, i, ret;

	buf = malloc(cap);
	copy = malloc(cap);
	if (!buf || !copy)
		return -ENOMEM;
	/* Touched once, so no copy pays for page faults */
	memset(buf, 1, cap);
	memset(copy, 2, cap);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < 3; i++) {
			ret = mlx5_round(sizes[i], buf, copy);
			if (ret) {
				fprintf(stderr, "mlx5 migration of %lu MiB: %s\n",
					sizes[i] / MIB, strerror(-ret));
				return ret;
			}
		}
	}
	free(buf);
	free(copy);
	return 0;
}

static void report(int rounds, const char *col0, const char *ratio_name)
{
	int i;

	printf("%-42s %-9s %10s %10s %10s %10s\n", "metric", "unit", col0, "ours",
	       ratio_name, "floor");
	printf("@tsv\tmetric\tunit\tstock\tours\tratio\tfloor\thigher_better\n");
	for (i = 0; i < nm; i++) {
		double s = median(m[i].v[SET_STOCK], m[i].n[SET_STOCK]);
		double o = median(m[i].v[SET_OURS], m[i].n[SET_OURS]);
		double ratio = s > 0 ? o / s : 0;
		char fl[16] = "-";

		if (m[i].floor > 0)
			snprintf(fl, sizeof(fl), "%.1f", m[i].floor);
		printf("%-42s %-9s %10.2f %10.2f %10.2f %10s\n", m[i].name, m[i].unit, s, o,
		       ratio, fl);
		printf("@tsv\t%s\t%s\t%.3f\t%.3f\t%.3f\t%s\t%d\n", m[i].name, m[i].unit,
		       s, o, ratio, fl, m[i].higher_better);
	}
	printf("# %d rounds, medians; ratio = %s\n", rounds, ratio_name);
}

int main(int argc, char **argv)
{
	int rounds = 5, r, c;
	bool mlx5 = false;
	cpu_set_t cpus;

	while ((c = getopt(argc, argv, "mr:")) != -1) {
		if (c == 'r')
			rounds = atoi(optarg);
		else if (c == 'm')
			mlx5 = true;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "vfio_bench: -r takes 1 to %d rounds\n", MAX_ROUNDS);
		return 2;
	}

	/*
	 * One guest CPU for every sample: under TCG each vCPU is a host
	 * thread, and which one the scheduler picks moves per-call rates by
	 * a third, more than anything measured here.
	 */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		perror("sched_setaffinity");

	if (mlx5) {
		if (mlx5_bench(rounds))
			return 1;
		report(rounds, "memcpy", "ours/memcpy");
		return 0;
	}
	for (r = 0; r < rounds; r++) {
		/* alternate which set goes first to cancel drift */
		int first = r % 2 ? SET_OURS : SET_STOCK;
		int s;

		for (s = 0; s < 2; s++) {
			int set = s ? !first : first;

			if (system(set == SET_STOCK ? "vfio-swap stock" : "vfio-swap ours")) {
				fprintf(stderr, "vfio-swap failed\n");
				return 1;
			}
			round_of(set);
		}
	}
	system("vfio-swap ours");
	floors();
	report(rounds, "stock", "ours/stock");
	return 0;
}
