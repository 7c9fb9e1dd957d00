// SPDX-License-Identifier: GPL-2.0-only
/*
 * Smoke test: every device the harness bound opens through the container
 * and group path and answers VFIO_DEVICE_GET_INFO as a PCI device.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

FIXTURE(smoke) {
	struct vfio_dev d;
};

FIXTURE_VARIANT(smoke) {
	const char *name;
};

FIXTURE_VARIANT_ADD(smoke, edu) { .name = "edu" };
FIXTURE_VARIANT_ADD(smoke, e1000e) { .name = "e1000e" };
FIXTURE_VARIANT_ADD(smoke, nvme) { .name = "nvme" };
FIXTURE_VARIANT_ADD(smoke, ivshmem) { .name = "ivshmem" };

FIXTURE_SETUP(smoke)
{
	const char *bdf = vfio_test_bdf(variant->name);

	if (!bdf)
		SKIP(return, "no %s device bound", variant->name);
	ASSERT_EQ(0, vfio_dev_open(&self->d, bdf));
}

FIXTURE_TEARDOWN(smoke)
{
	vfio_dev_close(&self->d);
}

TEST_F(smoke, get_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_GE(info.num_regions, VFIO_PCI_NUM_REGIONS);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
}

TEST_F(smoke, get_info_short_argsz)
{
	struct vfio_device_info info = { .argsz = 8 };

	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(smoke, unknown_ioctl)
{
	EXPECT_EQ(-1, ioctl(self->d.fd, _IO(VFIO_TYPE, VFIO_BASE + 60), 0));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_HARNESS_MAIN
