// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit cases for the OpRegion plan and the fields reads rewrite, included
 * at the end of vfio_pci_igd.c.  No emulated device is an IGD, so these
 * synthetic tables are what checks how a VBT outside the OpRegion is shown.
 */
#include <kunit/test.h>

#define T_ASLS	0x7e000000ULL

/* A header of @size_kb KiB, version @major.@minor, RVDA/RVDS as given */
static void igd_t_hdr(u8 *hdr, u32 size_kb, u8 major, u8 minor, u64 rvda,
		      u32 rvds)
{
	memset(hdr, 0x5a, OPREGION_MIN);
	memcpy(hdr, OPREGION_SIG, OPREGION_SIG_LEN);
	put_unaligned_le32(size_kb, hdr + OPREGION_SIZE_KB);
	hdr[OPREGION_MBOXES] = OPREGION_MBOX_ASLE;
	hdr[OPREGION_MINOR] = minor;
	hdr[OPREGION_MAJOR] = major;
	put_unaligned_le64(rvda, hdr + OPREGION_RVDA);
	put_unaligned_le32(rvds, hdr + OPREGION_RVDS);
}

static int igd_t_plan(const u8 *hdr, struct vfio_igd_opregion_plan *p)
{
	return vfio_igd_opregion_plan(hdr, OPREGION_MIN, T_ASLS, p);
}

static void vfio_igd_test_plan_bad(struct kunit *test)
{
	struct vfio_igd_opregion_plan p;
	u8 *hdr = kunit_kzalloc(test, OPREGION_MIN, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, hdr);
	igd_t_hdr(hdr, 8, 2, 1, 0, 0);
	/* too short to read mailbox 3 */
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vfio_igd_opregion_plan(hdr, OPREGION_MIN - 1, T_ASLS, &p));
	/* not the signature */
	hdr[3] ^= 0x20;
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vfio_igd_opregion_plan(hdr, OPREGION_MIN, T_ASLS, &p));
	/* sizes out of bounds */
	igd_t_hdr(hdr, 0, 2, 1, 0, 0);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vfio_igd_opregion_plan(hdr, OPREGION_MIN, T_ASLS, &p));
	igd_t_hdr(hdr, OPREGION_MAX / SZ_1K + 1, 2, 1, 0, 0);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vfio_igd_opregion_plan(hdr, OPREGION_MIN, T_ASLS, &p));
	igd_t_hdr(hdr, 8, 2, 1, SZ_8K, VBT_MAX + 1);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vfio_igd_opregion_plan(hdr, OPREGION_MIN, T_ASLS, &p));
	/* 2.1: a VBT straddling the OpRegion's end */
	igd_t_hdr(hdr, 8, 2, 1, SZ_8K - 16, 64);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vfio_igd_opregion_plan(hdr, OPREGION_MIN, T_ASLS, &p));
	/* 2.1: offsets that wrap */
	igd_t_hdr(hdr, 8, 2, 1, U64_MAX - 8, 64);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vfio_igd_opregion_plan(hdr, OPREGION_MIN, T_ASLS, &p));
	igd_t_hdr(hdr, 8, 3, 0, U64_MAX - T_ASLS + 1, 64);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vfio_igd_opregion_plan(hdr, OPREGION_MIN, T_ASLS, &p));
	/* 2.0: an address that wraps */
	igd_t_hdr(hdr, 8, 2, 0, U64_MAX - 8, 64);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			vfio_igd_opregion_plan(hdr, OPREGION_MIN, T_ASLS, &p));
}

struct igd_t_case {
	const char *what;
	u32 size_kb;
	u8 major, minor;
	u64 rvda;
	u32 rvds;
	/* expected */
	u32 vbt_len;
	u64 vbt_phys;
	bool patch_version, patch_rvda;
};

static const struct igd_t_case igd_t_cases[] = {
	{ "1.0: no VBT fields", 8, 1, 0, 0x1234, 100, 0, 0, false, false },
	{ "2.0 without RVDA", 8, 2, 0, 0, 0, 0, 0, false, false },
	{ "2.0: VBT at a physical address", 8, 2, 0, 0x7f000000, 6000,
	  6000, 0x7f000000, true, true },
	{ "2.1: VBT right after", 8, 2, 1, SZ_8K, 6000,
	  6000, T_ASLS + SZ_8K, false, false },
	{ "2.1: VBT further on", 8, 2, 1, SZ_16K, 6000,
	  6000, T_ASLS + SZ_16K, false, true },
	{ "2.1: VBT inside", 8, 2, 1, 0x1c00, 0x400, 0, 0, false, false },
	{ "3.0: VBT right after a 16 KiB OpRegion", 16, 3, 0, SZ_16K, 100,
	  100, T_ASLS + SZ_16K, false, false },
};

/* RVDA/RVDS count only when the table has mailbox 3 */
static void vfio_igd_test_plan_no_mbox3(struct kunit *test)
{
	struct vfio_igd_opregion_plan p;
	u8 *hdr = kunit_kzalloc(test, OPREGION_MIN, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, hdr);
	igd_t_hdr(hdr, 8, 2, 0, 0x7f000000, 6000);
	hdr[OPREGION_MBOXES] &= ~OPREGION_MBOX_ASLE;
	KUNIT_ASSERT_EQ(test, 0, igd_t_plan(hdr, &p));
	KUNIT_EXPECT_EQ(test, 0, p.vbt_len);
	KUNIT_EXPECT_FALSE(test, p.patch_version);
	KUNIT_EXPECT_FALSE(test, p.patch_rvda);
}

static void vfio_igd_test_plan_cases(struct kunit *test)
{
	struct vfio_igd_opregion_plan p;
	u8 *hdr = kunit_kzalloc(test, OPREGION_MIN, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, hdr);
	for (i = 0; i < ARRAY_SIZE(igd_t_cases); i++) {
		const struct igd_t_case *c = &igd_t_cases[i];

		kunit_info(test, "%s", c->what);
		igd_t_hdr(hdr, c->size_kb, c->major, c->minor, c->rvda, c->rvds);
		KUNIT_ASSERT_EQ(test, 0, igd_t_plan(hdr, &p));
		KUNIT_EXPECT_EQ(test, c->size_kb * SZ_1K, p.op_len);
		KUNIT_EXPECT_EQ(test, c->vbt_len, p.vbt_len);
		if (c->vbt_len)
			KUNIT_EXPECT_EQ(test, c->vbt_phys, p.vbt_phys);
		KUNIT_EXPECT_EQ(test, c->patch_version, p.patch_version);
		KUNIT_EXPECT_EQ(test, c->patch_rvda, p.patch_rvda);
	}
}

/*
 * What a user reads of a 2.0 OpRegion whose VBT is elsewhere: version 2.1,
 * RVDA = the OpRegion's size, every other byte as the firmware has it;
 * also when the read is cut into pieces that split the fields
 */
static void vfio_igd_test_patch(struct kunit *test)
{
	struct vfio_igd_opregion_plan p;
	u8 *hdr = kunit_kzalloc(test, OPREGION_MIN, GFP_KERNEL);
	u8 *want = kunit_kzalloc(test, OPREGION_MIN, GFP_KERNEL);
	u8 *got = kunit_kzalloc(test, OPREGION_MIN, GFP_KERNEL);
	static const size_t steps[] = { OPREGION_MIN, 1, 3, 7, 64 };
	size_t pos, n, s;

	KUNIT_ASSERT_TRUE(test, hdr && want && got);
	igd_t_hdr(hdr, 8, 2, 0, 0x7f000000, 6000);
	KUNIT_ASSERT_EQ(test, 0, igd_t_plan(hdr, &p));
	memcpy(want, hdr, OPREGION_MIN);
	want[OPREGION_MINOR] = 1;
	put_unaligned_le64(SZ_8K, want + OPREGION_RVDA);

	for (s = 0; s < ARRAY_SIZE(steps); s++) {
		for (pos = 0; pos < OPREGION_MIN; pos += n) {
			n = min_t(size_t, steps[s], OPREGION_MIN - pos);
			memcpy(got + pos, hdr + pos, n);
			vfio_igd_opregion_patch(&p, pos, got + pos, n);
		}
		KUNIT_EXPECT_MEMEQ(test, want, got, OPREGION_MIN);
	}

	/* A 2.1 table with its VBT right after is read as it is */
	igd_t_hdr(hdr, 8, 2, 1, SZ_8K, 6000);
	KUNIT_ASSERT_EQ(test, 0, igd_t_plan(hdr, &p));
	memcpy(got, hdr, OPREGION_MIN);
	vfio_igd_opregion_patch(&p, 0, got, OPREGION_MIN);
	KUNIT_EXPECT_MEMEQ(test, hdr, got, OPREGION_MIN);
	/* one further on gets RVDA only */
	igd_t_hdr(hdr, 8, 2, 1, SZ_16K, 6000);
	KUNIT_ASSERT_EQ(test, 0, igd_t_plan(hdr, &p));
	memcpy(want, hdr, OPREGION_MIN);
	put_unaligned_le64(SZ_8K, want + OPREGION_RVDA);
	memcpy(got, hdr, OPREGION_MIN);
	vfio_igd_opregion_patch(&p, 0, got, OPREGION_MIN);
	KUNIT_EXPECT_MEMEQ(test, want, got, OPREGION_MIN);
}

static void vfio_igd_test_display(struct kunit *test)
{
	struct pci_dev pdev = { .vendor = PCI_VENDOR_ID_INTEL,
				.class = PCI_CLASS_DISPLAY_VGA << 8 };

	KUNIT_EXPECT_TRUE(test, vfio_pci_is_intel_display(&pdev));
	/* other display classes (discrete GPUs among them): as upstream 6.12 */
	pdev.class = PCI_CLASS_DISPLAY_OTHER << 8;
	KUNIT_EXPECT_FALSE(test, vfio_pci_is_intel_display(&pdev));
	pdev.class = PCI_CLASS_NETWORK_ETHERNET << 8;
	KUNIT_EXPECT_FALSE(test, vfio_pci_is_intel_display(&pdev));
	pdev.vendor = 0x1234;
	pdev.class = PCI_CLASS_DISPLAY_VGA << 8;
	KUNIT_EXPECT_FALSE(test, vfio_pci_is_intel_display(&pdev));
}

static struct kunit_case vfio_igd_test_cases[] = {
	KUNIT_CASE(vfio_igd_test_plan_bad),
	KUNIT_CASE(vfio_igd_test_plan_no_mbox3),
	KUNIT_CASE(vfio_igd_test_plan_cases),
	KUNIT_CASE(vfio_igd_test_patch),
	KUNIT_CASE(vfio_igd_test_display),
	{}
};

static struct kunit_suite vfio_igd_test_suite = {
	.name = "vfio_pci_igd",
	.test_cases = vfio_igd_test_cases,
};

kunit_test_suite(vfio_igd_test_suite);
