// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-sim: the firmware commands, decoded from <linux/mlx5/mlx5_ifc.h>.
 *
 * Semantics simulated (statuses as firmware gives them, see device.h):
 *  - Every command: lengths shorter than its *_in / *_out layout get
 *    BAD_INP_LEN / BAD_OUTP_LEN, an unknown opcode BAD_OP, a nonzero uid,
 *    an unknown op_mod or a vhca_id/function_id not of this VF BAD_PARAM.
 *  - QUERY_HCA_CAP: general device caps (vhca_id, migration) and general
 *    device caps 2 (migration_multi_load, migration_tracking_state,
 *    migration_in_chunks; migratable for the VF's maximum values only,
 *    from the debugfs knob); other_function = 0 answers for the PF
 *    (vhca_id 0).  ADV_VIRTUALIZATION: sim_track.c.
 *  - SUSPEND_VHCA initiator then responder, RESUME_VHCA responder then
 *    initiator; the out-of-order step gets BAD_RES_STATE, repeats are no-ops.
 *  - SAVE_VHCA_STATE: incremental = 0 is a full image; with set_track = 1
 *    it may run while the VHCA runs and starts tracking, with set_track = 0
 *    it needs the responder suspended and ends tracking.  Except: with
 *    set_track = 0 while tracking and the responder runs it is the
 *    device specification's pre-copy cleanup (upstream's driver sends it
 *    when a pre-copy is cancelled): tracking ends, a pending image is
 *    dropped, nothing is written (actual_image_size 0).  incremental = 1
 *    needs tracking and carries the pages changed since last saved; with
 *    set_track = 0 tracking ends after it.  The image moves in chunks of
 *    at most MLX5_VFIO_SIM_CHUNK: a SAVE needs `size` of at least what
 *    the firmware last said it needs (the last QUERY's required_umem_size
 *    or SAVE's next_required_umem_size; less is BAD_PARAM and changes
 *    nothing), writes at most `size` bytes at mkey/va (an image that grew
 *    since the QUERY continues in the next chunk), reports them as
 *    actual_image_size and the next chunk's size as
 *    next_required_umem_size (0: the image is complete); the next SAVE
 *    with incremental = 1 and the same set_track continues a pending
 *    image (as upstream's driver asks for every piece after the first),
 *    one with incremental = 0 or the other set_track, or a RESUME_VHCA,
 *    discards it.
 *  - QUERY_VHCA_MIGRATION_STATE: remaining_total_size = size of the pending
 *    image, else of the next one (incremental = 1: the changed pages);
 *    required_umem_size the same, capped at MLX5_VFIO_SIM_CHUNK when
 *    chunk = 1.
 *  - LOAD_VHCA_STATE needs the responder suspended; takes any slice of a
 *    stream of images; a bad image gets BAD_PARAM and the loader refuses
 *    further loads (BAD_RES_STATE) until the next RESUME_VHCA.  Headers
 *    and the context are checked before they are applied; a page's sum
 *    is checked as the page is copied to BAR2 (one pass, as SAVE's), so
 *    a page that fails it has reached BAR2, as a DMA would have, and no
 *    page after it does.
 *  - Memory keys: an unknown key, or one made for the other direction
 *    (SAVE writes through DMA_FROM_DEVICE keys, LOAD reads through
 *    DMA_TO_DEVICE ones), gets BAD_RES, va/size outside the key BAD_PARAM.
 *  - CREATE/MODIFY/QUERY/DESTROY_GENERAL_OBJECT of a page tracker and
 *    QUERY_HCA_CAP of MLX5_CAP_ADV_VIRTUALIZATION: sim_track.c.
 *  - fail_next: the next matching command is not executed and gets
 *    INT_ERR with syndrome MLX5_VFIO_SIM_FAIL_SYNDROME; a memory-key
 *    creation counts as CREATE_MKEY (0x200) and fails with -EIO.
 */
#include <linux/bitmap.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/minmax.h>
#include <linux/mlx5/device.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <linux/vmalloc.h>
#include <linux/xxhash.h>

#include "sim.h"

/* The header every *_in and *_out layout starts with */
struct mlx5_ifc_sim_cmd_in_bits {
	u8 opcode[0x10];
	u8 uid[0x10];
	u8 reserved_at_20[0x10];
	u8 op_mod[0x10];
};

struct mlx5_ifc_sim_cmd_out_bits {
	u8 status[0x8];
	u8 reserved_at_8[0x18];
	u8 syndrome[0x20];
};

/* Syndromes of the simulator's own refusals, one per reason */
enum {
	SIM_SYN_INLEN = 0x51000001,
	SIM_SYN_OUTLEN,
	SIM_SYN_OPCODE,
	SIM_SYN_UID,
	SIM_SYN_OPMOD,
	SIM_SYN_VHCA,
	SIM_SYN_FUNCTION,
	SIM_SYN_STATE,
	SIM_SYN_MKEY,
	SIM_SYN_RANGE,
	SIM_SYN_IMAGE,
	SIM_SYN_LOADER,
	SIM_SYN_SIZE,
};

static int sim_status(void *out, u8 status, u32 syndrome)
{
	MLX5_SET(sim_cmd_out, out, status, status);
	MLX5_SET(sim_cmd_out, out, syndrome, syndrome);
	return 0;
}

/* Length check; false with the status set when too short */
static bool sim_lens_ok(void *out, int inlen, size_t in_need, int outlen,
			size_t out_need)
{
	if (inlen < in_need) {
		sim_status(out, MLX5_CMD_STAT_BAD_INP_LEN_ERR, SIM_SYN_INLEN);
		return false;
	}
	if (outlen < out_need) {
		sim_status(out, MLX5_CMD_STAT_BAD_OUTP_LEN_ERR, SIM_SYN_OUTLEN);
		return false;
	}
	return true;
}

static u64 sim_img_size(unsigned long npages)
{
	return sizeof(struct mlx5_vfio_sim_img_hdr) + MLX5_VFIO_SIM_CTX_LEN +
	       sizeof(__le64) + (u64)npages * MLX5_VFIO_SIM_REC_MAX;
}

/* fail_next: consume the knob if it matches @opcode */
static bool sim_fail_now(struct mlx5_vfio_sim_vf *vf, u16 opcode)
{
	bool fail = false;

	spin_lock(&vf->knob_lock);
	if (vf->fail_next == MLX5_VFIO_SIM_FAIL_ANY || vf->fail_next == opcode) {
		vf->fail_next = MLX5_VFIO_SIM_FAIL_NONE;
		fail = true;
	}
	spin_unlock(&vf->knob_lock);
	return fail;
}

/* ---- memory keys ---- */

static struct mlx5_vfio_sim_mkey *sim_mkey_find(struct mlx5_vfio_sim_vf *vf, u32 key)
{
	struct mlx5_vfio_sim_mkey *mk;

	lockdep_assert_held(&vf->lock);
	mk = xa_load(&vf->mkeys, key >> 8);
	return mk && mk->key == key ? mk : NULL;
}

int mlx5_vfio_sim_mkey_create(struct mlx5_vfio_aux *aux, struct page **pages,
			      unsigned int npages, enum dma_data_direction dir,
			      u32 *mkey)
{
	struct mlx5_vfio_sim_vf *vf = to_sim_vf(aux);
	struct mlx5_vfio_sim_mkey *mk;
	u32 index;
	int ret;

	if (sim_fail_now(vf, MLX5_CMD_OP_CREATE_MKEY))
		return -EIO;
	mk = kvzalloc(struct_size(mk, pages, npages), GFP_KERNEL);
	if (!mk)
		return -ENOMEM;
	mk->npages = npages;
	mk->dir = dir;
	memcpy(mk->pages, pages, npages * sizeof(*pages));
	mutex_lock(&vf->lock);
	ret = xa_alloc(&vf->mkeys, &index, mk, XA_LIMIT(1, 0xffffff), GFP_KERNEL);
	if (ret) {
		mutex_unlock(&vf->lock);
		kvfree(mk);
		return ret;
	}
	mk->key = index << 8 | vf->mkey_variant++;
	vf->mkeys_made++;
	*mkey = mk->key;
	mutex_unlock(&vf->lock);
	return 0;
}

void mlx5_vfio_sim_mkey_destroy(struct mlx5_vfio_aux *aux, u32 mkey)
{
	struct mlx5_vfio_sim_vf *vf = to_sim_vf(aux);
	struct mlx5_vfio_sim_mkey *mk;

	mutex_lock(&vf->lock);
	mk = sim_mkey_find(vf, mkey);
	if (mk)
		xa_erase(&vf->mkeys, mkey >> 8);
	mutex_unlock(&vf->lock);
	kvfree(mk);
}

/*
 * The key of a SAVE (@dir DMA_FROM_DEVICE) or LOAD (DMA_TO_DEVICE),
 * checked against its direction, va and size; status on failure
 */
static struct mlx5_vfio_sim_mkey *sim_mkey_range(struct mlx5_vfio_sim_vf *vf,
						 void *out, u32 key, u64 va,
						 u32 size,
						 enum dma_data_direction dir)
{
	struct mlx5_vfio_sim_mkey *mk = sim_mkey_find(vf, key);

	if (!mk || (mk->dir != dir && mk->dir != DMA_BIDIRECTIONAL)) {
		sim_status(out, MLX5_CMD_STAT_BAD_RES_ERR, SIM_SYN_MKEY);
		return NULL;
	}
	if (!size || va >= (u64)mk->npages << PAGE_SHIFT ||
	    size > ((u64)mk->npages << PAGE_SHIFT) - va) {
		sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_RANGE);
		return NULL;
	}
	return mk;
}

static void sim_mkey_copy(struct mlx5_vfio_sim_mkey *mk, u64 va, void *buf,
			  size_t len, bool to_key)
{
	while (len) {
		unsigned int off = offset_in_page(va);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);
		u8 *p = kmap_local_page(mk->pages[va >> PAGE_SHIFT]);

		if (to_key)
			memcpy(p + off, buf, n);
		else
			memcpy(buf, p + off, n);
		kunmap_local(p);
		va += n;
		buf += n;
		len -= n;
	}
}

/*
 * The page sum: h = seed (the page index), then for each of the page's
 * 64-bit little-endian words w, h = (h ^ w) * SIM_SUM_K (odd) and
 * h ^= h >> 29.  For a given w each step is a bijection of h, so pages
 * that differ in one word always differ in the sum (the states part at
 * that word and no later equal step joins them again); changes to
 * several words are missed with a chance of about 2^-64, however the
 * words are placed.  A handful of operations per word folds into the copy
 * between BAR2 and memory, both ways, where xxh64 (kept for the image header and
 * context, which are small) costs more than the copy itself under TCG.
 * Not a defence against a guest: it can write a page change that keeps
 * the sum and so hide it from an incremental save of its own device.
 *
 * BAR2 moves 8 bytes per access, four per loop step (x86's
 * memcpy_fromio()/memcpy_toio() move 4 bytes per iteration of a string
 * instruction, which QEMU's TCG executes one iteration at a time).  Every
 * length and address here is a multiple of 8: page records are, and the
 * callers take the staging path for a key address that is not.
 */
#define SIM_SUM_K	0x9e3779b97f4a7c15ULL

static __always_inline u64 sim_sum_word(u64 h, u64 raw)
{
	h = (h ^ le64_to_cpu((__force __le64)raw)) * SIM_SUM_K;
	return h ^ (h >> 29);
}

/*
 * Copy @len bytes (a multiple of 8) of BAR2 at @src to @dst (if not NULL),
 * folding them into the sum @h; returns the new sum
 */
static __always_inline u64 sim_sum_fromio(u64 h, u64 *dst,
					  const void __iomem *src, size_t len)
{
	size_t i, n = len / 8, n4 = n & ~(size_t)3;
	u64 w0, w1, w2, w3;

	for (i = 0; i < n4; i += 4) {
		w0 = __raw_readq(src + i * 8);
		w1 = __raw_readq(src + i * 8 + 8);
		w2 = __raw_readq(src + i * 8 + 16);
		w3 = __raw_readq(src + i * 8 + 24);
		if (dst) {
			dst[i] = w0;
			dst[i + 1] = w1;
			dst[i + 2] = w2;
			dst[i + 3] = w3;
		}
		h = sim_sum_word(h, w0);
		h = sim_sum_word(h, w1);
		h = sim_sum_word(h, w2);
		h = sim_sum_word(h, w3);
	}
	for (; i < n; i++) {
		w0 = __raw_readq(src + i * 8);
		if (dst)
			dst[i] = w0;
		h = sim_sum_word(h, w0);
	}
	return h;
}

/*
 * Copy @len bytes (a multiple of 8) of memory at @src to BAR2 at @dst,
 * folding them into the sum @h; returns the new sum
 */
static u64 sim_sum_toio(u64 h, void __iomem *dst, const u64 *src, size_t len)
{
	size_t i, n = len / 8, n4 = n & ~(size_t)3;
	u64 w0, w1, w2, w3;

	for (i = 0; i < n4; i += 4) {
		w0 = src[i];
		w1 = src[i + 1];
		w2 = src[i + 2];
		w3 = src[i + 3];
		__raw_writeq(w0, dst + i * 8);
		__raw_writeq(w1, dst + i * 8 + 8);
		__raw_writeq(w2, dst + i * 8 + 16);
		__raw_writeq(w3, dst + i * 8 + 24);
		h = sim_sum_word(h, w0);
		h = sim_sum_word(h, w1);
		h = sim_sum_word(h, w2);
		h = sim_sum_word(h, w3);
	}
	for (; i < n; i++) {
		w0 = src[i];
		__raw_writeq(w0, dst + i * 8);
		h = sim_sum_word(h, w0);
	}
	return h;
}

/* The sum of the page of BAR2 at @src (read only) */
static u64 sim_sum_bar_page(const void __iomem *src, unsigned long index)
{
	return sim_sum_fromio(index, NULL, src, MLX5_VFIO_SIM_PAGE);
}

/*
 * Copy @len bytes of BAR2 at @src straight into the key's pages at @va
 * (8-aligned) and fold them into the sum @h: one pass over the BAR, none
 * over a scratch buffer.  Returns the new sum.
 */
static u64 sim_mkey_fromio(struct mlx5_vfio_sim_mkey *mk, u64 va,
			   const void __iomem *src, size_t len, u64 h)
{
	while (len) {
		unsigned int off = offset_in_page(va);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);
		u8 *p = kmap_local_page(mk->pages[va >> PAGE_SHIFT]);

		h = sim_sum_fromio(h, (u64 *)(p + off), src, n);
		kunmap_local(p);
		va += n;
		src += n;
		len -= n;
	}
	return h;
}

/*
 * Copy @len bytes of the key's pages at @va straight to BAR2 at @dst,
 * folding them into the sum @h; returns the new sum
 */
static u64 sim_mkey_toio(struct mlx5_vfio_sim_mkey *mk, u64 va,
			 void __iomem *dst, size_t len, u64 h)
{
	while (len) {
		unsigned int off = offset_in_page(va);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);
		u8 *p = kmap_local_page(mk->pages[va >> PAGE_SHIFT]);

		h = sim_sum_toio(h, dst, (const u64 *)(p + off), n);
		kunmap_local(p);
		va += n;
		dst += n;
		len -= n;
	}
	return h;
}

/* ---- dirty tracking ---- */

/* Find the pages whose checksum changed since they were last saved */
static void sim_scan(struct mlx5_vfio_sim_vf *vf)
{
	unsigned long i;

	lockdep_assert_held(&vf->lock);
	bitmap_zero(vf->scan, vf->npages);
	vf->scan_count = 0;
	for (i = 0; i < vf->npages; i++) {
		if (sim_sum_bar_page(vf->bar + i * MLX5_VFIO_SIM_PAGE, i) !=
		    vf->sums[i]) {
			__set_bit(i, vf->scan);
			vf->scan_count++;
		}
		if (!(i % 256))
			cond_resched();
	}
	/*
	 * While the responder runs, the user may write BAR2 at any time: a
	 * scan is good for the command that made it only.  Once suspended it
	 * stays good (QUERY then SAVE) until the next SUSPEND/RESUME.
	 */
	vf->scan_valid = vf->resp_suspended;
}

/* ---- SAVE ---- */

static void sim_stage_hdr(struct mlx5_vfio_sim_vf *vf)
{
	struct mlx5_vfio_sim_save *s = &vf->save;
	struct mlx5_vfio_sim_img_hdr *h = (void *)s->rec;

	memset(h, 0, sizeof(*h));
	h->magic = cpu_to_le32(MLX5_VFIO_SIM_MAGIC);
	h->version = cpu_to_le16(MLX5_VFIO_SIM_VERSION);
	h->flags = cpu_to_le16(s->incremental ? MLX5_VFIO_SIM_IMG_INCREMENTAL : 0);
	h->page_size = cpu_to_le32(MLX5_VFIO_SIM_PAGE);
	h->ctx_len = cpu_to_le32(MLX5_VFIO_SIM_CTX_LEN);
	h->npages = cpu_to_le32(s->left);
	h->bar_size = cpu_to_le64(vf->bar_size);
	h->seq = cpu_to_le64(vf->seq);
	h->sum = cpu_to_le64(xxh64(h, offsetof(typeof(*h), sum), 0));
	s->rec_len = sizeof(*h);
	s->rec_pos = 0;
}

/* Index of the next page record of the pending image */
static unsigned long sim_next_page(struct mlx5_vfio_sim_vf *vf)
{
	struct mlx5_vfio_sim_save *s = &vf->save;

	if (s->incremental)
		return find_next_bit(s->set, vf->npages, s->next_page);
	return s->next_page;
}

/* Page @i was saved with checksum @sum: fill its record header, advance */
static void sim_page_saved(struct mlx5_vfio_sim_vf *vf,
			   struct mlx5_vfio_sim_img_page *ph, unsigned long i,
			   u64 sum)
{
	struct mlx5_vfio_sim_save *s = &vf->save;

	if (vf->tracking)
		vf->sums[i] = sum;
	ph->index = cpu_to_le32(i);
	ph->reserved = 0;
	ph->sum = cpu_to_le64(sum);
	s->next_page = i + 1;
	s->left--;
}

/*
 * Whether the page record being saved, its sum already computed, gets one
 * byte flipped: the first page of an image under corrupt_next_save, or the
 * next page saved at all under corrupt_next_save_page (only that byte is
 * wrong then, so only the loader's page check can catch it).  Consumes
 * what it uses.
 */
static bool sim_corrupt_page_now(struct mlx5_vfio_sim_vf *vf)
{
	struct mlx5_vfio_sim_save *s = &vf->save;
	bool image = s->corrupt, page;

	lockdep_assert_held(&vf->lock);
	s->corrupt = false;
	/* a plain read first: no atomic operation per page while the knob is off */
	page = READ_ONCE(vf->corrupt_next_save_page) &&
	       xchg(&vf->corrupt_next_save_page, false);
	return page || image;
}

/* Stage the next part of the pending image in save.rec */
static void sim_stage_next(struct mlx5_vfio_sim_vf *vf)
{
	struct mlx5_vfio_sim_save *s = &vf->save;
	struct mlx5_vfio_sim_img_page *ph = (void *)s->rec;
	u8 *data = s->rec + sizeof(*ph);
	unsigned long i;
	u64 sum;

	s->rec_pos = 0;
	if (!s->ctx_done) {
		memcpy(s->rec, vf->ctx, MLX5_VFIO_SIM_CTX_LEN);
		sum = xxh64(vf->ctx, MLX5_VFIO_SIM_CTX_LEN, 0);
		put_unaligned_le64(sum, s->rec + MLX5_VFIO_SIM_CTX_LEN);
		if (s->corrupt)
			s->rec[MLX5_VFIO_SIM_CTX_LEN / 2] ^= 0xff;
		s->rec_len = MLX5_VFIO_SIM_CTX_LEN + sizeof(__le64);
		s->ctx_done = true;
		return;
	}
	i = sim_next_page(vf);
	sum = sim_sum_fromio(i, (u64 *)data, vf->bar + i * MLX5_VFIO_SIM_PAGE,
			     MLX5_VFIO_SIM_PAGE);
	sim_page_saved(vf, ph, i, sum);
	if (sim_corrupt_page_now(vf))
		data[MLX5_VFIO_SIM_PAGE - 1] ^= 0x5a;
	s->rec_len = MLX5_VFIO_SIM_REC_MAX;
}

/*
 * The next page record goes whole into the key at @va: BAR2 is copied
 * there directly and summed on the way, the record header written in
 * front of it.  The bytes are those sim_stage_next() would have staged.
 */
static void sim_save_page_to(struct mlx5_vfio_sim_vf *vf,
			     struct mlx5_vfio_sim_mkey *mk, u64 va)
{
	struct mlx5_vfio_sim_img_page ph;
	u64 data = va + sizeof(ph), sum;
	unsigned long i;
	u8 last;

	i = sim_next_page(vf);
	sum = sim_mkey_fromio(mk, data, vf->bar + i * MLX5_VFIO_SIM_PAGE,
			      MLX5_VFIO_SIM_PAGE, i);
	sim_page_saved(vf, &ph, i, sum);
	sim_mkey_copy(mk, va, &ph, sizeof(ph), true);
	if (sim_corrupt_page_now(vf)) {
		data += MLX5_VFIO_SIM_PAGE - 1;
		sim_mkey_copy(mk, data, &last, 1, false);
		last ^= 0x5a;
		sim_mkey_copy(mk, data, &last, 1, true);
	}
}

/* Begin an image; returns 0 or a status (with the syndrome set in out) */
static int sim_save_start(struct mlx5_vfio_sim_vf *vf, void *out,
			  bool incremental, bool set_track)
{
	struct mlx5_vfio_sim_save *s = &vf->save;

	lockdep_assert_held(&vf->lock);
	if (incremental ? !vf->tracking : !set_track && !vf->resp_suspended) {
		sim_status(out, MLX5_CMD_STAT_BAD_RES_STATE_ERR, SIM_SYN_STATE);
		return -EINVAL;
	}
	s->incremental = incremental;
	s->end_track = !set_track;
	if (incremental) {
		if (!vf->scan_valid)
			sim_scan(vf);
		swap(vf->scan, s->set);
		s->left = vf->scan_count;
		vf->scan_valid = false;
	} else {
		s->left = vf->npages;
		/* the sums fill in as the pages are saved */
		vf->tracking = set_track;
		vf->scan_valid = false;
	}
	s->active = true;
	s->total = sim_img_size(s->left);
	s->done = 0;
	s->ctx_done = false;
	s->next_page = 0;
	s->corrupt = xchg(&vf->corrupt_next_save, false);
	sim_stage_hdr(vf);
	if (s->corrupt)
		s->rec[0] ^= 0x01;	/* the magic */
	return 0;
}

static int sim_save(struct mlx5_vfio_sim_vf *vf, const void *in, int inlen,
		    void *out, int outlen)
{
	struct mlx5_vfio_sim_save *s = &vf->save;
	bool incremental, set_track;
	struct mlx5_vfio_sim_mkey *mk;
	u64 va, n = 0;
	u32 size;

	if (!sim_lens_ok(out, inlen, MLX5_ST_SZ_BYTES(save_vhca_state_in),
			 outlen, MLX5_ST_SZ_BYTES(save_vhca_state_out)))
		return 0;
	if (MLX5_GET(save_vhca_state_in, in, op_mod))
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_OPMOD);
	if (MLX5_GET(save_vhca_state_in, in, vhca_id) != vf->aux.madev.vhca_id)
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_VHCA);
	va = MLX5_GET64(save_vhca_state_in, in, va);
	size = MLX5_GET(save_vhca_state_in, in, size);
	mk = sim_mkey_range(vf, out, MLX5_GET(save_vhca_state_in, in, mkey), va, size,
			    DMA_FROM_DEVICE);
	if (!mk)
		return 0;
	incremental = MLX5_GET(save_vhca_state_in, in, incremental);
	set_track = MLX5_GET(save_vhca_state_in, in, set_track);
	if (size < s->need)
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_SIZE);
	/* The rest of a pending image, or a new one */
	if (s->active && (!incremental || s->end_track == set_track))
		s->active = false;
	if (!incremental && !set_track && !vf->resp_suspended && vf->tracking) {
		/* the pre-copy cleanup */
		s->active = false;
		vf->tracking = false;
		vf->scan_valid = false;
		s->need = 0;
		MLX5_SET(save_vhca_state_out, out, actual_image_size, 0);
		MLX5_SET(save_vhca_state_out, out, next_required_umem_size, 0);
		return 0;
	}
	if (!s->active && sim_save_start(vf, out, incremental, set_track))
		return 0;

	while (n < size && s->done < s->total) {
		unsigned int len;

		if (s->rec_pos == s->rec_len) {
			/* An aligned page record that fits skips the staging buffer */
			if (s->ctx_done && size - n >= MLX5_VFIO_SIM_REC_MAX &&
			    IS_ALIGNED(va + n, 8)) {
				sim_save_page_to(vf, mk, va + n);
				s->done += MLX5_VFIO_SIM_REC_MAX;
				n += MLX5_VFIO_SIM_REC_MAX;
				cond_resched();
				continue;
			}
			sim_stage_next(vf);
		}
		len = min_t(u64, s->rec_len - s->rec_pos, size - n);
		sim_mkey_copy(mk, va + n, s->rec + s->rec_pos, len, true);
		s->rec_pos += len;
		s->done += len;
		n += len;
		cond_resched();
	}
	if (s->done == s->total) {
		s->active = false;
		vf->seq++;
		if (s->end_track)
			vf->tracking = false;
	}
	MLX5_SET(save_vhca_state_out, out, actual_image_size, n);
	s->need = min_t(u64, s->total - s->done, MLX5_VFIO_SIM_CHUNK);
	MLX5_SET(save_vhca_state_out, out, next_required_umem_size, s->need);
	return 0;
}

static int sim_query_mig(struct mlx5_vfio_sim_vf *vf, const void *in, int inlen,
			 void *out, int outlen)
{
	u64 size;

	if (!sim_lens_ok(out, inlen, MLX5_ST_SZ_BYTES(query_vhca_migration_state_in),
			 outlen, MLX5_ST_SZ_BYTES(query_vhca_migration_state_out)))
		return 0;
	if (MLX5_GET(query_vhca_migration_state_in, in, op_mod))
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_OPMOD);
	if (MLX5_GET(query_vhca_migration_state_in, in, vhca_id) != vf->aux.madev.vhca_id)
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_VHCA);
	if (vf->save.active) {
		size = vf->save.total - vf->save.done;
	} else if (MLX5_GET(query_vhca_migration_state_in, in, incremental) &&
		   vf->tracking) {
		if (!vf->scan_valid)
			sim_scan(vf);
		size = sim_img_size(vf->scan_count);
	} else {
		size = sim_img_size(vf->npages);
	}
	MLX5_SET64(query_vhca_migration_state_out, out, remaining_total_size, size);
	if (MLX5_GET(query_vhca_migration_state_in, in, chunk))
		size = min_t(u64, size, MLX5_VFIO_SIM_CHUNK);
	vf->save.need = min_t(u64, size, U32_MAX);
	MLX5_SET(query_vhca_migration_state_out, out, required_umem_size,
		 vf->save.need);
	return 0;
}

/* ---- LOAD ---- */

static void sim_load_reset(struct mlx5_vfio_sim_vf *vf)
{
	vf->load.phase = MLX5_VFIO_SIM_LOAD_HDR;
	vf->load.need = sizeof(struct mlx5_vfio_sim_img_hdr);
	vf->load.have = 0;
	vf->load.left = 0;
}

static void sim_load_expect_page(struct mlx5_vfio_sim_load *l)
{
	l->have = 0;
	if (l->left) {
		l->phase = MLX5_VFIO_SIM_LOAD_PAGE;
		l->need = MLX5_VFIO_SIM_REC_MAX;
	} else {
		l->phase = MLX5_VFIO_SIM_LOAD_HDR;
		l->need = sizeof(struct mlx5_vfio_sim_img_hdr);
	}
}

/* A part of the stream is complete in load.rec: check and apply it */
static bool sim_load_part(struct mlx5_vfio_sim_vf *vf)
{
	struct mlx5_vfio_sim_load *l = &vf->load;

	switch (l->phase) {
	case MLX5_VFIO_SIM_LOAD_HDR: {
		struct mlx5_vfio_sim_img_hdr *h = (void *)l->rec;

		if (le32_to_cpu(h->magic) != MLX5_VFIO_SIM_MAGIC ||
		    le16_to_cpu(h->version) != MLX5_VFIO_SIM_VERSION ||
		    le64_to_cpu(h->sum) != xxh64(h, offsetof(typeof(*h), sum), 0) ||
		    le16_to_cpu(h->flags) & ~MLX5_VFIO_SIM_IMG_INCREMENTAL ||
		    le32_to_cpu(h->page_size) != MLX5_VFIO_SIM_PAGE ||
		    le32_to_cpu(h->ctx_len) != MLX5_VFIO_SIM_CTX_LEN ||
		    le64_to_cpu(h->bar_size) != vf->bar_size ||
		    le32_to_cpu(h->npages) > vf->npages ||
		    h->reserved0 || h->reserved[0] || h->reserved[1])
			return false;
		l->left = le32_to_cpu(h->npages);
		l->phase = MLX5_VFIO_SIM_LOAD_CTX;
		l->need = MLX5_VFIO_SIM_CTX_LEN + sizeof(__le64);
		l->have = 0;
		return true;
	}
	case MLX5_VFIO_SIM_LOAD_CTX:
		if (get_unaligned_le64(l->rec + MLX5_VFIO_SIM_CTX_LEN) !=
		    xxh64(l->rec, MLX5_VFIO_SIM_CTX_LEN, 0))
			return false;
		memcpy(vf->ctx, l->rec, MLX5_VFIO_SIM_CTX_LEN);
		sim_load_expect_page(l);
		return true;
	case MLX5_VFIO_SIM_LOAD_PAGE: {
		struct mlx5_vfio_sim_img_page *ph = (void *)l->rec;
		u8 *data = l->rec + sizeof(*ph);
		u32 i = le32_to_cpu(ph->index);

		if (i >= vf->npages || ph->reserved ||
		    le64_to_cpu(ph->sum) !=
		    sim_sum_toio(i, vf->bar + (u64)i * MLX5_VFIO_SIM_PAGE,
				 (const u64 *)data, MLX5_VFIO_SIM_PAGE))
			return false;
		l->left--;
		sim_load_expect_page(l);
		return true;
	}
	default:
		return false;
	}
}

/*
 * A whole page record is in the key at @va: copy its data straight to
 * BAR2, checking its sum on the way, as sim_load_part() does for a
 * collected one.
 */
static bool sim_load_page_from(struct mlx5_vfio_sim_vf *vf,
			       struct mlx5_vfio_sim_mkey *mk, u64 va)
{
	struct mlx5_vfio_sim_img_page ph;
	u64 data = va + sizeof(ph);
	u32 i;

	sim_mkey_copy(mk, va, &ph, sizeof(ph), false);
	i = le32_to_cpu(ph.index);
	if (i >= vf->npages || ph.reserved)
		return false;
	if (le64_to_cpu(ph.sum) !=
	    sim_mkey_toio(mk, data, vf->bar + (u64)i * MLX5_VFIO_SIM_PAGE,
			  MLX5_VFIO_SIM_PAGE, i))
		return false;
	vf->load.left--;
	sim_load_expect_page(&vf->load);
	return true;
}

static int sim_load(struct mlx5_vfio_sim_vf *vf, const void *in, int inlen,
		    void *out, int outlen)
{
	struct mlx5_vfio_sim_load *l = &vf->load;
	struct mlx5_vfio_sim_mkey *mk;
	u64 va, pos = 0;
	u32 size;

	if (!sim_lens_ok(out, inlen, MLX5_ST_SZ_BYTES(load_vhca_state_in),
			 outlen, MLX5_ST_SZ_BYTES(load_vhca_state_out)))
		return 0;
	if (MLX5_GET(load_vhca_state_in, in, op_mod))
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_OPMOD);
	if (MLX5_GET(load_vhca_state_in, in, vhca_id) != vf->aux.madev.vhca_id)
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_VHCA);
	va = MLX5_GET64(load_vhca_state_in, in, va);
	size = MLX5_GET(load_vhca_state_in, in, size);
	mk = sim_mkey_range(vf, out, MLX5_GET(load_vhca_state_in, in, mkey), va, size,
			    DMA_TO_DEVICE);
	if (!mk)
		return 0;
	if (!vf->resp_suspended)
		return sim_status(out, MLX5_CMD_STAT_BAD_RES_STATE_ERR, SIM_SYN_STATE);
	if (l->phase == MLX5_VFIO_SIM_LOAD_BROKEN)
		return sim_status(out, MLX5_CMD_STAT_BAD_RES_STATE_ERR, SIM_SYN_LOADER);

	while (pos < size) {
		unsigned int n = min_t(u64, l->need - l->have, size - pos);

		/* An aligned page record whole in the key skips the staging buffer */
		if (l->phase == MLX5_VFIO_SIM_LOAD_PAGE && !l->have &&
		    size - pos >= MLX5_VFIO_SIM_REC_MAX && IS_ALIGNED(va + pos, 8)) {
			if (!sim_load_page_from(vf, mk, va + pos))
				goto out_broken;
			pos += MLX5_VFIO_SIM_REC_MAX;
			cond_resched();
			continue;
		}
		sim_mkey_copy(mk, va + pos, l->rec + l->have, n, false);
		l->have += n;
		pos += n;
		if (l->have == l->need && !sim_load_part(vf))
			goto out_broken;
		cond_resched();
	}
	return 0;

out_broken:
	l->phase = MLX5_VFIO_SIM_LOAD_BROKEN;
	return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_IMAGE);
}

/* ---- the rest ---- */

static int sim_query_hca_cap(struct mlx5_vfio_sim_vf *vf, const void *in,
			     int inlen, void *out, int outlen)
{
	u16 op_mod = MLX5_GET(query_hca_cap_in, in, op_mod);
	void *cap = MLX5_ADDR_OF(query_hca_cap_out, out, capability);
	u16 vhca_id = 0;

	if (!sim_lens_ok(out, inlen, MLX5_ST_SZ_BYTES(query_hca_cap_in),
			 outlen, MLX5_ST_SZ_BYTES(query_hca_cap_out)))
		return 0;
	if (MLX5_GET(query_hca_cap_in, in, ec_vf_function))
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_FUNCTION);
	if (MLX5_GET(query_hca_cap_in, in, other_function)) {
		if (MLX5_GET(query_hca_cap_in, in, function_id) !=
		    vf->aux.madev.function_id)
			return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR,
					  SIM_SYN_FUNCTION);
		vhca_id = vf->aux.madev.vhca_id;
	}
	/* op_mod: capability type << 1 | current (1) or maximum (0) */
	switch (op_mod >> 1) {
	case MLX5_SET_HCA_CAP_OP_MOD_GENERAL_DEVICE:
		MLX5_SET(cmd_hca_cap, cap, vhca_id, vhca_id);
		MLX5_SET(cmd_hca_cap, cap, migration, 1);
		return 0;
	case MLX5_SET_HCA_CAP_OP_MOD_GENERAL_DEVICE2:
		/*
		 * migratable is the VF's maximum (what devlink sets); the
		 * migration ones the PF's
		 */
		if (MLX5_GET(query_hca_cap_in, in, other_function) && !(op_mod & 1))
			MLX5_SET(cmd_hca_cap_2, cap, migratable,
				 READ_ONCE(vf->migratable));
		MLX5_SET(cmd_hca_cap_2, cap, migration_multi_load, 1);
		MLX5_SET(cmd_hca_cap_2, cap, migration_tracking_state, 1);
		MLX5_SET(cmd_hca_cap_2, cap, migration_in_chunks, 1);
		return 0;
	case MLX5_CAP_ADV_VIRTUALIZATION:
		mlx5_vfio_sim_track_caps(cap);
		return 0;
	default:
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_OPMOD);
	}
}

static int sim_suspend_resume(struct mlx5_vfio_sim_vf *vf, u16 opcode,
			      const void *in, int inlen, void *out, int outlen)
{
	bool suspend = opcode == MLX5_CMD_OP_SUSPEND_VHCA;
	u16 op_mod = MLX5_GET(suspend_vhca_in, in, op_mod);

	/* suspend_vhca and resume_vhca have the same layout and sizes */
	if (!sim_lens_ok(out, inlen, MLX5_ST_SZ_BYTES(suspend_vhca_in),
			 outlen, MLX5_ST_SZ_BYTES(suspend_vhca_out)))
		return 0;
	if (op_mod > 1)
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_OPMOD);
	if (MLX5_GET(suspend_vhca_in, in, vhca_id) != vf->aux.madev.vhca_id)
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_VHCA);
	vf->scan_valid = false;
	if (suspend) {
		if (op_mod == MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR) {
			vf->init_suspended = true;
			return 0;
		}
		if (!vf->init_suspended)
			return sim_status(out, MLX5_CMD_STAT_BAD_RES_STATE_ERR, SIM_SYN_STATE);
		vf->resp_suspended = true;
		return 0;
	}
	if (op_mod == MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR &&
	    vf->resp_suspended)
		return sim_status(out, MLX5_CMD_STAT_BAD_RES_STATE_ERR, SIM_SYN_STATE);
	if (op_mod == MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR)
		vf->init_suspended = false;
	else
		vf->resp_suspended = false;
	vf->save.active = false;
	vf->save.need = 0;
	sim_load_reset(vf);
	return 0;
}

/*
 * A real VHCA reaches its state whatever the VF's PCI command register
 * says; the simulated one reaches BAR2 through the host's MMIO path, which
 * memory decode gates (QEMU clears decode before it resets an assigned
 * device, and a migration destination loads before its guest sets it
 * again).  So decode is on while a command that may reach BAR2 runs, and
 * put back after it.  A user's write of the command register racing with
 * a command may be undone: acceptable for test code, and a VM is stopped
 * while its device's final image is saved or loaded.  Commands that never
 * reach BAR2 (the capability query, suspend and resume) leave the
 * register alone: a config read is a trip to the host's device model, a
 * large share of such a command's cost under TCG.
 */
static u16 sim_decode_on(struct mlx5_vfio_sim_vf *vf, u16 opcode)
{
	u16 cmd = PCI_COMMAND_MEMORY;

	if (opcode == MLX5_CMD_OP_QUERY_HCA_CAP ||
	    opcode == MLX5_CMD_OP_SUSPEND_VHCA ||
	    opcode == MLX5_CMD_OP_RESUME_VHCA)
		return cmd;
	if (vf->bar && !pci_read_config_word(vf->pdev, PCI_COMMAND, &cmd) &&
	    !(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vf->pdev, PCI_COMMAND,
				      cmd | PCI_COMMAND_MEMORY);
	return cmd;
}

static void sim_decode_restore(struct mlx5_vfio_sim_vf *vf, u16 cmd)
{
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vf->pdev, PCI_COMMAND, cmd);
}

int mlx5_vfio_sim_exec(struct mlx5_vfio_aux *aux, const void *in, int inlen,
		       void *out, int outlen)
{
	struct mlx5_vfio_sim_vf *vf = to_sim_vf(aux);
	u16 opcode = MLX5_GET(sim_cmd_in, in, opcode);
	u16 cmd;
	int ret;

	/* No lock held: removal cuts the wait short */
	ret = mlx5_vfio_aux_wait(aux, min(READ_ONCE(vf->cmd_delay_ms), 60000U));
	if (ret)
		return ret;
	if (sim_fail_now(vf, opcode)) {
		if (opcode == MLX5_CMD_OP_DESTROY_GENERAL_OBJECT) {
			mutex_lock(&vf->lock);
			vf->tracker_destroy_refused |= !!vf->tracker;
			mutex_unlock(&vf->lock);
		}
		return sim_status(out, MLX5_CMD_STAT_INT_ERR, MLX5_VFIO_SIM_FAIL_SYNDROME);
	}
	if (MLX5_GET(sim_cmd_in, in, uid))
		return sim_status(out, MLX5_CMD_STAT_BAD_PARAM_ERR, SIM_SYN_UID);

	mutex_lock(&vf->lock);
	cmd = sim_decode_on(vf, opcode);
	switch (opcode) {
	case MLX5_CMD_OP_QUERY_HCA_CAP:
		ret = sim_query_hca_cap(vf, in, inlen, out, outlen);
		break;
	case MLX5_CMD_OP_SUSPEND_VHCA:
	case MLX5_CMD_OP_RESUME_VHCA:
		ret = sim_suspend_resume(vf, opcode, in, inlen, out, outlen);
		break;
	case MLX5_CMD_OP_QUERY_VHCA_MIGRATION_STATE:
		ret = sim_query_mig(vf, in, inlen, out, outlen);
		break;
	case MLX5_CMD_OP_SAVE_VHCA_STATE:
		ret = sim_save(vf, in, inlen, out, outlen);
		break;
	case MLX5_CMD_OP_LOAD_VHCA_STATE:
		ret = sim_load(vf, in, inlen, out, outlen);
		break;
	case MLX5_CMD_OP_CREATE_GENERAL_OBJECT:
	case MLX5_CMD_OP_MODIFY_GENERAL_OBJECT:
	case MLX5_CMD_OP_QUERY_GENERAL_OBJECT:
	case MLX5_CMD_OP_DESTROY_GENERAL_OBJECT:
		ret = mlx5_vfio_sim_track_exec(vf, opcode, in, inlen, out, outlen);
		break;
	default:
		ret = sim_status(out, MLX5_CMD_STAT_BAD_OP_ERR, SIM_SYN_OPCODE);
		break;
	}
	sim_decode_restore(vf, cmd);
	mutex_unlock(&vf->lock);
	return ret;
}

/**
 * mlx5_vfio_sim_hca_reset() - the VF's HCA was disabled: a fresh VHCA
 * @vf: the VF
 *
 * What disabling and enabling a real VF's HCA does to the state
 * simulated here: not suspended, no tracking, no image pending or
 * half loaded, no page tracker, a new context.  BAR2 stays as it is (the
 * function's memory, not the VHCA's).  A page tracker still there is
 * the driver's bug (<linux/mlx5_vfio.h>: it destroys its trackers when
 * it hears the detach; a real one is the PF's object and would stay):
 * a warning, as for leaked memory keys, then it goes.  Unless its
 * destroy was refused on purpose (fail_next): the driver did its part,
 * and a firmware that refuses it keeps the object, as the driver must
 * live with.
 */
void mlx5_vfio_sim_hca_reset(struct mlx5_vfio_sim_vf *vf)
{
	mutex_lock(&vf->lock);
	if (vf->tracker && vf->tracker_destroy_refused)
		dev_info(&vf->aux.madev.adev.dev,
			 "page tracker whose destroy was refused goes with the HCA\n");
	else if (vf->tracker)
		dev_WARN(&vf->aux.madev.adev.dev,
			 "driver left its page tracker at detach, destroying it\n");
	vf->init_suspended = false;
	vf->resp_suspended = false;
	vf->tracking = false;
	vf->scan_valid = false;
	vf->save.active = false;
	vf->save.need = 0;
	sim_load_reset(vf);
	mlx5_vfio_sim_track_destroy(vf);
	get_random_bytes(vf->ctx, sizeof(vf->ctx));
	mutex_unlock(&vf->lock);
}

/*
 * Allocate the VHCA state of a new VF (its BAR2 already mapped).  Its lock
 * and key table were initialised when the VF was allocated, so that
 * mlx5_vfio_sim_state_free() can run on every error path.
 */
int mlx5_vfio_sim_state_init(struct mlx5_vfio_sim_vf *vf)
{
	spin_lock_init(&vf->knob_lock);
	vf->fail_next = MLX5_VFIO_SIM_FAIL_NONE;
	get_random_bytes(vf->ctx, sizeof(vf->ctx));
	vf->save.rec = kzalloc(MLX5_VFIO_SIM_REC_MAX, GFP_KERNEL);
	vf->load.rec = kzalloc(MLX5_VFIO_SIM_REC_MAX, GFP_KERNEL);
	if (!vf->save.rec || !vf->load.rec)
		return -ENOMEM;
	sim_load_reset(vf);
	if (!vf->npages)
		return 0;
	vf->sums = vcalloc(vf->npages, sizeof(*vf->sums));
	vf->scan = bitmap_zalloc(vf->npages, GFP_KERNEL);
	vf->save.set = bitmap_zalloc(vf->npages, GFP_KERNEL);
	if (!vf->sums || !vf->scan || !vf->save.set)
		return -ENOMEM;
	return 0;
}

/* Free what mlx5_vfio_sim_state_init() allocated (also after it failed) */
void mlx5_vfio_sim_state_free(struct mlx5_vfio_sim_vf *vf)
{
	struct mlx5_vfio_sim_mkey *mk;
	unsigned long index;

	/* the bookkeeping destroyed leaked keys; nothing should be left */
	xa_for_each(&vf->mkeys, index, mk)
		kvfree(mk);
	xa_destroy(&vf->mkeys);
	mlx5_vfio_sim_track_destroy(vf);
	bitmap_free(vf->save.set);
	bitmap_free(vf->scan);
	vfree(vf->sums);
	kfree(vf->load.rec);
	kfree(vf->save.rec);
	mutex_destroy(&vf->detach_lock);
	mutex_destroy(&vf->lock);
}
