#!/usr/bin/env python3
"""Detection-quality evaluation of a replyguard policy set (`make eval`).

Reads the labelled cases under tests/eval/ (JSON Lines, any depth), checks
every case with `replyguard batch`, and prints precision and recall per
labelled category, per language and overall; then the verdicts of route
`default` (and any --route given) on the benign corpus of real assistant
replies (../shared/data/agent_replies_sgd_train.txt); then the policy
compile time reported by `replyguard lint`.

Case format (one JSON object per line):

  {"id": "tox-en-001", "text": "...", "route": "default", "lang": "en",
   "labels": ["toxicity.insult"], "note": "..."}

`route` is optional (default: default). `labels` are the categories the
check MUST detect; an empty list is a hard negative. A category counts as
detected (the rule is documented in docs/QUALITY.md):

  - toxicity.*, and every category outside pii.* / secret.*: the category's
    own verdict is handoff or block, i.e. one of the result's reasons for that
    category has action handoff or block. A hit that only gets reported
    protects nobody.
  - pii.* and secret.*: a hit of that category is reported with a score
    above 0 (redaction and audits act on hits, whatever the route's
    thresholds; a hit a context: rule set to 0 is listed but acts on
    nothing).

A label matches a detected category equal to it or below it at a dot
boundary (label pii.national_id matches pii.national_id.es_dni). For a
labelled category C, a case is a true positive when C is labelled and
detected, a false negative when labelled and not detected, and a false
positive when detected but not labelled.

--check compares the figures with tests/eval/floors.json (minimum precision
and recall per row, maximum benign block/handoff counts, maximum compile
time) and exits 1 if any is worse; it ends with one line
"eval: N passed, N failed" (one per floor). --write-floors rewrites that
file just under (or over, for the benign counts) the figures measured now.

Python 3 standard library only.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP = ("toxicity", "pii", "secret", "compliance", "handoff")
HIT_RULE_PREFIXES = ("pii", "secret")
# Targets from the issue; rows below them are marked, floors are separate.
TARGETS = {
    "toxicity": {"recall": 0.90},
    "pii": {"precision": 0.98, "recall": 0.95},
    "secret": {"precision": 0.98, "recall": 0.95},
}
BENIGN_TARGETS = {"block": 0.001, "handoff": 0.005}
ID_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")
CAT_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


def die(msg, status=2):
    print(f"eval: {msg}", file=sys.stderr)
    sys.exit(status)


def uses_hit_rule(cat):
    return cat.split(".", 1)[0] in HIT_RULE_PREFIXES


def covers(label, cat):
    """label covers cat: equal, or cat is below label at a dot boundary."""
    return cat == label or cat.startswith(label + ".")


def load_cases(eval_dir):
    cases, seen, errors = [], {}, []
    files = []
    for dirpath, dirnames, filenames in os.walk(eval_dir):
        dirnames.sort()
        for fn in sorted(filenames):
            if fn.endswith(".jsonl"):
                files.append(os.path.join(dirpath, fn))
    if not files:
        die(f"no *.jsonl files under {eval_dir}")
    for path in files:
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{rel}:{lineno}"
                try:
                    c = json.loads(line)
                except ValueError as e:
                    errors.append(f"{where}: not JSON: {e}")
                    continue
                if not isinstance(c, dict):
                    errors.append(f"{where}: not an object")
                    continue
                unknown = set(c) - {"id", "text", "route", "lang", "labels", "note"}
                if unknown:
                    errors.append(f"{where}: unknown keys {sorted(unknown)}")
                cid, text, labels = c.get("id"), c.get("text"), c.get("labels")
                if not isinstance(cid, str) or not ID_RE.match(cid):
                    errors.append(f"{where}: bad or missing id")
                    continue
                if cid in seen:
                    errors.append(f"{where}: duplicate id {cid} (first at {seen[cid]})")
                seen[cid] = where
                if not isinstance(text, str) or not text:
                    errors.append(f"{where}: {cid}: text must be a non-empty string")
                if c.get("lang") not in ("en", "es"):
                    errors.append(f"{where}: {cid}: lang must be \"en\" or \"es\"")
                if "route" in c and not isinstance(c["route"], str):
                    errors.append(f"{where}: {cid}: route must be a string")
                if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
                    errors.append(f"{where}: {cid}: labels must be a list of strings")
                    continue
                for lab in labels:
                    if not CAT_RE.match(lab) or lab.split(".")[0] not in TOP:
                        errors.append(f"{where}: {cid}: bad label {lab!r}")
                c["_file"] = rel
                cases.append(c)
    if errors:
        for e in errors[:50]:
            print(e, file=sys.stderr)
        die(f"{len(errors)} malformed case(s)")
    return cases, files


def run_batch(rg, policies, lines, extra_args=()):
    """Runs replyguard batch; returns the output objects, in order."""
    cmd = [rg, "batch", "-p", policies, *extra_args]
    data = "".join(lines).encode("utf-8") if isinstance(lines[0], str) else b"".join(lines)
    p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode("utf-8", "replace"))
        die(f"{' '.join(cmd)} exited {p.returncode}")
    out = [json.loads(l) for l in p.stdout.decode("utf-8").splitlines()]
    if len(out) != len(lines):
        die(f"batch wrote {len(out)} lines for {len(lines)} inputs")
    return out


def retry_failsafes(rg, policies, inputs, outputs, extra_args=(), rounds=3):
    """Re-checks the inputs whose verdict came from a fail-safe (a latency
    budget overrun on a busy machine is timing, not detection), up to
    `rounds` times, so machine load cannot move the quality figures."""
    for _ in range(rounds):
        idx = [i for i, o in enumerate(outputs) if "failsafe" in (o.get("flags") or [])]
        if not idx:
            break
        again = run_batch(rg, policies, [inputs[i] for i in idx], extra_args)
        for i, o in zip(idx, again):
            outputs[i] = o
    return outputs


def detected(result):
    """Categories the result counts as detected (see the module comment)."""
    found = set()
    for r in result.get("reasons") or []:
        cat = r.get("category", "")
        if not uses_hit_rule(cat) and r.get("action") in ("handoff", "block"):
            found.add(cat)
    for h in result.get("hits") or []:
        cat = h.get("category", "")
        # A hit at score 0 was dropped by its context: rule ("still listed",
        # docs/POLICY_FORMAT.md): it never redacts, hands off or blocks.
        if uses_hit_rule(cat) and (h.get("score") or 0) > 0:
            found.add(cat)
    return found


def ratio(a, b):
    return a / b if b else None


def fmt(x):
    return "-" if x is None else f"{x:.3f}"


def target_of(row, metric):
    return TARGETS.get(row.split(".")[0], {}).get(metric)


def score_cases(cases, outputs):
    """Per (row, lang) counts. Rows: every label used, plus '<top> (any)'."""
    rows = sorted({lab for c in cases for lab in c["labels"]})
    tops = sorted({r.split(".")[0] for r in rows})
    stats = defaultdict(lambda: Counter())
    misses = []
    for c, out in zip(cases, outputs):
        if "error" in out and "verdict" not in out:
            die(f"{c['id']}: batch error: {out['error']}")
        det = detected(out)
        c["_detected"] = det
        c["_verdict"] = out.get("verdict")
        c["_failsafe"] = "failsafe" in (out.get("flags") or [])
        for row in rows + [f"{t} (any)" for t in tops]:
            if row.endswith(" (any)"):
                t = row[:-6]
                actual = any(covers(t, lab) for lab in c["labels"])
                pred = any(covers(t, d) for d in det)
            else:
                actual = any(covers(row, lab) for lab in c["labels"])
                pred = any(covers(row, d) for d in det)
            if not actual and not pred:
                continue
            kind = "tp" if actual and pred else ("fn" if actual else "fp")
            for lang in (c["lang"], "all"):
                stats[(row, lang)][kind] += 1
            if kind != "tp" and not row.endswith(" (any)"):
                misses.append((kind, row, c))
    return rows, tops, stats, misses


def hard_negative_summary(cases):
    """Verdicts of the cases labelled with nothing (hard negatives), by language."""
    by = defaultdict(Counter)
    for c in cases:
        if not c["labels"]:
            v = "failsafe" if c.get("_failsafe") else c["_verdict"]
            by[c["lang"]][v] += 1
            by["all"][v] += 1
    return by


def obfuscation_summary(cases):
    """Recall over the labels of the generated obfuscated cases, per transform
    (the first word of the note, as scripts/gen-obfuscated-eval.py writes it)."""
    by = defaultdict(Counter)
    for c in cases:
        if "-obf-" not in c["id"] or not c["labels"]:
            continue
        kind = (c.get("note") or "?").split()[0]
        for lab in c["labels"]:
            hit = any(covers(lab, d) for d in c["_detected"])
            for k in (kind, "all"):
                by[k]["cases"] += 0
                by[k]["labels"] += 1
                by[k]["tp"] += hit
        by[kind]["n"] += 1
        by["all"]["n"] += 1
    rows = []
    for k in sorted(by, key=lambda k: (k == "all", k)):
        v = by[k]
        rows.append([k, v["n"], v["labels"], v["tp"], fmt(ratio(v["tp"], v["labels"]))])
    # The same cases before obfuscation, for comparison.
    sources = {m.group(1) for c in cases if "-obf-" in c["id"]
               for m in [re.search(r"variant of (\S+)", c.get("note") or "")] if m}
    n = labels = tp = 0
    for c in cases:
        if c["id"] in sources:
            n += 1
            for lab in c["labels"]:
                labels += 1
                tp += any(covers(lab, d) for d in c["_detected"])
    if n:
        rows.append(["(the same cases, plain)", n, labels, tp, fmt(ratio(tp, labels))])
    return rows


def benign(rg, policies, corpus, route):
    with open(corpus, "rb") as f:
        data = f.read()
    n = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    t0 = time.monotonic()
    p = subprocess.run([rg, "batch", "-p", policies, "-r", route, "--lines"],
                       input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    secs = time.monotonic() - t0
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode("utf-8", "replace"))
        die(f"benign batch on route {route} exited {p.returncode}")
    verdicts, cats = Counter(), Counter()
    lines = p.stdout.decode("utf-8").splitlines()
    if len(lines) != n:
        die(f"benign batch wrote {len(lines)} lines for {n} inputs")
    outs = [json.loads(l) for l in lines]
    raw = data.split(b"\n")
    outs = retry_failsafes(rg, policies, [r + b"\n" for r in raw[:n]], outs,
                           ("-r", route, "--lines"))
    for o in outs:
        v = o.get("verdict")
        # A fail-safe (the check ran out of its latency budget on a loaded
        # machine, or failed) is not a detection decision: counted apart, so
        # CI load cannot fail the quality floors.
        if "failsafe" in (o.get("flags") or []):
            verdicts["failsafe"] += 1
            continue
        verdicts[v] += 1
        if v in ("handoff", "block"):
            for r in o.get("reasons") or []:
                if r.get("action") == v:
                    cats[(v, r.get("category"))] += 1
    return n, verdicts, cats, secs


def compile_time_ms(rg, policies):
    p = subprocess.run([rg, "lint", "-p", policies], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        die("lint failed")
    m = re.search(r"compiled in ([0-9.]+) (µs|us|ms|s)\b", p.stdout)
    pats = re.search(r"(\d+) patterns", p.stdout)
    ms = None
    if m:
        ms = float(m.group(1)) * {"µs": 0.001, "us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    return ms, (int(pats.group(1)) if pats else None), p.stdout.strip()


def table(headers, rows, markdown):
    if markdown:
        out = ["| " + " | ".join(headers) + " |",
               "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
        out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    line = lambda r: "  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w)
                               for i, (x, w) in enumerate(zip(r, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replyguard", default=None,
                    help="the CLI (default: $BUILD/tools/replyguard, BUILD defaulting to build)")
    ap.add_argument("-p", "--policies", default=os.path.join(ROOT, "policies"))
    ap.add_argument("--eval-dir", default=os.path.join(ROOT, "tests", "eval"))
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(ROOT), "shared", "data",
                                                      "agent_replies_sgd_train.txt"))
    ap.add_argument("--route", action="append", default=None,
                    help="benign-corpus route (repeatable; default: default)")
    ap.add_argument("--floors", default=os.path.join(ROOT, "tests", "eval", "floors.json"))
    ap.add_argument("--check", action="store_true", help="fail (exit 1) below the floors")
    ap.add_argument("--write-floors", nargs="*", metavar="PREFIX", default=None,
                    help="rewrite the floors from the figures measured now: every floor, or "
                         "only the rows of the given category prefixes (toxicity, pii, secret) "
                         "and 'benign' / 'compile'; other floors are kept")
    ap.add_argument("--markdown", action="store_true", help="tables in Markdown")
    ap.add_argument("--misses", action="store_true",
                    help="list every false negative and false positive (id, labels, detected, text)")
    ap.add_argument("--no-corpus", action="store_true", help="skip the benign corpus")
    ap.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    a = ap.parse_args()

    rg = a.replyguard or os.path.join(ROOT, os.environ.get("BUILD") or "build", "tools", "replyguard")
    if not os.access(rg, os.X_OK):
        die(f"{rg}: not an executable (build first, or pass --replyguard)")
    routes = a.route or ["default"]
    md = a.markdown

    cases, files = load_cases(a.eval_dir)
    inputs = [json.dumps({"id": c["id"], "reply": c["text"], "route": c.get("route", "default")},
                         ensure_ascii=False) + "\n" for c in cases]
    outputs = retry_failsafes(rg, a.policies, inputs, run_batch(rg, a.policies, inputs))
    rows, tops, stats, misses = score_cases(cases, outputs)
    figures = {"rows": {}, "benign": {}, "compile_ms": None}

    n_pos = sum(1 for c in cases if c["labels"])
    langs = Counter(c["lang"] for c in cases)
    print(f"Evaluation set: {len(cases)} cases in {len(files)} files under "
          f"{os.path.relpath(a.eval_dir, ROOT)}/ ({n_pos} with labels, {len(cases) - n_pos} hard "
          f"negatives; " + ", ".join(f"{k} {v}" for k, v in sorted(langs.items())) + ")")
    print()
    body = []
    for row in [f"{t} (any)" for t in tops] + rows:
        for lang in ("all", "en", "es"):
            s = stats.get((row, lang))
            if not s:
                continue
            tp, fn, fp = s["tp"], s["fn"], s["fp"]
            p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
            figures["rows"][f"{row}|{lang}"] = {"tp": tp, "fn": fn, "fp": fp, "precision": p, "recall": r}
            mark = ""
            for metric, val in (("precision", p), ("recall", r)):
                t = target_of(row.replace(" (any)", ""), metric)
                if t is not None and val is not None and val < t and lang == "all":
                    mark += f" {metric}<{t}"
            rule = "hit" if uses_hit_rule(row.split(" ")[0]) else "verdict"
            body.append([row, lang, tp + fn, tp, fn, fp, fmt(p), fmt(r), rule + mark])
    print(table(["category", "lang", "labelled", "TP", "FN", "FP", "precision", "recall",
                 "detected by / below target"], body, md))

    hn = hard_negative_summary(cases)
    if hn:
        print()
        print("Hard negatives (cases with no label): verdicts")
        hb = []
        for lang in ("all", "en", "es"):
            if lang in hn:
                v = hn[lang]
                tot = sum(v.values())
                hb.append([lang, tot, v["allow"], v["handoff"], v["block"], v["failsafe"],
                           fmt(ratio(v["allow"], tot))])
        print(table(["lang", "cases", "allow", "handoff", "block", "fail-safe", "allow rate"], hb, md))

    obf = obfuscation_summary(cases)
    if obf:
        print()
        print("Obfuscated variants (ids with -obf-): recall of their labels, by transform")
        print(table(["transform", "cases", "labels", "detected", "recall"], obf, md))

    if a.misses:
        print()
        print("Misses:")
        for kind, row, c in sorted(misses, key=lambda m: (m[1], m[0], m[2]["id"])):
            print(f"  {kind.upper()} {row:<22} {c['id']:<16} labels={','.join(c['labels']) or '-'} "
                  f"detected={','.join(sorted(c['_detected'])) or '-'} verdict={c['_verdict']}")
            print(f"       {json.dumps(c['text'], ensure_ascii=False)[:160]}")

    if not a.no_corpus:
        if not os.path.isfile(a.corpus):
            die(f"benign corpus {a.corpus} not found (pass --corpus PATH or --no-corpus)")
        print()
        print(f"Benign replies: {os.path.relpath(a.corpus, ROOT)}")
        bb = []
        for route in routes:
            n, v, cats, secs = benign(rg, a.policies, a.corpus, route)
            figures["benign"][route] = {"lines": n, "block": v["block"], "handoff": v["handoff"],
                                        "allow": v["allow"], "failsafe": v["failsafe"]}
            flags = []
            if v["block"] / n > BENIGN_TARGETS["block"]:
                flags.append(f"block>{BENIGN_TARGETS['block']:.1%}")
            if v["handoff"] / n > BENIGN_TARGETS["handoff"]:
                flags.append(f"handoff>{BENIGN_TARGETS['handoff']:.1%}")
            why = "; ".join(f"{k[0]} {k[1]} {c}" for k, c in cats.most_common(6)) or "-"
            bb.append([route, n, v["allow"], f"{v['handoff']} ({v['handoff'] / n:.3%})",
                       f"{v['block']} ({v['block'] / n:.3%})", v["failsafe"], " ".join(flags) or "ok", why])
        print(table(["route", "replies", "allow", "handoff", "block", "fail-safe", "targets",
                     "by category"], bb, md))

    ms, pats, lint_line = compile_time_ms(rg, a.policies)
    figures["compile_ms"] = ms
    print()
    print(f"Policy compile (replyguard lint, this machine, load included): "
          f"{ms:.0f} ms, {pats} patterns" if ms is not None else "Policy compile: not reported")

    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=1, sort_keys=True)

    if a.write_floors is not None:
        write_floors(a.floors, figures, a.write_floors)
        print(f"\nwrote {os.path.relpath(a.floors, ROOT)}")
    if a.check:
        return check_floors(a.floors, figures, a.no_corpus)
    return 0


def floor_down(x):
    """Just under a measured figure: 3 decimals, rounded down, minus 0.001."""
    return max(0.0, math.floor(x * 1000) / 1000 - 0.001) if x is not None else None


def write_floors(path, fig, prefixes):
    try:
        with open(path, encoding="utf-8") as f:
            floors = json.load(f)
    except (OSError, ValueError):
        floors = {}
    everything = not prefixes
    mine = lambda key: everything or any(covers(p, key.split("|")[0].replace(" (any)", ""))
                                         for p in prefixes)
    floors["_comment"] = ("Written by scripts/eval.py --write-floors [PREFIX...] from the figures "
                          "measured then: precision/recall floors just under them (row|lang), "
                          "benign replies and compile time as ceilings just over them. make eval "
                          "and the 'eval' meson test fail when a figure is worse. Rewrite only "
                          "with a reason (docs/QUALITY.md).")
    for metric in ("precision", "recall"):
        old = floors.get(metric, {})
        new = {k: v for k, v in old.items() if not mine(k)}
        for key, r in fig["rows"].items():
            if mine(key) and r[metric] is not None:
                new[key] = floor_down(r[metric])
        floors[metric] = dict(sorted(new.items()))
    if everything or "benign" in prefixes:
        floors["benign_max"] = {}
        for route, b in sorted(fig["benign"].items()):
            floors["benign_max"][route] = {"lines": b["lines"],
                                          "block": b["block"] + max(5, b["block"] // 10),
                                          "handoff": b["handoff"] + max(20, b["handoff"] // 10)}
    if (everything or "compile" in prefixes) and fig["compile_ms"] is not None:
        # Compile time varies with the machine and its load: generous, but it
        # still catches a pattern that explodes Hyperscan's compiler.
        # Compile time is reported, never gated: speed belongs to the
        # benchmarks (make bench), not to a pass/fail test on a busy machine.
        floors.pop("compile_ms_max", None)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(floors, f, indent=1, sort_keys=True)
        f.write("\n")


def check_floors(path, fig, no_corpus):
    try:
        with open(path, encoding="utf-8") as f:
            floors = json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read floors {path}: {e}")
    passed = failed = 0
    fails = []
    for metric in ("precision", "recall"):
        for key, floor in sorted(floors.get(metric, {}).items()):
            r = fig["rows"].get(key)
            val = r[metric] if r else None
            if val is not None and val >= floor - 1e-9:
                passed += 1
            else:
                failed += 1
                fails.append(f"{metric} of {key}: {fmt(val)} < floor {floor:.3f}")
    if not no_corpus:
        for route, m in sorted(floors.get("benign_max", {}).items()):
            b = fig["benign"].get(route)
            if b is None:
                failed += 1
                fails.append(f"benign route {route}: not measured (add --route {route})")
                continue
            if m.get("lines") not in (None, b["lines"]):
                failed += 1
                fails.append(f"benign corpus has {b['lines']} replies, the floors were set on "
                             f"{m['lines']}: rewrite them (--write-floors benign)")
                continue
            for k in ("block", "handoff"):
                if b[k] <= m[k]:
                    passed += 1
                else:
                    failed += 1
                    fails.append(f"benign {k} on route {route}: {b[k]} replies > ceiling {m[k]}")
    cmax = floors.get("compile_ms_max")
    if cmax is not None and fig["compile_ms"] is not None:
        if fig["compile_ms"] <= cmax:
            passed += 1
        else:
            failed += 1
            fails.append(f"compile time {fig['compile_ms']} ms > ceiling {cmax} ms")
    print()
    for f in fails:
        print(f"REGRESSION: {f}")
    print(f"eval: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
