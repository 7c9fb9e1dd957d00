/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mlx5-vfio-sim private definitions: one simulated VF (its VHCA state, its
 * memory keys, its failure knobs) and the simulated image format.
 *
 * Lock order (outermost first):
 *   mlx5_vfio_sim_lock (sim.c, the list of VFs; never held while a VF is
 *     removed, since removal waits for the VFIO user)
 *   vf->detach_lock (writes of the detached knob: held around the
 *     bookkeeping's detach or attach, i.e. its ev_lock and event chain,
 *     the driver's handler under them (its migration locks, commands
 *     taking vf->lock), and the VHCA reset that follows a detach)
 *   vf->lock (the VHCA state, save cursor, loader, memory keys and the
 *     page tracker; the dma_write knob takes it too)
 *   vf->knob_lock (spinlock, leaf: fail_next)
 * Commands sleep for cmd_delay_ms before taking vf->lock, in a wait that
 * removal cuts short.
 *
 * Image format (private to the simulator, carried opaquely inside the
 * driver's migration stream; all integers little endian).  One SAVE
 * image is:
 *   struct mlx5_vfio_sim_img_hdr                           64 bytes
 *   context: MLX5_VFIO_SIM_CTX_LEN bytes + __le64 xxh64 of them
 *   hdr.npages records: struct mlx5_vfio_sim_img_page      16 bytes
 *                       + 4096 bytes of BAR2 at page index
 * Images follow each other; a LOAD may carry any slice of the stream, the
 * loader resumes where the previous LOAD stopped.  A full image carries
 * every page of BAR2, an incremental one only the pages whose sum
 * changed since they were last saved.  Every part is checksummed, so
 * corrupt_next_save is caught by the load (at the image header), and
 * corrupt_next_save_page (one data byte of one page record, its sum left
 * as computed) by the page check alone.
 */
#ifndef MLX5_VFIO_SIM_H
#define MLX5_VFIO_SIM_H

#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "aux.h"

#define MLX5_VFIO_SIM_MAGIC	0x4d535635	/* "5VSM" in memory */
#define MLX5_VFIO_SIM_VERSION	2	/* 2: page sums, not xxh64 */
#define MLX5_VFIO_SIM_PAGE	4096
#define MLX5_VFIO_SIM_CTX_LEN	256
/* Largest BAR2 simulated (tracking keeps 8 bytes per page of it) */
#define MLX5_VFIO_SIM_MAX_BAR	SZ_1G
/* QUERY_VHCA_MIGRATION_STATE with chunk=1 caps required_umem_size here */
#define MLX5_VFIO_SIM_CHUNK	SZ_8M
/* Status and syndrome of a command failed through fail_next */
#define MLX5_VFIO_SIM_FAIL_SYNDROME	0x5117fa11
/* fail_next values besides an opcode */
#define MLX5_VFIO_SIM_FAIL_NONE	(-1)
#define MLX5_VFIO_SIM_FAIL_ANY	0x10000

/* The page tracker's limits (advertised in MLX5_CAP_ADV_VIRTUALIZATION) */
#define MLX5_VFIO_SIM_TRACK_RANGES		8
#define MLX5_VFIO_SIM_TRACK_LOG_MIN_PAGE	12	/* 4 KiB */
#define MLX5_VFIO_SIM_TRACK_LOG_MAX_PAGE	21	/* 2 MiB */
#define MLX5_VFIO_SIM_TRACK_LOG_MAX_SPACE	48
/* Tracked pages of all ranges at most: 4 MiB of bitmap (128 GiB at 4 KiB) */
#define MLX5_VFIO_SIM_TRACK_MAX_PAGES		BIT_ULL(25)

/**
 * struct mlx5_vfio_sim_track_range - one range of the page tracker
 * @start: first address (aligned to the tracker's page size)
 * @npages: tracker pages in it
 * @dirty: one bit per page, set by dma_write, cleared by reports
 */
struct mlx5_vfio_sim_track_range {
	u64 start;
	u64 npages;
	unsigned long *dirty;
};

/**
 * struct mlx5_vfio_sim_tracker - the VF's page tracker object
 * @obj_id: its general object id
 * @state: MLX5_PAGE_TRACK_STATE_*
 * @log_page: log2 of its page size
 * @log_space: log2 of its address space
 * @nranges: entries of @ranges
 * @ranges: the tracked ranges, as created
 */
struct mlx5_vfio_sim_tracker {
	u32 obj_id;
	u8 state;
	u8 log_page;
	u8 log_space;
	u32 nranges;
	struct mlx5_vfio_sim_track_range ranges[] __counted_by(nranges);
};

/* image flags */
#define MLX5_VFIO_SIM_IMG_INCREMENTAL	BIT(0)

/**
 * struct mlx5_vfio_sim_img_hdr - start of a simulated VHCA image
 * @magic: MLX5_VFIO_SIM_MAGIC
 * @version: MLX5_VFIO_SIM_VERSION
 * @flags: MLX5_VFIO_SIM_IMG_*
 * @page_size: MLX5_VFIO_SIM_PAGE
 * @ctx_len: MLX5_VFIO_SIM_CTX_LEN
 * @npages: page records following the context
 * @reserved0: zero
 * @bar_size: size of the saved function's BAR2 (0: none); a load needs
 *	the same size
 * @seq: images saved by the source VHCA before this one
 * @reserved: zero
 * @sum: xxh64 of the preceding bytes of the header
 */
struct mlx5_vfio_sim_img_hdr {
	__le32 magic;
	__le16 version;
	__le16 flags;
	__le32 page_size;
	__le32 ctx_len;
	__le32 npages;
	__le32 reserved0;
	__le64 bar_size;
	__le64 seq;
	__le64 reserved[2];
	__le64 sum;
};

/**
 * struct mlx5_vfio_sim_img_page - header of one page record
 * @index: page index in BAR2
 * @reserved: zero
 * @sum: the page sum of its 4096 bytes, seeded with @index (sim_cmd.c)
 */
struct mlx5_vfio_sim_img_page {
	__le32 index;
	__le32 reserved;
	__le64 sum;
};

#define MLX5_VFIO_SIM_REC_MAX \
	(sizeof(struct mlx5_vfio_sim_img_page) + MLX5_VFIO_SIM_PAGE)

/**
 * struct mlx5_vfio_sim_mkey - a memory key
 * @key: the key as the driver names it (index << 8 | variant)
 * @dir: what the firmware may do through it (DMA_FROM_DEVICE: write,
 *	for SAVE; DMA_TO_DEVICE: read, for LOAD; DMA_BIDIRECTIONAL: both)
 * @npages: pages covered
 * @pages: the driver's pages (a copy of its array)
 */
struct mlx5_vfio_sim_mkey {
	u32 key;
	enum dma_data_direction dir;
	unsigned int npages;
	struct page *pages[] __counted_by(npages);
};

/**
 * struct mlx5_vfio_sim_save - the image being handed out by SAVE
 * @active: an image is pending
 * @incremental: it carries only changed pages
 * @end_track: tracking ends when it is complete
 * @corrupt: flip bytes in it (corrupt_next_save)
 * @total: its size in bytes
 * @done: bytes already handed out
 * @ctx_done: the context part was staged
 * @next_page: next page index to consider
 * @left: page records still to stage
 * @set: pages in the image (incremental), else every page
 * @rec: staged bytes of the current part
 * @rec_len: bytes in @rec
 * @rec_pos: bytes of @rec already handed out
 * @need: the buffer size the next SAVE must offer: what the last QUERY
 *	reported as required_umem_size or the last SAVE as
 *	next_required_umem_size (0 after a RESUME)
 */
struct mlx5_vfio_sim_save {
	bool active;
	u32 need;
	bool incremental;
	bool end_track;
	bool corrupt;
	u64 total;
	u64 done;
	bool ctx_done;
	unsigned long next_page;
	unsigned long left;
	unsigned long *set;
	u8 *rec;
	unsigned int rec_len;
	unsigned int rec_pos;
};

enum mlx5_vfio_sim_load_phase {
	MLX5_VFIO_SIM_LOAD_HDR,
	MLX5_VFIO_SIM_LOAD_CTX,
	MLX5_VFIO_SIM_LOAD_PAGE,
	MLX5_VFIO_SIM_LOAD_BROKEN,
};

/**
 * struct mlx5_vfio_sim_load - the loader's position in the stream
 * @phase: what it is collecting
 * @need: bytes the current part has
 * @have: bytes of it collected in @rec
 * @left: page records still expected in this image
 * @rec: the part being collected
 */
struct mlx5_vfio_sim_load {
	enum mlx5_vfio_sim_load_phase phase;
	unsigned int need;
	unsigned int have;
	unsigned long left;
	u8 *rec;
};

/**
 * struct mlx5_vfio_sim_vf - one simulated VF
 * @aux: its auxiliary device (bookkeeping shared with mlx5-vfio-pf)
 * @node: in the simulator's list, under mlx5_vfio_sim_lock
 * @removing: del_vf is removing it (under mlx5_vfio_sim_lock)
 * @name: the function's PCI address, as written to new_vf
 * @pdev: the function (reference held)
 * @bar: its BAR2 mapped, for an ivshmem-plain function, else NULL
 * @npages: MLX5_VFIO_SIM_PAGE pages of @bar
 * @bar_size: bytes of @bar
 * @ddir: its debugfs directory
 * @knob_lock: protects @fail_next (leaf lock)
 * @fail_next: opcode whose next execution fails, MLX5_VFIO_SIM_FAIL_ANY
 *	or MLX5_VFIO_SIM_FAIL_NONE
 * @corrupt_next_save: debugfs bool, consumed with xchg()
 * @corrupt_next_save_page: debugfs bool, consumed with xchg() by the next
 *	page record saved
 * @cmd_delay_ms: debugfs u32, read with READ_ONCE()
 * @migratable: debugfs bool (default Y), what QUERY_HCA_CAP answers for the
 *	VF's general_2 migratable capability; read with READ_ONCE()
 * @detach_lock: serialises writes of the detached knob
 * @lock: protects everything below
 * @init_suspended: SUSPEND_VHCA initiator done (no DMA issued)
 * @resp_suspended: SUSPEND_VHCA responder done (fully stopped)
 * @tracking: pages saved are tracked by checksum
 * @scan_valid: @scan holds the pages changed since their last save
 *	(only kept while the responder is suspended),
 *	counted in @scan_count (dropped on SUSPEND/RESUME)
 * @scan_count: see @scan_valid
 * @sums: page sum of each page when last saved (valid while @tracking)
 * @scan: changed pages found by the last scan
 * @seq: images saved so far
 * @save: the pending SAVE image
 * @load: the loader
 * @mkeys: memory keys by index (key >> 8)
 * @mkey_variant: low byte of the next key
 * @mkeys_made: memory keys created so far (debugfs, read-only)
 * @ctx: the VHCA's own context
 * @tracker: the page tracker, or NULL
 * @tracker_destroy_refused: a DESTROY_GENERAL_OBJECT failed on purpose
 *	(fail_next) while @tracker existed: the driver tried to destroy it
 * @track_seq: the last tracker object id handed out
 */
struct mlx5_vfio_sim_vf {
	struct mlx5_vfio_aux aux;
	struct list_head node;
	bool removing;
	char name[16];
	struct pci_dev *pdev;
	void __iomem *bar;
	unsigned long npages;
	u64 bar_size;
	struct dentry *ddir;

	spinlock_t knob_lock;		/* leaf: fail_next */
	int fail_next;
	bool corrupt_next_save;
	bool corrupt_next_save_page;
	u32 cmd_delay_ms;
	bool migratable;
	struct mutex detach_lock;	/* the detached knob; see the top */

	struct mutex lock;		/* after mlx5_vfio_sim_lock: the VHCA */
	bool init_suspended;
	bool resp_suspended;
	bool tracking;
	bool scan_valid;
	unsigned long scan_count;
	u64 *sums;
	unsigned long *scan;
	u64 seq;
	struct mlx5_vfio_sim_save save;
	struct mlx5_vfio_sim_load load;
	struct xarray mkeys;
	u8 mkey_variant;
	u32 mkeys_made;
	u8 ctx[MLX5_VFIO_SIM_CTX_LEN];
	struct mlx5_vfio_sim_tracker *tracker;
	bool tracker_destroy_refused;
	u32 track_seq;
};

static inline struct mlx5_vfio_sim_vf *to_sim_vf(struct mlx5_vfio_aux *aux)
{
	return container_of(aux, struct mlx5_vfio_sim_vf, aux);
}

int mlx5_vfio_sim_exec(struct mlx5_vfio_aux *aux, const void *in, int inlen,
		       void *out, int outlen);
int mlx5_vfio_sim_mkey_create(struct mlx5_vfio_aux *aux, struct page **pages,
			      unsigned int npages, enum dma_data_direction dir,
			      u32 *mkey);
void mlx5_vfio_sim_mkey_destroy(struct mlx5_vfio_aux *aux, u32 mkey);
int mlx5_vfio_sim_state_init(struct mlx5_vfio_sim_vf *vf);
void mlx5_vfio_sim_hca_reset(struct mlx5_vfio_sim_vf *vf);
void mlx5_vfio_sim_state_free(struct mlx5_vfio_sim_vf *vf);

/* The page tracker (sim_track.c) */
void mlx5_vfio_sim_track_caps(void *cap);
int mlx5_vfio_sim_track_exec(struct mlx5_vfio_sim_vf *vf, u16 opcode,
			     const void *in, int inlen, void *out, int outlen);
void mlx5_vfio_sim_track_destroy(struct mlx5_vfio_sim_vf *vf);
int mlx5_vfio_sim_track_read_clear(struct mlx5_vfio_aux *aux, u32 obj_id,
				   u64 iova, u64 length, void *entries,
				   u32 max, u32 *n);
void mlx5_vfio_sim_dma_write(struct mlx5_vfio_sim_vf *vf, u64 iova, u64 len);

#endif /* MLX5_VFIO_SIM_H */
