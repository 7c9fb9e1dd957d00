// SPDX-License-Identifier: GPL-2.0-only
/*
 * The iommufd/cdev path: /dev/vfio/devices/vfioX bound to an iommufd and
 * attached to an IOAS, then used like a group-opened device (info, config,
 * a BAR read, DMA through the IOAS on edu).  Debian's kernel has no IOMMUFD
 * and no VFIO_DEVICE_CDEV: there it is skipped; the debug kernel
 * (make check-debug) has both and must pass it.  Which one it is comes from
 * the kernel's config, never from whether the open worked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

/* The cdev node of @bdf: /sys/bus/pci/devices/<bdf>/vfio-dev/vfioN */
static int cdev_open(const char *bdf)
{
	char path[320];
	struct dirent *e;
	DIR *dir;
	int fd = -1;

	errno = ENOENT;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((e = readdir(dir))) {
		if (strncmp(e->d_name, "vfio", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", e->d_name);
		fd = open(path, O_RDWR);
		break;
	}
	closedir(dir);
	return fd;
}

FIXTURE(cdev) {
	int iommufd;
	int fd;
	uint32_t ioas;
};

FIXTURE_VARIANT(cdev) {
	const char *name;
};

FIXTURE_VARIANT_ADD(cdev, edu) { .name = "edu" };
FIXTURE_VARIANT_ADD(cdev, e1000e) { .name = "e1000e" };

FIXTURE_SETUP(cdev)
{
	const char *bdf = vfio_test_bdf(variant->name);
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int iommufd, cdev;

	self->fd = -1;
	self->iommufd = -1;
	if (!bdf)
		SKIP(return, "no %s device bound", variant->name);
	iommufd = vfio_kconfig("CONFIG_IOMMUFD");
	cdev = vfio_kconfig("CONFIG_VFIO_DEVICE_CDEV");
	ASSERT_NE(-1, cdev) TH_LOG("the kernel's config is unknown");
	if (!iommufd || !cdev)
		SKIP(return, "kernel without CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV");
	self->fd = cdev_open(bdf);
	ASSERT_LE(0, self->fd) TH_LOG("no vfio cdev for %s: %s", bdf, strerror(errno));
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_GE(self->iommufd, 0);
	bind.iommufd = self->iommufd;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_ALLOC, &alloc));
	self->ioas = alloc.out_ioas_id;
	at.pt_id = self->ioas;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
}

FIXTURE_TEARDOWN(cdev)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->iommufd >= 0)
		close(self->iommufd);
}

TEST_F(cdev, info_config_and_bar)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t vendor = 0;

	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	ASSERT_EQ(2, pread(self->fd, &vendor, 2, cfg.offset + PCI_VENDOR_ID));
	EXPECT_NE(0xffff, vendor);
	EXPECT_NE(0, vendor);
}

TEST_F(cdev, edu_dma_through_ioas)
{
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = 0 };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct iommu_ioas_map map = { .size = sizeof(map) };
	uint64_t iova = 0x200000;
	uint16_t cmd;
	char *buf;
	int i;

	if (strcmp(variant->name, "edu"))
		SKIP(return, "DMA engine only on edu");
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (i = 0; i < 64; i++)
		buf[i] = (char)(i * 5 + 0x3c);
	map.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
		    IOMMU_IOAS_MAP_WRITEABLE;
	map.ioas_id = self->ioas;
	map.user_va = (uintptr_t)buf;
	map.length = 4096;
	map.iova = iova;
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_MAP, &map));
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &bar));
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	ASSERT_EQ(2, pread(self->fd, &cmd, 2, cfg.offset + PCI_COMMAND));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	ASSERT_EQ(2, pwrite(self->fd, &cmd, 2, cfg.offset + PCI_COMMAND));
	/* RAM -> edu buffer, then back into the second half of the page */
	ASSERT_EQ(0, vfio_edu_dma_copy(self->fd, bar.offset, iova, iova + 2048, 64));
	EXPECT_EQ(0, memcmp(buf, buf + 2048, 64));
	munmap(buf, 4096);
}

TEST_HARNESS_MAIN
