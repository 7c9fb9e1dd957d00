// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci: the regions Intel integrated graphics (IGD) assignment needs.
 *
 * A VMM that assigns an IGD (QEMU's GVT-d, "x-igd-opregion") gives its
 * guest the firmware's OpRegion, and for the legacy mode copies of the
 * host bridge's and the LPC bridge's IDs.  vfio-pci offers them as
 * read-only device-specific regions of type VFIO_REGION_TYPE_PCI_VENDOR_TYPE
 * | PCI_VENDOR_ID_INTEL:
 *  - IGD_OPREGION: the OpRegion the ASLS register (config 0xfc) points at.
 *    From OpRegion 2.0 the Video BIOS Table may live outside it (mailbox 3's
 *    RVDA/RVDS: a physical address in 2.0, an offset from the OpRegion in
 *    2.1 and later).  A guest can reach neither host address, so such a VBT
 *    is shown right after the OpRegion, and reads show the OpRegion as
 *    version 2.1 with RVDA = the OpRegion's size: the layout a 2.1 table
 *    with a contiguous VBT has.  Nothing of the host's memory is written.
 *  - IGD_HOST_CFG and IGD_LPC_CFG: the standard config space of the host
 *    bridge (00:00.0) and of the LPC bridge (00:1f.0), read-only, when they
 *    are Intel's.
 * A function without a usable OpRegion opens without any of them (a
 * warning says why); a bridge that is not Intel's is left out.
 * OpRegion layout (Intel's OpRegion specification, as i915 reads it): the
 * signature "IntelGraphicsMem" at 0, the size in KiB at 0x10, the minor
 * and major version at 0x16 and 0x17, the mailboxes present at 0x58 (bit 2:
 * mailbox 3), mailbox 3 at 0x300 with RVDA (64 bits) at 0x3ba and RVDS (32
 * bits) at 0x3c2.
 */
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_igd.h"

#define IGD_ASLS		0xfc	/* config: OpRegion physical address */
#define OPREGION_SIG		"IntelGraphicsMem"
#define OPREGION_SIG_LEN	16
#define OPREGION_SIZE_KB	0x10
#define OPREGION_MBOXES		0x58	/* which mailboxes the table has */
#define OPREGION_MBOX_ASLE	BIT(2)	/* mailbox 3, holding RVDA/RVDS */
#define OPREGION_MINOR		0x16
#define OPREGION_MAJOR		0x17
#define OPREGION_RVDA		0x3ba
#define OPREGION_RVDS		0x3c2
/* What must be there to read the fields above: up to mailbox 3's end */
#define OPREGION_MIN		SZ_1K
/* No OpRegion comes near this; it bounds a firmware's nonsense */
#define OPREGION_MAX		SZ_1M
#define VBT_MAX			SZ_1M
#define VFIO_IGD_REGION_TYPE \
	(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL)

/*
 * vfio_igd_opregion_plan() - decide how an OpRegion is shown to a user
 * @hdr: the OpRegion's first bytes, as the firmware left them
 * @len: bytes at @hdr (at least OPREGION_MIN to find anything)
 * @asls: the OpRegion's physical address (the ASLS register)
 * @plan: filled in on success
 *
 * Pure: reads only @hdr.
 *
 * Return: 0, or -EINVAL for a table that is not an OpRegion or whose sizes
 * and addresses do not add up.
 */
static int vfio_igd_opregion_plan(const u8 *hdr, size_t len, u64 asls,
				  struct vfio_igd_opregion_plan *plan)
{
	u32 size_kb, rvds;
	u8 major, minor;
	u64 rvda, end;

	memset(plan, 0, sizeof(*plan));
	if (len < OPREGION_MIN || memcmp(hdr, OPREGION_SIG, OPREGION_SIG_LEN))
		return -EINVAL;
	size_kb = get_unaligned_le32(hdr + OPREGION_SIZE_KB);
	if (size_kb < OPREGION_MIN / SZ_1K || size_kb > OPREGION_MAX / SZ_1K)
		return -EINVAL;
	plan->op_len = size_kb * SZ_1K;

	major = hdr[OPREGION_MAJOR];
	minor = hdr[OPREGION_MINOR];
	rvda = get_unaligned_le64(hdr + OPREGION_RVDA);
	rvds = get_unaligned_le32(hdr + OPREGION_RVDS);
	if (major < 2 || !(hdr[OPREGION_MBOXES] & OPREGION_MBOX_ASLE) ||
	    !rvda || !rvds)
		return 0;		/* the VBT, if any, is inside */
	if (rvds > VBT_MAX)
		return -EINVAL;

	if (major == 2 && minor == 0) {
		/* 2.0: RVDA is where the VBT is in physical memory */
		if (check_add_overflow(rvda, (u64)rvds, &end))
			return -EINVAL;
		plan->vbt_phys = rvda;
		plan->vbt_len = rvds;
		plan->patch_version = true;
		plan->patch_rvda = true;
		return 0;
	}

	/* 2.1 and later: RVDA counts from the OpRegion's start */
	if (check_add_overflow(rvda, (u64)rvds, &end))
		return -EINVAL;
	if (end <= plan->op_len)
		return 0;		/* inside: shown as it is */
	if (rvda < plan->op_len)
		return -EINVAL;		/* straddles the OpRegion's end */
	if (check_add_overflow(asls, rvda, &plan->vbt_phys) ||
	    check_add_overflow(plan->vbt_phys, (u64)rvds, &end))
		return -EINVAL;
	plan->vbt_len = rvds;
	/* right after the OpRegion already: nothing to rewrite */
	plan->patch_rvda = rvda != plan->op_len;
	return 0;
}

/*
 * Overlay @val (@n bytes, little endian) at region offset @at onto @buf,
 * which holds the region's bytes [@pos, @pos + @len)
 */
static void vfio_igd_overlay(u8 *buf, u64 pos, size_t len, u64 at, u64 val,
			     unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (at + i >= pos && at + i < pos + len)
			buf[at + i - pos] = val >> (8 * i);
}

/*
 * vfio_igd_opregion_patch() - rewrite the fields a plan changes
 * @plan: from vfio_igd_opregion_plan()
 * @pos: region offset of @buf's first byte
 * @buf: region bytes as read from the host
 * @len: bytes at @buf
 *
 * A 2.0 OpRegion reads as 2.1, and RVDA as the offset where the region
 * shows the VBT (right after the OpRegion).
 */
static void vfio_igd_opregion_patch(const struct vfio_igd_opregion_plan *plan,
				    u64 pos, u8 *buf, size_t len)
{
	if (plan->patch_version)
		vfio_igd_overlay(buf, pos, len, OPREGION_MINOR, 1, 1);
	if (plan->patch_rvda)
		vfio_igd_overlay(buf, pos, len, OPREGION_RVDA, plan->op_len,
				 sizeof(u64));
}

/* ---- the OpRegion region ------------------------------------------------ */

struct vfio_igd_opregion {
	struct vfio_igd_opregion_plan plan;
	void *op;	/* the OpRegion, mapped */
	void *vbt;	/* the VBT shown after it, mapped; NULL if none */
};

static u32 vfio_igd_region_index(loff_t pos)
{
	return VFIO_PCI_OFFSET_TO_INDEX((u64)pos) - VFIO_PCI_NUM_REGIONS;
}

static ssize_t vfio_igd_opregion_rw(struct vfio_pci_core_device *vdev,
				    char __user *buf, size_t count,
				    loff_t *ppos, bool iswrite)
{
	struct vfio_pci_region *region = &vdev->region[vfio_igd_region_index(*ppos)];
	struct vfio_igd_opregion *opr = region->data;
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK, end, op_len = opr->plan.op_len;
	size_t done = 0, n, from_op;
	u8 *kbuf;

	if (iswrite)
		return -EINVAL;
	if (check_add_overflow(pos, (u64)count, &end) || end > region->size)
		return -EINVAL;
	if (!count)
		return 0;

	kbuf = kmalloc(min_t(size_t, count, PAGE_SIZE), GFP_KERNEL_ACCOUNT);
	if (!kbuf)
		return -ENOMEM;
	while (done < count) {
		n = min_t(size_t, count - done, PAGE_SIZE);
		from_op = pos < op_len ? min_t(u64, n, op_len - pos) : 0;
		memcpy(kbuf, opr->op + pos, from_op);
		if (n > from_op)
			memcpy(kbuf + from_op, opr->vbt + (pos + from_op - op_len),
			       n - from_op);
		vfio_igd_opregion_patch(&opr->plan, pos, kbuf, n);
		if (copy_to_user(buf + done, kbuf, n))
			break;
		done += n;
		pos += n;
	}
	kfree(kbuf);
	if (!done)
		return -EFAULT;
	*ppos += done;
	return done;
}

static void vfio_igd_opregion_release(struct vfio_pci_core_device *vdev,
				      struct vfio_pci_region *region)
{
	struct vfio_igd_opregion *opr = region->data;

	if (opr->vbt)
		memunmap(opr->vbt);
	memunmap(opr->op);
	kfree(opr);
}

static const struct vfio_pci_regops vfio_igd_opregion_ops = {
	.rw		= vfio_igd_opregion_rw,
	.release	= vfio_igd_opregion_release,
};

/* The OpRegion region; -ENODEV when the function has none */
static int vfio_igd_opregion_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_igd_opregion *opr;
	u32 asls;
	int ret;

	ret = pci_read_config_dword(pdev, IGD_ASLS, &asls);
	if (ret)
		return pcibios_err_to_errno(ret);
	if (!asls || asls == ~0U)
		return -ENODEV;

	opr = kzalloc(sizeof(*opr), GFP_KERNEL_ACCOUNT);
	if (!opr)
		return -ENOMEM;
	/*
	 * The header first, for the sizes; then all of it.  A table that
	 * is not there or makes no sense is the firmware's: the function
	 * opens without the region (-ENODEV), a warning says why.
	 */
	ret = -ENODEV;
	opr->op = memremap(asls, OPREGION_MIN, MEMREMAP_WB);
	if (!opr->op)
		goto err_warn;
	ret = vfio_igd_opregion_plan(opr->op, OPREGION_MIN, asls, &opr->plan);
	memunmap(opr->op);
	opr->op = NULL;
	if (ret) {
		ret = -ENODEV;
		goto err_warn;
	}
	ret = -ENODEV;
	opr->op = memremap(asls, opr->plan.op_len, MEMREMAP_WB);
	if (!opr->op)
		goto err_warn;
	if (opr->plan.vbt_len) {
		opr->vbt = memremap(opr->plan.vbt_phys, opr->plan.vbt_len,
				    MEMREMAP_WB);
		if (!opr->vbt)
			goto err_unmap;
	}

	ret = vfio_pci_core_register_dev_region(vdev, VFIO_IGD_REGION_TYPE,
						VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION,
						&vfio_igd_opregion_ops,
						opr->plan.op_len + opr->plan.vbt_len,
						VFIO_REGION_INFO_FLAG_READ, opr);
	if (ret)
		goto err_unmap_vbt;
	return 0;

err_unmap_vbt:
	if (opr->vbt)
		memunmap(opr->vbt);
err_unmap:
	memunmap(opr->op);
err_warn:
	if (ret == -ENODEV)
		pci_warn(pdev, "no usable OpRegion at ASLS 0x%08x: no OpRegion region\n",
			 asls);
	kfree(opr);
	return ret;
}

/* ---- the bridges' config space ------------------------------------------ */

static ssize_t vfio_igd_cfg_rw(struct vfio_pci_core_device *vdev,
			       char __user *buf, size_t count, loff_t *ppos,
			       bool iswrite)
{
	struct vfio_pci_region *region = &vdev->region[vfio_igd_region_index(*ppos)];
	struct pci_dev *bridge = region->data;
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	size_t done = 0, n;
	__le32 le;
	u32 val;
	u64 end;
	int ret;

	if (iswrite)
		return -EINVAL;
	if (check_add_overflow(pos, (u64)count, &end) || end > region->size)
		return -EINVAL;

	/* Naturally aligned pieces of 1, 2 or 4 bytes */
	while (done < count) {
		n = count - done;
		if (n >= 4 && IS_ALIGNED(pos, 4)) {
			n = 4;
			ret = pci_user_read_config_dword(bridge, pos, &val);
		} else if (n >= 2 && IS_ALIGNED(pos, 2)) {
			u16 w;

			n = 2;
			ret = pci_user_read_config_word(bridge, pos, &w);
			val = w;
		} else {
			u8 b;

			n = 1;
			ret = pci_user_read_config_byte(bridge, pos, &b);
			val = b;
		}
		if (ret)
			return done ? done : pcibios_err_to_errno(ret);
		le = cpu_to_le32(val);
		if (copy_to_user(buf + done, &le, n))
			return done ? done : -EFAULT;
		done += n;
		pos += n;
	}
	*ppos += done;
	return done;
}

static void vfio_igd_cfg_release(struct vfio_pci_core_device *vdev,
				 struct vfio_pci_region *region)
{
	pci_dev_put(region->data);
}

static const struct vfio_pci_regops vfio_igd_cfg_ops = {
	.rw		= vfio_igd_cfg_rw,
	.release	= vfio_igd_cfg_release,
};

/*
 * A region for the Intel bridge at @devfn of the IGD's domain and bus 0,
 * if it has @class (base and sub class); -ENODEV when there is none
 */
static int vfio_igd_cfg_init(struct vfio_pci_core_device *vdev,
			     unsigned int devfn, u32 class, u32 subtype)
{
	struct pci_dev *bridge;
	int ret;

	bridge = pci_get_domain_bus_and_slot(pci_domain_nr(vdev->pdev->bus),
					     0, devfn);
	if (!bridge)
		return -ENODEV;
	if (bridge->vendor != PCI_VENDOR_ID_INTEL ||
	    (bridge->class >> 8) != class) {
		pci_dev_put(bridge);
		return -ENODEV;
	}
	ret = vfio_pci_core_register_dev_region(vdev, VFIO_IGD_REGION_TYPE,
						subtype, &vfio_igd_cfg_ops,
						bridge->cfg_size,
						VFIO_REGION_INFO_FLAG_READ, bridge);
	if (ret)
		pci_dev_put(bridge);
	return ret;
}

/**
 * vfio_pci_is_intel_display() - whether @pdev may be Intel integrated
 *	graphics with an OpRegion
 * @pdev: the function
 *
 * Return: an Intel VGA-class function (upstream 6.12 looks at the same).
 */
bool vfio_pci_is_intel_display(struct pci_dev *pdev)
{
	return pdev->vendor == PCI_VENDOR_ID_INTEL &&
	       (pdev->class >> 8) == PCI_CLASS_DISPLAY_VGA;
}

/**
 * vfio_pci_igd_init() - add the IGD regions to a session being opened
 * @vdev: the core device, between vfio_pci_core_enable() and
 *	vfio_pci_core_finish_enable()
 *
 * Without a usable OpRegion nothing is added; a bridge that is not
 * Intel's (upstream 6.12 then fails the open) is skipped.
 *
 * Return: 0, or the error that stopped a region the platform has.
 */
int vfio_pci_igd_init(struct vfio_pci_core_device *vdev)
{
	int ret;

	/* Without an OpRegion there is no IGD assignment to help */
	ret = vfio_igd_opregion_init(vdev);
	if (ret == -ENODEV)
		return 0;
	if (!ret)
		ret = vfio_igd_cfg_init(vdev, PCI_DEVFN(0, 0),
					PCI_CLASS_BRIDGE_HOST,
					VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG);
	if (!ret || ret == -ENODEV)
		ret = vfio_igd_cfg_init(vdev, PCI_DEVFN(0x1f, 0),
					PCI_CLASS_BRIDGE_ISA,
					VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG);
	if (ret == -ENODEV)
		ret = 0;
	if (ret)
		pci_warn(vdev->pdev, "Intel IGD regions failed: %d\n", ret);
	return ret;
}

#if IS_ENABLED(CONFIG_VFIO_PCI_CORE_KUNIT_TEST)
#include "vfio_pci_igd_kunit.c"
#endif
