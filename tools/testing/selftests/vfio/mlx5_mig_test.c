// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci live migration (v2 uAPI) between two simulated VFs.
 *
 * Pairs of ivshmem-plain functions are rebound to mlx5_vfio_pci through
 * driver_override and get their PF halves from the firmware simulator
 * (/sys/bus/mlx5_vfio_sim/new_vf).  The simulated VHCA state includes all
 * of BAR2, so a migration is checked by comparing the destination's BAR2
 * with the source's, byte for byte.
 *
 *   arcs        every (state, target) pair, against the FSM of the uAPI
 *   migrate     1, 16 and 64 MiB BAR2, with and without pre-copy, and
 *               after saves abandoned in the middle of an image
 *   xfer        reads and writes that lend their memory to the firmware
 *               (whole pieces of 256 KiB or more) and ones that go
 *               through the driver's buffer, mixed, vectored, unaligned,
 *               into read-only memory, and a refused key
 *   bad streams truncated, corrupted (an image byte: the firmware refuses
 *               it; a record header byte: the driver does), wrong
 *               version, oversized, trailing
 *               bytes, writes after RESUMING: an errno, then a reset
 *               makes the destination usable again; and a well-formed
 *               stream with one wrong byte in one page, saved under the
 *               simulator's corrupt_next_save_page, which only the
 *               simulated firmware's page check refuses
 *
 * The stream layout mirrors drivers/vfio/pci/mlx5/mlx5_vfio_priv.h:
 * a 24-byte stream header (magic, version, size, reserved) and records
 * of a 24-byte header (type, seq, len, check of those 16 bytes) and a
 * payload (the simulated firmware's image, which it checks itself).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define NSTATES 8	/* ERROR .. PRE_COPY_P2P */
#define STREAM_HDR 24
#define REC_HDR 24
#define MIB (1024UL * 1024)

static int reset(struct vfio_dev *d)
{
	return ioctl(d->fd, VFIO_DEVICE_RESET) ? -errno : 0;
}

/* ---- BAR2 ---- */

/* Offset of the first nonzero 8 bytes of @bar, @size if none */
static uint64_t nonzero_at(const void *bar, uint64_t size)
{
	const volatile uint64_t *p = bar;
	uint64_t i;

	for (i = 0; i < size / 8; i++)
		if (p[i])
			return i * 8;
	return size;
}

/* ---- the simulator's debugfs knobs ---- */

#define SIM_DBG "/sys/kernel/debug/mlx5_vfio_sim"
#define SIM_CTX_LEN 256
/* The simulator's image (drivers/vfio/pci/mlx5/sim.h): header, context + sum, page records */
#define SIM_IMG_HDR 64
#define SIM_PAGE 4096
#define SIM_PAGE_REC (16 + SIM_PAGE)

/* Read (@set false) or write the simulated VHCA's context; 0 or -errno */
static int sim_context(const char *bdf, uint8_t ctx[SIM_CTX_LEN], bool set)
{
	char path[160];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SIM_DBG "/%s/context", bdf);
	fd = open(path, set ? O_WRONLY : O_RDONLY);
	if (fd < 0)
		return -errno;
	n = set ? pwrite(fd, ctx, SIM_CTX_LEN, 0) : pread(fd, ctx, SIM_CTX_LEN, 0);
	close(fd);
	if (n < 0)
		return -errno;
	return n == SIM_CTX_LEN ? 0 : -EIO;
}

/*
 * What mlx5_core's DISABLE_VF (@on) or ENABLE_VF does to the simulated PF
 * side of @bdf; 0 or -errno
 */
static int sim_detach(const char *bdf, bool on)
{
	return vfio_mlx5_knob_write(bdf, "detached", on ? "Y" : "N");
}

/* ---- streams ---- */

struct stream {
	uint8_t *data;
	size_t len;
	size_t cap;
};

static void stream_add(struct stream *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->data = realloc(s->data, s->cap);
		if (!s->data)
			abort();
	}
	memcpy(s->data + s->len, p, n);
	s->len += n;
}

/* vfio_mig_pump()'s callback: append to the stream @arg */
static void stream_each(const void *p, size_t n, void *arg)
{
	stream_add(arg, p, n);
}

/* Save a complete stop-copy stream of @d into @s, back to RUNNING */
static int save_stream(struct vfio_dev *d, struct stream *s)
{
	ssize_t n;
	int fd, ret;

	ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	if (ret)
		return ret;
	n = vfio_mig_pump(fd, -1, false, stream_each, s);
	close(fd);
	ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL);
	return n < 0 ? n : ret;
}

/* ---- fixtures: a source and a destination ---- */

struct pair {
	struct vfio_dev src, dst;
	void *sbar, *dbar;	/* BAR2 mappings */
	uint64_t size;		/* BAR2 size */
};

FIXTURE(mig) {
	struct pair p;
};

FIXTURE_VARIANT(mig) {
	uint64_t size;	/* BAR2 size of the pair, 0 for any */
};

FIXTURE_VARIANT_ADD(mig, bar_1m) { .size = 1 * MIB };
FIXTURE_VARIANT_ADD(mig, bar_16m) { .size = 16 * MIB };
FIXTURE_VARIANT_ADD(mig, bar_64m) { .size = 64 * MIB };

/* Bind and open a pair with @size bytes of BAR2, map both BARs, reset */
static int open_pair(uint64_t size, struct pair *p)
{
	const char *a = NULL, *b = NULL;
	uint64_t dsize = 0;
	int ret;

	memset(p, 0, sizeof(*p));
	p->src.fd = -1;
	p->dst.fd = -1;
	if (!vfio_ivshmem_pair(size, &a, &b))
		return -ENOENT;
	ret = vfio_mlx5_open(a, &p->src, &p->sbar, &p->size);
	if (!ret)
		ret = vfio_mlx5_open(b, &p->dst, &p->dbar, &dsize);
	if (!ret && dsize != p->size)
		ret = -EINVAL;
	return ret;
}

static void close_pair(struct pair *p)
{
	vfio_mlx5_close(&p->src, p->sbar, p->size);
	vfio_mlx5_close(&p->dst, p->dbar, p->size);
}

FIXTURE_SETUP(mig)
{
	int ret;

	ret = open_pair(variant->size, &self->p);
	if (ret == -ENOENT)
		SKIP(return, "no two ivshmem functions with a %llu MiB BAR2",
		     (unsigned long long)(variant->size / MIB));
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(mig)
{
	/* A failed test leaves no armed failure or delay to the next */
	vfio_mlx5_knob_write(self->p.src.bdf, "fail_next", "none");
	vfio_mlx5_knob_write(self->p.dst.bdf, "fail_next", "none");
	vfio_mlx5_knob_write(self->p.src.bdf, "cmd_delay_ms", "0");
	close_pair(&self->p);
}

/* ---- the state machine, on any pair ---- */

FIXTURE(fsm) {
	struct pair p;
};

FIXTURE_SETUP(fsm)
{
	ASSERT_EQ(0, open_pair(0, &self->p));
}

FIXTURE_TEARDOWN(fsm)
{
	/* A failed pf_detach_attach leaves no VF detached behind */
	sim_detach(self->p.src.bdf, false);
	sim_detach(self->p.dst.bdf, false);
	close_pair(&self->p);
}

TEST_F(fsm, offered)
{
	struct vfio_device_feature_migration m = {};
	char status[128];

	ASSERT_EQ(0, vfio_device_feature(self->p.src.fd, VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_MIGRATION, &m, sizeof(m)));
	ASSERT_EQ(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
		  VFIO_MIGRATION_PRE_COPY, m.flags);
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->p.src));
	ASSERT_EQ(0, vfio_sysfs_read(self->p.src.bdf, "mlx5_vfio_status",
				     status, sizeof(status)));
	ASSERT_STREQ("vf=bound pf=bound vfio=registered migration=offered",
		     status);
}

TEST_F(fsm, data_size)
{
	struct vfio_device_feature_mig_data_size ds = {};

	ASSERT_EQ(0, vfio_device_feature(self->p.src.fd, VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds, sizeof(ds)));
	/* All of BAR2 travels, plus a small context and the stream headers */
	ASSERT_GE(ds.stop_copy_length, self->p.size);
	ASSERT_LT(ds.stop_copy_length, self->p.size + MIB);
}

/* The uAPI's FSM: which targets are refused from @cur */
static bool arc_refused(int cur, int target)
{
	if (target == VFIO_DEVICE_STATE_ERROR || target >= NSTATES)
		return true;
	return cur == VFIO_DEVICE_STATE_STOP_COPY &&
	       (target == VFIO_DEVICE_STATE_PRE_COPY ||
		target == VFIO_DEVICE_STATE_PRE_COPY_P2P);
}

static bool saving(int s)
{
	return s == VFIO_DEVICE_STATE_PRE_COPY ||
	       s == VFIO_DEVICE_STATE_PRE_COPY_P2P ||
	       s == VFIO_DEVICE_STATE_STOP_COPY;
}

/*
 * Every pair of states: bring the device to @cur, ask for @target, check
 * errno, state and data fd against the uAPI.  Leaving RESUMING needs a
 * whole stream, so RESUMING gets a valid one (saved from the source).
 */
TEST_F(fsm, arcs)
{
	struct stream good = {};
	int cur, target, fd, tfd, ret, want_fd;

	vfio_fill_pattern(self->p.sbar, self->p.size, 1);
	ASSERT_EQ(0, save_stream(&self->p.src, &good));

	for (cur = 1; cur < NSTATES; cur++) {
		for (target = 0; target <= NSTATES; target++) {
			ASSERT_EQ(0, reset(&self->p.dst));
			ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->p.dst));
			ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, cur, &fd));
			ASSERT_EQ(cur, vfio_mig_get_state(&self->p.dst));
			ASSERT_EQ(saving(cur) || cur == VFIO_DEVICE_STATE_RESUMING,
				  fd >= 0);
			if (cur == VFIO_DEVICE_STATE_RESUMING)
				ASSERT_EQ(0, vfio_write_all(fd, good.data, good.len));

			ret = vfio_mig_set_state(&self->p.dst, target, &tfd);
			if (arc_refused(cur, target)) {
				EXPECT_EQ(-EINVAL, ret)
					TH_LOG("%s -> %d", vfio_mig_state_name(cur), target);
				EXPECT_EQ(cur, vfio_mig_get_state(&self->p.dst))
					TH_LOG("%s -> %d changed the state",
					       vfio_mig_state_name(cur), target);
			} else {
				/* A new stream: entering the saving group or RESUMING */
				want_fd = target != cur &&
					  ((saving(target) && !saving(cur)) ||
					   target == VFIO_DEVICE_STATE_RESUMING);
				EXPECT_EQ(0, ret)
					TH_LOG("%s -> %s", vfio_mig_state_name(cur),
					       vfio_mig_state_name(target));
				EXPECT_EQ(target, vfio_mig_get_state(&self->p.dst))
					TH_LOG("%s -> %s", vfio_mig_state_name(cur),
					       vfio_mig_state_name(target));
				EXPECT_EQ(want_fd, tfd >= 0)
					TH_LOG("%s -> %s data fd", vfio_mig_state_name(cur),
					       vfio_mig_state_name(target));
			}
			if (tfd >= 0)
				close(tfd);
			if (fd >= 0)
				close(fd);
		}
	}
	free(good.data);
}

/* Leaving RESUMING with nothing loaded fails into ERROR; only reset helps */
TEST_F(fsm, error_state)
{
	int fd, s;

	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	ASSERT_EQ(-EINVAL, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(VFIO_DEVICE_STATE_ERROR, vfio_mig_get_state(&self->p.dst));
	/* The stream of the failed session is over */
	ASSERT_EQ(-1, write(fd, "x", 1));
	close(fd);
	for (s = 0; s <= NSTATES; s++) {
		EXPECT_EQ(-EINVAL, vfio_mig_set_state(&self->p.dst, s, NULL));
		EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, vfio_mig_get_state(&self->p.dst));
	}
	ASSERT_EQ(0, reset(&self->p.dst));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->p.dst));
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RUNNING, NULL));
}

/* A reset in the middle of a migration: RUNNING, the data fd is over */
TEST_F(fsm, reset_during_migration)
{
	struct vfio_precopy_info info;
	char buf[64];
	int fd;

	ASSERT_EQ(0, vfio_mig_set_state(&self->p.src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	ASSERT_EQ(0, vfio_mig_precopy_info(fd, &info));
	ASSERT_GT(info.initial_bytes, 0);
	ASSERT_EQ(sizeof(buf), read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, reset(&self->p.src));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->p.src));
	ASSERT_EQ(-1, read(fd, buf, sizeof(buf)));
	close(fd);
	/* And a new one works */
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.src, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	ASSERT_LT(0, read(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.src, VFIO_DEVICE_STATE_RUNNING, NULL));
}

/*
 * The end of a migration of @p whose stream went in through @dfd: the
 * destination runs, then the source, and their BAR2s are equal
 */
static void finish_migration(struct __test_metadata *_metadata, struct pair *p,
			     int dfd)
{
	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	close(dfd);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, memcmp(p->sbar, p->dbar, p->size));
}

/* A whole stop-copy migration of BAR2 filled from @seed: equal after it */
static void stop_copy_migration(struct __test_metadata *_metadata,
				struct pair *p, uint64_t seed)
{
	int sfd, dfd;

	vfio_fill_pattern(p->sbar, p->size, seed);
	memset(p->dbar, 0, p->size);
	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RESUMING, &dfd));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, &sfd));
	ASSERT_LT(0, vfio_mig_pump(sfd, dfd, false, NULL, NULL));
	close(sfd);
	finish_migration(_metadata, p, dfd);
}

/* Wait up to 5 s for the VF's runtime PM status to read @want */
static bool runtime_status_is(const char *bdf, const char *want)
{
	char buf[32];
	int ms;

	for (ms = 0; ms < 5000; ms += 10) {
		if (!vfio_sysfs_read(bdf, "power/runtime_status", buf, sizeof(buf)) &&
		    !strcmp(buf, want))
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * The low-power features are the library's, offered by this driver too.
 * A pair whose user put both VFs in low power (runtime suspended, BAR
 * mappings gone) still migrates: the state ioctls wake a VF for their
 * run, the firmware saves and loads the VHCA.  After LOW_POWER_EXIT the
 * BARs are mapped again and equal.  The simulated VFs (ivshmem-plain)
 * have no PM capability, so they stay in D0: this checks the runtime-PM
 * plumbing, not that firmware reaches a VHCA whose VF is in D3hot (which
 * upstream's driver assumes too).
 */
TEST_F(fsm, low_power_then_migrate)
{
	const uint32_t entry = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;
	const uint32_t exit_ = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_EXIT;
	struct pair *p = &self->p;
	int sfd, dfd;

	ASSERT_EQ(0, vfio_device_feature(p->src.fd, VFIO_DEVICE_FEATURE_PROBE | entry,
					 NULL, 0));
	vfio_fill_pattern(p->sbar, p->size, 11);
	memset(p->dbar, 0, p->size);
	ASSERT_EQ(0, vfio_device_feature(p->src.fd, entry, NULL, 0));
	ASSERT_EQ(0, vfio_device_feature(p->dst.fd, entry, NULL, 0));
	EXPECT_TRUE(runtime_status_is(p->src.bdf, "suspended"));
	EXPECT_TRUE(runtime_status_is(p->dst.bdf, "suspended"));

	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RESUMING, &dfd));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, &sfd));
	ASSERT_LT(0, vfio_mig_pump(sfd, dfd, false, NULL, NULL));
	close(sfd);
	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	close(dfd);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));

	ASSERT_EQ(0, vfio_device_feature(p->src.fd, exit_, NULL, 0));
	ASSERT_EQ(0, vfio_device_feature(p->dst.fd, exit_, NULL, 0));
	EXPECT_TRUE(runtime_status_is(p->src.bdf, "active"));
	ASSERT_EQ(0, memcmp(p->sbar, p->dbar, p->size));
}

/*
 * A reset the PCI core makes on its own (sysfs here; a guest's FLR through
 * config space or a hot reset of another device of the set go the same
 * way), not VFIO_DEVICE_RESET: both ends come back RUNNING, their data fds
 * end, and a whole migration works after it.
 */
TEST_F(fsm, pci_reset_from_sysfs)
{
	char path[PATH_MAX], buf[64];
	int sfd, dfd, i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", self->p.src.bdf);
	if (access(path, W_OK))
		SKIP(return, "%s has no PCI reset", self->p.src.bdf);
	vfio_fill_pattern(self->p.sbar, self->p.size, 11);
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.src, VFIO_DEVICE_STATE_STOP_COPY, &sfd));
	ASSERT_EQ(sizeof(buf), read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RESUMING, &dfd));
	ASSERT_EQ(0, vfio_write_file(path, "1"));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset", self->p.dst.bdf);
	ASSERT_EQ(0, vfio_write_file(path, "1"));
	/*
	 * The source's data fd ends soon after, nobody else taking the
	 * state lock (the driver's work item does it); the state follows.
	 * The destination's state is looked at first (that applies its
	 * reset at once), then its data fd has ended too.
	 */
	for (i = 0; i < 200 && read(sfd, buf, sizeof(buf)) > 0; i++)
		usleep(10000);
	EXPECT_EQ(-1, read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->p.src));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->p.dst));
	EXPECT_EQ(-1, write(dfd, buf, sizeof(buf)));
	close(sfd);
	close(dfd);
	/* The VHCA runs again: a whole migration */
	stop_copy_migration(_metadata, &self->p, 12);
}

/*
 * mlx5_core disables the VFs' HCAs (a health recovery) in the middle of a
 * migration and enables them again.  The vfio devices stay with their
 * user; the data fds end with ENOTCONN; a saving state falls back to the
 * state saving started from (PRE_COPY to RUNNING, STOP_COPY to STOP),
 * RESUMING goes to ERROR.  While detached, arcs needing the firmware fail
 * with ENOTCONN and keep the state, the arcs towards RUNNING work, and so
 * does a reset; attached again, a whole migration works.
 */
TEST_F(fsm, pf_detach_attach)
{
	struct vfio_device_feature_mig_data_size ds = {};
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint8_t ctx[SIM_CTX_LEN], ctx2[SIM_CTX_LEN];
	char buf[64], st[128];
	int sfd, dfd;

	vfio_fill_pattern(self->p.sbar, self->p.size, 21);
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.src, VFIO_DEVICE_STATE_PRE_COPY, &sfd));
	ASSERT_EQ(sizeof(buf), read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RESUMING, &dfd));
	ASSERT_EQ(sizeof(buf), write(dfd, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_context(self->p.src.bdf, ctx, false));
	ASSERT_EQ(0, sim_detach(self->p.src.bdf, true));
	ASSERT_EQ(0, sim_detach(self->p.dst.bdf, true));

	/* The devices stay, the migration is over */
	ASSERT_EQ(0, vfio_sysfs_read(self->p.src.bdf, "mlx5_vfio_status", st, sizeof(st)));
	EXPECT_NE(NULL, strstr(st, "vfio=registered migration=offered")) TH_LOG("%s", st);
	ASSERT_EQ(0, ioctl(self->p.src.fd, VFIO_DEVICE_GET_INFO, &info));
	errno = 0;
	EXPECT_EQ(-1, read(sfd, buf, sizeof(buf)));
	EXPECT_EQ(ENOTCONN, errno);
	errno = 0;
	EXPECT_EQ(-1, write(dfd, buf, sizeof(buf)));
	EXPECT_EQ(ENOTCONN, errno);
	close(sfd);
	close(dfd);
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->p.src));
	EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, vfio_mig_get_state(&self->p.dst));
	/* The simulated HCA was disabled: a fresh context */
	ASSERT_EQ(0, sim_context(self->p.src.bdf, ctx2, false));
	EXPECT_NE(0, memcmp(ctx, ctx2, sizeof(ctx)));

	/* Detached: refused without a change, reset works */
	EXPECT_EQ(-ENOTCONN, vfio_mig_set_state(&self->p.src, VFIO_DEVICE_STATE_STOP, NULL));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->p.src));
	EXPECT_EQ(-ENOTCONN, vfio_device_feature(self->p.src.fd, VFIO_DEVICE_FEATURE_GET |
			     VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds, sizeof(ds)));
	ASSERT_EQ(0, reset(&self->p.dst));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->p.dst));

	/* Stop-copy cut short the same way: STOP, which stays STOP */
	ASSERT_EQ(0, sim_detach(self->p.src.bdf, false));
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.src, VFIO_DEVICE_STATE_STOP_COPY, &sfd));
	ASSERT_EQ(sizeof(buf), read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(0, sim_detach(self->p.src.bdf, true));
	errno = 0;
	EXPECT_EQ(-1, read(sfd, buf, sizeof(buf)));
	EXPECT_EQ(ENOTCONN, errno);
	close(sfd);
	EXPECT_EQ(VFIO_DEVICE_STATE_STOP, vfio_mig_get_state(&self->p.src));
	EXPECT_EQ(-ENOTCONN, vfio_mig_set_state(&self->p.src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	EXPECT_EQ(VFIO_DEVICE_STATE_STOP, vfio_mig_get_state(&self->p.src));
	/* RUNNING_P2P stays, and may go towards RUNNING while detached */
	ASSERT_EQ(0, sim_detach(self->p.dst.bdf, false));
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
	ASSERT_EQ(0, sim_detach(self->p.dst.bdf, true));
	EXPECT_EQ(-ENOTCONN, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_STOP, NULL));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING_P2P, vfio_mig_get_state(&self->p.dst));
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, sim_detach(self->p.dst.bdf, false));
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
	ASSERT_EQ(0, sim_detach(self->p.dst.bdf, true));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING_P2P, vfio_mig_get_state(&self->p.dst));

	/*
	 * Attached again in STOP and RUNNING_P2P over fresh, running VHCAs:
	 * a whole migration from there (suspending them first), context
	 * included, no reset
	 */
	ASSERT_EQ(0, sim_detach(self->p.src.bdf, false));
	ASSERT_EQ(0, sim_detach(self->p.dst.bdf, false));
	ASSERT_EQ(0, sim_context(self->p.src.bdf, ctx, false));
	stop_copy_migration(_metadata, &self->p, 22);
	ASSERT_EQ(0, sim_context(self->p.dst.bdf, ctx2, false));
	ASSERT_EQ(0, memcmp(ctx, ctx2, sizeof(ctx)));
}

/* Detaches and attaches the PF sides of a pair over and over */
struct toggler {
	pthread_t t;
	struct pair *p;
	volatile int stop;
	int flips;
	int err;
};

static void *toggle_run(void *arg)
{
	struct toggler *tg = arg;
	int ret;

	while (!tg->stop) {
		bool on = !(tg->flips & 1);

		ret = sim_detach(tg->p->src.bdf, on);
		if (!ret)
			ret = sim_detach(tg->p->dst.bdf, on);
		if (ret && !tg->err)
			tg->err = ret;
		tg->flips++;
		/* Attached long enough for whole saves and loads */
		usleep(on ? 1000 : 10000);
	}
	sim_detach(tg->p->src.bdf, false);
	sim_detach(tg->p->dst.bdf, false);
	return NULL;
}

/* Back to RUNNING, by a reset when the state machine will not go */
static void settle(struct vfio_dev *d)
{
	if (vfio_mig_set_state(d, VFIO_DEVICE_STATE_RUNNING, NULL))
		reset(d);
}

/*
 * Detaches and attaches racing saves (pre-copy and stop-copy), loads,
 * arcs and resets on both ends: every call returns, with data or an
 * errno; no memory key is left to the provider (it would WARN, which
 * fails the boot's kernel-log check); once attached, a whole migration
 * works.
 */
TEST_F(fsm, pf_detach_races_migration)
{
	struct toggler tg = { .p = &self->p };
	struct stream st = {};
	int i, fd, saved = 0, loaded = 0;
	ssize_t n;

	vfio_fill_pattern(self->p.sbar, self->p.size, 31);
	ASSERT_EQ(0, save_stream(&self->p.src, &st));
	ASSERT_EQ(0, pthread_create(&tg.t, NULL, toggle_run, &tg));
	/* Until enough flips went by, and some of everything got through */
	for (i = 0; i < 5000 && (tg.flips < 40 || !saved || !loaded); i++) {
		bool pre = i % 2;

		if (!vfio_mig_set_state(&self->p.src, pre ? VFIO_DEVICE_STATE_PRE_COPY :
					VFIO_DEVICE_STATE_STOP_COPY, &fd)) {
			n = vfio_mig_pump(fd, -1, pre, NULL, NULL);
			saved += n > 0;
			close(fd);
		}
		settle(&self->p.src);
		loaded += !vfio_mig_load(&self->p.dst, st.data, st.len);
		settle(&self->p.dst);
	}
	tg.stop = 1;
	pthread_join(tg.t, NULL);
	free(st.data);
	TH_LOG("%d flips, %d of %d saves and %d loads went through", tg.flips,
	       saved, i, loaded);
	ASSERT_EQ(0, tg.err);
	ASSERT_LE(40, tg.flips);
	ASSERT_LT(0, saved);
	ASSERT_LT(0, loaded);
	ASSERT_EQ(0, reset(&self->p.src));
	ASSERT_EQ(0, reset(&self->p.dst));
	stop_copy_migration(_metadata, &self->p, 32);
}

static void migrate(struct __test_metadata *_metadata, struct pair *p,
		    bool precopy)
{
	struct vfio_precopy_info info;
	int sfd, dfd, i, changed = 5;
	ssize_t pre = 0, stop;
	uint64_t off;

	vfio_fill_pattern(p->sbar, p->size, precopy ? 7 : 3);
	memset(p->dbar, 0xa5, p->size);
	ASSERT_NE(0, memcmp(p->sbar, p->dbar, p->size));

	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RESUMING, &dfd));
	if (precopy) {
		ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY, &sfd));
		ASSERT_EQ(0, vfio_mig_precopy_info(sfd, &info));
		ASSERT_GE(info.initial_bytes, p->size);
		ASSERT_EQ(0, info.dirty_bytes);
		pre = vfio_mig_pump(sfd, dfd, true, NULL, NULL);
		ASSERT_GE(pre, (ssize_t)p->size);
		/* The device is idle: a temporary end of stream */
		ASSERT_EQ(0, vfio_mig_precopy_info(sfd, &info));
		ASSERT_EQ(0, info.initial_bytes);
		ASSERT_EQ(0, info.dirty_bytes);
		/*
		 * A few pages change while pre-copy goes on, each its own
		 * way: one byte; the top bit of two words; two words swapped
		 * (a page sum linear in the words would miss the last two)
		 */
		for (i = 0; i < changed; i++) {
			volatile uint64_t *w;
			uint64_t t;

			off = (p->size / changed) * i;
			w = (volatile uint64_t *)((uint8_t *)p->sbar + off);
			switch (i % 3) {
			case 0:
				((volatile uint8_t *)w)[0] ^= 0xff;
				break;
			case 1:
				w[0] ^= 1ULL << 63;
				w[100] ^= 1ULL << 63;
				break;
			default:
				t = w[3];
				w[3] = w[200];
				w[200] = t;
				break;
			}
		}
		ASSERT_EQ(0, vfio_mig_precopy_info(sfd, &info));
		ASSERT_GE(info.dirty_bytes, changed * 4096ULL);
		ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
		/* Only pre-copy states answer PRECOPY_INFO */
		ASSERT_EQ(-EINVAL, vfio_mig_precopy_info(sfd, &info));
	} else {
		ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, &sfd));
	}
	stop = vfio_mig_pump(sfd, dfd, false, NULL, NULL);
	ASSERT_LT(0, stop);
	/* End of stream stays end of stream */
	ASSERT_EQ(0, read(sfd, &info, 1));
	if (precopy) {
		TH_LOG("pre-copy %zd bytes, stop-copy %zd bytes", pre, stop);
		/* About the changed pages, not BAR2 again */
		ASSERT_GE(stop, changed * 4096);
		ASSERT_LT(stop, changed * 4096 + 64 * 1024);
	} else {
		ASSERT_GE(stop, (ssize_t)p->size);
	}
	close(sfd);

	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	close(dfd);
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&p->dst));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, memcmp(p->sbar, p->dbar, p->size));
}

TEST_F(mig, migrate_stop_copy)
{
	migrate(_metadata, &self->p, false);
}

TEST_F(mig, migrate_pre_copy)
{
	migrate(_metadata, &self->p, true);
}

/* Start a pre-copy on the source of @p and read it until it is idle */
static void precopy_idle(struct __test_metadata *_metadata, struct pair *p,
			 int *sfd)
{
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY, sfd));
	ASSERT_LT(0, vfio_mig_pump(*sfd, -1, true, NULL, NULL));
}

/*
 * The source of @p in a saving state with data fd @sfd: going back to
 * RUNNING fails with @err into ERROR; a reset recovers it, and a pre-copy
 * migration then works
 */
static void cancel_fails_reset_migrates(struct __test_metadata *_metadata,
					struct pair *p, int sfd, int err)
{
	ASSERT_EQ(err, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(VFIO_DEVICE_STATE_ERROR, vfio_mig_get_state(&p->src));
	close(sfd);
	ASSERT_EQ(0, reset(&p->src));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&p->src));
	migrate(_metadata, p, true);
}

/*
 * Fill the source of @p from @seed, start its pre-copy into a resuming
 * destination and move the initial image; the data fds in @sfd and @dfd
 */
static void precopy_into_dst(struct __test_metadata *_metadata,
			     struct pair *p, uint64_t seed, int *sfd, int *dfd)
{
	vfio_fill_pattern(p->sbar, p->size, seed);
	memset(p->dbar, 0x3c, p->size);
	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RESUMING, dfd));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY, sfd));
	ASSERT_GE(vfio_mig_pump(*sfd, *dfd, true, NULL, NULL), (ssize_t)p->size);
}

/*
 * The source of @p in STOP_COPY: its stream moves a full image (all of
 * BAR2 at least) from @sfd to @dfd, ends for good, and the migration
 * completes equal
 */
static void full_stop_copy(struct __test_metadata *_metadata, struct pair *p,
			   int sfd, int dfd)
{
	char c;

	ASSERT_GE(vfio_mig_pump(sfd, dfd, false, NULL, NULL), (ssize_t)p->size);
	ASSERT_EQ(0, read(sfd, &c, 1));
	close(sfd);
	finish_migration(_metadata, p, dfd);
}

/* Whether the simulated firmware of @bdf tracks changes: 1, 0 or -errno */
static int sim_tracking(const char *bdf)
{
	char v[8];
	int ret = vfio_mlx5_knob_read(bdf, "tracking", v, sizeof(v));

	return ret < 0 ? ret : v[0] == 'Y';
}

/* Flip a byte in @n pages of @bar spread over @size, from page @first */
static void touch_pages(void *bar, uint64_t size, int first, int n)
{
	int i;

	for (i = first; i < first + n; i++)
		((volatile uint8_t *)bar)[(size / 16) * i + 8] ^= 0x5a;
}

/*
 * The firmware stops tracking in the middle of pre-copy (the simulator's
 * knob; a ConnectX may lose its tracking): the SAVE that would start the
 * next incremental image is refused with BAD_RES_STATE.  Pre-copy then
 * has nothing more to send, and stop-copy sends a full image, which the
 * destination takes over the images it loaded: it ends up equal to the
 * source, pages changed after the tracking stopped included.
 */
TEST_F(mig, pre_copy_tracking_lost)
{
	struct pair *p = &self->p;
	struct vfio_precopy_info info;
	struct pollfd pfd;
	int sfd, dfd;
	ssize_t pre;
	char c;

	precopy_into_dst(_metadata, p, 17, &sfd, &dfd);
	ASSERT_EQ(1, sim_tracking(p->src.bdf));
	/* One incremental image goes through */
	touch_pages(p->sbar, p->size, 0, 3);
	pre = vfio_mig_pump(sfd, dfd, true, NULL, NULL);
	ASSERT_GE(pre, 3 * 4096);
	ASSERT_LT(pre, (ssize_t)(p->size / 2));

	/* Only N is taken */
	ASSERT_EQ(-EINVAL, vfio_mlx5_knob_write(p->src.bdf, "tracking", "Y"));
	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "tracking", "N"));
	ASSERT_EQ(0, sim_tracking(p->src.bdf));
	touch_pages(p->sbar, p->size, 3, 4);

	/* The next incremental image is refused: nothing more in pre-copy */
	ASSERT_EQ(-1, read(sfd, &c, 1));
	ASSERT_EQ(ENOMSG, errno);
	ASSERT_EQ(0, vfio_mig_precopy_info(sfd, &info));
	ASSERT_EQ(0, info.initial_bytes);
	ASSERT_EQ(0, info.dirty_bytes);
	touch_pages(p->sbar, p->size, 7, 2);
	ASSERT_EQ(0, vfio_mig_precopy_info(sfd, &info));
	ASSERT_EQ(0, info.dirty_bytes);
	pfd = (struct pollfd){ .fd = sfd, .events = POLLIN };
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(-1, read(sfd, &c, 1));
	ASSERT_EQ(ENOMSG, errno);

	/* Stop-copy: a full image, not just the changed pages */
	touch_pages(p->sbar, p->size, 9, 1);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	full_stop_copy(_metadata, p, sfd, dfd);
	ASSERT_EQ(0, sim_tracking(p->src.bdf));

	/* Lost again, then the migration is cancelled: nothing to drop */
	precopy_idle(_metadata, p, &sfd);
	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "tracking", "N"));
	touch_pages(p->sbar, p->size, 0, 2);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY_P2P, NULL));
	ASSERT_EQ(-1, read(sfd, &c, 1));
	ASSERT_EQ(ENOMSG, errno);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	close(sfd);

	/* The next migration tracks again */
	migrate(_metadata, p, true);
}

/*
 * The firmware stops tracking after pre-copy's last read: stop-copy's
 * first, incremental SAVE is refused, and stop-copy sends a full image
 * instead (upstream's driver fails the migration there)
 */
TEST_F(mig, stop_copy_tracking_lost)
{
	struct pair *p = &self->p;
	int sfd, dfd;

	precopy_into_dst(_metadata, p, 19, &sfd, &dfd);
	touch_pages(p->sbar, p->size, 0, 3);
	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "tracking", "N"));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	full_stop_copy(_metadata, p, sfd, dfd);
}

/*
 * The firmware stops tracking and drops the image it was handing out,
 * after the reader took its first piece: the stream is broken for good
 * (the destination would hold half an image), the way back to RUNNING
 * fails into ERROR, and a reset recovers the device
 */
TEST_F(mig, tracking_lost_mid_image)
{
	static uint8_t buf[9 * MIB];	/* one whole 8 MiB chunk per read */
	struct vfio_precopy_info info;
	struct pair *p = &self->p;
	int sfd;

	if (p->size <= 8 * MIB)
		SKIP(return, "an image of one chunk has no middle");
	vfio_fill_pattern(p->sbar, p->size, 23);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY, &sfd));
	ASSERT_LT(0, read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "tracking", "N"));
	ASSERT_EQ(-1, read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(EBADFD, errno);
	ASSERT_EQ(-1, read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(EBADFD, errno);
	ASSERT_EQ(-EBADFD, vfio_mig_precopy_info(sfd, &info));
	cancel_fails_reset_migrates(_metadata, p, sfd, -EBADFD);
}

/* The source of @p, tracking, is cancelled to @next: tracking no more */
static void cancel_untracks(struct __test_metadata *_metadata, struct pair *p,
			    enum vfio_device_mig_state next)
{
	ASSERT_EQ(1, sim_tracking(p->src.bdf));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, next, NULL));
	ASSERT_EQ(0, sim_tracking(p->src.bdf));
}

/*
 * A cancelled pre-copy (back to RUNNING or RUNNING_P2P) tells the firmware
 * to stop tracking, with the SAVE the device specification names for it
 * (incremental = 0, set_track = 0 while the VHCA runs): after an idle
 * pre-copy, after one cancelled in the middle of its first image, not
 * before anything was saved; a stop-copy after pre-copy cancelled before
 * its last image takes that image (which ends tracking) and drops it; a
 * refused cleanup fails the arc into ERROR, and a reset recovers
 */
TEST_F(mig, cancel_ends_tracking)
{
	static uint8_t buf[9 * MIB];	/* one whole 8 MiB chunk per read */
	struct pair *p = &self->p;
	char v[16];
	int sfd;

	vfio_fill_pattern(p->sbar, p->size, 29);
	precopy_idle(_metadata, p, &sfd);
	cancel_untracks(_metadata, p, VFIO_DEVICE_STATE_RUNNING);
	close(sfd);

	/*
	 * The P2P way, cancelled in the middle of the first image (for a
	 * BAR2 over one 8 MiB chunk: the read takes its first piece)
	 */
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING_P2P, NULL));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY_P2P, &sfd));
	ASSERT_LT(0, read(sfd, buf, sizeof(buf)));
	cancel_untracks(_metadata, p, VFIO_DEVICE_STATE_RUNNING_P2P);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	close(sfd);

	/* Stop-copy cancelled before its last image: taken and dropped */
	precopy_idle(_metadata, p, &sfd);
	touch_pages(p->sbar, p->size, 0, 2);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	cancel_untracks(_metadata, p, VFIO_DEVICE_STATE_STOP);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	close(sfd);

	/* The firmware had lost its tracking unseen: the cancel still works */
	precopy_idle(_metadata, p, &sfd);
	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "tracking", "N"));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	close(sfd);
	precopy_idle(_metadata, p, &sfd);
	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "tracking", "N"));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	close(sfd);

	/*
	 * Stop-copy's first SAVE fails (INT_ERR), so the firmware never took
	 * the last image on: the cancel still takes it
	 */
	precopy_idle(_metadata, p, &sfd);
	touch_pages(p->sbar, p->size, 0, 2);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, NULL));
	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "fail_next", "118"));
	ASSERT_EQ(-1, read(sfd, buf, sizeof(buf)));
	ASSERT_EQ(EIO, errno);
	cancel_untracks(_metadata, p, VFIO_DEVICE_STATE_STOP);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	close(sfd);

	/* Nothing saved yet: no SAVE at all (the armed failure stays) */
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY, &sfd));
	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "fail_next", "118"));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_LT(0, vfio_mlx5_knob_read(p->src.bdf, "fail_next", v, sizeof(v)));
	ASSERT_EQ(0, strncmp(v, "0x118", 5));
	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "fail_next", "none"));
	close(sfd);

	/* The firmware refuses the cleanup */
	precopy_idle(_metadata, p, &sfd);
	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "fail_next", "118"));
	cancel_fails_reset_migrates(_metadata, p, sfd, -EIO);
}

/* A reader that reads a data fd until a read fails otherwise than ENOMSG */
struct reader {
	pthread_t t;
	int fd;
	int reads;
	int err;	/* errno of the last read */
};

static void *reader_run(void *arg)
{
	static char buf[64 * 1024];
	struct reader *r = arg;

	for (;;) {
		r->reads++;
		if (read(r->fd, buf, sizeof(buf)) < 0 && errno != ENOMSG) {
			r->err = errno;
			return NULL;
		}
	}
}

/*
 * A reader keeps reading a pre-copy data fd while the pre-copy is
 * cancelled, its commands slowed down so that it waits for the session
 * while the cancel tells the firmware to stop tracking: once the arc is
 * done, the session is over for it (EINVAL), and it did not start a new
 * image in between (the firmware tracks no more)
 */
TEST_F(mig, cancel_races_reader)
{
	struct pair *p = &self->p;
	struct reader r;
	int sfd, round;

	vfio_fill_pattern(p->sbar, p->size, 31);
	/* Which of the two gets the session first varies: several rounds */
	for (round = 0; round < 4; round++) {
		precopy_idle(_metadata, p, &sfd);
		ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "cmd_delay_ms", "30"));
		r = (struct reader){ .fd = sfd };
		ASSERT_EQ(0, pthread_create(&r.t, NULL, reader_run, &r));
		usleep(100 * 1000);	/* the reader is in its QUERYs */
		EXPECT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
		pthread_join(r.t, NULL);
		EXPECT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "cmd_delay_ms", "0"));
		close(sfd);
		ASSERT_LT(1, r.reads);
		ASSERT_EQ(EINVAL, r.err);
		ASSERT_EQ(0, sim_tracking(p->src.bdf));
	}
	migrate(_metadata, p, true);
}

/*
 * Saves abandoned in the middle of an image (pre-copy back to RUNNING,
 * stop-copy back to STOP, no resume in between) leave nothing behind:
 * the next stop-copy stream and a later pre-copy migration are whole.
 */
TEST_F(mig, abandoned_then_migrate)
{
	static uint8_t buf[9 * MIB];	/* room for a whole 8 MiB chunk */
	struct pair *p = &self->p;
	int fd, dfd;

	vfio_fill_pattern(p->sbar, p->size, 13);
	memset(p->dbar, 0, p->size);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	ASSERT_LT(0, read(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP, NULL));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	ASSERT_LT(0, read(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP, NULL));

	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RESUMING, &dfd));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	ASSERT_LT(0, vfio_mig_pump(fd, dfd, false, NULL, NULL));
	close(fd);
	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_STOP, NULL));
	close(dfd);
	ASSERT_EQ(0, vfio_mig_set_state(&p->dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, memcmp(p->sbar, p->dbar, p->size));

	/* pre-copy abandoned again, then a whole pre-copy migration */
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_PRE_COPY, &fd));
	ASSERT_LT(0, read(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_EQ(0, vfio_mig_set_state(&p->src, VFIO_DEVICE_STATE_RUNNING, NULL));
	migrate(_metadata, p, true);
}

/* ---- how readers and writers hold their memory ---- */

/*
 * A read() with room for the headers and all of the next piece (the
 * simulated firmware's chunk: 8 MiB) lends its memory to the firmware
 * (SAVE writes there) and ends after that piece, as a write() holding a
 * whole record of at least 256 KiB does (LOAD reads there); other
 * transfers go through the driver's buffer.  Each shape migrates the
 * pair's BAR2 (16 MiB) and it must arrive byte for byte; the simulator's
 * count of memory keys (one per buffer, one per lent piece) tells which
 * way the data went.
 */
enum shape {
	SMALL,		/* 64 KiB reads and writes: the buffer only */
	PUMP,		/* 1 MiB reads (as QEMU's), written as read: */
			/* too small for a chunk, the buffer only */
	BIG,		/* 9 MiB reads, each written as read: lent both ways */
	ODD,		/* as BIG, from and to odd addresses */
	VECTORS,	/* readv()/writev() of several segments */
	MIXED,		/* reads and writes of changing sizes, both ways mixed */
	EXACT,		/* reads of just a chunk's room, then a byte less */
	SHORT,		/* a first read a byte short of a chunk's room */
	READONLY,	/* a read into read-only memory first: EFAULT, no loss */
	KEY_FAILS,	/* the firmware refuses the key of a lent piece */
};

#define XFER_MAX (48 * MIB)
#define CHUNK (8 * MIB)		/* MLX5_VFIO_SIM_CHUNK */

FIXTURE(xfer) {
	struct pair p;
	uint8_t *buf;		/* XFER_MAX + a page, for reads and writes */
	struct stream s;	/* the stream as read */
	size_t cut[4096];	/* where each read ended */
	unsigned long keys[4];	/* the source's mkeys_made after read i */
	int ncut;
};

FIXTURE_VARIANT(xfer) {
	enum shape shape;
};

FIXTURE_VARIANT_ADD(xfer, small) { .shape = SMALL };
FIXTURE_VARIANT_ADD(xfer, pump) { .shape = PUMP };
FIXTURE_VARIANT_ADD(xfer, big) { .shape = BIG };
FIXTURE_VARIANT_ADD(xfer, odd) { .shape = ODD };
FIXTURE_VARIANT_ADD(xfer, vectors) { .shape = VECTORS };
FIXTURE_VARIANT_ADD(xfer, mixed) { .shape = MIXED };
FIXTURE_VARIANT_ADD(xfer, exact) { .shape = EXACT };
FIXTURE_VARIANT_ADD(xfer, short) { .shape = SHORT };
FIXTURE_VARIANT_ADD(xfer, readonly) { .shape = READONLY };
FIXTURE_VARIANT_ADD(xfer, key_fails) { .shape = KEY_FAILS };

FIXTURE_SETUP(xfer)
{
	int ret = open_pair(16 * MIB, &self->p);

	if (ret == -ENOENT)
		SKIP(return, "no two ivshmem functions with a 16 MiB BAR2");
	ASSERT_EQ(0, ret);
	self->buf = mmap(NULL, XFER_MAX + 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(xfer)
{
	if (self->buf && self->buf != MAP_FAILED)
		munmap(self->buf, XFER_MAX + 4096);
	free(self->s.data);
	close_pair(&self->p);
}

/* Sizes of the i-th transfer of a shape */
static size_t xfer_len(enum shape sh, int i)
{
	/* around a chunk's room; where they fall depends on what came before */
	static const size_t mixed[] = {
		CHUNK + 48, 100 * 1024, 3 * MIB, 7, CHUNK + 23, CHUNK + 24,
		300 * 1024, 2 * MIB + 5, CHUNK + MIB,
	};

	switch (sh) {
	case SMALL:
		return 64 * 1024;
	case PUMP:
		return 1 * MIB;
	case EXACT:	/* stream and record header + chunk; record header + chunk - 1 */
		return i == 0 ? CHUNK + 48 : i == 1 ? CHUNK + 23 : CHUNK + MIB;
	case SHORT:
		return i == 0 ? CHUNK + 47 : CHUNK + MIB;
	case MIXED:
		return mixed[i % ARRAY_SIZE(mixed)];
	default:
		return CHUNK + MIB;
	}
}

static unsigned long mkeys_made(const char *bdf)
{
	char v[32];

	if (vfio_mlx5_knob_read(bdf, "mkeys_made", v, sizeof(v)) <= 0)
		return ULONG_MAX;
	return strtoul(v, NULL, 10);
}

/*
 * VECTORS: segments 64 bytes apart, so a transfer that runs past the end
 * of a segment into the gap moves the wrong bytes
 */
#define XFER_GAP 64

/* One read (readv for VECTORS) of up to @len bytes, gathered at @at */
static ssize_t xfer_read(enum shape sh, int fd, uint8_t *at, size_t len)
{
	static const size_t seg[3] = { CHUNK + MIB, 16, CHUNK + MIB };
	uint8_t *base = at + XFER_MAX / 2;
	struct iovec iov[3];
	size_t off = 0, k, n;
	ssize_t got;
	int i;

	if (sh != VECTORS)
		return read(fd, at, len);
	/*
	 * The VFS reads each segment with a call of its own and stops at a
	 * short one: a lent piece ends the first; the later segments see
	 * what a piece too large for the first left in the buffer
	 */
	for (i = 0; i < 3; i++) {
		iov[i] = (struct iovec){ base + off, seg[i] };
		off += seg[i] + XFER_GAP;
	}
	got = readv(fd, iov, 3);
	for (i = 0, k = 0; got > 0 && i < 3 && k < (size_t)got; i++) {
		n = (size_t)got - k < seg[i] ? (size_t)got - k : seg[i];
		memmove(at + k, iov[i].iov_base, n);
		k += n;
	}
	return got;
}

/* One write (writev for VECTORS: two segments apart) of @len bytes at @at */
static ssize_t xfer_write(enum shape sh, int fd, uint8_t *at, size_t len)
{
	struct iovec iov[2];
	uint8_t *far = at + XFER_MAX / 2;

	if (sh != VECTORS || len < 2)
		return write(fd, at, len);
	/* a record that straddles the segments goes through the buffer */
	memcpy(far, at + len / 2, len - len / 2);
	iov[0] = (struct iovec){ at, len / 2 };
	iov[1] = (struct iovec){ far, len - len / 2 };
	return writev(fd, iov, 2);
}

/* Save the source's stop-copy stream in the shape's reads */
static void xfer_save(struct __test_metadata *_metadata,
		      struct _test_data_xfer *self, enum shape sh)
{
	uint8_t *at = self->buf + (sh == ODD ? 1 : 0);
	ssize_t n;
	int fd, i;

	ASSERT_EQ(0, vfio_mig_set_state(&self->p.src, VFIO_DEVICE_STATE_STOP_COPY, &fd));
	if (sh == READONLY) {
		/* read-only memory cannot be lent; the buffered copy faults */
		ASSERT_EQ(0, mprotect(self->buf, XFER_MAX, PROT_READ));
		EXPECT_EQ(-1, read(fd, self->buf, CHUNK + MIB));
		EXPECT_EQ(EFAULT, errno);
		ASSERT_EQ(0, mprotect(self->buf, XFER_MAX, PROT_READ | PROT_WRITE));
	}
	for (i = 0; ; i++) {
		ASSERT_LT(i, (int)ARRAY_SIZE(self->cut));
		n = xfer_read(sh, fd, at, xfer_len(sh, i));
		ASSERT_LE(0, n) TH_LOG("read %d: %s", i, strerror(errno));
		if (!n)
			break;
		stream_add(&self->s, at, n);
		if (i < (int)ARRAY_SIZE(self->keys))
			self->keys[i] = mkeys_made(self->p.src.bdf);
		self->cut[self->ncut++] = self->s.len;
	}
	close(fd);
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.src, VFIO_DEVICE_STATE_RUNNING, NULL));
}

/* Load the stream into the destination in the shape's writes */
static void xfer_load(struct __test_metadata *_metadata,
		      struct _test_data_xfer *self, enum shape sh)
{
	uint8_t *at = self->buf + (sh == ODD ? 3 : 0);
	size_t pos = 0, len;
	ssize_t n;
	int fd, i;

	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	for (i = 0; pos < self->s.len; i++) {
		/* SMALL and MIXED: their own sizes; the others: as read */
		if (sh == SMALL || sh == MIXED)
			len = xfer_len(sh, i + 3);
		else
			len = self->cut[i] - pos;
		len = len < self->s.len - pos ? len : self->s.len - pos;
		ASSERT_LE(len, XFER_MAX);
		memcpy(at, self->s.data + pos, len);
		n = xfer_write(sh, fd, at, len);
		ASSERT_EQ((ssize_t)len, n) TH_LOG("write %d: %s", i, strerror(errno));
		pos += len;
	}
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_STOP, NULL));
	close(fd);
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RUNNING, NULL));
}

/* The firmware refuses the key of a lent piece: an errno, then a reset */
static void xfer_key_fails(struct __test_metadata *_metadata,
			   struct _test_data_xfer *self)
{
	struct vfio_dev *d[2] = { &self->p.src, &self->p.dst };
	int fd, i;

	vfio_fill_pattern(self->p.sbar, self->p.size, 11);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vfio_mig_set_state(d[i], i ? VFIO_DEVICE_STATE_RESUMING :
						VFIO_DEVICE_STATE_STOP_COPY, &fd));
		ASSERT_EQ(0, vfio_mlx5_knob_write(d[i]->bdf, "fail_next", "200"));
		if (!i) {
			EXPECT_EQ(-1, read(fd, self->buf, CHUNK + MIB));
		} else {
			/* a stream header and a whole chunk's record, one write */
			memcpy(self->buf, self->s.data, self->cut[0]);
			EXPECT_EQ(-1, write(fd, self->buf, self->cut[0]));
		}
		EXPECT_EQ(EIO, errno);
		close(fd);
		EXPECT_EQ(0, reset(d[i]));
		EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(d[i]));
	}
}

TEST_F(xfer, migrates)
{
	enum shape sh = variant->shape;
	unsigned long s0, d0, s1, d1;

	if (sh == KEY_FAILS) {
		/* a good stream first, for the destination's write */
		xfer_save(_metadata, self, BIG);
		ASSERT_LT(0, self->ncut);
		ASSERT_LT(CHUNK, self->cut[0]);
		xfer_key_fails(_metadata, self);
		free(self->s.data);
		memset(&self->s, 0, sizeof(self->s));
		self->ncut = 0;
		sh = BIG;	/* and both devices migrate again */
	}
	vfio_fill_pattern(self->p.sbar, self->p.size, 5 + sh);
	memset(self->p.dbar, 0x5a, self->p.size);
	s0 = mkeys_made(self->p.src.bdf);
	d0 = mkeys_made(self->p.dst.bdf);
	ASSERT_NE(ULONG_MAX, s0);
	ASSERT_NE(ULONG_MAX, d0);

	xfer_save(_metadata, self, sh);
	xfer_load(_metadata, self, sh);
	ASSERT_EQ(0, memcmp(self->p.sbar, self->p.dbar, self->p.size));

	s1 = mkeys_made(self->p.src.bdf) - s0;
	d1 = mkeys_made(self->p.dst.bdf) - d0;
	TH_LOG("%d reads, keys: source %lu, destination %lu", self->ncut, s1, d1);
	switch (sh) {
	case SMALL:
	case PUMP:
		/* one buffer each way, 8 MiB, for every chunk */
		EXPECT_EQ(1, s1);
		EXPECT_EQ(1, d1);
		break;
	case BIG:
	case ODD:
		/*
		 * Two chunks of 8 MiB lent, one read each and written whole;
		 * the short rest of the image through the buffer
		 */
		EXPECT_EQ(3, s1);
		EXPECT_EQ(3, d1);
		break;
	case EXACT:
		/* read 0 lent its chunk; read 1, a byte short, the buffer */
		EXPECT_EQ(CHUNK + 48, self->cut[0]);
		EXPECT_EQ(s0 + 1, self->keys[0]);
		EXPECT_EQ(CHUNK + 23, self->cut[1] - self->cut[0]);
		EXPECT_EQ(s0 + 2, self->keys[1]);
		break;
	case SHORT:
		/*
		 * read 0, a byte short, the buffer (filled to the last byte);
		 * read 1 takes the chunk's last byte, then lends the next
		 */
		EXPECT_EQ(CHUNK + 47, self->cut[0]);
		EXPECT_EQ(s0 + 1, self->keys[0]);
		EXPECT_EQ(1 + 24 + CHUNK, self->cut[1] - self->cut[0]);
		EXPECT_EQ(s0 + 2, self->keys[1]);
		break;
	case READONLY:
		/*
		 * The read that faulted had its chunk saved into the buffer,
		 * read from there after (nothing lost); a 9 MiB read that
		 * drains 8 MiB has no room for a chunk: the buffer again.
		 * The destination's first write holds a whole record (lent),
		 * the second record is split (its buffer).
		 */
		EXPECT_EQ(1, s1);
		EXPECT_EQ(2, d1);
		break;
	default:
		/* some lent, some buffered */
		EXPECT_LE(2, s1);
		EXPECT_LE(1, d1);
		EXPECT_GE(self->ncut + 1, (int)s1);
		break;
	}
}

/* ---- bad streams ---- */

enum damage { TRUNCATE, CORRUPT, REC_HDR_BAD, VERSION, OVERSIZE, TRAILING, LATE_WRITE,
	      PAGE };

FIXTURE(bad) {
	struct pair p;
	struct stream good;
};

FIXTURE_VARIANT(bad) {
	enum damage damage;
	bool small_writes;	/* 64 KiB writes: records via the buffer */
};

FIXTURE_VARIANT_ADD(bad, truncated) { .damage = TRUNCATE };
FIXTURE_VARIANT_ADD(bad, corrupted) { .damage = CORRUPT };
FIXTURE_VARIANT_ADD(bad, record_header) { .damage = REC_HDR_BAD };
FIXTURE_VARIANT_ADD(bad, wrong_version) { .damage = VERSION };
FIXTURE_VARIANT_ADD(bad, oversized) { .damage = OVERSIZE };
FIXTURE_VARIANT_ADD(bad, trailing) { .damage = TRAILING };
FIXTURE_VARIANT_ADD(bad, late_write) { .damage = LATE_WRITE };
FIXTURE_VARIANT_ADD(bad, page_corrupted) { .damage = PAGE };
/* the same refusals of a record the driver collected in its buffer */
FIXTURE_VARIANT_ADD(bad, corrupted_buffered) { .damage = CORRUPT, .small_writes = true };
FIXTURE_VARIANT_ADD(bad, page_corrupted_buffered) { .damage = PAGE, .small_writes = true };

/* Write @len bytes in writes of at most @piece; 0 or -errno */
static int write_pieces(int fd, const uint8_t *p, size_t len, size_t piece)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len < piece ? len : piece);
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

FIXTURE_SETUP(bad)
{
	ASSERT_EQ(0, open_pair(0, &self->p));
	vfio_fill_pattern(self->p.sbar, self->p.size, 11);
	ASSERT_EQ(0, save_stream(&self->p.src, &self->good));
	ASSERT_GT(self->good.len, STREAM_HDR + 2 * REC_HDR + self->p.size - 1);
}

FIXTURE_TEARDOWN(bad)
{
	free(self->good.data);
	close_pair(&self->p);
}

/*
 * A stream whose only flaw is one byte of one page: the source saves it
 * with corrupt_next_save_page set, so the driver's record headers are
 * valid and image header and context are intact.  The
 * destination's context (forced different first) must arrive: the
 * simulated firmware took header and context and refused the page.
 */
static void save_page_corrupt(struct __test_metadata *_metadata,
			      struct pair *p, const struct stream *good,
			      uint8_t *s, uint8_t sctx[SIM_CTX_LEN])
{
	uint8_t dctx[SIM_CTX_LEN];
	struct stream bad = {};
	char knob[8];
	int i;

	ASSERT_EQ(0, sim_context(p->src.bdf, sctx, false));
	for (i = 0; i < SIM_CTX_LEN; i++)
		dctx[i] = ~sctx[i];
	ASSERT_EQ(0, sim_context(p->dst.bdf, dctx, true));

	ASSERT_EQ(0, vfio_mlx5_knob_write(p->src.bdf, "corrupt_next_save_page", "Y"));
	ASSERT_EQ(0, save_stream(&p->src, &bad));
	ASSERT_LT(0, vfio_mlx5_knob_read(p->src.bdf, "corrupt_next_save_page",
					 knob, sizeof(knob)));
	EXPECT_STREQ("N", knob) TH_LOG("the knob was not consumed");
	/* Same BAR2, same layout: the same length as the good stream */
	ASSERT_EQ(good->len, bad.len);
	memcpy(s, bad.data, bad.len);
	free(bad.data);
}

TEST_F(bad, rejected_then_reset)
{
	uint8_t *s = malloc(self->good.len + 4096);
	uint8_t sctx[SIM_CTX_LEN], dctx[SIM_CTX_LEN];
	size_t len = self->good.len;
	int fd, ret, wret = 0;
	uint64_t first = 0;

	ASSERT_NE(NULL, s);
	memcpy(s, self->good.data, len);
	memset(self->p.dbar, 0, self->p.size);

	switch (variant->damage) {
	case TRUNCATE:		/* the END record and a piece of the image missing */
		len -= REC_HDR + 100;
		break;
	case CORRUPT:		/* one flipped byte in the first image piece */
		memcpy(&first, s + STREAM_HDR + 8, sizeof(first));
		s[STREAM_HDR + REC_HDR + first / 2] ^= 0x40;
		break;
	case REC_HDR_BAD:	/* the first record's length off by 8: still plausible */
		s[STREAM_HDR + 8] ^= 0x08;
		break;
	case VERSION:
		s[8] += 1;
		break;
	case OVERSIZE:		/* the first record claims 1 GiB */
		s[STREAM_HDR + 8 + 3] = 0x40;
		break;
	case TRAILING:		/* bytes after END */
		memset(s + len, 0, 64);
		len += 64;
		break;
	case LATE_WRITE:
		break;
	case PAGE:
		save_page_corrupt(_metadata, &self->p, &self->good, s, sctx);
		break;
	}

	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RESUMING, &fd));
	/* one write (whole records lent to the firmware) or 64 KiB ones */
	wret = write_pieces(fd, s, len, variant->small_writes ? 64 * 1024 : len);
	/* A write, failed or not, does not change the state */
	ASSERT_EQ(VFIO_DEVICE_STATE_RESUMING, vfio_mig_get_state(&self->p.dst));
	if (variant->damage == PAGE) {
		const uint8_t *sb = self->p.sbar, *db = self->p.dbar;

		/*
		 * Refused by the firmware (BAD_PARAM: EINVAL), not by the
		 * driver's record header check (EBADMSG); the context before the
		 * bad page (the first) was loaded.  The firmware checks a page
		 * as it copies it: the bad page reached BAR2 with its flipped
		 * last byte, no page after it did.
		 */
		ASSERT_EQ(-EINVAL, wret);
		ASSERT_EQ(0, sim_context(self->p.dst.bdf, dctx, false));
		EXPECT_EQ(0, memcmp(sctx, dctx, SIM_CTX_LEN))
			TH_LOG("the context did not load: refused before the page");
		EXPECT_EQ(0, memcmp(sb, db, SIM_PAGE - 1));
		EXPECT_EQ(sb[SIM_PAGE - 1] ^ 0x5a, db[SIM_PAGE - 1])
			TH_LOG("not the first page with its last byte flipped");
		first = nonzero_at(db + SIM_PAGE, self->p.size - SIM_PAGE);
		EXPECT_EQ(self->p.size - SIM_PAGE, first)
			TH_LOG("BAR2 written at %llu", (unsigned long long)(SIM_PAGE + first));
	}
	if (variant->damage == CORRUPT) {
		/*
		 * The simulated firmware loaded the page records before the
		 * damaged one, in order, and refused that one as it copied
		 * it: BAR2 holds the source's pages before it and nothing
		 * after it.
		 */
		uint64_t off = first / 2 - SIM_IMG_HDR - SIM_CTX_LEN - 8;
		uint64_t bad = off / SIM_PAGE_REC * SIM_PAGE, z;

		ASSERT_LT(bad + SIM_PAGE, self->p.size);
		EXPECT_EQ(0, memcmp(self->p.sbar, self->p.dbar, bad))
			TH_LOG("the pages before the damaged one did not load");
		z = nonzero_at((uint8_t *)self->p.dbar + bad + SIM_PAGE,
			       self->p.size - bad - SIM_PAGE);
		EXPECT_EQ(self->p.size - bad - SIM_PAGE, z)
			TH_LOG("BAR2 written at %llu, after the damaged page at %llu",
			       (unsigned long long)(bad + SIM_PAGE + z),
			       (unsigned long long)bad);
	}
	if (variant->damage == LATE_WRITE) {
		ASSERT_EQ(0, wret);
		ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_STOP, NULL));
		/* Writes in the wrong state */
		ASSERT_EQ(-1, write(fd, s, 16));
		ASSERT_EQ(EINVAL, errno);
		close(fd);
		ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RUNNING, NULL));
		ASSERT_EQ(0, memcmp(self->p.sbar, self->p.dbar, self->p.size));
		free(s);
		return;
	}
	ret = vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_STOP, NULL);
	TH_LOG("write: %d, RESUMING -> STOP: %d", wret, ret);
	/* Refused: by a write, or at the latest when RESUMING ends */
	ASSERT_TRUE(wret < 0 || ret < 0);
	if (ret < 0)
		ASSERT_EQ(VFIO_DEVICE_STATE_ERROR, vfio_mig_get_state(&self->p.dst));
	switch (variant->damage) {
	case VERSION:
		ASSERT_EQ(-EPROTONOSUPPORT, wret);
		break;
	case OVERSIZE:
		ASSERT_EQ(-EMSGSIZE, wret);
		break;
	case CORRUPT:
		/* The image is the firmware's to check: BAD_PARAM, EINVAL */
		ASSERT_EQ(-EINVAL, wret);
		break;
	case REC_HDR_BAD:
		ASSERT_EQ(-EBADMSG, wret);
		break;
	case PAGE:
		/* The load failed: leaving RESUMING fails too, into ERROR */
		ASSERT_EQ(-EINVAL, ret);
		break;
	case TRUNCATE:
		ASSERT_EQ(0, wret);
		ASSERT_EQ(-EINVAL, ret);
		break;
	case TRAILING:
		ASSERT_EQ(-EINVAL, wret);
		break;
	default:
		break;
	}
	close(fd);

	/* A reset makes the destination usable: the good stream loads */
	ASSERT_EQ(0, reset(&self->p.dst));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, vfio_mig_get_state(&self->p.dst));
	ASSERT_EQ(0, vfio_mig_load(&self->p.dst, self->good.data, self->good.len));
	ASSERT_EQ(0, vfio_mig_set_state(&self->p.dst, VFIO_DEVICE_STATE_RUNNING, NULL));
	ASSERT_EQ(0, memcmp(self->p.sbar, self->p.dbar, self->p.size));
	free(s);
}

TEST_HARNESS_MAIN
