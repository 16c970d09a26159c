#!/usr/bin/env python3
"""Generates word lists of the core toxic phrase frames, for obfuscated text.

  python3 scripts/gen-phrase-lexicon.py

The phrase patterns of policies/toxicity.yaml and toxicity-es.yaml (regex:
"<group> are vermin", "I will <kill> you", "eres un <insulto>") run on the
normalized reply. The engine's compacted view, which undoes spacing,
letter runs, leetspeak and look-alike letters (f u c k, fuuuck, sh1t),
serves word lists only (docs/POLICY_FORMAT.md). So "immigrants are
v-e-r-m-i-n" or "I'll str4ngle you" would slip past the patterns. This script
spells out the core frames of those patterns as literal phrases, written to

  policies/lexicons/en/phrases-hate.txt     toxicity.hate
  policies/lexicons/en/phrases-threat.txt   toxicity.threat
  policies/lexicons/en/phrases-insult.txt   toxicity.insult
  policies/lexicons/es/phrases-hate.txt     (and threat, insult)

and the word-list detectors that load them (toxicity*.yaml, ids *.frames)
also match them in the compacted view. The patterns stay: they cover the
variants (fillers, more groups and predicates) that are not spelled out
here. Literals are cheap: ~5,000 compile in ~0.1 s (DESIGN.md).

Keep the vocabularies here in step with the patterns (a word added to a
pattern's core list belongs here too). Deterministic. Python 3 standard
library only.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEX = os.path.join(ROOT, "policies", "lexicons")

# ---------------------------------------------------------------- English --
EN_GROUPS = """jews|muslims|blacks|black people|whites|asians|chinese people|mexicans|latinos|hispanics|arabs|africans|indians|pakistanis|immigrants|migrants|refugees|foreigners|gays|gay people|lesbians|homosexuals|trans people|transgenders|women|gypsies|roma|disabled people|christians|catholics|hindus|sikhs|somalis|haitians""".split("|")
EN_PREDS = """animals|savages|vermin|rats|cockroaches|parasites|pests|maggots|monkeys|apes|pigs|scum|trash|garbage|subhuman|not human|inferior|degenerates|criminals|rapists|terrorists|thieves|evil|disgusting|filthy|a disease|a plague|a virus|a cancer|a burden|mentally ill|freaks|abominations""".split("|")
EN_COPULAS = ["are"]
EN_SHOULD = ["die", "burn", "be killed", "be shot", "be hanged", "be gassed", "be exterminated",
             "be wiped out", "be deported", "be locked up", "be sterilized", "burn in hell"]
EN_MODALS = ["should"]
EN_KILL = ["kill", "murder", "exterminate", "gas", "shoot", "hang", "lynch", "deport", "wipe out"]
EN_KILL_DETS = ["all ", "all the "]
EN_VERB_FRAMES = ["{g} deserve to die", "{g} don't deserve rights", "{g} don't deserve to live",
                  "{g} do not deserve to live", "{g} don't deserve to exist",
                  "{g} are ruining this country", "{g} are destroying this country",
                  "death to {g}", "death to all {g}", "death to the {g}", "death to all the {g}",
                  "i hate {g}", "i hate all {g}", "i hate the {g}", "i despise {g}",
                  "i can't stand {g}", "no {g} allowed", "we don't serve {g}"]

EN_SUBJECTS = ["i will", "i'll", "i'm going to", "i am going to", "i'm gonna", "we will",
               "we'll", "we're going to"]
EN_THREAT_VERBS = """kill|murder|stab|strangle|choke|hurt|shoot|slaughter|behead|torture|rape|punch|burn|bury|destroy|end|poison|drown|kidnap|slap|beat|smash|break""".split("|")
EN_THREAT_OBJECTS = ["you", "your family", "your kids", "your wife", "your children"]
# Verbs that are harmless before "you" + more words ("I'll shoot you an email",
# "we'll beat your price", "I'll break you the news"): object must be family.
EN_FAMILY_ONLY = {"shoot", "beat", "smash", "break", "end", "destroy", "burn"}

EN_INSULT_SUBJECTS = ["you're a", "you are a", "you're an", "you are an", "you're such a",
                      "you are such a", "you're such an"]
EN_INSULT_NOUNS = """idiot|moron|imbecile|cretin|loser|clown|fool|pig|slob|dumbass|jackass|asshole|bitch|bastard|prick|dickhead|douchebag|twat|cunt|wanker|halfwit|dimwit|scumbag|lowlife|freak|retard|slut|whore|failure|disgrace|joke|waste of space|piece of shit|piece of garbage|parasite|coward|liar""".split("|")
EN_VOCATIVE_EXCLUDE = {"fool", "clown", "pig", "freak", "joke", "failure", "disgrace", "coward",
                       "liar", "parasite"}
EN_INSULT_ADJS = """stupid|dumb|pathetic|useless|worthless|clueless|incompetent|ignorant|disgusting|brainless|retarded""".split("|")

# ---------------------------------------------------------------- Spanish --
ES_GROUPS = """judios|musulmanes|negros|gitanos|moros|arabes|chinos|indios|inmigrantes|migrantes|refugiados|extranjeros|gays|homosexuales|lesbianas|trans|personas trans|transexuales|mujeres|mexicanos|venezolanos|colombianos|peruanos|bolivianos|ecuatorianos|haitianos|dominicanos|marroquies|africanos|rumanos|sudacas|discapacitados""".split("|")
ES_PREDS = """animales|unos animales|salvajes|unos salvajes|ratas|cucarachas|parasitos|una plaga|escoria|basura|una mierda|cerdos|monos|infrahumanos|inferiores|una enfermedad|un virus|una lacra|delincuentes|criminales|terroristas|violadores|ladrones|narcos|asquerosos|degenerados|unos degenerados|unos enfermos|una carga|invasores""".split("|")
ES_COPULAS = ["son"]
ES_DEBERIAN = ["morir", "morirse", "estar muertos", "desaparecer", "irse de aqui", "largarse",
               "volver a su pais", "ser exterminados", "ser eliminados", "ser deportados",
               "ser expulsados", "ser encerrados", "ser fusilados", "ser quemados",
               "ser castrados", "ser esterilizados", "ser gaseados", "ser ahorcados"]
ES_MODALS = ["deberian", "merecen"]
ES_HAY_QUE = ["matar", "exterminar", "eliminar", "echar", "expulsar", "deportar", "quemar"]
ES_HAY_QUE_DETS = ["los ", "todos los "]
ES_VERB_FRAMES = ["{g} no son personas", "{g} no son humanos", "{g} no son gente",
                  "{g} no merecen vivir", "{g} no merecen derechos", "{g} merecen morir",
                  "{g} estan destruyendo este pais", "{g} estan invadiendo este pais",
                  "muerte a los {g}", "muerte a las {g}", "muerte a todos los {g}", "muerte a {g}",
                  "odio a los {g}", "odio a las {g}", "odio a todos los {g}", "detesto a los {g}",
                  "fuera {g}", "fuera los {g}", "{g} de mierda", "no atendemos a {g}",
                  "no aceptamos {g}", "no queremos {g}", "no se admiten {g}"]

ES_THREAT_PREFIXES = ["te voy a", "te vamos a", "le voy a", "le vamos a", "los voy a"]
ES_THREAT_VERBS = """matar|asesinar|apunalar|acuchillar|ahorcar|estrangular|degollar|quemar|reventar|destrozar|torturar|violar|balear|desaparecer|partir la cara|partir la madre|romper la cara|romper las piernas|dar una paliza|pegar un tiro|meter un tiro|hacer dano|hacer sufrir|cortar el cuello|enterrar""".split("|")
ES_THREAT_SUFFIXED = ["voy a matarte", "vamos a matarte", "voy a apunalarte", "voy a estrangularte",
                      "voy a ahorcarte", "voy a quemarte", "voy a reventarte", "voy a destrozarte",
                      "voy a partirte la cara", "voy a romperte la cara", "voy a hacerte dano",
                      "te mato", "te matare", "te reviento", "te rompo la cara", "te parto la cara",
                      "te parto la madre", "se donde vives", "sabemos donde vives"]

ES_INSULT_SUBJECTS_M = ["eres un", "sos un", "es usted un", "usted es un", "eres un completo",
                        "pedazo de", "menudo"]
ES_INSULT_SUBJECTS_F = ["eres una", "sos una", "es usted una", "usted es una", "eres una completa",
                        "pedazo de", "menuda"]
ES_INSULT_NOUNS_M = """idiota|imbecil|estupido|tonto|pendejo|gilipollas|cabron|pelotudo|boludo|huevon|tarado|inutil|payaso|cerdo|asqueroso|perdedor|fracasado|ignorante|gusano|parasito|mentiroso|estafador|capullo|mamon|culero|cretino|desgraciado|miserable|patetico|subnormal|retrasado|mierda|basura|hijo de puta""".split("|")
ES_INSULT_NOUNS_F = """idiota|imbecil|estupida|tonta|pendeja|gilipollas|cabrona|pelotuda|boluda|huevona|tarada|inutil|payasa|cerda|asquerosa|perdedora|fracasada|ignorante|mentirosa|estafadora|desgraciada|miserable|patetica|subnormal|retrasada|mierda|basura|verguenza|zorra|perra|puta|hija de puta""".split("|")


def an(word):
    return "an" if word[0] in "aeiou" else "a"


def en_hate():
    out = set()
    for g in EN_GROUPS:
        for c in EN_COPULAS:
            for p in EN_PREDS:
                out.add(f"{g} {c} {p}")
        for f in EN_VERB_FRAMES:
            out.add(f.format(g=g))
        for m in EN_MODALS:
            for v in EN_SHOULD:
                out.add(f"{g} {m} {v}")
        for k in EN_KILL:
            for d in EN_KILL_DETS:
                out.add(f"{k} {d}{g}")
    return out


def en_threat():
    out = set()
    for s in EN_SUBJECTS:
        for v in EN_THREAT_VERBS:
            for o in EN_THREAT_OBJECTS:
                if o == "you" and v in EN_FAMILY_ONLY:
                    continue
                out.add(f"{s} {v} {o}")
    return out


def en_insult():
    out = set()
    for s in EN_INSULT_SUBJECTS:
        article = s.split()[-1]
        for n in EN_INSULT_NOUNS:
            if an(n) == article:
                out.add(f"{s} {n}")
        # adjectives only in the plain frames ("you're a stupid cow")
        if s in ("you're a", "you are a"):
            for n in EN_INSULT_NOUNS:
                for adj in EN_INSULT_ADJS[:6]:
                    out.add(f"{s} {adj} {n}")
    for n in EN_INSULT_NOUNS:
        # "you <noun>" only for nouns that are not also verbs or ordinary
        # words after "you" ("you freak out", "you pig out", "you joke").
        if n not in EN_VOCATIVE_EXCLUDE:
            out.add(f"you {n}")
    return out


def es_hate():
    out = set()
    for g in ES_GROUPS:
        for c in ES_COPULAS:
            for p in ES_PREDS:
                out.add(f"{g} {c} {p}")
        for f in ES_VERB_FRAMES:
            out.add(f.format(g=g))
        for m in ES_MODALS:
            for v in ES_DEBERIAN:
                if m == "merecen" and not v.startswith(("morir", "ser ")):
                    continue
                out.add(f"{g} {m} {v}")
        for v in ES_HAY_QUE:
            for d in ES_HAY_QUE_DETS:
                out.add(f"hay que {v} a {d}{g}")
    return out


def es_threat():
    out = set(ES_THREAT_SUFFIXED)
    for p in ES_THREAT_PREFIXES:
        for v in ES_THREAT_VERBS:
            out.add(f"{p} {v}")
    return out


def es_insult():
    out = set()
    for subj, nouns in ((ES_INSULT_SUBJECTS_M, ES_INSULT_NOUNS_M), (ES_INSULT_SUBJECTS_F, ES_INSULT_NOUNS_F)):
        for s in subj:
            for n in nouns:
                out.add(f"{s} {n}")
    return out


FILES = [
    ("en/phrases-hate.txt", "toxicity.hate", 0.85, en_hate),
    ("en/phrases-threat.txt", "toxicity.threat", 0.9, en_threat),
    ("en/phrases-insult.txt", "toxicity.insult", 0.85, en_insult),
    ("es/phrases-hate.txt", "toxicity.hate", 0.85, es_hate),
    ("es/phrases-threat.txt", "toxicity.threat", 0.9, es_threat),
    ("es/phrases-insult.txt", "toxicity.insult", 0.85, es_insult),
]


def hand_written(lang):
    """Terms of the hand-written lists of a language: a generated phrase that
    one of them already has is left out (one occurrence must not count twice
    in the same category)."""
    out = set()
    for fn in ("insults.txt", "threats.txt", "hate.txt", "self-harm.txt", "harassment.txt"):
        path = os.path.join(LEX, lang, fn)
        if os.path.exists(path):
            for line in open(path, encoding="utf-8"):
                if line.strip() and not line.startswith("#"):
                    out.add(line.split("\t")[0].strip())
    return out


def main():
    for path, cat, score, fn in FILES:
        terms = sorted(fn() - hand_written(path.split("/")[0]))
        with open(os.path.join(LEX, path), "w", encoding="utf-8") as f:
            f.write(f"# GENERATED by scripts/gen-phrase-lexicon.py: do not edit. {cat}, "
                    f"score {score} (the detector's).\n")
            f.write("# Core frames of the phrase patterns, spelled out so that the "
                    "compacted view also matches them obfuscated.\n")
            for t in terms:
                f.write(t + "\n")
        print(f"policies/lexicons/{path}: {len(terms)} phrases")


if __name__ == "__main__":
    sys.exit(main())
