// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-core: power states, runtime power management and the low-power
 * device features.
 *
 * Two independent ways lead a function out of D0:
 *
 *  - the user writes the PM capability's PMCSR through emulated config
 *    space; vfio_pci_set_power_state() does the transition, saving config
 *    space on the way down for functions that lose it (NoSoftRst-) and
 *    restoring it on the way back up;
 *
 *  - runtime PM, for drivers that point their dev_pm_ops at
 *    vfio_pci_core_pm_ops: an unused function idles in D3hot (unless
 *    disable_idle_d3), and a user may let an open one suspend through
 *    VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY(_WITH_WAKEUP).  vfio core wraps
 *    every device ioctl in a runtime PM reference, so an ioctl wakes the
 *    function for its duration.
 *
 * Runtime PM usage count of a function bound to an opted-in driver: the PCI
 * core holds one reference from probe to remove; vfio_pci_pm_init() drops
 * it when idle D3 is wanted (pm_idle_d3) and then every session holds one
 * from vfio_pci_pm_open() to vfio_pci_pm_close().  Either way a session
 * runs with exactly one reference, which LOW_POWER_ENTRY hands back
 * (pm_runtime_engaged) and LOW_POWER_EXIT takes again.
 *
 * memory_lock (held for write) guards the power state as seen by BAR
 * accesses, pm_runtime_engaged and pm_wake_eventfd_ctx; pm_intx_masked is
 * only touched by the runtime PM callbacks, which the PM core serialises.
 * INTx masking takes igate inside vfio_pci_intx_mask()/_unmask(): the
 * callbacks hold none of our locks when they call them.
 */
#include <linux/eventfd.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"

/* Whether the driver of @vdev asked for our runtime PM callbacks */
static bool vfio_pci_pm_opted_in(struct vfio_pci_core_device *vdev)
{
	const struct device_driver *drv = vdev->pdev->dev.driver;

	return drv && drv->pm == &vfio_pci_core_pm_ops;
}

/* Whether @state is D3hot or deeper (pci_power_t is __bitwise for sparse) */
static bool vfio_pci_state_is_d3(pci_power_t state)
{
	return (__force int)state >= (__force int)PCI_D3hot &&
	       state != PCI_UNKNOWN;
}

/**
 * vfio_pci_set_power_state_locked() - change the function's power state
 * @vdev: the core device
 * @state: the target state
 *
 * The caller holds memory_lock for write (and has zapped BAR mappings when
 * leaving D0).  A function whose PMCSR reads NoSoftRst- loses its config
 * space on D3hot->D0: save it into pm_save on the way down, restore it on
 * the way up.  The emulated PMCSR is brought in line with the outcome.
 *
 * Return: 0 or a negative errno; -EBUSY for a PF whose VFs are enabled.
 */
int vfio_pci_set_power_state_locked(struct vfio_pci_core_device *vdev,
				    pci_power_t state)
{
	struct pci_dev *pdev = vdev->pdev;
	bool save = false, restore = false;
	int ret;

	lockdep_assert_held_write(&vdev->memory_lock);

	/* VFs cannot work below a PF that is not in D0 */
	if (state != PCI_D0 && vfio_pci_sriov_active(vdev)) {
		ret = -EBUSY;
		goto out_sync;
	}

	if (vdev->needs_pm_restore) {
		save = !vfio_pci_state_is_d3(pdev->current_state) &&
		       vfio_pci_state_is_d3(state);
		restore = vfio_pci_state_is_d3(pdev->current_state) &&
			  state == PCI_D0;
		if (save)
			pci_save_state(pdev);
	}

	ret = pci_set_power_state(pdev, state);
	if (!ret && save && vfio_pci_state_is_d3(pdev->current_state)) {
		/* A stale copy exists if D0 was reached behind our back */
		kfree(vdev->pm_save);
		vdev->pm_save = pci_store_saved_state(pdev);
	} else if (!ret && restore && vdev->pm_save) {
		if (!pci_load_and_free_saved_state(pdev, &vdev->pm_save))
			pci_restore_state(pdev);
	}

out_sync:
	/* What the user reads in PMCSR follows, whoever asked for the move */
	vfio_pci_config_sync_power_state(vdev);
	return ret;
}

/*
 * End a low-power session the user engaged: take back the runtime PM
 * reference handed over at entry and drop the wake-up eventfd.  Does not
 * wake the function; the caller does if it needs to.
 */
static void vfio_pci_low_power_end_locked(struct vfio_pci_core_device *vdev)
{
	lockdep_assert_held_write(&vdev->memory_lock);

	if (!vdev->pm_runtime_engaged)
		return;

	vdev->pm_runtime_engaged = false;
	pm_runtime_get_noresume(&vdev->pdev->dev);
	if (vdev->pm_wake_eventfd_ctx) {
		eventfd_ctx_put(vdev->pm_wake_eventfd_ctx);
		vdev->pm_wake_eventfd_ctx = NULL;
	}
}

/* End any low-power session and wake the function up */
static void vfio_pci_low_power_end(struct vfio_pci_core_device *vdev)
{
	bool was_engaged;

	down_write(&vdev->memory_lock);
	was_engaged = vdev->pm_runtime_engaged;
	vfio_pci_low_power_end_locked(vdev);
	up_write(&vdev->memory_lock);

	if (was_engaged)
		pm_runtime_resume(&vdev->pdev->dev);
}

/**
 * vfio_pci_set_power_state() - change the power state, taking memory_lock
 * @vdev: the core device
 * @state: the target state
 *
 * Zaps every BAR mapping and holds memory_lock for write around a move out
 * of D0, so no user access reaches a function in D3.  A request for D0
 * first ends any low-power session the user engaged and wakes the function
 * through runtime PM: whoever asks for D0 wants the hardware.  The caller
 * holds neither memory_lock nor vconfig_lock.
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_set_power_state(struct vfio_pci_core_device *vdev,
			     pci_power_t state)
{
	int ret;

	if (state == PCI_D0) {
		vfio_pci_low_power_end(vdev);
		down_write(&vdev->memory_lock);
	} else {
		vfio_pci_zap_and_down_write_memory_lock(vdev);
	}
	ret = vfio_pci_set_power_state_locked(vdev, state);
	up_write(&vdev->memory_lock);
	return ret;
}

/**
 * vfio_pci_pm_init() - set up power management at register time
 * @vdev: the core device
 *
 * The PCI core leaves a function whose driver went away in an unknown
 * power state; start from D0.  For drivers that opted in to
 * vfio_pci_core_pm_ops, enable runtime PM and, unless idle D3 is disabled,
 * drop the reference the PCI core took for probe so the unused function
 * suspends to D3hot.
 */
void vfio_pci_pm_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 pmcsr;

	vdev->needs_pm_restore = false;
	if (pdev->pm_cap) {
		pci_read_config_word(pdev, pdev->pm_cap + PCI_PM_CTRL, &pmcsr);
		vdev->needs_pm_restore = !(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET);
	}

	vfio_pci_set_power_state(vdev, PCI_D0);

	vdev->pm_idle_d3 = false;
	if (!vfio_pci_pm_opted_in(vdev))
		return;

	pm_runtime_allow(&pdev->dev);
	if (!vfio_pci_disable_idle_d3) {
		vdev->pm_idle_d3 = true;
		pm_runtime_put(&pdev->dev);
	}
}

/**
 * vfio_pci_pm_exit() - undo vfio_pci_pm_init()
 * @vdev: the core device, no longer open
 *
 * Gives the PCI core back its probe reference and forbids runtime PM again
 * (which wakes the function).
 */
void vfio_pci_pm_exit(struct vfio_pci_core_device *vdev)
{
	struct device *dev = &vdev->pdev->dev;

	if (!vfio_pci_pm_opted_in(vdev))
		return;

	if (vdev->pm_idle_d3) {
		pm_runtime_get_noresume(dev);
		vdev->pm_idle_d3 = false;
	}
	pm_runtime_forbid(dev);
}

/**
 * vfio_pci_pm_open() - keep the function awake for a session
 * @vdev: the core device, being opened
 *
 * Return: 0 or a negative errno when the function cannot be woken.
 */
int vfio_pci_pm_open(struct vfio_pci_core_device *vdev)
{
	if (!vdev->pm_idle_d3)
		return 0;
	return pm_runtime_resume_and_get(&vdev->pdev->dev);
}

/**
 * vfio_pci_pm_close() - end a session: let the function idle again
 * @vdev: the core device, last close
 */
void vfio_pci_pm_close(struct vfio_pci_core_device *vdev)
{
	/* vfio_pci_core_disable() ended any low-power session already */
	down_write(&vdev->memory_lock);
	vfio_pci_low_power_end_locked(vdev);
	up_write(&vdev->memory_lock);

	if (vdev->pm_idle_d3)
		pm_runtime_put(&vdev->pdev->dev);
}

/*
 * Hand the session's runtime PM reference to the PM core; the reference
 * vfio core holds around this ioctl is dropped on return, and the function
 * then suspends once idle.  @wake (may be NULL) is signalled on the first
 * resume after entry, whatever caused it (the user's own ioctls included),
 * as upstream 6.12 does.
 */
static int vfio_pci_low_power_enter(struct vfio_pci_core_device *vdev,
				    struct eventfd_ctx *wake)
{
	/* mmaps are off from entry until exit: zap them now */
	vfio_pci_zap_and_down_write_memory_lock(vdev);
	if (vdev->pm_runtime_engaged) {
		up_write(&vdev->memory_lock);
		return -EINVAL;
	}
	vdev->pm_runtime_engaged = true;
	vdev->pm_wake_eventfd_ctx = wake;
	pm_runtime_put_noidle(&vdev->pdev->dev);
	up_write(&vdev->memory_lock);
	return 0;
}

static int vfio_pci_feature_low_power_entry(struct vfio_pci_core_device *vdev,
					    u32 flags, size_t argsz)
{
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);
	if (ret <= 0)	/* an error, or a PROBE that succeeded */
		return ret;
	return vfio_pci_low_power_enter(vdev, NULL);
}

static int
vfio_pci_feature_low_power_wakeup(struct vfio_pci_core_device *vdev, u32 flags,
				  void __user *arg, size_t argsz)
{
	struct vfio_device_low_power_entry_with_wakeup entry;
	struct eventfd_ctx *wake;
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				 sizeof(entry));
	if (ret <= 0)	/* an error, or a PROBE that succeeded */
		return ret;

	if (copy_from_user(&entry, arg, sizeof(entry)))
		return -EFAULT;
	if (entry.reserved || entry.wakeup_eventfd < 0)
		return -EINVAL;

	wake = vfio_pci_fail() ? ERR_PTR(-EBADF) :
	       eventfd_ctx_fdget(entry.wakeup_eventfd);
	if (IS_ERR(wake))
		return PTR_ERR(wake);

	ret = vfio_pci_low_power_enter(vdev, wake);
	if (ret)
		eventfd_ctx_put(wake);
	return ret;
}

static int vfio_pci_feature_low_power_exit(struct vfio_pci_core_device *vdev,
					   u32 flags, size_t argsz)
{
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);
	if (ret <= 0)	/* an error, or a PROBE that succeeded */
		return ret;

	/*
	 * vfio core already woke the function for this ioctl.  If a wake-up
	 * eventfd was armed, the resume callback has signalled it and ended
	 * the session; exit is then a no-op, as it is without a session.
	 */
	down_write(&vdev->memory_lock);
	vfio_pci_low_power_end_locked(vdev);
	up_write(&vdev->memory_lock);
	return 0;
}

/**
 * vfio_pci_feature_power() - the VFIO_DEVICE_FEATURE_LOW_POWER_* features
 * @vdev: the core device
 * @flags: VFIO_DEVICE_FEATURE_* flags and feature index
 * @arg: user pointer to the feature's data
 * @argsz: bytes available at @arg
 *
 * SET only.  Offered only by drivers using vfio_pci_core_pm_ops: without
 * runtime PM nothing would wake the function for an ioctl.
 *
 * Return: 0 (also for PROBE), -ENOTTY without runtime PM, -EINVAL for bad
 * flags, a short argsz, non-zero reserved data, a bad eventfd or a second
 * entry; -EBADF for an eventfd that is not open.
 */
int vfio_pci_feature_power(struct vfio_pci_core_device *vdev, u32 flags,
			   void __user *arg, size_t argsz)
{
	if (!vfio_pci_pm_opted_in(vdev))
		return -ENOTTY;

	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
		return vfio_pci_feature_low_power_entry(vdev, flags, argsz);
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		return vfio_pci_feature_low_power_wakeup(vdev, flags, arg,
							 argsz);
	case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		return vfio_pci_feature_low_power_exit(vdev, flags, argsz);
	default:
		return -ENOTTY;
	}
}

#ifdef CONFIG_PM
static int vfio_pci_runtime_suspend(struct device *dev)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(dev);

	if (!vdev)
		return 0;

	/*
	 * A user mapping made between LOW_POWER_ENTRY and now must not
	 * survive into D3.  A function the user put in D3hot through PMCSR
	 * goes back to D0 (restoring what NoSoftRst- lost) so the PCI core
	 * saves a proper state before its own D3hot transition.
	 */
	vfio_pci_zap_and_down_write_memory_lock(vdev);
	vfio_pci_set_power_state_locked(vdev, PCI_D0);
	up_write(&vdev->memory_lock);

	/*
	 * Keep an INTx line quiet while the function sleeps.
	 * vfio_pci_intx_mask() takes igate itself and returns true only when
	 * INTx is in use and this call masked it: a line the user masked
	 * already stays as it is, and resume leaves it masked.
	 */
	vdev->pm_intx_masked = vfio_pci_intx_mask(vdev);
	return 0;
}

static int vfio_pci_runtime_resume(struct device *dev)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(dev);

	if (!vdev)
		return 0;

	/*
	 * A session armed with a wake-up eventfd is single shot: this resume
	 * ends it, and the user learns of it through the eventfd.
	 */
	down_write(&vdev->memory_lock);
	if (vdev->pm_runtime_engaged && vdev->pm_wake_eventfd_ctx) {
		eventfd_signal(vdev->pm_wake_eventfd_ctx);
		vfio_pci_low_power_end_locked(vdev);
	}
	up_write(&vdev->memory_lock);

	if (vdev->pm_intx_masked) {
		vdev->pm_intx_masked = false;
		vfio_pci_intx_unmask(vdev);
	}
	return 0;
}
#endif /* CONFIG_PM */

/*
 * Runtime PM only.  System sleep needs nothing from us: the PCI core saves
 * and restores config space around it, and an opened function's user
 * state is the user's business, as on any host suspend.
 */

/**
 * DOC: vfio_pci_core_pm_ops
 *
 * vfio_pci_core_pm_ops - the dev_pm_ops of drivers built on vfio-pci-core
 * (runtime PM callbacks).
 * A driver that points its pci_driver.driver.pm here gets idle D3hot for
 * unused functions and offers the VFIO_DEVICE_FEATURE_LOW_POWER_* features.
 * The callbacks expect the driver data of the device to be its
 * struct vfio_pci_core_device, as vfio_pci_core_register_device() requires.
 */
const struct dev_pm_ops vfio_pci_core_pm_ops = {
	SET_RUNTIME_PM_OPS(vfio_pci_runtime_suspend, vfio_pci_runtime_resume,
			   NULL)
};
EXPORT_SYMBOL_GPL(vfio_pci_core_pm_ops);
