#!/usr/bin/env python3
"""CI smoke test of the benchmark: zero heap allocations per check.

  smoke.py REPLYGUARD POLICIES MAKE_CORPORA

Builds a few hundred mixed lines with `make-corpora.py --smoke` (from
../shared/data when it exists, else from built-in templates: short replies,
injected insults/cards/SSNs/emails, 1-2 KB replies, 2 KB adversarial lines
with invalid UTF-8, emoji, near-miss numbers), then runs
`replyguard bench --json` on them (route default with 1 thread, route
refunds with 2 threads) and fails unless, after the warm-up pass:

  - allocations were counted by the malloc interposer (every library, not
    only replyguard's own allocator), and
  - allocs_per_check is exactly 0, and no check returned an error.

Timing figures are printed for information only: speed is never asserted
in a test (docs/PERFORMANCE.md).
"""
import json
import os
import subprocess
import sys
import tempfile


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


def main():
    rg, policies, make_corpora = sys.argv[1:4]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "smoke.txt")
        rc, out, err = run([sys.executable, make_corpora, "--smoke", corpus])
        sys.stdout.write(out)
        if rc != 0:
            print(err, file=sys.stderr)
            print("FAIL: cannot build the smoke corpus")
            return 1
        for route, threads in (("default", 1), ("refunds", 2)):
            cmd = [rg, "bench", "-p", policies, "-r", route, "--repeat", "3",
                   "--threads", str(threads), "--json", corpus]
            rc, out, err = run(cmd)
            name = "bench %s x%d" % (route, threads)
            lines = out.strip().splitlines()
            if rc != 0 or not lines:
                failures.append("%s: exit %d: %s" % (name, rc, err.strip()[-500:]))
                continue
            try:
                r = json.loads(lines[-1])
            except ValueError as e:
                failures.append("%s: last line is not JSON (%s)" % (name, e))
                continue
            print("%s: %d checks, allocs_per_check %s (%s: %d; rg_allocator: %d), "
                  "p50 %d ns, p99 %d ns, verdicts %s, flags %s (timings informative only)"
                  % (name, r["checks"], r["allocs_per_check"], r["alloc_counter"],
                     r["process_allocs"], r["rg_allocator_allocs"], r["p50_ns"], r["p99_ns"],
                     r["verdicts"], r["flags"]))
            if r.get("alloc_counter") != "malloc-interposer":
                failures.append("%s: allocations not measured by the malloc interposer "
                                "(%s)" % (name, r.get("alloc_counter")))
            if r.get("checks", 0) <= 0:
                failures.append("%s: no checks ran" % name)
            if r.get("allocs_per_check") != 0 or r.get("process_allocs") != 0 \
                    or r.get("rg_allocator_allocs") != 0:
                failures.append("%s: %s heap allocations per check after warm-up "
                                "(%d in %d checks; %d through rg_allocator), expected 0"
                                % (name, r.get("allocs_per_check"), r.get("process_allocs"),
                                   r.get("checks"), r.get("rg_allocator_allocs")))
            if r.get("errors", 1) != 0:
                failures.append("%s: %s checks returned an error" % (name, r.get("errors")))
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("ok: 0 heap allocations per check after warm-up")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
