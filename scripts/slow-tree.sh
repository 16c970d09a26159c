#!/usr/bin/env bash
# scripts/slow-tree.sh DEST — copy the source tree to DEST for a run under
# a slow instrument (ASan, valgrind), with the shipped policy set's latency
# budgets raised to 10 s.
#
# Why: the shipped routes have a 2 ms budget (policies/routes.yaml). Under
# memcheck a check is 20-100x slower and under ASan several times slower,
# so the tests that run the shipped policies (golden cases, the CLI's
# policy tests, the C example) would get the on_timeout fail-safe instead of
# the policy's verdict, depending on machine load. Those tests check
# verdicts, not speed (speed is measured in benchmarks), so the copy
# changes nothing but the budgets. Test fixtures (tests/policies/) are not
# touched: they already use generous budgets, except the budget fixture,
# whose 1 µs budgets must be exceeded.
#
# The copy keeps modification times (tar), so an incremental build of the
# copy only recompiles what changed since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=$1
mkdir -p "$dest"
tar -c --exclude='./build*' --exclude='./.git' --exclude='./bindings/node/node_modules' \
    --exclude='./bindings/*/build' --exclude='__pycache__' . | tar -x -C "$dest"
python3 - "$dest/policies" <<'EOF'
import pathlib, re, sys
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.y*ml")):
    s = f.read_text(encoding="utf-8")
    t = re.sub(r"^(\s*budget_us:\s*)\d+", r"\g<1>10000000", s, flags=re.M)
    if t != s:
        f.write_text(t, encoding="utf-8")
EOF
