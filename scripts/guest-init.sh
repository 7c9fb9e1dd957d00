#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the test guest (busybox).  Reads /etc/guest.conf written by
# scripts/guest-run.sh, loads the kernel modules, binds the requested PCI
# devices to the VFIO driver under test, runs the test programs with their
# output on the second serial port (/dev/ttyS1), dumps dmesg there and
# powers off.  The host parses that port; the console (ttyS0) is only for
# the kernel.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/shm /dev/hugepages && mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

. /etc/guest.conf

R=/dev/ttyS1
say() { echo "$*" > $R; }

# A task blocked this long is reported (and fails the run).
echo 30 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
echo 64 > /proc/sys/vm/nr_hugepages 2>/dev/null

# Modules, in dependency order, listed by the host
while read -r ko args; do
	[ -n "$ko" ] || continue
	if ! insmod "/lib/modules/$ko" $args 2>/tmp/insmod.err; then
		say "# insmod $ko failed: $(cat /tmp/insmod.err)"
	fi
done < /etc/modules.list

if [ -n "$HOSTROOT" ]; then
	mkdir -p /host
	if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose hostroot /host; then
		# /host/tmp stays the host's (read-only): a tree under /tmp, as in
		# a CI clone, must stay visible; /run is the guest's and writable
		for d in proc sys dev dev/shm run; do mount --bind /$d /host/$d; done
	else
		say "# mounting the host root failed"
	fi
fi

# Bind every requested device ("name vendor device [n]" lines: the n-th
# function with those IDs, default the first) to $DRIVER
find_bdf() {
	n=${3:-1}
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat $d/vendor)" = "0x$1" ] && [ "$(cat $d/device)" = "0x$2" ]; then
			n=$((n - 1))
			[ $n = 0 ] || continue
			basename $d
			return 0
		fi
	done
	return 1
}

while read -r name ven dev nth; do
	[ -n "$name" ] || continue
	bdf=$(find_bdf "$ven" "$dev" "$nth") || { say "# device $name ($ven:$dev) not found"; continue; }
	if [ -e /sys/bus/pci/devices/$bdf/driver ]; then
		echo "$bdf" > /sys/bus/pci/devices/$bdf/driver/unbind
	fi
	echo "$DRIVER" > /sys/bus/pci/devices/$bdf/driver_override
	echo "$bdf" > /sys/bus/pci/drivers_probe
	if [ "$(basename "$(readlink /sys/bus/pci/devices/$bdf/driver)")" = "$DRIVER" ]; then
		var=VFIO_$(echo "$name" | tr 'a-z-' 'A-Z_')_BDF
		eval "export $var=$bdf"
		say "# bound $name $bdf to $DRIVER"
	else
		say "# binding $name $bdf to $DRIVER failed"
	fi
done < /etc/devices.list

say "# GUEST READY $(uname -r)"

# Run one test command in the background and watch it: past TEST_TIMEOUT
# the blocked tasks are dumped to dmesg (sysrq w) and the test is killed.
run_one() {
	case "$1" in
	host:*)
		# host:<command> runs a host program inside the shared root
		TMPDIR=/run chroot /host /bin/sh -c "${1#host:}" > $R 2>&1 < /dev/null &
		;;
	*)
		(cd /tests && exec /bin/sh -c "./$1") > $R 2>&1 < /dev/null &
		;;
	esac
	pid=$!
	waited=0
	while kill -0 $pid 2>/dev/null; do
		if [ $waited -ge "$TEST_TIMEOUT" ]; then
			say "# TIMEOUT: $1 still running after ${waited}s; blocked tasks follow"
			echo w > /proc/sysrq-trigger
			say "# BLOCKED BEGIN"
			dmesg | tail -n 400 > $R
			say "# BLOCKED END"
			# busybox has no pkill: kill the children by parent pid
			for c in $(ps -o pid,ppid | awk -v p=$pid '$2 == p {print $1}'); do
				kill -9 "$c"
			done
			kill -9 $pid
			sleep 1
			return 124
		fi
		sleep 1
		waited=$((waited + 1))
	done
	wait $pid
}

# One test command per line; fd 3 keeps the list off the tests' stdin
while read -r t <&3; do
	[ -n "$t" ] || continue
	say "# PROG $t"
	run_one "$t"
	say "# EXIT $t $?"
done 3< /etc/tests.list

# Debug kernels: a module unload/load cycle, then a kmemleak scan
if [ -w /sys/kernel/debug/kmemleak ]; then
	for i in 1 2; do
		vfio-swap stock > $R 2>&1 && vfio-swap ours > $R 2>&1 ||
			say "# module reload cycle failed"
	done
	echo scan > /sys/kernel/debug/kmemleak
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	say "# KMEMLEAK BEGIN"
	cat /sys/kernel/debug/kmemleak > $R
	say "# KMEMLEAK END"
fi

say "# DMESG BEGIN"
dmesg > $R
say "# DMESG END"
sync
# Leave through QEMU's isa-debug-exit port: immediate, even when a stuck
# task holds a device lock that a regular power-off would wait for.
printf '\000' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
