#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# A real migration by a real client: the host's QEMU 7.2 (reached in the
# guest through the shared host root) migrates a simulated ConnectX VF
# through the VFIO migration region (v1) of mlx5-vfio-pci.
#
#   VF A, VF B   the first two ivshmem functions, rebound to mlx5_vfio_pci
#                with a PF half from mlx5-vfio-sim; the simulated VHCA
#                state holds all of BAR2
#   source       -device vfio-pci,host=A,x-enable-migration=on, VM running
#   destination  -device vfio-pci,host=B,... -incoming exec:cat FILE
#
# 1 qemu_v1.cancel   a migration cancelled half way (migrate_cancel while
#                    "active") leaves the source running
# 2 qemu_v1.migrate  then the same source migrates to a file; the
#                    destination loads it and runs; B's BAR2 equals the
#                    pattern written into A's before.  Total time and
#                    downtime from "info migrate", and the device's share
#                    of the stream, go out as TAP comments.
#
# QEMU 7.2 marks every mapped page dirty in every sync (type1's dirty
# tracking without page pinning), so pre-copy never gets under the default
# 300 ms downtime limit: the test raises downtime-limit, as a user of this
# QEMU has to.  QEMU then switches over at its first convergence check, so
# most of the device's data moves during the downtime.  BAR2 is filled and compared through sysfs resource2 while
# no QEMU has the device open.

A=$VFIO_IVSHMEM_BDF
B=$VFIO_IVSHMEM2_BDF
RUN=${TMPDIR:-/run}/mlx5-qemu.$$
SYS=/sys/bus/pci/devices
QEMU="qemu-system-x86_64 -machine q35 -accel tcg -m 64 -nodefaults -nographic"

# A QEMU that died (hw_error aborts on a device in the error state)
# closes its monitor fifo: writing to it must fail, not kill this script
trap '' PIPE

echo "TAP version 13"
echo "1..2"

skip_all() {
	echo "ok 1 qemu_v1.cancel # SKIP $1"
	echo "ok 2 qemu_v1.migrate # SKIP $1"
	exit 0
}

fail_all() {
	echo "# $1"
	echo "not ok 1 qemu_v1.cancel"
	echo "not ok 2 qemu_v1.migrate"
	exit 1
}

# bind BDF: mlx5_vfio_pci plus a simulated PF half, migration offered
bind() {
	if [ -e $SYS/$1/driver ]; then
		drv=$(basename "$(readlink $SYS/$1/driver)")
		[ "$drv" = mlx5_vfio_pci ] || echo "$1" > $SYS/$1/driver/unbind
	fi
	echo mlx5_vfio_pci > $SYS/$1/driver_override
	[ -e $SYS/$1/driver ] || echo "$1" > /sys/bus/pci/drivers_probe
	grep -q "pf=bound" $SYS/$1/mlx5_vfio_status ||
		echo "$1" > /sys/bus/mlx5_vfio_sim/new_vf
	grep -q "vfio=registered migration=offered" $SYS/$1/mlx5_vfio_status
}

# bar BDF fill SEED | bar BDF hash: BAR2 through sysfs, memory decode on
bar() {
	python3 - "$SYS/$1" "$2" "$3" <<'EOF'
import hashlib, mmap, os, random, sys
dev, op = sys.argv[1], sys.argv[2]
cfg = os.open(dev + "/config", os.O_RDWR)
cmd = int.from_bytes(os.pread(cfg, 2, 4), "little")
os.pwrite(cfg, (cmd | 2).to_bytes(2, "little"), 4)
os.close(cfg)
fd = os.open(dev + "/resource2", os.O_RDWR | os.O_SYNC)
size = os.fstat(fd).st_size
m = mmap.mmap(fd, size)
if op == "fill":
    m[:] = random.Random(int(sys.argv[3])).randbytes(size)
    m.flush()
print(hashlib.sha256(m[:]).hexdigest())
EOF
}

# start NAME ARGS...: a QEMU whose monitor reads NAME.in and writes NAME.out
start() {
	name=$1
	shift
	rm -f $RUN/$name.in
	mkfifo $RUN/$name.in
	$QEMU -monitor stdio "$@" < $RUN/$name.in >> $RUN/$name.out 2>&1 &
	eval ${name}_pid=$!
	# Holding the fifo open keeps the monitor's stdin from ending
	case $name in
	src) exec 3> $RUN/src.in ;;
	dst) exec 4> $RUN/dst.in ;;
	esac
}

# hmp NAME COMMAND: send one monitor command
hmp() {
	case $1 in
	src) echo "$2" >&3 ;;
	dst) echo "$2" >&4 ;;
	esac
}

# wait_for NAME PATTERN SECONDS [COMMAND]: repeat COMMAND until PATTERN
# appears in the output after it, the QEMU dies or time runs out
wait_for() {
	n=0
	while [ $n -lt $(($3 * 2)) ]; do
		: > $RUN/$1.out
		[ -z "$4" ] || hmp $1 "$4"
		sleep 0.5
		grep -q "$2" $RUN/$1.out && return 0
		eval kill -0 \$${1}_pid 2>/dev/null || return 1
		n=$((n + 1))
	done
	return 1
}

# stop NAME: quit the QEMU and wait for it (it closes the device)
stop() {
	hmp $1 quit 2>/dev/null
	eval pid=\$${1}_pid
	n=0
	while kill -0 $pid 2>/dev/null && [ $n -lt 60 ]; do
		sleep 0.5
		n=$((n + 1))
	done
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	case $1 in
	src) exec 3>&- ;;
	dst) exec 4>&- ;;
	esac
}

# show NAME: the end of what the QEMU said, as TAP comments
show() {
	tail -n 20 $RUN/$1.out | sed 's/^/# /'
}

# ms FIELD: a millisecond field of the last "info migrate"
ms() {
	sed -n "s/^$1: \([0-9]*\) ms.*/\1/p" $RUN/src.out | tail -n 1
}

[ -n "$A" ] && [ -n "$B" ] || skip_all "two ivshmem functions needed"
# The chroot has sysfs but not the debugfs mounted on it
[ -d /sys/kernel/debug/mlx5_vfio_sim ] ||
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
command -v qemu-system-x86_64 > /dev/null || skip_all "no qemu-system-x86_64"
mkdir -p $RUN || fail_all "no $RUN"
bind "$A" || fail_all "cannot bind $A: $(cat $SYS/$A/mlx5_vfio_status)"
bind "$B" || fail_all "cannot bind $B: $(cat $SYS/$B/mlx5_vfio_status)"
want=$(bar "$A" fill 20250) || fail_all "cannot fill BAR2 of $A"
other=$(bar "$B" fill 7) || fail_all "cannot fill BAR2 of $B"
[ "$want" != "$other" ] || fail_all "A and B hold the same pattern"
echo "# VF A $A, VF B $B, BAR2 sha256 $want"
KNOB=/sys/kernel/debug/mlx5_vfio_sim/$A/cmd_delay_ms
DELAY=500
[ -w $KNOB ] || fail_all "no simulator knob $KNOB"

start src -device vfio-pci,host="$A",id=vf,x-enable-migration=on
if ! wait_for src "VM status: running" 60 "info status"; then
	show src
	stop src
	fail_all "the source QEMU did not start"
fi

# 1: cancelled half way, the source runs on.  The simulated firmware
# takes DELAY ms per command, so the device's part keeps the migration
# active for seconds: it is cancelled while the device is saving.
echo $DELAY > $KNOB
hmp src "migrate -d \"exec:cat > /dev/null\""
if wait_for src "Migration status: active" 60 "info migrate"; then
	sleep 1
	hmp src "migrate_cancel"
	if wait_for src "Migration status: cancelled" 60 "info migrate" &&
	   wait_for src "VM status: running" 10 "info status"; then
		echo "ok 1 qemu_v1.cancel"
	else
		show src
		echo "not ok 1 qemu_v1.cancel (not cancelled, or not running)"
		fail=1
	fi
else
	show src
	echo "not ok 1 qemu_v1.cancel (migration never active)"
	fail=1
fi

# 2: the same source migrates to a file, the destination loads it
echo 0 > $KNOB
hmp src "migrate_set_parameter max-bandwidth 10G"
hmp src "migrate_set_parameter downtime-limit 60000"
start_s=$(date +%s)
hmp src "migrate -d \"exec:cat > $RUN/stream\""
if ! wait_for src "Migration status: completed" 600 "info migrate"; then
	show src
	stop src
	echo "not ok 2 qemu_v1.migrate (the source did not complete)"
	rm -rf $RUN
	exit 1
fi
# QEMU 7.2 does not print the device's bytes: the stream less RAM's
ram_kb=$(sed -n 's/^transferred ram: \([0-9]*\) kbytes.*/\1/p' $RUN/src.out | tail -n 1)
stream=$(wc -c < $RUN/stream)
echo "# total time: $(ms 'total time') ms, downtime: $(ms downtime) ms, stream $stream bytes, RAM ${ram_kb:-0} kbytes, device and config about $(( (stream - ${ram_kb:-0} * 1024) / 1024 )) kbytes, wall $(( $(date +%s) - start_s )) s"
stop src

start dst -device vfio-pci,host="$B",id=vf,x-enable-migration=on \
	-incoming "exec:cat $RUN/stream"
if ! wait_for dst "VM status: running" 300 "info status"; then
	show dst
	stop dst
	echo "not ok 2 qemu_v1.migrate (the destination did not run)"
	rm -rf $RUN
	exit 1
fi
stop dst
got=$(bar "$B" hash)
src_now=$(bar "$A" hash)
rm -rf $RUN
echo "# B after migration $got, A now $src_now"
if [ "$got" = "$want" ] && [ "$src_now" = "$want" ]; then
	echo "ok 2 qemu_v1.migrate"
else
	echo "not ok 2 qemu_v1.migrate (BAR2 of B differs from A's pattern)"
	fail=1
fi
exit ${fail:-0}
