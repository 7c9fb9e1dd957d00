#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn one guest run's results.log into a verdict.

results.log holds, per test program, "# PROG <cmd>", its TAP output and
"# EXIT <cmd> <rc>", then the guest's dmesg between "# DMESG BEGIN/END".
Counts every TAP test case (ok / not ok / # SKIP), adds a failure for a
program that exited non-zero without reporting a failing case or never
finished, and one case for a clean dmesg.  Writes dmesg.txt and
summary.txt ("passed failed skipped") next to results.log and prints
"guest: N passed, N failed, N skipped".  Exit status 1 on any failure.
"""
import re
import sys
from pathlib import Path

BAD_DMESG = re.compile(
    r"WARNING:|BUG:|Oops|general protection fault|"
    r"possible circular locking|possible recursive locking|"
    r"inconsistent lock state|suspicious RCU usage|KASAN|UBSAN|"
    r"kmemleak: .*new suspected|blocked for more than|hung_task|"
    r"list_add corruption|list_del corruption|refcount_t:|"
    r"Kernel panic")
TAP = re.compile(r"^(not ok|ok) (\d+) (.*)$")


def main():
    out = Path(sys.argv[1])
    quiet = "--quiet" in sys.argv
    timed_out = "--timed-out" in sys.argv
    log = out / "results.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    lines = [l.rstrip("\r\n").replace("\r", "") for l in text.splitlines()]

    passed = failed = skipped = 0
    failures = []
    prog = None
    prog_failed = False
    in_dmesg = False
    in_leak = False
    leaks = []
    dmesg = []
    seen_dmesg_end = False

    def emit(line):
        if not quiet:
            print(line)

    for line in lines:
        if line == "# DMESG BEGIN":
            in_dmesg = True
            continue
        if line == "# DMESG END":
            in_dmesg = False
            seen_dmesg_end = True
            continue
        if in_dmesg:
            dmesg.append(line)
            continue
        if line == "# KMEMLEAK BEGIN":
            in_leak = True
            continue
        if line == "# KMEMLEAK END":
            in_leak = False
            if any("unreferenced object" in l for l in leaks):
                failed += 1
                failures.append("kmemleak: " + next(l for l in leaks if "unreferenced" in l))
                emit("not ok kmemleak clean")
                for l in leaks[:40]:
                    emit("#   " + l)
            else:
                passed += 1
                emit("ok kmemleak clean")
            continue
        if in_leak:
            leaks.append(line)
            continue
        if line.startswith("# PROG "):
            prog, prog_failed = line[7:], False
            emit(line)
            continue
        if line.startswith("# EXIT ") and prog is not None:
            rc = line.rsplit(" ", 1)[-1]
            emit(line)
            if rc != "0" and not prog_failed:
                failed += 1
                failures.append(f"{prog}: exited {rc} without a failing case")
            prog = None
            continue
        m = TAP.match(line)
        if m and prog is not None:
            name = f"{prog.split()[0]}:{m.group(3)}"
            if m.group(1) == "ok" and "# SKIP" in m.group(3):
                skipped += 1
            elif m.group(1) == "ok":
                passed += 1
            else:
                failed += 1
                prog_failed = True
                failures.append(name)
        emit(line)

    if prog is not None:
        failed += 1
        failures.append(f"{prog}: never finished (guest died or timed out)")
    if timed_out:
        failed += 1
        failures.append("guest: killed after its timeout")

    (out / "dmesg.txt").write_text("\n".join(dmesg) + "\n")
    bad = [l for l in dmesg if BAD_DMESG.search(l)]
    if not seen_dmesg_end:
        failed += 1
        failures.append("guest: no dmesg collected (see console.log)")
    elif bad:
        failed += 1
        failures.append("guest dmesg: " + bad[0].strip())
        emit("not ok dmesg clean")
        for l in bad[:20]:
            emit("#   " + l)
    else:
        passed += 1
        emit("ok dmesg clean")

    for f in failures:
        print(f"# FAILED: {f}")
    print(f"# guest logs: {out}")
    (out / "summary.txt").write_text(f"{passed} {failed} {skipped}\n")
    print(f"guest: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
