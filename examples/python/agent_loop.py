"""agent_loop.py: a simulated agent turn loop guarded by replyguard.

A stand-in "LLM" drafts the agent's replies in three support conversations.
Some drafts are rude, one leaks a card number, one repeats itself. Before
anything is sent, the guard decides:

  allow    send the draft (its redacted copy when the policy masks a span)
  block    drop the draft and ask the LLM once more, saying what was wrong;
           if that is blocked too, send a safe fallback message
  handoff  send a holding message and put the conversation on the human
           queue with the handoff context: the reasons, and the draft with
           every detected span masked (no raw PII is ever printed)

It prints what the customer sees, then the human queue.

Usage: python3 examples/python/agent_loop.py [POLICY_DIR]   (default: policies)
From a clone, after `make`: python3 examples/python/agent_loop.py (examples/python/
replyguard links bindings/python/replyguard).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from replyguard import Flag, Guard, Result, Verdict

FALLBACK = "Sorry, I can't help with that here. Is there anything else I can do?"
HOLDING = "I'm bringing in a colleague who can help with this. One moment, please."

# (conversation, route, [(customer message, first draft, redraft or None)])
SCRIPT: List[Tuple[str, str, List[Tuple[str, str, Optional[str]]]]] = [
    ("A", "refunds", [
        ("Hi, my blender arrived broken.",
         "I'm sorry to hear that! Could you share your order number?", None),
        ("It's 58213.",
         "Thanks. I'll refund order 58213 to the card 4111 1111 1111 1111 you used.",
         "Thanks. I've refunded order 58213 to your original payment method; "
         "expect it in 3-5 business days."),
        ("Great, thanks!", "You're welcome! Anything else I can help with?", None),
    ]),
    ("B", "default", [
        ("Where is my order?", "Could you share your order number?", None),
        # The draft repeats the previous reply. The history goes to the guard;
        # a policy with conversation-level rules (handoff.loop) hands this off.
        ("I already told you, it's 77120!", "Could you share your order number?", None),
        ("This is ridiculous.",
         "Honestly, that's a stupid question. Read the damn receipt.", None),
    ]),
    ("C", "default", [
        ("Can I call the store directly?",
         "Sure: the store's number is 415-555-0132, or email help@example.com.", None),
        ("They didn't answer.", "Shut up, you moron.", "You're a moron for calling them."),
    ]),
]


@dataclass
class Conversation:
    name: str
    route: str
    user_messages: List[str] = field(default_factory=list)
    agent_replies: List[str] = field(default_factory=list)


@dataclass
class Handoff:
    conversation: str
    route: str
    turn: int
    user_message: str
    result: Result
    masked_draft: str


class StandInLLM:
    """Returns the scripted draft; asked again, the scripted redraft."""

    def __init__(self) -> None:
        self.drafts: Dict[Tuple[str, int], Tuple[str, Optional[str]]] = {}

    def draft(self, conv: Conversation, turn: int, avoid: Tuple[str, ...] = ()) -> Optional[str]:
        first, second = self.drafts[(conv.name, turn)]
        return second if avoid else first


def masked(text: str, result: Result) -> str:
    """The text with every hit's span replaced by [category]: safe to show a
    human agent or to log. A check that did not finish (budget, error, too
    many hits) may have missed a span, so its draft is withheld."""
    if any(f in result.flags for f in (Flag.BUDGET_EXCEEDED, Flag.ENGINE_ERROR,
                                       Flag.HITS_TRUNCATED)):
        return "[draft withheld: the check did not finish]"
    merged: List[List] = []                   # [start, end, category], overlaps joined
    for start, end, category in sorted((h.start, h.end, h.category) for h in result.hits
                                       if h.source == "reply"):  # not the user message's
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, category])
    out, pos = [], 0
    for start, end, category in merged:
        out.append(text[pos:start])
        out.append(f"[{category}]")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def explain(result: Result) -> str:
    return "; ".join(f"{r.category} {r.score:.2f} >= {r.threshold:.2f} -> {r.action}"
                     for r in result.reasons if not r.shadow) or "no threshold crossed"


def main() -> int:
    guard = Guard(sys.argv[1] if len(sys.argv) > 1 else "policies")
    llm = StandInLLM()
    queue: List[Handoff] = []
    stats = {"sent": 0, "redacted": 0, "redrafted": 0, "fallback": 0, "handoff": 0}

    for name, route, turns in SCRIPT:
        conv = Conversation(name, route)
        for turn, (message, first, second) in enumerate(turns, 1):
            llm.drafts[(name, turn)] = (first, second)
            print(f"[{name}] customer: {message}")
            conv.user_messages.append(message)
            draft = llm.draft(conv, turn)
            redrafted = False
            while True:
                assert draft is not None
                result = guard.check(draft, route=route, user_message=message,
                                     history=conv.agent_replies[-3:], channel="chat")
                if result.verdict is not Verdict.BLOCK or redrafted:
                    break
                # Blocked: never sent. Ask once more, saying what to avoid.
                print(f"    (guard: block: {explain(result)}; draft dropped, asking the LLM again)")
                redrafted = True
                draft = llm.draft(conv, turn, avoid=tuple(result.categories))
                if draft is None:
                    break

            if result.verdict is Verdict.ALLOW:
                text = result.text_to_send(draft)
                stats["redacted" if result.redacted is not None else "sent"] += 1
                stats["redrafted"] += redrafted
                if result.redacted is not None:
                    print(f"    (guard: allow with redaction: {explain(result)})")
            elif result.verdict is Verdict.BLOCK:
                text = FALLBACK
                stats["fallback"] += 1
                print(f"    (guard: block again: {explain(result)}; sending the fallback)")
            else:
                text = HOLDING
                stats["handoff"] += 1
                queue.append(Handoff(name, route, turn, message, result, masked(draft, result)))
                print(f"    (guard: handoff: {explain(result)}; queued for a human)")
            print(f"[{name}] agent:    {text}")
            conv.agent_replies.append(str(text))
            if result.verdict is Verdict.HANDOFF:
                break                          # a human takes the conversation over
        print()

    print(f"Human queue ({len(queue)}):")
    for h in queue:
        print(f"  conversation {h.conversation}, route {h.route}, turn {h.turn}, "
              f"policy {h.result.policy.version}")
        print(f"    customer said: {h.user_message}")
        print(f"    held draft:    {h.masked_draft}")
        for r in h.result.reasons:
            print(f"    reason:        {r.category} {r.score:.2f} >= {r.threshold:.2f} "
                  f"-> {r.action} (rule {r.rule} of route {r.route})")
        for hit in h.result.hits:
            print(f"    hit:           {hit.category} by {hit.detector} "
                  f"at characters {hit.start}-{hit.end}, score {hit.score:.2f}")
    print()
    print("customer saw: {sent} drafts as written, {redacted} redacted, {redrafted} after a "
          "redraft, {fallback} fallbacks, {handoff} handoffs".format(**stats))
    guard.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
