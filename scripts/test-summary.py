#!/usr/bin/env python3
"""Count test cases from meson's testlog.json and print 'N passed, N failed'.

A cmocka suite counts as its cases ("[  PASSED  ] N test(s)." and
"[  FAILED  ] N test(s)"); a suite that prints its own 'N passed, N failed'
line counts as that; any other test counts as one case. A suite that
crashed, timed out or exited non-zero without reporting a failure counts
one failure more, so a failure can never be hidden by a missing line.
"""
import json, re, sys

def main():
    path, meson_status = sys.argv[1], int(sys.argv[2])
    passed = failed = 0
    failed_names = []
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError as e:
        print(f"test-summary: cannot read {path}: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
        ok = t.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
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
        print("failed suites: " + ", ".join(failed_names), file=sys.stderr)
    if meson_status != 0 and failed == 0:
        failed = 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0

sys.exit(main())
