/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Auxiliary-device bookkeeping shared by the PF-side providers of
 * <linux/mlx5_vfio.h> (mlx5-vfio-sim and mlx5-vfio-pf; aux.c is compiled
 * into each).  A provider embeds struct mlx5_vfio_aux in its per-VF object
 * and implements a backend; this code adds and removes the auxiliary
 * device, fills the ops the driver sees, refuses commands once removal has
 * started, and destroys memory keys the driver leaked.
 *
 * Lifetime: mlx5_vfio_aux_add() hands the object to the driver core; from
 * then on (and when it fails) the object is freed only through the
 * backend's release(), called once the last reference to the auxiliary
 * device is gone.  mlx5_vfio_aux_remove() marks the device dying (exec
 * and mkey_create then fail with -ENODEV, waits in mlx5_vfio_aux_wait()
 * end), deletes the auxiliary device (which waits for the driver's
 * remove()), destroys leaked keys and drops the provider's reference.
 *
 * mlx5_vfio_aux_detach() and mlx5_vfio_aux_attach() follow mlx5_core
 * disabling and enabling the VF's HCA: they call the driver's notifiers
 * (<linux/mlx5_vfio.h>, "Detach and attach"); in between, commands and
 * new keys fail with -ENOTCONN.
 *
 * Locking: @ev_lock serialises detach and attach (it is held while the
 * driver's notifiers run, and taken by nothing they call).  @dying is
 * written once, @detached under @ev_lock; both are read locklessly, and
 * @wq wakes waiters when @dying is set.  @mkeys has its internal lock.
 */
#ifndef MLX5_VFIO_AUX_H
#define MLX5_VFIO_AUX_H

#include <linux/mlx5_vfio.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/xarray.h>

struct mlx5_vfio_aux;

/**
 * struct mlx5_vfio_aux_backend - a provider's implementation of the ops
 * @exec: execute a command; called with lengths checked (at least a
 *	command header each), @out zeroed, and not dying at entry
 * @mkey_create: as &mlx5_vfio_aux_ops.mkey_create, @npages > 0
 * @mkey_destroy: as &mlx5_vfio_aux_ops.mkey_destroy, only for keys
 *	@mkey_create returned and not yet destroyed
 * @track_read_clear: optional; as &mlx5_vfio_aux_ops.track_read_clear,
 *	called with @max > 0, a nonempty window that does not wrap and not
 *	dying at entry.  The driver sees the op only when it is set.
 * @release: free the object embedding the &struct mlx5_vfio_aux
 */
struct mlx5_vfio_aux_backend {
	int (*exec)(struct mlx5_vfio_aux *aux, const void *in, int inlen,
		    void *out, int outlen);
	int (*mkey_create)(struct mlx5_vfio_aux *aux, struct page **pages,
			   unsigned int npages, enum dma_data_direction dir,
			   u32 *mkey);
	void (*mkey_destroy)(struct mlx5_vfio_aux *aux, u32 mkey);
	int (*track_read_clear)(struct mlx5_vfio_aux *aux, u32 obj_id,
				u64 iova, u64 length, void *entries, u32 max,
				u32 *n);
	void (*release)(struct mlx5_vfio_aux *aux);
};

/**
 * struct mlx5_vfio_aux - the provider's side of one VF's auxiliary device
 * @madev: what the driver sees
 * @be: the provider's backend
 * @dying: removal has started; set once, read with READ_ONCE()
 * @ev_lock: serialises detach and attach
 * @detached: the VF's HCA is disabled; written under @ev_lock, read with
 *	READ_ONCE()
 * @wq: woken when @dying is set
 * @mkeys: keys the driver holds (value entries indexed by key), for the
 *	leak check at removal; protected by its own internal lock
 */
struct mlx5_vfio_aux {
	struct mlx5_vfio_aux_dev madev;
	const struct mlx5_vfio_aux_backend *be;
	bool dying;
	struct mutex ev_lock;	/* detach and attach; see the top */
	bool detached;
	wait_queue_head_t wq;
	struct xarray mkeys;
};

/* Size of a command's input and output header (opcode/op_mod, status/syndrome) */
#define MLX5_VFIO_AUX_HDR_LEN	8

static inline struct mlx5_vfio_aux *to_mlx5_vfio_aux(struct mlx5_vfio_aux_dev *madev)
{
	return container_of(madev, struct mlx5_vfio_aux, madev);
}

int mlx5_vfio_aux_add(struct mlx5_vfio_aux *aux, struct device *parent,
		      u32 domain, u8 bus, u8 devfn, u16 function_id,
		      u16 vhca_id, const struct mlx5_vfio_aux_backend *be);
void mlx5_vfio_aux_remove(struct mlx5_vfio_aux *aux);
void mlx5_vfio_aux_detach(struct mlx5_vfio_aux *aux);
void mlx5_vfio_aux_attach(struct mlx5_vfio_aux *aux);
int mlx5_vfio_aux_wait(struct mlx5_vfio_aux *aux, unsigned int ms);

#endif /* MLX5_VFIO_AUX_H */
