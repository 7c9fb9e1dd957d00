// SPDX-License-Identifier: GPL-2.0-only
/*
 * Differential test: the same probe against Debian's stock vfio-pci and
 * ours, in one guest.  The probe records what a VFIO user can observe of a
 * device: config space dword by dword, BAR and ROM sizing, region and irq
 * info, and the errno of a set of bad calls.  The stock modules are swapped
 * in with vfio-swap (scripts/guest-swap.sh), the probe runs, ours come back,
 * the probe runs again, and every observation must agree except the
 * deliberate differences listed in allowed_diffs[] below, each with its
 * reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "../kselftest_harness.h"
#include "vfio_util.h"

#define MAX_OBS 4096

struct obs {
	char key[64];
	char val[96];
};

struct probe {
	int n;
	struct obs o[MAX_OBS];
};

/*
 * Observations allowed to differ, matched by key prefix.  Each needs a
 * reason a reviewer accepts.
 */
static const struct {
	const char *prefix;
	const char *why;
} allowed_diffs[] = {
	/* None: the config-past-end errno was ours to fix (EFAULT, as stock) */
	{ NULL, NULL },
};

static const char *allowed(const char *key)
{
	int i;

	for (i = 0; allowed_diffs[i].prefix; i++)
		if (!strncmp(key, allowed_diffs[i].prefix, strlen(allowed_diffs[i].prefix)))
			return allowed_diffs[i].why;
	return NULL;
}

static void rec(struct probe *p, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (p->n >= MAX_OBS)
		return;
	snprintf(p->o[p->n].key, sizeof(p->o[p->n].key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(p->o[p->n].val, sizeof(p->o[p->n].val), fmt, ap);
	va_end(ap);
	p->n++;
}

static int err_of(int ret)
{
	return ret < 0 ? errno : 0;
}

static void probe_config(struct vfio_dev *d, struct probe *p)
{
	struct vfio_region_info ri;
	char key[64];
	uint32_t off, v;

	if (vfio_region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &ri))
		return;
	rec(p, "config.size", "%llu", (unsigned long long)ri.size);
	for (off = 0; off < ri.size; off += 4) {
		if (vfio_region_read(d, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, 4) != 4)
			v = 0xdeadbeef;
		snprintf(key, sizeof(key), "config.%03x", off);
		rec(p, key, "%08x", v);
	}
}

static void probe_bar_sizing(struct vfio_dev *d, struct probe *p)
{
	char key[64];
	uint32_t orig, sz, ones = 0xffffffff;
	int i;

	for (i = 0; i <= 6; i++) {
		uint32_t reg = i < 6 ? PCI_BASE_ADDRESS_0 + 4 * i : PCI_ROM_ADDRESS;

		orig = vfio_cfg_read32(d, reg);
		vfio_region_write(d, VFIO_PCI_CONFIG_REGION_INDEX, reg, &ones, 4);
		sz = vfio_cfg_read32(d, reg);
		vfio_region_write(d, VFIO_PCI_CONFIG_REGION_INDEX, reg, &orig, 4);
		snprintf(key, sizeof(key), "sizing.%s%d", i < 6 ? "bar" : "rom", i < 6 ? i : 0);
		rec(p, key, "%08x", sz);
	}
}

static void probe_regions(struct vfio_dev *d, struct probe *p)
{
	struct vfio_region_info *ri;
	struct vfio_info_cap_header *h;
	char key[64];
	uint32_t i;

	rec(p, "info.flags", "%x", d->info.flags);
	rec(p, "info.num_regions", "%u", d->info.num_regions);
	rec(p, "info.num_irqs", "%u", d->info.num_irqs);
	for (i = 0; i < d->info.num_regions; i++) {
		snprintf(key, sizeof(key), "region%u", i);
		if (vfio_region_info_full(d, i, &ri)) {
			rec(p, key, "errno %d", errno);
			continue;
		}
		rec(p, key, "size %llx flags %x", (unsigned long long)ri->size, ri->flags);
		if (ri->flags & VFIO_REGION_INFO_FLAG_CAPS) {
			uint32_t off = ri->cap_offset;
			int guard = 0;

			while (off && guard++ < 16) {
				h = (struct vfio_info_cap_header *)((char *)ri + off);
				snprintf(key, sizeof(key), "region%u.cap%u", i, h->id);
				if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
					struct vfio_region_info_cap_sparse_mmap *sp = (void *)h;
					char val[96] = "";
					uint32_t a;
					size_t l = 0;

					for (a = 0; a < sp->nr_areas && l < sizeof(val) - 24; a++) {
						struct vfio_region_sparse_mmap_area *ar;

						ar = &sp->areas[a];

						l += snprintf(val + l, sizeof(val) - l, "%llx+%llx ",
							      (unsigned long long)ar->offset,
							      (unsigned long long)ar->size);
					}
					rec(p, key, "%s", val);
				} else {
					rec(p, key, "v%u", h->version);
				}
				off = h->next;
			}
		}
		free(ri);
	}
}

static void probe_irqs(struct vfio_dev *d, struct probe *p)
{
	struct vfio_irq_info ii;
	char key[64];
	uint32_t i;

	for (i = 0; i < d->info.num_irqs; i++) {
		snprintf(key, sizeof(key), "irq%u", i);
		if (vfio_irq_info(d, i, &ii))
			rec(p, key, "errno %d", errno);
		else
			rec(p, key, "count %u flags %x", ii.count, ii.flags);
	}
}

static void probe_errnos(struct vfio_dev *d, struct probe *p)
{
	struct vfio_device_info info = { .argsz = 4 };
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = 99 };
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = 99 };
	struct vfio_irq_set set = { .argsz = sizeof(set), .flags = 0xffffffff };
	struct vfio_device_ioeventfd ioe = { .argsz = sizeof(ioe), .flags = 0x3, .fd = -1 };
	struct vfio_device_feature feat = { .argsz = sizeof(feat), .flags = 0xffff };
	struct vfio_region_info cfg;
	uint32_t v;
	uint8_t big[16];

	rec(p, "errno.get_info_short", "%d", err_of(ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info)));
	rec(p, "errno.region_info_99", "%d",
	    err_of(ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri)));
	ri.argsz = 4;
	ri.index = 0;
	rec(p, "errno.region_info_short", "%d",
	    err_of(ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri)));
	rec(p, "errno.irq_info_99", "%d", err_of(ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii)));
	rec(p, "errno.set_irqs_flags", "%d", err_of(ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &set)));
	set.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	set.index = 99;
	rec(p, "errno.set_irqs_index", "%d", err_of(ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &set)));
	rec(p, "errno.ioeventfd_flags", "%d", err_of(ioctl(d->fd, VFIO_DEVICE_IOEVENTFD, &ioe)));
	rec(p, "errno.feature_unknown", "%d", err_of(ioctl(d->fd, VFIO_DEVICE_FEATURE, &feat)));
	rec(p, "errno.unknown_ioctl", "%d", err_of(ioctl(d->fd, _IO(VFIO_TYPE, VFIO_BASE + 60))));
	if (!vfio_region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &cfg)) {
		rec(p, "errno.config_past_end", "%d",
		    err_of(pread(d->fd, &v, 4, cfg.offset + cfg.size)));
		rec(p, "errno.config_read16", "%d",
		    err_of(pread(d->fd, big, 16, cfg.offset)));
	}
	rec(p, "errno.region_index_99", "%d",
	    err_of(pread(d->fd, &v, 4, (uint64_t)99 << 40)));
}

/*
 * What GET_INFO writes back over a caller's garbage, and which device-fd
 * strings open the device (spaces after the name, a tab before an option)
 */
static void probe_info_and_open(struct vfio_dev *d, struct probe *p)
{
	static const char *const suffix[] = { " ", "   ", " \t", "\t", " vf_token" };
	struct vfio_device_info info;
	char name[64], key[64];
	unsigned int i;
	int fd;

	memset(&info, 0xff, sizeof(info));
	info.argsz = sizeof(info);
	fd = ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info);
	rec(p, "info.garbage_in", "ret %d argsz %u flags %x cap_offset %x",
	    err_of(fd), info.argsz, info.flags, info.cap_offset);

	for (i = 0; i < ARRAY_SIZE(suffix); i++) {
		snprintf(name, sizeof(name), "%s%s", d->bdf, suffix[i]);
		snprintf(key, sizeof(key), "errno.open_suffix%u", i);
		fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, name);
		rec(p, key, "%d", fd < 0 ? -errno : 0);
		if (fd >= 0)
			close(fd);
	}
}

static int probe_device(const char *bdf, struct probe *p)
{
	struct vfio_dev d;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = vfio_dev_open(&d, bdf);
	if (ret)
		return ret;
	probe_regions(&d, p);
	probe_irqs(&d, p);
	probe_config(&d, p);
	probe_bar_sizing(&d, p);
	probe_errnos(&d, p);
	probe_info_and_open(&d, p);
	vfio_dev_close(&d);
	return 0;
}

/* Differences found in one area, printed as TAP diagnostics */
static int compare(struct probe *stock, struct probe *ours, const char *area)
{
	int i, j, bad = 0;

	for (i = 0; i < stock->n; i++) {
		const char *why;

		if (strncmp(stock->o[i].key, area, strlen(area)))
			continue;
		for (j = 0; j < ours->n; j++)
			if (!strcmp(stock->o[i].key, ours->o[j].key))
				break;
		if (j < ours->n && !strcmp(stock->o[i].val, ours->o[j].val))
			continue;
		why = allowed(stock->o[i].key);
		if (why) {
			printf("#   allowed %s: stock %s, ours %s (%s)\n", stock->o[i].key,
			       stock->o[i].val, j < ours->n ? ours->o[j].val : "(missing)", why);
			continue;
		}
		printf("#   %s: stock %s, ours %s\n", stock->o[i].key, stock->o[i].val,
		       j < ours->n ? ours->o[j].val : "(missing)");
		bad++;
	}
	for (j = 0; j < ours->n; j++) {
		if (strncmp(ours->o[j].key, area, strlen(area)))
			continue;
		for (i = 0; i < stock->n; i++)
			if (!strcmp(stock->o[i].key, ours->o[j].key))
				break;
		if (i == stock->n && !allowed(ours->o[j].key)) {
			printf("#   %s: stock (missing), ours %s\n", ours->o[j].key,
			       ours->o[j].val);
			bad++;
		}
	}
	return bad;
}

static struct probe stock_probe, our_probe;

FIXTURE(diff) {
	int dummy;
};

FIXTURE_VARIANT(diff) {
	const char *name;
};

FIXTURE_VARIANT_ADD(diff, edu) { .name = "edu" };
FIXTURE_VARIANT_ADD(diff, e1000e) { .name = "e1000e" };
FIXTURE_VARIANT_ADD(diff, nvme) { .name = "nvme" };
FIXTURE_VARIANT_ADD(diff, ivshmem) { .name = "ivshmem" };

FIXTURE_SETUP(diff)
{
	const char *bdf = vfio_test_bdf(variant->name);

	if (!bdf)
		SKIP(return, "no %s device bound", variant->name);
	ASSERT_EQ(0, system("vfio-swap stock"));
	ASSERT_EQ(0, probe_device(bdf, &stock_probe));
	ASSERT_EQ(0, system("vfio-swap ours"));
	ASSERT_EQ(0, probe_device(bdf, &our_probe));
	ASSERT_GT(stock_probe.n, 20);
}

FIXTURE_TEARDOWN(diff)
{
	/* Leave our modules loaded for the tests that follow */
	system("vfio-swap ours");
}

TEST_F(diff, device_info_and_regions)
{
	EXPECT_EQ(0, compare(&stock_probe, &our_probe, "info.") +
		     compare(&stock_probe, &our_probe, "region"));
}

TEST_F(diff, irq_info)
{
	EXPECT_EQ(0, compare(&stock_probe, &our_probe, "irq"));
}

TEST_F(diff, config_space)
{
	EXPECT_EQ(0, compare(&stock_probe, &our_probe, "config."));
}

TEST_F(diff, bar_sizing)
{
	EXPECT_EQ(0, compare(&stock_probe, &our_probe, "sizing."));
}

TEST_F(diff, bad_call_errnos)
{
	EXPECT_EQ(0, compare(&stock_probe, &our_probe, "errno."));
}

TEST_HARNESS_MAIN
