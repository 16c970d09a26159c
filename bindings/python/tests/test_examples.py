"""The Python examples run, and keep their promises (no raw PII shown)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import unittest

from support import CARD, PYROOT, REPO, SHIPPED


def run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(PYROOT))
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def settled(test: unittest.TestCase, args, private, expect) -> str:
    """Run an example until its verdict-dependent output appears (3 tries).

    The shipped routes have a 2 ms wall-clock budget: on a busy test host a
    preempted check gets the timeout fail-safe (handoff) instead of its
    policy verdict, which changes what an example prints. That is the
    library working as designed, so those expectations are retried; the
    privacy promises (`private`: strings that must never appear) hold on
    every run, retried or not."""
    out = ""
    for _ in range(3):
        p = run(*args)
        test.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout
        for s in private:
            test.assertNotIn(s, out)
        if all(e(out) if callable(e) else e in out for e in expect):
            return out
    test.fail("expected output never appeared in 3 runs:\n" + out)
    return out


class ExamplesTest(unittest.TestCase):
    def test_agent_loop(self) -> None:
        # The card number in a draft never reaches the customer or the log;
        # every conversation is served and the loop summarises itself; a
        # blocked draft is never sent as written.
        settled(self, ["examples/python/agent_loop.py", str(SHIPPED)],
                [CARD, CARD.replace(" ", "")],
                ["[A] agent:", "[B] agent:", "[C] agent:", "Human queue (", "draft dropped",
                 lambda out: re.search(r"customer saw: \d+ drafts as written, \d+ redacted, "
                                       r"\d+ after a redraft, \d+ fallbacks, \d+ handoffs",
                                       out) is not None])

    def test_quickstart(self) -> None:
        settled(self, ["examples/python/quickstart.py"], [CARD],
                [lambda out: out.startswith("block ")])

    def test_voice_stream(self) -> None:
        # The card is spoken masked, never as digits; the slur never goes out.
        settled(self, ["examples/python/voice_stream.py", str(SHIPPED)], ["4111", "abeed"],
                ["[card number] on your account", "stopped: block (toxicity.hate)",
                 "the customer heard: 'I understand. Those people are '"])

    def test_import_from_the_source_tree(self) -> None:
        # As the README says: PYTHONPATH=bindings/python python3 -c 'import replyguard'
        p = run("-c", "import replyguard; print(replyguard.__version__)")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "0.1.0")


if __name__ == "__main__":
    unittest.main()
