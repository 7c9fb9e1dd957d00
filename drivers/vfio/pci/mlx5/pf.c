// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pf: the production PF side of mlx5-vfio-pci, on top of an
 * unmodified mlx5_core (Debian's 6.12 one creates no auxiliary devices for
 * its VFs).
 *
 * UNTESTED ON HARDWARE: this project's machines have no ConnectX adapter.
 * The module builds and lints against Debian's 6.12 headers; it has never
 * been loaded next to a real mlx5_core.  Its auxiliary-device bookkeeping
 * (aux.c) is the code mlx5-vfio-sim runs in every test.
 *
 * How it finds the PFs: a PCI bus notifier sees every function bound to
 * and unbound from the pci_driver named "mlx5_core" (and, at load, the
 * functions already bound).  For such a PF with SR-IOV it:
 *   - creates the auxiliary device mlx5_core.vfio_pci.<id> for each VF
 *     whose pci_dev exists (VFs enabled earlier) and for each VF that
 *     appears later (BUS_NOTIFY_ADD_DEVICE), with a protection domain of
 *     its own for the memory keys;
 *   - follows each such VF with an mlx5 SR-IOV blocking notifier
 *     (mlx5_sriov_blocking_notifier_register()).  mlx5_core accepts the
 *     registration only for VF numbers below the count it recorded when
 *     sriov_configure returned, i.e. not yet while it adds the VFs: the
 *     registration is retried from a delayed work until the PF's device
 *     lock (held by sriov_numvfs writes) is free;
 *   - detaches a VF's auxiliary device when mlx5_core disables the VF's
 *     HCA while its pci_dev stays (MLX5_PF_NOTIFY_DISABLE_VF: SR-IOV
 *     detach for a health recovery, a firmware reset, a devlink reload):
 *     the driver ends its migration, then the protection domain is freed
 *     (a firmware reset would lose it anyway); MLX5_PF_NOTIFY_ENABLE_VF
 *     (sent just before mlx5_core enables the HCA, see <linux/mlx5_vfio.h>)
 *     allocates a new one and attaches the device again.  A VF whose new
 *     protection domain cannot be allocated stays detached until its
 *     pci_dev or the PF goes;
 *   - removes a VF's auxiliary device when its pci_dev goes
 *     (BUS_NOTIFY_DEL_DEVICE, from pci_disable_sriov(), before mlx5_core
 *     disables the VF's HCA), and all of them when the PF leaves
 *     mlx5_core (BUS_NOTIFY_UNBIND_DRIVER, before mlx5_core's remove) or
 *     this module is unloaded.
 * The PF's struct mlx5_core_dev is its PCI driver data, as for
 * mlx5_vf_get_core_dev(); it is used only while the PF is bound.
 *
 * Commands go through mlx5_cmd_exec(); memory keys are MTT keys built by
 * mlx5_core_create_mkey() over the pages DMA-mapped for the PF.
 *
 * Lock order: pf->nb_lock (the notifiers' registration) before mlx5's
 * notifier chain lock.  mlx5_vfio_pf_lock (the PF list, every pf->vfs[])
 * is taken inside notifier calls, so it is never held while a notifier is
 * (un)registered, nor while nb_lock is taken.  A VF's auxiliary device is
 * removed without any of them, after its slot was cleared.  The delayed
 * work only try-locks the PF's device lock, so cancelling it under that
 * lock (unbind) cannot deadlock.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/mlx5/device.h>
#include <linux/mlx5/driver.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "aux.h"

#define PF_DRIVER_NAME "mlx5_core"

struct mlx5_vfio_pf;

/**
 * struct mlx5_vfio_pf_nb - an SR-IOV notifier of one VF slot
 * @nb: registered with mlx5_sriov_blocking_notifier_register()
 * @pf: the PF
 * @vf_id: the VF's number (0-based)
 * @wanted: the VF exists; register @nb (under the PF's nb_lock)
 * @registered: @nb is registered (under the PF's nb_lock)
 */
struct mlx5_vfio_pf_nb {
	struct notifier_block nb;
	struct mlx5_vfio_pf *pf;
	int vf_id;
	bool wanted;
	bool registered;
};

/**
 * struct mlx5_vfio_pf - a PF bound to mlx5_core
 * @node: in mlx5_vfio_pf_list
 * @pdev: the PF (reference held)
 * @mdev: its mlx5_core device, valid while the PF stays bound
 * @total_vfs: VF slots
 * @nb_lock: serialises (un)registration of @nbs and their @registered
 * @nb_work: retries registrations mlx5_core refused
 * @nbs: @total_vfs notifiers
 * @vfs: @total_vfs auxiliary devices, NULL where none; under
 *	mlx5_vfio_pf_lock
 */
struct mlx5_vfio_pf {
	struct list_head node;
	struct pci_dev *pdev;
	struct mlx5_core_dev *mdev;
	int total_vfs;
	struct mutex nb_lock;	/* before mlx5's chain lock; see the top */
	struct delayed_work nb_work;
	struct mlx5_vfio_pf_nb *nbs;
	struct mlx5_vfio_aux **vfs;
};

/**
 * struct mlx5_vfio_pf_vf - the PF side of one VF
 * @aux: its auxiliary device
 * @mdev: the PF's mlx5_core device
 * @dma_dev: the device the key pages are mapped for (the PF)
 * @pdn: the VF's protection domain, while @has_pd
 * @has_pd: @pdn is allocated; changed only while the auxiliary device is
 *	detached (no key is made then) or being added or removed
 * @mkeys: struct mlx5_vfio_pf_mkey by key; its own internal lock
 */
struct mlx5_vfio_pf_vf {
	struct mlx5_vfio_aux aux;
	struct mlx5_core_dev *mdev;
	struct device *dma_dev;
	u32 pdn;
	bool has_pd;
	struct xarray mkeys;
};

/**
 * struct mlx5_vfio_pf_mkey - a memory key and the pages mapped for it
 * @dir: the DMA direction they are mapped (and the key made) for
 * @npages: pages
 * @dma: their DMA addresses
 */
struct mlx5_vfio_pf_mkey {
	enum dma_data_direction dir;
	unsigned int npages;
	dma_addr_t dma[] __counted_by(npages);
};

/* Protects the list, @exiting and each PF's vfs[]; see the top comment */
static DEFINE_MUTEX(mlx5_vfio_pf_lock);
static LIST_HEAD(mlx5_vfio_pf_list);
/* Module exit started: attach no new PF */
static bool mlx5_vfio_pf_exiting;

static struct mlx5_vfio_pf_vf *to_pf_vf(struct mlx5_vfio_aux *aux)
{
	return container_of(aux, struct mlx5_vfio_pf_vf, aux);
}

static int mlx5_vfio_pf_exec(struct mlx5_vfio_aux *aux, const void *in,
			     int inlen, void *out, int outlen)
{
	struct mlx5_vfio_pf_vf *vf = to_pf_vf(aux);
	int ret;

	/* mlx5_cmd_exec() only reads @in */
	ret = mlx5_cmd_exec(vf->mdev, (void *)in, inlen, out, outlen);
	/* A firmware status is an answer: the caller reads it from @out */
	if (ret && MLX5_GET(suspend_vhca_out, out, status) != MLX5_CMD_STAT_OK)
		return 0;
	return ret;
}

static void pf_mkey_unmap(struct mlx5_vfio_pf_vf *vf,
			  struct mlx5_vfio_pf_mkey *mk, unsigned int n)
{
	while (n--)
		dma_unmap_page(vf->dma_dev, mk->dma[n], PAGE_SIZE, mk->dir);
}

static int mlx5_vfio_pf_mkey_create(struct mlx5_vfio_aux *aux,
				    struct page **pages, unsigned int npages,
				    enum dma_data_direction dir, u32 *mkey)
{
	struct mlx5_vfio_pf_vf *vf = to_pf_vf(aux);
	unsigned int i, octwords = DIV_ROUND_UP(npages, 2);
	struct mlx5_vfio_pf_mkey *mk;
	size_t inlen;
	__be64 *mtt;
	void *in, *mkc;
	int ret;

	if (npages > U32_MAX / 2)
		return -EINVAL;
	mk = kvzalloc(struct_size(mk, dma, npages), GFP_KERNEL);
	if (!mk)
		return -ENOMEM;
	mk->npages = npages;
	mk->dir = dir;
	inlen = MLX5_ST_SZ_BYTES(create_mkey_in) + (size_t)octwords * 16;
	in = kvzalloc(inlen, GFP_KERNEL);
	if (!in) {
		ret = -ENOMEM;
		goto err_free_mk;
	}
	mtt = MLX5_ADDR_OF(create_mkey_in, in, klm_pas_mtt);
	for (i = 0; i < npages; i++) {
		mk->dma[i] = dma_map_page(vf->dma_dev, pages[i], 0, PAGE_SIZE, dir);
		if (dma_mapping_error(vf->dma_dev, mk->dma[i])) {
			ret = -ENOMEM;
			goto err_unmap;
		}
		mtt[i] = cpu_to_be64(mk->dma[i]);
	}
	mkc = MLX5_ADDR_OF(create_mkey_in, in, memory_key_mkey_entry);
	MLX5_SET(mkc, mkc, access_mode_1_0, MLX5_MKC_ACCESS_MODE_MTT);
	MLX5_SET(mkc, mkc, lr, 1);
	/* the firmware writes only through a key made for it */
	MLX5_SET(mkc, mkc, lw, dir != DMA_TO_DEVICE);
	MLX5_SET(mkc, mkc, rr, 1);
	MLX5_SET(mkc, mkc, rw, dir != DMA_TO_DEVICE);
	MLX5_SET(mkc, mkc, pd, vf->pdn);
	MLX5_SET(mkc, mkc, qpn, 0xffffff);
	MLX5_SET64(mkc, mkc, start_addr, 0);
	MLX5_SET64(mkc, mkc, len, (u64)npages << PAGE_SHIFT);
	MLX5_SET(mkc, mkc, log_page_size, PAGE_SHIFT);
	MLX5_SET(mkc, mkc, translations_octword_size, octwords);
	MLX5_SET(create_mkey_in, in, translations_octword_actual_size, octwords);
	ret = mlx5_core_create_mkey(vf->mdev, mkey, in, inlen);
	if (ret)
		goto err_unmap;
	ret = xa_insert(&vf->mkeys, *mkey, mk, GFP_KERNEL);
	if (ret)
		goto err_destroy;
	kvfree(in);
	return 0;

err_destroy:
	mlx5_core_destroy_mkey(vf->mdev, *mkey);
err_unmap:
	pf_mkey_unmap(vf, mk, i);
	kvfree(in);
err_free_mk:
	kvfree(mk);
	return ret;
}

static void mlx5_vfio_pf_mkey_destroy(struct mlx5_vfio_aux *aux, u32 mkey)
{
	struct mlx5_vfio_pf_vf *vf = to_pf_vf(aux);
	struct mlx5_vfio_pf_mkey *mk = xa_erase(&vf->mkeys, mkey);

	if (!mk)
		return;
	mlx5_core_destroy_mkey(vf->mdev, mkey);
	pf_mkey_unmap(vf, mk, mk->npages);
	kvfree(mk);
}

/* Free the VF's protection domain, if it has one */
static void pf_vf_put_pd(struct mlx5_vfio_pf_vf *vf)
{
	if (vf->has_pd)
		mlx5_core_dealloc_pd(vf->mdev, vf->pdn);
	vf->has_pd = false;
}

/* Removal freed the PD; only a failed mlx5_vfio_aux_add() gets here with one */
static void mlx5_vfio_pf_release(struct mlx5_vfio_aux *aux)
{
	struct mlx5_vfio_pf_vf *vf = to_pf_vf(aux);

	pf_vf_put_pd(vf);
	xa_destroy(&vf->mkeys);
	kfree(vf);
}

/*
 * No track_read_clear: a real page tracker reports through a queue pair on
 * the PF (reporting_qpn) that this provider does not create, so the driver
 * offers no dirty-page tracking for real VFs (<linux/mlx5_vfio.h>).
 */
static const struct mlx5_vfio_aux_backend mlx5_vfio_pf_backend = {
	.exec = mlx5_vfio_pf_exec,
	.mkey_create = mlx5_vfio_pf_mkey_create,
	.mkey_destroy = mlx5_vfio_pf_mkey_destroy,
	.release = mlx5_vfio_pf_release,
};

/* The VF's vhca_id, from its general device capabilities */
static int pf_query_vhca_id(struct mlx5_vfio_pf *pf, u16 function_id, u16 *vhca_id)
{
	u32 in[MLX5_ST_SZ_DW(query_hca_cap_in)] = {};
	int outlen = MLX5_ST_SZ_BYTES(query_hca_cap_out);
	void *out;
	int ret;

	out = kzalloc(outlen, GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	MLX5_SET(query_hca_cap_in, in, opcode, MLX5_CMD_OP_QUERY_HCA_CAP);
	MLX5_SET(query_hca_cap_in, in, op_mod,
		 MLX5_SET_HCA_CAP_OP_MOD_GENERAL_DEVICE << 1 | HCA_CAP_OPMOD_GET_CUR);
	MLX5_SET(query_hca_cap_in, in, other_function, 1);
	MLX5_SET(query_hca_cap_in, in, function_id, function_id);
	ret = mlx5_cmd_exec(pf->mdev, in, sizeof(in), out, outlen);
	if (!ret)
		*vhca_id = MLX5_GET(query_hca_cap_out, out,
				    capability.cmd_hca_cap.vhca_id);
	kfree(out);
	return ret;
}

static struct mlx5_vfio_pf *pf_find(struct pci_dev *pdev)
{
	struct mlx5_vfio_pf *pf;

	lockdep_assert_held(&mlx5_vfio_pf_lock);
	list_for_each_entry(pf, &mlx5_vfio_pf_list, node)
		if (pf->pdev == pdev)
			return pf;
	return NULL;
}

/*
 * Every change to a PF's set of VFs (attach, VF added or deleted, detach)
 * runs under the PF's device lock: the driver core holds it around
 * binding and unbinding, sriov_numvfs writes around VF creation and
 * removal, and module init and exit take it.  A struct mlx5_vfio_pf
 * found under mlx5_vfio_pf_lock therefore stays valid in these paths.
 * DISABLE_VF and ENABLE_VF of a VF (pf_vf_event()) come from mlx5_core
 * instead, one at a time (under its devlink lock), inside a notifier that
 * is unregistered before the VF's auxiliary device is removed; they alone
 * change the VF's protection domain after it was added, and only while
 * the device is detached, when no key is made.
 */

/* Register the notifiers of the VFs that exist; lockdep: nb_lock */
static bool pf_nb_sync(struct mlx5_vfio_pf *pf)
{
	bool again = false;
	int id;

	lockdep_assert_held(&pf->nb_lock);
	for (id = 0; id < pf->total_vfs; id++) {
		struct mlx5_vfio_pf_nb *pnb = &pf->nbs[id];

		if (!pnb->wanted || pnb->registered)
			continue;
		if (mlx5_sriov_blocking_notifier_register(pf->mdev, id, &pnb->nb))
			again = true;
		else
			pnb->registered = true;
	}
	return again;
}

static void pf_nb_work(struct work_struct *work)
{
	struct mlx5_vfio_pf *pf = container_of(to_delayed_work(work),
					       struct mlx5_vfio_pf, nb_work);
	bool again;

	/* Held while sriov_numvfs is written: try again after it */
	if (!device_trylock(&pf->pdev->dev)) {
		schedule_delayed_work(&pf->nb_work, HZ / 10);
		return;
	}
	mutex_lock(&pf->nb_lock);
	again = pf_nb_sync(pf);
	mutex_unlock(&pf->nb_lock);
	device_unlock(&pf->pdev->dev);
	if (again)
		pci_warn(pf->pdev, "mlx5-vfio-pf: mlx5_core refused a VF notifier\n");
}

/* A VF of a known PF exists: create its auxiliary device */
static void pf_vf_attach(struct pci_dev *vfdev)
{
	struct mlx5_vfio_pf_vf *vf;
	struct mlx5_vfio_pf *pf;
	u16 vhca_id;
	int id, ret;

	mutex_lock(&mlx5_vfio_pf_lock);
	pf = pf_find(vfdev->physfn);
	id = pci_iov_vf_id(vfdev);
	if (!pf || id < 0 || id >= pf->total_vfs || pf->vfs[id])
		goto out_unlock;
	ret = pf_query_vhca_id(pf, id + 1, &vhca_id);
	if (ret) {
		pci_warn(vfdev, "mlx5-vfio-pf: no vhca_id for VF %d: %d\n", id, ret);
		goto out_unlock;
	}
	vf = kzalloc(sizeof(*vf), GFP_KERNEL);
	if (!vf)
		goto out_unlock;
	vf->mdev = pf->mdev;
	vf->dma_dev = &pf->pdev->dev;
	xa_init(&vf->mkeys);
	ret = mlx5_core_alloc_pd(pf->mdev, &vf->pdn);
	if (ret) {
		pci_warn(vfdev, "mlx5-vfio-pf: no protection domain: %d\n", ret);
		kfree(vf);
		goto out_unlock;
	}
	vf->has_pd = true;
	/* On failure this frees vf through mlx5_vfio_pf_release() */
	ret = mlx5_vfio_aux_add(&vf->aux, &pf->pdev->dev, pci_domain_nr(vfdev->bus),
				vfdev->bus->number, vfdev->devfn, id + 1, vhca_id,
				&mlx5_vfio_pf_backend);
	if (ret) {
		pci_warn(vfdev, "mlx5-vfio-pf: auxiliary device: %d\n", ret);
		goto out_unlock;
	}
	pf->vfs[id] = &vf->aux;
	mutex_unlock(&mlx5_vfio_pf_lock);

	/* Not under mlx5_vfio_pf_lock, which notifier calls take */
	mutex_lock(&pf->nb_lock);
	pf->nbs[id].wanted = true;
	if (pf_nb_sync(pf))
		schedule_delayed_work(&pf->nb_work, HZ / 10);
	mutex_unlock(&pf->nb_lock);
	return;

out_unlock:
	mutex_unlock(&mlx5_vfio_pf_lock);
}

/* Take VF @id's auxiliary device out of its slot and remove it */
static void pf_vf_remove(struct mlx5_vfio_pf *pf, int id)
{
	struct mlx5_vfio_aux *aux;
	struct device *dev;

	mutex_lock(&mlx5_vfio_pf_lock);
	aux = pf->vfs[id];
	pf->vfs[id] = NULL;
	mutex_unlock(&mlx5_vfio_pf_lock);
	if (!aux)
		return;
	dev = &aux->madev.adev.dev;
	get_device(dev);
	/* May wait for the VFIO user: no lock held */
	mlx5_vfio_aux_remove(aux);
	/* The driver is gone and its keys are destroyed */
	pf_vf_put_pd(to_pf_vf(aux));
	put_device(dev);
}

/* Stop following VF @id; mlx5_core still counts it (see the top) */
static void pf_nb_drop(struct mlx5_vfio_pf *pf, int id)
{
	struct mlx5_vfio_pf_nb *pnb = &pf->nbs[id];

	mutex_lock(&pf->nb_lock);
	if (pnb->registered)
		mlx5_sriov_blocking_notifier_unregister(pf->mdev, id, &pnb->nb);
	pnb->registered = false;
	pnb->wanted = false;
	mutex_unlock(&pf->nb_lock);
}

/* A VF's pci_dev goes (pci_disable_sriov(), before its HCA is disabled) */
static void pf_vf_gone(struct pci_dev *vfdev)
{
	struct mlx5_vfio_pf *pf;
	int id;

	mutex_lock(&mlx5_vfio_pf_lock);
	pf = pf_find(vfdev->physfn);
	id = pci_iov_vf_id(vfdev);
	mutex_unlock(&mlx5_vfio_pf_lock);
	if (!pf || id < 0 || id >= pf->total_vfs)
		return;
	pf_nb_drop(pf, id);
	pf_vf_remove(pf, id);
}

/*
 * mlx5_core disables VF @id's HCA (@enable false) or enables it again.
 * Called inside mlx5_core's chain, which pf_vf_gone() and teardown leave
 * (unregistering waits for a call in progress) before they remove the
 * auxiliary device: it stays while this runs.  A VF whose pci_dev is new
 * is not here yet (BUS_NOTIFY_ADD_DEVICE comes after ENABLE_VF).
 */
static void pf_vf_event(struct mlx5_vfio_pf *pf, int id, bool enable)
{
	struct mlx5_vfio_pf_vf *vf;
	struct mlx5_vfio_aux *aux;
	int ret;

	mutex_lock(&mlx5_vfio_pf_lock);
	aux = pf->vfs[id];
	mutex_unlock(&mlx5_vfio_pf_lock);
	if (!aux)
		return;
	vf = to_pf_vf(aux);
	if (!enable) {
		/* The driver ends its migration; then no key is made */
		mlx5_vfio_aux_detach(aux);
		pf_vf_put_pd(vf);
		return;
	}
	if (!vf->has_pd) {
		ret = mlx5_core_alloc_pd(vf->mdev, &vf->pdn);
		if (ret) {
			pci_warn(pf->pdev, "mlx5-vfio-pf: VF %d stays detached: no protection domain: %d\n",
				 id, ret);
			return;
		}
		vf->has_pd = true;
	}
	mlx5_vfio_aux_attach(aux);
}

static int pf_sriov_event(struct notifier_block *nb, unsigned long event,
			  void *data)
{
	struct mlx5_vfio_pf_nb *pnb = container_of(nb, struct mlx5_vfio_pf_nb, nb);

	if (event == MLX5_PF_NOTIFY_DISABLE_VF)
		pf_vf_event(pnb->pf, pnb->vf_id, false);
	else if (event == MLX5_PF_NOTIFY_ENABLE_VF)
		pf_vf_event(pnb->pf, pnb->vf_id, true);
	return NOTIFY_OK;
}

static void pf_free(struct mlx5_vfio_pf *pf)
{
	mutex_destroy(&pf->nb_lock);
	kfree(pf->vfs);
	kfree(pf->nbs);
	pci_dev_put(pf->pdev);
	kfree(pf);
}

/* Forget a PF taken off mlx5_vfio_pf_list: notifiers, VFs */
static void pf_teardown(struct mlx5_vfio_pf *pf)
{
	int id;

	/* The work only try-locks the device lock our caller may hold */
	cancel_delayed_work_sync(&pf->nb_work);
	for (id = 0; id < pf->total_vfs; id++)
		pf_nb_drop(pf, id);
	for (id = 0; id < pf->total_vfs; id++)
		pf_vf_remove(pf, id);
	pf_free(pf);
}

/* A PF was bound to mlx5_core (or was when we loaded); its device lock held */
static void pf_attach(struct pci_dev *pdev)
{
	struct pci_dev *vfdev = NULL;
	struct mlx5_vfio_pf *pf;
	int id;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return;
	pf->pdev = pci_dev_get(pdev);
	pf->mdev = pci_get_drvdata(pdev);
	pf->total_vfs = pci_sriov_get_totalvfs(pdev);
	mutex_init(&pf->nb_lock);
	INIT_DELAYED_WORK(&pf->nb_work, pf_nb_work);
	pf->nbs = kcalloc(pf->total_vfs, sizeof(*pf->nbs), GFP_KERNEL);
	pf->vfs = kcalloc(pf->total_vfs, sizeof(*pf->vfs), GFP_KERNEL);
	if (!pf->mdev || !pf->nbs || !pf->vfs)
		goto err_free;
	for (id = 0; id < pf->total_vfs; id++) {
		pf->nbs[id].pf = pf;
		pf->nbs[id].vf_id = id;
		pf->nbs[id].nb.notifier_call = pf_sriov_event;
	}
	mutex_lock(&mlx5_vfio_pf_lock);
	if (mlx5_vfio_pf_exiting) {
		mutex_unlock(&mlx5_vfio_pf_lock);
		goto err_free;
	}
	list_add_tail(&pf->node, &mlx5_vfio_pf_list);
	mutex_unlock(&mlx5_vfio_pf_lock);
	pci_info(pdev, "mlx5-vfio-pf: providing the PF side of up to %d VFs\n",
		 pf->total_vfs);

	/* VFs enabled before we came */
	for_each_pci_dev(vfdev)
		if (vfdev->is_virtfn && vfdev->physfn == pdev)
			pf_vf_attach(vfdev);
	return;

err_free:
	pf_free(pf);
}

/* A PF leaves mlx5_core (or we unload); its device lock held */
static void pf_detach(struct pci_dev *pdev)
{
	struct mlx5_vfio_pf *pf;

	mutex_lock(&mlx5_vfio_pf_lock);
	pf = pf_find(pdev);
	if (pf)
		list_del(&pf->node);
	mutex_unlock(&mlx5_vfio_pf_lock);
	if (pf)
		pf_teardown(pf);
}

static bool pf_is_ours(struct pci_dev *pdev)
{
	struct device_driver *drv = pdev->dev.driver;

	return !pdev->is_virtfn && drv && !strcmp(drv->name, PF_DRIVER_NAME) &&
	       pci_sriov_get_totalvfs(pdev) > 0;
}

static int pf_bus_event(struct notifier_block *nb, unsigned long action,
			void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);

	switch (action) {
	case BUS_NOTIFY_BOUND_DRIVER:
		if (pf_is_ours(pdev))
			pf_attach(pdev);
		break;
	case BUS_NOTIFY_UNBIND_DRIVER:
		if (pf_is_ours(pdev))
			pf_detach(pdev);
		break;
	case BUS_NOTIFY_ADD_DEVICE:
		if (pdev->is_virtfn)
			pf_vf_attach(pdev);
		break;
	case BUS_NOTIFY_DEL_DEVICE:
		if (pdev->is_virtfn)
			pf_vf_gone(pdev);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block mlx5_vfio_pf_bus_nb = {
	.notifier_call = pf_bus_event,
};

static int __init mlx5_vfio_pf_init(void)
{
	struct pci_dev *pdev = NULL;
	int ret;

	ret = bus_register_notifier(&pci_bus_type, &mlx5_vfio_pf_bus_nb);
	if (ret)
		return ret;
	/*
	 * PFs bound before now.  device_lock() keeps the binding stable
	 * against the notifier, which runs under it too.
	 */
	for_each_pci_dev(pdev) {
		device_lock(&pdev->dev);
		if (pf_is_ours(pdev)) {
			mutex_lock(&mlx5_vfio_pf_lock);
			ret = pf_find(pdev) ? 1 : 0;
			mutex_unlock(&mlx5_vfio_pf_lock);
			if (!ret)
				pf_attach(pdev);
		}
		device_unlock(&pdev->dev);
	}
	return 0;
}

static void __exit mlx5_vfio_pf_exit(void)
{
	struct pci_dev *pdev;
	struct mlx5_vfio_pf *pf;

	/*
	 * Tear the PFs down while the bus notifier still runs, so a VF
	 * deleted meanwhile is still seen (its mlx5 notifier must be
	 * unregistered while mlx5_core counts it), each under its PF's
	 * device lock like every other change.
	 */
	mutex_lock(&mlx5_vfio_pf_lock);
	mlx5_vfio_pf_exiting = true;
	mutex_unlock(&mlx5_vfio_pf_lock);
	for (;;) {
		mutex_lock(&mlx5_vfio_pf_lock);
		pf = list_first_entry_or_null(&mlx5_vfio_pf_list,
					      struct mlx5_vfio_pf, node);
		pdev = pf ? pci_dev_get(pf->pdev) : NULL;
		mutex_unlock(&mlx5_vfio_pf_lock);
		if (!pdev)
			break;
		device_lock(&pdev->dev);
		pf_detach(pdev);
		device_unlock(&pdev->dev);
		pci_dev_put(pdev);
	}
	bus_unregister_notifier(&pci_bus_type, &mlx5_vfio_pf_bus_nb);
}

module_init(mlx5_vfio_pf_init);
module_exit(mlx5_vfio_pf_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("PF side of mlx5-vfio-pci on top of mlx5_core (untested on hardware)");
