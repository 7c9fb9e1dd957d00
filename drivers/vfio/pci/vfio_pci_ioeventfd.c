// SPDX-License-Identifier: GPL-2.0-only
/* vfio-pci-core: ioeventfd (placeholder, being written) */
#include "vfio_pci_priv.h"

long vfio_pci_ioctl_ioeventfd(struct vfio_pci_core_device *vdev,
			      struct vfio_device_ioeventfd __user *arg) { return -ENOTTY; }
void vfio_pci_ioeventfd_teardown(struct vfio_pci_core_device *vdev) { }
