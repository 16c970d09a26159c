#!/usr/bin/env python3
"""Generates the self-censored ("masked") spellings of the toxicity lexicons.

  python3 scripts/gen-masked-lexicon.py

Writers and language models hide swear words behind asterisks: f*ck, sh*t,
c**t, p*ndejo. The engine folds the other tricks itself (spacing, leetspeak,
letter runs, look-alike letters: the compacted view, docs/POLICY_FORMAT.md),
but an asterisk could stand for any letter, so masks are listed. This script
derives them from the word lists, so a word added to a list gets its masks
on the next run, and writes policies/lexicons/<lang>/masked-<category>.txt.

For every single-word term of at least 3 letters with a score of at least 0.4
(weaker words are reported only, and so would their masks be):
  - each interior vowel replaced by '*', one at a time   (f*ck, b*tch, m*therfucker)
  - every interior vowel replaced by '*'                  (m*th*rf*ck*r)
  - for words of 4 letters, every interior letter       (f**k, c**t, s**t)
Other masks (f***, sh**, a**hole) are hand-written in mild-profanity.txt.
A mask keeps the score of the word it hides; a mask shared by two words goes
to the profanity one if any (the usual reading of s**t), else the stronger,
unless PREFER names its usual word (c*ck). A mask is written once: not if a
list already has it as a term (the Surge list has c*nt), and not in the
Spanish files if an English word produced it. Masks always contain '*', which no
ordinary word does, so they cannot collide with a benign word.

Deterministic (sorted). Python 3 standard library only.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEX = os.path.join(ROOT, "policies", "lexicons")
VOWELS = set("aeiou")
MIN_SCORE = 0.4

# (language, category, source lexicons); the source files are read as the
# engine reads them (term TAB score, '#' comments).
SOURCES = [
    ("en", "profanity", ["en/surge-profanity.txt", "en/mild-profanity.txt"]),
    ("en", "sexual", ["en/surge-sexual.txt", "en/sexual.txt"]),
    ("en", "hate", ["en/surge-hate.txt", "en/slurs-extra.txt"]),
    ("en", "insult", ["en/insults.txt"]),
    ("es", "profanity", ["es/profanity.txt"]),
    ("es", "sexual", ["es/sexual.txt"]),
    ("es", "hate", ["es/hate.txt"]),
    ("es", "insult", ["es/insults.txt"]),
]
DEFAULT_SCORE = {"profanity": 0.5, "sexual": 0.5, "hate": 0.8, "insult": 0.6}


def read_lexicon(path, default):
    terms = {}
    with open(os.path.join(LEX, path), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            term, _, score = line.partition("\t")
            terms[term.strip()] = float(score) if score.strip() else default
    return terms


# Masks whose usual reading is known, where the tie-break rule would pick
# another word: mask -> the word it usually hides.
PREFER = {"c*ck": "cock", "c**k": "cock", "d*ck": "dick", "p*ssy": "pussy", "p***y": "pussy",
          "t*ts": "tits", "sl*t": "slut", "wh*re": "whore", "f*g": "fag"}


def masks(word):
    n = len(word)
    inner = range(1, n - 1)
    out = set()
    vow = [i for i in inner if word[i] in VOWELS]
    for i in vow:
        out.add(word[:i] + "*" + word[i + 1:])
    if len(vow) > 1:
        out.add("".join("*" if i in vow else c for i, c in enumerate(word)))
    if n == 4:  # longer all-star masks are ambiguous (m***n: moron? mamon?)
        out.add(word[0] + "*" * (n - 2) + word[-1])
    return out


def all_literal_terms():
    """Every term of every hand-written or Surge list (masks among them, such
    as c*nt in the Surge list, must not be listed twice)."""
    seen = set()
    for lang in ("en", "es"):
        d = os.path.join(LEX, lang)
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".txt") and not fn.startswith(("masked-", "phrases-")):
                seen |= set(read_lexicon(f"{lang}/{fn}", 0.5))
    return seen


def main():
    per_lang = {}
    literal = all_literal_terms()
    for lang, cat, files in SOURCES:
        terms = {}
        for path in files:
            for t, s in read_lexicon(path, DEFAULT_SCORE[cat]).items():
                terms[t] = max(s, terms.get(t, 0.0))
        for t, s in terms.items():
            if s < MIN_SCORE or len(t) < 3 or not t.isalpha() or not t.isascii():
                continue
            for m in masks(t):
                if m in literal:
                    continue
                # One file per mask: a Spanish mask that an English word
                # already produced (p**o, c***s) stays in the English file.
                if lang == "es" and m in per_lang.get("en", {}):
                    continue
                prev = per_lang.setdefault(lang, {}).get(m)
                if m in PREFER:
                    if t == PREFER[m]:
                        per_lang[lang][m] = (cat, s, t)
                    continue
                # A mask two words share (s**t: shit, slut) goes to
                # profanity if either word is profanity (the common reading
                # of a masked word is a swear word), else to the stronger word.
                if (prev is None
                        or (cat == "profanity") > (prev[0] == "profanity")
                        or ((cat == "profanity") == (prev[0] == "profanity") and s > prev[1])):
                    per_lang[lang][m] = (cat, s, t)
    for lang, table in sorted(per_lang.items()):
        by_cat = {}
        for m, (cat, s, t) in table.items():
            by_cat.setdefault(cat, []).append((m, s, t))
        for cat, rows in sorted(by_cat.items()):
            path = os.path.join(LEX, lang, f"masked-{cat}.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(f"# GENERATED by scripts/gen-masked-lexicon.py from the {lang} "
                        f"toxicity.{cat} lists: do not edit.\n")
                f.write("# Self-censored spellings (an asterisk for a letter). Each mask "
                        "keeps the score of the word it hides.\n")
                for m, s, t in sorted(rows):
                    f.write(f"{m}\t{s:.2f}\n")
            print(f"{os.path.relpath(path, ROOT)}: {len(rows)} masks")


if __name__ == "__main__":
    sys.exit(main())
