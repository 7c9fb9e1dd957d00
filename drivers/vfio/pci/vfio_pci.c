// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci: the generic VFIO PCI driver.
 *
 * A pci_driver that binds functions named by ids= or by driver_override,
 * and a vfio_device_ops table made of vfio-pci-core library calls, open
 * wrapped to add Intel IGD regions (vfio_pci_igd.c).
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_igd.h"

#define DRIVER_DESC "VFIO PCI - generic driver for assigning PCI functions"

static char ids[1024] __initdata;
module_param_string(ids, ids, sizeof(ids), 0);
MODULE_PARM_DESC(ids, "Comma-separated PCI IDs to bind at load: vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex");

static bool nointxmask;
module_param(nointxmask, bool, 0444);
MODULE_PARM_DESC(nointxmask, "Never mask INTx with the command register's DisINTx bit; require an exclusive line and mask at the interrupt controller instead");

#ifdef CONFIG_VFIO_PCI_VGA
static bool disable_vga;
module_param(disable_vga, bool, 0444);
MODULE_PARM_DESC(disable_vga, "Do not offer the legacy VGA region of VGA-class devices");
#else
#define disable_vga true
#endif

static bool disable_idle_d3;
module_param(disable_idle_d3, bool, 0444);
MODULE_PARM_DESC(disable_idle_d3, "Keep bound devices in D0 while nobody uses them instead of putting them in D3hot");

static bool enable_sriov;
#ifdef CONFIG_PCI_IOV
module_param(enable_sriov, bool, 0644);
MODULE_PARM_DESC(enable_sriov, "Allow sriov_numvfs on bound PFs; the VFs then depend on the userspace driver of the PF, which needs the VF token");
#endif

static bool disable_denylist;
module_param(disable_denylist, bool, 0444);
MODULE_PARM_DESC(disable_denylist, "Bind even devices on the built-in list of functions that are unsafe to give to an untrusted user");

/*
 * The library's open, with Intel integrated graphics' regions (OpRegion,
 * bridge config) added in between for VMMs that assign an IGD
 */
static int vfio_pci_open_device(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev = vfio_pci_core_from_vdev(core_vdev);
	int ret;

	ret = vfio_pci_core_enable(vdev);
	if (ret)
		return ret;
	if (vfio_pci_is_intel_display(vdev->pdev))
		ret = vfio_pci_igd_init(vdev);
	/* the session goes on only with every region it was to have */
	if (ret)
		vfio_pci_core_disable(vdev);
	else
		vfio_pci_core_finish_enable(vdev);
	return ret;
}

/*
 * Every entry but open is a library routine: vfio-pci adds no behaviour of
 * its own beyond the IGD regions
 */
static const struct vfio_device_ops vfio_pci_ops = {
	.name		= "vfio-pci",
	/* the object */
	.init		= vfio_pci_core_init_dev,
	.release	= vfio_pci_core_release_dev,
	/* iommufd, where the kernel has it: a physical device */
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	/* a user session */
	.match		= vfio_pci_core_match,
	.open_device	= vfio_pci_open_device,
	.close_device	= vfio_pci_core_close_device,
	.request	= vfio_pci_core_request,
	/* what the user does with the device fd */
	.mmap		= vfio_pci_core_mmap,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.ioctl		= vfio_pci_core_ioctl,
};

/*
 * Functions known to be unsafe to hand to an untrusted user: Intel
 * QuickAssist PFs and VFs, whose firmware interfaces can corrupt host
 * memory when driven without the host driver's cooperation, and the Sapphire
 * Rapids DSA and IAA accelerators (DSA_SPR0, IAX_SPR0), whose errata let a
 * user of the function reach beyond what the IOMMU grants it.
 */
static const struct pci_device_id vfio_pci_denylist[] = {
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C3XXX) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C3XXX_VF) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C62X) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C62X_VF) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_DH895XCC) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_DH895XCC_VF) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_DSA_SPR0) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_IAX_SPR0) },
	{}
};

/* Whether @vendor:@device is on the denylist (any subsystem IDs) */
static bool vfio_pci_denylisted(u16 vendor, u16 device)
{
	const struct pci_device_id *id;

	for (id = vfio_pci_denylist; id->vendor; id++)
		if (id->vendor == vendor && id->device == device)
			return true;
	return false;
}

/* -EINVAL for a function on the denylist, unless the admin disabled it */
static int vfio_pci_check_denylist(struct pci_dev *pdev)
{
	if (disable_denylist || !vfio_pci_denylisted(pdev->vendor, pdev->device))
		return 0;

	pci_warn(pdev, "%04x:%04x is denylisted for vfio-pci; disable_denylist=1 overrides\n",
		 pdev->vendor, pdev->device);
	return -EINVAL;
}

static int vfio_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vfio_pci_core_device *core;
	int err;

	err = vfio_pci_check_denylist(pdev);
	if (err)
		return err;

	core = vfio_alloc_device(vfio_pci_core_device, vdev, &pdev->dev, &vfio_pci_ops);
	if (IS_ERR(core))
		return PTR_ERR(core);

	/* The library finds its device through the driver data */
	dev_set_drvdata(&pdev->dev, core);
	err = vfio_pci_core_register_device(core);
	if (err)
		vfio_put_device(&core->vdev);
	return err;
}

static void vfio_pci_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	/* Waits for every user to close the device */
	vfio_pci_core_unregister_device(core);
	vfio_put_device(&core->vdev);
}

static int vfio_pci_sriov_configure(struct pci_dev *pdev, int nr_virtfn)
{
	/* VFs of a user-owned PF only when the administrator allowed them */
	if (!enable_sriov)
		return -ENOENT;
	return vfio_pci_core_sriov_configure(dev_get_drvdata(&pdev->dev), nr_virtfn);
}

/* No static IDs: ids= adds dynamic ones, driver_override binds the rest */
static const struct pci_device_id vfio_pci_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, vfio_pci_table);

static struct pci_driver vfio_pci_driver = {
	.name			= "vfio-pci",
	.driver			= {
		/* opt in to idle D3 and the low-power features */
		.pm		= &vfio_pci_core_pm_ops,
	},
	/* userspace programs the device's DMA, through the IOMMU */
	.driver_managed_dma	= true,
	.id_table		= vfio_pci_table,
	.err_handler		= &vfio_pci_core_err_handlers,
	.sriov_configure	= vfio_pci_sriov_configure,
	.probe			= vfio_pci_probe,
	.remove			= vfio_pci_remove,
};

/* Parse ids= and add each entry as a dynamic ID */
static void __init vfio_pci_fill_ids(void)
{
	char *p, *id;
	int ret;

	p = ids;
	while ((id = strsep(&p, ","))) {
		unsigned int vendor, device, subvendor = PCI_ANY_ID;
		unsigned int subdevice = PCI_ANY_ID, class = 0, class_mask = 0;
		int fields;

		if (!*id)
			continue;

		fields = sscanf(id, "%x:%x:%x:%x:%x:%x", &vendor, &device,
				&subvendor, &subdevice, &class, &class_mask);
		if (fields < 2) {
			pr_warn("vfio-pci: invalid id string \"%s\"\n", id);
			continue;
		}

		ret = pci_add_dynid(&vfio_pci_driver, vendor, device, subvendor,
				    subdevice, class, class_mask, 0);
		if (ret)
			pr_warn("vfio-pci: ids: cannot add %s: %d\n", id, ret);
		else
			pr_info("vfio-pci: ids: added %s\n", id);
	}
}

static int __init vfio_pci_init(void)
{
	int err;

	if (disable_denylist)
		pr_warn("vfio-pci: denylisted devices may be bound (disable_denylist=1)\n");

	/* The library applies these to every device opened from now on */
	vfio_pci_core_set_params(nointxmask, disable_vga, disable_idle_d3);

	err = pci_register_driver(&vfio_pci_driver);
	if (!err)
		vfio_pci_fill_ids();	/* dynamic IDs need a registered driver */
	return err;
}

static void __exit vfio_pci_exit(void)
{
	pci_unregister_driver(&vfio_pci_driver);
}

module_init(vfio_pci_init);
module_exit(vfio_pci_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(DRIVER_DESC);
/* dkms refuses to replace a module whose version equals the kernel's */
MODULE_VERSION("1.0");

#if IS_ENABLED(CONFIG_VFIO_PCI_CORE_KUNIT_TEST)
#include "vfio_pci_kunit.c"
#endif
