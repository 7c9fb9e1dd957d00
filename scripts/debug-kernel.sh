#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build (once) a 6.12 debug kernel from Debian's linux-source-6.12:
# x86_64_defconfig + kvm_guest.config + scripts/debug-kernel.config.  The
# result is cached in $CACHE/debug-kernel/<hash of config and source>/ with
#   bzImage, build/ (the kbuild output, for M= builds of our modules) and
#   root/lib/modules/<release>/ (its modules).
# Prints that directory.  With --if-cached, prints it only if already built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CACHE=${CACHE:-$HOME/.cache/vfio-pci-core}
tarball=/usr/src/linux-source-6.12.tar.xz
key=$( (cat "$here/debug-kernel.config"; stat -c %s "$tarball") | sha1sum | cut -c1-12)
dir=$CACHE/debug-kernel/$key
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi
[ "${1:-}" = --if-cached ] && exit 1

src=$CACHE/debug-kernel/src
if [ ! -f "$src/.stamp" ]; then
	rm -rf "$src" && mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1
	touch "$src/.stamp"
fi
mkdir -p "$dir/build"
make -s -C "$src" O="$dir/build" x86_64_defconfig kvm_guest.config >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$dir/build" "$dir/build/.config" \
	"$here/debug-kernel.config" >&2
make -s -C "$src" O="$dir/build" olddefconfig >&2
for s in KASAN PROVE_LOCKING DEBUG_KMEMLEAK FAILSLAB IOMMUFD VFIO_DEVICE_CDEV INTEL_IOMMU IRQ_REMAP \
	AUXILIARY_BUS SOFTLOCKUP_DETECTOR; do
	grep -q "^CONFIG_$s=y" "$dir/build/.config" || { echo "debug-kernel: CONFIG_$s did not stick" >&2; exit 1; }
done
make -s -C "$src" O="$dir/build" -j"$(nproc)" bzImage modules >&2
make -s -C "$src" O="$dir/build" INSTALL_MOD_PATH="$dir/root" modules_install >&2
cp "$dir/build/arch/x86/boot/bzImage" "$dir/bzImage"
touch "$dir/.done"
echo "$dir"
