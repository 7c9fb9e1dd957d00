// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci's PF side and the fusion of its two halves.
 *
 * sim_*: the firmware simulator's interface as users script it
 * (/sys/bus/mlx5_vfio_sim/new_vf and del_vf, its debugfs knobs): what it
 * accepts, what it refuses with which errno, and that the auxiliary device
 * mlx5_core.vfio_pci.<id> comes and goes with it.
 *
 * fusion_*: the one vfio_device of mlx5-vfio-pci exists while, and only
 * while, both halves are bound, in either probe order; removing either
 * half (or unloading either module) while a user holds the device raises
 * the REQ interrupt and completes once the user closes; each failure knob
 * of the simulator reaches the user as an errno and the device recovers
 * after a reset.
 *
 * Needs the boot to load mlx5-vfio-sim and mlx5-vfio-pci and to have an
 * ivshmem-plain function (VFIO_IVSHMEM_BDF); both .ko files are in
 * /lib/modules/extra for the unload/reload tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define SIM_BUS "/sys/bus/mlx5_vfio_sim"
#define SIM_DBG "/sys/kernel/debug/mlx5_vfio_sim"
#define SIM_KO "/lib/modules/extra/mlx5-vfio-sim.ko"
#define DRV "mlx5_vfio_pci"
#define DRV_KO "/lib/modules/extra/mlx5-vfio-pci.ko"

static int sim_new(const char *bdf)
{
	return vfio_write_file(SIM_BUS "/new_vf", bdf);
}

static int sim_del(const char *bdf)
{
	return vfio_write_file(SIM_BUS "/del_vf", bdf);
}

/* The auxiliary device's name for the function at @bdf */
static void aux_path(const char *bdf, char *path, size_t len)
{
	unsigned int d, b, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &d, &b, &dev, &fn) != 4) {
		snprintf(path, len, "/nonexistent");
		return;
	}
	snprintf(path, len, "/sys/bus/auxiliary/devices/mlx5_core.vfio_pci.%u",
		 d << 16 | b << 8 | dev << 3 | fn);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool sim_dir_exists(const char *bdf)
{
	char path[160];

	snprintf(path, sizeof(path), SIM_DBG "/%s", bdf);
	return exists(path);
}

static int module_load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret ? -errno : 0;
}

static int module_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

FIXTURE(sim) {
	const char *bdf;
	char aux[160];
};

FIXTURE_SETUP(sim)
{
	self->bdf = vfio_test_bdf("ivshmem");
	ASSERT_NE(NULL, self->bdf);
	ASSERT_TRUE(exists(SIM_BUS "/new_vf"));
	aux_path(self->bdf, self->aux, sizeof(self->aux));
	/* a leftover of an earlier failed test */
	sim_del(self->bdf);
}

FIXTURE_TEARDOWN(sim)
{
	sim_del(self->bdf);
}

/* Anything but a canonical DDDD:BB:DD.F is refused before any lookup */
TEST_F(sim, bad_addresses)
{
	static const char * const bad[] = {
		"\n", "garbage", "0000:00:05", "0000:00:05.", "0000:00:20.0",
		"0000:00:05.8", "00000:00:05.0", "0000:000:05.0", "0000:00:05.0x",
		"0000:00:05.0\n\n", "0000-00:05.0", "0000:00:05:0", " 0000:00:05.0",
		"000g:00:05.0", "0x00:00:05.0",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, sim_new(bad[i])) TH_LOG("new_vf \"%s\"", bad[i]);
		EXPECT_EQ(-EINVAL, sim_del(bad[i])) TH_LOG("del_vf \"%s\"", bad[i]);
	}
	/* well formed, but no such function */
	EXPECT_EQ(-ENODEV, sim_new("0000:fe:1f.7"));
	EXPECT_EQ(-ENOENT, sim_del("0000:fe:1f.7"));
	/* well formed, exists, but has no simulated VF */
	EXPECT_EQ(-ENOENT, sim_del(self->bdf));
}

/* new_vf creates the auxiliary device and knobs, del_vf removes them */
TEST_F(sim, new_del)
{
	char buf[64], upper[16];
	unsigned int i;

	ASSERT_FALSE(exists(self->aux));
	ASSERT_EQ(0, sim_new(self->bdf));
	EXPECT_TRUE(exists(self->aux)) TH_LOG("%s missing", self->aux);
	EXPECT_TRUE(sim_dir_exists(self->bdf));
	EXPECT_EQ(-EEXIST, sim_new(self->bdf));
	/* the same address in upper case names the same function */
	for (i = 0; self->bdf[i] && i < sizeof(upper) - 1; i++)
		upper[i] = self->bdf[i] >= 'a' && self->bdf[i] <= 'f' ?
			   self->bdf[i] - 'a' + 'A' : self->bdf[i];
	upper[i] = 0;
	EXPECT_EQ(-EEXIST, sim_new(upper));
	/* ids the driver queries: distinct, nonzero */
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "vhca_id", buf, sizeof(buf)));
	EXPECT_NE(0, strtoul(buf, NULL, 0));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "function_id", buf, sizeof(buf)));
	EXPECT_NE(0, strtoul(buf, NULL, 0));

	ASSERT_EQ(0, sim_del(self->bdf));
	EXPECT_FALSE(exists(self->aux));
	EXPECT_FALSE(sim_dir_exists(self->bdf));
	EXPECT_EQ(-ENOENT, sim_del(self->bdf));
	/* and again: nothing left behind blocks a new one */
	ASSERT_EQ(0, sim_new(self->bdf));
	EXPECT_TRUE(exists(self->aux));
	ASSERT_EQ(0, sim_del(upper));
	EXPECT_FALSE(exists(self->aux));
}

/* The failure knobs parse what they document and refuse the rest */
TEST_F(sim, knobs)
{
	static const struct { const char *in, *out; } fail_next[] = {
		{ "118", "0x118" }, { "0x119\n", "0x119" }, { "any", "any" },
		{ "ANY", NULL }, { "none", "none" }, { "ffff", "0xffff" },
		{ "10000", NULL }, { "-1", NULL }, { "zzz", NULL },
		{ "0x", NULL }, { "1 2", NULL }, { "\n", NULL },
	};
	char buf[300], expect[16] = "none";
	unsigned int i;

	ASSERT_EQ(0, sim_new(self->bdf));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "fail_next", buf, sizeof(buf)));
	EXPECT_STREQ("none", buf);
	for (i = 0; i < ARRAY_SIZE(fail_next); i++) {
		int ret = vfio_mlx5_knob_write(self->bdf, "fail_next", fail_next[i].in);

		if (fail_next[i].out) {
			EXPECT_EQ(0, ret) TH_LOG("fail_next \"%s\"", fail_next[i].in);
			snprintf(expect, sizeof(expect), "%s", fail_next[i].out);
		} else {
			EXPECT_EQ(-EINVAL, ret) TH_LOG("fail_next \"%s\"", fail_next[i].in);
		}
		ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "fail_next", buf, sizeof(buf)));
		EXPECT_STREQ(expect, buf) TH_LOG("after \"%s\"", fail_next[i].in);
	}

	EXPECT_EQ(0, vfio_mlx5_knob_write(self->bdf, "cmd_delay_ms", "25"));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "cmd_delay_ms", buf, sizeof(buf)));
	EXPECT_STREQ("25", buf);
	EXPECT_NE(0, vfio_mlx5_knob_write(self->bdf, "cmd_delay_ms", "soon"));
	EXPECT_EQ(0, vfio_mlx5_knob_write(self->bdf, "corrupt_next_save", "Y"));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "corrupt_next_save", buf, sizeof(buf)));
	EXPECT_STREQ("Y", buf);
	EXPECT_EQ(0, vfio_mlx5_knob_write(self->bdf, "corrupt_next_save", "N"));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "corrupt_next_save", buf, sizeof(buf)));
	EXPECT_STREQ("N", buf);
	/* its page-only sibling: a boolean too, independent of it */
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "corrupt_next_save_page", buf, sizeof(buf)));
	EXPECT_STREQ("N", buf);
	EXPECT_EQ(0, vfio_mlx5_knob_write(self->bdf, "corrupt_next_save_page", "1"));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "corrupt_next_save_page", buf, sizeof(buf)));
	EXPECT_STREQ("Y", buf);
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "corrupt_next_save", buf, sizeof(buf)));
	EXPECT_STREQ("N", buf);
	/* a debugfs boolean ignores what it cannot parse (and says 0) */
	vfio_mlx5_knob_write(self->bdf, "corrupt_next_save_page", "maybe");
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "corrupt_next_save_page", buf, sizeof(buf)));
	EXPECT_STREQ("Y", buf);
	EXPECT_EQ(0, vfio_mlx5_knob_write(self->bdf, "corrupt_next_save_page", "0"));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "corrupt_next_save_page", buf, sizeof(buf)));
	EXPECT_STREQ("N", buf);

	/* the VHCA context: 256 bytes, written within bounds only */
	{
		char path[160], pat[256];
		int fd;

		snprintf(path, sizeof(path), SIM_DBG "/%s/context", self->bdf);
		fd = open(path, O_RDWR);
		ASSERT_LE(0, fd);
		EXPECT_EQ(256, read(fd, buf, sizeof(buf)));
		for (i = 0; i < sizeof(pat); i++)
			pat[i] = i * 7 + 1;
		EXPECT_EQ(256, pwrite(fd, pat, 256, 0));
		EXPECT_EQ(-1, pwrite(fd, pat, 2, 255));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, pwrite(fd, pat, 1, 256));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(256, pread(fd, buf, sizeof(buf), 0));
		EXPECT_EQ(0, memcmp(buf, pat, 256));
		close(fd);
	}
	ASSERT_EQ(0, sim_del(self->bdf));
}

/* Two VFs at once, and the simulator unloaded while they exist */
TEST_F(sim, unload_with_vfs)
{
	const char *bdf2 = vfio_test_bdf("ivshmem2");

	ASSERT_EQ(0, sim_new(self->bdf));
	if (bdf2) {
		sim_del(bdf2);	/* a leftover of another program */
		ASSERT_EQ(0, sim_new(bdf2));
		EXPECT_TRUE(sim_dir_exists(bdf2));
	}
	ASSERT_EQ(0, module_unload("mlx5_vfio_sim"));
	EXPECT_FALSE(exists(self->aux));
	EXPECT_FALSE(exists(SIM_BUS));
	EXPECT_FALSE(exists(SIM_DBG));
	ASSERT_EQ(0, module_load(SIM_KO));
	EXPECT_TRUE(exists(SIM_BUS "/new_vf"));
	ASSERT_EQ(0, sim_new(self->bdf));
	EXPECT_TRUE(exists(self->aux));
	ASSERT_EQ(0, sim_del(self->bdf));
}

/* ---- the fused driver ---- */

static int unbind_driver(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	return exists(path) ? vfio_write_file(path, bdf) : 0;
}

static int status(const char *bdf, char *buf, size_t len)
{
	return vfio_sysfs_read(bdf, "mlx5_vfio_status", buf, len);
}

#define FUSED	"vf=bound pf=bound vfio=registered migration=offered"
#define VF_ONLY	"vf=bound pf=unbound vfio=none migration=no"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static bool wait_flag(volatile int *flag, int ms)
{
	while (ms > 0 && !*flag) {
		usleep(10000);
		ms -= 10;
	}
	return *flag;
}

/* Something that blocks, run in a thread */
struct bg {
	pthread_t t;
	char path[160];
	char val[64];
	int unload;		/* delete_module(val) instead of a write */
	volatile int done;
	int ret;
};

static void *bg_run(void *arg)
{
	struct bg *b = arg;

	if (b->unload)
		b->ret = syscall(SYS_delete_module, b->val, O_NONBLOCK) ? -errno : 0;
	else
		b->ret = vfio_write_file(b->path, b->val);
	b->done = 1;
	return NULL;
}

static int bg_start(struct bg *b, const char *path, const char *val, int unload)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->path, sizeof(b->path), "%s", path);
	snprintf(b->val, sizeof(b->val), "%s", val);
	b->unload = unload;
	return pthread_create(&b->t, NULL, bg_run, b);
}

static int mig_flags(struct vfio_dev *d, uint64_t *flags)
{
	struct vfio_device_feature_migration m = {};
	int ret;

	ret = vfio_device_feature(d->fd, VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_MIGRATION, &m, sizeof(m));
	*flags = m.flags;
	return ret;
}

/*
 * Save the device's stop-copy stream and load it back into the same
 * device, ending RUNNING.  Every command of migration runs: SUSPEND_VHCA,
 * QUERY_VHCA_MIGRATION_STATE, memory keys, SAVE_VHCA_STATE,
 * LOAD_VHCA_STATE, RESUME_VHCA.  0 or the first -errno.
 */
static int roundtrip(struct vfio_dev *d, int corrupt_at)
{
	size_t len = 0, cap = 0, off;
	uint8_t *buf = NULL;
	int fd, ret;
	ssize_t n;

	ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	if (!ret)
		ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (ret)
		return ret;
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = read(fd, buf + len, 65536);
		if (n <= 0) {
			ret = n ? -errno : 0;
			break;
		}
		len += n;
	}
	close(fd);
	if (!ret)
		ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	if (!ret && corrupt_at >= 0 && (size_t)corrupt_at < len)
		buf[corrupt_at] ^= 0xff;
	if (!ret)
		ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_RESUMING, &fd);
	if (!ret) {
		for (off = 0; !ret && off < len; off += n) {
			n = write(fd, buf + off, len - off);
			ret = n < 0 ? -errno : n ? 0 : -EIO;
		}
		if (!ret)
			ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
		close(fd);
	}
	if (!ret)
		ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL);
	free(buf);
	return ret;
}

FIXTURE(fusion) {
	const char *bdf;
	char aux[160];
	char st[128];
	struct vfio_dev d;
	bool open;
	int req;
};

static void fusion_open(struct __test_metadata *_metadata,
			struct _test_data_fusion *self)
{
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
	self->open = true;
	ASSERT_LE(0, self->req = eventfd(0, EFD_CLOEXEC));
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, VFIO_PCI_REQ_IRQ_INDEX, 0, 1,
					   &self->req));
}

static void fusion_close(struct _test_data_fusion *self)
{
	if (self->open)
		vfio_dev_close(&self->d);
	self->open = false;
	if (self->req > 0)
		close(self->req);
	self->req = -1;
}

FIXTURE_SETUP(fusion)
{
	self->req = -1;
	self->bdf = vfio_test_bdf("ivshmem");
	ASSERT_NE(NULL, self->bdf);
	aux_path(self->bdf, self->aux, sizeof(self->aux));
	sim_del(self->bdf);
	ASSERT_EQ(0, vfio_bind_driver(self->bdf, DRV));
	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	ASSERT_STREQ(VF_ONLY, self->st);
}

FIXTURE_TEARDOWN(fusion)
{
	fusion_close(self);
	sim_del(self->bdf);
	vfio_bind_driver(self->bdf, "vfio-pci");
}

/* The halves are fused: open the device, which offers every migration flag */
static void open_with_migration(struct __test_metadata *_metadata,
				struct _test_data_fusion *self)
{
	uint64_t flags;

	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	EXPECT_STREQ(FUSED, self->st);
	fusion_open(_metadata, self);
	ASSERT_EQ(0, mig_flags(&self->d, &flags));
	EXPECT_EQ(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
		  flags);
}

/* VF half first: it waits, no VFIO device; the PF half fuses them */
TEST_F(fusion, vf_first)
{
	EXPECT_NE(0, vfio_dev_open(&self->d, self->bdf));
	ASSERT_EQ(0, sim_new(self->bdf));
	open_with_migration(_metadata, self);
	EXPECT_EQ(0, roundtrip(&self->d, -1));
	fusion_close(self);
	ASSERT_EQ(0, sim_del(self->bdf));
	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	EXPECT_STREQ(VF_ONLY, self->st);
	EXPECT_NE(0, vfio_dev_open(&self->d, self->bdf));
}

/* PF half first: its auxiliary device binds and waits for the VF */
TEST_F(fusion, pf_first)
{
	char path[200];

	ASSERT_EQ(0, unbind_driver(self->bdf));
	ASSERT_EQ(0, sim_new(self->bdf));
	snprintf(path, sizeof(path), "%s/driver", self->aux);
	EXPECT_TRUE(exists(path)) TH_LOG("the PF half is not bound");
	ASSERT_EQ(0, vfio_bind_driver(self->bdf, DRV));
	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	EXPECT_STREQ(FUSED, self->st);
	fusion_open(_metadata, self);
	EXPECT_EQ(0, roundtrip(&self->d, -1));
	fusion_close(self);
	/* the VF half leaves: the PF half stays bound, waiting */
	ASSERT_EQ(0, unbind_driver(self->bdf));
	EXPECT_TRUE(exists(path));
	ASSERT_EQ(0, vfio_bind_driver(self->bdf, DRV));
	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	EXPECT_STREQ(FUSED, self->st);
}

/*
 * Removing a half (or unloading the simulator) while the device is open:
 * the user gets the REQ interrupt, the removal waits for the close and
 * then completes; with @migrating a stop-copy data fd is open too and
 * fails once the removal started.
 */
static void removal_while_open(struct __test_metadata *_metadata,
			       struct _test_data_fusion *self, int which,
			       bool migrating)
{
	char path[200], buf[4096];
	int data_fd = -1, ret;
	struct bg b;

	ASSERT_EQ(0, sim_new(self->bdf));
	fusion_open(_metadata, self);
	if (migrating) {
		ASSERT_EQ(0, vfio_mig_set_state(&self->d, VFIO_DEVICE_STATE_STOP_COPY, &data_fd));
		ASSERT_EQ(sizeof(buf), read(data_fd, buf, sizeof(buf)));
	}
	if (which == 0)
		ret = bg_start(&b, SIM_BUS "/del_vf", self->bdf, 0);
	else if (which == 1)
		ret = bg_start(&b, "/sys/bus/pci/drivers/" DRV "/unbind", self->bdf, 0);
	else
		ret = bg_start(&b, "", "mlx5_vfio_sim", 1);
	ASSERT_EQ(0, ret);
	EXPECT_NE(0, vfio_eventfd_wait(self->req, 10000)) TH_LOG("no REQ interrupt");
	usleep(200000);
	EXPECT_FALSE(b.done) TH_LOG("removal did not wait for the user");
	if (migrating) {
		EXPECT_EQ(-1, read(data_fd, buf, sizeof(buf)));
		close(data_fd);
	}
	/* No new migration */
	EXPECT_EQ(-ENODEV, vfio_mig_set_state(&self->d, VFIO_DEVICE_STATE_STOP, NULL));
	fusion_close(self);
	EXPECT_TRUE(wait_flag(&b.done, 20000)) TH_LOG("removal did not complete");
	pthread_join(b.t, NULL);
	EXPECT_EQ(0, b.ret);
	if (which == 1) {
		/* the PF half stays, waiting for a VF half */
		snprintf(path, sizeof(path), "%s/driver", self->aux);
		EXPECT_TRUE(exists(path));
		EXPECT_NE(0, vfio_driver_of(self->bdf, buf, sizeof(buf)));
		ASSERT_EQ(0, vfio_bind_driver(self->bdf, DRV));
		ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
		EXPECT_STREQ(FUSED, self->st);
		return;
	}
	if (which == 2)
		ASSERT_EQ(0, module_load(SIM_KO));
	EXPECT_FALSE(exists(self->aux));
	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	EXPECT_STREQ(VF_ONLY, self->st);
	/* and it fuses again */
	ASSERT_EQ(0, sim_new(self->bdf));
	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	EXPECT_STREQ(FUSED, self->st);
}

TEST_F(fusion, remove_pf_while_open)
{
	removal_while_open(_metadata, self, 0, false);
}

TEST_F(fusion, remove_vf_while_open)
{
	removal_while_open(_metadata, self, 1, false);
}

TEST_F(fusion, unload_sim_while_open)
{
	removal_while_open(_metadata, self, 2, false);
}

TEST_F(fusion, remove_pf_while_migrating)
{
	removal_while_open(_metadata, self, 0, true);
}

TEST_F(fusion, remove_vf_while_migrating)
{
	removal_while_open(_metadata, self, 1, true);
}

/* The driver module: refused while open, unloads with halves bound */
TEST_F(fusion, unload_driver)
{
	char path[200];

	ASSERT_EQ(0, sim_new(self->bdf));
	fusion_open(_metadata, self);
	EXPECT_EQ(-EWOULDBLOCK, module_unload(DRV));
	fusion_close(self);
	ASSERT_EQ(0, module_unload(DRV));
	EXPECT_NE(0, vfio_driver_of(self->bdf, self->st, sizeof(self->st)));
	snprintf(path, sizeof(path), "%s/driver", self->aux);
	EXPECT_FALSE(exists(path));
	/* back: the override binds the VF, the PF half binds, they fuse */
	ASSERT_EQ(0, module_load(DRV_KO));
	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	EXPECT_STREQ(FUSED, self->st);
	fusion_open(_metadata, self);
	EXPECT_EQ(0, roundtrip(&self->d, -1));
}

/* fail_next: the failed command's error reaches the user; reset recovers */
TEST_F(fusion, fail_next)
{
	static const char * const ops[] = {
		"115", "116", "117", "118", "119", "200", "any",
	};
	char knob[32];
	unsigned int i;
	int ret;

	ASSERT_EQ(0, sim_new(self->bdf));
	fusion_open(_metadata, self);
	ASSERT_EQ(0, roundtrip(&self->d, -1));
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "fail_next", ops[i]));
		ret = roundtrip(&self->d, -1);
		EXPECT_GT(0, ret) TH_LOG("fail_next %s: no error reached the user", ops[i]);
		ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "fail_next", knob, sizeof(knob)));
		EXPECT_STREQ("none", knob) TH_LOG("fail_next %s not consumed", ops[i]);
		EXPECT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
		EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->d));
		EXPECT_EQ(0, roundtrip(&self->d, -1)) TH_LOG("after fail_next %s", ops[i]);
	}
}

/* fail_next at fusion: QUERY_HCA_CAP fails, no migration is offered */
/*
 * Bind the VF, its PF half there but migration unavailable for a reason
 * the caller set up: fused, no migration offered; unbound again after
 */
static void bind_without_migration(struct __test_metadata *_metadata,
				   struct _test_data_fusion *self)
{
	uint64_t flags;

	ASSERT_EQ(0, vfio_bind_driver(self->bdf, DRV));
	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	EXPECT_STREQ("vf=bound pf=bound vfio=registered migration=no", self->st);
	fusion_open(_metadata, self);
	EXPECT_EQ(-ENOTTY, mig_flags(&self->d, &flags));
	fusion_close(self);
	ASSERT_EQ(0, unbind_driver(self->bdf));
}

TEST_F(fusion, fail_query_hca_cap)
{
	ASSERT_EQ(0, unbind_driver(self->bdf));
	ASSERT_EQ(0, sim_new(self->bdf));
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "fail_next", "100"));
	bind_without_migration(_metadata, self);
	ASSERT_EQ(0, vfio_bind_driver(self->bdf, DRV));
	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	EXPECT_STREQ(FUSED, self->st);
}

/*
 * A VF the firmware calls not migratable (the PF's capabilities are all
 * there): fused, no migration offered; migratable again, offered again
 */
TEST_F(fusion, not_migratable)
{
	ASSERT_EQ(0, unbind_driver(self->bdf));
	ASSERT_EQ(0, sim_new(self->bdf));
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "migratable", "N"));
	bind_without_migration(_metadata, self);
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "migratable", "Y"));
	ASSERT_EQ(0, vfio_bind_driver(self->bdf, DRV));
	open_with_migration(_metadata, self);
}

/*
 * detached: reads back; a VF fused while its PF half is detached (its HCA
 * disabled) offers no migration; attached again, the next fusion does.
 * Detaching a fused device keeps it (mlx5_mig_test's fsm.pf_detach_attach).
 */
TEST_F(fusion, fused_while_detached)
{
	char knob[8];

	ASSERT_EQ(0, unbind_driver(self->bdf));
	ASSERT_EQ(0, sim_new(self->bdf));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "detached", knob, sizeof(knob)));
	EXPECT_STREQ("N", knob);
	EXPECT_EQ(-EINVAL, vfio_mlx5_knob_write(self->bdf, "detached", "maybe"));
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "detached", "Y"));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "detached", knob, sizeof(knob)));
	EXPECT_STREQ("Y", knob);
	bind_without_migration(_metadata, self);
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "detached", "N"));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "detached", knob, sizeof(knob)));
	EXPECT_STREQ("N", knob);
	ASSERT_EQ(0, vfio_bind_driver(self->bdf, DRV));
	open_with_migration(_metadata, self);
	/* Detached and attached while open: the device stays, migrates */
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "detached", "Y"));
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "detached", "N"));
	ASSERT_EQ(0, status(self->bdf, self->st, sizeof(self->st)));
	EXPECT_STREQ(FUSED, self->st);
	EXPECT_EQ(0, roundtrip(&self->d, -1));
}

/* corrupt_next_save: the load of that image fails; reset recovers */
TEST_F(fusion, corrupt_next_save)
{
	ASSERT_EQ(0, sim_new(self->bdf));
	fusion_open(_metadata, self);
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "corrupt_next_save", "Y"));
	EXPECT_GT(0, roundtrip(&self->d, -1));
	EXPECT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->d));
	EXPECT_EQ(0, roundtrip(&self->d, -1));
}

/*
 * corrupt_next_save_page: one wrong byte in one page, under a valid image
 * header, context and driver record headers; the simulated firmware's
 * page check refuses the load (BAD_PARAM: EINVAL, where the driver's own
 * record header check would say EBADMSG); reset recovers.  mlx5_mig_test's
 * bad.page_corrupted checks the rest (state, context, BAR2).
 */
TEST_F(fusion, corrupt_next_save_page)
{
	char knob[8];

	ASSERT_EQ(0, sim_new(self->bdf));
	fusion_open(_metadata, self);
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "corrupt_next_save_page", "Y"));
	EXPECT_EQ(-EINVAL, roundtrip(&self->d, -1));
	ASSERT_LT(0, vfio_mlx5_knob_read(self->bdf, "corrupt_next_save_page", knob, sizeof(knob)));
	EXPECT_STREQ("N", knob);
	EXPECT_EQ(VFIO_DEVICE_STATE_RESUMING, vfio_mig_get_state(&self->d));
	EXPECT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->d));
	EXPECT_EQ(0, roundtrip(&self->d, -1));
}

/* A migration step that takes long, in a thread */
struct stuck {
	pthread_t t;
	struct vfio_dev *d;
	volatile int done;
	int ret;
};

static void *stuck_run(void *arg)
{
	struct stuck *s = arg;

	s->ret = vfio_mig_set_state(s->d, VFIO_DEVICE_STATE_RUNNING_P2P, NULL);
	s->done = 1;
	return NULL;
}

/*
 * cmd_delay_ms: commands take that long; removal does not wait for a
 * delayed command, which fails with an errno.
 */
TEST_F(fusion, cmd_delay_ms)
{
	struct stuck stuck = {};
	uint64_t t0, t;
	struct bg b;

	ASSERT_EQ(0, sim_new(self->bdf));
	fusion_open(_metadata, self);
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "cmd_delay_ms", "300"));
	t0 = now_ms();
	ASSERT_EQ(0, vfio_mig_set_state(&self->d, VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
	t = now_ms() - t0;
	EXPECT_LE(300, t) TH_LOG("SUSPEND_VHCA took %llu ms", (unsigned long long)t);
	ASSERT_EQ(0, vfio_mig_set_state(&self->d, VFIO_DEVICE_STATE_RUNNING, NULL));

	/* a command stuck for a minute; del_vf cuts it short */
	ASSERT_EQ(0, vfio_mlx5_knob_write(self->bdf, "cmd_delay_ms", "60000"));
	stuck.d = &self->d;
	ASSERT_EQ(0, pthread_create(&stuck.t, NULL, stuck_run, &stuck));
	usleep(300000);
	EXPECT_FALSE(stuck.done);
	ASSERT_EQ(0, bg_start(&b, SIM_BUS "/del_vf", self->bdf, 0));
	t0 = now_ms();
	EXPECT_TRUE(wait_flag(&stuck.done, 10000)) TH_LOG("the delayed command held on");
	t = now_ms() - t0;
	pthread_join(stuck.t, NULL);
	EXPECT_GT(0, stuck.ret);
	EXPECT_GT(10000, t) TH_LOG("the delayed command held on for %d ms", (int)t);
	EXPECT_NE(0, vfio_eventfd_wait(self->req, 10000));
	fusion_close(self);
	EXPECT_TRUE(wait_flag(&b.done, 20000));
	pthread_join(b.t, NULL);
	EXPECT_EQ(0, b.ret);
}

TEST_HARNESS_MAIN
