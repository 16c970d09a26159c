"""The Python examples run, and keep their promises (no raw PII shown)."""
from __future__ import annotations

import os
import subprocess
import sys
import unittest

from support import CARD, PYROOT, REPO, SHIPPED


def run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(PYROOT))
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


class ExamplesTest(unittest.TestCase):
    def test_agent_loop(self) -> None:
        p = run("examples/python/agent_loop.py", str(SHIPPED))
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout
        # The card number in a draft never reaches the customer or the log.
        self.assertNotIn(CARD, out)
        self.assertNotIn(CARD.replace(" ", ""), out)
        # Every conversation was served and the loop summarised itself.
        for name in "ABC":
            self.assertIn(f"[{name}] agent:", out)
        self.assertIn("Human queue (", out)
        self.assertRegex(out, r"customer saw: \d+ drafts as written, \d+ redacted, "
                              r"\d+ after a redraft, \d+ fallbacks, \d+ handoffs")
        # A blocked draft is never sent as written.
        self.assertIn("draft dropped", out)

    def test_quickstart(self) -> None:
        p = run("examples/python/quickstart.py")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("block "), p.stdout)
        self.assertNotIn(CARD, p.stdout)

    def test_voice_stream(self) -> None:
        p = run("examples/python/voice_stream.py", str(SHIPPED))
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout
        # The card is spoken masked, never as digits; the slur never goes out.
        self.assertNotIn("4111", out)
        self.assertIn("[card number] on your account", out)
        self.assertIn("stopped: block (toxicity.hate)", out)
        self.assertIn("the customer heard: 'I understand. Those people are '", out)
        self.assertNotIn("abeed", out)

    def test_import_from_the_source_tree(self) -> None:
        # As the README says: PYTHONPATH=bindings/python python3 -c 'import replyguard'
        p = run("-c", "import replyguard; print(replyguard.__version__)")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "0.1.0")


if __name__ == "__main__":
    unittest.main()
