// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit cases for vfio-pci's own policy (the denylist), included at the
 * end of vfio_pci.c so they see its static tables.  The library's cases
 * are in vfio_pci_core_test.c.
 */
#include <kunit/test.h>

struct vfio_pci_deny_case {
	const char *what;
	u16 vendor;
	u16 device;
	bool denied;
};

static const struct vfio_pci_deny_case vfio_pci_deny_cases[] = {
	{ "QAT C3xxx PF", PCI_VENDOR_ID_INTEL, 0x19e2, true },
	{ "QAT C3xxx VF", PCI_VENDOR_ID_INTEL, 0x19e3, true },
	{ "QAT C62x PF", PCI_VENDOR_ID_INTEL, 0x37c8, true },
	{ "QAT C62x VF", PCI_VENDOR_ID_INTEL, 0x37c9, true },
	{ "QAT DH895xCC PF", PCI_VENDOR_ID_INTEL, 0x0435, true },
	{ "QAT DH895xCC VF", PCI_VENDOR_ID_INTEL, 0x0443, true },
	{ "DSA on Sapphire Rapids", PCI_VENDOR_ID_INTEL, 0x0b25, true },
	{ "IAA on Sapphire Rapids", PCI_VENDOR_ID_INTEL, 0x0cfe, true },
	{ "QEMU edu", 0x1234, 0x11e8, false },
	{ "Intel 82574L (e1000e)", PCI_VENDOR_ID_INTEL, 0x10d3, false },
	{ "DSA ID under another vendor", 0x1234, 0x0b25, false },
};

static void vfio_pci_deny_case_desc(const struct vfio_pci_deny_case *c,
				    char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfio_pci_deny, vfio_pci_deny_cases, vfio_pci_deny_case_desc);

static void vfio_pci_test_denylist(struct kunit *test)
{
	const struct vfio_pci_deny_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, c->denied, vfio_pci_denylisted(c->vendor, c->device));
}

static struct kunit_case vfio_pci_policy_test_cases[] = {
	KUNIT_CASE_PARAM(vfio_pci_test_denylist, vfio_pci_deny_gen_params),
	{}
};

static struct kunit_suite vfio_pci_policy_test_suite = {
	.name = "vfio-pci-policy",
	.test_cases = vfio_pci_policy_test_cases,
};

kunit_test_suite(vfio_pci_policy_test_suite);
