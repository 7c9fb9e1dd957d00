#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Install with apt whatever the build, the lint and the guest harness need:
# compiler and kbuild, Debian's 6.12 headers and the matching 6.12 kernel
# image (the guest boots it), linux-source-6.12 (checkpatch, kselftest
# harness, in-tree builds), QEMU, busybox, dkms (make check's DKMS step)
# and the rest.  Idempotent and
# quiet when everything is already there.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

pkgs="build-essential bc bison flex libelf-dev libssl-dev kmod cpio xz-utils
      zstd busybox-static qemu-system-x86 sparse linux-source-6.12 python3
      gnuplot-nox util-linux file dkms"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done

kver=$("$here/kver.sh" installed)
updated=0
apt_update() {
	[ $updated = 1 ] && return 0
	echo "deps: apt-get update" >&2
	apt-get update -q >/dev/null
	updated=1
}

if [ -z "$kver" ]; then
	apt_update
	kver=$("$here/kver.sh" candidate) || {
		echo "deps: no Debian 6.12 kernel with both image and headers on the mirror" >&2
		exit 1
	}
	missing="$missing linux-image-$kver-unsigned linux-headers-$kver"
fi

if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || { echo "deps: need root to install:$missing" >&2; exit 1; }
	apt_update
	echo "deps: installing$missing" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$missing >/dev/null
fi
exit 0
