#!/usr/bin/env python3
"""Coverage of the golden conversation cases (docs/CONVERSATION.md).

Usage: conv_cases_test.py YAML2JSON CASES.yaml

`replyguard test` runs the cases (the cli-policy-tests-shipped suite); this
checks that the file keeps covering what the issue asks for and prints the
counts per trigger: at least 60 cases, and for every conversation trigger at
least one English and one Spanish case that fires it and one near-miss that
must not. Ends with "N passed, N failed" like every suite here.
"""
import collections
import json
import subprocess
import sys

TRIGGERS = ["handoff.user_request", "handoff.frustration", "handoff.loop",
            "handoff.topic", "compliance.prohibited", "compliance.missing_disclosure"]


def under(cat, prefix):
    return cat == prefix or cat.startswith(prefix + ".")


def main():
    yaml2json, path = sys.argv[1:3]
    out = subprocess.run([yaml2json, path], check=True, capture_output=True).stdout
    cases = json.loads(out)["cases"]
    fire = collections.defaultdict(collections.Counter)
    near = collections.Counter()
    for c in cases:
        lang = "es" if (c.get("locale") or "").startswith("es") else "en"
        for t in TRIGGERS:
            if c["expect"] != "allow" and any(under(x, t) for x in c.get("categories", [])):
                fire[t][lang] += 1
            if any(under(t, x) or under(x, t) for x in c.get("not_categories", [])):
                near[t] += 1
    failed = []
    print("%d golden conversation cases in %s" % (len(cases), path))
    print("%-32s %5s %5s %11s" % ("trigger", "en", "es", "near-miss"))
    for t in TRIGGERS:
        print("%-32s %5d %5d %11d" % (t, fire[t]["en"], fire[t]["es"], near[t]))
        if not fire[t]["en"] or not fire[t]["es"] or not near[t]:
            failed.append("%s lacks an English or Spanish firing case or a near-miss" % t)
    if len(cases) < 60:
        failed.append("fewer than 60 cases")
    for f in failed:
        print("FAIL: " + f)
    print("%d passed, %d failed" % (0 if failed else 1, 1 if failed else 0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
