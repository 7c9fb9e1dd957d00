// SPDX-License-Identifier: GPL-2.0-only
/*
 * Behaviour the stock driver has and a replacement must keep, checked
 * against what the host sees of the function (its sysfs config file):
 * - close puts back the config the function had at open, including the
 *   AER masks and severities, DEVCTL and DEVCTL2 fields the user wrote;
 * - the max read request size is virtual and reaches the hardware only
 *   through the PCI core, never as a reserved encoding;
 * - the emulated PMCSR follows the function back to D0 after a reset,
 *   a function reset (VFIO_DEVICE_RESET) or a hot reset of its slot (nvme
 *   sits alone behind a root port of its own).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

/* The host's view of @len bytes of config space at @off */
static int host_cfg(const char *bdf, unsigned int off, void *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static uint16_t host16(struct __test_metadata *_metadata, const char *bdf,
		       unsigned int off)
{
	uint16_t v;

	ASSERT_EQ(0, host_cfg(bdf, off, &v, 2));
	return v;
}

static uint32_t host32(struct __test_metadata *_metadata, const char *bdf,
		       unsigned int off)
{
	uint32_t v;

	ASSERT_EQ(0, host_cfg(bdf, off, &v, 4));
	return v;
}

FIXTURE(restore) {
	struct vfio_dev d;
	const char *bdf;
	int exp, aer;
};

FIXTURE_SETUP(restore)
{
	/* e1000e: PCIe with AER, bound in the boot that runs this program */
	self->bdf = vfio_test_bdf("e1000e");
	ASSERT_NE(NULL, self->bdf);
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
	self->exp = vfio_cfg_find_cap(&self->d, PCI_CAP_ID_EXP);
	self->aer = vfio_cfg_find_ecap(&self->d, PCI_EXT_CAP_ID_ERR);
	ASSERT_NE(0, self->exp);
	ASSERT_NE(0, self->aer);
}

FIXTURE_TEARDOWN(restore)
{
	if (self->d.fd >= 0)
		vfio_dev_close(&self->d);
}

struct field {
	const char *name;
	unsigned int off;	/* relative to its capability */
	bool aer;		/* in the AER capability, else PCIe */
	unsigned int size;
	uint32_t flip;		/* bits the user toggles */
};

static const struct field fields[] = {
	{ "DEVCTL error reporting, RO, NoSnoop, ExtTag", PCI_EXP_DEVCTL, false, 2,
	  PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE |
	  PCI_EXP_DEVCTL_URRE | PCI_EXP_DEVCTL_RELAX_EN |
	  PCI_EXP_DEVCTL_NOSNOOP_EN | PCI_EXP_DEVCTL_EXT_TAG },
	{ "DEVCTL2 completion timeout", PCI_EXP_DEVCTL2, false, 2,
	  PCI_EXP_DEVCTL2_COMP_TIMEOUT | PCI_EXP_DEVCTL2_COMP_TMOUT_DIS },
	{ "AER uncorrectable mask", PCI_ERR_UNCOR_MASK, true, 4,
	  PCI_ERR_UNC_UNSUP | PCI_ERR_UNC_COMP_TIME | PCI_ERR_UNC_ECRC },
	{ "AER uncorrectable severity", PCI_ERR_UNCOR_SEVER, true, 4,
	  PCI_ERR_UNC_MALF_TLP | PCI_ERR_UNC_UNSUP | PCI_ERR_UNC_POISON_TLP },
	{ "AER correctable mask", PCI_ERR_COR_MASK, true, 4,
	  PCI_ERR_COR_RCVR | PCI_ERR_COR_BAD_TLP | PCI_ERR_COR_REP_TIMER },
};

TEST_F(restore, close_puts_back_the_config_of_open)
{
	uint32_t before[5], during[5], after[5];
	unsigned int i, off, changed = 0;
	int pcieaer = vfio_kconfig("CONFIG_PCIEAER");

	/*
	 * The PCI core saves and restores AER registers only when built with
	 * AER support; QEMU's e1000e hardwires the rest, so without it there
	 * is nothing this test can see.
	 */
	ASSERT_LE(0, pcieaer);
	if (pcieaer != 'y')
		SKIP(return, "kernel without CONFIG_PCIEAER keeps no AER state");

	for (i = 0; i < 5; i++) {
		off = (fields[i].aer ? self->aer : self->exp) + fields[i].off;
		before[i] = fields[i].size == 2 ? host16(_metadata, self->bdf, off) :
						  host32(_metadata, self->bdf, off);
		if (fields[i].size == 2)
			vfio_cfg_write16(&self->d, off,
					 vfio_cfg_read16(&self->d, off) ^ fields[i].flip);
		else
			vfio_cfg_write32(&self->d, off,
					 vfio_cfg_read32(&self->d, off) ^ fields[i].flip);
		during[i] = fields[i].size == 2 ? host16(_metadata, self->bdf, off) :
						  host32(_metadata, self->bdf, off);
		if (during[i] != before[i])
			changed++;
		TH_LOG("%s: 0x%x at open, 0x%x after the user's write",
		       fields[i].name, before[i], during[i]);
	}
	/*
	 * The user's writes reached the function, or there is nothing to
	 * test.  QEMU's e1000e hardwires DEVCTL, DEVCTL2 and part of the AER
	 * masks; its AER severity and correctable mask take the writes.
	 */
	ASSERT_GE(changed, 2);

	vfio_dev_close(&self->d);
	self->d.fd = -1;

	for (i = 0; i < 5; i++) {
		off = (fields[i].aer ? self->aer : self->exp) + fields[i].off;
		after[i] = fields[i].size == 2 ? host16(_metadata, self->bdf, off) :
						 host32(_metadata, self->bdf, off);
		EXPECT_EQ(before[i], after[i]) {
			TH_LOG("%s: 0x%x at open, 0x%x after close",
			       fields[i].name, before[i], after[i]);
		}
	}
}

TEST_F(restore, read_request_size_is_virtual)
{
	unsigned int off = self->exp + PCI_EXP_DEVCTL;
	uint16_t user, hw0, hw;

	user = vfio_cfg_read16(&self->d, off);
	hw0 = host16(_metadata, self->bdf, off);

	/* A reserved encoding: the user reads it back, the function never sees it */
	vfio_cfg_write16(&self->d, off, (user & ~PCI_EXP_DEVCTL_READRQ) | (7 << 12));
	EXPECT_EQ(7, (vfio_cfg_read16(&self->d, off) & PCI_EXP_DEVCTL_READRQ) >> 12);
	hw = host16(_metadata, self->bdf, off);
	EXPECT_EQ(hw0 & PCI_EXP_DEVCTL_READRQ, hw & PCI_EXP_DEVCTL_READRQ);

	/*
	 * Valid sizes read back as written.  What the function gets is the
	 * PCI core's choice (never below the payload size, within platform
	 * limits); QEMU hardwires the field, so only the user's view and the
	 * absence of reserved values are checked in hardware here.
	 */
	vfio_cfg_write16(&self->d, off, (user & ~PCI_EXP_DEVCTL_READRQ) | (5 << 12));
	EXPECT_EQ(5, (vfio_cfg_read16(&self->d, off) & PCI_EXP_DEVCTL_READRQ) >> 12);
	hw = host16(_metadata, self->bdf, off);
	EXPECT_GE(5, (hw & PCI_EXP_DEVCTL_READRQ) >> 12);
	vfio_cfg_write16(&self->d, off, user & ~PCI_EXP_DEVCTL_READRQ);
	EXPECT_EQ(0, vfio_cfg_read16(&self->d, off) & PCI_EXP_DEVCTL_READRQ);
	/* Other DEVCTL bits are untouched by the size writes */
	EXPECT_EQ(user & ~PCI_EXP_DEVCTL_READRQ,
		  vfio_cfg_read16(&self->d, off) & ~PCI_EXP_DEVCTL_READRQ);
}

FIXTURE(pmcsr) {
	struct vfio_dev d;
	int pm;
};

FIXTURE_SETUP(pmcsr)
{
	/* nvme: a PM capability and a function-level reset */
	const char *bdf = vfio_test_bdf("nvme");

	ASSERT_NE(NULL, bdf);
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	ASSERT_TRUE(self->d.info.flags & VFIO_DEVICE_FLAGS_RESET);
	self->pm = vfio_cfg_find_cap(&self->d, PCI_CAP_ID_PM);
	ASSERT_NE(0, self->pm);
}

FIXTURE_TEARDOWN(pmcsr)
{
	vfio_dev_close(&self->d);
}

/* Put the function in D3hot through the emulated PMCSR */
static void enter_d3hot(struct __test_metadata *_metadata, struct vfio_dev *d,
			unsigned int ctrl)
{
	uint16_t v = vfio_cfg_read16(d, ctrl);

	ASSERT_EQ(0, v & PCI_PM_CTRL_STATE_MASK);
	vfio_cfg_write16(d, ctrl, (v & ~PCI_PM_CTRL_STATE_MASK) | 3);
	ASSERT_EQ(3, vfio_cfg_read16(d, ctrl) & PCI_PM_CTRL_STATE_MASK);
}

/* Back in D0 as the user reads it, and the function answers: CAP not ~0 */
static void expect_d0(struct __test_metadata *_metadata, struct vfio_dev *d,
		      unsigned int ctrl)
{
	uint32_t cap = 0xffffffff;

	EXPECT_EQ(0, vfio_cfg_read16(d, ctrl) & PCI_PM_CTRL_STATE_MASK);
	EXPECT_EQ(4, vfio_region_read(d, VFIO_PCI_BAR0_REGION_INDEX, 0, &cap, 4));
	EXPECT_NE(0xffffffff, cap);
}

TEST_F(pmcsr, reset_brings_the_emulated_state_back_to_d0)
{
	unsigned int ctrl = self->pm + PCI_PM_CTRL;

	enter_d3hot(_metadata, &self->d, ctrl);
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	expect_d0(_metadata, &self->d, ctrl);
}

TEST_F(pmcsr, hot_reset_brings_the_emulated_state_back_to_d0)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		int32_t fd;
	} r = { .hdr = { .argsz = sizeof(r), .count = 1 } };
	unsigned int ctrl = self->pm + PCI_PM_CTRL;

	r.fd = self->d.group;
	enter_d3hot(_metadata, &self->d, ctrl);
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_PCI_HOT_RESET, &r));
	expect_d0(_metadata, &self->d, ctrl);
}

TEST_HARNESS_MAIN
