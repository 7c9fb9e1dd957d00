// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault-injection sweep: each failure point on a path fails in turn
 * (/proc/self/task/<tid>/fail-nth), and the path must either succeed or
 * return an errno, never crash, leak (the debug kernel's kmemleak scan
 * checks) or leave the device broken.  Paths: device open, SET_IRQS (MSI
 * and MSI-X enable), region info with capabilities, region I/O.
 *
 * The points are the library's own (CONFIG_VFIO_PCI_CORE_FAULT_INJECTION:
 * every allocation, irq, vector, eventfd and resource request it makes)
 * plus user copies (CONFIG_FAULT_INJECTION_USERCOPY).  Slab and page
 * allocations are left out of the count: failing those everywhere also
 * fails them inside the irq core, ACPI and the page allocator's callers,
 * whose own error paths warn, and that is not what this test is about.
 * Skipped where the module was built without the option (Debian's kernel
 * has no fault injection).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define MAX_NTH 400
#define FAIL_DIR "/sys/kernel/debug/fail_vfio_pci_core"

static int nth_fd = -1;

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static bool fail_nth_setup(void)
{
	char path[64];

	if (nth_fd >= 0)
		return true;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", (long)syscall(SYS_gettid));
	if (access(FAIL_DIR, F_OK))
		return false;
	nth_fd = open(path, O_RDWR);
	if (nth_fd < 0)
		return false;
	/*
	 * Only our points and user copies count: failslab fails nothing
	 * with its cache filter on and no cache marked, fail_page_alloc
	 * nothing above the largest order.
	 */
	if (write_str("/sys/kernel/debug/failslab/cache-filter", "Y") ||
	    write_str("/sys/kernel/debug/fail_page_alloc/min-order", "64") ||
	    write_str(FAIL_DIR "/verbose", "0")) {
		close(nth_fd);
		nth_fd = -1;
		return false;
	}
	/* Present only with CONFIG_FAULT_INJECTION_USERCOPY */
	write_str("/sys/kernel/debug/fail_usercopy/verbose", "0");
	return true;
}

static void arm(int nth)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", nth);

	pwrite(nth_fd, buf, n, 0);
}

/* True when the armed failure was not reached (the path finished first) */
static bool disarm(void)
{
	char buf[16] = "";

	pread(nth_fd, buf, sizeof(buf) - 1, 0);
	pwrite(nth_fd, "0", 1, 0);
	return atoi(buf) != 0;
}

static bool device_ok(const char *bdf)
{
	struct vfio_dev d;
	bool ok;

	if (vfio_dev_open(&d, bdf))
		return false;
	ok = d.info.flags & VFIO_DEVICE_FLAGS_PCI;
	vfio_dev_close(&d);
	return ok;
}

/*
 * The errnos an injected failure may surface as: those the library's points
 * stand for (allocation, busy irq or resource, no vector, bad eventfd,
 * device enable or ROM mapping) and a failed user copy; vfio_util reports
 * a group link it could not read (a user copy failed in readlink) as
 * ENODEV.  Anything else means a failure was turned into the wrong answer
 * on its way out.
 */
static bool injected_errno(int err)
{
	switch (err) {
	case ENOMEM: case EBUSY: case ENOSPC: case EBADF: case EFAULT: case EIO:
	case ENODEV:
		return true;
	default:
		return false;
	}
}

/* Regions of @d whose info (capabilities included) can be read */
static uint32_t count_region_infos(struct vfio_dev *d)
{
	struct vfio_region_info *ri;
	uint32_t idx, n = 0;

	for (idx = 0; idx < d->info.num_regions; idx++) {
		if (!vfio_region_info_full(d, idx, &ri)) {
			free(ri);
			n++;
		}
	}
	return n;
}

FIXTURE(failnth) {
	const char *bdf;
};

FIXTURE_VARIANT(failnth) {
	const char *name;
};

FIXTURE_VARIANT_ADD(failnth, edu) { .name = "edu" };
FIXTURE_VARIANT_ADD(failnth, e1000e) { .name = "e1000e" };

FIXTURE_SETUP(failnth)
{
	self->bdf = vfio_test_bdf(variant->name);
	if (!self->bdf)
		SKIP(return, "no %s device bound", variant->name);
	if (!fail_nth_setup())
		SKIP(return, "no fault injection (CONFIG_VFIO_PCI_CORE_FAULT_INJECTION)");
}

FIXTURE_TEARDOWN(failnth)
{
}

TEST_F_TIMEOUT(failnth, device_open, 600)
{
	int nth, ret, reached = 0;

	for (nth = 1; nth < MAX_NTH; nth++) {
		struct vfio_dev d;

		arm(nth);
		ret = vfio_dev_open(&d, self->bdf);
		if (disarm()) {
			ASSERT_EQ(0, ret);
			vfio_dev_close(&d);
			break;
		}
		reached++;
		if (!ret)
			vfio_dev_close(&d);
		else
			EXPECT_TRUE(injected_errno(-ret)) TH_LOG("nth %d: %s", nth, strerror(-ret));
		ASSERT_TRUE(device_ok(self->bdf));
	}
	TH_LOG("%d injected failures on the open path", reached);
	EXPECT_LT(nth, MAX_NTH);
	/* At least device enable and the config snapshot are points */
	EXPECT_GE(reached, 2);
}

TEST_F_TIMEOUT(failnth, set_irqs, 600)
{
	struct vfio_irq_info msi, msix;
	struct vfio_dev d;
	int32_t fds[4];
	int nth, i, ret, idx, n, reached = 0;

	ASSERT_EQ(0, vfio_dev_open(&d, self->bdf));
	ASSERT_EQ(0, vfio_irq_info(&d, VFIO_PCI_MSI_IRQ_INDEX, &msi));
	ASSERT_EQ(0, vfio_irq_info(&d, VFIO_PCI_MSIX_IRQ_INDEX, &msix));
	idx = msix.count ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	n = msix.count ? (msix.count < 4 ? msix.count : 4) : 1;
	for (i = 0; i < 4; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	vfio_cmd_set(&d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	for (nth = 1; nth < MAX_NTH; nth++) {
		arm(nth);
		ret = vfio_irq_set_eventfds(&d, idx, 0, n, fds);
		if (disarm()) {
			ASSERT_EQ(0, ret);
			break;
		}
		reached++;
		if (ret)
			EXPECT_TRUE(injected_errno(-ret)) TH_LOG("nth %d: %s", nth, strerror(-ret));
		vfio_irq_disable(&d, idx);
	}
	TH_LOG("%d injected failures on the SET_IRQS path", reached);
	EXPECT_LT(nth, MAX_NTH);
	/* Context, name, eventfd, vectors, irq: at least one point each */
	EXPECT_GE(reached, 5);
	/* The interrupt works after all those failures */
	EXPECT_EQ(0, vfio_irq_set_none(&d, idx, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_NE(0, vfio_eventfd_wait(fds[0], 1000));
	EXPECT_EQ(0, vfio_irq_disable(&d, idx));
	for (i = 0; i < 4; i++)
		close(fds[i]);
	vfio_dev_close(&d);
}

TEST_F_TIMEOUT(failnth, region_paths, 600)
{
	struct vfio_dev d;
	uint8_t cfg[64];
	uint32_t v, want, infos;
	ssize_t ret, ret2;
	int nth, reached = 0;

	ASSERT_EQ(0, vfio_dev_open(&d, self->bdf));
	vfio_cmd_set(&d, PCI_COMMAND_MEMORY);
	/* Regions that have info at all (no VGA region on these devices) */
	want = count_region_infos(&d);
	ASSERT_LT(0, want);
	for (nth = 1; nth < MAX_NTH; nth++) {
		arm(nth);
		infos = count_region_infos(&d);
		ret = vfio_region_read(&d, 0, 0, &v, 4);
		/* A config read longer than the on-stack buffer */
		ret2 = vfio_region_read(&d, VFIO_PCI_CONFIG_REGION_INDEX, 0,
					cfg, sizeof(cfg));
		if (disarm()) {
			ASSERT_EQ(4, ret);
			ASSERT_EQ((ssize_t)sizeof(cfg), ret2);
			ASSERT_EQ(want, infos);
			break;
		}
		reached++;
	}
	TH_LOG("%d injected failures on the region paths", reached);
	EXPECT_LT(nth, MAX_NTH);
	EXPECT_GE(reached, 2);
	vfio_dev_close(&d);
	EXPECT_TRUE(device_ok(self->bdf));
}

TEST_HARNESS_MAIN
