#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make mutants`: prove that `make check` can fail.  Each
# scripts/mutants/NN-name.patch is a small deliberate breakage of the
# driver.  One at a time, it is applied to a scratch copy of this tree
# (build/mutants/<name>/, the working tree's files as they are now), the
# modules are built there and the guest boots its header names
# ("# Boots: main sriov", boots.conf names) are run by scripts/check.sh in
# that copy, without lint and KUnit.  A mutant is
#   killed    when that check fails,
#   SURVIVED  when it passes: the tests miss what the mutant broke,
#   ERROR     when the patch no longer applies or the copy does not build
#             (the code moved: update the patch; that is not a kill).
# Exits non-zero unless every mutant was killed.
#
# usage: mutants.sh [NAME-or-FILE ...]   (default: every patch)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"

patches=()
if [ $# -gt 0 ]; then
	for m in "$@"; do
		f=$m
		[ -f "$f" ] || f=$(ls scripts/mutants/"$m"*.patch 2>/dev/null | head -n1)
		[ -f "$f" ] || { echo "mutants: no mutant $m" >&2; exit 2; }
		patches+=("$f")
	done
else
	patches=(scripts/mutants/*.patch)
fi

# The programs once, here; every copy links to them (the mutants change
# the driver, not the tests)
make -s tests > build/mutants-tests.log 2>&1 || {
	cat build/mutants-tests.log
	echo "mutants: the selftests do not build" >&2
	exit 1
}

results=()
bad=0
for patch in "${patches[@]}"; do
	name=$(basename "$patch" .patch)
	boots=$(sed -n 's/^# Boots: *//p' "$patch" | head -n1)
	what=$(sed -n 's/^# Mutant: *//p' "$patch" | head -n1)
	copy=$top/build/mutants/$name
	log=$top/build/mutants/$name.log
	echo "# mutant $name: $what (boots: ${boots:-none})"
	if [ -z "$boots" ]; then
		results+=("ERROR     $name: no '# Boots:' line")
		bad=1
		continue
	fi
	rm -rf "$copy"
	mkdir -p "$copy/build"
	git ls-files -co --exclude-standard | grep -v '^build/' | cpio -pdm --quiet "$copy"
	ln -s "$top/build/tests" "$copy/build/tests"
	# no fuzz: a patch that does not apply exactly is an error
	if ! patch -d "$copy" -p1 -F0 -N -s --no-backup-if-mismatch -r - < "$patch" > "$log" 2>&1; then
		results+=("ERROR     $name: the patch does not apply (log: $log)")
		bad=1
		continue
	fi
	if ! nice -n 10 make -s -C "$copy" modules >> "$log" 2>&1; then
		results+=("ERROR     $name: the mutant does not build (log: $log)")
		bad=1
		continue
	fi
	rc=0
	(cd "$copy" && BOOTS="$boots" LINT=0 KUNIT=0 CHECK_DEBUG=0 scripts/check.sh) >> "$log" 2>&1 || rc=$?
	tail -n 1 "$log" | sed 's/^/#   /'
	if grep -q '^not ok - build:' "$log"; then
		results+=("ERROR     $name: the copy does not build (log: $log)")
		bad=1
	elif [ $rc = 0 ]; then
		results+=("SURVIVED  $name: $what; boots $boots passed (log: $log)")
		bad=1
	else
		# the first failure the harness named (not kselftest's own
		# "# FAILED: N / M tests passed." line)
		why=$(grep -E '^(\[[^]]*\] )?# FAILED: ' "$log" |
			grep -vE 'FAILED: [0-9]+ / [0-9]+ tests passed' | head -n1 | sed 's/# FAILED: //')
		results+=("killed    $name: $why")
	fi
	# keep the log, drop the copy (a few MB of sources and modules)
	rm -rf "$copy"
done

echo "# mutants:"
printf '%s\n' "${results[@]}"
n_killed=$(printf '%s\n' "${results[@]}" | grep -c '^killed')
echo "$n_killed of ${#results[@]} mutants killed"
[ $bad = 0 ]
