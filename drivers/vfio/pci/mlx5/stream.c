// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci migration stream: the versioned byte stream one migration
 * session moves, produced from SAVE_VHCA_STATE pieces and consumed into
 * LOAD_VHCA_STATE pieces.  The layout is described in mlx5_vfio_priv.h.
 *
 * A session moves bytes through an iov_iter, so any transport (the v2 data
 * fd and the v1 region today) can drive it.  The firmware reads and writes
 * the payload through a memory key over an array of order-0 pages: the
 * session's buffer, or the pages of a reader or writer that has room for
 * a whole piece (see "direct transfers" below).  No piece of the stream is
 * ever one contiguous kernel allocation, and a save holds one piece at a
 * time: a stream of any size moves in pieces of at most MLX5VF_REC_MAX.
 *
 * Saving produces lazily: when the reader has taken everything in flight,
 * the next piece is saved.  In pre-copy, a reader that finds the firmware
 * idle gets -ENOMSG; in stop-copy the stream ends with an END record and
 * then reads return 0.  "Idle" is an incremental image smaller than
 * MLX5VF_PRECOPY_MIN: the VHCA's own context changes all the time and
 * travels in stop-copy anyway, so pre-copy waits for changed memory.
 * When the firmware lost its tracking (see mlx5vf_save_tracking_lost())
 * pre-copy stays idle and stop-copy sends a full image.
 *
 * A session ends (mlx5vf_session_disable()) when the device leaves its
 * state: the buffer and its key go back to the PF side and every later
 * access fails with the error given.  The transport may keep the session
 * (a reference) longer, never the PF side.
 */
#include <linux/highmem.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/xxhash.h>

#include "mlx5_vfio_priv.h"

/* ---- page-array buffers ---- */

static void mlx5vf_buf_free(struct mlx5_vfio_aux_dev *madev,
			    struct mlx5vf_buf *buf)
{
	unsigned int i;

	if (!buf->pages)
		return;
	madev->ops->mkey_destroy(madev, buf->mkey);
	for (i = 0; i < buf->npages; i++)
		__free_page(buf->pages[i]);
	kvfree(buf->pages);
	buf->pages = NULL;
	buf->npages = 0;
}

/* Make @buf hold at least @size bytes (kept when it already does) */
static int mlx5vf_buf_reserve(struct mlx5_vfio_aux_dev *madev,
			      struct mlx5vf_buf *buf, u64 size,
			      enum dma_data_direction dir)
{
	unsigned int npages, filled = 0, got;
	struct page **pages;
	int ret;

	if (!size || size > MLX5VF_REC_MAX)
		return -EMSGSIZE;
	npages = DIV_ROUND_UP(size, PAGE_SIZE);
	if (buf->npages >= npages)
		return 0;
	mlx5vf_buf_free(madev, buf);

	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return -ENOMEM;
	while (filled < npages) {
		got = alloc_pages_bulk_array(GFP_KERNEL_ACCOUNT, npages, pages);
		if (got == filled) {
			ret = -ENOMEM;
			goto out_pages;
		}
		filled = got;
	}

	ret = madev->ops->mkey_create(madev, pages, npages, dir, &buf->mkey);
	if (ret)
		goto out_pages;
	buf->pages = pages;
	buf->npages = npages;
	return 0;

out_pages:
	while (filled)
		__free_page(pages[--filled]);
	kvfree(pages);
	return ret;
}

static u64 mlx5vf_buf_size(const struct mlx5vf_buf *buf)
{
	return (u64)buf->npages << PAGE_SHIFT;
}

/*
 * A record header's check value: the xxh64 of the fields before it.  The
 * payload is not covered: it is the firmware's image, whose format and
 * checks are the firmware's (the simulator sums every part of its own),
 * and a second pass over every byte here would cost more than the copy.
 */
static u64 mlx5vf_rec_check(const struct mlx5vf_rec_hdr *rec)
{
	return xxh64(rec, offsetof(struct mlx5vf_rec_hdr, hash), 0);
}

/*
 * Move up to @len bytes between @off of @buf and @iter: out to @iter when
 * @out, else in from it.  Returns the bytes moved (fewer on a fault).
 */
static size_t mlx5vf_buf_iter(struct mlx5vf_buf *buf, u64 off, size_t len,
			      struct iov_iter *iter, bool out)
{
	size_t done = 0, n, c, poff;
	struct page *page;

	while (done < len) {
		poff = offset_in_page(off + done);
		n = min_t(size_t, len - done, PAGE_SIZE - poff);
		page = buf->pages[(off + done) >> PAGE_SHIFT];
		c = out ? copy_page_to_iter(page, poff, n, iter) :
			  copy_page_from_iter(page, poff, n, iter);
		done += c;
		if (c < n)
			break;
	}
	return done;
}

/* ---- direct transfers: the firmware uses the caller's pages ---- */

/*
 * A reader with room for the record headers and all of the next piece
 * (as large as the firmware says it needs: a chunk), or a writer whose
 * buffer holds a whole record's payload, either at least
 * MLX5VF_DIRECT_MIN, lends those pages to the firmware for the length of the
 * call: pinned, under a memory key of their own, and SAVE writes into them
 * or LOAD reads from them.  That saves the copy through a kernel buffer,
 * which is half the CPU work of a migration when the firmware moves the
 * image itself.  Only user memory in one piece qualifies (read()/write()
 * on the data fd; the v1 region's window is kernel memory and takes the
 * buffer); below MLX5VF_DIRECT_MIN, pinning and a key cost more than the
 * copy.  Memory that cannot be pinned (a device mapping; for a reader, a
 * read-only one) takes the buffered path, which reports what it meets; a
 * key the PF side refuses is the firmware's error.  A reader's pages are
 * pinned for writing and keyed DMA_FROM_DEVICE, a writer's pinned
 * read-only and keyed DMA_TO_DEVICE: the firmware cannot write them.  A
 * lent LOAD reads memory the writer could change while the firmware
 * parses it; that is the writer's own stream, which it could have written
 * any way it liked.
 */
#define MLX5VF_DIRECT_MIN	SZ_256K
/* mlx5vf_direct_get(): the memory cannot be pinned, use the buffer */
#define MLX5VF_DIRECT_NO	1

struct mlx5vf_direct {
	struct page **pages;
	unsigned int npages;
	u32 mkey;
	bool mkey_live;	/* @mkey exists (the PF side maps the pages) */
	u64 off;	/* the first byte's offset in the key (in its page) */
	u32 room;	/* a reader's: payload bytes lent after the headers */
};

/* Bytes of user memory in one piece at the start of @iter; 0 for others */
static size_t mlx5vf_iter_user_span(const struct iov_iter *iter)
{
	/* read()/write(): the VFS hands a readv() over one segment a time */
	return iter_is_ubuf(iter) ? iov_iter_count(iter) : 0;
}

/*
 * Pin @len bytes (at most mlx5vf_iter_user_span()) of the caller's memory
 * at the start of @iter and put them under a key.  Returns 0,
 * MLX5VF_DIRECT_NO when the memory cannot be pinned (use the buffer), or
 * the PF side's error.
 */
static int mlx5vf_direct_get(struct mlx5_vfio_aux_dev *madev,
			     struct iov_iter *iter, size_t len,
			     struct mlx5vf_direct *d)
{
	unsigned long addr = (unsigned long)iter_iov_addr(iter);
	/* a reader's memory is where SAVE writes, a writer's LOAD reads */
	bool save = iov_iter_rw(iter) == READ;
	long got;
	int ret;

	d->off = offset_in_page(addr);
	d->npages = DIV_ROUND_UP(d->off + len, PAGE_SIZE);
	d->pages = kvmalloc_array(d->npages, sizeof(*d->pages),
				  GFP_KERNEL_ACCOUNT);
	if (!d->pages)
		return MLX5VF_DIRECT_NO;	/* the buffer may still do */
	got = pin_user_pages_fast(addr & PAGE_MASK, d->npages,
				  save ? FOLL_WRITE : 0, d->pages);
	if (got != d->npages) {
		if (got > 0)
			unpin_user_pages(d->pages, got);
		ret = MLX5VF_DIRECT_NO;
		goto err_free;
	}
	ret = madev->ops->mkey_create(madev, d->pages, d->npages,
				      save ? DMA_FROM_DEVICE : DMA_TO_DEVICE,
				      &d->mkey);
	if (ret) {
		unpin_user_pages(d->pages, d->npages);
		goto err_free;
	}
	d->mkey_live = true;
	return 0;

err_free:
	kvfree(d->pages);
	d->pages = NULL;
	return ret;
}

/*
 * Take the key back (the PF side unmaps the pages from DMA), so the CPU
 * owns the pages again: headers may go in now
 */
static void mlx5vf_direct_unkey(struct mlx5_vfio_aux_dev *madev,
				struct mlx5vf_direct *d)
{
	if (d->pages && d->mkey_live) {
		madev->ops->mkey_destroy(madev, d->mkey);
		d->mkey_live = false;
	}
}

/* Take the key back and unpin; @written: the pages were written */
static void mlx5vf_direct_put(struct mlx5_vfio_aux_dev *madev,
			      struct mlx5vf_direct *d, bool written)
{
	if (!d->pages)
		return;
	mlx5vf_direct_unkey(madev, d);
	unpin_user_pages_dirty_lock(d->pages, d->npages, written);
	kvfree(d->pages);
	d->pages = NULL;
}

/* Copy @len bytes from @src to offset @off of the lent pages */
static void mlx5vf_direct_fill(struct mlx5vf_direct *d, u64 off,
			       const void *src, size_t len)
{
	size_t n;

	while (len) {
		n = min_t(size_t, len, PAGE_SIZE - offset_in_page(off));
		memcpy_to_page(d->pages[off >> PAGE_SHIFT], offset_in_page(off),
			       src, n);
		off += n;
		src += n;
		len -= n;
	}
}

/* ---- sessions ---- */

/**
 * mlx5vf_session_new() - start a migration data stream
 * @madev: the PF side that executes the session's commands
 * @kind: saving (pre-copy or stop-copy) or loading
 *
 * Return: the session holding one reference (the state machine's), or an
 * ERR_PTR.
 */
struct mlx5vf_session *mlx5vf_session_new(struct mlx5_vfio_aux_dev *madev,
					  enum mlx5vf_session_kind kind)
{
	struct mlx5vf_session *s;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	mutex_init(&s->lock);
	kref_init(&s->kref);
	init_waitqueue_head(&s->wq);
	s->kind = kind;
	s->madev = madev;
	s->pos = MLX5VF_LOAD_STREAM_HDR;
	return s;
}

static void mlx5vf_session_free(struct kref *kref)
{
	struct mlx5vf_session *s = container_of(kref, struct mlx5vf_session,
						kref);

	/* The PF side's resources went back when the session was disabled */
	WARN_ON(s->madev);
	mutex_destroy(&s->lock);
	kfree(s);
}

/**
 * mlx5vf_session_put() - drop a reference to a session
 * @s: the session
 */
void mlx5vf_session_put(struct mlx5vf_session *s)
{
	kref_put(&s->kref, mlx5vf_session_free);
}

/**
 * mlx5vf_session_disable() - end a session
 * @s: the session
 * @err: what every later access returns (negative errno)
 *
 * Gives the buffer and its memory key back to the PF side and wakes
 * pollers.  After this the session never reaches the PF side again.
 */
void mlx5vf_session_disable(struct mlx5vf_session *s, int err)
{
	mutex_lock(&s->lock);
	if (s->madev) {
		mlx5vf_buf_free(s->madev, &s->buf);
		s->madev = NULL;
	}
	if (!s->err)
		s->err = err;
	mutex_unlock(&s->lock);
	wake_up_interruptible_all(&s->wq);
}

/*
 * Where the next piece goes, which the firmware says needs @required
 * bytes: straight into the reader's memory at @to, after the headers that
 * precede the piece, when it has room for all of it and that is at least
 * MLX5VF_DIRECT_MIN (@d then holds the pages); else into the session's
 * buffer.
 */
static int mlx5vf_save_dest(struct mlx5vf_session *s, struct iov_iter *to,
			    struct mlx5vf_direct *d, u32 required, u32 *mkey,
			    u64 *va, u32 *size)
{
	size_t hdrs = s->hdr_len + sizeof(struct mlx5vf_rec_hdr);
	int ret;

	if (d->pages) {		/* lent for an earlier, empty piece */
		if (required <= d->room) {
			*mkey = d->mkey;
			*va = d->off + hdrs;
			*size = d->room;
			return 0;
		}
		/* a new image that needs more: choose again */
		mlx5vf_direct_put(s->madev, d, true);
	}
	if (to && required >= MLX5VF_DIRECT_MIN &&
	    mlx5vf_iter_user_span(to) >= hdrs + required) {
		ret = mlx5vf_direct_get(s->madev, to, hdrs + required, d);
		if (!ret) {
			d->room = required;
			*mkey = d->mkey;
			*va = d->off + hdrs;
			*size = required;
			return 0;
		}
		if (ret != MLX5VF_DIRECT_NO)
			return ret;
	}
	ret = mlx5vf_buf_reserve(s->madev, &s->buf, required, DMA_FROM_DEVICE);
	if (ret)
		return ret;
	*mkey = s->buf.mkey;
	*va = 0;
	*size = min_t(u64, mlx5vf_buf_size(&s->buf), U32_MAX);
	return 0;
}

/* Take the rest of the current image into the buffer and drop it */
static int mlx5vf_drain_image(struct mlx5vf_session *s)
{
	u32 required, actual, next, mkey, size;
	struct mlx5vf_direct d = {};	/* no reader: the buffer */
	int ret = 0;
	u64 va;

	lockdep_assert_held(&s->lock);
	while (s->image_more) {
		if (fatal_signal_pending(current))
			return -EINTR;
		required = min_t(u32, s->image_more, MLX5VF_REC_MAX);
		ret = mlx5vf_save_dest(s, NULL, &d, required, &mkey, &va, &size);
		if (!ret)
			ret = mlx5vf_cmd_save_vhca(s->madev, s->image_incremental,
						   s->image_track, mkey, va, size,
						   &actual, &next);
		if (!ret && !actual && next)
			ret = -EPROTO;
		if (ret)
			return ret;
		s->image_more = next;
	}
	return 0;
}

/*
 * Make the firmware stop tracking for this session.  Stopped (stop-copy)
 * with tracking on and the last image not begun: that last image, which
 * ends tracking, is taken and dropped.  Running (pre-copy) after any
 * SAVE: the device specification has the firmware release what it turned
 * on for pre-copy at a SAVE_VHCA_STATE with incremental = 0 and
 * set_track = 0, into a buffer of the size an incremental
 * QUERY_VHCA_MIGRATION_STATE names; upstream's driver sends exactly that
 * when a pre-copy is cancelled, also after its PRE_COPY_ERROR, and drops
 * what the firmware writes there.  A firmware that answers BAD_RES_STATE
 * tracks nothing: that is what was wanted.
 */
static int mlx5vf_end_tracking(struct mlx5vf_session *s)
{
	u32 required = 0, actual, next;
	int ret;

	lockdep_assert_held(&s->lock);
	if (s->kind == MLX5VF_SAVE_STOPCOPY ? !s->tracking || s->final_started :
	    !s->tracking && !s->tracking_lost)
		return 0;
	ret = mlx5vf_cmd_query_mig_state(s->madev, true, &required, NULL);
	if (ret)
		return ret;
	if (s->kind == MLX5VF_SAVE_STOPCOPY) {
		s->final_started = true;
		s->image_incremental = true;
		s->image_track = false;
		s->image_more = required;
		ret = mlx5vf_drain_image(s);
	} else {
		required = clamp_t(u32, required, PAGE_SIZE, MLX5VF_REC_MAX);
		ret = mlx5vf_buf_reserve(s->madev, &s->buf, required,
					 DMA_FROM_DEVICE);
		if (!ret)
			ret = mlx5vf_cmd_save_vhca(s->madev, false, false,
						   s->buf.mkey, 0,
						   min_t(u64, mlx5vf_buf_size(&s->buf),
							 U32_MAX),
						   &actual, &next);
	}
	if (ret == -EBADFD)
		ret = 0;
	if (!ret)
		s->tracking = false;
	return ret;
}

/**
 * mlx5vf_session_abandon() - a save ends before its stream did
 * @s: a saving session whose device goes back to RUNNING, RUNNING_P2P
 *	(pre-copy) or STOP (stop-copy), whatever the reader took
 *
 * The firmware continues an image it was not done saving at the next
 * incremental SAVE with the same set_track; the simulator forgets one at
 * a RESUME_VHCA or a non-incremental SAVE (a new session's first), but
 * nothing upstream's driver does tells what a ConnectX does with a
 * half-taken image meanwhile.  So the rest of such an image is saved into
 * the session's buffer and dropped, and the firmware holds none; this is
 * tried also when the stream broke (upstream fails the arc then).  Then a
 * firmware that may still track for this session is told to stop
 * (mlx5vf_end_tracking()).  The session is over when this returns: a
 * reader that was waiting for the lock gets -EINVAL (or the error), so
 * nothing starts a new image behind the arc's back.  A fatal signal ends
 * the wait for a firmware that never says an image is done.
 *
 * Return: 0, or the error of a command (the arc fails with it).
 */
int mlx5vf_session_abandon(struct mlx5vf_session *s)
{
	int ret = 0;

	mutex_lock(&s->lock);
	if (s->madev && s->kind != MLX5VF_LOAD) {
		ret = mlx5vf_drain_image(s);
		if (!ret)
			ret = mlx5vf_end_tracking(s);
	}
	if (!s->err)
		s->err = ret ? ret : -EINVAL;
	mutex_unlock(&s->lock);
	wake_up_interruptible_all(&s->wq);
	return ret;
}

/**
 * mlx5vf_session_stop_copy() - a pre-copy save continues as stop-copy
 * @s: the session
 *
 * The device is stopped now: what follows is the last image and END.
 *
 * Return: 0, or the session's error.
 */
int mlx5vf_session_stop_copy(struct mlx5vf_session *s)
{
	int ret;

	mutex_lock(&s->lock);
	ret = s->err;
	if (!ret)
		s->kind = MLX5VF_SAVE_STOPCOPY;
	mutex_unlock(&s->lock);
	wake_up_interruptible_all(&s->wq);
	return ret;
}

/* Bytes queued for the reader and not yet read */
static u64 mlx5vf_session_inflight(struct mlx5vf_session *s)
{
	return (s->hdr_len - s->hdr_pos) + (s->payload_len - s->payload_pos);
}

/**
 * mlx5vf_stream_overhead() - stream bytes that are not image bytes
 *
 * Return: the stream header plus one record header (estimates only).
 */
u64 mlx5vf_stream_overhead(void)
{
	return sizeof(struct mlx5vf_stream_hdr) + 2 * sizeof(struct mlx5vf_rec_hdr);
}

/* Queue a record header (after a pending stream header, if any) */
static void mlx5vf_queue_rec(struct mlx5vf_session *s, u32 type, u64 len)
{
	struct mlx5vf_rec_hdr rec = {
		.type = cpu_to_le32(type),
		.seq = cpu_to_le32(s->seq),
		.len = cpu_to_le64(len),
	};

	rec.hash = cpu_to_le64(mlx5vf_rec_check(&rec));
	s->seq++;
	memcpy(s->hdr + s->hdr_len, &rec, sizeof(rec));
	s->hdr_len += sizeof(rec);
	s->payload_len = len;
	s->payload_pos = 0;
}

/* Queue the END record: the stream is complete after it */
static int mlx5vf_queue_end(struct mlx5vf_session *s)
{
	mlx5vf_queue_rec(s, MLX5VF_REC_END, 0);
	s->end_queued = true;
	return 0;
}

/*
 * The firmware refused the first SAVE of an image with BAD_RES_STATE
 * (mlx5vf_cmd_save_vhca()'s -EBADFD): it does not track the VHCA's changes
 * (it lost its tracking, or never started it), so there is no incremental
 * image to take.  Upstream's driver takes that status of a pre-copy SAVE
 * the same way (its PRE_COPY_ERROR).  Nothing of the refused image was
 * queued, so the stream stays whole: pre-copy has nothing more to send
 * (-ENOMSG from now on; estimates count only what is in flight) and
 * stop-copy saves a full image, which a loader takes over the images it
 * loaded before.  A refusal of stop-copy's first, incremental SAVE is taken
 * the same way, where upstream's driver fails the migration.  A SAVE
 * refused later in an image, of which the reader may have taken pieces,
 * still breaks the stream.
 */
static void mlx5vf_save_tracking_lost(struct mlx5vf_session *s)
{
	dev_info(&s->madev->adev.dev,
		 "SAVE_VHCA_STATE refused (BAD_RES_STATE): no tracking, stop-copy sends a full image\n");
	s->tracking = false;
	s->tracking_lost = true;
}

/*
 * Save the next piece of the current image, or start a new image, and
 * queue it: into the session's buffer, or into the reader's memory at @to
 * through @d (see mlx5vf_save_dest()).  Returns 0 when
 * something was queued, -ENOMSG when a pre-copy finds nothing to save, 1
 * at the end of a stop-copy stream.
 */
static int mlx5vf_save_next(struct mlx5vf_session *s, struct iov_iter *to,
			    struct mlx5vf_direct *d)
{
	bool stopcopy = s->kind == MLX5VF_SAVE_STOPCOPY;
	struct mlx5_vfio_aux_dev *madev = s->madev;
	u32 required, actual, next, mkey, size;
	u64 remaining, va;
	int ret;

	lockdep_assert_held(&s->lock);

	if (s->end_queued)
		return 1;

	s->hdr_len = 0;
	s->hdr_pos = 0;
	s->payload_len = 0;
	s->payload_pos = 0;
	if (!s->started) {
		struct mlx5vf_stream_hdr sh = {
			.magic = cpu_to_le64(MLX5VF_STREAM_MAGIC),
			.version = cpu_to_le32(MLX5VF_STREAM_VERSION),
			.hdr_size = cpu_to_le32(sizeof(sh)),
		};

		memcpy(s->hdr, &sh, sizeof(sh));
		s->hdr_len = sizeof(sh);
		s->started = true;
	}

	for (;;) {
		bool new_image = !s->image_more;

		if (s->image_more) {
			/*
			 * The firmware holds more of the image in progress
			 * and said how much the next piece needs
			 */
			required = min_t(u32, s->image_more, MLX5VF_REC_MAX);
		} else {
			/* Stop-copy ends after one image taken while stopped */
			if (stopcopy && s->final_started)
				return mlx5vf_queue_end(s);
			/* Pre-copy without tracking: the rest waits for stop-copy */
			if (!stopcopy && s->tracking_lost)
				return s->hdr_len ? 0 : -ENOMSG;
			remaining = 0;
			ret = mlx5vf_cmd_query_mig_state(madev, s->tracking,
							 &required, &remaining);
			if (ret)
				return ret;
			if (!stopcopy && s->tracking &&
			    max_t(u64, required, remaining) < MLX5VF_PRECOPY_MIN)
				required = 0;
			if (!required) {
				if (stopcopy)
					return mlx5vf_queue_end(s);
				return s->hdr_len ? 0 : -ENOMSG;
			}
			/*
			 * Pre-copy: a full image that starts tracking, then
			 * the changes, tracking on.  Stop-copy: the changes
			 * since pre-copy (tracking ends), or a full image.
			 */
			s->image_incremental = s->tracking;
			s->image_track = !stopcopy;
			s->image_initial = !s->tracking;
			s->image_left = max_t(u64, remaining, required);
			/* At most one piece at a time, whatever it asks */
			required = min_t(u64, required, MLX5VF_REC_MAX);
		}

		ret = mlx5vf_save_dest(s, to, d, required, &mkey, &va, &size);
		if (ret)
			return ret;
		ret = mlx5vf_cmd_save_vhca(madev, s->image_incremental,
					   s->image_track, mkey, va, size,
					   &actual, &next);
		if (ret == -EBADFD && new_image &&
		    (!stopcopy || s->image_incremental)) {
			mlx5vf_save_tracking_lost(s);
			if (!stopcopy)
				return s->hdr_len ? 0 : -ENOMSG;
			continue;	/* a full image instead */
		}
		if (ret)
			return ret;
		/* Only a last image the firmware took on counts as begun */
		if (new_image && stopcopy)
			s->final_started = true;
		if (s->image_track)
			s->tracking = true;
		if (!actual && next)
			return -EPROTO;
		/*
		 * The rest of the image is asked for as upstream's driver asks
		 * for every piece after an image's first: incremental, the
		 * same set_track (an incremental = 0 SAVE starts a new image)
		 */
		s->image_incremental = true;
		s->image_more = next;
		s->image_left -= min_t(u64, s->image_left, actual);
		if (!next) {
			s->image_left = 0;
			if (s->image_initial)
				s->initial_saved = true;
		}
		if (actual)
			break;
		/* An empty piece: nothing to send for it */
		if (!stopcopy)
			return s->hdr_len ? 0 : -ENOMSG;
	}

	s->inflight_initial = s->image_initial;
	mlx5vf_queue_rec(s, MLX5VF_REC_IMAGE, actual);
	return 0;
}

/*
 * The piece in flight was saved into the reader's memory after room for
 * its headers: put the headers there and count it all as read.  Returns
 * the bytes read.
 */
static size_t mlx5vf_direct_done(struct mlx5vf_session *s,
				 struct mlx5vf_direct *d, struct iov_iter *to)
{
	size_t n = s->hdr_len + s->payload_len;

	mlx5vf_direct_unkey(s->madev, d);
	mlx5vf_direct_fill(d, d->off, s->hdr, s->hdr_len);
	s->hdr_pos = s->hdr_len;
	s->payload_pos = s->payload_len;
	iov_iter_advance(to, n);
	return n;
}

/**
 * mlx5vf_session_read() - move saved stream bytes to a reader
 * @s: a saving session
 * @to: where the bytes go
 *
 * A read that took a piece lent (saved straight into its memory) ends
 * after it, perhaps short of what it asked: the next piece may need more
 * room than is left, which the next read may have.
 *
 * Return: bytes moved; 0 at the end of a stop-copy stream; -ENOMSG when a
 * pre-copy has nothing more for now (for good once the firmware lost its
 * tracking: mlx5vf_save_tracking_lost()); -EINVAL for a loading session; the
 * session's error once it is broken or over.
 */
ssize_t mlx5vf_session_read(struct mlx5vf_session *s, struct iov_iter *to)
{
	size_t done = 0, want, n;
	int ret = 0;

	mutex_lock(&s->lock);
	if (s->err) {
		ret = s->err;
		goto out_unlock;
	}
	if (s->kind == MLX5VF_LOAD) {
		ret = -EINVAL;
		goto out_unlock;
	}

	while (iov_iter_count(to)) {
		if (s->hdr_pos < s->hdr_len) {
			want = min_t(size_t, s->hdr_len - s->hdr_pos,
				     iov_iter_count(to));
			n = copy_to_iter(s->hdr + s->hdr_pos, want, to);
		} else if (s->payload_pos < s->payload_len) {
			want = min_t(u64, s->payload_len - s->payload_pos,
				     iov_iter_count(to));
			n = mlx5vf_buf_iter(&s->buf, s->payload_pos, want, to,
					    true);
		} else {
			struct mlx5vf_direct d = {};
			bool lent;

			ret = mlx5vf_save_next(s, to, &d);
			/* A piece saved into the reader's memory is read */
			lent = !ret && d.pages && s->payload_len;
			if (lent)
				done += mlx5vf_direct_done(s, &d, to);
			/* the firmware may have written even if SAVE failed */
			mlx5vf_direct_put(s->madev, &d, true);
			/*
			 * One lent piece per read: the next may need more
			 * room than is left, which a fresh read may have
			 */
			if (ret || lent)
				break;
			continue;
		}
		if (s->hdr_pos < s->hdr_len)
			s->hdr_pos += n;
		else
			s->payload_pos += n;
		done += n;
		if (n < want) {
			ret = -EFAULT;
			break;
		}
	}
	s->total += done;
	/* A failed save leaves the stream broken for good */
	if (ret < 0 && ret != -ENOMSG && ret != -EFAULT)
		s->err = ret;
	if (ret == 1)
		ret = 0;	/* end of stream */

out_unlock:
	mutex_unlock(&s->lock);
	return done ? done : ret;
}

/* Validate the stream header the writer sent */
static int mlx5vf_load_stream_hdr(struct mlx5vf_session *s)
{
	struct mlx5vf_stream_hdr sh;

	memcpy(&sh, s->hdr, sizeof(sh));
	if (le64_to_cpu(sh.magic) != MLX5VF_STREAM_MAGIC)
		return -EINVAL;
	if (le32_to_cpu(sh.version) != MLX5VF_STREAM_VERSION)
		return -EPROTONOSUPPORT;
	if (le32_to_cpu(sh.hdr_size) != sizeof(sh) || sh.reserved)
		return -EINVAL;
	return 0;
}

/*
 * Does the writer's memory at @from hold all @len bytes of a payload, and
 * enough of them to lend it to the firmware?
 */
static bool mlx5vf_load_can_lend(struct iov_iter *from, u64 len)
{
	return len >= MLX5VF_DIRECT_MIN && mlx5vf_iter_user_span(from) >= len;
}

/*
 * Validate a record header and prepare for its payload, which comes next
 * at @from: a buffer for it unless the writer's memory holds all of it.
 */
static int mlx5vf_load_rec_hdr(struct mlx5vf_session *s,
			       struct iov_iter *from)
{
	u32 type = le32_to_cpu(s->rec.type);
	u64 len = le64_to_cpu(s->rec.len);
	int ret;

	if (le32_to_cpu(s->rec.seq) != s->seq)
		return -EINVAL;
	switch (type) {
	case MLX5VF_REC_END:
		if (len)
			return -EINVAL;
		break;
	case MLX5VF_REC_IMAGE:
		if (!len)
			return -EINVAL;
		if (len > MLX5VF_REC_MAX)
			return -EMSGSIZE;
		break;
	default:
		return -EINVAL;
	}
	/* Plausible, so checked: a damaged header stops here */
	if (le64_to_cpu(s->rec.hash) != mlx5vf_rec_check(&s->rec))
		return -EBADMSG;

	if (type == MLX5VF_REC_END) {
		s->seq++;
		s->pos = MLX5VF_LOAD_DONE;
		return 0;
	}
	s->load_direct = mlx5vf_load_can_lend(from, len);
	if (!s->load_direct) {
		ret = mlx5vf_buf_reserve(s->madev, &s->buf, len, DMA_TO_DEVICE);
		if (ret)
			return ret;
	}
	s->payload_len = len;
	s->payload_pos = 0;
	s->pos = MLX5VF_LOAD_PAYLOAD;
	return 0;
}

/* The firmware loaded a record's payload: the next record header follows */
static void mlx5vf_load_next_rec(struct mlx5vf_session *s)
{
	s->seq++;
	s->hdr_pos = 0;
	s->pos = MLX5VF_LOAD_REC_HDR;
}

/* A record's payload is complete in the buffer: the firmware checks and loads it */
static int mlx5vf_load_payload(struct mlx5vf_session *s)
{
	int ret;

	ret = mlx5vf_cmd_load_vhca(s->madev, s->buf.mkey, 0, s->payload_len);
	if (ret)
		return ret;
	mlx5vf_load_next_rec(s);
	return 0;
}

/*
 * The whole payload is in the writer's memory at @from: the firmware
 * checks and loads it from there.  Memory that cannot be pinned goes
 * through the buffer after all.
 */
static int mlx5vf_load_lent(struct mlx5vf_session *s, struct iov_iter *from,
			    size_t *done)
{
	struct mlx5vf_direct d = {};
	int ret;

	s->load_direct = false;
	ret = mlx5vf_load_can_lend(from, s->payload_len) ?
	      mlx5vf_direct_get(s->madev, from, s->payload_len, &d) :
	      MLX5VF_DIRECT_NO;
	if (ret == MLX5VF_DIRECT_NO)
		return mlx5vf_buf_reserve(s->madev, &s->buf, s->payload_len,
					  DMA_TO_DEVICE);
	if (ret)
		return ret;
	ret = mlx5vf_cmd_load_vhca(s->madev, d.mkey, d.off, s->payload_len);
	mlx5vf_direct_put(s->madev, &d, false);
	if (ret)
		return ret;
	iov_iter_advance(from, s->payload_len);
	*done += s->payload_len;
	s->payload_pos = s->payload_len;
	mlx5vf_load_next_rec(s);
	return 0;
}

/* Collect header bytes into @dst; 1 once it holds @size bytes */
static int mlx5vf_load_collect(struct mlx5vf_session *s, void *dst,
			       size_t size, struct iov_iter *from, size_t *done)
{
	size_t want = min_t(size_t, size - s->hdr_pos, iov_iter_count(from));
	size_t n = copy_from_iter(dst + s->hdr_pos, want, from);

	s->hdr_pos += n;
	*done += n;
	if (n < want)
		return -EFAULT;
	return s->hdr_pos == size;
}

/**
 * mlx5vf_session_write() - feed stream bytes to a loading session
 * @s: a loading session
 * @from: the bytes
 *
 * Each record header is checked (sequence, type and size first, then its
 * check value) and the payload loaded as soon as it is complete; the
 * firmware checks the payload.
 *
 * Return: bytes taken, or a negative errno: -EINVAL for a malformed
 * stream (a damaged sequence number or type included), bytes after END or
 * a saving session, -EPROTONOSUPPORT for another stream version, -EMSGSIZE
 * for a record larger than MLX5VF_REC_MAX (a damaged size included),
 * -EBADMSG for a plausible record header that fails its check, the
 * firmware's error when a load fails.  Any error but -EFAULT breaks
 * the session for good.
 */
ssize_t mlx5vf_session_write(struct mlx5vf_session *s, struct iov_iter *from)
{
	size_t done = 0, want, n;
	int ret = 0;

	mutex_lock(&s->lock);
	if (s->err) {
		ret = s->err;
		goto out_unlock;
	}
	if (s->kind != MLX5VF_LOAD) {
		ret = -EINVAL;
		goto out_unlock;
	}

	while (iov_iter_count(from) && !ret) {
		switch (s->pos) {
		case MLX5VF_LOAD_STREAM_HDR:
			ret = mlx5vf_load_collect(s, s->hdr,
						  sizeof(struct mlx5vf_stream_hdr),
						  from, &done);
			if (ret == 1) {
				ret = mlx5vf_load_stream_hdr(s);
				s->hdr_pos = 0;
				s->pos = MLX5VF_LOAD_REC_HDR;
			}
			break;
		case MLX5VF_LOAD_REC_HDR:
			ret = mlx5vf_load_collect(s, &s->rec, sizeof(s->rec),
						  from, &done);
			if (ret == 1)
				ret = mlx5vf_load_rec_hdr(s, from);
			break;
		case MLX5VF_LOAD_PAYLOAD:
			if (s->load_direct) {
				ret = mlx5vf_load_lent(s, from, &done);
				break;
			}
			want = min_t(u64, s->payload_len - s->payload_pos,
				     iov_iter_count(from));
			n = mlx5vf_buf_iter(&s->buf, s->payload_pos, want,
					    from, false);
			s->payload_pos += n;
			done += n;
			if (n < want)
				ret = -EFAULT;
			else if (s->payload_pos == s->payload_len)
				ret = mlx5vf_load_payload(s);
			break;
		case MLX5VF_LOAD_DONE:
			/* Nothing may follow END */
			ret = -EINVAL;
			break;
		}
	}
	s->total += done;
	if (ret && ret != -EFAULT)
		s->err = ret;
	/* A stream error is reported at once, a fault after partial progress */
	if (ret == -EFAULT && done)
		ret = 0;

out_unlock:
	mutex_unlock(&s->lock);
	return ret ? ret : done;
}

/**
 * mlx5vf_session_finish_load() - the writer is done: is the stream whole?
 * @s: a loading session
 *
 * Return: 0 when every record up to END was loaded, the session's error,
 * or -EINVAL for a stream that stopped before END.
 */
int mlx5vf_session_finish_load(struct mlx5vf_session *s)
{
	int ret;

	mutex_lock(&s->lock);
	ret = s->err;
	if (!ret && s->pos != MLX5VF_LOAD_DONE)
		ret = -EINVAL;
	mutex_unlock(&s->lock);
	return ret;
}

/**
 * mlx5vf_session_precopy_info() - estimates for VFIO_MIG_GET_PRECOPY_INFO
 * @s: a saving session
 * @initial: bytes of the first (full) image not yet read
 * @dirty: bytes changed since, not yet read (none once the firmware lost its
 *	tracking: stop-copy then carries a full image)
 *
 * Return: 0, -EINVAL outside pre-copy, the session's or firmware's error.
 */
int mlx5vf_session_precopy_info(struct mlx5vf_session *s, u64 *initial,
				u64 *dirty)
{
	u64 inflight, remaining = 0;
	u32 required = 0;
	int ret;

	mutex_lock(&s->lock);
	ret = s->err;
	if (ret)
		goto out_unlock;
	if (s->kind != MLX5VF_SAVE_PRECOPY) {
		ret = -EINVAL;
		goto out_unlock;
	}

	inflight = mlx5vf_session_inflight(s);
	*initial = 0;
	*dirty = 0;
	if (s->tracking_lost) {
		/*
		 * Pre-copy ended: at most the stream header is in flight;
		 * everything else comes in stop-copy
		 */
		*initial = inflight;
	} else if (!s->tracking) {
		/* Nothing read yet: the whole image is initial data */
		ret = mlx5vf_cmd_query_mig_state(s->madev, false, &required,
						 &remaining);
		if (!ret)
			*initial = max_t(u64, required, remaining) +
				   mlx5vf_stream_overhead();
	} else if (!s->initial_saved || (inflight && s->inflight_initial)) {
		*initial = inflight + s->image_left;
	} else if (s->image_more) {
		*dirty = inflight + s->image_left;
	} else {
		ret = mlx5vf_cmd_query_mig_state(s->madev, true, &required,
						 &remaining);
		remaining = max_t(u64, required, remaining);
		if (!ret && remaining >= MLX5VF_PRECOPY_MIN)
			*dirty = inflight + remaining;
	}
	if (ret)
		s->err = ret;

out_unlock:
	mutex_unlock(&s->lock);
	return ret;
}

/**
 * mlx5vf_session_pending() - stream bytes a saving session still holds
 * @s: a saving session
 * @bytes: where to store the estimate
 *
 * Pre-copy: the initial plus the dirty bytes of
 * mlx5vf_session_precopy_info().  Stop-copy: the bytes in flight plus what
 * the firmware still holds, never 0 before the END record has been queued,
 * and 0 once the whole stream has been read.
 *
 * Return: 0, -EINVAL for a loading session, the session's or firmware's
 * error.
 */
int mlx5vf_session_pending(struct mlx5vf_session *s, u64 *bytes)
{
	u64 initial = 0, dirty = 0, inflight, remaining = 0;
	u32 required = 0;
	int ret;

	mutex_lock(&s->lock);
	if (s->kind == MLX5VF_SAVE_PRECOPY && !s->err) {
		mutex_unlock(&s->lock);
		ret = mlx5vf_session_precopy_info(s, &initial, &dirty);
		if (!ret)
			*bytes = initial + dirty;
		return ret;
	}
	ret = s->err;
	if (ret)
		goto out_unlock;
	if (s->kind != MLX5VF_SAVE_STOPCOPY) {
		ret = -EINVAL;
		goto out_unlock;
	}

	inflight = mlx5vf_session_inflight(s);
	if (s->end_queued) {
		*bytes = inflight;
	} else if (s->image_more || s->final_started) {
		*bytes = inflight + s->image_left + sizeof(struct mlx5vf_rec_hdr);
	} else {
		ret = mlx5vf_cmd_query_mig_state(s->madev, s->tracking,
						 &required, &remaining);
		if (ret)
			s->err = ret;
		else
			*bytes = inflight + max_t(u64, required, remaining) +
				 mlx5vf_stream_overhead();
	}

out_unlock:
	mutex_unlock(&s->lock);
	return ret;
}

/**
 * mlx5vf_session_poll_mask() - what a poller may do now
 * @s: the session
 *
 * Return: EPOLLOUT for a loader, EPOLLIN when a read would not block on
 * -ENOMSG, EPOLLERR/EPOLLHUP once the session is broken or over.
 */
__poll_t mlx5vf_session_poll_mask(struct mlx5vf_session *s)
{
	__poll_t mask = 0;
	u64 remaining = 0;
	u32 required = 0;

	mutex_lock(&s->lock);
	if (s->err)
		mask = EPOLLERR | EPOLLHUP | EPOLLIN | EPOLLOUT;
	else if (s->kind == MLX5VF_LOAD)
		mask = EPOLLOUT | EPOLLWRNORM;
	else if (s->kind == MLX5VF_SAVE_STOPCOPY || mlx5vf_session_inflight(s) ||
		 s->image_more || (!s->tracking && !s->tracking_lost))
		mask = EPOLLIN | EPOLLRDNORM;
	else if (s->tracking_lost)
		mask = 0;	/* nothing before stop-copy */
	else if (mlx5vf_cmd_query_mig_state(s->madev, true, &required,
					    &remaining) ||
		 max_t(u64, required, remaining) >= MLX5VF_PRECOPY_MIN)
		mask = EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&s->lock);
	return mask;
}

/**
 * mlx5vf_session_wq() - the wait queue pollers of @s sleep on
 * @s: the session
 *
 * Return: the wait queue, woken when the session changes kind or ends.
 */
wait_queue_head_t *mlx5vf_session_wq(struct mlx5vf_session *s)
{
	return &s->wq;
}
