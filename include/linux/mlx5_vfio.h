/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract between the PF side of a ConnectX VF (a provider: the
 * production mlx5-vfio-pf on top of mlx5_core, or the test-only firmware
 * simulator mlx5-vfio-sim) and the mlx5-vfio-pci variant driver.
 *
 * A provider creates one auxiliary device per VF, named
 * "mlx5_core.vfio_pci.<id>", i.e. match id MLX5_VFIO_AUX_MATCH_ID.  The
 * auxiliary device is embedded in a struct mlx5_vfio_aux_dev that names the
 * VF it stands for and carries an ops table executing firmware commands on
 * the VF's behalf.  The driver cannot tell the providers apart.
 *
 * Lifetime:
 *  - The provider allocates struct mlx5_vfio_aux_dev, fills every field
 *    below, then adds the auxiliary device.  It frees the structure from
 *    the auxiliary device's release callback, i.e. only after the last
 *    get_device() reference is gone.
 *  - The ops may be called from the auxiliary driver's probe() until its
 *    remove() returns.  Removal of the auxiliary device (SR-IOV disabled
 *    on the PF, PF unbound, the simulator's del_vf, module unload; not a
 *    detach, below) calls remove() and
 *    waits for it: the driver must stop issuing commands and destroy its
 *    memory keys before remove() returns.
 *  - Once removal has started, ops->exec() fails promptly with -ENODEV
 *    instead of delivering the command (a command already waiting, e.g.
 *    in the simulator's cmd_delay_ms, is cut short), so a remove() that
 *    waits for a user to stop migrating cannot wait on the provider.
 *  - The ops sleep: call them from process context, never under a spinlock.
 *    Calls may run concurrently; the provider serializes what needs it.
 *
 * Detach and attach: mlx5_core may disable a VF's HCA while the VF's PCI
 * function stays (MLX5_PF_NOTIFY_DISABLE_VF: SR-IOV detach for a health
 * recovery, a firmware reset or a devlink reload) and enable it again
 * later (MLX5_PF_NOTIFY_ENABLE_VF).  The auxiliary device stays too; the
 * provider calls the notifier chain @events of struct mlx5_vfio_aux_dev:
 *  - MLX5_VFIO_AUX_EVENT_DETACH before the HCA goes.  Commands still work
 *    during the call; the driver must end any migration and destroy its
 *    page trackers and memory keys before returning (the VF's firmware
 *    state is lost, and a firmware reset loses the PF's too).  Afterwards,
 *    until ATTACH, @exec, @mkey_create and @track_read_clear fail with
 *    -ENOTCONN without delivering anything; keys the driver still holds
 *    are destroyed by the provider, with a warning.
 *  - MLX5_VFIO_AUX_EVENT_ATTACH when the HCA is enabled again: a fresh
 *    VHCA (not suspended, no tracker, no image pending), same vhca_id.
 *    mlx5-vfio-pf follows MLX5_PF_NOTIFY_ENABLE_VF, which mlx5_core sends
 *    just before it enables the HCA (upstream's driver takes its detach
 *    flag down there too): a command in between, or after an enable that
 *    failed, gets a firmware error status.
 * Both are called in process context, may sleep, never concurrently with
 * each other for one device, with @data the struct mlx5_vfio_aux_dev.  A
 * driver registers with blocking_notifier_chain_register() from probe()
 * on and unregisters before remove() returns.
 */
#ifndef _LINUX_MLX5_VFIO_H
#define _LINUX_MLX5_VFIO_H

#include <linux/auxiliary_bus.h>
#include <linux/bits.h>
#include <linux/dma-direction.h>
#include <linux/notifier.h>
#include <linux/types.h>

struct page;

/* The module part of the auxiliary device's match id */
#define MLX5_VFIO_AUX_MODNAME	"mlx5_core"
/* The device part of the auxiliary device's match id */
#define MLX5_VFIO_AUX_DEVNAME	"vfio_pci"
/* What an auxiliary_device_id table of the driver lists */
#define MLX5_VFIO_AUX_MATCH_ID	MLX5_VFIO_AUX_MODNAME "." MLX5_VFIO_AUX_DEVNAME

/**
 * MLX5_VFIO_AUX_ID - auxiliary device id of the device that stands for a VF
 * @domain: the VF's PCI domain (at most 0xffff)
 * @bus: the VF's bus number
 * @devfn: the VF's device and function number
 *
 * Both providers number their devices this way, so an id names the VF and
 * two devices for different VFs never collide.
 */
#define MLX5_VFIO_AUX_ID(domain, bus, devfn) \
	(((u32)(domain) << 16) | ((u32)(bus) << 8) | (u32)(devfn))

struct mlx5_vfio_aux_dev;

/**
 * struct mlx5_vfio_aux_ops - what the PF side does for the VF's driver
 * @exec: execute one firmware command.  @in holds @inlen bytes of a command
 *	in the layout of <linux/mlx5/mlx5_ifc.h> (e.g. struct
 *	mlx5_ifc_save_vhca_state_in_bits, built with MLX5_SET()); @out
 *	receives @outlen bytes of the matching *_out layout.  Returns 0 when
 *	the command was delivered and answered: the firmware's status and
 *	syndrome are then in @out (MLX5_GET(..., out, status), 0 =
 *	MLX5_CMD_STAT_OK) and the caller must check them.  Returns -errno
 *	when the command could not be delivered (-ENODEV: the provider is
 *	going away; -ENOTCONN: the VF is detached; -EINVAL: @inlen or
 *	@outlen smaller than a command header or negative; -ENOMEM, -EIO,
 *	-ETIMEDOUT: transport failures), @out is then undefined.  A
 *	provider that maps a firmware status to an errno itself
 *	(mlx5_cmd_exec() does) still fills @out, so callers always check
 *	the status first.
 * @mkey_create: create a memory key through which the firmware writes
 *	(@dir DMA_FROM_DEVICE: SAVE_VHCA_STATE) or reads (DMA_TO_DEVICE:
 *	LOAD_VHCA_STATE) @npages pages (order 0: kernel pages, or user pages
 *	the driver pinned for the call).  A key is used only in its
 *	direction (DMA_BIDIRECTIONAL: both).  Address (va) 0 of the key is the first byte of
 *	@pages[0], va PAGE_SIZE the first of @pages[1], and so on; the key
 *	covers exactly @npages * PAGE_SIZE bytes.  The pages must stay
 *	allocated until @mkey_destroy.  On success stores the key in @mkey
 *	and returns 0, else -errno (-EINVAL for @npages 0, -ENOMEM, -ENODEV,
 *	-ENOTCONN).
 *	The production provider DMA-maps the pages on the PF and builds an
 *	MTT key; the simulator remembers the pages.
 * @mkey_destroy: destroy a key made by @mkey_create; afterwards the
 *	firmware no longer touches its pages.  Keys still existing when the
 *	auxiliary device goes away are destroyed by the provider (with a
 *	warning in the kernel log: the driver leaked them).
 * @track_read_clear: optional, NULL when the provider cannot deliver the
 *	reports of a page tracker; see "Dirty-page tracking" below.
 *
 * Dirty-page tracking
 *
 * The page tracker is the firmware's general object
 * MLX5_OBJ_TYPE_PAGE_TRACK, created, modified and destroyed through @exec
 * with CREATE/MODIFY/DESTROY_GENERAL_OBJECT in the layouts
 * mlx5_ifc_create_page_track_obj_in, mlx5_ifc_modify_page_track_obj_in
 * and mlx5_ifc_general_obj_in_cmd_hdr (obj_context: vhca_id of the VF,
 * log_page_size, log_addr_space_size, num_ranges and the track_range[]
 * array that follows the context; reporting_qpn 0).  Its limits are those
 * of the PF's QUERY_HCA_CAP capability MLX5_CAP_ADV_VIRTUALIZATION
 * (pg_track_max_num_range, pg_track_log_{min,max}_page_size,
 * pg_track_log_max_addr_space).  MODIFY with
 * MLX5_VFIO_PAGE_TRACK_MODIFY_STATE in modify_field_select moves the
 * tracker between MLX5_PAGE_TRACK_STATE_TRACKING and _REPORTING.
 *
 * How a report reaches the driver is where this contract differs from a
 * real ConnectX: there, the tracker in REPORTING state sends
 * mlx5_ifc_page_track_report_entry records (dirty page addresses) as
 * messages to a queue pair the driver created on the PF (reporting_qpn)
 * and polls through its completion queue.  Here the transport is a call:
 * @track_read_clear(@madev, @obj_id, @iova, @length, @entries, @max, @n)
 * stores in @entries (an array of @max struct
 * mlx5_ifc_page_track_report_entry, 8 bytes each, big endian as the
 * firmware writes them) the addresses of the tracker's dirty pages that
 * intersect [@iova, @iova + @length), in increasing order, clears them in
 * the tracker and stores their number in @n.  When @n equals @max there
 * may be more: call again.  The tracker must be in REPORTING state.
 * Returns 0 or -errno: -EINVAL for an unknown @obj_id, a tracker not in
 * REPORTING state, @max 0 or an empty or overflowing window; -ENODEV
 * when the provider is going away, -ENOTCONN while the VF is detached.
 * A provider without this op (the production mlx5-vfio-pf, which has no
 * queue-pair transport yet) leaves it NULL, and the driver then offers
 * no dirty tracking.  Trackers still existing when the auxiliary device
 * goes away are destroyed by the provider.
 */
struct mlx5_vfio_aux_ops {
	int (*exec)(struct mlx5_vfio_aux_dev *madev, const void *in, int inlen,
		    void *out, int outlen);
	int (*mkey_create)(struct mlx5_vfio_aux_dev *madev, struct page **pages,
			   unsigned int npages, enum dma_data_direction dir,
			   u32 *mkey);
	void (*mkey_destroy)(struct mlx5_vfio_aux_dev *madev, u32 mkey);
	int (*track_read_clear)(struct mlx5_vfio_aux_dev *madev, u32 obj_id,
				u64 iova, u64 length, void *entries, u32 max,
				u32 *n);
};

/*
 * Bit of a page tracker's modify_field_select that MODIFY_GENERAL_OBJECT
 * takes to change its state (this contract's choice; the mlx5_ifc header
 * names no bit for it).
 */
#define MLX5_VFIO_PAGE_TRACK_MODIFY_STATE	BIT_ULL(0)

/**
 * struct mlx5_vfio_aux_dev - the PF-side auxiliary device of one VF
 * @adev: the auxiliary device, name MLX5_VFIO_AUX_MATCH_ID, id
 *	MLX5_VFIO_AUX_ID() of the VF
 * @domain: the VF's PCI domain
 * @bus: the VF's PCI bus number
 * @devfn: the VF's PCI device and function number (PCI_DEVFN())
 * @function_id: what QUERY_HCA_CAP with other_function = 1 takes as
 *	function_id to answer for this VF (for a real VF its number + 1)
 * @vhca_id: the VF's VHCA id, as QUERY_HCA_CAP (general device caps,
 *	function_id as above) reports it; every VHCA command names it
 * @ops: the commands the provider executes for this VF
 * @events: MLX5_VFIO_AUX_EVENT_* (see "Detach and attach" at the top);
 *	the driver registers and unregisters its notifier block, the
 *	provider calls the chain
 * @detached: the VF is detached or being detached: the provider sets it
 *	(WRITE_ONCE()) before it calls the chain with DETACH and clears it
 *	before it calls it with ATTACH.  A driver that registers on @events
 *	and then reads it (READ_ONCE()) misses no detach: either it reads
 *	true, or the DETACH that follows reaches it.  It may then hear a
 *	detach twice.
 *
 * The driver reads these fields, never writes them (it only registers
 * on and unregisters from @events).  Find the VF's
 * struct pci_dev with pci_get_domain_bus_and_slot(@domain, @bus, @devfn).
 */
struct mlx5_vfio_aux_dev {
	struct auxiliary_device adev;
	u32 domain;
	u8 bus;
	u8 devfn;
	u16 function_id;
	u16 vhca_id;
	const struct mlx5_vfio_aux_ops *ops;
	struct blocking_notifier_head events;
	bool detached;
};

/* What the chain @events of struct mlx5_vfio_aux_dev reports */
enum mlx5_vfio_aux_event {
	MLX5_VFIO_AUX_EVENT_DETACH,	/* the VF's HCA is about to be disabled */
	MLX5_VFIO_AUX_EVENT_ATTACH,	/* it is enabled again, fresh */
};

/**
 * to_mlx5_vfio_aux_dev() - the struct mlx5_vfio_aux_dev of an auxiliary device
 * @adev: an auxiliary device matched by MLX5_VFIO_AUX_MATCH_ID
 *
 * Return: the structure @adev is embedded in.
 */
static inline struct mlx5_vfio_aux_dev *
to_mlx5_vfio_aux_dev(struct auxiliary_device *adev)
{
	return container_of(adev, struct mlx5_vfio_aux_dev, adev);
}

#endif /* _LINUX_MLX5_VFIO_H */
