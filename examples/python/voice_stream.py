"""voice_stream.py: a voice agent that speaks while the model is still writing.

A stand-in LLM streams two replies token by token. Text-to-speech must start
before the reply is finished, yet nothing unsafe may be spoken: replyguard
checks each token as it arrives and says how many bytes are safe to release.
Only that text is "spoken" (printed here with the token it became safe at).

  reply 1  reads out a card number cut across four tokens: the digits are
           held back until the number is complete, then spoken masked.
  reply 2  contains a slur cut across two tokens: speech stops before it,
           the stream blocks, and the agent says a fallback line instead.

The final verdict of each stream is the one guard.check() gives the whole
reply. Nothing detected is ever printed: the card goes out masked, the slur
never goes out, and the summary names categories only.

Usage: python3 examples/python/voice_stream.py [POLICY_DIR]   (default: policies)
From a clone, after `make`: python3 examples/python/voice_stream.py (examples/python/
replyguard links bindings/python/replyguard).
"""
from __future__ import annotations

import asyncio
import sys
from typing import AsyncIterator, List

from replyguard import Guard, Verdict

FALLBACK = "Sorry, let me put you through to a colleague."

# Tokens as an LLM would stream them (a card number and a slur split apart).
REPLIES: List[List[str]] = [
    ["Sure", "! I", " have", " updated", " the card", " 41", "11 11", "11 1111",
     " 1111", " on your", " account", ". Anything", " else", "?"],
    ["I under", "stand.", " Those", " people", " are", " ab", "eed", " and",
     " not", " welcome", " here", "."],
]


async def llm(tokens: List[str]) -> AsyncIterator[str]:
    """The stand-in model: one token at a time."""
    for t in tokens:
        await asyncio.sleep(0)  # a real model would take ~20-50 ms per token
        yield t


async def speak_reply(guard: Guard, n: int, tokens: List[str]) -> None:
    print(f"reply {n}:")
    stream = guard.stream(route="default", channel="voice")
    spoken = []
    async for token in llm(tokens):
        update = stream.feed(token)
        if update.text:
            # Everything before safe_bytes is known to be safe: say it now.
            print(f"  [speak] {update.text!r:<38} (safe {update.safe_bytes:>3} of "
                  f"{stream.bytes_fed:>3} bytes)")
            spoken.append(update.text)
        if update.verdict is Verdict.BLOCK:
            break
    final = stream.close()
    if final.text:
        print(f"  [speak] {final.text!r:<38} (end of reply)")
        spoken.append(final.text)
    result = final.result
    cats = ", ".join(sorted(result.categories)) or "none"
    if result.verdict is Verdict.BLOCK:
        print(f"  stopped: block ({cats}); the agent says: {FALLBACK!r}")
    else:
        print(f"  verdict {result.verdict.value} (categories: {cats})")
    print(f"  the customer heard: {''.join(spoken)!r}")
    # The streamed verdict is the verdict of the whole reply, unless a
    # fail-safe decided one of them (a check preempted past the route's 2 ms
    # budget on a busy host gets the timeout handoff: by design).
    whole = guard.check("".join(tokens), route="default", channel="voice")
    if not (whole.failsafe or result.failsafe):
        assert whole.verdict is result.verdict, (whole.verdict, result.verdict)


async def main(policies: str) -> None:
    # streaming=True: compile the streaming databases now, not on the first stream.
    with Guard(policies, streaming=True) as guard:
        for n, tokens in enumerate(REPLIES, 1):
            await speak_reply(guard, n, tokens)

        # The same with the async iterator, which yields only releasable text.
        print("reply 1 again, with guard.guarded():")
        g = guard.guarded(llm(REPLIES[0]), route="default")
        print("  " + " | ".join(repr(t) for t in [t async for t in g]))
        print(f"  verdict {g.result.verdict.value}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "policies"))
