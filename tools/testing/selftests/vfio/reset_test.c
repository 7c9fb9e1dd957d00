// SPDX-License-Identifier: GPL-2.0-only
/*
 * Resets: VFIO_DEVICE_RESET, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and
 * VFIO_DEVICE_PCI_HOT_RESET.
 *
 * e1000e and nvme sit alone below a PCIe root port of their own (see
 * scripts/guest-run.sh), so they have a function reset (FLR) and a
 * slot/bus reset that touches only themselves.  edu is a conventional PCI
 * function on the root bus: no reset method and no hot reset.
 *
 * A reset is observed through a device register written through BAR0 that
 * the reset returns to zero: e1000e FCAL (flow control address low), nvme
 * CC (controller configuration, written without the enable bit).  QEMU 7.2's
 * e1000e has no FLR and sets NoSoftRst- in PMCSR, so its function reset is
 * the PM (D3hot->D0) reset, which QEMU does not model: the call succeeds
 * and the register keeps its value.  nvme resets through FLR.
 *
 * A hot reset of the slot/bus ends by waiting for the root port's link to
 * come back.  QEMU 7.2 root ports at their default 16 GT/s never report Data
 * Link Layer Link Active afterwards, and pci_reset_bus() then returns
 * -ENOTTY ("Data Link Layer Link Active not set" in dmesg); at 5 GT/s
 * (x-speed=5, as guest-run.sh builds them) it succeeds, so here a hot reset
 * that fails is a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

FIXTURE(reset) {
	struct vfio_dev d;
	unsigned int seg, bus, slot, fn;
	bool methods_changed;	/* sysfs reset_method needs "default" back */
};

FIXTURE_VARIANT(reset) {
	const char *name;
	bool has_reset;		/* a function reset method exists */
	bool reset_clears;	/* ... and it resets the register below */
	bool hot_reset;		/* alone below a bridge: slot/bus reset */
	uint32_t reg;		/* BAR0 register the reset clears */
	uint32_t val;		/* a value it keeps until then */
};

FIXTURE_VARIANT_ADD(reset, e1000e) {
	.name = "e1000e", .has_reset = true, .reset_clears = false,
	.hot_reset = true,
	.reg = 0x28, .val = 0x00c28001,
};

FIXTURE_VARIANT_ADD(reset, nvme) {
	.name = "nvme", .has_reset = true, .reset_clears = true,
	.hot_reset = true,
	.reg = 0x14, .val = 0x00460000,
};

FIXTURE_VARIANT_ADD(reset, edu) {
	.name = "edu", .has_reset = false, .hot_reset = false,
};

FIXTURE_SETUP(reset)
{
	const char *bdf = vfio_test_bdf(variant->name);
	int fields;

	self->d.fd = -1;
	self->d.group = -1;
	self->d.container = -1;
	if (!bdf)
		SKIP(return, "no %s device bound", variant->name);
	fields = sscanf(bdf, "%x:%x:%x.%x", &self->seg, &self->bus,
			&self->slot, &self->fn);
	ASSERT_EQ(4, fields);
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
}

FIXTURE_TEARDOWN(reset)
{
	if (self->methods_changed)
		vfio_sysfs_write(self->d.bdf, "reset_method", "default");
	vfio_dev_close(&self->d);
}

static uint32_t bar0_read32(struct vfio_dev *d, uint32_t off)
{
	uint32_t v = 0xdeadbeef;

	if (vfio_region_read(d, VFIO_PCI_BAR0_REGION_INDEX, off, &v, 4) != 4)
		return 0xdeadbeef;
	return v;
}

static int bar0_write32(struct vfio_dev *d, uint32_t off, uint32_t v)
{
	return vfio_region_write(d, VFIO_PCI_BAR0_REGION_INDEX, off, &v, 4) == 4 ? 0 : -1;
}

/* Put register @reg in a non-reset state, @val, and check it stuck */
static void dirty_register(struct __test_metadata *_metadata,
			   struct vfio_dev *d, uint32_t reg, uint32_t val)
{
	vfio_cmd_set(d, PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, bar0_write32(d, reg, val));
	ASSERT_EQ(val, bar0_read32(d, reg));
}

static void check_register_reset(struct __test_metadata *_metadata,
				 struct vfio_dev *d, uint32_t reg)
{
	vfio_cmd_set(d, PCI_COMMAND_MEMORY);
	EXPECT_EQ(0, bar0_read32(d, reg));
}

static struct vfio_pci_hot_reset_info *hot_reset_info(struct vfio_dev *d,
						      uint32_t entries,
						      int *err)
{
	size_t sz = sizeof(struct vfio_pci_hot_reset_info) +
		    entries * sizeof(struct vfio_pci_dependent_device);
	struct vfio_pci_hot_reset_info *info = calloc(1, sz);

	*err = ENOMEM;
	if (!info)
		return NULL;
	info->argsz = sz;
	*err = ioctl(d->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info) ? errno : 0;
	return info;
}

/* VFIO_DEVICE_PCI_HOT_RESET with the given fds; returns 0 or -errno */
static int hot_reset(struct vfio_dev *d, const int32_t *fds, uint32_t count,
		     uint32_t flags, uint32_t argsz_cut)
{
	size_t sz = sizeof(struct vfio_pci_hot_reset) + count * sizeof(int32_t);
	struct vfio_pci_hot_reset *r = calloc(1, sz);
	int ret;

	if (!r)
		return -ENOMEM;
	r->argsz = sz - argsz_cut;
	r->flags = flags;
	r->count = count;
	if (count)
		memcpy(r->group_fds, fds, count * sizeof(int32_t));
	ret = ioctl(d->fd, VFIO_DEVICE_PCI_HOT_RESET, r) ? -errno : 0;
	free(r);
	return ret;
}

TEST_F(reset, info_flag)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(variant->has_reset, !!(info.flags & VFIO_DEVICE_FLAGS_RESET));
}

/*
 * Whether a reset is offered is what the reset at open did: with every
 * method switched off in sysfs before the open there is none this session
 * (VFIO_DEVICE_RESET: EINVAL), and the next open offers it again once the
 * methods are back.
 */
TEST_F(reset, flag_decided_at_open)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char bdf[32];

	if (!variant->has_reset)
		SKIP(return, "no reset method to switch off");
	snprintf(bdf, sizeof(bdf), "%s", self->d.bdf);
	vfio_dev_close(&self->d);
	ASSERT_EQ(0, vfio_sysfs_write(bdf, "reset_method", "\n"));
	self->methods_changed = true;
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_FALSE(info.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ(-EINVAL, ioctl(self->d.fd, VFIO_DEVICE_RESET) ? -errno : 0);

	ASSERT_EQ(0, vfio_sysfs_write(bdf, "reset_method", "default"));
	self->methods_changed = false;
	vfio_dev_close(&self->d);
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	info.argsz = sizeof(info);
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET) ? -errno : 0);
}

/*
 * Function 0 of the two-function slot lists "bus" among its methods (the
 * PCI core probed it before function 1 appeared), but a bus reset of one
 * function among several always fails: no reset is offered.
 */
TEST(pair0_listed_bus_reset_fails)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	const char *bdf = vfio_test_bdf("pair0");
	char methods[64];
	struct vfio_dev d;

	if (!bdf)
		SKIP(return, "no pair bound");
	ASSERT_EQ(0, vfio_sysfs_read(bdf, "reset_method", methods, sizeof(methods)));
	if (strcmp(methods, "bus"))
		SKIP(return, "pair0's reset methods are \"%s\", not \"bus\"", methods);
	ASSERT_EQ(0, vfio_dev_open(&d, bdf));
	ASSERT_EQ(0, ioctl(d.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_FALSE(info.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ(-EINVAL, ioctl(d.fd, VFIO_DEVICE_RESET) ? -errno : 0);
	vfio_dev_close(&d);
}

TEST_F(reset, device_reset)
{
	if (!variant->has_reset) {
		EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_RESET));
		EXPECT_EQ(EINVAL, errno);
		return;
	}

	dirty_register(_metadata, &self->d, variant->reg, variant->val);
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	if (variant->reset_clears)
		check_register_reset(_metadata, &self->d, variant->reg);

	/* Resetting again works, and the device keeps answering */
	dirty_register(_metadata, &self->d, variant->reg, variant->val);
	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	if (variant->reset_clears)
		check_register_reset(_metadata, &self->d, variant->reg);
	dirty_register(_metadata, &self->d, variant->reg, variant->val);
}

TEST_F(reset, hot_reset_info)
{
	struct vfio_pci_hot_reset_info *info;
	bool found = false;
	uint32_t i;
	int err;

	info = hot_reset_info(&self->d, 32, &err);
	ASSERT_NE(NULL, info);
	if (!variant->hot_reset) {
		EXPECT_EQ(ENODEV, err);
		free(info);
		return;
	}
	ASSERT_EQ(0, err);
	EXPECT_EQ(0, info->flags);
	ASSERT_GE(info->count, 1);
	ASSERT_LE(info->count, 32);
	for (i = 0; i < info->count; i++) {
		struct vfio_pci_dependent_device *dep = &info->devices[i];

		if (dep->segment == self->seg && dep->bus == self->bus &&
		    dep->devfn == ((self->slot << 3) | self->fn)) {
			EXPECT_FALSE(found);
			found = true;
			EXPECT_EQ(self->d.groupno, dep->group_id);
		}
	}
	EXPECT_TRUE(found);
	free(info);
}

TEST_F(reset, hot_reset_info_enospc)
{
	struct vfio_pci_hot_reset_info *info;
	int err;

	/* Room for no entry at all */
	info = hot_reset_info(&self->d, 0, &err);
	ASSERT_NE(NULL, info);
	if (!variant->hot_reset) {
		EXPECT_EQ(ENODEV, err);
	} else {
		EXPECT_EQ(ENOSPC, err);
		EXPECT_GE(info->count, 1);
	}
	free(info);

	/* Flags are output only: what the caller left there is not echoed */
	if (variant->hot_reset) {
		struct vfio_pci_hot_reset_info hdr = {
			.argsz = sizeof(hdr), .flags = ~0u,
		};

		EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hdr));
		EXPECT_EQ(ENOSPC, errno);
		EXPECT_EQ(0, hdr.flags);
	}
}

TEST_F(reset, hot_reset_info_short_argsz)
{
	struct vfio_pci_hot_reset_info info = { .argsz = 8 };

	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(reset, hot_reset_bad_requests)
{
	int32_t fds[1] = { self->d.group };
	int32_t *many;
	int nullfd;

	/* Header errors come first, whatever the topology */
	EXPECT_EQ(-EINVAL, hot_reset(&self->d, NULL, 0, 0, 0));
	EXPECT_EQ(-EINVAL, hot_reset(&self->d, fds, 1, 1, 0));
	EXPECT_EQ(-EINVAL, hot_reset(&self->d, fds, 1, 0,
				     sizeof(struct vfio_pci_hot_reset) + 4));

	if (!variant->hot_reset) {
		EXPECT_EQ(-ENODEV, hot_reset(&self->d, fds, 1, 0, 0));
		return;
	}

	/* The fd array does not fit in argsz */
	EXPECT_EQ(-EINVAL, hot_reset(&self->d, fds, 1, 0, 4));

	/* Absurd counts are refused before anything is copied */
	many = calloc(1000, sizeof(*many));
	ASSERT_NE(NULL, many);
	EXPECT_EQ(-EINVAL, hot_reset(&self->d, many, 1000, 0, 0));
	free(many);

	/* A fd that is open but not a vfio group */
	fds[0] = self->d.fd;
	EXPECT_EQ(-EINVAL, hot_reset(&self->d, fds, 1, 0, 0));
	nullfd = open("/dev/null", O_RDWR);
	ASSERT_GE(nullfd, 0);
	fds[0] = nullfd;
	EXPECT_EQ(-EINVAL, hot_reset(&self->d, fds, 1, 0, 0));
	close(nullfd);

	/* A fd number that is not open */
	fds[0] = 1000;
	EXPECT_EQ(-EBADF, hot_reset(&self->d, fds, 1, 0, 0));
	fds[0] = -1;
	EXPECT_EQ(-EBADF, hot_reset(&self->d, fds, 1, 0, 0));
}

TEST_F(reset, hot_reset_own_group)
{
	int32_t fds[1] = { self->d.group };
	int ret;

	if (!variant->hot_reset) {
		EXPECT_EQ(-ENODEV, hot_reset(&self->d, fds, 1, 0, 0));
		return;
	}

	dirty_register(_metadata, &self->d, variant->reg, variant->val);
	ret = hot_reset(&self->d, fds, 1, 0, 0);
	ASSERT_EQ(0, ret);
	check_register_reset(_metadata, &self->d, variant->reg);
	/* And the device still answers */
	dirty_register(_metadata, &self->d, variant->reg, variant->val);
}

/*
 * A function whose reset fails when it is closed is left dirty; once its
 * whole device set is idle, the last close resets the slot/bus instead.
 * Disabling every reset method of the function through sysfs makes its
 * function reset fail.
 */
TEST_F(reset, idle_set_reset_on_last_close)
{
	int32_t fds[1] = { self->d.group };
	int ret, fd;

	if (!variant->hot_reset) {
		EXPECT_EQ(-ENODEV, hot_reset(&self->d, fds, 1, 0, 0));
		return;
	}
	ret = hot_reset(&self->d, fds, 1, 0, 0);
	ASSERT_EQ(0, ret);

	dirty_register(_metadata, &self->d, variant->reg, variant->val);
	/* An empty line (a zero-length write never reaches sysfs) */
	ASSERT_EQ(0, vfio_sysfs_write(self->d.bdf, "reset_method", "\n"));
	self->methods_changed = true;
	ASSERT_EQ(-ENOTTY, ioctl(self->d.fd, VFIO_DEVICE_RESET) ? -errno : 0);

	/* Last close of the device fd; the group and container stay */
	close(self->d.fd);
	self->d.fd = -1;
	fd = vfio_dev_reopen_fd(&self->d);
	ASSERT_GE(fd, 0);
	self->d.fd = fd;

	/* Nothing reset the function at open: only the bus reset did */
	check_register_reset(_metadata, &self->d, variant->reg);
	EXPECT_EQ(0, vfio_sysfs_write(self->d.bdf, "reset_method", "default"));
	self->methods_changed = false;
}

/*
 * Clean between users: what one user left in the function does not reach
 * the next.  The first user dirties a register the reset clears, turns bus
 * mastering and MSI or MSI-X on; after the last close the hardware (seen
 * through sysfs) has bus mastering and both interrupt kinds off, and the
 * next user finds the register reset (where the reset method clears it).
 */
TEST_F(reset, clean_between_users)
{
	int msix = vfio_hw_find_cap(self->d.bdf, PCI_CAP_ID_MSIX);
	int msi = vfio_hw_find_cap(self->d.bdf, PCI_CAP_ID_MSI);
	int32_t efd = eventfd(0, EFD_CLOEXEC);
	char bdf[32];

	ASSERT_LE(0, efd);
	ASSERT_TRUE(msi || msix);
	snprintf(bdf, sizeof(bdf), "%s", self->d.bdf);
	if (variant->reg)
		dirty_register(_metadata, &self->d, variant->reg, variant->val);
	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, msix ? VFIO_PCI_MSIX_IRQ_INDEX :
					   VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd));
	ASSERT_TRUE(vfio_hw_cfg_read(bdf, PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
	if (msix) {
		ASSERT_TRUE(vfio_hw_cfg_read(bdf, msix + PCI_MSIX_FLAGS, 2) &
			    PCI_MSIX_FLAGS_ENABLE);
	} else {
		ASSERT_TRUE(vfio_hw_cfg_read(bdf, msi + PCI_MSI_FLAGS, 2) &
			    PCI_MSI_FLAGS_ENABLE);
	}

	/* The user goes away without tidying up */
	vfio_dev_close(&self->d);
	EXPECT_EQ(0, vfio_hw_cfg_read(bdf, PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
	if (msix)
		EXPECT_EQ(0, vfio_hw_cfg_read(bdf, msix + PCI_MSIX_FLAGS, 2) &
			  PCI_MSIX_FLAGS_ENABLE);
	if (msi)
		EXPECT_EQ(0, vfio_hw_cfg_read(bdf, msi + PCI_MSI_FLAGS, 2) &
			  PCI_MSI_FLAGS_ENABLE);

	/*
	 * The next one: a clean command register, a reset register.  Opening
	 * resets the function too: with its reset methods disabled for that
	 * open, a clean register can only come from the reset at close.
	 */
	if (variant->reset_clears) {
		ASSERT_EQ(0, vfio_sysfs_write(bdf, "reset_method", "\n"));
		self->methods_changed = true;
	}
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	EXPECT_EQ(0, vfio_cfg_read16(&self->d, PCI_COMMAND) & PCI_COMMAND_MASTER);
	if (variant->reset_clears) {
		check_register_reset(_metadata, &self->d, variant->reg);
		EXPECT_EQ(0, vfio_sysfs_write(bdf, "reset_method", "default"));
		self->methods_changed = false;
	}
	close(efd);
}

/* ---- BAR mappings across resets ----------------------------------------- */

struct hammer {
	volatile uint32_t *p;
	volatile bool stop;
	unsigned long reads, sigbus;
};

/* Read through the mapping until told to stop, counting refusals */
static void *hammer_reads(void *arg)
{
	struct hammer *h = arg;
	uint32_t v;

	while (!h->stop) {
		if (vfio_probe_read32(h->p, &v))
			h->sigbus++;
		h->reads++;
	}
	return NULL;
}

/*
 * A mapping of BAR0 while @reset runs: accesses racing it wait for it (the
 * mapping is zapped and faults take memory_lock, which the reset holds), so
 * none is refused, and afterwards the same mapping reaches the reset
 * function.  Not observable in QEMU: that the pages really were zapped.
 */
static void mmap_across(struct __test_metadata *_metadata, struct vfio_dev *d,
			const struct _fixture_variant_reset *variant,
			int (*reset)(struct vfio_dev *d))
{
	struct vfio_region_info ri;
	struct hammer h = { 0 };
	volatile uint32_t *p;
	pthread_t t;
	uint32_t v;

	ASSERT_EQ(0, vfio_region_info(d, VFIO_PCI_BAR0_REGION_INDEX, &ri));
	ASSERT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, ri.offset);
	ASSERT_NE(MAP_FAILED, p);
	vfio_cmd_set(d, PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, vfio_probe_write32(p + variant->reg / 4, variant->val));
	ASSERT_EQ(0, vfio_probe_read32(p + variant->reg / 4, &v));
	ASSERT_EQ(variant->val, v);

	h.p = p + variant->reg / 4;
	ASSERT_EQ(0, pthread_create(&t, NULL, hammer_reads, &h));
	usleep(20000);
	EXPECT_EQ(0, reset(d));
	usleep(20000);
	h.stop = true;
	pthread_join(t, NULL);
	EXPECT_EQ(0, h.sigbus);
	EXPECT_LT(0, h.reads);

	/* The same mapping, after: live, and showing the reset state */
	ASSERT_EQ(0, vfio_probe_read32(p + variant->reg / 4, &v));
	if (variant->reset_clears)
		EXPECT_EQ(0, v);
	EXPECT_EQ(0, vfio_probe_write32(p + variant->reg / 4, variant->val));
	ASSERT_EQ(0, vfio_probe_read32(p + variant->reg / 4, &v));
	EXPECT_EQ(variant->val, v);
	munmap((void *)p, 4096);
}

static int do_device_reset(struct vfio_dev *d)
{
	return ioctl(d->fd, VFIO_DEVICE_RESET) ? -errno : 0;
}

static int do_hot_reset(struct vfio_dev *d)
{
	int32_t fds[1] = { d->group };

	return hot_reset(d, fds, 1, 0, 0);
}

TEST_F(reset, mmap_across_device_reset)
{
	if (!variant->has_reset) {
		EXPECT_EQ(-EINVAL, do_device_reset(&self->d));
		return;
	}
	mmap_across(_metadata, &self->d, variant, do_device_reset);
}

TEST_F(reset, mmap_across_hot_reset)
{
	if (!variant->hot_reset) {
		EXPECT_EQ(-ENODEV, do_hot_reset(&self->d));
		return;
	}
	mmap_across(_metadata, &self->d, variant, do_hot_reset);
}

/*
 * Hot reset needs the group of every function it resets: another device's
 * group (here the other root port's device, opened by this process) does
 * not stand in for the affected one, and nothing is reset.
 */
TEST_F(reset, hot_reset_refused_without_affected_group)
{
	const char *other = vfio_test_bdf(strcmp(variant->name, "nvme") ? "nvme" : "e1000e");
	struct vfio_dev o;
	int32_t fds[2];

	if (!variant->hot_reset) {
		EXPECT_EQ(-ENODEV, do_hot_reset(&self->d));
		return;
	}
	ASSERT_NE(NULL, other);
	ASSERT_EQ(0, vfio_dev_open(&o, other));
	ASSERT_NE(o.groupno, self->d.groupno);

	dirty_register(_metadata, &self->d, variant->reg, variant->val);
	fds[0] = o.group;
	EXPECT_EQ(-EINVAL, hot_reset(&self->d, fds, 1, 0, 0));
	/* Nothing was reset */
	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY);
	EXPECT_EQ(variant->val, bar0_read32(&self->d, variant->reg));

	/* More groups than affected functions: refused too */
	fds[1] = self->d.group;
	EXPECT_EQ(-EINVAL, hot_reset(&self->d, fds, 2, 0, 0));
	EXPECT_EQ(variant->val, bar0_read32(&self->d, variant->reg));
	/* The affected group alone: it goes through */
	EXPECT_EQ(0, hot_reset(&self->d, fds + 1, 1, 0, 0));
	if (variant->reset_clears)
		check_register_reset(_metadata, &self->d, variant->reg);
	vfio_dev_close(&o);
}

TEST_HARNESS_MAIN
