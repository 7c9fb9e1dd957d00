// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci: a ConnectX VF handed to userspace through VFIO, with live
 * migration, fused from two independently bound halves:
 *
 *   the VF half	the pci_driver "mlx5_vfio_pci" bound to the VF itself
 *   the PF half	the auxiliary_driver bound to "mlx5_core.vfio_pci.<id>",
 *			the device a PF-side provider creates for the VF and
 *			through which firmware commands for it are executed
 *
 * Lifetime of the fusion
 *
 * Each VF has one slot (struct mlx5vf_slot) in a registry keyed by
 * MLX5_VFIO_AUX_ID() of its PCI address.  A half that probes takes a
 * reference to the slot (creating it) and records itself there; a half that
 * is removed clears itself and drops its reference; the last reference
 * frees the slot.  The vfio_device (struct mlx5vf_dev) is created by
 * whichever half arrives second and destroyed by whichever leaves first,
 * so exactly one exists while, and only while, both halves are bound; a
 * half that arrives alone binds and waits (never -ENODEV).
 *
 * Destroying the vfio_device withdraws it from userspace first: a migration
 * in progress is aborted at once (its data fd fails with -ENODEV, the VHCA
 * is resumed) and no new one may start; then
 * vfio_pci_core_unregister_device() asks the user to release the device
 * (the REQ interrupt) and waits until the last fd is closed.  The PF half
 * is still bound during that wait (its remove() is what waits), so every
 * firmware command and memory key of the device is done before the PF half
 * goes, as <linux/mlx5_vfio.h> requires.  While the vfio_device exists the
 * VF's driver data is its vfio_pci_core_device (the library needs that);
 * otherwise it is NULL, which the library's error handlers understand.
 *
 * A PF half that is detached (<linux/mlx5_vfio.h>: mlx5_core disabled
 * the VF's HCA for a while, e.g. a health recovery) stays bound: the
 * vfio_device stays too and its user keeps it; only migration and dirty
 * tracking end (migrate.c and dirty.c say how) until the PF half
 * attaches again (mlx5vf_pf_event()).  A device fused while its PF half
 * is detached offers no migration (the capability queries fail), also
 * after the attach, until the VF is bound again.
 *
 * Locking
 *
 *   pci_dev device lock	held (by the driver core on the VF side, by
 *				us on the PF side) around fusion and
 *				unfusion, so the VF's driver data never
 *				changes under the PCI core's callbacks
 *   mlx5vf_slot.lock		the slot's halves and its vfio_device
 *
 * then the locks of mlx5_vfio_priv.h (dev_set, migration, session).
 * mlx5vf_registry_lock (the registry and every slot's @users) is
 * innermost: nothing else is taken while it is held.  The
 * status attribute reads the slot's flags without its lock: unfusion may
 * hold that lock for as long as a user keeps the device open.
 */
#include <linux/auxiliary_bus.h>
#include <linux/device.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/xarray.h>

#include "mlx5_vfio_priv.h"

#define DRIVER_DESC "VFIO support for ConnectX VFs with live migration"

/**
 * struct mlx5vf_slot - the two halves of one VF and their vfio_device
 * @key: MLX5_VFIO_AUX_ID() of the VF's PCI address
 * @users: halves holding the slot; under mlx5vf_registry_lock
 * @lock: serialises @pdev, @madev, @mvdev and the flags; see the top
 * @pdev: the VF half, bound to mlx5_vfio_pci
 * @madev: the PF half, bound to our auxiliary driver
 * @mvdev: the vfio_device, while both halves are bound
 * @has_vf: flags for the status attribute, written under @lock
 * @has_pf: as above
 * @fused: as above
 * @migration: as above
 */
struct mlx5vf_slot {
	u32 key;
	unsigned int users;
	struct mutex lock;	/* the fields below; after the VF's device lock */
	struct pci_dev *pdev;
	struct mlx5_vfio_aux_dev *madev;
	struct mlx5vf_dev *mvdev;
	bool has_vf;
	bool has_pf;
	bool fused;
	bool migration;
};

/* The registry: slots by key; see the lock order at the top */
static DEFINE_MUTEX(mlx5vf_registry_lock);
static DEFINE_XARRAY(mlx5vf_registry);

static u32 mlx5vf_pci_key(struct pci_dev *pdev)
{
	return MLX5_VFIO_AUX_ID(pci_domain_nr(pdev->bus), pdev->bus->number,
				pdev->devfn);
}

/* The slot of @key with one more user, created when needed */
static struct mlx5vf_slot *mlx5vf_slot_get(u32 key)
{
	struct mlx5vf_slot *slot;
	int ret;

	mutex_lock(&mlx5vf_registry_lock);
	slot = xa_load(&mlx5vf_registry, key);
	if (!slot) {
		slot = kzalloc(sizeof(*slot), GFP_KERNEL);
		if (!slot) {
			slot = ERR_PTR(-ENOMEM);
			goto out_unlock;
		}
		slot->key = key;
		mutex_init(&slot->lock);
		ret = xa_insert(&mlx5vf_registry, key, slot, GFP_KERNEL);
		if (ret) {
			mutex_destroy(&slot->lock);
			kfree(slot);
			slot = ERR_PTR(ret);
			goto out_unlock;
		}
	}
	slot->users++;
out_unlock:
	mutex_unlock(&mlx5vf_registry_lock);
	return slot;
}

static void mlx5vf_slot_put(struct mlx5vf_slot *slot)
{
	mutex_lock(&mlx5vf_registry_lock);
	if (!--slot->users) {
		xa_erase(&mlx5vf_registry, slot->key);
		mutex_destroy(&slot->lock);
		kfree(slot);
	}
	mutex_unlock(&mlx5vf_registry_lock);
}

/*
 * From the PF half: lock the VF's device (if the VF half is bound) and
 * then the slot, in the order of the top of this file.  Returns the VF
 * locked, with a reference, or NULL.
 */
static struct pci_dev *mlx5vf_slot_lock(struct mlx5vf_slot *slot)
{
	struct pci_dev *pdev;

	for (;;) {
		mutex_lock(&slot->lock);
		pdev = pci_dev_get(slot->pdev);
		mutex_unlock(&slot->lock);

		if (pdev)
			device_lock(&pdev->dev);
		mutex_lock(&slot->lock);
		if (slot->pdev == pdev)
			return pdev;
		/* The VF half came or went meanwhile: again */
		mutex_unlock(&slot->lock);
		if (pdev) {
			device_unlock(&pdev->dev);
			pci_dev_put(pdev);
		}
	}
}

static void mlx5vf_slot_unlock(struct mlx5vf_slot *slot, struct pci_dev *pdev)
{
	mutex_unlock(&slot->lock);
	if (pdev) {
		device_unlock(&pdev->dev);
		pci_dev_put(pdev);
	}
}

/* ---- the vfio_device ---- */

static int mlx5vf_init_dev(struct vfio_device *vdev)
{
	struct mlx5vf_dev *mvdev = to_mlx5vf_dev(vdev);

	mlx5vf_mig_init(&mvdev->mig, vdev->dev);
	mlx5vf_dirty_init(&mvdev->dirty, vdev->dev);
	return vfio_pci_core_init_dev(vdev);
}

static void mlx5vf_release_dev(struct vfio_device *vdev)
{
	mlx5vf_dirty_destroy(&to_mlx5vf_dev(vdev)->dirty);
	mlx5vf_mig_destroy(&to_mlx5vf_dev(vdev)->mig);
	vfio_pci_core_release_dev(vdev);
}

static int mlx5vf_open_device(struct vfio_device *vdev)
{
	struct mlx5vf_dev *mvdev = to_mlx5vf_dev(vdev);
	int ret;

	ret = vfio_pci_core_enable(&mvdev->core);
	if (ret)
		return ret;
	mlx5vf_mig_open(&mvdev->mig);
	/* QEMU 7.2 migrates through the v1 region (mig_v1.c) */
	if (mvdev->mig.offered) {
		ret = mlx5vf_v1_register(mvdev);
		if (ret) {
			vfio_pci_core_disable(&mvdev->core);
			return ret;
		}
	}
	vfio_pci_core_finish_enable(&mvdev->core);
	return 0;
}

static void mlx5vf_close_device(struct vfio_device *vdev)
{
	struct mlx5vf_dev *mvdev = to_mlx5vf_dev(vdev);

	/* Every data fd is over before the session ends (uAPI) */
	mlx5vf_mig_abort(&mvdev->mig, false);
	mlx5vf_dirty_teardown(&mvdev->dirty, false);
	vfio_pci_core_close_device(vdev);
}

/*
 * The resets of the library, plus the migration state: a reset puts the
 * device back in RUNNING.  A function without any PCI reset method (only
 * emulated test functions: a ConnectX VF has FLR) gets the VHCA reset
 * alone from VFIO_DEVICE_RESET, and that is what the ioctl reports.  One
 * whose method failed at open (no reset offered this session) gets the
 * library's -EINVAL, as upstream's driver does.
 */
static long mlx5vf_ioctl(struct vfio_device *vdev, unsigned int cmd,
			 unsigned long arg)
{
	struct mlx5vf_dev *mvdev = to_mlx5vf_dev(vdev);
	long ret;

	ret = vfio_pci_core_ioctl(vdev, cmd, arg);
	/* A reset ends dirty tracking (tried ones too: the device may have reset) */
	if (cmd == VFIO_DEVICE_RESET || cmd == VFIO_DEVICE_PCI_HOT_RESET)
		mlx5vf_dirty_teardown(&mvdev->dirty, false);
	if (!mvdev->mig.offered)
		return ret;

	switch (cmd) {
	case VFIO_DEVICE_RESET:
		if (ret == -EINVAL && !mvdev->core.pdev->reset_methods[0])
			ret = 0;	/* no PCI reset method: the VHCA's alone */
		if (!ret)
			ret = mlx5vf_mig_reset(&mvdev->mig);
		return ret;
	case VFIO_DEVICE_PCI_HOT_RESET:
		if (!ret)
			ret = mlx5vf_mig_reset(&mvdev->mig);
		return ret;
	default:
		return ret;
	}
}

/* Library routines, except where the migration state is involved */
static const struct vfio_device_ops mlx5vf_ops = {
	.name		= "mlx5-vfio-pci",
	.init		= mlx5vf_init_dev,
	.release	= mlx5vf_release_dev,
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.match		= vfio_pci_core_match,
	.open_device	= mlx5vf_open_device,
	.close_device	= mlx5vf_close_device,
	.request	= vfio_pci_core_request,
	.mmap		= vfio_pci_core_mmap,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.ioctl		= mlx5vf_ioctl,
};

/* ---- fusion ---- */

/*
 * The PF side detaches the VF (mlx5_core disables its HCA; commands still
 * work during this call) or attaches it again.  Runs on the PF half's
 * event chain, on which the device is from before its first command at
 * fusion until unfusion has ended migration and tracking for good (then
 * leaving the chain waits for a call in progress).  Under the provider's
 * locks (and, for mlx5-vfio-pf, mlx5_core's devlink lock): takes only the
 * migration and tracking locks.
 */
static int mlx5vf_pf_event(struct notifier_block *nb, unsigned long event,
			   void *data)
{
	struct mlx5vf_dev *mvdev = container_of(nb, struct mlx5vf_dev, pf_nb);
	struct device *dev = mvdev->core.vdev.dev;

	switch (event) {
	case MLX5_VFIO_AUX_EVENT_DETACH:
		dev_info(dev, "PF side detached the VF: migration and dirty tracking end until it attaches again\n");
		mlx5vf_mig_detach(&mvdev->mig);
		mlx5vf_dirty_detach(&mvdev->dirty);
		break;
	case MLX5_VFIO_AUX_EVENT_ATTACH:
		mlx5vf_dirty_attach(&mvdev->dirty);
		mlx5vf_mig_attach(&mvdev->mig);
		dev_info(dev, "PF side attached the VF again\n");
		break;
	}
	return NOTIFY_OK;
}

/* Both halves are bound: create and register the vfio_device */
static int mlx5vf_fuse(struct mlx5vf_slot *slot)
{
	struct pci_dev *pdev = slot->pdev;
	struct mlx5vf_dev *mvdev;
	int ret;

	device_lock_assert(&pdev->dev);
	lockdep_assert_held(&slot->lock);

	mvdev = vfio_alloc_device(mlx5vf_dev, core.vdev, &pdev->dev,
				  &mlx5vf_ops);
	if (IS_ERR(mvdev))
		return PTR_ERR(mvdev);
	mvdev->slot = slot;
	mvdev->madev = slot->madev;
	/* Before the first command: a detach from now on is heard */
	mvdev->pf_nb.notifier_call = mlx5vf_pf_event;
	ret = blocking_notifier_chain_register(&slot->madev->events,
					       &mvdev->pf_nb);
	if (ret)
		goto out_put;
	if (!mlx5vf_mig_probe(&mvdev->mig, slot->madev)) {
		mvdev->core.vdev.migration_flags = VFIO_MIGRATION_STOP_COPY |
						   VFIO_MIGRATION_P2P |
						   VFIO_MIGRATION_PRE_COPY;
		mvdev->core.vdev.mig_ops = &mlx5vf_mig_ops;
	}
	/* Dirty tracking serves migration only, as upstream's driver has it */
	if (mvdev->mig.offered && !mlx5vf_dirty_probe(&mvdev->dirty, slot->madev))
		mvdev->core.vdev.log_ops = &mlx5vf_log_ops;
	/* Registered above: a detach is either seen here or heard (or both) */
	if (READ_ONCE(slot->madev->detached)) {
		mlx5vf_mig_detach(&mvdev->mig);
		mlx5vf_dirty_detach(&mvdev->dirty);
	}

	dev_set_drvdata(&pdev->dev, &mvdev->core);
	ret = vfio_pci_core_register_device(&mvdev->core);
	if (ret)
		goto out_drvdata;

	slot->mvdev = mvdev;
	WRITE_ONCE(slot->migration, mvdev->mig.offered);
	WRITE_ONCE(slot->fused, true);
	pci_info(pdev, "vfio device ready with PF half %s, migration %s, dirty tracking %s\n",
		 dev_name(&slot->madev->adev.dev),
		 mvdev->mig.offered ? "offered" : "not offered",
		 mvdev->core.vdev.log_ops ? "offered" : "not offered");
	return 0;

out_drvdata:
	dev_set_drvdata(&pdev->dev, NULL);
	blocking_notifier_chain_unregister(&slot->madev->events, &mvdev->pf_nb);
out_put:
	vfio_put_device(&mvdev->core.vdev);
	pci_warn(pdev, "cannot register the vfio device: %d\n", ret);
	return ret;
}

/* A half leaves: withdraw the vfio_device, after its user let go */
static void mlx5vf_unfuse(struct mlx5vf_slot *slot, const char *leaving)
{
	struct mlx5vf_dev *mvdev = slot->mvdev;
	struct pci_dev *pdev = slot->pdev;

	device_lock_assert(&pdev->dev);
	lockdep_assert_held(&slot->lock);

	pci_info(pdev, "the %s half is leaving: withdrawing the vfio device\n",
		 leaving);
	WRITE_ONCE(slot->fused, false);
	WRITE_ONCE(slot->migration, false);
	mlx5vf_mig_abort(&mvdev->mig, true);
	mlx5vf_dirty_teardown(&mvdev->dirty, true);
	/* Nothing left on the firmware: a detach has nothing to end now */
	blocking_notifier_chain_unregister(&mvdev->madev->events, &mvdev->pf_nb);
	/* Asks the user to release the device and waits until it has */
	vfio_pci_core_unregister_device(&mvdev->core);
	dev_set_drvdata(&pdev->dev, NULL);
	slot->mvdev = NULL;
	vfio_put_device(&mvdev->core.vdev);
	pci_info(pdev, "vfio device gone\n");
}

/*
 * The PCI core reset the VF, whoever asked: the migration state follows.
 * Under the VF's device lock, as fusion and removal, so the device stays.
 */
static void mlx5vf_pci_reset_done(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	device_lock_assert(&pdev->dev);
	if (core)
		mlx5vf_mig_reset_done(&container_of(core, struct mlx5vf_dev, core)->mig);
}

static const struct pci_error_handlers mlx5vf_err_handlers = {
	.error_detected	= vfio_pci_core_aer_err_detected,
	.reset_done	= mlx5vf_pci_reset_done,
};

/* ---- the VF half ---- */

static int mlx5vf_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct mlx5vf_slot *slot;
	int ret = 0;

	slot = mlx5vf_slot_get(mlx5vf_pci_key(pdev));
	if (IS_ERR(slot))
		return PTR_ERR(slot);

	mutex_lock(&slot->lock);
	slot->pdev = pdev;
	if (slot->madev)
		ret = mlx5vf_fuse(slot);
	else
		pci_info(pdev, "VF half bound; waiting for the PF half (auxiliary device %s.%u)\n",
			 MLX5_VFIO_AUX_MATCH_ID, slot->key);
	if (ret)
		slot->pdev = NULL;
	else
		WRITE_ONCE(slot->has_vf, true);
	mutex_unlock(&slot->lock);

	if (ret)
		mlx5vf_slot_put(slot);
	return ret;
}

static struct mlx5vf_slot *mlx5vf_slot_find(u32 key)
{
	struct mlx5vf_slot *slot;

	mutex_lock(&mlx5vf_registry_lock);
	slot = xa_load(&mlx5vf_registry, key);
	mutex_unlock(&mlx5vf_registry_lock);
	return slot;
}

static void mlx5vf_pci_remove(struct pci_dev *pdev)
{
	/* Our VF half holds a reference: the slot is there */
	struct mlx5vf_slot *slot = mlx5vf_slot_find(mlx5vf_pci_key(pdev));

	mutex_lock(&slot->lock);
	if (slot->mvdev)
		mlx5vf_unfuse(slot, "VF");
	WRITE_ONCE(slot->has_vf, false);
	slot->pdev = NULL;
	if (slot->madev)
		dev_info(&slot->madev->adev.dev, "PF half waits for its VF %s\n",
			 pci_name(pdev));
	mutex_unlock(&slot->lock);
	mlx5vf_slot_put(slot);
}

/* Which halves are bound and whether migration is offered */
static ssize_t mlx5_vfio_status_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct mlx5vf_slot *slot;
	ssize_t len;

	mutex_lock(&mlx5vf_registry_lock);
	slot = xa_load(&mlx5vf_registry, mlx5vf_pci_key(to_pci_dev(dev)));
	if (!slot)
		len = sysfs_emit(buf, "vf=unbound pf=unbound vfio=none migration=no\n");
	else
		len = sysfs_emit(buf, "vf=%s pf=%s vfio=%s migration=%s\n",
				 READ_ONCE(slot->has_vf) ? "bound" : "unbound",
				 READ_ONCE(slot->has_pf) ? "bound" : "unbound",
				 READ_ONCE(slot->fused) ? "registered" : "none",
				 READ_ONCE(slot->migration) ? "offered" : "no");
	mutex_unlock(&mlx5vf_registry_lock);
	return len;
}
static DEVICE_ATTR_RO(mlx5_vfio_status);

static struct attribute *mlx5vf_pci_attrs[] = {
	&dev_attr_mlx5_vfio_status.attr,
	NULL
};
ATTRIBUTE_GROUPS(mlx5vf_pci);

/*
 * ConnectX VFs: override-only, so the driver binds them when asked to
 * (driver_override, or a tool reading the vfio_pci: alias) and never
 * takes a VF from its regular driver on its own.  Any other function
 * can be bound through driver_override as well.
 */
static const struct pci_device_id mlx5vf_pci_table[] = {
	/* ConnectX family mlx5Gen Virtual Function */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_MELLANOX, 0x101e) },
	{}
};
MODULE_DEVICE_TABLE(pci, mlx5vf_pci_table);

static struct pci_driver mlx5vf_pci_driver = {
	.name			= "mlx5_vfio_pci",
	.id_table		= mlx5vf_pci_table,
	.probe			= mlx5vf_pci_probe,
	.remove			= mlx5vf_pci_remove,
	.err_handler		= &mlx5vf_err_handlers,
	.driver_managed_dma	= true,
	.dev_groups		= mlx5vf_pci_groups,
	/*
	 * The library's runtime PM: idle D3 while no user has the VF open,
	 * the LOW_POWER device features while one has (as upstream 6.12's
	 * driver gets them); the state ioctls wake the VF for their run, and
	 * the firmware reaches the VHCA whatever the VF's power state
	 */
	.driver.pm		= &vfio_pci_core_pm_ops,
};

/* ---- the PF half ---- */

static int mlx5vf_aux_probe(struct auxiliary_device *adev,
			    const struct auxiliary_device_id *id)
{
	struct mlx5_vfio_aux_dev *madev = to_mlx5_vfio_aux_dev(adev);
	struct mlx5vf_slot *slot;
	struct pci_dev *pdev;
	int ret = 0;

	if (!madev->ops || !madev->ops->exec || !madev->ops->mkey_create ||
	    !madev->ops->mkey_destroy)
		return -EINVAL;

	slot = mlx5vf_slot_get(MLX5_VFIO_AUX_ID(madev->domain, madev->bus,
						madev->devfn));
	if (IS_ERR(slot))
		return PTR_ERR(slot);

	pdev = mlx5vf_slot_lock(slot);
	if (slot->madev) {
		/* Two PF-side devices for one VF: the second one waits outside */
		ret = -EBUSY;
	} else {
		slot->madev = madev;
		if (pdev)
			ret = mlx5vf_fuse(slot);
		else
			dev_info(&adev->dev, "PF half bound; waiting for the VF half: bind %04x:%02x:%02x.%d to mlx5_vfio_pci\n",
				 madev->domain, madev->bus,
				 PCI_SLOT(madev->devfn), PCI_FUNC(madev->devfn));
		if (ret)
			slot->madev = NULL;
		else
			WRITE_ONCE(slot->has_pf, true);
	}
	mlx5vf_slot_unlock(slot, pdev);

	if (ret) {
		mlx5vf_slot_put(slot);
		return ret;
	}
	auxiliary_set_drvdata(adev, slot);
	return 0;
}

static void mlx5vf_aux_remove(struct auxiliary_device *adev)
{
	struct mlx5vf_slot *slot = auxiliary_get_drvdata(adev);
	struct pci_dev *pdev;

	pdev = mlx5vf_slot_lock(slot);
	if (slot->mvdev)
		mlx5vf_unfuse(slot, "PF");
	WRITE_ONCE(slot->has_pf, false);
	slot->madev = NULL;
	if (pdev)
		pci_info(pdev, "VF half waits for a PF half (auxiliary device %s.%u)\n",
			 MLX5_VFIO_AUX_MATCH_ID, slot->key);
	mlx5vf_slot_unlock(slot, pdev);
	mlx5vf_slot_put(slot);
}

static const struct auxiliary_device_id mlx5vf_aux_table[] = {
	{ .name = MLX5_VFIO_AUX_MATCH_ID },
	{}
};
MODULE_DEVICE_TABLE(auxiliary, mlx5vf_aux_table);

static struct auxiliary_driver mlx5vf_aux_driver = {
	.name		= "mlx5_vfio_pci",
	.id_table	= mlx5vf_aux_table,
	.probe		= mlx5vf_aux_probe,
	.remove		= mlx5vf_aux_remove,
};

static int __init mlx5vf_init(void)
{
	int ret;

	ret = pci_register_driver(&mlx5vf_pci_driver);
	if (ret)
		return ret;
	ret = auxiliary_driver_register(&mlx5vf_aux_driver);
	if (ret)
		goto out_pci;
	return 0;

out_pci:
	pci_unregister_driver(&mlx5vf_pci_driver);
	return ret;
}

static void __exit mlx5vf_exit(void)
{
	auxiliary_driver_unregister(&mlx5vf_aux_driver);
	pci_unregister_driver(&mlx5vf_pci_driver);
	WARN_ON(!xa_empty(&mlx5vf_registry));
}

module_init(mlx5vf_init);
module_exit(mlx5vf_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(DRIVER_DESC);
