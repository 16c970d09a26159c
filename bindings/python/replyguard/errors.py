"""Exceptions, one per C status code (``RG_E_*`` in replyguard.h)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Optional, Sequence, Type

from ._types import Diagnostic

if TYPE_CHECKING:
    from ._types import Result


class ReplyguardError(Exception):
    """Base class of every error the library reports.

    Attributes:
        status: the negative C status code (e.g. -4).
        code: its C name (e.g. ``"RG_E_POLICY"``).
        diagnostics: every diagnostic of a failed load or reload.
        file, line, column: where the first error is (from ``diagnostics``;
            None/0 when there is none).
        result: for a failed check, the fail-safe :class:`~replyguard.Result`
            the library produced (the route's ``on_error`` verdict, flagged
            ``engine_error`` and ``failsafe``); else None.
    """

    status: int = 0
    code: str = "RG_E_UNKNOWN"

    def __init__(self, message: str, *, status: Optional[int] = None,
                 diagnostics: Sequence[Diagnostic] = (),
                 result: Optional["Result"] = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.diagnostics = tuple(diagnostics)
        self.result = result
        first = next((d for d in self.diagnostics if d.severity == "error"),
                     self.diagnostics[0] if self.diagnostics else None)
        self.file = first.file if first else None
        self.line = first.line if first else 0
        self.column = first.column if first else 0


class InvalidArgumentError(ReplyguardError, ValueError):
    """RG_E_INVAL: an argument the library refused."""
    status, code = -1, "RG_E_INVAL"


class OutOfMemoryError(ReplyguardError, MemoryError):
    """RG_E_NOMEM."""
    status, code = -2, "RG_E_NOMEM"


class PolicyIOError(ReplyguardError):
    """RG_E_IO: the policy path is missing or unreadable."""
    status, code = -3, "RG_E_IO"


class PolicyError(ReplyguardError):
    """RG_E_POLICY: the policy set is invalid; see ``diagnostics`` (and
    ``file``/``line``/``column`` for the first error)."""
    status, code = -4, "RG_E_POLICY"


class PatternCompileError(PolicyError):
    """RG_E_COMPILE: a pattern failed to compile; see ``diagnostics``."""
    status, code = -5, "RG_E_COMPILE"


class UnknownRouteError(ReplyguardError, LookupError):
    """RG_E_NOROUTE: the route is not in the policy set. ``result`` holds the
    fail-safe verdict the library chose anyway."""
    status, code = -6, "RG_E_NOROUTE"


class EngineError(ReplyguardError):
    """RG_E_ENGINE: a scan failed. ``result`` holds the fail-safe verdict."""
    status, code = -7, "RG_E_ENGINE"


class ScratchMismatchError(ReplyguardError):
    """RG_E_MISMATCH (never expected from this binding)."""
    status, code = -8, "RG_E_MISMATCH"


class BusyError(ReplyguardError):
    """RG_E_BUSY: the object is in use."""
    status, code = -9, "RG_E_BUSY"


class OutOfRangeError(ReplyguardError, IndexError):
    """RG_E_RANGE: an index past the end."""
    status, code = -10, "RG_E_RANGE"


class BundleError(ReplyguardError):
    """RG_E_BUNDLE: a compiled bundle is corrupt or was built for another
    replyguard build, Hyperscan version or CPU; see ``diagnostics``."""
    status, code = -11, "RG_E_BUNDLE"


class GuardClosedError(ReplyguardError):
    """The :class:`~replyguard.Guard` was closed (a binding error, no C
    status)."""
    code = "CLOSED"


_BY_STATUS: Dict[int, Type[ReplyguardError]] = {
    cls.status: cls for cls in (
        InvalidArgumentError, OutOfMemoryError, PolicyIOError, PolicyError,
        PatternCompileError, UnknownRouteError, EngineError,
        ScratchMismatchError, BusyError, OutOfRangeError, BundleError)}


def error_class(status: int) -> Type[ReplyguardError]:
    """The exception class for a C status code (ReplyguardError when the
    code is newer than this binding)."""
    return _BY_STATUS.get(status, ReplyguardError)
