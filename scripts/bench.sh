#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`: one guest boot measures Debian's stock vfio-pci-core and
# vfio-pci against ours on the same emulated devices (edu, nvme, and a
# 512 MiB ivshmem BAR for the large-BAR rows), several interleaved rounds,
# medians.  A second boot runs under QEMU's -icount
# (the guest clock advances one nanosecond per guest instruction), which
# turns the per-call rates into instruction counts that host load does not
# move.  A third and a fourth boot migrate simulated mlx5 VFs
# (mlx5-vfio-pci with mlx5-vfio-sim on pairs of ivshmem functions of 1, 16
# and 64 MiB BAR2) through the v2 data fd, beside a memcpy of the same size
# and one kernel copy of it, with -cpu max,-cx16 and without FSRM/ERMS (see
# below): Debian's mlx5-vfio-pci needs a ConnectX, so these rows have no
# stock column.
# A fifth boot (the devices, modules and host root of check boot
# mlx5-qemu) has the host's QEMU 7.2 migrate a VM with a simulated VF
# through the v1 migration region QEMU_ROUNDS times (default 3,
# mlx5_qemu_migrate_test.sh -r): total time, downtime and the device's
# share of the downtime, medians; no stock column either (no upstream
# driver implements the v1 region).
# Each part writes its TSV (bench/results.tsv, bench/icount.tsv,
# bench/mlx5.tsv and mlx5-movsq.tsv, bench/qemu.tsv) and its table with its text
# (bench/stock.md, icount.md, mlx5.md, qemu.md); bench/results.md is their
# concatenation, copied into the README between its bench markers, and
# bench/ratios.png (ours/stock per metric) is drawn from the first two.
#
# BENCH_PARTS picks the parts to measure, default all: "stock icount mlx5
# qemu".  E.g. `BENCH_PARTS=qemu make bench` boots only the last guest
# and refreshes only its table; the other tables stay as last measured.
# Other knobs: ROUNDS (stock, 15), ICOUNT_ROUNDS (3), MLX5_ROUNDS (5),
# QEMU_ROUNDS (3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
all="stock icount mlx5 qemu"
parts=${BENCH_PARTS:-all}
[ "$parts" != all ] || parts=$all
for p in $parts; do
	case " $all " in
	*" $p "*) ;;
	*) echo "bench: unknown part '$p' in BENCH_PARTS (all, or some of: $all)" >&2; exit 2 ;;
	esac
done
want() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }
rounds=${ROUNDS:-15}
icount_rounds=${ICOUNT_ROUNDS:-3}
mlx5_rounds=${MLX5_ROUNDS:-5}
qemu_rounds=${QEMU_ROUNDS:-3}
when=$(date -u '+%Y-%m-%d %H:%M UTC')
make -s modules tests >/dev/null
out=build/bench
mkdir -p bench
# tsv_boot OUT TSV GUEST-RUN-ARGS...: one vfio_bench boot (log OUT.log),
# its "@tsv" lines into TSV; no such lines stop the bench with the log
tsv_boot() {
	local o=$1 tsv=$2

	shift 2
	"$here/guest-run.sh" --out "$o" --test-timeout 900 --timeout 1200 "$@" \
		> "$o.log" 2>&1 || true
	grep -q '^@tsv' "$o.log" || { cat "$o.log"; echo "bench: no results in $o.log" >&2; exit 1; }
	grep '^@tsv' "$o.log" | cut -f2- > "$tsv"
}
if want stock; then
	tsv_boot "$out" bench/results.tsv --devices "edu nvme ivshmem=512M" \
		"vfio_bench -r $rounds"
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
	{
		echo "Measured $when on $(nproc) cores ($cpu), inside a QEMU TCG"
		echo "guest (no KVM) running Debian's $("$here/kver.sh") kernel; $rounds interleaved rounds, medians."
		echo "Ratio = ours/stock: above 1 is better for kcalls/s, worse for us and ms."
		echo
		echo "| metric | unit | stock | ours | ours/stock | syscall floor |"
		echo "| --- | --- | ---: | ---: | ---: | ---: |"
		tail -n +2 bench/results.tsv | awk -F'\t' '{printf "| %s | %s | %.2f | %.2f | %.2f | %s |\n", $1, $2, $3, $4, $5, $6}'
	} > bench/stock.md
fi
if want icount; then
	QEMU_EXTRA="-icount shift=0,sleep=off" tsv_boot "$out-icount" bench/icount.tsv \
		--devices "edu nvme ivshmem=512M" "vfio_bench -r $icount_rounds"
	{
		echo "Guest instructions per call, from the -icount boot ($icount_rounds rounds, medians,"
		echo "measured $when): the same calls counted instead of timed, so the"
		echo "comparison does not depend on what else the host is doing. Ratio ="
		echo "ours/stock: below 1 is fewer instructions for us."
		echo
		echo "| metric | stock | ours | ours/stock | syscall floor |"
		echo "| --- | ---: | ---: | ---: | ---: |"
		tail -n +2 bench/icount.tsv | awk -F'\t' '$2 == "kcalls/s" {
			f = $6 == "-" ? "-" : sprintf("%.0f", 1e6 / $6)
			printf "| %s | %.0f | %.0f | %.3f | %s |\n", $1, 1e6 / $3, 1e6 / $4, $3 / $4, f }'
		echo
		echo "The timed operations of the same boot, in thousands of guest"
		echo "instructions (under -icount one instruction is one nanosecond of guest"
		echo "time). Ratio = ours/stock: below 1 is fewer instructions for us."
		echo
		echo "| metric | stock | ours | ours/stock |"
		echo "| --- | ---: | ---: | ---: |"
		tail -n +2 bench/icount.tsv | awk -F'\t' '$2 == "ms" || $2 == "us" {
			k = $2 == "ms" ? 1000 : 1
			printf "| %s | %.1f | %.1f | %.3f |\n", $1, $3 * k, $4 * k, ($3 > 0 ? $4 / $3 : 0) }'
	} > bench/icount.md
fi
if want mlx5; then
	# Twice: with -cpu max,-cx16, as every other boot, and without FSRM/ERMS.
	# With them the guest kernel copies with "rep movsb", which QEMU 7.2's
	# TCG runs one byte per step: any kernel copy, and so any data fd,
	# then moves about a quarter of a memcpy at most ("one kernel copy" rows).
	# Without them it copies eight bytes per step ("rep movsq", as on CPUs
	# before ERMS); real CPUs run "rep movsb" at full speed.
	mlx5_devs="ivshmem=1M ivshmem=1M ivshmem=16M ivshmem=16M ivshmem=64M ivshmem=64M"
	tsv_boot "$out-mlx5" bench/mlx5.tsv --devices "$mlx5_devs" \
		--modules "mlx5-vfio-sim mlx5-vfio-pci" "vfio_bench -m -r $mlx5_rounds"
	GUEST_CPU="max,-cx16,-fsrm,-erms" tsv_boot "$out-mlx5-movsq" bench/mlx5-movsq.tsv \
		--devices "$mlx5_devs" --modules "mlx5-vfio-sim mlx5-vfio-pci" \
		"vfio_bench -m -r $mlx5_rounds"
	{
		echo "mlx5-vfio-pci live migration (v2 data fd) between two simulated VFs"
		echo "(mlx5-vfio-sim, BAR2 of ivshmem functions), beside a memcpy of the same"
		echo "size in the same guest ($mlx5_rounds rounds, medians, measured $when). No stock"
		echo "column: Debian's mlx5-vfio-pci needs a ConnectX. Save: STOP_COPY and the whole"
		echo "stream read into memory, in reads with room for a whole 8 MiB chunk (the"
		echo "driver lends the reader's pages: the firmware saves straight into them);"
		echo "load: RESUMING, the stream written in one write (whole records lent), STOP."
		echo "Stop-copy time: from STOP_COPY on the source until the destination runs,"
		echo "data fd to data fd in 1 MiB reads as QEMU's (too small for a chunk: through"
		echo "the driver's buffer), no pre-copy (against one memcpy of the size)."
		echo "Save and load start cold, as a migration does: the devices were just"
		echo "opened, and mapping their BARs makes TCG flush its soft TLB and jump cache."
		echo "The \"warm\" rows repeat them at the end of the round, each twice in a row with the"
		echo "second timed, against the second of two memcpys in a row."
		echo "One kernel copy: process_vm_readv()/writev() of the size within the"
		echo "process, the most any data fd can move in that guest with one copy per"
		echo "byte. Two guests: \`-cpu max,-cx16\` as in every other boot, whose kernel"
		echo "copies with \`rep movsb\` (TCG runs it a byte per step), and \`-cpu"
		echo "max,-cx16,-fsrm,-erms\`, whose kernel copies eight bytes per step (\`rep movsq\`)."
		echo "Ratio = ours/memcpy: for MiB/s the goal is at least 0.5; for ms above 1"
		echo "is slower than memcpy."
		echo
		echo "| metric | unit | memcpy | ours | ours/memcpy | memcpy (movsq) | ours (movsq) | ours/memcpy (movsq) |"
		echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
		awk -F'\t' 'FNR == NR { if (FNR > 1) { m[$1] = $3; o[$1] = $4; r[$1] = $5 } next }
			FNR > 1 { printf "| %s | %s | %.2f | %.2f | %.3f | %s | %s | %s |\n", $1, $2, $3, $4, $5,
				($1 in m ? sprintf("%.2f", m[$1]) : "-"), ($1 in o ? sprintf("%.2f", o[$1]) : "-"),
				($1 in r ? sprintf("%.3f", r[$1]) : "-") }' bench/mlx5-movsq.tsv bench/mlx5.tsv
	} > bench/mlx5.md
fi
if want qemu; then
	# the boot of check's mlx5-qemu; the limits grow with the rounds (a
	# round measured about 15 s of a 30 s check boot, shared machine)
	qt=$((300 + 120 * qemu_rounds))
	"$here/guest-run.sh" --out "$out-qemu" --devices "ivshmem=16M ivshmem=16M" \
		--modules "mlx5-vfio-sim mlx5-vfio-pci" --hostroot \
		--test-timeout $qt --timeout $((qt + 300)) \
		"host:@TREE@/tools/testing/selftests/vfio/mlx5_qemu_migrate_test.sh -r $qemu_rounds" \
		> "$out-qemu.log" 2>&1 || true
	# numbers only from a run whose every round migrated and compared
	grep -q '^ok 2 qemu_v1.migrate' "$out-qemu.log" &&
		[ "$(grep -c '^# @qemu' "$out-qemu.log")" = "$qemu_rounds" ] ||
		{ cat "$out-qemu.log"; echo "bench: the nested QEMU migration failed" >&2; exit 1; }
	grep '^# @qemu' "$out-qemu.log" | cut -f2- | python3 -c '
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in sys.stdin]
# round total downtime device stop save config span stream
def col(i, f=float):
    v = [f(r[i]) for r in rows if r[i] != "-"]
    return v if len(v) == len(rows) else None
def pct():
    if col(3) is None:
        return None
    return [100 * float(r[3]) / float(r[2]) if float(r[2]) else 0 for r in rows]
metrics = [
    ("total time", "ms", col(1)),
    ("downtime", "ms", col(2)),
    ("device share of the downtime", "ms", col(3)),
    ("device share of the downtime", "%", pct()),
    ("device share: stop (VM stop until vfio stopped)", "ms", col(4)),
    ("device share: stop-copy save (vfio section)", "ms", col(5)),
    ("device share: config space (vfio section)", "ms", col(6)),
    ("VM stop to the end of vfio_save_complete_precopy", "ms", col(7)),
    ("migration stream", "MiB", [b / 2**20 for b in col(8)]),
]
print("metric\tunit\tmedian\tmin\tmax\trounds")
for name, unit, v in metrics:
    if v is None:
        print(f"{name}\t{unit}\t-\t-\t-\t{len(rows)}")
    else:
        print(f"{name}\t{unit}\t{statistics.median(v):.2f}\t{min(v):.2f}\t{max(v):.2f}\t{len(rows)}")
' > bench/qemu.tsv
	qv=$(qemu-system-x86_64 --version | sed -n '1s/^QEMU emulator version //p')
	{
		echo "Live migration by a real QEMU: the host's QEMU $qv,"
		echo "run inside the guest over its shared root, migrates a 64 MiB TCG VM"
		echo "holding a simulated VF (mlx5-vfio-pci over mlx5-vfio-sim, 16 MiB BAR2)"
		echo "through the v1 migration region into a file; a destination QEMU with"
		echo "another VF loads it, and its BAR2 must equal the source's ($qemu_rounds rounds,"
		echo "each a fresh source; medians, measured $when). No stock column: no"
		echo "upstream kernel driver implements the v1 region, so with stock this QEMU"
		echo "cannot migrate the device at all. Total time and downtime are QEMU's own"
		echo "(\`info migrate\`); downtime-limit is raised to 60 s (type1 reports every"
		echo "mapped page dirty at every sync), so QEMU switches over at its first"
		echo "convergence check and most device data moves within the downtime. The"
		echo "device's share comes from QEMU's trace events on the source: from the VM"
		echo "stop (\`vm_state_notify\`, finish-migrate) until vfio's handler has"
		echo "stopped the device (\`vfio_vmstate_change\`), plus vfio's two save"
		echo "sections of the switch-over (\`savevm_section_start/end\`: the rest of the"
		echo "device data through the data window, then config space); RAM's last"
		echo "pass, between them, is not counted. The last time row is the plain span"
		echo "from the VM stop to the end of \`vfio_save_complete_precopy\`, RAM's last"
		echo "pass included. Stream: the whole migration file, RAM included."
		# no number where the trace lacked the events: say why
		grep '^# device: share of the downtime unavailable' "$out-qemu.log" |
			sort -u | sed 's/^# device: share of the downtime unavailable: /Device share not measured ("-"): /; s/$/./' || true
		echo
		echo "| metric | unit | median | min | max |"
		echo "| --- | --- | ---: | ---: | ---: |"
		tail -n +2 bench/qemu.tsv | awk -F'\t' '{printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5}'
	} > bench/qemu.md
fi
# results.md: the title and every part's table (as last measured), in order
{
	echo "# vfio-pci: ours against Debian's stock 6.12 modules"
	for p in $all; do
		[ -f "bench/$p.md" ] || continue
		echo
		cat "bench/$p.md"
	done
} > bench/results.md
# The README carries the latest tables between its markers
awk 'FNR == NR { t = t $0 "\n"; next }
	/<!-- bench:begin -->/ { print; printf "%s", t; skip = 1; next }
	/<!-- bench:end -->/ { skip = 0 }
	!skip' <(tail -n +3 bench/results.md) README.md > build/README.bench
cmp -s build/README.bench README.md || cp build/README.bench README.md
if { want stock || want icount; } && command -v gnuplot >/dev/null; then
	# Per metric, in table order: index, wall-clock ratio, icount ratio of
	# the per-call metrics ("?" for the rest), name
	awk -F'\t' 'NR == FNR { if ($2 == "kcalls/s") ic[$1] = $5; next }
		FNR > 1 { print FNR - 2 "\t" $5 "\t" ($1 in ic ? ic[$1] : "?") "\t\"" $1 "\"" }' \
		bench/icount.tsv bench/results.tsv > build/bench.dat
	gnuplot <<GP
set terminal pngcairo size 1000,520 font ",10"
set output "bench/ratios.png"
set title "vfio-pci: ours / stock (Debian 6.12), medians of $rounds rounds"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.6
set yrange [0:*]
set ylabel "ratio ours/stock"
set xtics rotate by -30 left
set grid ytics
set key top left
set datafile missing "?"
plot "build/bench.dat" using 2:xtic(4) title "wall clock" lc rgb "#4477aa", \
	"" using 3 title "calls per guest instruction (-icount), per-call metrics" lc rgb "#ee7733", \
	1 with lines notitle lc rgb "#cc3311" dt 2
GP
fi
cat bench/results.md
