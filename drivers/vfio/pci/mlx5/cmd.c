// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci firmware commands.
 *
 * Every command is built in the layout of <linux/mlx5/mlx5_ifc.h> with
 * MLX5_SET() and handed to the PF side's exec op; the answer's status is
 * checked before any field of it is read.  A command that was not delivered
 * returns the provider's errno, one the firmware refused returns the errno
 * its status stands for (mlx5vf_status_errno()).  Nothing here keeps state:
 * the caller serialises what must not run concurrently.
 */
#include <linux/device.h>
#include <linux/errno.h>
#include <linux/mlx5/device.h>
#include <linux/mlx5/mlx5_ifc.h>
#include <linux/slab.h>

#include "mlx5_vfio_priv.h"

/* The errno a firmware status stands for */
static int mlx5vf_status_errno(u8 status)
{
	switch (status) {
	case MLX5_CMD_STAT_OK:
		return 0;
	case MLX5_CMD_STAT_BAD_OP_ERR:
		return -EOPNOTSUPP;
	case MLX5_CMD_STAT_BAD_PARAM_ERR:
	case MLX5_CMD_STAT_BAD_RES_ERR:
	case MLX5_CMD_STAT_IX_ERR:
	case MLX5_CMD_STAT_BAD_INP_LEN_ERR:
		return -EINVAL;
	case MLX5_CMD_STAT_BAD_RES_STATE_ERR:
		/* the VHCA is not in the state the command needs: callers act on it */
		return -EBADFD;
	case MLX5_CMD_STAT_RES_BUSY:
	case MLX5_CMD_STAT_NOT_READY:
		return -EBUSY;
	case MLX5_CMD_STAT_LIM_ERR:
	case MLX5_CMD_STAT_NO_RES_ERR:
	case MLX5_CMD_STAT_BAD_SIZE_OUTS_CQES_ERR:
		return -ENOSPC;
	default:
		/* internal errors, bad output length, anything unknown */
		return -EIO;
	}
}

/*
 * Execute @in, answer in @out.  All *_out layouts start with the same
 * status and syndrome, read here through the suspend_vhca_out layout.
 */
int mlx5vf_exec(struct mlx5_vfio_aux_dev *madev, const void *in,
		int inlen, void *out, int outlen)
{
	u16 opcode = MLX5_GET(suspend_vhca_in, in, opcode);
	u32 syndrome;
	u8 status;
	int ret;

	ret = madev->ops->exec(madev, in, inlen, out, outlen);
	if (ret) {
		dev_dbg(&madev->adev.dev, "command 0x%x not delivered: %d\n",
			opcode, ret);
		return ret;
	}

	status = MLX5_GET(suspend_vhca_out, out, status);
	if (status == MLX5_CMD_STAT_OK)
		return 0;

	syndrome = MLX5_GET(suspend_vhca_out, out, syndrome);
	ret = mlx5vf_status_errno(status);
	dev_warn_ratelimited(&madev->adev.dev,
			     "command 0x%x failed: status 0x%x syndrome 0x%x (%d)\n",
			     opcode, status, syndrome, ret);
	return ret;
}

/* QUERY_HCA_CAP, current values or (@max) the maximum ones */
static void *mlx5vf_cmd_query_cap(struct mlx5_vfio_aux_dev *madev, u16 cap_type,
				  bool of_vf, bool max)
{
	u32 in[MLX5_ST_SZ_DW(query_hca_cap_in)] = {};
	int outlen = MLX5_ST_SZ_BYTES(query_hca_cap_out);
	void *out;
	int ret;

	/* A few KiB: too much for the stack */
	out = kzalloc(outlen, GFP_KERNEL);
	if (!out)
		return ERR_PTR(-ENOMEM);

	MLX5_SET(query_hca_cap_in, in, opcode, MLX5_CMD_OP_QUERY_HCA_CAP);
	MLX5_SET(query_hca_cap_in, in, op_mod,
		 (cap_type << 1) | (max ? HCA_CAP_OPMOD_GET_MAX : HCA_CAP_OPMOD_GET_CUR));
	if (of_vf) {
		MLX5_SET(query_hca_cap_in, in, other_function, 1);
		MLX5_SET(query_hca_cap_in, in, function_id, madev->function_id);
	}

	ret = mlx5vf_exec(madev, in, sizeof(in), out, outlen);
	if (ret) {
		kfree(out);
		return ERR_PTR(ret);
	}
	return out;
}

/**
 * mlx5vf_cmd_query_hca_cap() - QUERY_HCA_CAP, current values
 * @madev: the PF side of the VF
 * @cap_type: MLX5_CAP_GENERAL, MLX5_CAP_ADV_VIRTUALIZATION, ...
 * @of_vf: ask about the VF (other_function), else about the PF itself
 *
 * Return: the command's output, to kfree(), with the capability at
 * MLX5_ADDR_OF(query_hca_cap_out, out, capability); or an ERR_PTR.
 */
void *mlx5vf_cmd_query_hca_cap(struct mlx5_vfio_aux_dev *madev, u16 cap_type,
			       bool of_vf)
{
	return mlx5vf_cmd_query_cap(madev, cap_type, of_vf, false);
}

/**
 * mlx5vf_cmd_mig_caps() - whether the firmware can migrate the VF
 * @madev: the PF side of the VF
 * @missing: set to NULL, or to the name of the first capability absent
 *
 * The capabilities upstream's driver requires before it offers migration,
 * and one more: the PF's general caps have migration; its general_2 caps
 * migration_multi_load (one LOAD per piece), migration_tracking_state
 * (pre-copy) and migration_in_chunks (the firmware asks for a piece of at
 * most a chunk at a time: no buffer ever holds a whole image; upstream
 * also serves firmware without it, with whole-image buffers, we do not);
 * the VF's general_2 caps have migratable.
 *
 * Return: 0 (*@missing says the verdict), or a failed query's errno.
 */
int mlx5vf_cmd_mig_caps(struct mlx5_vfio_aux_dev *madev, const char **missing)
{
	void *out, *cap;

	*missing = NULL;
	out = mlx5vf_cmd_query_hca_cap(madev, MLX5_CAP_GENERAL, false);
	if (IS_ERR(out))
		return PTR_ERR(out);
	cap = MLX5_ADDR_OF(query_hca_cap_out, out, capability);
	if (!MLX5_GET(cmd_hca_cap, cap, migration))
		*missing = "migration";
	kfree(out);
	if (*missing)
		return 0;

	out = mlx5vf_cmd_query_hca_cap(madev, MLX5_CAP_GENERAL_2, false);
	if (IS_ERR(out))
		return PTR_ERR(out);
	cap = MLX5_ADDR_OF(query_hca_cap_out, out, capability);
	if (!MLX5_GET(cmd_hca_cap_2, cap, migration_multi_load))
		*missing = "migration_multi_load";
	else if (!MLX5_GET(cmd_hca_cap_2, cap, migration_tracking_state))
		*missing = "migration_tracking_state";
	else if (!MLX5_GET(cmd_hca_cap_2, cap, migration_in_chunks))
		*missing = "migration_in_chunks";
	kfree(out);
	if (*missing)
		return 0;

	/* The maximum value, as upstream reads it: the one devlink sets */
	out = mlx5vf_cmd_query_cap(madev, MLX5_CAP_GENERAL_2, true, true);
	if (IS_ERR(out))
		return PTR_ERR(out);
	cap = MLX5_ADDR_OF(query_hca_cap_out, out, capability);
	if (!MLX5_GET(cmd_hca_cap_2, cap, migratable))
		*missing = "migratable (of the VF)";
	kfree(out);
	return 0;
}

/**
 * mlx5vf_cmd_query_vhca_id() - ask the firmware which VHCA the VF is
 * @madev: the PF side of the VF
 * @vhca_id: where to store the answer
 *
 * QUERY_HCA_CAP of the VF's current general device capabilities.
 *
 * Return: 0 or a negative errno.
 */
int mlx5vf_cmd_query_vhca_id(struct mlx5_vfio_aux_dev *madev, u16 *vhca_id)
{
	void *out = mlx5vf_cmd_query_hca_cap(madev, MLX5_CAP_GENERAL, true);

	if (IS_ERR(out))
		return PTR_ERR(out);
	*vhca_id = MLX5_GET(cmd_hca_cap,
			    MLX5_ADDR_OF(query_hca_cap_out, out, capability),
			    vhca_id);
	kfree(out);
	return 0;
}

/**
 * mlx5vf_cmd_suspend_vhca() - SUSPEND_VHCA
 * @madev: the PF side of the VF
 * @op_mod: MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR or _RESPONDER
 *
 * Return: 0 or a negative errno.
 */
int mlx5vf_cmd_suspend_vhca(struct mlx5_vfio_aux_dev *madev, u16 op_mod)
{
	u32 out[MLX5_ST_SZ_DW(suspend_vhca_out)] = {};
	u32 in[MLX5_ST_SZ_DW(suspend_vhca_in)] = {};

	MLX5_SET(suspend_vhca_in, in, opcode, MLX5_CMD_OP_SUSPEND_VHCA);
	MLX5_SET(suspend_vhca_in, in, op_mod, op_mod);
	MLX5_SET(suspend_vhca_in, in, vhca_id, madev->vhca_id);
	return mlx5vf_exec(madev, in, sizeof(in), out, sizeof(out));
}

/**
 * mlx5vf_cmd_resume_vhca() - RESUME_VHCA
 * @madev: the PF side of the VF
 * @op_mod: MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER or _INITIATOR
 *
 * Return: 0 or a negative errno.
 */
int mlx5vf_cmd_resume_vhca(struct mlx5_vfio_aux_dev *madev, u16 op_mod)
{
	u32 out[MLX5_ST_SZ_DW(resume_vhca_out)] = {};
	u32 in[MLX5_ST_SZ_DW(resume_vhca_in)] = {};

	MLX5_SET(resume_vhca_in, in, opcode, MLX5_CMD_OP_RESUME_VHCA);
	MLX5_SET(resume_vhca_in, in, op_mod, op_mod);
	MLX5_SET(resume_vhca_in, in, vhca_id, madev->vhca_id);
	return mlx5vf_exec(madev, in, sizeof(in), out, sizeof(out));
}

/**
 * mlx5vf_cmd_query_mig_state() - QUERY_VHCA_MIGRATION_STATE in chunk mode
 * @madev: the PF side of the VF
 * @incremental: ask about what changed since the last tracked save
 * @required: bytes the next SAVE_VHCA_STATE needs (0: nothing to save)
 * @remaining: optional; bytes of the whole image still to be saved
 *
 * Return: 0 or a negative errno.
 */
int mlx5vf_cmd_query_mig_state(struct mlx5_vfio_aux_dev *madev,
			       bool incremental, u32 *required,
			       u64 *remaining)
{
	u32 out[MLX5_ST_SZ_DW(query_vhca_migration_state_out)] = {};
	u32 in[MLX5_ST_SZ_DW(query_vhca_migration_state_in)] = {};
	int ret;

	MLX5_SET(query_vhca_migration_state_in, in, opcode,
		 MLX5_CMD_OP_QUERY_VHCA_MIGRATION_STATE);
	MLX5_SET(query_vhca_migration_state_in, in, vhca_id, madev->vhca_id);
	MLX5_SET(query_vhca_migration_state_in, in, incremental, incremental);
	/* Migration is offered only with migration_in_chunks */
	MLX5_SET(query_vhca_migration_state_in, in, chunk, 1);
	ret = mlx5vf_exec(madev, in, sizeof(in), out, sizeof(out));
	if (ret)
		return ret;

	*required = MLX5_GET(query_vhca_migration_state_out, out,
			     required_umem_size);
	if (remaining)
		*remaining = MLX5_GET64(query_vhca_migration_state_out, out,
					remaining_total_size);
	return 0;
}

/**
 * mlx5vf_cmd_save_vhca() - SAVE_VHCA_STATE into a memory key
 * @madev: the PF side of the VF
 * @incremental: save only what changed since the last tracked save
 * @track: start tracking changes from this save on
 * @mkey: key of the destination buffer (va 0 = its first byte)
 * @va: where in @mkey the image goes
 * @size: bytes available at @va
 * @actual: bytes the firmware wrote
 * @next: bytes the next piece of this image needs, 0 when it is complete
 *
 * Return: 0 or a negative errno; -EPROTO when the firmware claims to have
 * written more than @size.
 */
int mlx5vf_cmd_save_vhca(struct mlx5_vfio_aux_dev *madev, bool incremental,
			 bool track, u32 mkey, u64 va, u32 size, u32 *actual,
			 u32 *next)
{
	u32 out[MLX5_ST_SZ_DW(save_vhca_state_out)] = {};
	u32 in[MLX5_ST_SZ_DW(save_vhca_state_in)] = {};
	int ret;

	MLX5_SET(save_vhca_state_in, in, opcode, MLX5_CMD_OP_SAVE_VHCA_STATE);
	MLX5_SET(save_vhca_state_in, in, vhca_id, madev->vhca_id);
	MLX5_SET(save_vhca_state_in, in, incremental, incremental);
	MLX5_SET(save_vhca_state_in, in, set_track, track);
	MLX5_SET64(save_vhca_state_in, in, va, va);
	MLX5_SET(save_vhca_state_in, in, mkey, mkey);
	MLX5_SET(save_vhca_state_in, in, size, size);
	ret = mlx5vf_exec(madev, in, sizeof(in), out, sizeof(out));
	if (ret)
		return ret;

	*actual = MLX5_GET(save_vhca_state_out, out, actual_image_size);
	*next = MLX5_GET(save_vhca_state_out, out, next_required_umem_size);
	if (*actual > size) {
		dev_warn_ratelimited(&madev->adev.dev,
				     "SAVE_VHCA_STATE wrote %u bytes into %u\n",
				     *actual, size);
		return -EPROTO;
	}
	return 0;
}

/**
 * mlx5vf_cmd_load_vhca() - LOAD_VHCA_STATE from a memory key
 * @madev: the PF side of the VF
 * @mkey: key of the source buffer (va 0 = its first byte)
 * @va: where in @mkey the image starts
 * @size: bytes of image at @va
 *
 * Return: 0 or a negative errno.
 */
int mlx5vf_cmd_load_vhca(struct mlx5_vfio_aux_dev *madev, u32 mkey, u64 va,
			 u32 size)
{
	u32 out[MLX5_ST_SZ_DW(load_vhca_state_out)] = {};
	u32 in[MLX5_ST_SZ_DW(load_vhca_state_in)] = {};

	MLX5_SET(load_vhca_state_in, in, opcode, MLX5_CMD_OP_LOAD_VHCA_STATE);
	MLX5_SET(load_vhca_state_in, in, vhca_id, madev->vhca_id);
	MLX5_SET64(load_vhca_state_in, in, va, va);
	MLX5_SET(load_vhca_state_in, in, mkey, mkey);
	MLX5_SET(load_vhca_state_in, in, size, size);
	return mlx5vf_exec(madev, in, sizeof(in), out, sizeof(out));
}
