#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn one guest run's results.log into a verdict.

results.log (written by scripts/guest-init.sh) holds the harness's own
cases ("# HARNESS ok|not ok <name>": each insmod, each device bind),
"# GUEST READY", then per test program "# PROG <cmd>", its TAP output,
"# EXIT <cmd> rc=N time=Ss" and the kernel log of that program between
"# DMESG BEGIN <cmd>" and "# DMESG END" (read and cleared after each
program; also one section for the boot and one after the last program),
and "# GUEST DONE" last.

Counted as failures: a failing harness case; a failing TAP case; a program
whose TAP plan is missing, is 1..0 or does not match the cases it
reported (test programs: *_test, *_test.sh); a program that exits non-zero without a failing case, never
prints its "# EXIT" line, is stopped by the guest's watchdog or never
starts; each kernel-log section with a WARNING, BUG, Oops, lockdep, KASAN,
UBSAN, hung task, soft lockup, RCU stall, "nobody cared" irq, duplicate
sysfs name, SLUB report or a bare "Call Trace:" (named after the program
it came during); a boot killed at its limit or without its final dmesg.

The guest watchdog's verdict (hang: no progress or blocked tasks; slow:
still running and making progress) and, for a boot the host had to kill,
the stall reports on the console, are printed so that a genuine hang and
a slow machine read differently.  Writes dmesg.txt and summary.txt
("passed failed skipped") next to results.log, prints the boot's wall
time against its limit (boot.txt) and "guest: N passed, N failed, N
skipped".  Exit status 1 on any failure.
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
    r"Kernel panic|soft lockup|hard LOCKUP|"
    r"irq \d+: nobody cared|"
    r"rcu: INFO: .*detected stall|self-detected stall|detected stalls on CPU|"
    r"sysfs: cannot create duplicate filename|"
    # SLUB: "BUG kmalloc-64 (Not tainted): Poison overwritten"
    r"(^|\]\s*)BUG \S+ \(|"
    r"Call Trace:")
# Only a stack dump, nothing else of a report on the line
TRACE_ONLY = re.compile(r"Call Trace:")
# What a stalled guest kernel says on its console
STALL = re.compile(
    r"soft lockup|hard LOCKUP|blocked for more than|detected stall|"
    r"detected stalls on CPU|rcu_preempt kthread starved|Kernel panic|"
    r"BUG:|Oops")
TAP = re.compile(r"^(not ok|ok) (\d+)\b ?(.*)$")
PLAN = re.compile(r"^1\.\.(\d+)")
TEST_PROG = re.compile(r"_test(\.sh)?$")
RUN = re.compile(r"^#\s+RUN\s+(\S+)")
WATCHDOG_BEGIN = "vfio-harness: watchdog dump begin"
WATCHDOG_END = "vfio-harness: watchdog dump end"
INJECTED = "FAULT_INJECTION: forcing a failure"


class Prog:
    def __init__(self, cmd):
        self.cmd = cmd
        self.name = cmd.split()[0]
        self.plan = None
        self.results = 0
        self.failed = False
        self.exited = None
        self.time = None
        self.running_case = None
        self.timeout = None
        self.verdict = None


def bad_lines(section, lines):
    """Report lines of one kernel-log section, with the context before.

    Stack dumps are expected in two places only, and only there is a bare
    "Call Trace:" let through: the guest watchdog's sysrq dump of a
    program it stopped (that program already failed), and a fault
    injection report during failnth_test, should it have left the
    injection points verbose (failnth_test turns that off).  Any other
    report on those lines still counts.
    """
    found = []
    in_watchdog = False
    injected_at = -100
    for i, l in enumerate(lines):
        if WATCHDOG_BEGIN in l:
            in_watchdog = True
            continue
        if WATCHDOG_END in l:
            in_watchdog = False
            continue
        if INJECTED in l:
            injected_at = i
        if not BAD_DMESG.search(l):
            continue
        trace_only = TRACE_ONLY.search(l) and not BAD_DMESG.search(
            TRACE_ONLY.sub("", l))
        if trace_only and in_watchdog:
            continue
        if trace_only and section.startswith("failnth_test") and i - injected_at <= 8:
            continue
        found.append((i, l))
    return found


def main():
    out = Path(sys.argv[1])
    quiet = "--quiet" in sys.argv
    timed_out = "--timed-out" in sys.argv
    log = out / "results.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    lines = [l.rstrip("\r\n").replace("\r", "") for l in text.splitlines()]
    tl = out / "initramfs" / "etc" / "tests.list"
    expected = [t for t in tl.read_text().splitlines() if t.strip()] if tl.exists() else []

    passed = failed = skipped = 0
    failures = []
    notes = []
    progs = []
    prog = None
    sections = []      # (name, [lines])
    section = None
    in_leak = False
    leaks = []
    ready = done = False
    not_run = []

    def emit(line):
        if not quiet:
            print(line)

    def fail(why):
        nonlocal failed
        failed += 1
        failures.append(why)

    for line in lines:
        if section is not None:
            if line == "# DMESG END":
                sections.append(section)
                section = None
            else:
                section[1].append(line)
            continue
        if line.startswith("# DMESG BEGIN"):
            section = (line[len("# DMESG BEGIN"):].strip() or "?", [])
            continue
        if line == "# KMEMLEAK BEGIN":
            in_leak = True
            continue
        if line == "# KMEMLEAK END":
            in_leak = False
            if any("unreferenced object" in l for l in leaks):
                fail("kmemleak: " + next(l for l in leaks if "unreferenced" in l))
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
        if line.startswith("# HARNESS "):
            emit(line)
            body = line[len("# HARNESS "):]
            if body.startswith("ok "):
                passed += 1
            else:
                fail("harness: " + body[len("not ok "):])
            continue
        if line.startswith("# GUEST READY"):
            ready = True
            emit(line)
            continue
        if line == "# GUEST DONE":
            done = True
            continue
        if line.startswith("# NOT RUN "):
            emit(line)
            not_run.append(line[len("# NOT RUN "):].split(":")[0])
            continue
        if line.startswith("# PROG "):
            prog = Prog(line[7:])
            progs.append(prog)
            emit(line)
            continue
        if prog is None:
            emit(line)
            continue
        m = re.match(r"^# EXIT (.*) rc=(\d+) time=(\d+)s$", line)
        if m and m.group(1) == prog.cmd:
            prog.exited, prog.time = m.group(2), int(m.group(3))
            emit(line)
            if prog.timeout:
                v = prog.verdict or "no verdict"
                fail(f"{prog.cmd}: stopped by the guest watchdog, {prog.timeout}; "
                     f"case running: {prog.running_case or '-'}; {v}")
            elif prog.exited != "0" and not prog.failed:
                fail(f"{prog.cmd}: exited {prog.exited} without a failing case")
            # Test programs (*_test, *_test.sh) speak TAP; tools such as
            # vfio_demo and vfio_bench do not and have no plan to match
            if not prog.timeout and TEST_PROG.search(prog.name):
                if prog.plan is None:
                    fail(f"{prog.cmd}: no TAP plan")
                elif prog.plan == 0:
                    fail(f"{prog.cmd}: TAP plan 1..0, ran no case")
                elif prog.results != prog.plan:
                    fail(f"{prog.cmd}: {prog.results} cases reported, "
                         f"{prog.plan} planned")
            prog = None
            continue
        if line.startswith("# TIMEOUT: "):
            prog.timeout = line[len("# TIMEOUT: "):].split(", at ", 1)[-1]
            emit(line)
            continue
        if line.startswith("# VERDICT "):
            prog.verdict = line[len("# VERDICT "):]
            emit(line)
            continue
        m = PLAN.match(line)
        if m and prog.plan is None:
            prog.plan = int(m.group(1))
        m = RUN.match(line)
        if m:
            prog.running_case = m.group(1)
        m = TAP.match(line)
        if m:
            prog.results += 1
            prog.running_case = None
            name = f"{prog.name}:{m.group(3)}"
            if m.group(1) == "ok" and "# SKIP" in m.group(3):
                skipped += 1
            elif m.group(1) == "ok":
                passed += 1
            else:
                failed += 1
                prog.failed = True
                failures.append(name)
        emit(line)
    if section is not None:
        sections.append(section)

    if prog is not None:
        where = f"case running: {prog.running_case}" if prog.running_case else \
            f"{prog.results} of {prog.plan if prog.plan is not None else '?'} cases done"
        fail(f"{prog.cmd}: never finished ({where}; guest died or was killed)")
    started = [p.cmd for p in progs]
    for t in expected:
        if t in not_run:
            fail(f"{t}: not run, the boot's deadline had passed")
        elif t not in started and ready:
            fail(f"{t}: not run (the guest stopped before it)")
    if not ready:
        fail("guest: never became ready (no test ran; see console.log)")

    # Wall time against the limit
    boot = {}
    bt = out / "boot.txt"
    if bt.exists():
        for kv in bt.read_text().split():
            k, _, v = kv.partition("=")
            boot[k] = v
    console = out / "console.log"
    ctext = console.read_text(errors="replace").splitlines() if console.exists() else []
    stalls = [l for l in ctext if STALL.search(l)]
    if timed_out:
        running = f"{prog.cmd} (case {prog.running_case or '-'})" if prog else "no program"
        kind = ("HANG: the guest kernel reported stalls" if stalls else
                "the guest stopped answering: its own watchdog never fired")
        fail(f"guest: killed at its {boot.get('limit', '?')}s limit while {running} "
             f"was running; {kind} (console.log, cpus.txt)")
        for l in stalls[:10]:
            emit("#   console: " + l)

    # Kernel log, section by section
    dmesg = []
    dirty = 0
    for name, sl in sections:
        dmesg.append(f"=== {name}")
        dmesg.extend(sl)
        found = bad_lines(name, sl)
        if found:
            dirty += 1
            fail(f"guest dmesg during {name}: " + found[0][1].strip())
            emit(f"not ok dmesg clean during {name}")
            for i, l in found[:10]:
                for c in sl[max(0, i - 2):i]:
                    emit("#     " + c)
                emit("#   > " + l)
    (out / "dmesg.txt").write_text("\n".join(dmesg) + "\n")
    if not done:
        fail("guest: no final dmesg collected (see console.log)")
        if not timed_out:
            for l in stalls[:10]:
                emit("#   console: " + l)
            for l in ctext[-10:]:
                emit("#   console tail: " + l)
    elif not dirty:
        passed += 1
        emit("ok dmesg clean")

    for p in progs:
        if p.time is not None:
            notes.append(f"{p.cmd}: {p.time}s")
    for f in failures:
        print(f"# FAILED: {f}")
    if boot:
        el, lim = int(boot.get("elapsed", 0)), int(boot.get("limit", 0))
        pct = 100 * el // lim if lim else 0
        extra = f", {boot['attempts']} boots" if boot.get("attempts", "1") != "1" else ""
        print(f"# boot time: {el}s of its {lim}s limit ({pct}%{extra}); "
              "programs: " + ", ".join(notes))
    print(f"# guest logs: {out}")
    (out / "summary.txt").write_text(f"{passed} {failed} {skipped}\n")
    print(f"guest: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
