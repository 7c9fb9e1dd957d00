/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfio-pci-core internals shared between the library's files.  Nothing here
 * is visible to drivers; include/linux/vfio_pci_core.h is their whole API.
 *
 * One file per capability:
 *   vfio_pci_core.c      life cycle, open/close, ioctl and feature dispatch
 *   vfio_pci_config.c    config-space virtualization
 *   vfio_pci_intrs.c     INTx, MSI, MSI-X, ERR and REQ interrupts, AER
 *   vfio_pci_rdwr.c      BAR/ROM/VGA/config/device regions: I/O and mmap
 *   vfio_pci_ioeventfd.c VFIO_DEVICE_IOEVENTFD
 *   vfio_pci_reset.c     function reset, device sets, hot reset
 *   vfio_pci_power.c     D-states, runtime PM, low-power features
 *   vfio_pci_sriov.c     SR-IOV enable and the VF token
 */
#ifndef __VFIO_PCI_PRIV_H
#define __VFIO_PCI_PRIV_H

#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>

/* Fixed region indexes beyond VFIO_PCI_NUM_REGIONS are device-specific */
#define VFIO_PCI_DEV_REGION(index)	((index) - VFIO_PCI_NUM_REGIONS)

/* Per-device ioeventfd limit */
#define VFIO_PCI_IOEVENTFD_MAX		1000

/* Module parameters set through vfio_pci_core_set_params() */
extern bool vfio_pci_nointxmask;
extern bool vfio_pci_disable_vga;
extern bool vfio_pci_disable_idle_d3;

/*
 * Test-only fault injection (CONFIG_VFIO_PCI_CORE_FAULT_INJECTION, see
 * vfio_pci_core.c): each call the library makes that can fail asks first,
 * "x = vfio_pci_fail() ? <its failure> : call()", so that a fail-nth sweep
 * reaches every one of our error paths.  Always false otherwise.
 */
#ifdef CONFIG_VFIO_PCI_CORE_FAULT_INJECTION
#ifndef CONFIG_FAULT_INJECTION_DEBUG_FS
#error "CONFIG_VFIO_PCI_CORE_FAULT_INJECTION needs CONFIG_FAULT_INJECTION_DEBUG_FS"
#endif
bool vfio_pci_fail(void);
#else
static inline bool vfio_pci_fail(void)
{
	return false;
}
#endif

/*
 * Copies of the few bytes one register access moves.  Guests access
 * registers 1, 2, 4 or 8 bytes at a time; for those sizes a single
 * get_user()/put_user() replaces copy_{from,to}_user(), which for a
 * run-time size also runs the hardened-usercopy object check.  Other sizes
 * take the general copy, and so does a misaligned user buffer where the
 * CPU does not handle unaligned accesses well.  Return 0 or -EFAULT.
 */
static inline bool vfio_pci_user_small_ok(const void __user *p, size_t n)
{
	return IS_ENABLED(CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS) ||
	       IS_ALIGNED((unsigned long)p, n);
}

static inline int vfio_pci_get_user_small(void *dst, const char __user *src,
					  size_t n)
{
	if (vfio_pci_user_small_ok(src, n)) {
		switch (n) {
		case 1:
			return get_user(*(u8 *)dst, (const u8 __user *)src);
		case 2:
			return get_user(*(u16 *)dst, (const u16 __user *)src);
		case 4:
			return get_user(*(u32 *)dst, (const u32 __user *)src);
		case 8:
			return get_user(*(u64 *)dst, (const u64 __user *)src);
		}
	}
	return copy_from_user(dst, src, n) ? -EFAULT : 0;
}

static inline int vfio_pci_put_user_small(char __user *dst, const void *src,
					  size_t n)
{
	if (vfio_pci_user_small_ok(dst, n)) {
		switch (n) {
		case 1:
			return put_user(*(const u8 *)src, (u8 __user *)dst);
		case 2:
			return put_user(*(const u16 *)src, (u16 __user *)dst);
		case 4:
			return put_user(*(const u32 *)src, (u32 __user *)dst);
		case 8:
			return put_user(*(const u64 *)src, (u64 __user *)dst);
		}
	}
	return copy_to_user(dst, src, n) ? -EFAULT : 0;
}

/* ---- vfio_pci_config.c ------------------------------------------------ */

int vfio_pci_config_perm_init(void);
void vfio_pci_config_perm_exit(void);

/*
 * Build the emulated config space from the hardware at open time (after the
 * function was enabled and reset).  Fills vdev->vconfig, msix_bar/offset/size,
 * msi_qmax, extended_caps.
 */
int vfio_pci_config_init(struct vfio_pci_core_device *vdev);
void vfio_pci_config_exit(struct vfio_pci_core_device *vdev);

/* VFIO_PCI_CONFIG_REGION_INDEX access; *ppos is a full device fd offset */
ssize_t vfio_pci_config_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			   size_t count, loff_t *ppos, bool iswrite);

/*
 * Whether the emulated command register has memory decode on.  Called with
 * memory_lock held (read or write), from mmap faults and, for ioeventfds,
 * from an eventfd wake-up in atomic context: must not sleep or take
 * vconfig_lock.
 */
bool vfio_pci_memory_enabled(struct vfio_pci_core_device *vdev);

/* Restore hardware BARs from the emulated values after a reset */
void vfio_pci_config_restore_bars(struct vfio_pci_core_device *vdev);

/* Re-sync the emulated INTx-disable bit with vdev state */
void vfio_pci_config_intx_disable(struct vfio_pci_core_device *vdev, bool set);

/* What INTx a function can offer, decided at open (vfio_pci_intrs.c) */
enum vfio_pci_intx_policy {
	VFIO_PCI_INTX_OK,	/* offer it */
	VFIO_PCI_INTX_NONE,	/* no pin, no line, or a VF: pin reads 0 */
	VFIO_PCI_INTX_BROKEN,	/* status bit unreliable: keep it disabled */
};

enum vfio_pci_intx_policy vfio_pci_intx_policy(unsigned int irq, bool is_virtfn,
					       u16 vendor, u16 device);

/* Where the ROM region is read from */
enum vfio_pci_rom_source {
	VFIO_PCI_ROM_NONE,	/* no ROM region */
	VFIO_PCI_ROM_BAR,	/* the ROM BAR, or a shadow, via pci_map_rom() */
	VFIO_PCI_ROM_PLATFORM,	/* the firmware's copy, pdev->rom */
};

enum vfio_pci_rom_source vfio_pci_rom_region(u64 bar_len, bool shadow,
					     u64 platform_len, u64 *size);
enum vfio_pci_rom_source vfio_pci_rom_of(struct pci_dev *pdev, u64 *size);

/* Whether a driver's migration and dirty-tracking ops are complete */
int vfio_pci_check_driver_ops(const struct vfio_device *vdev);
/* Split a GET_DEVICE_FD string: 1 this device, 0 another, or -errno */
int vfio_pci_parse_match(const char *name, const char *buf, bool *has_token,
			 uuid_t *uuid);

/* VGA_RSRC_* a VGA device claims to decode (the VGA arbiter's question) */
unsigned int vfio_pci_vga_decodes(bool single_vga, bool vga_offered,
				  bool root_bus, bool vga_below);

/* DEVCTL read request size for encoding @enc, floored at @mps; 0: reserved */
int vfio_pci_readrq_bytes(unsigned int enc, int mps);

/* Make the emulated PMCSR power state match the function's (vconfig_lock) */
void vfio_pci_config_sync_power_state(struct vfio_pci_core_device *vdev);

#if IS_ENABLED(CONFIG_VFIO_PCI_CORE_KUNIT_TEST)
/* Pure config-space logic, exported for vfio_pci_core_test.c only */
#define VFIO_PCI_CFG_TEST_HEADER	0xffff	/* the type 0 header */
#define VFIO_PCI_CFG_TEST_GAP		0xfffe	/* outside every capability */
#define VFIO_PCI_CFG_TEST_NULL		0xfffd	/* null extended header */
#define VFIO_PCI_CFG_TEST_PLATFORM	0xfffc	/* a platform's register */
#define VFIO_PCI_CFG_TEST_EXT		0x8000	/* or'ed into extended IDs */
int vfio_pci_config_test_perm(bool ext, u16 id, unsigned int off, u8 *virt,
			      u8 *write);
unsigned int vfio_pci_config_test_piece(unsigned int pos, size_t count,
					unsigned int end);
u32 vfio_pci_config_test_bar_mask(u64 len, unsigned long flags, bool upper,
				  u32 *type);
int vfio_pci_config_test_masks(unsigned int k, unsigned int off,
			       unsigned int len, u32 *virt, u32 *write,
			       u32 ref[2]);
int vfio_pci_config_test_layout(u8 *cfg, unsigned int size, u16 *owner,
				u16 *start, u8 *piece, u8 *write);
#endif

/* ---- vfio_pci_intrs.c ------------------------------------------------- */

/* Number of vectors reported by GET_IRQ_INFO for @index (0 = absent) */
int vfio_pci_irq_count(struct vfio_pci_core_device *vdev, unsigned int index);
long vfio_pci_ioctl_get_irq_info(struct vfio_pci_core_device *vdev,
				 struct vfio_irq_info __user *arg);
long vfio_pci_ioctl_set_irqs(struct vfio_pci_core_device *vdev,
			     struct vfio_irq_set __user *arg);
/* Disable every interrupt and drop every trigger (close, reset, remove) */
void vfio_pci_irqs_teardown(struct vfio_pci_core_device *vdev);
/*
 * INTx masking on behalf of config writes and power transitions.  Both take
 * igate: call them without igate, memory_lock or vconfig_lock held.  Unmask
 * leaves INTx masked while vdev->virq_disabled is set.  Mask returns true
 * only if INTx is in use and this call masked it.
 */
bool vfio_pci_intx_mask(struct vfio_pci_core_device *vdev);
void vfio_pci_intx_unmask(struct vfio_pci_core_device *vdev);
/* Signal the REQ eventfd; returns false if nobody listens */
bool vfio_pci_signal_req(struct vfio_pci_core_device *vdev);
/*
 * MSI/MSI-X vectors must be refreshed after memory decode changes or a
 * reset.  Takes igate and memory_lock: call it without either held.
 */
void vfio_pci_msix_restore(struct vfio_pci_core_device *vdev);

/* ---- vfio_pci_rdwr.c -------------------------------------------------- */

long vfio_pci_ioctl_get_region_info(struct vfio_pci_core_device *vdev,
				    struct vfio_region_info __user *arg);
ssize_t vfio_pci_rw(struct vfio_pci_core_device *vdev, char __user *buf,
		    size_t count, loff_t *ppos, bool iswrite);
ssize_t vfio_pci_bar_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite);
ssize_t vfio_pci_vga_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite);
/* Work out which BARs may be mmapped (called at open) */
void vfio_pci_probe_mmaps(struct vfio_pci_core_device *vdev);
/* Release every BAR mapping and device-specific region (close) */
void vfio_pci_regions_release(struct vfio_pci_core_device *vdev);
/* Drop every user mapping of the BARs; the next touch faults */
void vfio_pci_zap_bars(struct vfio_pci_core_device *vdev);
/* Take memory_lock for write after zapping every user mapping */
void vfio_pci_zap_and_down_write_memory_lock(struct vfio_pci_core_device *vdev);
/*
 * Take memory_lock for write and make sure memory decode is on (resets need
 * it); returns the command register to hand back to the unlock helper.
 */
u16 vfio_pci_memory_lock_and_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_memory_unlock_and_restore(struct vfio_pci_core_device *vdev,
					u16 cmd);

/* ---- vfio_pci_ioeventfd.c --------------------------------------------- */

long vfio_pci_ioctl_ioeventfd(struct vfio_pci_core_device *vdev,
			      struct vfio_device_ioeventfd __user *arg);
void vfio_pci_ioeventfd_teardown(struct vfio_pci_core_device *vdev);

/* ---- vfio_pci_reset.c ------------------------------------------------- */

/* Probe reset capabilities at register time */
void vfio_pci_reset_probe(struct vfio_pci_core_device *vdev);
/* Join the device set of every function a slot or bus reset touches */
int vfio_pci_devset_assign(struct vfio_pci_core_device *vdev);
long vfio_pci_ioctl_reset(struct vfio_pci_core_device *vdev);
long vfio_pci_ioctl_get_hot_reset_info(struct vfio_pci_core_device *vdev,
				       struct vfio_pci_hot_reset_info __user *arg);
long vfio_pci_ioctl_hot_reset(struct vfio_pci_core_device *vdev,
			      struct vfio_pci_hot_reset __user *arg);
/* Function reset with memory locked, as a config-space FLR write asks */
int vfio_pci_function_reset(struct vfio_pci_core_device *vdev);
/* On last close: bus/slot reset if the whole set is idle and dirty */
void vfio_pci_devset_try_reset(struct vfio_pci_core_device *vdev);

/* ---- vfio_pci_power.c ------------------------------------------------- */

/*
 * Move the function to @state, saving and restoring config space around D3
 * for functions that lose it (NoSoftRst-).  vfio_pci_set_power_state()
 * takes memory_lock for write itself (zapping BAR mappings when leaving D0),
 * so the caller must hold neither memory_lock nor vconfig_lock; a request
 * for D0 also ends a low-power session engaged through the LOW_POWER
 * features.  The _locked variant is for callers already holding memory_lock
 * for write.  Returns 0 or a negative errno (-EBUSY for a PF whose VFs are
 * enabled and a state other than D0).
 */
int vfio_pci_set_power_state(struct vfio_pci_core_device *vdev,
			     pci_power_t state);
int vfio_pci_set_power_state_locked(struct vfio_pci_core_device *vdev,
				    pci_power_t state);
/* Runtime PM: at register/unregister and around open/close */
void vfio_pci_pm_init(struct vfio_pci_core_device *vdev);
void vfio_pci_pm_exit(struct vfio_pci_core_device *vdev);
int vfio_pci_pm_open(struct vfio_pci_core_device *vdev);
void vfio_pci_pm_close(struct vfio_pci_core_device *vdev);
/* VFIO_DEVICE_FEATURE_LOW_POWER_* */
int vfio_pci_feature_power(struct vfio_pci_core_device *vdev, u32 flags,
			   void __user *arg, size_t argsz);

/* ---- vfio_pci_sriov.c ------------------------------------------------- */

/* VF token bookkeeping: at register/unregister */
int vfio_pci_sriov_init(struct vfio_pci_core_device *vdev);
void vfio_pci_sriov_exit(struct vfio_pci_core_device *vdev);
/* Before a PF is unregistered: disable its VFs, waiting for their users */
void vfio_pci_sriov_remove_vfs(struct vfio_pci_core_device *vdev);
/* Check the vf_token= of a match string; 0 when access is allowed */
int vfio_pci_validate_vf_token(struct vfio_pci_core_device *vdev,
			       bool vf_token, uuid_t *uuid);
/* VFIO_DEVICE_FEATURE_PCI_VF_TOKEN */
int vfio_pci_feature_vf_token(struct vfio_pci_core_device *vdev, u32 flags,
			      void __user *arg, size_t argsz);
/* Open count bookkeeping seen by the PF */
void vfio_pci_sriov_open(struct vfio_pci_core_device *vdev);
void vfio_pci_sriov_close(struct vfio_pci_core_device *vdev);
/* Whether a PF has VFs enabled (they need it in D0); memory_lock held */
bool vfio_pci_sriov_active(struct vfio_pci_core_device *vdev);

#endif /* __VFIO_PCI_PRIV_H */
