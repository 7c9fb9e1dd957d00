// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-sim: a software PF side for mlx5-vfio-pci, for tests.
 *
 *   echo 0000:00:05.0 > /sys/bus/mlx5_vfio_sim/new_vf
 *	creates the auxiliary device mlx5_core.vfio_pci.<id> standing for
 *	that PCI function (which must exist; it is usually bound to
 *	mlx5-vfio-pci), with its VHCA simulated here: a context of
 *	MLX5_VFIO_SIM_CTX_LEN bytes and, for an ivshmem-plain function
 *	(1af4:1110), all of its BAR2, mapped from the kernel.
 *   echo 0000:00:05.0 > /sys/bus/mlx5_vfio_sim/del_vf
 *	removes it, also while the driver uses it: commands fail with
 *	-ENODEV from then on and the write returns once the driver let go
 *	(which may wait for the VFIO user to close the device).
 *   /sys/kernel/debug/mlx5_vfio_sim/<BDF>/
 *	fail_next	 opcode in hex or "any": the next such command fails
 *			 (INT_ERR); "none" clears; reads back the setting
 *	corrupt_next_save  Y: flip bytes in the next image saved (its
 *			 header, context and first page record)
 *	corrupt_next_save_page  Y: flip one data byte of the next page
 *			 record saved, after its sum was computed; the rest
 *			 of the image stays intact, so only the loader's
 *			 page check refuses it.  Both are debugfs booleans
 *			 (Y/N/1/0 in, Y or N out), cleared when consumed
 *	cmd_delay_ms	 delay every command (at most 60 s)
 *	migratable	 Y (default): the VF's general_2 capability
 *			 migratable, read by the driver when it fuses the
 *			 halves; N makes it offer no migration
 *	context		 the VHCA's context, 256 bytes (tests set a pattern
 *			 in a source and compare it in the destination)
 *	function_id, vhca_id  what QUERY_HCA_CAP answers (read only)
 *	detached	 Y: mlx5_core disables the VF's HCA (the driver is
 *			 told first, commands then fail with -ENOTCONN and
 *			 the VHCA is reset); N: enables it again; reads
 *			 back Y or N
 *	tracking	 Y while SAVE_VHCA_STATE tracks changes for an
 *			 incremental image; N: the firmware stops tracking
 *			 and drops an image in progress (the next SAVE that
 *			 starts or continues an incremental image gets
 *			 BAD_RES_STATE); Y is refused (-EINVAL)
 *	dma_write	 (write only) "<iova> <len>": the VF DMA-wrote those
 *			 bytes; pages of them inside the ranges of its page
 *			 tracker become dirty, the rest is ignored.  Numbers
 *			 in C notation (0x hex, 0 octal, else decimal); len
 *			 nonzero, iova + len - 1 must not wrap (-EINVAL)
 *
 * Errors of new_vf/del_vf: -EINVAL for anything but a canonical
 * DDDD:BB:DD.F address, -ENODEV when no such PCI function exists,
 * -EEXIST when it already has a simulated VF, -ENOENT (del_vf) when it has
 * none, -EBUSY while an earlier del_vf of it still runs, -ENOSPC when
 * 4095 VFs exist, -E2BIG for a BAR2 over 1 GiB.
 *
 * Lock order and image format: sim.h.
 */
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "sim.h"

#define SIM_NAME "mlx5_vfio_sim"

/* Protects mlx5_vfio_sim_list (the VFs, their ->removing); outermost */
static DEFINE_MUTEX(mlx5_vfio_sim_lock);
static LIST_HEAD(mlx5_vfio_sim_list);
/* function ids (vhca_id = 0x1000 + function id): its own lock */
static DEFINE_IDA(mlx5_vfio_sim_ida);
static struct device *mlx5_vfio_sim_root;
static struct dentry *mlx5_vfio_sim_debugfs;

static const struct mlx5_vfio_aux_backend mlx5_vfio_sim_backend;

/* A canonical PCI address DDDD:BB:DD.F (hex), optionally newline-ended */
static int sim_parse_bdf(const char *buf, size_t count, u32 *domain, u8 *bus,
			 u8 *devfn)
{
	unsigned int d, b, dev, fn;
	char s[13];
	int i;

	if (count && buf[count - 1] == '\n')
		count--;
	if (count != 12)
		return -EINVAL;
	for (i = 0; i < 12; i++) {
		if (i == 4 || i == 7) {
			if (buf[i] != ':')
				return -EINVAL;
		} else if (i == 10) {
			if (buf[i] != '.')
				return -EINVAL;
		} else if (!isxdigit(buf[i])) {
			return -EINVAL;
		}
	}
	memcpy(s, buf, 12);
	s[12] = 0;
	if (sscanf(s, "%x:%x:%x.%x", &d, &b, &dev, &fn) != 4 || dev > 0x1f || fn > 7)
		return -EINVAL;
	*domain = d;
	*bus = b;
	*devfn = PCI_DEVFN(dev, fn);
	return 0;
}

static struct mlx5_vfio_sim_vf *sim_find(const char *name)
{
	struct mlx5_vfio_sim_vf *vf;

	lockdep_assert_held(&mlx5_vfio_sim_lock);
	list_for_each_entry(vf, &mlx5_vfio_sim_list, node)
		if (!strcmp(vf->name, name))
			return vf;
	return NULL;
}

/* ---- debugfs ---- */

static ssize_t sim_fail_next_read(struct file *file, char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct mlx5_vfio_sim_vf *vf = file->private_data;
	char s[16];
	int v, len;

	spin_lock(&vf->knob_lock);
	v = vf->fail_next;
	spin_unlock(&vf->knob_lock);
	if (v == MLX5_VFIO_SIM_FAIL_NONE)
		len = scnprintf(s, sizeof(s), "none\n");
	else if (v == MLX5_VFIO_SIM_FAIL_ANY)
		len = scnprintf(s, sizeof(s), "any\n");
	else
		len = scnprintf(s, sizeof(s), "0x%x\n", v);
	return simple_read_from_buffer(ubuf, count, ppos, s, len);
}

static ssize_t sim_fail_next_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct mlx5_vfio_sim_vf *vf = file->private_data;
	char s[16], *p;
	u16 opcode;
	int v;

	if (*ppos || !count || count >= sizeof(s))
		return -EINVAL;
	if (copy_from_user(s, ubuf, count))
		return -EFAULT;
	s[count] = 0;
	p = strim(s);
	if (!strcmp(p, "any"))
		v = MLX5_VFIO_SIM_FAIL_ANY;
	else if (!strcmp(p, "none"))
		v = MLX5_VFIO_SIM_FAIL_NONE;
	else if (!kstrtou16(p, 16, &opcode))
		v = opcode;
	else
		return -EINVAL;
	spin_lock(&vf->knob_lock);
	vf->fail_next = v;
	spin_unlock(&vf->knob_lock);
	*ppos += count;
	return count;
}

static const struct file_operations sim_fail_next_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = sim_fail_next_read,
	.write = sim_fail_next_write,
	.llseek = default_llseek,
};

/* The VHCA context, read and written under vf->lock */
static ssize_t sim_context_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct mlx5_vfio_sim_vf *vf = file->private_data;
	u8 ctx[MLX5_VFIO_SIM_CTX_LEN];

	mutex_lock(&vf->lock);
	memcpy(ctx, vf->ctx, sizeof(ctx));
	mutex_unlock(&vf->lock);
	return simple_read_from_buffer(ubuf, count, ppos, ctx, sizeof(ctx));
}

static ssize_t sim_context_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct mlx5_vfio_sim_vf *vf = file->private_data;
	u8 buf[MLX5_VFIO_SIM_CTX_LEN];
	loff_t pos = *ppos;

	if (pos < 0 || pos >= sizeof(buf) || count > sizeof(buf) - pos)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	mutex_lock(&vf->lock);
	memcpy(vf->ctx + pos, buf, count);
	mutex_unlock(&vf->lock);
	*ppos = pos + count;
	return count;
}

static const struct file_operations sim_context_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = sim_context_read,
	.write = sim_context_write,
	.llseek = default_llseek,
};

static ssize_t sim_detached_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct mlx5_vfio_sim_vf *vf = file->private_data;
	char s[2] = { READ_ONCE(vf->aux.detached) ? 'Y' : 'N', '\n' };

	return simple_read_from_buffer(ubuf, count, ppos, s, sizeof(s));
}

/*
 * Y: what mlx5_core's MLX5_PF_NOTIFY_DISABLE_VF does (the driver hears
 * it first, then the HCA goes); N: MLX5_PF_NOTIFY_ENABLE_VF
 */
static ssize_t sim_detached_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct mlx5_vfio_sim_vf *vf = file->private_data;
	bool detach;
	int ret;

	ret = kstrtobool_from_user(ubuf, count, &detach);
	if (ret)
		return ret;
	/* A detach and its VHCA reset are one step to an attach */
	mutex_lock(&vf->detach_lock);
	if (detach) {
		mlx5_vfio_aux_detach(&vf->aux);
		mlx5_vfio_sim_hca_reset(vf);
	} else {
		mlx5_vfio_aux_attach(&vf->aux);
	}
	mutex_unlock(&vf->detach_lock);
	*ppos += count;
	return count;
}

static const struct file_operations sim_detached_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = sim_detached_read,
	.write = sim_detached_write,
	.llseek = default_llseek,
};

static ssize_t sim_tracking_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct mlx5_vfio_sim_vf *vf = file->private_data;
	char s[2] = { 'N', '\n' };

	mutex_lock(&vf->lock);
	if (vf->tracking)
		s[0] = 'Y';
	mutex_unlock(&vf->lock);
	return simple_read_from_buffer(ubuf, count, ppos, s, sizeof(s));
}

/*
 * N: the simulated firmware stops tracking the VHCA's changes, as a
 * ConnectX's may lose them, and drops the image it was handing out: the
 * next SAVE that would start or continue an incremental image gets
 * BAD_RES_STATE.  Tracking starts only with a SAVE, so Y is refused.
 */
static ssize_t sim_tracking_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct mlx5_vfio_sim_vf *vf = file->private_data;
	bool on;
	int ret;

	ret = kstrtobool_from_user(ubuf, count, &on);
	if (ret)
		return ret;
	if (on)
		return -EINVAL;
	mutex_lock(&vf->lock);
	vf->tracking = false;
	vf->scan_valid = false;
	vf->save.active = false;
	mutex_unlock(&vf->lock);
	*ppos += count;
	return count;
}

static const struct file_operations sim_tracking_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = sim_tracking_read,
	.write = sim_tracking_write,
	.llseek = default_llseek,
};

/* "<iova> <len>": the simulated VF DMA-writes there */
static ssize_t sim_dma_write_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct mlx5_vfio_sim_vf *vf = file->private_data;
	char s[64], *p, *tok;
	u64 iova, len, last;

	if (*ppos || !count || count >= sizeof(s))
		return -EINVAL;
	if (copy_from_user(s, ubuf, count))
		return -EFAULT;
	s[count] = 0;
	p = strim(s);
	tok = strsep(&p, " \t");
	if (!p || kstrtou64(tok, 0, &iova))
		return -EINVAL;
	p = skip_spaces(p);
	if (kstrtou64(p, 0, &len) || !len ||
	    check_add_overflow(iova, len - 1, &last))
		return -EINVAL;
	mlx5_vfio_sim_dma_write(vf, iova, len);
	*ppos += count;
	return count;
}

static const struct file_operations sim_dma_write_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_dma_write_write,
	.llseek = default_llseek,
};

static void sim_debugfs_init(struct mlx5_vfio_sim_vf *vf)
{
	struct dentry *d = debugfs_create_dir(vf->name, mlx5_vfio_sim_debugfs);

	vf->ddir = d;
	debugfs_create_file("fail_next", 0600, d, vf, &sim_fail_next_fops);
	debugfs_create_bool("corrupt_next_save", 0600, d, &vf->corrupt_next_save);
	debugfs_create_bool("corrupt_next_save_page", 0600, d,
			    &vf->corrupt_next_save_page);
	debugfs_create_u32("cmd_delay_ms", 0600, d, &vf->cmd_delay_ms);
	debugfs_create_bool("migratable", 0600, d, &vf->migratable);
	debugfs_create_file("context", 0600, d, vf, &sim_context_fops);
	debugfs_create_file("dma_write", 0200, d, vf, &sim_dma_write_fops);
	debugfs_create_file("detached", 0600, d, vf, &sim_detached_fops);
	debugfs_create_file("tracking", 0600, d, vf, &sim_tracking_fops);
	debugfs_create_x16("function_id", 0400, d, &vf->aux.madev.function_id);
	debugfs_create_x16("vhca_id", 0400, d, &vf->aux.madev.vhca_id);
	debugfs_create_u32("mkeys_made", 0400, d, &vf->mkeys_made);
}

/* ---- VFs ---- */

static void sim_release(struct mlx5_vfio_aux *aux)
{
	struct mlx5_vfio_sim_vf *vf = to_sim_vf(aux);

	debugfs_remove_recursive(vf->ddir);
	mlx5_vfio_sim_state_free(vf);
	if (vf->bar)
		iounmap(vf->bar);
	pci_dev_put(vf->pdev);
	if (vf->aux.madev.function_id)
		ida_free(&mlx5_vfio_sim_ida, vf->aux.madev.function_id);
	kfree(vf);
}

/* Map BAR2 of an ivshmem-plain function */
static int sim_map_bar(struct mlx5_vfio_sim_vf *vf)
{
	struct pci_dev *pdev = vf->pdev;
	resource_size_t len = pci_resource_len(pdev, 2);

	if (pdev->vendor != PCI_VENDOR_ID_REDHAT_QUMRANET || pdev->device != 0x1110 ||
	    !(pci_resource_flags(pdev, 2) & IORESOURCE_MEM) || !len)
		return 0;
	if (len > MLX5_VFIO_SIM_MAX_BAR || !IS_ALIGNED(len, MLX5_VFIO_SIM_PAGE))
		return -E2BIG;
	vf->bar = ioremap_wc(pci_resource_start(pdev, 2), len);
	if (!vf->bar)
		return -ENOMEM;
	vf->bar_size = len;
	vf->npages = len / MLX5_VFIO_SIM_PAGE;
	return 0;
}

static ssize_t new_vf_store(const struct bus_type *bus, const char *buf,
			    size_t count)
{
	struct mlx5_vfio_sim_vf *vf;
	struct pci_dev *pdev;
	u32 domain;
	u8 busnr, devfn;
	int ret, id;

	ret = sim_parse_bdf(buf, count, &domain, &busnr, &devfn);
	if (ret)
		return ret;
	pdev = pci_get_domain_bus_and_slot(domain, busnr, devfn);
	if (!pdev)
		return -ENODEV;
	vf = kzalloc(sizeof(*vf), GFP_KERNEL);
	if (!vf) {
		pci_dev_put(pdev);
		return -ENOMEM;
	}
	vf->pdev = pdev;
	vf->migratable = true;
	scnprintf(vf->name, sizeof(vf->name), "%s", pci_name(pdev));
	/* sim_release() tears these down on every error path below */
	mutex_init(&vf->lock);
	mutex_init(&vf->detach_lock);
	xa_init_flags(&vf->mkeys, XA_FLAGS_ALLOC1);

	mutex_lock(&mlx5_vfio_sim_lock);
	if (sim_find(vf->name)) {
		ret = -EEXIST;
		goto err_free;
	}
	id = ida_alloc_range(&mlx5_vfio_sim_ida, 1, 0xfff, GFP_KERNEL);
	if (id < 0) {
		ret = id;
		goto err_free;
	}
	vf->aux.madev.function_id = id;
	ret = sim_map_bar(vf);
	if (ret)
		goto err_free;
	ret = mlx5_vfio_sim_state_init(vf);
	if (ret)
		goto err_free;
	/* On failure this releases vf through sim_release() */
	ret = mlx5_vfio_aux_add(&vf->aux, mlx5_vfio_sim_root, domain, busnr,
				devfn, id, 0x1000 + id, &mlx5_vfio_sim_backend);
	if (ret)
		goto out_unlock;
	/* The knobs reach the bookkeeping aux_add() set up */
	sim_debugfs_init(vf);
	list_add_tail(&vf->node, &mlx5_vfio_sim_list);
	mutex_unlock(&mlx5_vfio_sim_lock);
	dev_info(&vf->aux.madev.adev.dev, "simulated VF %s, vhca_id 0x%x, BAR2 %llu bytes\n",
		 vf->name, vf->aux.madev.vhca_id, vf->bar_size);
	return count;

err_free:
	sim_release(&vf->aux);
out_unlock:
	mutex_unlock(&mlx5_vfio_sim_lock);
	return ret;
}
static BUS_ATTR_WO(new_vf);

/* Remove a VF taken off duty (->removing set); waits for its driver */
static void sim_remove(struct mlx5_vfio_sim_vf *vf)
{
	struct device *dev = &vf->aux.madev.adev.dev;

	get_device(dev);
	mlx5_vfio_aux_remove(&vf->aux);
	/* Waits for knob writers, before the bookkeeping is torn down */
	debugfs_remove_recursive(vf->ddir);
	vf->ddir = NULL;
	mutex_lock(&mlx5_vfio_sim_lock);
	list_del(&vf->node);
	mutex_unlock(&mlx5_vfio_sim_lock);
	put_device(dev);
}

static ssize_t del_vf_store(const struct bus_type *bus, const char *buf,
			    size_t count)
{
	struct mlx5_vfio_sim_vf *vf;
	char name[16];
	u32 domain;
	u8 busnr, devfn;
	int ret;

	ret = sim_parse_bdf(buf, count, &domain, &busnr, &devfn);
	if (ret)
		return ret;
	scnprintf(name, sizeof(name), "%04x:%02x:%02x.%d", domain, busnr,
		  PCI_SLOT(devfn), PCI_FUNC(devfn));
	mutex_lock(&mlx5_vfio_sim_lock);
	vf = sim_find(name);
	if (!vf)
		ret = -ENOENT;
	else if (vf->removing)
		ret = -EBUSY;
	else
		vf->removing = true;
	mutex_unlock(&mlx5_vfio_sim_lock);
	if (ret)
		return ret;
	/* Not under the lock: this waits for the VFIO user */
	sim_remove(vf);
	return count;
}
static BUS_ATTR_WO(del_vf);

static struct attribute *mlx5_vfio_sim_bus_attrs[] = {
	&bus_attr_new_vf.attr,
	&bus_attr_del_vf.attr,
	NULL
};
ATTRIBUTE_GROUPS(mlx5_vfio_sim_bus);

static const struct bus_type mlx5_vfio_sim_bus = {
	.name = SIM_NAME,
	.bus_groups = mlx5_vfio_sim_bus_groups,
};

static const struct mlx5_vfio_aux_backend mlx5_vfio_sim_backend = {
	.exec = mlx5_vfio_sim_exec,
	.mkey_create = mlx5_vfio_sim_mkey_create,
	.mkey_destroy = mlx5_vfio_sim_mkey_destroy,
	.track_read_clear = mlx5_vfio_sim_track_read_clear,
	.release = sim_release,
};

static int __init mlx5_vfio_sim_init(void)
{
	int ret;

	mlx5_vfio_sim_root = root_device_register(SIM_NAME);
	if (IS_ERR(mlx5_vfio_sim_root))
		return PTR_ERR(mlx5_vfio_sim_root);
	mlx5_vfio_sim_debugfs = debugfs_create_dir(SIM_NAME, NULL);
	ret = bus_register(&mlx5_vfio_sim_bus);
	if (ret)
		goto err_debugfs;
	return 0;

err_debugfs:
	debugfs_remove_recursive(mlx5_vfio_sim_debugfs);
	root_device_unregister(mlx5_vfio_sim_root);
	return ret;
}

static void __exit mlx5_vfio_sim_exit(void)
{
	struct mlx5_vfio_sim_vf *vf;

	/* Waits for new_vf/del_vf writes in progress; no new ones after */
	bus_unregister(&mlx5_vfio_sim_bus);
	for (;;) {
		mutex_lock(&mlx5_vfio_sim_lock);
		vf = list_first_entry_or_null(&mlx5_vfio_sim_list,
					      struct mlx5_vfio_sim_vf, node);
		if (vf)
			vf->removing = true;
		mutex_unlock(&mlx5_vfio_sim_lock);
		if (!vf)
			break;
		sim_remove(vf);
	}
	debugfs_remove_recursive(mlx5_vfio_sim_debugfs);
	root_device_unregister(mlx5_vfio_sim_root);
	ida_destroy(&mlx5_vfio_sim_ida);
}

module_init(mlx5_vfio_sim_init);
module_exit(mlx5_vfio_sim_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Firmware simulator for mlx5-vfio-pci (test only)");
