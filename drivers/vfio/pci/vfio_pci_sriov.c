// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-core: SR-IOV physical functions and the VF token.
 *
 * A PF owned by a vfio user can see, disturb and reset what its VFs do.
 * Whoever opens one of its VFs must therefore trust the PF's user, and says
 * so by presenting a shared secret, the VF token (a UUID), when opening the
 * VF ("0000:01:00.1 vf_token=<uuid>").  The PF's user sets the token through
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN at any time, or by presenting one when
 * opening the PF while no VF is in use; while VFs are in use, opening the
 * PF requires the current token, so a new PF user cannot silently replace a
 * trusted one.
 *
 * Every PF with the SR-IOV capability registered with the library gets a
 * token and is listed in vfio_pci_pfs.  A VF registered while its PF is on
 * that list records the PF in sriov_pf_core_dev: the list, not a guess about
 * the PF's driver data, is what tells that the PF is one of our devices.
 * VFs only exist while the PF enabled them through
 * vfio_pci_core_sriov_configure() (a PF with VFs already enabled is not
 * accepted), and vfio_pci_sriov_remove_vfs() disables them before the PF is
 * unregistered, so a VF never outlives the PF and token it points to.
 */
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>

#include "vfio_pci_priv.h"

/**
 * struct vfio_pci_vf_token - the VF token of one PF
 * @lock: guards @uuid, @users and @draining
 * @uuid: the token
 * @users: VFs of this PF currently opened by a user
 * @draining: VFs are being disabled; opening one is refused
 * @active: VFs are enabled; written under the PF's memory_lock for write,
 *	read under it (power transitions) or under the PF's device lock
 * @pf: the PF
 * @node: entry in vfio_pci_pfs
 */
struct vfio_pci_vf_token {
	struct mutex			lock;		/* uuid, users, draining */
	uuid_t				uuid;
	unsigned int			users;
	bool				draining;
	bool				active;
	struct vfio_pci_core_device	*pf;
	struct list_head		node;
};

/* Every SR-IOV PF registered with the library; guarded by vfio_pci_pfs_lock */
static LIST_HEAD(vfio_pci_pfs);
static DEFINE_MUTEX(vfio_pci_pfs_lock);

/* The core device of @physfn if it is a PF registered with us */
static struct vfio_pci_core_device *vfio_pci_find_pf(struct pci_dev *physfn)
{
	struct vfio_pci_core_device *pf = NULL;
	struct vfio_pci_vf_token *token;

	mutex_lock(&vfio_pci_pfs_lock);
	list_for_each_entry(token, &vfio_pci_pfs, node) {
		if (token->pf->pdev == physfn) {
			pf = token->pf;
			break;
		}
	}
	mutex_unlock(&vfio_pci_pfs_lock);
	return pf;
}

/*
 * VFs of our PF: as each appears, make it bind to the PF's driver rather
 * than to a host driver that would trust the PF's user blindly; complain
 * when one ends up with another driver anyway.
 */
static int vfio_pci_sriov_notify(struct notifier_block *nb,
				 unsigned long action, void *data)
{
	struct vfio_pci_core_device *vdev =
		container_of(nb, struct vfio_pci_core_device, nb);
	struct pci_driver *pf_drv = pci_dev_driver(vdev->pdev);
	struct device *dev = data;
	struct pci_driver *vf_drv;
	struct pci_dev *vf;

	if (!dev_is_pci(dev))
		return NOTIFY_DONE;
	vf = to_pci_dev(dev);
	if (!vf->is_virtfn || pci_physfn(vf) != vdev->pdev || !pf_drv)
		return NOTIFY_DONE;

	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		if (device_set_driver_override(dev, pf_drv->name))
			pci_warn(vdev->pdev, "cannot steer VF %s to %s\n",
				 pci_name(vf), pf_drv->name);
		else
			pci_info(vdev->pdev, "VF %s will bind to %s\n",
				 pci_name(vf), pf_drv->name);
		break;
	case BUS_NOTIFY_BOUND_DRIVER:
		vf_drv = pci_dev_driver(vf);
		if (vf_drv && vf_drv != pf_drv)
			pci_warn(vdev->pdev,
				 "VF %s is bound to %s, not to the PF's %s: it trusts a vfio user\n",
				 pci_name(vf), vf_drv->name, pf_drv->name);
		break;
	}
	return NOTIFY_OK;
}

/**
 * vfio_pci_sriov_init() - SR-IOV set-up at register time
 * @vdev: the core device
 *
 * A VF looks its PF up among the PFs registered with the library.  A PF
 * with the SR-IOV capability gets a VF token (a random UUID nobody knows
 * until the PF's user sets one) and a PCI bus notifier that steers its VFs
 * to the PF's driver.
 *
 * Return: 0, -EBUSY for a PF whose VFs are already enabled (they may be in
 * use and could not be tracked), -ENOMEM, or an error from the notifier
 * registration.
 */
int vfio_pci_sriov_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_vf_token *token;
	int ret;

	if (pdev->is_virtfn) {
		vdev->sriov_pf_core_dev = vfio_pci_find_pf(pci_physfn(pdev));
		return 0;
	}
	if (!pdev->is_physfn)
		return 0;

	if (pci_num_vf(pdev)) {
		pci_warn(pdev, "VFs are enabled already; disable them before binding\n");
		return -EBUSY;
	}

	token = vfio_pci_fail() ? NULL : kzalloc(sizeof(*token), GFP_KERNEL);
	if (!token)
		return -ENOMEM;
	mutex_init(&token->lock);
	uuid_gen(&token->uuid);
	token->pf = vdev;

	vdev->nb.notifier_call = vfio_pci_sriov_notify;
	ret = bus_register_notifier(&pci_bus_type, &vdev->nb);
	if (ret)
		goto out_free;

	vdev->vf_token = token;
	mutex_lock(&vfio_pci_pfs_lock);
	list_add_tail(&token->node, &vfio_pci_pfs);
	mutex_unlock(&vfio_pci_pfs_lock);
	return 0;

out_free:
	mutex_destroy(&token->lock);
	kfree(token);
	return ret;
}

/*
 * Disable the VFs of a PF, waiting for their users: removing a VF unbinds
 * its driver, whose unregistration asks the VF's user to close it (the
 * VF's REQ interrupt) and waits until it has.  While this runs, VF opens
 * are refused (draining).  The PF's device lock is held.
 */
static void vfio_pci_sriov_disable(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_vf_token *token = vdev->vf_token;
	struct pci_dev *pdev = vdev->pdev;

	if (!token->active)
		return;

	mutex_lock(&token->lock);
	token->draining = true;
	mutex_unlock(&token->lock);

	pci_disable_sriov(pdev);

	down_write(&vdev->memory_lock);
	token->active = false;
	up_write(&vdev->memory_lock);

	mutex_lock(&token->lock);
	token->draining = false;
	mutex_unlock(&token->lock);

	/* The reference taken when the VFs were enabled */
	pm_runtime_put(&pdev->dev);
}

/**
 * vfio_pci_sriov_remove_vfs() - a PF is being removed: its VFs go first
 * @vdev: the core device; its device lock is held (the driver's remove)
 *
 * Disables the VFs while the PF is still registered, waiting for each VF's
 * user to close it (each is asked through its own REQ interrupt).  Only
 * then is the PF's user asked to let go, so a PF user that keeps the PF
 * open while its VFs are in use is not asked first, as in upstream 6.12.
 */
void vfio_pci_sriov_remove_vfs(struct vfio_pci_core_device *vdev)
{
	if (vdev->vf_token)
		vfio_pci_sriov_disable(vdev);
}

/**
 * vfio_pci_sriov_exit() - undo vfio_pci_sriov_init()
 * @vdev: the core device, no longer open
 *
 * A PF's VFs are normally gone already (vfio_pci_sriov_remove_vfs() at
 * unregister); on the register error path they are disabled here, so no
 * VF is left pointing at the PF.
 */
void vfio_pci_sriov_exit(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_vf_token *token = vdev->vf_token;

	vdev->sriov_pf_core_dev = NULL;
	if (!token)
		return;

	vfio_pci_sriov_disable(vdev);
	bus_unregister_notifier(&pci_bus_type, &vdev->nb);

	mutex_lock(&vfio_pci_pfs_lock);
	list_del(&token->node);
	mutex_unlock(&vfio_pci_pfs_lock);

	vdev->vf_token = NULL;
	mutex_destroy(&token->lock);
	kfree(token);
}

/**
 * vfio_pci_sriov_active() - whether a PF has its VFs enabled
 * @vdev: the core device
 *
 * The caller holds memory_lock (power transitions ask this).
 *
 * Return: true for a PF whose VFs were enabled through
 * vfio_pci_core_sriov_configure() and not disabled since.
 */
bool vfio_pci_sriov_active(struct vfio_pci_core_device *vdev)
{
	lockdep_assert_held(&vdev->memory_lock);

	return vdev->vf_token && vdev->vf_token->active;
}

/* A VF: the PF's user must be trusted, by presenting the PF's token */
static int vfio_pci_validate_vf(struct vfio_pci_core_device *vdev,
				bool has_token, uuid_t *uuid)
{
	struct vfio_pci_core_device *pf = vdev->sriov_pf_core_dev;
	struct vfio_pci_vf_token *token;
	int ret = 0;

	if (!pf) {
		/* The PF has a host driver: nothing to agree on */
		if (!has_token)
			return 0;
		pci_info_ratelimited(vdev->pdev,
				     "vf_token given, but the PF is not a vfio device\n");
		return -EINVAL;
	}

	if (!has_token) {
		pci_info_ratelimited(vdev->pdev,
				     "the PF is a vfio device: vf_token required\n");
		return -EACCES;
	}

	token = pf->vf_token;
	mutex_lock(&token->lock);
	if (token->draining)
		ret = -EBUSY;
	else if (!uuid_equal(uuid, &token->uuid))
		ret = -EACCES;
	mutex_unlock(&token->lock);

	if (ret == -EACCES)
		pci_info_ratelimited(vdev->pdev, "wrong vf_token\n");
	return ret;
}

/* A PF: VFs in use require their token; otherwise a token sets it */
static int vfio_pci_validate_pf(struct vfio_pci_core_device *vdev,
				bool has_token, uuid_t *uuid)
{
	struct vfio_pci_vf_token *token = vdev->vf_token;
	int ret = 0;

	mutex_lock(&token->lock);
	if (token->users) {
		if (!has_token || !uuid_equal(uuid, &token->uuid))
			ret = -EACCES;
	} else if (has_token) {
		uuid_copy(&token->uuid, uuid);
	}
	mutex_unlock(&token->lock);

	if (ret)
		pci_info_ratelimited(vdev->pdev,
				     "VFs are in use: their vf_token is required\n");
	return ret;
}

/**
 * vfio_pci_validate_vf_token() - check the vf_token of an open request
 * @vdev: the core device whose name matched
 * @vf_token: whether the request carried " vf_token=<uuid>"
 * @uuid: the parsed token when @vf_token
 *
 * A VF whose PF is ours needs the PF's token.  A PF needs its token only
 * while some of its VFs are open; otherwise a token given sets it.  A token
 * given to anything else is refused.
 *
 * Return: 0 when the open may proceed, -EACCES for a missing or wrong
 * token, -EINVAL for a token where none applies, -EBUSY while the PF is
 * disabling its VFs.
 */
int vfio_pci_validate_vf_token(struct vfio_pci_core_device *vdev,
			       bool vf_token, uuid_t *uuid)
{
	if (vdev->pdev->is_virtfn)
		return vfio_pci_validate_vf(vdev, vf_token, uuid);
	if (vdev->vf_token)
		return vfio_pci_validate_pf(vdev, vf_token, uuid);
	if (!vf_token)
		return 0;
	pci_info_ratelimited(vdev->pdev,
			     "vf_token given, but this is neither a PF nor a VF\n");
	return -EINVAL;
}

/**
 * vfio_pci_feature_vf_token() - VFIO_DEVICE_FEATURE_PCI_VF_TOKEN
 * @vdev: the core device
 * @flags: VFIO_DEVICE_FEATURE_* flags and feature index
 * @arg: user pointer to the 16-byte UUID
 * @argsz: bytes available at @arg
 *
 * SET only: reading the token back would hand a previous user's secret to
 * the next one.  Offered by SR-IOV PFs only.  Allowed while VFs are open,
 * as upstream: the PF's user may replace the token at any time.  The token
 * is checked when a VF or the PF is opened, so VFs already open keep
 * running and only later opens need the new token.
 *
 * Return: 0 (also for PROBE), -ENOTTY when @vdev is not an SR-IOV PF,
 * -EINVAL for bad flags or a short argsz, -EFAULT.
 */
int vfio_pci_feature_vf_token(struct vfio_pci_core_device *vdev, u32 flags,
			      void __user *arg, size_t argsz)
{
	struct vfio_pci_vf_token *token = vdev->vf_token;
	uuid_t uuid;
	int ret;

	if (!token)
		return -ENOTTY;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				 sizeof(uuid));
	if (ret <= 0)	/* an error, or a PROBE that succeeded */
		return ret;

	if (copy_from_user(&uuid, arg, sizeof(uuid)))
		return -EFAULT;

	mutex_lock(&token->lock);
	uuid_copy(&token->uuid, &uuid);
	mutex_unlock(&token->lock);
	return 0;
}

/**
 * vfio_pci_sriov_open() - a session starts: count VF users at the PF
 * @vdev: the core device
 */
void vfio_pci_sriov_open(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_core_device *pf = vdev->sriov_pf_core_dev;

	if (!pf)
		return;

	mutex_lock(&pf->vf_token->lock);
	if (!vdev->sriov_vf_counted) {
		pf->vf_token->users++;
		vdev->sriov_vf_counted = true;
	}
	mutex_unlock(&pf->vf_token->lock);
}

/**
 * vfio_pci_sriov_close() - a session ends: undo vfio_pci_sriov_open()
 * @vdev: the core device
 *
 * Only a session that vfio_pci_sriov_open() counted is uncounted: a driver
 * that called vfio_pci_core_enable(), failed its own set-up and called
 * vfio_pci_core_disable() without vfio_pci_core_finish_enable() in between
 * must not take a user away from another VF of the same PF.
 */
void vfio_pci_sriov_close(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_core_device *pf = vdev->sriov_pf_core_dev;

	if (!pf)
		return;

	mutex_lock(&pf->vf_token->lock);
	if (vdev->sriov_vf_counted) {
		pf->vf_token->users--;
		vdev->sriov_vf_counted = false;
	}
	mutex_unlock(&pf->vf_token->lock);
}

/**
 * vfio_pci_core_sriov_configure() - pci_driver.sriov_configure for drivers
 *	that let users enable the VFs of a PF they own
 * @vdev: the PF's core device
 * @nr_virtfn: VFs to enable, 0 to disable them
 *
 * Called with the PF's device lock held (writes to sriov_numvfs).  The PF
 * is kept in D0, awake through runtime PM, while its VFs exist; each VF
 * appears with a driver_override naming the PF's driver.  Disabling waits
 * for the users of open VFs, each asked to close its VF through the VF's
 * REQ interrupt, as upstream (the same wait as the PF's removal).  The
 * wait holds the PF's device lock and the PCI core's rescan/remove lock: a
 * writer that itself holds one of the VFs open waits for itself.
 *
 * Return: @nr_virtfn after enabling, 0 after disabling, or a negative
 * errno: -EBUSY when VFs are enabled already, -EINVAL for a negative
 * count, -ENODEV when @vdev is not an SR-IOV PF, or an error from the PCI
 * core.
 */
int vfio_pci_core_sriov_configure(struct vfio_pci_core_device *vdev,
				  int nr_virtfn)
{
	struct vfio_pci_vf_token *token = vdev->vf_token;
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	device_lock_assert(&pdev->dev);

	if (!token)
		return nr_virtfn ? -ENODEV : 0;
	if (nr_virtfn < 0)
		return -EINVAL;
	if (!nr_virtfn) {
		vfio_pci_sriov_disable(vdev);
		return 0;
	}
	if (token->active)
		return -EBUSY;

	/* The PF stays awake, in D0, for as long as its VFs exist */
	ret = pm_runtime_resume_and_get(&pdev->dev);
	if (ret)
		return ret;

	down_write(&vdev->memory_lock);
	ret = vfio_pci_set_power_state_locked(vdev, PCI_D0);
	if (!ret)
		token->active = true;
	up_write(&vdev->memory_lock);
	if (ret)
		goto out_put;

	ret = pci_enable_sriov(pdev, nr_virtfn);
	if (ret)
		goto out_inactive;
	return nr_virtfn;

out_inactive:
	down_write(&vdev->memory_lock);
	token->active = false;
	up_write(&vdev->memory_lock);
out_put:
	pm_runtime_put(&pdev->dev);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_sriov_configure);
