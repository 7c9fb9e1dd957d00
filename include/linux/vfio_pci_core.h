/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfio-pci-core: the toolbox every VFIO PCI driver is built from.
 *
 * This header is the whole public interface of the library.  A driver embeds
 * struct vfio_pci_core_device (its struct vfio_device first), fills a
 * struct vfio_device_ops whose entries are either the vfio_pci_core_*()
 * functions below or its own wrappers that call them, and registers the
 * device.  The library never calls back into the driver, with one exception:
 * the ops of a device-specific region the driver registered itself.
 */
#ifndef __LINUX_VFIO_PCI_CORE_H
#define __LINUX_VFIO_PCI_CORE_H

#include <linux/irqbypass.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/uuid.h>
#include <linux/vfio.h>
#include <linux/xarray.h>

/*
 * Offsets in the device fd: the top bits of the file offset select a region
 * index, the low bits the offset inside that region.  Userspace must use the
 * offsets returned by VFIO_DEVICE_GET_REGION_INFO; the split is an internal
 * convention, exposed here only so drivers can decode offsets in their own
 * read/write wrappers.
 */
#define VFIO_PCI_OFFSET_SHIFT	40
#define VFIO_PCI_OFFSET_TO_INDEX(off)	((off) >> VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_INDEX_TO_OFFSET(index)	((u64)(index) << VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_OFFSET_MASK	((1ULL << VFIO_PCI_OFFSET_SHIFT) - 1)

struct vfio_pci_core_device;
struct vfio_pci_region;
struct vfio_pci_vconfig;
struct vfio_pci_irq_ctx;
struct vfio_pci_vf_token;

/**
 * struct vfio_pci_regops - how a device-specific region is accessed
 * @rw: move @count bytes at *@ppos, a device fd offset whose top bits hold
 *	the region index; returns the bytes moved or a negative errno
 * @mmap: optional; map the region into @vma
 * @add_capability: optional; add capabilities to the region's info reply
 * @release: free the driver's @region->data when the session ends
 */
struct vfio_pci_regops {
	ssize_t (*rw)(struct vfio_pci_core_device *vdev, char __user *buf,
		      size_t count, loff_t *ppos, bool iswrite);
	int (*mmap)(struct vfio_pci_core_device *vdev,
		    struct vfio_pci_region *region, struct vm_area_struct *vma);
	int (*add_capability)(struct vfio_pci_core_device *vdev,
			      struct vfio_pci_region *region,
			      struct vfio_info_cap *caps);
	void (*release)(struct vfio_pci_core_device *vdev,
			struct vfio_pci_region *region);
};

/**
 * struct vfio_pci_region - a region a driver added to a device
 * @ops: the driver's access functions
 * @data: the driver's private data for @ops
 * @size: bytes in the region
 * @flags: VFIO_REGION_INFO_FLAG_* reported to the user
 * @type: VFIO_REGION_TYPE_* of the region's type capability
 * @subtype: VFIO_REGION_SUBTYPE_* within @type
 */
struct vfio_pci_region {
	const struct vfio_pci_regops	*ops;
	void				*data;
	size_t				size;
	u32				flags;
	u32				type;
	u32				subtype;
};

/**
 * struct vfio_pci_core_device - a PCI function exposed through VFIO
 * @vdev: the vfio core's device; must be the first member
 * @pdev: the PCI function
 * @barmap: kernel mappings of the BARs made by vfio_pci_core_setup_barmap()
 * @bar_claimed: bitmap of the BARs whose resource this device holds, each
 *	from its first mmap() or vfio_pci_core_setup_barmap() until close
 * @bar_claim_lock: guards @bar_claimed; a leaf lock, taken under mmap_lock
 *	(mmap) and under vconfig_lock (vfio_pci_core_setup_barmap())
 * @bar_mmap_ok: bitmap of the BARs userspace may mmap (decided at open)
 * @bar_pad: resources reserving the rest of the page of sub-page BARs
 * @vconfig: emulated config space, private to vfio_pci_config.c
 * @vconfig_lock: serialises config-space emulation (changes; reads go
 *	without it) and the publication of @barmap entries
 * @msix_bar: BAR holding the MSI-X table, -1 without MSI-X
 * @msix_offset: offset of the MSI-X table in @msix_bar
 * @msix_size: bytes of the MSI-X table
 * @msi_qmax: MSI vectors the function offers (1..32), 0 without MSI
 * @igate: guards the interrupt configuration below
 * @irq_type: VFIO_PCI_*_IRQ_INDEX in use, -1 for none
 * @num_ctx: vectors enabled for @irq_type
 * @ctx: vector number -> interrupt context (private to vfio_pci_intrs.c)
 * @err_trigger: eventfd signalled on AER errors
 * @req_trigger: eventfd signalled when the device should be released
 * @irqlock: protects @intx_masked against the hard-irq handler
 * @intx_masked: INTx is masked (by the user or automatically)
 * @pci_2_3: INTx can be masked with the DisINTx command bit
 * @region: device-specific regions registered by the driver
 * @num_regions: entries in @region
 * @memory_lock: whether BAR memory may be touched; see the lock order
 * @ioeventfds_lock: guards @ioeventfds_list and @ioeventfds_nr
 * @ioeventfds_list: ioeventfds of this device
 * @ioeventfds_nr: entries in @ioeventfds_list
 * @pci_saved_state: PCI state saved at open, restored at close
 * @pm_save: PCI state saved before entering D3hot
 * @reset_works: the reset at this session's open succeeded, so
 *	VFIO_DEVICE_RESET is offered and close resets the function (written
 *	at open under dev_set->lock)
 * @has_flr: the function has PCIe or AF function-level reset
 * @has_pm_reset: a D3hot->D0 transition resets the function
 * @nointx: INTx is not offered to the user
 * @needs_reset: the function was used since its last reset (dev_set->lock)
 * @virq_disabled: the user set DisINTx in the emulated command register:
 *	INTx stays masked and is not signalled (set by config emulation)
 * @extended_caps: extended config space (0x100+) is present
 * @has_vga: the VGA region is offered
 * @needs_pm_restore: state must be restored when leaving D3hot
 * @pm_intx_masked: INTx was masked for runtime suspend
 * @pm_runtime_engaged: the user asked for low power (a feature)
 * @pm_wake_eventfd_ctx: eventfd signalled when the device wakes up
 * @pm_idle_d3: the usage count PCI core took for probe was dropped, so an
 *	idle function may runtime-suspend to D3hot
 * @sriov_pf_core_dev: for a VF, the core device of its PF if bound to us
 * @sriov_vf_counted: this VF's session is counted in its PF's VF-token users
 *	(under the PF's VF-token lock)
 * @nb: bus notifier of an SR-IOV PF
 * @vf_token: an SR-IOV PF's VF token (private to vfio_pci_sriov.c)
 *
 * Drivers embed this structure and allocate it with
 * vfio_alloc_device(their_struct, core_device.vdev, dev, ops); @vdev must be
 * the first member.  Every field is owned by the library; drivers read
 * @pdev and may read the others, and change none of them directly.
 *
 * Lock order, outermost first (a lock may be taken while holding any lock
 * listed above it, never the other way round):
 *
 *   vdev.dev_set->lock	 taken by vfio core around open/close, and by the
 *			 library for resets that span the device set
 *   igate		 interrupt configuration (irq_type, irq contexts,
 *			 err_trigger, req_trigger)
 *   memory_lock	 (rw) whether BAR memory may be touched: held for write
 *			 across every change of that (memory decode, a reset,
 *			 a power-state change); for read around every BAR
 *			 access and mmap fault
 *   ioeventfds_lock	 the ioeventfd list
 *   irqlock		 (spinlock) INTx masked state, taken in hard irq context
 *
 * vconfig_lock serialises config-space emulation (config reads run without
 * it, validated by a sequence count, see vfio_pci_config.c); it nests inside
 * igate and memory_lock and is taken before irqlock.  Two leaf locks of
 * vfio_pci_sriov.c nest inside all of these: a PF's VF-token lock (taken
 * under a VF's dev_set->lock and vfio core's group lock) and the global
 * list of PFs, vfio_pci_pfs_lock.  bar_claim_lock is a leaf too, taken
 * under mmap_lock by mmap() and under vconfig_lock.
 */
struct vfio_pci_core_device {
	struct vfio_device	vdev;
	struct pci_dev		*pdev;

	/* BAR mappings made by vfio_pci_core_setup_barmap(), published under vconfig_lock */
	void __iomem		*barmap[PCI_STD_NUM_BARS];
	/* BARs whose resource is requested, under bar_claim_lock */
	unsigned long		bar_claimed;
	/* Leaf lock: bar_claimed (taken under mmap_lock and vconfig_lock) */
	struct mutex		bar_claim_lock;
	/* BARs whose size is page-aligned and that userspace may mmap */
	unsigned long		bar_mmap_ok;
	/* Sub-page BARs: the rest of their page, claimed at open, freed at close */
	struct resource		*bar_pad[PCI_STD_NUM_BARS];

	/* Emulated config space; see vfio_pci_config.c */
	struct vfio_pci_vconfig	*vconfig;
	/* Serialises config-space emulation and barmap entries' publication */
	struct mutex		vconfig_lock;

	/* MSI-X table location, filled when the capability is found */
	int			msix_bar;
	u32			msix_offset;
	u32			msix_size;
	/* MSI vectors the hardware offers (1..32), 0 without MSI */
	unsigned int		msi_qmax;

	/* Interrupt state; guarded by igate except where noted */
	struct mutex		igate;
	int			irq_type;	/* VFIO_PCI_*_IRQ_INDEX or -1 */
	unsigned int		num_ctx;
	struct xarray		ctx;		/* vector -> vfio_pci_irq_ctx */
	struct eventfd_ctx	*err_trigger;
	struct eventfd_ctx	*req_trigger;
	/* Protects intx_masked against the hard-irq handler */
	spinlock_t		irqlock;
	bool			intx_masked;
	bool			pci_2_3;	/* DisINTx masking works */

	/* Device-specific regions registered by the driver */
	struct vfio_pci_region	*region;
	unsigned int		num_regions;

	/* BAR access gate; see the lock order above */
	struct rw_semaphore	memory_lock;

	/* ioeventfds; see vfio_pci_ioeventfd.c */
	struct mutex		ioeventfds_lock;
	struct list_head	ioeventfds_list;
	int			ioeventfds_nr;

	/* PCI state saved at open, restored at close */
	struct pci_saved_state	*pci_saved_state;
	struct pci_saved_state	*pm_save;
	bool			reset_works;
	bool			has_flr;
	bool			has_pm_reset;
	bool			nointx;
	bool			needs_reset;
	bool			virq_disabled;
	bool			extended_caps;
	bool			has_vga;
	bool			needs_pm_restore;

	/* Runtime power management; see vfio_pci_power.c */
	bool			pm_intx_masked;
	bool			pm_runtime_engaged;
	bool			pm_idle_d3;
	struct eventfd_ctx	*pm_wake_eventfd_ctx;

	/* SR-IOV; see vfio_pci_sriov.c */
	struct vfio_pci_core_device *sriov_pf_core_dev;
	bool			sriov_vf_counted;
	struct notifier_block	nb;
	struct vfio_pci_vf_token *vf_token;
};

/* Module-wide knobs a driver passes on (vfio-pci's module parameters) */
void vfio_pci_core_set_params(bool nointxmask, bool is_disable_vga,
			      bool is_disable_idle_d3);

/* Life cycle (vfio_pci_core.c) */
int vfio_pci_core_init_dev(struct vfio_device *core_vdev);
void vfio_pci_core_release_dev(struct vfio_device *core_vdev);
int vfio_pci_core_register_device(struct vfio_pci_core_device *vdev);
void vfio_pci_core_unregister_device(struct vfio_pci_core_device *vdev);
int vfio_pci_core_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_finish_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_disable(struct vfio_pci_core_device *vdev);
int vfio_pci_core_open_device(struct vfio_device *core_vdev);
void vfio_pci_core_close_device(struct vfio_device *core_vdev);

/* Userspace entry points (vfio_pci_core.c, vfio_pci_rdwr.c) */
long vfio_pci_core_ioctl(struct vfio_device *core_vdev, unsigned int cmd,
			 unsigned long arg);
int vfio_pci_core_ioctl_feature(struct vfio_device *device, u32 flags,
				void __user *arg, size_t argsz);
ssize_t vfio_pci_core_read(struct vfio_device *core_vdev, char __user *buf,
			   size_t count, loff_t *ppos);
ssize_t vfio_pci_core_write(struct vfio_device *core_vdev,
			    const char __user *buf, size_t count, loff_t *ppos);
int vfio_pci_core_mmap(struct vfio_device *core_vdev,
		       struct vm_area_struct *vma);
void vfio_pci_core_request(struct vfio_device *core_vdev, unsigned int count);
int vfio_pci_core_match(struct vfio_device *core_vdev, char *buf);

/* Device-specific regions (vfio_pci_rdwr.c) */
int vfio_pci_core_register_dev_region(struct vfio_pci_core_device *vdev,
				      u32 type, u32 subtype,
				      const struct vfio_pci_regops *ops,
				      size_t size, u32 flags, void *data);

/* BAR helpers (vfio_pci_rdwr.c) */
int vfio_pci_core_setup_barmap(struct vfio_pci_core_device *vdev, int bar);
ssize_t vfio_pci_core_do_io_rw(struct vfio_pci_core_device *vdev,
			       bool test_mem, void __iomem *io,
			       char __user *buf, loff_t off, size_t count,
			       size_t x_start, size_t x_end, bool iswrite);
bool vfio_pci_core_range_intersect_range(loff_t buf_start, size_t buf_cnt,
					 loff_t reg_start, size_t reg_cnt,
					 loff_t *buf_offset,
					 size_t *intersect_count,
					 size_t *register_offset);
int vfio_pci_core_ioread8(struct vfio_pci_core_device *vdev, bool test_mem,
			  u8 *val, void __iomem *io);
int vfio_pci_core_ioread16(struct vfio_pci_core_device *vdev, bool test_mem,
			   u16 *val, void __iomem *io);
int vfio_pci_core_ioread32(struct vfio_pci_core_device *vdev, bool test_mem,
			   u32 *val, void __iomem *io);
int vfio_pci_core_iowrite8(struct vfio_pci_core_device *vdev, bool test_mem,
			   u8 val, void __iomem *io);
int vfio_pci_core_iowrite16(struct vfio_pci_core_device *vdev, bool test_mem,
			    u16 val, void __iomem *io);
int vfio_pci_core_iowrite32(struct vfio_pci_core_device *vdev, bool test_mem,
			    u32 val, void __iomem *io);
#ifdef iowrite64
int vfio_pci_core_ioread64(struct vfio_pci_core_device *vdev, bool test_mem,
			   u64 *val, void __iomem *io);
int vfio_pci_core_iowrite64(struct vfio_pci_core_device *vdev, bool test_mem,
			    u64 val, void __iomem *io);
#endif

/* SR-IOV (vfio_pci_sriov.c) */
int vfio_pci_core_sriov_configure(struct vfio_pci_core_device *vdev,
				  int nr_virtfn);

/*
 * Power management (vfio_pci_power.c): a driver that wants idle D3 and the
 * low-power device features points its pci_driver.driver.pm here.
 */
extern const struct dev_pm_ops vfio_pci_core_pm_ops;

/* AER (vfio_pci_intrs.c) */
pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev,
						pci_channel_state_t state);
extern const struct pci_error_handlers vfio_pci_core_err_handlers;

/**
 * vfio_pci_core_from_vdev() - the core device a vfio_device is embedded in
 * @core_vdev: the vfio_device passed to a vfio_device_ops callback
 *
 * Return: the enclosing struct vfio_pci_core_device.
 */
static inline struct vfio_pci_core_device *
vfio_pci_core_from_vdev(struct vfio_device *core_vdev)
{
	return container_of(core_vdev, struct vfio_pci_core_device, vdev);
}

/**
 * vfio_pci_is_vga() - whether a PCI function is a VGA-class device
 * @pdev: the function
 *
 * Return: true for PCI_CLASS_DISPLAY_VGA.
 */
static inline bool vfio_pci_is_vga(struct pci_dev *pdev)
{
	return (pdev->class >> 8) == PCI_CLASS_DISPLAY_VGA;
}

#endif /* __LINUX_VFIO_PCI_CORE_H */
