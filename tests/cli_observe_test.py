#!/usr/bin/env python3
"""End-to-end test of `replyguard batch --metrics/--audit` and `replyguard
report` (docs/OBSERVABILITY.md). Usage: cli_observe_test.py REPLYGUARD TESTS_DIR

Prints one line per case and ends with "N passed, N failed".
"""
import json, os, re, subprocess, sys, tempfile

EXE, TESTS = sys.argv[1], sys.argv[2]
POL = os.path.join(TESTS, "policies", "observe")
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


def run(args, stdin=b""):
    p = subprocess.run([EXE] + args, input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


tmp = tempfile.mkdtemp(prefix="rg-observe-")
CARD = "4111 1111 1111 1111"
INPUT = [
    {"id": "a", "route": "default", "channel": "chat", "locale": "en-US",
     "labels": {"tenant": "acme", "persona": "ava", "conversation_id": "c-1"},
     "time": "2026-11-18T10:00:00Z", "reply": "Welcome aboard, Zanzibar traveller!"},
    {"id": "b", "route": "refunds", "channel": "voice", "locale": "en-GB",
     "labels": {"tenant": "globex", "persona": "max"},
     "time": 1795000000, "reply": "Quixotic: your card " + CARD + " is stored, damn."},
    {"id": 3, "route": "support", "channel": "sms",
     "time": "2026-11-18T12:06:40+01:00", "reply": "Mail Xylophone at bob@example.com, idiot"},
    {"id": "d", "route": "nope", "reply": "Marmalade"},
    {"id": "e", "reply": "bad labels", "labels": {"tenant": 5}},
    {"id": "f", "reply": "bad time", "time": "yesterday"},
    {"id": "g", "channel": "fax", "reply": "Plain Kumquat text"},
]
RAW = ("\n".join(json.dumps(o) for o in INPUT) + "\n{not json\n").encode()
# Words of the replies that must never reach an audit without opt-in.
SECRET_WORDS = ["Zanzibar", "Quixotic", "4111", "damn", "Xylophone", "bob@example",
                "idiot", "Marmalade", "Kumquat"]
SPANS = ["4111", "damn", "bob@example.com", "idiot"]


def batch(extra):
    m = os.path.join(tmp, "m.prom")
    a = os.path.join(tmp, "a.jsonl")
    for f in (m, a):
        if os.path.exists(f):
            os.unlink(f)
    rc, out, err = run(["batch", "-p", POL, "--metrics", m, "--audit", a] + extra, RAW)
    assert rc == 0, "batch exit %d: %s" % (rc, err)
    return out, open(m).read(), open(a, encoding="utf-8").read()


def audit_lines(text):
    return [json.loads(l) for l in text.splitlines()]


def test_batch_outputs():
    out, metrics, audit = batch([])
    assert len(out.splitlines()) == len(INPUT) + 1, "one output line per input"
    ev = audit_lines(audit)
    # checked: a, b, 3, d (unknown route: fail-safe, with status), g
    assert [e.get("id") for e in ev] == ["a", "b", 3, "d", "g"], [e.get("id") for e in ev]
    a, b, c, d, g = ev
    assert a["labels"] == {"tenant": "acme", "persona": "ava", "conversation_id": "c-1"}
    assert a["time"] == "2026-11-18T10:00:00.000000Z", a["time"]
    assert b["time"] == "2026-11-18T11:06:40.000000Z", b["time"]
    assert c["time"] == "2026-11-18T11:06:40.000000Z", c["time"]
    assert a["verdict"] == "allow" and a["channel"] == "chat" and a["locale"] == "en-US"
    assert b["verdict"] == "block" and b["route"] == "refunds"
    assert d["status"] == "NOROUTE" and d["route"] == "nope" and "failsafe" in d["flags"]
    assert g["channel"] == "fax" and g["labels"] == {}
    hits = {h["detector"]: (h["start"], h["end"]) for h in b["hits"]}
    reply_b = INPUT[1]["reply"].encode()
    s = reply_b.index(CARD.encode())
    assert hits["obs.card"] == (s, s + len(CARD)), hits
    assert b["reply_bytes"] == len(reply_b)
    for e in ev:
        assert "redacted" not in e, "redacted copy without opt-in"
        assert len(e["policy"]["hash"]) == 64
    for w in SECRET_WORDS:
        assert w not in audit, "audit holds reply text %r" % w


def metric(text, series):
    for line in text.splitlines():
        if line.startswith(series + " "):
            return int(line.split()[-1])
    raise AssertionError("no sample " + series)


def test_metrics_file():
    _, m, _ = batch([])
    assert "# TYPE replyguard_checks_total counter" in m
    assert "# TYPE replyguard_check_duration_seconds histogram" in m
    assert metric(m, 'replyguard_checks_total{route="default",verdict="allow",channel="chat"}') == 1
    assert metric(m, 'replyguard_checks_total{route="refunds",verdict="block",channel="voice"}') == 1
    assert metric(m, 'replyguard_checks_total{route="support",verdict="handoff",channel="sms"}') == 1
    assert metric(m, 'replyguard_checks_total{route="default",verdict="allow",channel="other"}') == 1
    assert metric(m, 'replyguard_check_errors_total{status="NOROUTE"}') == 1
    assert metric(m, 'replyguard_category_hits_total{category="pii.payment_card",action="block"}') == 1
    assert metric(m, 'replyguard_category_hits_total{category="pii.email",action="none"}') == 1
    assert metric(m, 'replyguard_check_duration_seconds_count{route="default"}') == 2
    total = sum(int(l.split()[-1]) for l in m.splitlines()
                if l.startswith("replyguard_checks_total{"))
    assert total == 4, total
    for w in SECRET_WORDS + ["nope"]:
        assert w not in m, "metrics hold %r" % w


def test_redacted_opt_in():
    _, _, audit = batch(["--audit-redacted"])
    ev = audit_lines(audit)
    by = {e["id"]: e for e in ev}
    assert by["b"]["redacted"] == ("Quixotic: your card [pii.payment_card] is stored, "
                                   "[toxicity.profanity]."), by["b"]["redacted"]
    # support cuts at 64 bytes: this reply is shorter, so it has a copy
    assert by[3]["redacted"] == "Mail Xylophone at [pii.email], [toxicity.insult]"
    assert "redacted" not in by["d"], "no copy for an unknown route"
    for w in SPANS:
        assert w not in audit, "detected span %r in the audit" % w


def test_usage_errors():
    rc, _, err = run(["batch", "-p", POL, "--audit-redacted"], b"")
    assert rc == 2 and "--audit" in err, (rc, err)
    rc, _, err = run(["batch", "-p", POL, "--audit", "/nonexistent/dir/a.jsonl"], b"")
    assert rc == 2 and "audit" in err, (rc, err)
    rc, _, err = run(["batch", "-p", POL, "--metrics"], b"")
    assert rc == 2, rc


def test_report():
    _, _, audit = batch([])
    a = os.path.join(tmp, "a.jsonl")
    with open(a, "a", encoding="utf-8") as f:
        f.write("garbage line\n")
    h = os.path.join(tmp, "r.html")
    rc, out, err = run(["report", a, "-o", h])
    assert rc == 0, (rc, err)
    assert "1 of 6 lines are not audit events" in err, err
    page = open(h, encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") >= 8, page.count("<svg")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=""", page, re.I), "external reference"
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page), "a URL other than the SVG namespace"
    for w in SECRET_WORDS:
        assert w not in page, "report holds reply text %r" % w
    for want in ["Verdicts by slice", "Where it fails", "Top detectors", "Latency",
                 "The long tail", "obs.card", "refunds", "max"]:
        assert want in page, want
    # no redacted copies in the audit: the page says so
    assert "holds no redacted copies" in page


def test_report_redacted_and_escaping():
    _, _, audit = batch(["--audit-redacted"])
    a = os.path.join(tmp, "a2.jsonl")
    lines = audit.splitlines()
    ev = json.loads(lines[1])
    ev["labels"]["persona"] = "<script>alert(1)</script>"
    ev["redacted"] = "x <b>&</b> y"
    lines[1] = json.dumps(ev)
    open(a, "w", encoding="utf-8").write("\n".join(lines) + "\n")
    rc, page, err = run(["report", a])  # stdout
    assert rc == 0, (rc, err)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "x &lt;b&gt;&amp;&lt;/b&gt; y" in page
    assert "holds no redacted copies" not in page


def test_report_errors():
    rc, _, err = run(["report", os.path.join(tmp, "missing.jsonl")])
    assert rc == 2 and "cannot read" in err, (rc, err)
    rc, _, err = run(["report"])
    assert rc == 2, rc
    rc, out, _ = run(["report", "--help"])
    assert rc == 0 and "Usage" in out
    # an empty audit still makes a page
    e = os.path.join(tmp, "empty.jsonl")
    open(e, "w").close()
    rc, page, err = run(["report", e])
    assert rc == 0 and "0 checks" in page, (rc, err)


for name, fn in list(globals().items()):
    if name.startswith("test_") and callable(fn):
        case(name, fn)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
