#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# DKMS packaging of our modules (dkms.conf at the top of the tree).
#
#   dkms.sh install   copy the sources to /usr/src/vfio-pci-core-<version>,
#                     then dkms add, build and install for $KVER: the
#                     modules land in /lib/modules/$KVER/updates/dkms, where
#                     modprobe prefers them to the distribution's; dkms
#                     rebuilds them for every kernel installed later
#   dkms.sh remove    dkms remove every version of ours, delete the sources
#   dkms.sh check     make check's step: the same add/build/install, but
#                     with a DKMS tree, source tree and module tree of its
#                     own in a temporary directory (nothing on this machine
#                     changes: the guest tests find Debian's modules as
#                     "stock" in /lib/modules/$KVER/kernel), then checks
#                     that modinfo resolves each of our modules into
#                     updates/dkms of that tree and that the machine's own
#                     vfio-pci still resolves into kernel/
#
# $KVER: the target kernel (default scripts/kver.sh), $KDIR its headers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
KVER=${KVER:-$("$here/kver.sh")}
KDIR=${KDIR:-/usr/src/linux-headers-$KVER}
name=vfio-pci-core
# The modules dkms.conf installs
mods="vfio-pci-core vfio-pci mlx5-vfio-pci mlx5-vfio-pf"

tmp=""
die() { echo "dkms: $*" >&2; exit 1; }

# The package version: commit date and hash when in git, else 0
version() {
	git -C "$top" log -1 --format='%cd.%h' --date=format:%Y%m%d 2>/dev/null || echo 0
}

# Copy what kbuild needs (Kbuild, dkms.conf, drivers/, include/) to $1
stage() {
	local dst=$1 ver=$2
	mkdir -p "$dst"
	(cd "$top" && find Kbuild drivers include -type f \
		\( -name '*.c' -o -name '*.h' -o -name Makefile -o -name Kconfig \
		   -o -name Kbuild \) ! -name '*.mod.c' -print0 | cpio -0pdm --quiet "$dst")
	sed "s/@VERSION@/$ver/" "$top/dkms.conf" > "$dst/dkms.conf"
}

do_install() {
	local ver src
	command -v dkms > /dev/null || die "dkms is not installed (make deps)"
	ver=$(version)
	src=/usr/src/$name-$ver
	# Every older version goes first: dkms keeps a module whose version
	# string equals the installed one, which would pair a new library with
	# old mlx5 modules
	do_remove
	rm -rf "$src"
	stage "$src" "$ver"
	dkms add -m "$name" -v "$ver"
	dkms build -m "$name" -v "$ver" -k "$KVER" --kernelsourcedir "$KDIR"
	dkms install -m "$name" -v "$ver" -k "$KVER"
	echo "dkms: $name $ver installed for $KVER:"
	for m in $mods; do
		echo "  $m: $(modinfo -k "$KVER" -n "$m")"
	done
}

do_remove() {
	local v
	command -v dkms > /dev/null || die "dkms is not installed"
	for v in $(dkms status -m "$name" 2>/dev/null |
		   sed -n "s|^$name/\([^,:]*\).*|\1|p" | sort -u); do
		dkms remove -m "$name" -v "$v" --all
		rm -rf "/usr/src/$name-$v"
	done
}

do_check() {
	local ver root lib m path bad=0 stock
	command -v dkms > /dev/null || die "dkms is not installed (make deps)"
	[ -d "$KDIR" ] || die "no headers at $KDIR"
	[ -d "/lib/modules/$KVER/kernel/drivers/vfio" ] ||
		die "no /lib/modules/$KVER/kernel/drivers/vfio to compare with"
	tmp=$(mktemp -d /tmp/vfio-pci-core-dkms.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT	# also when a dkms step fails (set -e)
	ver=$(version)
	root=$tmp/root
	lib=$root/lib/modules/$KVER
	# The distribution's vfio modules, so the check sees both copies
	mkdir -p "$lib/kernel/drivers" "$tmp/dkms" "$tmp/src"
	cp -a "/lib/modules/$KVER/kernel/drivers/vfio" "$lib/kernel/drivers/"
	cp -a "/lib/modules/$KVER"/modules.builtin* "/lib/modules/$KVER/modules.order" "$lib/"
	ln -s "$KDIR" "$lib/build"
	stage "$tmp/src/$name-$ver" "$ver"
	# Signing keys, if dkms makes any, stay in the temporary tree too
	export mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.pub
	local opts=(--dkmstree "$tmp/dkms" --sourcetree "$tmp/src"
		    --installtree "$root/lib/modules" --no-depmod)
	dkms add "${opts[@]}" -m "$name" -v "$ver"
	dkms build "${opts[@]}" -m "$name" -v "$ver" -k "$KVER" --kernelsourcedir "$KDIR"
	dkms install "${opts[@]}" -m "$name" -v "$ver" -k "$KVER"
	depmod -b "$root" "$KVER"
	for m in $mods; do
		path=$(modinfo -b "$root" -k "$KVER" -n "$m" 2>/dev/null) || path=""
		case "$path" in
		"$lib/updates/dkms/"*) echo "dkms: $m -> ${path#"$root"}" ;;
		*) echo "dkms: $m resolves to '${path:-nothing}', not updates/dkms" >&2; bad=1 ;;
		esac
	done
	# The distribution's copy is still there, only outranked
	[ -e "$(ls "$lib"/kernel/drivers/vfio/pci/vfio-pci.ko* 2>/dev/null | head -n1)" ] ||
		{ echo "dkms: the distribution's vfio-pci went missing" >&2; bad=1; }
	# And this machine's module tree was not touched
	stock=$(modinfo -k "$KVER" -n vfio-pci)
	case "$stock" in
	"/lib/modules/$KVER/kernel/"*) ;;
	*) echo "dkms: this machine's vfio-pci resolves to $stock" >&2; bad=1 ;;
	esac
	return $bad
}

case "${1:-}" in
install) do_install ;;
remove) do_remove ;;
check) do_check ;;
*) echo "usage: dkms.sh install|remove|check" >&2; exit 2 ;;
esac
