"""replyguard: check an AI agent's draft reply before it is sent.

    from replyguard import Guard

    guard = Guard("policies")
    result = guard.check("Your card 4111 1111 1111 1111 is on file.", route="refunds")
    print(result.verdict)        # block

A pure-Python binding over libreplyguard's C ABI (ctypes): no compiler at
install time. The library is loaded on import, from ``$REPLYGUARD_LIBRARY``,
the source tree's ``build/lib``, the prefix the package was installed into,
or the dynamic loader's search path (see :func:`library_path`).

One :class:`Guard` per policy directory, shared by every thread: each thread
gets its own scratch internally, and the GIL is released while the C check
runs.
"""
from . import _lib
from ._guard import Guard
from ._lib import LibraryNotFoundError
from ._types import Diagnostic, Flag, Hit, PolicyInfo, Reason, Result, Verdict
from .stream import GuardedStream, Stream, StreamUpdate
from .errors import (BundleError, BusyError, EngineError, GuardClosedError,
                     InvalidArgumentError, OutOfMemoryError, OutOfRangeError,
                     PatternCompileError, PolicyError, PolicyIOError,
                     ReplyguardError, ScratchMismatchError, UnknownRouteError)

__version__ = "0.1.0"

__all__ = [
    "Guard", "Result", "Verdict", "Flag", "Hit", "Reason", "PolicyInfo",
    "Stream", "StreamUpdate", "GuardedStream",
    "Diagnostic", "ReplyguardError", "InvalidArgumentError",
    "OutOfMemoryError", "PolicyIOError", "PolicyError", "PatternCompileError",
    "UnknownRouteError", "EngineError", "ScratchMismatchError", "BusyError",
    "OutOfRangeError", "BundleError", "GuardClosedError", "LibraryNotFoundError",
    "library_path", "library_version", "__version__",
]


def library_path() -> str:
    """Where libreplyguard was loaded from."""
    return _lib.path()


def library_version() -> str:
    """libreplyguard's version string, e.g. "0.1.0"."""
    return _lib.lib().rg_version().decode()


# Load the library now: `import replyguard` fails right away, with every
# place tried, when it cannot be found (LibraryNotFoundError, an ImportError).
_lib.lib()
