#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Drop this tree into a kernel source tree, as it would be upstream:
# drivers/vfio/pci/ is replaced by ours (Kconfig, Makefile, sources) and
# include/linux/vfio_pci_core.h by our public header.  drivers/vfio/Kconfig
# already sources drivers/vfio/pci/Kconfig, so our symbols appear in the
# VFIO menu.
#
# usage: intree-overlay.sh [--src DIR] [--build]
#   --src DIR  kernel source to overlay (default: Debian's linux-source-6.12
#              unpacked once into $CACHE/linux-source-6.12)
#   --build    configure from Debian's config of the installed 6.12 kernel
#              (our modules as =m) in $CACHE/intree-build and run
#              `make drivers/vfio/pci/` there
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
export CACHE=${CACHE:-$HOME/.cache/vfio-pci-core}
src=""
build=0
while [ $# -gt 0 ]; do
	case "$1" in
	--src) src=$2; shift 2 ;;
	--build) build=1; shift ;;
	*) echo "usage: $0 [--src DIR] [--build]" >&2; exit 2 ;;
	esac
done
[ -n "$src" ] || src=$("$here/ksrc.sh" full)
[ -f "$src/drivers/vfio/Kconfig" ] || { echo "intree: $src is not a kernel tree" >&2; exit 1; }

overlay() {
	rm -rf "$src/drivers/vfio/pci"
	mkdir -p "$src/drivers/vfio/pci"
	(cd "$top" && git ls-files -co --exclude-standard drivers/vfio/pci) |
	while read -r f; do
		mkdir -p "$src/$(dirname "$f")"
		cp "$top/$f" "$src/$f"
	done
	cp "$top/include/linux/vfio_pci_core.h" "$src/include/linux/vfio_pci_core.h"
	cp "$top/include/linux/mlx5_vfio.h" "$src/include/linux/mlx5_vfio.h"
	grep -q 'source "drivers/vfio/pci/Kconfig"' "$src/drivers/vfio/Kconfig"
	echo "intree: overlaid $top onto $src"
}
overlay

[ $build = 1 ] || exit 0

KVER=${KVER:-$("$here/kver.sh")}
obj=$CACHE/intree-build
mkdir -p "$obj"
cp "/boot/config-$KVER" "$obj/.config"
"$src/scripts/config" --file "$obj/.config" \
	--module VFIO --module VFIO_PCI_CORE --module VFIO_PCI \
	--module MLX5_VFIO_PCI --module MLX5_VFIO_SIM --module MLX5_VFIO_PF \
	--disable MODULE_SIG --disable DEBUG_INFO_BTF \
	--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
	--set-str MODULE_SIG_KEY ""
make -s -C "$src" O="$obj" olddefconfig
for s in VFIO_PCI_CORE VFIO_PCI VFIO_PCI_MMAP VFIO_PCI_INTX \
	 MLX5_VFIO_PCI MLX5_VFIO_SIM MLX5_VFIO_PF; do
	grep -q "^CONFIG_$s=" "$obj/.config" || { echo "intree: CONFIG_$s missing after olddefconfig" >&2; exit 1; }
done
echo "intree: building drivers/vfio/pci/ in $obj"
make -s -C "$src" O="$obj" -j"$(nproc)" drivers/vfio/pci/
ls "$obj"/drivers/vfio/pci/*.o >/dev/null
echo "intree: ok: $(ls "$obj"/drivers/vfio/pci/*.o "$obj"/drivers/vfio/pci/*/*.o 2>/dev/null | wc -l) objects built in-tree"
