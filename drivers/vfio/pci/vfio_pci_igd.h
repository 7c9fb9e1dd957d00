/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfio-pci's Intel IGD regions (vfio_pci_igd.c): what vfio_pci.c calls and
 * what the KUnit cases reach.
 */
#ifndef VFIO_PCI_IGD_H
#define VFIO_PCI_IGD_H

#include <linux/types.h>

struct pci_dev;
struct vfio_pci_core_device;

/**
 * struct vfio_igd_opregion_plan - how the OpRegion region is made
 * @op_len: bytes of the OpRegion itself, first in the region
 * @vbt_len: bytes of a VBT outside the OpRegion, shown right after it;
 *	0 when there is none (or it is inside)
 * @vbt_phys: where that VBT is in physical memory
 * @patch_version: a 2.0 OpRegion reads as 2.1
 * @patch_rvda: RVDA reads as @op_len, where the region shows the VBT
 */
struct vfio_igd_opregion_plan {
	u32 op_len;
	u32 vbt_len;
	u64 vbt_phys;
	bool patch_version;
	bool patch_rvda;
};

#if IS_ENABLED(CONFIG_VFIO_PCI_IGD)
bool vfio_pci_is_intel_display(struct pci_dev *pdev);
int vfio_pci_igd_init(struct vfio_pci_core_device *vdev);
#else
static inline bool vfio_pci_is_intel_display(struct pci_dev *pdev)
{
	return false;
}

static inline int vfio_pci_igd_init(struct vfio_pci_core_device *vdev)
{
	return 0;
}
#endif

#endif /* VFIO_PCI_IGD_H */
