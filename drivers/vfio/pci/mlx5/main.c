// SPDX-License-Identifier: GPL-2.0-only
/*
 * PLACEHOLDER so the build works before the VF side lands: the VF-side
 * helper's main.c (branch mlx5vf) replaces this file whole.
 */
#include <linux/mlx5_vfio.h>
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mlx5-vfio-pci placeholder (replaced by the fused driver)");
