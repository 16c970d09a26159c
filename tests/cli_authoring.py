#!/usr/bin/env python3
"""The policy-author verbs end to end (docs/AUTHORING.md):
lint exit codes, explain, test (unknown categories), replay, compile,
watch, and the README's worked example (tighten a threshold -> replay
shows the change -> test passes -> ship).

Usage: cli_authoring.py REPLYGUARD TESTS_DIR POLICIES_DIR
Prints one line per check and a final "N passed, N failed".
"""
import json, os, re, shutil, subprocess, sys, tempfile, time

passed = failed = 0


def report(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"FAIL - {what}{': ' + str(detail)[:2000] if detail else ''}")


def run(*args, stdin=None, env=None):
    e = dict(os.environ)
    e.pop("RG_CACHE_DIR", None)
    e.update(env or {})
    return subprocess.run([CLI, *args], input=stdin, capture_output=True,
                          text=True, env=e, timeout=600)


def main():
    global CLI
    CLI, tests, shipped = sys.argv[1:4]
    fx = lambda name: os.path.join(tests, "policies", name)
    tmp = tempfile.mkdtemp(prefix="rg-authoring.")
    try:
        # ---- lint -------------------------------------------------------
        r = run("lint", fx("basic"))
        report(r.returncode == 0 and " ok: " in r.stdout, "lint: clean fixture exits 0", r.stderr)
        r = run("lint", fx("lint_warn"))
        report(r.returncode == 0 and "13 warnings" in r.stdout, "lint: warnings only exit 0",
               r.stdout + r.stderr)
        r = run("lint", "--strict", fx("lint_warn"))
        report(r.returncode == 1, "lint --strict: warnings only exit 1", r.returncode)
        lines = [l for l in r.stderr.splitlines() if ": warning: " in l]
        locs = [tuple(map(int, re.match(r"[^:]+:(\d+):(\d+):", l).groups())) for l in lines]
        report(locs == sorted(locs) and len(lines) == 13,
               "lint: every warning as file:line:column, in file order", lines)
        r = run("lint", "--strict", fx("lint_errors"))
        errs = [l for l in r.stderr.splitlines() if ": error: " in l]
        report(r.returncode == 2 and len(errs) == 4 and "4 errors" in r.stderr,
               "lint: structural, semantic and syntax errors in one run, exit 2", r.stderr)
        r = run("lint", shipped)
        report(r.returncode in (0, 1) and " ok: " in r.stdout, "lint: shipped policies load",
               r.stderr[-2000:])

        # ---- explain ----------------------------------------------------
        r = run("explain", "-p", fx("shadow"), "-r", "strict", "darn it")
        out = r.stdout
        report(r.returncode == 0 and "reply       [darn](1) it" in out,
               "explain: hits bracketed when stdout is not a terminal", out)
        report("\x1b[" not in out, "explain: no colour when not a terminal")
        report("inherited from default" in out, "explain: inherited threshold names its route", out)
        report(re.search(r"verdict     handoff — decided by toxicity.profanity 0.50 ≥ handoff 0.40 "
                         r"\(rule toxicity of route default\)", out) is not None,
               "explain: the verdict and the rule that decided it", out)
        report(re.search(r"policy      version shadow-1, hash [0-9a-f]{12}", out) is not None,
               "explain: policy identity", out)
        report("shadow      block" in out and "shadow block  0.40  crossed" in out,
               "explain: shadow route's own threshold and shadow verdict", out)
        r = run("explain", "--color=always", "-p", fx("shadow"), "darn")
        report("\x1b[1;33mdarn\x1b[0m" in r.stdout, "explain --color=always highlights by severity",
               repr(r.stdout[:300]))
        r = run("explain", "-p", fx("shadow"), "-r", "nope", "x")
        report(r.returncode == 2 and "unknown route 'nope'" in r.stderr, "explain: unknown route exit 2")
        r = run("explain", "-p", fx("shadow"), "--color=sometimes", "x")
        report(r.returncode == 2, "explain: bad --color exit 2")
        r = run("explain", "-p", fx("shadow"), "safe \x01 text \x1b[31m")
        report("\\u0001" in r.stdout and "\x1b[31m" not in r.stdout,
               "explain: control characters of the reply are escaped", repr(r.stdout[:200]))

        # ---- test: unknown categories ----------------------------------
        tfile = os.path.join(tmp, "cases.yaml")
        with open(tfile, "w") as f:
            f.write("cases:\n  - name: typo\n    reply: hello\n    expect: allow\n"
                    "    not_categories: [pii.phon]\n")
        r = run("test", "-p", fx("shadow"), tfile)
        report(r.returncode == 2 and re.search(r"cases.yaml:5:22: error: unknown category 'pii.phon'",
                                               r.stderr) is not None,
               "test: an unknown category is an error with file:line:column", r.stderr)
        with open(tfile, "w") as f:
            f.write("cases:\n  - name: unscored\n    reply: hello\n    expect: allow\n"
                    "    not_categories: [pii.iban]\n    categories: [toxicity]\n"
                    "  - name: darn\n    reply: darn\n    expect: handoff\n"
                    "    categories: [toxicity.profanity]\n")
        r = run("test", "-p", fx("shadow"), tfile)
        report(r.returncode == 1 and "warning: no detector of the policy set scores 'pii.iban'" in r.stderr
               and "1 passed, 1 failed" in r.stdout,
               "test: a known but unscored category only warns; cases run", r.stdout + r.stderr)

        # ---- replay -----------------------------------------------------
        corpus = os.path.join(tmp, "corpus.jsonl")
        with open(corpus, "w") as f:
            for i in range(300):
                reply = ["Your order shipped.", "darn, the booking failed", "you nitwit",
                         "Card 1234567890123456 saved."][i % 4]
                f.write(json.dumps({"id": f"r{i}", "route": ["default", "strict"][(i // 4) % 2],
                                    "reply": reply}) + "\n")
            f.write("not json\n")
        r = run("replay", "--baseline", fx("shadow"), "-p", fx("shadow"), corpus)
        report(r.returncode == 0 and "\n0 changed\n" in r.stdout, "replay: same policy prints '0 changed'",
               r.stdout + r.stderr)
        report("errors      1 lines" in r.stdout and "line 301: invalid JSON" in r.stdout,
               "replay: bad lines are counted and located, not fatal", r.stdout)
        report(r.stderr == "", "replay: no progress bar when stderr is not a terminal", repr(r.stderr))
        newpol = os.path.join(tmp, "newpol")
        shutil.copytree(fx("shadow"), newpol)
        p = os.path.join(newpol, "policy.yaml")
        src = open(p).read()
        src = src.replace('version: "shadow-1"', 'version: "shadow-2"')
        src = src.replace("toxicity: { handoff: 0.4, block: 0.8 }",
                          "toxicity: { handoff: 0.4, block: 0.5 }")
        open(p, "w").write(src)
        r = run("replay", "--baseline", fx("shadow"), "-p", newpol, corpus)
        out = r.stdout
        report(r.returncode == 0 and "75 changed" in out and "handoff→block: 75" in out,
               "replay: a tightened threshold shows per transition", out)
        report("default: 38 changed of 152" in out and "strict: 37 changed of 148" in out,
               "replay: per route (the shadow route enforces its parent's change)", out)
        report("mild: 75" in out and "detectors: mild" in out, "replay: detectors responsible", out)
        report("version shadow-1" in out and "version shadow-2" in out,
               "replay: both policies named by version and hash", out)
        report("darn" not in out.split("examples")[1], "replay: no reply text without --show-text")
        report("shadow      the new policy's shadow rules would change" in out,
               "replay: shadow rules' would-be changes reported", out)
        r = run("replay", "--json", "--baseline", fx("shadow"), "-p", newpol, corpus)
        try:
            j = json.loads(r.stdout)
            ok = (j["changed"] == 75 and j["transitions"] == [{"from": "handoff", "to": "block", "count": 75}]
                  and j["baseline"]["version"] == "shadow-1" and j["new"]["version"] == "shadow-2"
                  and len(j["new"]["hash"]) == 64 and j["errors"] == 1
                  and j["examples"][0]["detectors"] == ["mild"] and j["shadow"]["changed"] > 0)
            report(ok, "replay --json", r.stdout[:1500])
        except ValueError as e:
            report(False, "replay --json is JSON", str(e))
        one = run("replay", "--json", "-t", "1", "--baseline", fx("shadow"), "-p", newpol, corpus)
        two = run("replay", "--json", "-t", "2", "--baseline", fx("shadow"), "-p", newpol, corpus)
        report(re.sub(r'"elapsed_ns":\d+', "", one.stdout) == re.sub(r'"elapsed_ns":\d+', "", two.stdout),
               "replay: the report does not depend on the number of threads")
        # The progress bar, when stderr is a terminal.
        # The bar appears only for runs longer than 200 ms, so the input is
        # sized from a timed run to last about a second on this machine.
        big = os.path.join(tmp, "big.jsonl")
        nbig = 150000

        def write_big(n):
            with open(big, "w") as f:
                for i in range(n):
                    f.write('{"reply": "darn it %d"}\n' % i)
        write_big(nbig)
        t = time.monotonic()
        run("replay", "-t", "1", "--baseline", fx("shadow"), "-p", newpol, big)
        t = time.monotonic() - t
        if t < 1.0:
            nbig = int(nbig * min(20.0, 1.0 / max(t, 0.05)) + 1)
            write_big(nbig)
        import pty
        master, slave = pty.openpty()
        p = subprocess.Popen([CLI, "replay", "-t", "1", "--baseline", fx("shadow"), "-p", newpol, big],
                             stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        out, _ = p.communicate(timeout=600)
        tty = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            tty += chunk
        os.close(master)
        report(p.returncode == 0 and b"% " in tty and b"replies" in tty and b"\x1b[K" in tty
               and ("%d replies" % nbig) in out,
               "replay: a progress bar on a terminal, cleared at the end", tty[-300:])
        r = run("replay", "--show-text", "-e", "1", "--baseline", fx("shadow"), "-p", newpol, corpus)
        report('reply:    "darn, the booking failed"' in r.stdout, "replay --show-text", r.stdout)
        r = run("replay", "-p", newpol, corpus)
        report(r.returncode == 2 and "--baseline" in r.stderr, "replay: --baseline is required")

        # ---- compile + bundle ------------------------------------------
        bundle = os.path.join(tmp, "p.rgb")
        r = run("compile", fx("shadow"), "-o", bundle)
        report(r.returncode == 0 and "wrote bundle" in r.stdout and "loads in" in r.stdout
               and os.path.getsize(bundle) > 0, "compile: writes a bundle that loads", r.stdout + r.stderr)
        a = run("check", "--json", "-p", fx("shadow"), "-r", "strict", "darn 1234567890123456")
        b = run("check", "--json", "-p", bundle, "-r", "strict", "darn 1234567890123456")
        strip = lambda s: re.sub(r'"elapsed_ns":\d+', "", s)
        report(a.returncode == 0 and strip(a.stdout) == strip(b.stdout),
               "compile: the bundle answers as the directory does", a.stdout + b.stdout)
        r = run("compile", fx("lint_errors"), "-o", os.path.join(tmp, "bad.rgb"))
        report(r.returncode == 2 and not os.path.exists(os.path.join(tmp, "bad.rgb")),
               "compile: a broken policy writes nothing, exit 2")
        with open(bundle, "r+b") as f:
            f.truncate(100)
        r = run("check", "-p", bundle, "x")
        report(r.returncode == 2 and "cannot load bundle: truncated" in r.stderr,
               "a truncated bundle is refused with a reason", r.stderr)

        # ---- cache ------------------------------------------------------
        cache = os.path.join(tmp, "cache")
        env = {"RG_CACHE_DIR": cache}
        r1 = run("check", "--json", "-p", fx("golden"), "damn", env=env)
        files = os.listdir(cache) if os.path.isdir(cache) else []
        r2 = run("check", "--json", "-p", fx("golden"), "damn", env=env)
        report(len([f for f in files if f.endswith(".rgc")]) == 1 and
               strip(r1.stdout) == strip(r2.stdout), "RG_CACHE_DIR: one cache file, same answers",
               files)

        # ---- watch ------------------------------------------------------
        wdir = os.path.join(tmp, "watched")
        shutil.copytree(fx("shadow"), wdir)
        proc = subprocess.Popen([CLI, "watch", "-p", wdir, "--count", "2", "--debounce", "100"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = proc.stdout.readline()
        wp = os.path.join(wdir, "policy.yaml")
        good = open(wp).read()
        open(wp, "w").write(good.replace("shadow-1", "shadow-9"))
        time.sleep(1.0)
        open(wp, "w").write(good + "\nroutes: [\n")
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        report(first.startswith("watching ") and "version shadow-1" in first,
               "watch: starts with the policy identity", first)
        report("reloaded: generation 2, version shadow-9" in out, "watch: an edit is reloaded", out + err)
        report("reload failed (POLICY): still generation 2, version shadow-9" in out
               and "policy.yaml:" in out, "watch: a broken edit keeps the running policy", out)
        report(proc.returncode == 0, "watch --count exits 0", proc.returncode)

        # ---- README worked example ---------------------------------------
        worked_example(tmp, shipped)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def worked_example(tmp, shipped):
    """README, 'For policy authors': the default route starts handing off
    mild profanity ("damn", score 0.35) at 0.3 instead of 0.4."""
    cand = os.path.join(tmp, "candidate")
    shutil.copytree(shipped, cand)
    routes = os.path.join(cand, "routes.yaml")
    src = open(routes).read()
    old = "      toxicity.profanity:  { handoff: 0.4 }"
    report(src.count(old) == 1, "worked example: the README's line is in routes.yaml", old)
    open(routes, "w").write(src.replace(old, "      toxicity.profanity:  { handoff: 0.3 }"))
    corpus = os.path.join(tmp, "logged.jsonl")
    with open(corpus, "w") as f:
        f.write(json.dumps({"id": "t-1", "route": "default",
                            "reply": "Damn, the payment didn't go through. Let me retry it."}) + "\n")
        f.write(json.dumps({"id": "t-2", "route": "default",
                            "reply": "Your table for two is booked for 7 pm."}) + "\n")
    r = run("replay", "--baseline", shipped, "-p", cand, corpus)
    report(r.returncode == 0 and "1 changed" in r.stdout and "allow→handoff: 1" in r.stdout
           and "en.profanity.mild" in r.stdout, "worked example: replay shows the change", r.stdout)
    # The shipped cases that document the old decision now fail: each FAIL
    # names file:line; the author flips those expectations. (Cases that
    # already fail on the shipped policy, if any, are not this change's.)
    name_of = lambda line: re.sub(r"^FAIL - .*?:\d+: ", "", line).split(": expected")[0]
    before = {name_of(l) for l in run("test", "-p", shipped).stdout.splitlines()
              if l.startswith("FAIL - ")}
    r = run("test", "-p", cand)
    new_fails = [l for l in r.stdout.splitlines()
                 if l.startswith("FAIL - ") and name_of(l) not in before]
    fails = [re.match(r"FAIL - (.+?):(\d+): .*expected allow, got handoff", l) for l in new_fails]
    report(r.returncode == 1 and new_fails and all(fails),
           "worked example: test shows the cases that expected the old verdict", new_fails)
    for path, line in [m.groups() for m in fails if m]:
        lines = open(path).read().split("\n")
        i = int(line) - 1
        while i < len(lines) and "expect: allow" not in lines[i]:
            i += 1
        if i < len(lines):
            lines[i] = lines[i].replace("expect: allow", "expect: handoff")
        open(path, "w").write("\n".join(lines))
    # A loaded machine can push a check past its 2 ms budget (a fail-safe
    # verdict): such a flake is retried, a real failure is not.
    for attempt in range(3):
        r = run("test", "-p", cand)
        after = {name_of(l) for l in r.stdout.splitlines() if l.startswith("FAIL - ")}
        if after <= before:
            break
    report(after <= before and re.search(r"^\d+ passed, %d failed$" % len(after), r.stdout, re.M),
           "worked example: after updating them, test passes",
           [l for l in r.stdout.splitlines() if l.startswith("FAIL - ")])
    r = run("compile", cand, "-o", os.path.join(tmp, "candidate.rgb"))
    report(r.returncode == 0, "worked example: compile the bundle to ship", r.stderr[-500:])


sys.exit(main())
