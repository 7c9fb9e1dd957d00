// SPDX-License-Identifier: GPL-2.0-only
/* vfio-pci-core: resets and device sets (placeholder, being written) */
#include <linux/pci.h>
#include "vfio_pci_priv.h"

void vfio_pci_reset_probe(struct vfio_pci_core_device *vdev) { }
int vfio_pci_devset_assign(struct vfio_pci_core_device *vdev)
{ return vfio_assign_device_set(&vdev->vdev, vdev); }
long vfio_pci_ioctl_reset(struct vfio_pci_core_device *vdev) { return -EINVAL; }
long vfio_pci_ioctl_get_hot_reset_info(struct vfio_pci_core_device *vdev,
				       struct vfio_pci_hot_reset_info __user *arg) { return -ENOTTY; }
long vfio_pci_ioctl_hot_reset(struct vfio_pci_core_device *vdev,
			      struct vfio_pci_hot_reset __user *arg) { return -ENOTTY; }
int vfio_pci_function_reset(struct vfio_pci_core_device *vdev) { return -ENOTTY; }
void vfio_pci_devset_try_reset(struct vfio_pci_core_device *vdev) { }
