// SPDX-License-Identifier: GPL-2.0-only
/*
 * PLACEHOLDER so the build works before the VF side lands: the VF-side
 * helper's file of this name (branch mlx5vf) replaces this one whole.
 */
