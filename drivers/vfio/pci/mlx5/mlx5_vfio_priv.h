/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mlx5-vfio-pci internals shared by its files:
 *
 *   main.c     the fusion of the VF's pci_driver half and the PF's
 *              auxiliary_driver half into one vfio_device, the ops table
 *   cmd.c      firmware commands, built and checked with the mlx5_ifc layouts
 *   migrate.c  the migration state machine (one step per arc)
 *   stream.c   the versioned migration stream and its page-array buffers
 *   datafd.c   the VFIO migration v2 transport: mig_ops and the data fd
 *   mig_v1.c   the VFIO migration v1 transport: the migration region
 *   dirty.c    device dirty-page tracking (log_ops) on the page tracker
 *
 * The state machine and the stream know nothing of files or of the VFIO
 * feature ioctls: a transport hands them a target state and moves stream
 * bytes through an iov_iter.  datafd.c is the only v2-specific file,
 * mig_v1.c the only v1-specific one; a device is driven through one of
 * them at a time (mlx5vf_mig_claim()).
 *
 * Lock order, outermost first:
 *
 *   pci_dev device lock	(driver core; taken by main.c around fusion)
 *   mlx5vf_slot.lock	fusion of one VF (main.c)
 *   vdev.dev_set->lock	vfio core, around open/close
 *   mlx5vf_mig.lock	migration state of one device (migrate.c)
 *   mlx5vf_session.lock	one data stream (stream.c)
 *   mmap_lock		the reader's or writer's memory: user copies and
 *			pinning it for the firmware (stream.c)
 *
 *   mlx5vf_dirty.lock	dirty tracking of one device (dirty.c); inside
 *			dev_set->lock, never held with the two above
 *
 *   mlx5vf_mig.reset_lock  a leaf spinlock: the PCI core's reset_done
 *			(under the device lock, and the library's
 *			memory_lock for a reset it made) takes only this one
 *			and leaves the work to the next mlx5vf_mig.lock
 *			holder (migrate.c)
 *
 * The provider's ops (madev->ops) sleep and take only the provider's own
 * locks: they may be called under any of the above.
 *
 * The provider's detach and attach events (main.c's mlx5vf_pf_event())
 * come under the provider's locks: the PF half's event lock and chain,
 * and for mlx5-vfio-pf mlx5_core's devlink lock and its SR-IOV notifier
 * chain.  They take mlx5vf_mig.lock (and so mlx5vf_session.lock) and
 * mlx5vf_dirty.lock, so those three sit inside all of these; unfusion
 * leaves the chain (which waits for an event in progress) under the
 * device and slot locks, which no event takes.  Whoever holds one of the
 * three while it waits on a user (a data fd copy or a REPORT's bitmap
 * faulting, slowly) delays a health recovery of the whole PF by as much,
 * as upstream's driver does with its migration file lock.
 */
#ifndef MLX5_VFIO_PRIV_H
#define MLX5_VFIO_PRIV_H

#include <linux/mlx5_vfio.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/vfio_pci_core.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct mlx5vf_slot;
struct mlx5vf_session;

/* ---- firmware commands (cmd.c) ---- */

int mlx5vf_exec(struct mlx5_vfio_aux_dev *madev, const void *in,
		int inlen, void *out, int outlen);

void *mlx5vf_cmd_query_hca_cap(struct mlx5_vfio_aux_dev *madev, u16 cap_type,
			       bool of_vf);
int mlx5vf_cmd_query_vhca_id(struct mlx5_vfio_aux_dev *madev, u16 *vhca_id);
int mlx5vf_cmd_mig_caps(struct mlx5_vfio_aux_dev *madev, const char **missing);
int mlx5vf_cmd_suspend_vhca(struct mlx5_vfio_aux_dev *madev, u16 op_mod);
int mlx5vf_cmd_resume_vhca(struct mlx5_vfio_aux_dev *madev, u16 op_mod);
int mlx5vf_cmd_query_mig_state(struct mlx5_vfio_aux_dev *madev,
			       bool incremental, u32 *required,
			       u64 *remaining);
int mlx5vf_cmd_save_vhca(struct mlx5_vfio_aux_dev *madev, bool incremental,
			 bool track, u32 mkey, u64 va, u32 size, u32 *actual,
			 u32 *next);
int mlx5vf_cmd_load_vhca(struct mlx5_vfio_aux_dev *madev, u32 mkey, u64 va,
			 u32 size);

/* ---- the migration stream (stream.c) ---- */

/*
 * Stream layout, version 2 (all fields little endian):
 *
 *   stream header	magic, version, header size, reserved (24 bytes)
 *   record*		record header (24 bytes) + payload
 *
 * Record types: IMAGE carries one piece of the VHCA image as the firmware
 * saved it (loaded with one LOAD_VHCA_STATE); END closes the stream and
 * has no payload.  Records are numbered from 0 in @seq; @hash is the xxh64
 * of the record header's first 16 bytes (type, seq, len).  The payload is
 * the firmware's and checked by the firmware when loaded (version 1 also
 * hashed every payload byte: a second pass over the data that cost more
 * than the copy).  A loader accepts exactly this version, records of at
 * most MLX5VF_REC_MAX bytes, in sequence, and nothing after END.
 */
#define MLX5VF_STREAM_MAGIC	0x534d465635584c4dULL	/* "MLX5VFMS" */
#define MLX5VF_STREAM_VERSION	2
#define MLX5VF_REC_IMAGE	1
#define MLX5VF_REC_END		2
/* Largest record payload: the biggest piece a save may produce or load take */
#define MLX5VF_REC_MAX		(32U << 20)
/* Smallest incremental image worth sending during pre-copy */
#define MLX5VF_PRECOPY_MIN	PAGE_SIZE

struct mlx5vf_stream_hdr {
	__le64 magic;
	__le32 version;
	__le32 hdr_size;
	__le64 reserved;
};

struct mlx5vf_rec_hdr {
	__le32 type;
	__le32 seq;
	__le64 len;
	__le64 hash;
};

/**
 * struct mlx5vf_buf - a buffer of order-0 pages the firmware reaches
 *	through one memory key
 * @pages: the pages, in order
 * @npages: entries in @pages
 * @mkey: the provider's memory key over @pages
 */
struct mlx5vf_buf {
	struct page **pages;
	unsigned int npages;
	u32 mkey;
};

/* What a session does */
enum mlx5vf_session_kind {
	MLX5VF_SAVE_PRECOPY,	/* saving, device running: incremental images */
	MLX5VF_SAVE_STOPCOPY,	/* saving, device stopped: last image + END */
	MLX5VF_LOAD,		/* resuming: parse and load */
};

/* Where a loader is in the stream */
enum mlx5vf_load_pos {
	MLX5VF_LOAD_STREAM_HDR,
	MLX5VF_LOAD_REC_HDR,
	MLX5VF_LOAD_PAYLOAD,
	MLX5VF_LOAD_DONE,	/* END seen: nothing more may come */
};

/**
 * struct mlx5vf_session - one migration data stream, saving or loading
 * @lock: serialises everything below; inside mlx5vf_mig.lock
 * @kref: the transport's reference plus the state machine's
 * @kind: what the session does now (a pre-copy save turns into stop-copy)
 * @madev: the PF side; NULL once the session is disabled
 * @err: sticky error: the stream is broken, every later access fails with it
 * @wq: poll waiters
 * @buf: payload of the record in flight
 * @hdr: header bytes in flight (stream header and/or record header)
 * @hdr_len: valid bytes in @hdr
 * @hdr_pos: bytes of @hdr already moved
 * @payload_len: bytes of payload in @buf for the record in flight
 * @payload_pos: bytes of the payload already moved
 * @seq: sequence number of the next record
 * @started: the stream header went out (saving)
 * @tracking: a set_track save was done: later saves are incremental
 *	(until the firmware is found to have lost its tracking)
 * @image_more: the firmware has more of the current image: the size the
 *	next piece needs (next_required_umem_size)
 * @image_incremental: the next SAVE of the current image is incremental:
 *	whether the image is, for its first piece; true for every later one
 * @image_track: the current image is saved with set_track (pre-copy)
 * @image_initial: the current image is the first (full) one of a pre-copy
 * @image_left: bytes of the current image the firmware still holds
 * @initial_saved: the first pre-copy image is completely saved
 * @inflight_initial: the record in flight belongs to the first image
 * @final_started: stop-copy began its last image: END follows it
 * @tracking_lost: the firmware refused the first SAVE of an image with
 *	BAD_RES_STATE (it does not track): pre-copy has nothing more to
 *	send, and stop-copy sends a full image (stream.c)
 * @end_queued: the END record is (or was) in flight
 * @pos: loader position in the stream
 * @rec: loader: header of the record being written
 * @load_direct: loader: the writer's buffer holds all of @rec's payload,
 *	which the firmware reads from there (no copy into @buf)
 * @total: bytes moved through this session
 */
struct mlx5vf_session {
	struct mutex lock;	/* everything below; inside mlx5vf_mig.lock */
	struct kref kref;
	enum mlx5vf_session_kind kind;
	struct mlx5_vfio_aux_dev *madev;
	int err;
	wait_queue_head_t wq;

	struct mlx5vf_buf buf;
	u8 hdr[sizeof(struct mlx5vf_stream_hdr) + sizeof(struct mlx5vf_rec_hdr)];
	u32 hdr_len;
	u32 hdr_pos;
	u64 payload_len;
	u64 payload_pos;
	u32 seq;

	/* saving */
	bool started;
	bool tracking;
	u32 image_more;
	bool image_incremental;
	bool image_track;
	bool image_initial;
	u64 image_left;
	bool initial_saved;
	bool inflight_initial;
	bool final_started;
	bool tracking_lost;
	bool end_queued;

	/* loading */
	enum mlx5vf_load_pos pos;
	struct mlx5vf_rec_hdr rec;
	bool load_direct;

	u64 total;
};

struct mlx5vf_session *mlx5vf_session_new(struct mlx5_vfio_aux_dev *madev,
					  enum mlx5vf_session_kind kind);
void mlx5vf_session_put(struct mlx5vf_session *s);
void mlx5vf_session_disable(struct mlx5vf_session *s, int err);
int mlx5vf_session_stop_copy(struct mlx5vf_session *s);
int mlx5vf_session_abandon(struct mlx5vf_session *s);
int mlx5vf_session_finish_load(struct mlx5vf_session *s);
ssize_t mlx5vf_session_read(struct mlx5vf_session *s, struct iov_iter *to);
ssize_t mlx5vf_session_write(struct mlx5vf_session *s, struct iov_iter *from);
int mlx5vf_session_precopy_info(struct mlx5vf_session *s, u64 *initial,
				u64 *dirty);
int mlx5vf_session_pending(struct mlx5vf_session *s, u64 *bytes);
__poll_t mlx5vf_session_poll_mask(struct mlx5vf_session *s);
wait_queue_head_t *mlx5vf_session_wq(struct mlx5vf_session *s);
u64 mlx5vf_stream_overhead(void);

/* ---- the state machine (migrate.c) ---- */

/* VHCA halves the driver suspended */
#define MLX5VF_SUSP_INITIATOR	BIT(0)
#define MLX5VF_SUSP_RESPONDER	BIT(1)

/* Which transport drives a device that is not RUNNING */
enum mlx5vf_mig_user {
	MLX5VF_USER_NONE,
	MLX5VF_USER_V2,		/* VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE */
	MLX5VF_USER_V1,		/* the migration region */
};

/**
 * struct mlx5vf_mig - migration state of one fused device
 * @lock: serialises state changes, @session and @suspended; inside the
 *	device set lock, outside every session's lock
 * @madev: the PF side, valid while the device is fused
 * @dev: the VF, for messages
 * @offered: migration is offered (the firmware answered at fusion)
 * @dead: removal started: no new migration
 * @detached: the PF side detached the VF (its HCA is disabled): arcs
 *	that need the firmware are refused with -ENOTCONN until it attaches
 *	again (migrate.c)
 * @state: the current VFIO device state
 * @suspended: MLX5VF_SUSP_* halves of the VHCA the driver suspended
 * @session: the data stream of the saving group or of RESUMING, or NULL
 * @epoch: bumped whenever a session starts or ends, so that a transport
 *	can tell its bookkeeping of a session is stale
 * @user: the transport that took the device off RUNNING; NONE in RUNNING
 * @reset_lock: guards @deferred_reset; a leaf, taken by mlx5vf_mig_reset_done()
 *	under the PCI core's reset locks and under @lock
 * @deferred_reset: the PCI core reset the function: the next holder of
 *	@lock (always taken and released with mlx5vf_mig_lock() and
 *	mlx5vf_mig_unlock()) brings the state machine to RUNNING first
 * @reset_work: takes @lock soon after such a reset, so a session ends even
 *	if no one else takes it
 */
struct mlx5vf_mig {
	struct mutex lock;	/* all of it; inside dev_set->lock */
	struct mlx5_vfio_aux_dev *madev;
	struct device *dev;
	bool offered;
	bool dead;
	bool detached;
	enum vfio_device_mig_state state;
	u8 suspended;
	struct mlx5vf_session *session;
	u64 epoch;
	enum mlx5vf_mig_user user;
	spinlock_t reset_lock;	/* leaf: deferred_reset */
	bool deferred_reset;
	struct work_struct reset_work;
};

void mlx5vf_mig_init(struct mlx5vf_mig *mig, struct device *dev);
void mlx5vf_mig_destroy(struct mlx5vf_mig *mig);
int mlx5vf_mig_probe(struct mlx5vf_mig *mig, struct mlx5_vfio_aux_dev *madev);
void mlx5vf_mig_open(struct mlx5vf_mig *mig);
int mlx5vf_mig_reset(struct mlx5vf_mig *mig);
void mlx5vf_mig_lock(struct mlx5vf_mig *mig);
void mlx5vf_mig_unlock(struct mlx5vf_mig *mig);
void mlx5vf_mig_reset_done(struct mlx5vf_mig *mig);
void mlx5vf_mig_abort(struct mlx5vf_mig *mig, bool dead);
void mlx5vf_mig_detach(struct mlx5vf_mig *mig);
void mlx5vf_mig_attach(struct mlx5vf_mig *mig);
struct mlx5vf_session *mlx5vf_mig_step(struct mlx5vf_mig *mig,
				       enum vfio_device_mig_state next);
int mlx5vf_mig_data_size(struct mlx5vf_mig *mig, unsigned long *len);
void mlx5vf_mig_set_error(struct mlx5vf_mig *mig, int err);
int mlx5vf_mig_claim(struct mlx5vf_mig *mig, enum mlx5vf_mig_user user);
void mlx5vf_mig_unclaim(struct mlx5vf_mig *mig);

/* ---- device dirty-page tracking (dirty.c) ---- */

/**
 * struct mlx5vf_dirty_range - one tracked IOVA range
 * @start: first byte
 * @last: last byte
 */
struct mlx5vf_dirty_range {
	u64 start;
	u64 last;
};

/**
 * struct mlx5vf_dirty - dirty-page tracking of one fused device
 * @lock: everything below; inside dev_set->lock (see the lock order)
 * @madev: the PF side, valid while the device is fused
 * @dev: the VF, for messages
 * @offered: the provider reports and the firmware has a page tracker
 * @dead: removal started: no new tracking
 * @detached: the PF side detached the VF: no new tracking until it attaches
 * @lost: a detach ended the tracking the user started: REPORT fails
 *	until the user's STOP or a new START
 * @max_ranges: pg_track_max_num_range of the firmware
 * @log_min_page: pg_track_log_min_page_size
 * @log_max_page: pg_track_log_max_page_size
 * @log_max_space: pg_track_log_max_addr_space
 * @active: a tracker exists (between START and STOP/close/reset/removal)
 * @obj_id: the tracker's object id, while @active
 * @page_size: its page size, while @active
 * @nranges: entries of @ranges, sorted by @start, while @active
 * @ranges: the tracked ranges, while @active
 * @entries: one page of report entries, while @active
 */
struct mlx5vf_dirty {
	struct mutex lock;	/* all of it; inside dev_set->lock */
	struct mlx5_vfio_aux_dev *madev;
	struct device *dev;
	bool offered;
	bool dead;
	bool detached;
	bool lost;
	u32 max_ranges;
	u8 log_min_page;
	u8 log_max_page;
	u8 log_max_space;
	bool active;
	u32 obj_id;
	u64 page_size;
	u32 nranges;
	struct mlx5vf_dirty_range *ranges;
	void *entries;
};

extern const struct vfio_log_ops mlx5vf_log_ops;

void mlx5vf_dirty_init(struct mlx5vf_dirty *d, struct device *dev);
void mlx5vf_dirty_destroy(struct mlx5vf_dirty *d);
int mlx5vf_dirty_probe(struct mlx5vf_dirty *d, struct mlx5_vfio_aux_dev *madev);
void mlx5vf_dirty_teardown(struct mlx5vf_dirty *d, bool dead);
void mlx5vf_dirty_detach(struct mlx5vf_dirty *d);
void mlx5vf_dirty_attach(struct mlx5vf_dirty *d);

/* ---- the fused device (main.c) ---- */

/**
 * struct mlx5vf_dev - the vfio_device of a fused VF
 * @core: the library's device; first member
 * @slot: the fusion slot this device belongs to
 * @madev: the PF half, bound for the whole life of this device
 * @pf_nb: on @madev's event chain (detach and attach) from before the
 *	first command at fusion until unfusion ended migration and tracking
 * @mig: migration state
 * @dirty: dirty-page tracking state (independent of @mig)
 */
struct mlx5vf_dev {
	struct vfio_pci_core_device core;
	struct mlx5vf_slot *slot;
	struct mlx5_vfio_aux_dev *madev;
	struct notifier_block pf_nb;
	struct mlx5vf_mig mig;
	struct mlx5vf_dirty dirty;
};

static inline struct mlx5vf_dev *to_mlx5vf_dev(struct vfio_device *vdev)
{
	return container_of(vdev, struct mlx5vf_dev, core.vdev);
}

/* ---- the VFIO migration v2 transport (datafd.c) ---- */

extern const struct vfio_migration_ops mlx5vf_mig_ops;

/* ---- the VFIO migration v1 transport (mig_v1.c) ---- */

int mlx5vf_v1_register(struct mlx5vf_dev *mvdev);

#endif /* MLX5_VFIO_PRIV_H */
