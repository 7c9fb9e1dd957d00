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
# A line in the kernel log too: on the console, and kept by a panic
klog() { echo "vfio-harness: $*" > /dev/kmsg; }
# A harness case ("ok"/"not ok", name[: reason]), counted by tap-summary.py
case_line() { say "# HARNESS $*"; }
uptime_s() { read -r up _ < /proc/uptime; echo "${up%.*}"; }

# Stalls are reported, to the console and the log: a task blocked this
# long (and fails the run), soft lockups (kernel command line:
# watchdog_thresh) and RCU stalls (rcupdate.rcu_cpu_stall_timeout)
echo 30 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
echo -1 > /proc/sys/kernel/hung_task_warnings 2>/dev/null
echo 1 > /proc/sys/kernel/softlockup_all_cpu_backtrace 2>/dev/null
echo 1 > /proc/sys/kernel/sysrq 2>/dev/null
echo 64 > /proc/sys/vm/nr_hugepages 2>/dev/null

# Modules, in dependency order, listed by the host.  The moment before the
# first module under test (/etc/modules.ours) is marked: guest-run.sh boots
# again after an early kernel death only when this marker was not reached.
marked=0
while read -r ko args; do
	[ -n "$ko" ] || continue
	if [ $marked = 0 ] && grep -qxF "$ko" /etc/modules.ours; then
		say "# LOADING MODULES UNDER TEST"
		klog "loading modules under test"
		marked=1
	fi
	if insmod "/lib/modules/$ko" $args 2>/tmp/insmod.err; then
		case_line "ok insmod ${ko%.ko}"
	else
		case_line "not ok insmod ${ko%.ko}: $(tr '\n' ' ' < /tmp/insmod.err)"
	fi
done < /etc/modules.list

if [ -n "$HOSTROOT" ]; then
	mkdir -p /host
	if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose hostroot /host; then
		# /host/tmp stays the host's (read-only): a tree under /tmp, as in
		# a CI clone, must stay visible; /run is the guest's and writable
		for d in proc sys dev dev/shm run; do mount --bind /$d /host/$d; done
		case_line "ok mount host root"
	else
		case_line "not ok mount host root"
	fi
fi

# Bind every requested device ("name vendor device [n]" lines: the n-th
# function with those IDs, default the first) to $DRIVER; one case each
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
	bdf=$(find_bdf "$ven" "$dev" "$nth") || {
		case_line "not ok bind $name: no device $ven:$dev"
		continue
	}
	if [ -e /sys/bus/pci/devices/$bdf/driver ]; then
		echo "$bdf" > /sys/bus/pci/devices/$bdf/driver/unbind
	fi
	echo "$DRIVER" > /sys/bus/pci/devices/$bdf/driver_override
	echo "$bdf" > /sys/bus/pci/drivers_probe
	drv=$(basename "$(readlink /sys/bus/pci/devices/$bdf/driver)" 2>/dev/null)
	if [ "$drv" = "$DRIVER" ]; then
		var=VFIO_$(echo "$name" | tr 'a-z-' 'A-Z_')_BDF
		eval "export $var=$bdf"
		case_line "ok bind $name $bdf to $DRIVER"
	else
		case_line "not ok bind $name $bdf to $DRIVER: driver is '${drv:-none}'"
	fi
done < /etc/devices.list

say "# GUEST READY $(uname -r)"
# The kernel log so far, then after every program: read and cleared, so
# each report is charged to the program it came during
dmesg_section() {
	say "# DMESG BEGIN $1"
	dmesg -c > $R
	say "# DMESG END"
}
dmesg_section boot

# CPU ticks (utime + stime) of $1 and its descendants, then the states of
# those tasks and of every task in D state anywhere
tree_ticks() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
	{
		pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
		ppid[pid] = f[2]; st[pid] = f[1]; ticks[pid] = f[12] + f[13]
		c = $0; sub(/^[0-9]+ \(/, "", c); sub(/\) [A-Za-z] .*$/, "", c); comm[pid] = c
	}
	END {
		t = 0; d = ""
		for (p in ppid) {
			q = p
			while (q != "" && q != root && q > 1) q = ppid[q]
			if (q == root) { t += ticks[p]; states = states " " comm[p] ":" st[p] }
			if (st[p] == "D") d = d " " comm[p] "(" p ")"
		}
		printf "%d|%s|%s\n", t, states, d
	}'
}

# Every descendant of $1
tree_pids() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
	{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); ppid[$1] = f[2] }
	END {
		for (p in ppid) {
			q = ppid[p]
			while (q != "" && q != root && q > 1) q = ppid[q]
			if (q == root) print p
		}
	}'
}

# Run one test command in the background and watch it.  It is stopped at
# TEST_TIMEOUT seconds or at BOOT_DEADLINE (guest uptime; the host kills the
# guest a reserve later), whichever comes first.  Before stopping it the
# watchdog tells a hang from a slow machine: with no CPU progress of the
# program's tasks over 5 s or any task in D state it is hung; still
# consuming CPU with nothing blocked, it is slow (or spinning).  The
# blocked tasks and all CPUs' stacks go to the kernel log (sysrq w, l)
# between markers that tap-summary.py knows.
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
	started=$(uptime_s)
	limit=$((started + TEST_TIMEOUT))
	[ "$limit" -le "$BOOT_DEADLINE" ] || limit=$BOOT_DEADLINE
	while kill -0 $pid 2>/dev/null; do
		now=$(uptime_s)
		if [ "$now" -ge "$limit" ]; then
			why="its ${TEST_TIMEOUT}s test timeout"
			[ "$limit" = "$BOOT_DEADLINE" ] && why="the boot's deadline (uptime ${BOOT_DEADLINE}s)"
			say "# TIMEOUT: $1 still running after $((now - started))s, at $why"
			a=$(tree_ticks $pid)
			sleep 5
			b=$(tree_ticks $pid)
			t0=${a%%|*}
			t1=${b%%|*}
			rest=${b#*|}
			states=${rest%%|*}
			dtasks=${rest#*|}
			if [ -n "$dtasks" ]; then
				say "# VERDICT hang: tasks in D state:$dtasks; program tasks:$states"
			elif [ "$t1" = "$t0" ]; then
				say "# VERDICT hang: no CPU progress in 5s; program tasks:$states"
			else
				say "# VERDICT slow: still running, $((t1 - t0)) CPU ticks (1/100 s) in 5s, nothing blocked; program tasks:$states"
			fi
			klog "watchdog dump begin"
			echo w > /proc/sysrq-trigger
			echo l > /proc/sysrq-trigger
			sleep 1
			klog "watchdog dump end"
			# busybox has no pkill: kill every descendant, then the
			# program's shell
			for c in $(tree_pids $pid); do
				kill -9 "$c" 2>/dev/null
			done
			kill -9 $pid
			sleep 1
			return 124
		fi
		sleep 1
	done
	wait $pid
}

# One test command per line; fd 3 keeps the list off the tests' stdin
while read -r t <&3; do
	[ -n "$t" ] || continue
	if [ "$(uptime_s)" -ge "$BOOT_DEADLINE" ]; then
		say "# NOT RUN $t: the boot's deadline has passed"
		continue
	fi
	say "# PROG $t"
	klog "program begin: $t"
	s0=$(uptime_s)
	rc=0
	run_one "$t" || rc=$?
	klog "program end: $t"
	say "# EXIT $t rc=$rc time=$(($(uptime_s) - s0))s"
	dmesg_section "$t"
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

# Let late reports (deferred work, RCU callbacks, a release) land
sleep 3
dmesg_section shutdown
say "# GUEST DONE"
sync
# Leave through QEMU's isa-debug-exit port: immediate, even when a stuck
# task holds a device lock that a regular power-off would wait for.
printf '\000' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
