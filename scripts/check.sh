#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check`: build, lint, then every guest boot of
# tools/testing/selftests/vfio/boots.conf, then KUnit when enabled.
# Each build step, each lint check and each TAP test case counts as one
# case.  Ends with exactly one line "N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
export KVER=${KVER:-$("$here/kver.sh")}
logdir=$top/build/check
rm -rf "$logdir"
mkdir -p "$logdir"

passed=0 failed=0 skipped=0
failures=()
case_ok() { passed=$((passed + 1)); echo "ok - $1"; }
case_fail() { failed=$((failed + 1)); failures+=("$1"); echo "not ok - $1"; }
step() {	# name command...: one case from a command's exit status
	local name=$1 log
	shift
	log=$logdir/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '_').log
	if "$@" > "$log" 2>&1; then
		case_ok "$name"
	else
		case_fail "$name (log: $log)"
		tail -n 30 "$log" | sed 's/^/#   /'
	fi
}

step "build: modules" make -s modules
step "build: selftests" make -s tests
# DKMS: build and install the package for $KVER into a temporary tree of its
# own; our modules must resolve into updates/dkms there
step "build: DKMS package, modules in updates/dkms" "$here/dkms.sh" check

# LINT=0 leaves lint out (scripts/mutants.sh)
if [ "${LINT:-1}" = 1 ]; then
	"$here/lint.sh" > "$logdir/lint.log" 2>&1
	while read -r line; do
		case "$line" in
		"lint: "*": ok") case_ok "${line%: ok}" ;;
		"lint: "*": FAILED") case_fail "${line%: FAILED} (log: $logdir/lint.log)" ;;
		esac
	done < "$logdir/lint.log"
	grep -q FAILED "$logdir/lint.log" && sed -n '/FAILED/,$p' "$logdir/lint.log" | head -40 | sed 's/^/#   /'
fi

# Boots on Debian's kernel; with CHECK_DEBUG=1 (make check-debug) every
# boot again on the debug kernel, built once and cached.  CHECK_DEBUG=auto
# uses the debug kernel only when it is already built.
kernels=("debian|")
debug_dir=""
if [ "${CHECK_DEBUG:-0}" = 1 ]; then
	debug_dir=$("$here/debug-kernel.sh") || case_fail "build: debug kernel"
elif [ "${CHECK_DEBUG:-0}" = auto ]; then
	debug_dir=$("$here/debug-kernel.sh" --if-cached) || debug_dir=""
fi
if [ -n "$debug_dir" ]; then
	dtree=$top/build/debug-tree
	rm -rf "$dtree" && mkdir -p "$dtree/build"
	git ls-files -co --exclude-standard | grep -v '^build/' | cpio -pdm --quiet "$dtree"
	ln -s "$top/build/tests" "$dtree/build/tests"
	# the same modules as `make` (KCONFIG_EXTRA: mlx5-vfio-pci and friends)
	if make -s -C "$debug_dir/build" M="$dtree" CONFIG_VFIO_PCI_CORE=m CONFIG_VFIO_PCI=m \
		$(sed -n 's/^KCONFIG_EXTRA := //p' Makefile) \
		CONFIG_VFIO_PCI_CORE_FAULT_INJECTION=y modules > "$logdir/debug-modules.log" 2>&1; then
		case_ok "build: modules for the debug kernel"
		kernels+=("debug|--kernel $debug_dir --tree $dtree")
	else
		case_fail "build: modules for the debug kernel (log: $logdir/debug-modules.log)"
	fi
fi

# Guest boots.  A program boots.conf names that is not built, a boot with
# nothing to run and a boot that does not run are failures, not omissions.
# BOOTS="main robust-fuzz" runs only those boots (scripts/mutants.sh).
conf=tools/testing/selftests/vfio/boots.conf
# The main boot's programs: every *_test.c (what `make tests` builds), not
# only what got built
all_tests=$(cd tools/testing/selftests/vfio && ls *_test.c | sed 's/\.c$//')
named=$(grep -v '^#' "$conf" | cut -d'|' -f3 | tr ';' '\n' | awk '{print $1}')
times=()
for kern in "${kernels[@]}"; do
kname=${kern%%|*}
kopts=${kern#*|}
while IFS='|' read -r name opts tests <&4; do
	[[ "$name" =~ ^[[:space:]]*(#|$) ]] && continue
	name=$(echo "$name" | xargs)
	[ -z "${BOOTS:-}" ] || [[ " $BOOTS " == *" $name "* ]] || continue
	# QEMU inside a KASAN guest adds minutes and tests nothing new
	if [ "$kname" = debug ] && [ "$name" = qemu ]; then
		echo "# debug kernel: boot 'qemu' not run (QEMU inside a KASAN guest tests nothing new)"
		continue
	fi
	bname=$name
	[ "$kname" = debian ] || bname="$kname-$name"
	list=()
	if [ "$name" = main ]; then
		for t in $all_tests; do
			echo "$named" | grep -qxF "$t" || list+=("$t")
		done
	fi
	IFS=';' read -ra extra <<< "$tests"
	for t in "${extra[@]+"${extra[@]}"}"; do
		t=$(echo "$t" | xargs)
		[ -n "$t" ] || continue
		# On the debug kernel (KASAN slows every call) the fuzzer runs a
		# fifth of its calls: the long run is make fuzz
		if [ "$kname" = debug ] && [[ "$t" =~ ^fuzz_test\ -n\ ([0-9]+) ]]; then
			n=$((BASH_REMATCH[1] / 5))
			echo "# debug kernel: fuzz_test scaled down from ${BASH_REMATCH[1]} to $n calls per device"
			t="fuzz_test -n $n${t#fuzz_test -n ${BASH_REMATCH[1]}}"
		fi
		list+=("$t")
	done
	run=()
	for t in "${list[@]+"${list[@]}"}"; do
		p=${t%% *}
		if [ "${p#host:}" != "$p" ]; then
			p=${p#host:}
			p=${p//@TREE@/$top}
			[ -x "$p" ] || { case_fail "[$bname] $t: $p missing"; continue; }
		elif [ ! -x "build/tests/$p" ]; then
			case_fail "[$bname] $t: build/tests/$p not built"
			continue
		fi
		run+=("$t")
	done
	if [ ${#run[@]} = 0 ]; then
		case_fail "guest boot $bname: no program to run"
		continue
	fi
	echo "# guest boot '$bname': ${run[*]}"
	out=$logdir/guest-$bname
	eval "\"$here/guest-run.sh\" --out \"$out\" $kopts $opts \"\${run[@]}\"" > "$logdir/guest-$bname.log" 2>&1
	if [ -f "$out/summary.txt" ]; then
		read -r p f s < "$out/summary.txt"
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		grep -E '^(not ok|ok) [0-9]+ |^# FAILED|^ok dmesg|^not ok dmesg|^# HARNESS not ok|^# VERDICT|^# boot time' \
			"$logdir/guest-$bname.log" | sed "s/^/[$bname] /"
		[ "$f" = 0 ] || failures+=("guest boot $bname: $f failed (log: $logdir/guest-$bname.log)")
	else
		case_fail "guest boot $bname did not run (log: $logdir/guest-$bname.log)"
		tail -n 20 "$logdir/guest-$bname.log" | sed 's/^/#   /'
	fi
	if [ -f "$out/boot.txt" ]; then
		eval "$(tr ' ' '\n' < "$out/boot.txt" | grep -E '^(elapsed|limit|attempts)=[0-9]+$')"
		times+=("$(printf '%-22s %5ss of %5ss limit (%3s%%)%s' "$bname" "$elapsed" "$limit" \
			$((100 * elapsed / limit)) "$([ -e "$out/killed" ] && echo ', KILLED at the limit')")")
	else
		times+=("$(printf '%-22s did not boot' "$bname")")
	fi
done 4< "$conf"
done

# KUnit under UML, when its cached build is present or asked for.  Its
# exit status counts: a failed overlay or build, a crash part way or a
# missing summary is a failure, not "nothing counted".
if [ "${KUNIT:-auto}" = 1 ] || { [ "${KUNIT:-auto}" = auto ] && [ -x "$here/kunit.sh" ]; }; then
	krc=0
	"$here/kunit.sh" > "$logdir/kunit.log" 2>&1 || krc=$?
	if [ -f "$logdir/kunit.summary" ] && read -r p f s < "$logdir/kunit.summary"; then
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		echo "# kunit: $p passed, $f failed, $s skipped"
		grep '^kunit: FAILED' "$logdir/kunit.log" | sed 's/^/#   /'
		if [ "$f" != 0 ]; then
			failures+=("kunit: $f failed (log: $logdir/kunit.log)")
		elif [ $krc != 0 ]; then
			case_fail "kunit: exited $krc with no failure counted (log: $logdir/kunit.log)"
		fi
	else
		case_fail "kunit: no summary, exit status $krc (log: $logdir/kunit.log)"
		tail -n 20 "$logdir/kunit.log" | sed 's/^/#   /'
	fi
fi

# Wall time of every boot against its limit (boots.conf --timeout, and
# --debug-timeout on the debug kernel)
if [ ${#times[@]} -gt 0 ]; then
	echo "# boot wall times:"
	printf '#   %s\n' "${times[@]}"
fi
for f in "${failures[@]+"${failures[@]}"}"; do
	echo "# FAILED: $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
