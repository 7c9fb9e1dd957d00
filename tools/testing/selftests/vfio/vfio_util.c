// SPDX-License-Identifier: GPL-2.0-only
/* Helpers for the VFIO PCI selftests; see vfio_util.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "vfio_util.h"

const char *vfio_test_bdf(const char *name)
{
	char var[64];
	size_t i;

	snprintf(var, sizeof(var), "VFIO_%s_BDF", name);
	for (i = 0; var[i]; i++)
		if (var[i] >= 'a' && var[i] <= 'z')
			var[i] -= 'a' - 'A';
	return getenv(var);
}

int vfio_group_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	char *slash;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = 0;
	slash = strrchr(link, '/');
	return slash ? atoi(slash + 1) : -1;
}

int vfio_dev_open_ex(struct vfio_dev *d, const char *bdf, const char *match_extra)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char path[64], name[128];
	int ret;

	memset(d, 0, sizeof(*d));
	d->container = -1;
	d->group = -1;
	d->fd = -1;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->groupno = vfio_group_of(bdf);
	if (d->groupno < 0)
		return -ENODEV;

	d->container = open("/dev/vfio/vfio", O_RDWR);
	if (d->container < 0)
		return -errno;
	snprintf(path, sizeof(path), "/dev/vfio/%d", d->groupno);
	d->group = open(path, O_RDWR);
	if (d->group < 0)
		goto fail;
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &gs))
		goto fail;
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EBUSY;
		goto fail;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container))
		goto fail;
	if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		goto fail;
	snprintf(name, sizeof(name), "%s%s", bdf, match_extra ? match_extra : "");
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, name);
	if (d->fd < 0)
		goto fail;
	d->info.argsz = sizeof(d->info);
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &d->info))
		goto fail;
	return 0;
fail:
	ret = -errno;
	vfio_dev_close(d);
	return ret;
}

int vfio_dev_open(struct vfio_dev *d, const char *bdf)
{
	return vfio_dev_open_ex(d, bdf, NULL);
}

int vfio_dev_reopen_fd(struct vfio_dev *d)
{
	int fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->bdf);

	return fd < 0 ? -errno : fd;
}

void vfio_dev_close(struct vfio_dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->fd = -1;
	d->group = -1;
	d->container = -1;
}

int vfio_region_info(struct vfio_dev *d, uint32_t index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

int vfio_region_info_full(struct vfio_dev *d, uint32_t index, struct vfio_region_info **out)
{
	struct vfio_region_info *ri;
	uint32_t sz = sizeof(*ri);

	for (;;) {
		ri = calloc(1, sz);
		if (!ri)
			return -ENOMEM;
		ri->argsz = sz;
		ri->index = index;
		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
			int ret = -errno;

			free(ri);
			return ret;
		}
		if (ri->argsz <= sz)
			break;
		sz = ri->argsz;
		free(ri);
	}
	*out = ri;
	return 0;
}

struct vfio_info_cap_header *vfio_find_cap(void *info, uint32_t cap_offset, uint16_t id)
{
	struct vfio_info_cap_header *h;
	uint32_t off = cap_offset;
	int guard = 0;

	while (off && guard++ < 64) {
		h = (struct vfio_info_cap_header *)((char *)info + off);
		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

static uint64_t region_offset(struct vfio_dev *d, uint32_t index)
{
	struct vfio_region_info ri;

	if (vfio_region_info(d, index, &ri))
		return UINT64_MAX;
	return ri.offset;
}

ssize_t vfio_region_read(struct vfio_dev *d, uint32_t index, uint64_t off,
			 void *buf, size_t len)
{
	uint64_t base = region_offset(d, index);
	ssize_t n;

	if (base == UINT64_MAX)
		return -EINVAL;
	n = pread(d->fd, buf, len, base + off);
	return n < 0 ? -errno : n;
}

ssize_t vfio_region_write(struct vfio_dev *d, uint32_t index, uint64_t off,
			  const void *buf, size_t len)
{
	uint64_t base = region_offset(d, index);
	ssize_t n;

	if (base == UINT64_MAX)
		return -EINVAL;
	n = pwrite(d->fd, buf, len, base + off);
	return n < 0 ? -errno : n;
}

static void cfg_xfer(struct vfio_dev *d, uint64_t off, void *v, size_t len, bool wr)
{
	ssize_t n = wr ? vfio_region_write(d, VFIO_PCI_CONFIG_REGION_INDEX, off, v, len)
		       : vfio_region_read(d, VFIO_PCI_CONFIG_REGION_INDEX, off, v, len);

	if (n != (ssize_t)len) {
		fprintf(stderr, "# config %s of %zu at 0x%llx failed: %zd\n",
			wr ? "write" : "read", len, (unsigned long long)off, n);
		abort();
	}
}

uint8_t vfio_cfg_read8(struct vfio_dev *d, uint64_t off)
{
	uint8_t v;

	cfg_xfer(d, off, &v, 1, false);
	return v;
}

uint16_t vfio_cfg_read16(struct vfio_dev *d, uint64_t off)
{
	uint16_t v;

	cfg_xfer(d, off, &v, 2, false);
	return v;
}

uint32_t vfio_cfg_read32(struct vfio_dev *d, uint64_t off)
{
	uint32_t v;

	cfg_xfer(d, off, &v, 4, false);
	return v;
}

void vfio_cfg_write8(struct vfio_dev *d, uint64_t off, uint8_t v)
{
	cfg_xfer(d, off, &v, 1, true);
}

void vfio_cfg_write16(struct vfio_dev *d, uint64_t off, uint16_t v)
{
	cfg_xfer(d, off, &v, 2, true);
}

void vfio_cfg_write32(struct vfio_dev *d, uint64_t off, uint32_t v)
{
	cfg_xfer(d, off, &v, 4, true);
}

int vfio_cfg_find_cap(struct vfio_dev *d, uint8_t id)
{
	uint8_t pos;
	int guard = 0;

	if (!(vfio_cfg_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = vfio_cfg_read8(d, PCI_CAPABILITY_LIST) & ~3;
	while (pos && guard++ < 48) {
		if (vfio_cfg_read8(d, pos) == id)
			return pos;
		pos = vfio_cfg_read8(d, pos + 1) & ~3;
	}
	return 0;
}

int vfio_cfg_find_ecap(struct vfio_dev *d, uint16_t id)
{
	struct vfio_region_info ri;
	int pos = 0x100, guard = 0;
	uint32_t h;

	if (vfio_region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &ri) || ri.size <= 0x100)
		return 0;
	while (pos && guard++ < 480) {
		h = vfio_cfg_read32(d, pos);
		if (!h || h == 0xffffffff)
			return 0;
		if ((h & 0xffff) == id)
			return pos;
		pos = (h >> 20) & 0xffc;
	}
	return 0;
}

int vfio_irq_info(struct vfio_dev *d, uint32_t index, struct vfio_irq_info *ii)
{
	memset(ii, 0, sizeof(*ii));
	ii->argsz = sizeof(*ii);
	ii->index = index;
	return ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, ii) ? -errno : 0;
}

int vfio_irq_set_eventfds(struct vfio_dev *d, uint32_t index, uint32_t start,
			  uint32_t count, const int32_t *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *s = calloc(1, sz);
	int ret;

	if (!s)
		return -ENOMEM;
	s->argsz = sz;
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = index;
	s->start = start;
	s->count = count;
	memcpy(s->data, fds, count * sizeof(int32_t));
	/* > 0: MSI/MSI-X could have only that many vectors, none enabled */
	ret = ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s);
	if (ret < 0)
		ret = -errno;
	free(s);
	return ret;
}

int vfio_irq_set_none(struct vfio_dev *d, uint32_t index, uint32_t action,
		      uint32_t start, uint32_t count)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_NONE | action,
		.index = index,
		.start = start,
		.count = count,
	};

	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &s) ? -errno : 0;
}

int vfio_irq_disable(struct vfio_dev *d, uint32_t index)
{
	return vfio_irq_set_none(d, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
}

uint64_t vfio_eventfd_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v = 0;

	if (poll(&p, 1, ms) != 1)
		return 0;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

int vfio_dma_map(struct vfio_dev *d, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(d->container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

int vfio_dma_unmap(struct vfio_dev *d, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};

	return ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

void vfio_cmd_set(struct vfio_dev *d, uint16_t bits)
{
	vfio_cfg_write16(d, PCI_COMMAND, vfio_cfg_read16(d, PCI_COMMAND) | bits);
}

int vfio_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int vfio_sysfs_write(const char *bdf, const char *attr, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return vfio_write_file(path, val);
}

int vfio_read_file(const char *path, char *buf, size_t len)
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

int vfio_sysfs_read(const char *bdf, const char *attr, char *buf, size_t len)
{
	char path[256];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	ret = vfio_read_file(path, buf, len);
	return ret < 0 ? ret : 0;
}

int vfio_module_param(const char *mod, const char *param)
{
	char path[256], buf[8] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, param);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	return buf[0] == 'Y' || buf[0] == '1';
}

bool vfio_bound_to_vfio_pci(const char *bdf)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/vfio-pci/%s", bdf);
	return !stat(path, &st);
}

int vfio_bind_to_vfio_pci(const char *bdf)
{
	char path[160];

	if (vfio_bound_to_vfio_pci(bdf))
		return 0;
	/* A host driver built into the kernel may have taken it (rescan) */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	if (!access(path, F_OK))
		vfio_write_file(path, bdf);
	vfio_sysfs_write(bdf, "driver_override", "vfio-pci");
	vfio_write_file("/sys/bus/pci/drivers_probe", bdf);
	return vfio_bound_to_vfio_pci(bdf) ? 0 : -1;
}

/* @len (at most 4) bytes of the function's config space through sysfs */
static void hw_cfg_rw(const char *bdf, unsigned int off, uint32_t *v,
		      unsigned int len, bool write)
{
	char path[256];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, write ? O_WRONLY : O_RDONLY);
	if (fd >= 0 && len <= sizeof(*v))
		n = write ? pwrite(fd, v, len, off) : pread(fd, v, len, off);
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)len) {
		fprintf(stderr, "# %s: %s %u bytes of config at 0x%x failed\n",
			bdf, write ? "writing" : "reading", len, off);
		abort();
	}
}

uint32_t vfio_hw_cfg_read(const char *bdf, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	hw_cfg_rw(bdf, off, &v, len, false);
	return v;
}

void vfio_hw_cfg_write(const char *bdf, unsigned int off, uint32_t v,
		       unsigned int len)
{
	hw_cfg_rw(bdf, off, &v, len, true);
}

int vfio_kconfig(const char *sym)
{
	char path[300], line[512];
	size_t n = strlen(sym);
	struct utsname u;
	int ret = 0;
	FILE *f;

	f = fopen("/etc/kernel.config", "r");
	if (!f && !uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		f = fopen(path, "r");
	}
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, sym, n) || line[n] != '=')
			continue;
		if (line[n + 1] == 'y' || line[n + 1] == 'm')
			ret = line[n + 1];
		break;
	}
	fclose(f);
	return ret;
}

#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_BUF	0x40000
#define EDU_DMA_MAX	2048
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2

/* One edu DMA transfer, polled for up to ~2 s */
static int edu_dma_one(int fd, uint64_t bar0, uint64_t src, uint64_t dst,
		       uint64_t len, uint64_t cmd)
{
	uint64_t regs[4] = { src, dst, len, cmd }, v;
	int i;

	for (i = 0; i < 4; i++)
		if (pwrite(fd, &regs[i], 8, bar0 + EDU_DMA_SRC + 8 * i) != 8)
			return -EIO;
	for (i = 0; i < 2000; i++) {
		if (pread(fd, &v, 8, bar0 + EDU_DMA_CMD) != 8)
			return -EIO;
		if (!(v & EDU_CMD_START))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

int vfio_edu_dma_copy(int fd, uint64_t bar0, uint64_t from, uint64_t to,
		      uint32_t len)
{
	int ret;

	/*
	 * QEMU 7.2's edu stops the whole machine on a transfer that reaches
	 * the end of its 4 KiB buffer: stay well inside it
	 */
	if (len > EDU_DMA_MAX)
		return -EINVAL;
	ret = edu_dma_one(fd, bar0, from, EDU_DMA_BUF, len, EDU_CMD_START);
	if (ret)
		return ret;
	return edu_dma_one(fd, bar0, EDU_DMA_BUF, to, len,
			   EDU_CMD_START | EDU_CMD_TO_RAM);
}

static __thread sigjmp_buf probe_jmp;

static void probe_sigbus(int sig)
{
	siglongjmp(probe_jmp, 1);
}

/* The atomic builtins make exactly one access the compiler cannot drop */
static int probe32(volatile uint32_t *p, uint32_t *val, bool write)
{
	struct sigaction sa = { .sa_handler = probe_sigbus }, old;
	int ret = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(probe_jmp, 1))
		ret = -1;
	else if (write)
		__atomic_store_n(p, *val, __ATOMIC_RELAXED);
	else
		*val = __atomic_load_n(p, __ATOMIC_RELAXED);
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

int vfio_probe_read32(volatile uint32_t *p, uint32_t *val)
{
	return probe32(p, val, false);
}

int vfio_probe_write32(volatile uint32_t *p, uint32_t val)
{
	return probe32(p, &val, true);
}

int vfio_hw_find_cap(const char *bdf, uint8_t id)
{
	uint8_t pos;
	int guard;

	if (!(vfio_hw_cfg_read(bdf, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = vfio_hw_cfg_read(bdf, PCI_CAPABILITY_LIST, 1) & ~3;
	for (guard = 0; pos && guard < 48; guard++) {
		if (vfio_hw_cfg_read(bdf, pos, 1) == id)
			return pos;
		pos = vfio_hw_cfg_read(bdf, pos + 1, 1) & ~3;
	}
	return 0;
}

int vfio_driver_of(const char *bdf, char *name, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *slash;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	slash = strrchr(link, '/');
	snprintf(name, len, "%s", slash ? slash + 1 : link);
	return 0;
}

int vfio_bind_driver(const char *bdf, const char *drv)
{
	char cur[64], path[PATH_MAX];

	if (!vfio_driver_of(bdf, cur, sizeof(cur))) {
		if (!strcmp(cur, drv))
			return 0;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		vfio_write_file(path, bdf);
	}
	vfio_sysfs_write(bdf, "driver_override", drv);
	vfio_write_file("/sys/bus/pci/drivers_probe", bdf);
	if (vfio_driver_of(bdf, cur, sizeof(cur)) || strcmp(cur, drv))
		return -ENODEV;
	return 0;
}

uint64_t vfio_bar_size(const char *bdf, int bar)
{
	unsigned long long start, end, flags;
	char path[PATH_MAX];
	uint64_t size = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return 0;
	for (i = 0; i <= bar; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			break;
	if (i == bar + 1 && end > start)
		size = end - start + 1;
	fclose(f);
	return size;
}

void *vfio_region_map(struct vfio_dev *d, uint32_t index, uint64_t *size)
{
	struct vfio_region_info ri;
	void *p;

	if (vfio_region_info(d, index, &ri) || !ri.size)
		return NULL;
	p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		 ri.offset);
	if (p == MAP_FAILED)
		return NULL;
	*size = ri.size;
	return p;
}

int vfio_device_feature(int fd, uint32_t flags, void *data, size_t len)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) + 64) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;

	if (len > 64)
		return -EINVAL;
	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	memcpy(f->data, data, len);
	if (ioctl(fd, VFIO_DEVICE_FEATURE, f))
		return -errno;
	memcpy(data, f->data, len);
	return 0;
}

int vfio_mig_set_state(struct vfio_dev *d, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state m = { .device_state = state, .data_fd = -1 };
	int ret;

	ret = vfio_device_feature(d->fd, VFIO_DEVICE_FEATURE_SET |
				  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m));
	if (data_fd)
		*data_fd = ret ? -1 : m.data_fd;
	else if (!ret && m.data_fd >= 0)
		close(m.data_fd);
	return ret;
}

int vfio_mig_get_state(struct vfio_dev *d)
{
	struct vfio_device_feature_mig_state m = {};
	int ret;

	ret = vfio_device_feature(d->fd, VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &m, sizeof(m));
	return ret ? ret : (int)m.device_state;
}

int vfio_mig_precopy_info(int fd, struct vfio_precopy_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, info) ? -errno : 0;
}

const char *vfio_mig_state_name(int s)
{
	static const char * const names[] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING",
		"RUNNING_P2P", "PRE_COPY", "PRE_COPY_P2P",
	};

	return s >= 0 && s <= VFIO_DEVICE_STATE_PRE_COPY_P2P ? names[s] : "?";
}

int vfio_write_all(int fd, const void *p, size_t len)
{
	size_t off = 0;
	ssize_t w;

	while (off < len) {
		w = write(fd, (const uint8_t *)p + off, len - off);
		if (w < 0)
			return -errno;
		if (!w)
			return -EIO;
		off += w;
	}
	return 0;
}

int vfio_mig_load(struct vfio_dev *d, const void *p, size_t len)
{
	int fd, ret;

	ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_RESUMING, &fd);
	if (ret)
		return ret;
	ret = vfio_write_all(fd, p, len);
	if (!ret)
		ret = vfio_mig_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	close(fd);
	return ret;
}

ssize_t vfio_mig_pump(int fd, int out, bool precopy,
		      void (*each)(const void *p, size_t n, void *arg), void *arg)
{
	static uint8_t buf[1 << 20];
	ssize_t n, total = 0;
	int ret;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (precopy && errno == ENOMSG)
				return total;
			return -errno;
		}
		if (!n)
			return precopy ? -EPROTO : total;
		if (each)
			each(buf, n, arg);
		if (out >= 0) {
			ret = vfio_write_all(out, buf, n);
			if (ret)
				return ret;
		}
		total += n;
	}
}

int vfio_mlx5_knob_write(const char *bdf, const char *knob, const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), VFIO_MLX5_SIM_DBG "/%s/%s", bdf, knob);
	return vfio_write_file(path, val);
}

int vfio_mlx5_knob_read(const char *bdf, const char *knob, char *buf, size_t len)
{
	char path[160];

	snprintf(path, sizeof(path), VFIO_MLX5_SIM_DBG "/%s/%s", bdf, knob);
	return vfio_read_file(path, buf, len);
}

int vfio_mlx5_bind(const char *bdf)
{
	char status[128];

	if (vfio_bind_driver(bdf, VFIO_MLX5_DRV))
		return -ENODEV;
	if (vfio_sysfs_read(bdf, VFIO_MLX5_STATUS, status, sizeof(status)))
		return -ENOENT;
	if (!strstr(status, "pf=bound") &&
	    vfio_write_file(VFIO_MLX5_SIM_NEW_VF, bdf))
		return -ENXIO;
	if (vfio_sysfs_read(bdf, VFIO_MLX5_STATUS, status, sizeof(status)) ||
	    !strstr(status, "vfio=registered"))
		return -EIO;
	return 0;
}

bool vfio_ivshmem_pair(uint64_t size, const char **a, const char **b)
{
	const char *bdf;
	char name[32];
	int i, found = 0;

	for (i = 1; i <= 8 && found < 2; i++) {
		if (i == 1)
			snprintf(name, sizeof(name), "ivshmem");
		else
			snprintf(name, sizeof(name), "ivshmem%d", i);
		bdf = vfio_test_bdf(name);
		if (!bdf || (size && vfio_bar_size(bdf, 2) != size))
			continue;
		if (!found++)
			*a = bdf;
		else
			*b = bdf;
	}
	return found == 2;
}

void vfio_fill_pattern(void *bar, uint64_t size, uint64_t seed)
{
	volatile uint64_t *p = bar;
	uint64_t i, x = seed * 0x9e3779b97f4a7c15ULL + 1;

	for (i = 0; i < size / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

int vfio_mlx5_open(const char *bdf, struct vfio_dev *d, void **bar2, uint64_t *size)
{
	int ret;

	ret = vfio_mlx5_bind(bdf);
	if (ret)
		return ret;
	ret = vfio_dev_open(d, bdf);
	if (ret)
		return ret;
	*bar2 = vfio_region_map(d, VFIO_PCI_BAR2_REGION_INDEX, size);
	if (!*bar2) {
		ret = -ENOMEM;
		goto out_close;
	}
	if (ioctl(d->fd, VFIO_DEVICE_RESET)) {
		ret = -errno;
		goto out_unmap;
	}
	return 0;

out_unmap:
	munmap(*bar2, *size);
	*bar2 = NULL;
out_close:
	vfio_dev_close(d);
	return ret;
}

void vfio_mlx5_close(struct vfio_dev *d, void *bar2, uint64_t size)
{
	if (bar2)
		munmap(bar2, size);
	if (d->fd >= 0)
		vfio_dev_close(d);
}
