// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shared auxiliary-device bookkeeping, compiled into mlx5-vfio-pf
 * (a kbuild object belongs to one module only, hence this wrapper).
 */
#include "aux.c"
