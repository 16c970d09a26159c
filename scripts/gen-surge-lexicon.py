#!/usr/bin/env python3
"""Generate replyguard's English profanity lexicons from the Surge AI list.

Usage:
    python3 scripts/gen-surge-lexicon.py [--csv PATH] [--benign PATH]
                                         [--out DIR] [--doc docs/LEXICONS.md]

Reads the Surge AI profanity list (github.com/surge-ai/profanity, profanity_en.csv,
MIT licence) and writes lexicon files (one term per line, TAB score) under
policies/lexicons/en/:

    surge-profanity.txt            toxicity.profanity
    surge-sexual.txt               toxicity.sexual
    surge-hate.txt                 toxicity.hate
    surge-ambiguous-profanity.txt  toxicity.profanity.ambiguous   (score 0.15)
    surge-ambiguous-sexual.txt     toxicity.sexual.ambiguous      (score 0.15)
    surge-ambiguous-hate.txt       toxicity.hate.ambiguous        (score 0.15)

and copies the MIT notice next to them (LICENSE.surge-ai-profanity).

Every term is also counted in a benign corpus (real assistant replies, one per
line): how many lines contain it as a whole word, case-insensitively. A term
that occurs there must have a decision in DECISIONS below (kept, ambiguous or
excluded); the script refuses to run otherwise, so a new CSV or corpus cannot
silently put a common word into a blocking lexicon. With --doc the counts table
in docs/LEXICONS.md (between the surge-counts markers) is rewritten.

Python 3 standard library only. Output is deterministic (sorted, no timestamps).
"""
import argparse
import csv
import os
import re
import shutil
import sys
import unicodedata
from collections import defaultdict

SOURCE_REPO = "github.com/surge-ai/profanity"
SOURCE_COMMIT = "77dabf36454fd9b0f85c777c2808d416bc41f797"
SOURCE_FILE = "profanity_en.csv"

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")

AMBIGUOUS_SCORE = 0.15

# --- category mapping ------------------------------------------------------
# Surge category values (exactly as in the CSV at the pinned commit). Any other
# value is an error: a new category needs a human decision here.
SURGE_CATEGORIES = {
    "sexual anatomy / sexual acts",
    "sexual orientation / gender",
    "other / general insult",
    "bodily fluids / excrement",
    "racial / ethnic slurs",
    "mental disability",
    "physical disability",
    "animal references",
    "religious offense",
    "physical attributes",
    "political",
}
# Any of these makes the term toxicity.hate: it attacks a group.
HATE_CATEGORIES = {
    "racial / ethnic slurs",
    "sexual orientation / gender",   # homophobic/transphobic slurs and gendered slurs
    "political",                     # "china virus" and variants: xenophobic
}
# Surge tags intelligence insults (dumbass, dipshit, dolt) as "mental disability"
# too. Only the terms whose canonical form is a disability slur are hate; the
# rest fall through to sexual/profanity like any other insult.
DISABILITY_CATEGORIES = {"mental disability", "physical disability"}
DISABILITY_SLURS = {"retard", "retarded", "mongoloid", "window licker"}
SEXUAL_CATEGORIES = {"sexual anatomy / sexual acts"}
# Surge files the everyday swear words under "sexual anatomy / sexual acts" too:
# "fuck", "motherfucker", "ass", "bollocks". Used as swearing they carry no
# sexual content, so a term whose canonical forms are all in this set counts as
# toxicity.profanity. ("fuck you" reported as sexual content would mislead a
# reviewer.) Verdicts are unaffected: routes treat the two categories alike.
SWEAR_CANON = {"fuck", "motherfucker", "shit", "ass", "arse", "bollocks", "bugger", "scum"}
# Everything else -> toxicity.profanity, including "religious offense", which in
# this list is blasphemy (goddamn, go to hell, holy fuck), not slurs against a
# religion (antisemitic slurs are tagged "racial / ethnic slurs").

# --- deliberate decisions ---------------------------------------------------
# term (normalized) -> (decision, reason). decision: "keep" | "ambiguous" | "exclude".
#   keep:      stays in its category lexicon at its Surge score.
#   ambiguous: moved to the category's ambiguous lexicon at AMBIGUOUS_SCORE;
#              reported in results, never decides a verdict (routes switch the
#              *.ambiguous categories off).
#   exclude:   not shipped at all; the benign sense dominates so completely that
#              even a report would be noise.
DECISIONS = {
    # numbers and words whose profane sense is marginal
    "69": ("exclude", "a number: prices ($69), counts, flight numbers"),
    "sixty-nine": ("ambiguous", "a number written out"),
    "sheet": ("exclude", "spelling variant of shit; bed sheet, spec sheet, fact sheet"),
    "buttermilk": ("exclude", "food (buttermilk pancakes)"),
    "nuggets": ("exclude", "food (chicken nuggets), Denver Nuggets"),
    "forked": ("exclude", "ordinary word (forked road, forked repository)"),
    "finger": ("exclude", "ordinary word; benign: Five Finger Death Punch"),
    "peter": ("exclude", "first name; benign: Peter Farrelly, 71 Saint Peter"),
    "crow": ("exclude", "bird, surname; benign: Crow Canyon, Sheryl Crow"),
    "crows": ("exclude", "bird; Counting Crows"),
    "sack": ("exclude", "ordinary word (sack lunch, hacky sack)"),
    "bbc": ("exclude", "British Broadcasting Corporation"),
    "bwc": ("exclude", "abbreviation with common benign readings"),
    # names, places, brands
    "wang": ("ambiguous", "surname; benign: Dr. Catherine Wang, Chef Wang's"),
    "dong": ("ambiguous", "name, Vietnamese currency; benign: Dong Que Restaurant"),
    "bj": ("ambiguous", "benign: BJ's Restaurant & Brewhouse"),
    "dix": ("ambiguous", "surname, place (Fort Dix)"),
    "bates": ("ambiguous", "surname (Bates Motel, Kathy Bates)"),
    "abbie": ("ambiguous", "first name"),
    "cumming": ("ambiguous", "Cumming, Georgia; surname"),
    "hooters": ("ambiguous", "restaurant chain"),
    "gaylord": ("ambiguous", "Gaylord hotels (Opryland, Palms), surname"),
    "octopussy": ("ambiguous", "James Bond film title"),
    "shylock": ("ambiguous", "Shakespeare character (theatre listings)"),
    "mong": ("ambiguous", "Mong Kok (Hong Kong), surname"),
    "hustler": ("ambiguous", "ordinary word, film titles"),
    "jim crow": ("ambiguous", "historical term (Jim Crow laws)"),
    # food, tools, household
    "tart": ("ambiguous", "food (lemon tart)"),
    "nut butter": ("ambiguous", "food (almond nut butter)"),
    "weenie": ("ambiguous", "food (weenie roast)"),
    "weiner": ("ambiguous", "food (weiner = wiener), surname"),
    "hoe": ("ambiguous", "garden tool; benign: typo 'Hoe many bedrooms'"),
    "hoes": ("ambiguous", "garden tools"),
    "jigger": ("ambiguous", "bar measure"),
    "knob": ("ambiguous", "door knob, control knob"),
    "dipstick": ("ambiguous", "oil dipstick (car rental, car service)"),
    "ramrod": ("ambiguous", "ordinary word"),
    "peen": ("ambiguous", "ball-peen hammer"),
    "knickers": ("ambiguous", "clothing (UK)"),
    "crotch": ("ambiguous", "clothing measurements"),
    "suck": ("ambiguous", "ordinary verb (the vacuum does not suck up dirt)"),
    "snatch": ("ambiguous", "ordinary verb (snatch up a deal)"),
    "spanking": ("ambiguous", "spanking new"),
    "slit": ("ambiguous", "ordinary word (a slit in the fabric)"),
    "slag": ("ambiguous", "industrial by-product"),
    "scut": ("ambiguous", "ordinary word (scut work)"),
    "hoar": ("ambiguous", "hoar frost"),
    "coot": ("ambiguous", "bird"),
    "cooties": ("ambiguous", "children's word"),
    "mongrel": ("ambiguous", "dog (pet services)"),
    "swine": ("ambiguous", "animal, swine flu (healthcare)"),
    "muff": ("ambiguous", "ear muff"),
    "puss": ("ambiguous", "Puss in Boots"),
    "pussy cat": ("ambiguous", "cat"),
    "tramp": ("ambiguous", "Lady and the Tramp; ordinary word"),
    "bender": ("ambiguous", "fender bender (car insurance, car rental)"),
    "nip": ("ambiguous", "ordinary word (nip and tuck, a nip of whisky)"),
    "nonce": ("ambiguous", "cryptography term (API and login support)"),
    "spook": ("ambiguous", "ghost (Halloween events)"),
    "spooks": ("ambiguous", "ghosts"),
    "spunk": ("ambiguous", "courage (US)"),
    "bondage": ("ambiguous", "historical/legal word"),
    "beat off": ("ambiguous", "beat off the competition"),
    "dump a load": ("ambiguous", "dump a load of laundry"),
    "double pen": ("ambiguous", "ordinary phrase"),
    "axe wound": ("ambiguous", "a literal injury (healthcare)"),
    # medical vocabulary: doctors' and pharmacy replies use these neutrally
    "anal": ("ambiguous", "medical (anal fissure)"),
    "anus": ("ambiguous", "medical"),
    "rectum": ("ambiguous", "medical"),
    "sphincter": ("ambiguous", "medical"),
    "vulva": ("ambiguous", "medical"),
    "sperm": ("ambiguous", "medical (sperm bank, fertility clinic)"),
    "breasts": ("ambiguous", "medical, food (chicken breasts)"),
    "prick": ("ambiguous", "medical (finger prick test)"),
    # identity words that are also used neutrally or reclaimed
    "negro": ("ambiguous", "Spanish 'black' (Negro Modelo, Rio Negro), historical (Negro Leagues)"),
    "homo": ("ambiguous", "homo sapiens, homo milk"),
    "queers": ("ambiguous", "reclaimed identity word (Queer Eye, queer studies)"),
    "transvestite": ("ambiguous", "dated but descriptive identity term"),
    "twink": ("ambiguous", "identity word used within the community"),
    "gayness": ("ambiguous", "identity word, usually neutral"),
    # Spanish words in the English list: the Spanish lists (policies/lexicons/es)
    # score them with their Spanish sense, so the English entry only reports
    "puta": ("exclude", "Spanish: mostly an intensifier ('ni puta idea'); "
             "es/profanity.txt scores it (0.6) and es/hate.txt the slur forms"),
    # benign in the corpus but kept on purpose
    "whore": ("keep", "benign hits are one song title (In This Moment, 'Whore'); "
              "a brand's agent naming it still deserves review"),
}

HEADER = """\
# {title}
# Category: {category}. Score per term: 0.15 + 0.25 * Surge severity rating (1..3){extra}.
#
# Source: {repo}, {file} at commit {commit}
# Copyright (c) 2021 Surge AI. MIT licence: see LICENSE.surge-ai-profanity in this
# directory (the notice must ship with every copy of this list).
#
# generated by scripts/gen-surge-lexicon.py — do not edit by hand.
# Decisions (ambiguous / excluded terms) and the category mapping: docs/LEXICONS.md
"""

OUTPUTS = {
    "toxicity.profanity": "surge-profanity.txt",
    "toxicity.sexual": "surge-sexual.txt",
    "toxicity.hate": "surge-hate.txt",
}
AMBIG_OUTPUTS = {
    "toxicity.profanity": "surge-ambiguous-profanity.txt",
    "toxicity.sexual": "surge-ambiguous-sexual.txt",
    "toxicity.hate": "surge-ambiguous-hate.txt",
}


def normalize(term):
    """The engine's normalized view: compatibility fold, case fold, strip accents,
    collapse whitespace. Lexicon terms are written in that form."""
    t = unicodedata.normalize("NFKC", term).casefold()
    t = unicodedata.normalize("NFD", t)
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    t = unicodedata.normalize("NFC", t)
    return " ".join(t.split())


def score_of(rating):
    return round(0.15 + 0.25 * float(rating), 2)


def map_category(cats, canon):
    cats = set(cats)
    unknown = cats - SURGE_CATEGORIES
    if unknown:
        sys.exit(f"gen-surge-lexicon: unknown Surge categories {sorted(unknown)}: "
                 "decide their mapping in scripts/gen-surge-lexicon.py")
    if cats & HATE_CATEGORIES:
        return "toxicity.hate"
    if cats & DISABILITY_CATEGORIES and set(canon) & DISABILITY_SLURS:
        return "toxicity.hate"
    if cats & SEXUAL_CATEGORIES:
        if canon and set(canon) <= SWEAR_CANON:
            return "toxicity.profanity"
        return "toxicity.sexual"
    return "toxicity.profanity"


WORD_RE = re.compile(r"\w+")


def benign_counts(terms, corpus_path):
    """term -> number of corpus lines containing it as a whole word (case-insensitive)."""
    with open(corpus_path, encoding="utf-8") as f:
        lines = [normalize(l) for l in f.read().split("\n") if l.strip()]
    counts = dict.fromkeys(terms, 0)
    simple = {t for t in terms if re.fullmatch(r"\w+", t)}
    # Fast path: one-token terms, counted once per line via a token set.
    for line in lines:
        for tok in set(WORD_RE.findall(line)):
            if tok in simple:
                counts[tok] += 1
    text = "\n".join(lines)
    for t in terms:
        if t in simple or t not in text:
            continue
        pat = re.compile(r"(?<!\w)" + re.escape(t) + r"(?!\w)")
        counts[t] = sum(1 for line in lines if t in line and pat.search(line))
    return counts, len(lines)


def write_lexicon(path, title, category, entries, extra=""):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(HEADER.format(title=title, category=category, extra=extra,
                              repo=SOURCE_REPO, file=SOURCE_FILE, commit=SOURCE_COMMIT))
        f.write(f"# {len(entries)} terms.\n\n")
        for term, score in sorted(entries.items()):
            f.write(f"{term}\t{score:.2f}\n")


def render_table(rows):
    out = ["| term | Surge categories | rating | benign lines | our category | decision | why |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| `{term}` | {cats} | {rating} | {count} | {cat} | {decision} | {why} |".format(**r))
    return "\n".join(out)


def update_doc(doc_path, table, summary):
    begin, end = "<!-- BEGIN surge-counts (generated) -->", "<!-- END surge-counts -->"
    with open(doc_path, encoding="utf-8") as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        sys.exit(f"gen-surge-lexicon: {doc_path} lacks the surge-counts markers")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(doc_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(head + begin + "\n" + summary + "\n\n" + table + "\n" + end + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--csv", default=os.path.join(SHARED, "profanity_en_surge.csv"))
    ap.add_argument("--license", default=os.path.join(SHARED, "LICENSE.surge-ai-profanity"))
    ap.add_argument("--benign", default=os.path.join(SHARED, "agent_replies_sgd_train.txt"))
    ap.add_argument("--out", default=os.path.join(ROOT, "policies", "lexicons", "en"))
    ap.add_argument("--doc", help="rewrite the counts table in this markdown file")
    args = ap.parse_args()

    with open(args.csv, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))

    terms = {}  # normalized term -> dict
    for r in rows:
        t = normalize(r["text"])
        if not t or t.startswith("#"):
            sys.exit(f"gen-surge-lexicon: unusable term {r['text']!r}")
        cats = [r[k] for k in ("category_1", "category_2", "category_3") if r[k]]
        canon = [r[k].strip().lower() for k in ("canonical_form_1", "canonical_form_2",
                                                 "canonical_form_3") if r[k].strip()]
        entry = {"term": t, "cats": cats, "rating": float(r["severity_rating"]),
                 "score": score_of(r["severity_rating"]),
                 "category": map_category(cats, canon)}
        if t in terms:  # variants that normalize alike: keep the more severe one
            if entry["score"] <= terms[t]["score"]:
                continue
        terms[t] = entry

    unknown_decisions = set(DECISIONS) - set(terms)
    if unknown_decisions:
        sys.exit(f"gen-surge-lexicon: decisions for terms not in the CSV: {sorted(unknown_decisions)}")

    counts, nlines = benign_counts(list(terms), args.benign)
    undecided = sorted(t for t, n in counts.items() if n and t not in DECISIONS)
    if undecided:
        sys.exit("gen-surge-lexicon: terms occur in benign replies without a decision "
                 f"in DECISIONS: {undecided}")

    main_lex = defaultdict(dict)
    ambig_lex = defaultdict(dict)
    excluded = []
    for t, e in terms.items():
        decision = DECISIONS.get(t, ("keep", ""))[0]
        if decision == "keep":
            main_lex[e["category"]][t] = e["score"]
        elif decision == "ambiguous":
            ambig_lex[e["category"]][t] = AMBIGUOUS_SCORE
        elif decision == "exclude":
            excluded.append(t)
        else:
            sys.exit(f"gen-surge-lexicon: bad decision {decision!r} for {t!r}")

    os.makedirs(args.out, exist_ok=True)
    for cat, fname in OUTPUTS.items():
        write_lexicon(os.path.join(args.out, fname),
                      f"Surge AI profanity list — {cat}", cat, main_lex[cat])
    for cat, fname in AMBIG_OUTPUTS.items():
        write_lexicon(os.path.join(args.out, fname),
                      f"Surge AI profanity list — ambiguous terms mapped to {cat}",
                      cat + ".ambiguous", ambig_lex[cat],
                      extra=f"; ambiguous terms are all {AMBIGUOUS_SCORE:.2f} (reported, never decide)")
    shutil.copyfile(args.license, os.path.join(args.out, "LICENSE.surge-ai-profanity"))

    sizes = {fname: len(main_lex[c]) for c, fname in OUTPUTS.items()}
    sizes.update({fname: len(ambig_lex[c]) for c, fname in AMBIG_OUTPUTS.items()})
    for fname, n in sizes.items():
        print(f"{fname}: {n} terms")
    print(f"excluded: {len(excluded)} terms: {', '.join(sorted(excluded))}")

    if args.doc:
        table_rows = []
        shown = sorted(t for t in terms if counts[t] or t in DECISIONS)
        shown.sort(key=lambda t: (-counts[t], t))
        for t in shown:
            e = terms[t]
            decision, why = DECISIONS.get(t, ("keep", ""))
            table_rows.append({
                "term": t.replace("|", "\\|"), "cats": "; ".join(e["cats"]),
                "rating": f"{e['rating']:g}", "count": counts[t],
                "cat": e["category"], "decision": decision, "why": why})
        summary = (f"Benign corpus: {nlines} lines. {len(terms)} Surge terms after "
                   f"normalization; {sum(1 for t in terms if counts[t])} occur in at least "
                   f"one benign line as a whole word. Sizes: "
                   + ", ".join(f"`{k}` {v}" for k, v in sizes.items())
                   + f", excluded {len(excluded)}.")
        update_doc(args.doc, render_table(table_rows), summary)


if __name__ == "__main__":
    main()
