// SPDX-License-Identifier: GPL-2.0-only
/*
 * Removal while open: unbinding (or removing) a function whose device a
 * user holds signals the REQ interrupt and completes once the user closes;
 * a user that does not close blocks only that removal, nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

struct sysfs_write {
	char path[160];
	char val[64];
	volatile int done;
	int ret;
};

static void *writer(void *arg)
{
	struct sysfs_write *w = arg;

	w->ret = vfio_write_file(w->path, w->val);
	w->done = 1;
	return NULL;
}

static int rebind(const char *bdf)
{
	return vfio_bind_to_vfio_pci(bdf);
}

static bool wait_done(volatile int *flag, int ms)
{
	while (ms > 0 && !*flag) {
		usleep(10000);
		ms -= 10;
	}
	return *flag;
}

FIXTURE(removal) {
	struct vfio_dev d;
	const char *bdf;
	int32_t req;
};

FIXTURE_VARIANT(removal) {
	const char *name;
	bool remove;	/* PCI remove + rescan instead of driver unbind */
};

FIXTURE_VARIANT_ADD(removal, edu_unbind) { .name = "edu" };
FIXTURE_VARIANT_ADD(removal, e1000e_unbind) { .name = "e1000e" };
FIXTURE_VARIANT_ADD(removal, e1000e_remove) { .name = "e1000e", .remove = true };

FIXTURE_SETUP(removal)
{
	self->bdf = vfio_test_bdf(variant->name);
	if (!self->bdf)
		SKIP(return, "no %s device bound", variant->name);
	ASSERT_TRUE(vfio_bound_to_vfio_pci(self->bdf) || rebind(self->bdf) == 0);
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
	self->req = eventfd(0, EFD_CLOEXEC);
	ASSERT_EQ(0, vfio_irq_set_eventfds(&self->d, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &self->req));
}

FIXTURE_TEARDOWN(removal)
{
	vfio_dev_close(&self->d);
	if (self->bdf && !vfio_bound_to_vfio_pci(self->bdf)) {
		if (access("/sys/bus/pci/devices/", F_OK) == 0)
			vfio_write_file("/sys/bus/pci/rescan", "1");
		rebind(self->bdf);
	}
}

TEST_F(removal, request_then_release)
{
	struct sysfs_write w = {};
	pthread_t t;

	if (variant->remove)
		snprintf(w.path, sizeof(w.path), "/sys/bus/pci/devices/%s/remove", self->bdf);
	else
		snprintf(w.path, sizeof(w.path), "/sys/bus/pci/devices/%s/driver/unbind",
			 self->bdf);
	snprintf(w.val, sizeof(w.val), "%s", variant->remove ? "1" : self->bdf);
	ASSERT_EQ(0, pthread_create(&t, NULL, writer, &w));

	/* The user is asked to let go, and the removal waits for it */
	ASSERT_NE(0, vfio_eventfd_wait(self->req, 5000));
	usleep(200000);
	EXPECT_FALSE(w.done);

	/* A second device stays usable while this removal waits */
	{
		const char *other = vfio_test_bdf(strcmp(variant->name, "edu") ? "edu" : "ivshmem");
		struct vfio_dev o;

		if (other) {
			ASSERT_EQ(0, vfio_dev_open(&o, other));
			EXPECT_NE(0xffff, vfio_cfg_read16(&o, PCI_VENDOR_ID));
			vfio_dev_close(&o);
		}
	}

	vfio_dev_close(&self->d);
	EXPECT_TRUE(wait_done(&w.done, 20000));
	pthread_join(t, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_FALSE(vfio_bound_to_vfio_pci(self->bdf));

	if (variant->remove)
		ASSERT_EQ(0, vfio_write_file("/sys/bus/pci/rescan", "1"));
	ASSERT_EQ(0, rebind(self->bdf));
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
	EXPECT_TRUE(self->d.info.flags & VFIO_DEVICE_FLAGS_PCI);
}

TEST_F(removal, request_counter_keeps_asking)
{
	struct sysfs_write w = {};
	pthread_t t;
	uint64_t n = 0;
	int i;

	if (variant->remove)
		SKIP(return, "covered by the unbind variants");
	snprintf(w.path, sizeof(w.path), "/sys/bus/pci/devices/%s/driver/unbind", self->bdf);
	snprintf(w.val, sizeof(w.val), "%s", self->bdf);
	ASSERT_EQ(0, pthread_create(&t, NULL, writer, &w));
	/* vfio core asks again every 10 s: wait for two requests */
	for (i = 0; i < 2; i++)
		n += vfio_eventfd_wait(self->req, 15000);
	EXPECT_GE(n, 2);
	EXPECT_FALSE(w.done);
	vfio_dev_close(&self->d);
	EXPECT_TRUE(wait_done(&w.done, 20000));
	pthread_join(t, NULL);
	ASSERT_EQ(0, rebind(self->bdf));
	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf));
}

TEST_HARNESS_MAIN
