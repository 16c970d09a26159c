"""Guard: one compiled policy set, shared by every thread."""
from __future__ import annotations

import ctypes
import json
import os
import threading
import weakref
from ctypes import byref, c_size_t, c_void_p, create_string_buffer, string_at
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

from . import _lib
from ._lib import (POINTER, rg_diag, rg_engine_info, rg_engine_options,
                   rg_request, rg_text)
from ._types import (FLAG_BITS, VERDICTS, Diagnostic, Flag, Hit, PolicyInfo, Verdict,
                     Reason, Result)
from .errors import GuardClosedError, ReplyguardError, error_class

if TYPE_CHECKING:  # pragma: no cover
    from .stream import GuardedStream, Stream

Text = Union[str, bytes]

#: rg_engine_options.flags bit RG_ENGINE_STREAMING (include/replyguard.h).
_RG_ENGINE_STREAMING = 1 << 3
PathLike = Union[str, bytes, "os.PathLike[str]"]

_SEVERITY = {0: "error", 1: "warning"}


def _cstr(value: Optional[Union[str, bytes]], what: str) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif not isinstance(value, bytes):
        raise TypeError(f"{what} must be str, bytes or None, not {type(value).__name__}")
    if b"\0" in value:
        raise ValueError(f"{what} must not contain NUL characters")
    return value


def _text(value: Text, what: str) -> bytes:
    if isinstance(value, str):
        # Lone surrogates cannot be UTF-8; pass them through as (invalid)
        # bytes, which the library repairs and flags rather than refuses.
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def _fspath(path: PathLike) -> bytes:
    p = os.fsencode(path)
    if b"\0" in p:
        raise ValueError("path must not contain NUL characters")
    return p


def _take_diag(diag_p: Any) -> List[Diagnostic]:
    """Copy a C diagnostic list into Python and free it."""
    lib = _lib.lib()
    out: List[Diagnostic] = []
    if not diag_p:
        return out
    try:
        d = diag_p.contents
        for i in range(d.count):
            e = d.entries[i]
            out.append(Diagnostic(
                e.file.decode("utf-8", "replace") if e.file else None,
                e.line, e.column, _SEVERITY.get(e.severity, "error"),
                (e.message or b"").decode("utf-8", "replace")))
    finally:
        lib.rg_diag_free(diag_p)
    return out


def _raise(status: int, what: str, diagnostics: Sequence[Diagnostic] = (),
           result: Optional[Result] = None) -> None:
    lib = _lib.lib()
    cls = error_class(status)
    msg = f"{what}: {lib.rg_strerror(status).decode()}"
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        msg += "\n" + "\n".join(str(d) for d in errors)
    err = cls(msg, status=status, diagnostics=diagnostics, result=result)
    if cls is ReplyguardError:
        err.code = "RG_E_" + lib.rg_status_name(status).decode()
    raise err


class _Handles:
    """A scratch and a result (C pointers), freed at most once."""

    __slots__ = ("scratch", "result")

    def __init__(self) -> None:
        self.scratch: Optional[int] = None
        self.result: Optional[int] = None

    def free(self, lib: Any) -> None:
        if self.result is not None:
            lib.rg_result_free(self.result)
            self.result = None
        if self.scratch is not None:
            lib.rg_scratch_free(self.scratch)
            self.scratch = None


class _Core:
    """The engine handle and every per-thread scratch allocated on it.

    Kept apart from Guard so that finalizers never need the Guard itself.
    It frees the scratches before the engine, as the C API requires.
    """

    def __init__(self, engine: int) -> None:
        self.engine: Optional[int] = engine
        self.lock = threading.Lock()
        self.live: Dict[int, _Handles] = {}
        self.next_key = 0

    def close(self) -> None:
        lib = _lib.lib()
        with self.lock:
            if self.engine is None:
                return
            for h in self.live.values():
                h.free(lib)
            self.live.clear()
            lib.rg_engine_close(self.engine)
            self.engine = None

    def release(self, key: int) -> None:
        """A thread's slot died: free its scratch and result."""
        lib = _lib.lib()
        with self.lock:
            h = self.live.pop(key, None)
            if h is not None and self.engine is not None:
                h.free(lib)


class _Slot:
    """One thread's scratch and result on one Guard. Lives in the Guard's
    threading.local, so it dies with its thread; its finalizer then frees
    the C objects (unless Guard.close() already did)."""

    __slots__ = ("h", "__weakref__")

    def __init__(self, h: _Handles) -> None:
        self.h = h


class _ThreadState(threading.local):
    """Per thread: the slot and a reusable request structure."""

    def __init__(self) -> None:
        self.slot: Optional[_Slot] = None
        self.request = rg_request()
        self.extra = False   # optional request fields set by the last check


# Small caches of encoded/decoded names (bounded; a dict lookup is cheaper
# than an encode/decode and an object per check).
_ROUTES: Dict[Any, Optional[bytes]] = {}
_NAMES: Dict[bytes, str] = {}
_POLICIES: Dict[bytes, PolicyInfo] = {}
_FLAGS: Dict[int, Tuple[Flag, ...]] = {}


def _flag_tuple(bits: int) -> Tuple[Flag, ...]:
    t = _FLAGS.get(bits)
    if t is None:
        t = _FLAGS[bits] = tuple(f for bit, f in FLAG_BITS if bits & bit)
    return t


_SOURCES = {1: "user_message", 2: "conversation"}


def _handoff_context(lib: Any, res: int) -> Optional[Dict[str, Any]]:
    """rg_result_handoff_json as a dict (docs/CONVERSATION.md)."""
    need = c_size_t()
    buf = create_string_buffer(2048)
    rc = lib.rg_result_handoff_json(res, buf, len(buf), byref(need))
    if rc == -10:  # RG_E_RANGE
        buf = create_string_buffer(need.value + 1)
        rc = lib.rg_result_handoff_json(res, buf, len(buf), byref(need))
    if rc != 0:
        return None
    return json.loads(buf.value.decode("utf-8", "replace"))

class Guard:
    """A compiled policy set, ready to check draft replies.

    Create one per policy directory and share it: :meth:`check` is safe from
    any number of threads at once. Each thread gets its own scratch space
    internally (allocated on its first check, freed when the thread ends),
    and ctypes releases the GIL while the C check runs, so checks on
    different threads run in parallel.

    Args:
        policies_dir: a policy directory (every ``*.yaml`` in it) or one YAML
            file.
        cache_dir: a directory for the library's compiled-policy cache (a
            later open of the same policy skips compiling). None: the
            library uses ``$RG_CACHE_DIR`` when set, else no cache.
        streaming: compile the streaming databases now and with every
            reload (``RG_ENGINE_STREAMING``), so that no :meth:`stream`
            waits for them; otherwise the first stream compiles them
            (seconds for the shipped policies). For voice agents.

    Raises:
        PolicyIOError: the path is missing or unreadable.
        PolicyError: the policy is invalid; ``err.file``, ``err.line``,
            ``err.column`` locate the first error, ``err.diagnostics`` lists
            them all.
        PatternCompileError: a pattern failed to compile (a PolicyError).
        LibraryNotFoundError: libreplyguard could not be loaded (an
            ImportError).

    Use as a context manager, or call :meth:`close`, to free the engine
    deterministically; otherwise it is freed when the Guard is collected.
    """

    def __init__(self, policies_dir: PathLike,
                 cache_dir: Optional[PathLike] = None,
                 streaming: bool = False) -> None:
        lib = _lib.lib()
        self._path = _fspath(policies_dir)
        self.policies_dir: str = os.fsdecode(self._path)
        self.cache_dir: Optional[str] = (
            os.fsdecode(os.fspath(cache_dir)) if cache_dir is not None else None)
        engine = c_void_p()
        diag = POINTER(rg_diag)()
        opts = None
        if cache_dir is not None or streaming:
            opts = rg_engine_options()
            opts.struct_size = ctypes.sizeof(rg_engine_options)
            if cache_dir is not None:
                opts.cache_dir = _fspath(cache_dir)
            if streaming:
                opts.flags = _RG_ENGINE_STREAMING
            opts = byref(opts)
        status = lib.rg_engine_open(byref(engine), self._path, opts, byref(diag))
        diagnostics = _take_diag(diag)
        if status != 0:
            _raise(status, f"cannot load policies from {self.policies_dir!r}",
                   diagnostics)
        #: Warnings from the last successful load or reload.
        self.warnings: Tuple[Diagnostic, ...] = tuple(diagnostics)
        self._core = _Core(engine.value)
        self._local = _ThreadState()
        # Not at interpreter exit: a daemon thread may still be checking.
        self._finalizer = weakref.finalize(self, self._core.close)
        self._finalizer.atexit = False
        self._lib = lib
        self._check = lib.rg_check

    # -- lifetime ---------------------------------------------------------

    def close(self) -> None:
        """Free the engine and every thread's scratch. No check may be
        running on any thread. Idempotent."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return self._core.engine is None

    def __enter__(self) -> "Guard":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _engine(self) -> int:
        engine = self._core.engine
        if engine is None:
            raise GuardClosedError("the Guard is closed")
        return engine

    def _slot(self) -> _Handles:
        lib = self._lib
        core = self._core
        h = _Handles()
        with core.lock:
            if core.engine is None:
                raise GuardClosedError("the Guard is closed")
            scratch = c_void_p()
            status = lib.rg_scratch_alloc(core.engine, byref(scratch))
            if status != 0:
                _raise(status, "cannot allocate scratch")
            h.scratch = scratch.value
            result = c_void_p()
            status = lib.rg_result_alloc(None, byref(result))
            if status != 0:
                h.free(lib)
                _raise(status, "cannot allocate result")
            h.result = result.value
            key = core.next_key
            core.next_key += 1
            core.live[key] = h
        slot = _Slot(h)
        weakref.finalize(slot, core.release, key).atexit = False
        self._local.slot = slot
        return h

    # -- checking ---------------------------------------------------------

    def check(self, reply: Text, route: str = "default",
              user_message: Optional[Text] = None,
              history: Optional[Sequence[Text]] = None,
              channel: Optional[str] = None,
              locale: Optional[str] = None) -> Result:
        """Check one draft reply and return the verdict with its reasons.

        Args:
            reply: the draft reply (``str``, or ``bytes`` treated as
                untrusted UTF-8: invalid sequences are repaired and flagged).
            route: the conversation's route in the policy set.
            user_message: the customer's last message, if known.
            history: the last few assistant replies, oldest first.
            channel: "chat", "voice", "sms", "email", ...
            locale: BCP 47, e.g. "en-US".

        Returns:
            a :class:`Result`. Running past the route's latency budget or
            size limit is not an error: the result carries the route's
            fail-safe verdict and ``Flag.FAILSAFE``.

        Raises:
            UnknownRouteError: ``route`` is not in the policy set.
            EngineError, OutOfMemoryError: the check failed. In every case
                ``err.result`` holds the fail-safe verdict the library chose
                (never an accidental allow).
            GuardClosedError: after :meth:`close`.
            TypeError, ValueError: arguments of the wrong type, or NUL
                characters in route/channel/locale.

        Thread-safe; releases the GIL while the C check runs.
        """
        engine = self._core.engine
        if engine is None:
            raise GuardClosedError("the Guard is closed")
        local = self._local
        slot = local.slot
        h = slot.h if slot is not None else self._slot()
        if h.scratch is None:       # freed by close() on another thread
            raise GuardClosedError("the Guard is closed")
        if reply.__class__ is str:  # the common case, inline
            try:
                raw = reply.encode()
            except UnicodeEncodeError:
                raw = _text(reply, "reply")
        else:
            raw = _text(reply, "reply")
        req = local.request
        rb = _ROUTES.get(route)
        if rb is None:
            rb = _cstr(route, "route")
            if route.__class__ is str and len(_ROUTES) < 1024:
                _ROUTES[route] = rb
        req.route = rb
        req.reply = raw
        req.reply_len = len(raw)
        # The optional fields are written only when given or left set by
        # the previous check on this thread (each field write costs).
        extra = (user_message is not None or history or channel is not None
                 or locale is not None)
        if extra or local.extra:
            self._fill_optional(req, user_message, history, channel, locale)
            local.extra = extra
        status = self._check(engine, h.scratch, req, h.result)
        result = self._read(h.result, reply, raw)
        req.reply = None
        if status != 0:
            _raise(status, f"check on route {route!r} failed", result=result)
        return result

    @staticmethod
    def _fill_optional(req: rg_request, user_message: Optional[Text],
                       history: Optional[Sequence[Text]], channel: Optional[str],
                       locale: Optional[str]) -> None:
        if user_message is not None:
            um = _text(user_message, "user_message")
            req.user_message = um
            req.user_message_len = len(um)
        else:
            req.user_message = None
            req.user_message_len = 0
        if history:
            if isinstance(history, (str, bytes)):
                raise TypeError("history must be a sequence of str or bytes, not a single string")
            items = [_text(x, "history item") for x in history]
            arr = (rg_text * len(items))(*[rg_text(b, len(b)) for b in items])
            req.history = arr
            req.history_count = len(items)
        else:
            req.history = None
            req.history_count = 0
        req.channel = _cstr(channel, "channel")
        req.locale = _cstr(locale, "locale")

    def _read(self, res: int, reply: Text, raw: bytes) -> Result:
        lib = self._lib
        verdict = VERDICTS[lib.rg_result_verdict(res)]
        bits = lib.rg_result_flags(res)
        flags = _flag_tuple(bits) if bits else ()
        hits: Tuple[Hit, ...] = ()
        n = lib.rg_result_hit_count(res)
        if n:
            as_str = isinstance(reply, str) and len(raw) != len(reply)
            memo: Dict[int, int] = {}
            out = []
            for i in range(n):
                h = lib.rg_result_hit(res, i).contents
                bs, be = h.start, h.end
                if h.source:
                    # Not a span of the reply (docs/CONVERSATION.md).
                    out.append(Hit(h.detector.decode(), h.category.decode(),
                                   bs, be, h.score, bs, be, bool(h.shadow),
                                   _SOURCES.get(h.source, "conversation")))
                    continue
                if as_str:
                    s = _char_offset(raw, bs, memo)
                    e = _char_offset(raw, be, memo)
                else:
                    s, e = bs, be
                out.append(Hit(h.detector.decode(), h.category.decode(),
                               s, e, h.score, bs, be, bool(h.shadow)))
            hits = tuple(out)
        categories: Dict[str, float] = {}
        n = lib.rg_result_category_count(res)
        for i in range(n):
            c = lib.rg_result_category(res, i).contents
            categories[c.category.decode()] = c.score
        reasons: Tuple[Reason, ...] = ()
        n = lib.rg_result_reason_count(res)
        if n:
            rs = []
            for i in range(n):
                r = lib.rg_result_reason(res, i).contents
                rs.append(Reason(r.category.decode(), r.rule.decode(),
                                 r.route.decode(), r.action.decode(),
                                 r.score, r.threshold, bool(r.shadow)))
            reasons = tuple(rs)
        redacted: Optional[Text] = None
        if bits & 0x40:  # RG_FLAG_REDACTED
            size = c_size_t()
            ptr = lib.rg_result_redacted(res, byref(size))
            if ptr:
                data = string_at(ptr, size.value)
                if isinstance(reply, str):
                    try:
                        redacted = data.decode("utf-8")
                    except UnicodeDecodeError:
                        redacted = data.decode("utf-8", "surrogatepass")
                else:
                    redacted = data
        # Policy identity and route names repeat: decode each once. The
        # hash covers the policy files, version line included.
        hb = lib.rg_result_policy_hash(res)
        policy = _POLICIES.get(hb) if hb else None
        if policy is None:
            vb = lib.rg_result_policy_version(res)
            policy = PolicyInfo(vb.decode("utf-8", "replace"), hb.decode("ascii", "replace"))
            if hb:
                if len(_POLICIES) > 64:
                    _POLICIES.clear()
                _POLICIES[hb] = policy
        rb = lib.rg_result_route(res)
        route = _NAMES.get(rb)
        if route is None:
            route = rb.decode("utf-8", "replace")
            if len(_NAMES) < 1024:
                _NAMES[rb] = route
        handoff: Optional[Dict[str, Any]] = None
        if verdict is Verdict.HANDOFF:
            handoff = _handoff_context(lib, res)
        return Result(
            verdict, hits, categories, reasons, redacted,
            lib.rg_result_elapsed_ns(res), policy, route, flags,
            VERDICTS[lib.rg_result_shadow_verdict(res)] if bits & 0x80 else verdict,
            handoff)

    # -- streaming --------------------------------------------------------

    def stream(self, route: str = "default", **kwargs: Any) -> "Stream":
        """Check a reply while it is generated: feed it chunk by chunk and
        release only what is known to be safe (:class:`replyguard.Stream`;
        keyword arguments: channel, locale, labels)."""
        from .stream import Stream
        return Stream(self, route, **kwargs)

    def guarded(self, tokens: Any, route: str = "default", **kwargs: Any) -> "GuardedStream":
        """An async iterator of the releasable text of ``tokens`` (an
        iterable or async iterable of str or bytes):
        :class:`replyguard.GuardedStream`."""
        from .stream import GuardedStream
        return GuardedStream(self, tokens, route, **kwargs)

    # -- reload and introspection -------------------------------------------

    def reload(self, policies_dir: Optional[PathLike] = None) -> None:
        """Compile the policy set again (from ``policies_dir``, or the
        directory the Guard was opened with) and swap it in atomically.

        Checks already running finish on the old policy; later checks use the
        new one. On any error the running policy stays in force and the
        exception (PolicyError with file/line/column, PolicyIOError, ...) is
        raised. Safe while other threads check.
        """
        engine = self._engine()
        path = _fspath(policies_dir) if policies_dir is not None else None
        diag = POINTER(rg_diag)()
        status = self._lib.rg_engine_reload(engine, path, byref(diag))
        diagnostics = _take_diag(diag)
        if status != 0:
            where = os.fsdecode(path) if path is not None else self.policies_dir
            _raise(status, f"cannot reload policies from {where!r} "
                   "(the running policy stays in force)", diagnostics)
        if path is not None:
            self._path = path
            self.policies_dir = os.fsdecode(path)
        self.warnings = tuple(diagnostics)

    @property
    def info(self) -> Dict[str, Any]:
        """The current snapshot: ``version``, ``hash``, ``generation`` (1 after
        open, +1 per successful reload), ``detectors``, ``patterns``,
        ``routes`` (count) and ``compile_ns``."""
        info = rg_engine_info()
        status = self._lib.rg_engine_get_info(self._engine(), byref(info))
        if status != 0:
            _raise(status, "cannot read engine info")
        return {"version": info.policy_version.decode(),
                "hash": info.policy_hash.decode(),
                "generation": info.generation,
                "detectors": info.detector_count,
                "patterns": info.pattern_count,
                "routes": info.route_count,
                "compile_ns": info.compile_ns}

    @property
    def policy(self) -> PolicyInfo:
        """Version and hash of the policy currently in force."""
        i = self.info
        return PolicyInfo(i["version"], i["hash"])

    @property
    def routes(self) -> List[str]:
        """The route names of the current snapshot, in name order."""
        engine = self._engine()
        buf = create_string_buffer(256)
        out = []
        i = 0
        while self._lib.rg_engine_route_name(engine, i, buf, len(buf)) == 0:
            out.append(buf.value.decode())
            i += 1
        return out

    def metrics(self) -> str:
        """The engine's metrics in the Prometheus text format: checks by
        route, verdict and channel, latency histograms, category hits,
        reloads, ... (docs/OBSERVABILITY.md). Counted over every Guard that
        shares the engine."""
        engine = self._engine()
        size = c_size_t(0)
        cap = 16384
        while True:
            buf = create_string_buffer(cap)
            status = self._lib.rg_engine_metrics(engine, buf, cap, byref(size))
            if status != -10:  # RG_E_RANGE: did not fit
                break
            cap = size.value + 4096  # the text may grow between two calls
        if status != 0:
            _raise(status, "cannot render metrics")
        return buf.raw[:size.value].decode("utf-8", "replace")

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<replyguard.Guard {self.policies_dir!r} {state}>"


def _char_offset(raw: bytes, off: int, memo: Dict[int, int]) -> int:
    """UTF-8 byte offset -> code point index into the str that was encoded
    (spans cover whole code points, so the prefix decodes cleanly)."""
    v = memo.get(off)
    if v is None:
        try:
            v = len(raw[:off].decode("utf-8", "surrogatepass"))
        except UnicodeDecodeError:  # a span edge inside a repaired sequence
            v = len(raw[:off].decode("utf-8", "ignore"))
        memo[off] = v
    return v
