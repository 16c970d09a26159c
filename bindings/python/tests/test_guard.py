"""The Guard API on the binding's fixture policy (bindings/testdata/guard)."""
from __future__ import annotations

import gc
import json
import os
import subprocess
import unittest

from support import BROKEN, CARD, FIXTURE, SHIPPED, fixture_copy, write_variant

import replyguard
from replyguard import (Flag, Guard, GuardClosedError, PolicyError,
                        PolicyIOError, ReplyguardError, Result,
                        UnknownRouteError, Verdict)


class GuardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.guard = Guard(FIXTURE)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.guard.close()

    def test_verdicts(self) -> None:
        g = self.guard
        self.assertEqual(g.check("Hello, how can I help?").verdict, Verdict.ALLOW)
        self.assertEqual(g.check("darn it").verdict, Verdict.HANDOFF)
        self.assertEqual(g.check("you idiot").verdict, Verdict.BLOCK)
        self.assertEqual(g.check(f"card {CARD} ok", route="refunds").verdict,
                         Verdict.BLOCK)

    def test_handoff_context(self) -> None:
        r = self.guard.check(f"darn it, card {CARD}", history=["hi", "hello"],
                             channel="voice", locale="en-US")
        self.assertEqual(r.verdict, Verdict.HANDOFF)
        ctx = r.handoff_context
        self.assertIsInstance(ctx, dict)
        self.assertEqual(ctx["turn"], 3)
        self.assertEqual(ctx["channel"], "voice")
        self.assertEqual(ctx["triggers"][0]["span"], "[toxicity.profanity]")
        self.assertNotIn(CARD, json.dumps(ctx))
        self.assertIn("[pii.payment_card]", ctx["excerpt"])
        self.assertIsNone(self.guard.check("Hello").handoff_context)

    def test_user_message_hits_have_their_source(self) -> None:
        with Guard(SHIPPED) as g:
            for _ in range(5):  # a preempted check is the fail-safe: retry
                r = g.check("Sure, checking now.", user_message="agent please")
                if not r.failsafe:
                    break
            self.assertEqual(r.verdict, Verdict.HANDOFF)
            src = {h.detector: h.source for h in r.hits}
            self.assertEqual(src.get("en.handoff.ask_human"), "user_message")
            self.assertEqual(r.to_dict()["hits"][0].get("source"), "user_message")

    def test_verdict_is_a_str_enum(self) -> None:
        v = self.guard.check("you idiot").verdict
        self.assertIsInstance(v, str)
        self.assertEqual(v, "block")
        self.assertEqual(str(v), "block")
        self.assertEqual(f"{v}", "block")
        self.assertIs(Verdict("handoff"), Verdict.HANDOFF)

    def test_result_fields(self) -> None:
        r = self.guard.check("you idiot")
        self.assertIsInstance(r, Result)
        self.assertEqual(r.route, "default")
        self.assertEqual(len(r.hits), 1)
        h = r.hits[0]
        self.assertEqual((h.detector, h.category), ("t.insult", "toxicity.insult"))
        self.assertEqual((h.start, h.end, h.byte_start, h.byte_end), (4, 9, 4, 9))
        self.assertAlmostEqual(h.score, 0.9)
        self.assertEqual(r.categories, {"toxicity.insult": 0.9})
        actions = sorted((x.action, x.threshold) for x in r.reasons)
        self.assertEqual(actions, [("block", 0.8), ("handoff", 0.5)])
        for reason in r.reasons:
            self.assertEqual((reason.category, reason.rule, reason.route),
                             ("toxicity.insult", "toxicity", "default"))
        self.assertIsNone(r.redacted)
        self.assertGreater(r.elapsed_ns, 0)
        self.assertEqual(r.policy.version, "bindings-1")
        self.assertEqual(len(r.policy.hash), 64)
        self.assertEqual(r.policy, self.guard.policy)
        self.assertEqual(r.flags, ())
        self.assertFalse(r.failsafe)

    def test_redaction_str_offsets_are_characters(self) -> None:
        reply = f"Ça coûte 5 €; carte {CARD}."
        r = self.guard.check(reply)
        self.assertEqual(r.verdict, Verdict.ALLOW)
        self.assertEqual(r.redacted, "Ça coûte 5 €; carte [card].")
        self.assertIn(Flag.REDACTED, r.flags)
        (h,) = r.hits
        self.assertEqual(reply[h.start:h.end], CARD)
        raw = reply.encode()
        self.assertEqual(raw[h.byte_start:h.byte_end], CARD.encode())
        self.assertNotEqual(h.start, h.byte_start)
        self.assertEqual(r.text_to_send(reply), r.redacted)

    def test_bytes_in_bytes_out(self) -> None:
        reply = f"carte {CARD} ✓".encode()
        r = self.guard.check(reply)
        self.assertEqual(r.redacted, "carte [card] ✓".encode())
        (h,) = r.hits
        self.assertEqual(reply[h.start:h.end], CARD.encode())

    def test_invalid_utf8_is_repaired_and_flagged(self) -> None:
        r = self.guard.check(b"you \xff\xfe idiot")
        self.assertEqual(r.verdict, Verdict.BLOCK)
        self.assertIn(Flag.INVALID_UTF8, r.flags)
        r = self.guard.check("lone \udc80 surrogate, you idiot")
        self.assertEqual(r.verdict, Verdict.BLOCK)
        self.assertIn(Flag.INVALID_UTF8, r.flags)

    def test_empty_and_nul(self) -> None:
        self.assertEqual(self.guard.check("").verdict, Verdict.ALLOW)
        self.assertEqual(self.guard.check("you\0idiot").verdict, Verdict.BLOCK)

    def test_oversize_is_failsafe_not_error(self) -> None:
        r = self.guard.check("hello " * 1000)
        self.assertEqual(r.verdict, Verdict.HANDOFF)
        self.assertIn(Flag.OVERSIZE, r.flags)
        self.assertTrue(r.failsafe)

    def test_conversation_fields_accepted(self) -> None:
        r = self.guard.check("Sure, one moment.", user_message="where is my order?",
                             history=["Hi!", b"What is your order number?"],
                             channel="voice", locale="en-US")
        self.assertEqual(r.verdict, Verdict.ALLOW)
        r = self.guard.check("Sure.", history=[])
        self.assertEqual(r.verdict, Verdict.ALLOW)

    def test_unknown_route_raises_with_failsafe_result(self) -> None:
        with self.assertRaises(UnknownRouteError) as cm:
            self.guard.check("hello", route="no-such-route")
        e = cm.exception
        self.assertIsInstance(e, LookupError)
        self.assertIsInstance(e, ReplyguardError)
        self.assertEqual((e.status, e.code), (-6, "RG_E_NOROUTE"))
        self.assertIsNotNone(e.result)
        self.assertNotEqual(e.result.verdict, Verdict.ALLOW)
        self.assertIn(Flag.ENGINE_ERROR, e.result.flags)
        self.assertIn(Flag.FAILSAFE, e.result.flags)

    def test_argument_errors(self) -> None:
        with self.assertRaises(TypeError):
            self.guard.check(42)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            self.guard.check("hi", history=["ok", 3])  # type: ignore[list-item]
        with self.assertRaises(ValueError):
            self.guard.check("hi", route="de\0fault")
        with self.assertRaises(TypeError):
            self.guard.check("hi", route=7)  # type: ignore[arg-type]

    def test_routes_and_info(self) -> None:
        self.assertEqual(self.guard.routes, ["default", "refunds"])
        info = self.guard.info
        self.assertEqual(info["version"], "bindings-1")
        self.assertEqual(info["generation"], 1)
        self.assertEqual(info["detectors"], 3)

    def test_to_dict_is_json(self) -> None:
        r = self.guard.check(f"card {CARD} ok")
        d = json.loads(json.dumps(r.to_dict()))
        self.assertEqual(d["verdict"], "allow")
        self.assertEqual(d["redacted"], "card [card] ok")
        self.assertEqual(d["flags"], ["redacted"])
        self.assertEqual(d["hits"][0]["start"], 5)

    @unittest.skipUnless(os.environ.get("REPLYGUARD_CLI"), "needs REPLYGUARD_CLI")
    def test_same_answer_as_the_cli(self) -> None:
        replies = ["hello", "you idiot", "darn it", f"Ça va, carte {CARD}."]
        lines = "".join(json.dumps({"id": str(i), "reply": t}) + "\n"
                        for i, t in enumerate(replies))
        out = subprocess.run([os.environ["REPLYGUARD_CLI"], "batch", "-p", str(FIXTURE)],
                             input=lines.encode(), capture_output=True, check=True)
        for text, line in zip(replies, out.stdout.decode().splitlines()):
            cli = json.loads(line)
            mine = self.guard.check(text).to_dict()
            for key in ("verdict", "route", "categories", "hits", "redacted", "flags", "policy"):
                self.assertEqual(mine[key], cli[key], (text, key))
            self.assertEqual(len(mine["reasons"]), len(cli["reasons"]))

    def test_shipped_policies(self) -> None:
        with Guard(SHIPPED) as g:
            self.assertIn("refunds", g.routes)
            # A check preempted past the shipped 2 ms budget on a busy host
            # gets the fail-safe (flagged): retried, as tests/test_golden.c does.
            for _ in range(5):
                r = g.check(f"Your card {CARD} is on file.", route="refunds")
                if Flag.BUDGET_EXCEEDED not in r.flags:
                    break
            self.assertEqual(r.verdict, Verdict.BLOCK)
            self.assertNotIn(CARD, r.redacted or "")


class LifetimeTest(unittest.TestCase):
    def test_missing_directory(self) -> None:
        with self.assertRaises(PolicyIOError) as cm:
            Guard("/nonexistent/replyguard-policies")
        self.assertEqual(cm.exception.code, "RG_E_IO")

    def test_policy_error_has_file_line_column(self) -> None:
        with self.assertRaises(PolicyError) as cm:
            Guard(BROKEN)
        e = cm.exception
        self.assertEqual(e.status, -4)
        self.assertTrue(e.file.endswith("policy.yaml"), e.file)
        self.assertEqual((e.line, e.column), (9, 15))
        self.assertIn("toxicity.nonsense", str(e))
        self.assertIn(":9:15:", str(e))
        self.assertEqual(e.diagnostics[0].severity, "error")

    def test_cache_dir_is_used(self) -> None:
        d = fixture_copy(self)          # any empty-ish writable directory
        cache = d / "cache"
        cache.mkdir()
        with Guard(FIXTURE, cache_dir=cache) as g:
            self.assertEqual(g.cache_dir, str(cache))
            self.assertEqual(g.check("you idiot").verdict, Verdict.BLOCK)
        self.assertTrue(any(cache.iterdir()), "the library wrote no cache file")
        with Guard(FIXTURE, cache_dir=cache) as g:   # loads from the cache
            self.assertEqual(g.check("you idiot").verdict, Verdict.BLOCK)

    def test_close_and_context_manager(self) -> None:
        with Guard(FIXTURE) as g:
            self.assertEqual(g.check("hello").verdict, Verdict.ALLOW)
        self.assertTrue(g.closed)
        with self.assertRaises(GuardClosedError):
            g.check("hello")
        g.close()  # idempotent

    def test_collected_guard_frees_engine(self) -> None:
        g = Guard(FIXTURE)
        g.check("hello")
        core = g._core
        del g
        gc.collect()
        self.assertIsNone(core.engine)

    def test_reload(self) -> None:
        d = fixture_copy(self)
        g = Guard(d)
        self.addCleanup(g.close)
        self.assertEqual(g.check("you idiot").verdict, Verdict.BLOCK)
        write_variant(d, "bindings-2", insult_action="allow")
        g.reload()
        r = g.check("you idiot")
        self.assertEqual(r.verdict, Verdict.ALLOW)
        self.assertEqual(r.policy.version, "bindings-2")
        self.assertEqual(g.info["generation"], 2)

    def test_failed_reload_keeps_running_policy(self) -> None:
        d = fixture_copy(self)
        g = Guard(d)
        self.addCleanup(g.close)
        (d / "policy.yaml").write_text((BROKEN / "policy.yaml").read_text())
        with self.assertRaises(PolicyError) as cm:
            g.reload()
        self.assertEqual((cm.exception.line, cm.exception.column), (9, 15))
        self.assertIn("stays in force", str(cm.exception))
        r = g.check("you idiot")
        self.assertEqual((r.verdict, r.policy.version), (Verdict.BLOCK, "bindings-1"))
        self.assertEqual(g.info["generation"], 1)

    def test_reload_from_another_directory(self) -> None:
        d = fixture_copy(self)
        write_variant(d, "elsewhere")
        g = Guard(FIXTURE)
        self.addCleanup(g.close)
        g.reload(d)
        self.assertEqual(g.check("hi").policy.version, "elsewhere")
        self.assertEqual(g.policies_dir, str(d))

    def test_metrics(self) -> None:
        g = Guard(FIXTURE)
        self.addCleanup(g.close)
        series = ('replyguard_checks_total{route="default",verdict="block",'
                  'channel="voice"} ')

        def count(text: str) -> int:
            line = next(l for l in text.splitlines() if l.startswith(series))
            return int(line[len(series):])

        before = count(g.metrics())
        g.check("you idiot", channel="voice")
        text = g.metrics()
        self.assertEqual(count(text), before + 1)
        self.assertIn("# TYPE replyguard_check_duration_seconds histogram", text)
        self.assertNotIn("idiot", text)

    def test_version(self) -> None:
        self.assertEqual(replyguard.library_version().split(".")[0], "0")
        path = replyguard.library_path()
        if os.sep in path:            # else found by the dynamic loader's search
            self.assertTrue(os.path.exists(path), path)


if __name__ == "__main__":
    unittest.main()
