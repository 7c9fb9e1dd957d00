// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio_demo: a readable tour of a device bound to vfio-pci, for `make demo`.
 *
 *   vfio_demo NAME BDF
 *   vfio_demo mlx5-migrate BDF_A BDF_B
 *
 * Opens the device through /dev/vfio, prints what VFIO reports about it
 * (info, regions, interrupts), reads a BAR register, delivers an interrupt
 * to an eventfd and, for edu, round-trips a buffer through the device's DMA
 * engine behind the IOMMU.
 *
 * mlx5-migrate binds two ivshmem functions to mlx5_vfio_pci with simulated
 * PF halves (mlx5-vfio-sim), writes a pattern into A's BAR2 and live
 * migrates A to B through the v2 uAPI: pre-copy, a few pages changed while
 * A runs, stop-copy, B resumed; then compares the two BAR2s.
 *
 * Exits non-zero if any step fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "vfio_util.h"

static const char * const region_names[] = {
	"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "config", "VGA",
};

static const char * const irq_names[] = {
	"INTx", "MSI", "MSI-X", "ERR", "REQ",
};

static int failures;

static void step(bool ok, const char *what)
{
	printf("  [%s] %s\n", ok ? " ok " : "FAIL", what);
	if (!ok)
		failures++;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void show_regions(struct vfio_dev *d)
{
	uint32_t i;

	printf("regions:\n");
	for (i = 0; i < d->info.num_regions; i++) {
		struct vfio_region_info ri;
		const char *name = i < 9 ? region_names[i] : "device-specific";

		if (vfio_region_info(d, i, &ri)) {
			/* VGA exists only on VGA-class devices */
			if (errno != EINVAL || i != VFIO_PCI_VGA_REGION_INDEX)
				printf("  %-7s (error %s)\n", name, strerror(errno));
			continue;
		}
		if (!ri.size)
			continue;
		printf("  %-7s size %#10llx  offset %#14llx  %s%s%s%s\n", name,
		       (unsigned long long)ri.size, (unsigned long long)ri.offset,
		       ri.flags & VFIO_REGION_INFO_FLAG_READ ? "read " : "",
		       ri.flags & VFIO_REGION_INFO_FLAG_WRITE ? "write " : "",
		       ri.flags & VFIO_REGION_INFO_FLAG_MMAP ? "mmap " : "",
		       ri.flags & VFIO_REGION_INFO_FLAG_CAPS ? "caps" : "");
	}
}

static void show_irqs(struct vfio_dev *d)
{
	uint32_t i;

	printf("interrupts:\n");
	for (i = 0; i < d->info.num_irqs && i < 5; i++) {
		struct vfio_irq_info ii;

		if (vfio_irq_info(d, i, &ii))
			continue;
		printf("  %-5s count %3u  %s%s%s%s\n", irq_names[i], ii.count,
		       ii.flags & VFIO_IRQ_INFO_EVENTFD ? "eventfd " : "",
		       ii.flags & VFIO_IRQ_INFO_MASKABLE ? "maskable " : "",
		       ii.flags & VFIO_IRQ_INFO_AUTOMASKED ? "automasked " : "",
		       ii.flags & VFIO_IRQ_INFO_NORESIZE ? "noresize" : "");
	}
}

static uint32_t bar_rd32(struct vfio_dev *d, int bar, uint64_t off)
{
	uint32_t v = 0xffffffff;

	if (vfio_region_read(d, bar, off, &v, 4) != 4)
		return 0xffffffff;
	return v;
}

static void bar_wr32(struct vfio_dev *d, int bar, uint64_t off, uint32_t v)
{
	vfio_region_write(d, bar, off, &v, 4);
}

/* Arm MSI vector 0, make the device fire it with @fire, time the delivery */
static void msi_roundtrip(struct vfio_dev *d, void (*fire)(struct vfio_dev *d))
{
	int32_t efd = eventfd(0, EFD_CLOEXEC);
	double t0, t1;
	uint64_t n;
	char msg[128];

	vfio_cmd_set(d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	step(vfio_irq_set_eventfds(d, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd) == 0,
	     "SET_IRQS: MSI vector 0 -> eventfd");
	t0 = now_us();
	fire(d);
	n = vfio_eventfd_wait(efd, 2000);
	t1 = now_us();
	snprintf(msg, sizeof(msg), "MSI delivered to the eventfd (count %" PRIu64 ", %.0f us)",
		 n, t1 - t0);
	step(n > 0, msg);
	step(vfio_irq_disable(d, VFIO_PCI_MSI_IRQ_INDEX) == 0, "SET_IRQS: MSI disabled");
	close(efd);
}

static void edu_fire(struct vfio_dev *d)
{
	bar_wr32(d, 0, 0x60, 0x1);	/* raise interrupt, status bit 0 */
}

static void e1000e_fire(struct vfio_dev *d)
{
	bar_wr32(d, 0, 0xd0, 0x4);	/* IMS: link status change */
	bar_wr32(d, 0, 0xc8, 0x4);	/* ICS: cause it */
}

static void edu_tour(struct vfio_dev *d)
{
	uint32_t id = bar_rd32(d, 0, 0x0), live;
	const size_t sz = 4096;
	const uint64_t iova = 0x100000;
	char msg[128], *buf;
	int i;

	snprintf(msg, sizeof(msg), "BAR0[0x00] identification = %#010x (edu is 0x010000ed)", id);
	step(id == 0x010000ed, msg);
	bar_wr32(d, 0, 0x04, 0x12345678);
	live = bar_rd32(d, 0, 0x04);
	snprintf(msg, sizeof(msg), "BAR0[0x04] liveness: wrote 0x12345678, read %#010x", live);
	step(live == ~0x12345678u, msg);

	msi_roundtrip(d, edu_fire);
	bar_wr32(d, 0, 0x64, 0x1);	/* acknowledge */

	/* DMA: RAM -> edu buffer -> RAM, through the IOMMU mapping */
	buf = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		step(false, "allocate DMA buffer");
		return;
	}
	for (i = 0; i < 64; i++)
		buf[i] = (char)(i * 7 + 1);
	step(vfio_dma_map(d, buf, iova, sz) == 0, "IOMMU: map 4 KiB at IOVA 0x100000");
	/* RAM -> edu's buffer -> the page's second half */
	step(vfio_edu_dma_copy(d->fd, (uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40,
			       iova, iova + 2048, 64) == 0,
	     "DMA: edu's engine ran both transfers");
	for (i = 0; i < 64 && buf[2048 + i] == (char)(i * 7 + 1); i++)
		;
	step(i == 64, "DMA: 64 bytes RAM -> edu -> RAM came back intact");
	vfio_dma_unmap(d, iova, sz);
	munmap(buf, sz);
}

static void e1000e_tour(struct vfio_dev *d)
{
	uint32_t status = bar_rd32(d, 0, 0x8);
	char msg[128];

	snprintf(msg, sizeof(msg), "BAR0[0x08] STATUS = %#010x", status);
	step(status != 0xffffffff, msg);
	msi_roundtrip(d, e1000e_fire);
	bar_rd32(d, 0, 0xc0);		/* ICR: read to clear */
}

/* ---- mlx5-vfio-pci live migration ---- */

static void mlx5_status(const char *who, const char *bdf)
{
	char st[128] = "?";

	vfio_sysfs_read(bdf, VFIO_MLX5_STATUS, st, sizeof(st));
	printf("  %s %s %s: %s\n", who, bdf, VFIO_MLX5_STATUS, st);
}

/* Step @d from its state to @to, printed; 0 or -errno */
static int mig_step(const char *who, struct vfio_dev *d, uint32_t to, int *data_fd)
{
	int from = vfio_mig_get_state(d), ret;
	char msg[128];

	ret = vfio_mig_set_state(d, to, data_fd);
	snprintf(msg, sizeof(msg), "%s: %s -> %s%s%s", who, vfio_mig_state_name(from),
		 vfio_mig_state_name(to), ret ? ": " : "", ret ? strerror(-ret) : "");
	step(!ret, msg);
	return ret;
}

/* Pump the source's data fd into the destination's, printing the phase */
static ssize_t mig_phase(const char *phase, int sfd, int dfd, bool precopy)
{
	double t0 = now_us(), us;
	char msg[160];
	ssize_t n;

	n = vfio_mig_pump(sfd, dfd, precopy, NULL, NULL);
	us = now_us() - t0;
	if (n < 0) {
		snprintf(msg, sizeof(msg), "%s: %s", phase, strerror(-n));
		step(false, msg);
		return n;
	}
	snprintf(msg, sizeof(msg), "%-9s %10zd bytes in %8.1f ms", phase, n, us / 1e3);
	if (n >= 1 << 20)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " (%.0f MiB/s)",
			 n / (us / 1e6) / (1 << 20));
	step(true, msg);
	return n;
}

/* A pattern that names the byte's offset, so a wrong place shows too */
static void pattern(volatile uint64_t *p, uint64_t size)
{
	uint64_t i;

	for (i = 0; i < size / 8; i++)
		p[i] = 0x6d6c7835ULL << 32 ^ i * 0x9e3779b97f4a7c15ULL;
}

static int mlx5_migrate(const char *a, const char *b)
{
	struct vfio_device_feature_migration mf = {};
	struct vfio_precopy_info info;
	struct vfio_dev src, dst;
	uint64_t size = 0, dsize = 0, off;
	void *sbar = NULL, *dbar = NULL;
	int ret, sfd = -1, dfd = -1, i;
	double t0, downtime;
	char msg[160];
	bool same;

	printf("\n== mlx5-vfio-pci live migration: A %s -> B %s\n", a, b);
	ret = vfio_mlx5_open(a, &src, &sbar, &size);
	snprintf(msg, sizeof(msg), "A: bound to %s, simulated PF half, opened, BAR2 %llu MiB",
		 VFIO_MLX5_DRV, (unsigned long long)(size >> 20));
	step(!ret, msg);
	if (ret)
		return 1;
	ret = vfio_mlx5_open(b, &dst, &dbar, &dsize);
	snprintf(msg, sizeof(msg), "B: bound to %s, simulated PF half, opened, BAR2 %llu MiB",
		 VFIO_MLX5_DRV, (unsigned long long)(dsize >> 20));
	step(!ret && dsize == size, msg);
	if (ret)
		goto out_src;
	if (dsize != size)
		goto out;
	mlx5_status("A", a);
	mlx5_status("B", b);
	ret = vfio_device_feature(src.fd, VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_MIGRATION, &mf, sizeof(mf));
	snprintf(msg, sizeof(msg), "A offers migration:%s%s%s",
		 mf.flags & VFIO_MIGRATION_STOP_COPY ? " STOP_COPY" : "",
		 mf.flags & VFIO_MIGRATION_P2P ? " P2P" : "",
		 mf.flags & VFIO_MIGRATION_PRE_COPY ? " PRE_COPY" : "");
	step(!ret && mf.flags & VFIO_MIGRATION_PRE_COPY, msg);

	pattern(sbar, size);
	memset(dbar, 0, size);
	snprintf(msg, sizeof(msg), "A: pattern written into BAR2 (%llu MiB); B's BAR2 zeroed",
		 (unsigned long long)(size >> 20));
	step(memcmp(sbar, dbar, size) != 0, msg);

	t0 = now_us();
	if (mig_step("B", &dst, VFIO_DEVICE_STATE_RESUMING, &dfd) ||
	    mig_step("A", &src, VFIO_DEVICE_STATE_PRE_COPY, &sfd))
		goto out;
	if (!vfio_mig_precopy_info(sfd, &info))
		printf("         pre-copy info: initial %llu bytes, dirty %llu bytes\n",
		       (unsigned long long)info.initial_bytes,
		       (unsigned long long)info.dirty_bytes);
	if (mig_phase("pre-copy", sfd, dfd, true) < 0)
		goto out;
	/* A keeps running: a few pages change after pre-copy sent them */
	for (i = 0; i < 4; i++) {
		off = size / 4 * i + 8 * i;
		((volatile uint64_t *)sbar)[off / 8] = ~0ULL - i;
	}
	if (!vfio_mig_precopy_info(sfd, &info))
		printf("         A wrote 4 pages while running: dirty %llu bytes\n",
		       (unsigned long long)info.dirty_bytes);
	downtime = now_us();
	if (mig_step("A", &src, VFIO_DEVICE_STATE_STOP_COPY, NULL) ||
	    mig_phase("stop-copy", sfd, dfd, false) < 0 ||
	    mig_step("B", &dst, VFIO_DEVICE_STATE_STOP, NULL) ||
	    mig_step("B", &dst, VFIO_DEVICE_STATE_RUNNING, NULL))
		goto out;
	downtime = now_us() - downtime;
	close(sfd);
	sfd = -1;
	mig_step("A", &src, VFIO_DEVICE_STATE_STOP, NULL);
	printf("         downtime (A stopped until B runs) %.1f ms, whole migration %.1f ms\n",
	       downtime / 1e3, (now_us() - t0) / 1e3);
	mlx5_status("B", b);
	same = !memcmp(sbar, dbar, size);
	printf("  BAR2 of B equals A: %s\n", same ? "yes" : "NO");
	if (!same)
		failures++;
	mig_step("A", &src, VFIO_DEVICE_STATE_RUNNING, NULL);
out:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	vfio_mlx5_close(&dst, dbar, dsize);
out_src:
	vfio_mlx5_close(&src, sbar, size);
	printf("mlx5 migration: %s\n", failures ? "FAILED" : "all steps passed");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct vfio_dev d;
	int ret;

	if (argc == 4 && !strcmp(argv[1], "mlx5-migrate"))
		return mlx5_migrate(argv[2], argv[3]);
	if (argc != 3) {
		fprintf(stderr, "usage: %s NAME BDF | mlx5-migrate BDF_A BDF_B\n", argv[0]);
		return 2;
	}
	printf("\n== %s at %s (IOMMU group %d)\n", argv[1], argv[2], vfio_group_of(argv[2]));
	ret = vfio_dev_open(&d, argv[2]);
	if (ret) {
		printf("  [FAIL] open through /dev/vfio: %s\n", strerror(-ret));
		return 1;
	}
	printf("  [ ok ] opened /dev/vfio/vfio, /dev/vfio/%d, device fd %d\n", d.groupno, d.fd);
	printf("device: flags%s%s, %u regions, %u irq indexes\n",
	       d.info.flags & VFIO_DEVICE_FLAGS_PCI ? " PCI" : "",
	       d.info.flags & VFIO_DEVICE_FLAGS_RESET ? " RESET" : "",
	       d.info.num_regions, d.info.num_irqs);
	show_regions(&d);
	show_irqs(&d);
	printf("config: vendor %04x device %04x class %06x\n",
	       vfio_cfg_read16(&d, PCI_VENDOR_ID), vfio_cfg_read16(&d, PCI_DEVICE_ID),
	       vfio_cfg_read32(&d, PCI_CLASS_REVISION) >> 8);
	if (!strcmp(argv[1], "edu"))
		edu_tour(&d);
	else if (!strcmp(argv[1], "e1000e"))
		e1000e_tour(&d);
	vfio_dev_close(&d);
	printf("%s: %s\n", argv[1], failures ? "FAILED" : "all steps passed");
	return failures ? 1 : 0;
}
