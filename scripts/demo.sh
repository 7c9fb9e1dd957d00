#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make demo`: build our modules, boot a guest with an emulated IOMMU, bind
# edu and e1000e to our vfio-pci and take a tour of each through VFIO:
# device info, regions, interrupts, a BAR read, an MSI delivered (and a DMA
# round trip on edu).  A second boot live migrates a simulated mlx5 VF:
# two ivshmem functions bound to mlx5-vfio-pci with PF halves from the
# firmware simulator, BAR2 of A moved into B by pre-copy and stop-copy;
# then, in the same boot, the host's QEMU 7.2 (over the shared host root)
# runs a VM with VF A and migrates it through the v1 migration region: a
# migration cancelled half way, then one to a file that a destination
# QEMU with VF B loads (total time, downtime and the device's share of
# it; B's BAR2 against A's pattern).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
echo "== building modules and tools (kernel $("$here/kver.sh"))"
make -s modules tests >/dev/null
echo "== booting a QEMU TCG guest: q35 + intel-iommu, devices edu and e1000e"
"$here/guest-run.sh" --out build/demo --devices "edu e1000e" \
	'vfio_demo edu $VFIO_EDU_BDF' 'vfio_demo e1000e $VFIO_E1000E_BDF' |
	grep -v '^# guest logs' | sed 's/^# PROG .*//; s/^# EXIT .*//' | cat -s
echo "== booting a second guest: two ivshmem functions (16 MiB BAR2) as simulated mlx5 VFs,"
echo "== migrated by vfio_demo (v2), then by the host's QEMU 7.2 inside the guest (v1 region)"
"$here/guest-run.sh" --out build/demo-mlx5 --devices "ivshmem=16M ivshmem=16M" \
	--modules "mlx5-vfio-sim mlx5-vfio-pci" --hostroot --timeout 600 \
	'vfio_demo mlx5-migrate $VFIO_IVSHMEM_BDF $VFIO_IVSHMEM2_BDF' \
	'host:@TREE@/tools/testing/selftests/vfio/mlx5_qemu_migrate_test.sh -v' |
	grep -v '^# guest logs' | sed 's/^# PROG .*//; s/^# EXIT .*//' | cat -s
