// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-core: function resets, device sets and hot (slot/bus) resets.
 *
 * A function reset (FLR, PM reset, or a bus reset when the function is alone
 * below its bridge) touches one function and is offered through
 * VFIO_DEVICE_RESET.  A hot reset resets a whole slot or a whole secondary
 * bus, and with it every function there.  To coordinate those, every
 * function that one hot reset touches joins the same vfio device set when
 * it is registered; the set's lock then serialises opens, closes and hot
 * resets of all of them.
 *
 * A hot reset is only ever done when every function it touches is in the
 * caller's device set (so bound to a vfio-pci-core driver and coordinating
 * with us), and either requested by a user who proves ownership of every
 * one (VFIO_DEVICE_PCI_HOT_RESET) or when none is open at all (last close,
 * vfio_pci_devset_try_reset()).
 *
 * Locking: dev_set->lock is the outermost lock.  A hot reset then holds the
 * memory_lock of every device of the set for write.  Those rw_semaphores
 * all share one lock class, and lockdep cannot order several locks of one
 * class taken one after another, so they are only ever taken with
 * down_write_trylock() here: on contention the whole set is released and
 * the user gets -EBUSY to retry, as upstream 6.12 does.  (No user memory
 * is touched under memory_lock, see vfio_pci_rdwr.c, so a reader holds one
 * only briefly.)
 */
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"

/**
 * vfio_pci_reset_probe() - what resets the function's hardware offers
 * @vdev: the core device, at register time
 *
 * has_flr and has_pm_reset describe the hardware, for drivers that want to
 * know.  Whether VFIO_DEVICE_RESET is offered (reset_works) is decided at
 * each open by the reset vfio_pci_core_enable() does: the PCI core's list
 * of methods can change through sysfs and a listed method can fail.
 */
void vfio_pci_reset_probe(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 pmcsr;
	u8 af_cap;
	int pos;

	vdev->reset_works = false;

	vdev->has_flr = false;
	if (!(pdev->dev_flags & PCI_DEV_FLAGS_NO_FLR_RESET)) {
		if (pci_is_pcie(pdev) && (pdev->devcap & PCI_EXP_DEVCAP_FLR)) {
			vdev->has_flr = true;
		} else {
			pos = pci_find_capability(pdev, PCI_CAP_ID_AF);
			if (pos) {
				pci_read_config_byte(pdev, pos + PCI_AF_CAP,
						     &af_cap);
				vdev->has_flr = (af_cap & PCI_AF_CAP_TP) &&
						(af_cap & PCI_AF_CAP_FLR);
			}
		}
	}

	vdev->has_pm_reset = false;
	if (pdev->pm_cap && !(pdev->dev_flags & PCI_DEV_FLAGS_NO_PM_RESET)) {
		pci_read_config_word(pdev, pdev->pm_cap + PCI_PM_CTRL, &pmcsr);
		vdev->has_pm_reset = !(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET);
	}
}

/**
 * vfio_pci_devset_assign() - join the device set of a function's hot reset
 * @vdev: the core device, at register time
 *
 * The set is keyed by what a hot reset touches: the slot when it can be
 * reset on its own, else the bus below the upstream bridge.  A function
 * that cannot be hot reset at all (root bus) is a set of its own, and so is
 * a VF: resetting the link under a VF resets its PF and every sibling VF
 * with it, which is never done on a VF's behalf.
 *
 * Return: 0 or a negative errno from vfio_assign_device_set().
 */
int vfio_pci_devset_assign(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	if (pdev->is_virtfn)
		return vfio_assign_device_set(&vdev->vdev, vdev);
	if (!pci_probe_reset_slot(pdev->slot))
		return vfio_assign_device_set(&vdev->vdev, pdev->slot);
	if (!pci_probe_reset_bus(pdev->bus))
		return vfio_assign_device_set(&vdev->vdev, pdev->bus);
	return vfio_assign_device_set(&vdev->vdev, vdev);
}

/*
 * What a hot reset of @pdev touches: the slot when the slot can be reset
 * (*slot set), else the secondary bus below the upstream bridge (*slot
 * NULL) -- the same choice pci_reset_bus() makes.  -ENODEV when neither
 * works, e.g. on a root bus.
 */
static int vfio_pci_hot_reset_scope(struct pci_dev *pdev,
				    struct pci_slot **slot)
{
	if (!pci_probe_reset_slot(pdev->slot)) {
		*slot = pdev->slot;
		return 0;
	}
	*slot = NULL;
	return pci_probe_reset_bus(pdev->bus) ? -ENODEV : 0;
}

/* One walk over the functions a hot reset touches */
struct vfio_pci_scope_walk {
	struct pci_slot *slot;		/* NULL: the whole bus */
	int (*fn)(struct pci_dev *pdev, void *data);
	void *data;
	int ret;			/* first non-zero value of fn */
};

/* Whether @pdev sits in @slot, directly or below a bridge plugged there */
static bool vfio_pci_in_slot(struct pci_dev *pdev, struct pci_slot *slot)
{
	while (pdev->bus != slot->bus) {
		if (pci_is_root_bus(pdev->bus))
			return false;
		pdev = pdev->bus->self;
	}
	return pdev->slot == slot;
}

static int vfio_pci_scope_visit(struct pci_dev *pdev, void *data)
{
	struct vfio_pci_scope_walk *walk = data;

	if (walk->slot && !vfio_pci_in_slot(pdev, walk->slot))
		return 0;
	walk->ret = walk->fn(pdev, walk->data);
	return walk->ret;
}

/*
 * Call walk->fn for every function in scope walk->slot of a hot reset of
 * @pdev; stop at, and return, the first non-zero value it returns.
 * pci_walk_bus() holds pci_bus_sem for read around the walk.
 */
static int vfio_pci_walk_scope(struct pci_dev *pdev,
			       struct vfio_pci_scope_walk *walk)
{
	walk->ret = 0;
	pci_walk_bus(pdev->bus, vfio_pci_scope_visit, walk);
	return walk->ret;
}

static int vfio_pci_scope_count(struct pci_dev *pdev, void *data)
{
	unsigned int *count = data;

	(*count)++;
	return 0;
}

/* How many functions a hot reset of @pdev with scope @slot touches */
static unsigned int vfio_pci_scope_size(struct pci_dev *pdev,
					struct pci_slot *slot)
{
	unsigned int count = 0;
	struct vfio_pci_scope_walk walk = {
		.slot = slot,
		.fn = vfio_pci_scope_count,
		.data = &count,
	};

	vfio_pci_walk_scope(pdev, &walk);
	return count;
}

/* The core device behind a member of one of our device sets, or NULL */
static struct vfio_pci_core_device *
vfio_pci_devset_member(struct vfio_device *cur)
{
	struct vfio_pci_core_device *vdev = vfio_pci_core_from_vdev(cur);

	/*
	 * Only vfio-pci-core drivers key a set by a pci_slot, a pci_bus or a
	 * core device, so every member is one of ours.  Registration insists
	 * that the driver data of the PCI device is the core device: check
	 * that much before treating the member as one.
	 */
	if (!dev_is_pci(cur->dev) || dev_get_drvdata(cur->dev) != vdev)
		return NULL;
	return vdev;
}

static int vfio_pci_scope_in_devset(struct pci_dev *pdev, void *data)
{
	struct vfio_device_set *dev_set = data;
	struct vfio_device *cur;

	cur = vfio_find_device_in_devset(dev_set, &pdev->dev);
	if (!cur || !vfio_pci_devset_member(cur))
		return -EBUSY;
	return 0;
}

/*
 * Whether a hot reset of @pdev is possible, every member of @dev_set is a
 * core device and the reset touches nothing outside @dev_set.  Functions
 * bound to other drivers (or to none) would be reset behind their back,
 * and are not serialised by dev_set->lock.
 */
static bool vfio_pci_devset_resettable(struct vfio_device_set *dev_set,
				       struct pci_dev *pdev)
{
	struct vfio_pci_scope_walk walk = {
		.fn = vfio_pci_scope_in_devset,
		.data = dev_set,
	};
	struct vfio_device *cur;

	lockdep_assert_held(&dev_set->lock);

	list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
		if (!vfio_pci_devset_member(cur))
			return false;

	if (vfio_pci_hot_reset_scope(pdev, &walk.slot))
		return false;
	return !vfio_pci_walk_scope(pdev, &walk);
}

/*
 * Wake every device of the set through runtime PM and keep it awake until
 * vfio_pci_devset_pm_put(): a hot reset reaches all of them.
 */
static int vfio_pci_devset_pm_get(struct vfio_device_set *dev_set)
{
	struct vfio_device *cur;
	int ret;

	lockdep_assert_held(&dev_set->lock);

	list_for_each_entry(cur, &dev_set->device_list, dev_set_list) {
		ret = pm_runtime_resume_and_get(cur->dev);
		if (ret)
			goto out_put;
	}
	return 0;

out_put:
	list_for_each_entry_continue_reverse(cur, &dev_set->device_list,
					     dev_set_list)
		pm_runtime_put(cur->dev);
	return ret;
}

static void vfio_pci_devset_pm_put(struct vfio_device_set *dev_set)
{
	struct vfio_device *cur;

	lockdep_assert_held(&dev_set->lock);

	list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
		pm_runtime_put(cur->dev);
}

/*
 * Reset one function with its BAR mappings zapped and memory_lock held for
 * write, so no user access reaches it mid-reset.  The function is brought
 * to D0 first: the PM and FLR methods need it there, and D3 entry may have
 * saved state that only our D0 transition restores.
 */
static int vfio_pci_reset_function(struct vfio_pci_core_device *vdev)
{
	int ret;

	vfio_pci_zap_and_down_write_memory_lock(vdev);
	/* As for a hot reset: a function stuck out of D0 is reset anyway */
	vfio_pci_set_power_state_locked(vdev, PCI_D0);
	ret = pci_try_reset_function(vdev->pdev);
	vfio_pci_config_sync_power_state(vdev);
	up_write(&vdev->memory_lock);
	return ret;
}

/**
 * vfio_pci_ioctl_reset() - VFIO_DEVICE_RESET
 * @vdev: the core device
 *
 * Return: 0, -EINVAL when the function has no reset method, -EAGAIN when
 * the PCI device lock is contended, or another negative errno from the
 * reset.
 */
long vfio_pci_ioctl_reset(struct vfio_pci_core_device *vdev)
{
	int ret;

	if (!vdev->reset_works)
		return -EINVAL;

	ret = vfio_pci_reset_function(vdev);
	if (!ret)
		vfio_pci_msix_restore(vdev);
	return ret;
}

/**
 * vfio_pci_function_reset() - reset the function for an emulated FLR
 * @vdev: the core device
 *
 * What a write of Initiate FLR in the emulated config space triggers.  The
 * caller must hold neither memory_lock nor vconfig_lock.
 *
 * Return: 0 or a negative errno from the reset.
 */
int vfio_pci_function_reset(struct vfio_pci_core_device *vdev)
{
	return vfio_pci_reset_function(vdev);
}

/* Filling VFIO_DEVICE_GET_PCI_HOT_RESET_INFO's array */
struct vfio_pci_info_fill {
	struct vfio_pci_dependent_device *devices;
	unsigned int max;		/* entries allocated */
	unsigned int count;		/* entries filled */
	/* devid form: the caller's device set and iommufd; group form: NULL */
	struct iommufd_ctx *ictx;
	struct vfio_device_set *dev_set;
	bool all_owned;			/* devid form: no entry NOT_OWNED */
};

/*
 * The devid of @pdev as the iommufd @ictx knows it: its bound device id,
 * VFIO_PCI_DEVID_OWNED when it is not bound there but its IOMMU group is
 * (so nobody else can own it), else VFIO_PCI_DEVID_NOT_OWNED.  A function
 * outside the caller's device set is never owned: a hot reset would touch
 * a function that does not coordinate with us.
 */
static u32 vfio_pci_devid_of(struct vfio_pci_info_fill *fill,
			     struct pci_dev *pdev)
{
	struct vfio_device *cur;
	int id;

	lockdep_assert_held(&fill->dev_set->lock);

	cur = vfio_find_device_in_devset(fill->dev_set, &pdev->dev);
	/* No iommufd: a no-IOMMU cdev owns nothing */
	if (!cur || !fill->ictx)
		return VFIO_PCI_DEVID_NOT_OWNED;
	id = vfio_iommufd_get_dev_id(cur, fill->ictx);
	if (id > 0)
		return id;
	return id == -ENOENT ? VFIO_PCI_DEVID_OWNED : VFIO_PCI_DEVID_NOT_OWNED;
}

static int vfio_pci_scope_fill(struct pci_dev *pdev, void *data)
{
	struct vfio_pci_info_fill *fill = data;
	struct vfio_pci_dependent_device *dep;
	struct iommu_group *group;

	/* A function appeared since the scope was counted */
	if (fill->count == fill->max)
		return -EAGAIN;

	dep = &fill->devices[fill->count];
	if (fill->dev_set) {
		dep->devid = vfio_pci_devid_of(fill, pdev);
		if (dep->devid == VFIO_PCI_DEVID_NOT_OWNED)
			fill->all_owned = false;
	} else {
		/* A function without an IOMMU group can never be owned */
		group = iommu_group_get(&pdev->dev);
		if (!group)
			return -EPERM;
		dep->group_id = iommu_group_id(group);
		iommu_group_put(group);
	}
	dep->segment = pci_domain_nr(pdev->bus);
	dep->bus = pdev->bus->number;
	dep->devfn = pdev->devfn;
	fill->count++;
	return 0;
}

/**
 * vfio_pci_ioctl_get_hot_reset_info() - VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * @vdev: the core device
 * @arg: user's struct vfio_pci_hot_reset_info, followed by room for
 *	(argsz - header) / sizeof(struct vfio_pci_dependent_device) entries
 *
 * Lists every function a hot reset of @vdev touches.  For a device opened
 * through a vfio group each entry names the function's IOMMU group (flags
 * 0).  For a device opened through its cdev and bound to an iommufd, each
 * names the function's device id in that iommufd, VFIO_PCI_DEVID_OWNED or
 * VFIO_PCI_DEVID_NOT_OWNED (flag VFIO_PCI_HOT_RESET_FLAG_DEV_ID); flag
 * VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED tells that no entry is
 * NOT_OWNED, so a VFIO_DEVICE_PCI_HOT_RESET with count 0 may succeed.
 * When the user's array is too small, only the header is written back,
 * with count set to the number of entries needed.
 *
 * Return: 0, -ENOSPC when the array is too small, -ENODEV when the
 * function cannot be hot reset, -EINVAL for a short argsz, -EFAULT.
 */
long vfio_pci_ioctl_get_hot_reset_info(struct vfio_pci_core_device *vdev,
				       struct vfio_pci_hot_reset_info __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_info_fill fill = {};
	struct vfio_pci_scope_walk walk = {
		.fn = vfio_pci_scope_fill,
		.data = &fill,
	};
	struct vfio_pci_hot_reset_info hdr;
	struct pci_dev *pdev = vdev->pdev;
	struct pci_slot *slot;
	unsigned int needed;
	size_t room;
	long ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;

	ret = vfio_pci_hot_reset_scope(pdev, &slot);
	if (ret)
		return ret;

	/* The function itself is always in scope */
	needed = vfio_pci_scope_size(pdev, slot);
	if (!needed)
		return -ENODEV;

	hdr.flags = 0;
	room = (hdr.argsz - minsz) / sizeof(*fill.devices);
	if (needed > room) {
		hdr.count = needed;
		return copy_to_user(arg, &hdr, minsz) ? -EFAULT : -ENOSPC;
	}

	fill.devices = vfio_pci_fail() ? NULL :
		       kcalloc(needed, sizeof(*fill.devices), GFP_KERNEL);
	if (!fill.devices)
		return -ENOMEM;
	fill.max = needed;

	walk.slot = slot;
	if (vfio_device_cdev_opened(&vdev->vdev)) {
		fill.ictx = vfio_iommufd_device_ictx(&vdev->vdev);
		fill.dev_set = vdev->vdev.dev_set;
		fill.all_owned = true;
		/* Membership and bindings stay put while the set is locked */
		mutex_lock(&fill.dev_set->lock);
		ret = vfio_pci_walk_scope(pdev, &walk);
		mutex_unlock(&fill.dev_set->lock);
		hdr.flags = VFIO_PCI_HOT_RESET_FLAG_DEV_ID;
		if (fill.all_owned)
			hdr.flags |= VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
	} else {
		ret = vfio_pci_walk_scope(pdev, &walk);
	}
	if (ret)
		goto out_free;

	hdr.count = fill.count;
	if (copy_to_user(arg->devices, fill.devices,
			 fill.count * sizeof(*fill.devices)) ||
	    copy_to_user(arg, &hdr, minsz))
		ret = -EFAULT;

out_free:
	kfree(fill.devices);
	return ret;
}

/* Whether one of the user's group files holds @cur */
static bool vfio_pci_groups_have(struct file **groups, unsigned int count,
				 struct vfio_device *cur)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		if (vfio_file_has_dev(groups[i], cur))
			return true;
	return false;
}

/*
 * Whether the user owns @cur, a device of the set.  With @ictx (the cdev
 * form) it is owned when bound to that iommufd, or when its IOMMU group is
 * (no other iommufd can then bind it); otherwise one of the group files the
 * user passed must hold it.
 */
static bool vfio_pci_user_owns(struct vfio_device *cur, struct iommufd_ctx *ictx,
			       struct file **groups, unsigned int count)
{
	int id;

	if (ictx) {
		/* The binding stays put only while the set is locked */
		lockdep_assert_held(&cur->dev_set->lock);
		id = vfio_iommufd_get_dev_id(cur, ictx);
		return id > 0 || id == -ENOENT;
	}
	return vfio_pci_groups_have(groups, count, cur);
}

/*
 * Reset the slot or bus of @vdev for a user holding @groups, or, with
 * @ictx, for the user of that iommufd.  Every device of the set, open or
 * not, must be owned by the user (vfio_pci_user_owns()): a user may not
 * reset a device it does not own even while nobody uses it.
 * dev_set->lock keeps every device of the set from being opened, bound or
 * unbound meanwhile.
 */
static int vfio_pci_devset_hot_reset(struct vfio_pci_core_device *vdev,
				     struct file **groups, unsigned int count,
				     struct iommufd_ctx *ictx)
{
	struct vfio_device_set *dev_set = vdev->vdev.dev_set;
	struct vfio_pci_core_device *core;
	struct vfio_device *cur;
	int ret;

	mutex_lock(&dev_set->lock);

	if (!vfio_pci_devset_resettable(dev_set, vdev->pdev)) {
		ret = -EINVAL;
		goto out_unlock;
	}

	list_for_each_entry(cur, &dev_set->device_list, dev_set_list) {
		if (!vfio_pci_user_owns(cur, ictx, groups, count)) {
			ret = -EINVAL;
			goto out_unlock;
		}
	}

	ret = vfio_pci_devset_pm_get(dev_set);
	if (ret)
		goto out_unlock;

	list_for_each_entry(cur, &dev_set->device_list, dev_set_list) {
		core = vfio_pci_core_from_vdev(cur);
		if (!down_write_trylock(&core->memory_lock)) {
			ret = -EBUSY;
			goto out_up;
		}
		vfio_pci_zap_bars(core);
	}

	/*
	 * A function that does not come back to D0 is the one a reset may
	 * recover: reset the bus anyway, then let every emulated PMCSR say
	 * where its function ended up.
	 */
	list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
		vfio_pci_set_power_state_locked(vfio_pci_core_from_vdev(cur),
						PCI_D0);
	ret = pci_reset_bus(vdev->pdev);
	list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
		vfio_pci_config_sync_power_state(vfio_pci_core_from_vdev(cur));

	/* Every memory_lock is held: release them all, last first */
	cur = list_last_entry(&dev_set->device_list, struct vfio_device,
			      dev_set_list);
	up_write(&vfio_pci_core_from_vdev(cur)->memory_lock);
out_up:
	list_for_each_entry_continue_reverse(cur, &dev_set->device_list,
					     dev_set_list)
		up_write(&vfio_pci_core_from_vdev(cur)->memory_lock);
	vfio_pci_devset_pm_put(dev_set);

	if (!ret) {
		list_for_each_entry(cur, &dev_set->device_list, dev_set_list) {
			core = vfio_pci_core_from_vdev(cur);
			core->needs_reset = false;
			vfio_pci_msix_restore(core);
		}
	}
out_unlock:
	mutex_unlock(&dev_set->lock);
	return ret;
}

/**
 * vfio_pci_ioctl_hot_reset() - VFIO_DEVICE_PCI_HOT_RESET
 * @vdev: the core device
 * @arg: user's struct vfio_pci_hot_reset with count group fds
 *
 * Resets the slot or bus of @vdev.  A user of a group-opened device passes
 * the fds of the groups of every device that reset touches (see
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO).  A user of a cdev-opened device
 * passes none (count 0): its iommufd must own every one of them.  Each form
 * is refused for the other kind of opening.
 *
 * Return: 0; -EINVAL for bad argsz/flags/count, a fd that is not a vfio
 * group, a device the groups do not cover or a function outside the device
 * set; -EBADF for a fd that is not open; -ENODEV when the function cannot
 * be hot reset; -EBUSY when a device of the set is busy; -EAGAIN when a
 * PCI device lock is contended.
 */
long vfio_pci_ioctl_hot_reset(struct vfio_pci_core_device *vdev,
			      struct vfio_pci_hot_reset __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_pci_hot_reset hdr;
	struct file **groups;
	unsigned int i, got;
	struct pci_slot *slot;
	s32 *fds;
	long ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	/* An empty array is the cdev form, and only that */
	if (!hdr.count != vfio_device_cdev_opened(&vdev->vdev))
		return -EINVAL;

	ret = vfio_pci_hot_reset_scope(vdev->pdev, &slot);
	if (ret)
		return ret;
	if (!hdr.count)
		return vfio_pci_devset_hot_reset(vdev, NULL, 0,
						 vfio_iommufd_device_ictx(&vdev->vdev));

	/*
	 * Each touched function is in one group, so more fds than functions
	 * cannot be needed: this bounds the copy before anything is
	 * allocated.  The array must also fit in argsz.
	 */
	if (hdr.count > vfio_pci_scope_size(vdev->pdev, slot))
		return -EINVAL;
	if ((hdr.argsz - minsz) / sizeof(*fds) < hdr.count)
		return -EINVAL;

	fds = memdup_array_user(arg->group_fds, hdr.count, sizeof(*fds));
	if (IS_ERR(fds))
		return PTR_ERR(fds);

	groups = vfio_pci_fail() ? NULL :
		 kcalloc(hdr.count, sizeof(*groups), GFP_KERNEL);
	if (!groups) {
		ret = -ENOMEM;
		goto out_fds;
	}

	/* Hold every group file so no group goes away during the reset */
	for (got = 0; got < hdr.count; got++) {
		groups[got] = fget(fds[got]);
		if (!groups[got]) {
			ret = -EBADF;
			goto out_fput;
		}
		if (!vfio_file_is_group(groups[got])) {
			fput(groups[got]);
			ret = -EINVAL;
			goto out_fput;
		}
	}

	ret = vfio_pci_devset_hot_reset(vdev, groups, hdr.count, NULL);

out_fput:
	for (i = 0; i < got; i++)
		fput(groups[i]);
	kfree(groups);
out_fds:
	kfree(fds);
	return ret;
}

/**
 * vfio_pci_devset_try_reset() - hot reset an idle, dirty device set
 * @vdev: the core device being closed for the last time
 *
 * Called by vfio_pci_core_disable() from close_device, with dev_set->lock
 * held.  vfio core drops the closing device's open_count only after
 * close_device returns, so the set is idle when the open counts add up to
 * one.  Then, if some device of the set still needs a reset (its function
 * reset failed or does not exist) and the slot or bus reset touches only
 * devices of the set, do that reset for all of them.
 */
void vfio_pci_devset_try_reset(struct vfio_pci_core_device *vdev)
{
	struct vfio_device_set *dev_set = vdev->vdev.dev_set;
	struct vfio_device *cur;
	bool dirty = false;

	lockdep_assert_held(&dev_set->lock);

	if (vfio_device_set_open_count(dev_set) > 1)
		return;

	if (!vfio_pci_devset_resettable(dev_set, vdev->pdev))
		return;

	list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
		dirty |= vfio_pci_core_from_vdev(cur)->needs_reset;
	if (!dirty)
		return;

	if (vfio_pci_devset_pm_get(dev_set))
		return;

	if (!pci_reset_bus(vdev->pdev)) {
		list_for_each_entry(cur, &dev_set->device_list, dev_set_list)
			vfio_pci_core_from_vdev(cur)->needs_reset = false;
	}

	vfio_pci_devset_pm_put(dev_set);
}
