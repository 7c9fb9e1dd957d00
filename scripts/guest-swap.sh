#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# vfio-swap ours|stock: inside the test guest, replace the loaded
# vfio-pci-core/vfio-pci with the other set.  The devices bound to vfio-pci
# are unbound first and bound again afterwards, at the same addresses.
# Prints nothing on success; exits non-zero with a reason otherwise.
set -u
want=$1
[ "$want" = ours ] || [ "$want" = stock ] || { echo "usage: vfio-swap ours|stock" >&2; exit 2; }
[ "$(cat /etc/vfio-set)" = "$want" ] && exit 0

bound=""
for d in /sys/bus/pci/drivers/vfio-pci/0000:*; do
	[ -e "$d" ] || continue
	bdf=$(basename "$d")
	bound="$bound $bdf"
	echo "$bdf" > /sys/bus/pci/drivers/vfio-pci/unbind || exit 1
done
rmmod vfio-pci || { echo "vfio-swap: rmmod vfio-pci failed" >&2; exit 1; }
rmmod vfio-pci-core || { echo "vfio-swap: rmmod vfio-pci-core failed" >&2; exit 1; }
while read -r m args; do
	insmod "/lib/modules/sets/$want/$m.ko" $args || { echo "vfio-swap: insmod $m failed" >&2; exit 1; }
done < /lib/modules/sets/args
echo "$want" > /etc/vfio-set
for bdf in $bound; do
	echo "$bdf" > /sys/bus/pci/drivers_probe
	[ -e /sys/bus/pci/drivers/vfio-pci/$bdf ] || { echo "vfio-swap: $bdf did not bind" >&2; exit 1; }
done
exit 0
