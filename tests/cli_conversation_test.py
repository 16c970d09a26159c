#!/usr/bin/env python3
"""`replyguard check` and `batch` with a conversation (docs/CLI.md,
docs/CONVERSATION.md): --user, --history TEXT, --history FILE (an existing
file's path reads the file), --history-file, several history files at once,
and the handoff context in JSON output, which never carries the customer's
words or a detected span. Uses the tests/policies/conv fixture (big budget:
timing-independent). Ends with one line 'N passed, N failed'.

Usage: cli_conversation_test.py REPLYGUARD TESTS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

CLI, TESTS = sys.argv[1], sys.argv[2]
FIX = f"{TESTS}/policies/conv"
Q = "Which city are you flying from today?"
CARD = "4111 1111 1111 1111"
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name} {detail}")


def run(*args, stdin=None):
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, timeout=120)


def check_json(*args):
    p = run("check", "-p", FIX, "--json", *args)
    try:
        return p, json.loads(p.stdout)
    except ValueError:
        return p, {}


with tempfile.TemporaryDirectory() as tmp:
    twice = os.path.join(tmp, "twice.txt")
    with open(twice, "w") as f:
        f.write(f"{Q}\r\n\n{Q}\n")  # CRLF and an empty line are accepted
    once = os.path.join(tmp, "once.txt")
    with open(once, "w") as f:
        f.write(Q + "\n")

    p, j = check_json("--history", twice, Q)
    check("--history FILE reads the file (two earlier asks: a loop)",
          p.returncode == 0 and j.get("verdict") == "handoff"
          and any(h["detector"] == "loop.repeat" and h.get("source") == "conversation"
                  for h in j.get("hits", [])), p.stdout + p.stderr)
    p, j2 = check_json("--history-file", twice, Q)
    check("--history-file FILE: the same answer", j2.get("verdict") == "handoff"
          and j2.get("hits") == j.get("hits"), p.stdout)
    p, j = check_json("--history", Q, "--history", Q, Q)
    check("--history TEXT twice: the same answer", j.get("verdict") == "handoff", p.stdout)
    p, j = check_json("--history", Q, Q)
    check("one earlier ask is not a loop (repeats: 2)", j.get("verdict") == "allow", p.stdout)
    p, j = check_json("--history-file", once, "--history", once, Q)
    check("two history files add up (each file's replies kept)",
          j.get("verdict") == "handoff", p.stdout + p.stderr)
    p = run("explain", "-p", FIX, "--history", twice, Q)
    check("explain --history FILE: the same reading of history as check",
          p.returncode == 0 and "handoff" in p.stdout and "loop.repeat" in p.stdout,
          p.stdout + p.stderr)
    p = run("check", "-p", FIX, "--history-file", os.path.join(tmp, "missing.txt"), Q)
    check("--history-file of a missing file: usage error, exit 2",
          p.returncode == 2 and "cannot open" in p.stderr, p.stderr)

    p, j = check_json("--user", f"agent please, my card is {CARD}", "Let me check.")
    hits = j.get("hits", [])
    ctx = j.get("handoff_context")
    check("--user: the customer's request hands off, hits say where they were found",
          j.get("verdict") == "handoff"
          and any(h["detector"] == "ask_human" and h.get("source") == "user_message" for h in hits)
          and any(h["detector"] == "card" and h.get("source") == "user_message" for h in hits),
          p.stdout)
    ctx_text = json.dumps(ctx)
    check("check --json: a handoff carries handoff_context without the customer's words",
          isinstance(ctx, dict) and ctx.get("verdict") == "handoff"
          and "agent please" not in ctx_text and CARD not in ctx_text, ctx_text)
    p, j = check_json("Your card " + CARD + " is on file.")
    check("check --json: no handoff_context when the verdict is not handoff",
          j.get("verdict") == "allow" and "handoff_context" not in j, p.stdout)

    line = json.dumps({"id": "c1", "reply": "Sure.", "user_message": "I want a real person",
                       "history": [Q, Q]})
    p = run("batch", "-p", FIX, stdin=line + "\n")
    try:
        b = json.loads(p.stdout)
    except ValueError:
        b = {}
    bctx = json.dumps(b.get("handoff_context"))
    check("batch: user_message and history; handoff_context without the user's words",
          b.get("verdict") == "handoff" and b.get("handoff_context")
          and "real person" not in bctx, p.stdout + p.stderr)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
