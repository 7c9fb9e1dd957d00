// SPDX-License-Identifier: GPL-2.0-only
/*
 * SR-IOV and the VF token.
 *
 * The harness boots an nvme PF with two VFs possible ("nvme-sriov"), binds
 * the PF to vfio-pci and, with --modparam "vfio-pci enable_sriov=1", lets
 * sriov_numvfs enable VFs.  The PF is opened before any VF exists and
 * stays open until every VF is gone again: closing it resets it, and a PF
 * is never reset under its VFs here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define WAIT_MS		5000

static const uint8_t token_a[16] = {
	0x5c, 0x3e, 0x8a, 0x01, 0x4b, 0x7d, 0x4f, 0x20,
	0x91, 0x6e, 0x0b, 0xd2, 0x33, 0xa4, 0x57, 0xc8,
};

static const uint8_t token_b[16] = {
	0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x49, 0x78,
	0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

/* " vf_token=<uuid>" for a 16-byte token */
static void token_arg(char *buf, size_t len, const uint8_t *t)
{
	snprintf(buf, len,
		 " vf_token=%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9],
		 t[10], t[11], t[12], t[13], t[14], t[15]);
}

/* Basename of the symlink /sys/bus/pci/devices/<bdf>/<link>, or "" */
static void sysfs_link(const char *bdf, const char *link, char *buf, size_t len)
{
	char path[256], target[PATH_MAX];
	ssize_t n;
	char *slash;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, link);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = 0;
	slash = strrchr(target, '/');
	slash = slash ? slash + 1 : target;
	if (strlen(slash) < len)
		memcpy(buf, slash, strlen(slash) + 1);
}

static int set_token(struct vfio_dev *d, const uint8_t *t, uint32_t flags,
		     size_t len)
{
	uint8_t buf[sizeof(struct vfio_device_feature) + 16] = {};
	struct vfio_device_feature *f = (void *)buf;

	f->argsz = sizeof(*f) + len;
	f->flags = flags | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	if (t)
		memcpy(f->data, t, 16);
	return ioctl(d->fd, VFIO_DEVICE_FEATURE, f) ? -errno : 0;
}

/* The PF, and the VF when one is enabled */
struct sriov_ctx {
	struct vfio_dev pf;
	struct vfio_dev vf;
	char vf_bdf[32];
	bool vfs_enabled;
	pid_t child_pid;	/* a child writing to sysfs (unbind, VF count), to reap */
};

FIXTURE(sriov) {
	struct sriov_ctx c;
};

FIXTURE_VARIANT(sriov) {
	const char *name;
};

FIXTURE_VARIANT_ADD(sriov, nvme_sriov) { .name = "nvme_sriov" };

FIXTURE_SETUP(sriov)
{
	const char *bdf = vfio_test_bdf(variant->name);
	char buf[32];

	self->c.pf.fd = -1;
	self->c.pf.group = -1;
	self->c.pf.container = -1;
	self->c.vf.fd = -1;
	self->c.vf.group = -1;
	self->c.vf.container = -1;
	if (!bdf)
		SKIP(return, "no %s device bound", variant->name);
	ASSERT_EQ(0, vfio_sysfs_read(bdf, "sriov_totalvfs", buf, sizeof(buf)));
	ASSERT_LE(1, atoi(buf));
	ASSERT_EQ(0, vfio_sysfs_read(bdf, "sriov_numvfs", buf, sizeof(buf)));
	ASSERT_EQ(0, atoi(buf));
	ASSERT_EQ(0, vfio_dev_open(&self->c.pf, bdf));
}

static void vf_close(struct sriov_ctx *c)
{
	vfio_dev_close(&c->vf);
}

/*
 * Write @val to @bdf's sysfs attribute @attr in a child that holds none of
 * our fds, so a test that dies mid-way (its fds close) never leaves the
 * write waiting for a user that is gone.  Returns the child's pid, or -1.
 */
static pid_t write_in_child(const char *bdf, const char *attr, const char *val)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	close_range(3, ~0U, 0);
	_exit(vfio_sysfs_write(bdf, attr, val) ? 1 : 0);
}

/* The child's exit status once it ended within @ms, else -1 */
static int child_done(pid_t pid, int ms)
{
	int status;

	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		if (ms <= 0)
			return -1;
		usleep(10000);
		ms -= 10;
	}
}

FIXTURE_TEARDOWN(sriov)
{
	pid_t pid;

	vf_close(&self->c);
	/*
	 * Removing the VFs waits for their users: from a child, and for a
	 * bounded time, so an fd a failed test left open cannot hang us
	 */
	if (self->c.vfs_enabled) {
		pid = write_in_child(self->c.pf.bdf, "sriov_numvfs", "0");
		if (pid > 0)
			child_done(pid, 20000);
	}
	vfio_dev_close(&self->c.pf);
	/*
	 * With every fd closed a pending unbind or VF removal completes; bind
	 * the PF again
	 */
	if (self->c.child_pid > 0) {
		waitpid(self->c.child_pid, NULL, 0);
		self->c.child_pid = 0;
	}
	if (self->c.pf.bdf[0])
		vfio_bind_to_vfio_pci(self->c.pf.bdf);
}

/* Enable one VF and wait for it to bind to vfio-pci */
static void enable_vf(struct __test_metadata *_metadata,
		      struct sriov_ctx *c)
{
	char drv[64];
	int ret, waited;

	/* Only a vfio-pci loaded without enable_sriov=1 may refuse */
	ret = vfio_sysfs_write(c->pf.bdf, "sriov_numvfs", "1");
	if (ret == -ENOENT && vfio_module_param("vfio_pci", "enable_sriov") == 0)
		SKIP(return, "vfio-pci was loaded without enable_sriov=1");
	ASSERT_EQ(0, ret);
	c->vfs_enabled = true;

	sysfs_link(c->pf.bdf, "virtfn0", c->vf_bdf, sizeof(c->vf_bdf));
	ASSERT_NE(0, c->vf_bdf[0]);

	for (waited = 0; waited < WAIT_MS; waited += 10) {
		sysfs_link(c->vf_bdf, "driver", drv, sizeof(drv));
		if (drv[0])
			break;
		usleep(10000);
	}
	ASSERT_STREQ("vfio-pci", drv);
	ASSERT_EQ(0, vfio_sysfs_read(c->vf_bdf, "driver_override", drv, sizeof(drv)));
	ASSERT_STREQ("vfio-pci", drv);
}

/*
 * Open the VF with @extra appended to its name.  A VF sharing the PF's
 * IOMMU group is opened through the PF's group; 0 or -errno.
 */
static int vf_open(struct sriov_ctx *c, const char *extra)
{
	char name[128];
	int fd;

	vf_close(c);	/* an open a failed check let through */
	if (vfio_group_of(c->vf_bdf) != c->pf.groupno)
		return vfio_dev_open_ex(&c->vf, c->vf_bdf, extra);

	snprintf(name, sizeof(name), "%s%s", c->vf_bdf, extra ? extra : "");
	fd = ioctl(c->pf.group, VFIO_GROUP_GET_DEVICE_FD, name);
	if (fd < 0)
		return -errno;
	c->vf.fd = fd;
	return 0;
}

/*
 * Open @bdf once more through @group with @extra appended to its name and
 * check the outcome: an fd when @ok (closed again), else EACCES
 */
static void check_second_open(struct __test_metadata *_metadata, int group,
			      const char *bdf, const char *extra, bool ok)
{
	char name[128];
	int fd, err;

	snprintf(name, sizeof(name), "%s%s", bdf, extra);
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);
	err = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(ok ? 0 : EACCES, err);
}

TEST_F(sriov, vf_token)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char good[80], bad[80];
	int vf_group;

	token_arg(good, sizeof(good), token_a);
	token_arg(bad, sizeof(bad), token_b);

	ASSERT_EQ(0, set_token(&self->c.pf, token_a, VFIO_DEVICE_FEATURE_SET, 16));
	enable_vf(_metadata, &self->c);

	/* The PF is a vfio device: its VFs need its token */
	EXPECT_EQ(-EACCES, vf_open(&self->c, NULL));
	EXPECT_EQ(-EACCES, vf_open(&self->c, bad));
	ASSERT_EQ(0, vf_open(&self->c, good));
	EXPECT_EQ(0, ioctl(self->c.vf.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);

	/*
	 * The token may change while a VF is open, as upstream (a PF user
	 * that restarts sets the token again): the open VF keeps working,
	 * later opens need the new token.
	 */
	EXPECT_EQ(0, set_token(&self->c.pf, token_a, VFIO_DEVICE_FEATURE_SET, 16));
	EXPECT_EQ(0, set_token(&self->c.pf, token_b, VFIO_DEVICE_FEATURE_SET, 16));
	info.argsz = sizeof(info);
	EXPECT_EQ(0, ioctl(self->c.vf.fd, VFIO_DEVICE_GET_INFO, &info));
	/* vf_open() left vf.group at -1 when the VF shares the PF's group */
	vf_group = self->c.vf.group >= 0 ? self->c.vf.group : self->c.pf.group;
	check_second_open(_metadata, vf_group, self->c.vf_bdf, good, false);
	check_second_open(_metadata, vf_group, self->c.vf_bdf, bad, true);
	/* With a VF open, a second PF user needs the new token too */
	check_second_open(_metadata, self->c.pf.group, self->c.pf.bdf, good, false);
	check_second_open(_metadata, self->c.pf.group, self->c.pf.bdf, bad, true);

	vf_close(&self->c);
	ASSERT_EQ(0, vfio_sysfs_write(self->c.pf.bdf, "sriov_numvfs", "0"));
	self->c.vfs_enabled = false;
	{
		char link[32];

		sysfs_link(self->c.pf.bdf, "virtfn0", link, sizeof(link));
		EXPECT_STREQ("", link);
	}
}

/*
 * Set token A, enable a VF and open it with that token, and give the PF
 * and the VF each a REQ eventfd (returned in @pf_req and @vf_req)
 */
static void open_vf_with_reqs(struct __test_metadata *_metadata,
			      struct sriov_ctx *c, int *pf_req, int *vf_req)
{
	char good[80];

	token_arg(good, sizeof(good), token_a);
	ASSERT_EQ(0, set_token(&c->pf, token_a, VFIO_DEVICE_FEATURE_SET, 16));
	enable_vf(_metadata, c);
	ASSERT_EQ(0, vf_open(c, good));
	*pf_req = eventfd(0, EFD_CLOEXEC);
	*vf_req = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, *pf_req);
	ASSERT_LE(0, *vf_req);
	ASSERT_EQ(0, vfio_irq_set_eventfds(&c->pf, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, pf_req));
	ASSERT_EQ(0, vfio_irq_set_eventfds(&c->vf, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, vf_req));
}

/*
 * The PF leaves vfio-pci while its user and a VF's user hold both open:
 * the VF's user is asked to let go first, and the PF's user only once the
 * VF is gone (a PF user may keep the PF until its VFs stop).  The fixture's
 * teardown reaps the unbinding child and binds the PF again whatever
 * happened here.
 */
TEST_F_TIMEOUT(sriov, pf_unbind_asks_vf_users_first, 90)
{
	char link[32];
	int pf_req, vf_req, ret;

	open_vf_with_reqs(_metadata, &self->c, &pf_req, &vf_req);

	self->c.child_pid = write_in_child(self->c.pf.bdf, "driver/unbind", self->c.pf.bdf);
	ASSERT_LT(0, self->c.child_pid);

	EXPECT_NE(0, vfio_eventfd_wait(vf_req, 5000));
	EXPECT_EQ(0, vfio_eventfd_wait(pf_req, 300));
	vf_close(&self->c);

	EXPECT_NE(0, vfio_eventfd_wait(pf_req, 5000));
	EXPECT_EQ(-1, child_done(self->c.child_pid, 0));
	vfio_dev_close(&self->c.pf);
	ret = child_done(self->c.child_pid, 20000);
	EXPECT_EQ(0, ret);
	if (!ret) {	/* else the teardown reaps it */
		self->c.child_pid = 0;
		self->c.vfs_enabled = false;
	}
	sysfs_link(self->c.pf.bdf, "virtfn0", link, sizeof(link));
	EXPECT_STREQ("", link);
	close(pf_req);
	close(vf_req);
}

/*
 * Writing 0 to sriov_numvfs while a VF is open waits for the VF's user,
 * asking it through the REQ interrupt, as upstream; the PF stays.
 */
TEST_F_TIMEOUT(sriov, numvfs_zero_asks_vf_user, 90)
{
	struct vfio_device_info info;
	char link[32], vf_dir[96];
	int pf_req, vf_req, ret;

	open_vf_with_reqs(_metadata, &self->c, &pf_req, &vf_req);

	self->c.child_pid = write_in_child(self->c.pf.bdf, "sriov_numvfs", "0");
	ASSERT_LT(0, self->c.child_pid);
	EXPECT_NE(0, vfio_eventfd_wait(vf_req, 5000));
	/*
	 * The write waits for the VF's user; the VF has lost its virtfn link
	 * but still works, and the PF's user is not asked for anything
	 */
	EXPECT_EQ(-1, child_done(self->c.child_pid, 0));
	sysfs_link(self->c.pf.bdf, "virtfn0", link, sizeof(link));
	EXPECT_STREQ("", link);
	snprintf(vf_dir, sizeof(vf_dir), "/sys/bus/pci/devices/%s", self->c.vf_bdf);
	EXPECT_EQ(0, access(vf_dir, F_OK));
	info.argsz = sizeof(info);
	EXPECT_EQ(0, ioctl(self->c.vf.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(0, vfio_eventfd_wait(pf_req, 300));

	vf_close(&self->c);
	ret = child_done(self->c.child_pid, 20000);
	EXPECT_EQ(0, ret);
	if (!ret) {	/* else the teardown removes the VFs and reaps it */
		self->c.child_pid = 0;
		self->c.vfs_enabled = false;
	}
	EXPECT_NE(0, access(vf_dir, F_OK));
	info.argsz = sizeof(info);
	EXPECT_EQ(0, ioctl(self->c.pf.fd, VFIO_DEVICE_GET_INFO, &info));
	close(pf_req);
	close(vf_req);
}

TEST_F(sriov, token_set_by_pf_open)
{
	char a[80], b[80];

	token_arg(a, sizeof(a), token_a);
	token_arg(b, sizeof(b), token_b);

	/*
	 * No VF in use (none exists yet): a token given when opening the PF
	 * sets it.  Reopening the PF resets it, before any VF exists.
	 */
	vfio_dev_close(&self->c.pf);
	ASSERT_EQ(0, vfio_dev_open_ex(&self->c.pf, vfio_test_bdf(variant->name), b));

	enable_vf(_metadata, &self->c);
	EXPECT_EQ(-EACCES, vf_open(&self->c, a));
	ASSERT_EQ(0, vf_open(&self->c, b));
	vf_close(&self->c);
}

TEST_F(sriov, token_feature_flags)
{
	EXPECT_EQ(0, set_token(&self->c.pf, NULL, VFIO_DEVICE_FEATURE_PROBE |
			       VFIO_DEVICE_FEATURE_SET, 0));
	/* Never readable: it is a shared secret */
	EXPECT_EQ(-EINVAL, set_token(&self->c.pf, NULL, VFIO_DEVICE_FEATURE_GET, 16));
	EXPECT_EQ(-EINVAL, set_token(&self->c.pf, NULL, VFIO_DEVICE_FEATURE_PROBE |
				    VFIO_DEVICE_FEATURE_GET, 0));
	/* A whole UUID or nothing */
	EXPECT_EQ(-EINVAL, set_token(&self->c.pf, token_a, VFIO_DEVICE_FEATURE_SET, 8));
	EXPECT_EQ(-EINVAL, set_token(&self->c.pf, token_a, 0, 16));
	EXPECT_EQ(0, set_token(&self->c.pf, token_a, VFIO_DEVICE_FEATURE_SET, 16));
}

TEST_F(sriov, pf_stays_in_d0_under_vfs)
{
	char a[80], state[32];
	uint16_t pmcsr, d3;
	int pm = vfio_cfg_find_cap(&self->c.pf, PCI_CAP_ID_PM);

	if (!pm)
		SKIP(return, "the PF has no PM capability");

	token_arg(a, sizeof(a), token_a);
	ASSERT_EQ(0, set_token(&self->c.pf, token_a, VFIO_DEVICE_FEATURE_SET, 16));
	enable_vf(_metadata, &self->c);

	/* The user asks for D3hot; the PF must not leave D0 under its VFs */
	pmcsr = vfio_cfg_read16(&self->c.pf, pm + PCI_PM_CTRL);
	d3 = (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | 3;
	/* Refusing the write or ignoring it are both fine; D3hot is not */
	vfio_region_write(&self->c.pf, VFIO_PCI_CONFIG_REGION_INDEX,
			  pm + PCI_PM_CTRL, &d3, 2);
	usleep(100000);
	ASSERT_EQ(0, vfio_sysfs_read(self->c.pf.bdf, "power_state", state, sizeof(state)));
	EXPECT_STREQ("D0", state);

	ASSERT_EQ(0, vf_open(&self->c, a));
	vf_close(&self->c);
	vfio_cfg_write16(&self->c.pf, pm + PCI_PM_CTRL,
			 pmcsr & ~PCI_PM_CTRL_STATE_MASK);
}

/* A token where none applies: a function that is neither PF nor VF */
TEST(token_on_plain_function)
{
	const char *bdf = vfio_test_bdf("e1000e");
	struct vfio_dev d;
	char a[80];

	if (!bdf)
		SKIP(return, "no e1000e device bound");
	token_arg(a, sizeof(a), token_a);
	EXPECT_EQ(-EINVAL, vfio_dev_open_ex(&d, bdf, a));

	ASSERT_EQ(0, vfio_dev_open(&d, bdf));
	EXPECT_EQ(-ENOTTY, set_token(&d, token_a, VFIO_DEVICE_FEATURE_SET, 16));
	EXPECT_EQ(-ENOTTY, set_token(&d, NULL, VFIO_DEVICE_FEATURE_PROBE |
				    VFIO_DEVICE_FEATURE_SET, 0));
	vfio_dev_close(&d);
}

TEST_HARNESS_MAIN
