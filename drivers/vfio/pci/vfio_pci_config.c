// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-core: config-space virtualization.
 *
 * Userspace never talks to the function's config space directly.  At open we
 * take a snapshot of it (the first 256 bytes, and of the extended space, when
 * the PCI core found one, the capability headers: vcfg_fetch()) and build two
 * things on top of it:
 *
 *  - the emulated bytes: what the user sees for every register we own
 *    ("virtual" bits).  Capability next pointers are rewritten so that the
 *    chains only list capabilities we know how to handle.
 *  - an owner map: for every byte, the kind of structure it belongs to (the
 *    header, a capability, a gap between capabilities) and where that
 *    structure starts.
 *
 * What a bit does is decided by two module-wide masks per byte of each kind
 * of structure, built once by vfio_pci_config_perm_init():
 *
 *	virt  write   read returns          a user write
 *	 1     1      emulated bit          changes the emulated bit
 *	 1     0      emulated bit          is dropped
 *	 0     1      hardware bit          goes to the hardware
 *	 0     0      hardware bit          is dropped
 *
 * Hardware writes are read-modify-write at the size of the user access.  A
 * write-1-to-clear bit that shares an access with writable bits is therefore
 * always itself marked writable (pass-through), so that a set bit read back
 * from the hardware is never echoed into the register and cleared by
 * accident.
 *
 * Some registers need more than masks; a kind may have a hook that runs after
 * the masked write of every piece landing in it (BAR sizing, the command
 * register, MSI limits, VPD, FLR, power state).  Actions that take locks
 * ordered outside vconfig_lock (power transitions, resets, INTx masking,
 * MSI-X refresh) are only recorded by the hooks and performed once every
 * lock of the access has been dropped.
 *
 * Policy summary:
 *  - Header: IDs, class, header type, capability pointer, pin RO (virtual).
 *    Command: memory and I/O decode are virtual and mirrored into the
 *    hardware; bus master, MWI, parity and SERR pass through; INTx disable
 *    is virtual (vfio_pci_intx_mask()/unmask() own the hardware bit).
 *    Status: read from the hardware, error bits write-1-to-clear pass
 *    through, capability-list bit virtual.  Cache line size and latency
 *    timer pass through: they only tune the function's own bus behaviour.
 *    BIST is read-only.  BARs and the ROM BAR are fully virtual and sized
 *    from the kernel's resources; the hardware BARs are never written on
 *    the user's behalf (only put back when the function lost them: see
 *    vcfg_hook_command()).  Interrupt line is a virtual scratch register.
 *  - Stricter than upstream 6.12 on purpose: the other command bits
 *    (special cycles, palette snoop, fast back-to-back) and BIST are
 *    dropped; of PCIe Device Control 2 only completion timeout, AtomicOp
 *    requests and IDO pass (LTR, OBFF and 10-bit tags need the ports
 *    above the function to agree, which the user cannot see); AER's ECRC
 *    enables and PCI-X ECC control stay the host's; extended gaps are
 *    read-only (below).
 *  - Gaps between standard capabilities (and the bodies of hidden ones)
 *    pass through both ways: some devices keep registers there and, like
 *    BAR registers, they are the function's own business; except a
 *    platform's register kept there (vcfg_layout_platform(): Intel
 *    graphics' ASLS), read-only.  Gaps in extended config space are
 *    read-only: that is where hidden extended capabilities such as PASID
 *    or DOE live.
 *  - Standard capabilities exposed: PM, VPD, MSI, PCI-X, vendor-specific,
 *    PCI Express, MSI-X, SATA, Advanced Features, and read-only AGP and
 *    HyperTransport (as upstream 6.12; a hidden one's body would be a gap,
 *    writable, and HyperTransport's holds the MSI mapping of some
 *    chipsets' functions).  Extended: AER, vendor-specific and
 *    designated vendor-specific (DVSEC: CXL devices keep their control
 *    registers there, memory and cache enables and ranges that the
 *    device's driver in the guest must program; both pass writes through
 *    past their vendor header, as upstream), and read-only the others
 *    upstream 6.12 shows: VC, DSN, power budgeting, MFVC, ACS, ARI, ATS,
 *    SR-IOV, multicast, PRI, Resizable BAR, DPA, TPH, LTR.  Upstream's
 *    power budgeting table opens byte 8 (the read-only Data register, not
 *    the Data Select at 4), so it is read-only there in effect too.  Also
 *    read-only, where upstream hides them: secondary PCIe, L1 PM
 *    substates, PTM, DLF and 16 GT/s, link state a guest may read and has
 *    no way to misuse.  Anything else (root complex structures, PASID,
 *    DOE, unknown IDs) is unlinked from the virtual chain.
 *
 * Locking: vdev->vconfig_lock serialises every change to the emulated bytes
 * and the hardware accesses made on their behalf; reads run without it and
 * are checked afterwards against a sequence count the changes bump, falling
 * back to the lock when one overlapped (vcfg_read_unlocked()).  The lock
 * nests inside igate and memory_lock and outside irqlock (see the order in
 * vfio_pci_core.h).  A
 * user write that reaches the command register takes memory_lock for write
 * first, zapping BAR mappings when it turns memory decode off, so the
 * emulated memory-enable bit only changes under memory_lock held for write.
 * User memory is only touched with no lock held.
 */
#include <linux/bitfield.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/seqlock.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <kunit/visibility.h>

#include "vfio_pci_priv.h"

#define VCFG_ALL	0xffffffffU
/* Extended capability header; the PCIe capability up to Slot Status 2 */
#define VCFG_XHDR_LEN	4
#define VCFG_EXP_LEN	(PCI_EXP_SLTSTA2 + 2)

/* What one byte of a structure does, see the table above */
struct vcfg_perm {
	u8 virt;
	u8 write;
};

/* Kinds of structures a config byte can belong to */
enum vcfg_kind {
	VK_GAP,		/* standard space outside any exposed capability */
	VK_XGAP,	/* extended space outside any exposed capability */
	VK_HDR,		/* type 0 header */
	VK_PM,
	VK_VPD,
	VK_MSI,
	VK_PCIX,
	VK_VNDR,
	VK_EXP,
	VK_MSIX,
	VK_SATA,
	VK_AF,
	VK_RO,		/* known standard capability, read-only */
	VK_PLATFORM,	/* a platform's register, read-only, over any owner */
	VK_XNULL,	/* placeholder header at 0x100 */
	VK_XERR,
	VK_XVNDR,
	VK_XRO,		/* known extended capability, read-only */
	VK_NR
};

/* The part of a user access that falls inside one structure */
struct vcfg_piece {
	unsigned int start;	/* first byte of the owning structure */
	unsigned int pos;	/* first byte of the piece */
	unsigned int len;	/* 1, 2 or 4, naturally aligned */
	u32 old;		/* emulated bytes before a write */
};

/* Side effects a write asks for, run after every lock is dropped */
struct vcfg_fx {
	bool intx;		/* apply vdev->virq_disabled to INTx */
	bool power;		/* move the function to @state */
	pci_power_t state;
	bool flr;		/* function level reset requested */
	bool msix_restore;	/* memory decode came back on */
	u8 readrq;		/* MRRS encoding + 1 the user wrote, 0: none */
};

/**
 * struct vfio_pci_vconfig - the emulated config space of an open device
 * @size: bytes of config space exposed, 256 or 4096
 * @bytes: emulated register contents, little endian as on the bus
 * @kind: per byte, the enum vcfg_kind of the structure it belongs to
 * @start: per byte, the offset where that structure starts
 * @bar_mask: per BAR, the address bits a user may set (0: unimplemented)
 * @bar_type: per BAR, the read-only low bits (space, type, prefetch)
 * @bar_impl: bitmap of BAR dwords that decode something in hardware
 * @rom_mask: address bits of the ROM BAR (0: no ROM)
 * @raw_bar: the hardware BAR values at open, for vfio_pci_config_restore_bars()
 * @raw_rom: the hardware ROM BAR at open
 * @pm_pos: offset of the PM capability, 0 if hidden or absent
 * @msi_pos: offset of the MSI capability, likewise
 * @msix_pos: offset of the MSI-X capability, likewise
 * @order: scratch space for the capability walks, @size / 4 entries
 * @data: where @start, @order, @bytes and @kind live, sized for @size
 *	(vcfg_alloc()): a conventional function's space takes a
 *	small allocation, not one for 4096 bytes
 *
 * @seq: odd while @bytes are being changed, bumped by every change made
 *	after open (all under vconfig_lock), so that config reads can run
 *	without the lock and retry with it if a change overlapped them
 *
 * Everything is guarded by vdev->vconfig_lock, except the command register
 * memory bit which vfio_pci_memory_enabled() may read under memory_lock,
 * and the reads of vcfg_read_unlocked(), which @seq validates.  Only @bytes
 * changes after open; the layout (@kind, @start, masks) is fixed then.
 */
struct vfio_pci_vconfig {
	seqcount_t seq;
	unsigned int size;
	u8 *bytes;
	u8 *kind;
	u16 *start;
	u32 bar_mask[PCI_STD_NUM_BARS];
	u32 bar_type[PCI_STD_NUM_BARS];
	unsigned long bar_impl;
	u32 rom_mask;
	u32 raw_bar[PCI_STD_NUM_BARS];
	u32 raw_rom;
	u16 pm_pos;
	u16 msi_pos;
	u16 msix_pos;
	u16 *order;
	u8 data[] __aligned(sizeof(u16));
};

/*
 * A zeroed emulated space of @size bytes (256 or 4096), arrays placed in
 * its tail: @start and @order first, for their alignment
 */
static struct vfio_pci_vconfig *vcfg_alloc(unsigned int size, gfp_t gfp)
{
	struct vfio_pci_vconfig *vc;

	vc = kvzalloc(struct_size(vc, data, size * sizeof(u16) +
				  size / 4 * sizeof(u16) + 2 * size), gfp);
	if (!vc)
		return NULL;
	vc->size = size;
	vc->start = (u16 *)vc->data;
	vc->order = vc->start + size;
	vc->bytes = (u8 *)(vc->order + size / 4);
	vc->kind = vc->bytes + size;
	return vc;
}

typedef void (*vcfg_hook_t)(struct vfio_pci_core_device *vdev,
			    struct vfio_pci_vconfig *vc,
			    const struct vcfg_piece *p, struct vcfg_fx *fx);

/**
 * struct vcfg_kind_desc - how a kind of structure behaves
 * @name: for messages
 * @perm: per-byte masks for offsets below @nperm: the virtual mask of
 *	byte @off at perm[off], its writable mask at perm[nperm + off]
 * @nperm: bytes @perm covers
 * @tail: masks for offsets from @nperm on
 * @fixed_len: length of the structure, or 0 if @len computes it
 * @len: computes the length from the snapshot
 * @hook: runs after every write piece landing in the structure
 */
struct vcfg_kind_desc {
	const char *name;
	u8 *perm;
	unsigned int nperm;
	struct vcfg_perm tail;
	unsigned int fixed_len;
	unsigned int (*len)(const u8 *cfg, unsigned int pos);
	vcfg_hook_t hook;
};

/* ---- permission tables ------------------------------------------------- */

static u8 perm_hdr[2][PCI_STD_HEADER_SIZEOF] __ro_after_init;
static u8 perm_pm[2][PCI_PM_SIZEOF] __ro_after_init;
static u8 perm_vpd[2][PCI_CAP_VPD_SIZEOF] __ro_after_init;
static u8 perm_msi[2][PCI_MSI_PENDING_64 + 4] __ro_after_init;
static u8 perm_pcix[2][PCI_CAP_PCIX_SIZEOF_V1] __ro_after_init;
static u8 perm_vndr[2][3] __ro_after_init;
static u8 perm_exp[2][VCFG_EXP_LEN] __ro_after_init;
static u8 perm_msix[2][PCI_CAP_MSIX_SIZEOF] __ro_after_init;
static u8 perm_sata[2][PCI_CAP_SIZEOF] __ro_after_init;
static u8 perm_af[2][PCI_CAP_AF_SIZEOF] __ro_after_init;
static u8 perm_ro[2][PCI_CAP_FLAGS] __ro_after_init;
static u8 perm_xhdr[2][VCFG_XHDR_LEN] __ro_after_init;
static u8 perm_xerr[2][PCI_ERR_ROOT_COMMAND] __ro_after_init;
static u8 perm_xvndr[2][PCI_VNDR_HEADER + 4] __ro_after_init;

static const struct vcfg_kind_desc vcfg_kinds[VK_NR];

/* Set @size bytes from @off of @k's table to the little-endian masks given */
static void __init vcfg_perm_set(enum vcfg_kind k, unsigned int off,
				 unsigned int size, u32 virt, u32 write)
{
	const struct vcfg_kind_desc *d = &vcfg_kinds[k];
	unsigned int i;

	for (i = 0; i < size; i++) {
		d->perm[off + i] = virt >> (8 * i);
		d->perm[d->nperm + off + i] = write >> (8 * i);
	}
}

/* Every capability: ID and next pointer read from the emulated copy */
static void __init vcfg_perm_cap_header(enum vcfg_kind k)
{
	vcfg_perm_set(k, PCI_CAP_LIST_ID, 2, VCFG_ALL, 0);
}

static void __init vcfg_perm_init_header(void)
{
	vcfg_perm_set(VK_HDR, PCI_VENDOR_ID, 4, VCFG_ALL, 0);
	vcfg_perm_set(VK_HDR, PCI_COMMAND, 2,
		      PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
		      PCI_COMMAND_INTX_DISABLE,
		      PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
		      PCI_COMMAND_INTX_DISABLE | PCI_COMMAND_MASTER |
		      PCI_COMMAND_INVALIDATE | PCI_COMMAND_PARITY |
		      PCI_COMMAND_SERR);
	vcfg_perm_set(VK_HDR, PCI_STATUS, 2, PCI_STATUS_CAP_LIST,
		      PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
		      PCI_STATUS_REC_TARGET_ABORT |
		      PCI_STATUS_REC_MASTER_ABORT |
		      PCI_STATUS_SIG_SYSTEM_ERROR |
		      PCI_STATUS_DETECTED_PARITY);
	vcfg_perm_set(VK_HDR, PCI_CLASS_REVISION, 4, VCFG_ALL, 0);
	vcfg_perm_set(VK_HDR, PCI_CACHE_LINE_SIZE, 1, 0, VCFG_ALL);
	vcfg_perm_set(VK_HDR, PCI_LATENCY_TIMER, 1, 0, VCFG_ALL);
	vcfg_perm_set(VK_HDR, PCI_HEADER_TYPE, 1, VCFG_ALL, 0);
	/* PCI_BIST: read from the hardware, never started by the user */
	vcfg_perm_set(VK_HDR, PCI_BASE_ADDRESS_0, 4 * PCI_STD_NUM_BARS,
		      VCFG_ALL, VCFG_ALL);
	vcfg_perm_set(VK_HDR, PCI_CARDBUS_CIS, 4, VCFG_ALL, 0);
	vcfg_perm_set(VK_HDR, PCI_SUBSYSTEM_VENDOR_ID, 4, VCFG_ALL, 0);
	vcfg_perm_set(VK_HDR, PCI_ROM_ADDRESS, 4, VCFG_ALL, VCFG_ALL);
	/* Capability pointer and the reserved bytes after it */
	vcfg_perm_set(VK_HDR, PCI_CAPABILITY_LIST, 8, VCFG_ALL, 0);
	vcfg_perm_set(VK_HDR, PCI_INTERRUPT_LINE, 1, VCFG_ALL, VCFG_ALL);
	vcfg_perm_set(VK_HDR, PCI_INTERRUPT_PIN, 3, VCFG_ALL, 0);
}

static void __init vcfg_perm_init_caps(void)
{
	u32 m;

	vcfg_perm_cap_header(VK_PM);
	vcfg_perm_set(VK_PM, PCI_PM_PMC, 2, VCFG_ALL, 0);
	/*
	 * The power state is applied through vfio_pci_set_power_state().  A
	 * PME reaches the host, never the user, so the user sees none: no
	 * PME_Support in PMC, PME_En and PME_Status read as zero and do not
	 * take writes (vcfg_init_pm()); the hardware's belong to the host's
	 * wake-up handling.  With no pass-through bit in PMCSR the hardware
	 * PME status (write-1-to-clear) is never written back, so Data
	 * Select stays read-only too.
	 */
	m = PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE |
	    PCI_PM_CTRL_PME_STATUS;
	vcfg_perm_set(VK_PM, PCI_PM_CTRL, 2, m, PCI_PM_CTRL_STATE_MASK);

	vcfg_perm_cap_header(VK_VPD);
	vcfg_perm_set(VK_VPD, PCI_VPD_ADDR, 2, VCFG_ALL, VCFG_ALL);
	vcfg_perm_set(VK_VPD, PCI_VPD_DATA, 4, VCFG_ALL, VCFG_ALL);

	/* MSI is programmed by the kernel through SET_IRQS: all virtual */
	vcfg_perm_cap_header(VK_MSI);
	vcfg_perm_set(VK_MSI, PCI_MSI_FLAGS, 2, VCFG_ALL,
		      PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	vcfg_perm_set(VK_MSI, PCI_MSI_ADDRESS_LO,
		      ARRAY_SIZE(perm_msi[0]) - PCI_MSI_ADDRESS_LO,
		      VCFG_ALL, VCFG_ALL);

	vcfg_perm_cap_header(VK_PCIX);
	vcfg_perm_set(VK_PCIX, PCI_X_CMD, 2, 0,
		      PCI_X_CMD_DPERR_E | PCI_X_CMD_ERO | PCI_X_CMD_MAX_READ |
		      PCI_X_CMD_MAX_SPLIT);

	/* Vendor-specific: the length byte is read-only, the body passes */
	vcfg_perm_cap_header(VK_VNDR);

	vcfg_perm_cap_header(VK_EXP);
	vcfg_perm_set(VK_EXP, PCI_EXP_FLAGS, 2, VCFG_ALL, 0);
	vcfg_perm_set(VK_EXP, PCI_EXP_DEVCAP, 4, VCFG_ALL, 0);
	/*
	 * Device control: error reporting, relaxed ordering, extended tags,
	 * aux power and no-snoop pass through; phantom functions would widen
	 * the requester IDs the IOMMU sees: read-only; Initiate FLR is a
	 * virtual trigger.  The max payload size must match the fabric: the
	 * hardware keeps the host's, the user reads back what it wrote (a
	 * guest that sets it checks the value took).  The max read request
	 * size is virtual too, and the function gets it through the PCI core
	 * (vcfg_apply_readrq()), which knows the platform's limits.
	 */
	vcfg_perm_set(VK_EXP, PCI_EXP_DEVCTL, 2,
		      PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_READRQ |
		      PCI_EXP_DEVCTL_PAYLOAD,
		      PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE |
		      PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE |
		      PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_EXT_TAG |
		      PCI_EXP_DEVCTL_AUX_PME | PCI_EXP_DEVCTL_NOSNOOP_EN |
		      PCI_EXP_DEVCTL_READRQ | PCI_EXP_DEVCTL_BCR_FLR |
		      PCI_EXP_DEVCTL_PAYLOAD);
	vcfg_perm_set(VK_EXP, PCI_EXP_DEVSTA, 2, 0,
		      PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED |
		      PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD);
	/* Link, slot and root registers: read-only, from the hardware */
	vcfg_perm_set(VK_EXP, PCI_EXP_DEVCTL2, 2, 0,
		      PCI_EXP_DEVCTL2_COMP_TIMEOUT |
		      PCI_EXP_DEVCTL2_COMP_TMOUT_DIS |
		      PCI_EXP_DEVCTL2_ATOMIC_REQ |
		      PCI_EXP_DEVCTL2_IDO_REQ_EN | PCI_EXP_DEVCTL2_IDO_CMP_EN);

	vcfg_perm_cap_header(VK_MSIX);
	vcfg_perm_set(VK_MSIX, PCI_MSIX_FLAGS, 2, VCFG_ALL,
		      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	vcfg_perm_set(VK_MSIX, PCI_MSIX_TABLE, 8, VCFG_ALL, 0);

	vcfg_perm_cap_header(VK_SATA);

	vcfg_perm_cap_header(VK_AF);
	vcfg_perm_set(VK_AF, PCI_AF_LENGTH, 2, VCFG_ALL, 0);
	vcfg_perm_set(VK_AF, PCI_AF_CTRL, 1, VCFG_ALL, PCI_AF_CTRL_FLR);

	vcfg_perm_cap_header(VK_RO);
}

static void __init vcfg_perm_init_ext(void)
{
	unsigned int off;

	/* Every exposed extended capability: header virtual, read-only */
	vcfg_perm_set(VK_XNULL, 0, VCFG_XHDR_LEN, VCFG_ALL, 0);

	vcfg_perm_set(VK_XERR, 0, VCFG_XHDR_LEN, VCFG_ALL, 0);
	/* Status (W1C), mask and severity registers pass through */
	for (off = PCI_ERR_UNCOR_STATUS; off <= PCI_ERR_COR_MASK; off += 4)
		vcfg_perm_set(VK_XERR, off, 4, 0, VCFG_ALL);

	vcfg_perm_set(VK_XVNDR, 0, VCFG_XHDR_LEN, VCFG_ALL, 0);
}

/* ---- lengths of capabilities, from the snapshot ------------------------ */

static unsigned int vcfg_len_msi(const u8 *cfg, unsigned int pos)
{
	u16 flags = get_unaligned_le16(cfg + pos + PCI_MSI_FLAGS);
	unsigned int len = PCI_MSI_DATA_32 + 2;

	if (flags & PCI_MSI_FLAGS_64BIT)
		len += 4;
	if (flags & PCI_MSI_FLAGS_MASKBIT)
		len += 2 + 4 + 4;	/* reserved half, mask, pending */
	return len;
}

static unsigned int vcfg_len_pcix(const u8 *cfg, unsigned int pos)
{
	u16 cmd = get_unaligned_le16(cfg + pos + PCI_X_CMD);

	return PCI_X_CMD_VERSION(cmd) ? PCI_CAP_PCIX_SIZEOF_V1 :
					PCI_CAP_PCIX_SIZEOF_V0;
}

static unsigned int vcfg_len_vndr(const u8 *cfg, unsigned int pos)
{
	return max_t(unsigned int, cfg[pos + PCI_CAP_FLAGS], 3);
}

static unsigned int vcfg_len_exp(const u8 *cfg, unsigned int pos)
{
	u16 flags = get_unaligned_le16(cfg + pos + PCI_EXP_FLAGS);
	bool v2 = (flags & PCI_EXP_FLAGS_VERS) > 1;

	if (FIELD_GET(PCI_EXP_FLAGS_TYPE, flags) == PCI_EXP_TYPE_RC_END)
		return v2 ? PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V2 :
			    PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V1;
	return v2 ? PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 :
		    PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
}

/* AGP and HyperTransport, the read-only ones */
static unsigned int vcfg_len_ro(const u8 *cfg, unsigned int pos)
{
	if (cfg[pos + PCI_CAP_LIST_ID] == PCI_CAP_ID_AGP)
		return PCI_AGP_SIZEOF;
	return cfg[pos + 3] & HT_3BIT_CAP_MASK ? HT_CAP_SIZEOF_SHORT :
						 HT_CAP_SIZEOF_LONG;
}

static unsigned int vcfg_len_sata(const u8 *cfg, unsigned int pos)
{
	if ((cfg[pos + PCI_SATA_REGS] & PCI_SATA_REGS_MASK) ==
	    PCI_SATA_REGS_INLINE)
		return PCI_SATA_SIZEOF_LONG;
	return PCI_SATA_SIZEOF_SHORT;
}

static unsigned int vcfg_len_xvndr(const u8 *cfg, unsigned int pos)
{
	u32 hdr = get_unaligned_le32(cfg + pos + PCI_VNDR_HEADER);

	return max_t(unsigned int, PCI_VNDR_HEADER_LEN(hdr),
		     PCI_VNDR_HEADER + 4);
}

/* ---- hooks ------------------------------------------------------------- */

static u32 vcfg_mask(unsigned int len)
{
	return len == 4 ? VCFG_ALL : BIT(8 * len) - 1;
}

static u32 vcfg_get(const u8 *p, unsigned int len)
{
	switch (len) {
	case 1:
		return *p;
	case 2:
		return get_unaligned_le16(p);
	default:
		return get_unaligned_le32(p);
	}
}

static void vcfg_put(u8 *p, unsigned int len, u32 val)
{
	switch (len) {
	case 1:
		*p = val;
		break;
	case 2:
		put_unaligned_le16(val, p);
		break;
	default:
		put_unaligned_le32(val, p);
		break;
	}
}

/* Whether byte @off (absolute) was written by piece @p */
static bool vcfg_covers(const struct vcfg_piece *p, unsigned int off)
{
	return off >= p->pos && off < p->pos + p->len;
}

/* Whether piece @p overlaps [@off, @off + @size) */
static bool vcfg_overlaps(const struct vcfg_piece *p, unsigned int off,
			  unsigned int size)
{
	return p->pos < off + size && off < p->pos + p->len;
}

/* The emulated value of [@off, @off + @size) before piece @p was applied */
static u32 vcfg_before(const struct vfio_pci_vconfig *vc,
		       const struct vcfg_piece *p, unsigned int off,
		       unsigned int size)
{
	u32 val = 0;
	unsigned int i;
	u8 b;

	for (i = 0; i < size; i++) {
		if (vcfg_covers(p, off + i))
			b = p->old >> (8 * (off + i - p->pos));
		else
			b = vc->bytes[off + i];
		val |= (u32)b << (8 * i);
	}
	return val;
}

/*
 * Put back the hardware BARs saved at open if the function lost them (a
 * reset, a D3hot->D0 transition without No_Soft_Reset).  Decoding is turned
 * off while they are rewritten and the command register is then restored as
 * it was found.  VF BARs are read-only zero and have nothing to restore.
 */
static void vcfg_fix_hw_bars(struct vfio_pci_core_device *vdev,
			     struct vfio_pci_vconfig *vc)
{
	struct pci_dev *pdev = vdev->pdev;
	bool stopped = false;
	unsigned int i, off;
	u16 cmd = 0;
	u32 val;

	lockdep_assert_held(&vdev->vconfig_lock);

	if (pdev->is_virtfn)
		return;

	for (i = 0; i <= PCI_STD_NUM_BARS; i++) {
		u32 want;

		if (i < PCI_STD_NUM_BARS) {
			if (!test_bit(i, &vc->bar_impl))
				continue;
			off = PCI_BASE_ADDRESS_0 + 4 * i;
			want = vc->raw_bar[i];
		} else {
			if (!vc->rom_mask)
				continue;
			off = PCI_ROM_ADDRESS;
			want = vc->raw_rom;
		}
		if (pci_user_read_config_dword(pdev, off, &val) || val == want)
			continue;
		if (!stopped) {
			pci_user_read_config_word(pdev, PCI_COMMAND, &cmd);
			pci_user_write_config_word(pdev, PCI_COMMAND,
						   cmd & ~(PCI_COMMAND_MEMORY |
							   PCI_COMMAND_IO));
			stopped = true;
		}
		pci_user_write_config_dword(pdev, off, want);
	}
	if (stopped) {
		pci_user_write_config_word(pdev, PCI_COMMAND, cmd);
		pci_info_ratelimited(pdev, "vfio: restored BARs lost by the function\n");
	}
}

/* Apply the BAR/ROM masks to one emulated BAR dword */
static void vcfg_normalize_bar(struct vfio_pci_vconfig *vc, unsigned int off)
{
	u32 val = get_unaligned_le32(vc->bytes + off);
	unsigned int i;

	if (off == PCI_ROM_ADDRESS) {
		val &= vc->rom_mask ? vc->rom_mask | PCI_ROM_ADDRESS_ENABLE : 0;
	} else {
		i = (off - PCI_BASE_ADDRESS_0) / 4;
		val = (val & vc->bar_mask[i]) | vc->bar_type[i];
	}
	put_unaligned_le32(val, vc->bytes + off);
}

/*
 * The decode bits are mirrored into the hardware whenever the user writes
 * them, changed or not: a function that reset itself behind the kernel's
 * back (a device-specific reset through a BAR, say) has decoding off and
 * its BARs cleared while the emulated bits still say on, and the
 * pci_restore_state() a guest then runs writes the same bits again.  Its
 * BARs are put back before decoding goes on, and the MSI-X state the reset
 * may have cleared is restored (vfio_pci_msix_restore()).
 */
static void vcfg_hook_command(struct vfio_pci_core_device *vdev,
			      struct vfio_pci_vconfig *vc,
			      const struct vcfg_piece *p, struct vcfg_fx *fx)
{
	const u16 decode = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
	u16 old = vcfg_before(vc, p, PCI_COMMAND, 2);
	u16 new = get_unaligned_le16(vc->bytes + PCI_COMMAND);
	u16 changed = old ^ new, revived = 0;
	u16 hw, now;

	if (vcfg_covers(p, PCI_COMMAND)) {
		/* vfio_pci_config_rw() took it before zapping the BARs */
		lockdep_assert_held_write(&vdev->memory_lock);

		if (new & decode)
			vcfg_fix_hw_bars(vdev, vc);
		if (!pci_user_read_config_word(vdev->pdev, PCI_COMMAND, &hw)) {
			/* A VF's memory bit is not in its hardware */
			if (vdev->pdev->no_command_memory)
				hw |= new & PCI_COMMAND_MEMORY;
			if ((hw & decode) != (new & decode) &&
			    !pci_user_write_config_word(vdev->pdev, PCI_COMMAND,
							(hw & ~decode) |
							(new & decode)) &&
			    !pci_user_read_config_word(vdev->pdev, PCI_COMMAND,
						       &now))
				revived = new & now & ~hw;
		}
		if (((changed & new) | revived) & PCI_COMMAND_MEMORY &&
		    vc->msix_pos)
			fx->msix_restore = true;
	}

	if (changed & PCI_COMMAND_INTX_DISABLE) {
		WRITE_ONCE(vdev->virq_disabled,
			   !!(new & PCI_COMMAND_INTX_DISABLE));
		fx->intx = true;
	}
}

static void vcfg_hook_header(struct vfio_pci_core_device *vdev,
			     struct vfio_pci_vconfig *vc,
			     const struct vcfg_piece *p, struct vcfg_fx *fx)
{
	unsigned int off;

	if (vcfg_overlaps(p, PCI_COMMAND, 2))
		vcfg_hook_command(vdev, vc, p, fx);

	for (off = PCI_BASE_ADDRESS_0; off <= PCI_BASE_ADDRESS_5; off += 4)
		if (vcfg_overlaps(p, off, 4))
			vcfg_normalize_bar(vc, off);
	if (vcfg_overlaps(p, PCI_ROM_ADDRESS, 4))
		vcfg_normalize_bar(vc, PCI_ROM_ADDRESS);
}

static const pci_power_t vcfg_pm_states[] = {
	PCI_D0, PCI_D1, PCI_D2, PCI_D3hot,
};

static void vcfg_hook_pm(struct vfio_pci_core_device *vdev,
			 struct vfio_pci_vconfig *vc,
			 const struct vcfg_piece *p, struct vcfg_fx *fx)
{
	unsigned int ctrl = p->start + PCI_PM_CTRL;
	u16 pmc = get_unaligned_le16(vc->bytes + p->start + PCI_PM_PMC);
	u8 old, new;

	if (!vcfg_covers(p, ctrl))
		return;

	old = vcfg_before(vc, p, ctrl, 1) & PCI_PM_CTRL_STATE_MASK;
	new = vc->bytes[ctrl] & PCI_PM_CTRL_STATE_MASK;
	if (old == new)
		return;

	/* A state the function does not support is ignored, as in hardware */
	if ((new == 1 && !(pmc & PCI_PM_CAP_D1)) ||
	    (new == 2 && !(pmc & PCI_PM_CAP_D2))) {
		vc->bytes[ctrl] = (vc->bytes[ctrl] & ~PCI_PM_CTRL_STATE_MASK) |
				  old;
		return;
	}
	fx->power = true;
	fx->state = vcfg_pm_states[new];
}

/*
 * VPD: the user writes the address register; with the flag clear that asks
 * for a read (we fetch the dword and set the flag), with the flag set it
 * asks for a write of the data register (we store it and clear the flag).
 * The PCI core's VPD helpers do the real protocol and its timeouts.  A
 * failed read returns all-ones so a polling user never waits forever.
 */
static void vcfg_hook_vpd(struct vfio_pci_core_device *vdev,
			  struct vfio_pci_vconfig *vc,
			  const struct vcfg_piece *p, struct vcfg_fx *fx)
{
	u8 *addr_reg = vc->bytes + p->start + PCI_VPD_ADDR;
	u8 *data_reg = vc->bytes + p->start + PCI_VPD_DATA;
	u16 addr = get_unaligned_le16(addr_reg);
	__le32 data;

	/* The flag is in the high byte: act when that byte is written */
	if (!vcfg_covers(p, p->start + PCI_VPD_ADDR + 1))
		return;

	if (addr & PCI_VPD_ADDR_F) {
		memcpy(&data, data_reg, sizeof(data));
		if (pci_write_vpd(vdev->pdev, addr & PCI_VPD_ADDR_MASK,
				  sizeof(data), &data) != sizeof(data))
			pci_dbg(vdev->pdev, "vfio: VPD write at %#x failed\n",
				addr & PCI_VPD_ADDR_MASK);
		addr &= ~PCI_VPD_ADDR_F;
	} else {
		if (pci_read_vpd(vdev->pdev, addr, sizeof(data), &data) !=
		    sizeof(data))
			data = cpu_to_le32(VCFG_ALL);
		memcpy(data_reg, &data, sizeof(data));
		addr |= PCI_VPD_ADDR_F;
	}
	put_unaligned_le16(addr, addr_reg);
}

static void vcfg_hook_msi(struct vfio_pci_core_device *vdev,
			  struct vfio_pci_vconfig *vc,
			  const struct vcfg_piece *p, struct vcfg_fx *fx)
{
	u8 *flags_reg = vc->bytes + p->start + PCI_MSI_FLAGS;
	u16 flags = get_unaligned_le16(flags_reg);
	unsigned int mmc = FIELD_GET(PCI_MSI_FLAGS_QMASK, flags);
	unsigned int pending;

	/* Multiple Message Enable never exceeds what the function offers */
	if (FIELD_GET(PCI_MSI_FLAGS_QSIZE, flags) > mmc) {
		flags &= ~PCI_MSI_FLAGS_QSIZE;
		flags |= FIELD_PREP(PCI_MSI_FLAGS_QSIZE, mmc);
		put_unaligned_le16(flags, flags_reg);
	}

	/* Pending bits are the kernel's business: they read as zero */
	if (flags & PCI_MSI_FLAGS_MASKBIT) {
		pending = p->start + ((flags & PCI_MSI_FLAGS_64BIT) ?
				      PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);
		if (vcfg_overlaps(p, pending, 4))
			put_unaligned_le32(0, vc->bytes + pending);
	}
}

static void vcfg_hook_exp(struct vfio_pci_core_device *vdev,
			  struct vfio_pci_vconfig *vc,
			  const struct vcfg_piece *p, struct vcfg_fx *fx)
{
	u8 *ctl = vc->bytes + p->start + PCI_EXP_DEVCTL;
	u32 devcap = get_unaligned_le32(vc->bytes + p->start + PCI_EXP_DEVCAP);
	u16 val = get_unaligned_le16(ctl);
	u16 old;

	/* READRQ is bits 14:12, all in the high byte */
	if (vcfg_covers(p, p->start + PCI_EXP_DEVCTL + 1)) {
		old = vcfg_before(vc, p, p->start + PCI_EXP_DEVCTL + 1, 1) << 8;
		if ((old ^ val) & PCI_EXP_DEVCTL_READRQ)
			fx->readrq = FIELD_GET(PCI_EXP_DEVCTL_READRQ, val) + 1;
	}

	if (!(val & PCI_EXP_DEVCTL_BCR_FLR))
		return;
	/* Initiate FLR always reads back as zero */
	put_unaligned_le16(val & ~PCI_EXP_DEVCTL_BCR_FLR, ctl);
	if (devcap & PCI_EXP_DEVCAP_FLR)
		fx->flr = true;
}

static void vcfg_hook_af(struct vfio_pci_core_device *vdev,
			 struct vfio_pci_vconfig *vc,
			 const struct vcfg_piece *p, struct vcfg_fx *fx)
{
	u8 *ctl = vc->bytes + p->start + PCI_AF_CTRL;
	u8 cap = vc->bytes[p->start + PCI_AF_CAP];

	if (!(*ctl & PCI_AF_CTRL_FLR))
		return;
	*ctl &= ~PCI_AF_CTRL_FLR;
	if ((cap & PCI_AF_CAP_TP) && (cap & PCI_AF_CAP_FLR))
		fx->flr = true;
}

/* ---- kinds ------------------------------------------------------------- */

#define VCFG_PASS	{ .virt = 0, .write = 0xff }

static const struct vcfg_kind_desc vcfg_kinds[VK_NR] = {
	[VK_GAP] = { .name = "gap", .tail = VCFG_PASS },
	[VK_XGAP] = { .name = "extended gap" },
	[VK_PLATFORM] = { .name = "platform register" },
	[VK_HDR] = {
		.name = "header", .perm = &perm_hdr[0][0], .nperm = ARRAY_SIZE(perm_hdr[0]),
		.fixed_len = PCI_STD_HEADER_SIZEOF, .hook = vcfg_hook_header,
	},
	[VK_PM] = {
		.name = "PM", .perm = &perm_pm[0][0], .nperm = ARRAY_SIZE(perm_pm[0]),
		.fixed_len = PCI_PM_SIZEOF, .hook = vcfg_hook_pm,
	},
	[VK_VPD] = {
		.name = "VPD", .perm = &perm_vpd[0][0], .nperm = ARRAY_SIZE(perm_vpd[0]),
		.fixed_len = PCI_CAP_VPD_SIZEOF, .hook = vcfg_hook_vpd,
	},
	[VK_MSI] = {
		.name = "MSI", .perm = &perm_msi[0][0], .nperm = ARRAY_SIZE(perm_msi[0]),
		.len = vcfg_len_msi, .hook = vcfg_hook_msi,
	},
	[VK_PCIX] = {
		.name = "PCI-X", .perm = &perm_pcix[0][0], .nperm = ARRAY_SIZE(perm_pcix[0]),
		.len = vcfg_len_pcix,
	},
	[VK_VNDR] = {
		.name = "vendor", .perm = &perm_vndr[0][0], .nperm = ARRAY_SIZE(perm_vndr[0]),
		.tail = VCFG_PASS, .len = vcfg_len_vndr,
	},
	[VK_EXP] = {
		.name = "PCIe", .perm = &perm_exp[0][0], .nperm = ARRAY_SIZE(perm_exp[0]),
		.len = vcfg_len_exp, .hook = vcfg_hook_exp,
	},
	[VK_MSIX] = {
		.name = "MSI-X", .perm = &perm_msix[0][0], .nperm = ARRAY_SIZE(perm_msix[0]),
		.fixed_len = PCI_CAP_MSIX_SIZEOF,
	},
	[VK_SATA] = {
		.name = "SATA", .perm = &perm_sata[0][0], .nperm = ARRAY_SIZE(perm_sata[0]),
		.len = vcfg_len_sata,
	},
	[VK_AF] = {
		.name = "AF", .perm = &perm_af[0][0], .nperm = ARRAY_SIZE(perm_af[0]),
		.fixed_len = PCI_CAP_AF_SIZEOF, .hook = vcfg_hook_af,
	},
	/* The body reads from the hardware and drops writes */
	[VK_RO] = {
		.name = "read-only", .perm = &perm_ro[0][0], .nperm = ARRAY_SIZE(perm_ro[0]),
		.len = vcfg_len_ro,
	},
	[VK_XNULL] = {
		.name = "null extended",
		.perm = &perm_xhdr[0][0], .nperm = ARRAY_SIZE(perm_xhdr[0]),
		.fixed_len = VCFG_XHDR_LEN,
	},
	[VK_XERR] = {
		.name = "AER", .perm = &perm_xerr[0][0], .nperm = ARRAY_SIZE(perm_xerr[0]),
		.fixed_len = PCI_ERR_ROOT_COMMAND,
	},
	[VK_XVNDR] = {
		.name = "extended vendor or DVSEC",
		.perm = &perm_xvndr[0][0], .nperm = ARRAY_SIZE(perm_xvndr[0]),
		.tail = VCFG_PASS, .len = vcfg_len_xvndr,
	},
	/* The body falls in the read-only extended gap */
	[VK_XRO] = {
		.name = "extended", .perm = &perm_xhdr[0][0], .nperm = ARRAY_SIZE(perm_xhdr[0]),
		.fixed_len = VCFG_XHDR_LEN,
	},
};

static enum vcfg_kind vcfg_std_kind(u8 id)
{
	switch (id) {
	case PCI_CAP_ID_PM:
		return VK_PM;
	case PCI_CAP_ID_VPD:
		return VK_VPD;
	case PCI_CAP_ID_MSI:
		return VK_MSI;
	case PCI_CAP_ID_PCIX:
		return VK_PCIX;
	case PCI_CAP_ID_VNDR:
		return VK_VNDR;
	case PCI_CAP_ID_EXP:
		return VK_EXP;
	case PCI_CAP_ID_MSIX:
		return VK_MSIX;
	case PCI_CAP_ID_SATA:
		return VK_SATA;
	case PCI_CAP_ID_AF:
		return VK_AF;
	case PCI_CAP_ID_AGP:
	case PCI_CAP_ID_HT:
		return VK_RO;
	default:
		return VK_GAP;		/* hidden */
	}
}

static enum vcfg_kind vcfg_ext_kind(u16 id)
{
	switch (id) {
	case PCI_EXT_CAP_ID_ERR:
		return VK_XERR;
	case PCI_EXT_CAP_ID_VNDR:
	case PCI_EXT_CAP_ID_DVSEC:
		/* DVSEC's header 1 is laid out as the vendor header */
		return VK_XVNDR;
	case PCI_EXT_CAP_ID_VC:
	case PCI_EXT_CAP_ID_DSN:
	case PCI_EXT_CAP_ID_PWR:
	case PCI_EXT_CAP_ID_MFVC:
	case PCI_EXT_CAP_ID_VC9:
	case PCI_EXT_CAP_ID_ACS:
	case PCI_EXT_CAP_ID_ARI:
	case PCI_EXT_CAP_ID_ATS:
	case PCI_EXT_CAP_ID_SRIOV:
	case PCI_EXT_CAP_ID_MCAST:
	case PCI_EXT_CAP_ID_PRI:
	case PCI_EXT_CAP_ID_REBAR:
	case PCI_EXT_CAP_ID_DPA:
	case PCI_EXT_CAP_ID_TPH:
	case PCI_EXT_CAP_ID_LTR:
	case PCI_EXT_CAP_ID_SECPCI:
	case PCI_EXT_CAP_ID_L1SS:
	case PCI_EXT_CAP_ID_PTM:
	case PCI_EXT_CAP_ID_DLF:
	case PCI_EXT_CAP_ID_PL_16GT:
		return VK_XRO;
	default:
		return VK_XGAP;		/* hidden */
	}
}

static unsigned int vcfg_kind_len(enum vcfg_kind k, const u8 *cfg,
				  unsigned int pos)
{
	const struct vcfg_kind_desc *d = &vcfg_kinds[k];

	return d->len ? d->len(cfg, pos) : d->fixed_len;
}

static struct vcfg_perm vcfg_perm_at(enum vcfg_kind k, unsigned int off)
{
	const struct vcfg_kind_desc *d = &vcfg_kinds[k];
	struct vcfg_perm perm = d->tail;

	if (off < d->nperm) {
		perm.virt = d->perm[off];
		perm.write = d->perm[d->nperm + off];
	}
	return perm;
}

/* vcfg_masks() composed byte by byte, each byte from vcfg_perm_at() */
static void vcfg_masks_bytewise(enum vcfg_kind k, unsigned int off,
				unsigned int len, u32 *virt, u32 *write)
{
	struct vcfg_perm perm;
	unsigned int i;

	*virt = 0;
	*write = 0;
	for (i = 0; i < len; i++) {
		perm = vcfg_perm_at(k, off + i);
		*virt |= (u32)perm.virt << (8 * i);
		*write |= (u32)perm.write << (8 * i);
	}
}

/* The masks of @len bytes at offset @off of a @k structure */
static void vcfg_masks(enum vcfg_kind k, unsigned int off, unsigned int len,
		       u32 *virt, u32 *write)
{
	const struct vcfg_kind_desc *d = &vcfg_kinds[k];

	/* Inside the table: the masks of all @len bytes lie side by side */
	if (off + len <= d->nperm) {
		*virt = vcfg_get(d->perm + off, len);
		*write = vcfg_get(d->perm + d->nperm + off, len);
		return;
	}
	/* Past the table: every byte has the tail's masks */
	if (off >= d->nperm) {
		*virt = d->tail.virt * (vcfg_mask(len) / 0xff);
		*write = d->tail.write * (vcfg_mask(len) / 0xff);
		return;
	}

	/* Across its end */
	vcfg_masks_bytewise(k, off, len, virt, write);
}

/* ---- layout: owner map and virtual chains ------------------------------ */

/* Where the structure after @pos starts: the next capability or @end */
static unsigned int vcfg_next_start(const u16 *order, unsigned int n,
				    unsigned int pos, unsigned int end)
{
	unsigned int i, next = end;

	for (i = 0; i < n; i++)
		if (order[i] > pos && order[i] < next)
			next = order[i];
	return next;
}

static void vcfg_claim(struct vfio_pci_vconfig *vc, unsigned int pos,
		       unsigned int len, enum vcfg_kind k)
{
	unsigned int i;

	/* Structures start on a dword: vcfg_next_piece() counts on it */
	WARN_ON_ONCE(pos & 3);
	for (i = pos; i < pos + len; i++) {
		vc->kind[i] = k;
		vc->start[i] = pos;
	}
}

static void vcfg_note_cap(struct vfio_pci_vconfig *vc, enum vcfg_kind k,
			  unsigned int pos)
{
	switch (k) {
	case VK_PM:
		vc->pm_pos = vc->pm_pos ?: pos;
		break;
	case VK_MSI:
		vc->msi_pos = vc->msi_pos ?: pos;
		break;
	case VK_MSIX:
		vc->msix_pos = vc->msix_pos ?: pos;
		break;
	default:
		break;
	}
}

static void vcfg_layout_std(struct vfio_pci_vconfig *vc,
			    const struct pci_dev *pdev)
{
	DECLARE_BITMAP(seen, PCI_CFG_SPACE_SIZE / 4) = {};
	u8 *cfg = vc->bytes;
	unsigned int n = 0, i, pos, len, limit, link, shown = 0;
	enum vcfg_kind k;
	u16 status;

	link = PCI_CAPABILITY_LIST;
	status = get_unaligned_le16(cfg + PCI_STATUS);
	if (status & PCI_STATUS_CAP_LIST) {
		/* The hardware chain, in order, without loops */
		pos = cfg[PCI_CAPABILITY_LIST] & ~3;
		while (pos >= PCI_STD_HEADER_SIZEOF &&
		       !__test_and_set_bit(pos / 4, seen)) {
			vc->order[n++] = pos;
			pos = cfg[pos + PCI_CAP_LIST_NEXT] & ~3;
		}
	}

	for (i = 0; i < n; i++) {
		pos = vc->order[i];
		k = vcfg_std_kind(cfg[pos + PCI_CAP_LIST_ID]);
		limit = vcfg_next_start(vc->order, n, pos, PCI_CFG_SPACE_SIZE);
		len = k != VK_GAP ? vcfg_kind_len(k, cfg, pos) : 0;
		/* Read-only, it may as well end where the next one starts */
		if (k == VK_RO)
			len = min(len, limit - pos);
		if (k == VK_GAP || len > limit - pos) {
			if (pdev)
				pci_dbg(pdev, "vfio: hiding capability %#04x at %#x\n",
					cfg[pos + PCI_CAP_LIST_ID], pos);
			continue;
		}
		vcfg_claim(vc, pos, len, k);
		vcfg_note_cap(vc, k, pos);
		cfg[link] = pos;
		link = pos + PCI_CAP_LIST_NEXT;
		shown++;
	}
	cfg[link] = 0;
	if (!shown)
		put_unaligned_le16(status & ~PCI_STATUS_CAP_LIST,
				   cfg + PCI_STATUS);
}

static void vcfg_ext_set_next(u8 *cfg, unsigned int pos, unsigned int next)
{
	u32 hdr = get_unaligned_le32(cfg + pos);

	hdr = (hdr & GENMASK(19, 0)) | (next << 20);
	put_unaligned_le32(hdr, cfg + pos);
}

/*
 * The extended space is read from the function only where the walk looks:
 * the headers on the chain and what a computed length depends on.  Only
 * headers are virtual there (vcfg_perm_init_ext(), checked by KUnit); the
 * rest of every structure, gaps and hidden capabilities pass reads to the
 * hardware and never use their bytes.  So an open makes a few config
 * reads there, not 960.  Without @pdev (KUnit) the space holds a whole
 * snapshot.
 */
struct vcfg_ext_src {
	const struct pci_dev *pdev;
	DECLARE_BITMAP(have, PCI_CFG_SPACE_EXP_SIZE / 4);
	int err;		/* the first read that failed */
};

/* Make sure @vc->bytes hold the function's [@pos, @pos + @len) */
static void vcfg_fetch(struct vfio_pci_vconfig *vc, struct vcfg_ext_src *f,
		       unsigned int pos, unsigned int len)
{
	unsigned int i, end = DIV_ROUND_UP(min(pos + len, vc->size), 4);
	u32 val;
	int ret;

	if (!f->pdev)
		return;
	for (i = pos / 4; i < end; i++) {
		if (__test_and_set_bit(i, f->have))
			continue;
		ret = vfio_pci_fail() ? PCIBIOS_DEVICE_NOT_FOUND :
		      pci_read_config_dword(f->pdev, i * 4, &val);
		if (ret) {
			f->err = f->err ?: pcibios_err_to_errno(ret);
			val = VCFG_ALL;
		}
		put_unaligned_le32(val, vc->bytes + i * 4);
	}
}

static void vcfg_layout_ext(struct vfio_pci_vconfig *vc, struct vcfg_ext_src *f)
{
	DECLARE_BITMAP(seen, PCI_CFG_SPACE_EXP_SIZE / 4) = {};
	const struct pci_dev *pdev = f->pdev;
	u8 *cfg = vc->bytes;
	unsigned int n = 0, i, pos, len, limit, prev = 0;
	enum vcfg_kind k;
	u32 hdr;

	pos = PCI_CFG_SPACE_SIZE;
	while (pos >= PCI_CFG_SPACE_SIZE && pos < vc->size &&
	       !__test_and_set_bit(pos / 4, seen)) {
		vcfg_fetch(vc, f, pos, VCFG_XHDR_LEN);
		hdr = get_unaligned_le32(cfg + pos);
		if (!hdr || hdr == VCFG_ALL)
			break;
		vc->order[n++] = pos;
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
	if (!n)
		return;		/* no extended capabilities at all */

	for (i = 0; i < n; i++) {
		pos = vc->order[i];
		hdr = get_unaligned_le32(cfg + pos);
		k = vcfg_ext_kind(PCI_EXT_CAP_ID(hdr));
		limit = vcfg_next_start(vc->order, n, pos, vc->size);
		/*
		 * A computed length (vendor-specific) reads the dword after
		 * the header; without room for it the structure cannot fit
		 */
		if (vcfg_kinds[k].len) {
			if (limit - pos < 2 * VCFG_XHDR_LEN)
				k = VK_XGAP;
			else
				vcfg_fetch(vc, f, pos, 2 * VCFG_XHDR_LEN);
		}
		len = k != VK_XGAP ? vcfg_kind_len(k, cfg, pos) : 0;
		if (k == VK_XGAP || len > limit - pos) {
			if (pdev)
				pci_dbg(pdev, "vfio: hiding extended capability %#06x at %#x\n",
					PCI_EXT_CAP_ID(hdr), pos);
			continue;
		}
		vcfg_claim(vc, pos, len, k);
		if (prev) {
			vcfg_ext_set_next(cfg, prev, pos);
		} else if (pos != PCI_CFG_SPACE_SIZE) {
			/* The one at 0x100 is hidden: a null header leads on */
			put_unaligned_le32(0, cfg + PCI_CFG_SPACE_SIZE);
			vcfg_claim(vc, PCI_CFG_SPACE_SIZE, VCFG_XHDR_LEN,
				   VK_XNULL);
			vcfg_ext_set_next(cfg, PCI_CFG_SPACE_SIZE, pos);
		}
		prev = pos;
	}

	if (prev) {
		vcfg_ext_set_next(cfg, prev, 0);
	} else {
		/* Everything hidden: an empty null header ends the chain */
		put_unaligned_le32(0, cfg + PCI_CFG_SPACE_SIZE);
		vcfg_claim(vc, PCI_CFG_SPACE_SIZE, VCFG_XHDR_LEN,
			   VK_XNULL);
	}
}

/*
 * Registers a platform keeps in a function's standard space, which the
 * user must not change, shown as they are and read-only.  Intel graphics'
 * ASLS (0xfc) holds the physical address of the firmware's OpRegion, which
 * the host's driver and vfio-pci's OpRegion region map; upstream 6.12
 * makes it read-only too, whatever else claims the bytes (a gap's bytes
 * are written through, and no IGD has a capability there).  The IDs come
 * from @pdev (a VF's read all-ones in its config space), or, for the pure
 * layout, from the snapshot.
 */
#define VCFG_IGD_ASLS	0xfc

static void vcfg_layout_platform(struct vfio_pci_vconfig *vc,
				 const struct pci_dev *pdev)
{
	const u8 *cfg = vc->bytes;
	u16 vendor, class;

	vendor = pdev ? pdev->vendor : get_unaligned_le16(cfg + PCI_VENDOR_ID);
	class = pdev ? pdev->class >> 8 :
		get_unaligned_le16(cfg + PCI_CLASS_DEVICE);
	if (vendor == PCI_VENDOR_ID_INTEL && class == PCI_CLASS_DISPLAY_VGA)
		vcfg_claim(vc, VCFG_IGD_ASLS, 4, VK_PLATFORM);
}

/*
 * Fill the owner map of @vc and rewrite the chains so only exposed
 * capabilities are linked.  @vc holds the first 256 bytes of the function
 * (vcfg_snapshot()); the extended space is read from @pdev as the walk goes
 * (vcfg_fetch()).  With @pdev NULL the layout is pure: @vc holds a whole
 * snapshot and nothing else is looked at.  Returns 0 or the errno of a
 * config read that failed.
 */
static int vcfg_layout(struct vfio_pci_vconfig *vc, const struct pci_dev *pdev)
{
	struct vcfg_ext_src f = { .pdev = pdev };

	memset(vc->kind, VK_GAP, PCI_CFG_SPACE_SIZE);
	memset(vc->kind + PCI_CFG_SPACE_SIZE, VK_XGAP,
	       vc->size - PCI_CFG_SPACE_SIZE);
	memset(vc->start, 0, vc->size * sizeof(*vc->start));
	vc->pm_pos = 0;
	vc->msi_pos = 0;
	vc->msix_pos = 0;

	vcfg_claim(vc, 0, PCI_STD_HEADER_SIZEOF, VK_HDR);
	vcfg_layout_std(vc, pdev);
	vcfg_layout_platform(vc, pdev);
	if (vc->size > PCI_CFG_SPACE_SIZE)
		vcfg_layout_ext(vc, &f);
	return f.err;
}

/* ---- BARs -------------------------------------------------------------- */

/*
 * Address bits a user may set in a BAR dword decoding @len bytes of resource
 * type @flags, and (in @type) the read-only low bits.  @upper selects the
 * high dword of a 64-bit BAR.
 */
static u32 vcfg_bar_mask(u64 len, unsigned long flags, bool upper, u32 *type)
{
	u64 mask;

	*type = 0;
	if (!len || !(flags & (IORESOURCE_MEM | IORESOURCE_IO)))
		return 0;
	mask = ~(roundup_pow_of_two(len) - 1);
	if (upper)
		return upper_32_bits(mask);

	if (flags & IORESOURCE_IO) {
		*type = PCI_BASE_ADDRESS_SPACE_IO;
		return lower_32_bits(mask) & (u32)PCI_BASE_ADDRESS_IO_MASK;
	}
	if (flags & IORESOURCE_MEM_64)
		*type |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (flags & IORESOURCE_PREFETCH)
		*type |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	return lower_32_bits(mask) & (u32)PCI_BASE_ADDRESS_MEM_MASK;
}

static void vcfg_init_bars(struct vfio_pci_core_device *vdev,
			   struct vfio_pci_vconfig *vc)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned long flags;
	unsigned int i;
	u64 len;

	vc->bar_impl = 0;
	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		vc->raw_bar[i] = get_unaligned_le32(vc->bytes +
						    PCI_BASE_ADDRESS_0 + 4 * i);
		len = pci_resource_len(pdev, i);
		flags = pci_resource_flags(pdev, i);
		vc->bar_mask[i] = vcfg_bar_mask(len, flags, false,
						&vc->bar_type[i]);
		if (vc->bar_mask[i] || vc->bar_type[i])
			__set_bit(i, &vc->bar_impl);
		if ((flags & IORESOURCE_MEM_64) && len &&
		    i + 1 < PCI_STD_NUM_BARS) {
			i++;
			vc->raw_bar[i] = get_unaligned_le32(vc->bytes +
							    PCI_BASE_ADDRESS_0 +
							    4 * i);
			vc->bar_mask[i] = vcfg_bar_mask(len, flags, true,
							&vc->bar_type[i]);
			__set_bit(i, &vc->bar_impl);
		}
	}
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		vcfg_normalize_bar(vc, PCI_BASE_ADDRESS_0 + 4 * i);

	vc->raw_rom = get_unaligned_le32(vc->bytes + PCI_ROM_ADDRESS);
	vfio_pci_rom_of(pdev, &len);
	vc->rom_mask = len ? lower_32_bits(~(roundup_pow_of_two(len) - 1)) &
			     PCI_ROM_ADDRESS_MASK : 0;
	vcfg_normalize_bar(vc, PCI_ROM_ADDRESS);
}

/* ---- per-device set-up ------------------------------------------------- */

static int vcfg_snapshot(struct pci_dev *pdev, struct vfio_pci_vconfig *vc)
{
	unsigned int pos;
	u32 val;
	int ret;

	/* The extended space is read as vcfg_layout() walks it */
	for (pos = 0; pos < PCI_CFG_SPACE_SIZE; pos += 4) {
		ret = pci_read_config_dword(pdev, pos, &val);
		if (ret)
			return pcibios_err_to_errno(ret);
		put_unaligned_le32(val, vc->bytes + pos);
	}
	return 0;
}

static void vcfg_init_header(struct vfio_pci_core_device *vdev,
			     struct vfio_pci_vconfig *vc)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd;

	/* VFs read all-ones IDs and have no memory-enable bit of their own */
	if (pdev->is_virtfn) {
		put_unaligned_le16(pdev->vendor, vc->bytes + PCI_VENDOR_ID);
		put_unaligned_le16(pdev->device, vc->bytes + PCI_DEVICE_ID);
	}
	cmd = get_unaligned_le16(vc->bytes + PCI_COMMAND);
	if (pdev->no_command_memory)
		cmd |= PCI_COMMAND_MEMORY;
	put_unaligned_le16(cmd, vc->bytes + PCI_COMMAND);
	vdev->virq_disabled = !!(cmd & PCI_COMMAND_INTX_DISABLE);

	/* vfio_pci_core_enable() decided nointx before calling us */
	if (vdev->nointx)
		vc->bytes[PCI_INTERRUPT_PIN] = 0;

	vcfg_init_bars(vdev, vc);
}

/* The user sees no PME: see vcfg_perm_init_caps() */
static void vcfg_init_pm(struct vfio_pci_vconfig *vc)
{
	u8 *pm = vc->bytes + vc->pm_pos;

	if (!vc->pm_pos)
		return;
	put_unaligned_le16(get_unaligned_le16(pm + PCI_PM_PMC) &
			   ~PCI_PM_CAP_PME_MASK, pm + PCI_PM_PMC);
	put_unaligned_le16(get_unaligned_le16(pm + PCI_PM_CTRL) &
			   ~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS),
			   pm + PCI_PM_CTRL);
}

static void vcfg_init_irq_caps(struct vfio_pci_core_device *vdev,
			       struct vfio_pci_vconfig *vc)
{
	u16 flags;
	u32 table;

	vdev->msix_bar = -1;
	vdev->msix_offset = 0;
	vdev->msix_size = 0;
	if (vc->msix_pos) {
		flags = get_unaligned_le16(vc->bytes + vc->msix_pos +
					   PCI_MSIX_FLAGS);
		table = get_unaligned_le32(vc->bytes + vc->msix_pos +
					   PCI_MSIX_TABLE);
		vdev->msix_bar = table & PCI_MSIX_TABLE_BIR;
		vdev->msix_offset = table & PCI_MSIX_TABLE_OFFSET;
		vdev->msix_size = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) *
				  PCI_MSIX_ENTRY_SIZE;
	}

	vdev->msi_qmax = 0;
	if (vc->msi_pos) {
		flags = get_unaligned_le16(vc->bytes + vc->msi_pos +
					   PCI_MSI_FLAGS);
		/* Encodings above 32 vectors are reserved */
		vdev->msi_qmax = 1U << min_t(unsigned int, 5,
					     FIELD_GET(PCI_MSI_FLAGS_QMASK,
						       flags));
	}
}

/**
 * vfio_pci_config_perm_init() - build the module-wide permission tables
 *
 * Called once from the library's module init.
 *
 * Return: 0.
 */
int __init vfio_pci_config_perm_init(void)
{
	vcfg_perm_init_header();
	vcfg_perm_init_caps();
	vcfg_perm_init_ext();
	return 0;
}

/**
 * vfio_pci_config_perm_exit() - release the permission tables
 *
 * The tables are static and read-only after init: nothing to release.
 */
void vfio_pci_config_perm_exit(void)
{
}

/**
 * vfio_pci_config_init() - build the emulated config space of a device
 * @vdev: the device being opened
 *
 * Called from vfio_pci_core_enable() after the function was enabled and
 * reset, and after vdev->nointx was decided.  Fills vdev->vconfig,
 * msix_bar/offset/size, msi_qmax, virq_disabled and extended_caps.
 *
 * Return: 0 or a negative errno; on error vdev->vconfig is left unset.
 */
int vfio_pci_config_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_vconfig *vc, *old;
	int ret;

	vc = vfio_pci_fail() ? NULL :
	     vcfg_alloc(pdev->cfg_size > PCI_CFG_SPACE_SIZE ?
			PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE,
			GFP_KERNEL_ACCOUNT);
	if (!vc)
		return -ENOMEM;
	seqcount_init(&vc->seq);

	ret = vcfg_snapshot(pdev, vc);
	if (ret)
		goto out_free;

	ret = vcfg_layout(vc, pdev);
	if (ret)
		goto out_free;
	vcfg_init_header(vdev, vc);
	vcfg_init_pm(vc);
	vcfg_init_irq_caps(vdev, vc);
	vdev->extended_caps = vc->size > PCI_CFG_SPACE_SIZE;

	mutex_lock(&vdev->vconfig_lock);
	old = vdev->vconfig;
	vdev->vconfig = vc;
	mutex_unlock(&vdev->vconfig_lock);
	kvfree(old);
	return 0;

out_free:
	kvfree(vc);
	return ret;
}

/**
 * vfio_pci_config_exit() - drop the emulated config space
 * @vdev: the device being closed
 */
void vfio_pci_config_exit(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_vconfig *vc;

	mutex_lock(&vdev->vconfig_lock);
	vc = vdev->vconfig;
	vdev->vconfig = NULL;
	mutex_unlock(&vdev->vconfig_lock);
	kvfree(vc);
}

/* ---- user access ------------------------------------------------------- */

/*
 * Length of the next piece of an access at @pos with @count bytes left, in a
 * structure ending at @end: the largest naturally aligned 4, 2 or 1 that
 * fits.  Needs @count > 0 and @end > @pos.
 */
static unsigned int vcfg_piece_len(unsigned int pos, size_t count,
				   unsigned int end)
{
	size_t room = min_t(size_t, count, end - pos);

	if (!(pos & 3) && room >= 4)
		return 4;
	if (!(pos & 1) && room >= 2)
		return 2;
	return 1;
}

/* End of the structure owning @pos, looking at most 4 bytes ahead */
static unsigned int vcfg_owner_end(const struct vfio_pci_vconfig *vc,
				   unsigned int pos)
{
	unsigned int end = pos + 1;

	while (end < vc->size && end < pos + 4 &&
	       vc->kind[end] == vc->kind[pos] &&
	       vc->start[end] == vc->start[pos])
		end++;
	return end;
}

/*
 * Length of the next piece of an access at @pos with @count bytes left
 * (@pos inside the space, @count > 0 and not past its end).  Most accesses
 * are aligned dwords inside one structure: every structure starts on a
 * dword (the header at 0, capabilities where the masked chain pointers
 * say, vcfg_layout()), so a dword's bytes are a head of one structure
 * followed by gap, and its first and last byte having the same owner
 * means all four do.  That is one comparison instead of
 * vcfg_owner_end()'s walk.
 */
static unsigned int vcfg_next_piece(const struct vfio_pci_vconfig *vc,
				    unsigned int pos, size_t count)
{
	if (!(pos & 3) && count >= 4 &&
	    vc->kind[pos + 3] == vc->kind[pos] &&
	    vc->start[pos + 3] == vc->start[pos])
		return 4;
	return vcfg_piece_len(pos, count, vcfg_owner_end(vc, pos));
}

static int vcfg_hw_read(struct pci_dev *pdev, unsigned int pos,
			unsigned int len, u32 *val)
{
	u16 w;
	u8 b;
	int ret;

	switch (len) {
	case 1:
		ret = pci_user_read_config_byte(pdev, pos, &b);
		*val = b;
		break;
	case 2:
		ret = pci_user_read_config_word(pdev, pos, &w);
		*val = w;
		break;
	default:
		ret = pci_user_read_config_dword(pdev, pos, val);
		break;
	}
	return ret;
}

static int vcfg_hw_write(struct pci_dev *pdev, unsigned int pos,
			 unsigned int len, u32 val)
{
	switch (len) {
	case 1:
		return pci_user_write_config_byte(pdev, pos, val);
	case 2:
		return pci_user_write_config_word(pdev, pos, val);
	default:
		return pci_user_write_config_dword(pdev, pos, val);
	}
}

static int vcfg_read_piece(struct vfio_pci_core_device *vdev,
			   struct vfio_pci_vconfig *vc,
			   const struct vcfg_piece *p, u8 *out)
{
	u32 virt, write, val, hw;
	int ret;

	vcfg_masks(vc->kind[p->pos], p->pos - p->start, p->len, &virt, &write);
	val = vcfg_get(vc->bytes + p->pos, p->len) & virt;
	if (virt != vcfg_mask(p->len)) {
		ret = vcfg_hw_read(vdev->pdev, p->pos, p->len, &hw);
		if (ret)
			return ret;
		val |= hw & ~virt;
	}
	vcfg_put(out, p->len, val);
	return 0;
}

static int vcfg_write_piece(struct vfio_pci_core_device *vdev,
			    struct vfio_pci_vconfig *vc, struct vcfg_piece *p,
			    const u8 *in, struct vcfg_fx *fx)
{
	enum vcfg_kind k = vc->kind[p->pos];
	u32 virt, write, val, vmask, hmask, hw = 0;
	int ret;

	vcfg_masks(k, p->pos - p->start, p->len, &virt, &write);
	val = vcfg_get(in, p->len);
	vmask = virt & write;
	hmask = write & ~virt;

	p->old = vcfg_get(vc->bytes + p->pos, p->len);
	if (vmask)
		vcfg_put(vc->bytes + p->pos, p->len,
			 (p->old & ~vmask) | (val & vmask));

	if (hmask) {
		if (hmask != vcfg_mask(p->len)) {
			ret = vcfg_hw_read(vdev->pdev, p->pos, p->len, &hw);
			if (ret)
				return ret;
		}
		ret = vcfg_hw_write(vdev->pdev, p->pos, p->len,
				    (hw & ~hmask) | (val & hmask));
		if (ret)
			return ret;
	}

	if (vcfg_kinds[k].hook && (vmask || hmask))
		vcfg_kinds[k].hook(vdev, vc, p, fx);
	return 0;
}

/*
 * Change sections of @vc->bytes.  The raw_ variants keep preemption on: a
 * writer may sleep (config accesses wait while the PCI core blocks them)
 * and readers never wait for a writer, they fall back to vconfig_lock.
 */
static void vcfg_change_begin(struct vfio_pci_core_device *vdev,
			      struct vfio_pci_vconfig *vc)
{
	lockdep_assert_held(&vdev->vconfig_lock);
	raw_write_seqcount_begin(&vc->seq);
}

static void vcfg_change_end(struct vfio_pci_vconfig *vc)
{
	raw_write_seqcount_end(&vc->seq);
}

/*
 * Move @count bytes at @pos between @kbuf and the emulated config space @vc.
 * Writes need vconfig_lock and a write section of @vc->seq; reads need one
 * or the other (see vcfg_read_unlocked()).
 */
static ssize_t vcfg_transfer(struct vfio_pci_core_device *vdev,
			     struct vfio_pci_vconfig *vc,
			     unsigned int pos, u8 *kbuf, size_t count,
			     bool iswrite, struct vcfg_fx *fx)
{
	struct vcfg_piece p;
	size_t done = 0;
	int ret;

	if (pos >= vc->size || count > vc->size - pos)
		return -EFAULT;

	while (done < count) {
		p.pos = pos + done;
		p.start = vc->start[p.pos];
		p.len = vcfg_next_piece(vc, p.pos, count - done);
		if (iswrite)
			ret = vcfg_write_piece(vdev, vc, &p, kbuf + done, fx);
		else
			ret = vcfg_read_piece(vdev, vc, &p, kbuf + done);
		if (ret)
			return done ? done : ret;
		done += p.len;
	}
	return done;
}

/**
 * vfio_pci_config_sync_power_state() - emulated PMCSR state from the hardware
 * @vdev: the core device
 *
 * The power-state field the user reads is emulated; every power
 * transition (the user's PMCSR writes, resets that bring the function to
 * D0, runtime PM moving a function the user left in D3hot) ends here so
 * it says where the function really is.  Takes vconfig_lock: the caller
 * may hold memory_lock, not vconfig_lock.
 */
void vfio_pci_config_sync_power_state(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_vconfig *vc;
	pci_power_t now = vdev->pdev->current_state;
	u8 state, *ctrl;

	mutex_lock(&vdev->vconfig_lock);
	vc = vdev->vconfig;
	if (vc && vc->pm_pos) {
		if (now == PCI_D0)
			state = 0;
		else if (now == PCI_D1)
			state = 1;
		else if (now == PCI_D2)
			state = 2;
		else
			state = 3;
		ctrl = vc->bytes + vc->pm_pos + PCI_PM_CTRL;
		vcfg_change_begin(vdev, vc);
		*ctrl = (*ctrl & ~PCI_PM_CTRL_STATE_MASK) | state;
		vcfg_change_end(vc);
	}
	mutex_unlock(&vdev->vconfig_lock);
}

/**
 * vfio_pci_readrq_bytes() - the read request size to give the function
 * @enc: the DEVCTL max read request size encoding the user wrote
 * @mps: the function's max payload size in bytes
 *
 * Return: 128 << @enc, but at least @mps; 0 for a reserved encoding.
 */
int vfio_pci_readrq_bytes(unsigned int enc, int mps)
{
	if (enc > 5)
		return 0;
	return max(128 << enc, mps);
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_readrq_bytes);

/*
 * The max read request size the user wrote (encoding @enc), applied through
 * the PCI core: never below the function's max payload size, so reads still
 * fill whole TLPs, and capped where the platform says so.  The reserved
 * encodings (6, 7) change nothing in the hardware.
 */
static void vcfg_apply_readrq(struct pci_dev *pdev, unsigned int enc)
{
	int rq = vfio_pci_readrq_bytes(enc, pcie_get_mps(pdev));

	if (rq && pcie_set_readrq(pdev, rq))
		pci_info_ratelimited(pdev, "vfio: read request size %d refused\n", rq);
}

/*
 * Carry out what the hooks asked for.  No lock of ours is held: power
 * transitions and resets take memory_lock themselves, INTx masking takes
 * igate.  As on real hardware, the config write itself has succeeded
 * whatever happens here; failures are only logged.
 */
static void vcfg_run_effects(struct vfio_pci_core_device *vdev,
			     const struct vcfg_fx *fx)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	if (fx->intx) {
		if (READ_ONCE(vdev->virq_disabled))
			vfio_pci_intx_mask(vdev);
		else
			vfio_pci_intx_unmask(vdev);
	}

	if (fx->readrq)
		vcfg_apply_readrq(pdev, fx->readrq - 1);

	if (fx->power) {
		ret = vfio_pci_set_power_state(vdev, fx->state);
		if (ret)
			pci_info_ratelimited(pdev, "vfio: power state change refused: %d\n",
					     ret);
		if (pdev->current_state == PCI_D0)
			vfio_pci_config_restore_bars(vdev);
	}

	if (fx->flr) {
		ret = vfio_pci_function_reset(vdev);
		if (ret)
			pci_info_ratelimited(pdev, "vfio: FLR from config space failed: %d\n",
					     ret);
		vfio_pci_config_restore_bars(vdev);
		/* As after VFIO_DEVICE_RESET: vectors the user set up stay */
		if (!ret)
			vfio_pci_msix_restore(vdev);
	}

	if (fx->msix_restore && !fx->flr)
		vfio_pci_msix_restore(vdev);
}

/*
 * A config read without vconfig_lock: two atomic operations fewer on the
 * path guests use most (in a TCG guest they are most of the cost).  The
 * emulated space lives from the first open to the last close, so it cannot
 * go away under a read made through an open device fd.  Return -EAGAIN if
 * a change was in progress or overlapped the read; the caller then reads
 * under the lock.  Reads have no side effects, so repeating the hardware
 * part of one is harmless.
 */
static ssize_t vcfg_read_unlocked(struct vfio_pci_core_device *vdev,
				  unsigned int pos, u8 *kbuf, size_t count)
{
	struct vfio_pci_vconfig *vc = READ_ONCE(vdev->vconfig);
	unsigned int seq;
	ssize_t done;

	if (!vc)
		return -EAGAIN;
	seq = raw_read_seqcount(&vc->seq);
	if (seq & 1)
		return -EAGAIN;
	done = vcfg_transfer(vdev, vc, pos, kbuf, count, false, NULL);
	if (read_seqcount_retry(&vc->seq, seq))
		return -EAGAIN;
	return done;
}

/**
 * vfio_pci_config_rw() - access the config region of the device fd
 * @vdev: the device
 * @buf: user buffer
 * @count: bytes to move, at least 1
 * @ppos: device fd offset; the low VFIO_PCI_OFFSET_SHIFT bits are the
 *	config-space offset.  Advanced by the bytes moved.
 * @iswrite: direction
 *
 * Any length and alignment is accepted within the config space; the access
 * is split into naturally aligned pieces of 4, 2 or 1 bytes, none crossing
 * from one capability (or gap) into another.  An empty access fails with
 * -EINVAL; one starting or ending past the config space fails as a whole
 * with -EFAULT, the errno the stock driver gives.  Writes that reach
 * the command register hold memory_lock for write, and side effects that
 * need other locks (power state, FLR, INTx, MSI-X refresh) run after the
 * access, with no lock held; their failures do not fail the write.
 *
 * Return: bytes moved (possibly short if the hardware failed part way) or a
 * negative errno.
 */
ssize_t vfio_pci_config_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			   size_t count, loff_t *ppos, bool iswrite)
{
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	struct vfio_pci_vconfig *vc;
	struct vcfg_fx fx = {};
	bool mem_locked = false;
	u8 small[8] __aligned(8), *kbuf;
	ssize_t done;

	if (!count)
		return -EINVAL;
	/* Out of range: EFAULT, as users of the stock driver have seen */
	if (pos >= PCI_CFG_SPACE_EXP_SIZE || count > PCI_CFG_SPACE_EXP_SIZE - pos)
		return -EFAULT;

	if (count <= sizeof(small))
		kbuf = small;
	else
		kbuf = vfio_pci_fail() ? NULL : kmalloc(count, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;

	if (iswrite) {
		done = vfio_pci_get_user_small(kbuf, buf, count);
		if (done)
			goto out_free;
		/*
		 * The memory-enable bit may change: no BAR access or mapping
		 * may run meanwhile, and none may stay mapped if it goes off.
		 * memory_lock is ordered outside vconfig_lock.
		 */
		if (pos <= PCI_COMMAND && pos + count > PCI_COMMAND) {
			if (kbuf[PCI_COMMAND - pos] & PCI_COMMAND_MEMORY)
				down_write(&vdev->memory_lock);
			else
				vfio_pci_zap_and_down_write_memory_lock(vdev);
			mem_locked = true;
		}
	}

	if (!iswrite) {
		done = vcfg_read_unlocked(vdev, pos, kbuf, count);
		if (done != -EAGAIN)
			goto out_copy;
	}

	mutex_lock(&vdev->vconfig_lock);
	vc = vdev->vconfig;
	if (!vc) {
		done = -ENODEV;
	} else if (iswrite) {
		vcfg_change_begin(vdev, vc);
		done = vcfg_transfer(vdev, vc, pos, kbuf, count, true, &fx);
		vcfg_change_end(vc);
	} else {
		done = vcfg_transfer(vdev, vc, pos, kbuf, count, false, NULL);
	}
	mutex_unlock(&vdev->vconfig_lock);
	if (mem_locked)
		up_write(&vdev->memory_lock);

	if (iswrite)
		vcfg_run_effects(vdev, &fx);

out_copy:
	if (!iswrite && done > 0 && vfio_pci_put_user_small(buf, kbuf, done))
		done = -EFAULT;
	if (done > 0)
		*ppos += done;
out_free:
	if (kbuf != small)
		kfree(kbuf);
	return done;
}

/**
 * vfio_pci_memory_enabled() - whether BAR memory may be accessed
 * @vdev: the device
 *
 * True when the function is in D0 and either the emulated command register
 * has memory decode on or the function has no memory-enable bit of its own
 * (pdev->no_command_memory: SR-IOV VFs, whose memory the PF's VF MSE bit
 * gates).  Such a function decodes whatever its command register says, so
 * the user's emulated bit there is only read back, as upstream 6.12 and the
 * hardware behave.  The memory bit only changes under memory_lock held for
 * write, so a caller holding memory_lock (read or write) gets a stable
 * answer; callers that act on the answer (BAR access, mmap faults) must.
 *
 * Return: whether BAR memory decodes, as far as the user can change it.
 */
bool vfio_pci_memory_enabled(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_vconfig *vc = vdev->vconfig;

	if (vdev->pdev->current_state != PCI_D0 || !vc)
		return false;
	return vdev->pdev->no_command_memory ||
	       (READ_ONCE(vc->bytes[PCI_COMMAND]) & PCI_COMMAND_MEMORY);
}

/**
 * vfio_pci_config_restore_bars() - put back hardware BARs a reset wiped
 * @vdev: the device
 *
 * A function reset through pci_*reset_function() restores the BARs and the
 * command register from the state the PCI core saved just before it; this
 * covers the cases it does not: a device that reset itself, a D3hot->D0
 * transition without No_Soft_Reset.  Each hardware BAR that differs from the
 * value it had at open is rewritten, with decoding off meanwhile.  The
 * emulated BARs (the user's view) are not touched.
 *
 * Takes vconfig_lock: callers may hold dev_set->lock, igate or memory_lock,
 * but not vconfig_lock.
 */
void vfio_pci_config_restore_bars(struct vfio_pci_core_device *vdev)
{
	mutex_lock(&vdev->vconfig_lock);
	if (vdev->vconfig)
		vcfg_fix_hw_bars(vdev, vdev->vconfig);
	mutex_unlock(&vdev->vconfig_lock);
}

/**
 * vfio_pci_config_intx_disable() - set the emulated INTx-disable bit
 * @vdev: the device
 * @set: the new value of PCI_COMMAND_INTX_DISABLE as the user sees it
 *
 * Keeps vdev->virq_disabled equal to the emulated bit.  Does not touch the
 * hardware: vfio_pci_intx_mask()/unmask() own the hardware bit.  Takes
 * vconfig_lock, so it may sleep; the caller must not hold vconfig_lock or
 * irqlock.
 */
void vfio_pci_config_intx_disable(struct vfio_pci_core_device *vdev, bool set)
{
	struct vfio_pci_vconfig *vc;
	u16 cmd;

	mutex_lock(&vdev->vconfig_lock);
	vc = vdev->vconfig;
	if (vc) {
		cmd = get_unaligned_le16(vc->bytes + PCI_COMMAND);
		if (set)
			cmd |= PCI_COMMAND_INTX_DISABLE;
		else
			cmd &= ~PCI_COMMAND_INTX_DISABLE;
		/* Only the high byte changes: the memory bit is left alone */
		vcfg_change_begin(vdev, vc);
		vc->bytes[PCI_COMMAND + 1] = cmd >> 8;
		vcfg_change_end(vc);
		WRITE_ONCE(vdev->virq_disabled, set);
	}
	mutex_unlock(&vdev->vconfig_lock);
}

/* ---- KUnit access to the pure logic ------------------------------------ */

#if IS_ENABLED(CONFIG_VFIO_PCI_CORE_KUNIT_TEST)

static enum vcfg_kind vcfg_test_kind(bool ext, u16 id)
{
	if (id == VFIO_PCI_CFG_TEST_HEADER)
		return ext ? VK_NR : VK_HDR;
	if (id == VFIO_PCI_CFG_TEST_GAP)
		return ext ? VK_XGAP : VK_GAP;
	if (id == VFIO_PCI_CFG_TEST_NULL)
		return ext ? VK_XNULL : VK_NR;
	if (ext)
		return vcfg_ext_kind(id) == VK_XGAP ? VK_NR : vcfg_ext_kind(id);
	if (id > U8_MAX || vcfg_std_kind(id) == VK_GAP)
		return VK_NR;
	return vcfg_std_kind(id);
}

/**
 * vfio_pci_config_test_perm() - the masks of one byte of a structure
 * @ext: @id is an extended capability ID
 * @id: capability ID or VFIO_PCI_CFG_TEST_{HEADER,GAP,NULL}
 * @off: byte offset inside the structure
 * @virt: returns the virtual-bits mask
 * @write: returns the writable-bits mask
 *
 * Return: 0, or -ENOENT for a hidden (unknown) capability.
 */
int vfio_pci_config_test_perm(bool ext, u16 id, unsigned int off, u8 *virt,
			      u8 *write)
{
	enum vcfg_kind k = vcfg_test_kind(ext, id);
	struct vcfg_perm perm;

	if (k == VK_NR)
		return -ENOENT;
	perm = vcfg_perm_at(k, off);
	*virt = perm.virt;
	*write = perm.write;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_config_test_perm);

/**
 * vfio_pci_config_test_piece() - length of the next piece of an access
 * @pos: offset of the piece
 * @count: bytes left in the access, > 0
 * @end: end of the structure owning @pos, > @pos
 *
 * Return: 4, 2 or 1.
 */
unsigned int vfio_pci_config_test_piece(unsigned int pos, size_t count,
					unsigned int end)
{
	return vcfg_piece_len(pos, count, end);
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_config_test_piece);

/**
 * vfio_pci_config_test_masks() - masks of an access, two ways
 * @k: a structure kind (enum vcfg_kind)
 * @off: offset of the access in the structure
 * @len: 1, 2 or 4
 * @virt: returns the virtual mask as reads and writes compute it
 * @write: returns the writable mask likewise
 * @ref: returns the two masks composed byte by byte
 *	(vcfg_masks_bytewise()), the reference: [0] virtual, [1] writable
 *
 * Return: 0, -EINVAL once @k is past the last kind.
 */
int vfio_pci_config_test_masks(unsigned int k, unsigned int off,
			       unsigned int len, u32 *virt, u32 *write,
			       u32 ref[2])
{
	if (k >= VK_NR)
		return -EINVAL;
	vcfg_masks(k, off, len, virt, write);
	vcfg_masks_bytewise(k, off, len, &ref[0], &ref[1]);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_config_test_masks);

/**
 * vfio_pci_config_test_bar_mask() - sizing mask of a BAR dword
 * @len: bytes the BAR decodes
 * @flags: IORESOURCE_* flags of the resource
 * @upper: the high dword of a 64-bit BAR
 * @type: returns the read-only low bits
 *
 * Return: the address bits a user may set.
 */
u32 vfio_pci_config_test_bar_mask(u64 len, unsigned long flags, bool upper,
				  u32 *type)
{
	return vcfg_bar_mask(len, flags, upper, type);
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_config_test_bar_mask);

static u16 vcfg_test_owner_id(const struct vfio_pci_vconfig *vc,
			      unsigned int pos)
{
	unsigned int start = vc->start[pos];

	switch (vc->kind[pos]) {
	case VK_GAP:
	case VK_XGAP:
		return VFIO_PCI_CFG_TEST_GAP;
	case VK_HDR:
		return VFIO_PCI_CFG_TEST_HEADER;
	case VK_XNULL:
		return VFIO_PCI_CFG_TEST_NULL;
	case VK_PLATFORM:
		return VFIO_PCI_CFG_TEST_PLATFORM;
	default:
		if (start >= PCI_CFG_SPACE_SIZE)
			return VFIO_PCI_CFG_TEST_EXT |
			       PCI_EXT_CAP_ID(get_unaligned_le32(vc->bytes +
								 start));
		return vc->bytes[start + PCI_CAP_LIST_ID];
	}
}

/**
 * vfio_pci_config_test_layout() - run the capability walk on a snapshot
 * @cfg: @size bytes of config space; rewritten in place as the user would
 *	see them (hidden capabilities unlinked)
 * @size: 256 or 4096
 * @owner: @size entries; per byte the owning capability ID (extended ones
 *	or'ed with VFIO_PCI_CFG_TEST_EXT) or
 *	VFIO_PCI_CFG_TEST_{HEADER,GAP,NULL,PLATFORM}
 * @start: @size entries; per byte the offset where its owner starts
 * @piece: @size * 4 entries; [pos * 4 + n - 1] is the length of the first
 *	piece an access of n bytes (1 to 4, not past @size) at pos is split
 *	into
 * @write: @size entries; per byte the bits a user's write reaches (the
 *	virtual ones and those passed to the hardware)
 *
 * Return: 0, -EINVAL for a bad @size, -ENOMEM.
 */
int vfio_pci_config_test_layout(u8 *cfg, unsigned int size, u16 *owner,
				u16 *start, u8 *piece, u8 *write)
{
	struct vfio_pci_vconfig *vc;
	unsigned int i, n;
	u32 v, w;

	if (size != PCI_CFG_SPACE_SIZE && size != PCI_CFG_SPACE_EXP_SIZE)
		return -EINVAL;
	vc = vcfg_alloc(size, GFP_KERNEL);
	if (!vc)
		return -ENOMEM;
	memcpy(vc->bytes, cfg, size);
	vcfg_layout(vc, NULL);
	for (i = 0; i < size; i++) {
		owner[i] = vcfg_test_owner_id(vc, i);
		start[i] = vc->start[i];
		for (n = 1; n <= 4 && i + n <= size; n++)
			piece[i * 4 + n - 1] = vcfg_next_piece(vc, i, n);
		vcfg_masks(vc->kind[i], i - vc->start[i], 1, &v, &w);
		write[i] = w;
	}
	memcpy(cfg, vc->bytes, size);
	kvfree(vc);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_config_test_layout);

#endif /* CONFIG_VFIO_PCI_CORE_KUNIT_TEST */
