#!/usr/bin/env python3
"""Summarise a callgrind profile of `replyguard bench` (bench/profile.sh).

  cg-summary.py CALLGRIND_OUT CHECKS

Prints, per check: total instructions; a ranked list of functions by self
cost (Hyperscan's stripped internals summed into one row, since libhs has no
symbols beyond its API); and the inclusive cost of the pipeline stages that
matter for optimisation. Instruction counts (Ir) are what callgrind measures
exactly and reproducibly; they are not time (memory stalls, AVX-512 versus
the AVX2 code Hyperscan runs under valgrind, clock reads in the vDSO).
"""
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*?):(\S+)(?:\s+\[(.*)\])?\s*$")

# Inclusive stages (function name -> label), in pipeline order.
STAGES = [
    ("rg__normalize", "normalized view (rg__normalize)"),
    ("rg__compact", "compacted view (rg__compact)"),
    ("rg__repair_utf8", "UTF-8 repair (rg__repair_utf8)"),
    ("avx2_hs_scan", "Hyperscan scans (hs_scan, all views; AVX2 path under valgrind)"),
    ("core2_hs_scan", "Hyperscan scans (hs_scan, core2 path)"),
    ("avx512_hs_scan", "Hyperscan scans (hs_scan, AVX-512 path)"),
    ("on_match", "  of which match callbacks (on_match)"),
    ("rg__word_before", "  of which word-edge checks (rg__word_before)"),
    ("rg__word_after", "  of which word-edge checks (rg__word_after)"),
    ("extract_spans", "PCRE2 span extraction (extract_spans)"),
    ("pcre2_match_8", "PCRE2 span extraction (pcre2_match, JIT code included)"),
    ("rg__validate", "validators (rg__validate)"),
    ("rg__resolve_hits", "allow lists, context, dedupe, sort (rg__resolve_hits)"),
    ("sort_raw", "hit sort (sort_raw)"),
    ("rg__decide", "scores, thresholds, result, redaction (rg__decide)"),
    ("rg__metrics_record", "metrics (rg__metrics_record)"),
    ("clock_gettime", "clock reads (clock_gettime)"),
    ("__memcpy_avx_unaligned_erms", "memcpy"),
    ("__strlen_avx2", "strlen"),
]


def annotate(path, inclusive):
    out = subprocess.run(["callgrind_annotate", "--inclusive=" + ("yes" if inclusive else "no"),
                          "--threshold=100", path], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    rows = []
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        fn, obj = m.group(4), m.group(5) or ""
        rows.append((ir, fn, obj))
    return rows


def short_obj(obj):
    return obj.rsplit("/", 1)[-1].split(".so")[0] if obj else "?"


def main():
    path, checks = sys.argv[1], int(sys.argv[2])
    selfc = annotate(path, False)
    incl = annotate(path, True)
    total = next((ir for ir, fn, obj in incl if fn == "rg_check"), None)
    if total is None:
        total = sum(ir for ir, _, _ in selfc)
    print("instructions per check: %.0f (%d checks, %s Ir in rg_check)"
          % (total / checks, checks, format(total, ",")))
    print()
    print("self cost, ranked (% of instructions inside rg_check):")
    agg = {}
    for ir, fn, obj in selfc:
        key = fn
        if fn.startswith("0x") and "libhs" in obj:
            key = "Hyperscan internals (libhs, stripped)"
        elif fn.startswith("0x") or fn == "???":
            key = ("JIT-compiled code (PCRE2 JIT, no symbols)" if not obj or obj == "???"
                   else "%s (stripped)" % short_obj(obj))
        else:
            key = "%s [%s]" % (fn, short_obj(obj))
        agg[key] = agg.get(key, 0) + ir
    ranked = sorted(agg.items(), key=lambda kv: -kv[1])
    for i, (k, ir) in enumerate(ranked[:20], 1):
        print("%3d. %5.1f%%  %7.0f Ir/check  %s" % (i, 100.0 * ir / total, ir / checks, k))
    print()
    print("inclusive cost of pipeline stages:")
    inc = {}
    for ir, fn, obj in incl:
        inc[fn] = max(inc.get(fn, 0), ir)
    for fn, label in STAGES:
        if fn in inc:
            print("  %5.1f%%  %7.0f Ir/check  %s" % (100.0 * inc[fn] / total, inc[fn] / checks,
                                                   label))
    return 0


if __name__ == "__main__":
    sys.exit(main())
