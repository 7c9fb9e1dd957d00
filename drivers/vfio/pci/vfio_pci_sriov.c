// SPDX-License-Identifier: GPL-2.0-only
/* vfio-pci-core: SR-IOV and VF token (placeholder, being written) */
#include <linux/pci.h>
#include "vfio_pci_priv.h"

int vfio_pci_sriov_init(struct vfio_pci_core_device *vdev) { return 0; }
void vfio_pci_sriov_exit(struct vfio_pci_core_device *vdev) { }
int vfio_pci_validate_vf_token(struct vfio_pci_core_device *vdev,
			       bool vf_token, uuid_t *uuid) { return 0; }
int vfio_pci_feature_vf_token(struct vfio_pci_core_device *vdev, u32 flags,
			      void __user *arg, size_t argsz) { return -ENOTTY; }
void vfio_pci_sriov_open(struct vfio_pci_core_device *vdev) { }
void vfio_pci_sriov_close(struct vfio_pci_core_device *vdev) { }
int vfio_pci_core_sriov_configure(struct vfio_pci_core_device *vdev, int nr_virtfn)
{ return -ENOENT; }
EXPORT_SYMBOL_GPL(vfio_pci_core_sriov_configure);
