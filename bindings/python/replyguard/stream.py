"""Streaming: check a reply while the model is still writing it.

    stream = guard.stream(route="refunds")
    for token in tokens:
        update = stream.feed(token)
        speak(update.text)              # only what is known to be safe
        if update.verdict is Verdict.BLOCK:
            break
    final = stream.close()              # the same verdict as guard.check(whole)

or, for an async token source, an async iterator of releasable text:

    guarded = guard.guarded(tokens, route="refunds")
    async for text in guarded:
        await tts.say(text)
    print(guarded.result.verdict)

``update.text`` is what the chunk made releasable: everything before the
earliest position that could still become part of a finding (an unfinished
word, a digit run that could grow into a card number, a partial e-mail
address, a hit whose context words may still follow), with masks in place
of redacted spans. See docs/STREAMING.md.
"""
from __future__ import annotations

import weakref
from ctypes import POINTER, byref, c_char_p, c_int, c_size_t, c_void_p, string_at
from typing import (TYPE_CHECKING, Any, AsyncIterable, AsyncIterator, Iterable, Mapping,
                    NamedTuple, Optional, Union)

from . import _lib
from ._lib import rg_label, rg_request
from ._types import Result, Verdict
from .errors import GuardClosedError

if TYPE_CHECKING:  # pragma: no cover
    from ._guard import Guard

Text = Union[str, bytes]

_declared = False


def _c() -> Any:
    """The library, with the streaming functions declared (once)."""
    global _declared
    lib = _lib.lib()
    if not _declared:
        sigs = {
            "rg_stream_open": (c_int, [c_void_p, POINTER(rg_request), POINTER(c_void_p)]),
            "rg_stream_feed": (c_int, [c_void_p, c_void_p, c_char_p, c_size_t, c_void_p]),
            "rg_stream_close": (c_int, [c_void_p, c_void_p, c_void_p]),
            "rg_stream_free": (None, [c_void_p]),
            "rg_stream_bytes": (c_size_t, [c_void_p]),
            "rg_stream_safe_bytes": (c_size_t, [c_void_p]),
            "rg_stream_release": (c_void_p, [c_void_p, POINTER(c_size_t)]),
        }
        for name, (restype, argtypes) in sigs.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        _declared = True
    return lib


class StreamUpdate(NamedTuple):
    """What one :meth:`Stream.feed` (or :meth:`Stream.close`) says."""

    #: The text this call made releasable, masks in place (``str`` when the
    #: stream was fed ``str``, else ``bytes``). May be empty.
    text: Text
    #: Bytes (UTF-8) from the start of the stream that may be released.
    safe_bytes: int
    #: The verdict so far. Only ever becomes more severe; once BLOCK, the
    #: stream releases nothing more.
    verdict: Verdict
    #: The settled findings so far (hit offsets index the whole stream: str
    #: characters, or bytes). After close: the final result, as
    #: :meth:`Guard.check` on the whole text would return it.
    result: Result
    #: True for the update :meth:`Stream.close` returns.
    final: bool


class Stream:
    """One reply checked chunk by chunk (``rg_stream_*``).

    Create it with :meth:`Guard.stream`. Feed chunks in order from one
    thread at a time (any thread: each call uses that thread's scratch).
    Free it with :meth:`close` (or use it as a context manager); a stream
    left open is freed when collected, without recording its metrics.
    """

    def __init__(self, guard: "Guard", route: str = "default",
                 channel: Optional[str] = None, locale: Optional[str] = None,
                 labels: Optional[Mapping[str, str]] = None) -> None:
        from ._guard import _cstr, _raise
        lib = _c()
        self._guard = guard
        self._route = route
        req = rg_request()
        req.route = _cstr(route, "route")
        req.channel = _cstr(channel, "channel")
        req.locale = _cstr(locale, "locale")
        keep = []
        if labels:
            arr = (rg_label * len(labels))()
            for i, (k, v) in enumerate(labels.items()):
                kb, vb = _cstr(k, "label key"), _cstr(v, "label value")
                keep += [kb, vb]
                arr[i].key, arr[i].value = kb, vb
            req.labels = arr
            req.label_count = len(labels)
        handle = c_void_p()
        status = lib.rg_stream_open(guard._engine(), byref(req), byref(handle))
        if status != 0:
            _raise(status, f"cannot open a stream on route {route!r}")
        self._h: Optional[int] = handle.value
        self._finalizer = weakref.finalize(self, lib.rg_stream_free, handle.value)
        self._finalizer.atexit = False
        self._str: Optional[bool] = None   # fed str (True) or bytes (False)
        self._text = ""                    # everything fed, as str
        self._raw = bytearray()            # everything fed, as bytes
        self._closed = False
        self._safe = 0
        self.verdict: Verdict = Verdict.ALLOW
        #: The final result, once closed.
        self.result: Optional[Result] = None

    @property
    def safe_bytes(self) -> int:
        """Bytes (UTF-8) from the start of the stream that may be
        released (kept after close)."""
        return _c().rg_stream_safe_bytes(self._h) if self._h else self._safe

    @property
    def bytes_fed(self) -> int:
        """Bytes (UTF-8) fed so far."""
        return len(self._raw)

    @property
    def closed(self) -> bool:
        return self._closed

    def _call(self, chunk: Optional[Text]) -> StreamUpdate:
        from ._guard import _raise, _text
        if self._h is None:
            raise GuardClosedError("the stream is freed")
        g = self._guard
        g._engine()  # raises GuardClosedError once the Guard is closed
        slot = g._local.slot
        h = slot.h if slot is not None else g._slot()
        lib = _c()
        final = chunk is None
        if final:
            status = lib.rg_stream_close(self._h, h.scratch, h.result)
            self._closed = True
        else:
            if self._str is None:
                self._str = isinstance(chunk, str)
            elif self._str != isinstance(chunk, str):
                raise TypeError("feed one stream either str or bytes, not both")
            raw = _text(chunk, "chunk")
            if self._str:
                self._text += chunk  # type: ignore[operator]
            self._raw += raw
            status = lib.rg_stream_feed(self._h, h.scratch, raw, len(raw), h.result)
        whole: Text = self._text if self._str is not False else bytes(self._raw)
        result = g._read(h.result, whole, bytes(self._raw))
        size = c_size_t()
        ptr = lib.rg_stream_release(self._h, byref(size))
        data = string_at(ptr, size.value) if ptr and size.value else b""
        text: Text = data.decode("utf-8", "replace") if self._str is not False else data
        self.verdict = result.verdict
        if final:
            self.result = result
        if status != 0:
            _raise(status, f"stream on route {self._route!r} failed", result=result)
        return StreamUpdate(text, lib.rg_stream_safe_bytes(self._h), result.verdict,
                            result, final)

    def feed(self, chunk: Text) -> StreamUpdate:
        """Check the next chunk (``str`` or ``bytes``; a UTF-8 sequence may
        be cut between ``bytes`` chunks). Raises like :meth:`Guard.check`
        (the error's ``result`` holds the fail-safe verdict)."""
        return self._call(chunk)

    def close(self) -> StreamUpdate:
        """End of the reply: what was held back is checked as finished text
        and released unless the verdict is block; ``.result`` is final.
        Frees the stream. Calling it again raises."""
        if self._closed:
            raise GuardClosedError("the stream is closed")
        try:
            return self._call(None)
        finally:
            self.free()

    def free(self) -> None:
        """Free the C stream (idempotent). Metrics and the audit event are
        only recorded by :meth:`close`."""
        self._closed = True
        if self._h is not None:
            self._safe = _c().rg_stream_safe_bytes(self._h)
            self._finalizer()
            self._h = None

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.free()


class GuardedStream:
    """An async iterator of the releasable text of a token stream.

    Made by :meth:`Guard.guarded`. Each item is text that is known to be
    safe (masks in place); empty updates are skipped. When the verdict
    becomes block, iteration stops (the tokens not yet consumed are left
    alone); when the tokens end, the stream is closed and the rest is
    yielded. ``result`` is the final :class:`Result` once iteration ends;
    ``verdict`` is the verdict so far.
    """

    def __init__(self, guard: "Guard", tokens: Union[Iterable[Text], AsyncIterable[Text]],
                 route: str = "default", **kwargs: Any) -> None:
        self._stream = Stream(guard, route, **kwargs)
        self._tokens = tokens
        self._it: Any = None
        self._done = False
        self.verdict: Verdict = Verdict.ALLOW
        self.result: Optional[Result] = None
        self.blocked = False

    def __aiter__(self) -> AsyncIterator[Text]:
        return self

    async def _next_token(self) -> Optional[Text]:
        if self._it is None:
            if hasattr(self._tokens, "__aiter__"):
                self._it = self._tokens.__aiter__()  # type: ignore[union-attr]
            else:
                self._it = iter(self._tokens)  # type: ignore[arg-type]
        if hasattr(self._it, "__anext__"):
            try:
                return await self._it.__anext__()
            except StopAsyncIteration:
                return None
        try:
            return next(self._it)
        except StopIteration:
            return None

    async def __anext__(self) -> Text:
        while not self._done:
            token = await self._next_token()
            if token is None:
                self._done = True
                update = self._stream.close()
                self.result = update.result
                self.verdict = update.verdict
                self.blocked = update.verdict is Verdict.BLOCK
                if update.text:
                    return update.text
                break
            update = self._stream.feed(token)
            self.verdict = update.verdict
            if update.verdict is Verdict.BLOCK:
                self._done = True
                self.blocked = True
                self.result = self._stream.close().result
                break
            if update.text:
                return update.text
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop early: free the stream without closing it."""
        self._done = True
        self._stream.free()
