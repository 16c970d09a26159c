#!/usr/bin/env python3
"""Count test cases from meson's testlog.json and print 'N passed, N failed'.

A cmocka suite counts as its cases ("[  PASSED  ] N test(s)." and
"[  FAILED  ] N test(s)"); a suite that prints its own 'N passed, N failed'
line counts as that; any other test counts as one case. A suite that
crashed, timed out or exited non-zero without reporting a failure counts
one failure more, so a failure can never be hidden by a missing line.

A suite meson reports as SKIP (exit 77, e.g. the browser test where
Chromium cannot be installed) counts as skipped, never as passed; the line
then ends with ", N skipped".

Several runs can be summed into the one line: LOG STATUS [LOG STATUS ...]
(make test-sanitize: the ASan/UBSan suite and the ThreadSanitizer run).
"""
import json, re, sys

def main():
    args = sys.argv[1:]
    if len(args) < 2 or len(args) % 2:
        print("usage: test-summary.py TESTLOG.json MESON_STATUS [...]", file=sys.stderr)
        return 2
    passed = failed = skipped = 0
    for i in range(0, len(args), 2):
        p, f, k = summarize(args[i], int(args[i + 1]))
        passed += p
        failed += f
        skipped += k
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 1 if failed else 0

def summarize(path, meson_status):
    passed = failed = skipped = 0
    failed_names = []
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError as e:
        print(f"test-summary: cannot read {path}: {e}", file=sys.stderr)
        return 0, 1, 0
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        if t.get("result") == "SKIP":
            skipped += 1
            continue
        out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
        ok = t.get("result") in ("OK", "EXPECTEDFAIL")
        p = f = None
        m = re.findall(r"^\[  PASSED  \] (\d+) test", out, re.M)
        if m:
            p = sum(int(x) for x in m)
            f = sum(int(x) for x in re.findall(r"^\[  FAILED  \] (\d+) test", out, re.M))
        else:
            m = re.findall(r"^(?:\w+: )?(\d+) passed, (\d+) failed", out, re.M)
            if m:
                p, f = int(m[-1][0]), int(m[-1][1])
        if p is None:
            p, f = (1, 0) if ok else (0, 1)
        elif not ok and f == 0:
            f = 1
        passed += p
        failed += f
        if not ok:
            failed_names.append(t.get("name", "?"))
    if failed_names:
        print("failed suites: " + ", ".join(failed_names), flush=True)
    if meson_status != 0 and failed == 0:
        failed = 1
    return passed, failed, skipped

sys.exit(main())
