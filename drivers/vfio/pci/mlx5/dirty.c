// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci device dirty-page tracking: the vfio core's log ops
 * (VFIO_DEVICE_FEATURE_DMA_LOGGING_START, _STOP and _REPORT) on the
 * firmware's page tracker, one general object of type
 * MLX5_OBJ_TYPE_PAGE_TRACK per device while tracking runs.
 *
 *   START	CREATE_GENERAL_OBJECT with the ranges and the page size
 *   REPORT	MODIFY to REPORTING, the provider's track_read_clear until
 *		drained, MODIFY back to TRACKING
 *   STOP	DESTROY_GENERAL_OBJECT
 *
 * What the vfio core checks before calling us (drivers/vfio/vfio_main.c
 * of 6.12): START has 1 to PAGE_SIZE / 16 ranges, each aligned to the
 * requested page size, not wrapping, ending at most at ULONG_MAX, not
 * overlapping another; REPORT has a power-of-two page size of at least
 * 4 KiB and a window that does not wrap.  The core keeps no state: a
 * second START, STOP or REPORT without START, a report window outside
 * the tracked ranges are ours to refuse.  Our own rules, besides the
 * firmware's (its capability MLX5_CAP_ADV_VIRTUALIZATION):
 *   - the page size must be a power of two of at least the firmware's
 *     minimum (else -EINVAL); above its maximum, the maximum is used
 *     and returned to the user (the ranges, aligned to the larger size,
 *     are aligned to it too);
 *   - an empty range: -EINVAL;
 *   - more ranges than pg_track_max_num_range: -E2BIG (the driver does
 *     not merge ranges: a user asking for exactness gets it or an errno);
 *   - a range ending above 2^pg_track_log_max_addr_space: -E2BIG;
 *   - a second START while tracking: -EBUSY; STOP or REPORT while not
 *     tracking: -EINVAL; a REPORT window not entirely covered by the
 *     tracked ranges, or not aligned to the tracker's page size (the
 *     tracker clears whole pages): -EINVAL; after removal began: -ENODEV;
 *   - firmware refusals get the errno of their status (cmd.c), e.g. a
 *     tracker too large for the firmware's memory -ENOSPC.
 * Tracking stops (the tracker is destroyed) at STOP, when the device is
 * closed, reset through its own fd (VFIO_DEVICE_RESET, a hot reset it
 * asks for) or removed, and when the PF side detaches the VF
 * (mlx5vf_dirty_detach(): mlx5_core disables its HCA).  After a detach
 * the dirty pages since the last REPORT are lost: every REPORT fails
 * with -EIO until the user STOPs (which then succeeds) or STARTs again;
 * a START while detached fails with -ENOTCONN.  (Upstream's driver fails
 * a REPORT after a detach with -EINVAL: logging is off; -EIO says the
 * pages are lost, not that the user forgot to START.)  Not (yet): an FLR
 * the user starts through emulated config space, or a hot reset asked
 * for through another device of the set; the tracker then keeps running
 * over a reset function.
 *
 * A REPORT holds the lock while the core writes the user's bitmap, which
 * may fault: removal waits for it (known limit: a user whose bitmap
 * faults slowly delays removal by as much).
 *
 * Tracking is independent of migration: either may run without the
 * other, and a migration state change neither starts nor stops tracking
 * (the uAPI says DMA logging is not connected to the device state).
 *
 * Offered only where everything needed exists: the provider delivers
 * reports (track_read_clear; the production mlx5-vfio-pf does not), the
 * firmware answers the capability with at least one range, and the
 * kernel has the vfio core's report path (CONFIG_IOMMUFD_DRIVER, which
 * provides iova_bitmap: without it the core fails every REPORT with
 * -EOPNOTSUPP before calling us, and offering START alone would only
 * mislead a VMM).
 */
#include <linux/bitops.h>
#include <linux/interval_tree.h>
#include <linux/iova_bitmap.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mlx5/device.h>
#include <linux/mlx5/mlx5_ifc.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "mlx5_vfio_priv.h"

/* Report entries fetched per call of the provider */
#define MLX5VF_DIRTY_ENTRIES \
	(PAGE_SIZE / MLX5_ST_SZ_BYTES(page_track_report_entry))

void mlx5vf_dirty_init(struct mlx5vf_dirty *d, struct device *dev)
{
	mutex_init(&d->lock);
	d->dev = dev;
}

void mlx5vf_dirty_destroy(struct mlx5vf_dirty *d)
{
	mutex_destroy(&d->lock);
}

/* QUERY_HCA_CAP of the PF's advanced virtualization capabilities */
static int mlx5vf_dirty_query_caps(struct mlx5vf_dirty *d)
{
	void *out, *cap;
	int ret = 0;

	out = mlx5vf_cmd_query_hca_cap(d->madev, MLX5_CAP_ADV_VIRTUALIZATION,
				       false);
	if (IS_ERR(out))
		return PTR_ERR(out);
	cap = MLX5_ADDR_OF(query_hca_cap_out, out, capability);
	d->max_ranges = MLX5_GET(adv_virtualization_cap, cap,
				 pg_track_max_num_range);
	d->log_min_page = MLX5_GET(adv_virtualization_cap, cap,
				   pg_track_log_min_page_size);
	d->log_max_page = MLX5_GET(adv_virtualization_cap, cap,
				   pg_track_log_max_page_size);
	d->log_max_space = MLX5_GET(adv_virtualization_cap, cap,
				    pg_track_log_max_addr_space);
	if (!d->max_ranges || d->log_min_page < PAGE_SHIFT ||
	    d->log_max_page < d->log_min_page || d->log_max_space > 64 ||
	    d->log_max_space < d->log_max_page)
		ret = -EOPNOTSUPP;
	kfree(out);
	return ret;
}

/**
 * mlx5vf_dirty_probe() - find out whether dirty tracking can be offered
 * @d: the device's tracking state
 * @madev: the PF side
 *
 * Return: 0 when it can (the caller then sets the device's log_ops),
 * else a negative errno.
 */
int mlx5vf_dirty_probe(struct mlx5vf_dirty *d, struct mlx5_vfio_aux_dev *madev)
{
	int ret;

	d->madev = madev;
	if (!IS_ENABLED(CONFIG_IOMMUFD_DRIVER) || !madev->ops->track_read_clear)
		return -EOPNOTSUPP;
	ret = mlx5vf_dirty_query_caps(d);
	if (ret) {
		dev_info(d->dev, "no dirty tracking: page tracker capability: %d\n",
			 ret);
		return ret;
	}
	d->offered = true;
	return 0;
}

/* The common header of the general object commands */
static void mlx5vf_dirty_obj_hdr(void *in, u16 opcode, u32 obj_id)
{
	MLX5_SET(general_obj_in_cmd_hdr, in, opcode, opcode);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_type, MLX5_OBJ_TYPE_PAGE_TRACK);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_id, obj_id);
}

static int mlx5vf_dirty_set_state(struct mlx5vf_dirty *d, u8 state)
{
	u32 in[MLX5_ST_SZ_DW(modify_page_track_obj_in)] = {};
	u32 out[MLX5_ST_SZ_DW(general_obj_out_cmd_hdr)] = {};
	void *ctx = MLX5_ADDR_OF(modify_page_track_obj_in, in, obj_context);

	lockdep_assert_held(&d->lock);
	mlx5vf_dirty_obj_hdr(in, MLX5_CMD_OP_MODIFY_GENERAL_OBJECT, d->obj_id);
	MLX5_SET64(page_track, ctx, modify_field_select,
		   MLX5_VFIO_PAGE_TRACK_MODIFY_STATE);
	MLX5_SET(page_track, ctx, vhca_id, d->madev->vhca_id);
	MLX5_SET(page_track, ctx, state, state);
	return mlx5vf_exec(d->madev, in, sizeof(in), out, sizeof(out));
}

/* Destroy the tracker and forget it; the firmware's answer is returned */
static int mlx5vf_dirty_stop_locked(struct mlx5vf_dirty *d)
{
	u32 in[MLX5_ST_SZ_DW(general_obj_in_cmd_hdr)] = {};
	u32 out[MLX5_ST_SZ_DW(general_obj_out_cmd_hdr)] = {};
	int ret;

	lockdep_assert_held(&d->lock);
	mlx5vf_dirty_obj_hdr(in, MLX5_CMD_OP_DESTROY_GENERAL_OBJECT, d->obj_id);
	ret = mlx5vf_exec(d->madev, in, sizeof(in), out, sizeof(out));
	/*
	 * Forgotten even when the firmware refused: the provider destroys
	 * what is left when the auxiliary device goes (<linux/mlx5_vfio.h>).
	 */
	d->active = false;
	kfree(d->ranges);
	d->ranges = NULL;
	d->nranges = 0;
	free_page((unsigned long)d->entries);
	d->entries = NULL;
	return ret;
}

/**
 * mlx5vf_dirty_teardown() - stop tracking for close, reset or removal
 * @d: the device's tracking state
 * @dead: removal: refuse a new START from now on
 */
void mlx5vf_dirty_teardown(struct mlx5vf_dirty *d, bool dead)
{
	int ret;

	mutex_lock(&d->lock);
	if (dead)
		d->dead = true;
	d->lost = false;
	if (d->active) {
		ret = mlx5vf_dirty_stop_locked(d);
		if (ret && ret != -ENODEV)
			dev_warn(d->dev, "cannot destroy the page tracker: %d\n",
				 ret);
	}
	mutex_unlock(&d->lock);
}

/**
 * mlx5vf_dirty_detach() - the PF side detaches the VF: tracking ends
 * @d: the device's tracking state
 *
 * The tracker is destroyed while commands still work; a user who was
 * tracking learns it from its next REPORT (-EIO).  No START succeeds
 * until mlx5vf_dirty_attach().
 */
void mlx5vf_dirty_detach(struct mlx5vf_dirty *d)
{
	int ret;

	mutex_lock(&d->lock);
	d->detached = true;
	/* Not after removal, which ended tracking (and refuses a START) */
	if (d->active) {
		d->lost = true;
		ret = mlx5vf_dirty_stop_locked(d);
		if (ret)
			dev_warn(d->dev, "cannot destroy the page tracker: %d\n",
				 ret);
	}
	mutex_unlock(&d->lock);
}

/**
 * mlx5vf_dirty_attach() - the PF side attached the VF again
 * @d: the device's tracking state
 */
void mlx5vf_dirty_attach(struct mlx5vf_dirty *d)
{
	mutex_lock(&d->lock);
	d->detached = false;
	mutex_unlock(&d->lock);
}

/* Copy the core's ranges (sorted by start) and check them against the caps */
static int mlx5vf_dirty_take_ranges(struct mlx5vf_dirty *d,
				    struct rb_root_cached *root, u32 nnodes)
{
	struct interval_tree_node *node;
	u32 i = 0;

	lockdep_assert_held(&d->lock);

	for (node = interval_tree_iter_first(root, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		/*
		 * The core lets an empty range through as last = start - 1,
		 * which for start 0 is ULONG_MAX: no real range ends there
		 * (the core bounds iova + length by ULONG_MAX)
		 */
		if (i == nnodes || node->last < node->start ||
		    node->last == ULONG_MAX)
			return -EINVAL;
		if (d->log_max_space < 64 &&
		    node->last >> d->log_max_space)
			return -E2BIG;
		d->ranges[i].start = node->start;
		d->ranges[i].last = node->last;
		i++;
	}
	return i == nnodes ? 0 : -EINVAL;
}

/* CREATE_GENERAL_OBJECT of a page tracker over d->ranges */
static int mlx5vf_dirty_create(struct mlx5vf_dirty *d, u8 log_page)
{
	u32 out[MLX5_ST_SZ_DW(general_obj_out_cmd_hdr)] = {};
	size_t rlen = MLX5_ST_SZ_BYTES(page_track_range);
	u64 top = d->ranges[d->nranges - 1].last;
	void *in, *ctx, *r;
	size_t inlen;
	u8 log_space;
	u32 i;
	int ret;

	lockdep_assert_held(&d->lock);
	/* The tracked address space [0, 2^log_space) holds every range */
	log_space = max_t(u8, fls64(top), log_page);
	inlen = MLX5_ST_SZ_BYTES(create_page_track_obj_in) + d->nranges * rlen;
	in = kzalloc(inlen, GFP_KERNEL);
	if (!in)
		return -ENOMEM;
	mlx5vf_dirty_obj_hdr(in, MLX5_CMD_OP_CREATE_GENERAL_OBJECT, 0);
	ctx = MLX5_ADDR_OF(create_page_track_obj_in, in, obj_context);
	MLX5_SET(page_track, ctx, vhca_id, d->madev->vhca_id);
	MLX5_SET(page_track, ctx, log_addr_space_size, log_space);
	MLX5_SET(page_track, ctx, log_page_size, log_page);
	MLX5_SET(page_track, ctx, num_ranges, d->nranges);
	MLX5_SET64(page_track, ctx, range_start_address, d->ranges[0].start);
	MLX5_SET64(page_track, ctx, length, top - d->ranges[0].start + 1);
	r = MLX5_ADDR_OF(page_track, ctx, track_range);
	for (i = 0; i < d->nranges; i++, r += rlen) {
		MLX5_SET64(page_track_range, r, start_address,
			   d->ranges[i].start);
		MLX5_SET64(page_track_range, r, length,
			   d->ranges[i].last - d->ranges[i].start + 1);
	}
	ret = mlx5vf_exec(d->madev, in, inlen, out, sizeof(out));
	if (!ret)
		d->obj_id = MLX5_GET(general_obj_out_cmd_hdr, out, obj_id);
	kfree(in);
	return ret;
}

static int mlx5vf_log_start(struct vfio_device *vdev,
			    struct rb_root_cached *ranges, u32 nnodes,
			    u64 *page_size)
{
	struct mlx5vf_dirty *d = &to_mlx5vf_dev(vdev)->dirty;
	u64 ps = *page_size;
	u8 log_page;
	int ret;

	if (!ps || !is_power_of_2(ps) || ilog2(ps) < d->log_min_page)
		return -EINVAL;
	log_page = min_t(u8, ilog2(ps), d->log_max_page);
	if (!nnodes)
		return -EINVAL;
	if (nnodes > d->max_ranges)
		return -E2BIG;

	mutex_lock(&d->lock);
	if (d->dead) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (d->detached) {
		ret = -ENOTCONN;
		goto out_unlock;
	}
	if (d->active) {
		ret = -EBUSY;
		goto out_unlock;
	}
	d->lost = false;
	d->ranges = kmalloc_array(nnodes, sizeof(*d->ranges), GFP_KERNEL);
	d->entries = (void *)get_zeroed_page(GFP_KERNEL);
	if (!d->ranges || !d->entries) {
		ret = -ENOMEM;
		goto out_free;
	}
	d->nranges = nnodes;
	ret = mlx5vf_dirty_take_ranges(d, ranges, nnodes);
	if (ret)
		goto out_free;
	ret = mlx5vf_dirty_create(d, log_page);
	if (ret)
		goto out_free;
	d->page_size = 1ULL << log_page;
	d->active = true;
	*page_size = d->page_size;
	mutex_unlock(&d->lock);
	return 0;

out_free:
	free_page((unsigned long)d->entries);
	d->entries = NULL;
	kfree(d->ranges);
	d->ranges = NULL;
	d->nranges = 0;
out_unlock:
	mutex_unlock(&d->lock);
	return ret;
}

static int mlx5vf_log_stop(struct vfio_device *vdev)
{
	struct mlx5vf_dirty *d = &to_mlx5vf_dev(vdev)->dirty;
	int ret;

	mutex_lock(&d->lock);
	if (d->dead)
		ret = -ENODEV;
	else if (d->active)
		ret = mlx5vf_dirty_stop_locked(d);
	else if (d->lost)
		ret = 0;	/* a detach ended it: the user ends it too */
	else
		ret = -EINVAL;
	d->lost = false;
	mutex_unlock(&d->lock);
	return ret;
}

/* [iova, last] lies entirely inside the tracked ranges */
static bool mlx5vf_dirty_covered(struct mlx5vf_dirty *d, u64 iova, u64 last)
{
	u32 i;

	lockdep_assert_held(&d->lock);
	for (i = 0; i < d->nranges; i++) {
		if (d->ranges[i].start > iova)
			return false;
		if (d->ranges[i].last < iova)
			continue;
		if (d->ranges[i].last >= last)
			return true;
		iova = d->ranges[i].last + 1;
	}
	return false;
}

/* Drain the tracker's report of [iova, iova + length) into @dirty */
static int mlx5vf_dirty_drain(struct mlx5vf_dirty *d, u64 iova, u64 length,
			      struct iova_bitmap *dirty)
{
	size_t elen = MLX5_ST_SZ_BYTES(page_track_report_entry);
	u64 last = iova + length - 1;
	u64 addr, from;
	void *e;
	u32 n, i;
	int ret;

	lockdep_assert_held(&d->lock);
	do {
		ret = d->madev->ops->track_read_clear(d->madev, d->obj_id, iova,
						      length, d->entries,
						      MLX5VF_DIRTY_ENTRIES, &n);
		if (ret)
			return ret;
		if (n > MLX5VF_DIRTY_ENTRIES)
			return -EIO;
		for (i = 0, e = d->entries; i < n; i++, e += elen) {
			addr = (u64)MLX5_GET(page_track_report_entry, e,
					     dirty_address_high) << 32 |
			       MLX5_GET(page_track_report_entry, e,
					dirty_address_low);
			/* A page of the tracker that intersects the window */
			if (!IS_ALIGNED(addr, d->page_size) || addr > last ||
			    addr + d->page_size - 1 < iova)
				return -EIO;
			/*
			 * The window is aligned to tracker pages (checked by
			 * the caller), so the page lies inside it; clamp all
			 * the same: the core hands the whole REPORT to one
			 * call and iova_bitmap_set() does not stop at the
			 * window's end
			 */
			from = max(addr, iova);
			iova_bitmap_set(dirty, from,
					min(addr + d->page_size - 1, last) - from + 1);
		}
		cond_resched();
	} while (n == MLX5VF_DIRTY_ENTRIES);
	return 0;
}

static int mlx5vf_log_read_and_clear(struct vfio_device *vdev,
				     unsigned long iova, unsigned long length,
				     struct iova_bitmap *dirty)
{
	struct mlx5vf_dirty *d = &to_mlx5vf_dev(vdev)->dirty;
	int ret, ret2;

	if (!length || iova + length - 1 < iova)
		return -EINVAL;

	mutex_lock(&d->lock);
	if (d->dead) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (d->lost) {
		ret = -EIO;
		goto out_unlock;
	}
	/*
	 * The tracker clears whole pages of its own size: a window that cut
	 * one would lose the dirty state of the part outside it
	 */
	if (!d->active || !IS_ALIGNED(iova, d->page_size) ||
	    !IS_ALIGNED(length, d->page_size) ||
	    !mlx5vf_dirty_covered(d, iova, iova + length - 1)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = mlx5vf_dirty_set_state(d, MLX5_PAGE_TRACK_STATE_REPORTING);
	if (ret)
		goto out_unlock;
	ret = mlx5vf_dirty_drain(d, iova, length, dirty);
	ret2 = mlx5vf_dirty_set_state(d, MLX5_PAGE_TRACK_STATE_TRACKING);
	if (!ret)
		ret = ret2;
out_unlock:
	mutex_unlock(&d->lock);
	return ret;
}

const struct vfio_log_ops mlx5vf_log_ops = {
	.log_start		= mlx5vf_log_start,
	.log_stop		= mlx5vf_log_stop,
	.log_read_and_clear	= mlx5vf_log_read_and_clear,
};

/* iova_bitmap_set() is exported in the IOMMUFD namespace */
MODULE_IMPORT_NS(IOMMUFD);
