// SPDX-License-Identifier: GPL-2.0-only
/* vfio-pci-core: interrupts (placeholder, being written) */
#include <linux/pci.h>
#include "vfio_pci_priv.h"

int vfio_pci_irq_count(struct vfio_pci_core_device *vdev, unsigned int index) { return 0; }
long vfio_pci_ioctl_get_irq_info(struct vfio_pci_core_device *vdev,
				 struct vfio_irq_info __user *arg) { return -ENOTTY; }
long vfio_pci_ioctl_set_irqs(struct vfio_pci_core_device *vdev,
			     struct vfio_irq_set __user *arg) { return -ENOTTY; }
void vfio_pci_irqs_teardown(struct vfio_pci_core_device *vdev) { }
bool vfio_pci_intx_mask(struct vfio_pci_core_device *vdev) { return false; }
void vfio_pci_intx_unmask(struct vfio_pci_core_device *vdev) { }
bool vfio_pci_signal_req(struct vfio_pci_core_device *vdev) { return false; }
void vfio_pci_msix_restore(struct vfio_pci_core_device *vdev) { }
pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev,
						pci_channel_state_t state)
{ return PCI_ERS_RESULT_CAN_RECOVER; }
EXPORT_SYMBOL_GPL(vfio_pci_core_aer_err_detected);
const struct pci_error_handlers vfio_pci_core_err_handlers = {
	.error_detected = vfio_pci_core_aer_err_detected,
};
EXPORT_SYMBOL_GPL(vfio_pci_core_err_handlers);
