// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci's PF side and the fusion of its two halves.
 *
 * sim_*: the firmware simulator's interface as users script it
 * (/sys/bus/mlx5_vfio_sim/new_vf and del_vf, its debugfs knobs): what it
 * accepts, what it refuses with which errno, and that the auxiliary device
 * mlx5_core.vfio_pci.<id> comes and goes with it.
 *
 * Needs the boot to load mlx5-vfio-sim and to have an ivshmem-plain
 * function (VFIO_IVSHMEM_BDF); mlx5-vfio-sim.ko is in /lib/modules/extra
 * for the unload/reload test.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define SIM_BUS "/sys/bus/mlx5_vfio_sim"
#define SIM_DBG "/sys/kernel/debug/mlx5_vfio_sim"
#define SIM_KO "/lib/modules/extra/mlx5-vfio-sim.ko"

static int sim_new(const char *bdf)
{
	return vfio_write_file(SIM_BUS "/new_vf", bdf);
}

static int sim_del(const char *bdf)
{
	return vfio_write_file(SIM_BUS "/del_vf", bdf);
}

/* Read a small file without its trailing newline; bytes read or -errno */
static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return n;
}

static int knob_write(const char *bdf, const char *knob, const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), SIM_DBG "/%s/%s", bdf, knob);
	return vfio_write_file(path, val);
}

static int knob_read(const char *bdf, const char *knob, char *buf, size_t len)
{
	char path[160];

	snprintf(path, sizeof(path), SIM_DBG "/%s/%s", bdf, knob);
	return read_str(path, buf, len);
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
	ASSERT_LT(0, knob_read(self->bdf, "vhca_id", buf, sizeof(buf)));
	EXPECT_NE(0, strtoul(buf, NULL, 0));
	ASSERT_LT(0, knob_read(self->bdf, "function_id", buf, sizeof(buf)));
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
	ASSERT_LT(0, knob_read(self->bdf, "fail_next", buf, sizeof(buf)));
	EXPECT_STREQ("none", buf);
	for (i = 0; i < ARRAY_SIZE(fail_next); i++) {
		int ret = knob_write(self->bdf, "fail_next", fail_next[i].in);

		if (fail_next[i].out) {
			EXPECT_EQ(0, ret) TH_LOG("fail_next \"%s\"", fail_next[i].in);
			snprintf(expect, sizeof(expect), "%s", fail_next[i].out);
		} else {
			EXPECT_EQ(-EINVAL, ret) TH_LOG("fail_next \"%s\"", fail_next[i].in);
		}
		ASSERT_LT(0, knob_read(self->bdf, "fail_next", buf, sizeof(buf)));
		EXPECT_STREQ(expect, buf) TH_LOG("after \"%s\"", fail_next[i].in);
	}

	EXPECT_EQ(0, knob_write(self->bdf, "cmd_delay_ms", "25"));
	ASSERT_LT(0, knob_read(self->bdf, "cmd_delay_ms", buf, sizeof(buf)));
	EXPECT_STREQ("25", buf);
	EXPECT_NE(0, knob_write(self->bdf, "cmd_delay_ms", "soon"));
	EXPECT_EQ(0, knob_write(self->bdf, "corrupt_next_save", "Y"));
	ASSERT_LT(0, knob_read(self->bdf, "corrupt_next_save", buf, sizeof(buf)));
	EXPECT_STREQ("Y", buf);
	EXPECT_EQ(0, knob_write(self->bdf, "corrupt_next_save", "N"));
	ASSERT_LT(0, knob_read(self->bdf, "corrupt_next_save", buf, sizeof(buf)));
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

TEST_HARNESS_MAIN
