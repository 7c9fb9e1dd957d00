#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`: one guest boot measures Debian's stock vfio-pci-core and
# vfio-pci against ours on the same emulated devices (edu, nvme), several
# interleaved rounds, medians.  Writes bench/results.md (table, machine,
# date) and bench/ratios.png (ours/stock per metric), and prints the table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
rounds=${ROUNDS:-5}
make -s modules tests >/dev/null
out=build/bench
"$here/guest-run.sh" --out "$out" --devices "edu nvme" --test-timeout 900 --timeout 1200 \
	"vfio_bench -r $rounds" > "$out.log" 2>&1 || true
grep -q '^@tsv' "$out.log" || { cat "$out.log"; echo "bench: no results" >&2; exit 1; }
mkdir -p bench
grep '^@tsv' "$out.log" | cut -f2- > bench/results.tsv
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
} > bench/results.md
if command -v gnuplot >/dev/null; then
	tail -n +2 bench/results.tsv | awk -F'\t' '{print NR-1 "\t" $5 "\t\"" $1 "\""}' > build/bench.dat
	gnuplot <<GP
set terminal pngcairo size 1000,520 font ",10"
set output "bench/ratios.png"
set title "vfio-pci: ours / stock (Debian 6.12), medians of $rounds rounds"
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:*]
set ylabel "ratio ours/stock"
set xtics rotate by -30 left
set grid ytics
set key off
plot "build/bench.dat" using 1:2:xtic(3) with boxes lc rgb "#4477aa", 1 with lines lc rgb "#cc3311" dt 2
GP
fi
cat bench/results.md
sed -n '/^metric/,/rounds, medians/p' "$out.log"
