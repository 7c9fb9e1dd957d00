// SPDX-License-Identifier: GPL-2.0-only
/* vfio-pci-core: config-space virtualization (placeholder, being written) */
#include <linux/pci.h>
#include "vfio_pci_priv.h"

int vfio_pci_config_perm_init(void) { return 0; }
void vfio_pci_config_perm_exit(void) { }
int vfio_pci_config_init(struct vfio_pci_core_device *vdev) { return 0; }
void vfio_pci_config_exit(struct vfio_pci_core_device *vdev) { }
ssize_t vfio_pci_config_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			   size_t count, loff_t *ppos, bool iswrite)
{ return -EINVAL; }
bool vfio_pci_memory_enabled(struct vfio_pci_core_device *vdev) { return true; }
void vfio_pci_config_restore_bars(struct vfio_pci_core_device *vdev) { }
void vfio_pci_config_intx_disable(struct vfio_pci_core_device *vdev, bool set) { }
