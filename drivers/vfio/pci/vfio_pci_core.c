// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-core: life cycle of a VFIO PCI device and ioctl dispatch.
 *
 * A device goes through three stages.  init_dev/release_dev bracket the
 * memory of the structure; register/unregister bracket its visibility to
 * userspace; enable/disable bracket one userspace session (first open to
 * last close).  Everything a session changes in the hardware is undone by
 * vfio_pci_core_disable(): interrupts, ioeventfds, mappings, the command
 * register (through the saved state) and, where possible, a reset.
 */
#include <kunit/visibility.h>
#include <linux/aperture.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/uaccess.h>
#include <linux/vgaarb.h>

#include "vfio_pci_priv.h"

#define DRIVER_DESC "VFIO PCI core library: helpers for VFIO PCI drivers"

bool vfio_pci_nointxmask;
bool vfio_pci_disable_vga;
bool vfio_pci_disable_idle_d3;

/**
 * vfio_pci_core_set_params() - set the library's module-wide policies
 * @nointxmask: never use DisINTx masking, treat every INTx line as shared
 *	exclusive (the line is disabled at the irq chip instead)
 * @is_disable_vga: do not expose the VGA region of VGA-class devices
 * @is_disable_idle_d3: keep idle devices in D0 instead of D3hot
 *
 * Drivers call this from their module init with their parameters.  The
 * values apply to devices opened afterwards.
 */
void vfio_pci_core_set_params(bool nointxmask, bool is_disable_vga,
			      bool is_disable_idle_d3)
{
	vfio_pci_nointxmask = nointxmask;
	vfio_pci_disable_vga = is_disable_vga;
	vfio_pci_disable_idle_d3 = is_disable_idle_d3;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_set_params);

/**
 * vfio_pci_vga_decodes() - what a VGA device tells the VGA arbiter it decodes
 * @single_vga: it is the only VGA device of the system
 * @vga_offered: users may get the legacy VGA ranges (the VGA region)
 * @root_bus: it sits on a root bus (no bridge can stop legacy routing)
 * @vga_below: another VGA device sits on its bus or below it
 *
 * The legacy ranges may only be disclaimed when nobody reaches them
 * through us (no VGA region), a bridge above the device can stop routing
 * them, and no other VGA device behind that bridge depends on the routing.
 *
 * Return: VGA_RSRC_* flags; the normal ranges are always decoded.
 */
unsigned int vfio_pci_vga_decodes(bool single_vga, bool vga_offered,
				  bool root_bus, bool vga_below)
{
	unsigned int decodes = VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM;

	if (single_vga || vga_offered || root_bus || vga_below)
		decodes |= VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM;
	return decodes;
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_vga_decodes);

/* Whether a VGA device other than @pdev is on its bus or a bus below it */
static bool vfio_pci_other_vga_below(struct pci_dev *pdev)
{
	unsigned char last = pci_bus_max_busnr(pdev->bus);
	struct pci_dev *tmp = NULL;

	while ((tmp = pci_get_class(PCI_CLASS_DISPLAY_VGA << 8, tmp))) {
		if (tmp == pdev || pci_is_root_bus(tmp->bus) ||
		    pci_domain_nr(tmp->bus) != pci_domain_nr(pdev->bus))
			continue;
		if (tmp->bus->number >= pdev->bus->number &&
		    tmp->bus->number <= last) {
			pci_dev_put(tmp);
			return true;
		}
	}
	return false;
}

/* VGA arbiter callback: what legacy resources this device still decodes */
static unsigned int vfio_pci_vga_decode(struct pci_dev *pdev, bool single_vga)
{
	bool offered = IS_ENABLED(CONFIG_VFIO_PCI_VGA) && !vfio_pci_disable_vga;
	bool root = pci_is_root_bus(pdev->bus);

	/* The bus scan only matters when nothing else keeps the ranges */
	if (single_vga || offered || root)
		return vfio_pci_vga_decodes(single_vga, offered, root, false);
	return vfio_pci_vga_decodes(false, false, false,
				    vfio_pci_other_vga_below(pdev));
}

/*
 * Leave the arbiter as a host driver expects to find it: no callback, and
 * every legacy range decoded again (we may have disclaimed some).
 */
static void vfio_pci_vga_exit(struct pci_dev *pdev)
{
	vga_client_unregister(pdev);
	vga_set_legacy_decoding(pdev, VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM |
				VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM);
}

/**
 * vfio_pci_core_init_dev() - initialise the library's part of a device
 * @core_vdev: the vfio_device embedded in a struct vfio_pci_core_device
 *
 * Meant as (or to be called from) the driver's vfio_device_ops.init.  The
 * pci_dev is taken from @core_vdev->dev.
 *
 * Return: 0.
 */
int vfio_pci_core_init_dev(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev = vfio_pci_core_from_vdev(core_vdev);

	vdev->pdev = to_pci_dev(core_vdev->dev);
	vdev->irq_type = -1;
	vdev->msix_bar = -1;
	mutex_init(&vdev->igate);
	spin_lock_init(&vdev->irqlock);
	mutex_init(&vdev->vconfig_lock);
	mutex_init(&vdev->bar_claim_lock);
	mutex_init(&vdev->ioeventfds_lock);
	INIT_LIST_HEAD(&vdev->ioeventfds_list);
	init_rwsem(&vdev->memory_lock);
	xa_init(&vdev->ctx);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_init_dev);

/**
 * vfio_pci_core_release_dev() - free what vfio_pci_core_init_dev() set up
 * @core_vdev: the vfio_device
 *
 * Meant as (or to be called from) the driver's vfio_device_ops.release.
 */
void vfio_pci_core_release_dev(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev = vfio_pci_core_from_vdev(core_vdev);

	/* Regions and saved PM state may outlive the last session */
	kfree(vdev->pm_save);
	kfree(vdev->region);
	xa_destroy(&vdev->ctx);
	mutex_destroy(&vdev->igate);
	mutex_destroy(&vdev->vconfig_lock);
	mutex_destroy(&vdev->bar_claim_lock);
	mutex_destroy(&vdev->ioeventfds_lock);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_release_dev);

/* Only endpoints behind an IOMMU, registered the way the library expects */
static int vfio_pci_core_check_assignable(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	/* Bridges (type 1/2 headers) route other devices' traffic: never */
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;
	if (!pdev->dev.iommu_group) {
		pci_info(pdev, "no IOMMU group, refusing to expose it to userspace\n");
		return -EINVAL;
	}
	/* A driver bug, not user input: the callbacks rely on this */
	if (WARN_ON(dev_get_drvdata(&pdev->dev) != vdev))
		return -EINVAL;
	return 0;
}

/**
 * vfio_pci_check_driver_ops() - the migration and dirty-tracking ops a
 * driver hands the vfio core are complete
 * @vdev: the vfio_device about to be registered
 *
 * The vfio core calls every migration callback once a driver offers
 * migration, which always includes STOP_COPY, and every logging callback
 * once it offers dirty tracking.  A driver that leaves one out is refused
 * at registration instead of oopsing at the user's first call.
 *
 * Return: 0, or -EINVAL for incomplete ops.
 */
int vfio_pci_check_driver_ops(const struct vfio_device *vdev)
{
	const struct vfio_migration_ops *mig = vdev->mig_ops;
	const struct vfio_log_ops *log = vdev->log_ops;

	if (mig && (!mig->migration_set_state || !mig->migration_get_state ||
		    !mig->migration_get_data_size ||
		    !(vdev->migration_flags & VFIO_MIGRATION_STOP_COPY)))
		return -EINVAL;
	if (log && (!log->log_start || !log->log_stop ||
		    !log->log_read_and_clear))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_check_driver_ops);

/**
 * vfio_pci_core_register_device() - make a device visible to userspace
 * @vdev: the core device, allocated with vfio_alloc_device()
 *
 * Checks that the function can be assigned (a type 0 header, an IOMMU
 * group) and that the driver's migration and dirty-tracking ops are
 * complete (vfio_pci_check_driver_ops()), joins the device set of every
 * function a slot or bus reset would touch, sets up the VF token for SR-IOV
 * PFs, registers with the VGA arbiter, enables runtime PM and finally
 * registers the vfio group device.
 *
 * Return: 0 or a negative errno; on error nothing is left registered.
 */
int vfio_pci_core_register_device(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	ret = vfio_pci_core_check_assignable(vdev);
	if (ret)
		return ret;
	ret = vfio_pci_check_driver_ops(&vdev->vdev);
	if (ret) {
		pci_warn(pdev, "driver %s offers incomplete migration or dirty-tracking ops\n",
			 vdev->vdev.ops->name);
		return ret;
	}

	vfio_pci_reset_probe(vdev);

	ret = vfio_pci_devset_assign(vdev);
	if (ret)
		return ret;

	ret = vfio_pci_sriov_init(vdev);
	if (ret)
		return ret;

	if (vfio_pci_is_vga(pdev)) {
		ret = aperture_remove_conflicting_pci_devices(pdev, vdev->vdev.ops->name);
		if (ret)
			goto out_sriov;
		ret = vga_client_register(pdev, vfio_pci_vga_decode);
		if (ret)
			goto out_sriov;
		vga_set_legacy_decoding(pdev, vfio_pci_vga_decode(pdev, false));
	}

	vfio_pci_pm_init(vdev);

	ret = vfio_register_group_dev(&vdev->vdev);
	if (ret)
		goto out_pm;
	return 0;

out_pm:
	vfio_pci_pm_exit(vdev);
	if (vfio_pci_is_vga(pdev))
		vfio_pci_vga_exit(pdev);
out_sriov:
	vfio_pci_sriov_exit(vdev);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_register_device);

/**
 * vfio_pci_core_unregister_device() - withdraw a device from userspace
 * @vdev: the core device
 *
 * Blocks until every user has closed the device; users that keep it open
 * are asked to release it through the REQ interrupt (see
 * vfio_pci_core_request()).  A PF's VFs are removed first, so their users
 * are asked, and have let go, before the PF's user is asked.  The caller
 * holds the PCI device lock (it is the driver's remove, or runs under it).
 */
void vfio_pci_core_unregister_device(struct vfio_pci_core_device *vdev)
{
	vfio_pci_sriov_remove_vfs(vdev);
	vfio_unregister_group_dev(&vdev->vdev);
	vfio_pci_pm_exit(vdev);
	if (vfio_pci_is_vga(vdev->pdev))
		vfio_pci_vga_exit(vdev->pdev);
	vfio_pci_sriov_exit(vdev);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_unregister_device);

/**
 * vfio_pci_core_enable() - prepare the function for a userspace session
 * @vdev: the core device
 *
 * Called on first open.  Powers the function up, enables it, resets it if
 * it can, saves the clean state that vfio_pci_core_disable() restores, and
 * builds the emulated config space and the BAR mmap policy.  A driver that
 * wraps open calls this, then its own set-up, then
 * vfio_pci_core_finish_enable().
 *
 * Return: 0 or a negative errno; on error the function is left disabled.
 */
int vfio_pci_core_enable(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	lockdep_assert_held(&vdev->vdev.dev_set->lock);

	ret = vfio_pci_pm_open(vdev);
	if (ret)
		return ret;

	/* A host driver may have left bus mastering on: never save that */
	pci_clear_master(pdev);
	ret = vfio_pci_fail() ? -EIO : pci_enable_device(pdev);
	if (ret)
		goto out_pm;

	/*
	 * Nobody gets a function that was not reset when it can be: a
	 * contended device lock (-EAGAIN) fails the open, the user may retry.
	 * Whether the function offers a reset this session is what this
	 * reset did: a listed method can fail (a bus reset of one function
	 * of several on its bus), and the list can change through sysfs.
	 */
	ret = pci_try_reset_function(pdev);
	if (ret == -EAGAIN)
		goto out_disable;
	vdev->reset_works = !ret;
	if (!ret)
		vdev->needs_reset = false;
	else
		pci_dbg(pdev, "reset on open failed: %d\n", ret);

	pci_save_state(pdev);
	vdev->pci_saved_state = pci_store_saved_state(pdev);
	if (!vdev->pci_saved_state)
		pci_dbg(pdev, "could not save PCI state\n");

	vdev->pci_2_3 = false;
	switch (vfio_pci_intx_policy(pdev->irq, pdev->is_virtfn, pdev->vendor,
				     pdev->device)) {
	case VFIO_PCI_INTX_OK:
		vdev->nointx = !IS_ENABLED(CONFIG_VFIO_PCI_INTX);
		if (!vdev->nointx && !vfio_pci_nointxmask)
			vdev->pci_2_3 = pci_intx_mask_supported(pdev);
		break;
	case VFIO_PCI_INTX_BROKEN:
		/* nointxmask=1 takes the risk of an exclusive line instead */
		vdev->nointx = !vfio_pci_nointxmask ||
			       !IS_ENABLED(CONFIG_VFIO_PCI_INTX);
		if (vdev->nointx) {
			pci_info(pdev, "INTx status bit unreliable: INTx not offered\n");
			pci_intx(pdev, 0);
		}
		break;
	case VFIO_PCI_INTX_NONE:
		vdev->nointx = true;
		break;
	}

	ret = vfio_pci_config_init(vdev);
	if (ret)
		goto out_state;

	vdev->has_vga = IS_ENABLED(CONFIG_VFIO_PCI_VGA) &&
			!vfio_pci_disable_vga && vfio_pci_is_vga(pdev);

	vfio_pci_probe_mmaps(vdev);
	return 0;

out_state:
	kfree(vdev->pci_saved_state);
	vdev->pci_saved_state = NULL;
out_disable:
	pci_disable_device(pdev);
out_pm:
	vfio_pci_pm_close(vdev);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_enable);

/**
 * vfio_pci_core_finish_enable() - complete vfio_pci_core_enable()
 * @vdev: the core device
 *
 * Called last on first open, after any driver-specific set-up: from here on
 * the session counts as a user of the device (SR-IOV PF/VF bookkeeping).
 */
void vfio_pci_core_finish_enable(struct vfio_pci_core_device *vdev)
{
	vfio_pci_sriov_open(vdev);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_finish_enable);

/*
 * The reset of vfio_pci_core_disable(): the bridge's lock, then the
 * function's, neither waited for; clears needs_reset when it happened.
 */
static void vfio_pci_reset_at_close(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct pci_dev *bridge = pci_upstream_bridge(pdev);

	if (bridge && !pci_dev_trylock(bridge))
		return;
	if (pci_dev_trylock(pdev)) {
		if (!__pci_reset_function_locked(pdev))
			vdev->needs_reset = false;
		pci_dev_unlock(pdev);
	}
	if (bridge)
		pci_dev_unlock(bridge);
}

/**
 * vfio_pci_core_disable() - end a userspace session
 * @vdev: the core device
 *
 * Called on last close.  Tears down interrupts and ioeventfds, drops every
 * BAR mapping and device-specific region, resets the function (or marks it
 * for a bus reset when the whole device set is idle), restores the state
 * saved at open and powers the function down.
 */
void vfio_pci_core_disable(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	bool saved;

	lockdep_assert_held(&vdev->vdev.dev_set->lock);

	vfio_pci_sriov_close(vdev);

	/* Leave low power first so the teardown below reaches the hardware */
	vfio_pci_set_power_state(vdev, PCI_D0);

	/* No more DMA (MSIs included) while the interrupts are torn down */
	pci_clear_master(pdev);
	vfio_pci_irqs_teardown(vdev);
	vfio_pci_ioeventfd_teardown(vdev);

	vfio_pci_regions_release(vdev);
	vfio_pci_config_exit(vdev);

	vdev->needs_reset = true;

	/*
	 * Put back the config the function had at open: load it as the PCI
	 * core's saved state, reset, restore.  The reset must not save state
	 * itself (pci_try_reset_function() would, overwriting what was just
	 * loaded with the user's AER masks, DEVCTL and DEVCTL2 values), so
	 * it is the bare __pci_reset_function_locked() under the locks
	 * pci_reset_function() would take (the upstream bridge's, whose
	 * secondary bus a bus-reset method toggles, then the function's),
	 * taken without waiting: whoever holds them (an unbind in progress)
	 * may be waiting for this close.  Decode, bus master and INTx are
	 * off across the reset, so a function whose BARs it cleared decodes
	 * nothing until the restore.  Without a saved state a reset still
	 * clears what the user left in the function, and the config as it
	 * is now comes back after it.
	 */
	saved = vdev->pci_saved_state &&
		!pci_load_and_free_saved_state(pdev, &vdev->pci_saved_state);
	if (!saved) {
		kfree(vdev->pci_saved_state);
		vdev->pci_saved_state = NULL;
		pci_info(pdev, "no state saved at open to restore at close\n");
		if (vdev->reset_works)
			pci_save_state(pdev);
	}
	if (vdev->reset_works) {
		pci_write_config_word(pdev, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);
		vfio_pci_reset_at_close(vdev);
	}
	if (saved || vdev->reset_works)
		pci_restore_state(pdev);

	pci_disable_device(pdev);

	vfio_pci_devset_try_reset(vdev);
	vfio_pci_pm_close(vdev);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_disable);

/**
 * vfio_pci_core_open_device() - vfio_device_ops.open_device for drivers
 *	with nothing of their own to set up
 * @core_vdev: the vfio_device
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_core_open_device(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev = vfio_pci_core_from_vdev(core_vdev);
	int ret;

	ret = vfio_pci_core_enable(vdev);
	if (ret)
		return ret;
	vfio_pci_core_finish_enable(vdev);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_open_device);

/**
 * vfio_pci_core_close_device() - vfio_device_ops.close_device
 * @core_vdev: the vfio_device
 */
void vfio_pci_core_close_device(struct vfio_device *core_vdev)
{
	vfio_pci_core_disable(vfio_pci_core_from_vdev(core_vdev));
}
EXPORT_SYMBOL_GPL(vfio_pci_core_close_device);

/*
 * VFIO_PCI_ATOMIC_COMP* for each AtomicOp width the function (its PF for a
 * VF: the routing is the PF's) completes and can now send to the root port.
 * pci_enable_atomic_ops_to_root() checks the path and the root port and
 * turns on AtomicOp requests in the function for a width that works, as
 * upstream 6.12 does on this query; a VMM then shows the widths on the root
 * port it puts the device behind.
 */
static u32 vfio_pci_atomic_comp_flags(struct pci_dev *pdev)
{
	static const u32 width[][2] = {
		{ PCI_EXP_DEVCAP2_ATOMIC_COMP32, VFIO_PCI_ATOMIC_COMP32 },
		{ PCI_EXP_DEVCAP2_ATOMIC_COMP64, VFIO_PCI_ATOMIC_COMP64 },
		{ PCI_EXP_DEVCAP2_ATOMIC_COMP128, VFIO_PCI_ATOMIC_COMP128 },
	};
	u32 devcap2 = 0, flags = 0;
	unsigned int i;

	pdev = pci_physfn(pdev);
	if (pcie_capability_read_dword(pdev, PCI_EXP_DEVCAP2, &devcap2))
		return 0;
	for (i = 0; i < ARRAY_SIZE(width); i++) {
		if ((devcap2 & width[i][0]) &&
		    !pci_enable_atomic_ops_to_root(pdev, width[i][0]))
			flags |= width[i][1];
	}
	return flags;
}

/*
 * VFIO_DEVICE_GET_INFO.  The reply is as much of struct vfio_device_info
 * as argsz holds (so cap_offset reads 0 when there is no chain), and a
 * capability chain, today only the AtomicOp one, after it when argsz has
 * room; otherwise VFIO_DEVICE_FLAGS_CAPS and the argsz needed.
 */
static long vfio_pci_ioctl_get_info(struct vfio_pci_core_device *vdev,
				    struct vfio_device_info __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info_cap_pci_atomic_comp atomic = {
		.header.id = VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP,
		.header.version = 1,
	};
	struct vfio_info_cap caps = {};
	struct vfio_device_info info = {};
	size_t reply;
	int ret = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	reply = min_t(size_t, info.argsz, sizeof(info));

	info.flags = VFIO_DEVICE_FLAGS_PCI;
	if (vdev->reset_works)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS + vdev->num_regions;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	info.cap_offset = 0;

	atomic.flags = vfio_pci_atomic_comp_flags(vdev->pdev);
	if (atomic.flags) {
		ret = vfio_info_add_capability(&caps, &atomic.header,
					       sizeof(atomic));
		if (ret)
			return ret;
	}

	if (caps.size) {
		info.flags |= VFIO_DEVICE_FLAGS_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
		} else {
			/* Chain offsets count from the start of the reply */
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(arg + 1, caps.buf, caps.size))
				ret = -EFAULT;
			else
				info.cap_offset = sizeof(info);
		}
		kfree(caps.buf);
	}

	if (!ret && copy_to_user(arg, &info, reply))
		ret = -EFAULT;
	return ret;
}

/**
 * vfio_pci_core_ioctl() - vfio_device_ops.ioctl
 * @core_vdev: the vfio_device
 * @cmd: the VFIO_DEVICE_* command
 * @arg: its user pointer
 *
 * Dispatches to the capability that answers @cmd.  A driver that adds
 * ioctls handles its own first and passes the rest here.
 *
 * Return: the command's result, -ENOTTY for an unknown command.
 */
long vfio_pci_core_ioctl(struct vfio_device *core_vdev, unsigned int cmd,
			 unsigned long arg)
{
	struct vfio_pci_core_device *vdev = vfio_pci_core_from_vdev(core_vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vfio_pci_ioctl_get_info(vdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vfio_pci_ioctl_get_region_info(vdev, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vfio_pci_ioctl_get_irq_info(vdev, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vfio_pci_ioctl_set_irqs(vdev, uarg);
	case VFIO_DEVICE_RESET:
		return vfio_pci_ioctl_reset(vdev);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vfio_pci_ioctl_get_hot_reset_info(vdev, uarg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vfio_pci_ioctl_hot_reset(vdev, uarg);
	case VFIO_DEVICE_IOEVENTFD:
		return vfio_pci_ioctl_ioeventfd(vdev, uarg);
	default:
		return -ENOTTY;
	}
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioctl);

/**
 * vfio_pci_core_ioctl_feature() - vfio_device_ops.device_feature
 * @device: the vfio_device
 * @flags: VFIO_DEVICE_FEATURE_* flags and feature index
 * @arg: user pointer to the feature's data
 * @argsz: bytes available at @arg
 *
 * Answers the low-power features and the PCI VF token.  A driver that
 * offers more features (migration, dirty tracking) answers those itself
 * and passes the rest here.
 *
 * Return: the feature's result, -ENOTTY for an unknown feature.
 */
int vfio_pci_core_ioctl_feature(struct vfio_device *device, u32 flags,
				void __user *arg, size_t argsz)
{
	struct vfio_pci_core_device *vdev = vfio_pci_core_from_vdev(device);

	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
	case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		return vfio_pci_feature_power(vdev, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_PCI_VF_TOKEN:
		return vfio_pci_feature_vf_token(vdev, flags, arg, argsz);
	default:
		return -ENOTTY;
	}
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioctl_feature);

/**
 * vfio_pci_core_read() - vfio_device_ops.read
 * @core_vdev: the vfio_device
 * @buf: user buffer
 * @count: bytes to read
 * @ppos: device fd offset: region index in the top bits
 *
 * A read of no bytes returns 0 whatever the offset, as upstream 6.12's.
 *
 * Return: bytes read or a negative errno.
 */
ssize_t vfio_pci_core_read(struct vfio_device *core_vdev, char __user *buf,
			   size_t count, loff_t *ppos)
{
	if (!count)
		return 0;
	return vfio_pci_rw(vfio_pci_core_from_vdev(core_vdev), buf, count,
			   ppos, false);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_read);

/**
 * vfio_pci_core_write() - vfio_device_ops.write
 * @core_vdev: the vfio_device
 * @buf: user buffer
 * @count: bytes to write
 * @ppos: device fd offset: region index in the top bits
 *
 * A write of no bytes returns 0 whatever the offset, as upstream 6.12's.
 *
 * Return: bytes written or a negative errno.
 */
ssize_t vfio_pci_core_write(struct vfio_device *core_vdev,
			    const char __user *buf, size_t count, loff_t *ppos)
{
	if (!count)
		return 0;
	return vfio_pci_rw(vfio_pci_core_from_vdev(core_vdev),
			   (char __user *)buf, count, ppos, true);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_write);

/**
 * vfio_pci_core_request() - vfio_device_ops.request
 * @core_vdev: the vfio_device
 * @count: how many times the removal path has asked so far
 *
 * Asks the user to release the device by signalling the REQ interrupt.
 * Without a REQ eventfd the request is logged (once, then every tenth time)
 * and removal keeps waiting.
 */
void vfio_pci_core_request(struct vfio_device *core_vdev, unsigned int count)
{
	struct vfio_pci_core_device *vdev = vfio_pci_core_from_vdev(core_vdev);

	if (vfio_pci_signal_req(vdev)) {
		if (!(count % 10))
			pci_notice_ratelimited(vdev->pdev,
					       "asking the user to release the device (%u)\n",
					       count);
	} else if (!(count % 10)) {
		pci_notice_ratelimited(vdev->pdev,
				       "removal is waiting; the user has no request eventfd (%u)\n",
				       count);
	}
}
EXPORT_SYMBOL_GPL(vfio_pci_core_request);

/**
 * vfio_pci_parse_match() - split a VFIO_GROUP_GET_DEVICE_FD string
 * @name: the device's name (pci_name())
 * @buf: the string: @name, then any number of options separated by and
 *	perhaps ending in spaces; the only option is "vf_token=<uuid>", at
 *	most once
 * @has_token: set when the string carries a token
 * @uuid: receives the token
 *
 * Return: 1 if @buf names the device, 0 if it names another one (it does
 * not start with @name followed by a space or its end), a negative errno
 * for an unknown, repeated or malformed option.
 */
int vfio_pci_parse_match(const char *name, const char *buf, bool *has_token,
			 uuid_t *uuid)
{
	static const char opt[] = "vf_token=";
	size_t len = strlen(name);
	int ret;

	*has_token = false;
	if (strncmp(buf, name, len))
		return 0;
	buf += len;
	if (*buf && *buf != ' ')
		return 0;

	for (;;) {
		while (*buf == ' ')
			buf++;
		if (!*buf)
			return 1;
		if (*has_token || strncmp(buf, opt, sizeof(opt) - 1))
			return -EINVAL;
		buf += sizeof(opt) - 1;
		/* uuid_parse() reads exactly UUID_STRING_LEN characters */
		if (strnlen(buf, UUID_STRING_LEN) < UUID_STRING_LEN)
			return -EINVAL;
		ret = uuid_parse(buf, uuid);
		if (ret)
			return ret;
		buf += UUID_STRING_LEN;
		if (*buf && *buf != ' ')
			return -EINVAL;
		*has_token = true;
	}
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_parse_match);

/**
 * vfio_pci_core_match() - vfio_device_ops.match
 * @core_vdev: the vfio_device
 * @buf: the string VFIO_GROUP_GET_DEVICE_FD was given: the device name,
 *	optionally followed by " vf_token=<uuid>" (vfio_pci_parse_match())
 *
 * Return: 1 on a match, 0 if @buf names another device, a negative errno if
 * it names this one but the VF token is missing, wrong or malformed.
 */
int vfio_pci_core_match(struct vfio_device *core_vdev, char *buf)
{
	struct vfio_pci_core_device *vdev = vfio_pci_core_from_vdev(core_vdev);
	bool has_token;
	uuid_t uuid;
	int ret;

	ret = vfio_pci_parse_match(pci_name(vdev->pdev), buf, &has_token, &uuid);
	if (ret <= 0)
		return ret;
	ret = vfio_pci_validate_vf_token(vdev, has_token, &uuid);
	return ret ? ret : 1;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_match);

#ifdef CONFIG_VFIO_PCI_CORE_FAULT_INJECTION
/*
 * Test-only fault injection: /sys/kernel/debug/fail_vfio_pci_core/ holds the
 * usual fault attributes (probability, interval, times, ...), and a task's
 * /proc/self/task/<tid>/fail-nth counts these points too.  Only the
 * library's own calls that can fail are points, so a sweep exercises our
 * unwinding without failing allocations deep inside other subsystems.
 */
static DECLARE_FAULT_ATTR(vfio_pci_fault_attr);
static struct dentry *vfio_pci_fault_dir;

bool vfio_pci_fail(void)
{
	return should_fail(&vfio_pci_fault_attr, 1);
}

static void vfio_pci_fault_init(void)
{
	vfio_pci_fault_dir = fault_create_debugfs_attr("fail_vfio_pci_core",
						       NULL,
						       &vfio_pci_fault_attr);
}

static void vfio_pci_fault_exit(void)
{
	debugfs_remove_recursive(vfio_pci_fault_dir);
}
#else
static void vfio_pci_fault_init(void)
{
}

static void vfio_pci_fault_exit(void)
{
}
#endif

static int __init vfio_pci_core_init(void)
{
	int ret;

	ret = vfio_pci_config_perm_init();
	if (ret)
		return ret;
	vfio_pci_fault_init();
	return 0;
}

static void __exit vfio_pci_core_exit(void)
{
	vfio_pci_fault_exit();
	vfio_pci_config_perm_exit();
}

module_init(vfio_pci_core_init);
module_exit(vfio_pci_core_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(DRIVER_DESC);
/* dkms refuses to replace a module whose version equals the kernel's */
MODULE_VERSION("1.0");
MODULE_IMPORT_NS(IOMMUFD);
