#!/usr/bin/env bash
# bench/profile.sh [BUILD] [OUT] — where the time of a check goes
# (docs/PERFORMANCE.md, "Profile").
#
#   callgrind  exact, reproducible instruction counts inside rg_check
#              (--toggle-collect=rg_check, so policy compile and the harness
#              are left out), on 5,000 short replies and 300 long ones; one
#              warm-up pass + one timed and one untimed pass, so the one-off
#              first check is 1 in 15,001 (short) or 901 (long) checks. Summarised by
#              bench/cg-summary.py. Under valgrind Hyperscan runs its AVX2
#              code, not AVX-512.
#   callgrind  also on rg-bench-baseline scan: each Hyperscan database alone
#              (raw, normalized, compacted views) over the same lines.
#   perf       cpu-clock samples (hardware counters are not exposed on this
#              VM) of the bench worker thread only (comm rg-bench-1), over
#              the full short and long corpora, native AVX-512 code.
#
# Needs the corpora of `make bench` (built here if missing), valgrind, perf.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${2:-$BUILD/bench/profile}
RG=$BUILD/tools/replyguard
C=$BUILD/bench/corpora
mkdir -p "$OUT"
[ -f "$C/short.txt" ] || python3 bench/make-corpora.py "$C"
# Under valgrind a check runs ~50x slower: with the shipped 2 ms budget, long
# replies would stop at the deadline and the profile would miss the stages
# after it. Profile a copy of the policy set with 10 s budgets (as
# scripts/slow-tree.sh does for sanitizer runs); nothing else differs.
rm -rf "$OUT/policies"
cp -r policies "$OUT/policies"
sed -i -E 's/^([[:space:]]*budget_us:[[:space:]]*)[0-9]+/\110000000/' "$OUT"/policies/*.y*ml
head -n 5000 "$C/short.txt" >"$OUT/short5k.txt"
head -n 300 "$C/long.txt" >"$OUT/long300.txt"

cp "$C/adversarial/term_spaced.txt" "$OUT/term_spaced.txt" 2>/dev/null || true
for set in short5k:5000 long300:300 term_spaced:32; do
    [ -f "$OUT/${set%%:*}.txt" ] || continue
    name=${set%%:*}
    n=${set##*:}
    echo "== callgrind: $name"
    valgrind --tool=callgrind --toggle-collect=rg_check \
        --callgrind-out-file="$OUT/callgrind.$name.out" \
        "$RG" bench -p "$OUT/policies" --repeat 1 "$OUT/$name.txt" >"$OUT/callgrind.$name.log" 2>&1
    python3 bench/cg-summary.py "$OUT/callgrind.$name.out" $((3 * n + 1)) | tee "$OUT/summary.$name.txt"
done

# Hyperscan per database (view): the baseline scans each database alone
# through its own non-inlined function; instructions per line.
for set in short5k:5000 long300:300; do
    name=${set%%:*}
    n=${set##*:}
    echo "== callgrind: Hyperscan per database, $name (instructions per line)"
    valgrind --tool=callgrind --toggle-collect='scan_db_*' \
        --callgrind-out-file="$OUT/callgrind.scan.$name.out" \
        "$BUILD/bench/rg-bench-baseline" scan -p "$OUT/policies" -n 1 "$OUT/$name.txt" \
        >"$OUT/callgrind.scan.$name.log" 2>&1
    callgrind_annotate --inclusive=yes "$OUT/callgrind.scan.$name.out" 2>/dev/null |
        awk -v n="$n" '/scan_db_/ { gsub(",", "", $1); split($0, a, "scan_db_");
            split(a[2], b, " "); printf "  %-11s %8.0f Ir/line\n", b[1], $1 / n }' |
        tee "$OUT/summary.scan.$name.txt"
done

if perf record -o /dev/null -e cpu-clock true >/dev/null 2>&1; then
    for set in short:5 long:20; do
        name=${set%%:*}
        rep=${set##*:}
        echo "== perf: $name"
        perf record -q -e cpu-clock -F 10000 -o "$OUT/perf.$name.data" \
            "$RG" bench -p policies --repeat "$rep" "$C/$name.txt" >/dev/null 2>&1
        # Samples of the worker thread only (the main thread compiles the
        # policy set), as % of the worker's samples.
        for sort in dso dso,sym; do
            perf report -i "$OUT/perf.$name.data" --stdio --no-children --sort "comm,$sort" \
                2>/dev/null | awk 'BEGIN { n = 0 } $2 == "rg-bench-1" { pc = $1; sub("%", "", pc); t += pc;
                    line = $0; sub(/^ *[0-9.]+% +rg-bench-1 +/, "", line); r[n] = line;
                    p[n++] = pc } END { for (i = 0; i < n && i < 25; i++)
                    printf "  %5.1f%%  %s\n", 100 * p[i] / t, r[i] }' |
                tee "$OUT/perf.$name.${sort/,/-}.txt"
        done
    done
else
    echo "perf: cannot record cpu-clock samples here; skipped"
fi
echo "profiles in $OUT"
