#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Static checks over our sources; any finding fails:
#   sparse   kbuild C=2 (every file re-checked) with W=1 extra warnings
#   checkpatch  --strict over every kernel C file and header we own
#   kernel-doc  -Wall over the same files, and a kernel-doc comment for
#            every EXPORT_SYMBOL_GPL
# Prints "lint: <check>: ok" or the findings, one check after another.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
KVER=${KVER:-$("$here/kver.sh")}
KDIR=${KDIR:-/usr/src/linux-headers-$KVER}
ksrc=$("$here/ksrc.sh" tools)
cd "$top"

only=${1:-all}
fail=0
report() {	# name findings-file
	if [ -s "$2" ]; then
		echo "lint: $1: FAILED"
		sed 's/^/    /' "$2" | head -100
		fail=1
	else
		echo "lint: $1: ok"
	fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mapfile -t ksrcs < <(git ls-files -co --exclude-standard -- 'drivers/*.c' 'drivers/*.h' 'include/*.h' | sort -u)

if [ "$only" = all ] || [ "$only" = sparse ]; then
	make -s -C "$KDIR" M="$top" CONFIG_VFIO_PCI_CORE=m CONFIG_VFIO_PCI=m \
		$(sed -n 's/^KCONFIG_EXTRA := //p' Makefile) \
		C=2 W=1 modules > "$tmp/build.log" 2>&1 || echo "build failed" >> "$tmp/build.log"
	grep -E 'warning:|error:|failed' "$tmp/build.log" | grep -v '^make' > "$tmp/sparse" || true
	report "sparse C=2, W=1" "$tmp/sparse"
fi

if [ "$only" = all ] || [ "$only" = checkpatch ]; then
	: > "$tmp/cp"
	for f in "${ksrcs[@]}"; do
		perl "$ksrc/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
			--show-types --ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG \
			-f "$f" >> "$tmp/cp" 2>&1 || true
	done
	# Our tests (and the probes in scripts/) are kselftest-style kernel
	# code, but userspace: volatile is how a program touches an mmapped
	# BAR, PRIx64 comes from inttypes.h, errno values are positive and the
	# harness's macros carry flow control.
	for f in $(git ls-files -co --exclude-standard -- 'tools/testing/selftests/*.c' 'tools/testing/selftests/*.h' 'scripts/*.c'); do
		perl "$ksrc/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
			--show-types --ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,LONG_LINE_STRING,MACRO_ARG_UNUSED,VOLATILE,CAMELCASE,USE_NEGATIVE_ERRNO,MACRO_WITH_FLOW_CONTROL \
			-f "$f" >> "$tmp/cp" 2>&1 || true
	done
	grep -v '^total:' "$tmp/cp" | grep -v '^$' > "$tmp/cp2" || true
	report "checkpatch --strict" "$tmp/cp2"
	# The probes in scripts/ are not built by any target: compile them here
	for f in $(git ls-files -co --exclude-standard -- 'scripts/*.c'); do
		cc -O2 -Wall -Wextra -Werror -o "$tmp/probe" "$f" >> "$tmp/probes" 2>&1 ||
			echo "$f: does not build" >> "$tmp/probes"
	done
	report "scripts/*.c build" "$tmp/probes"
fi

if [ "$only" = all ] || [ "$only" = kernel-doc ]; then
	: > "$tmp/kd"
	for f in "${ksrcs[@]}"; do
		perl "$ksrc/scripts/kernel-doc" -none -Wall "$f" >> "$tmp/kd" 2>&1 || true
	done
	# Every exported symbol has a kernel-doc comment in its file or in a header
	for f in $(git ls-files -co --exclude-standard -- 'drivers/*.c'); do
		for s in $(sed -n 's/^EXPORT_SYMBOL\(_GPL\)\?(\([a-z0-9_]*\));/\2/p' "$f"); do
			if ! grep -qE "^ \* ($s(\(\))? -|DOC: $s\$)" "$f" include/linux/*.h; then
				echo "$f: exported $s has no kernel-doc comment" >> "$tmp/kd"
			fi
		done
	done
	report "kernel-doc" "$tmp/kd"
fi
exit $fail
