// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-core: VFIO_DEVICE_IOEVENTFD.
 *
 * An ioeventfd binds an eventfd to a fixed write: when the eventfd is
 * signalled, the library writes a given value of 1, 2, 4 or 8 bytes at a
 * given offset of a BAR, without a round trip through the user.  A
 * hypervisor uses it for doorbell-like registers whose guest writes it
 * traps anyway.
 *
 * The write is gated on memory decode like every BAR access.  It is tried
 * straight from the eventfd wake-up (atomic context) when memory_lock can be
 * taken for read without waiting; otherwise it is left to a worker, which
 * may sleep on the lock.  While memory decode is off the write is dropped.
 *
 * Entries are identified by (offset, data, size): the same register may
 * carry several entries with different values.  Requests are checked more
 * strictly than by Linux 6.12's stock vfio-pci: the offset must be aligned
 * to the size, the data must fit in it, and fd must be -1 or a descriptor.  Removing an entry never
 * waits for its worker under ioeventfds_lock, so the lock may be taken
 * with memory_lock held.
 */
#include <linux/eventfd.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/list.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vfio_pci_priv.h"

/**
 * struct vfio_pci_ioeventfd - one eventfd-triggered BAR write
 * @node: link in vdev->ioeventfds_list, under vdev->ioeventfds_lock
 * @vdev: the device
 * @virqfd: the eventfd binding; cleared by vfio.ko when the eventfd closes
 * @addr: kernel address of the register (inside vdev->barmap[])
 * @offset: device fd offset of the register, as given by the user
 * @data: the value to write
 * @size: bytes to write: 1, 2, 4 or 8
 * @test_mem: the BAR is memory space, gated on memory decode
 */
struct vfio_pci_ioeventfd {
	struct list_head		node;
	struct vfio_pci_core_device	*vdev;
	struct virqfd			*virqfd;
	void __iomem			*addr;
	u64				offset;
	u64				data;
	unsigned int			size;
	bool				test_mem;
};

/* Write the entry's data; with @test_mem, under memory_lock and if decoded */
static void vfio_pci_ioeventfd_write(struct vfio_pci_ioeventfd *ioe,
				     bool test_mem)
{
	struct vfio_pci_core_device *vdev = ioe->vdev;

	switch (ioe->size) {
	case 1:
		vfio_pci_core_iowrite8(vdev, test_mem, ioe->data, ioe->addr);
		break;
	case 2:
		vfio_pci_core_iowrite16(vdev, test_mem, ioe->data, ioe->addr);
		break;
	case 4:
		vfio_pci_core_iowrite32(vdev, test_mem, ioe->data, ioe->addr);
		break;
#ifdef iowrite64
	case 8:
		vfio_pci_core_iowrite64(vdev, test_mem, ioe->data, ioe->addr);
		break;
#endif
	}
}

/*
 * Eventfd wake-up, atomic context.  Returns nonzero to hand the write to
 * vfio_pci_ioeventfd_thread() when memory_lock is contended.
 */
static int vfio_pci_ioeventfd_handler(void *opaque, void *unused)
{
	struct vfio_pci_ioeventfd *ioe = opaque;
	struct vfio_pci_core_device *vdev = ioe->vdev;

	if (!ioe->test_mem) {
		vfio_pci_ioeventfd_write(ioe, false);
		return 0;
	}

	if (!down_read_trylock(&vdev->memory_lock))
		return 1;
	if (vfio_pci_memory_enabled(vdev))
		vfio_pci_ioeventfd_write(ioe, false);
	up_read(&vdev->memory_lock);
	return 0;
}

/* Worker context: may sleep on memory_lock */
static void vfio_pci_ioeventfd_thread(void *opaque, void *unused)
{
	struct vfio_pci_ioeventfd *ioe = opaque;

	vfio_pci_ioeventfd_write(ioe, ioe->test_mem);
}

/* Stop the binding (waits for a running worker) and free the entry */
static void vfio_pci_ioeventfd_free(struct vfio_pci_ioeventfd *ioe)
{
	vfio_virqfd_disable(&ioe->virqfd);
	kfree(ioe);
}

static struct vfio_pci_ioeventfd *
vfio_pci_ioeventfd_find(struct vfio_pci_core_device *vdev, u64 offset,
			u64 data, unsigned int size)
{
	struct vfio_pci_ioeventfd *ioe;

	lockdep_assert_held(&vdev->ioeventfds_lock);

	list_for_each_entry(ioe, &vdev->ioeventfds_list, node)
		if (ioe->offset == offset && ioe->data == data &&
		    ioe->size == size)
			return ioe;
	return NULL;
}

static int vfio_pci_ioeventfd_remove(struct vfio_pci_core_device *vdev,
				     u64 offset, u64 data, unsigned int size)
{
	struct vfio_pci_ioeventfd *ioe;

	mutex_lock(&vdev->ioeventfds_lock);
	ioe = vfio_pci_ioeventfd_find(vdev, offset, data, size);
	if (ioe) {
		list_del(&ioe->node);
		vdev->ioeventfds_nr--;
	}
	mutex_unlock(&vdev->ioeventfds_lock);

	if (!ioe)
		return -ENODEV;
	vfio_pci_ioeventfd_free(ioe);
	return 0;
}

static int vfio_pci_ioeventfd_add(struct vfio_pci_core_device *vdev,
				  int bar, u64 pos, u64 offset, u64 data,
				  unsigned int size, int fd)
{
	struct vfio_pci_ioeventfd *ioe;
	int ret;

	/* Claim the BAR first: vconfig_lock is not taken under our lock */
	ret = vfio_pci_core_setup_barmap(vdev, bar);
	if (ret)
		return ret;

	ioe = vfio_pci_fail() ? NULL : kzalloc(sizeof(*ioe), GFP_KERNEL_ACCOUNT);
	if (!ioe)
		return -ENOMEM;

	ioe->vdev = vdev;
	ioe->addr = vdev->barmap[bar] + pos;
	ioe->offset = offset;
	ioe->data = data;
	ioe->size = size;
	ioe->test_mem = pci_resource_flags(vdev->pdev, bar) & IORESOURCE_MEM;

	mutex_lock(&vdev->ioeventfds_lock);
	if (vfio_pci_ioeventfd_find(vdev, offset, data, size)) {
		ret = -EEXIST;
		goto out_unlock;
	}
	if (vdev->ioeventfds_nr >= VFIO_PCI_IOEVENTFD_MAX) {
		ret = -ENOSPC;
		goto out_unlock;
	}

	ret = vfio_pci_fail() ? -ENOMEM :
	      vfio_virqfd_enable(ioe, vfio_pci_ioeventfd_handler,
				 vfio_pci_ioeventfd_thread, NULL,
				 &ioe->virqfd, fd);
	if (ret)
		goto out_unlock;

	list_add_tail(&ioe->node, &vdev->ioeventfds_list);
	vdev->ioeventfds_nr++;
	mutex_unlock(&vdev->ioeventfds_lock);
	return 0;

out_unlock:
	mutex_unlock(&vdev->ioeventfds_lock);
	kfree(ioe);
	return ret;
}

/* Is [pos, pos + size) clear of the MSI-X table in @bar? */
static bool vfio_pci_ioeventfd_avoids_msix(struct vfio_pci_core_device *vdev,
					   int bar, u64 pos, unsigned int size)
{
	u64 start = vdev->msix_offset, end = start + vdev->msix_size;

	if (bar != vdev->msix_bar || !vdev->msix_size)
		return true;
	return pos + size <= start || pos >= end;
}

/**
 * vfio_pci_ioctl_ioeventfd() - VFIO_DEVICE_IOEVENTFD
 * @vdev: the core device
 * @arg: user's struct vfio_device_ioeventfd
 *
 * flags holds exactly one of VFIO_DEVICE_IOEVENTFD_{8,16,32,64}; offset is
 * a device fd offset inside a BAR (not config space, ROM or VGA), aligned
 * to the size and clear of the MSI-X table; data must fit in the size.
 * fd >= 0 adds an entry, fd == -1 removes the entry with the same offset,
 * data and size.
 *
 * Return: 0; -EINVAL for malformed requests, -EEXIST for a duplicate,
 * -ENODEV when removing an entry that does not exist, -ENOSPC past
 * VFIO_PCI_IOEVENTFD_MAX entries, -EBADF for a bad fd.
 */
long vfio_pci_ioctl_ioeventfd(struct vfio_pci_core_device *vdev,
			      struct vfio_device_ioeventfd __user *arg)
{
	const size_t minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_device_ioeventfd req;
	unsigned int size;
	u64 index, pos;
	int bar;

	if (copy_from_user(&req, arg, minsz))
		return -EFAULT;
	if (req.argsz < minsz)
		return -EINVAL;

	if (req.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK)
		return -EINVAL;
	/* The size flags are 1 << 0 .. 1 << 3: their value is the byte count */
	size = req.flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	if (hweight32(size) != 1)
		return -EINVAL;
#ifndef iowrite64
	if (size == 8)
		return -EINVAL;
#endif
	if (size < 8 && req.data >> (size * BITS_PER_BYTE))
		return -EINVAL;
	if (req.fd < -1)
		return -EINVAL;

	index = VFIO_PCI_OFFSET_TO_INDEX(req.offset);
	pos = req.offset & VFIO_PCI_OFFSET_MASK;
	if (index > VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	bar = index;
	if (pos >= pci_resource_len(vdev->pdev, bar) ||
	    size > pci_resource_len(vdev->pdev, bar) - pos ||
	    !IS_ALIGNED(pos, size) ||
	    !vfio_pci_ioeventfd_avoids_msix(vdev, bar, pos, size))
		return -EINVAL;

	if (req.fd == -1)
		return vfio_pci_ioeventfd_remove(vdev, req.offset, req.data,
						 size);
	return vfio_pci_ioeventfd_add(vdev, bar, pos, req.offset, req.data,
				      size, req.fd);
}

/**
 * vfio_pci_ioeventfd_teardown() - remove every ioeventfd of the device
 * @vdev: the core device
 *
 * Called at close.  Waits for running workers, so the caller must not hold
 * memory_lock.
 */
void vfio_pci_ioeventfd_teardown(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_ioeventfd *ioe, *tmp;
	LIST_HEAD(doomed);

	mutex_lock(&vdev->ioeventfds_lock);
	list_splice_init(&vdev->ioeventfds_list, &doomed);
	vdev->ioeventfds_nr = 0;
	mutex_unlock(&vdev->ioeventfds_lock);

	list_for_each_entry_safe(ioe, tmp, &doomed, node) {
		list_del(&ioe->node);
		vfio_pci_ioeventfd_free(ioe);
	}
}
