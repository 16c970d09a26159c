#!/usr/bin/env python3
"""Writes the obfuscated toxicity evaluation cases from the plain ones.

  python3 scripts/gen-obfuscated-eval.py

For every case in tests/eval/toxicity/{en,es}-positives.jsonl it writes one
obfuscated variant to tests/eval/toxicity/{en,es}-obfuscated.jsonl, with the
same labels: an obfuscated insult is still an insult. Deterministic (the
transform is chosen by the case's position), so the files only change when
the plain cases or this script change.

Every fourth case gets a transform of the whole sentence (below). The others
get one word obfuscated: the key word the note names ("key=fucking; ..."),
else the first word of the sentence that is in TARGETS (the words a writer
would disguise: kill, vermin, nudes, mátate ...), with one of: letters spaced / dotted / dashed / underscored
(f u c k), leetspeak (f4ck, sh1t), a letter run (fuuuuck), Cyrillic or Greek
look-alike letters (fаck with a Cyrillic а), a self-censoring mask (f*ck),
fullwidth letters, zero-width characters between letters, or upper case
with accents (FÚCK); the self-censoring mask only for a named key (swear words and
slurs are what writers mask). The whole-sentence transforms (every fourth case, and
cases without a target word) obfuscate every word: leetspeak, look-alikes,
fullwidth, zero-width characters or elongated vowels, so the phrase itself
is obfuscated, short words included ("1 w1ll k1ll y0u", "t3 v0y 4 m4t4r").

Python 3 standard library only.
"""
import json
import os
import re
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "tests", "eval", "toxicity")

LEET = {"a": "4", "e": "3", "i": "1", "o": "0"}
LOOK = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441",
        "x": "\u0445", "y": "\u0443", "i": "\u0456", "s": "\u0455", "k": "\u03ba"}
VOWELS = "aeiouáéíóú"

# Words a writer disguises (matched without accents, lower case).
TARGETS = set("""
kill killed murder stab stabbed strangle choke hurt punch smash break slit bullet shoot
burn beat destroy dead die death hunt find regret suffer end watch warning
vermin animals parasites cockroaches savages terrorists inferior criminals rapists thieves
monkeys apes virus plague disease scum subhuman degenerates disgusting filthy dirty
hate gas deport deported deserve belong control smell ruining human burden
sex nudes naked underwear body face sexy nipples pussy cum fingering selfie
watching followed address dox hide fired ruin expose leak outside single alone friends
likes hates cares love laughs wife boss miserable calling clothes
yourself urself bleach bridge cliff pills overdose hang wrists throat drown starve off neck
idiot moron stupid dumb loser pathetic useless worthless clown pig cow slob
matar mato matare matarte amenaza partir romper reventar apunalar estrangular paliza tiro
muerto arrepentir pagar vives espaldas cuidado advertencia desaparecer encontrar
plaga animales parasitos cucarachas salvajes terroristas inferiores ladrones monos
virus enfermedad basura escoria lacra asquerosas degenerados enfermos personas
morir deportados odio cocina controlan narcos echar muerte fuera
matate suicidate suicidarte ahorcate muerete mueras murieras venas puente ventana
pastillas vida lejia tiro matas extranaria
vigilando publicar direccion quiere odian soltera despidan solo esconderte filtrar
casa llores mujer ropa amigos imposible jefe soporta difundir escrachar ropa interior
fotos desnuda trabajo coche
idiota imbecil tonto estupida inutil callate boca mierda verguenza payaso cerdo
""".split())


def keep_case(src, repl):
    return repl.upper() if src.isupper() and len(repl) == 1 and repl.isalpha() else repl


def spaced(w, sep):
    return sep.join(w)


def leet(w):
    out = "".join(LEET.get(ch.lower(), ch) for ch in w)
    if out == w:  # no vowel to swap: s -> $, else first letter stays, t -> 7
        out = w.replace("s", "$", 1) if "s" in w else w.replace("t", "7", 1)
    return out


def elongate(w):
    for i, ch in enumerate(w):
        if ch.lower() in VOWELS:
            return w[:i + 1] + ch * 4 + w[i + 1:]
    return w[:-1] + w[-1] * 4


def lookalike(w):
    out = "".join(LOOK.get(ch, ch) for ch in w)
    return out if out != w else None  # no letter has a look-alike: next transform


def masked(w):
    for i, ch in enumerate(w):
        if i > 0 and i < len(w) - 1 and ch.lower() in VOWELS:
            return w[:i] + "*" + w[i + 1:]
    return None


def fullwidth(w):
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in w)


def zero_width(w):
    return "\u200b".join(w)


def upper_accent(w):
    acc = {"a": "Á", "e": "É", "i": "Í", "o": "Ó", "u": "Ú"}
    out, done = [], False
    for ch in w:
        if not done and ch.lower() in acc:
            out.append(acc[ch.lower()])
            done = True
        else:
            out.append(ch.upper())
    return "".join(out)


WORD_TRANSFORMS = [
    ("spaced", lambda w: spaced(w, " ")),
    ("leet", leet),
    ("elongated", elongate),
    ("lookalike", lookalike),
    ("masked", masked),
    ("dotted", lambda w: spaced(w, ".")),
    ("leet", leet),
    ("masked", masked),
    ("dashed", lambda w: spaced(w, "-")),
    ("elongated", elongate),
    ("fullwidth", fullwidth),
    ("underscored", lambda w: spaced(w, "_")),
    ("zero-width", zero_width),
    ("upper-accent", upper_accent),
]


def sentence_words(text, fn):
    return re.sub(r"[A-Za-zÁÉÍÓÚáéíóúñÑü']+", lambda m: fn(m.group(0)), text)


SENTENCE_TRANSFORMS = [
    ("leet-all", lambda t: sentence_words(t, lambda w: "".join(LEET.get(c, c) for c in w))),
    ("lookalike-all", lambda t: sentence_words(t, lambda w: "".join(LOOK.get(c, c) for c in w))),
    ("elongated-all", lambda t: sentence_words(t, lambda w: elongate(w) if len(w) > 3 else w)),
    ("zero-width-all", lambda t: sentence_words(t, zero_width)),
    ("fullwidth-all", fullwidth),
]


def fold(w):
    return "".join(c for c in unicodedata.normalize("NFD", w.lower())
                   if not unicodedata.combining(c))


def obfuscate(case, n):
    m = re.search(r"\bkey=([^;]+)", case.get("note", ""))
    text = case["text"]
    key = m.group(1).strip() if m else None
    if key is None:
        for w in re.findall(r"[A-Za-zÁÉÍÓÚáéíóúñÑü]+", text):
            if fold(w) in TARGETS:
                key = w
                break
    chosen = m is not None  # a key the note names is a swear word or slur
    if key is not None and n % 4 != 3:
        # the key as written in the text (any case)
        km = re.search(re.escape(key), text, re.I)
        if km:
            found = km.group(0)
            for k in range(len(WORD_TRANSFORMS)):
                name, fn = WORD_TRANSFORMS[(n + k) % len(WORD_TRANSFORMS)]
                if name == "masked" and not chosen:
                    continue  # writers self-censor swear words and slurs, not "kill"
                new = fn(found)
                if new and new != found:
                    return name, text[:km.start()] + new + text[km.end():]
    name, fn = SENTENCE_TRANSFORMS[(n // 4) % len(SENTENCE_TRANSFORMS)]
    return name, fn(text)


def main():
    for lang in ("en", "es"):
        src = os.path.join(DIR, f"{lang}-positives.jsonl")
        dst = os.path.join(DIR, f"{lang}-obfuscated.jsonl")
        out = []
        with open(src, encoding="utf-8") as f:
            cases = [json.loads(l) for l in f if l.strip()]
        for n, c in enumerate(cases):
            name, text = obfuscate(c, n)
            o = {"id": f"{c['id'].replace('tox-', 'tox-obf-')}", "text": text}
            if "route" in c:
                o["route"] = c["route"]
            o["lang"] = c["lang"]
            o["labels"] = c["labels"]
            o["note"] = f"{name} variant of {c['id']}"
            out.append(json.dumps(o, ensure_ascii=False))
        with open(dst, "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
        print(f"{os.path.relpath(dst, ROOT)}: {len(out)} cases")


if __name__ == "__main__":
    sys.exit(main())
