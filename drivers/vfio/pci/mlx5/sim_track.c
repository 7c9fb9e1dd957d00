// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-sim: the page tracker (general object MLX5_OBJ_TYPE_PAGE_TRACK)
 * and the dma_write knob that makes the simulated VF dirty pages.
 *
 * Semantics simulated (statuses as firmware gives them):
 *  - QUERY_HCA_CAP of MLX5_CAP_ADV_VIRTUALIZATION: at most one tracker
 *    (pg_track_log_max_num 0), MLX5_VFIO_SIM_TRACK_RANGES ranges, page
 *    sizes 2^MLX5_VFIO_SIM_TRACK_LOG_MIN_PAGE to 2^..._LOG_MAX_PAGE,
 *    address spaces up to 2^MLX5_VFIO_SIM_TRACK_LOG_MAX_SPACE.
 *  - CREATE_GENERAL_OBJECT: another object type BAD_PARAM; a second
 *    tracker NO_RES; another VHCA's vhca_id, 0 or too many ranges, a page
 *    size or address space out of the limits, a nonzero track_type, a
 *    range that is empty, not aligned to the page size, wrapping, beyond
 *    the address space or overlapping another BAD_PARAM; more than
 *    MLX5_VFIO_SIM_TRACK_MAX_PAGES pages in all LIM_ERR; an input shorter
 *    than its ranges BAD_INP_LEN.  reporting_qpn and the summary range
 *    (range_start_address, length) are ignored: reports go through
 *    track_read_clear (<linux/mlx5_vfio.h>), not to a queue pair.
 *  - MODIFY_GENERAL_OBJECT: modify_field_select exactly
 *    MLX5_VFIO_PAGE_TRACK_MODIFY_STATE, state TRACKING or REPORTING
 *    (else BAD_PARAM); an unknown obj_id BAD_RES.
 *  - QUERY_GENERAL_OBJECT: the context (state, sizes, ranges).
 *  - DESTROY_GENERAL_OBJECT: an unknown obj_id BAD_RES.
 *  - Pages written (dma_write) inside a range are marked dirty in any
 *    state, pages outside every range are ignored; a report clears what
 *    it returns.
 *
 * Memory: one bitmap per range, one bit per tracked page, allocated at
 * CREATE and freed at DESTROY or with the VF.  Everything here is under
 * vf->lock (sim.h), which also serialises it with the other commands.
 */
#include <linux/bitmap.h>
#include <linux/minmax.h>
#include <linux/mlx5/device.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "sim.h"

/* Syndromes of the tracker's refusals, one per reason */
enum {
	SIM_SYN_TRK_TYPE = 0x51000101,
	SIM_SYN_TRK_VHCA,
	SIM_SYN_TRK_BUSY,
	SIM_SYN_TRK_NRANGES,
	SIM_SYN_TRK_PAGE,
	SIM_SYN_TRK_SPACE,
	SIM_SYN_TRK_RANGE,
	SIM_SYN_TRK_OVERLAP,
	SIM_SYN_TRK_SIZE,
	SIM_SYN_TRK_OBJ,
	SIM_SYN_TRK_FIELD,
	SIM_SYN_TRK_STATE,
	SIM_SYN_TRK_LEN,
	SIM_SYN_TRK_NOMEM,
};

static int trk_status(void *out, u8 status, u32 syndrome)
{
	MLX5_SET(general_obj_out_cmd_hdr, out, status, status);
	MLX5_SET(general_obj_out_cmd_hdr, out, syndrome, syndrome);
	return 0;
}

/**
 * mlx5_vfio_sim_track_caps() - fill the advanced virtualization caps
 * @cap: the capability part of a query_hca_cap_out
 */
void mlx5_vfio_sim_track_caps(void *cap)
{
	MLX5_SET(adv_virtualization_cap, cap, pg_track_log_max_num, 0);
	MLX5_SET(adv_virtualization_cap, cap, pg_track_max_num_range,
		 MLX5_VFIO_SIM_TRACK_RANGES);
	MLX5_SET(adv_virtualization_cap, cap, pg_track_log_min_addr_space,
		 MLX5_VFIO_SIM_TRACK_LOG_MIN_PAGE);
	MLX5_SET(adv_virtualization_cap, cap, pg_track_log_max_addr_space,
		 MLX5_VFIO_SIM_TRACK_LOG_MAX_SPACE);
	MLX5_SET(adv_virtualization_cap, cap, pg_track_log_min_page_size,
		 MLX5_VFIO_SIM_TRACK_LOG_MIN_PAGE);
	MLX5_SET(adv_virtualization_cap, cap, pg_track_log_max_page_size,
		 MLX5_VFIO_SIM_TRACK_LOG_MAX_PAGE);
}

static void sim_track_free(struct mlx5_vfio_sim_tracker *t)
{
	u32 i;

	if (!t)
		return;
	for (i = 0; i < t->nranges; i++)
		kvfree(t->ranges[i].dirty);
	kfree(t);
}

/* Free the VF's tracker, if any (DESTROY, or the VF goes) */
void mlx5_vfio_sim_track_destroy(struct mlx5_vfio_sim_vf *vf)
{
	sim_track_free(vf->tracker);
	vf->tracker = NULL;
	vf->tracker_destroy_refused = false;
}

/* Range @i of a create command's context */
static void sim_track_range(const void *ctx, u32 i, u64 *start, u64 *len)
{
	const void *r = MLX5_ADDR_OF(page_track, ctx, track_range) +
			i * MLX5_ST_SZ_BYTES(page_track_range);

	*start = MLX5_GET64(page_track_range, r, start_address);
	*len = MLX5_GET64(page_track_range, r, length);
}

/* Check the ranges of a create command; a status (0: good) and a syndrome */
static u8 sim_track_check_ranges(const void *ctx, u32 n, u8 log_page,
				 u8 log_space, u64 *total, u32 *syn)
{
	u64 start, len, last, s2, l2;
	u32 i, j;

	*total = 0;
	for (i = 0; i < n; i++) {
		sim_track_range(ctx, i, &start, &len);
		*syn = SIM_SYN_TRK_RANGE;
		if (!len || !IS_ALIGNED(start | len, 1ULL << log_page) ||
		    check_add_overflow(start, len - 1, &last) ||
		    (log_space < 64 && last >> log_space))
			return MLX5_CMD_STAT_BAD_PARAM_ERR;
		for (j = 0; j < i; j++) {
			sim_track_range(ctx, j, &s2, &l2);
			*syn = SIM_SYN_TRK_OVERLAP;
			if (start <= s2 + l2 - 1 && s2 <= last)
				return MLX5_CMD_STAT_BAD_PARAM_ERR;
		}
		*total += len >> log_page;
	}
	*syn = SIM_SYN_TRK_SIZE;
	if (*total > MLX5_VFIO_SIM_TRACK_MAX_PAGES)
		return MLX5_CMD_STAT_LIM_ERR;
	return MLX5_CMD_STAT_OK;
}

static int sim_track_create(struct mlx5_vfio_sim_vf *vf, const void *in,
			    int inlen, void *out)
{
	const void *ctx = MLX5_ADDR_OF(create_page_track_obj_in, in, obj_context);
	u8 log_page = MLX5_GET(page_track, ctx, log_page_size);
	u8 log_space = MLX5_GET(page_track, ctx, log_addr_space_size);
	u32 n = MLX5_GET(page_track, ctx, num_ranges);
	struct mlx5_vfio_sim_tracker *t;
	u64 total, start, len;
	u32 syn, i;
	u8 status;

	if (MLX5_GET(page_track, ctx, vhca_id) != vf->aux.madev.vhca_id)
		return trk_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_TRK_VHCA);
	if (vf->tracker)
		return trk_status(out, MLX5_CMD_STAT_NO_RES_ERR, SIM_SYN_TRK_BUSY);
	if (!n || n > MLX5_VFIO_SIM_TRACK_RANGES)
		return trk_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_TRK_NRANGES);
	if (inlen < MLX5_ST_SZ_BYTES(create_page_track_obj_in) +
		    n * MLX5_ST_SZ_BYTES(page_track_range))
		return trk_status(out, MLX5_CMD_STAT_BAD_INP_LEN_ERR, SIM_SYN_TRK_LEN);
	if (log_page < MLX5_VFIO_SIM_TRACK_LOG_MIN_PAGE ||
	    log_page > MLX5_VFIO_SIM_TRACK_LOG_MAX_PAGE ||
	    MLX5_GET(page_track, ctx, track_type))
		return trk_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_TRK_PAGE);
	if (log_space < log_page || log_space > MLX5_VFIO_SIM_TRACK_LOG_MAX_SPACE)
		return trk_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_TRK_SPACE);
	status = sim_track_check_ranges(ctx, n, log_page, log_space, &total, &syn);
	if (status)
		return trk_status(out, status, syn);

	t = kzalloc(struct_size(t, ranges, n), GFP_KERNEL);
	if (!t)
		return trk_status(out, MLX5_CMD_STAT_NO_RES_ERR, SIM_SYN_TRK_NOMEM);
	t->nranges = n;
	t->log_page = log_page;
	t->log_space = log_space;
	t->state = MLX5_PAGE_TRACK_STATE_TRACKING;
	for (i = 0; i < n; i++) {
		sim_track_range(ctx, i, &start, &len);
		t->ranges[i].start = start;
		t->ranges[i].npages = len >> log_page;
		/* bounded by MLX5_VFIO_SIM_TRACK_MAX_PAGES bits in all */
		t->ranges[i].dirty = kvcalloc(BITS_TO_LONGS(t->ranges[i].npages),
					      sizeof(unsigned long), GFP_KERNEL);
		if (!t->ranges[i].dirty) {
			sim_track_free(t);
			return trk_status(out, MLX5_CMD_STAT_NO_RES_ERR,
					  SIM_SYN_TRK_NOMEM);
		}
	}
	/* Object ids are never 0 and not reused soon */
	if (!++vf->track_seq)
		++vf->track_seq;
	t->obj_id = vf->track_seq;
	vf->tracker = t;
	MLX5_SET(general_obj_out_cmd_hdr, out, obj_id, t->obj_id);
	return 0;
}

static int sim_track_modify(struct mlx5_vfio_sim_vf *vf, const void *in,
			    void *out)
{
	const void *ctx = MLX5_ADDR_OF(modify_page_track_obj_in, in, obj_context);
	u8 state = MLX5_GET(page_track, ctx, state);

	if (MLX5_GET64(page_track, ctx, modify_field_select) !=
	    MLX5_VFIO_PAGE_TRACK_MODIFY_STATE)
		return trk_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_TRK_FIELD);
	if (state != MLX5_PAGE_TRACK_STATE_TRACKING &&
	    state != MLX5_PAGE_TRACK_STATE_REPORTING)
		return trk_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_TRK_STATE);
	vf->tracker->state = state;
	return 0;
}

static int sim_track_query(struct mlx5_vfio_sim_vf *vf, void *out, int outlen)
{
	struct mlx5_vfio_sim_tracker *t = vf->tracker;
	void *ctx = MLX5_ADDR_OF(query_page_track_obj_out, out, obj_context);
	u32 i, n;
	void *r;

	if (outlen < MLX5_ST_SZ_BYTES(query_page_track_obj_out))
		return trk_status(out, MLX5_CMD_STAT_BAD_OUTP_LEN_ERR, SIM_SYN_TRK_LEN);
	MLX5_SET(general_obj_out_cmd_hdr, out, obj_id, t->obj_id);
	MLX5_SET(page_track, ctx, vhca_id, vf->aux.madev.vhca_id);
	MLX5_SET(page_track, ctx, state, t->state);
	MLX5_SET(page_track, ctx, log_page_size, t->log_page);
	MLX5_SET(page_track, ctx, log_addr_space_size, t->log_space);
	MLX5_SET(page_track, ctx, num_ranges, t->nranges);
	/* As many ranges as the output holds */
	n = (outlen - MLX5_ST_SZ_BYTES(query_page_track_obj_out)) /
	    MLX5_ST_SZ_BYTES(page_track_range);
	r = MLX5_ADDR_OF(page_track, ctx, track_range);
	for (i = 0; i < min(n, t->nranges); i++) {
		MLX5_SET64(page_track_range, r, start_address, t->ranges[i].start);
		MLX5_SET64(page_track_range, r, length,
			   t->ranges[i].npages << t->log_page);
		r += MLX5_ST_SZ_BYTES(page_track_range);
	}
	return 0;
}

/**
 * mlx5_vfio_sim_track_exec() - a general object command
 * @vf: the VF, vf->lock held
 * @opcode: MLX5_CMD_OP_{CREATE,MODIFY,QUERY,DESTROY}_GENERAL_OBJECT
 * @in: the command
 * @inlen: its length
 * @out: the answer
 * @outlen: its length
 *
 * Return: 0 (the status is in @out).
 */
int mlx5_vfio_sim_track_exec(struct mlx5_vfio_sim_vf *vf, u16 opcode,
			     const void *in, int inlen, void *out, int outlen)
{
	size_t in_need = MLX5_ST_SZ_BYTES(general_obj_in_cmd_hdr);

	lockdep_assert_held(&vf->lock);
	if (opcode == MLX5_CMD_OP_CREATE_GENERAL_OBJECT)
		in_need = MLX5_ST_SZ_BYTES(create_page_track_obj_in);
	else if (opcode == MLX5_CMD_OP_MODIFY_GENERAL_OBJECT)
		in_need = MLX5_ST_SZ_BYTES(modify_page_track_obj_in);
	if (inlen < in_need)
		return trk_status(out, MLX5_CMD_STAT_BAD_INP_LEN_ERR, SIM_SYN_TRK_LEN);
	if (outlen < MLX5_ST_SZ_BYTES(general_obj_out_cmd_hdr))
		return trk_status(out, MLX5_CMD_STAT_BAD_OUTP_LEN_ERR, SIM_SYN_TRK_LEN);
	if (MLX5_GET(general_obj_in_cmd_hdr, in, obj_type) !=
	    MLX5_OBJ_TYPE_PAGE_TRACK)
		return trk_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_TRK_TYPE);
	if (opcode == MLX5_CMD_OP_CREATE_GENERAL_OBJECT)
		return sim_track_create(vf, in, inlen, out);
	if (!vf->tracker ||
	    MLX5_GET(general_obj_in_cmd_hdr, in, obj_id) != vf->tracker->obj_id)
		return trk_status(out, MLX5_CMD_STAT_BAD_RES_ERR, SIM_SYN_TRK_OBJ);
	switch (opcode) {
	case MLX5_CMD_OP_MODIFY_GENERAL_OBJECT:
		return sim_track_modify(vf, in, out);
	case MLX5_CMD_OP_QUERY_GENERAL_OBJECT:
		return sim_track_query(vf, out, outlen);
	default:
		mlx5_vfio_sim_track_destroy(vf);
		return 0;
	}
}

/* Page indexes [*first, *last] of range @r inside [iova, last]; false: none */
static bool sim_track_span(struct mlx5_vfio_sim_tracker *t,
			   struct mlx5_vfio_sim_track_range *r, u64 iova,
			   u64 last, unsigned long *first, unsigned long *lastp)
{
	u64 rlast = r->start + (r->npages << t->log_page) - 1;

	if (last < r->start || iova > rlast)
		return false;
	*first = (max(iova, r->start) - r->start) >> t->log_page;
	*lastp = (min(last, rlast) - r->start) >> t->log_page;
	return true;
}

/**
 * mlx5_vfio_sim_track_read_clear() - the backend's track_read_clear
 * @aux: the VF's auxiliary device
 * @obj_id: the tracker
 * @iova: start of the window
 * @length: its length (nonzero, not wrapping)
 * @entries: page_track_report_entry array
 * @max: its size (nonzero)
 * @n: entries filled
 *
 * Return: 0, or -EINVAL for another tracker or one not in REPORTING state.
 */
int mlx5_vfio_sim_track_read_clear(struct mlx5_vfio_aux *aux, u32 obj_id,
				   u64 iova, u64 length, void *entries,
				   u32 max, u32 *n)
{
	struct mlx5_vfio_sim_vf *vf = to_sim_vf(aux);
	size_t elen = MLX5_ST_SZ_BYTES(page_track_report_entry);
	struct mlx5_vfio_sim_tracker *t;
	unsigned long first, last, bit;
	u64 addr;
	u32 i, got = 0;
	int ret = 0;

	mutex_lock(&vf->lock);
	t = vf->tracker;
	if (!t || t->obj_id != obj_id ||
	    t->state != MLX5_PAGE_TRACK_STATE_REPORTING) {
		ret = -EINVAL;
		goto out_unlock;
	}
	for (i = 0; i < t->nranges && got < max; i++) {
		if (!sim_track_span(t, &t->ranges[i], iova, iova + length - 1,
				    &first, &last))
			continue;
		for (bit = find_next_bit(t->ranges[i].dirty, last + 1, first);
		     bit <= last && got < max;
		     bit = find_next_bit(t->ranges[i].dirty, last + 1, bit + 1)) {
			addr = t->ranges[i].start + ((u64)bit << t->log_page);
			MLX5_SET(page_track_report_entry, entries + got * elen,
				 dirty_address_high, upper_32_bits(addr));
			MLX5_SET(page_track_report_entry, entries + got * elen,
				 dirty_address_low, lower_32_bits(addr));
			__clear_bit(bit, t->ranges[i].dirty);
			got++;
		}
	}
	*n = got;
out_unlock:
	mutex_unlock(&vf->lock);
	return ret;
}

/**
 * mlx5_vfio_sim_dma_write() - the VF wrote [@iova, @iova + @len)
 * @vf: the VF
 * @iova: first byte written
 * @len: bytes written, nonzero, not wrapping
 *
 * Marks the tracked pages it touches dirty; the rest is ignored, as by a
 * tracker that watches only the ranges it was given.
 */
void mlx5_vfio_sim_dma_write(struct mlx5_vfio_sim_vf *vf, u64 iova, u64 len)
{
	struct mlx5_vfio_sim_tracker *t;
	unsigned long first, last;
	u32 i;

	mutex_lock(&vf->lock);
	t = vf->tracker;
	for (i = 0; t && i < t->nranges; i++)
		if (sim_track_span(t, &t->ranges[i], iova, iova + len - 1,
				   &first, &last))
			bitmap_set(t->ranges[i].dirty, first, last - first + 1);
	mutex_unlock(&vf->lock);
}
