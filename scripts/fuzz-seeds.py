#!/usr/bin/env python3
"""Regenerate the fuzzers' seed corpora, tests/fuzz/corpus/<target>/, from
the policy fixtures, the shipped policy set and the golden and policy test
cases, plus hand-written hostile inputs. Seeds are named by content hash,
so running this again only adds what is new. The corpora are committed;
run this when fixtures or test cases change substantially.

Usage: scripts/fuzz-seeds.py   (from anywhere)
"""
import glob, hashlib, json, os, sys

import yaml  # python3-yaml (Debian); only this maintenance script needs it

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
SEP = b"\n#%%lexicon\n"  # fuzz_policy.c: YAML, then lexicons/fuzz.txt
MAX = 16384              # keep seeds small: the fuzzers mutate them


def put(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def replies():
    out = []
    for path in glob.glob(os.path.join(ROOT, "policies", "tests", "*.yaml")) + \
            glob.glob(os.path.join(ROOT, "tests", "golden", "*.yaml")):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f) or {}
        for c in doc.get("cases", []) or []:
            if isinstance(c, dict) and isinstance(c.get("reply"), str):
                out.append(c["reply"].encode("utf-8"))
    return out


HOSTILE = [
    b"", b"\x00", b"\xff\xfe\xfd", b"\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf",
    b"\xed\xa0\x80\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"d\xe2\x80\x8ba\xe2\x80\x8bm\xe2\x80\x8bn",
    "d\u0301a\u0301m\u0301n\u0301".encode(), "\uff24\uff41\uff4d\uff4e".encode(),
    "\u0430ss h\u043ble".encode(), b"f u c k", b"f.u.c.k", b"sh1t $hit @ss", b"fuuuuuck",
    b"4111 1111 1111 1111", b"4111-1111-1111-1111 and 5500 0000 0000 0004",
    b"jane.doe@example.com, 415-555-0132, key=ABCDEFGHIJKL", b"the the the the",
    b"damn good damn damn", b"kill yourself", b"\t\r\n\v\f \xc2\xa0\xe3\x80\x80",
    "\ufdfa\u33ff\ufb01".encode(), bytes(range(256)),
]


def main():
    # policy: fixtures, shipped files, the fuzz policy; with lexicons
    pol = glob.glob(os.path.join(ROOT, "tests", "policies", "*", "*.yaml")) + \
        glob.glob(os.path.join(ROOT, "policies", "*.yaml")) + \
        glob.glob(os.path.join(ROOT, "tests", "fuzz", "policies", "*", "*.yaml"))
    for path in pol:
        with open(path, "rb") as f:
            data = f.read()
        put("policy", data)
        # the same policy with its first lexicon's content behind the
        # separator, the lexicon path rewritten to lexicons/fuzz.txt
        lexdir = os.path.dirname(path)
        for line in data.decode("utf-8", "replace").splitlines():
            s = line.strip()
            if s.startswith("lexicon:"):
                rel = s.split(":", 1)[1].strip().strip("'\"")
                lp = os.path.join(lexdir, rel)
                if os.path.isfile(lp) and os.path.getsize(lp) < 4096:
                    with open(lp, "rb") as f:
                        lex = f.read()
                    put("policy", data.replace(rel.encode(), b"lexicons/fuzz.txt") + SEP + lex)
                break
    put("policy", b"detectors:\n  - id: a\n    category: toxicity.profanity\n"
                  b"    lexicon: lexicons/en.txt\n    score: 0.5\nroutes:\n  default:\n"
                  b"    categories:\n      toxicity: { block: 0.4 }\n")
    put("policy", b"detectors:\n  - {id: l, category: toxicity.insult, lexicon: lexicons/fuzz.txt,"
                  b" score: 0.6}\nroutes:\n  default: {categories: {toxicity: {handoff: 0.5}}}\n"
                  + SEP + b"# terms\nnitwit\t0.9\nnumb skull\n@$$\n")

    texts = replies() + HOSTILE
    for i, t in enumerate(texts):
        # check: byte 0 route, byte 1 options (fuzz_check.c)
        put("check", bytes([i % 7, i % 16]) + t)
        put("redact", t)
        put("normalize", t)
    put("check", bytes([0, 1]) + b"the user said damn\xffthe reply is fine")

    # batch: JSON Lines (and 'L' + raw lines)
    lines = []
    for i, t in enumerate(texts[:40]):
        obj = {"id": i, "reply": t.decode("utf-8", "replace")}
        if i % 3 == 0:
            obj["route"] = ["default", "refunds", "tiny", "instant", "open", "nosuch"][i % 6]
        if i % 4 == 0:
            obj["user_message"] = "please help, damn"
            obj["history"] = ["earlier reply", "another"]
        if i % 5 == 0:
            obj["labels"] = {"tenant": "acme", "persona": "ava"}
            obj["time"] = "2026-11-18T10:00:00Z"
        if i % 7 == 0:
            obj["channel"] = "voice"
            obj["locale"] = "en-US"
        lines.append(json.dumps(obj, ensure_ascii=(i % 2 == 0)))
    for k in range(0, len(lines), 5):
        put("batch", "J" + "\n".join(lines[k:k + 5]) + "\n")
    put("batch", 'J{"reply": 5}\n{"id": {"x": 1}, "reply": "a"}\n\n[1,2]\n{"reply": "a", "history": "x"}\n'
                 '{"reply": "\\u0000card 4111 1111 1111 1111", "route": "refunds"}\n{"reply": "x", "time": "yesterday"}\n'
                 '{"reply": "x", "labels": {"a": 1}}\n{"reply":"x"')
    put("batch", b"L" + b"\n".join(t for t in texts[:30] if b"\n" not in t) + b"\r\n\xff\n")
    print("seeds in", OUT, {t: len(os.listdir(os.path.join(OUT, t))) for t in sorted(os.listdir(OUT))})


if __name__ == "__main__":
    sys.exit(main())
