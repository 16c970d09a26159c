"""The ctypes structures mirror replyguard.h exactly (sizes and offsets as
a C compiler lays them out), and every status code has its exception."""
from __future__ import annotations

import json
import os
import re
import subprocess
import unittest

from support import REPO

from replyguard import _lib, errors

LAYOUT = os.environ.get("REPLYGUARD_ABI_LAYOUT")


class AbiTest(unittest.TestCase):
    @unittest.skipUnless(LAYOUT, "needs REPLYGUARD_ABI_LAYOUT (set by make test)")
    def test_struct_layouts_match_c(self) -> None:
        c = json.loads(subprocess.run([LAYOUT], capture_output=True, check=True).stdout)
        self.assertEqual(sorted(c), sorted(_lib.STRUCTS))
        for name, cls in _lib.STRUCTS.items():
            fields = [f[0] for f in cls._fields_]
            self.assertEqual(fields, list(c[name]["fields"]), name)
            self.assertEqual(__import__("ctypes").sizeof(cls), c[name]["size"], name)
            for f in fields:
                self.assertEqual(getattr(cls, f).offset, c[name]["fields"][f], f"{name}.{f}")

    def test_every_status_has_an_exception(self) -> None:
        header = (REPO / "include" / "replyguard.h").read_text()
        codes = re.findall(r"X\((\w+), (-\d+),", header)
        self.assertTrue(codes)
        for name, value in codes:
            cls = errors.error_class(int(value))
            self.assertIsNot(cls, errors.ReplyguardError, name)
            self.assertEqual(cls.code, "RG_E_" + name)
            self.assertEqual(cls.status, int(value))

    def test_every_flag_is_named(self) -> None:
        header = (REPO / "include" / "replyguard.h").read_text()
        flags = re.findall(r"RG_FLAG_(\w+) = 1u << (\d+)", header)
        from replyguard._types import FLAG_BITS
        self.assertEqual([(f.name, bit) for bit, f in FLAG_BITS],
                         [(n, 1 << int(s)) for n, s in flags])

    def test_every_function_declared_exists(self) -> None:
        lib = _lib.lib()
        for name in _lib._SIGNATURES:
            self.assertTrue(hasattr(lib, name), name)


if __name__ == "__main__":
    unittest.main()
