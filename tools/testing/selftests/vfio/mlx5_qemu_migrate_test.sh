#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# A real migration by a real client: the host's QEMU 7.2 (reached in the
# guest through the shared host root) migrates a simulated ConnectX VF
# through the VFIO migration region (v1) of mlx5-vfio-pci.
#
# usage: mlx5_qemu_migrate_test.sh [-r ROUNDS] [-d MS] [-v]
#   -r ROUNDS  test 2 migrates ROUNDS times (default 1, as `make check`
#              runs it), each round a fresh source QEMU (the first one is
#              test 1's), fresh BAR2 patterns in A and B, its own
#              destination and BAR2 check, and one "# @qemu" line of
#              numbers (`make bench` takes their medians)
#   -d MS      the simulated firmware takes MS ms per command during test
#              2 (default 0): the device's share of the downtime must grow
#              with it while the rest does not (a check of the measurement)
#   -v         narrate for `make demo`: the QEMU command lines, the VF in
#              the source's "info pci", the end of "info migrate", the
#              destination's status
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
#                    downtime from "info migrate", the device's share of
#                    the downtime from QEMU's trace and the device's share
#                    of the stream go out as TAP comments.
#
# QEMU 7.2 marks every mapped page dirty in every sync (type1's dirty
# tracking without page pinning), so pre-copy never gets under the default
# 300 ms downtime limit: the test raises downtime-limit, as a user of this
# QEMU has to.  QEMU then switches over at its first convergence check, so
# most of the device's data moves during the downtime.  BAR2 is filled and
# compared through sysfs resource2 while no QEMU has the device open.
#
# The device's share of the downtime.  "info migrate" has the downtime as
# QEMU 7.2 counts it (migration_completion() in migration/migration.c:
# from just before vm_stop_force_state(FINISH_MIGRATE) until the stream is
# complete), not what the device spent of it.  The source QEMU therefore
# runs with trace events of its log backend (Debian builds QEMU 7.2 with
# the default "log" backend; -D names the file, -msg timestamp=on gives
# every event a "pid@seconds.microseconds:" prefix).  Events used, all
# present in 7.2's trace-events files:
#   vm_state_notify running 0 ... (finish-migrate)   softmmu/runstate.c:
#       the VM has stopped for the switch-over (vCPUs paused), logged
#       before the VM-state handlers run
#   vfio_vmstate_change ... running 0                 hw/vfio/migration.c:
#       logged after vfio's handler wrote device_state (SAVING|RUNNING to
#       SAVING): the device has stopped
#   savevm_section_start / savevm_section_end of "<id>/vfio"
#       migration/savevm.c brackets every handler's save; after the stop
#       vfio has two: the end of the iterable state
#       (vfio_save_complete_precopy: SAVING, the remaining data through
#       the data window, then device_state 0; its own event is logged
#       just before the section ends) and the non-iterable one (config
#       space, vfio_save_state)
# Device share = (vfio_vmstate_change - vm_state_notify) + both vfio
# sections.  The first term also holds the stop handlers of the other
# devices of this machine (-nodefaults q35: no disk, no NIC, none of them
# does I/O); RAM's last pass, which runs between the two, is not counted.
# The span from the stop to the end of vfio_save_complete_precopy (RAM's
# last pass included) is printed beside it.  Without these events in the
# trace the script says so and prints no number.

A=$VFIO_IVSHMEM_BDF
B=$VFIO_IVSHMEM2_BDF
RUN=${TMPDIR:-/run}/mlx5-qemu.$$
SYS=/sys/bus/pci/devices
# One vCPU (QEMU's default): the host's QEMU, built for CPUs with
# CMPXCHG16B, runs that instruction for an inner guest's locked 16-byte
# cmpxchg only with several vCPUs, and our guests' CPU has none of it
# (scripts/guest-run.sh)
QEMU="qemu-system-x86_64 -machine q35 -accel tcg -m 64 -nodefaults -nographic"
TRACE="-msg timestamp=on -trace vm_state_notify -trace vfio_vmstate_change
-trace vfio_save_complete_precopy -trace savevm_section_start
-trace savevm_section_end -trace vfio_migration_set_state"
ROUNDS=1
SLOW=0
VERBOSE=0
while getopts r:d:v opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	d) SLOW=$OPTARG ;;
	v) VERBOSE=1 ;;
	*) echo "usage: $0 [-r ROUNDS] [-d MS] [-v]" >&2; exit 2 ;;
	esac
done
case $ROUNDS in
''|*[!0-9]*|0) echo "$0: -r takes a positive number" >&2; exit 2 ;;
esac
case $SLOW in
''|*[!0-9]*) echo "$0: -d takes milliseconds" >&2; exit 2 ;;
esac

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

# say TEXT: a narration line of the demo (-v)
say() {
	[ $VERBOSE = 0 ] || echo "# $*"
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

# device_share TRACE OFFSET: the device's part of the last switch-over in
# the source's trace from byte OFFSET on (see the top of this file).
# Prints "DEVICE STOP SAVE CONFIG SPAN" in ms, or "unavailable: WHY".
device_share() {
	python3 - "$1" "$2" <<'EOF'
import re, sys
try:
    with open(sys.argv[1], "rb") as f:
        f.seek(int(sys.argv[2]))
        text = f.read().decode(errors="replace")
except OSError as e:
    sys.exit(print(f"unavailable: no trace ({e.strerror})"))
ev = []
for line in text.splitlines():
    m = re.match(r"^\d+@(\d+)\.(\d{6}):(\S+) ?(.*)$", line)
    if m:
        ev.append((int(m[1]) * 1000 + int(m[2]) / 1000, m[3], m[4]))
def first(i, name, pattern):
    for j in range(i, len(ev)):
        if ev[j][1] == name and re.search(pattern, ev[j][2]):
            return j
    return None
stop = first(0, "vm_state_notify", r"^running 0 .*\(finish-migrate\)")
if stop is None:
    sys.exit(print("unavailable: no VM stop for migration "
                   "(vm_state_notify ... finish-migrate) in the trace"))
dev = first(stop, "vfio_vmstate_change", r"running 0")
if dev is None:
    sys.exit(print("unavailable: no vfio_vmstate_change after the VM stop"))
done = first(dev, "vfio_save_complete_precopy", r"")
if done is None:
    sys.exit(print("unavailable: no vfio_save_complete_precopy after the stop"))
# the vfio sections after the stop: the one holding
# vfio_save_complete_precopy, and the config one
save = config = None
i = dev
while True:
    s = first(i, "savevm_section_start", r"/vfio, section_id \d+$")
    if s is None:
        break
    sid = ev[s][2]
    e = first(s, "savevm_section_end", "^" + re.escape(sid) + " -> ")
    if e is None:
        break
    if s < done < e:
        save = ev[e][0] - ev[s][0]
    elif save is not None and config is None:
        config = ev[e][0] - ev[s][0]
    i = e
if save is None or config is None:
    sys.exit(print("unavailable: the vfio sections (savevm_section_start/end "
                   ".../vfio) of the switch-over are not in the trace"))
t0 = ev[stop][0]
halt = ev[dev][0] - t0
print(f"{halt + save + config:.1f} {halt:.1f} {save:.1f} {config:.1f} "
      f"{ev[done][0] - t0:.1f}")
EOF
}

# states NAME TRACE OFFSET: the device_state values QEMU wrote into the
# v1 region, from its vfio_migration_set_state events
states() {
	echo "# $1 device_state written: $(tail -c +$(($3 + 1)) "$2" |
		sed -n 's/.*vfio_migration_set_state .* state \([0-9]*\)$/\1/p' |
		tr '\n' ' ')(v1 bits: 1 RUNNING, 2 SAVING, 4 RESUMING; 0 stopped)"
}

# start NAME ARGS...: a QEMU whose monitor reads NAME.in and writes NAME.out
start() {
	name=$1
	shift
	rm -f $RUN/$name.in
	mkfifo $RUN/$name.in
	say "$name: $QEMU -monitor stdio $*"
	$QEMU -monitor stdio "$@" < $RUN/$name.in >> $RUN/$name.out 2>&1 &
	eval ${name}_pid=$!
	# Holding the fifo open keeps the monitor's stdin from ending
	case $name in
	src) exec 3> $RUN/src.in ;;
	dst) exec 4> $RUN/dst.in ;;
	esac
}

# start_src ROUND: the source QEMU with VF A, tracing into src-ROUND.trace
start_src() {
	# shellcheck disable=SC2086 # TRACE is a list of options
	start src -device vfio-pci,host="$A",id=vf,x-enable-migration=on \
		$TRACE -D $RUN/src-$1.trace
	if ! wait_for src "VM status: running" 60 "info status"; then
		show src
		stop src
		return 1
	fi
	if [ $VERBOSE = 1 ]; then
		wait_for src 'id "vf"' 10 "info pci" &&
			awk '{ sub(/\r$/, "") } /^  Bus/ { b = "" }
			     { b = b "# src " $0 "\n" }
			     /id "vf"/ { printf "%s", b }' $RUN/src.out
		say "src: VM status: running"
	fi
	return 0
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

# migrate_round ROUND: the running source migrates to a file, quits; a
# destination loads the file and runs; B's BAR2 must equal $want.
# Fails with the reason in $why.
migrate_round() {
	r=$1
	echo "$SLOW" > $KNOB
	hmp src "migrate_set_parameter max-bandwidth 10G"
	hmp src "migrate_set_parameter downtime-limit 60000"
	# the switch-over of this round is what follows in the trace
	off=$(wc -c < $RUN/src-$r.trace 2>/dev/null) || off=0
	start_s=$(date +%s)
	say "src: migrate -d \"exec:cat > $RUN/stream\""
	hmp src "migrate -d \"exec:cat > $RUN/stream\""
	if ! wait_for src "Migration status: completed" 600 "info migrate"; then
		show src
		stop src
		why="the source did not complete"
		return 1
	fi
	# QEMU 7.2 reports "completed" a moment before it fills in the total
	# time and the downtime (both 0 until then): ask again
	n=0
	while [ "$(ms 'total time')" = 0 ] && [ $n -lt 10 ]; do
		wait_for src "Migration status: completed" 5 "info migrate" || break
		n=$((n + 1))
	done
	[ $VERBOSE = 0 ] || tr -d '\r' < $RUN/src.out |
		grep -E "^(Migration status|total time|downtime|setup|transferred ram|throughput)" |
		sed 's/^/# src /'
	# QEMU 7.2 does not print the device's bytes: the stream less RAM's
	ram_kb=$(sed -n 's/^transferred ram: \([0-9]*\) kbytes.*/\1/p' $RUN/src.out | tail -n 1)
	stream=$(wc -c < $RUN/stream)
	total=$(ms 'total time')
	down=$(ms downtime)
	echo "# total time: $total ms, downtime: $down ms, stream $stream bytes, RAM ${ram_kb:-0} kbytes, device and config about $(( (stream - ${ram_kb:-0} * 1024) / 1024 )) kbytes, wall $(( $(date +%s) - start_s )) s"
	stop src
	# the trace is complete once the source has quit
	share=$(device_share $RUN/src-$r.trace "$off")
	case $share in
	unavailable*)
		echo "# device: share of the downtime $share"
		set -- - - - - -
		;;
	*)
		# shellcheck disable=SC2086 # five numbers
		set -- $share
		echo "# device: $1 ms of downtime $down ms ($(awk -v d="$1" -v t="$down" 'BEGIN { if (t > 0) printf "%.0f", 100 * d / t; else printf "-" }')%): stop $2 ms, stop-copy save $3 ms, config $4 ms; VM stop to the end of vfio_save_complete_precopy $5 ms"
		;;
	esac
	printf '# @qemu\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$r" "$total" "$down" "$1" "$2" "$3" "$4" "$5" "$stream"

	[ $VERBOSE = 0 ] || states src $RUN/src-$r.trace "$off"
	start dst -device vfio-pci,host="$B",id=vf,x-enable-migration=on \
		-incoming "exec:cat $RUN/stream" \
		-trace vfio_migration_set_state -D $RUN/dst-$r.trace
	if ! wait_for dst "VM status: running" 300 "info status"; then
		show dst
		stop dst
		why="the destination did not run"
		return 1
	fi
	say "dst: VM status: running"
	stop dst
	[ $VERBOSE = 0 ] || states dst $RUN/dst-$r.trace 0
	got=$(bar "$B" hash)
	src_now=$(bar "$A" hash)
	echo "# B after migration $got, A now $src_now"
	if [ "$got" != "$want" ] || [ "$src_now" != "$want" ]; then
		why="BAR2 of B differs from A's pattern"
		return 1
	fi
	return 0
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

start_src 1 || fail_all "the source QEMU did not start"

# 1: cancelled half way, the source runs on.  The simulated firmware
# takes DELAY ms per command, so the device's part keeps the migration
# active for seconds: it is cancelled while the device is saving.
echo $DELAY > $KNOB
say "src: migrate -d \"exec:cat > /dev/null\", then migrate_cancel while active"
hmp src "migrate -d \"exec:cat > /dev/null\""
if wait_for src "Migration status: active" 60 "info migrate"; then
	sleep 1
	hmp src "migrate_cancel"
	if wait_for src "Migration status: cancelled" 60 "info migrate" &&
	   wait_for src "VM status: running" 10 "info status"; then
		say "src: Migration status: cancelled, VM status: running"
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

# 2: the same source migrates to a file, the destination loads it; then
# (-r) again from a fresh source, with fresh patterns, ROUNDS times
r=1
while :; do
	[ "$ROUNDS" = 1 ] || echo "# round $r of $ROUNDS"
	if ! migrate_round $r; then
		rm -rf $RUN
		echo "not ok 2 qemu_v1.migrate (round $r: $why)"
		exit 1
	fi
	[ $r -lt "$ROUNDS" ] || break
	r=$((r + 1))
	# new patterns while no QEMU holds A or B: B must not already
	# hold what A will send
	why="the source QEMU did not start"
	if ! want=$(bar "$A" fill $((20250 + r))) ||
	   ! other=$(bar "$B" fill $((7 + r))) ||
	   [ "$want" = "$other" ] || ! start_src $r; then
		rm -rf $RUN
		echo "not ok 2 qemu_v1.migrate (round $r: new patterns, or $why)"
		exit 1
	fi
done
rm -rf $RUN
echo "ok 2 qemu_v1.migrate"
exit ${fail:-0}
