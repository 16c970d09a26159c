#!/usr/bin/env python3
"""Render `replyguard report` in headless Chromium and check the charts.

Usage: report_browser_test.py REPLYGUARD TESTS_DIR SCRIPTS_DIR OUT_DIR

Generates a sample audit (scripts/gen-audit-sample.py, built-in replies so
the result does not depend on ../shared), builds the report, then:
  1. loads a copy of the page from a file in Chromium (--headless
     --no-sandbox --disable-gpu --no-first-run --disable-background-networking
     --disable-component-update --disable-sync, fresh --user-data-dir) with a
     small script appended that measures every <svg> (the copy also drops the
     page's Content-Security-Policy, which would block that script; layout is
     the same), and reads the measurements back with --dump-dom: every chart
     must exist and have a non-zero size and drawn shapes;
  2. takes a screenshot of the unmodified page (OUT_DIR/report.png) and
     checks it is a PNG of the requested size.
Skipped (exit 77, with a message) when Chromium is not installed:
`scripts/install-deps.sh chromium` installs it, and `make test` tries to.
Ends with "N passed, N failed".
"""
import json, os, re, shutil, struct, subprocess, sys, tempfile

EXE, TESTS, SCRIPTS, OUT = sys.argv[1:5]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or \
    shutil.which("chromium-browser")
if not CHROMIUM:
    print("SKIP: Chromium is not installed, so the report's browser test is skipped "
          "(install it with: scripts/install-deps.sh chromium)")
    sys.exit(77)

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + what)
    else:
        failed += 1
        print("FAIL " + what)


def chromium(args, workdir):
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", "--disable-dev-shm-usage",
            "--user-data-dir=" + os.path.join(workdir, "profile-%d" % len(os.listdir(workdir)))]
    p = subprocess.run(base + args, capture_output=True, timeout=180, cwd=workdir)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


work = tempfile.mkdtemp(prefix="rg-browser-")
os.makedirs(OUT, exist_ok=True)
sample = subprocess.run([sys.executable, os.path.join(SCRIPTS, "gen-audit-sample.py"),
                         "-n", "1500", "--sgd", "/nonexistent"],
                        capture_output=True, check=True).stdout
audit = os.path.join(work, "audit.jsonl")
subprocess.run([EXE, "batch", "-p", os.path.join(TESTS, "policies", "observe"),
                "--audit", audit, "--audit-redacted"], input=sample,
               stdout=subprocess.DEVNULL, check=True, timeout=120)
page = os.path.join(work, "report.html")
subprocess.run([EXE, "report", audit, "-o", page], check=True, timeout=120)
html = open(page, encoding="utf-8").read()
n_svg = html.count("<svg")
check(n_svg >= 10, "the page has %d charts (>= 10 expected)" % n_svg)

# 1. measure every chart in the browser
MEASURE = """<script>
(function () {
  var out = [];
  document.querySelectorAll('svg').forEach(function (s) {
    var r = s.getBoundingClientRect();
    out.push({label: s.getAttribute('aria-label'), w: r.width, h: r.height,
              shapes: s.querySelectorAll('rect,polyline,circle,line').length});
  });
  var pre = document.createElement('pre');
  pre.id = 'rg-measure';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""
probe = os.path.join(work, "probe.html")
ph = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
ph = ph.replace("</body>", MEASURE + "</body>")
open(probe, "w", encoding="utf-8").write(ph)
rc, dom, err = chromium(["--window-size=1400,3000", "--dump-dom", "file://" + probe], work)
check(rc == 0, "chromium --dump-dom exits 0 (%d)" % rc)
m = re.search(r'<pre id="rg-measure">(.*?)</pre>', dom, re.S)
check(m is not None, "the measuring script ran")
charts = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&")) if m else []
check(len(charts) == n_svg, "every <svg> is in the DOM (%d of %d)" % (len(charts), n_svg))
for c in charts:
    check(c["w"] > 50 and c["h"] > 20 and c["shapes"] > 0,
          "chart %r rendered %.0fx%.0f with %d shapes" % (c["label"], c["w"], c["h"], c["shapes"]))
labels = [c["label"] for c in charts]
for want in ["Verdicts by Route", "Verdicts by Channel", "Verdicts by Persona",
             "Not-allowed rate by route and channel", "Top detectors",
             "Latency histogram", "Checks over time by verdict",
             "Not-allowed rate over time by route"]:
    check(want in labels, "chart %r present" % want)

# 2. screenshot of the page as shipped (with its CSP)
shot = os.path.join(OUT, "report.png")
if os.path.exists(shot):
    os.unlink(shot)
rc, _, err = chromium(["--window-size=1280,2400", "--screenshot=" + shot,
                       "file://" + page], work)
ok = rc == 0 and os.path.exists(shot)
check(ok, "screenshot written to %s" % shot)
if ok:
    data = open(shot, "rb").read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is a PNG")
    w, h = struct.unpack(">II", data[16:24])
    check((w, h) == (1280, 2400), "the screenshot is 1280x2400 (%dx%d)" % (w, h))
    check(len(data) > 50000, "the screenshot is not blank (%d bytes)" % len(data))
shutil.rmtree(work, ignore_errors=True)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
