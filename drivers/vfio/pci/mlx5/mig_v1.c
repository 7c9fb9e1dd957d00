// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci VFIO migration v1 transport: the migration region.
 *
 * Debian bookworm's QEMU 7.2 migrates an assigned device only through a
 * device-specific region of type VFIO_REGION_TYPE_MIGRATION_DEPRECATED,
 * subtype VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED, laid out as
 * struct vfio_device_migration_info followed by a data window.  This file
 * is that region, over the same state machine (migrate.c) and the same
 * stream (stream.c) as the v2 data fd: only the transport differs.
 *
 * Layout (MLX5VF_V1_WIN bytes of window):
 *
 *   0          struct vfio_device_migration_info (32 bytes), read()/write()
 *   32         nothing: every access fails with -EINVAL
 *   PAGE_SIZE  the data window, read()/write() and mmap() (sparse area)
 *
 * How QEMU 7.2 (hw/vfio/migration.c, hw/vfio/common.c) uses the region,
 * and what follows for us:
 *
 * Probe.  With x-enable-migration=on, and only if the container reports
 *   dirty page tracking (type1's VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION), QEMU
 *   looks the region up by the type/subtype capability and wants a
 *   non-zero size; otherwise it adds a migration blocker.  It takes
 *   flags, size and offset from VFIO_DEVICE_GET_REGION_INFO.  With
 *   FLAG_MMAP it mmaps the areas of a SPARSE_MMAP capability, or the whole
 *   region if there is none, using PROT_READ/PROT_WRITE from the READ and
 *   WRITE flags; a failed mmap only makes it fall back to read()/write().
 *   => we report READ|WRITE|MMAP and one sparse area, the window, so the
 *   header page is never mapped.
 *
 * Registers.  Every register access is one pread()/pwrite() of the
 *   field's own size at its own offset (device_state 4 bytes, the others
 *   8); a short transfer is an error.  Data outside an mmapped area is
 *   moved in naturally aligned pieces of at most 8 bytes.
 *   => header accesses must be exactly one whole field; anything else is
 *   -EINVAL.  The window accepts any size inside it.
 *
 * device_state.  QEMU always reads device_state, computes
 *   (state & mask) | value, checks VFIO_DEVICE_STATE_VALID() and writes
 *   it, also when nothing changes.  If the write fails it reads the
 *   register again and aborts the whole QEMU process (hw_error) when it
 *   reads the error state (_SAVING | _RESUMING); otherwise it reports the
 *   errno to the migration.
 *   => writing the current state succeeds and does nothing; an invalid
 *   value fails with -EINVAL and changes nothing; a failed arc leaves the
 *   state machine in ERROR, read back as _SAVING | _RESUMING.  While the
 *   PF side has the VF detached (migrate.c) a state change needing the
 *   firmware is refused with -ENOTCONN and the state kept, and a detach
 *   turns _SAVING|_RUNNING into _RUNNING, _SAVING into 0: a source never
 *   shows the error state for it (_RESUMING does become it).
 *
 * Who writes what (source):
 *   VM start			mask ~MASK, value _RUNNING
 *   VM stop			mask ~_RUNNING, value 0 (value _SAVING for
 *				savevm): _RUNNING -> 0, _SAVING|_RUNNING ->
 *				_SAVING when migration stops the VM
 *   save_setup			mask MASK, value _SAVING: _RUNNING ->
 *				_SAVING|_RUNNING (pre-copy) while the VM runs,
 *				0 -> _SAVING on a stopped VM
 *   complete			mask ~_RUNNING, value _SAVING (usually no
 *				change: the VM stop did it), then 0 at the end
 *   cancel or failure		mask ~(_SAVING|_RESUMING), value _RUNNING, from
 *				the migration state notifier (CANCELLING,
 *				CANCELLED, FAILED), whatever the state
 *   => v1 states map onto the v2 FSM: _RUNNING = RUNNING,
 *   _SAVING|_RUNNING = PRE_COPY, _SAVING = STOP_COPY, 0 = STOP,
 *   _RESUMING = RESUMING; a write walks the arcs in between with
 *   vfio_mig_get_next_state(), exactly as a v2 request does, so a cancel
 *   from PRE_COPY or STOP_COPY ends the session and resumes the VHCA.
 *
 * Save.  pending_bytes is read by save_pending in each iteration; if it
 *   is 0 in save_iterate the device's pre-copy is done for now.  Otherwise
 *   one buffer is saved: read data_offset, read data_size, then take
 *   data_size bytes at data_offset (from the mmap, or by read()).  The
 *   complete phase loops "read pending_bytes; while it is non-zero save a
 *   buffer, stop early when data_size is 0", then writes 0.
 *   => reading data_offset in a saving state moves the next piece of the
 *   stream (at most the window) into the window: it is the only read that
 *   has side effects, and it moves a new piece only once data_size of the
 *   previous one was read (a repeated data_offset read is harmless).
 *   data_size is the piece's length, 0 when pre-copy has nothing for now
 *   or the stream is over.  pending_bytes is mlx5vf_session_pending():
 *   non-zero in stop-copy until the END record went out, so QEMU's
 *   complete loop takes the whole stream.  In pre-copy it is what pre-copy
 *   still has: 0 for good once the firmware lost its tracking (stream.c),
 *   so QEMU's pre-copy converges, although stop-copy then moves a full
 *   image (migration v2 users see that through MIG_DATA_SIZE).
 *
 * Resume (destination).  load_setup writes mask ~MASK, value _RESUMING
 *   (from _RUNNING: the VM has not run).  For each buffer QEMU reads
 *   data_offset, puts the bytes there (mmap or write(), at most the room
 *   between data_offset and the region's end per round) and writes that
 *   count to data_size.  When the VM starts, mask ~MASK, value _RUNNING
 *   leaves RESUMING, which requires the complete stream.
 *   => data_offset is the window; writing data_size (at most the window)
 *   feeds that many window bytes to the loader; a broken stream fails that
 *   write and every later one.
 *
 * The other transport.  The transport that takes the device off RUNNING
 * owns it until it is RUNNING again (mlx5vf_mig_claim()): while v2 owns it
 * every access to this region fails with -EBUSY, while v1 owns it v2 state
 * changes fail with -EBUSY.  Writing _RUNNING to a RUNNING device claims
 * nothing, so QEMU's VM start never locks v2 out.
 *
 * VFIO_DEVICE_RESET and close put the state machine back to RUNNING (main.c
 * and migrate.c); the epoch of struct mlx5vf_mig tells this file that the
 * piece in its window belongs to a session that is gone.
 *
 * Locking: the state, the session and this file's bookkeeping (struct
 * mlx5vf_v1 but its window pointer) are under mlx5vf_mig.lock.  The window
 * itself is shared with user mappings: copies between it and the user's
 * buffer are made without the lock (a racing user only tears its own
 * data), the session reads and writes it under the lock.
 *
 * The window is allocated at its first use (mlx5vf_v1_win()): the first
 * mmap(), read() or write() of it, or the first piece moved through it.
 * Users of v2 (QEMU 8 and later, which dropped v1) never touch this region,
 * and an open device costs them no 2 MiB window.  Once set, @win stays
 * until the region is released: set with cmpxchg(), so two first uses
 * racing each other (mmap() runs under mmap_lock, the session's uses under
 * mlx5vf_mig.lock, read() and write() of the window under neither) need
 * no lock between them.
 */
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "mlx5_vfio_priv.h"

/* The data window: one piece of the stream at a time */
#define MLX5VF_V1_WIN		(2U << 20)
#define MLX5VF_V1_WIN_OFF	PAGE_SIZE
#define MLX5VF_V1_SIZE		(MLX5VF_V1_WIN_OFF + MLX5VF_V1_WIN)

/**
 * struct mlx5vf_v1 - the migration region of one open device
 * @mvdev: the device
 * @win: the data window, MLX5VF_V1_WIN bytes, mmappable; NULL until its
 *	first use (mlx5vf_v1_win()), then set for the region's lifetime
 * @epoch: mlx5vf_mig.epoch when @len was filled
 * @filled: a data_offset read put a piece in the window (saving)
 * @sized: data_size of that piece was read: the next data_offset read
 *	moves a new piece
 * @len: bytes of the piece in the window
 *
 * All but @win under mlx5vf_mig.lock; @win is set once, without a lock.
 */
struct mlx5vf_v1 {
	struct mlx5vf_dev *mvdev;
	void *win;
	u64 epoch;
	bool filled;
	bool sized;
	u64 len;
};

/*
 * The window, allocated by whichever use comes first; NULL only if that
 * allocation fails.  A loser of the race frees its copy.  May sleep.
 * Charged to the memory cgroup of the user who made it; pages inserted one
 * by one on fault (vmalloc_to_page()), so no VM_USERMAP is needed.
 */
static void *mlx5vf_v1_win(struct mlx5vf_v1 *v1)
{
	void *win, *old;

	/* Pairs with the cmpxchg() below: a window seen is a zeroed one */
	win = smp_load_acquire(&v1->win);
	if (win)
		return win;
	win = __vmalloc(MLX5VF_V1_WIN, GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!win)
		return NULL;
	/* Fully ordered on success: the zeroed pages before the pointer */
	old = cmpxchg(&v1->win, NULL, win);
	if (old) {
		/*
		 * A failed cmpxchg() orders nothing, but every use of @old
		 * depends on its value (as after rcu_dereference()), and the
		 * winner published it with a fully ordered one
		 */
		vfree(win);
		return old;
	}
	return win;
}

static u32 mlx5vf_v1_from_state(enum vfio_device_mig_state state)
{
	switch (state) {
	case VFIO_DEVICE_STATE_RUNNING:
		return VFIO_DEVICE_STATE_V1_RUNNING;
	case VFIO_DEVICE_STATE_PRE_COPY:
		return VFIO_DEVICE_STATE_V1_SAVING | VFIO_DEVICE_STATE_V1_RUNNING;
	case VFIO_DEVICE_STATE_STOP_COPY:
		return VFIO_DEVICE_STATE_V1_SAVING;
	case VFIO_DEVICE_STATE_STOP:
		return VFIO_DEVICE_STATE_V1_STOP;
	case VFIO_DEVICE_STATE_RESUMING:
		return VFIO_DEVICE_STATE_V1_RESUMING;
	default:
		/* ERROR; the P2P states are never left behind by a v1 write */
		return VFIO_DEVICE_STATE_SET_ERROR(0);
	}
}

/* The v2 state of a valid v1 value */
static enum vfio_device_mig_state mlx5vf_v1_to_state(u32 v1)
{
	switch (v1) {
	case VFIO_DEVICE_STATE_V1_RUNNING:
		return VFIO_DEVICE_STATE_RUNNING;
	case VFIO_DEVICE_STATE_V1_SAVING | VFIO_DEVICE_STATE_V1_RUNNING:
		return VFIO_DEVICE_STATE_PRE_COPY;
	case VFIO_DEVICE_STATE_V1_SAVING:
		return VFIO_DEVICE_STATE_STOP_COPY;
	case VFIO_DEVICE_STATE_V1_STOP:
		return VFIO_DEVICE_STATE_STOP;
	case VFIO_DEVICE_STATE_V1_RESUMING:
		return VFIO_DEVICE_STATE_RESUMING;
	default:
		return VFIO_DEVICE_STATE_ERROR;
	}
}

static bool mlx5vf_v1_saving(struct mlx5vf_mig *mig)
{
	return mig->state == VFIO_DEVICE_STATE_PRE_COPY ||
	       mig->state == VFIO_DEVICE_STATE_STOP_COPY;
}

/* Forget a piece that belongs to another session */
static void mlx5vf_v1_sync(struct mlx5vf_v1 *v1)
{
	struct mlx5vf_mig *mig = &v1->mvdev->mig;

	lockdep_assert_held(&mig->lock);

	if (v1->epoch == mig->epoch)
		return;
	v1->epoch = mig->epoch;
	v1->filled = false;
	v1->sized = false;
	v1->len = 0;
}

/* Write device_state: walk the FSM to the v2 state of @val */
static int mlx5vf_v1_set_state(struct mlx5vf_v1 *v1, u32 val)
{
	struct vfio_device *vdev = &v1->mvdev->core.vdev;
	struct mlx5vf_mig *mig = &v1->mvdev->mig;
	enum vfio_device_mig_state new, next;
	struct mlx5vf_session *s;
	int ret = 0;

	lockdep_assert_held(&mig->lock);

	if ((val & ~VFIO_DEVICE_STATE_MASK) || !VFIO_DEVICE_STATE_VALID(val) ||
	    VFIO_DEVICE_STATE_IS_ERROR(val))
		return -EINVAL;
	new = mlx5vf_v1_to_state(val);
	if (mig->state == new)
		return 0;
	/* Only a reset leaves ERROR */
	if (mig->state == VFIO_DEVICE_STATE_ERROR)
		return -EINVAL;
	ret = mlx5vf_mig_claim(mig, MLX5VF_USER_V1);
	if (ret)
		return ret;

	while (mig->state != new) {
		ret = vfio_mig_get_next_state(vdev, mig->state, new, &next);
		if (ret)
			break;
		/* Sessions stay with the state machine: no file for v1 */
		s = mlx5vf_mig_step(mig, next);
		if (IS_ERR(s)) {
			ret = PTR_ERR(s);
			break;
		}
	}
	mlx5vf_v1_sync(v1);
	mlx5vf_mig_unclaim(mig);
	return ret;
}

/* Read data_offset while saving: the next piece into the window */
static int mlx5vf_v1_fill(struct mlx5vf_v1 *v1)
{
	struct mlx5vf_mig *mig = &v1->mvdev->mig;
	struct kvec kv = { .iov_len = MLX5VF_V1_WIN };
	struct iov_iter iter;
	ssize_t n;

	lockdep_assert_held(&mig->lock);

	if (v1->filled && !v1->sized)
		return 0;	/* QEMU has not taken this piece yet */
	kv.iov_base = mlx5vf_v1_win(v1);
	if (!kv.iov_base)
		return -ENOMEM;
	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, MLX5VF_V1_WIN);
	n = mlx5vf_session_read(mig->session, &iter);
	/* Pre-copy with nothing new for now: an empty piece */
	if (n == -ENOMSG)
		n = 0;
	if (n < 0) {
		/* no stale length of the previous piece for data_size */
		v1->filled = false;
		v1->len = 0;
		return n;
	}
	v1->len = n;
	v1->filled = true;
	v1->sized = false;
	return 0;
}

/* Write data_size while resuming: feed the window to the loader */
static int mlx5vf_v1_load(struct mlx5vf_v1 *v1, u64 len)
{
	struct mlx5vf_mig *mig = &v1->mvdev->mig;
	struct kvec kv = { .iov_len = len };
	struct iov_iter iter;
	ssize_t n;

	lockdep_assert_held(&mig->lock);

	if (len > MLX5VF_V1_WIN)
		return -EINVAL;
	if (!len)
		return 0;
	kv.iov_base = mlx5vf_v1_win(v1);
	if (!kv.iov_base)
		return -ENOMEM;
	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, len);
	n = mlx5vf_session_write(mig->session, &iter);
	if (n < 0)
		return n;
	return n == len ? 0 : -EIO;
}

/* One register access, @val in or out; under the migration lock */
static int mlx5vf_v1_reg(struct mlx5vf_v1 *v1, u64 off, size_t count,
			 u64 *val, bool iswrite)
{
	struct mlx5vf_mig *mig = &v1->mvdev->mig;
	u64 pending = 0;
	int ret;

	lockdep_assert_held(&mig->lock);

	/* A reset, close or v2 user may have ended the session meanwhile */
	mlx5vf_v1_sync(v1);
	switch (off) {
	case offsetof(struct vfio_device_migration_info, device_state):
		if (count != sizeof(u32))
			return -EINVAL;
		if (iswrite)
			return mlx5vf_v1_set_state(v1, *val);
		*val = mlx5vf_v1_from_state(mig->state);
		return 0;
	case offsetof(struct vfio_device_migration_info, pending_bytes):
		if (count != sizeof(u64) || iswrite || !mlx5vf_v1_saving(mig))
			return -EINVAL;
		ret = mlx5vf_session_pending(mig->session, &pending);
		*val = pending;
		return ret;
	case offsetof(struct vfio_device_migration_info, data_offset):
		if (count != sizeof(u64) || iswrite)
			return -EINVAL;
		if (mlx5vf_v1_saving(mig)) {
			ret = mlx5vf_v1_fill(v1);
			if (ret)
				return ret;
		} else if (mig->state != VFIO_DEVICE_STATE_RESUMING) {
			return -EINVAL;
		}
		*val = MLX5VF_V1_WIN_OFF;
		return 0;
	case offsetof(struct vfio_device_migration_info, data_size):
		if (count != sizeof(u64))
			return -EINVAL;
		if (iswrite) {
			if (mig->state != VFIO_DEVICE_STATE_RESUMING)
				return -EINVAL;
			return mlx5vf_v1_load(v1, *val);
		}
		/* The size of the piece the last data_offset read moved */
		if (!mlx5vf_v1_saving(mig) || !v1->filled)
			return -EINVAL;
		v1->sized = true;
		*val = v1->len;
		return 0;
	default:
		return -EINVAL;
	}
}

static struct mlx5vf_v1 *mlx5vf_v1_of(struct vfio_pci_core_device *vdev,
				      loff_t pos)
{
	unsigned int i = VFIO_PCI_OFFSET_TO_INDEX((u64)pos) -
			 VFIO_PCI_NUM_REGIONS;

	/* The library checked the index before calling us */
	return vdev->region[i].data;
}

static ssize_t mlx5vf_v1_rw(struct vfio_pci_core_device *vdev,
			    char __user *buf, size_t count, loff_t *ppos,
			    bool iswrite)
{
	struct mlx5vf_v1 *v1 = mlx5vf_v1_of(vdev, *ppos);
	struct mlx5vf_mig *mig = &v1->mvdev->mig;
	u64 off = *ppos & VFIO_PCI_OFFSET_MASK;
	u64 end, val = 0;
	u32 val32;
	void *win;
	int ret;

	if (!count || check_add_overflow(off, (u64)count, &end) ||
	    end > MLX5VF_V1_SIZE)
		return -EINVAL;

	if (off < MLX5VF_V1_WIN_OFF) {
		/* The header: one whole field of 4 or 8 bytes per access */
		if (end > sizeof(struct vfio_device_migration_info) ||
		    (count != sizeof(u32) && count != sizeof(u64)))
			return -EINVAL;
		if (iswrite) {
			ret = count == sizeof(u32) ? get_user(val32, (u32 __user *)buf) :
			      get_user(val, (u64 __user *)buf);
			if (ret)
				return ret;
			if (count == sizeof(u32))
				val = val32;
		}
		mlx5vf_mig_lock(mig);
		if (mig->dead)
			ret = -ENODEV;
		else if (mig->user == MLX5VF_USER_V2)
			ret = -EBUSY;
		else
			ret = mlx5vf_v1_reg(v1, off, count, &val, iswrite);
		mlx5vf_mig_unlock(mig);
		if (ret)
			return ret;
		if (!iswrite) {
			ret = count == sizeof(u32) ?
			      put_user((u32)val, (u32 __user *)buf) :
			      put_user(val, (u64 __user *)buf);
			if (ret)
				return ret;
		}
		*ppos += count;
		return count;
	}

	/* The window: read while saving, written while resuming */
	mlx5vf_mig_lock(mig);
	if (mig->dead)
		ret = -ENODEV;
	else if (mig->user == MLX5VF_USER_V2)
		ret = -EBUSY;
	else if (iswrite ? mig->state != VFIO_DEVICE_STATE_RESUMING :
			   !mlx5vf_v1_saving(mig))
		ret = -EINVAL;
	else
		ret = 0;
	mlx5vf_mig_unlock(mig);
	if (ret)
		return ret;

	win = mlx5vf_v1_win(v1);
	if (!win)
		return -ENOMEM;
	off -= MLX5VF_V1_WIN_OFF;
	if (iswrite ? copy_from_user(win + off, buf, count) :
		      copy_to_user(buf, win + off, count))
		return -EFAULT;
	*ppos += count;
	return count;
}

/*
 * The window's pages are inserted on fault, so a mapping made once keeps
 * working whatever unmaps it, as QEMU keeps its mmap for the whole
 * migration.  (The library's zaps on reset and memory decode off cover the
 * BARs only, not the regions a driver adds.)
 */
static vm_fault_t mlx5vf_v1_fault(struct vm_fault *vmf)
{
	struct mlx5vf_v1 *v1 = vmf->vma->vm_private_data;
	u64 off = ((u64)vmf->pgoff << PAGE_SHIFT) & VFIO_PCI_OFFSET_MASK;
	/* mmap() made the window before this mapping existed */
	void *win = smp_load_acquire(&v1->win);
	struct page *page;

	if (!win || off < MLX5VF_V1_WIN_OFF || off >= MLX5VF_V1_SIZE)
		return VM_FAULT_SIGBUS;
	page = vmalloc_to_page(win + off - MLX5VF_V1_WIN_OFF);
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct mlx5vf_v1_vm_ops = {
	.fault = mlx5vf_v1_fault,
};

static int mlx5vf_v1_mmap(struct vfio_pci_core_device *vdev,
			  struct vfio_pci_region *region,
			  struct vm_area_struct *vma)
{
	struct mlx5vf_v1 *v1 = region->data;
	u64 off = ((u64)vma->vm_pgoff << PAGE_SHIFT) & VFIO_PCI_OFFSET_MASK;
	u64 len = vma->vm_end - vma->vm_start;
	u64 end;

	/* Only the window, the sparse area of the region info */
	if (off < MLX5VF_V1_WIN_OFF || check_add_overflow(off, len, &end) ||
	    end > MLX5VF_V1_SIZE)
		return -EINVAL;
	if (!mlx5vf_v1_win(v1))
		return -ENOMEM;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_private_data = v1;
	vma->vm_ops = &mlx5vf_v1_vm_ops;
	return 0;
}

static int mlx5vf_v1_add_capability(struct vfio_pci_core_device *vdev,
				    struct vfio_pci_region *region,
				    struct vfio_info_cap *caps)
{
	struct vfio_region_info_cap_sparse_mmap *sparse;
	size_t size = struct_size(sparse, areas, 1);
	int ret;

	sparse = kzalloc(size, GFP_KERNEL);
	if (!sparse)
		return -ENOMEM;
	sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sparse->header.version = 1;
	sparse->nr_areas = 1;
	sparse->areas[0].offset = MLX5VF_V1_WIN_OFF;
	sparse->areas[0].size = MLX5VF_V1_WIN;
	ret = vfio_info_add_capability(caps, &sparse->header, size);
	kfree(sparse);
	return ret;
}

static void mlx5vf_v1_release(struct vfio_pci_core_device *vdev,
			      struct vfio_pci_region *region)
{
	struct mlx5vf_v1 *v1 = region->data;

	vfree(v1->win);
	kfree(v1);
}

static const struct vfio_pci_regops mlx5vf_v1_regops = {
	.rw		= mlx5vf_v1_rw,
	.mmap		= mlx5vf_v1_mmap,
	.add_capability	= mlx5vf_v1_add_capability,
	.release	= mlx5vf_v1_release,
};

/**
 * mlx5vf_v1_register() - add the migration region to an opening device
 * @mvdev: the device, between vfio_pci_core_enable() and
 *	vfio_pci_core_finish_enable(), with migration offered
 *
 * The region lives until the device is closed; its data window is
 * allocated at its first use, not here.
 *
 * Return: 0 or a negative errno (-ENOMEM).
 */
int mlx5vf_v1_register(struct mlx5vf_dev *mvdev)
{
	struct mlx5vf_v1 *v1;
	int ret;

	v1 = kzalloc(sizeof(*v1), GFP_KERNEL_ACCOUNT);
	if (!v1)
		return -ENOMEM;
	v1->mvdev = mvdev;
	ret = vfio_pci_core_register_dev_region(&mvdev->core,
						VFIO_REGION_TYPE_MIGRATION_DEPRECATED,
						VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED,
						&mlx5vf_v1_regops,
						MLX5VF_V1_SIZE,
						VFIO_REGION_INFO_FLAG_READ |
						VFIO_REGION_INFO_FLAG_WRITE |
						VFIO_REGION_INFO_FLAG_MMAP, v1);
	if (ret)
		goto out_free;
	return 0;

out_free:
	kfree(v1);
	return ret;
}
