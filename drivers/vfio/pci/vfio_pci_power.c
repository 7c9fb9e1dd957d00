// SPDX-License-Identifier: GPL-2.0-only
/* vfio-pci-core: power management (placeholder, being written) */
#include <linux/pci.h>
#include "vfio_pci_priv.h"

int vfio_pci_set_power_state(struct vfio_pci_core_device *vdev, pci_power_t state)
{ return pci_set_power_state(vdev->pdev, state); }
void vfio_pci_pm_init(struct vfio_pci_core_device *vdev) { }
void vfio_pci_pm_exit(struct vfio_pci_core_device *vdev) { }
int vfio_pci_pm_open(struct vfio_pci_core_device *vdev) { return 0; }
void vfio_pci_pm_close(struct vfio_pci_core_device *vdev) { }
int vfio_pci_feature_power(struct vfio_pci_core_device *vdev, u32 flags,
			   void __user *arg, size_t argsz) { return -ENOTTY; }
const struct dev_pm_ops vfio_pci_core_pm_ops = { };
EXPORT_SYMBOL_GPL(vfio_pci_core_pm_ops);
