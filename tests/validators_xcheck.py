#!/usr/bin/env python3
"""validators_xcheck.py DRIVER SCRIPTS_DIR — cross-checks the C validators
(lib/validate.c, through the validators_xcheck driver) against the
independent Python implementation in scripts/pii_ids.py.

For every checksum validator: valid identifiers from pii_ids' generators,
the same with one character changed and with the last two swapped, and
random strings of the right length; the C verdict must equal the Python
one on every value. Fixed seed, so a failure reproduces. Prints one line
per validator and a final "N passed, N failed" (one per validator).
Python 3 standard library only."""
import random
import string
import subprocess
import sys

sys.path.insert(0, sys.argv[2])
import pii_ids as P  # noqa: E402

R = random.Random(20261121)
PER = 600  # valid values per validator (each also mutated and swapped)


def is_card(d):
    if not (d.isdigit() and 12 <= len(d) <= 19 and P.luhn_ok(d) and len(set(d)) > 1):
        return False
    rules = [(1, 4, 4, 13, 19), (2, 51, 55, 16, 16), (4, 2221, 2720, 16, 16), (2, 34, 34, 15, 15),
             (2, 37, 37, 15, 15), (4, 6011, 6011, 16, 19), (3, 644, 649, 16, 19), (2, 65, 65, 16, 19),
             (6, 622126, 622925, 16, 19), (4, 3528, 3589, 16, 19), (3, 300, 305, 14, 19),
             (4, 3095, 3095, 14, 19), (2, 36, 36, 14, 19), (2, 38, 39, 16, 19), (2, 62, 62, 16, 19),
             (2, 81, 81, 16, 19), (4, 5018, 5018, 12, 19), (4, 5020, 5020, 12, 19),
             (4, 5038, 5038, 12, 19), (4, 5893, 5893, 12, 19), (4, 6304, 6304, 12, 19),
             (4, 6759, 6759, 12, 19), (4, 6761, 6763, 12, 19), (4, 2200, 2204, 16, 19)]
    for k, lo, hi, mn, mx in rules:
        if lo <= int(d[:k]) <= hi and mn <= len(d) <= mx and (k != 1 or len(d) in (13, 16, 19)):
            return True
    return False


def rd(n):
    return P.rand_digits(R, n)


def ru(n):
    return "".join(R.choice(string.ascii_uppercase) for _ in range(n))


KINDS = {
    "card": (P.make_card, is_card, lambda: rd(R.choice([12, 13, 14, 15, 16, 19]))),
    "iban": (P.make_iban, P.is_iban, None),
    "us_ssn": (P.make_ssn, P.is_ssn, lambda: rd(9)),
    "us_itin": (P.make_itin, P.is_itin, lambda: "9" + rd(8)),
    "aba_routing": (P.make_aba, P.is_aba, lambda: rd(9)),
    "mx_clabe": (P.make_clabe, P.is_clabe, lambda: rd(18)),
    "es_dni": (P.make_dni, P.is_dni, lambda: rd(8) + ru(1)),
    "es_nie": (P.make_nie, P.is_nie, lambda: R.choice("XYZ") + rd(7) + ru(1)),
    "uk_nino": (P.make_nino, P.is_nino, lambda: ru(2) + rd(6) + R.choice("ABCDE")),
    "uk_nhs": (P.make_nhs, P.is_nhs, lambda: rd(10)),
    "ca_sin": (P.make_sin, P.is_sin, lambda: rd(9)),
    "in_aadhaar": (P.make_aadhaar, P.is_aadhaar, lambda: rd(12)),
    "br_cpf": (P.make_cpf, P.is_cpf, lambda: rd(11)),
    "mx_curp": (P.make_curp, P.is_curp, None),
    "it_codice_fiscale": (lambda r: P.make_cf(r, r.random() < 0.3), P.is_cf, None),
    "pl_pesel": (P.make_pesel, P.is_pesel, lambda: rd(11)),
    "fr_nir": (P.make_nir, P.is_nir, lambda: R.choice("12") + rd(14)),
    "de_steuer_id": (P.make_steuer, P.is_steuer, lambda: rd(11)),
    "nl_bsn": (P.make_bsn, P.is_bsn, lambda: rd(9)),
}


def mutate(s):
    i = R.randrange(len(s))
    pool = string.digits if s[i].isdigit() else string.ascii_uppercase
    return s[:i] + R.choice(pool) + s[i + 1:]


def main():
    driver = sys.argv[1]
    cases = []
    for name, (make, check, rnd) in KINDS.items():
        for _ in range(PER):
            v = make(R)
            assert check(v), (name, v)
            for x in (v, mutate(v), v[:-2] + v[-1] + v[-2], rnd() if rnd else mutate(mutate(v))):
                cases.append((name, x, check(x)))
    inp = "".join("%s\t%s\n" % (n, v) for n, v, _ in cases)
    out = subprocess.run([driver], input=inp, capture_output=True, text=True, check=True).stdout.split()
    if len(out) != len(cases):
        print("driver answered %d lines for %d values" % (len(out), len(cases)))
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    for name in KINDS:
        rows = [(v, e, o) for (n, v, e), o in zip(cases, out) if n == name]
        bad = [(v, e, o) for v, e, o in rows if o != ("1" if e else "0")]
        nvalid = sum(1 for _, e, _ in rows if e)
        if bad:
            failed += 1
            print("FAIL %s: %d of %d values disagree, e.g. %s" % (name, len(bad), len(rows), bad[:3]))
        else:
            passed += 1
            print("ok %s: %d values (%d valid) agree" % (name, len(rows), nvalid))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
