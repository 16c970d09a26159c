#!/usr/bin/env python3
"""Build the benchmark corpora (docs/PERFORMANCE.md) into OUTDIR.

  make-corpora.py [--source FILE] [--lexicons DIR] [--seed N] OUTDIR
  make-corpora.py --smoke [--source FILE] [--lexicons DIR] OUTFILE

One reply per line, any bytes, never '\\n' or '\\r' inside a line:

  short.txt        the SGD agent replies as they are (~60 B each)
  long.txt         consecutive replies joined with a space to 1-2 KB
  mix5.txt         short replies, 5% with injected toxic or PII content
                   (lexicon terms, insults, Luhn-valid card numbers, valid
                   SSNs, emails, phone numbers)
  adversarial.txt  8 KB lines built to stress the engine (also split per kind
                   into adversarial/KIND.txt): only digits,
                   repeated letters, separators, near-miss card numbers,
                   near-miss SSNs, a lexicon term repeated with and without
                   spaces, non-ASCII (accents, CJK, emoji, combining marks,
                   zero-width, fullwidth), invalid UTF-8, email-like runs

--smoke writes a few hundred mixed lines (short, injected, long and
adversarial ones cut to 2 KB) for the CI allocation smoke test. Without the
source file (../shared is absent) it falls back to replies built from
templates in this script, so the smoke test never needs ../shared.

Deterministic: the same seed and inputs give the same bytes. The corpora
are build products, never committed (the SGD data is CC BY-SA 4.0).
Python 3 standard library only.
"""
import argparse
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_SOURCE = os.path.join(ROOT, "..", "shared", "data", "agent_replies_sgd_train.txt")
DEFAULT_LEXICONS = os.path.join(ROOT, "policies", "lexicons", "en")

# Lexicon files whose terms decide a verdict (the ambiguous lists only report).
TOXIC_LEXICONS = ["insults.txt", "surge-profanity.txt", "threats.txt", "surge-sexual.txt",
                  "mild-profanity.txt"]

TEMPLATES = [
    "Your reservation at {place} is confirmed for {n} people at {h} pm.",
    "I found {n} flights to {city} leaving on {day}; the cheapest is ${p}.",
    "The restaurant is located at {n} {street} Street in {city}.",
    "Would you like me to book a table for {n} at {place} on {day}?",
    "Your refund of ${p} has been processed and should arrive within {n} days.",
    "I'm sorry, there are no rooms available at {place} on {day}.",
    "The event starts at {h} pm at {place}; tickets cost ${p} each.",
    "Is there anything else I can help you with today?",
    "Your appointment with Dr. {name} is on {day} at {h}:30 am.",
    "The bus from {city} departs at {h}:15 and takes about {n} hours.",
]
WORDS = {
    "place": ["The Blue Door", "Cafe Rio", "Hotel Nova", "Sunset Grill", "Pier 39 Diner"],
    "city": ["San Jose", "Portland", "Chicago", "Austin", "Seattle", "Denver"],
    "street": ["Main", "Oak", "Saint Peter", "Market", "Pine"],
    "day": ["Monday", "March 3rd", "next Friday", "the 14th", "Sunday"],
    "name": ["Patel", "Nguyen", "Garcia", "Smith", "Okafor"],
}


def template_replies(rng, n):
    out = []
    for _ in range(n):
        t = rng.choice(TEMPLATES)
        out.append(t.format(place=rng.choice(WORDS["place"]), city=rng.choice(WORDS["city"]),
                            street=rng.choice(WORDS["street"]), day=rng.choice(WORDS["day"]),
                            name=rng.choice(WORDS["name"]), n=rng.randint(1, 12),
                            h=rng.randint(1, 11), p=rng.randint(20, 900)))
    return out


def read_source(path):
    with open(path, "rb") as f:
        lines = [l.rstrip(b"\r\n") for l in f]
    return [l for l in lines if l]


def read_terms(lexdir):
    terms = []
    for name in TOXIC_LEXICONS:
        p = os.path.join(lexdir, name)
        try:
            with open(p, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if not line or line.startswith("#"):
                        continue
                    term = line.split("\t")[0].strip()
                    if term and len(term) >= 3 and "*" not in term:
                        terms.append(term)
        except OSError:
            pass
    if not terms:
        terms = ["idiot", "moron", "stupid"]  # lexicons missing: still inject something
    return terms


# ---- personal data --------------------------------------------------------

def luhn_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def card(rng, valid=True):
    prefix = rng.choice(["4", "51", "52", "37", "6011"])
    length = 15 if prefix == "37" else 16
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - 1 - len(prefix)))
    last = luhn_digit(body)
    if not valid:
        last = str((int(last) + rng.randint(1, 9)) % 10)
    num = body + last
    style = rng.randint(0, 2)
    if style == 0 or length != 16:
        return num
    sep = " " if style == 1 else "-"
    return sep.join(num[i:i + 4] for i in range(0, 16, 4))


def ssn(rng):
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return "%03d-%02d-%04d" % (area, rng.randint(1, 99), rng.randint(1, 9999))


def email(rng):
    user = rng.choice(["maria.lopez", "j.smith", "support+42", "tom_b", "anna"])
    return "%s%d@%s" % (user, rng.randint(1, 999),
                        rng.choice(["example.com", "mail.example.org", "corp.example.net"]))


def phone(rng):
    return "(%d) %d-%04d" % (rng.randint(201, 989), rng.randint(201, 989), rng.randint(0, 9999))


def inject(rng, line, terms):
    """A short reply with toxic or PII content spliced in."""
    kind = rng.randrange(6)
    if kind == 0:
        piece = rng.choice(terms)
    elif kind == 1:
        piece = "you %s" % rng.choice(terms)
    elif kind == 2:
        piece = "your card number is %s" % card(rng)
    elif kind == 3:
        piece = "SSN %s" % ssn(rng)
    elif kind == 4:
        piece = "write to %s" % email(rng)
    else:
        piece = "call %s" % phone(rng)
    words = line.split(b" ")
    at = rng.randint(0, len(words))
    words.insert(at, piece.encode("utf-8"))
    return b" ".join(words)


# ---- corpora --------------------------------------------------------------

def long_lines(src, rng):
    out, i = [], 0
    while i < len(src):
        target = rng.randint(1024, 2048)
        cur = src[i]
        i += 1
        while i < len(src) and len(cur) + 1 + len(src[i]) <= 2048:
            cur += b" " + src[i]
            i += 1
            if len(cur) >= target:
                break
        if len(cur) >= 1024:
            out.append(cur)
    return out


def mix5(src, rng, terms):
    return [inject(rng, l, terms) if rng.random() < 0.05 else l for l in src]


NONASCII = ("é", "ü", "ñ", "ß", "ø", "中", "文", "日本", "한", "ü", "Ω", "Ж", "😀", "👍🏽",
            "🇺🇸", "\u200b", "\u200d", "\ufeff", "\u2060", "ｆ", "ｕ", "Ａ", "ﬁ", "\u0301",
            "\u0308", "\u0327", "\u202e", "\u00a0", "\u3000", "…", "’")


def fill(rng, size, gen):
    parts, n = [], 0
    while n < size:
        p = gen()
        parts.append(p)
        n += len(p)
    return b"".join(parts)[:size]


def cut_utf8(b, size):
    """b cut to at most size bytes on a UTF-8 boundary (valid input stays valid)."""
    b = b[:size]
    while b and (b[-1] & 0xC0) == 0x80:
        b = b[:-1]
    if b and b[-1] >= 0xC0:
        b = b[:-1]
    return b


def adversarial(rng, terms, size=8192, per_kind=32):
    A = []
    digits = lambda: str(rng.randint(0, 9)).encode()
    kinds = {
        "digits": lambda: fill(rng, size, lambda: "".join(str(rng.randint(0, 9)) for _ in range(64)).encode()),
        "digits_spaced": lambda: fill(rng, size, lambda: ("".join(str(rng.randint(0, 9)) for _ in range(rng.randint(1, 5))) + rng.choice(" -.")).encode()),
        "letter_run": lambda: rng.choice(b"aesx").to_bytes(1, "big") * size,
        "letters_alt": lambda: fill(rng, size, lambda: rng.choice([b"ab", b"ass", b"shi", b"fu", b"xo"])),
        "separators": lambda: fill(rng, size, lambda: rng.choice([b" ", b"-", b".", b"_", b"*", b"@", b"/", b"\t", b"  ", b"--"])),
        "card_nearmiss": lambda: fill(rng, size, lambda: (card(rng, valid=False) + " ").encode()),
        "ssn_nearmiss": lambda: fill(rng, size, lambda: ("%03d-%02d-%04d " % (rng.choice([0, 666, 900, 123]), rng.randint(0, 99), rng.randint(0, 9999))).encode()),
        "term_glued": lambda: fill(rng, size, lambda: rng.choice(terms).replace(" ", "").encode()),
        "term_spaced": lambda: fill(rng, size, lambda: (rng.choice(terms) + " ").encode()),
        "nonascii": lambda: cut_utf8(fill(rng, size + 8, lambda: rng.choice(NONASCII).encode() + (b"a" if rng.random() < .3 else b"")), size),
        "combining": lambda: cut_utf8(b"a" + "\u0301\u0308\u0327".encode() * (size // 6 + 1), size),
        "zero_width_word": lambda: cut_utf8(fill(rng, size + 8, lambda: "\u200b".join(rng.choice(terms)).encode() + b" "), size),
        "invalid_utf8": lambda: fill(rng, size, lambda: bytes(rng.choice([rng.randint(0x80, 0xFF), rng.randint(0x20, 0x7E), 0xC3, 0xE2, 0xF0, 0xED, 0xC0]) for _ in range(32))),
        "email_like": lambda: fill(rng, size, lambda: rng.choice([b"a@b.", b"x.y@", b"aa@bb.cc.", b"@@", b"a.b.c.d@"])),
    }
    names = sorted(kinds)
    by_kind = {}
    for name in names:
        by_kind[name] = []
        for _ in range(per_kind):
            line = kinds[name]()
            assert b"\n" not in line and b"\r" not in line, name
            by_kind[name].append(line)
            A.append(line)
    rng.shuffle(A)
    return A, by_kind


def write(path, lines):
    with open(path, "wb") as f:
        for l in lines:
            f.write(l + b"\n")
    size = sum(len(l) for l in lines)
    print("%-24s %7d lines %10d bytes (%.0f B/line)" % (os.path.basename(path), len(lines), size,
                                                        size / max(1, len(lines))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--source", default=DEFAULT_SOURCE)
    ap.add_argument("--lexicons", default=DEFAULT_LEXICONS)
    ap.add_argument("--seed", type=int, default=20261104)
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    terms = read_terms(args.lexicons)
    have_source = os.path.isfile(args.source)

    if args.smoke:
        src = read_source(args.source)[:2000] if have_source else []
        if len(src) < 300:
            src = [t.encode() for t in template_replies(rng, 300)]
        short = src[:300]
        lines = short + [inject(rng, l, terms) for l in short[:60]]
        lines += long_lines(src, rng)[:10]
        adv, _ = adversarial(rng, terms, size=2048, per_kind=2)
        lines += adv
        lines.append(b"")  # empty reply
        rng.shuffle(lines)
        write(args.out, lines)
        print("source: %s" % (args.source if have_source else "templates (no %s)" % args.source))
        return 0

    if not have_source:
        print("make-corpora: %s not found (the SGD replies from ../shared/data)" % args.source,
              file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    src = read_source(args.source)
    write(os.path.join(args.out, "short.txt"), src)
    write(os.path.join(args.out, "long.txt"), long_lines(src, rng))
    write(os.path.join(args.out, "mix5.txt"), mix5(src, rng, terms))
    adv, by_kind = adversarial(rng, terms)
    write(os.path.join(args.out, "adversarial.txt"), adv)
    # The same lines, one file per kind, to see which kind costs what.
    kdir = os.path.join(args.out, "adversarial")
    os.makedirs(kdir, exist_ok=True)
    for name, lines in by_kind.items():
        with open(os.path.join(kdir, name + ".txt"), "wb") as f:
            f.write(b"".join(l + b"\n" for l in lines))
    print("adversarial kinds (%s/*.txt): %s" % (kdir, ", ".join(by_kind)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
