#!/usr/bin/env bash
# make test-valgrind: every test that is a compiled program (the C suites,
# the C examples, the header checks, the CLI's policy tests) under valgrind
# memcheck, in its own build directory.
# Prints one line "N passed, N failed"; a memcheck error or a definite or
# possible leak fails the test it happens in (--error-exitcode).
#
#   scripts/test-valgrind.sh [BUILD_DIR]     (default build-valgrind)
#
# - The tree is copied to BUILD_DIR/src with the shipped policies' budgets
#   raised (scripts/slow-tree.sh explains why); the build is BUILD_DIR/build.
# - A plain release build (-O3, no sanitizer): memcheck instruments the
#   machine code that ships. -g only adds line numbers.
# - tests/valgrind.supp suppresses PCRE2 JIT's SIMD over-read, nothing else.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh valgrind
BASE=${1:-build-valgrind}
SRC=$BASE/src
BUILD=$BASE/build
SUPP=$(pwd)/tests/valgrind.supp

bash scripts/slow-tree.sh "$SRC"
if [ ! -f "$BUILD/build.ninja" ]; then
    mkdir -p "$BUILD"
    meson setup "$BUILD" "$SRC" -Dc_args=-g >"$BUILD/setup.log" 2>&1 || {
        cat "$BUILD/setup.log"; echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C "$BUILD" >"$BUILD/build-output.txt" 2>&1 || {
    tail -n 40 "$BUILD/build-output.txt"; echo "0 passed, 1 failed"; exit 1; }

# The tests that are compiled programs (the C suites, the C examples, the
# header checks, the CLI's policy tests): --wrapper runs each under
# memcheck. Tests driven by Python, Node or make (the bindings, install,
# CLI end-to-end suites) would put the interpreter under memcheck instead
# of replyguard, so they are left to `make test` and `make test-sanitize`
# (which instruments the CLI they run).
names=$(meson introspect --tests "$BUILD" | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    try:
        with open(t["cmd"][0], "rb") as f:
            elf = f.read(4) == b"\x7fELF"
    except OSError:
        elf = False
    if elf and not any(s.endswith((":bench", ":bindings", ":install")) for s in t["suite"]):
        print(t["name"])
')
# memcheck is ~20-50x slower: meson's per-suite timeouts x20.
meson test -C "$BUILD" --no-rebuild --print-errorlogs --num-processes 2 \
    --timeout-multiplier 20 $names \
    --wrapper "valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible --num-callers=30 --suppressions=$SUPP" \
    >"$BUILD/test-output.txt" 2>&1
status=$?
grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|ERROR|TIMEOUT)' "$BUILD/test-output.txt" | awk '!seen[$0]++' || true
grep -m 10 -E '^==[0-9]+== [A-Z]' "$BUILD/meson-logs/testlog-valgrind.txt" || true
python3 scripts/test-summary.py "$BUILD/meson-logs/testlog-valgrind.json" "$status"
