// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-core: region I/O and mmap.
 *
 * The device fd is split into regions; VFIO_PCI_INDEX_TO_OFFSET() gives the
 * fd offset where each one starts.  The fixed regions are the six standard
 * BARs, the expansion ROM, config space and the legacy VGA ranges; a driver
 * may append device-specific regions with their own ops.
 *
 * Policies implemented here:
 *
 * - BAR data is moved in naturally aligned accesses of 8, 4, 2 or 1 bytes,
 *   the widest that fits; an access must lie entirely inside the BAR, an
 *   access that starts past the end or straddles it fails with -EINVAL.
 * - Every access to a memory BAR (and the ROM) is made with memory_lock held
 *   for read and fails with -EIO while the emulated command register has
 *   memory decode off.  No user memory is touched with memory_lock held: a
 *   user buffer may itself be an mmap of a BAR, whose fault takes it.
 * - The MSI-X table belongs to the library's interrupt code.  Reads and
 *   writes through the fd that cover it do not reach the hardware: reads
 *   return 0xff bytes, writes are dropped, the rest of the access proceeds.
 *   This matches what existing userspace (QEMU) expects.
 * - mmap is offered for memory BARs; one smaller than a page only if the
 *   rest of its page can be reserved so no other device shows up there.
 *   Mappings are populated on fault with the largest entry (page, PMD or
 *   PUD) the BAR's physical alignment and the vma allow, and dropped
 *   wholesale by vfio_pci_zap_bars() whenever memory must not be reachable
 *   (decode off, reset, low power); the next touch faults again and gets
 *   SIGBUS until memory is back.
 * - Unless the platform isolates MSI writes (interrupt remapping), the
 *   page(s) holding the MSI-X table cannot be mapped; region info then
 *   describes the mappable rest with a sparse mmap capability.
 *
 * Where this differs from Linux 6.12's stock vfio-pci: an access straddling
 * the end of a BAR fails instead of being shortened, and without MSI
 * isolation the MSI-X table pages are withheld from mmap (stock always
 * reports MSIX_MAPPABLE and maps them).  A function with no ROM BAR but a
 * ROM image the firmware handed over (pdev->rom, x86 EFI setup data: the
 * VBIOS of some laptop GPUs) gets that image as its ROM region; stock 6.12
 * reports no ROM for it.
 */
#include <kunit/visibility.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/mm.h>
#include <linux/msi.h>
#include <linux/nospec.h>
#include <linux/pfn_t.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/vfio.h>
#include <linux/vgaarb.h>

#include "vfio_pci_priv.h"

/* Page offset inside a region, from a vma's vm_pgoff */
#define VFIO_PCI_PGOFF_MASK \
	((1UL << (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT)) - 1)

/* Widest single access to a BAR */
#ifdef iowrite64
#define VFIO_PCI_MAX_ACCESS	8
#else
#define VFIO_PCI_MAX_ACCESS	4
#endif

/* ROM data is staged in a kernel buffer of at most this many bytes */
#define VFIO_PCI_ROM_CHUNK	SZ_64K

/* ---- single accesses ---------------------------------------------------- */

/*
 * The user buffer holds device bytes in bus order (PCI is little-endian).
 * ioreadN()/iowriteN() convert to CPU order, which on a big-endian host
 * would swap the bytes; the "be" variants leave them alone there.
 */
static void vfio_pci_xfer(void __iomem *io, void *val, size_t size,
			  bool iswrite)
{
	switch (size) {
	case 1:
		if (iswrite)
			iowrite8(*(u8 *)val, io);
		else
			*(u8 *)val = ioread8(io);
		break;
#ifdef __BIG_ENDIAN
	case 2:
		if (iswrite)
			iowrite16be(*(u16 *)val, io);
		else
			*(u16 *)val = ioread16be(io);
		break;
	case 4:
		if (iswrite)
			iowrite32be(*(u32 *)val, io);
		else
			*(u32 *)val = ioread32be(io);
		break;
#ifdef iowrite64
	case 8:
		if (iswrite)
			iowrite64be(*(u64 *)val, io);
		else
			*(u64 *)val = ioread64be(io);
		break;
#endif
#else
	case 2:
		if (iswrite)
			iowrite16(*(u16 *)val, io);
		else
			*(u16 *)val = ioread16(io);
		break;
	case 4:
		if (iswrite)
			iowrite32(*(u32 *)val, io);
		else
			*(u32 *)val = ioread32(io);
		break;
#ifdef iowrite64
	case 8:
		if (iswrite)
			iowrite64(*(u64 *)val, io);
		else
			*(u64 *)val = ioread64(io);
		break;
#endif
#endif
	}
}

/* One access, gated on memory decode when @test_mem */
static int vfio_pci_gated_xfer(struct vfio_pci_core_device *vdev,
			       bool test_mem, void __iomem *io, void *val,
			       size_t size, bool iswrite)
{
	int ret = 0;

	if (!test_mem) {
		vfio_pci_xfer(io, val, size, iswrite);
		return 0;
	}

	down_read(&vdev->memory_lock);
	if (vfio_pci_memory_enabled(vdev))
		vfio_pci_xfer(io, val, size, iswrite);
	else
		ret = -EIO;
	up_read(&vdev->memory_lock);
	return ret;
}

/**
 * vfio_pci_core_ioread8() - read one byte of a BAR
 * @vdev: the core device
 * @test_mem: take memory_lock and refuse while memory decode is off; set it
 *	for memory BARs, clear it for I/O ports and legacy VGA ranges
 * @val: receives the byte
 * @io: address inside a mapping made by vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem is set and memory decode is off.
 */
int vfio_pci_core_ioread8(struct vfio_pci_core_device *vdev, bool test_mem,
			  u8 *val, void __iomem *io)
{
	return vfio_pci_gated_xfer(vdev, test_mem, io, val, sizeof(*val), false);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread8);

/**
 * vfio_pci_core_ioread16() - read a naturally aligned 16-bit word of a BAR
 * @vdev: the core device
 * @test_mem: see vfio_pci_core_ioread8()
 * @val: receives the word in bus (little-endian) byte layout, ready to be
 *	copied to a user buffer; identical to ioread16() on little-endian hosts
 * @io: address inside a mapping made by vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem is set and memory decode is off.
 */
int vfio_pci_core_ioread16(struct vfio_pci_core_device *vdev, bool test_mem,
			   u16 *val, void __iomem *io)
{
	return vfio_pci_gated_xfer(vdev, test_mem, io, val, sizeof(*val), false);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread16);

/**
 * vfio_pci_core_ioread32() - read a naturally aligned 32-bit word of a BAR
 * @vdev: the core device
 * @test_mem: see vfio_pci_core_ioread8()
 * @val: receives the word in bus byte layout (see vfio_pci_core_ioread16())
 * @io: address inside a mapping made by vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem is set and memory decode is off.
 */
int vfio_pci_core_ioread32(struct vfio_pci_core_device *vdev, bool test_mem,
			   u32 *val, void __iomem *io)
{
	return vfio_pci_gated_xfer(vdev, test_mem, io, val, sizeof(*val), false);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread32);

/**
 * vfio_pci_core_iowrite8() - write one byte of a BAR
 * @vdev: the core device
 * @test_mem: see vfio_pci_core_ioread8()
 * @val: the byte
 * @io: address inside a mapping made by vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO (nothing written) when @test_mem is set and memory
 * decode is off.
 */
int vfio_pci_core_iowrite8(struct vfio_pci_core_device *vdev, bool test_mem,
			   u8 val, void __iomem *io)
{
	return vfio_pci_gated_xfer(vdev, test_mem, io, &val, sizeof(val), true);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite8);

/**
 * vfio_pci_core_iowrite16() - write a naturally aligned 16-bit word of a BAR
 * @vdev: the core device
 * @test_mem: see vfio_pci_core_ioread8()
 * @val: the word in bus byte layout (see vfio_pci_core_ioread16())
 * @io: address inside a mapping made by vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem is set and memory decode is off.
 */
int vfio_pci_core_iowrite16(struct vfio_pci_core_device *vdev, bool test_mem,
			    u16 val, void __iomem *io)
{
	return vfio_pci_gated_xfer(vdev, test_mem, io, &val, sizeof(val), true);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite16);

/**
 * vfio_pci_core_iowrite32() - write a naturally aligned 32-bit word of a BAR
 * @vdev: the core device
 * @test_mem: see vfio_pci_core_ioread8()
 * @val: the word in bus byte layout (see vfio_pci_core_ioread16())
 * @io: address inside a mapping made by vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem is set and memory decode is off.
 */
int vfio_pci_core_iowrite32(struct vfio_pci_core_device *vdev, bool test_mem,
			    u32 val, void __iomem *io)
{
	return vfio_pci_gated_xfer(vdev, test_mem, io, &val, sizeof(val), true);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite32);

#ifdef iowrite64
/**
 * vfio_pci_core_ioread64() - read a naturally aligned 64-bit word of a BAR
 * @vdev: the core device
 * @test_mem: see vfio_pci_core_ioread8()
 * @val: receives the word in bus byte layout (see vfio_pci_core_ioread16())
 * @io: address inside a mapping made by vfio_pci_core_setup_barmap()
 *
 * Memory BARs are read with one 64-bit access; I/O ports with two 32-bit
 * ones, low half first.
 *
 * Return: 0, or -EIO when @test_mem is set and memory decode is off.
 */
int vfio_pci_core_ioread64(struct vfio_pci_core_device *vdev, bool test_mem,
			   u64 *val, void __iomem *io)
{
	return vfio_pci_gated_xfer(vdev, test_mem, io, val, sizeof(*val), false);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread64);

/**
 * vfio_pci_core_iowrite64() - write a naturally aligned 64-bit word of a BAR
 * @vdev: the core device
 * @test_mem: see vfio_pci_core_ioread8()
 * @val: the word in bus byte layout (see vfio_pci_core_ioread16())
 * @io: address inside a mapping made by vfio_pci_core_setup_barmap()
 *
 * Return: 0, or -EIO when @test_mem is set and memory decode is off.
 */
int vfio_pci_core_iowrite64(struct vfio_pci_core_device *vdev, bool test_mem,
			    u64 val, void __iomem *io)
{
	return vfio_pci_gated_xfer(vdev, test_mem, io, &val, sizeof(val), true);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite64);
#endif

/* ---- bulk transfers ----------------------------------------------------- */

/**
 * vfio_pci_core_range_intersect_range() - overlap of a buffer and a register
 * @buf_start: offset the user access starts at
 * @buf_cnt: length of the user access
 * @reg_start: offset of the register
 * @reg_cnt: size of the register
 * @buf_offset: receives where the overlap starts, relative to @buf_start
 * @intersect_count: receives the overlap's length
 * @register_offset: receives where the overlap starts, relative to
 *	@reg_start
 *
 * For drivers that emulate a few registers inside a BAR: tells which part
 * of an access falls on the register.
 *
 * Return: true if the two ranges overlap (the outputs are then set), false
 * otherwise (the outputs are left alone).
 */
bool vfio_pci_core_range_intersect_range(loff_t buf_start, size_t buf_cnt,
					 loff_t reg_start, size_t reg_cnt,
					 loff_t *buf_offset,
					 size_t *intersect_count,
					 size_t *register_offset)
{
	loff_t lo = max(buf_start, reg_start);
	loff_t hi = min(buf_start + (loff_t)buf_cnt, reg_start + (loff_t)reg_cnt);

	if (lo >= hi)
		return false;

	*buf_offset = lo - buf_start;
	*intersect_count = hi - lo;
	*register_offset = lo - reg_start;
	return true;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_range_intersect_range);

/* Widest naturally aligned access at @pos that moves at most @left bytes */
static size_t vfio_pci_access_size(u64 pos, size_t left)
{
	size_t size = VFIO_PCI_MAX_ACCESS;

	while (size > left || !IS_ALIGNED(pos, size))
		size >>= 1;
	return size;
}

/**
 * vfio_pci_core_do_io_rw() - move data between a user buffer and a mapping
 * @vdev: the core device
 * @test_mem: gate each access on memory decode (see vfio_pci_core_ioread8())
 * @io: start of the mapping (usually vdev->barmap[bar])
 * @buf: user buffer
 * @off: offset inside the mapping
 * @count: bytes to move
 * @x_start: start of a range, relative to @io, the hardware must not see
 * @x_end: end (exclusive) of that range; equal to @x_start for none
 * @iswrite: true to write the device, false to read it
 *
 * The transfer is split into the widest naturally aligned accesses that fit
 * (8, 4, 2 or 1 bytes).  Inside [@x_start, @x_end) reads return 0xff bytes
 * and writes are discarded.  The caller has checked that [@off, @off +
 * @count) lies inside the mapping.  memory_lock is taken around each access
 * only, never while user memory is touched.
 *
 * Return: the number of bytes moved; a negative errno if the first access
 * fails (-EFAULT, -EIO when memory decode is off, -EINTR on a fatal signal).
 */
ssize_t vfio_pci_core_do_io_rw(struct vfio_pci_core_device *vdev,
			       bool test_mem, void __iomem *io,
			       char __user *buf, loff_t off, size_t count,
			       size_t x_start, size_t x_end, bool iswrite)
{
	size_t done = 0, size;
	u64 val;
	u64 pos;
	int ret = 0;

	if (off < 0)
		return -EINVAL;

	while (done < count) {
		pos = off + done;

		if (pos >= x_start && pos < x_end) {
			/* Excluded range: filler for reads, drop writes */
			size = min3(count - done, (size_t)(x_end - pos),
				    sizeof(val));
			if (!iswrite) {
				memset(&val, 0xff, sizeof(val));
				ret = vfio_pci_put_user_small(buf + done, &val,
							      size);
				if (ret)
					break;
			}
		} else {
			size = count - done;
			/* Stop short of the excluded range */
			if (x_end > x_start && pos < x_start)
				size = min_t(size_t, size, x_start - pos);
			size = vfio_pci_access_size(pos, size);

			if (iswrite) {
				ret = vfio_pci_get_user_small(&val, buf + done,
							      size);
				if (ret)
					break;
			}
			ret = vfio_pci_gated_xfer(vdev, test_mem, io + pos,
						  &val, size, iswrite);
			if (ret)
				break;
			if (!iswrite) {
				ret = vfio_pci_put_user_small(buf + done, &val,
							      size);
				if (ret)
					break;
			}
		}
		done += size;

		if (done < count) {
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			cond_resched();
		}
	}

	return done ? done : ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_do_io_rw);

/* ---- BARs --------------------------------------------------------------- */

/*
 * Request @bar's resource for this device unless it holds it already; kept
 * until close.  Takes bar_claim_lock, a leaf: callers may hold mmap_lock
 * or vconfig_lock.
 */
static int vfio_pci_claim_bar(struct vfio_pci_core_device *vdev, int bar)
{
	int ret = 0;

	if (!pci_resource_len(vdev->pdev, bar))
		return -EINVAL;
	mutex_lock(&vdev->bar_claim_lock);
	if (!test_bit(bar, &vdev->bar_claimed)) {
		ret = vfio_pci_fail() ? -EBUSY :
		      pci_request_selected_regions(vdev->pdev, 1 << bar, "vfio");
		if (!ret)
			__set_bit(bar, &vdev->bar_claimed);
	}
	mutex_unlock(&vdev->bar_claim_lock);
	return ret;
}

/**
 * vfio_pci_core_setup_barmap() - claim and map a BAR for kernel access
 * @vdev: the core device
 * @bar: standard BAR number, 0 to 5
 *
 * On first use the BAR's resource is requested (unless an mmap() claimed
 * it) and the whole BAR mapped with pci_iomap(); both are kept until the
 * device is closed (vfio_pci_regions_release()).  Later calls return at
 * once.  The claim (see vfio_pci_claim_bar()) and the publication of the
 * mapping are serialised by vconfig_lock, the mapping itself is made
 * without it (config accesses wait for that lock, and mapping a large BAR
 * takes a while); of two callers racing, the second drops its mapping.
 * The caller must not hold vconfig_lock, memory_lock or mmap_lock.
 *
 * Return: 0 with vdev->barmap[@bar] valid, -EINVAL for a BAR that does not
 * exist, -EBUSY if someone else owns the resource, -ENOMEM if it cannot be
 * mapped.
 */
int vfio_pci_core_setup_barmap(struct vfio_pci_core_device *vdev, int bar)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;
	int ret = 0;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS)
		return -EINVAL;

	/* Pairs with the release below: a mapping seen is a mapping made */
	if (smp_load_acquire(&vdev->barmap[bar]))
		return 0;

	/* A claim stays when the mapping fails: close releases it */
	mutex_lock(&vdev->vconfig_lock);
	ret = vdev->barmap[bar] ? 0 : vfio_pci_claim_bar(vdev, bar);
	mutex_unlock(&vdev->vconfig_lock);
	if (ret || READ_ONCE(vdev->barmap[bar]))
		return ret;

	io = vfio_pci_fail() ? NULL : pci_iomap(pdev, bar, 0);
	if (!io)
		return -ENOMEM;

	mutex_lock(&vdev->vconfig_lock);
	if (vdev->barmap[bar]) {
		mutex_unlock(&vdev->vconfig_lock);
		pci_iounmap(pdev, io);
		return 0;
	}
	/* Publish the mapping only once it is complete; see the fast path */
	smp_store_release(&vdev->barmap[bar], io);
	mutex_unlock(&vdev->vconfig_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_setup_barmap);

/* Is [pos, pos + count) inside a region of @size bytes? */
static bool vfio_pci_in_region(u64 pos, size_t count, u64 size)
{
	return pos < size && count <= size - pos;
}

/**
 * vfio_pci_rom_region() - where the ROM region's contents come from
 * @bar_len: length of the ROM BAR (0: the function has none)
 * @shadow: the ROM resource is a shadow copy (IORESOURCE_ROM_SHADOW)
 * @platform_len: length of a ROM image the firmware handed over for the
 *	function (pdev->romlen), 0 for none
 * @size: set to the region's size, 0 when there is no ROM
 *
 * The ROM BAR comes first; a shadowed boot video ROM without a length is
 * the 128 KiB legacy window; only a function with neither gets the image
 * the firmware keeps for it (laptop GPUs whose VBIOS exists only there).
 *
 * Return: where to read: VFIO_PCI_ROM_NONE, _BAR or _PLATFORM.
 */
enum vfio_pci_rom_source vfio_pci_rom_region(u64 bar_len, bool shadow,
					     u64 platform_len, u64 *size)
{
	*size = 0;
	if (bar_len) {
		*size = bar_len;
		return VFIO_PCI_ROM_BAR;
	}
	if (shadow) {
		*size = SZ_128K;
		return VFIO_PCI_ROM_BAR;
	}
	if (platform_len) {
		*size = platform_len;
		return VFIO_PCI_ROM_PLATFORM;
	}
	return VFIO_PCI_ROM_NONE;
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_rom_region);

/*
 * The ROM region of @pdev: its source and size.  The emulated ROM BAR is
 * sized from the same answer (vfio_pci_config.c), since a VMM sizes the
 * ROM through that BAR before it reads the region.
 */
enum vfio_pci_rom_source vfio_pci_rom_of(struct pci_dev *pdev, u64 *size)
{
	struct resource *res = &pdev->resource[PCI_ROM_RESOURCE];

	return vfio_pci_rom_region(pci_resource_len(pdev, PCI_ROM_RESOURCE),
				   res->flags & IORESOURCE_ROM_SHADOW,
				   pdev->rom ? pdev->romlen : 0, size);
}

/* Copy from the image the firmware left in RAM for the function */
static int vfio_pci_platform_rom_copy(struct pci_dev *pdev, void *kbuf,
				      u64 pos, size_t len)
{
	void *rom;

	rom = vfio_pci_fail() ? NULL :
	      memremap(pdev->rom + pos, len, MEMREMAP_WB);
	if (!rom)
		return -ENOMEM;
	memcpy(kbuf, rom, len);
	memunmap(rom);
	return 0;
}

/*
 * Copy ROM bytes in reads of at most 4 bytes, in ROM order: some devices
 * (Intel X710) report errors on 8-byte ROM reads, which memcpy_fromio()
 * makes on 64-bit architectures such as arm64.  Upstream 6.12 limits ROM
 * accesses to 4 bytes for the same reason.
 */
static void vfio_pci_rom_fromio(u8 *dst, const void __iomem *src, size_t len)
{
	size_t i = 0;

	for (; i < len && !IS_ALIGNED((unsigned long)src + i, 4); i++)
		dst[i] = readb(src + i);
	for (; i + 4 <= len; i += 4)
		put_unaligned_le32(readl(src + i), dst + i);
	for (; i < len; i++)
		dst[i] = readb(src + i);
}

/* Read the expansion ROM through a kernel buffer */
static int vfio_pci_rom_copy(struct vfio_pci_core_device *vdev, void *kbuf,
			     u64 pos, size_t len)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *rom;
	size_t romsize, valid = 0;
	int ret = 0;

	down_read(&vdev->memory_lock);
	if (!vfio_pci_memory_enabled(vdev)) {
		ret = -EIO;
		goto out_unlock_memory;
	}

	/* pci_map_rom() toggles the ROM enable bit: one user at a time */
	mutex_lock(&vdev->vconfig_lock);
	rom = vfio_pci_fail() ? NULL : pci_map_rom(pdev, &romsize);
	if (!rom) {
		ret = -EIO;
		goto out_unlock_config;
	}

	/* Beyond the image pci_map_rom() found, the BAR reads as 0xff */
	if (pos < romsize)
		valid = min_t(u64, len, romsize - pos);
	vfio_pci_rom_fromio(kbuf, rom + pos, valid);
	memset(kbuf + valid, 0xff, len - valid);

	pci_unmap_rom(pdev, rom);
out_unlock_config:
	mutex_unlock(&vdev->vconfig_lock);
out_unlock_memory:
	up_read(&vdev->memory_lock);
	return ret;
}

static ssize_t vfio_pci_rom_read(struct vfio_pci_core_device *vdev,
				 char __user *buf, size_t count, u64 pos)
{
	enum vfio_pci_rom_source src;
	size_t done = 0, len;
	void *kbuf;
	int ret = 0;
	u64 size;

	src = vfio_pci_rom_of(vdev->pdev, &size);
	if (src == VFIO_PCI_ROM_NONE || !vfio_pci_in_region(pos, count, size))
		return -EINVAL;
	if (!count)
		return 0;

	kbuf = vfio_pci_fail() ? NULL :
	       kvmalloc(min_t(size_t, count, VFIO_PCI_ROM_CHUNK), GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;

	while (done < count) {
		len = min_t(size_t, count - done, VFIO_PCI_ROM_CHUNK);
		if (src == VFIO_PCI_ROM_PLATFORM)
			ret = vfio_pci_platform_rom_copy(vdev->pdev, kbuf,
							 pos + done, len);
		else
			ret = vfio_pci_rom_copy(vdev, kbuf, pos + done, len);
		if (ret)
			break;
		if (copy_to_user(buf + done, kbuf, len)) {
			ret = -EFAULT;
			break;
		}
		done += len;
	}

	kvfree(kbuf);
	return done ? done : ret;
}

/**
 * vfio_pci_bar_rw() - read or write a BAR, or read the ROM
 * @vdev: the core device
 * @buf: user buffer
 * @count: bytes to move
 * @ppos: device fd offset; advanced by the bytes moved
 * @iswrite: direction
 *
 * Return: bytes moved or a negative errno.
 */
ssize_t vfio_pci_bar_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite)
{
	struct pci_dev *pdev = vdev->pdev;
	u64 index = VFIO_PCI_OFFSET_TO_INDEX((u64)*ppos);
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	size_t x_start = 0, x_end = 0;
	ssize_t done;
	int bar, ret;

	if (index == VFIO_PCI_ROM_REGION_INDEX) {
		if (iswrite)
			return -EINVAL;
		done = vfio_pci_rom_read(vdev, buf, count, pos);
		goto out;
	}

	if (index > VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	bar = index;

	if (!vfio_pci_in_region(pos, count, pci_resource_len(pdev, bar)))
		return -EINVAL;
	if (!count)
		return 0;

	/* The mapping stays until close: only the first access makes it */
	if (!smp_load_acquire(&vdev->barmap[bar])) {
		ret = vfio_pci_core_setup_barmap(vdev, bar);
		if (ret)
			return ret;
	}

	if (bar == vdev->msix_bar && vdev->msix_size) {
		x_start = vdev->msix_offset;
		x_end = x_start + vdev->msix_size;
	}

	done = vfio_pci_core_do_io_rw(vdev,
				      pci_resource_flags(pdev, bar) & IORESOURCE_MEM,
				      vdev->barmap[bar], buf, pos, count,
				      x_start, x_end, iswrite);
out:
	if (done > 0)
		*ppos += done;
	return done;
}

/* ---- legacy VGA --------------------------------------------------------- */

struct vfio_pci_vga_range {
	u32	start;
	u32	size;
	bool	ioport;
};

static const struct vfio_pci_vga_range vfio_pci_vga_ranges[] = {
	{ .start = 0xa0000, .size = 0x20000, .ioport = false },
	{ .start = 0x3b0, .size = 0xc, .ioport = true },
	{ .start = 0x3c0, .size = 0x20, .ioport = true },
};

/**
 * vfio_pci_vga_rw() - access the legacy VGA ranges
 * @vdev: the core device
 * @buf: user buffer
 * @count: bytes to move
 * @ppos: device fd offset; the region offset is the legacy address
 * @iswrite: direction
 *
 * The region mirrors the legacy address space below 0xc0000: memory at
 * 0xa0000-0xbffff and I/O ports 0x3b0-0x3bb and 0x3c0-0x3df.  An access must
 * fall inside one of those ranges.  The VGA arbiter routes the range to
 * this device for the duration of the access.
 *
 * Return: bytes moved or a negative errno (-EINVAL outside the ranges or
 * without VGA, -EINTR if interrupted waiting for the arbiter).
 */
ssize_t vfio_pci_vga_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite)
{
	const struct vfio_pci_vga_range *range = NULL;
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	unsigned int rsrc, i;
	void __iomem *io;
	ssize_t done;
	int ret;

	if (!vdev->has_vga)
		return -EINVAL;

	for (i = 0; i < ARRAY_SIZE(vfio_pci_vga_ranges); i++) {
		if (pos >= vfio_pci_vga_ranges[i].start &&
		    vfio_pci_in_region(pos - vfio_pci_vga_ranges[i].start,
				       count, vfio_pci_vga_ranges[i].size)) {
			range = &vfio_pci_vga_ranges[i];
			break;
		}
	}
	if (!range)
		return -EINVAL;
	if (!count)
		return 0;

	if (range->ioport) {
		io = ioport_map(range->start, range->size);
		rsrc = VGA_RSRC_LEGACY_IO;
	} else {
		io = ioremap(range->start, range->size);
		rsrc = VGA_RSRC_LEGACY_MEM;
	}
	if (!io)
		return -ENOMEM;

	ret = vga_get_interruptible(vdev->pdev, rsrc);
	if (ret) {
		done = ret;
		goto out_unmap;
	}

	/* Legacy ranges are not BARs: the command register does not gate them */
	done = vfio_pci_core_do_io_rw(vdev, false, io, buf, pos - range->start,
				      count, 0, 0, iswrite);
	vga_put(vdev->pdev, rsrc);
	if (done > 0)
		*ppos += done;

out_unmap:
	if (range->ioport)
		ioport_unmap(io);
	else
		iounmap(io);
	return done;
}

/* ---- read/write dispatch ------------------------------------------------ */

static ssize_t vfio_pci_dispatch_rw(struct vfio_pci_core_device *vdev,
				    u64 index, char __user *buf, size_t count,
				    loff_t *ppos, bool iswrite)
{
	struct vfio_pci_region *region;

	/* Indexes 0-5 are the BARs, 6 the ROM (which refuses writes itself) */
	if (index <= VFIO_PCI_ROM_REGION_INDEX)
		return vfio_pci_bar_rw(vdev, buf, count, ppos, iswrite);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		return vfio_pci_config_rw(vdev, buf, count, ppos, iswrite);
	if (index == VFIO_PCI_VGA_REGION_INDEX)
		return vfio_pci_vga_rw(vdev, buf, count, ppos, iswrite);

	region = &vdev->region[array_index_nospec(index - VFIO_PCI_NUM_REGIONS,
						  vdev->num_regions)];
	if (!region->ops->rw)
		return -EINVAL;
	return region->ops->rw(vdev, buf, count, ppos, iswrite);
}

/**
 * vfio_pci_rw() - read or write any region of the device fd
 * @vdev: the core device
 * @buf: user buffer
 * @count: bytes to move
 * @ppos: device fd offset: region index in the top bits
 * @iswrite: direction
 *
 * The function is woken from runtime suspend for the duration.
 *
 * Return: bytes moved or a negative errno; -EINVAL for an unknown region or
 * a write to the ROM.
 */
ssize_t vfio_pci_rw(struct vfio_pci_core_device *vdev, char __user *buf,
		    size_t count, loff_t *ppos, bool iswrite)
{
	u64 index = VFIO_PCI_OFFSET_TO_INDEX((u64)*ppos);
	ssize_t ret;

	if (index >= VFIO_PCI_NUM_REGIONS + vdev->num_regions)
		return -EINVAL;

	ret = pm_runtime_resume_and_get(&vdev->pdev->dev);
	if (ret) {
		pci_info_ratelimited(vdev->pdev,
				     "cannot wake the device for region access: %zd\n",
				     ret);
		return -EIO;
	}

	ret = vfio_pci_dispatch_rw(vdev, index, buf, count, ppos, iswrite);

	pm_runtime_put(&vdev->pdev->dev);
	return ret;
}

/* ---- region info -------------------------------------------------------- */

/*
 * With interrupt remapping (or another isolating MSI controller) a device
 * writing its own MSI-X table can only raise interrupts it already owns,
 * so the table may be mapped to userspace.
 */
static bool vfio_pci_msix_mappable(struct vfio_pci_core_device *vdev)
{
	return msi_device_has_isolated_msi(&vdev->pdev->dev);
}

/* Page-aligned window around the MSI-X table of @bar; false if none */
static bool vfio_pci_msix_window(struct vfio_pci_core_device *vdev, int bar,
				 u64 *start, u64 *end)
{
	if (bar != vdev->msix_bar || !vdev->msix_size)
		return false;

	*start = ALIGN_DOWN((u64)vdev->msix_offset, PAGE_SIZE);
	*end = ALIGN((u64)vdev->msix_offset + vdev->msix_size, PAGE_SIZE);
	return true;
}

static int vfio_pci_msix_caps(struct vfio_pci_core_device *vdev,
			      struct vfio_region_info *info,
			      struct vfio_info_cap *caps)
{
	struct vfio_region_info_cap_sparse_mmap *sparse;
	struct vfio_info_cap_header *hdr;
	u64 start, end;
	u32 nr = 0;

	if (!vfio_pci_msix_window(vdev, info->index, &start, &end))
		return 0;

	if (vfio_pci_msix_mappable(vdev)) {
		hdr = vfio_pci_fail() ? ERR_PTR(-ENOMEM) :
		      vfio_info_cap_add(caps, sizeof(*hdr),
					VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1);
		return PTR_ERR_OR_ZERO(hdr);
	}

	nr = (start > 0) + (end < info->size);
	if (!nr) {
		/* The table's pages are the whole BAR: nothing to map */
		info->flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
		return 0;
	}

	hdr = vfio_pci_fail() ? ERR_PTR(-ENOMEM) :
	      vfio_info_cap_add(caps, struct_size(sparse, areas, nr),
				VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1);
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);

	sparse = container_of(hdr, struct vfio_region_info_cap_sparse_mmap,
			      header);
	sparse->nr_areas = nr;
	nr = 0;
	if (start > 0) {
		sparse->areas[nr].offset = 0;
		sparse->areas[nr].size = start;
		nr++;
	}
	if (end < info->size) {
		sparse->areas[nr].offset = end;
		sparse->areas[nr].size = info->size - end;
	}
	return 0;
}

static int vfio_pci_bar_info(struct vfio_pci_core_device *vdev,
			     struct vfio_region_info *info,
			     struct vfio_info_cap *caps)
{
	info->size = pci_resource_len(vdev->pdev, info->index);
	if (!info->size)
		return 0;

	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	if (!test_bit(info->index, &vdev->bar_mmap_ok))
		return 0;

	info->flags |= VFIO_REGION_INFO_FLAG_MMAP;
	return vfio_pci_msix_caps(vdev, info, caps);
}

/*
 * A ROM BAR is reported only if pci_map_rom() finds a valid image there;
 * a firmware-provided image is reported as it is
 */
static void vfio_pci_rom_info(struct vfio_pci_core_device *vdev,
			      struct vfio_region_info *info)
{
	struct pci_dev *pdev = vdev->pdev;
	enum vfio_pci_rom_source src;
	void __iomem *rom;
	size_t romsize;
	u64 size;
	u16 cmd;

	src = vfio_pci_rom_of(pdev, &size);
	if (src == VFIO_PCI_ROM_NONE)
		return;
	if (src == VFIO_PCI_ROM_PLATFORM) {
		info->size = size;
		info->flags = VFIO_REGION_INFO_FLAG_READ;
		return;
	}

	if (pm_runtime_resume_and_get(&pdev->dev))
		return;

	cmd = vfio_pci_memory_lock_and_enable(vdev);
	mutex_lock(&vdev->vconfig_lock);
	rom = pci_map_rom(pdev, &romsize);
	if (rom) {
		pci_unmap_rom(pdev, rom);
		info->size = size;
		info->flags = VFIO_REGION_INFO_FLAG_READ;
	}
	mutex_unlock(&vdev->vconfig_lock);
	vfio_pci_memory_unlock_and_restore(vdev, cmd);

	pm_runtime_put(&pdev->dev);
}

static int vfio_pci_dev_region_info(struct vfio_pci_core_device *vdev,
				    struct vfio_region_info *info,
				    struct vfio_info_cap *caps)
{
	struct vfio_region_info_cap_type type = {
		.header.id = VFIO_REGION_INFO_CAP_TYPE,
		.header.version = 1,
	};
	struct vfio_pci_region *region;
	unsigned int i;
	int ret;

	i = array_index_nospec(info->index - VFIO_PCI_NUM_REGIONS,
			       vdev->num_regions);
	region = &vdev->region[i];

	info->size = region->size;
	info->flags = region->flags;
	type.type = region->type;
	type.subtype = region->subtype;

	ret = vfio_pci_fail() ? -ENOMEM :
	      vfio_info_add_capability(caps, &type.header, sizeof(type));
	if (ret)
		return ret;

	if (region->ops->add_capability)
		ret = region->ops->add_capability(vdev, region, caps);
	return ret;
}

static int vfio_pci_fill_region_info(struct vfio_pci_core_device *vdev,
				     struct vfio_region_info *info,
				     struct vfio_info_cap *caps)
{
	if (info->index >= VFIO_PCI_NUM_REGIONS + vdev->num_regions)
		return -EINVAL;

	info->offset = VFIO_PCI_INDEX_TO_OFFSET(info->index);
	info->size = 0;
	info->flags = 0;
	info->cap_offset = 0;

	switch (info->index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info->size = vdev->pdev->cfg_size;
		info->flags = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;
		return 0;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		return vfio_pci_bar_info(vdev, info, caps);
	case VFIO_PCI_ROM_REGION_INDEX:
		vfio_pci_rom_info(vdev, info);
		return 0;
	case VFIO_PCI_VGA_REGION_INDEX:
		if (!vdev->has_vga)
			return -EINVAL;
		info->size = 0xc0000;
		info->flags = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;
		return 0;
	default:
		return vfio_pci_dev_region_info(vdev, info, caps);
	}
}

/*
 * Put the capability chain right after the info structure in the user's
 * buffer; if the buffer is too small, leave cap_offset at 0 and report the
 * size needed in argsz so the user can retry.
 */
static int vfio_pci_place_caps(struct vfio_region_info *info,
			       struct vfio_info_cap *caps,
			       struct vfio_region_info __user *arg)
{
	size_t need = sizeof(*info) + caps->size;

	info->flags |= VFIO_REGION_INFO_FLAG_CAPS;
	info->cap_offset = 0;
	if (info->argsz < need) {
		info->argsz = need;
		return 0;
	}

	/* Chain offsets are relative to the start of the user's buffer */
	vfio_info_cap_shift(caps, sizeof(*info));
	if (copy_to_user((u8 __user *)arg + sizeof(*info), caps->buf,
			 caps->size))
		return -EFAULT;
	info->cap_offset = sizeof(*info);
	return 0;
}

/**
 * vfio_pci_ioctl_get_region_info() - VFIO_DEVICE_GET_REGION_INFO
 * @vdev: the core device
 * @arg: user's struct vfio_region_info, followed by room for capabilities
 *
 * When the capabilities do not fit in @arg->argsz, the reply carries
 * VFIO_REGION_INFO_FLAG_CAPS, cap_offset 0 and the argsz needed.
 *
 * Return: 0 or a negative errno.
 */
long vfio_pci_ioctl_get_region_info(struct vfio_pci_core_device *vdev,
				    struct vfio_region_info __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap caps = {};
	struct vfio_region_info info;
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	ret = vfio_pci_fill_region_info(vdev, &info, &caps);
	if (!ret && caps.size)
		ret = vfio_pci_place_caps(&info, &caps, arg);
	if (!ret && copy_to_user(arg, &info, minsz))
		ret = -EFAULT;

	kfree(caps.buf);
	return ret;
}

/* ---- mmap --------------------------------------------------------------- */

/*
 * A BAR smaller than a page can be mapped only if nothing else can ever sit
 * in the rest of its page: claim that rest with a placeholder resource.
 */
static bool vfio_pci_pad_bar(struct vfio_pci_core_device *vdev, int bar)
{
	struct resource *res = &vdev->pdev->resource[bar];
	struct resource *pad;

	if (!res->parent || !PAGE_ALIGNED(res->start))
		return false;

	pad = kzalloc(sizeof(*pad), GFP_KERNEL_ACCOUNT);
	if (!pad)
		return false;

	pad->name = "vfio sub-page BAR pad";
	pad->start = res->end + 1;
	pad->end = res->start + PAGE_SIZE - 1;
	pad->flags = res->flags;
	if (request_resource(res->parent, pad)) {
		kfree(pad);
		return false;
	}

	vdev->bar_pad[bar] = pad;
	return true;
}

static void vfio_pci_unpad_bars(struct vfio_pci_core_device *vdev)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!vdev->bar_pad[bar])
			continue;
		release_resource(vdev->bar_pad[bar]);
		kfree(vdev->bar_pad[bar]);
		vdev->bar_pad[bar] = NULL;
	}
}

/**
 * vfio_pci_probe_mmaps() - decide which BARs userspace may mmap
 * @vdev: the core device
 *
 * Called at open.  A memory BAR of a page or more qualifies (its size is a
 * power of two, so it owns whole pages).  A smaller one qualifies when it
 * starts a page and the rest of that page can be reserved, so that no other
 * device's registers ever appear in the mapping.  Nothing is claimed here:
 * the first mmap() of a BAR requests its resource (and fails with -EBUSY
 * if another owner holds it), as upstream 6.12 does, so a BAR the user
 * never touches stays free (root may mmap its sysfs resource file).  The
 * kernel's own mapping of a BAR waits for its first use too
 * (vfio_pci_core_setup_barmap()): mapping a large BAR at every open costs
 * more than the open itself.
 */
void vfio_pci_probe_mmaps(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	resource_size_t len;
	int bar;

	vdev->bar_mmap_ok = 0;
	/* s390 reaches BARs through instructions of its own, not mappings */
	if (!IS_ENABLED(CONFIG_VFIO_PCI_MMAP))
		return;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM))
			continue;

		len = pci_resource_len(pdev, bar);
		if (!len)
			continue;
		if (len < PAGE_SIZE && !vfio_pci_pad_bar(vdev, bar)) {
			pci_dbg(pdev, "BAR %d shares its page, not mmappable\n",
				bar);
			continue;
		}

		__set_bit(bar, &vdev->bar_mmap_ok);
	}
}

/*
 * The first page frame a mapping of a BAR covers: the region index and the
 * page offset into the BAR both live in vm_pgoff.
 */
static unsigned long vfio_pci_vma_base_pfn(struct vm_area_struct *vma)
{
	struct vfio_pci_core_device *vdev = vma->vm_private_data;
	unsigned int bar = vma->vm_pgoff >> (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT);

	return PHYS_PFN(pci_resource_start(vdev->pdev, bar)) +
	       (vma->vm_pgoff & VFIO_PCI_PGOFF_MASK);
}

/*
 * One entry of 2^order pages: a page table entry, or a PMD or PUD leaf
 * where the architecture maps PFNs that large.  Anything else falls back
 * to the next smaller order.  Huge leaves are inserted without the
 * write hint: the mapping is shared and writable anyway, and with it the
 * mm core would check an existing entry it never finds here.
 */
static vm_fault_t vfio_pci_insert_order(struct vm_fault *vmf, unsigned long pfn,
					unsigned int order)
{
	if (!order)
		return vmf_insert_pfn(vmf->vma, vmf->address, pfn);
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
	if (order == PMD_ORDER)
		return vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), false);
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
	if (order == PUD_ORDER)
		return vmf_insert_pfn_pud(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), false);
#endif
	return VM_FAULT_FALLBACK;
}

/*
 * Faults of BAR mappings, at any order the mm core asks for: the largest
 * entry whose virtual range lies inside the vma and whose physical start
 * is aligned to its size is inserted; the core retries a smaller order on
 * VM_FAULT_FALLBACK, down to single pages.  Decode off, a function out of
 * D0 or low power entered by the user (LOW_POWER_ENTRY until EXIT, even
 * while the function is still in D0 waiting to suspend) give SIGBUS.
 * Every entry, huge ones included, goes with vfio_pci_zap_bars().
 */
static vm_fault_t vfio_pci_mmap_fault_order(struct vm_fault *vmf,
					    unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vfio_pci_core_device *vdev = vma->vm_private_data;
	unsigned long span = PAGE_SIZE << order;
	unsigned long start = ALIGN_DOWN(vmf->address, span);
	unsigned long pfn;
	vm_fault_t ret;

	pfn = vfio_pci_vma_base_pfn(vma) + ((start - vma->vm_start) >> PAGE_SHIFT);
	if (order) {
		if (start < vma->vm_start || vma->vm_end - start < span ||
		    !IS_ALIGNED(pfn, 1UL << order))
			return VM_FAULT_FALLBACK;
	}

	down_read(&vdev->memory_lock);
	if (vdev->pm_runtime_engaged || !vfio_pci_memory_enabled(vdev))
		ret = VM_FAULT_SIGBUS;
	else
		ret = vfio_pci_insert_order(vmf, pfn, order);
	up_read(&vdev->memory_lock);

	return ret;
}

static vm_fault_t vfio_pci_mmap_fault(struct vm_fault *vmf)
{
	return vfio_pci_mmap_fault_order(vmf, 0);
}

static const struct vm_operations_struct vfio_pci_mmap_ops = {
	.fault = vfio_pci_mmap_fault,
#ifdef CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP
	.huge_fault = vfio_pci_mmap_fault_order,
#endif
#ifdef CONFIG_HAVE_IOREMAP_PROT
	.access = generic_access_phys,
#endif
};

/**
 * vfio_pci_core_mmap() - vfio_device_ops.mmap
 * @core_vdev: the vfio_device
 * @vma: the user mapping; vm_pgoff encodes region index and offset
 *
 * Maps part of a BAR that vfio_pci_probe_mmaps() accepted, or passes a
 * device-specific region to its ops->mmap.  The mapping must be shared, lie
 * inside the BAR and, unless MSI is isolated, stay off the pages of the
 * MSI-X table.  Pages are inserted on fault; while memory decode is off an
 * access raises SIGBUS.
 *
 * Return: 0, -EINVAL for a mapping the region does not allow, -EBUSY when
 * the BAR's resource is held by another owner, or what a device-specific
 * region's mmap returns.
 */
int vfio_pci_core_mmap(struct vfio_device *core_vdev, struct vm_area_struct *vma)
{
	struct vfio_pci_core_device *vdev = vfio_pci_core_from_vdev(core_vdev);
	u64 index = vma->vm_pgoff >> (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT);
	u64 start, len, bar_len, msix_start, msix_end;
	struct vfio_pci_region *region;
	int ret;

	if (index >= VFIO_PCI_NUM_REGIONS + vdev->num_regions)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	if (index >= VFIO_PCI_NUM_REGIONS) {
		index = array_index_nospec(index - VFIO_PCI_NUM_REGIONS,
					   vdev->num_regions);
		region = &vdev->region[index];
		/* only what the region's info offers the user */
		if (!region->ops->mmap ||
		    !(region->flags & VFIO_REGION_INFO_FLAG_MMAP))
			return -EINVAL;
		return region->ops->mmap(vdev, region, vma);
	}

	if (index > VFIO_PCI_BAR5_REGION_INDEX ||
	    !test_bit(index, &vdev->bar_mmap_ok))
		return -EINVAL;

	start = (u64)(vma->vm_pgoff & VFIO_PCI_PGOFF_MASK) << PAGE_SHIFT;
	len = vma->vm_end - vma->vm_start;
	/* A sub-page BAR is mapped with the (reserved) rest of its page */
	bar_len = PAGE_ALIGN(pci_resource_len(vdev->pdev, index));
	if (!len || len > bar_len || start > bar_len - len)
		return -EINVAL;

	if (vfio_pci_msix_window(vdev, index, &msix_start, &msix_end) &&
	    start < msix_end && msix_start < start + len &&
	    !vfio_pci_msix_mappable(vdev))
		return -EINVAL;

	/* Its first mapping claims the BAR (a leaf lock under mmap_lock) */
	ret = vfio_pci_claim_bar(vdev, index);
	if (ret)
		return ret;

	vma->vm_private_data = vdev;
	/*
	 * Uncached, and never encrypted: inside an SEV or TDX guest a BAR is
	 * shared with the host.  VM_ALLOW_ANY_UNCACHED lets a hypervisor
	 * that maps this into a guest pick write-combining where the guest
	 * asks for it (arm64 KVM reads it); x86 ignores it.
	 */
	vma->vm_page_prot = pgprot_decrypted(pgprot_noncached(vma->vm_page_prot));
	vm_flags_set(vma, VM_ALLOW_ANY_UNCACHED | VM_IO | VM_PFNMAP |
		     VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &vfio_pci_mmap_ops;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_mmap);

/**
 * vfio_pci_zap_bars() - drop every user mapping of the device's BARs
 * @vdev: the core device
 *
 * Every device fd shares the vfio device inode's address space, so one
 * unmap covers all of them.  The next access faults and is checked against
 * memory decode again.  Callers normally hold memory_lock for write so the
 * pages cannot come back before their state change is complete.
 */
void vfio_pci_zap_bars(struct vfio_pci_core_device *vdev)
{
	loff_t start = VFIO_PCI_INDEX_TO_OFFSET(VFIO_PCI_BAR0_REGION_INDEX);
	loff_t end = VFIO_PCI_INDEX_TO_OFFSET(VFIO_PCI_ROM_REGION_INDEX);

	/* BARs only: a driver's own regions keep their mappings */
	unmap_mapping_range(vdev->vdev.inode->i_mapping, start, end - start,
			    true);
}

/**
 * vfio_pci_zap_and_down_write_memory_lock() - lock out all BAR access
 * @vdev: the core device
 *
 * Takes memory_lock for write, then zaps every user mapping; release with
 * up_write(&vdev->memory_lock).
 */
void vfio_pci_zap_and_down_write_memory_lock(struct vfio_pci_core_device *vdev)
{
	down_write(&vdev->memory_lock);
	vfio_pci_zap_bars(vdev);
}

/**
 * vfio_pci_memory_lock_and_enable() - lock out BAR access, decode on
 * @vdev: the core device
 *
 * Takes memory_lock for write and turns memory decode on in the hardware
 * command register if it was off (resets and ROM probing need it).
 *
 * Return: the command register as it was, for
 * vfio_pci_memory_unlock_and_restore().
 */
u16 vfio_pci_memory_lock_and_enable(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd;

	down_write(&vdev->memory_lock);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(pdev, PCI_COMMAND,
				      cmd | PCI_COMMAND_MEMORY);
	return cmd;
}

/**
 * vfio_pci_memory_unlock_and_restore() - undo vfio_pci_memory_lock_and_enable()
 * @vdev: the core device
 * @cmd: the value vfio_pci_memory_lock_and_enable() returned
 *
 * Writes @cmd back to the hardware command register and drops memory_lock.
 */
void vfio_pci_memory_unlock_and_restore(struct vfio_pci_core_device *vdev,
					u16 cmd)
{
	lockdep_assert_held_write(&vdev->memory_lock);

	pci_write_config_word(vdev->pdev, PCI_COMMAND, cmd);
	up_write(&vdev->memory_lock);
}

/* ---- device-specific regions and release -------------------------------- */

/**
 * vfio_pci_core_register_dev_region() - add a device-specific region
 * @vdev: the core device
 * @type: VFIO_REGION_TYPE_* reported in the region's type capability
 * @subtype: VFIO_REGION_SUBTYPE_* for @type
 * @ops: the region's operations; @ops->rw answers read() and write()
 * @size: size in bytes
 * @flags: VFIO_REGION_INFO_FLAG_* reported to userspace
 * @data: private data, for @ops
 *
 * Meant for a driver's open_device, between vfio_pci_core_enable() and
 * vfio_pci_core_finish_enable(): the region gets the next index after the
 * fixed ones and lives until the device is closed, when @ops->release (if
 * any) is called.
 *
 * Return: 0, -EINVAL without @ops, or -ENOMEM.
 */
int vfio_pci_core_register_dev_region(struct vfio_pci_core_device *vdev,
				      u32 type, u32 subtype,
				      const struct vfio_pci_regops *ops,
				      size_t size, u32 flags, void *data)
{
	struct vfio_pci_region *region;

	if (!ops)
		return -EINVAL;

	region = krealloc_array(vdev->region, vdev->num_regions + 1,
				sizeof(*region), GFP_KERNEL_ACCOUNT);
	if (!region)
		return -ENOMEM;

	vdev->region = region;
	region[vdev->num_regions] = (struct vfio_pci_region) {
		.type = type,
		.subtype = subtype,
		.ops = ops,
		.data = data,
		.size = size,
		.flags = flags,
	};
	vdev->num_regions++;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_register_dev_region);

/**
 * vfio_pci_regions_release() - end-of-session cleanup of regions
 * @vdev: the core device
 *
 * Releases every device-specific region, unmaps every BAR mapped by
 * vfio_pci_core_setup_barmap(), releases every BAR claimed (there or by an
 * mmap()) and drops the sub-page BAR reservations made by
 * vfio_pci_probe_mmaps().  Called at close, when no user mapping can
 * remain.
 */
void vfio_pci_regions_release(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int i;
	int bar;

	for (i = 0; i < vdev->num_regions; i++)
		if (vdev->region[i].ops->release)
			vdev->region[i].ops->release(vdev, &vdev->region[i]);
	kfree(vdev->region);
	vdev->region = NULL;
	vdev->num_regions = 0;

	mutex_lock(&vdev->vconfig_lock);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (vdev->barmap[bar]) {
			pci_iounmap(pdev, vdev->barmap[bar]);
			vdev->barmap[bar] = NULL;
		}
	}
	vdev->bar_mmap_ok = 0;
	mutex_unlock(&vdev->vconfig_lock);

	mutex_lock(&vdev->bar_claim_lock);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (test_bit(bar, &vdev->bar_claimed))
			pci_release_selected_regions(pdev, 1 << bar);
	}
	vdev->bar_claimed = 0;
	mutex_unlock(&vdev->bar_claim_lock);

	vfio_pci_unpad_bars(vdev);
}
