"""The values a check returns: plain, immutable, typed."""
from __future__ import annotations

import enum
from typing import Any, Dict, NamedTuple, Optional, Tuple, Union


class Verdict(str, enum.Enum):
    """What to do with the draft reply. A ``str``: ``result.verdict ==
    "block"`` works, and ``str(verdict)`` is the bare name."""

    ALLOW = "allow"      #: send the reply (the redacted copy, if there is one)
    HANDOFF = "handoff"  #: hand the conversation to a human
    BLOCK = "block"      #: do not send this reply

    def __str__(self) -> str:
        return self.value


#: Verdict by the C enum value (RG_ALLOW, RG_HANDOFF, RG_BLOCK).
VERDICTS = (Verdict.ALLOW, Verdict.HANDOFF, Verdict.BLOCK)


class Flag(str, enum.Enum):
    """Why a verdict is what it is beyond the policy (``RG_FLAG_*``)."""

    BUDGET_EXCEEDED = "budget_exceeded"  #: ran past the route's budget_us
    OVERSIZE = "oversize"                #: longer than the route's max_bytes
    ENGINE_ERROR = "engine_error"        #: the engine failed; on_error decided
    FAILSAFE = "failsafe"                #: a fail-safe setting decided
    INVALID_UTF8 = "invalid_utf8"        #: the reply held invalid UTF-8
    HITS_TRUNCATED = "hits_truncated"    #: more hits than a result keeps
    REDACTED = "redacted"                #: a redact action applied
    SHADOW = "shadow"                    #: holds shadow-mode findings
    RELEASED_UNMASKED = "released_unmasked"  #: streaming: a span now masked was already released

    def __str__(self) -> str:
        return self.value


#: (bit, Flag) in the order of the C header.
FLAG_BITS = tuple((1 << i, f) for i, f in enumerate(Flag))


class Hit(NamedTuple):
    """One detector hit.

    ``start``/``end`` index the reply as it was passed: characters of a
    ``str`` (``reply[hit.start:hit.end]``), bytes of a ``bytes``.
    ``byte_start``/``byte_end`` are always UTF-8 byte offsets. Never log the
    span's text: it is the detected PII or abuse itself.
    """

    detector: str
    category: str
    start: int
    end: int
    score: float
    byte_start: int
    byte_end: int
    #: The detector is in shadow mode: reported, but it did not count.
    shadow: bool = False
    #: Which text the hit is in: ``"reply"``, ``"user_message"`` (then
    #: ``start``/``end`` are UTF-8 byte offsets of the user message) or
    #: ``"conversation"`` (a finding with no span, e.g. a missing
    #: disclosure). See docs/CONVERSATION.md.
    source: str = "reply"


class Reason(NamedTuple):
    """A category score crossed a threshold of the route."""

    category: str   #: the category that crossed, e.g. "pii.payment_card"
    rule: str       #: the threshold key that applied, e.g. "pii" or "toxicity"
    route: str      #: the route that defined that threshold
    action: str     #: "block", "handoff" or "redact"
    score: float
    threshold: float
    #: A shadow finding (shadow detector or shadow route): decided nothing.
    shadow: bool = False


class PolicyInfo(NamedTuple):
    """Identity of the compiled policy snapshot that decided."""

    version: str    #: the policy set's ``version:``
    hash: str       #: SHA-256 of the policy files, lowercase hex


class Diagnostic(NamedTuple):
    """One policy load/compile diagnostic. ``line``/``column`` are 1-based;
    0 means the whole file (and ``file`` may be None)."""

    file: Optional[str]
    line: int
    column: int
    severity: str   #: "error" or "warning"
    message: str

    def __str__(self) -> str:
        where = self.file or "<policy>"
        if self.line:
            where += f":{self.line}:{self.column}"
        return f"{where}: {self.severity}: {self.message}"


class Result(NamedTuple):
    """The outcome of :meth:`replyguard.Guard.check`.

    It owns plain Python copies of everything, so it stays valid after later
    checks and reloads.
    """

    verdict: Verdict
    #: Every hit (up to 256; ``Flag.HITS_TRUNCATED`` says when more existed).
    hits: Tuple[Hit, ...]
    #: Score per category that scored, e.g. ``{"pii.payment_card": 0.95}``.
    categories: Dict[str, float]
    #: Every threshold crossed, most severe first as the engine reports them.
    reasons: Tuple[Reason, ...]
    #: The reply with redacted spans masked, or None when nothing was
    #: redacted. Same type as the reply passed (``str`` or ``bytes``).
    redacted: Optional[Union[str, bytes]]
    #: Wall time of the check inside the library, in nanoseconds.
    elapsed_ns: int
    policy: PolicyInfo
    #: The route that decided.
    route: str
    flags: Tuple[Flag, ...]
    #: What the verdict would have been had shadow-mode rules enforced
    #: (equal to ``verdict`` unless ``Flag.SHADOW`` is set).
    shadow_verdict: Verdict
    #: For a handoff: the context for the human who takes over (route, turn,
    #: reasons, triggers as ``[category]`` placeholders, a redacted excerpt of
    #: the draft); None for allow and block. docs/CONVERSATION.md.
    handoff_context: Optional[Dict[str, Any]] = None

    @property
    def failsafe(self) -> bool:
        """True when a fail-safe setting (timeout, oversize, engine error)
        decided rather than the policy's thresholds alone."""
        return Flag.FAILSAFE in self.flags

    def text_to_send(self, reply: Union[str, bytes]) -> Optional[Union[str, bytes]]:
        """What may be sent for ``reply``: the redacted copy if there is one,
        the reply itself when allowed, None for handoff or block."""
        if self.verdict is not Verdict.ALLOW:
            return None
        return self.redacted if self.redacted is not None else reply

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict shaped like the CLI's ``batch`` output object."""
        redacted = self.redacted
        if isinstance(redacted, bytes):
            redacted = redacted.decode("utf-8", "replace")
        return {
            "verdict": self.verdict.value,
            "route": self.route,
            "categories": dict(self.categories),
            "hits": [dict({"detector": h.detector, "category": h.category,
                           "start": h.byte_start, "end": h.byte_end,
                           "score": h.score}, **({"shadow": True} if h.shadow else {}),
                          **({"source": h.source} if h.source != "reply" else {}))
                     for h in self.hits],
            "reasons": [{k: v for k, v in r._asdict().items()
                         if k != "shadow" or v} for r in self.reasons],
            "flags": [f.value for f in self.flags],
            "redacted": redacted,
            "elapsed_ns": self.elapsed_ns,
            "policy": self.policy._asdict(),
        }
