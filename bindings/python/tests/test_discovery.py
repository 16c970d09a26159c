"""Where the binding looks for libreplyguard: REPLYGUARD_LIBRARY, the source
tree's build/lib, the prefix it is installed into, the dynamic loader."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import unittest
from pathlib import Path

from support import PYROOT

from replyguard import _lib

PROBE = "import replyguard; print(replyguard.library_path())"


def probe(pythonpath: Path, env_extra=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REPLYGUARD_LIBRARY", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = str(pythonpath)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", PROBE], env=env, cwd="/",
                          capture_output=True, text=True, timeout=60)


class DiscoveryTest(unittest.TestCase):
    def setUp(self) -> None:
        self.real = os.path.realpath(_lib.path())
        self.tmp = Path(tempfile.mkdtemp(prefix="rg-disc-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_environment_variable_wins(self) -> None:
        p = probe(PYROOT, {"REPLYGUARD_LIBRARY": self.real})
        self.assertEqual(p.stdout.strip(), self.real, p.stderr)

    def test_missing_library_is_a_clear_import_error(self) -> None:
        p = probe(PYROOT, {"REPLYGUARD_LIBRARY": "/nonexistent/libreplyguard.so.0"})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("LibraryNotFoundError", p.stderr)
        self.assertIn("/nonexistent/libreplyguard.so.0", p.stderr)

    def test_source_tree_build_dir(self) -> None:
        root = self.tmp / "repo"
        (root / "include").mkdir(parents=True)
        (root / "include" / "replyguard.h").write_text("")
        shutil.copytree(PYROOT / "replyguard", root / "bindings" / "python" / "replyguard")
        (root / "build" / "lib").mkdir(parents=True)
        lib = root / "build" / "lib" / "libreplyguard.so.0"
        lib.symlink_to(self.real)
        p = probe(root / "bindings" / "python")
        self.assertEqual(p.stdout.strip(), str(lib), p.stderr)

    def test_install_prefix(self) -> None:
        prefix = self.tmp / "prefix"
        site = prefix / "lib" / "python3" / "site-packages"
        shutil.copytree(PYROOT / "replyguard", site / "replyguard")
        multiarch = sysconfig.get_config_var("MULTIARCH") or ""
        libdir = prefix / "lib" / multiarch
        libdir.mkdir(parents=True, exist_ok=True)
        lib = libdir / "libreplyguard.so.0"
        lib.symlink_to(self.real)
        p = probe(site)
        self.assertEqual(p.stdout.strip(), str(lib), p.stderr)

    def test_dynamic_loader_last(self) -> None:
        site = self.tmp / "site"
        shutil.copytree(PYROOT / "replyguard", site / "replyguard")
        libdir = self.tmp / "ld"
        libdir.mkdir()
        (libdir / "libreplyguard.so.0").symlink_to(self.real)
        p = probe(site, {"LD_LIBRARY_PATH": str(libdir)})
        self.assertEqual(p.stdout.strip(), "libreplyguard.so.0", p.stderr)


if __name__ == "__main__":
    unittest.main()
