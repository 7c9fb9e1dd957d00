#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run our KUnit suites under UML: overlay this tree onto Debian's
# linux-source-6.12 (scripts/intree-overlay.sh) and run
# tools/testing/kunit/kunit.py with drivers/vfio/pci/.kunitconfig.  The UML
# build directory is cached in $CACHE/kunit-uml and reused.
# Writes "passed failed skipped" to $KUNIT_SUMMARY (default
# build/check/kunit.summary) and exits non-zero on any failure.  Failures
# are not only failing cases: the overlay or the build failing, kunit.py
# exiting non-zero, a run without a KTAP plan or with fewer results than
# planned at any level (UML crashed part way) each count as one.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
export CACHE=${CACHE:-$HOME/.cache/vfio-pci-core}
summary=${KUNIT_SUMMARY:-$top/build/check/kunit.summary}
mkdir -p "$(dirname "$summary")"
rm -f "$summary"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

broken() {	# reason: one failed case, nothing else counted
	echo "kunit: FAILED: $1" >&2
	echo "0 1 0" > "$summary"
	exit 1
}

src=$("$here/ksrc.sh" full) || broken "unpacking linux-source-6.12 failed"
"$here/intree-overlay.sh" --src "$src" || broken "overlaying this tree failed"
cd "$src" || broken "no source tree"
rc=0
python3 tools/testing/kunit/kunit.py run --build_dir="$CACHE/kunit-uml" \
	--kunitconfig=drivers/vfio/pci/.kunitconfig --jobs="$(nproc)" \
	--raw_output=kunit 2>&1 | tee "$log" || rc=$?

# Count the leaf test cases of the KTAP tree (a result line with results
# nested under it is a suite or a parameterized case, not counted itself)
# and check every level's plan
python3 - "$log" "$summary" "$rc" <<'PY'
import re, sys
p = f = s = 0
problems = []
plans = {}      # depth -> planned results
counts = {}     # depth -> results seen since that level began
child_failed = {}   # depth -> a result at this depth failed
for line in open(sys.argv[1], errors="replace"):
    line = line.rstrip("\n")
    m = re.match(r"^( *)KTAP version", line)
    if m:
        d = len(m.group(1)) // 4
        plans.pop(d, None)
        counts[d] = 0
        child_failed[d] = False
        continue
    m = re.match(r"^( *)1\.\.(\d+)", line)
    if m:
        plans[len(m.group(1)) // 4] = int(m.group(2))
        continue
    m = re.match(r"^( *)(not ok|ok) \d+ (\S+)(.*)$", line)
    if not m:
        continue
    d = len(m.group(1)) // 4
    counts[d] = counts.get(d, 0) + 1
    bad = m.group(2) == "not ok"
    children = counts.get(d + 1, 0)
    if children:
        # a parent: its plan must match; it counts itself only when it
        # failed while no child did (a failing suite init or exit)
        planned = plans.get(d + 1)
        if planned is not None and planned != children:
            problems.append(f"{m.group(3)}: {children} results, {planned} planned")
        if bad and not child_failed.get(d + 1):
            f += 1
        counts[d + 1] = 0
        child_failed[d + 1] = False
        plans.pop(d + 1, None)
    elif bad:
        f += 1
    elif "# SKIP" in m.group(4):
        s += 1
    else:
        p += 1
    if bad:
        child_failed[d] = True
top = plans.get(0)
if top is None:
    problems.append("no top-level KTAP plan (the UML kernel did not run or crashed early)")
elif counts.get(0, 0) != top:
    problems.append(f"{counts.get(0, 0)} suites reported, {top} planned (UML crashed part way?)")
if sys.argv[3] != "0":
    problems.append(f"kunit.py exited {sys.argv[3]}")
if p + f + s == 0:
    problems.append("no test case ran")
for pr in problems:
    print(f"kunit: FAILED: {pr}")
f += len(problems)
open(sys.argv[2], "w").write(f"{p} {f} {s}\n")
print(f"kunit: {p} passed, {f} failed, {s} skipped")
PY
read -r p f s < "$summary" || broken "no summary"
[ "$f" = 0 ]
