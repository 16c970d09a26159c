"""Finding libreplyguard and declaring its C ABI for ctypes.

Nothing here is public. The structures mirror ``include/replyguard.h``
field for field; ``tests/test_abi.py`` compares their sizes and offsets with
what a C compiler produces, so a change to the header cannot drift silently.

ctypes releases the GIL around every call into a ``CDLL`` (it is ``PyDLL``
that keeps it), so ``rg_check`` runs in parallel on several Python threads.
"""
from __future__ import annotations

import ctypes
import os
import sysconfig
import threading
from ctypes import (POINTER, Structure, c_char, c_char_p, c_double, c_int,
                    c_size_t, c_uint, c_uint64, c_void_p)
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

#: The ABI this binding speaks: libreplyguard's soname major version.
SONAME = "libreplyguard.so.0"
ABI_MAJOR = 0


class rg_diag_entry(Structure):
    _fields_ = [("file", c_char_p), ("line", c_uint), ("column", c_uint),
                ("severity", c_int), ("message", c_char_p)]


class rg_diag(Structure):
    _fields_ = [("count", c_size_t), ("entries", POINTER(rg_diag_entry))]


class rg_engine_options(Structure):
    _fields_ = [("struct_size", c_size_t), ("allocator", c_void_p),
                ("flags", c_uint), ("cache_dir", c_char_p)]


class rg_engine_info(Structure):
    _fields_ = [("policy_version", c_char * 64), ("policy_hash", c_char * 65),
                ("generation", c_uint64), ("detector_count", c_size_t),
                ("pattern_count", c_size_t), ("route_count", c_size_t),
                ("compile_ns", c_uint64)]


class rg_text(Structure):
    _fields_ = [("ptr", c_char_p), ("len", c_size_t)]


class rg_label(Structure):
    _fields_ = [("key", c_char_p), ("value", c_char_p)]


class rg_request(Structure):
    _fields_ = [("route", c_char_p),
                ("reply", c_char_p), ("reply_len", c_size_t),
                ("user_message", c_char_p), ("user_message_len", c_size_t),
                ("history", POINTER(rg_text)), ("history_count", c_size_t),
                ("channel", c_char_p), ("locale", c_char_p),
                ("labels", POINTER(rg_label)), ("label_count", c_size_t)]


class rg_hit(Structure):
    _fields_ = [("detector", c_char_p), ("category", c_char_p),
                ("start", c_size_t), ("end", c_size_t), ("score", c_double),
                ("shadow", c_int), ("source", c_int)]


class rg_category_score(Structure):
    _fields_ = [("category", c_char_p), ("score", c_double),
                ("verdict", c_int), ("redact", c_int),
                ("shadow_score", c_double)]


class rg_reason(Structure):
    _fields_ = [("category", c_char_p), ("rule", c_char_p), ("route", c_char_p),
                ("action", c_char_p), ("score", c_double),
                ("threshold", c_double), ("shadow", c_int)]


#: Every mirrored structure, by its C name (used by the ABI test).
STRUCTS = {cls.__name__: cls for cls in (
    rg_diag_entry, rg_diag, rg_engine_options, rg_engine_info, rg_text,
    rg_label, rg_request, rg_hit, rg_category_score, rg_reason)}

_engine_p = c_void_p
_scratch_p = c_void_p
_result_p = c_void_p

# name: (restype, argtypes)
_SIGNATURES = {
    "rg_version": (c_char_p, []),
    "rg_strerror": (c_char_p, [c_int]),
    "rg_status_name": (c_char_p, [c_int]),
    "rg_verdict_name": (c_char_p, [c_int]),
    "rg_diag_free": (None, [POINTER(rg_diag)]),
    "rg_engine_open": (c_int, [POINTER(_engine_p), c_char_p,
                               POINTER(rg_engine_options),
                               POINTER(POINTER(rg_diag))]),
    "rg_engine_reload": (c_int, [_engine_p, c_char_p,
                                 POINTER(POINTER(rg_diag))]),
    "rg_engine_close": (None, [_engine_p]),
    "rg_engine_get_info": (c_int, [_engine_p, POINTER(rg_engine_info)]),
    "rg_engine_route_name": (c_int, [_engine_p, c_size_t, c_char_p, c_size_t]),
    "rg_engine_metrics": (c_int, [_engine_p, c_char_p, c_size_t,
                                  POINTER(c_size_t)]),
    "rg_scratch_alloc": (c_int, [_engine_p, POINTER(_scratch_p)]),
    "rg_scratch_free": (None, [_scratch_p]),
    "rg_check": (c_int, [_engine_p, _scratch_p, POINTER(rg_request),
                         _result_p]),
    "rg_result_alloc": (c_int, [c_void_p, POINTER(_result_p)]),
    "rg_result_free": (None, [_result_p]),
    "rg_result_verdict": (c_int, [_result_p]),
    "rg_result_shadow_verdict": (c_int, [_result_p]),
    "rg_result_flags": (c_uint, [_result_p]),
    "rg_result_hit_count": (c_size_t, [_result_p]),
    "rg_result_hit": (POINTER(rg_hit), [_result_p, c_size_t]),
    "rg_result_category_count": (c_size_t, [_result_p]),
    "rg_result_category": (POINTER(rg_category_score), [_result_p, c_size_t]),
    "rg_result_reason_count": (c_size_t, [_result_p]),
    "rg_result_reason": (POINTER(rg_reason), [_result_p, c_size_t]),
    "rg_result_redacted": (c_void_p, [_result_p, POINTER(c_size_t)]),
    "rg_result_handoff_json": (c_int, [_result_p, c_char_p, c_size_t,
                                       POINTER(c_size_t)]),
    "rg_result_elapsed_ns": (c_uint64, [_result_p]),
    "rg_result_route": (c_char_p, [_result_p]),
    "rg_result_policy_version": (c_char_p, [_result_p]),
    "rg_result_policy_hash": (c_char_p, [_result_p]),
}


class LibraryNotFoundError(ImportError):
    """libreplyguard could not be found or loaded (see the message for
    every place that was tried)."""


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


def candidates() -> Iterator[Tuple[str, str]]:
    """Yield (how, path-or-name) in the order the library is looked for.

    1. ``$REPLYGUARD_LIBRARY`` (a path to the shared library); when set,
       nothing else is tried.
    2. The build tree, when this package is imported from a source checkout
       (``<repo>/bindings/python``): ``<repo>/build/lib``.
    3. The prefix this package was installed into: ``lib/<multiarch>``,
       ``lib64`` and ``lib`` of up to five ancestor directories of the
       package (``pip install --prefix P`` next to ``meson install`` into P).
    4. The dynamic loader's own search (``LD_LIBRARY_PATH``, ``ld.so.cache``,
       the system directories) for ``libreplyguard.so.0``.
    """
    env = os.environ.get("REPLYGUARD_LIBRARY")
    if env:
        yield "REPLYGUARD_LIBRARY", env
        return
    here = _package_dir()
    root = here.parent.parent.parent
    if (root / "include" / "replyguard.h").is_file():
        yield "build tree", str(root / "build" / "lib" / SONAME)
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    subdirs = [os.path.join("lib", multiarch)] if multiarch else []
    subdirs += ["lib64", "lib"]
    for anc in list(here.parents)[:5]:
        if anc == Path(anc.anchor):
            break
        for sub in subdirs:
            yield "install prefix", str(anc / sub / SONAME)
    yield "dynamic loader", SONAME


def _load() -> Tuple[ctypes.CDLL, str]:
    tried: List[str] = []
    for how, path in candidates():
        is_name = os.sep not in path
        if not is_name and not os.path.exists(path):
            tried.append(f"{how}: {path} (missing)")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{how}: {path} ({e})")
            continue
        try:
            _declare(lib)
        except AttributeError as e:
            tried.append(f"{how}: {path} (older than this binding: {e})")
            continue
        version = lib.rg_version().decode()
        if int(version.split(".")[0]) != ABI_MAJOR:
            tried.append(f"{how}: {path} (version {version}, need {ABI_MAJOR}.x)")
            continue
        return lib, path
    raise LibraryNotFoundError(
        "libreplyguard not found; build it (make) or install it "
        "(make install PREFIX=...), or set REPLYGUARD_LIBRARY to the .so. Tried:\n  "
        + "\n  ".join(tried))


def _declare(lib: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_path: Optional[str] = None


def lib() -> ctypes.CDLL:
    """The loaded library (loaded by ``import replyguard``)."""
    global _lib, _path
    if _lib is None:
        with _lock:
            if _lib is None:
                _lib, _path = _load()
    return _lib


def path() -> str:
    """The path (or loader name) the library was loaded from."""
    lib()
    assert _path is not None
    return _path
