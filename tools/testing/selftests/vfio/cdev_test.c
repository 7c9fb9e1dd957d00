// SPDX-License-Identifier: GPL-2.0-only
/*
 * The iommufd/cdev path: /dev/vfio/devices/vfioX bound to an iommufd and
 * attached to an IOAS, then used like a group-opened device (info, config,
 * a BAR read, DMA through the IOAS on edu).  Debian's kernel has no IOMMUFD
 * and no VFIO_DEVICE_CDEV: there it is skipped; the debug kernel
 * (make check-debug) has both and must pass it.  Which one it is comes from
 * the kernel's config, never from whether the open worked.
 *
 * Hot reset of a device set of two ("pair": two ivshmem functions of one
 * multifunction slot behind a root port, one IOMMU group): in the group
 * form (every kernel) and the cdev form (count 0, devid info).  Both
 * functions must come out of the reset with IntrMask (BAR0 offset 0)
 * cleared; with a function of the slot outside vfio-pci the reset is
 * refused and the info reports it as not owned.
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

#define IVSHMEM_INTRMASK	0

/* Device fd region offsets of BAR0 and config space */
static void region_offsets(struct __test_metadata *_metadata, int fd,
			   uint64_t *bar0, uint64_t *cfg)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };

	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
	*bar0 = ri.offset;
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
	*cfg = ri.offset;
}

/* Set IntrMask of the function behind @fd to all ones and read it back */
static void dirty_intrmask(struct __test_metadata *_metadata, int fd)
{
	uint32_t v = 0xffffffff;
	uint64_t bar0, cfg;
	uint16_t cmd = 0;

	region_offsets(_metadata, fd, &bar0, &cfg);
	ASSERT_EQ(2, pread(fd, &cmd, 2, cfg + PCI_COMMAND));
	cmd |= PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, pwrite(fd, &cmd, 2, cfg + PCI_COMMAND));
	ASSERT_EQ(4, pwrite(fd, &v, 4, bar0 + IVSHMEM_INTRMASK));
	v = 0;
	ASSERT_EQ(4, pread(fd, &v, 4, bar0 + IVSHMEM_INTRMASK));
	ASSERT_EQ(0xffffffff, v);
}

/* IntrMask of the function behind @fd, memory decode turned on first */
static uint32_t intrmask(struct __test_metadata *_metadata, int fd)
{
	uint32_t v = 0xdeadbeef;
	uint64_t bar0, cfg;
	uint16_t cmd = 0;

	region_offsets(_metadata, fd, &bar0, &cfg);
	if (pread(fd, &cmd, 2, cfg + PCI_COMMAND) != 2)
		return 0xdeadbeef;
	cmd |= PCI_COMMAND_MEMORY;
	if (pwrite(fd, &cmd, 2, cfg + PCI_COMMAND) != 2 ||
	    pread(fd, &v, 4, bar0 + IVSHMEM_INTRMASK) != 4)
		return 0xdeadbeef;
	return v;
}

/* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO with room for two entries */
struct pair_info {
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device dev[2];
};

static int pair_info(int fd, struct pair_info *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->hdr.argsz = sizeof(*pi);
	return ioctl(fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, pi) ? -errno : 0;
}

/* VFIO_DEVICE_PCI_HOT_RESET with @count fds (0: the cdev form) */
static int pair_reset(int fd, int32_t group, uint32_t count)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		int32_t fds[1];
	} r = { .hdr = { .argsz = sizeof(r), .count = count } };

	r.fds[0] = group;
	return ioctl(fd, VFIO_DEVICE_PCI_HOT_RESET, &r) ? -errno : 0;
}

/* Whether the info entry @dep is the function @bdf */
static bool dep_is(const struct vfio_pci_dependent_device *dep, const char *bdf)
{
	unsigned int seg, bus, slot, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &slot, &fn) != 4)
		return false;
	return dep->segment == seg && dep->bus == bus &&
	       dep->devfn == ((slot << 3) | fn);
}

/* Take @bdf out of vfio-pci: its slot then has a function we do not own */
static void unbind_pair1(struct __test_metadata *_metadata, const char *bdf)
{
	ASSERT_EQ(0, vfio_write_file("/sys/bus/pci/drivers/vfio-pci/unbind", bdf));
	ASSERT_FALSE(vfio_bound_to_vfio_pci(bdf));
}

FIXTURE(pair) {
	const char *bdf[2];
	int iommufd;
	int fd[2];		/* cdev fds, -1 when not open */
	uint32_t devid[2];
	struct vfio_dev d;	/* group form: pair0, through its group */
};

FIXTURE_SETUP(pair)
{
	int i;

	self->iommufd = -1;
	for (i = 0; i < 2; i++)
		self->fd[i] = -1;
	self->d.fd = -1;
	self->d.group = -1;
	self->d.container = -1;
	self->bdf[0] = vfio_test_bdf("pair0");
	self->bdf[1] = vfio_test_bdf("pair1");
	if (!self->bdf[0] || !self->bdf[1])
		SKIP(return, "no pair of functions bound (--devices pair)");
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, vfio_bind_to_vfio_pci(self->bdf[i]));
	/* A multifunction slot without ACS: one IOMMU group */
	ASSERT_EQ(vfio_group_of(self->bdf[0]), vfio_group_of(self->bdf[1]));
}

FIXTURE_TEARDOWN(pair)
{
	int i;

	for (i = 0; i < 2; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	if (self->iommufd >= 0)
		close(self->iommufd);
	vfio_dev_close(&self->d);
	/* driver_override still names vfio-pci */
	if (self->bdf[1] && !vfio_bound_to_vfio_pci(self->bdf[1]))
		vfio_write_file("/sys/bus/pci/drivers_probe", self->bdf[1]);
}

/* Whether the kernel has iommufd and vfio cdevs (its config says) */
static bool kernel_has_cdev(struct __test_metadata *_metadata)
{
	int cdev = vfio_kconfig("CONFIG_VFIO_DEVICE_CDEV");

	EXPECT_NE(-1, cdev) TH_LOG("the kernel's config is unknown");
	return cdev > 0 && vfio_kconfig("CONFIG_IOMMUFD") > 0;
}

#define NEED_CDEV() do {						\
	if (!kernel_has_cdev(_metadata))				\
		SKIP(return, "kernel without CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV"); \
} while (0)

/* Open pair function @i through its cdev and bind it to self->iommufd */
static void pair_cdev(struct __test_metadata *_metadata,
		      struct _test_data_pair *self, int i)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };

	if (self->iommufd < 0) {
		self->iommufd = open("/dev/iommu", O_RDWR);
		ASSERT_LE(0, self->iommufd);
	}
	self->fd[i] = cdev_open(self->bdf[i]);
	ASSERT_LE(0, self->fd[i]) TH_LOG("no vfio cdev for %s", self->bdf[i]);
	bind.iommufd = self->iommufd;
	ASSERT_EQ(0, ioctl(self->fd[i], VFIO_DEVICE_BIND_IOMMUFD, &bind));
	self->devid[i] = bind.out_devid;
	ASSERT_LT(0, self->devid[i]);
}

TEST_F(pair, group_form_resets_both)
{
	char name[40];
	struct pair_info pi;
	int fd1, i;

	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf[0]));
	snprintf(name, sizeof(name), "%s", self->bdf[1]);
	fd1 = ioctl(self->d.group, VFIO_GROUP_GET_DEVICE_FD, name);
	ASSERT_LE(0, fd1);

	ASSERT_EQ(0, pair_info(self->d.fd, &pi));
	EXPECT_EQ(0, pi.hdr.flags);
	ASSERT_EQ(2, pi.hdr.count);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(self->d.groupno, (int)pi.dev[i].group_id);
		EXPECT_TRUE(dep_is(&pi.dev[i], self->bdf[i]));
	}

	dirty_intrmask(_metadata, self->d.fd);
	dirty_intrmask(_metadata, fd1);
	/* The cdev form is refused for a group-opened device */
	EXPECT_EQ(-EINVAL, pair_reset(self->d.fd, -1, 0));
	EXPECT_EQ(0xffffffff, intrmask(_metadata, self->d.fd));
	ASSERT_EQ(0, pair_reset(self->d.fd, self->d.group, 1));
	EXPECT_EQ(0, intrmask(_metadata, self->d.fd));
	EXPECT_EQ(0, intrmask(_metadata, fd1));
	close(fd1);
}

TEST_F(pair, group_form_refused_with_foreign_function)
{
	struct pair_info pi;

	ASSERT_EQ(0, vfio_dev_open(&self->d, self->bdf[0]));
	unbind_pair1(_metadata, self->bdf[1]);
	dirty_intrmask(_metadata, self->d.fd);
	EXPECT_EQ(-EINVAL, pair_reset(self->d.fd, self->d.group, 1));
	EXPECT_EQ(0xffffffff, intrmask(_metadata, self->d.fd));
	/* The info still lists the whole slot */
	ASSERT_EQ(0, pair_info(self->d.fd, &pi));
	EXPECT_EQ(2, pi.hdr.count);
}

TEST_F(pair, cdev_form_both_bound)
{
	struct pair_info pi;
	int i;

	NEED_CDEV();

	pair_cdev(_metadata, self, 0);
	pair_cdev(_metadata, self, 1);

	ASSERT_EQ(0, pair_info(self->fd[0], &pi));
	EXPECT_EQ(VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
		  VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED, pi.hdr.flags);
	ASSERT_EQ(2, pi.hdr.count);
	for (i = 0; i < 2; i++) {
		EXPECT_TRUE(dep_is(&pi.dev[i], self->bdf[i]));
		EXPECT_EQ(self->devid[i], pi.dev[i].devid);
	}

	/* Too small an array: the count needed, nothing else */
	pi.hdr.argsz = sizeof(pi.hdr);
	pi.hdr.count = 0;
	EXPECT_EQ(-1, ioctl(self->fd[0], VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &pi));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(2, pi.hdr.count);
	EXPECT_EQ(0, pi.hdr.flags);	/* not the flags of the previous reply */

	dirty_intrmask(_metadata, self->fd[0]);
	dirty_intrmask(_metadata, self->fd[1]);
	/* The group form is refused for a cdev-opened device */
	EXPECT_EQ(-EINVAL, pair_reset(self->fd[0], self->iommufd, 1));
	EXPECT_EQ(0xffffffff, intrmask(_metadata, self->fd[0]));
	ASSERT_EQ(0, pair_reset(self->fd[0], -1, 0));
	EXPECT_EQ(0, intrmask(_metadata, self->fd[0]));
	EXPECT_EQ(0, intrmask(_metadata, self->fd[1]));
}

TEST_F(pair, cdev_form_owned_through_group)
{
	struct pair_info pi;

	NEED_CDEV();

	/* pair1 is not open, but its group is bound to our iommufd */
	pair_cdev(_metadata, self, 0);
	ASSERT_EQ(0, pair_info(self->fd[0], &pi));
	EXPECT_EQ(VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
		  VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED, pi.hdr.flags);
	ASSERT_EQ(2, pi.hdr.count);
	EXPECT_EQ(self->devid[0], pi.dev[0].devid);
	EXPECT_EQ(VFIO_PCI_DEVID_OWNED, pi.dev[1].devid);

	dirty_intrmask(_metadata, self->fd[0]);
	ASSERT_EQ(0, pair_reset(self->fd[0], -1, 0));
	EXPECT_EQ(0, intrmask(_metadata, self->fd[0]));
}

TEST_F(pair, cdev_form_refused_with_foreign_function)
{
	struct pair_info pi;

	NEED_CDEV();

	pair_cdev(_metadata, self, 0);
	unbind_pair1(_metadata, self->bdf[1]);
	ASSERT_EQ(0, pair_info(self->fd[0], &pi));
	EXPECT_EQ(VFIO_PCI_HOT_RESET_FLAG_DEV_ID, pi.hdr.flags);
	ASSERT_EQ(2, pi.hdr.count);
	EXPECT_EQ(self->devid[0], pi.dev[0].devid);
	EXPECT_EQ(VFIO_PCI_DEVID_NOT_OWNED, pi.dev[1].devid);

	dirty_intrmask(_metadata, self->fd[0]);
	EXPECT_EQ(-EINVAL, pair_reset(self->fd[0], -1, 0));
	EXPECT_EQ(0xffffffff, intrmask(_metadata, self->fd[0]));
}

TEST_HARNESS_MAIN
