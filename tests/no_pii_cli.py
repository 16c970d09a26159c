#!/usr/bin/env python3
"""No PII at rest, CLI side (docs/RELIABILITY.md): whatever goes wrong while
the CLI handles a reply that carries PII -- unknown route, policy errors and
warnings, usage errors, bad batch lines, invalid UTF-8, a spent budget --
its stderr, the batch's error lines, its audit log and its metrics never
contain the text of a detected span. (stdout of a successful check is the
result itself, which may show spans to the person who asked.)

Usage: no_pii_cli.py REPLYGUARD TESTS_DIR
Prints one line per case and ends with "N passed, N failed".
"""
import json, os, shutil, subprocess, sys, tempfile

EXE, TESTS = sys.argv[1], sys.argv[2]
POL = os.path.join(TESTS, "policies", "pii")
BROKEN = os.path.join(TESTS, "policies", "broken")
CARD = "4929 3867 5012 6636"
EMAIL = "jane.q.doe@examplemail.com"
SECRETS = [CARD, CARD.replace(" ", ""), EMAIL, "jane.q.doe"]
REPLY = "Card " + CARD + ", mail " + EMAIL + ", damn."
passed = failed = 0


def case(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print("ok   " + name)
    except AssertionError as e:
        failed += 1
        print("FAIL " + name + ": " + str(e))
    except Exception as e:  # a crash of the harness is a failure too
        failed += 1
        print("FAIL " + name + ": " + repr(e))


def run(args, stdin=b""):
    p = subprocess.run([EXE] + args, input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def clean(what, data):
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    for s in SECRETS:
        assert s not in data, "%s contains %r: %s" % (what, s, data[:400])


tmp = tempfile.mkdtemp(prefix="rg-nopii-")
# A copy of the fixture with a pattern Hyperscan cannot take: loading it
# prints warnings (and a note about them) on stderr.
WARN = os.path.join(tmp, "warn")
shutil.copytree(POL, WARN)
with open(os.path.join(WARN, "zz-extra.yaml"), "w", encoding="utf-8") as f:
    f.write("detectors:\n  - id: p.behind\n    category: secret.api_key\n"
            "    regex: '(?<=key=)[A-Z]{8}'\n    score: 0.9\n")


def check_stderr(args, stdin=b"", want_rc=None):
    rc, out, err = run(args, stdin)
    clean("stderr", err)
    if want_rc is not None:
        assert rc == want_rc, "exit %d, expected %d; stderr: %s" % (rc, want_rc, err[:300])
    return rc, out, err


case("check: ordinary", lambda: check_stderr(["check", "-p", POL, REPLY], want_rc=0))
case("check: unknown route", lambda: check_stderr(["check", "-p", POL, "-r", "nosuch", REPLY], want_rc=2))
case("check: stdin with invalid UTF-8",
     lambda: check_stderr(["check", "-p", POL, "-"], b"\xff" + REPLY.encode() + b"\xc0\xaf\x00", want_rc=0))
case("check: policy error", lambda: check_stderr(["check", "-p", BROKEN, REPLY], want_rc=2))
case("check: policy warnings", lambda: check_stderr(["check", "-p", WARN, REPLY], want_rc=0))
case("check: two texts (usage error)", lambda: check_stderr(["check", "-p", POL, REPLY, REPLY], want_rc=2))
case("check: unknown option", lambda: check_stderr(["check", "-p", POL, "--bogus", REPLY], want_rc=2))
case("check: budget exceeded",
     lambda: check_stderr(["check", "-p", POL, "-r", "instant", "--json", "-"],
                          (REPLY + " lorem" * 200000).encode(), want_rc=0))
case("check: oversize", lambda: check_stderr(["check", "-p", POL, "-r", "tiny", REPLY], want_rc=0))
case("check: conversation fields",
     lambda: check_stderr(["check", "-p", POL, "--user", REPLY, "--history", REPLY, REPLY], want_rc=0))
case("check: missing policy directory",
     lambda: check_stderr(["check", "-p", os.path.join(tmp, "nope"), REPLY], want_rc=2))


def batch_errors():
    lines = [
        json.dumps({"id": "ok", "reply": REPLY}),
        '{"id": "bad-json", "reply": "' + REPLY + '", }',
        '{"id": "truncated", "reply": "' + REPLY,
        '["' + REPLY + '"]',
        '"' + REPLY + '"',
        json.dumps({"id": "num", "reply": 5, "user_message": REPLY}),
        json.dumps({"id": "route", "reply": REPLY, "route": "nosuch"}),
        json.dumps({"id": "hist", "reply": REPLY, "history": [REPLY, 7]}),
        json.dumps({"id": "chan", "reply": REPLY, "channel": "a\u0000" + REPLY}),
        json.dumps({"id": "labels", "reply": REPLY, "labels": [REPLY]}),
        json.dumps({"reply": REPLY, "id": {"nested": REPLY}}),
        "",
        REPLY,
    ]
    data = ("\n".join(lines) + "\n").encode() + b'{"reply": "\xff' + REPLY.encode() + b'"}\n'
    rc, out, err = run(["batch", "-p", POL], data)
    clean("stderr", err)
    assert rc == 0, "exit %d" % rc
    outs = out.decode("utf-8", "replace").splitlines()
    assert len(outs) == len(lines) + 1, "%d output lines for %d input lines" % (len(outs), len(lines) + 1)
    errors = 0
    for o in outs:
        obj = json.loads(o)
        if "error" in obj:
            errors += 1
            clean("batch error line", o)
    assert errors >= len(lines) - 1, "only %d error lines" % errors


case("batch: bad lines", batch_errors)


def batch_lines_mode():
    data = b"\xff" + REPLY.encode() + b"\n" + REPLY.encode() + b"\x00\xc0\n"
    rc, out, err = run(["batch", "-p", POL, "--lines"], data)
    clean("stderr", err)
    assert rc == 0


case("batch --lines: invalid UTF-8 and NULs", batch_lines_mode)
case("batch: unknown default route", lambda: check_stderr(["batch", "-p", POL, "-r", "nosuch"],
                                                          (json.dumps({"reply": REPLY}) + "\n").encode(), want_rc=2))
case("batch: unexpected argument", lambda: check_stderr(["batch", "-p", POL, REPLY], b"", want_rc=2))


def batch_audit_and_metrics(redacted):
    def fn():
        audit = os.path.join(tmp, "audit%d.jsonl" % redacted)
        metrics = os.path.join(tmp, "metrics%d.txt" % redacted)
        lines = [json.dumps({"id": i, "route": r, "reply": REPLY, "user_message": REPLY,
                             "labels": {"tenant": "acme"}})
                 for i, r in enumerate(["default", "refunds", "tiny", "instant", "nosuch", "open"])]
        lines.append(json.dumps({"id": "long", "route": "instant", "reply": REPLY + " lorem" * 100000}))
        args = ["batch", "-p", POL, "--audit", audit, "--metrics", metrics]
        if redacted:
            args.append("--audit-redacted")
        rc, out, err = run(args, ("\n".join(lines) + "\n").encode())
        clean("stderr", err)
        assert rc == 0, "exit %d: %s" % (rc, err[:300])
        with open(audit, encoding="utf-8", errors="replace") as f:
            a = f.read()
        assert a.count("\n") >= len(lines) - 1, "audit has %d events" % a.count("\n")
        clean("audit log", a)
        with open(metrics, encoding="utf-8", errors="replace") as f:
            clean("metrics", f.read())
    return fn


case("batch --audit --metrics", batch_audit_and_metrics(0))
case("batch --audit-redacted", batch_audit_and_metrics(1))

shutil.rmtree(tmp, ignore_errors=True)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
