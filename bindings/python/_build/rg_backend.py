"""A standard-library-only PEP 517 / PEP 660 build backend for replyguard.

Why not setuptools: the package is pure Python and must install offline
with ``pip install --no-build-isolation bindings/python`` under whatever
python3 is on PATH. setuptools (< 70.1) needs the separate ``wheel``
package to build a wheel, and neither is guaranteed to be importable by that
interpreter (a pyenv or venv Python does not see Debian's
python3-setuptools/python3-wheel). This backend needs nothing but the
standard library, so the build works offline with or without build
isolation. It builds exactly one pure wheel (py3-none-any) from the
``replyguard/`` directory; the metadata comes from ``pyproject.toml``.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "replyguard"


def _project() -> Dict[str, str]:
    """The [project] string keys of pyproject.toml (tomllib when present)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib  # Python >= 3.11
        return {k: v for k, v in tomllib.loads(text)["project"].items()
                if isinstance(v, str)}
    except ImportError:
        pass
    out: Dict[str, str] = {}
    section = None
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r"^\[(.+)\]$", line)
        if m:
            section = m.group(1).strip()
            continue
        m = re.match(r'^([A-Za-z0-9_-]+)\s*=\s*"([^"]*)"\s*$', line)
        if section == "project" and m:
            out[m.group(1)] = m.group(2)
    return out


def _names() -> Tuple[str, str, str]:
    p = _project()
    name, version = p["name"], p["version"]
    dist = re.sub(r"[-_.]+", "_", name)
    return name, version, dist


def _metadata() -> str:
    p = _project()
    lines = ["Metadata-Version: 2.1", f"Name: {p['name']}",
             f"Version: {p['version']}"]
    if "description" in p:
        lines.append(f"Summary: {p['description']}")
    if "requires-python" in p:
        lines.append(f"Requires-Python: {p['requires-python']}")
    lines.append("License: Apache-2.0")
    readme = ROOT / "README.md"
    body = ""
    if readme.is_file():
        lines.append("Description-Content-Type: text/markdown")
        body = "\n" + readme.read_text(encoding="utf-8")
    return "\n".join(lines) + "\n" + body


def _package_files() -> List[Path]:
    files = []
    for path in sorted((ROOT / PACKAGE).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts \
                and path.suffix not in (".pyc", ".pyo"):
            files.append(path)
    return files


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    return f"{arcname},sha256={digest.rstrip(b'=').decode()},{len(data)}"


def _write_wheel(directory: str, entries: List[Tuple[str, bytes]]) -> str:
    name, version, dist = _names()
    info = f"{dist}-{version}.dist-info"
    entries = list(entries) + [
        (f"{info}/METADATA", _metadata().encode()),
        (f"{info}/WHEEL", ("Wheel-Version: 1.0\nGenerator: rg_backend\n"
                           "Root-Is-Purelib: true\nTag: py3-none-any\n").encode()),
        (f"{info}/top_level.txt", f"{PACKAGE}\n".encode()),
    ]
    record = [_record_line(a, d) for a, d in entries] + [f"{info}/RECORD,,"]
    entries.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    filename = f"{dist}-{version}-py3-none-any.whl"
    # A fixed timestamp keeps the wheel reproducible.
    stamp = (2020, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(os.path.join(directory, filename), "w",
                         zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in entries:
            zi = zipfile.ZipInfo(arcname, stamp)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return filename


# -- PEP 517 ---------------------------------------------------------------

def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[dict] = None) -> List[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: Optional[dict] = None,
                metadata_directory: Optional[str] = None) -> str:
    entries = [(p.relative_to(ROOT).as_posix(), p.read_bytes())
               for p in _package_files()]
    return _write_wheel(wheel_directory, entries)


def build_sdist(sdist_directory: str, config_settings: Optional[dict] = None) -> str:
    name, version, dist = _names()
    base = f"{dist}-{version}"
    filename = f"{base}.tar.gz"
    files = [ROOT / "pyproject.toml", Path(__file__)] + _package_files()
    for extra in ("README.md",):
        if (ROOT / extra).is_file():
            files.append(ROOT / extra)
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tf:
        for path in files:
            data = path.read_bytes()
            ti = tarfile.TarInfo(f"{base}/{path.relative_to(ROOT).as_posix()}")
            ti.size, ti.mode, ti.mtime = len(data), 0o644, int(time.time())
            tf.addfile(ti, io.BytesIO(data))
        pkg_info = _metadata().encode()
        ti = tarfile.TarInfo(f"{base}/PKG-INFO")
        ti.size, ti.mode, ti.mtime = len(pkg_info), 0o644, int(time.time())
        tf.addfile(ti, io.BytesIO(pkg_info))
    return filename


# -- PEP 660 (pip install -e) ------------------------------------------------

def get_requires_for_build_editable(config_settings: Optional[dict] = None) -> List[str]:
    return []


def build_editable(wheel_directory: str, config_settings: Optional[dict] = None,
                   metadata_directory: Optional[str] = None) -> str:
    pth = f"{ROOT}\n".encode()
    return _write_wheel(wheel_directory, [(f"__editable__.{PACKAGE}.pth", pth)])
