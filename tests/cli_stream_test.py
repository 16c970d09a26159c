#!/usr/bin/env python3
"""`replyguard stream` end to end (docs/CLI.md, docs/STREAMING.md): one
JSON object per input line, offsets in the whole stream, what goes out is
what is safe, the final line agrees with `replyguard batch` on the whole
reply. Ends with one line 'N passed, N failed'.

Usage: cli_stream_test.py REPLYGUARD TESTS_DIR
"""
import json
import subprocess
import sys

CLI, TESTS = sys.argv[1], sys.argv[2]
FIX = f"{TESTS}/policies/stream"
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name} {detail}")


def stream(lines, *args):
    inp = "".join(json.dumps(x) + "\n" if not isinstance(x, str) else x + "\n" for x in lines)
    p = subprocess.run([CLI, "stream", "-p", FIX, *args], input=inp.encode(),
                       capture_output=True, timeout=120)
    out = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    return p, out


def batch(reply, route="default"):
    p = subprocess.run([CLI, "batch", "-p", FIX, "-r", route],
                       input=(json.dumps({"reply": reply}) + "\n").encode(),
                       capture_output=True, timeout=120)
    return json.loads(p.stdout.decode())


# A card cut across chunks: held back, then released masked.
chunks = ["Your card 41", "11 1111 11", "11 1111 is on", " file."]
p, out = stream([{"chunk": c} for c in chunks] + [{"end": True}])
check("exit 0", p.returncode == 0, p.stderr.decode())
check("one object per input line", len(out) == 5, str(len(out)))
check("fields", all({"verdict", "safe_bytes", "bytes", "text", "hits", "flags"} <= set(o)
                    for o in out))
released = "".join(o["text"] for o in out)
check("released text is masked", released == "Your card [card] is on file.", released)
check("no digit goes out early", all("4111" not in "".join(o["text"] for o in out[:k])
                                     for k in range(1, 6)))
check("safe_bytes never decreases",
      all(a["safe_bytes"] <= b["safe_bytes"] for a, b in zip(out, out[1:])))
check("bytes counts the stream", [o["bytes"] for o in out] == [12, 22, 35, 41, 41])
final = out[-1]
check("final line", final.get("final") is True and "final" not in out[0])
whole = batch("".join(chunks))
check("final verdict = batch verdict", final["verdict"] == whole["verdict"])
check("final hits = batch hits",
      [(h["detector"], h["start"], h["end"]) for h in final["hits"]] ==
      [(h["detector"], h["start"], h["end"]) for h in whole["hits"]])
check("final redacted = batch redacted", final.get("redacted") == whole["redacted"],
      repr(final.get("redacted")))

# A slur cut in two blocks, and nothing more goes out; EOF closes.
p, out = stream([{"chunk": "you slur"}, {"chunk": "word and"}] +
                [{"chunk": " more"}] * 12)
check("EOF closes the stream", out[-1].get("final") is True and len(out) == 15)
check("block", out[-1]["verdict"] == "block")
check("nothing after the block", "".join(o["text"] for o in out) == "you ")
check("hit offsets in the whole stream",
      [(h["detector"], h["start"], h["end"]) for h in out[-1]["hits"]] == [("s.slur", 4, 12)])

# A bad line is reported and the stream goes on.
p, out = stream(['{"chunk": 5}', "not json", {"chunk": "hello "}, {"end": True}])
check("bad lines get an error object", "error" in out[0] and "error" in out[1])
check("the stream goes on", out[2]["text"] == "hello " and out[3]["final"])
check("no input text in error messages", "not json" not in json.dumps(out[1]))

# Routes.
p, out = stream([{"chunk": "4111 1111 1111 1111 is it"}, {"end": True}], "-r", "refunds")
check("route refunds blocks a card", out[-1]["verdict"] == "block")
p, out = stream([{"end": True}], "-r", "no-such-route")
check("unknown route: exit 2", p.returncode == 2 and b"unknown route" in p.stderr)
p = subprocess.run([CLI, "stream", "--help"], capture_output=True, timeout=60)
check("--help", p.returncode == 0 and b"Usage: replyguard stream" in p.stdout)
p = subprocess.run([CLI, "stream", "extra"], capture_output=True, timeout=60)
check("stray argument: exit 2", p.returncode == 2)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
