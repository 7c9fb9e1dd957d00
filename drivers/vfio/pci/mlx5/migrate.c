// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci migration state machine.
 *
 * mlx5vf_mig_step() performs exactly one arc of the VFIO migration FSM (the
 * single-step arcs of enum vfio_device_mig_state); a transport breaks a
 * user's request into such arcs with vfio_mig_get_next_state() and calls it
 * once per arc.  What an arc does to the VHCA:
 *
 *   P2P quiescing	SUSPEND_VHCA initiator / RESUME_VHCA initiator
 *   stop / start	SUSPEND_VHCA responder / RESUME_VHCA responder
 *   saving begins	a new saving session (pre-copy or stop-copy)
 *   saving stops	PRE_COPY_P2P -> STOP_COPY: responder suspended, the
 *			session continues with the final image
 *   saving ends	the session is disabled
 *   resuming		a new loading session; leaving RESUMING requires the
 *			whole stream to have been loaded
 *
 * Any failure puts the device in ERROR (but a refusal while detached,
 * below); VFIO_DEVICE_RESET (mlx5vf_mig_reset) brings it back to RUNNING,
 * and so do close and any reset the PCI core makes
 * (mlx5vf_mig_reset_done()).
 *
 * When the PF side detaches the VF (mlx5vf_mig_detach(): mlx5_core
 * disables its HCA, e.g. for a health recovery) the session ends and its
 * data fd fails with -ENOTCONN; a saving state falls back to the state
 * saving started from (PRE_COPY to RUNNING, PRE_COPY_P2P to RUNNING_P2P,
 * STOP_COPY to STOP: the saving arcs' sources, which need no session),
 * RESUMING goes to ERROR (what was loaded is gone), the others stay.  The
 * VHCA comes back fresh, suspended by no one: until the VF is attached
 * again the arcs towards RUNNING succeed without a command, every other
 * fails with -ENOTCONN and leaves the state alone (no ERROR: nothing
 * changed; QEMU 7.2 aborts on ERROR, upstream's driver keeps the state
 * too).  A reset still brings RUNNING.  Once attached, an arc that goes
 * on from RUNNING_P2P or STOP suspends again what the state stands for
 * before anything else.  The driver remembers which halves of
 * the VHCA it suspended and resumes them when it gives the device back,
 * whatever state the user left it in.
 *
 * Everything here runs under mlx5vf_mig.lock, taken and released with
 * mlx5vf_mig_lock()/mlx5vf_mig_unlock(), but mlx5vf_mig_reset_done(),
 * which only notes the reset under the leaf reset_lock.
 */
#include <linux/device.h>
#include <linux/lockdep.h>
#include <linux/mlx5/mlx5_ifc.h>

#include "mlx5_vfio_priv.h"

static void mlx5vf_mig_reset_work(struct work_struct *work);

/**
 * mlx5vf_mig_init() - initialise the migration state of a new device
 * @mig: the state
 * @dev: the VF, for messages
 */
void mlx5vf_mig_init(struct mlx5vf_mig *mig, struct device *dev)
{
	mutex_init(&mig->lock);
	spin_lock_init(&mig->reset_lock);
	INIT_WORK(&mig->reset_work, mlx5vf_mig_reset_work);
	mig->dev = dev;
	mig->state = VFIO_DEVICE_STATE_RUNNING;
}

/**
 * mlx5vf_mig_destroy() - free what mlx5vf_mig_init() set up
 * @mig: the state, without a session
 */
void mlx5vf_mig_destroy(struct mlx5vf_mig *mig)
{
	cancel_work_sync(&mig->reset_work);
	WARN_ON(mig->session);
	mutex_destroy(&mig->lock);
}

/**
 * mlx5vf_mig_probe() - decide whether the device offers migration
 * @mig: the state
 * @madev: the PF half
 *
 * Migration is offered when the firmware has the capabilities it needs
 * (mlx5vf_cmd_mig_caps()) and answers QUERY_HCA_CAP for the VF with the VHCA
 * id the PF half announced.
 *
 * Return: 0 when migration is offered, a negative errno otherwise.
 */
int mlx5vf_mig_probe(struct mlx5vf_mig *mig, struct mlx5_vfio_aux_dev *madev)
{
	const char *missing;
	u16 vhca_id;
	int ret;

	mig->madev = madev;
	ret = mlx5vf_cmd_mig_caps(madev, &missing);
	if (ret) {
		dev_warn(mig->dev, "no migration: QUERY_HCA_CAP failed: %d\n",
			 ret);
		return ret;
	}
	if (missing) {
		dev_info(mig->dev, "no migration: the firmware lacks the capability %s\n",
			 missing);
		return -EOPNOTSUPP;
	}
	ret = mlx5vf_cmd_query_vhca_id(madev, &vhca_id);
	if (ret) {
		dev_warn(mig->dev, "no migration: QUERY_HCA_CAP failed: %d\n",
			 ret);
		return ret;
	}
	if (vhca_id != madev->vhca_id) {
		dev_warn(mig->dev, "no migration: VHCA id %u, the PF side says %u\n",
			 vhca_id, madev->vhca_id);
		return -ENODEV;
	}
	mig->offered = true;
	return 0;
}

/* End the session of the saving group or of RESUMING, if any */
static void mlx5vf_mig_end_session(struct mlx5vf_mig *mig, int err)
{
	lockdep_assert_held(&mig->lock);

	if (!mig->session)
		return;
	mlx5vf_session_disable(mig->session, err);
	mlx5vf_session_put(mig->session);
	mig->session = NULL;
	mig->epoch++;
}

static int mlx5vf_mig_suspend(struct mlx5vf_mig *mig, u8 half)
{
	u16 op_mod = half == MLX5VF_SUSP_INITIATOR ?
		     MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR :
		     MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_RESPONDER;
	int ret;

	if (mig->suspended & half)
		return 0;
	ret = mlx5vf_cmd_suspend_vhca(mig->madev, op_mod);
	if (!ret)
		mig->suspended |= half;
	return ret;
}

static int mlx5vf_mig_resume(struct mlx5vf_mig *mig, u8 half)
{
	u16 op_mod = half == MLX5VF_SUSP_INITIATOR ?
		     MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR :
		     MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER;
	int ret;

	if (!(mig->suspended & half))
		return 0;
	ret = mlx5vf_cmd_resume_vhca(mig->madev, op_mod);
	if (!ret)
		mig->suspended &= ~half;
	return ret;
}

/* Back to RUNNING: no session, the VHCA running (responder first) */
static int mlx5vf_mig_to_running(struct mlx5vf_mig *mig, int err)
{
	int ret;

	lockdep_assert_held(&mig->lock);

	mlx5vf_mig_end_session(mig, err);
	ret = mlx5vf_mig_resume(mig, MLX5VF_SUSP_RESPONDER);
	if (!ret)
		ret = mlx5vf_mig_resume(mig, MLX5VF_SUSP_INITIATOR);
	mig->state = ret ? VFIO_DEVICE_STATE_ERROR : VFIO_DEVICE_STATE_RUNNING;
	mlx5vf_mig_unclaim(mig);
	return ret;
}

/**
 * mlx5vf_mig_open() - a user session starts: the device is RUNNING
 * @mig: the state
 */
void mlx5vf_mig_open(struct mlx5vf_mig *mig)
{
	mlx5vf_mig_lock(mig);
	/* A new user inherits no claim (a failed resume at close keeps one) */
	mig->user = MLX5VF_USER_NONE;
	if (mig->offered && !mig->dead && mlx5vf_mig_to_running(mig, -EINVAL))
		dev_warn(mig->dev, "cannot resume the VHCA at open\n");
	mlx5vf_mig_unlock(mig);
}

/**
 * mlx5vf_mig_reset() - the device was reset: back to RUNNING
 * @mig: the state
 *
 * Ends any session and resumes what the driver had suspended.
 *
 * Return: 0, -ENODEV once removal started, or the firmware's error (the
 * device is then in ERROR).
 */
int mlx5vf_mig_reset(struct mlx5vf_mig *mig)
{
	int ret;

	mlx5vf_mig_lock(mig);
	ret = mig->dead ? -ENODEV : mlx5vf_mig_to_running(mig, -EINVAL);
	mlx5vf_mig_unlock(mig);
	return ret;
}

/* RESUME a half after a PCI reset: "not suspended" means the reset did */
static int mlx5vf_mig_resume_after_reset(struct mlx5vf_mig *mig, u8 half)
{
	int ret = mlx5vf_mig_resume(mig, half);

	if (ret == -EBADFD) {	/* BAD_RES_STATE */
		mig->suspended &= ~half;
		ret = 0;
	}
	return ret;
}

/*
 * The PCI core reset the function (FLR, a bus or slot reset, from a user's
 * config write, sysfs or a hot reset of the device set; also a reset that
 * failed, which reset_done reports too): the state machine follows, as the
 * uAPI wants of any reset.  A ConnectX VF's reset resumed its VHCA
 * already, as upstream's driver counts on, and the firmware then answers
 * a RESUME with BAD_RES_STATE; a RESUME of what the driver suspended covers
 * a function whose reset does not reach the VHCA (the simulator's).  Any
 * other failure keeps the half marked suspended and the state ERROR: the
 * next reset tries again.
 */
static void mlx5vf_mig_after_pci_reset(struct mlx5vf_mig *mig)
{
	int ret;

	lockdep_assert_held(&mig->lock);

	if (!mig->offered || mig->dead)
		return;
	mlx5vf_mig_end_session(mig, -EINVAL);
	ret = mlx5vf_mig_resume_after_reset(mig, MLX5VF_SUSP_RESPONDER);
	if (!ret)
		ret = mlx5vf_mig_resume_after_reset(mig, MLX5VF_SUSP_INITIATOR);
	if (ret)
		dev_warn(mig->dev, "cannot resume the VHCA after a reset: %d\n", ret);
	mig->state = ret ? VFIO_DEVICE_STATE_ERROR : VFIO_DEVICE_STATE_RUNNING;
	mlx5vf_mig_unclaim(mig);
}

/* Apply a reset mlx5vf_mig_reset_done() noted, if any */
static void mlx5vf_mig_apply_reset(struct mlx5vf_mig *mig)
{
	bool reset;

	lockdep_assert_held(&mig->lock);
	spin_lock(&mig->reset_lock);
	reset = mig->deferred_reset;
	mig->deferred_reset = false;
	spin_unlock(&mig->reset_lock);
	if (reset)
		mlx5vf_mig_after_pci_reset(mig);
}

/**
 * mlx5vf_mig_lock() - take mlx5vf_mig.lock
 * @mig: the state
 *
 * A reset the PCI core made since the lock was last held is applied
 * first: whoever looks at the state sees the state after it.
 */
void mlx5vf_mig_lock(struct mlx5vf_mig *mig)
{
	mutex_lock(&mig->lock);
	mlx5vf_mig_apply_reset(mig);
}

/**
 * mlx5vf_mig_unlock() - release mlx5vf_mig.lock
 * @mig: the state, locked
 *
 * A reset the PCI core made while the lock was held is applied first.
 */
void mlx5vf_mig_unlock(struct mlx5vf_mig *mig)
{
	mlx5vf_mig_apply_reset(mig);
	mutex_unlock(&mig->lock);
}

/* The reset's work: promptly, for a data fd read that takes no mig lock */
static void mlx5vf_mig_reset_work(struct work_struct *work)
{
	struct mlx5vf_mig *mig = container_of(work, struct mlx5vf_mig, reset_work);

	mlx5vf_mig_lock(mig);
	mlx5vf_mig_unlock(mig);
}

/**
 * mlx5vf_mig_reset_done() - the PCI core reset the function
 * @mig: the state
 *
 * Called from the pci_error_handlers' reset_done, under locks of the PCI
 * core and of the library (memory_lock for a reset the library made) that
 * a holder of mlx5vf_mig.lock may wait for (a session's buffered copy to
 * or from a user's mapping of a BAR faults, under the session's lock, and
 * the fault takes memory_lock): the reset is only noted here, and
 * applied by the next holder of the lock, or by a work item soon.
 */
void mlx5vf_mig_reset_done(struct mlx5vf_mig *mig)
{
	spin_lock(&mig->reset_lock);
	mig->deferred_reset = true;
	spin_unlock(&mig->reset_lock);
	schedule_work(&mig->reset_work);
}

/**
 * mlx5vf_mig_detach() - the PF side detaches the VF
 * @mig: the state
 *
 * Called before mlx5_core disables the VF's HCA, while commands still
 * work: the session ends (its data fd fails with -ENOTCONN), nothing is
 * suspended any more once the HCA comes back, and the state loses its
 * session as the top of the file says.
 */
void mlx5vf_mig_detach(struct mlx5vf_mig *mig)
{
	mlx5vf_mig_lock(mig);
	if (mig->detached)	/* heard at fusion already */
		goto out_unlock;
	mig->detached = true;
	if (mig->offered && !mig->dead) {
		mlx5vf_mig_end_session(mig, -ENOTCONN);
		mig->suspended = 0;
		switch (mig->state) {
		case VFIO_DEVICE_STATE_PRE_COPY:
			mig->state = VFIO_DEVICE_STATE_RUNNING;
			break;
		case VFIO_DEVICE_STATE_PRE_COPY_P2P:
			mig->state = VFIO_DEVICE_STATE_RUNNING_P2P;
			break;
		case VFIO_DEVICE_STATE_STOP_COPY:
			mig->state = VFIO_DEVICE_STATE_STOP;
			break;
		case VFIO_DEVICE_STATE_RESUMING:
			mig->state = VFIO_DEVICE_STATE_ERROR;
			break;
		default:
			break;
		}
		mlx5vf_mig_unclaim(mig);
	}
out_unlock:
	mlx5vf_mig_unlock(mig);
}

/**
 * mlx5vf_mig_attach() - the PF side attached the VF again
 * @mig: the state
 */
void mlx5vf_mig_attach(struct mlx5vf_mig *mig)
{
	mlx5vf_mig_lock(mig);
	mig->detached = false;
	mlx5vf_mig_unlock(mig);
}

/**
 * mlx5vf_mig_abort() - end any migration: the user or a half goes away
 * @mig: the state
 * @dead: removal started: refuse any further migration
 *
 * Sessions fail with -ENODEV (removal) or -EINVAL (close) from now on; the
 * VHCA runs again.
 */
void mlx5vf_mig_abort(struct mlx5vf_mig *mig, bool dead)
{
	mlx5vf_mig_lock(mig);
	if (dead)
		mig->dead = true;
	if (mig->offered && mlx5vf_mig_to_running(mig, dead ? -ENODEV : -EINVAL))
		dev_warn(mig->dev, "cannot resume the VHCA\n");
	mlx5vf_mig_unlock(mig);
}

/* An arc failed: ERROR, no session */
static struct mlx5vf_session *mlx5vf_mig_fail(struct mlx5vf_mig *mig, int err)
{
	mlx5vf_mig_end_session(mig, err);
	mig->state = VFIO_DEVICE_STATE_ERROR;
	return ERR_PTR(err);
}

/* An arc that changes the VHCA only */
static struct mlx5vf_session *
mlx5vf_mig_vhca_arc(struct mlx5vf_mig *mig, enum vfio_device_mig_state next,
		    int ret)
{
	if (ret)
		return mlx5vf_mig_fail(mig, ret);
	mig->state = next;
	return NULL;
}

/* An arc that starts a session of @kind */
static struct mlx5vf_session *
mlx5vf_mig_new_session(struct mlx5vf_mig *mig, enum vfio_device_mig_state next,
		       enum mlx5vf_session_kind kind)
{
	struct mlx5vf_session *s;

	if (WARN_ON(mig->session))
		return mlx5vf_mig_fail(mig, -EINVAL);
	s = mlx5vf_session_new(mig->madev, kind);
	if (IS_ERR(s))
		return mlx5vf_mig_fail(mig, PTR_ERR(s));
	mig->session = s;
	mig->epoch++;
	mig->state = next;
	return s;
}

#define ARC(a, b) (cur == VFIO_DEVICE_STATE_##a && next == VFIO_DEVICE_STATE_##b)

/**
 * mlx5vf_mig_step() - perform one arc of the migration FSM
 * @mig: the state
 * @next: the state one arc away from the current one
 *
 * Return: NULL when the arc is done and starts no session; the new
 * session (the state machine keeps its own reference, the caller gets to
 * use it for the transport until the session is disabled) when it starts
 * one; an ERR_PTR when it failed (the device is then in ERROR), or
 * when it was refused with the state unchanged: -ENOTCONN while the VF
 * is detached, the firmware's error when the suspension a detach undid
 * could not be made again.
 */
struct mlx5vf_session *mlx5vf_mig_step(struct mlx5vf_mig *mig,
				       enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = mig->state;
	/* The two arcs towards RUNNING, each resuming a half (below) */
	bool resuming = ARC(RUNNING_P2P, RUNNING) || ARC(STOP, RUNNING_P2P);
	int ret;

	lockdep_assert_held(&mig->lock);

	/*
	 * Detached: nothing is suspended, so the arcs towards RUNNING need no
	 * command; the others would, and are refused with the state kept
	 */
	if (mig->detached && !resuming)
		return ERR_PTR(-ENOTCONN);

	/*
	 * After a detach and attach the VHCA runs under a RUNNING_P2P or STOP
	 * that said otherwise: an arc going on from there suspends first what
	 * the state stands for (nothing to do in any other case: it is
	 * suspended already).  A failure changes no state.
	 */
	if ((cur == VFIO_DEVICE_STATE_RUNNING_P2P || cur == VFIO_DEVICE_STATE_STOP) &&
	    !resuming) {
		ret = mlx5vf_mig_suspend(mig, MLX5VF_SUSP_INITIATOR);
		if (!ret && cur == VFIO_DEVICE_STATE_STOP)
			ret = mlx5vf_mig_suspend(mig, MLX5VF_SUSP_RESPONDER);
		if (ret)
			return ERR_PTR(ret);
	}

	/* P2P quiescing: the device stops initiating DMA */
	if (ARC(RUNNING, RUNNING_P2P) || ARC(PRE_COPY, PRE_COPY_P2P))
		return mlx5vf_mig_vhca_arc(mig, next,
					   mlx5vf_mig_suspend(mig, MLX5VF_SUSP_INITIATOR));
	if (ARC(RUNNING_P2P, RUNNING) || ARC(PRE_COPY_P2P, PRE_COPY))
		return mlx5vf_mig_vhca_arc(mig, next,
					   mlx5vf_mig_resume(mig, MLX5VF_SUSP_INITIATOR));

	/* Stop and start: the device stops answering, or answers again */
	if (ARC(RUNNING_P2P, STOP))
		return mlx5vf_mig_vhca_arc(mig, next,
					   mlx5vf_mig_suspend(mig, MLX5VF_SUSP_RESPONDER));
	if (ARC(STOP, RUNNING_P2P))
		return mlx5vf_mig_vhca_arc(mig, next,
					   mlx5vf_mig_resume(mig, MLX5VF_SUSP_RESPONDER));

	/* Saving begins: a new data stream */
	if (ARC(RUNNING, PRE_COPY) || ARC(RUNNING_P2P, PRE_COPY_P2P))
		return mlx5vf_mig_new_session(mig, next, MLX5VF_SAVE_PRECOPY);
	if (ARC(STOP, STOP_COPY))
		return mlx5vf_mig_new_session(mig, next, MLX5VF_SAVE_STOPCOPY);

	/* Saving stops the device: the same stream carries the final image */
	if (ARC(PRE_COPY_P2P, STOP_COPY)) {
		ret = mlx5vf_mig_suspend(mig, MLX5VF_SUSP_RESPONDER);
		if (!ret)
			ret = mlx5vf_session_stop_copy(mig->session);
		return mlx5vf_mig_vhca_arc(mig, next, ret);
	}

	/*
	 * Saving ends: the stream is over, whatever the reader took; what
	 * the firmware still holds of an image is taken and dropped, and a
	 * firmware still tracking for it stops
	 */
	if (ARC(PRE_COPY, RUNNING) || ARC(PRE_COPY_P2P, RUNNING_P2P) ||
	    ARC(STOP_COPY, STOP)) {
		ret = mlx5vf_session_abandon(mig->session);
		if (ret)
			return mlx5vf_mig_fail(mig, ret);
		mlx5vf_mig_end_session(mig, -EINVAL);
		mig->state = next;
		return NULL;
	}

	/* Resuming: a stream comes in, and must be complete when it ends */
	if (ARC(STOP, RESUMING))
		return mlx5vf_mig_new_session(mig, next, MLX5VF_LOAD);
	if (ARC(RESUMING, STOP)) {
		ret = mlx5vf_session_finish_load(mig->session);
		if (ret)
			return mlx5vf_mig_fail(mig, ret);
		mlx5vf_mig_end_session(mig, -EINVAL);
		mig->state = next;
		return NULL;
	}

	/* vfio_mig_get_next_state() hands out single arcs only */
	WARN_ONCE(1, "mlx5-vfio-pci: no arc %d -> %d\n", cur, next);
	return mlx5vf_mig_fail(mig, -EINVAL);
}

#undef ARC

/**
 * mlx5vf_mig_set_error() - a transport could not use a new session
 * @mig: the state
 * @err: why
 */
void mlx5vf_mig_set_error(struct mlx5vf_mig *mig, int err)
{
	lockdep_assert_held(&mig->lock);
	mlx5vf_mig_fail(mig, err);
}

/**
 * mlx5vf_mig_claim() - a transport is about to change the state
 * @mig: the state
 * @user: the transport
 *
 * A device is driven through the v2 feature or the v1 region, never both
 * at once: the transport that takes it off RUNNING owns it until it is
 * RUNNING again (by that transport, a reset or close).
 *
 * Return: 0, or -EBUSY while the other transport owns the device.
 */
int mlx5vf_mig_claim(struct mlx5vf_mig *mig, enum mlx5vf_mig_user user)
{
	lockdep_assert_held(&mig->lock);

	if (mig->user != MLX5VF_USER_NONE && mig->user != user)
		return -EBUSY;
	mig->user = user;
	return 0;
}

/**
 * mlx5vf_mig_unclaim() - a transport's request is over
 * @mig: the state
 *
 * The device is free for either transport again once it is RUNNING.
 */
void mlx5vf_mig_unclaim(struct mlx5vf_mig *mig)
{
	lockdep_assert_held(&mig->lock);

	if (mig->state == VFIO_DEVICE_STATE_RUNNING)
		mig->user = MLX5VF_USER_NONE;
}

/**
 * mlx5vf_mig_data_size() - estimate of the stop-copy stream's length
 * @mig: the state
 * @len: where to store it
 *
 * Return: 0 or the firmware's error.
 */
int mlx5vf_mig_data_size(struct mlx5vf_mig *mig, unsigned long *len)
{
	u64 remaining = 0;
	u32 required = 0;
	int ret;

	mlx5vf_mig_lock(mig);
	if (mig->dead)
		ret = -ENODEV;
	else if (mig->detached)
		ret = -ENOTCONN;
	else
		ret = mlx5vf_cmd_query_mig_state(mig->madev, false, &required,
						 &remaining);
	mlx5vf_mig_unlock(mig);
	if (ret)
		return ret;
	*len = max_t(u64, required, remaining) + mlx5vf_stream_overhead();
	return 0;
}
