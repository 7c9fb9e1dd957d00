// SPDX-License-Identifier: GPL-2.0-only
/*
 * Power management: idle D3hot of unused functions, the
 * VFIO_DEVICE_FEATURE_LOW_POWER_* features and D-state changes through the
 * emulated PM capability.
 *
 * The power state is read from sysfs: power_state (D0, D3hot, ...) and
 * power/runtime_status (active, suspended).  Transitions are asynchronous,
 * so the tests poll for them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define WAIT_MS		5000

FIXTURE(power) {
	struct vfio_dev d;
	int pm;			/* PM capability offset, 0 if none */
};

FIXTURE_VARIANT(power) {
	const char *name;
	uint32_t id_reg;	/* BAR0 register with a constant value */
};

/* e1000e: STATUS is never all-ones; nvme: VS, the version */
FIXTURE_VARIANT_ADD(power, e1000e) { .name = "e1000e", .id_reg = 0x8 };
FIXTURE_VARIANT_ADD(power, nvme) { .name = "nvme", .id_reg = 0x8 };

/*
 * Offset of standard capability @id in the host's view of config space
 * (sysfs), 0 if none: which capabilities the hardware has, independent of
 * what the emulated config space shows.
 */
static int host_find_cap(const char *bdf, uint8_t id)
{
	uint8_t cfg[256];
	char path[128];
	int fd, guard;
	uint8_t pos;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	if (read(fd, cfg, sizeof(cfg)) != sizeof(cfg)) {
		close(fd);
		return 0;
	}
	close(fd);
	if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	pos = cfg[PCI_CAPABILITY_LIST] & ~3;
	for (guard = 0; pos && guard < 48; guard++) {
		if (cfg[pos] == id)
			return pos;
		pos = cfg[pos + 1] & ~3;
	}
	return 0;
}

FIXTURE_SETUP(power)
{
	const char *bdf = vfio_test_bdf(variant->name);

	self->d.fd = -1;
	self->d.group = -1;
	self->d.container = -1;
	if (!bdf)
		SKIP(return, "no %s device bound", variant->name);
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	self->pm = host_find_cap(bdf, PCI_CAP_ID_PM);
}

FIXTURE_TEARDOWN(power)
{
	vfio_dev_close(&self->d);
}

/* Poll <attr> until it reads @want; true when it did within @ms */
static bool sysfs_wait(const char *bdf, const char *attr, const char *want,
		       int ms)
{
	char buf[64];
	int waited;

	for (waited = 0; waited <= ms; waited += 10) {
		if (!vfio_sysfs_read(bdf, attr, buf, sizeof(buf)) && !strcmp(buf, want))
			return true;
		usleep(10000);
	}
	fprintf(stderr, "# %s/%s is \"%s\", not \"%s\"\n", bdf, attr,
		vfio_sysfs_read(bdf, attr, buf, sizeof(buf)) ? "?" : buf, want);
	return false;
}

/* @attr reads @want now and for the next @ms */
static bool sysfs_stays(const char *bdf, const char *attr, const char *want,
			int ms)
{
	char buf[64];
	int waited;

	for (waited = 0; waited <= ms; waited += 10) {
		if (vfio_sysfs_read(bdf, attr, buf, sizeof(buf)) || strcmp(buf, want)) {
			fprintf(stderr, "# %s/%s became \"%s\", not \"%s\"\n",
				bdf, attr, buf, want);
			return false;
		}
		usleep(10000);
	}
	return true;
}

static int feature(struct vfio_dev *d, uint32_t flags, const void *data,
		   size_t len)
{
	size_t sz = sizeof(struct vfio_device_feature) + len;
	struct vfio_device_feature *f = calloc(1, sz);
	int ret;

	if (!f)
		return -ENOMEM;
	f->argsz = sz;
	f->flags = flags;
	if (len)
		memcpy(f->data, data, len);
	ret = ioctl(d->fd, VFIO_DEVICE_FEATURE, f) ? -errno : 0;
	free(f);
	return ret;
}

static int low_power(struct vfio_dev *d, uint32_t which)
{
	return feature(d, VFIO_DEVICE_FEATURE_SET | which, NULL, 0);
}

static int low_power_wakeup(struct vfio_dev *d, int32_t fd, uint32_t reserved)
{
	struct vfio_device_low_power_entry_with_wakeup e = {
		.wakeup_eventfd = fd,
		.reserved = reserved,
	};

	return feature(d, VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
		       &e, sizeof(e));
}

static int get_info(struct vfio_dev *d)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	return ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info) ? -errno : 0;
}

/* Read a BAR0 register, turning memory decode on first */
static ssize_t bar0_read32(struct vfio_dev *d, uint32_t off, uint32_t *v)
{
	vfio_cmd_set(d, PCI_COMMAND_MEMORY);
	return vfio_region_read(d, VFIO_PCI_BAR0_REGION_INDEX, off, v, 4);
}

/* Expect a suspended function: runtime PM says so, and D3hot with a PM cap */
static void expect_suspended(struct __test_metadata *_metadata,
			     const char *bdf, bool has_pm)
{
	EXPECT_TRUE(sysfs_wait(bdf, "power/runtime_status", "suspended",
			       WAIT_MS));
	if (has_pm)
		EXPECT_TRUE(sysfs_wait(bdf, "power_state", "D3hot", WAIT_MS));
}

/* Expect an awake function, in D0, that stays so for @ms */
static void expect_awake(struct __test_metadata *_metadata, const char *bdf,
			 int ms)
{
	EXPECT_TRUE(sysfs_stays(bdf, "power/runtime_status", "active", ms));
	EXPECT_TRUE(sysfs_stays(bdf, "power_state", "D0", 0));
}

TEST_F(power, idle_d3_while_closed)
{
	char bdf[32];

	snprintf(bdf, sizeof(bdf), "%s", self->d.bdf);
	expect_awake(_metadata, self->d.bdf, 200);

	vfio_dev_close(&self->d);
	EXPECT_TRUE(sysfs_wait(bdf, "power/runtime_status", "suspended",
			       WAIT_MS));
	if (self->pm)
		EXPECT_TRUE(sysfs_wait(bdf, "power_state", "D3hot", WAIT_MS));

	/* Opening wakes it, and it stays awake while open */
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	expect_awake(_metadata, self->d.bdf, 200);
}

TEST_F(power, low_power_entry_and_exit)
{
	uint32_t before = 0, after = 0;

	ASSERT_EQ(4, bar0_read32(&self->d, variant->id_reg, &before));
	ASSERT_NE(0xffffffff, before);

	ASSERT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	expect_suspended(_metadata, self->d.bdf, self->pm);

	/* An ioctl wakes the function for its duration, then it sleeps again */
	EXPECT_EQ(0, get_info(&self->d));
	expect_suspended(_metadata, self->d.bdf, self->pm);

	ASSERT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	expect_awake(_metadata, self->d.bdf, 300);

	ASSERT_EQ(4, bar0_read32(&self->d, variant->id_reg, &after));
	EXPECT_EQ(before, after);
}

TEST_F(power, low_power_entry_twice)
{
	int efd = eventfd(0, EFD_NONBLOCK);

	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	EXPECT_EQ(-EINVAL, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	EXPECT_EQ(-EINVAL, low_power_wakeup(&self->d, efd, 0));
	EXPECT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	expect_awake(_metadata, self->d.bdf, 200);
	/* Plain entry has no eventfd to signal */
	EXPECT_EQ(0, vfio_eventfd_wait(efd, 0));
	close(efd);
}

TEST_F(power, low_power_exit_without_entry)
{
	EXPECT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	EXPECT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	expect_awake(_metadata, self->d.bdf, 200);
}

TEST_F(power, low_power_feature_flags)
{
	struct vfio_device_low_power_entry_with_wakeup e = {};
	int nullfd, efd;
	uint32_t f;

	for (f = VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;
	     f <= VFIO_DEVICE_FEATURE_LOW_POWER_EXIT; f++) {
		EXPECT_EQ(0, feature(&self->d, VFIO_DEVICE_FEATURE_PROBE |
				     VFIO_DEVICE_FEATURE_SET | f, NULL, 0));
		EXPECT_EQ(-EINVAL, feature(&self->d, VFIO_DEVICE_FEATURE_PROBE |
					  VFIO_DEVICE_FEATURE_GET | f, NULL, 0));
		EXPECT_EQ(-EINVAL, feature(&self->d, VFIO_DEVICE_FEATURE_GET | f,
					   NULL, 0));
		/* Neither GET, SET nor PROBE */
		EXPECT_EQ(-EINVAL, feature(&self->d, f, NULL, 0));
	}

	/* The wake-up entry needs its whole payload, and a real eventfd */
	EXPECT_EQ(-EINVAL, feature(&self->d, VFIO_DEVICE_FEATURE_SET |
				  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
				  &e, 4));
	EXPECT_EQ(-EINVAL, low_power_wakeup(&self->d, -1, 0));
	nullfd = open("/dev/null", O_RDWR);
	ASSERT_GE(nullfd, 0);
	EXPECT_EQ(-EINVAL, low_power_wakeup(&self->d, nullfd, 0));
	close(nullfd);
	EXPECT_EQ(-EBADF, low_power_wakeup(&self->d, 1000, 0));
	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_GE(efd, 0);
	EXPECT_EQ(-EINVAL, low_power_wakeup(&self->d, efd, 1));
	close(efd);

	/* None of that engaged low power: a fresh entry works */
	EXPECT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	EXPECT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
}

TEST_F(power, low_power_wakeup)
{
	int efd = eventfd(0, EFD_NONBLOCK);
	uint32_t v;

	ASSERT_GE(efd, 0);

	/* An ioctl after suspension wakes the function and signals once */
	ASSERT_EQ(0, low_power_wakeup(&self->d, efd, 0));
	expect_suspended(_metadata, self->d.bdf, self->pm);
	EXPECT_EQ(0, vfio_eventfd_wait(efd, 0));
	EXPECT_EQ(0, get_info(&self->d));
	EXPECT_EQ(1, vfio_eventfd_wait(efd, 1000));
	/* Single shot: it stays awake and exit has nothing left to do */
	expect_awake(_metadata, self->d.bdf, 300);
	EXPECT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	EXPECT_EQ(0, vfio_eventfd_wait(efd, 0));

	/* Re-armed; the exit itself is the wake-up this time */
	ASSERT_EQ(0, low_power_wakeup(&self->d, efd, 0));
	expect_suspended(_metadata, self->d.bdf, self->pm);
	EXPECT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	EXPECT_EQ(1, vfio_eventfd_wait(efd, 1000));
	expect_awake(_metadata, self->d.bdf, 300);

	ASSERT_EQ(4, bar0_read32(&self->d, variant->id_reg, &v));
	EXPECT_NE(0xffffffff, v);
	close(efd);
}

TEST_F(power, pmcsr_d3hot_and_back)
{
	uint32_t before = 0, v = 0;
	uint16_t pmcsr;

	if (!self->pm)
		SKIP(return, "%s has no PM capability", variant->name);

	ASSERT_EQ(4, bar0_read32(&self->d, variant->id_reg, &before));
	pmcsr = vfio_cfg_read16(&self->d, self->pm + PCI_PM_CTRL);
	ASSERT_EQ(0, pmcsr & PCI_PM_CTRL_STATE_MASK);

	vfio_cfg_write16(&self->d, self->pm + PCI_PM_CTRL,
			 (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | 3);
	EXPECT_EQ(3, vfio_cfg_read16(&self->d, self->pm + PCI_PM_CTRL) &
		  PCI_PM_CTRL_STATE_MASK);
	EXPECT_TRUE(sysfs_wait(self->d.bdf, "power_state", "D3hot", WAIT_MS));
	/* No BAR access reaches a function in D3hot */
	EXPECT_GT(0, vfio_region_read(&self->d, VFIO_PCI_BAR0_REGION_INDEX,
				      variant->id_reg, &v, 4));

	vfio_cfg_write16(&self->d, self->pm + PCI_PM_CTRL,
			 pmcsr & ~PCI_PM_CTRL_STATE_MASK);
	EXPECT_EQ(0, vfio_cfg_read16(&self->d, self->pm + PCI_PM_CTRL) &
		  PCI_PM_CTRL_STATE_MASK);
	EXPECT_TRUE(sysfs_wait(self->d.bdf, "power_state", "D0", WAIT_MS));

	/* Back in D0 (config restored if it was lost): BARs answer again */
	ASSERT_EQ(4, bar0_read32(&self->d, variant->id_reg, &v));
	EXPECT_EQ(before, v);
}

/* ---- BAR mappings while the function cannot answer ---------------------- */

/* Page 0 of BAR0 mapped, its @id_reg readable through the mapping */
static volatile uint32_t *map_bar0(struct __test_metadata *_metadata,
				   struct vfio_dev *d, uint32_t id_reg,
				   uint32_t *val)
{
	struct vfio_region_info ri;
	volatile uint32_t *p;

	if (vfio_region_info(d, VFIO_PCI_BAR0_REGION_INDEX, &ri) ||
	    !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return NULL;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, ri.offset);
	if (p == MAP_FAILED)
		return NULL;
	vfio_cmd_set(d, PCI_COMMAND_MEMORY);
	if (vfio_probe_read32(p + id_reg / 4, val)) {
		munmap((void *)p, 4096);
		return NULL;
	}
	return p;
}

/*
 * D3hot through PMCSR: the populated mapping is zapped and every access
 * raises SIGBUS until the function is back in D0; then the same mapping
 * reads the same register again.
 */
TEST_F(power, mmap_across_pmcsr_d3hot)
{
	volatile uint32_t *p;
	uint32_t before, v;
	uint16_t pmcsr;

	ASSERT_NE(0, self->pm);
	p = map_bar0(_metadata, &self->d, variant->id_reg, &before);
	ASSERT_NE(NULL, p);
	pmcsr = vfio_cfg_read16(&self->d, self->pm + PCI_PM_CTRL);
	vfio_cfg_write16(&self->d, self->pm + PCI_PM_CTRL,
			 (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | 3);
	EXPECT_TRUE(sysfs_wait(self->d.bdf, "power_state", "D3hot", WAIT_MS));
	EXPECT_EQ(-1, vfio_probe_read32(p + variant->id_reg / 4, &v));
	EXPECT_EQ(-1, vfio_probe_write32(p, 0));

	vfio_cfg_write16(&self->d, self->pm + PCI_PM_CTRL,
			 pmcsr & ~PCI_PM_CTRL_STATE_MASK);
	EXPECT_TRUE(sysfs_wait(self->d.bdf, "power_state", "D0", WAIT_MS));
	ASSERT_EQ(0, vfio_probe_read32(p + variant->id_reg / 4, &v));
	EXPECT_EQ(before, v);
	munmap((void *)p, 4096);
}

/*
 * LOW_POWER_ENTRY: the same, from entry until exit; accessing the mapping
 * does not wake the function (only ioctls do)
 */
TEST_F(power, mmap_across_low_power)
{
	volatile uint32_t *p;
	uint32_t before, v;

	p = map_bar0(_metadata, &self->d, variant->id_reg, &before);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	expect_suspended(_metadata, self->d.bdf, self->pm);
	EXPECT_EQ(-1, vfio_probe_read32(p + variant->id_reg / 4, &v));
	EXPECT_EQ(-1, vfio_probe_write32(p, 0));
	expect_suspended(_metadata, self->d.bdf, self->pm);

	ASSERT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	expect_awake(_metadata, self->d.bdf, 100);
	ASSERT_EQ(0, vfio_probe_read32(p + variant->id_reg / 4, &v));
	EXPECT_EQ(before, v);
	munmap((void *)p, 4096);
}

TEST_HARNESS_MAIN
