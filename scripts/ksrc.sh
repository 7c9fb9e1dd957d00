#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Unpack the parts of Debian's linux-source-6.12 we use into $CACHE, once:
#   selftests   kselftest harness headers -> $CACHE/selftests, and the 6.12
#               uapi linux/vfio.h and iommufd.h -> $CACHE/uapi (the build machine's libc
#               headers may be older).  One fix to the 6.12 harness: a TEST_F
#               wrapper's `child` changes between setjmp() and an ASSERT's
#               longjmp(), so the optimiser may bring back its old value and
#               the test's process then skips FIXTURE_TEARDOWN (state a failed
#               test leaves then breaks the next ones): it is made volatile.
#   tools       checkpatch.pl, kernel-doc and their data -> $CACHE/ksrc
#   full        the whole tree -> $CACHE/linux-source-6.12
# Prints the directory it prepared.
set -eu
CACHE=${CACHE:-$HOME/.cache/vfio-pci-core}
tarball=/usr/src/linux-source-6.12.tar.xz
[ -f $tarball ] || { echo "ksrc: $tarball missing (make deps)" >&2; exit 1; }
mkdir -p "$CACHE"
stamp() { [ -f "$1/.stamp" ] && [ "$1/.stamp" -nt $tarball ]; }

case "${1:-tools}" in
selftests)
	d=$CACHE/selftests
	if ! stamp "$d" || ! grep -q 'volatile pid_t child' "$d/kselftest_harness.h"; then
		rm -rf "$d" && mkdir -p "$d/vfio" "$CACHE/uapi/linux"
		tar -xJf $tarball -C "$d" --strip-components=4 \
			linux-source-6.12/tools/testing/selftests/kselftest_harness.h \
			linux-source-6.12/tools/testing/selftests/kselftest.h
		sed -i 's/^\(\t*\)pid_t child = 1; \\$/\1volatile pid_t child = 1; \\/' \
			"$d/kselftest_harness.h"
		grep -q 'volatile pid_t child' "$d/kselftest_harness.h" ||
			{ echo "ksrc: harness fix did not apply" >&2; exit 1; }
		for h in vfio iommufd; do
			tar -xJf $tarball -O linux-source-6.12/include/uapi/linux/$h.h \
				> "$CACHE/uapi/linux/$h.h"
		done
		touch "$d/.stamp"
	fi
	echo "$d" ;;
tools)
	d=$CACHE/ksrc
	if ! stamp "$d"; then
		rm -rf "$d" && mkdir -p "$d"
		tar -xJf $tarball -C "$d" --strip-components=1 \
			linux-source-6.12/scripts/checkpatch.pl \
			linux-source-6.12/scripts/spelling.txt \
			linux-source-6.12/scripts/const_structs.checkpatch \
			linux-source-6.12/scripts/kernel-doc
		touch "$d/.stamp"
	fi
	echo "$d" ;;
full)
	d=$CACHE/linux-source-6.12
	if ! stamp "$d"; then
		rm -rf "$d"
		tar -xJf $tarball -C "$CACHE"
		touch "$d/.stamp"
	fi
	echo "$d" ;;
*)
	echo "usage: $0 selftests|tools|full" >&2; exit 2 ;;
esac
