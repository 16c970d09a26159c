#!/usr/bin/env python3
"""Generate a realistic `replyguard batch` input for the observability demo.

Benign agent replies come from the SGD corpus (../shared/data, CC BY-SA 4.0)
when it is there, else from a small built-in list, so the script also runs
on a clean clone. Into them it injects toxic, PII and secret replies across
routes, channels, personas, tenants and locales, with timestamps spread over
several days (office hours busier), and two planted problems for the report
to surface:
  - persona "max" (an experimental prompt) is rude far more often, worst on
    voice;
  - from day 5 a prompt change makes the refunds route read card numbers
    back to customers.
Deterministic (seeded). Usage:
  gen-audit-sample.py [-n LINES] [--days D] [--seed S] [--sgd FILE] > in.jsonl
"""
import argparse, json, os, random, sys
from datetime import datetime, timedelta, timezone

BUILTIN = [
    "Your table for 4 is booked for Friday at 7:30 pm.",
    "I found 3 flights that match your dates. The earliest leaves at 6:05 am.",
    "Your refund has been issued and should reach your account within 5 business days.",
    "The appointment with Dr. Patel is confirmed for Tuesday at 10:15 am.",
    "Is there a specific cuisine you would like, such as Mexican or Italian?",
    "Your order shipped this morning; the tracking page will update tonight.",
    "I can move your booking to Saturday. Would 6 pm work for you?",
    "The hotel offers free parking and breakfast is included.",
    "Sorry for the wait! Your replacement is on its way.",
    "Would you like me to add travel insurance to this trip?",
    "The museum opens at 9 am and tickets are 15 dollars.",
    "Your prescription refill is ready for pickup at the pharmacy.",
]
SPANISH = [
    "Su reembolso ha sido emitido y llegara en 5 dias habiles.",
    "Su cita esta confirmada para el martes a las 10:15.",
    "Con gusto le ayudo a cambiar su reservacion.",
]
TOXIC = [
    "Honestly, that's a stupid question. Read the damn tracking page.",
    "Shut up and listen, you idiot. I already told you twice.",
    "What the hell do you want now? Your order is late, deal with it.",
    "I don't give a damn about your refund.",
    "File one more complaint and you'll regret it.",
    "You people are pathetic morons, honestly.",
]
CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004", "4012 8888 8888 1881"]
PII = [
    "I've saved the card {card} to your account for next time.",
    "I found your record under SSN {ssn}. You're all set.",
    "I've emailed the label to {email}. Drop it at any post office.",
    "Your date of birth 04/12/1985 is on file, and we'll call {phone} tomorrow.",
    "I've updated {email} and the card {card} on your profile.",
]
HEALTH_PII = [
    "Patient ID MRN: A1234567 shows your lab results are in.",
    "Your date of birth 07/22/1979 matches our records, SSN {ssn} confirmed.",
]
SECRETS = [
    "Use the temporary password: Welcome2024! to sign in.",
    "Our integration key is AKIAIOSFODNN7EXAMPLE, paste it into settings.",
]
NAMES = ["maria.gonzalez", "j.smith", "amy.chen", "li.wei", "omar.haddad"]


def pick(rng, weights):
    r = rng.random() * sum(w for _, w in weights)
    for v, w in weights:
        r -= w
        if r <= 0:
            return v
    return weights[-1][0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=4000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=42)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--sgd", default=os.path.join(
        here, "..", "..", "shared", "data", "agent_replies_sgd_train.txt"))
    ap.add_argument("--start", default="2026-11-09T00:00:00")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    benign = BUILTIN
    if os.path.exists(a.sgd):
        with open(a.sgd, encoding="utf-8", errors="replace") as f:
            lines = [l.strip() for l in f if 20 <= len(l.strip()) <= 240]
        rng.shuffle(lines)
        benign = lines[:20000] or BUILTIN
    start = datetime.fromisoformat(a.start).replace(tzinfo=timezone.utc)
    out = sys.stdout
    for i in range(a.n):
        route = pick(rng, [("default", 55), ("refunds", 25), ("healthcare", 20)])
        channel = pick(rng, [("chat", 50), ("voice", 20), ("sms", 15), ("email", 15)])
        locale = pick(rng, [("en-US", 70), ("en-GB", 20), ("es-MX", 10)])
        persona = pick(rng, [("ava", 45), ("nova", 40), ("max", 15)])
        tenant = pick(rng, [("acme", 50), ("globex", 30), ("initech", 20)])
        # Office hours are busier: draw a day, then an hour weighted to 8-20h.
        day = rng.randrange(a.days)
        hour = pick(rng, [(h, 4 if 8 <= h < 20 else 1) for h in range(24)])
        t = start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
        fmt = dict(card=rng.choice(CARDS),
                   ssn="%03d-%02d-%04d" % (rng.randrange(101, 665), rng.randrange(1, 99),
                                           rng.randrange(1, 9999)),
                   email=rng.choice(NAMES) + "@example.com",
                   phone="(415) 555-%04d" % rng.randrange(100, 9999))
        p_toxic = 0.02
        if persona == "max":
            p_toxic = 0.12 if channel != "voice" else 0.30
        p_pii = 0.05
        if route == "refunds" and day >= 4:
            p_pii = 0.22  # the prompt change on day 5
        r = rng.random()
        if r < p_toxic:
            reply = rng.choice(TOXIC)
        elif r < p_toxic + p_pii:
            if route == "healthcare" and rng.random() < 0.5:
                reply = rng.choice(HEALTH_PII).format(**fmt)
            elif route == "refunds" and day >= 4:
                reply = PII[0].format(**fmt)
            else:
                reply = rng.choice(PII).format(**fmt)
        elif r < p_toxic + p_pii + 0.004:
            reply = rng.choice(SECRETS)
        elif locale == "es-MX" and rng.random() < 0.5:
            reply = rng.choice(SPANISH)
        else:
            reply = rng.choice(benign)
        obj = {
            "id": "r%05d" % (i + 1),
            "route": route,
            "channel": channel,
            "locale": locale,
            "labels": {"tenant": tenant, "persona": persona,
                       "conversation_id": "c-%06x" % rng.randrange(1 << 24)},
            "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reply": reply,
        }
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
