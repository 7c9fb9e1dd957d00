#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make demo`: build our modules, boot a guest with an emulated IOMMU, bind
# edu and e1000e to our vfio-pci and take a tour of each through VFIO:
# device info, regions, interrupts, a BAR read, an MSI delivered (and a DMA
# round trip on edu).
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
