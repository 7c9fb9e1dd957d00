// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the pure logic of vfio-pci-core: the config-space
 * permission tables, the capability walk that builds the user's view,
 * BAR sizing masks, the splitting of config accesses, the region offset
 * encoding of the device fd, the check of a driver's migration and
 * dirty-tracking ops and the parsing of the GET_DEVICE_FD string.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/unaligned.h>
#include <linux/uuid.h>
#include <linux/vfio.h>
#include <linux/vgaarb.h>

#include "vfio_pci_priv.h"

/* ---- permission tables -------------------------------------------------- */

struct perm_case {
	const char *what;
	bool ext;
	u16 id;
	unsigned int off;
	u8 virt;
	u8 write;
};

static const struct perm_case perm_cases[] = {
	{ "vendor ID lo", false, VFIO_PCI_CFG_TEST_HEADER, PCI_VENDOR_ID, 0xff, 0 },
	{ "vendor ID hi", false, VFIO_PCI_CFG_TEST_HEADER, PCI_VENDOR_ID + 1, 0xff, 0 },
	{ "device ID", false, VFIO_PCI_CFG_TEST_HEADER, PCI_DEVICE_ID + 1, 0xff, 0 },
	{ "command lo", false, VFIO_PCI_CFG_TEST_HEADER, PCI_COMMAND,
	  PCI_COMMAND_IO | PCI_COMMAND_MEMORY,
	  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	  PCI_COMMAND_INVALIDATE | PCI_COMMAND_PARITY },
	{ "command hi", false, VFIO_PCI_CFG_TEST_HEADER, PCI_COMMAND + 1,
	  PCI_COMMAND_INTX_DISABLE >> 8,
	  (PCI_COMMAND_INTX_DISABLE | PCI_COMMAND_SERR) >> 8 },
	{ "status lo", false, VFIO_PCI_CFG_TEST_HEADER, PCI_STATUS,
	  PCI_STATUS_CAP_LIST, 0 },
	{ "status hi W1C", false, VFIO_PCI_CFG_TEST_HEADER, PCI_STATUS + 1,
	  0, 0xf9 },
	{ "class", false, VFIO_PCI_CFG_TEST_HEADER, PCI_CLASS_DEVICE, 0xff, 0 },
	{ "BIST", false, VFIO_PCI_CFG_TEST_HEADER, PCI_BIST, 0, 0 },
	{ "cap pointer", false, VFIO_PCI_CFG_TEST_HEADER, PCI_CAPABILITY_LIST,
	  0xff, 0 },
	{ "irq line", false, VFIO_PCI_CFG_TEST_HEADER, PCI_INTERRUPT_LINE,
	  0xff, 0xff },
	{ "irq pin", false, VFIO_PCI_CFG_TEST_HEADER, PCI_INTERRUPT_PIN, 0xff, 0 },
	{ "PMC", false, PCI_CAP_ID_PM, PCI_PM_PMC + 1, 0xff, 0 },
	{ "PMCSR state", false, PCI_CAP_ID_PM, PCI_PM_CTRL,
	  PCI_PM_CTRL_STATE_MASK, PCI_PM_CTRL_STATE_MASK },
	{ "PMCSR PME enable", false, PCI_CAP_ID_PM, PCI_PM_CTRL + 1,
	  (PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS) >> 8, 0 },
	{ "MSI control lo", false, PCI_CAP_ID_MSI, PCI_MSI_FLAGS, 0xff,
	  PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE },
	{ "MSI control hi", false, PCI_CAP_ID_MSI, PCI_MSI_FLAGS + 1, 0xff, 0 },
	{ "MSI address", false, PCI_CAP_ID_MSI, PCI_MSI_ADDRESS_LO + 3, 0xff, 0xff },
	{ "MSI-X control hi", false, PCI_CAP_ID_MSIX, PCI_MSIX_FLAGS + 1, 0xff,
	  (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8 },
	{ "MSI-X table size", false, PCI_CAP_ID_MSIX, PCI_MSIX_FLAGS, 0xff, 0 },
	{ "MSI-X table offset", false, PCI_CAP_ID_MSIX, PCI_MSIX_TABLE, 0xff, 0 },
	{ "MSI-X table offset hi", false, PCI_CAP_ID_MSIX, PCI_MSIX_TABLE + 3,
	  0xff, 0 },
	{ "MSI-X PBA", false, PCI_CAP_ID_MSIX, PCI_MSIX_PBA + 2, 0xff, 0 },
	{ "PCIe flags", false, PCI_CAP_ID_EXP, PCI_EXP_FLAGS, 0xff, 0 },
	{ "PCIe devcap", false, PCI_CAP_ID_EXP, PCI_EXP_DEVCAP + 3, 0xff, 0 },
	{ "PCIe devctl lo", false, PCI_CAP_ID_EXP, PCI_EXP_DEVCTL,
	  PCI_EXP_DEVCTL_PAYLOAD,
	  PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE |
	  PCI_EXP_DEVCTL_URRE | PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_PAYLOAD },
	{ "PCIe devctl hi", false, PCI_CAP_ID_EXP, PCI_EXP_DEVCTL + 1,
	  (PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_READRQ) >> 8,
	  (PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_READRQ |
	   PCI_EXP_DEVCTL_NOSNOOP_EN | PCI_EXP_DEVCTL_AUX_PME |
	   PCI_EXP_DEVCTL_EXT_TAG) >> 8 },
	{ "PCIe devsta", false, PCI_CAP_ID_EXP, PCI_EXP_DEVSTA, 0, 0x0f },
	{ "PCIe linkctl", false, PCI_CAP_ID_EXP, PCI_EXP_LNKCTL, 0, 0 },
	{ "PCIe linksta", false, PCI_CAP_ID_EXP, PCI_EXP_LNKSTA, 0, 0 },
	{ "VPD address", false, PCI_CAP_ID_VPD, PCI_VPD_ADDR + 1, 0xff, 0xff },
	{ "vendor length", false, PCI_CAP_ID_VNDR, PCI_CAP_FLAGS, 0, 0 },
	{ "vendor body", false, PCI_CAP_ID_VNDR, 0x10, 0, 0xff },
	{ "AF control", false, PCI_CAP_ID_AF, PCI_AF_CTRL, 0xff, PCI_AF_CTRL_FLR },
	{ "AF status", false, PCI_CAP_ID_AF, PCI_AF_STATUS, 0, 0 },
	{ "AGP command", false, PCI_CAP_ID_AGP, PCI_AGP_COMMAND, 0, 0 },
	{ "HyperTransport command", false, PCI_CAP_ID_HT, 3, 0, 0 },
	{ "std gap", false, VFIO_PCI_CFG_TEST_GAP, 0x80, 0, 0xff },
	{ "ext gap", true, VFIO_PCI_CFG_TEST_GAP, 0x80, 0, 0 },
	{ "AER uncor status", true, PCI_EXT_CAP_ID_ERR, PCI_ERR_UNCOR_STATUS,
	  0, 0xff },
	{ "AER uncor mask", true, PCI_EXT_CAP_ID_ERR, PCI_ERR_UNCOR_MASK + 3,
	  0, 0xff },
	{ "AER cor status", true, PCI_EXT_CAP_ID_ERR, PCI_ERR_COR_STATUS, 0, 0xff },
	{ "AER cap/ctl", true, PCI_EXT_CAP_ID_ERR, PCI_ERR_CAP, 0, 0 },
	{ "AER header log", true, PCI_EXT_CAP_ID_ERR, PCI_ERR_HEADER_LOG + 5, 0, 0 },
	{ "DSN", true, PCI_EXT_CAP_ID_DSN, 4, 0, 0 },
	{ "SR-IOV control", true, PCI_EXT_CAP_ID_SRIOV, PCI_SRIOV_CTRL, 0, 0 },
	{ "ext vendor body", true, PCI_EXT_CAP_ID_VNDR, 0x20, 0, 0xff },
	{ "ATS control", true, PCI_EXT_CAP_ID_ATS, PCI_ATS_CTRL + 1, 0, 0 },
	{ "Resizable BAR control", true, PCI_EXT_CAP_ID_REBAR, PCI_REBAR_CTRL, 0, 0 },
	{ "power budgeting data select", true, PCI_EXT_CAP_ID_PWR, PCI_PWR_DSR, 0, 0 },
	{ "DVSEC header 1", true, PCI_EXT_CAP_ID_DVSEC, 6, 0, 0 },
	{ "DVSEC body", true, PCI_EXT_CAP_ID_DVSEC, 0x0c, 0, 0xff },
	{ "null header", true, VFIO_PCI_CFG_TEST_NULL, 3, 0xff, 0 },
};

KUNIT_ARRAY_PARAM_DESC(perm, perm_cases, what);

static int perm_of(bool ext, u16 id, unsigned int off, u8 *virt, u8 *write)
{
	return vfio_pci_config_test_perm(ext, id, off, virt, write);
}

static void vfio_pci_cfg_perm_table(struct kunit *test)
{
	const struct perm_case *c = test->param_value;
	u8 virt = 0x5a, write = 0x5a;

	KUNIT_ASSERT_EQ(test, 0, perm_of(c->ext, c->id, c->off, &virt, &write));
	KUNIT_EXPECT_EQ(test, c->virt, virt);
	KUNIT_EXPECT_EQ(test, c->write, write);
}

static void vfio_pci_cfg_perm_bars(struct kunit *test)
{
	unsigned int off;
	u8 virt, write;
	int ret;

	for (off = PCI_BASE_ADDRESS_0; off < PCI_BASE_ADDRESS_5 + 4; off++) {
		ret = perm_of(false, VFIO_PCI_CFG_TEST_HEADER, off, &virt,
			      &write);
		KUNIT_ASSERT_EQ(test, 0, ret);
		KUNIT_EXPECT_EQ_MSG(test, 0xff, virt, "BAR byte %#x", off);
		KUNIT_EXPECT_EQ_MSG(test, 0xff, write, "BAR byte %#x", off);
	}
	for (off = PCI_ROM_ADDRESS; off < PCI_ROM_ADDRESS + 4; off++) {
		ret = perm_of(false, VFIO_PCI_CFG_TEST_HEADER, off, &virt,
			      &write);
		KUNIT_ASSERT_EQ(test, 0, ret);
		KUNIT_EXPECT_EQ_MSG(test, 0xff, virt, "ROM byte %#x", off);
		KUNIT_EXPECT_EQ_MSG(test, 0xff, write, "ROM byte %#x", off);
	}
}

/* No capability lets the user move its own header or next pointer */
static void vfio_pci_cfg_perm_cap_headers(struct kunit *test)
{
	static const u8 std[] = {
		PCI_CAP_ID_PM, PCI_CAP_ID_VPD, PCI_CAP_ID_MSI, PCI_CAP_ID_PCIX,
		PCI_CAP_ID_VNDR, PCI_CAP_ID_EXP, PCI_CAP_ID_MSIX,
		PCI_CAP_ID_SATA, PCI_CAP_ID_AF, PCI_CAP_ID_AGP, PCI_CAP_ID_HT,
	};
	static const u16 ext[] = {
		PCI_EXT_CAP_ID_ERR, PCI_EXT_CAP_ID_VC, PCI_EXT_CAP_ID_DSN,
		PCI_EXT_CAP_ID_PWR, PCI_EXT_CAP_ID_MFVC, PCI_EXT_CAP_ID_VC9,
		PCI_EXT_CAP_ID_VNDR, PCI_EXT_CAP_ID_ACS, PCI_EXT_CAP_ID_ARI,
		PCI_EXT_CAP_ID_ATS, PCI_EXT_CAP_ID_SRIOV, PCI_EXT_CAP_ID_MCAST,
		PCI_EXT_CAP_ID_PRI, PCI_EXT_CAP_ID_REBAR, PCI_EXT_CAP_ID_DPA,
		PCI_EXT_CAP_ID_TPH, PCI_EXT_CAP_ID_LTR, PCI_EXT_CAP_ID_DVSEC,
		VFIO_PCI_CFG_TEST_NULL,
	};
	unsigned int i, off;
	u8 virt, write;
	int ret;

	for (i = 0; i < ARRAY_SIZE(std); i++) {
		for (off = 0; off < 2; off++) {
			ret = perm_of(false, std[i], off, &virt, &write);
			KUNIT_ASSERT_EQ(test, 0, ret);
			KUNIT_EXPECT_EQ_MSG(test, 0xff, virt, "cap %#x", std[i]);
			KUNIT_EXPECT_EQ_MSG(test, 0, write, "cap %#x", std[i]);
		}
	}
	for (i = 0; i < ARRAY_SIZE(ext); i++) {
		for (off = 0; off < 4; off++) {
			ret = perm_of(true, ext[i], off, &virt, &write);
			KUNIT_ASSERT_EQ(test, 0, ret);
			KUNIT_EXPECT_EQ_MSG(test, 0xff, virt, "ecap %#x", ext[i]);
			KUNIT_EXPECT_EQ_MSG(test, 0, write, "ecap %#x", ext[i]);
		}
	}
}

/*
 * In the extended space only headers are virtual: open reads nothing
 * else of it (vcfg_fetch()), so a virtual bit past a header would show
 * the user zeros
 */
static void vfio_pci_cfg_perm_ext_body(struct kunit *test)
{
	unsigned int i, id, off;
	u8 virt, write;

	for (i = 0; i <= PCI_EXT_CAP_ID_MAX + 1; i++) {
		id = i <= PCI_EXT_CAP_ID_MAX ? i : VFIO_PCI_CFG_TEST_NULL;
		for (off = 4; off < 0x100; off++) {
			if (perm_of(true, id, off, &virt, &write))
				break;
			KUNIT_EXPECT_EQ_MSG(test, 0, virt, "ext cap %#x byte %#x", id, off);
		}
	}
}

/*
 * The masks reads and writes use (a table load, a replicated tail, or a
 * byte walk across the table's end) equal those composed byte by byte,
 * for every kind, offset and access size.  No kind's tail is virtual
 * today, so only the writable half checks the replication.
 */
static void vfio_pci_cfg_perm_masks(struct kunit *test)
{
	unsigned int k, off, len;
	u32 virt, write, ref[2];

	for (k = 0; ; k++) {
		if (vfio_pci_config_test_masks(k, 0, 1, &virt, &write, ref))
			break;
		for (len = 1; len <= 4; len *= 2) {
			for (off = 0; off < PCI_CFG_SPACE_EXP_SIZE; off += len) {
				vfio_pci_config_test_masks(k, off, len, &virt,
							   &write, ref);
				KUNIT_EXPECT_EQ_MSG(test, ref[0], virt,
						    "kind %u: %u at %#x", k, len, off);
				KUNIT_EXPECT_EQ_MSG(test, ref[1], write,
						    "kind %u: %u at %#x", k, len, off);
			}
		}
	}
	/* Fewer than ten kinds means the walk stopped early */
	KUNIT_EXPECT_LT(test, 10, k);
}

static void vfio_pci_cfg_perm_hidden(struct kunit *test)
{
	u8 virt, write;

	KUNIT_EXPECT_EQ(test, -ENOENT, perm_of(false, PCI_CAP_ID_SLOTID, 0, &virt, &write));
	KUNIT_EXPECT_EQ(test, -ENOENT, perm_of(false, 0x42, 0, &virt, &write));
	KUNIT_EXPECT_EQ(test, -ENOENT, perm_of(true, PCI_EXT_CAP_ID_RCRB, 0, &virt, &write));
	KUNIT_EXPECT_EQ(test, -ENOENT, perm_of(true, PCI_EXT_CAP_ID_MRIOV, 0, &virt, &write));
	KUNIT_EXPECT_EQ(test, -ENOENT, perm_of(true, PCI_EXT_CAP_ID_DOE, 0, &virt, &write));
	KUNIT_EXPECT_EQ(test, -ENOENT, perm_of(true, PCI_EXT_CAP_ID_PASID, 0, &virt, &write));
}

/* ---- access splitting --------------------------------------------------- */

static void vfio_pci_cfg_piece_cases(struct kunit *test)
{
	/* Aligned dword */
	KUNIT_EXPECT_EQ(test, 4, vfio_pci_config_test_piece(0x10, 4, 0x100));
	/* Large access: still one dword at a time */
	KUNIT_EXPECT_EQ(test, 4, vfio_pci_config_test_piece(0, 256, 0x40));
	/* Odd offset: bytes */
	KUNIT_EXPECT_EQ(test, 1, vfio_pci_config_test_piece(0x11, 4, 0x100));
	/* Word-aligned, not dword-aligned */
	KUNIT_EXPECT_EQ(test, 2, vfio_pci_config_test_piece(0x12, 4, 0x100));
	/* 3 bytes left at an aligned offset */
	KUNIT_EXPECT_EQ(test, 2, vfio_pci_config_test_piece(0x10, 3, 0x100));
	/* The owner ends mid-dword (a 10-byte MSI at 0x50) */
	KUNIT_EXPECT_EQ(test, 2, vfio_pci_config_test_piece(0x58, 4, 0x5a));
	KUNIT_EXPECT_EQ(test, 1, vfio_pci_config_test_piece(0x58, 4, 0x59));
	/* One byte left */
	KUNIT_EXPECT_EQ(test, 1, vfio_pci_config_test_piece(0x20, 1, 0x100));
}

/* Split one access the way vfio_pci_config_rw() does and check the pieces */
static void check_split(struct kunit *test, unsigned int start,
			unsigned int count, unsigned int end)
{
	unsigned int stop = min(start + count, end);
	unsigned int pos, len;

	for (pos = start; pos < stop; pos += len) {
		len = vfio_pci_config_test_piece(pos, start + count - pos, end);
		KUNIT_ASSERT_TRUE(test, len == 1 || len == 2 || len == 4);
		KUNIT_ASSERT_EQ(test, 0, pos % len);
		KUNIT_ASSERT_LE(test, pos + len, stop);
	}
	KUNIT_EXPECT_EQ(test, stop, pos);
}

/* Every split of every small access tiles it with aligned pieces */
static void vfio_pci_cfg_piece_tiling(struct kunit *test)
{
	unsigned int start, count, end;

	for (start = 0; start < 16; start++)
		for (count = 1; count <= 12; count++)
			for (end = start + 1; end <= start + 12; end++)
				check_split(test, start, count, end);
}

/* ---- BAR sizing --------------------------------------------------------- */

static u32 bar(u64 len, unsigned long flags, bool upper, u32 *type)
{
	return vfio_pci_config_test_bar_mask(len, flags, upper, type);
}

static void vfio_pci_cfg_bar_masks(struct kunit *test)
{
	u32 type;

	KUNIT_EXPECT_EQ(test, 0xfff00000,
			vfio_pci_config_test_bar_mask(SZ_1M, IORESOURCE_MEM,
						      false, &type));
	KUNIT_EXPECT_EQ(test, 0, type);

	KUNIT_EXPECT_EQ(test, 0xffffc000,
			vfio_pci_config_test_bar_mask(SZ_16K, IORESOURCE_MEM |
						      IORESOURCE_MEM_64 |
						      IORESOURCE_PREFETCH,
						      false, &type));
	KUNIT_EXPECT_EQ(test, PCI_BASE_ADDRESS_MEM_TYPE_64 |
			PCI_BASE_ADDRESS_MEM_PREFETCH, type);
	KUNIT_EXPECT_EQ(test, 0xffffffff,
			vfio_pci_config_test_bar_mask(SZ_16K, IORESOURCE_MEM |
						      IORESOURCE_MEM_64,
						      true, &type));
	KUNIT_EXPECT_EQ(test, 0, type);

	/* 8 GiB: no address bits in the low dword */
	KUNIT_EXPECT_EQ(test, 0,
			vfio_pci_config_test_bar_mask(SZ_8G, IORESOURCE_MEM |
						      IORESOURCE_MEM_64,
						      false, &type));
	KUNIT_EXPECT_EQ(test, 0xfffffffe,
			vfio_pci_config_test_bar_mask(SZ_8G, IORESOURCE_MEM |
						      IORESOURCE_MEM_64,
						      true, &type));

	KUNIT_EXPECT_EQ(test, 0xffffffe0,
			vfio_pci_config_test_bar_mask(32, IORESOURCE_IO,
						      false, &type));
	KUNIT_EXPECT_EQ(test, PCI_BASE_ADDRESS_SPACE_IO, type);

	/* Unimplemented */
	KUNIT_EXPECT_EQ(test, 0, bar(0, IORESOURCE_MEM, false, &type));
	KUNIT_EXPECT_EQ(test, 0, type);
	KUNIT_EXPECT_EQ(test, 0, bar(SZ_4K, 0, false, &type));

	/* A length that is not a power of two decodes the next one up */
	KUNIT_EXPECT_EQ(test, 0xffffe000,
			vfio_pci_config_test_bar_mask(SZ_4K + 1,
						      IORESOURCE_MEM,
						      false, &type));
}

/* ---- capability walk ---------------------------------------------------- */

struct layout_buf {
	u8 cfg[PCI_CFG_SPACE_EXP_SIZE];
	u16 owner[PCI_CFG_SPACE_EXP_SIZE];
	u16 start[PCI_CFG_SPACE_EXP_SIZE];
	/* [pos * 4 + n - 1]: the first piece of an n-byte access at pos */
	u8 piece[PCI_CFG_SPACE_EXP_SIZE * 4];
	u8 write[PCI_CFG_SPACE_EXP_SIZE];	/* bits a write reaches */
};

static struct layout_buf *layout_alloc(struct kunit *test)
{
	struct layout_buf *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	put_unaligned_le16(0x1234, b->cfg + PCI_VENDOR_ID);
	put_unaligned_le16(0xabcd, b->cfg + PCI_DEVICE_ID);
	return b;
}

static void std_cap(u8 *cfg, unsigned int pos, u8 id, u8 next)
{
	cfg[pos + PCI_CAP_LIST_ID] = id;
	cfg[pos + PCI_CAP_LIST_NEXT] = next;
}

static void ext_cap(u8 *cfg, unsigned int pos, u16 id, unsigned int next)
{
	put_unaligned_le32(id | (1 << 16) | (next << 20), cfg + pos);
}

/*
 * Each access of 1 to 4 bytes starts with the piece the owner map calls
 * for: the largest naturally aligned 4, 2 or 1 inside the run of bytes
 * sharing the first one's owner, whatever shortcut the driver takes
 */
static void expect_pieces(struct kunit *test, struct layout_buf *b,
			  unsigned int size)
{
	unsigned int pos, n, run, want;

	for (pos = 0; pos < size; pos++) {
		for (run = 1; run < 4 && pos + run < size &&
		     b->owner[pos + run] == b->owner[pos] &&
		     b->start[pos + run] == b->start[pos]; run++)
			;
		for (n = 1; n <= 4 && pos + n <= size; n++) {
			want = !(pos & 3) && min(n, run) >= 4 ? 4 :
			       !(pos & 1) && min(n, run) >= 2 ? 2 : 1;
			KUNIT_EXPECT_EQ_MSG(test, want, b->piece[pos * 4 + n - 1],
					    "%u bytes at %#x", n, pos);
		}
	}
}

/* Lay out b->cfg; on success check the pieces accesses split into */
static int run_layout(struct kunit *test, struct layout_buf *b,
		      unsigned int size)
{
	int ret = vfio_pci_config_test_layout(b->cfg, size, b->owner, b->start,
					      b->piece, b->write);

	if (!ret)
		expect_pieces(test, b, size);
	return ret;
}

static void expect_owner(struct kunit *test, struct layout_buf *b,
			 unsigned int from, unsigned int len, u16 id,
			 unsigned int start)
{
	unsigned int i;

	for (i = from; i < from + len; i++) {
		KUNIT_EXPECT_EQ_MSG(test, id, b->owner[i], "byte %#x", i);
		if (id != VFIO_PCI_CFG_TEST_GAP)
			KUNIT_EXPECT_EQ_MSG(test, start, b->start[i],
					    "byte %#x", i);
	}
}

static void vfio_pci_cfg_layout_std(struct kunit *test)
{
	struct layout_buf *b = layout_alloc(test);
	u8 *cfg = b->cfg;

	put_unaligned_le16(PCI_STATUS_CAP_LIST, cfg + PCI_STATUS);
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0x48);
	std_cap(cfg, 0x48, PCI_CAP_ID_SLOTID, 0x50);	/* hidden */
	std_cap(cfg, 0x50, PCI_CAP_ID_MSI, 0x60);
	put_unaligned_le16(PCI_MSI_FLAGS_64BIT, cfg + 0x50 + PCI_MSI_FLAGS);
	std_cap(cfg, 0x60, PCI_CAP_ID_MSIX, 0x70);
	std_cap(cfg, 0x70, 0x42, 0);			/* unknown: hidden */

	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_SIZE));

	/* The virtual chain skips the hidden ones */
	KUNIT_EXPECT_EQ(test, 0x40, cfg[PCI_CAPABILITY_LIST]);
	KUNIT_EXPECT_EQ(test, 0x50, cfg[0x40 + PCI_CAP_LIST_NEXT]);
	KUNIT_EXPECT_EQ(test, 0x60, cfg[0x50 + PCI_CAP_LIST_NEXT]);
	KUNIT_EXPECT_EQ(test, 0, cfg[0x60 + PCI_CAP_LIST_NEXT]);
	KUNIT_EXPECT_TRUE(test, get_unaligned_le16(cfg + PCI_STATUS) &
			  PCI_STATUS_CAP_LIST);

	expect_owner(test, b, 0, PCI_STD_HEADER_SIZEOF,
		     VFIO_PCI_CFG_TEST_HEADER, 0);
	expect_owner(test, b, 0x40, PCI_PM_SIZEOF, PCI_CAP_ID_PM, 0x40);
	expect_owner(test, b, 0x48, 8, VFIO_PCI_CFG_TEST_GAP, 0);
	/* 64-bit MSI without masking: 14 bytes */
	expect_owner(test, b, 0x50, 14, PCI_CAP_ID_MSI, 0x50);
	expect_owner(test, b, 0x5e, 2, VFIO_PCI_CFG_TEST_GAP, 0);
	expect_owner(test, b, 0x60, PCI_CAP_MSIX_SIZEOF, PCI_CAP_ID_MSIX, 0x60);
	expect_owner(test, b, 0x6c, 0x100 - 0x6c, VFIO_PCI_CFG_TEST_GAP, 0);

	/*
	 * AGP and HyperTransport (short, host form) are shown read-only; one
	 * shorter than its type says (MSI mapping: 12 bytes) ends where the
	 * next capability starts, not hidden (its body would be a writable gap)
	 */
	b = layout_alloc(test);
	cfg = b->cfg;
	put_unaligned_le16(PCI_STATUS_CAP_LIST, cfg + PCI_STATUS);
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_AGP, 0x50);
	std_cap(cfg, 0x50, PCI_CAP_ID_HT, 0x80);
	cfg[0x53] = HT_CAPTYPE_HOST;
	std_cap(cfg, 0x80, PCI_CAP_ID_HT, 0x90);
	cfg[0x83] = HT_CAPTYPE_MSI_MAPPING;
	std_cap(cfg, 0x90, PCI_CAP_ID_PM, 0);
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_SIZE));
	KUNIT_EXPECT_EQ(test, 0x40, cfg[PCI_CAPABILITY_LIST]);
	KUNIT_EXPECT_EQ(test, 0x50, cfg[0x40 + PCI_CAP_LIST_NEXT]);
	KUNIT_EXPECT_EQ(test, 0x80, cfg[0x50 + PCI_CAP_LIST_NEXT]);
	KUNIT_EXPECT_EQ(test, 0x90, cfg[0x80 + PCI_CAP_LIST_NEXT]);
	expect_owner(test, b, 0x40, PCI_AGP_SIZEOF, PCI_CAP_ID_AGP, 0x40);
	expect_owner(test, b, 0x4c, 4, VFIO_PCI_CFG_TEST_GAP, 0);
	expect_owner(test, b, 0x50, HT_CAP_SIZEOF_SHORT, PCI_CAP_ID_HT, 0x50);
	expect_owner(test, b, 0x68, 0x18, VFIO_PCI_CFG_TEST_GAP, 0);
	expect_owner(test, b, 0x80, 0x10, PCI_CAP_ID_HT, 0x80);
	expect_owner(test, b, 0x90, PCI_PM_SIZEOF, PCI_CAP_ID_PM, 0x90);
	expect_owner(test, b, 0x98, 0x100 - 0x98, VFIO_PCI_CFG_TEST_GAP, 0);
}

/*
 * Intel graphics' ASLS (0xfc, the OpRegion's address) is a read-only
 * platform register, only for an Intel VGA function, whatever else would
 * own the bytes (a gap, or a capability reaching there)
 */
static void vfio_pci_cfg_layout_igd_asls(struct kunit *test)
{
	static const struct {
		const char *what;
		u16 vendor, cls;
		bool cap_at_f8, platform;
	} cases[] = {
		{ "Intel VGA", PCI_VENDOR_ID_INTEL, PCI_CLASS_DISPLAY_VGA, false, true },
		{ "other vendor", 0x1234, PCI_CLASS_DISPLAY_VGA, false, false },
		{ "Intel, not VGA", PCI_VENDOR_ID_INTEL, PCI_CLASS_DISPLAY_OTHER,
		  false, false },
		{ "Intel VGA, a capability there", PCI_VENDOR_ID_INTEL,
		  PCI_CLASS_DISPLAY_VGA, true, true },
		{ "other vendor, a capability there", 0x1234,
		  PCI_CLASS_DISPLAY_VGA, true, false },
	};
	struct layout_buf *b;
	unsigned int i, j;
	u8 *cfg, want;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		kunit_info(test, "%s", cases[i].what);
		b = layout_alloc(test);
		cfg = b->cfg;
		put_unaligned_le16(cases[i].vendor, cfg + PCI_VENDOR_ID);
		put_unaligned_le16(cases[i].cls, cfg + PCI_CLASS_DEVICE);
		put_unaligned_le16(PCI_STATUS_CAP_LIST, cfg + PCI_STATUS);
		cfg[PCI_CAPABILITY_LIST] = 0x40;
		if (!cases[i].cap_at_f8) {
			std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0);
		} else {
			std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0xf8);
			std_cap(cfg, 0xf8, PCI_CAP_ID_VNDR, 0);
			cfg[0xf8 + PCI_CAP_FLAGS] = 8;
		}
		KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_SIZE));
		if (cases[i].platform)
			expect_owner(test, b, 0xfc, 4, VFIO_PCI_CFG_TEST_PLATFORM,
				     0xfc);
		else if (cases[i].cap_at_f8)
			expect_owner(test, b, 0xfc, 4, PCI_CAP_ID_VNDR, 0xf8);
		else
			expect_owner(test, b, 0xfc, 4, VFIO_PCI_CFG_TEST_GAP, 0);
		/* no write reaches it; a gap's or a vendor body's would */
		want = 0xff;
		if (cases[i].platform)
			want = 0;
		for (j = 0xfc; j < 0x100; j++)
			KUNIT_EXPECT_EQ_MSG(test, want, b->write[j], "byte %#x", j);
		if (cases[i].cap_at_f8)
			expect_owner(test, b, 0xf8, 4, PCI_CAP_ID_VNDR, 0xf8);
		expect_owner(test, b, 0x48, 0xb0, VFIO_PCI_CFG_TEST_GAP, 0);
	}
}

static void vfio_pci_cfg_layout_std_broken(struct kunit *test)
{
	struct layout_buf *b = layout_alloc(test);
	u8 *cfg = b->cfg;

	/* A loop: the walk ends */
	put_unaligned_le16(PCI_STATUS_CAP_LIST, cfg + PCI_STATUS);
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_PM, 0x50);
	std_cap(cfg, 0x50, PCI_CAP_ID_VNDR, 0x40);
	cfg[0x50 + PCI_CAP_FLAGS] = 8;
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_SIZE));
	KUNIT_EXPECT_EQ(test, 0x50, cfg[0x40 + PCI_CAP_LIST_NEXT]);
	KUNIT_EXPECT_EQ(test, 0, cfg[0x50 + PCI_CAP_LIST_NEXT]);
	expect_owner(test, b, 0x50, 8, PCI_CAP_ID_VNDR, 0x50);

	/* Vendor-specific, 7 bytes: its last dword ends in one byte of gap */
	b = layout_alloc(test);
	cfg = b->cfg;
	put_unaligned_le16(PCI_STATUS_CAP_LIST, cfg + PCI_STATUS);
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_VNDR, 0x48);
	cfg[0x40 + PCI_CAP_FLAGS] = 7;
	std_cap(cfg, 0x48, PCI_CAP_ID_PM, 0);
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_SIZE));
	expect_owner(test, b, 0x40, 7, PCI_CAP_ID_VNDR, 0x40);
	expect_owner(test, b, 0x47, 1, VFIO_PCI_CFG_TEST_GAP, 0);
	expect_owner(test, b, 0x48, PCI_PM_SIZEOF, PCI_CAP_ID_PM, 0x48);

	/* A capability that does not fit before the next one is hidden */
	b = layout_alloc(test);
	cfg = b->cfg;
	put_unaligned_le16(PCI_STATUS_CAP_LIST, cfg + PCI_STATUS);
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_MSIX, 0x48);	/* 12 bytes, 8 room */
	std_cap(cfg, 0x48, PCI_CAP_ID_PM, 0xf8);
	std_cap(cfg, 0xf8, PCI_CAP_ID_MSI, 0);		/* runs off the end */
	put_unaligned_le16(PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT,
			   cfg + 0xf8 + PCI_MSI_FLAGS);
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_SIZE));
	KUNIT_EXPECT_EQ(test, 0x48, cfg[PCI_CAPABILITY_LIST]);
	KUNIT_EXPECT_EQ(test, 0, cfg[0x48 + PCI_CAP_LIST_NEXT]);
	expect_owner(test, b, 0x40, 8, VFIO_PCI_CFG_TEST_GAP, 0);
	expect_owner(test, b, 0xf8, 8, VFIO_PCI_CFG_TEST_GAP, 0);

	/* Everything hidden: no capability list at all */
	b = layout_alloc(test);
	cfg = b->cfg;
	put_unaligned_le16(PCI_STATUS_CAP_LIST | PCI_STATUS_66MHZ,
			   cfg + PCI_STATUS);
	cfg[PCI_CAPABILITY_LIST] = 0x40;
	std_cap(cfg, 0x40, PCI_CAP_ID_SLOTID, 0);
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_SIZE));
	KUNIT_EXPECT_EQ(test, 0, cfg[PCI_CAPABILITY_LIST]);
	KUNIT_EXPECT_EQ(test, PCI_STATUS_66MHZ,
			get_unaligned_le16(cfg + PCI_STATUS));

	/* A pointer into the header ends the walk */
	b = layout_alloc(test);
	cfg = b->cfg;
	put_unaligned_le16(PCI_STATUS_CAP_LIST, cfg + PCI_STATUS);
	cfg[PCI_CAPABILITY_LIST] = 0x10;
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_SIZE));
	KUNIT_EXPECT_EQ(test, 0, cfg[PCI_CAPABILITY_LIST]);
	expect_owner(test, b, 0x10, 4, VFIO_PCI_CFG_TEST_HEADER, 0);
}

static void vfio_pci_cfg_layout_ext_first_hidden(struct kunit *test)
{
	struct layout_buf *b = layout_alloc(test);
	u8 *cfg = b->cfg;
	u32 hdr;

	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_PASID, 0x140);	/* hidden */
	ext_cap(cfg, 0x140, PCI_EXT_CAP_ID_ERR, 0x180);
	ext_cap(cfg, 0x180, PCI_EXT_CAP_ID_DOE, 0x1c0);	/* hidden */
	ext_cap(cfg, 0x1c0, PCI_EXT_CAP_ID_DSN, 0);

	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_EXP_SIZE));

	/* A null header at 0x100 leads to the first exposed one */
	hdr = get_unaligned_le32(cfg + 0x100);
	KUNIT_EXPECT_EQ(test, 0, PCI_EXT_CAP_ID(hdr));
	KUNIT_EXPECT_EQ(test, 0x140, PCI_EXT_CAP_NEXT(hdr));
	hdr = get_unaligned_le32(cfg + 0x140);
	KUNIT_EXPECT_EQ(test, PCI_EXT_CAP_ID_ERR, PCI_EXT_CAP_ID(hdr));
	KUNIT_EXPECT_EQ(test, 1, PCI_EXT_CAP_VER(hdr));
	KUNIT_EXPECT_EQ(test, 0x1c0, PCI_EXT_CAP_NEXT(hdr));
	hdr = get_unaligned_le32(cfg + 0x1c0);
	KUNIT_EXPECT_EQ(test, PCI_EXT_CAP_ID_DSN, PCI_EXT_CAP_ID(hdr));
	KUNIT_EXPECT_EQ(test, 0, PCI_EXT_CAP_NEXT(hdr));

	expect_owner(test, b, 0x100, 4, VFIO_PCI_CFG_TEST_NULL, 0x100);
	expect_owner(test, b, 0x104, 0x3c, VFIO_PCI_CFG_TEST_GAP, 0);
	expect_owner(test, b, 0x140, PCI_ERR_ROOT_COMMAND,
		     VFIO_PCI_CFG_TEST_EXT | PCI_EXT_CAP_ID_ERR, 0x140);
	expect_owner(test, b, 0x180, 4, VFIO_PCI_CFG_TEST_GAP, 0);
	expect_owner(test, b, 0x1c0, 4,
		     VFIO_PCI_CFG_TEST_EXT | PCI_EXT_CAP_ID_DSN, 0x1c0);
	/* The DSN body reads from the hardware through the read-only gap */
	expect_owner(test, b, 0x1c4, 8, VFIO_PCI_CFG_TEST_GAP, 0);
}

static void vfio_pci_cfg_layout_ext_misc(struct kunit *test)
{
	struct layout_buf *b = layout_alloc(test);
	u8 *cfg = b->cfg;
	u32 hdr;

	/* First exposed, last hidden: the chain ends at the first */
	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_ERR, 0x200);
	ext_cap(cfg, 0x200, 0x7777, 0);
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_EXP_SIZE));
	hdr = get_unaligned_le32(cfg + 0x100);
	KUNIT_EXPECT_EQ(test, PCI_EXT_CAP_ID_ERR, PCI_EXT_CAP_ID(hdr));
	KUNIT_EXPECT_EQ(test, 0, PCI_EXT_CAP_NEXT(hdr));

	/* All hidden: an empty header */
	b = layout_alloc(test);
	cfg = b->cfg;
	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_PASID, 0x200);
	ext_cap(cfg, 0x200, PCI_EXT_CAP_ID_RCEC, 0);
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_EXP_SIZE));
	KUNIT_EXPECT_EQ(test, 0, get_unaligned_le32(cfg + 0x100));
	expect_owner(test, b, 0x100, 4, VFIO_PCI_CFG_TEST_NULL, 0x100);

	/* A loop back to 0x100 ends the walk */
	b = layout_alloc(test);
	cfg = b->cfg;
	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_ERR, 0x100);
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_EXP_SIZE));
	KUNIT_EXPECT_EQ(test, 0, PCI_EXT_CAP_NEXT(get_unaligned_le32(cfg +
								     0x100)));

	/* No extended capabilities: nothing is claimed, nothing changes */
	b = layout_alloc(test);
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_EXP_SIZE));
	KUNIT_EXPECT_EQ(test, 0, get_unaligned_le32(b->cfg + 0x100));
	expect_owner(test, b, 0x100, 0xf00, VFIO_PCI_CFG_TEST_GAP, 0);

	/*
	 * DVSEC: its length comes from header 1, as a vendor capability's;
	 * the body is the capability's own (pass-through), not the gap
	 */
	b = layout_alloc(test);
	cfg = b->cfg;
	ext_cap(cfg, 0x100, PCI_EXT_CAP_ID_DVSEC, 0x200);
	put_unaligned_le32(0x1e98 | (1 << 16) | (0x38 << 20),
			   cfg + 0x100 + PCI_DVSEC_HEADER1);
	ext_cap(cfg, 0x200, PCI_EXT_CAP_ID_ERR, 0);
	KUNIT_ASSERT_EQ(test, 0, run_layout(test, b, PCI_CFG_SPACE_EXP_SIZE));
	KUNIT_EXPECT_EQ(test, 0x200,
			PCI_EXT_CAP_NEXT(get_unaligned_le32(cfg + 0x100)));
	expect_owner(test, b, 0x100, 0x38,
		     VFIO_PCI_CFG_TEST_EXT | PCI_EXT_CAP_ID_DVSEC, 0x100);
	expect_owner(test, b, 0x138, 0xc8, VFIO_PCI_CFG_TEST_GAP, 0);

	/* Only 256 and 4096 are config space sizes */
	KUNIT_EXPECT_EQ(test, -EINVAL, run_layout(test, b, 512));
}

/* ---- device fd offsets -------------------------------------------------- */

static void vfio_pci_offsets(struct kunit *test)
{
	u64 off;

	KUNIT_EXPECT_EQ(test, 0ULL, VFIO_PCI_INDEX_TO_OFFSET(0));
	KUNIT_EXPECT_EQ(test, 1ULL << 40, VFIO_PCI_INDEX_TO_OFFSET(1));
	off = VFIO_PCI_INDEX_TO_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + 0x44;
	KUNIT_EXPECT_EQ(test, (u64)VFIO_PCI_CONFIG_REGION_INDEX,
			VFIO_PCI_OFFSET_TO_INDEX(off));
	KUNIT_EXPECT_EQ(test, 0x44ULL, off & VFIO_PCI_OFFSET_MASK);
	/* Any offset inside a region keeps its index */
	off = VFIO_PCI_INDEX_TO_OFFSET(VFIO_PCI_ROM_REGION_INDEX) +
	      VFIO_PCI_OFFSET_MASK;
	KUNIT_EXPECT_EQ(test, (u64)VFIO_PCI_ROM_REGION_INDEX,
			VFIO_PCI_OFFSET_TO_INDEX(off));
	KUNIT_EXPECT_EQ(test, (u64)VFIO_PCI_ROM_REGION_INDEX + 1,
			VFIO_PCI_OFFSET_TO_INDEX(off + 1));
	/*
	 * Device-specific regions follow the fixed ones: an offset inside the
	 * third one leads to entry 2 of the device's region array
	 */
	off = VFIO_PCI_INDEX_TO_OFFSET(VFIO_PCI_NUM_REGIONS + 2) + 0x1234;
	KUNIT_EXPECT_EQ(test, 2ULL,
			VFIO_PCI_DEV_REGION(VFIO_PCI_OFFSET_TO_INDEX(off)));
}

/* ---- INTx policy --------------------------------------------------------- */

struct intx_case {
	const char *what;
	unsigned int irq;
	bool virtfn;
	u16 vendor;
	u16 device;
	enum vfio_pci_intx_policy want;
};

static const struct intx_case intx_cases[] = {
	{ "edu on a routed line", 11, false, 0x1234, 0x11e8, VFIO_PCI_INTX_OK },
	{ "no line", 0, false, 0x1234, 0x11e8, VFIO_PCI_INTX_NONE },
	{ "pin not connected", IRQ_NOTCONNECTED, false, 0x1234, 0x11e8,
	  VFIO_PCI_INTX_NONE },
	{ "a VF", 11, true, 0x1b36, 0x0010, VFIO_PCI_INTX_NONE },
	{ "XL710", 11, false, PCI_VENDOR_ID_INTEL, 0x1572, VFIO_PCI_INTX_BROKEN },
	{ "X710 10GBASE-T", 11, false, PCI_VENDOR_ID_INTEL, 0x1589,
	  VFIO_PCI_INTX_BROKEN },
	{ "XXV710", 11, false, PCI_VENDOR_ID_INTEL, 0x158b, VFIO_PCI_INTX_BROKEN },
	{ "X722", 11, false, PCI_VENDOR_ID_INTEL, 0x37d1, VFIO_PCI_INTX_BROKEN },
	{ "X550", 11, false, PCI_VENDOR_ID_INTEL, 0x1563, VFIO_PCI_INTX_BROKEN },
	{ "i40e gap 0x1582", 11, false, PCI_VENDOR_ID_INTEL, 0x1582, VFIO_PCI_INTX_OK },
	{ "82574L", 11, false, PCI_VENDOR_ID_INTEL, 0x10d3, VFIO_PCI_INTX_OK },
	{ "XL710 ID, other vendor", 11, false, 0x1234, 0x1572, VFIO_PCI_INTX_OK },
	{ "broken NIC as a VF", 11, true, PCI_VENDOR_ID_INTEL, 0x1572,
	  VFIO_PCI_INTX_NONE },
};

static void intx_case_desc(const struct intx_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(intx, intx_cases, intx_case_desc);

static void vfio_pci_intx_policy_table(struct kunit *test)
{
	const struct intx_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, c->want,
			vfio_pci_intx_policy(c->irq, c->virtfn, c->vendor, c->device));
}

/* ---- max read request size -------------------------------------------- */

static void vfio_pci_readrq(struct kunit *test)
{
	/* Each valid encoding, above the payload size */
	KUNIT_EXPECT_EQ(test, 128, vfio_pci_readrq_bytes(0, 128));
	KUNIT_EXPECT_EQ(test, 512, vfio_pci_readrq_bytes(2, 128));
	KUNIT_EXPECT_EQ(test, 4096, vfio_pci_readrq_bytes(5, 256));
	/* Never below the payload size */
	KUNIT_EXPECT_EQ(test, 256, vfio_pci_readrq_bytes(0, 256));
	KUNIT_EXPECT_EQ(test, 512, vfio_pci_readrq_bytes(1, 512));
	/* Reserved encodings change nothing */
	KUNIT_EXPECT_EQ(test, 0, vfio_pci_readrq_bytes(6, 128));
	KUNIT_EXPECT_EQ(test, 0, vfio_pci_readrq_bytes(7, 128));
}

/* ---- VGA arbiter --------------------------------------------------------- */

struct vga_case {
	const char *what;
	bool single, offered, root, below;
	bool legacy;		/* legacy ranges still claimed */
};

static const struct vga_case vga_cases[] = {
	{ "only VGA device", true, false, false, false, true },
	{ "VGA region offered", false, true, false, false, true },
	{ "offered, another VGA below", false, true, false, true, true },
	{ "on a root bus", false, false, true, false, true },
	{ "another VGA device below the bridge", false, false, false, true, true },
	{ "alone below its bridge, no VGA region", false, false, false, false,
	  false },
};

static void vga_case_desc(const struct vga_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vga, vga_cases, vga_case_desc);

static void vfio_pci_vga_decode_table(struct kunit *test)
{
	const unsigned int legacy = VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM;
	const struct vga_case *c = test->param_value;
	unsigned int got = vfio_pci_vga_decodes(c->single, c->offered, c->root,
						c->below);

	/* The normal ranges are always decoded */
	KUNIT_EXPECT_EQ(test, VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM,
			got & ~legacy);
	KUNIT_EXPECT_EQ(test, c->legacy ? legacy : 0, got & legacy);
}

/* ---- ROM region ------------------------------------------------------- */

static void vfio_pci_rom_source(struct kunit *test)
{
	u64 size = 1;

	/* A ROM BAR wins over everything, with the BAR's size */
	KUNIT_EXPECT_EQ(test, VFIO_PCI_ROM_BAR,
			vfio_pci_rom_region(SZ_256K, false, SZ_64K, &size));
	KUNIT_EXPECT_EQ(test, SZ_256K, size);
	KUNIT_EXPECT_EQ(test, VFIO_PCI_ROM_BAR,
			vfio_pci_rom_region(SZ_128K, true, SZ_64K, &size));
	KUNIT_EXPECT_EQ(test, SZ_128K, size);
	/* A shadow without a length is the legacy 128 KiB window */
	KUNIT_EXPECT_EQ(test, VFIO_PCI_ROM_BAR,
			vfio_pci_rom_region(0, true, SZ_64K, &size));
	KUNIT_EXPECT_EQ(test, SZ_128K, size);
	/* No BAR: the firmware's image, with its own length */
	KUNIT_EXPECT_EQ(test, VFIO_PCI_ROM_PLATFORM,
			vfio_pci_rom_region(0, false, 0xe600, &size));
	KUNIT_EXPECT_EQ(test, 0xe600, size);
	/* Nothing at all */
	KUNIT_EXPECT_EQ(test, VFIO_PCI_ROM_NONE,
			vfio_pci_rom_region(0, false, 0, &size));
	KUNIT_EXPECT_EQ(test, 0, size);
}

/* ---- a driver's ops, the open string ------------------------------------ */

static struct file *kt_set_state(struct vfio_device *vdev,
				 enum vfio_device_mig_state state)
{
	return NULL;
}

static int kt_get_state(struct vfio_device *vdev,
			enum vfio_device_mig_state *state)
{
	return 0;
}

static int kt_data_size(struct vfio_device *vdev, unsigned long *len)
{
	return 0;
}

static int kt_log_start(struct vfio_device *vdev, struct rb_root_cached *ranges,
			u32 nnodes, u64 *page_size)
{
	return 0;
}

static int kt_log_stop(struct vfio_device *vdev)
{
	return 0;
}

static int kt_log_read(struct vfio_device *vdev, unsigned long iova,
		       unsigned long length, struct iova_bitmap *dirty)
{
	return 0;
}

static void vfio_pci_driver_ops(struct kunit *test)
{
	const struct vfio_migration_ops mig = {
		.migration_set_state = kt_set_state,
		.migration_get_state = kt_get_state,
		.migration_get_data_size = kt_data_size,
	};
	const struct vfio_migration_ops mig_no_size = {
		.migration_set_state = kt_set_state,
		.migration_get_state = kt_get_state,
	};
	const struct vfio_migration_ops mig_no_get = {
		.migration_set_state = kt_set_state,
		.migration_get_data_size = kt_data_size,
	};
	const struct vfio_log_ops log = {
		.log_start = kt_log_start,
		.log_stop = kt_log_stop,
		.log_read_and_clear = kt_log_read,
	};
	const struct vfio_log_ops log_no_read = {
		.log_start = kt_log_start,
		.log_stop = kt_log_stop,
	};
	struct vfio_device *v = kunit_kzalloc(test, sizeof(*v), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, v);
	/* Neither offered: nothing to check */
	KUNIT_EXPECT_EQ(test, 0, vfio_pci_check_driver_ops(v));

	v->mig_ops = &mig;
	v->migration_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
	KUNIT_EXPECT_EQ(test, 0, vfio_pci_check_driver_ops(v));
	v->migration_flags = VFIO_MIGRATION_P2P;
	KUNIT_EXPECT_EQ(test, -EINVAL, vfio_pci_check_driver_ops(v));
	v->migration_flags = VFIO_MIGRATION_STOP_COPY;
	v->mig_ops = &mig_no_size;
	KUNIT_EXPECT_EQ(test, -EINVAL, vfio_pci_check_driver_ops(v));
	v->mig_ops = &mig_no_get;
	KUNIT_EXPECT_EQ(test, -EINVAL, vfio_pci_check_driver_ops(v));

	v->mig_ops = &mig;
	v->log_ops = &log;
	KUNIT_EXPECT_EQ(test, 0, vfio_pci_check_driver_ops(v));
	v->log_ops = &log_no_read;
	KUNIT_EXPECT_EQ(test, -EINVAL, vfio_pci_check_driver_ops(v));
	v->mig_ops = NULL;
	KUNIT_EXPECT_EQ(test, -EINVAL, vfio_pci_check_driver_ops(v));
}

struct match_case {
	const char *buf;
	int ret;
	bool token;
};

#define KT_BDF		"0000:00:03.0"
#define KT_UUID		"5f0a1a8e-7c1b-4d62-9b4e-2a1f3c9d8e70"

static const struct match_case match_cases[] = {
	{ KT_BDF, 1, false },
	{ KT_BDF " ", 1, false },
	{ KT_BDF "   ", 1, false },
	{ KT_BDF " vf_token=" KT_UUID, 1, true },
	{ KT_BDF "  vf_token=" KT_UUID "  ", 1, true },
	/* Another device, or a longer name */
	{ "0000:00:04.0", 0, false },
	{ KT_BDF "0", 0, false },
	{ KT_BDF "\tvf_token=" KT_UUID, 0, false },
	{ "0000:00:03", 0, false },
	/* This device, bad options */
	{ KT_BDF " \tvf_token=" KT_UUID, -EINVAL, false },
	{ KT_BDF " vf_token", -EINVAL, false },
	{ KT_BDF " vf_token=", -EINVAL, false },
	{ KT_BDF " vf_token=5f0a1a8e-7c1b-4d62-9b4e", -EINVAL, false },
	{ KT_BDF " vf_token=" KT_UUID "x", -EINVAL, false },
	{ KT_BDF " vf_token=zf0a1a8e-7c1b-4d62-9b4e-2a1f3c9d8e70", -EINVAL, false },
	{ KT_BDF " vf_token=" KT_UUID " vf_token=" KT_UUID, -EINVAL, false },
	{ KT_BDF " token=" KT_UUID, -EINVAL, false },
};

static void match_case_desc(const struct match_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "\"%s\"", c->buf);
}

KUNIT_ARRAY_PARAM(match, match_cases, match_case_desc);

static void vfio_pci_match_string(struct kunit *test)
{
	const struct match_case *c = test->param_value;
	uuid_t want, got = {};
	bool token = false;
	int ret;

	ret = vfio_pci_parse_match(KT_BDF, c->buf, &token, &got);
	KUNIT_EXPECT_EQ(test, c->ret, ret);
	if (ret == 1)
		KUNIT_EXPECT_EQ(test, c->token, token);
	if (ret == 1 && c->token) {
		KUNIT_ASSERT_EQ(test, 0, uuid_parse(KT_UUID, &want));
		KUNIT_EXPECT_TRUE(test, uuid_equal(&want, &got));
	}
}

static struct kunit_case vfio_pci_core_test_cases[] = {
	KUNIT_CASE_PARAM(vfio_pci_cfg_perm_table, perm_gen_params),
	KUNIT_CASE(vfio_pci_cfg_perm_bars),
	KUNIT_CASE(vfio_pci_cfg_perm_cap_headers),
	KUNIT_CASE(vfio_pci_cfg_perm_ext_body),
	KUNIT_CASE(vfio_pci_cfg_perm_masks),
	KUNIT_CASE(vfio_pci_cfg_perm_hidden),
	KUNIT_CASE(vfio_pci_cfg_piece_cases),
	KUNIT_CASE(vfio_pci_cfg_piece_tiling),
	KUNIT_CASE(vfio_pci_cfg_bar_masks),
	KUNIT_CASE(vfio_pci_cfg_layout_std),
	KUNIT_CASE(vfio_pci_cfg_layout_igd_asls),
	KUNIT_CASE(vfio_pci_cfg_layout_std_broken),
	KUNIT_CASE(vfio_pci_cfg_layout_ext_first_hidden),
	KUNIT_CASE(vfio_pci_cfg_layout_ext_misc),
	KUNIT_CASE(vfio_pci_offsets),
	KUNIT_CASE_PARAM(vfio_pci_intx_policy_table, intx_gen_params),
	KUNIT_CASE(vfio_pci_readrq),
	KUNIT_CASE_PARAM(vfio_pci_vga_decode_table, vga_gen_params),
	KUNIT_CASE(vfio_pci_rom_source),
	KUNIT_CASE(vfio_pci_driver_ops),
	KUNIT_CASE_PARAM(vfio_pci_match_string, match_gen_params),
	{}
};

static struct kunit_suite vfio_pci_core_test_suite = {
	.name = "vfio-pci-core",
	.test_cases = vfio_pci_core_test_cases,
};

kunit_test_suite(vfio_pci_core_test_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for vfio-pci-core");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
