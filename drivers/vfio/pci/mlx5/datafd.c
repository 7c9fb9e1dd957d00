// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci VFIO migration v2 transport: the vfio_migration_ops the
 * vfio core calls for the MIG_DEVICE_STATE and MIG_DATA_SIZE features, and
 * the data fd a saving or resuming arc returns.
 *
 * The fd holds a reference to its session, never to the device: when the
 * device leaves the session's state, is reset, closed or removed, the
 * state machine disables the session and the fd only reports the error.
 * The fd holds the module (fops owner) for as long as it is open.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "mlx5_vfio_priv.h"

static ssize_t mlx5vf_datafd_read(struct file *filp, char __user *buf,
				  size_t len, loff_t *pos)
{
	struct iov_iter iter;
	int ret;

	ret = import_ubuf(ITER_DEST, buf, len, &iter);
	if (ret)
		return ret;
	return mlx5vf_session_read(filp->private_data, &iter);
}

static ssize_t mlx5vf_datafd_write(struct file *filp, const char __user *buf,
				   size_t len, loff_t *pos)
{
	struct iov_iter iter;
	int ret;

	ret = import_ubuf(ITER_SOURCE, (char __user *)buf, len, &iter);
	if (ret)
		return ret;
	return mlx5vf_session_write(filp->private_data, &iter);
}

static __poll_t mlx5vf_datafd_poll(struct file *filp,
				   struct poll_table_struct *wait)
{
	struct mlx5vf_session *s = filp->private_data;

	poll_wait(filp, mlx5vf_session_wq(s), wait);
	return mlx5vf_session_poll_mask(s);
}

static long mlx5vf_datafd_precopy_info(struct mlx5vf_session *s,
				       struct vfio_precopy_info __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info;
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	ret = mlx5vf_session_precopy_info(s, &info.initial_bytes,
					  &info.dirty_bytes);
	if (ret)
		return ret;
	info.flags = 0;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long mlx5vf_datafd_ioctl(struct file *filp, unsigned int cmd,
				unsigned long arg)
{
	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	return mlx5vf_datafd_precopy_info(filp->private_data,
					  (void __user *)arg);
}

static int mlx5vf_datafd_release(struct inode *inode, struct file *filp)
{
	mlx5vf_session_put(filp->private_data);
	return 0;
}

static const struct file_operations mlx5vf_datafd_fops = {
	.owner		= THIS_MODULE,
	.read		= mlx5vf_datafd_read,
	.write		= mlx5vf_datafd_write,
	.poll		= mlx5vf_datafd_poll,
	.unlocked_ioctl	= mlx5vf_datafd_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= mlx5vf_datafd_release,
};

/* A file for a new session; it holds a reference of its own */
static struct file *mlx5vf_datafd_open(struct mlx5vf_session *s, bool save)
{
	struct file *filp;

	kref_get(&s->kref);
	filp = anon_inode_getfile("[mlx5vf_mig]", &mlx5vf_datafd_fops, s,
				  save ? O_RDONLY : O_WRONLY);
	if (IS_ERR(filp)) {
		mlx5vf_session_put(s);
		return filp;
	}
	stream_open(filp->f_inode, filp);
	return filp;
}

static struct file *mlx5vf_set_state(struct vfio_device *vdev,
				     enum vfio_device_mig_state new)
{
	struct mlx5vf_mig *mig = &to_mlx5vf_dev(vdev)->mig;
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	struct mlx5vf_session *s;
	int ret;

	/* ERROR is a state the device falls into, never one to ask for */
	if (new == VFIO_DEVICE_STATE_ERROR)
		return ERR_PTR(-EINVAL);

	mlx5vf_mig_lock(mig);
	if (mig->dead) {
		res = ERR_PTR(-ENODEV);
		goto out_unlock;
	}
	/* The v1 region drives the device: hands off (mlx5vf_mig_claim()) */
	if (mig->state != new && mlx5vf_mig_claim(mig, MLX5VF_USER_V2)) {
		res = ERR_PTR(-EBUSY);
		goto out_unlock;
	}
	while (mig->state != new) {
		/* Only a reset leaves ERROR (and the helper warns about it) */
		if (mig->state == VFIO_DEVICE_STATE_ERROR) {
			res = ERR_PTR(-EINVAL);
			break;
		}
		ret = vfio_mig_get_next_state(vdev, mig->state, new, &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		s = mlx5vf_mig_step(mig, next);
		if (IS_ERR(s)) {
			res = ERR_CAST(s);
			break;
		}
		if (!s)
			continue;
		/* A new stream starts only on the last arc of a request */
		if (WARN_ON(res || next != new)) {
			mlx5vf_mig_set_error(mig, -EINVAL);
			res = ERR_PTR(-EINVAL);
			break;
		}
		res = mlx5vf_datafd_open(s, next != VFIO_DEVICE_STATE_RESUMING);
		if (IS_ERR(res)) {
			mlx5vf_mig_set_error(mig, PTR_ERR(res));
			break;
		}
	}
	mlx5vf_mig_unclaim(mig);
out_unlock:
	mlx5vf_mig_unlock(mig);
	return res;
}

static int mlx5vf_get_state(struct vfio_device *vdev,
			    enum vfio_device_mig_state *state)
{
	struct mlx5vf_mig *mig = &to_mlx5vf_dev(vdev)->mig;

	mlx5vf_mig_lock(mig);
	*state = mig->state;
	mlx5vf_mig_unlock(mig);
	return 0;
}

static int mlx5vf_get_data_size(struct vfio_device *vdev, unsigned long *len)
{
	return mlx5vf_mig_data_size(&to_mlx5vf_dev(vdev)->mig, len);
}

/* What the vfio core calls for the migration features */
const struct vfio_migration_ops mlx5vf_mig_ops = {
	.migration_set_state		= mlx5vf_set_state,
	.migration_get_state		= mlx5vf_get_state,
	.migration_get_data_size	= mlx5vf_get_data_size,
};
