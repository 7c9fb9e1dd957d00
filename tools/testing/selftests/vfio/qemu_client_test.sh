#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# A real VFIO client: QEMU itself (the host's qemu-system-x86_64, reached in
# the guest through the shared host root) assigns each bound device with
# -device vfio-pci,host=<bdf>.  It must open the group, realize the device
# and list it with its BARs in "info pci".  TAP output, one case per device.

n=0
fail=0
echo "TAP version 13"
echo "1..2"
for spec in edu:1234:11e8 e1000e:8086:10d3; do
	name=${spec%%:*}
	ids=${spec#*:}
	n=$((n + 1))
	var=VFIO_$(echo "$name" | tr 'a-z' 'A-Z')_BDF
	eval bdf=\$$var
	if [ -z "$bdf" ]; then
		echo "ok $n qemu.$name # SKIP $name not bound"
		continue
	fi
	out=$(printf 'info pci\nquit\n' |
		timeout 120 qemu-system-x86_64 -machine q35 -accel tcg -m 64 \
			-nodefaults -nographic -S -monitor stdio \
			-device vfio-pci,host="$bdf",id=assigned 2>&1)
	rc=$?
	if [ $rc = 0 ] && echo "$out" | grep -q "PCI device $ids" &&
	   echo "$out" | grep -q "BAR0:" && echo "$out" | grep -q "id \"assigned\""; then
		echo "ok $n qemu.$name"
	else
		echo "$out" | sed 's/^/# /' | tail -n 30
		echo "not ok $n qemu.$name (qemu rc $rc)"
		fail=1
	fi
done
exit $fail
