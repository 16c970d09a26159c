#!/usr/bin/env bash
# make fuzz: build the libFuzzer targets with clang (ASan + UBSan + fuzzer
# coverage) in their own build directory and run each for FUZZ_SECONDS.
# Fails on any crash, leak, sanitizer report, invariant violation or
# timeout (an input that takes longer than FUZZ_TIMEOUT seconds).
#
#   scripts/fuzz.sh [SECONDS] [BUILD_DIR]     (defaults 60, build-fuzz)
#   FUZZ_TARGETS="check redact"   only these (default: all seven)
#   FUZZ_JOBS=2                   targets run two at a time
#   FUZZ_TIMEOUT=25               seconds one input may take
#
# Seeds come from tests/fuzz/corpus/<target>/ (read only); what a run
# learns goes to BUILD_DIR/corpus/<target>/ and is reused by the next run.
# A failing input is saved as BUILD_DIR/artifacts/<target>/crash-* (or
# leak-*, timeout-*); reproduce with BUILD_DIR/tests/fuzz/fuzz_<target> FILE.
# One line per target: runs, coverage (cov: edges, ft: features), corpus.
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
BUILD=${2:-build-fuzz}
TARGETS=${FUZZ_TARGETS:-"policy check redact normalize batch stream literals"}
JOBS=${FUZZ_JOBS:-1}
TIMEOUT=${FUZZ_TIMEOUT:-25}

bash scripts/install-deps.sh clang libclang-rt-14-dev || exit 2

if [ ! -f "$BUILD/build.ninja" ]; then
    mkdir -p "$BUILD"
    # -fsanitize=fuzzer-no-link: coverage instrumentation for the whole
    # library; the targets add -fsanitize=fuzzer (tests/fuzz/meson.build).
    CC=clang CXX=clang++ meson setup "$BUILD" -Dfuzz=true -Dtests=false \
        -Dpython=disabled -Dnode=disabled --buildtype=debugoptimized \
        -Db_lundef=false -Db_sanitize=address,undefined \
        "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
        "-Dcpp_args=-fno-sanitize-recover=all" >"$BUILD/setup.log" 2>&1 || {
        cat "$BUILD/setup.log"; exit 2; }
fi
ninja -C "$BUILD" >"$BUILD/build-output.txt" 2>&1 || {
    tail -n 40 "$BUILD/build-output.txt"; exit 2; }

# The shipped policies with 10 s budgets: fuzz_check explores what the
# policies find, not the 2 ms deadline (scripts/slow-tree.sh says why).
rm -rf "$BUILD/policies-fuzz"
cp -r policies "$BUILD/policies-fuzz"
python3 - "$BUILD/policies-fuzz" <<'EOF'
import pathlib, re, sys
for f in pathlib.Path(sys.argv[1]).glob("*.y*ml"):
    s = f.read_text(encoding="utf-8")
    f.write_text(re.sub(r"^(\s*budget_us:\s*)\d+", r"\g<1>10000000", s, flags=re.M), encoding="utf-8")
EOF
export RG_FUZZ_POLICIES=$(cd "$BUILD/policies-fuzz" && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

max_len() {
    case $1 in
        policy) echo 16384 ;;
        check|batch) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

run_target() {
    local t=$1
    local exe=$BUILD/tests/fuzz/fuzz_$t
    local log=$BUILD/fuzz-$t.log
    mkdir -p "$BUILD/corpus/$t" "$BUILD/artifacts/$t"
    local dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    "$exe" -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" -rss_limit_mb=3072 \
        -max_len="$(max_len "$t")" -print_final_stats=1 \
        -artifact_prefix="$BUILD/artifacts/$t/" "${dict[@]}" \
        "$BUILD/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
    local st=$?
    # "#123 DONE cov: 1 ft: 2 corp: 3/4b ... exec/s: 5 rss: 6Mb"
    local last
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    if [ $st -eq 0 ]; then
        echo "fuzz $t: ok, ${last:-no stats}"
    else
        echo "fuzz $t: FAILED (exit $st), ${last:-no stats}"
        grep -m 3 -E 'ERROR|invariant failed|runtime error|Test unit written' "$log" | sed 's/^/  /'
        echo "  log: $log"
    fi
    return $st
}

failed=0
pids=()
names=()
for t in $TARGETS; do
    if [ "$JOBS" -gt 1 ]; then
        run_target "$t" &
        pids+=($!)
        names+=("$t")
        if [ ${#pids[@]} -ge "$JOBS" ]; then
            wait "${pids[0]}" || failed=$((failed + 1))
            pids=("${pids[@]:1}")
        fi
    else
        run_target "$t" || failed=$((failed + 1))
    fi
done
for p in "${pids[@]}"; do
    wait "$p" || failed=$((failed + 1))
done
n=$(echo $TARGETS | wc -w)
echo "fuzz: $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
