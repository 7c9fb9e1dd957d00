// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupts through VFIO: GET_IRQ_INFO and SET_IRQS for INTx, MSI, MSI-X,
 * ERR and REQ on edu (INTx + MSI), e1000e (INTx + MSI + MSI-X, PCIe) and
 * nvme (MSI-X, PCIe).
 *
 * Expected vector counts come from the device's own capabilities read
 * through the config region, never from constants.  Real interrupts are
 * raised by the devices (edu's raise register, e1000e's interrupt cause
 * set register); the rest is checked with SET_IRQS loopback triggers and
 * /proc/interrupts, where every handler the kernel requested for the user
 * shows up as "vfio-<kind>...(<bdf>)".  Hardware state the user must not
 * see changed (bus master) is read from sysfs, behind VFIO's back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

/*
 * The harness's wrapper keeps its child pid across setjmp(); gcc flags it
 * once a short test body gets inlined into the wrapper.  It is never
 * modified between setjmp() and longjmp(), so the warning is spurious.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#define NEFD		8
#define FIRE_MS		2000	/* a raised interrupt arrives within this */
#define QUIET_MS	300	/* and nothing arrives within this */

#define INTX	VFIO_PCI_INTX_IRQ_INDEX
#define MSI	VFIO_PCI_MSI_IRQ_INDEX
#define MSIX	VFIO_PCI_MSIX_IRQ_INDEX
#define ERR	VFIO_PCI_ERR_IRQ_INDEX
#define REQ	VFIO_PCI_REQ_IRQ_INDEX

#define DYN_PARAM "/sys/module/vfio_pci_core/parameters/disable_dyn_msix"

enum fire_kind { FIRE_NONE, FIRE_EDU, FIRE_E1000E };

/* edu BAR0 registers */
#define EDU_ID		0x00
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64

/* e1000e BAR0 registers */
#define E1000_ICR	0xc0
#define E1000_ICS	0xc8
#define E1000_IMS	0xd0
#define E1000_IMC	0xd8
#define E1000_LSC	0x4
#define E1000_IVAR	0xe4
/*
 * QEMU's e1000e throttles every interrupt for at least ~128 us and aborts
 * (7.2: an assertion in its throttling timer) if MSI/MSI-X is switched
 * while such a timer is pending.  Let it expire before changing modes.
 */
#define E1000_SETTLE_US	20000
#define E1000_OTHER	0x01000000u	/* "other" cause, routed by IVAR */
#define E1000_IVAR_OTHER(vec)	((0x8u | (vec)) << 16)

FIXTURE(irq) {
	struct vfio_dev d;
	int efd[NEFD];
	int msi_cap;
	int msix_cap;
	int pcie_cap;
	uint32_t nmsi;
	uint32_t nmsix;
	uint32_t nintx;
	char pm[32];	/* power/control to put back at teardown, if set */
};

FIXTURE_VARIANT(irq) {
	const char *name;
	enum fire_kind fire;
};

FIXTURE_VARIANT_ADD(irq, edu) { .name = "edu", .fire = FIRE_EDU };
FIXTURE_VARIANT_ADD(irq, e1000e) { .name = "e1000e", .fire = FIRE_E1000E };
FIXTURE_VARIANT_ADD(irq, nvme) { .name = "nvme", .fire = FIRE_NONE };

FIXTURE_SETUP(irq)
{
	const char *bdf = vfio_test_bdf(variant->name);
	uint16_t flags;
	int i;

	for (i = 0; i < NEFD; i++)
		self->efd[i] = -1;
	self->d.fd = -1;
	self->d.group = -1;
	self->d.container = -1;
	if (!bdf)
		SKIP(return, "no %s device bound", variant->name);
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	for (i = 0; i < NEFD; i++) {
		self->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, self->efd[i]);
	}

	/* What the device offers, from its capabilities */
	self->msi_cap = vfio_cfg_find_cap(&self->d, PCI_CAP_ID_MSI);
	self->msix_cap = vfio_cfg_find_cap(&self->d, PCI_CAP_ID_MSIX);
	self->pcie_cap = vfio_cfg_find_cap(&self->d, PCI_CAP_ID_EXP);
	if (self->msi_cap) {
		flags = vfio_cfg_read16(&self->d, self->msi_cap + PCI_MSI_FLAGS);
		self->nmsi = 1u << ((flags & PCI_MSI_FLAGS_QMASK) >> 1);
	}
	if (self->msix_cap) {
		flags = vfio_cfg_read16(&self->d, self->msix_cap + PCI_MSIX_FLAGS);
		self->nmsix = (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	}
	self->nintx = vfio_cfg_read8(&self->d, PCI_INTERRUPT_PIN) ? 1 : 0;
}

FIXTURE_TEARDOWN(irq)
{
	int i;

	vfio_dev_close(&self->d);
	if (self->pm[0])
		vfio_sysfs_write(self->d.bdf, "power/control", self->pm);
	for (i = 0; i < NEFD; i++)
		if (self->efd[i] >= 0)
			close(self->efd[i]);
}

/* ---- helpers ------------------------------------------------------------ */

static int set_irqs(struct vfio_dev *d, struct vfio_irq_set *s)
{
	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
}

static int set_bools(struct vfio_dev *d, uint32_t index, uint32_t start,
		     uint32_t count, const uint8_t *b)
{
	size_t sz = sizeof(struct vfio_irq_set) + count;
	struct vfio_irq_set *s = calloc(1, sz);
	int ret;

	if (!s)
		return -ENOMEM;
	s->argsz = sz;
	s->flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = index;
	s->start = start;
	s->count = count;
	memcpy(s->data, b, count);
	ret = set_irqs(d, s);
	free(s);
	return ret;
}

/* One eventfd-or-bool entry with any action */
static int set_one(struct vfio_dev *d, uint32_t index, uint32_t flags,
		   int32_t val)
{
	struct {
		struct vfio_irq_set s;
		int32_t v;
	} a = {
		.s = { .argsz = sizeof(a), .flags = flags, .index = index,
		       .count = 1 },
		.v = val,
	};

	if (flags & VFIO_IRQ_SET_DATA_BOOL)
		a.s.data[0] = (uint8_t)val;
	return set_irqs(d, &a.s);
}

static int set_efd(struct vfio_dev *d, uint32_t index, int32_t fd)
{
	return vfio_irq_set_eventfds(d, index, 0, 1, &fd);
}

static uint64_t wait_fd(int fd, int ms)
{
	return vfio_eventfd_wait(fd, ms);
}

static void drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

/* Handlers in /proc/interrupts named vfio-<kind> for this device */
static int proc_irqs(const char *bdf, const char *kind)
{
	char line[1024], tag[64], dev[64];
	FILE *f = fopen("/proc/interrupts", "r");
	int n = 0;

	if (!f)
		return -1;
	snprintf(tag, sizeof(tag), "vfio-%s", kind);
	snprintf(dev, sizeof(dev), "(%s)", bdf);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, tag) && strstr(line, dev))
			n++;
	fclose(f);
	return n;
}

/* The real command register, read behind VFIO's back (aborts on failure) */
static uint16_t hw_command(const char *bdf)
{
	return vfio_hw_cfg_read(bdf, PCI_COMMAND, 2);
}

static void bar0_wr(struct vfio_dev *d, uint64_t off, uint32_t v)
{
	if (vfio_region_write(d, VFIO_PCI_BAR0_REGION_INDEX, off, &v, 4) != 4) {
		fprintf(stderr, "# BAR0 write at 0x%llx failed\n",
			(unsigned long long)off);
		abort();
	}
}

static uint32_t bar0_rd(struct vfio_dev *d, uint64_t off)
{
	uint32_t v = 0;

	if (vfio_region_read(d, VFIO_PCI_BAR0_REGION_INDEX, off, &v, 4) != 4) {
		fprintf(stderr, "# BAR0 read at 0x%llx failed\n",
			(unsigned long long)off);
		abort();
	}
	return v;
}

/* Make the device raise its interrupt (MSI or INTx, as it is set up) */
static void fire(struct vfio_dev *d, enum fire_kind k)
{
	if (k == FIRE_EDU) {
		bar0_wr(d, EDU_IRQ_RAISE, 1);
	} else if (k == FIRE_E1000E) {
		bar0_wr(d, E1000_IMS, E1000_LSC);
		bar0_wr(d, E1000_ICS, E1000_LSC);
	}
}

/* Let the device drop it again */
static void ack(struct vfio_dev *d, enum fire_kind k)
{
	if (k == FIRE_EDU) {
		bar0_wr(d, EDU_IRQ_ACK, bar0_rd(d, EDU_IRQ_STATUS));
	} else if (k == FIRE_E1000E) {
		bar0_wr(d, E1000_IMC, 0xffffffff);
		bar0_rd(d, E1000_ICR);	/* read to clear */
		usleep(E1000_SETTLE_US);
	}
}

/* e1000e with MSI-X: raise the "other" cause on MSI-X vector @vec */
static void e1000e_fire_msix(struct vfio_dev *d, unsigned int vec)
{
	bar0_wr(d, E1000_IVAR, E1000_IVAR_OTHER(vec));
	bar0_wr(d, E1000_IMS, E1000_OTHER);
	bar0_wr(d, E1000_ICS, E1000_OTHER);
}

static void e1000e_ack_msix(struct vfio_dev *d)
{
	bar0_wr(d, E1000_IMC, 0xffffffff);
	bar0_rd(d, E1000_ICR);
	bar0_wr(d, E1000_ICR, 0xffffffff);
	usleep(E1000_SETTLE_US);
}

static int low_power(struct vfio_dev *d, uint32_t which)
{
	struct vfio_device_feature f = {
		.argsz = sizeof(f),
		.flags = VFIO_DEVICE_FEATURE_SET | which,
	};

	return ioctl(d->fd, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

/* Wait up to @ms for power/runtime_status of @bdf to read @want */
static bool runtime_status_is(const char *bdf, const char *want, int ms)
{
	char path[128], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/runtime_status",
		 bdf);
	for (;;) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return false;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			buf[strcspn(buf, "\n")] = 0;
			if (!strcmp(buf, want))
				return true;
		}
		if (ms <= 0)
			return false;
		usleep(20 * 1000);
		ms -= 20;
	}
}

/* Our vfio-pci-core always has the knob: 0 or -errno */
static int set_dyn_param(bool disable)
{
	int fd = open(DYN_PARAM, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, disable ? "1" : "0", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/* ---- GET_IRQ_INFO ------------------------------------------------------- */

TEST_F(irq, info_counts_and_flags)
{
	struct vfio_irq_info ii;
	uint32_t noresize_ok;

	ASSERT_EQ(VFIO_PCI_NUM_IRQS, self->d.info.num_irqs);

	ASSERT_EQ(0, vfio_irq_info(&self->d, INTX, &ii));
	EXPECT_EQ(INTX, ii.index);
	EXPECT_EQ(self->nintx, ii.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		  VFIO_IRQ_INFO_AUTOMASKED, ii.flags);

	ASSERT_EQ(0, vfio_irq_info(&self->d, MSI, &ii));
	EXPECT_EQ(self->nmsi, ii.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, ii.flags);

	ASSERT_EQ(0, vfio_irq_info(&self->d, MSIX, &ii));
	EXPECT_EQ(self->nmsix, ii.count);
	/* NORESIZE is optional for MSI-X: absent where vectors grow in place */
	noresize_ok = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
	EXPECT_EQ(0, ii.flags & ~noresize_ok);
	EXPECT_TRUE(ii.flags & VFIO_IRQ_INFO_EVENTFD);

	if (self->pcie_cap) {
		ASSERT_EQ(0, vfio_irq_info(&self->d, ERR, &ii));
		EXPECT_EQ(1, ii.count);
		EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, ii.flags);
	} else {
		/* Conventional PCI: no AER, no ERR index */
		EXPECT_EQ(-EINVAL, vfio_irq_info(&self->d, ERR, &ii));
	}

	ASSERT_EQ(0, vfio_irq_info(&self->d, REQ, &ii));
	EXPECT_EQ(1, ii.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, ii.flags);

	/* The variant's own device: its known interrupt shape */
	if (!strcmp(variant->name, "edu")) {
		EXPECT_EQ(1, self->nmsi);
		EXPECT_EQ(0, self->nmsix);
		EXPECT_EQ(1, self->nintx);
	} else if (!strcmp(variant->name, "nvme")) {
		EXPECT_EQ(0, self->nmsi);
		EXPECT_LT(1, self->nmsix);
	} else {
		EXPECT_LT(0, self->nmsi);
		EXPECT_LT(1, self->nmsix);
	}
}

TEST_F(irq, info_bad_input)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii) - 1, .index = REQ };

	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);

	ii.argsz = 0;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);

	ii.argsz = sizeof(ii);
	ii.index = 99;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);

	ii.index = VFIO_PCI_NUM_IRQS;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);

	ii.index = 0xffffffff;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* A bigger argsz is fine: the structure may grow */
	ii.argsz = sizeof(ii) + 64;
	ii.index = REQ;
	EXPECT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(1, ii.count);
}

/* ---- SET_IRQS bad input ------------------------------------------------- */

TEST_F(irq, set_bad_header)
{
	struct {
		struct vfio_irq_set s;
		int32_t fd[4];
	} a;
	const uint32_t trig = VFIO_IRQ_SET_ACTION_TRIGGER;
	static const struct {
		const char *what;
		uint32_t argsz, flags, index, start, count;
	} bad[] = {
		{ "argsz short", 8, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		  REQ, 0, 1 },
		{ "unknown flag", sizeof(a), 1u << 31 | VFIO_IRQ_SET_DATA_NONE |
		  VFIO_IRQ_SET_ACTION_TRIGGER, REQ, 0, 1 },
		{ "no data type", sizeof(a), VFIO_IRQ_SET_ACTION_TRIGGER, REQ, 0, 1 },
		{ "two data types", sizeof(a), VFIO_IRQ_SET_DATA_NONE |
		  VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER, REQ, 0, 1 },
		{ "three data types", sizeof(a), VFIO_IRQ_SET_DATA_TYPE_MASK |
		  VFIO_IRQ_SET_ACTION_TRIGGER, REQ, 0, 1 },
		{ "index 99", sizeof(a), VFIO_IRQ_SET_DATA_NONE |
		  VFIO_IRQ_SET_ACTION_TRIGGER, 99, 0, 1 },
		{ "index NUM_IRQS", sizeof(a), VFIO_IRQ_SET_DATA_NONE |
		  VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_NUM_IRQS, 0, 1 },
		{ "start past end", sizeof(a), VFIO_IRQ_SET_DATA_NONE |
		  VFIO_IRQ_SET_ACTION_TRIGGER, REQ, 1, 1 },
		{ "start+count overflow", sizeof(a), VFIO_IRQ_SET_DATA_NONE |
		  VFIO_IRQ_SET_ACTION_TRIGGER, REQ, 0xffffffff, 2 },
		{ "count > max", sizeof(a), VFIO_IRQ_SET_DATA_NONE |
		  VFIO_IRQ_SET_ACTION_TRIGGER, REQ, 0, 2 },
		{ "count huge", sizeof(a), VFIO_IRQ_SET_DATA_NONE |
		  VFIO_IRQ_SET_ACTION_TRIGGER, REQ, 0, 0xffffffff },
		{ "eventfd data past argsz", sizeof(struct vfio_irq_set) + 4,
		  VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, MSIX, 0, 2 },
		{ "bool data past argsz", sizeof(struct vfio_irq_set),
		  VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER, REQ, 0, 1 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&a, 0, sizeof(a));
		a.s.argsz = bad[i].argsz;
		a.s.flags = bad[i].flags;
		a.s.index = bad[i].index;
		a.s.start = bad[i].start;
		a.s.count = bad[i].count;
		a.fd[0] = self->efd[0];
		a.fd[1] = self->efd[1];
		TH_LOG("case: %s", bad[i].what);
		EXPECT_EQ(-EINVAL, set_irqs(&self->d, &a.s));
	}

	/* Count past what each index offers */
	memset(&a, 0, sizeof(a));
	a.s.argsz = sizeof(a);
	a.s.flags = VFIO_IRQ_SET_DATA_NONE | trig;
	a.s.index = MSIX;
	a.s.count = self->nmsix + 1;
	EXPECT_EQ(-EINVAL, set_irqs(&self->d, &a.s));
	a.s.index = MSI;
	a.s.count = self->nmsi + 1;
	EXPECT_EQ(-EINVAL, set_irqs(&self->d, &a.s));
	a.s.index = INTX;
	a.s.count = 2;
	EXPECT_EQ(-EINVAL, set_irqs(&self->d, &a.s));
	a.s.index = MSIX;
	a.s.count = 1;
	a.s.start = self->nmsix;
	EXPECT_EQ(-EINVAL, set_irqs(&self->d, &a.s));

	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_SET_IRQS, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* Nothing got enabled along the way */
	EXPECT_EQ(0, proc_irqs(self->d.bdf, "msi"));
	EXPECT_EQ(0, proc_irqs(self->d.bdf, "intx"));
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(&self->d, REQ,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
}

TEST_F(irq, set_bad_action)
{
	int32_t fd = self->efd[0];

	/* No action, and more than one action at once */
	EXPECT_NE(0, vfio_irq_set_none(&self->d, REQ, 0, 0, 1));
	EXPECT_NE(0, vfio_irq_set_none(&self->d, REQ, VFIO_IRQ_SET_ACTION_MASK |
				       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	EXPECT_NE(0, vfio_irq_set_none(&self->d, REQ,
				       VFIO_IRQ_SET_ACTION_TYPE_MASK, 0, 1));

	/* REQ/ERR/MSI/MSI-X cannot be masked */
	EXPECT_NE(0, vfio_irq_set_none(&self->d, REQ, VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	EXPECT_NE(0, vfio_irq_set_none(&self->d, REQ, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	if (self->nmsix) {
		ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, MSIX, 0, 1, &fd));
		EXPECT_NE(0, vfio_irq_set_none(&self->d, MSIX,
					       VFIO_IRQ_SET_ACTION_MASK, 0, 1));
		EXPECT_NE(0, vfio_irq_set_none(&self->d, MSIX,
					       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
		EXPECT_EQ(0, vfio_irq_disable(&self->d, MSIX));
	}

	/* INTx mask/unmask only while INTx is enabled */
	if (self->nintx) {
		EXPECT_EQ(-EINVAL, vfio_irq_set_none(&self->d, INTX,
						     VFIO_IRQ_SET_ACTION_MASK, 0, 1));
		EXPECT_EQ(-EINVAL, vfio_irq_set_none(&self->d, INTX,
						     VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
		/* Loopback on a disabled index */
		EXPECT_EQ(-EINVAL, vfio_irq_set_none(&self->d, INTX,
						     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	}

	/* Disabling what is not enabled */
	if (self->nmsix)
		EXPECT_EQ(-EINVAL, vfio_irq_disable(&self->d, MSIX));
	if (self->nmsi)
		EXPECT_EQ(-EINVAL, vfio_irq_disable(&self->d, MSI));
}

TEST_F(irq, set_bad_eventfd)
{
	int32_t fds[4];
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int32_t notopen = 1000;

	ASSERT_LE(0, devnull);
	while (fcntl(notopen, F_GETFD) != -1)
		notopen++;

	/* REQ: an fd that is not open, a file that is not an eventfd */
	ASSERT_EQ(0, set_efd(&self->d, REQ, self->efd[0]));
	EXPECT_EQ(-EBADF, set_efd(&self->d, REQ, notopen));
	EXPECT_EQ(-EINVAL, set_efd(&self->d, REQ, devnull));
	EXPECT_NE(0, set_efd(&self->d, REQ, -2));
	/* ... and the eventfd set before is still the one signalled */
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, REQ, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, wait_fd(self->efd[0], FIRE_MS));

	/* MSI-X / MSI: one bad fd in a block leaves everything disabled */
	if (self->nmsix >= 3) {
		fds[0] = self->efd[1];
		fds[1] = devnull;
		fds[2] = self->efd[2];
		EXPECT_EQ(-EINVAL, vfio_irq_set_eventfds(&self->d, MSIX, 0, 3, fds));
		fds[1] = notopen;
		EXPECT_EQ(-EBADF, vfio_irq_set_eventfds(&self->d, MSIX, 0, 3, fds));
		EXPECT_EQ(0, proc_irqs(self->d.bdf, "msix"));
		EXPECT_EQ(-EINVAL, vfio_irq_set_none(&self->d, MSIX,
						     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));

		/*
		 * Enabled block: a bad rebind changes nothing (Debian's stock
		 * vfio-pci unbinds the vectors it got to before failing).
		 */
		fds[1] = self->efd[3];
		ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, MSIX, 0, 3, fds));
		EXPECT_EQ(3, proc_irqs(self->d.bdf, "msix"));
		fds[0] = -1;
		fds[1] = self->efd[4];
		fds[2] = devnull;
		EXPECT_EQ(-EINVAL, vfio_irq_set_eventfds(&self->d, MSIX, 0, 3, fds));
		EXPECT_EQ(3, proc_irqs(self->d.bdf, "msix"));
		drain(self->efd[1]);
		drain(self->efd[3]);
		drain(self->efd[2]);
		EXPECT_EQ(0, vfio_irq_set_none(&self->d, MSIX,
					       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 3));
		EXPECT_EQ(1, wait_fd(self->efd[1], FIRE_MS));
		EXPECT_EQ(1, wait_fd(self->efd[3], FIRE_MS));
		EXPECT_EQ(1, wait_fd(self->efd[2], FIRE_MS));
		EXPECT_EQ(0, wait_fd(self->efd[4], 0));
		EXPECT_EQ(0, vfio_irq_disable(&self->d, MSIX));
		EXPECT_EQ(0, proc_irqs(self->d.bdf, "msix"));
	}
	if (self->nmsi) {
		EXPECT_EQ(-EINVAL, set_efd(&self->d, MSI, devnull));
		EXPECT_EQ(0, proc_irqs(self->d.bdf, "msi["));
		EXPECT_EQ(-EINVAL, vfio_irq_set_none(&self->d, MSI,
						     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	}
	if (self->nintx) {
		EXPECT_EQ(-EBADF, set_efd(&self->d, INTX, notopen));
		EXPECT_EQ(0, proc_irqs(self->d.bdf, "intx"));
	}
	close(devnull);
}

/* ---- MSI ---------------------------------------------------------------- */

TEST_F(irq, msi_end_to_end)
{
	int32_t fd = self->efd[0];
	uint8_t b;

	if (!self->nmsi || variant->fire == FIRE_NONE)
		SKIP(return, "no MSI or no way to raise it");

	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, MSI, 0, 1, &fd));
	EXPECT_EQ(1, proc_irqs(self->d.bdf, "msi["));

	/* The device raises it, the eventfd sees it */
	fire(&self->d, variant->fire);
	EXPECT_LE(1, wait_fd(fd, FIRE_MS));
	ack(&self->d, variant->fire);

	/* Twice: nothing stays stuck */
	fire(&self->d, variant->fire);
	EXPECT_LE(1, wait_fd(fd, FIRE_MS));
	ack(&self->d, variant->fire);
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));

	/* Loopback */
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, MSI, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	b = 1;
	EXPECT_EQ(0, set_bools(&self->d, MSI, 0, 1, &b));
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	b = 0;
	EXPECT_EQ(0, set_bools(&self->d, MSI, 0, 1, &b));
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));

	/* Another eventfd for the same vector */
	fd = self->efd[1];
	EXPECT_EQ(0, vfio_irq_set_eventfds(&self->d, MSI, 0, 1, &fd));
	EXPECT_EQ(1, proc_irqs(self->d.bdf, "msi["));
	fire(&self->d, variant->fire);
	EXPECT_LE(1, wait_fd(self->efd[1], FIRE_MS));
	EXPECT_EQ(0, wait_fd(self->efd[0], 0));
	ack(&self->d, variant->fire);

	/* -1 drops the handler but keeps MSI on: loopback has no target */
	drain(self->efd[1]);
	fd = -1;
	EXPECT_EQ(0, vfio_irq_set_eventfds(&self->d, MSI, 0, 1, &fd));
	EXPECT_EQ(0, proc_irqs(self->d.bdf, "msi["));
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, MSI, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(0, wait_fd(self->efd[1], QUIET_MS));

	/* Disable: handlers gone, loopback refused */
	EXPECT_EQ(0, vfio_irq_disable(&self->d, MSI));
	EXPECT_EQ(0, proc_irqs(self->d.bdf, "msi["));
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(&self->d, MSI,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
}

TEST_F(irq, msi_keeps_bus_master_as_set)
{
	int32_t fd = self->efd[0];
	int cmd;

	if (!self->nmsi || variant->fire == FIRE_NONE)
		SKIP(return, "no MSI or no way to raise it");

	cmd = vfio_cfg_read16(&self->d, PCI_COMMAND);
	vfio_cfg_write16(&self->d, PCI_COMMAND,
			 (cmd | PCI_COMMAND_MEMORY) & ~PCI_COMMAND_MASTER);
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, MSI, 0, 1, &fd));
	cmd = hw_command(self->d.bdf);
	EXPECT_EQ(0, cmd & PCI_COMMAND_MASTER);

	/* Without bus mastering the message cannot be sent */
	fire(&self->d, variant->fire);
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));
	ack(&self->d, variant->fire);

	vfio_cmd_set(&self->d, PCI_COMMAND_MASTER);
	cmd = hw_command(self->d.bdf);
	EXPECT_TRUE(cmd & PCI_COMMAND_MASTER);
	fire(&self->d, variant->fire);
	EXPECT_LE(1, wait_fd(fd, FIRE_MS));
	ack(&self->d, variant->fire);
	EXPECT_EQ(0, vfio_irq_disable(&self->d, MSI));
}

/* ---- MSI-X -------------------------------------------------------------- */

static void msix_grow(struct __test_metadata *_metadata, struct vfio_dev *d,
		      const int *efd)
{
	int32_t fds[4];
	uint8_t b[4];
	int i;

	/* One vector */
	fds[0] = efd[0];
	ASSERT_EQ(0, vfio_irq_set_eventfds(d, MSIX, 0, 1, fds));
	EXPECT_EQ(1, proc_irqs(d->bdf, "msix"));
	EXPECT_EQ(0, vfio_irq_set_none(d, MSIX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, wait_fd(efd[0], FIRE_MS));

	/* Grow to four: vectors 1..3 join, vector 0 keeps its eventfd */
	for (i = 1; i < 4; i++)
		fds[i - 1] = efd[i];
	ASSERT_EQ(0, vfio_irq_set_eventfds(d, MSIX, 1, 3, fds));
	EXPECT_EQ(4, proc_irqs(d->bdf, "msix"));
	for (i = 0; i < 4; i++)
		drain(efd[i]);
	EXPECT_EQ(0, vfio_irq_set_none(d, MSIX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 4));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(1, wait_fd(efd[i], FIRE_MS));

	/* Bools pick vectors */
	b[0] = 0;
	b[1] = 1;
	b[2] = 0;
	b[3] = 7;
	EXPECT_EQ(0, set_bools(d, MSIX, 0, 4, b));
	EXPECT_EQ(0, wait_fd(efd[0], QUIET_MS));
	EXPECT_EQ(1, wait_fd(efd[1], FIRE_MS));
	EXPECT_EQ(0, wait_fd(efd[2], 0));
	EXPECT_EQ(1, wait_fd(efd[3], FIRE_MS));

	/* Unbind vector 2, move vector 1 to another eventfd */
	fds[0] = efd[4];
	fds[1] = -1;
	ASSERT_EQ(0, vfio_irq_set_eventfds(d, MSIX, 1, 2, fds));
	EXPECT_EQ(3, proc_irqs(d->bdf, "msix"));
	EXPECT_EQ(0, vfio_irq_set_none(d, MSIX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 4));
	EXPECT_EQ(1, wait_fd(efd[0], FIRE_MS));
	EXPECT_EQ(1, wait_fd(efd[4], FIRE_MS));
	EXPECT_EQ(1, wait_fd(efd[3], FIRE_MS));
	EXPECT_EQ(0, wait_fd(efd[1], 0));
	EXPECT_EQ(0, wait_fd(efd[2], 0));

	/* The same eventfd on two vectors is allowed */
	fds[0] = efd[0];
	ASSERT_EQ(0, vfio_irq_set_eventfds(d, MSIX, 2, 1, fds));
	EXPECT_EQ(4, proc_irqs(d->bdf, "msix"));
	EXPECT_EQ(0, vfio_irq_set_none(d, MSIX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 3));
	EXPECT_EQ(2, wait_fd(efd[0], FIRE_MS));

	EXPECT_EQ(0, vfio_irq_disable(d, MSIX));
	EXPECT_EQ(0, proc_irqs(d->bdf, "msix"));
	for (i = 0; i < NEFD; i++)
		drain(efd[i]);
}

TEST_F(irq, msix_grow)
{
	if (self->nmsix < 4)
		SKIP(return, "fewer than 4 MSI-X vectors");
	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	msix_grow(_metadata, &self->d, self->efd);
}

TEST_F(irq, msix_grow_by_reenable)
{
	struct vfio_irq_info ii;

	if (self->nmsix < 4)
		SKIP(return, "fewer than 4 MSI-X vectors");
	ASSERT_EQ(0, set_dyn_param(true));
	ASSERT_EQ(0, vfio_irq_info(&self->d, MSIX, &ii));
	EXPECT_TRUE(ii.flags & VFIO_IRQ_INFO_NORESIZE);
	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	msix_grow(_metadata, &self->d, self->efd);
	ASSERT_EQ(0, set_dyn_param(false));
}

TEST_F(irq, msix_with_memory_decode_off)
{
	int32_t fds[2] = { self->efd[0], self->efd[1] };
	int cmd;

	if (self->nmsix < 2)
		SKIP(return, "fewer than 2 MSI-X vectors");

	/* The kernel writes the table with decode forced on, then restores */
	vfio_cfg_write16(&self->d, PCI_COMMAND,
			 vfio_cfg_read16(&self->d, PCI_COMMAND) & ~PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, MSIX, 0, 2, fds));
	EXPECT_EQ(2, proc_irqs(self->d.bdf, "msix"));
	cmd = hw_command(self->d.bdf);
	EXPECT_EQ(0, cmd & PCI_COMMAND_MEMORY);
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, MSIX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2));
	EXPECT_EQ(1, wait_fd(self->efd[0], FIRE_MS));
	EXPECT_EQ(1, wait_fd(self->efd[1], FIRE_MS));

	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY);
	EXPECT_TRUE(hw_command(self->d.bdf) & PCI_COMMAND_MEMORY);
	EXPECT_EQ(0, vfio_irq_disable(&self->d, MSIX));
	EXPECT_EQ(0, proc_irqs(self->d.bdf, "msix"));
}

/* Each bound vector, raised by the device, reaches its own eventfd only */
static void e1000e_msix_each(struct __test_metadata *_metadata,
			     struct vfio_dev *d, const int *efd, unsigned int n)
{
	unsigned int v, i;

	for (v = 0; v < n; v++) {
		for (i = 0; i < n; i++)
			drain(efd[i]);
		e1000e_fire_msix(d, v);
		TH_LOG("vector %u", v);
		/* >= 1: a link change of the device's own may ride along */
		EXPECT_LE(1, wait_fd(efd[v], FIRE_MS));
		e1000e_ack_msix(d);
		for (i = 0; i < n; i++)
			if (i != v)
				EXPECT_EQ(0, wait_fd(efd[i], 0));
	}
}

TEST_F(irq, msix_end_to_end)
{
	int32_t fds[4] = { self->efd[0], self->efd[1], self->efd[2], self->efd[3] };
	int pass;
	uint16_t cmd;

	if (variant->fire != FIRE_E1000E)
		SKIP(return, "MSI-X is raised on e1000e only");
	ASSERT_LE(4, self->nmsix);

	/* Pass 0 grows in place if the kernel can, pass 1 by re-enabling */
	for (pass = 0; pass < 2; pass++) {
		ASSERT_EQ(0, set_dyn_param(pass == 1));
		vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, MSIX, 0, 1, fds));
		e1000e_msix_each(_metadata, &self->d, self->efd, 1);
		ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, MSIX, 1, 3, fds + 1));
		e1000e_msix_each(_metadata, &self->d, self->efd, 4);

		/* Memory decode off and on again: the table still routes */
		cmd = vfio_cfg_read16(&self->d, PCI_COMMAND);
		vfio_cfg_write16(&self->d, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
		EXPECT_EQ(0, hw_command(self->d.bdf) & PCI_COMMAND_MEMORY);
		vfio_cfg_write16(&self->d, PCI_COMMAND, cmd);
		e1000e_msix_each(_metadata, &self->d, self->efd, 4);

		/* A function reset (e1000e has one) keeps the vectors working */
		ASSERT_TRUE(self->d.info.flags & VFIO_DEVICE_FLAGS_RESET);
		ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
		EXPECT_EQ(4, proc_irqs(self->d.bdf, "msix"));
		e1000e_msix_each(_metadata, &self->d, self->efd, 4);

		EXPECT_EQ(0, vfio_irq_disable(&self->d, MSIX));
	}
	ASSERT_EQ(0, set_dyn_param(false));
}

/*
 * A vector bound again (QEMU does it when its guest masks and unmasks one)
 * gets its table entry written anew: an entry that a reset behind the
 * kernel's back left masked and cleared routes again, as upstream 6.12
 * rewrites it at every binding
 */
TEST_F(irq, msix_rebind_rewrites_entry)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct vfio_region_info ri;
	volatile uint32_t *entry;
	uint32_t table, off;
	int32_t fd;
	void *map;
	int round;

	if (variant->fire != FIRE_E1000E)
		SKIP(return, "MSI-X is raised on e1000e only");
	table = vfio_cfg_read32(&self->d, self->msix_cap + PCI_MSIX_TABLE);
	off = table & PCI_MSIX_TABLE_OFFSET;
	ASSERT_EQ(0, vfio_region_info(&self->d, table & PCI_MSIX_TABLE_BIR, &ri));
	/* With interrupt remapping the table may be mapped (MSIX_MAPPABLE) */
	map = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->d.fd,
		   ri.offset + (off & ~(pg - 1)));
	ASSERT_NE(MAP_FAILED, map);
	entry = (volatile uint32_t *)((char *)map + (off & (pg - 1)));

	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	fd = self->efd[0];
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, MSIX, 0, 1, &fd));
	e1000e_msix_each(_metadata, &self->d, self->efd, 1);

	/* Round 0 binds another eventfd, round 1 the same one again */
	for (round = 0; round < 2; round++) {
		/* What a function reset leaves: masked, no message */
		entry[PCI_MSIX_ENTRY_VECTOR_CTRL / 4] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
		entry[PCI_MSIX_ENTRY_LOWER_ADDR / 4] = 0;
		entry[PCI_MSIX_ENTRY_UPPER_ADDR / 4] = 0;
		entry[PCI_MSIX_ENTRY_DATA / 4] = 0;
		EXPECT_EQ(0u, entry[PCI_MSIX_ENTRY_LOWER_ADDR / 4]);

		fd = self->efd[1];
		ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, MSIX, 0, 1, &fd));
		EXPECT_NE(0u, entry[PCI_MSIX_ENTRY_LOWER_ADDR / 4]);
		EXPECT_EQ(0u, entry[PCI_MSIX_ENTRY_VECTOR_CTRL / 4] &
			      PCI_MSIX_ENTRY_CTRL_MASKBIT);
		TH_LOG("round %d", round);
		e1000e_msix_each(_metadata, &self->d, self->efd + 1, 1);
	}
	munmap(map, pg);
	EXPECT_EQ(0, vfio_irq_disable(&self->d, MSIX));
}

/* ---- One type at a time ------------------------------------------------- */

TEST_F(irq, one_type_at_a_time)
{
	int32_t fd = self->efd[0];
	int first = -1, i;
	const int types[] = { INTX, MSI, MSIX };

	for (i = 0; i < 3; i++) {
		uint32_t n = types[i] == INTX ? self->nintx :
			     types[i] == MSI ? self->nmsi : self->nmsix;
		int j;

		if (!n)
			continue;
		ASSERT_EQ(0, set_efd(&self->d, types[i], fd));
		first = types[i];
		for (j = 0; j < 3; j++) {
			uint32_t m = types[j] == INTX ? self->nintx :
				     types[j] == MSI ? self->nmsi : self->nmsix;

			if (j == i || !m)
				continue;
			TH_LOG("%d enabled, enabling %d", types[i], types[j]);
			EXPECT_EQ(-EINVAL, set_efd(&self->d, types[j], self->efd[1]));
			EXPECT_EQ(-EINVAL, vfio_irq_disable(&self->d, types[j]));
			EXPECT_EQ(-EINVAL, vfio_irq_set_none(&self->d, types[j],
							     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
		}
		/* The enabled one still works */
		EXPECT_EQ(0, vfio_irq_set_none(&self->d, types[i],
					       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
		EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
		EXPECT_EQ(0, vfio_irq_disable(&self->d, types[i]));
	}
	ASSERT_NE(-1, first);
	EXPECT_EQ(0, proc_irqs(self->d.bdf, ""));
}

/* ---- INTx --------------------------------------------------------------- */

TEST_F(irq, intx_automask_and_unmask)
{
	int32_t fd = self->efd[0];
	int ufd = self->efd[1];
	uint64_t one = 1;
	uint8_t b;

	if (variant->fire == FIRE_NONE)
		SKIP(return, "no way to raise INTx");
	ASSERT_EQ(1, self->nintx);

	/* The devices raise INTx while MSI is off; memory decode for BAR0 */
	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY);
	if (variant->fire == FIRE_EDU)
		ASSERT_EQ(0x010000ed, bar0_rd(&self->d, EDU_ID));
	ASSERT_EQ(0, set_efd(&self->d, INTX, fd));
	EXPECT_EQ(1, proc_irqs(self->d.bdf, "intx"));

	/* Raised: signalled once, then masked automatically */
	fire(&self->d, variant->fire);
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	ack(&self->d, variant->fire);
	fire(&self->d, variant->fire);
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));

	/* Unmask while still asserted: signalled again, stays masked */
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));

	/* Serviced, then unmasked: quiet until raised again */
	ack(&self->d, variant->fire);
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));
	fire(&self->d, variant->fire);
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	ack(&self->d, variant->fire);
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));

	/* Explicit mask: nothing gets through */
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	fire(&self->d, variant->fire);
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));
	/* A false bool unmasks nothing, a true one does */
	b = 0;
	ASSERT_EQ(0, set_one(&self->d, INTX, VFIO_IRQ_SET_DATA_BOOL |
			     VFIO_IRQ_SET_ACTION_UNMASK, b));
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));
	b = 1;
	ASSERT_EQ(0, set_one(&self->d, INTX, VFIO_IRQ_SET_DATA_BOOL |
			     VFIO_IRQ_SET_ACTION_UNMASK, b));
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	ack(&self->d, variant->fire);
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));

	/* Unmask through an eventfd, as KVM's resamplefd does */
	ASSERT_EQ(0, set_one(&self->d, INTX, VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_UNMASK, ufd));
	fire(&self->d, variant->fire);
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	ack(&self->d, variant->fire);
	fire(&self->d, variant->fire);
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));
	ASSERT_EQ(8, write(ufd, &one, 8));
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));	/* still asserted */
	ack(&self->d, variant->fire);
	ASSERT_EQ(8, write(ufd, &one, 8));
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));
	fire(&self->d, variant->fire);
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	ack(&self->d, variant->fire);
	ASSERT_EQ(0, set_one(&self->d, INTX, VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_UNMASK, -1));
	ASSERT_EQ(8, write(ufd, &one, 8));
	fire(&self->d, variant->fire);
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));	/* unmask fd detached */
	ack(&self->d, variant->fire);
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));

	/* Loopback */
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	b = 0;
	EXPECT_EQ(0, set_bools(&self->d, INTX, 0, 1, &b));
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));

	/* Another eventfd: the old one goes quiet */
	ASSERT_EQ(0, set_efd(&self->d, INTX, self->efd[2]));
	fire(&self->d, variant->fire);
	EXPECT_EQ(1, wait_fd(self->efd[2], FIRE_MS));
	EXPECT_EQ(0, wait_fd(fd, 0));
	ack(&self->d, variant->fire);

	/* Disabled: the handler is gone */
	EXPECT_EQ(0, vfio_irq_disable(&self->d, INTX));
	EXPECT_EQ(0, proc_irqs(self->d.bdf, "intx"));
	fire(&self->d, variant->fire);
	EXPECT_EQ(0, wait_fd(self->efd[2], QUIET_MS));
	ack(&self->d, variant->fire);
}

/* Times the handler of this device's INTx line ran, over all CPUs */
static unsigned long intx_count(const char *bdf)
{
	char line[1024], tag[64];
	unsigned long n = 0, v;
	FILE *f = fopen("/proc/interrupts", "r");
	char *p, *end;

	if (!f)
		return 0;
	snprintf(tag, sizeof(tag), "vfio-intx(%s)", bdf);
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, tag))
			continue;
		p = strchr(line, ':');
		/* per-CPU counts follow the "NN:" label */
		for (p = p ? p + 1 : line;; p = end) {
			v = strtoul(p, &end, 10);
			if (end == p)
				break;
			n += v;
		}
	}
	fclose(f);
	return n;
}

/*
 * The user's INTx-disable bit (command register bit 10): while it is set, a
 * device that raises INTx reaches nobody, and the line is held off in the
 * hardware so the host does not see it scream; clearing it delivers what is
 * still pending.
 */
TEST_F(irq, intx_disable_bit_stops_delivery)
{
	int32_t fd = self->efd[0];
	unsigned long before;
	uint16_t cmd;

	ASSERT_EQ(1, self->nintx);
	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, set_efd(&self->d, INTX, fd));
	EXPECT_EQ(0, hw_command(self->d.bdf) & PCI_COMMAND_INTX_DISABLE);

	cmd = vfio_cfg_read16(&self->d, PCI_COMMAND);
	vfio_cfg_write16(&self->d, PCI_COMMAND, cmd | PCI_COMMAND_INTX_DISABLE);
	EXPECT_TRUE(vfio_cfg_read16(&self->d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
	EXPECT_TRUE(hw_command(self->d.bdf) & PCI_COMMAND_INTX_DISABLE);
	if (variant->fire == FIRE_NONE) {
		/* nvme cannot be made to raise INTx: the bit, both ways */
		vfio_cfg_write16(&self->d, PCI_COMMAND, cmd & ~PCI_COMMAND_INTX_DISABLE);
		EXPECT_EQ(0, hw_command(self->d.bdf) & PCI_COMMAND_INTX_DISABLE);
		EXPECT_EQ(0, vfio_irq_disable(&self->d, INTX));
		return;
	}

	before = intx_count(self->d.bdf);
	fire(&self->d, variant->fire);
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));
	/* The line stayed quiet: no handler ran for it */
	EXPECT_EQ(before, intx_count(self->d.bdf));
	EXPECT_TRUE(hw_command(self->d.bdf) & PCI_COMMAND_INTX_DISABLE);

	/* Cleared while the device still asserts: delivered once, masked */
	vfio_cfg_write16(&self->d, PCI_COMMAND, cmd & ~PCI_COMMAND_INTX_DISABLE);
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));
	ack(&self->d, variant->fire);
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));

	/* And it works as before */
	fire(&self->d, variant->fire);
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	ack(&self->d, variant->fire);
	EXPECT_EQ(0, vfio_irq_disable(&self->d, INTX));
}

/*
 * A function handed over with INTx disabled in its command register (by a
 * host driver, or left so by the last user) comes to the user with the bit
 * clear, as upstream 6.12 hands it over (there vfio clears it itself; here
 * pci_enable_device() at open does, for every function with an INTx pin,
 * before the emulated space is read).  Runtime PM is held off meanwhile:
 * resuming from the idle D3 restores the state saved at suspend, which
 * would clear the bit before open sees it.
 */
TEST_F(irq, intx_disable_clear_at_open)
{
	char bdf[sizeof(self->d.bdf)], pm[sizeof(self->pm)] = "";
	uint16_t emulated, hw;

	ASSERT_EQ(1, self->nintx);
	memcpy(bdf, self->d.bdf, sizeof(bdf));
	vfio_dev_close(&self->d);
	ASSERT_EQ(0, vfio_sysfs_read(bdf, "power/control", pm, sizeof(pm)));
	/* teardown puts it back, also after a failed ASSERT */
	snprintf(self->pm, sizeof(self->pm), "%s", strtok(pm, "\n"));
	ASSERT_EQ(0, vfio_sysfs_write(bdf, "power/control", "on"));
	vfio_hw_cfg_write(bdf, PCI_COMMAND, hw_command(bdf) |
			  PCI_COMMAND_INTX_DISABLE, 2);
	ASSERT_TRUE(hw_command(bdf) & PCI_COMMAND_INTX_DISABLE);

	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	emulated = vfio_cfg_read16(&self->d, PCI_COMMAND);
	hw = hw_command(bdf);
	EXPECT_EQ(0, emulated & PCI_COMMAND_INTX_DISABLE);
	EXPECT_EQ(0, hw & PCI_COMMAND_INTX_DISABLE);
	if (variant->fire == FIRE_NONE)
		return;
	/* and INTx is delivered without the user touching the bit */
	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, set_efd(&self->d, INTX, self->efd[0]));
	fire(&self->d, variant->fire);
	EXPECT_EQ(1, wait_fd(self->efd[0], FIRE_MS));
	ack(&self->d, variant->fire);
	EXPECT_EQ(0, vfio_irq_disable(&self->d, INTX));
}

/*
 * Runtime suspend masks an unmasked INTx line and resume unmasks it; a line
 * the user masked stays masked across both.
 */
TEST_F(irq, intx_across_low_power)
{
	int32_t fd = self->efd[0];
	const char *bdf = self->d.bdf;

	if (!self->nintx)
		SKIP(return, "no INTx");
	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, set_efd(&self->d, INTX, fd));

	ASSERT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	EXPECT_TRUE(runtime_status_is(bdf, "suspended", 5000));
	ASSERT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	EXPECT_TRUE(runtime_status_is(bdf, "active", 5000));
	EXPECT_EQ(1, proc_irqs(bdf, "intx"));
	if (variant->fire != FIRE_NONE) {
		fire(&self->d, variant->fire);
		EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
		ack(&self->d, variant->fire);
		EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX,
					       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	}
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));

	/* Masked by the user: still masked after resume */
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	ASSERT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	EXPECT_TRUE(runtime_status_is(bdf, "suspended", 5000));
	ASSERT_EQ(0, low_power(&self->d, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	EXPECT_TRUE(runtime_status_is(bdf, "active", 5000));
	if (variant->fire != FIRE_NONE) {
		fire(&self->d, variant->fire);
		EXPECT_EQ(0, wait_fd(fd, QUIET_MS));
		EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX,
					       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
		EXPECT_EQ(1, wait_fd(fd, FIRE_MS));	/* was pending */
		ack(&self->d, variant->fire);
	}
	EXPECT_EQ(0, vfio_irq_disable(&self->d, INTX));
}

TEST_F(irq, intx_bad_input)
{
	int32_t fd = self->efd[0];
	struct {
		struct vfio_irq_set s;
		int32_t fd[2];
	} a = {
		.s = { .argsz = sizeof(a), .index = INTX, .count = 2,
		       .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER },
	};

	if (!self->nintx)
		SKIP(return, "no INTx");

	EXPECT_EQ(-EINVAL, set_irqs(&self->d, &a.s));
	ASSERT_EQ(0, set_efd(&self->d, INTX, fd));
	/* Mask through an eventfd is not offered */
	EXPECT_NE(0, set_one(&self->d, INTX, VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_MASK, self->efd[1]));
	/* Unmask eventfd must be an eventfd */
	EXPECT_EQ(-EBADF, set_one(&self->d, INTX, VFIO_IRQ_SET_DATA_EVENTFD |
				  VFIO_IRQ_SET_ACTION_UNMASK, 9999));
	/* Count 0 only disables with DATA_NONE */
	a.s.count = 0;
	a.s.flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
	EXPECT_NE(0, set_irqs(&self->d, &a.s));
	EXPECT_EQ(1, proc_irqs(self->d.bdf, "intx"));
	EXPECT_EQ(0, vfio_irq_disable(&self->d, INTX));
	EXPECT_EQ(0, proc_irqs(self->d.bdf, "intx"));
}

/* ---- ERR and REQ -------------------------------------------------------- */

static void single_trigger(struct __test_metadata *_metadata,
			   struct vfio_dev *d, const int *efd, uint32_t index)
{
	int fd = efd[0];
	uint8_t b;

	ASSERT_EQ(0, set_efd(d, index, fd));
	EXPECT_EQ(0, vfio_irq_set_none(d, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	b = 1;
	EXPECT_EQ(0, set_bools(d, index, 0, 1, &b));
	EXPECT_EQ(1, wait_fd(fd, FIRE_MS));
	b = 0;
	EXPECT_EQ(0, set_bools(d, index, 0, 1, &b));
	EXPECT_EQ(0, wait_fd(fd, QUIET_MS));

	/* Replaced: only the new eventfd hears it */
	ASSERT_EQ(0, set_efd(d, index, efd[1]));
	EXPECT_EQ(0, vfio_irq_set_none(d, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, wait_fd(efd[1], FIRE_MS));
	EXPECT_EQ(0, wait_fd(fd, 0));

	/* Cleared with fd -1: a loopback has nobody to signal */
	ASSERT_EQ(0, set_efd(d, index, -1));
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(d, index,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	b = 1;
	EXPECT_EQ(0, set_bools(d, index, 0, 1, &b));
	EXPECT_EQ(0, wait_fd(efd[1], QUIET_MS));

	/* Cleared with count 0 */
	ASSERT_EQ(0, set_efd(d, index, fd));
	EXPECT_EQ(0, vfio_irq_disable(d, index));
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(d, index,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(0, wait_fd(fd, 0));
}

TEST_F(irq, req_loopback)
{
	single_trigger(_metadata, &self->d, self->efd, REQ);
}

TEST_F(irq, err_loopback)
{
	/* Conventional PCI has no ERR index: refusing it is the test */
	if (!self->pcie_cap) {
		EXPECT_EQ(-EINVAL, set_efd(&self->d, ERR, self->efd[0]));
		return;
	}
	single_trigger(_metadata, &self->d, self->efd, ERR);
}

/* ---- Close and reopen --------------------------------------------------- */

TEST_F(irq, teardown_on_close)
{
	int32_t fds[2] = { self->efd[0], self->efd[1] };
	uint32_t index = self->nmsix >= 2 ? MSIX : MSI;
	const char *kind = index == MSIX ? "msix" : "msi[";
	uint32_t n = index == MSIX ? 2 : 1;
	const char *bdf = vfio_test_bdf(variant->name);

	ASSERT_NE(0, self->nmsix + self->nmsi);
	vfio_cmd_set(&self->d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, index, 0, n, fds));
	ASSERT_EQ(0, set_efd(&self->d, REQ, self->efd[2]));
	if (self->pcie_cap)
		ASSERT_EQ(0, set_efd(&self->d, ERR, self->efd[3]));
	EXPECT_EQ(n, proc_irqs(bdf, kind));

	/* Closing the device (with everything on) frees every handler */
	vfio_dev_close(&self->d);
	EXPECT_EQ(0, proc_irqs(bdf, ""));

	/* A new session starts clean and works */
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(&self->d, REQ, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(&self->d, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, index, 0, n, fds));
	EXPECT_EQ(n, proc_irqs(bdf, kind));
	drain(self->efd[0]);
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, wait_fd(self->efd[0], FIRE_MS));

	/* Eventfds closed by the user while bound: still a clean close */
	close(self->efd[0]);
	close(self->efd[1]);
	self->efd[0] = -1;
	self->efd[1] = -1;
	vfio_dev_close(&self->d);
	EXPECT_EQ(0, proc_irqs(bdf, ""));
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
}

TEST_F(irq, teardown_intx_on_close)
{
	const char *bdf = vfio_test_bdf(variant->name);

	if (!self->nintx)
		SKIP(return, "no INTx");
	ASSERT_EQ(0, set_efd(&self->d, INTX, self->efd[0]));
	ASSERT_EQ(0, set_one(&self->d, INTX, VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_UNMASK, self->efd[1]));
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	EXPECT_EQ(1, proc_irqs(bdf, "intx"));
	vfio_dev_close(&self->d);
	EXPECT_EQ(0, proc_irqs(bdf, ""));

	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
	ASSERT_EQ(0, set_efd(&self->d, INTX, self->efd[2]));
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, wait_fd(self->efd[2], FIRE_MS));
	/* The old unmask eventfd is not attached to the new session */
	EXPECT_EQ(0, vfio_irq_set_none(&self->d, INTX, VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	EXPECT_EQ(0, vfio_irq_disable(&self->d, INTX));
}

/*
 * Multi-message MSI (QEMU's xHCI offers 16 messages).  With interrupt
 * remapping the platform gives every vector asked for.  Without it (a
 * guest booted with intremap=off) x86 gives one: SET_IRQS answers with
 * that number and enables nothing, and asking again for that many works,
 * which is how QEMU falls back.
 */
TEST(msi_multi)
{
	const char *bdf = vfio_test_bdf("xhci");
	int32_t fds[4] = { -1, -1, -1, -1 };
	uint32_t want, nmsi;
	struct vfio_dev d;
	char cmdline[1024] = "";
	bool remap;
	int cap, ret, i, f;
	ssize_t n;

	if (!bdf)
		SKIP(return, "no xhci device bound");
	f = open("/proc/cmdline", O_RDONLY);
	ASSERT_LE(0, f);
	n = read(f, cmdline, sizeof(cmdline) - 1);
	close(f);
	ASSERT_LT(0, n);
	remap = !strstr(cmdline, "intremap=off");

	ASSERT_EQ(0, vfio_dev_open(&d, bdf));
	cap = vfio_cfg_find_cap(&d, PCI_CAP_ID_MSI);
	ASSERT_NE(0, cap);
	nmsi = 1u << ((vfio_cfg_read16(&d, cap + PCI_MSI_FLAGS) &
		       PCI_MSI_FLAGS_QMASK) >> 1);
	ASSERT_LE(2u, nmsi);
	want = nmsi < 4 ? nmsi : 4;
	for (i = 0; i < (int)want; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, fds[i]);
	}
	vfio_cmd_set(&d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

	ret = vfio_irq_set_eventfds(&d, MSI, 0, want, fds);
	if (!remap) {
		/* Fewer offered, nothing left enabled */
		ASSERT_LT(0, ret);
		ASSERT_GT((int)want, ret);
		EXPECT_EQ(0, proc_irqs(bdf, "msi["));
		EXPECT_EQ(0u, vfio_hw_cfg_read(bdf, cap + PCI_MSI_FLAGS, 2) &
			      PCI_MSI_FLAGS_ENABLE);
		EXPECT_EQ(-EINVAL, vfio_irq_set_none(&d, MSI,
						     VFIO_IRQ_SET_ACTION_TRIGGER,
						     0, 1));
		want = ret;
		ret = vfio_irq_set_eventfds(&d, MSI, 0, want, fds);
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ((int)want, proc_irqs(bdf, "msi["));
	EXPECT_NE(0u, vfio_hw_cfg_read(bdf, cap + PCI_MSI_FLAGS, 2) &
		      PCI_MSI_FLAGS_ENABLE);
	/* Each vector reaches its own eventfd (loopback) */
	for (i = 0; i < (int)want; i++) {
		EXPECT_EQ(0, vfio_irq_set_none(&d, MSI,
					       VFIO_IRQ_SET_ACTION_TRIGGER,
					       i, 1));
		EXPECT_EQ(1, wait_fd(fds[i], FIRE_MS));
	}
	EXPECT_EQ(0, vfio_irq_disable(&d, MSI));
	EXPECT_EQ(0, proc_irqs(bdf, "msi["));
	vfio_dev_close(&d);
	for (i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

TEST_HARNESS_MAIN
