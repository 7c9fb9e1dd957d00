#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run our KUnit suites under UML: overlay this tree onto Debian's
# linux-source-6.12 (scripts/intree-overlay.sh) and run
# tools/testing/kunit/kunit.py with drivers/vfio/pci/.kunitconfig.  The UML
# build directory is cached in $CACHE/kunit-uml and reused.
# Writes "passed failed skipped" to $KUNIT_SUMMARY (default
# build/check/kunit.summary) and exits non-zero when a test failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
export CACHE=${CACHE:-$HOME/.cache/vfio-pci-core}
summary=${KUNIT_SUMMARY:-$top/build/check/kunit.summary}
mkdir -p "$(dirname "$summary")"
rm -f "$summary"

src=$("$here/ksrc.sh" full)
"$here/intree-overlay.sh" --src "$src"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cd "$src"
rc=0
python3 tools/testing/kunit/kunit.py run --build_dir="$CACHE/kunit-uml" \
	--kunitconfig=drivers/vfio/pci/.kunitconfig --jobs="$(nproc)" \
	--raw_output=kunit 2>&1 | tee "$log" || rc=$?

# Count test cases from the KTAP output (nested "ok N name" lines)
python3 - "$log" "$summary" <<'PY'
import re, sys
p = f = s = 0
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"^\s+(not ok|ok) \d+ (\S+)(.*)$", line)
    if not m:
        continue
    if m.group(1) == "not ok":
        f += 1
    elif "# SKIP" in m.group(3):
        s += 1
    else:
        p += 1
open(sys.argv[2], "w").write(f"{p} {f} {s}\n")
print(f"kunit: {p} passed, {f} failed, {s} skipped")
PY
read -r p f s < "$summary"
if [ "$p" = 0 ] && [ "$f" = 0 ]; then
	echo "kunit: no test ran (build failed?)" >&2
	echo "0 1 0" > "$summary"
	exit 1
fi
[ "$f" = 0 ] && [ $rc = 0 ]
