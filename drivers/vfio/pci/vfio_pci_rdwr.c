// SPDX-License-Identifier: GPL-2.0-only
/* vfio-pci-core: region I/O and mmap (placeholder, being written) */
#include <linux/pci.h>
#include "vfio_pci_priv.h"

long vfio_pci_ioctl_get_region_info(struct vfio_pci_core_device *vdev,
				    struct vfio_region_info __user *arg) { return -ENOTTY; }
ssize_t vfio_pci_rw(struct vfio_pci_core_device *vdev, char __user *buf,
		    size_t count, loff_t *ppos, bool iswrite) { return -EINVAL; }
void vfio_pci_probe_mmaps(struct vfio_pci_core_device *vdev) { }
void vfio_pci_regions_release(struct vfio_pci_core_device *vdev) { }
void vfio_pci_zap_bars(struct vfio_pci_core_device *vdev) { }
void vfio_pci_zap_and_down_write_memory_lock(struct vfio_pci_core_device *vdev)
{ down_write(&vdev->memory_lock); }
u16 vfio_pci_memory_lock_and_enable(struct vfio_pci_core_device *vdev)
{ down_write(&vdev->memory_lock); return 0; }
void vfio_pci_memory_unlock_and_restore(struct vfio_pci_core_device *vdev, u16 cmd)
{ up_write(&vdev->memory_lock); }
int vfio_pci_core_mmap(struct vfio_device *core_vdev, struct vm_area_struct *vma) { return -EINVAL; }
EXPORT_SYMBOL_GPL(vfio_pci_core_mmap);
