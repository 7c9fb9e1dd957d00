// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-core: interrupts.
 *
 * Userspace receives the device's interrupts as eventfd signals and
 * configures them with VFIO_DEVICE_SET_IRQS.  Five indexes exist:
 *
 *   INTx    the legacy pin.  Level triggered, so it is "automasked": the
 *           hard irq handler masks the source (DisINTx in the command
 *           register when the function supports it, otherwise the whole,
 *           then exclusive, line at the irq chip) before signalling, and the
 *           user unmasks it once the device was serviced.
 *   MSI     one block of 1..32 vectors, sized once when it is enabled.
 *   MSI-X   up to 2048 vectors; an enabled block grows in place where the
 *           platform can allocate vectors on an enabled function, and is
 *           re-created around the bound vectors otherwise.
 *   ERR     signalled from AER's error_detected callback (PCIe only).
 *   REQ     signalled when the kernel asks the user to release the device.
 *
 * Only one of INTx, MSI and MSI-X is in use at a time (vdev->irq_type).
 * Every vector that has an eventfd owns a struct vfio_pci_irq_ctx, stored in
 * vdev->ctx by vector number.
 *
 * Locking.  vdev->igate serialises every configuration change and protects
 * irq_type, num_ctx, the contexts and the ERR/REQ eventfds.  MSI-X vectors
 * live in a table in BAR memory: allocating, requesting (which unmasks) and
 * freeing them writes that table, so it happens with vdev->memory_lock held
 * for write and memory decode forced on, nested inside igate
 * (vfio_pci_memory_lock_and_enable()).  vdev->irqlock, a spinlock taken
 * from the hard irq handler, protects vdev->intx_masked and the hardware
 * masking that goes with it.
 */
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqbypass.h>
#include <linux/moduleparam.h>
#include <linux/msi.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include <kunit/visibility.h>

#include "vfio_pci_priv.h"

static bool disable_dyn_msix;
module_param(disable_dyn_msix, bool, 0644);
MODULE_PARM_DESC(disable_dyn_msix,
		 "Never add MSI-X vectors to an enabled block in place; re-create the block instead (default: off)");

/**
 * struct vfio_pci_irq_ctx - one interrupt vector handed to userspace
 * @vdev: the device
 * @trigger: eventfd signalled for the interrupt; read locklessly by the
 *	irq handler, replaced only under igate followed by synchronize_irq()
 * @unmask: INTx: eventfd whose signal unmasks the line (virqfd)
 * @name: name shown in /proc/interrupts
 * @irq: Linux irq number the handler is requested on
 * @bypass: @producer is registered with the irq bypass manager
 * @producer: lets KVM post the interrupt straight to a vCPU; the token
 *	is @trigger, which KVM's irqfd for the same eventfd matches
 */
struct vfio_pci_irq_ctx {
	struct vfio_pci_core_device	*vdev;
	struct eventfd_ctx		*trigger;
	struct virqfd			*unmask;
	char				*name;
	int				irq;
	bool				bypass;
	struct irq_bypass_producer	producer;
};

static bool vfio_irq_active(struct vfio_pci_core_device *vdev,
			    unsigned int index)
{
	return vdev->irq_type == index;
}

static bool vfio_irq_none(struct vfio_pci_core_device *vdev)
{
	return vdev->irq_type != VFIO_PCI_INTX_IRQ_INDEX &&
	       vdev->irq_type != VFIO_PCI_MSI_IRQ_INDEX &&
	       vdev->irq_type != VFIO_PCI_MSIX_IRQ_INDEX;
}

static bool vfio_msix_can_grow(struct vfio_pci_core_device *vdev)
{
	return !READ_ONCE(disable_dyn_msix) &&
	       pci_msix_can_alloc_dyn(vdev->pdev);
}

/* Allocate a context for @vector and publish it in vdev->ctx */
static struct vfio_pci_irq_ctx *
vfio_irq_ctx_new(struct vfio_pci_core_device *vdev, unsigned int index,
		 unsigned int vector)
{
	const char *bdf = pci_name(vdev->pdev);
	struct vfio_pci_irq_ctx *ctx;

	lockdep_assert_held(&vdev->igate);

	ctx = vfio_pci_fail() ? NULL : kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return NULL;

	ctx->vdev = vdev;
	if (index == VFIO_PCI_INTX_IRQ_INDEX)
		ctx->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-intx(%s)", bdf);
	else
		ctx->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-msi%s[%u](%s)",
				      index == VFIO_PCI_MSIX_IRQ_INDEX ?
				      "x" : "", vector, bdf);
	if (!ctx->name || vfio_pci_fail())
		goto out_free_name;

	if (xa_insert(&vdev->ctx, vector, ctx, GFP_KERNEL_ACCOUNT))
		goto out_free_name;
	return ctx;

out_free_name:
	kfree(ctx->name);
	kfree(ctx);
	return NULL;
}

/* Unpublish and free a context; its trigger is the caller's business */
static void vfio_irq_ctx_free(struct vfio_pci_core_device *vdev,
			      unsigned int vector, struct vfio_pci_irq_ctx *ctx)
{
	lockdep_assert_held(&vdev->igate);

	xa_erase(&vdev->ctx, vector);
	kfree(ctx->name);
	kfree(ctx);
}

/* Replace one of the single-eventfd triggers (ERR, REQ) */
static void vfio_trigger_replace(struct vfio_pci_core_device *vdev,
				 struct eventfd_ctx **slot,
				 struct eventfd_ctx *trigger)
{
	struct eventfd_ctx *old;

	lockdep_assert_held(&vdev->igate);

	old = *slot;
	*slot = trigger;
	if (old)
		eventfd_ctx_put(old);
}

/*
 * Resolve a user eventfd number for a TRIGGER/UNMASK binding: -1 means
 * "none" (*trigger = NULL), anything else must be an open eventfd.
 */
static int vfio_eventfd_get(s32 fd, struct eventfd_ctx **trigger)
{
	struct eventfd_ctx *ctx;

	*trigger = NULL;
	if (fd == -1)
		return 0;
	if (fd < 0)
		return -EINVAL;

	ctx = vfio_pci_fail() ? ERR_PTR(-EBADF) : eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	*trigger = ctx;
	return 0;
}

/* ---- INTx ------------------------------------------------------------- */

/*
 * Deliver INTx to the user, unless the user disabled it in the emulated
 * command register.  Called from the hard irq handler, from the virqfd
 * worker after an unmask found the interrupt still pending, and from the
 * loopback path of SET_IRQS.
 */
static void vfio_intx_signal(void *opaque, void *data)
{
	struct vfio_pci_core_device *vdev = opaque;
	struct vfio_pci_irq_ctx *ctx = data;
	struct eventfd_ctx *trigger;

	if (vdev->irq_type != VFIO_PCI_INTX_IRQ_INDEX || vdev->virq_disabled)
		return;

	trigger = READ_ONCE(ctx->trigger);
	if (trigger)
		eventfd_signal(trigger);
}

static irqreturn_t vfio_intx_handler(int irq, void *dev_id)
{
	struct vfio_pci_irq_ctx *ctx = dev_id;
	struct vfio_pci_core_device *vdev = ctx->vdev;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (!vdev->pci_2_3) {
		/* Exclusive line: ours by definition, mask it at the chip */
		disable_irq_nosync(irq);
		vdev->intx_masked = true;
		ret = IRQ_HANDLED;
	} else if (!vdev->intx_masked && pci_check_and_mask_intx(vdev->pdev)) {
		/* Shared line: only claim it if our function asserts it */
		vdev->intx_masked = true;
		ret = IRQ_HANDLED;
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);

	if (ret == IRQ_HANDLED)
		vfio_intx_signal(vdev, ctx);
	return ret;
}

/*
 * Mask INTx.  Returns true if this call masked it, false if it already was
 * masked or INTx is not in use (then there is no handler, and the device's
 * INTx stays disabled at the function, see vfio_intx_quiesce()).
 */
static bool vfio_intx_mask_locked(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	bool changed = false;
	unsigned long flags;

	lockdep_assert_held(&vdev->igate);

	if (!vfio_irq_active(vdev, VFIO_PCI_INTX_IRQ_INDEX))
		return false;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (!vdev->intx_masked) {
		/* Mask unconditionally, not only when something is pending */
		if (vdev->pci_2_3)
			pci_intx(pdev, 0);
		else
			disable_irq_nosync(pdev->irq);
		vdev->intx_masked = true;
		changed = true;
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);

	return changed;
}

/*
 * Unmask INTx unless the user keeps it disabled in the emulated command
 * register.  Runs in process context or, as a virqfd handler, inside the
 * unmask eventfd's wake-up (atomic, and signalling an eventfd there is not
 * allowed).  Returns 1 when the interrupt is still pending and the user must
 * be signalled again, 0 otherwise.
 */
static int vfio_intx_unmask_handler(void *opaque, void *data)
{
	struct vfio_pci_core_device *vdev = opaque;
	struct pci_dev *pdev = vdev->pdev;
	unsigned long flags;
	int pending = 0;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (vfio_irq_active(vdev, VFIO_PCI_INTX_IRQ_INDEX) &&
	    vdev->intx_masked && !vdev->virq_disabled) {
		if (!vdev->pci_2_3)
			enable_irq(pdev->irq);
		else if (!pci_check_and_unmask_intx(pdev))
			pending = 1;	/* still asserted: stays masked */
		vdev->intx_masked = pending;
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);

	return pending;
}

static void vfio_intx_unmask_locked(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_irq_ctx *ctx;

	lockdep_assert_held(&vdev->igate);

	if (!vfio_irq_active(vdev, VFIO_PCI_INTX_IRQ_INDEX))
		return;

	ctx = xa_load(&vdev->ctx, 0);
	if (vfio_intx_unmask_handler(vdev, ctx))
		vfio_intx_signal(vdev, ctx);
}

/**
 * vfio_pci_intx_policy() - whether INTx may be offered to a user
 * @irq: the function's legacy interrupt (pdev->irq)
 * @is_virtfn: the function is an SR-IOV VF
 * @vendor: PCI vendor ID
 * @device: PCI device ID
 *
 * VFs have no INTx, and a function without a routed line (0, or
 * IRQ_NOTCONNECTED when firmware says the pin goes nowhere) has none to
 * offer: its interrupt pin must read 0 or QEMU tries to wire it up and
 * fails.  Some Intel NICs (the i40e family: XL710, X710, XXV710, X722;
 * and X550) never set the INTx status bit, so DisINTx masking cannot tell
 * whether they asserted the line: offered, a single assertion would storm
 * until the host shuts down a line other devices may share.  Those keep
 * INTx disabled for the whole session.
 *
 * Return: the policy for the function.
 */
enum vfio_pci_intx_policy vfio_pci_intx_policy(unsigned int irq, bool is_virtfn,
					       u16 vendor, u16 device)
{
	if (is_virtfn || !irq || irq == IRQ_NOTCONNECTED)
		return VFIO_PCI_INTX_NONE;
	if (vendor != PCI_VENDOR_ID_INTEL)
		return VFIO_PCI_INTX_OK;

	switch (device) {
	case 0x1572: case 0x1574:		/* XL710/X710 */
	case 0x1580: case 0x1581:		/* XL710 KX/KR backplane */
	case 0x1583 ... 0x158b:			/* XL710, X710, XXV710 */
	case 0x37d0 ... 0x37d2:			/* X722 */
	case 0x1563:				/* X550 */
		return VFIO_PCI_INTX_BROKEN;
	default:
		return VFIO_PCI_INTX_OK;
	}
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_intx_policy);

/*
 * With no INTx handler registered, keep the function from asserting its
 * pin: a line shared with other devices would otherwise scream.
 */
static void vfio_intx_quiesce(struct vfio_pci_core_device *vdev)
{
	if (vdev->pci_2_3 || vdev->nointx)
		pci_intx(vdev->pdev, 0);
}

static int vfio_intx_enable(struct vfio_pci_core_device *vdev,
			    struct eventfd_ctx *trigger)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_irq_ctx *ctx;
	unsigned long irqflags;
	int ret;

	lockdep_assert_held(&vdev->igate);

	if (vdev->nointx || !pdev->irq || pdev->irq == IRQ_NOTCONNECTED)
		return -ENODEV;

	ctx = vfio_irq_ctx_new(vdev, VFIO_PCI_INTX_IRQ_INDEX, 0);
	if (!ctx)
		return -ENOMEM;
	ctx->trigger = trigger;
	ctx->irq = pdev->irq;

	/*
	 * No handler or virqfd exists yet, so the masked state can be set up
	 * without irqlock.  It starts as the user's emulated DisINTx bit.
	 * irq_type must be INTx before the handler can run.
	 */
	vdev->intx_masked = vdev->virq_disabled;
	if (vdev->pci_2_3) {
		pci_intx(pdev, !vdev->intx_masked);
		irqflags = IRQF_SHARED;
	} else {
		/* The function never masks itself here: the chip does */
		pci_intx(pdev, 1);
		irq_set_status_flags(pdev->irq, IRQ_DISABLE_UNLAZY);
		irqflags = vdev->intx_masked ? IRQF_NO_AUTOEN : 0;
	}

	vdev->irq_type = VFIO_PCI_INTX_IRQ_INDEX;
	vdev->num_ctx = 1;

	ret = vfio_pci_fail() ? -EBUSY :
	      request_irq(pdev->irq, vfio_intx_handler, irqflags, ctx->name,
			  ctx);
	if (ret)
		goto out_undo;
	return 0;

out_undo:
	vdev->irq_type = -1;
	vdev->num_ctx = 0;
	vdev->intx_masked = false;
	if (!vdev->pci_2_3)
		irq_clear_status_flags(pdev->irq, IRQ_DISABLE_UNLAZY);
	vfio_intx_quiesce(vdev);
	vfio_irq_ctx_free(vdev, 0, ctx);
	return ret;
}

/* Point INTx at another eventfd (or none); INTx stays enabled */
static void vfio_intx_set_trigger(struct vfio_pci_core_device *vdev,
				  struct eventfd_ctx *trigger)
{
	struct vfio_pci_irq_ctx *ctx = xa_load(&vdev->ctx, 0);
	struct eventfd_ctx *old;

	lockdep_assert_held(&vdev->igate);

	old = ctx->trigger;
	WRITE_ONCE(ctx->trigger, trigger);
	if (old) {
		/* Wait for the handler and the virqfd worker to let go */
		synchronize_irq(ctx->irq);
		vfio_virqfd_flush_thread(&ctx->unmask);
		eventfd_ctx_put(old);
	}
}

static void vfio_intx_disable(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_irq_ctx *ctx = xa_load(&vdev->ctx, 0);

	lockdep_assert_held(&vdev->igate);

	/* No unmask eventfd may call in once the context is gone */
	vfio_virqfd_disable(&ctx->unmask);
	free_irq(pdev->irq, ctx);
	if (!vdev->pci_2_3)
		irq_clear_status_flags(pdev->irq, IRQ_DISABLE_UNLAZY);

	vdev->irq_type = -1;
	vdev->num_ctx = 0;
	vdev->intx_masked = false;
	vfio_intx_quiesce(vdev);

	if (ctx->trigger)
		eventfd_ctx_put(ctx->trigger);
	vfio_irq_ctx_free(vdev, 0, ctx);
}

/* ---- MSI and MSI-X ---------------------------------------------------- */

static irqreturn_t vfio_msi_handler(int irq, void *dev_id)
{
	struct vfio_pci_irq_ctx *ctx = dev_id;
	struct eventfd_ctx *trigger = READ_ONCE(ctx->trigger);

	if (trigger)
		eventfd_signal(trigger);
	return IRQ_HANDLED;
}

static void vfio_msi_bypass_add(struct vfio_pci_irq_ctx *ctx)
{
	int ret;

	if (ctx->bypass)
		return;

	ctx->producer.token = ctx->trigger;
	ctx->producer.irq = ctx->irq;
	ret = vfio_pci_fail() ? -EBUSY :
	      irq_bypass_register_producer(&ctx->producer);
	if (ret) {
		/* Interrupts still arrive through the eventfd, only slower */
		pci_info_ratelimited(ctx->vdev->pdev,
				     "%s: no irq bypass (%d)\n", ctx->name, ret);
		ctx->producer.token = NULL;
		return;
	}
	ctx->bypass = true;
}

static void vfio_msi_bypass_del(struct vfio_pci_irq_ctx *ctx)
{
	if (!ctx->bypass)
		return;

	irq_bypass_unregister_producer(&ctx->producer);
	ctx->producer.token = NULL;
	ctx->bypass = false;
}

/*
 * Write an MSI-X vector's table entry (message and mask) from what the
 * kernel holds for it; memory_lock held for write, decode on
 */
static void vfio_msix_rewrite_entry(struct vfio_pci_irq_ctx *ctx)
{
	struct msi_msg msg;

	lockdep_assert_held_write(&ctx->vdev->memory_lock);
	get_cached_msi_msg(ctx->irq, &msg);
	pci_write_msi_msg(ctx->irq, &msg);
}

/* Request the handler of a context whose ->irq and ->trigger are set */
static int vfio_msi_request(struct vfio_pci_core_device *vdev,
			    struct vfio_pci_irq_ctx *ctx, bool msix)
{
	lockdep_assert_held_write(&vdev->memory_lock);

	/*
	 * The vector may have been allocated long ago: rewrite its table
	 * entry in case a reset behind the kernel's back cleared it.
	 */
	if (msix)
		vfio_msix_rewrite_entry(ctx);
	if (vfio_pci_fail())
		return -EBUSY;
	return request_irq(ctx->irq, vfio_msi_handler, 0, ctx->name, ctx);
}

/*
 * Linux irq number of @vector, allocating the vector when MSI-X can grow
 * in place.  Allocated vectors stay until the whole block is freed.
 */
static int vfio_msi_vector_irq(struct vfio_pci_core_device *vdev,
			       unsigned int vector, bool msix)
{
	struct pci_dev *pdev = vdev->pdev;
	struct msi_map map;
	int irq;

	lockdep_assert_held_write(&vdev->memory_lock);

	irq = pci_irq_vector(pdev, vector);
	if (irq > 0)
		return irq;
	if (!msix || !vfio_msix_can_grow(vdev))
		return -EINVAL;

	if (vfio_pci_fail())
		return -ENOSPC;
	map = pci_msix_alloc_irq_at(pdev, vector, NULL);
	if (map.index < 0)
		return map.index;
	if (vector >= vdev->num_ctx)
		vdev->num_ctx = vector + 1;
	return map.virq;
}

/*
 * Allocate @nvec vectors and switch to MSI or MSI-X.  Returns 0, a negative
 * errno, or, when the platform can give only fewer vectors (x86 without
 * interrupt remapping has no multi-message MSI; vector space may run out),
 * that number: nothing stays allocated, and SET_IRQS hands the number to
 * the user, who may ask again for as many (QEMU does; upstream 6.12 answers
 * the same way).
 */
static int vfio_msi_enable(struct vfio_pci_core_device *vdev,
			   unsigned int nvec, bool msix)
{
	unsigned int type = msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI;
	int ret;
	u16 cmd;

	lockdep_assert_held(&vdev->igate);

	cmd = vfio_pci_memory_lock_and_enable(vdev);
	ret = vfio_pci_fail() ? -ENOSPC :
	      pci_alloc_irq_vectors(vdev->pdev, 1, nvec, type);
	if (ret > 0 && ret < nvec) {
		pci_free_irq_vectors(vdev->pdev);
	} else if (ret > 0) {
		vdev->irq_type = msix ? VFIO_PCI_MSIX_IRQ_INDEX :
					VFIO_PCI_MSI_IRQ_INDEX;
		vdev->num_ctx = nvec;
		ret = 0;
	}
	vfio_pci_memory_unlock_and_restore(vdev, cmd);

	return ret;
}

/* Free the handler of an MSI/MSI-X context and the context itself */
static void vfio_msi_release(struct vfio_pci_core_device *vdev,
			     unsigned int vector, struct vfio_pci_irq_ctx *ctx)
{
	lockdep_assert_held_write(&vdev->memory_lock);

	free_irq(ctx->irq, ctx);
	eventfd_ctx_put(ctx->trigger);
	vfio_irq_ctx_free(vdev, vector, ctx);
}

static void vfio_msi_disable(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_irq_ctx *ctx;
	unsigned long vector;
	u16 cmd;

	lockdep_assert_held(&vdev->igate);

	xa_for_each(&vdev->ctx, vector, ctx)
		vfio_msi_bypass_del(ctx);

	cmd = vfio_pci_memory_lock_and_enable(vdev);
	xa_for_each(&vdev->ctx, vector, ctx)
		vfio_msi_release(vdev, vector, ctx);
	pci_free_irq_vectors(vdev->pdev);
	vdev->irq_type = -1;
	vdev->num_ctx = 0;
	vfio_pci_memory_unlock_and_restore(vdev, cmd);

	/* Freeing the vectors turned INTx back on at the function */
	vfio_intx_quiesce(vdev);
}

/*
 * MSI-X without dynamic allocation: re-create the block with @nvec vectors
 * and re-bind every vector that had an eventfd.  If @nvec vectors cannot be
 * had, the old size is restored and the error returned; if even that fails,
 * MSI-X ends up disabled.  Interrupts raised while the block was being
 * re-created may have been lost, so each re-bound eventfd is signalled once:
 * a spurious interrupt is harmless, a lost one is not.
 */
static int vfio_msix_regrow(struct vfio_pci_core_device *vdev,
			    unsigned int nvec)
{
	unsigned int old = vdev->num_ctx;
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_irq_ctx *ctx;
	unsigned long vector;
	int ret, err;
	u16 cmd;

	lockdep_assert_held(&vdev->igate);

	xa_for_each(&vdev->ctx, vector, ctx)
		vfio_msi_bypass_del(ctx);

	cmd = vfio_pci_memory_lock_and_enable(vdev);
	xa_for_each(&vdev->ctx, vector, ctx)
		free_irq(ctx->irq, ctx);
	pci_free_irq_vectors(pdev);

	ret = vfio_pci_fail() ? -ENOSPC :
	      pci_alloc_irq_vectors(pdev, nvec, nvec, PCI_IRQ_MSIX);
	if (ret < 0) {
		nvec = old;
		err = pci_alloc_irq_vectors(pdev, nvec, nvec, PCI_IRQ_MSIX);
		if (err < 0) {
			pci_warn(pdev, "MSI-X lost while resizing: %d\n", err);
			xa_for_each(&vdev->ctx, vector, ctx) {
				eventfd_ctx_put(ctx->trigger);
				vfio_irq_ctx_free(vdev, vector, ctx);
			}
			vdev->irq_type = -1;
			vdev->num_ctx = 0;
			vfio_pci_memory_unlock_and_restore(vdev, cmd);
			vfio_intx_quiesce(vdev);
			return ret;
		}
	}
	vdev->num_ctx = nvec;

	xa_for_each(&vdev->ctx, vector, ctx) {
		ctx->irq = pci_irq_vector(pdev, vector);
		if (ctx->irq <= 0 || vfio_msi_request(vdev, ctx, true)) {
			pci_warn(pdev, "%s lost while resizing MSI-X\n",
				 ctx->name);
			eventfd_ctx_put(ctx->trigger);
			vfio_irq_ctx_free(vdev, vector, ctx);
		}
	}
	vfio_pci_memory_unlock_and_restore(vdev, cmd);

	xa_for_each(&vdev->ctx, vector, ctx) {
		vfio_msi_bypass_add(ctx);
		eventfd_signal(ctx->trigger);
	}

	return ret < 0 ? ret : 0;
}

/*
 * Bind vectors [start, start + count) to the eventfds in @fds (-1 unbinds).
 * All or nothing: every eventfd is resolved and every new handler requested
 * before any existing binding changes, so a failure leaves the bindings as
 * they were (a resized or grown block of vectors may remain).
 */
static int vfio_msi_set_block(struct vfio_pci_core_device *vdev,
			      unsigned int start, unsigned int count,
			      const s32 *fds, bool msix)
{
	unsigned int index = msix ? VFIO_PCI_MSIX_IRQ_INDEX :
				    VFIO_PCI_MSI_IRQ_INDEX;
	struct eventfd_ctx **triggers;
	struct vfio_pci_irq_ctx **fresh;
	struct vfio_pci_irq_ctx *ctx;
	struct eventfd_ctx *old;
	unsigned int i, need = 0;
	bool release = false;
	int irq, ret = 0;
	u16 cmd;

	lockdep_assert_held(&vdev->igate);

	triggers = kcalloc(count, sizeof(*triggers), GFP_KERNEL_ACCOUNT);
	fresh = kcalloc(count, sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!triggers || !fresh || vfio_pci_fail()) {
		ret = -ENOMEM;
		goto out_free;
	}

	for (i = 0; i < count; i++) {
		ret = vfio_eventfd_get(fds[i], &triggers[i]);
		if (ret)
			goto out_put;
		if (triggers[i])
			need = start + i + 1;
	}

	if (msix && need > vdev->num_ctx && !vfio_msix_can_grow(vdev)) {
		ret = vfio_msix_regrow(vdev, need);
		if (ret)
			goto out_put;
	}

	/* Request a handler for every vector that gains an eventfd */
	cmd = vfio_pci_memory_lock_and_enable(vdev);
	for (i = 0; i < count; i++) {
		if (!triggers[i] || xa_load(&vdev->ctx, start + i))
			continue;

		irq = vfio_msi_vector_irq(vdev, start + i, msix);
		if (irq < 0) {
			ret = irq;
			break;
		}
		ctx = vfio_irq_ctx_new(vdev, index, start + i);
		if (!ctx) {
			ret = -ENOMEM;
			break;
		}
		ctx->irq = irq;
		ctx->trigger = triggers[i];
		ret = vfio_msi_request(vdev, ctx, msix);
		if (ret) {
			vfio_irq_ctx_free(vdev, start + i, ctx);
			break;
		}
		fresh[i] = ctx;
	}
	if (ret) {
		while (i--) {
			if (!fresh[i])
				continue;
			free_irq(fresh[i]->irq, fresh[i]);
			vfio_irq_ctx_free(vdev, start + i, fresh[i]);
		}
		vfio_pci_memory_unlock_and_restore(vdev, cmd);
		goto out_put;
	}
	/*
	 * A vector bound again keeps its handler, but its table entry is
	 * written anew as a new one's is (vfio_msi_request()): a reset behind
	 * the kernel's back may have masked and cleared it, and a user binds
	 * a vector again when its guest unmasks it (QEMU does), as upstream
	 * 6.12 rewrites it on every binding.
	 */
	for (i = 0; msix && i < count; i++) {
		ctx = xa_load(&vdev->ctx, start + i);
		if (ctx && triggers[i] && !fresh[i])
			vfio_msix_rewrite_entry(ctx);
	}
	vfio_pci_memory_unlock_and_restore(vdev, cmd);

	/*
	 * Nothing below fails: move the existing bindings.  A vector that
	 * changes eventfd keeps its handler, which reads the new trigger.
	 */
	for (i = 0; i < count; i++) {
		ctx = xa_load(&vdev->ctx, start + i);
		if (!ctx || fresh[i] || ctx->trigger == triggers[i])
			continue;
		vfio_msi_bypass_del(ctx);
		if (!triggers[i]) {
			release = true;
			continue;
		}
		old = ctx->trigger;
		WRITE_ONCE(ctx->trigger, triggers[i]);
		synchronize_irq(ctx->irq);
		eventfd_ctx_put(old);
		fresh[i] = ctx;
	}

	if (release) {
		cmd = vfio_pci_memory_lock_and_enable(vdev);
		for (i = 0; i < count; i++) {
			ctx = xa_load(&vdev->ctx, start + i);
			if (ctx && !triggers[i])
				vfio_msi_release(vdev, start + i, ctx);
		}
		vfio_pci_memory_unlock_and_restore(vdev, cmd);
	}

	for (i = 0; i < count; i++) {
		if (!fresh[i])
			continue;
		vfio_msi_bypass_add(fresh[i]);
		triggers[i] = NULL;	/* now owned by the context */
	}

out_put:
	for (i = 0; i < count; i++)
		if (triggers[i])
			eventfd_ctx_put(triggers[i]);
out_free:
	kfree(fresh);
	kfree(triggers);
	return ret;
}

/* ---- SET_IRQS per index and action ------------------------------------ */

static int vfio_set_intx_mask(struct vfio_pci_core_device *vdev,
			      unsigned int start, unsigned int count,
			      u32 flags, const void *data)
{
	if (!vfio_irq_active(vdev, VFIO_PCI_INTX_IRQ_INDEX) || start || count != 1)
		return -EINVAL;

	switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		vfio_intx_mask_locked(vdev);
		return 0;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (*(const u8 *)data)
			vfio_intx_mask_locked(vdev);
		return 0;
	default:
		/* Masking through an eventfd is not offered */
		return -ENOTTY;
	}
}

static int vfio_set_intx_unmask(struct vfio_pci_core_device *vdev,
				unsigned int start, unsigned int count,
				u32 flags, const void *data)
{
	struct eventfd_ctx *probe;
	struct vfio_pci_irq_ctx *ctx;
	s32 fd;
	int ret;

	if (!vfio_irq_active(vdev, VFIO_PCI_INTX_IRQ_INDEX) || start || count != 1)
		return -EINVAL;

	switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		vfio_intx_unmask_locked(vdev);
		return 0;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (*(const u8 *)data)
			vfio_intx_unmask_locked(vdev);
		return 0;
	default:
		break;
	}

	/* DATA_EVENTFD: a signal on fd unmasks, as a KVM resamplefd does */
	ctx = xa_load(&vdev->ctx, 0);
	fd = *(const s32 *)data;

	/* Check the new fd before dropping the old binding */
	ret = vfio_eventfd_get(fd, &probe);
	if (ret)
		return ret;
	if (probe)
		eventfd_ctx_put(probe);

	vfio_virqfd_disable(&ctx->unmask);
	if (fd == -1)
		return 0;
	if (vfio_pci_fail())
		return -ENOMEM;
	return vfio_virqfd_enable(vdev, vfio_intx_unmask_handler,
				  vfio_intx_signal, ctx, &ctx->unmask, fd);
}

static int vfio_set_intx_trigger(struct vfio_pci_core_device *vdev,
				 unsigned int start, unsigned int count,
				 u32 flags, const void *data)
{
	bool active = vfio_irq_active(vdev, VFIO_PCI_INTX_IRQ_INDEX);
	struct eventfd_ctx *trigger;
	int ret;

	if (!count) {
		if (!active || !(flags & VFIO_IRQ_SET_DATA_NONE))
			return -EINVAL;
		vfio_intx_disable(vdev);
		return 0;
	}

	if (start || count != 1 || !(active || vfio_irq_none(vdev)))
		return -EINVAL;

	switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_EVENTFD:
		ret = vfio_eventfd_get(*(const s32 *)data, &trigger);
		if (ret)
			return ret;
		if (active) {
			vfio_intx_set_trigger(vdev, trigger);
			return 0;
		}
		ret = vfio_intx_enable(vdev, trigger);
		if (ret && trigger)
			eventfd_ctx_put(trigger);
		return ret;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (!active)
			return -EINVAL;
		if (*(const u8 *)data)
			vfio_intx_signal(vdev, xa_load(&vdev->ctx, 0));
		return 0;
	default:
		if (!active)
			return -EINVAL;
		vfio_intx_signal(vdev, xa_load(&vdev->ctx, 0));
		return 0;
	}
}

static int vfio_set_msi_trigger(struct vfio_pci_core_device *vdev,
				unsigned int index, unsigned int start,
				unsigned int count, u32 flags, const void *data)
{
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	bool active = vfio_irq_active(vdev, index);
	const u8 *bools = data;
	struct vfio_pci_irq_ctx *ctx;
	unsigned int i;
	int ret;

	if (!count) {
		if (!active || !(flags & VFIO_IRQ_SET_DATA_NONE))
			return -EINVAL;
		vfio_msi_disable(vdev);
		return 0;
	}

	if (!(active || vfio_irq_none(vdev)))
		return -EINVAL;

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (active)
			return vfio_msi_set_block(vdev, start, count, data,
						  msix);

		ret = vfio_msi_enable(vdev, start + count, msix);
		if (ret)
			return ret;
		ret = vfio_msi_set_block(vdev, start, count, data, msix);
		if (ret)
			vfio_msi_disable(vdev);
		return ret;
	}

	/* DATA_NONE / DATA_BOOL: loopback, signal the bound vectors */
	if (!active)
		return -EINVAL;

	for (i = 0; i < count; i++) {
		ctx = xa_load(&vdev->ctx, start + i);
		if (!ctx)
			continue;
		if ((flags & VFIO_IRQ_SET_DATA_BOOL) && !bools[i])
			continue;
		eventfd_signal(ctx->trigger);
	}
	return 0;
}

/* ERR and REQ: one eventfd each, no hardware behind it */
static int vfio_set_trigger_single(struct vfio_pci_core_device *vdev,
				   struct eventfd_ctx **slot,
				   unsigned int start, unsigned int count,
				   u32 flags, const void *data)
{
	struct eventfd_ctx *trigger;
	int ret;

	if (start || count > 1)
		return -EINVAL;

	switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		if (!count) {
			vfio_trigger_replace(vdev, slot, NULL);
			return 0;
		}
		if (!*slot)
			return -EINVAL;
		eventfd_signal(*slot);
		return 0;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (!count)
			return -EINVAL;
		if (*(const u8 *)data && *slot)
			eventfd_signal(*slot);
		return 0;
	default:
		if (!count)
			return -EINVAL;
		ret = vfio_eventfd_get(*(const s32 *)data, &trigger);
		if (ret)
			return ret;
		vfio_trigger_replace(vdev, slot, trigger);
		return 0;
	}
}

static int vfio_set_irqs_locked(struct vfio_pci_core_device *vdev,
				unsigned int index, unsigned int start,
				unsigned int count, u32 flags, const void *data)
{
	u32 action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	lockdep_assert_held(&vdev->igate);

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			return vfio_set_intx_mask(vdev, start, count, flags,
						  data);
		if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			return vfio_set_intx_unmask(vdev, start, count, flags,
						    data);
		return vfio_set_intx_trigger(vdev, start, count, flags, data);
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
			return -ENOTTY;	/* no per-vector masking */
		return vfio_set_msi_trigger(vdev, index, start, count, flags,
					    data);
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
			return -ENOTTY;
		return vfio_set_trigger_single(vdev, &vdev->err_trigger,
					       start, count, flags, data);
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
			return -ENOTTY;
		return vfio_set_trigger_single(vdev, &vdev->req_trigger,
					       start, count, flags, data);
	default:
		return -EINVAL;
	}
}

/* ---- Library-internal entry points ------------------------------------ */

int vfio_pci_irq_count(struct vfio_pci_core_device *vdev, unsigned int index)
{
	struct pci_dev *pdev = vdev->pdev;
	u8 pin;
	int n;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (vdev->nointx || pdev->is_virtfn)
			return 0;
		pci_read_config_byte(pdev, PCI_INTERRUPT_PIN, &pin);
		return pin ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (vdev->msi_qmax)
			return vdev->msi_qmax;
		n = pci_msi_vec_count(pdev);
		return n > 0 ? n : 0;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		n = pci_msix_vec_count(pdev);
		return n > 0 ? n : 0;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return pci_is_pcie(pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

long vfio_pci_ioctl_get_irq_info(struct vfio_pci_core_device *vdev,
				 struct vfio_irq_info __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	/* Conventional PCI has no AER: no ERR index at all */
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX && !pci_is_pcie(vdev->pdev))
		return -EINVAL;

	info.flags = VFIO_IRQ_INFO_EVENTFD;
	info.count = vfio_pci_irq_count(vdev, info.index);
	switch (info.index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
		break;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (!vfio_msix_can_grow(vdev))
			info.flags |= VFIO_IRQ_INFO_NORESIZE;
		break;
	default:
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
		break;
	}

	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

long vfio_pci_ioctl_set_irqs(struct vfio_pci_core_device *vdev,
			     struct vfio_irq_set __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	void *data = NULL;
	unsigned int max;
	u32 action, end;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;

	max = vfio_pci_irq_count(vdev, hdr.index);
	ret = vfio_set_irqs_validate_and_prepare(&hdr, max, VFIO_PCI_NUM_IRQS,
						 &data_size);
	if (ret)
		return ret;

	/* The helper leaves these to us: exactly one action, a sane range */
	action = hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	if (hweight32(action) != 1)
		return -EINVAL;
	if (check_add_overflow(hdr.start, hdr.count, &end) || end > max)
		return -EINVAL;

	if (data_size) {
		data = memdup_user(&arg->data, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	mutex_lock(&vdev->igate);
	ret = vfio_set_irqs_locked(vdev, hdr.index, hdr.start, hdr.count,
				   hdr.flags, data);
	mutex_unlock(&vdev->igate);

	kfree(data);
	return ret;
}

void vfio_pci_irqs_teardown(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_irq_ctx *ctx;
	unsigned long vector;

	mutex_lock(&vdev->igate);

	if (vfio_irq_active(vdev, VFIO_PCI_INTX_IRQ_INDEX))
		vfio_intx_disable(vdev);
	else if (vfio_irq_active(vdev, VFIO_PCI_MSI_IRQ_INDEX) ||
		 vfio_irq_active(vdev, VFIO_PCI_MSIX_IRQ_INDEX))
		vfio_msi_disable(vdev);

	vfio_trigger_replace(vdev, &vdev->err_trigger, NULL);
	vfio_trigger_replace(vdev, &vdev->req_trigger, NULL);

	/* Every context belongs to an enabled index: none may be left */
	xa_for_each(&vdev->ctx, vector, ctx) {
		WARN_ON_ONCE(1);
		vfio_irq_ctx_free(vdev, vector, ctx);
	}
	vdev->irq_type = -1;
	vdev->num_ctx = 0;

	mutex_unlock(&vdev->igate);
}

/*
 * Called for config-space writes of the emulated DisINTx bit and around
 * runtime suspend.  Takes igate: the caller holds none of igate,
 * memory_lock, vconfig_lock.  Returns true if INTx is in use and this call
 * masked it (so a caller that only wants to mask INTx need not look at
 * irq_type first).
 */
bool vfio_pci_intx_mask(struct vfio_pci_core_device *vdev)
{
	bool changed;

	mutex_lock(&vdev->igate);
	changed = vfio_intx_mask_locked(vdev);
	mutex_unlock(&vdev->igate);

	return changed;
}

/* Counterpart of vfio_pci_intx_mask(); same locking rules */
void vfio_pci_intx_unmask(struct vfio_pci_core_device *vdev)
{
	mutex_lock(&vdev->igate);
	vfio_intx_unmask_locked(vdev);
	mutex_unlock(&vdev->igate);
}

bool vfio_pci_signal_req(struct vfio_pci_core_device *vdev)
{
	bool listening;

	mutex_lock(&vdev->igate);
	listening = !!vdev->req_trigger;
	if (listening)
		eventfd_signal(vdev->req_trigger);
	mutex_unlock(&vdev->igate);

	return listening;
}

/*
 * Rewrite every allocated MSI-X table entry from the kernel's cached
 * message, after the table may have been lost (memory decode was off, a
 * reset); if the function's MSI-X enable bit was lost as well (it reset
 * itself), the PCI core restores the whole MSI-X state.  Called with none
 * of our locks held (dev_set->lock may be).
 * Nothing is written while the user keeps memory decode off: the table is
 * unreachable then, and turning decode on calls this again.
 */
void vfio_pci_msix_restore(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct msi_msg msg;
	unsigned int i;
	u16 flags;
	int irq;

	mutex_lock(&vdev->igate);
	if (!vfio_irq_active(vdev, VFIO_PCI_MSIX_IRQ_INDEX))
		goto out_unlock_igate;

	down_read(&vdev->memory_lock);
	if (!vfio_pci_memory_enabled(vdev))
		goto out_unlock_memory;

	/* A function that reset itself lost its enable bit too: all back */
	if (pdev->msix_cap &&
	    !pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS,
				  &flags) &&
	    !(flags & PCI_MSIX_FLAGS_ENABLE)) {
		pci_restore_msi_state(pdev);
		goto out_unlock_memory;
	}

	for (i = 0; i < vdev->num_ctx; i++) {
		irq = pci_irq_vector(pdev, i);
		if (irq <= 0)
			continue;
		get_cached_msi_msg(irq, &msg);
		pci_write_msi_msg(irq, &msg);
	}

out_unlock_memory:
	up_read(&vdev->memory_lock);
out_unlock_igate:
	mutex_unlock(&vdev->igate);
}

/* ---- AER ---------------------------------------------------------------- */

/**
 * vfio_pci_core_aer_err_detected() - pci_error_handlers.error_detected
 * @pdev: the function AER reports an error for
 * @state: the channel state (unused: recovery is up to the user)
 *
 * Forwards the error to userspace through the ERR interrupt, if the user
 * set an eventfd for it.  Drivers use vfio_pci_core_err_handlers or call
 * this from their own handler.  The driver data of @pdev must be the core
 * device, as vfio_pci_core_register_device() requires.
 *
 * Return: PCI_ERS_RESULT_CAN_RECOVER; PCI_ERS_RESULT_DISCONNECT if @pdev
 * has no core device.
 */
pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev,
						pci_channel_state_t state)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(&pdev->dev);

	if (!vdev)
		return PCI_ERS_RESULT_DISCONNECT;

	mutex_lock(&vdev->igate);
	if (vdev->err_trigger)
		eventfd_signal(vdev->err_trigger);
	mutex_unlock(&vdev->igate);

	return PCI_ERS_RESULT_CAN_RECOVER;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_aer_err_detected);

/*
 * vfio_pci_core_err_handlers - AER callbacks for a VFIO PCI driver's
 * struct pci_driver.err_handler: errors are reported to the user.
 */
const struct pci_error_handlers vfio_pci_core_err_handlers = {
	.error_detected = vfio_pci_core_aer_err_detected,
};
EXPORT_SYMBOL_GPL(vfio_pci_core_err_handlers);
