"""Shared paths and helpers for the binding's unittest suites."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYROOT = HERE.parent                      # bindings/python
REPO = PYROOT.parent.parent
TESTDATA = REPO / "bindings" / "testdata"
FIXTURE = TESTDATA / "guard"
BROKEN = TESTDATA / "broken"
SHIPPED = REPO / "policies"

if str(PYROOT) not in sys.path:
    sys.path.insert(0, str(PYROOT))

CARD = "4111 1111 1111 1111"


def fixture_copy(testcase: unittest.TestCase) -> Path:
    """A private, writable copy of the guard fixture (removed after the test)."""
    d = Path(tempfile.mkdtemp(prefix="rg-py-"))
    testcase.addCleanup(shutil.rmtree, d, True)
    shutil.copy(FIXTURE / "policy.yaml", d / "policy.yaml")
    return d


def write_variant(d: Path, version: str, insult_action: str = "block") -> None:
    """Rewrite the fixture in `d` with another version, and (for
    insult_action="allow") without the toxicity thresholds. Written to a temp
    file and renamed, as a deploy would, so a concurrent reload never reads
    half a file."""
    text = (FIXTURE / "policy.yaml").read_text(encoding="utf-8")
    text = text.replace('version: "bindings-1"', f'version: "{version}"')
    if insult_action == "allow":
        text = text.replace("toxicity: { handoff: 0.5, block: 0.8 }",
                            "toxicity: { handoff: 0.99 }")
    tmp = d / ".policy.yaml.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, d / "policy.yaml")
