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

"$here/lint.sh" > "$logdir/lint.log" 2>&1
while read -r line; do
	case "$line" in
	"lint: "*": ok") case_ok "${line%: ok}" ;;
	"lint: "*": FAILED") case_fail "${line%: FAILED} (log: $logdir/lint.log)" ;;
	esac
done < "$logdir/lint.log"
grep -q FAILED "$logdir/lint.log" && sed -n '/FAILED/,$p' "$logdir/lint.log" | head -40 | sed 's/^/#   /'

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
	if make -s -C "$debug_dir/build" M="$dtree" CONFIG_VFIO_PCI_CORE=m CONFIG_VFIO_PCI=m \
		CONFIG_VFIO_PCI_CORE_FAULT_INJECTION=y modules > "$logdir/debug-modules.log" 2>&1; then
		case_ok "build: modules for the debug kernel"
		kernels+=("debug|--kernel $debug_dir --tree $dtree")
	else
		case_fail "build: modules for the debug kernel (log: $logdir/debug-modules.log)"
	fi
fi

# Guest boots
conf=tools/testing/selftests/vfio/boots.conf
all_tests=$(cat build/tests/TESTS 2>/dev/null)
named=$(grep -v '^#' "$conf" | cut -d'|' -f3 | tr ';' '\n' | awk '{print $1}')
for kern in "${kernels[@]}"; do
kname=${kern%%|*}
kopts=${kern#*|}
while IFS='|' read -r name opts tests <&4; do
	name=$(echo "$name" | xargs)
	[ -n "$name" ] && [ "${name:0:1}" != "#" ] || continue
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
			t="fuzz_test -n $((BASH_REMATCH[1] / 5))${t#fuzz_test -n ${BASH_REMATCH[1]}}"
		fi
		# a program that is not built yet is not run
		[ "${t#host:}" != "$t" ] || [ -x "build/tests/${t%% *}" ] || continue
		list+=("$t")
	done
	[ ${#list[@]} -gt 0 ] || continue
	# QEMU inside a KASAN guest adds minutes and tests nothing new
	[ "$kname" = debug ] && [ "$name" = qemu ] && continue
	[ "$kname" = debian ] || name="$kname-$name"
	echo "# guest boot '$name': ${list[*]}"
	out=$logdir/guest-$name
	eval "\"$here/guest-run.sh\" --out \"$out\" $kopts $opts \"\${list[@]}\"" > "$logdir/guest-$name.log" 2>&1
	if [ -f "$out/summary.txt" ]; then
		read -r p f s < "$out/summary.txt"
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		grep -E '^(not ok|ok) [0-9]+ |^# FAILED|^ok dmesg|^not ok dmesg' "$logdir/guest-$name.log" |
			sed "s/^/[$name] /"
		[ "$f" = 0 ] || failures+=("guest boot $name: $f failed (log: $logdir/guest-$name.log)")
	else
		case_fail "guest boot $name did not run (log: $logdir/guest-$name.log)"
		tail -n 20 "$logdir/guest-$name.log" | sed 's/^/#   /'
	fi
done 4< "$conf"
done

# KUnit under UML, when its cached build is present or asked for
if [ "${KUNIT:-auto}" = 1 ] || { [ "${KUNIT:-auto}" = auto ] && [ -x "$here/kunit.sh" ]; }; then
	if "$here/kunit.sh" > "$logdir/kunit.log" 2>&1; then :; fi
	if [ -f "$logdir/kunit.summary" ]; then
		read -r p f s < "$logdir/kunit.summary"
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		echo "# kunit: $p passed, $f failed, $s skipped"
		[ "$f" = 0 ] || failures+=("kunit: $f failed (log: $logdir/kunit.log)")
	fi
fi

for f in "${failures[@]+"${failures[@]}"}"; do
	echo "# FAILED: $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
