// SPDX-License-Identifier: GPL-2.0-only
/*
 * Auxiliary-device bookkeeping shared by mlx5-vfio-sim and mlx5-vfio-pf:
 * see aux.h for the lifetime rules.  Included by sim_aux.c and pf_aux.c.
 */
#include <linux/device.h>
#include <linux/jiffies.h>
#include <linux/notifier.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/string.h>

#include "aux.h"

static int mlx5_vfio_aux_exec(struct mlx5_vfio_aux_dev *madev, const void *in,
			      int inlen, void *out, int outlen)
{
	struct mlx5_vfio_aux *aux = to_mlx5_vfio_aux(madev);

	if (!in || !out || inlen < MLX5_VFIO_AUX_HDR_LEN ||
	    outlen < MLX5_VFIO_AUX_HDR_LEN)
		return -EINVAL;
	if (READ_ONCE(aux->dying))
		return -ENODEV;
	if (READ_ONCE(aux->detached))
		return -ENOTCONN;
	memset(out, 0, outlen);
	return aux->be->exec(aux, in, inlen, out, outlen);
}

static int mlx5_vfio_aux_mkey_create(struct mlx5_vfio_aux_dev *madev,
				     struct page **pages, unsigned int npages,
				     enum dma_data_direction dir, u32 *mkey)
{
	struct mlx5_vfio_aux *aux = to_mlx5_vfio_aux(madev);
	u32 key;
	int ret;

	if (!pages || !npages || !mkey || !valid_dma_direction(dir))
		return -EINVAL;
	if (READ_ONCE(aux->dying))
		return -ENODEV;
	if (READ_ONCE(aux->detached))
		return -ENOTCONN;
	ret = aux->be->mkey_create(aux, pages, npages, dir, &key);
	if (ret)
		return ret;
	ret = xa_insert(&aux->mkeys, key, xa_mk_value(npages), GFP_KERNEL);
	if (ret) {
		aux->be->mkey_destroy(aux, key);
		return ret;
	}
	*mkey = key;
	return 0;
}

static void mlx5_vfio_aux_mkey_destroy(struct mlx5_vfio_aux_dev *madev, u32 mkey)
{
	struct mlx5_vfio_aux *aux = to_mlx5_vfio_aux(madev);

	/* A key the driver does not hold is its bug: say so, touch nothing */
	if (!xa_erase(&aux->mkeys, mkey)) {
		dev_err_ratelimited(&madev->adev.dev,
				    "destroying unknown memory key 0x%x\n", mkey);
		return;
	}
	aux->be->mkey_destroy(aux, mkey);
}

static int mlx5_vfio_aux_track_read_clear(struct mlx5_vfio_aux_dev *madev,
					  u32 obj_id, u64 iova, u64 length,
					  void *entries, u32 max, u32 *n)
{
	struct mlx5_vfio_aux *aux = to_mlx5_vfio_aux(madev);
	u64 end;

	if (!entries || !n || !max || !length ||
	    check_add_overflow(iova, length - 1, &end))
		return -EINVAL;
	if (READ_ONCE(aux->dying))
		return -ENODEV;
	if (READ_ONCE(aux->detached))
		return -ENOTCONN;
	return aux->be->track_read_clear(aux, obj_id, iova, length, entries,
					 max, n);
}

static const struct mlx5_vfio_aux_ops mlx5_vfio_aux_ops = {
	.exec = mlx5_vfio_aux_exec,
	.mkey_create = mlx5_vfio_aux_mkey_create,
	.mkey_destroy = mlx5_vfio_aux_mkey_destroy,
};

/* For a backend that delivers page-tracker reports */
static const struct mlx5_vfio_aux_ops mlx5_vfio_aux_track_ops = {
	.exec = mlx5_vfio_aux_exec,
	.mkey_create = mlx5_vfio_aux_mkey_create,
	.mkey_destroy = mlx5_vfio_aux_mkey_destroy,
	.track_read_clear = mlx5_vfio_aux_track_read_clear,
};

/*
 * Destroy the keys the driver still holds.  It should hold none: a leak
 * is its bug, reported with a warning a test's kernel-log check sees.
 */
static void mlx5_vfio_aux_drop_keys(struct mlx5_vfio_aux *aux)
{
	unsigned int leaked = 0;
	unsigned long key;
	void *entry;

	xa_for_each(&aux->mkeys, key, entry) {
		/* Whoever erases a key destroys it: detach may race removal */
		if (!xa_erase(&aux->mkeys, key))
			continue;
		aux->be->mkey_destroy(aux, key);
		leaked++;
	}
	if (leaked)
		dev_WARN(&aux->madev.adev.dev,
			 "driver leaked %u memory keys, destroyed them\n", leaked);
}

static void mlx5_vfio_aux_release(struct device *dev)
{
	struct auxiliary_device *adev = to_auxiliary_dev(dev);
	struct mlx5_vfio_aux *aux = to_mlx5_vfio_aux(to_mlx5_vfio_aux_dev(adev));

	xa_destroy(&aux->mkeys);
	mutex_destroy(&aux->ev_lock);
	aux->be->release(aux);
}

/**
 * mlx5_vfio_aux_add() - create and add the auxiliary device of a VF
 * @aux: zeroed, embedded in the provider's per-VF object
 * @parent: the device the auxiliary device hangs below (the PF)
 * @domain: the VF's PCI domain (at most 0xffff)
 * @bus: the VF's PCI bus
 * @devfn: the VF's PCI device and function
 * @function_id: QUERY_HCA_CAP's function_id for the VF
 * @vhca_id: the VF's VHCA id
 * @be: the provider's backend
 *
 * On success the driver may bind at once; undo with mlx5_vfio_aux_remove().
 * On failure @be->release() has already freed the object.
 *
 * Return: 0 or -errno.
 */
int mlx5_vfio_aux_add(struct mlx5_vfio_aux *aux, struct device *parent,
		      u32 domain, u8 bus, u8 devfn, u16 function_id,
		      u16 vhca_id, const struct mlx5_vfio_aux_backend *be)
{
	struct auxiliary_device *adev = &aux->madev.adev;
	int ret;

	aux->be = be;
	mutex_init(&aux->ev_lock);
	init_waitqueue_head(&aux->wq);
	BLOCKING_INIT_NOTIFIER_HEAD(&aux->madev.events);
	xa_init(&aux->mkeys);
	aux->madev.domain = domain;
	aux->madev.bus = bus;
	aux->madev.devfn = devfn;
	aux->madev.function_id = function_id;
	aux->madev.vhca_id = vhca_id;
	aux->madev.ops = be->track_read_clear ? &mlx5_vfio_aux_track_ops :
						&mlx5_vfio_aux_ops;
	adev->name = MLX5_VFIO_AUX_DEVNAME;
	adev->id = MLX5_VFIO_AUX_ID(domain, bus, devfn);
	adev->dev.parent = parent;
	adev->dev.release = mlx5_vfio_aux_release;
	if (domain > 0xffff) {
		ret = -EINVAL;
		goto err_release;
	}
	ret = auxiliary_device_init(adev);
	if (ret)
		goto err_release;
	/* From here on put_device() frees through mlx5_vfio_aux_release() */
	ret = __auxiliary_device_add(adev, MLX5_VFIO_AUX_MODNAME);
	if (ret)
		auxiliary_device_uninit(adev);
	return ret;

err_release:
	xa_destroy(&aux->mkeys);
	mutex_destroy(&aux->ev_lock);
	be->release(aux);
	return ret;
}

/**
 * mlx5_vfio_aux_remove() - remove the auxiliary device of a VF
 * @aux: added by mlx5_vfio_aux_add()
 *
 * Commands fail with -ENODEV from now on and waits in progress end; the
 * driver's remove() runs and is waited for (it may wait for a user of the
 * VFIO device to close it).  Keys the driver left behind are destroyed.
 * The object is freed once its last reference is gone.  Sleeps.
 */
void mlx5_vfio_aux_remove(struct mlx5_vfio_aux *aux)
{
	struct auxiliary_device *adev = &aux->madev.adev;

	WRITE_ONCE(aux->dying, true);
	wake_up_all(&aux->wq);
	auxiliary_device_delete(adev);
	mlx5_vfio_aux_drop_keys(aux);
	auxiliary_device_uninit(adev);
}

/**
 * mlx5_vfio_aux_detach() - mlx5_core is about to disable the VF's HCA
 * @aux: added by mlx5_vfio_aux_add()
 *
 * The driver's notifiers end what they have on the firmware (commands
 * still work while they run); then commands and new keys fail with
 * -ENOTCONN until mlx5_vfio_aux_attach(), and keys left behind are
 * destroyed.  Nothing happens for a device already detached or going
 * away.  Sleeps.
 */
void mlx5_vfio_aux_detach(struct mlx5_vfio_aux *aux)
{
	mutex_lock(&aux->ev_lock);
	if (!aux->detached && !READ_ONCE(aux->dying)) {
		/* Before the chain: a driver registering now sees one or the other */
		WRITE_ONCE(aux->madev.detached, true);
		blocking_notifier_call_chain(&aux->madev.events,
					     MLX5_VFIO_AUX_EVENT_DETACH,
					     &aux->madev);
		WRITE_ONCE(aux->detached, true);
		mlx5_vfio_aux_drop_keys(aux);
	}
	mutex_unlock(&aux->ev_lock);
}

/**
 * mlx5_vfio_aux_attach() - mlx5_core enabled the VF's HCA again
 * @aux: added by mlx5_vfio_aux_add()
 *
 * Commands work again, on a fresh VHCA; the driver's notifiers hear it.
 * Nothing happens for a device that is not detached or is going away.
 * Sleeps.
 */
void mlx5_vfio_aux_attach(struct mlx5_vfio_aux *aux)
{
	mutex_lock(&aux->ev_lock);
	if (aux->detached && !READ_ONCE(aux->dying)) {
		WRITE_ONCE(aux->detached, false);
		WRITE_ONCE(aux->madev.detached, false);
		blocking_notifier_call_chain(&aux->madev.events,
					     MLX5_VFIO_AUX_EVENT_ATTACH,
					     &aux->madev);
	}
	mutex_unlock(&aux->ev_lock);
}

/**
 * mlx5_vfio_aux_wait() - sleep for a while unless the device goes away
 * @aux: the VF's auxiliary device
 * @ms: how long
 *
 * For simulated command latency: never sleeps past the start of removal.
 *
 * Return: 0 after @ms, -ENODEV when removal started, -ENOTCONN when the
 * VF is detached by then, -EINTR on a signal.
 */
int mlx5_vfio_aux_wait(struct mlx5_vfio_aux *aux, unsigned int ms)
{
	long left;

	if (ms) {
		left = wait_event_interruptible_timeout(aux->wq,
							READ_ONCE(aux->dying),
							msecs_to_jiffies(ms));
		if (left < 0)
			return -EINTR;
	}
	if (READ_ONCE(aux->dying))
		return -ENODEV;
	return READ_ONCE(aux->detached) ? -ENOTCONN : 0;
}
