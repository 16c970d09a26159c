#!/usr/bin/env bash
# make test-sanitize: the whole C suite (library, CLI, every test) built
# with AddressSanitizer + UndefinedBehaviorSanitizer in its own build
# directory, then the threads test (4 checking threads, a 5th reloading in
# a loop) built with ThreadSanitizer in another. Prints one line
# "N passed, N failed" for both runs together; exits non-zero on any
# failure or sanitizer report.
#
#   scripts/test-sanitize.sh [ASAN_BUILD_DIR] [TSAN_BUILD_DIR]
#   TSAN_SECONDS=N   make the threads test a soak of at least N seconds
#
# Why these settings (docs/RELIABILITY.md):
# - -fno-sanitize-recover=all: a UBSan finding aborts the test instead of
#   printing a line that nobody reads.
# - -Db_lundef=false: meson's -Wl,--no-undefined cannot link a shared
#   library against the sanitizer runtimes.
# - debugoptimized: the optimiser is on (as in release, so the code under
#   test is the code that ships) and stack traces have line numbers.
# - The TSan build is separate because TSan cannot be combined with ASan.
set -uo pipefail
cd "$(dirname "$0")/.."
ASAN_BUILD=${1:-build-asan}
TSAN_BUILD=${2:-build-tsan}

setup() { # build dir, source dir, meson options...
    local dir=$1 src=$2
    shift 2
    if [ ! -f "$dir/build.ninja" ]; then
        mkdir -p "$dir"
        meson setup "$dir" "$src" --buildtype=debugoptimized -Db_lundef=false "$@" \
            >"$dir/setup.log" 2>&1 || { cat "$dir/setup.log"; exit 2; }
    fi
}

# ASan/UBSan: on a copy of the tree whose shipped policies have generous
# budgets (scripts/slow-tree.sh says why); the build is in $ASAN_BUILD/build.
bash scripts/slow-tree.sh "$ASAN_BUILD/src"
ASAN_SRC=$ASAN_BUILD/src
ASAN_BUILD=$ASAN_BUILD/build
setup "$ASAN_BUILD" "$ASAN_SRC" -Db_sanitize=address,undefined \
    -Dc_args=-fno-sanitize-recover=all -Dcpp_args=-fno-sanitize-recover=all
ninja -C "$ASAN_BUILD" >"$ASAN_BUILD/build-output.txt" 2>&1 || {
    tail -n 40 "$ASAN_BUILD/build-output.txt"; echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1
export LSAN_OPTIONS=${LSAN_OPTIONS:-}

# Sanitizers make checks 2-10x slower; meson's per-suite timeouts stay
# generous (x3). No test depends on a check finishing within a budget
# except on fixture routes with 1 s budgets.
# Left out: the bench suite (its allocation count relies on a malloc
# interposer, which cannot coexist with ASan's own malloc) and the
# bindings suite (Python and Node load the instrumented library into an
# interpreter that is not, which ASan refuses), and the eval suite (a
# policy-quality gate that make test already runs; the sanitized copy of
# the tree has no ../shared beside it). Everything else runs,
# including the Python-driven CLI tests: they run the instrumented CLI.
meson test -C "$ASAN_BUILD" --no-rebuild --print-errorlogs --num-processes 2 \
    --no-suite bench --no-suite bindings --no-suite eval --timeout-multiplier 3 \
    >"$ASAN_BUILD/test-output.txt" 2>&1
asan_status=$?
grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|ERROR|TIMEOUT)' "$ASAN_BUILD/test-output.txt" | awk '!seen[$0]++' || true
grep -m 5 -E '(Sanitizer|runtime error)' "$ASAN_BUILD/meson-logs/testlog.txt" || true

# TSan: the threads test uses fixtures only, so the tree itself will do.
setup "$TSAN_BUILD" . -Db_sanitize=thread -Dtools=false
ninja -C "$TSAN_BUILD" tests/test_threads >"$TSAN_BUILD/build-output.txt" 2>&1 || {
    tail -n 40 "$TSAN_BUILD/build-output.txt"; echo "0 passed, 1 failed"; exit 1; }
# -t 0: no meson timeout when a soak was asked for.
tmul=4
[ -n "${TSAN_SECONDS:-}" ] && tmul=0
# gcc 12's TSan cannot map its shadow memory when the kernel randomises
# mmap with more than 28 bits (newer kernels default to 32): run the test
# without ASLR then, where the container allows it.
wrap=()
bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
if [ "$bits" -gt 28 ] && setarch "$(uname -m)" -R true 2>/dev/null; then
    wrap=(--wrapper "setarch $(uname -m) -R")
fi
RG_THREADS_SECONDS=${TSAN_SECONDS:-} meson test -C "$TSAN_BUILD" --no-rebuild \
    --print-errorlogs -t "$tmul" "${wrap[@]}" threads >"$TSAN_BUILD/test-output.txt" 2>&1
tsan_status=$?
grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|ERROR|TIMEOUT)' "$TSAN_BUILD/test-output.txt" | awk '!seen[$0]++' || true
grep -m 5 -E 'ThreadSanitizer' "$TSAN_BUILD/meson-logs/testlog.txt" || true
grep -h -E '^checks [0-9]+' "$TSAN_BUILD/meson-logs/testlog.txt" | sed 's/^/tsan threads: /' || true

python3 scripts/test-summary.py "$ASAN_BUILD/meson-logs/testlog.json" "$asan_status" \
    "$TSAN_BUILD/meson-logs/testlog.json" "$tsan_status"
