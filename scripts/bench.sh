#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`: one guest boot measures Debian's stock vfio-pci-core and
# vfio-pci against ours on the same emulated devices (edu, nvme, and a
# 512 MiB ivshmem BAR for the large-BAR rows), several interleaved rounds,
# medians.  A second boot runs under QEMU's -icount
# (the guest clock advances one nanosecond per guest instruction), which
# turns the per-call rates into instruction counts that host load does not
# move.  A third boot migrates simulated mlx5 VFs (mlx5-vfio-pci with
# mlx5-vfio-sim on pairs of ivshmem functions of 1, 16 and 64 MiB BAR2)
# through the v2 data fd, beside a memcpy of the same size: Debian's
# mlx5-vfio-pci needs a ConnectX, so these rows have no stock column.
# Writes bench/results.md (tables, machine, date), bench/results.tsv,
# bench/icount.tsv, bench/mlx5.tsv and bench/ratios.png (ours/stock per
# metric), copies the tables into the README between its bench markers,
# and prints them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
rounds=${ROUNDS:-15}
make -s modules tests >/dev/null
out=build/bench
"$here/guest-run.sh" --out "$out" --devices "edu nvme ivshmem=512M" --test-timeout 900 --timeout 1200 \
	"vfio_bench -r $rounds" > "$out.log" 2>&1 || true
grep -q '^@tsv' "$out.log" || { cat "$out.log"; echo "bench: no results" >&2; exit 1; }
mkdir -p bench
grep '^@tsv' "$out.log" | cut -f2- > bench/results.tsv
QEMU_EXTRA="-icount shift=0,sleep=off" "$here/guest-run.sh" --out "$out-icount" \
	--devices "edu nvme ivshmem=512M" --test-timeout 900 --timeout 1200 \
	"vfio_bench -r ${ICOUNT_ROUNDS:-3}" > "$out-icount.log" 2>&1 || true
grep -q '^@tsv' "$out-icount.log" || { cat "$out-icount.log"; echo "bench: no icount results" >&2; exit 1; }
grep '^@tsv' "$out-icount.log" | cut -f2- > bench/icount.tsv
mlx5_rounds=${MLX5_ROUNDS:-5}
"$here/guest-run.sh" --out "$out-mlx5" \
	--devices "ivshmem=1M ivshmem=1M ivshmem=16M ivshmem=16M ivshmem=64M ivshmem=64M" \
	--modules "mlx5-vfio-sim mlx5-vfio-pci" --test-timeout 900 --timeout 1200 \
	"vfio_bench -m -r $mlx5_rounds" > "$out-mlx5.log" 2>&1 || true
grep -q '^@tsv' "$out-mlx5.log" || { cat "$out-mlx5.log"; echo "bench: no mlx5 results" >&2; exit 1; }
grep '^@tsv' "$out-mlx5.log" | cut -f2- > bench/mlx5.tsv
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
{
	echo "# vfio-pci: ours against Debian's stock 6.12 modules"
	echo
	echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($cpu), inside a QEMU TCG"
	echo "guest (no KVM) running Debian's $("$here/kver.sh") kernel; $rounds interleaved rounds, medians."
	echo "Ratio = ours/stock: above 1 is better for kcalls/s, worse for us and ms."
	echo
	echo "| metric | unit | stock | ours | ours/stock | syscall floor |"
	echo "| --- | --- | ---: | ---: | ---: | ---: |"
	tail -n +2 bench/results.tsv | awk -F'\t' '{printf "| %s | %s | %.2f | %.2f | %.2f | %s |\n", $1, $2, $3, $4, $5, $6}'
	echo
	echo "Guest instructions per call, from the -icount boot (${ICOUNT_ROUNDS:-3} rounds, medians):"
	echo "the same calls counted instead of timed, so the comparison does not"
	echo "depend on what else the host is doing. Ratio = ours/stock: below 1 is"
	echo "fewer instructions for us."
	echo
	echo "| metric | stock | ours | ours/stock | syscall floor |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	tail -n +2 bench/icount.tsv | awk -F'\t' '$2 == "kcalls/s" {
		f = $6 == "-" ? "-" : sprintf("%.0f", 1e6 / $6)
		printf "| %s | %.0f | %.0f | %.3f | %s |\n", $1, 1e6 / $3, 1e6 / $4, $3 / $4, f }'
	echo
	echo "mlx5-vfio-pci live migration (v2 data fd) between two simulated VFs"
	echo "(mlx5-vfio-sim, BAR2 of ivshmem functions), beside a memcpy of the same"
	echo "size in the same guest ($mlx5_rounds rounds, medians). No stock column:"
	echo "Debian's mlx5-vfio-pci needs a ConnectX. Save: STOP_COPY and the whole"
	echo "stream read into memory; load: RESUMING, the stream written, STOP."
	echo "Stop-copy time: from STOP_COPY on the source until the destination runs,"
	echo "data fd to data fd, no pre-copy (against one memcpy of the size)."
	echo "Ratio = ours/memcpy: for MiB/s the goal is at least 0.5; for ms above 1"
	echo "is slower than memcpy."
	echo
	echo "| metric | unit | memcpy | ours | ours/memcpy |"
	echo "| --- | --- | ---: | ---: | ---: |"
	tail -n +2 bench/mlx5.tsv | awk -F'\t' '{printf "| %s | %s | %.2f | %.2f | %.3f |\n", $1, $2, $3, $4, $5}'
} > bench/results.md
# The README carries the latest tables between its markers
awk 'FNR == NR { t = t $0 "\n"; next }
	/<!-- bench:begin -->/ { print; printf "%s", t; skip = 1; next }
	/<!-- bench:end -->/ { skip = 0 }
	!skip' <(tail -n +3 bench/results.md) README.md > build/README.bench
cmp -s build/README.bench README.md || cp build/README.bench README.md
if command -v gnuplot >/dev/null; then
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
