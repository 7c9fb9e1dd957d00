// SPDX-License-Identifier: GPL-2.0-only
/*
 * Concurrency stress: threads hammer one device for a bounded time with
 * config reads and writes (memory decode toggling included), BAR access
 * through mmap, VFIO_DEVICE_RESET, SET_IRQS enable/disable and close/reopen
 * of extra device fds, while the main thread unbinds and rebinds the
 * function and removes and rescans it underneath.  The REQ interrupt tells
 * the workers to stop and drop the device.  Passes when nothing crashed or
 * hung (the harness timeout catches a hang; the guest dmesg a splat), every
 * worker got work done, no call failed other than as documented below
 * before the function started going away, the REQ interrupt arrived, and
 * the device works afterwards.
 *
 *   stress_test [-t SECONDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "vfio_util.h"

static volatile int stop;
static int seconds = 8;
static __thread sigjmp_buf bus_jmp;
static __thread volatile int in_touch;

static void on_sigbus(int sig)
{
	if (in_touch)
		siglongjmp(bus_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

enum { OP_CFG, OP_MMAP, OP_RESET, OP_IRQ, OP_REOPEN, NR_OPS };
static const char * const op_names[NR_OPS] = { "cfg", "mmap", "reset", "irq", "reopen" };

struct ctx {
	struct vfio_dev d;
	const char *name;
	uint64_t cfg_off;
	uint64_t ops[NR_OPS];
	uint64_t errs[NR_OPS];	/* failed calls while the function was there */
	int first_errno[NR_OPS];
	volatile int removing;	/* from here on calls may fail */
};

/* Count a failed call of worker @op (errno holds why) */
static void op_failed(struct ctx *c, int op)
{
	if (c->removing)
		return;
	if (!c->errs[op]++)
		c->first_errno[op] = errno;
}

static void *cfg_worker(void *arg)
{
	struct ctx *c = arg;
	uint16_t cmd;
	uint8_t line = 0;

	while (!stop) {
		uint64_t cfg_off = c->cfg_off;

		/* Config space answers whatever the memory decode bit says */
		if (pread(c->d.fd, &cmd, 2, cfg_off + PCI_COMMAND) != 2) {
			op_failed(c, OP_CFG);
			continue;
		}
		cmd ^= PCI_COMMAND_MEMORY;
		if (pwrite(c->d.fd, &cmd, 2, cfg_off + PCI_COMMAND) != 2)
			op_failed(c, OP_CFG);
		line++;
		if (pwrite(c->d.fd, &line, 1, cfg_off + PCI_INTERRUPT_LINE) != 1)
			op_failed(c, OP_CFG);
		c->ops[OP_CFG]++;
	}
	return NULL;
}

static void *mmap_worker(void *arg)
{
	struct ctx *c = arg;
	struct vfio_region_info ri;
	volatile uint32_t *p;
	int bar;

	for (bar = 0; bar < 6; bar++)
		if (!vfio_region_info(&c->d, bar, &ri) && (ri.flags & VFIO_REGION_INFO_FLAG_MMAP) &&
		    ri.size >= 4096)
			break;
	if (bar == 6) {
		errno = ENODEV;
		op_failed(c, OP_MMAP);
		return NULL;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, c->d.fd, ri.offset);
	if (p == MAP_FAILED) {
		op_failed(c, OP_MMAP);
		return NULL;
	}
	/* SIGBUS while memory decode is off is the expected answer */
	while (!stop) {
		in_touch = 1;
		if (!sigsetjmp(bus_jmp, 1)) {
			(void)p[0];
			p[1] = 0x5a5a5a5a;
		}
		in_touch = 0;
		c->ops[OP_MMAP]++;
	}
	munmap((void *)p, 4096);
	return NULL;
}

static void *reset_worker(void *arg)
{
	struct ctx *c = arg;

	bool has_reset = c->d.info.flags & VFIO_DEVICE_FLAGS_RESET;

	/*
	 * Without a reset method: EINVAL every time.  With one: done, or
	 * EAGAIN when a racing config access holds the device lock.
	 */
	while (!stop) {
		int ret = ioctl(c->d.fd, VFIO_DEVICE_RESET) ? errno : 0;

		if (has_reset ? ret && ret != EAGAIN : ret != EINVAL) {
			errno = ret;
			op_failed(c, OP_RESET);
		}
		c->ops[OP_RESET]++;
		usleep(2000);
	}
	return NULL;
}

static void *irq_worker(void *arg)
{
	struct ctx *c = arg;
	struct vfio_irq_info msi, msix;
	int32_t fds[4];
	int i, idx, n;

	if (vfio_irq_info(&c->d, VFIO_PCI_MSI_IRQ_INDEX, &msi) ||
	    vfio_irq_info(&c->d, VFIO_PCI_MSIX_IRQ_INDEX, &msix)) {
		op_failed(c, OP_IRQ);
		return NULL;
	}
	idx = msix.count ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	n = msix.count ? (msix.count < 4 ? msix.count : 4) : 1;
	for (i = 0; i < 4; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	while (!stop) {
		int ret = vfio_irq_set_eventfds(&c->d, idx, 0, n, fds);

		if (!ret)
			ret = vfio_irq_set_none(&c->d, idx, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1);
		if (!ret)
			ret = vfio_irq_disable(&c->d, idx);
		if (ret) {
			errno = -ret;
			op_failed(c, OP_IRQ);
		}
		c->ops[OP_IRQ]++;
	}
	for (i = 0; i < 4; i++)
		close(fds[i]);
	return NULL;
}

static void *reopen_worker(void *arg)
{
	struct ctx *c = arg;
	int fd;

	while (!stop) {
		fd = vfio_dev_reopen_fd(&c->d);
		if (fd >= 0) {
			struct vfio_device_info info = { .argsz = sizeof(info) };

			if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info))
				op_failed(c, OP_REOPEN);
			close(fd);
		} else {
			errno = -fd;
			op_failed(c, OP_REOPEN);
		}
		c->ops[OP_REOPEN]++;
	}
	return NULL;
}

static int rebind(const char *bdf)
{
	char path[160];
	int i;

	for (i = 0; i < 50 && access("/sys/bus/pci/devices/", F_OK) == 0; i++) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
		if (!vfio_write_file(path, "vfio-pci"))
			break;
		vfio_write_file("/sys/bus/pci/rescan", "1");
		usleep(100000);
	}
	return vfio_bind_to_vfio_pci(bdf);
}

struct remover {
	const char *bdf;
	bool remove;
	volatile int done;
};

static void *remover(void *arg)
{
	struct remover *r = arg;
	char path[160];

	if (r->remove) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", r->bdf);
		vfio_write_file(path, "1");
	} else {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", r->bdf);
		vfio_write_file(path, r->bdf);
	}
	r->done = 1;
	return NULL;
}

/* One episode: workers run, then the function goes away underneath */
static int episode(const char *name, const char *bdf, bool remove)
{
	void *(*workers[])(void *) = { cfg_worker, mmap_worker, reset_worker, irq_worker,
				       reopen_worker };
	pthread_t t[5], rt;
	struct remover r = { .bdf = bdf, .remove = remove };
	struct ctx c = { .name = name };
	int32_t req;
	int i, ms, ret = 0;
	uint64_t got_req;

	if (vfio_dev_open(&c.d, bdf))
		return -1;
	{
		struct vfio_region_info ri;

		if (vfio_region_info(&c.d, VFIO_PCI_CONFIG_REGION_INDEX, &ri)) {
			vfio_dev_close(&c.d);
			return -1;
		}
		c.cfg_off = ri.offset;
	}
	req = eventfd(0, EFD_CLOEXEC);
	if (req < 0 || vfio_irq_set_eventfds(&c.d, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &req)) {
		printf("# %s: no REQ eventfd\n", name);
		vfio_dev_close(&c.d);
		return -1;
	}
	stop = 0;
	for (i = 0; i < 5; i++)
		pthread_create(&t[i], NULL, workers[i], &c);
	sleep(seconds);
	/* Remove the function while the workers still hammer it */
	c.removing = 1;
	pthread_create(&rt, NULL, remover, &r);
	got_req = vfio_eventfd_wait(req, 15000);
	stop = 1;
	for (i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	vfio_dev_close(&c.d);
	close(req);
	for (ms = 0; ms < 30000 && !r.done; ms += 10)
		usleep(10000);
	if (!r.done)
		return -2;
	pthread_join(rt, NULL);
	printf("# %s %s: cfg %llu mmap %llu reset %llu irq %llu reopen %llu\n", name,
	       remove ? "remove+rescan" : "unbind+rebind",
	       (unsigned long long)c.ops[0], (unsigned long long)c.ops[1],
	       (unsigned long long)c.ops[2], (unsigned long long)c.ops[3],
	       (unsigned long long)c.ops[4]);
	if (!got_req) {
		printf("# %s: no REQ interrupt while the function went away\n", name);
		ret = -4;
	}
	for (i = 0; i < NR_OPS; i++) {
		if (!c.ops[i]) {
			printf("# %s: the %s worker got nothing done\n", name, op_names[i]);
			ret = -5;
		}
		if (c.errs[i]) {
			printf("# %s: %llu %s calls failed, the first with %s\n", name,
			       (unsigned long long)c.errs[i], op_names[i],
			       strerror(c.first_errno[i]));
			ret = -6;
		}
	}
	if (remove)
		vfio_write_file("/sys/bus/pci/rescan", "1");
	if (rebind(bdf))
		return -3;
	return ret;
}

static bool works(const char *bdf)
{
	struct vfio_dev d;
	bool ok;

	if (vfio_dev_open(&d, bdf))
		return false;
	ok = vfio_cfg_read16(&d, PCI_VENDOR_ID) != 0xffff;
	vfio_dev_close(&d);
	return ok;
}

int main(int argc, char **argv)
{
	static const char * const names[] = { "edu", "e1000e", "nvme" };
	int i, k, n = 0, failed = 0, c;

	while ((c = getopt(argc, argv, "t:")) != -1)
		if (c == 't')
			seconds = atoi(optarg);
	signal(SIGBUS, on_sigbus);
	printf("TAP version 13\n1..%d\n", 6);
	for (i = 0; i < 3; i++) {
		const char *bdf = vfio_test_bdf(names[i]);

		for (k = 0; k < 2; k++) {
			int ret;

			n++;
			if (!bdf) {
				printf("ok %d stress.%s.%s # SKIP not bound\n", n, names[i],
				       k ? "remove" : "unbind");
				continue;
			}
			ret = episode(names[i], bdf, k);
			if (!ret && works(bdf)) {
				printf("ok %d stress.%s.%s\n", n, names[i], k ? "remove" : "unbind");
			} else {
				printf("not ok %d stress.%s.%s (%d)\n", n, names[i],
				       k ? "remove" : "unbind", ret);
				failed++;
			}
			fflush(stdout);
		}
	}
	return failed ? 1 : 0;
}
