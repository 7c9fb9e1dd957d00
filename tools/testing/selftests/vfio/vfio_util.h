/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers shared by the VFIO PCI selftests: open a device through the
 * legacy container/group path, and wrap the region and irq ioctls.
 *
 * The guest harness (scripts/guest-run.sh) binds the emulated devices to the
 * driver under test and exports their addresses as VFIO_<NAME>_BDF, e.g.
 * VFIO_EDU_BDF=0000:00:03.0; vfio_test_bdf("edu") reads it.
 */
#ifndef VFIO_UTIL_H
#define VFIO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vfio.h>

struct vfio_dev {
	int container;
	int group;
	int fd;
	int groupno;
	char bdf[32];
	struct vfio_device_info info;
};

/* The BDF the harness bound for device @name ("edu", "e1000e", ...) or NULL */
const char *vfio_test_bdf(const char *name);

/* IOMMU group number of @bdf from sysfs, or -1 */
int vfio_group_of(const char *bdf);

/*
 * Open container, group and device (with @match_extra appended to the name
 * given to VFIO_GROUP_GET_DEVICE_FD when non-NULL, e.g. " vf_token=...").
 * Returns 0 or -errno; on error nothing stays open.
 */
int vfio_dev_open_ex(struct vfio_dev *d, const char *bdf, const char *match_extra);
int vfio_dev_open(struct vfio_dev *d, const char *bdf);
/* Open only another fd of an already open group's device */
int vfio_dev_reopen_fd(struct vfio_dev *d);
void vfio_dev_close(struct vfio_dev *d);

/* VFIO_DEVICE_GET_REGION_INFO without caps; 0 or -errno */
int vfio_region_info(struct vfio_dev *d, uint32_t index, struct vfio_region_info *ri);
/* With caps: *out is malloc()ed, caller frees; 0 or -errno */
int vfio_region_info_full(struct vfio_dev *d, uint32_t index, struct vfio_region_info **out);
/* Find capability @id in an info buffer; NULL when absent */
struct vfio_info_cap_header *vfio_find_cap(void *info, uint32_t cap_offset, uint16_t id);

/* Region I/O at offset @off of region @index: bytes moved or -errno */
ssize_t vfio_region_read(struct vfio_dev *d, uint32_t index, uint64_t off,
			 void *buf, size_t len);
ssize_t vfio_region_write(struct vfio_dev *d, uint32_t index, uint64_t off,
			  const void *buf, size_t len);

/* Config-space shortcuts; abort the test process on short transfers */
uint8_t vfio_cfg_read8(struct vfio_dev *d, uint64_t off);
uint16_t vfio_cfg_read16(struct vfio_dev *d, uint64_t off);
uint32_t vfio_cfg_read32(struct vfio_dev *d, uint64_t off);
void vfio_cfg_write8(struct vfio_dev *d, uint64_t off, uint8_t v);
void vfio_cfg_write16(struct vfio_dev *d, uint64_t off, uint16_t v);
void vfio_cfg_write32(struct vfio_dev *d, uint64_t off, uint32_t v);
/* Offset of standard capability @id in (virtual) config space, 0 if none */
int vfio_cfg_find_cap(struct vfio_dev *d, uint8_t id);
/* Offset of extended capability @id, 0 if none */
int vfio_cfg_find_ecap(struct vfio_dev *d, uint16_t id);

/* VFIO_DEVICE_GET_IRQ_INFO; 0 or -errno */
int vfio_irq_info(struct vfio_dev *d, uint32_t index, struct vfio_irq_info *ii);
/*
 * SET_IRQS DATA_EVENTFD|ACTION_TRIGGER for vectors [start, start+count);
 * 0, -errno, or (enabling MSI/MSI-X) the fewer vectors the platform could
 * give, none of them enabled
 */
int vfio_irq_set_eventfds(struct vfio_dev *d, uint32_t index, uint32_t start,
			  uint32_t count, const int32_t *fds);
/* SET_IRQS DATA_NONE with @action (MASK/UNMASK/TRIGGER) and count */
int vfio_irq_set_none(struct vfio_dev *d, uint32_t index, uint32_t action,
		      uint32_t start, uint32_t count);
/* SET_IRQS DATA_NONE|ACTION_TRIGGER count 0: disable the index */
int vfio_irq_disable(struct vfio_dev *d, uint32_t index);

/* Wait up to @ms for eventfd @fd; returns its counter value or 0 on timeout */
uint64_t vfio_eventfd_wait(int fd, int ms);

/* Map @size bytes at @vaddr to @iova through the container; 0 or -errno */
int vfio_dma_map(struct vfio_dev *d, void *vaddr, uint64_t iova, uint64_t size);
int vfio_dma_unmap(struct vfio_dev *d, uint64_t iova, uint64_t size);

/* Write @val to the file at @path (sysfs); 0 or -errno */
int vfio_write_file(const char *path, const char *val);
/* Write @val to /sys/bus/pci/devices/<bdf>/<attr>; 0 or -errno */
int vfio_sysfs_write(const char *bdf, const char *attr, const char *val);
/* Read /sys/bus/pci/devices/<bdf>/<attr> without its newline; 0 or -errno */
int vfio_sysfs_read(const char *bdf, const char *attr, char *buf, size_t len);

/*
 * /sys/module/<mod>/parameters/<param>: 1 when it reads Y or 1, 0 for
 * anything else, -errno when it cannot be read
 */
int vfio_module_param(const char *mod, const char *param);

/* Whether @bdf is bound to vfio-pci right now */
bool vfio_bound_to_vfio_pci(const char *bdf);
/*
 * Bind @bdf to vfio-pci through driver_override, unbinding whatever host
 * driver took it first (a built-in one after a rescan); 0 or -1.
 */
int vfio_bind_to_vfio_pci(const char *bdf);

/* Set bits in the device's (virtual) command register */
void vfio_cmd_set(struct vfio_dev *d, uint16_t bits);

/*
 * The function's real config space, read through sysfs behind VFIO's back
 * (@len 1, 2 or 4).  A failed read aborts the test process: a caller never
 * mistakes an error for a register value.
 */
uint32_t vfio_hw_cfg_read(const char *bdf, unsigned int off, unsigned int len);
/* Behind vfio's back, as a function that resets itself; aborts on failure */
void vfio_hw_cfg_write(const char *bdf, unsigned int off, uint32_t v,
		       unsigned int len);

/*
 * How the running kernel was built: 'y', 'm' or 0 (not set) for @sym
 * ("CONFIG_..."), from the kernel config the guest harness copies to
 * /etc/kernel.config (else /boot/config-<release>).  -1 when no config
 * can be found: the caller cannot know what to expect and should fail.
 */
int vfio_kconfig(const char *sym);

/*
 * One 32-bit access through a BAR mapping: 0 (and *val for the read), or
 * -1 when it raised SIGBUS (the kernel refused to map the page).
 */
int vfio_probe_read32(volatile uint32_t *p, uint32_t *val);
int vfio_probe_write32(volatile uint32_t *p, uint32_t val);

/* Standard capability @id in the function's real config space, 0 if none */
int vfio_hw_find_cap(const char *bdf, uint8_t id);

/*
 * QEMU edu's DMA engine, driven through BAR0 at device-fd offset @bar0:
 * copy @len bytes (at most 2 KiB) from IOVA @from into edu's buffer and
 * from there back out to IOVA @to.  Bus master must be on.  0, -EIO when a
 * register access fails, -ETIMEDOUT when a transfer does not complete.
 */
int vfio_edu_dma_copy(int fd, uint64_t bar0, uint64_t from, uint64_t to,
		      uint32_t len);

/* Read a small file without its trailing newline; bytes read or -errno */
int vfio_read_file(const char *path, char *buf, size_t len);
/* The driver @bdf is bound to, in @name; 0 or -errno (-ENOENT: none) */
int vfio_driver_of(const char *bdf, char *name, size_t len);
/*
 * Bind @bdf to driver @drv through driver_override, unbinding whatever
 * driver has it first; 0 when it is bound to @drv, -ENODEV otherwise.
 */
int vfio_bind_driver(const char *bdf, const char *drv);
/* Size of BAR @bar of @bdf from sysfs, 0 if none or unknown */
uint64_t vfio_bar_size(const char *bdf, int bar);
/* mmap all of region @index read/write; *size gets its size; NULL on error */
void *vfio_region_map(struct vfio_dev *d, uint32_t index, uint64_t *size);

/* ---- VFIO_DEVICE_FEATURE and migration v2 ---- */

/* VFIO_DEVICE_FEATURE with @len (at most 64) bytes of data in and out */
int vfio_device_feature(int fd, uint32_t flags, void *data, size_t len);
/*
 * MIG_DEVICE_STATE: 0 or -errno.  *data_fd gets the new data fd or -1;
 * with a NULL @data_fd a new fd is closed.
 */
int vfio_mig_set_state(struct vfio_dev *d, uint32_t state, int *data_fd);
/* The device state, or -errno */
int vfio_mig_get_state(struct vfio_dev *d);
/* VFIO_MIG_GET_PRECOPY_INFO on data fd @fd; 0 or -errno */
int vfio_mig_precopy_info(int fd, struct vfio_precopy_info *info);
/* Name of migration state @s ("RUNNING", ...), "?" out of range */
const char *vfio_mig_state_name(int s);
/*
 * Read data fd @fd until the end of the stream (read returns 0) or, with
 * @precopy, until ENOMSG (end of pre-copy data; a 0 is then -EPROTO).
 * Every piece read is written to @out when it is >= 0 and handed to @each
 * when it is not NULL.  Returns the bytes moved or -errno.
 */
ssize_t vfio_mig_pump(int fd, int out, bool precopy,
		      void (*each)(const void *p, size_t n, void *arg), void *arg);
/* Write all of @p to @fd: 0 or -errno of the first failing write */
int vfio_write_all(int fd, const void *p, size_t len);
/*
 * Load a whole stream: RESUMING, write @len bytes of @p, STOP.  0 or the
 * first -errno (of the state change, a write or leaving RESUMING).
 */
int vfio_mig_load(struct vfio_dev *d, const void *p, size_t len);

/* ---- mlx5-vfio-pci with the firmware simulator ---- */

#define VFIO_MLX5_DRV		"mlx5_vfio_pci"
#define VFIO_MLX5_SIM_NEW_VF	"/sys/bus/mlx5_vfio_sim/new_vf"
#define VFIO_MLX5_STATUS	"mlx5_vfio_status"
#define VFIO_MLX5_SIM_DBG	"/sys/kernel/debug/mlx5_vfio_sim"
/* Write @val into the simulator's debugfs knob @knob of @bdf: 0 or -errno */
int vfio_mlx5_knob_write(const char *bdf, const char *knob, const char *val);
/* Read that knob into @buf (NUL-terminated): bytes read or -errno */
int vfio_mlx5_knob_read(const char *bdf, const char *knob, char *buf, size_t len);
/*
 * Bind @bdf to mlx5_vfio_pci and give it a simulated PF half (new_vf)
 * unless it has one: 0 once its vfio device is registered, else -errno.
 */
int vfio_mlx5_bind(const char *bdf);
/*
 * Two ivshmem functions of the boot (VFIO_IVSHMEM_BDF, VFIO_IVSHMEM2_BDF,
 * ...) whose BAR2 is @size bytes (any size for 0): true and *a, *b set.
 */
bool vfio_ivshmem_pair(uint64_t size, const char **a, const char **b);
/*
 * Fill @size bytes (a multiple of 8) at @bar with a xorshift sequence
 * that @seed picks, in volatile 8-byte stores
 */
void vfio_fill_pattern(void *bar, uint64_t size, uint64_t seed);
/*
 * vfio_mlx5_bind() @bdf, open it into @d, map its BAR2 (*bar2, *size) and
 * reset it (migration state RUNNING); 0 or -errno, nothing held on error.
 */
int vfio_mlx5_open(const char *bdf, struct vfio_dev *d, void **bar2, uint64_t *size);
/* Undo vfio_mlx5_open() (a NULL @bar2 or closed @d are skipped) */
void vfio_mlx5_close(struct vfio_dev *d, void *bar2, uint64_t size);

#endif
