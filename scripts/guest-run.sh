#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot Debian's 6.12 kernel under QEMU TCG with an emulated Intel IOMMU and a
# chosen set of emulated PCI devices, load our VFIO modules (or the stock
# ones with --stock), bind the devices to vfio-pci, run test programs from
# build/tests, and report.  One boot runs many tests.
#
# usage: guest-run.sh [options] TEST...
#   --devices "edu e1000e nvme ivshmem nvme-sriov vga pair xhci"   devices to
#                      add and bind; "xhci" is QEMU's NEC xHCI with MSI only (16
#                      messages, for multi-message MSI); "pair" is two ivshmem functions (VFIO_PAIR0_BDF,
#                      VFIO_PAIR1_BDF) of one slot behind a root port;
#                      "ivshmem=SIZE" (e.g. ivshmem=64M) sets BAR2's size and
#                      puts the function behind a root port of its own, and
#                      ivshmem may repeat: the first is VFIO_IVSHMEM_BDF, the
#                      next VFIO_IVSHMEM2_BDF, ...
#   --modules "M ..."  also load these modules of ours from drivers/vfio/pci/*/
#                      (all of them are in the guest's /lib/modules/extra)
#   --stock            load Debian's vfio-pci-core/vfio-pci instead of ours
#   --modparam "MOD ARGS"  extra insmod arguments, e.g. "vfio-pci enable_sriov=1"
#                      (any module loaded at boot, Debian's vfio_iommu_type1 too)
#   --append "ARGS"    extra guest kernel command line, e.g. "intremap=off"
#   --hostroot         share the host's / read-only over virtio-9p at /host
#   --timeout SEC      the boot's wall-time limit: past it the host dumps the
#                      guest's CPUs and tasks and kills it (default 600)
#   --debug-timeout SEC  the limit instead of --timeout when --kernel is given
#   --test-timeout SEC per-test timeout inside the guest (default 300, 900 on
#                      the debug kernel, which runs programs 3-5x slower); the
#                      in-guest watchdog also fires at the boot's deadline, a
#                      reserve before the limit, so a slow or hung program
#                      is named and its tasks dumped before the host kills
#   --out DIR          where console.log, results.log, dmesg.txt go
#   --tree DIR         tree whose modules and build/tests to use (default: ours)
#   --kernel DIR       boot DIR/bzImage with modules from DIR/root (the debug
#                      kernel of scripts/debug-kernel.sh) instead of Debian's
#   --quiet            print only the summary line
# Writes boot.txt (wall time against the limit) next to results.log.
# A TEST is a program name in build/tests (with arguments), or
# "host:<command>" to run a host program inside the shared root (@TREE@ in it
# stands for the tree's path).
#
# QEMU_EXTRA in the environment is appended to the qemu command line (e.g.
# "-icount shift=0,sleep=off", under which guest time counts instructions);
# GUEST_CPU replaces the -cpu model (default "max,-cx16": see below).
#
# Prints the TAP output and ends with "guest: N passed, N failed, N skipped";
# exits non-zero when anything failed, the guest timed out, or its dmesg
# shows a WARNING, BUG, Oops, lockdep or KASAN report, or a hung task.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/.." && pwd)
devices="edu"
stock=0
hostroot=0
timeout=600
debug_timeout=""
test_timeout=300
out=""
quiet=0
modparams=()
user_append=""
extra_mods=""
tests=()
kdir=""

while [ $# -gt 0 ]; do
	case "$1" in
	--devices) devices=$2; shift 2 ;;
	--stock) stock=1; shift ;;
	--modparam) modparams+=("$2"); shift 2 ;;
	--append) user_append=" $2"; shift 2 ;;
	--modules) extra_mods=$2; shift 2 ;;
	--hostroot) hostroot=1; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--debug-timeout) debug_timeout=$2; shift 2 ;;
	--test-timeout) test_timeout=$2; test_timeout_set=1; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--tree) tree=$(cd "$2" && pwd); shift 2 ;;
	--quiet) quiet=1; shift ;;
	--kernel) kdir=$(cd "$2" && pwd); shift 2 ;;
	-h|--help) sed -n '3,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--*) echo "guest-run: unknown option $1" >&2; exit 2 ;;
	*) tests+=("$1"); shift ;;
	esac
done

modroot=()
extra_append=""
if [ -n "$kdir" ]; then
	KVER=$(ls "$kdir/root/lib/modules" | head -n1)
	kernel=$kdir/bzImage
	modroot=(-d "$kdir/root")
	# KASAN reports a wild access in an interrupt taken during early boot
	# with 5-level paging (TCG's -cpu max has LA57): not ours, keep 4 levels
	extra_append=" no5lvl"
	timeout=${debug_timeout:-$timeout}
	# a loaded machine stretched debug differential_test from 87 s to 321 s
	[ -n "${test_timeout_set:-}" ] || test_timeout=900
else
	KVER=${KVER:-$("$here/kver.sh")}
	[ -n "$KVER" ] || { echo "guest-run: no Debian 6.12 kernel installed (make deps)" >&2; exit 1; }
	kernel=/boot/vmlinuz-$KVER
fi
[ -r "$kernel" ] || { echo "guest-run: $kernel missing" >&2; exit 1; }
out=${out:-$tree/build/guest/run-$$}
rm -rf "$out"
mkdir -p "$out"
stage=$out/initramfs
mkdir -p "$stage"/{bin,sbin,etc,proc,sys,dev,tmp,run,tests,lib/modules,mnt,root,host}

# --- busybox userland
cp /bin/busybox "$stage/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -sf busybox "$stage/bin/$a"
done
install -m 0755 "$here/guest-init.sh" "$stage/init"
# The guest kernel's build options: tests whose expectations depend on them
# (vfio_kconfig() in vfio_util) read /etc/kernel.config
if [ -n "$kdir" ]; then
	cp "$kdir/build/.config" "$stage/etc/kernel.config"
else
	cp "/boot/config-$KVER" "$stage/etc/kernel.config"
fi

# --- modules, dependencies first, decompressed (busybox insmod has no xz)
modlist=$stage/etc/modules.list
: > "$modlist"
# the modules under test: guest-init.sh marks the moment before the first
ours=$stage/etc/modules.ours
: > "$ours"
add_mod_file() {	# path-on-host [args]
	local src=$1 base
	shift
	base=$(basename "$src")
	base=${base%.xz}
	grep -q "^$base\( \|$\)" "$modlist" && return 0
	case "$src" in
	builtin*) return 0 ;;
	*.xz) xz -dc "$src" > "$stage/lib/modules/$base" ;;
	*) cp "$src" "$stage/lib/modules/$base" ;;
	esac
	echo "$base $*" >> "$modlist"
}
# The files of a stock module and its dependencies, dependencies first.
# Stock means the distribution's, under lib/modules/$KVER/kernel: a copy of
# ours installed into updates/ (make dkms-install, make modules_install)
# would win modprobe's lookup and be compared with itself, so anything
# else stops the run.
stock_files() {	# module name
	local p ps
	ps=$(modprobe "${modroot[@]+"${modroot[@]}"}" -S "$KVER" --show-depends "$1" |
	     awk '$1 == "insmod" {print $2}') || return 1
	for p in $ps; do
		case "$p" in
		*/lib/modules/"$KVER"/kernel/*) echo "$p" ;;
		*)
			echo "guest-run: stock $1 resolves to $p, not into lib/modules/$KVER/kernel/" >&2
			echo "guest-run: (ours installed there? make dkms-remove, or remove it)" >&2
			return 1 ;;
		esac
	done
}
add_stock() {		# module name: it and its dependencies from Debian's tree
	local p ps b
	ps=$(stock_files "$1") || exit 1
	# each file with its own --modparam, dependencies included (one
	# added first as another's dependency is not added again)
	for p in $ps; do
		b=$(basename "${p%.xz}" .ko)
		add_mod_file "$p" $(mod_args "$b")
	done
}
mod_args() {		# extra args for module $1 from --modparam
	local m
	for m in "${modparams[@]+"${modparams[@]}"}"; do
		[ "${m%% *}" = "$1" ] && echo "${m#* }"
	done
	return 0
}

add_stock vfio_iommu_type1
add_stock irqbypass
if [ $stock = 1 ]; then
	add_stock vfio-pci-core
	echo vfio-pci-core.ko >> "$ours"
	echo vfio-pci.ko >> "$ours"
	p=$(stock_files vfio-pci) || exit 1
	add_mod_file "$(echo "$p" | tail -n1)" $(mod_args vfio-pci)
else
	for m in vfio-pci-core vfio-pci; do
		ko=$tree/drivers/vfio/pci/$m.ko
		[ -f "$ko" ] || { echo "guest-run: $ko not built (make)" >&2; exit 1; }
		add_mod_file "$ko" $(mod_args $m)
		echo "$m.ko" >> "$ours"
	done
fi
# Further modules of ours (variant drivers, simulators): all of them in
# /lib/modules/extra for tests that load and unload them; those named by
# --modules loaded at boot, after the library
mkdir -p "$stage/lib/modules/extra"
for ko in "$tree"/drivers/vfio/pci/*/*.ko; do
	[ -f "$ko" ] && cp "$ko" "$stage/lib/modules/extra/"
done
for m in $extra_mods; do
	ko=$(ls "$tree"/drivers/vfio/pci/*/"$m.ko" 2>/dev/null | head -n1)
	[ -n "$ko" ] || { echo "guest-run: module $m not built" >&2; exit 1; }
	add_mod_file "$ko" $(mod_args "$m")
	echo "$m.ko" >> "$ours"
done
# Both module sets, for tests that swap them in one boot (vfio-swap)
mkdir -p "$stage/lib/modules/sets/ours" "$stage/lib/modules/sets/stock"
for m in vfio-pci-core vfio-pci; do
	cp "$tree/drivers/vfio/pci/$m.ko" "$stage/lib/modules/sets/ours/"
	p=$(stock_files $m) || exit 1
	p=$(echo "$p" | tail -n1)
	case "$p" in
	*.xz) xz -dc "$p" > "$stage/lib/modules/sets/stock/$m.ko" ;;
	*) cp "$p" "$stage/lib/modules/sets/stock/$m.ko" ;;
	esac
	echo "$m $(mod_args $m)" >> "$stage/lib/modules/sets/args"
done
echo "$([ $stock = 1 ] && echo stock || echo ours)" > "$stage/etc/vfio-set"
install -m 0755 "$here/guest-swap.sh" "$stage/bin/vfio-swap"

if [ $hostroot = 1 ]; then
	add_stock 9p
	add_stock 9pnet_virtio
fi

# --- devices
qdev=()
: > "$stage/etc/devices.list"
rp=0
nshm=0
bus=""
root_port() {	# a PCIe root port of its own, so slot/bus resets are possible
	rp=$((rp + 1))
	# At QEMU 7.2's default 16 GT/s the link never reports active again
	# after a secondary bus reset; a 5 GT/s x1 link does
	qdev+=(-device "pcie-root-port,id=rp$rp,chassis=$rp,slot=$rp,x-speed=5,x-width=1")
	bus=rp$rp
}
for d in $devices; do
	case "$d" in
	edu)
		qdev+=(-device edu)
		echo "edu 1234 11e8" >> "$stage/etc/devices.list" ;;
	e1000e)
		root_port
		qdev+=(-netdev "hubport,id=n$rp,hubid=0" -device "e1000e,bus=$bus,romfile=,netdev=n$rp")
		echo "e1000e 8086 10d3" >> "$stage/etc/devices.list" ;;
	nvme)
		root_port
		qdev+=(-device "nvme,bus=$bus,serial=vfiotest")
		echo "nvme 1b36 0010" >> "$stage/etc/devices.list" ;;
	nvme-sriov)
		root_port
		qdev+=(-device nvme-subsys,id=nvsub0)
		qdev+=(-device "nvme,bus=$bus,serial=pf,subsys=nvsub0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,msix_qsize=3")
		echo "nvme-sriov 1b36 0010" >> "$stage/etc/devices.list" ;;
	xhci)
		# MSI-X off: MSI with 16 messages (multi-message MSI)
		root_port
		qdev+=(-device "nec-usb-xhci,bus=$bus,msix=off")
		echo "xhci 1033 0194" >> "$stage/etc/devices.list" ;;
	vga)
		# the machine's default std VGA (1234:1111), a VGA-class device
		echo "vga 1234 1111" >> "$stage/etc/devices.list" ;;
	ivshmem|ivshmem=*)
		# each instance its own memory backend (BAR2), default 1 MiB
		size=1M
		[ "$d" = ivshmem ] || size=${d#ivshmem=}
		nshm=$((nshm + 1))
		qdev+=(-object "memory-backend-ram,id=shm$nshm,size=$size,share=on")
		if [ "$d" = ivshmem ]; then
			qdev+=(-device "ivshmem-plain,memdev=shm$nshm")
		else
			# sized ones behind a root port: a bus reset resets them
			root_port
			qdev+=(-device "ivshmem-plain,bus=$bus,memdev=shm$nshm")
		fi
		name=ivshmem
		[ $nshm = 1 ] || name=ivshmem$nshm
		echo "$name 1af4 1110 $nshm" >> "$stage/etc/devices.list" ;;
	pair)
		# two ivshmem functions of one multifunction slot behind a root
		# port: a hot reset touches both (device sets of two)
		root_port
		for fn in 0 1; do
			nshm=$((nshm + 1))
			qdev+=(-object "memory-backend-ram,id=shm$nshm,size=1M,share=on")
			mf=""
			[ $fn = 0 ] && mf=",multifunction=on"
			qdev+=(-device "ivshmem-plain,bus=$bus,addr=0.$fn$mf,memdev=shm$nshm")
			echo "pair$fn 1af4 1110 $nshm" >> "$stage/etc/devices.list"
		done ;;
	*)
		echo "guest-run: unknown device $d" >&2; exit 2 ;;
	esac
done

# --- tests
tdir=$tree/build/tests
: > "$stage/etc/tests.list"
for t in "${tests[@]+"${tests[@]}"}"; do
	prog=${t%% *}
	case "$t" in
	host:*) t=${t//@TREE@/$tree} ;;
	*)
		[ -x "$tdir/$prog" ] || { echo "guest-run: $tdir/$prog not built (make tests)" >&2; exit 1; }
		cp "$tdir/$prog" "$stage/tests/" ;;
	esac
	echo "$t" >> "$stage/etc/tests.list"
done

# The in-guest watchdog stops a program by the boot's deadline (guest
# uptime), a reserve before the host's limit: time for the verdict, the
# task dump, the remaining dmesg and power-off, plus the seconds between
# QEMU's start and the kernel's
reserve=$((timeout / 8))
[ $reserve -ge 30 ] || reserve=30
cat > "$stage/etc/guest.conf" <<EOF
DRIVER=vfio-pci
HOSTROOT=$([ $hostroot = 1 ] && echo 1)
TEST_TIMEOUT=$test_timeout
BOOT_DEADLINE=$((timeout - reserve))
EOF

(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out/initramfs.cpio.gz"

fsdev=()
if [ $hostroot = 1 ]; then
	fsdev=(-fsdev "local,id=hr,path=/,security_model=none,readonly=on,multidevs=remap"
	       -device "virtio-9p-pci,fsdev=hr,mount_tag=hostroot")
fi

# The host's end of the limit: the guest's own watchdog should have
# stopped a slow or hung program by then.  If the guest is still there,
# ask its kernel for blocked tasks and all CPUs' stacks (sysrq w and l
# through the emulated keyboard: they land on the console), save every
# vCPU's registers (cpus.txt) and kill it.
host_watchdog() {	# qemu-pid
	local end=$((SECONDS + timeout))
	while kill -0 "$1" 2>/dev/null && [ $SECONDS -lt $end ]; do
		sleep 1
	done
	kill -0 "$1" 2>/dev/null || return 0
	echo "killed after ${timeout}s" > "$out/killed"
	python3 - "$mon" > "$out/cpus.txt" 2>&1 <<'PY' || true
import re, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
for cmd, pause in (("sendkey alt-sysrq-w", 3), ("sendkey alt-sysrq-l", 5),
                   ("info registers -a", 2)):
    s.sendall((cmd + "\n").encode())
    time.sleep(pause)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except OSError:
    pass
# the monitor echoes each keystroke with terminal escapes
sys.stdout.write(re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\r", "", out.decode(errors="replace")))
PY
	kill "$1" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 1
	done
	kill -9 "$1" 2>/dev/null
	return 0
}

# --- boot; one guest at a time on this machine
lock=${GUEST_LOCK:-/tmp/vfio-pci-core-guest.lock}
exec 9>>"$lock"
flock 9
# A guest kernel that dies before any module under test was loaded (seen:
# an int3 oops while the kernel patches its own text at boot under
# multi-threaded TCG) gets one more boot; its console is kept as
# console.attempt1.log.  Once guest-init.sh has marked the loading of our
# modules, a death counts as it is.
# (a short path: a unix socket's is limited to 107 bytes)
mon=/tmp/vfio-pci-core-monitor.$$.sock
# The guest CPU: TCG's "max" without CMPXCHG16B.  QEMU 7.2's TCG computes
# the flags after cmpxchg16b from a stale condition-code state: EFLAGS
# then holds an earlier instruction's operand (scripts/tcg-cx16-probe.c
# shows it in user mode, qemu-x86_64 7.2: every round).  The guest kernel
# runs cmpxchg16b in SLUB's allocation and free fast paths; robust-stress
# (a thread allocating in a tight loop) died of it now and then: a double
# fault with EFLAGS equal to the low half of a pointer, a user #GP right
# after a syscall, a CPU that took no timer ticks.  Without the feature the
# kernel's per-CPU 128-bit cmpxchg runs its emulation and SLUB takes the
# slab lock instead.  GUEST_CPU overrides it.
cpu=${GUEST_CPU:-max,-cx16}
t0=$SECONDS
for attempt in 1 2; do
rc=0
rm -f "$mon" "$out/killed"
qemu-system-x86_64 -machine q35,kernel-irqchip=split -accel tcg -cpu "$cpu" \
	-smp 2 -m 2G -display none -no-reboot \
	-monitor "unix:$mon,server=on,wait=off" \
	-device intel-iommu,intremap=on,caching-mode=on \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$kernel" -initrd "$out/initramfs.cpio.gz" \
	-append "console=ttyS0 intel_iommu=on panic=-1 oops=panic loglevel=7 log_buf_len=8M sysrq_always_enabled rcupdate.rcu_cpu_stall_suppress=0 rcupdate.rcu_cpu_stall_timeout=21 rdinit=/init$extra_append$user_append" \
	-serial "file:$out/console.log" -serial "file:$out/results.log" \
	"${qdev[@]}" "${fsdev[@]+"${fsdev[@]}"}" ${QEMU_EXTRA:-} > "$out/qemu.log" 2>&1 9>&- &
qpid=$!
host_watchdog $qpid 9>&- &
wpid=$!
wait $qpid || rc=$?
wait $wpid || true
[ -e "$out/killed" ] && rc=124
if [ $attempt = 1 ] && [ $rc != 124 ] &&
   ! grep -qs '^# LOADING MODULES UNDER TEST' "$out/results.log" &&
   ! grep -qs 'vfio-harness: loading modules under test' "$out/console.log" &&
   grep -qs 'Kernel panic' "$out/console.log"; then
	cp "$out/console.log" "$out/console.attempt1.log"
	echo "# guest kernel died before our modules were loaded: booting again (console.attempt1.log)"
	continue
fi
break
done
flock -u 9
exec 9>&-
rm -f "$mon"
echo "elapsed=$((SECONDS - t0)) limit=$timeout attempts=$attempt qemu_rc=$rc" > "$out/boot.txt"

args=("$out")
[ $quiet = 1 ] && args+=(--quiet)
[ $rc = 124 ] && args+=(--timed-out)
python3 "$here/tap-summary.py" "${args[@]}"
