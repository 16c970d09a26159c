"""pii_ids.py — identifier generators and checkers, written independently
of lib/validate.c, for the PII evaluation set (scripts/gen-pii-eval.py)
and for cross-checking the C validators.

Every make_* returns a valid identifier (digits/letters only, no
separators) from a random.Random; every is_* says whether a string of
letters/digits is valid. Python standard library only.
"""
import string

DNI = "TRWAGMYFPDXBNJZSQVHLCKE"


def luhn_ok(d):
    total = 0
    for i, ch in enumerate(reversed(d)):
        v = int(ch)
        if i % 2:
            v = v * 2
            v = v - 9 if v > 9 else v
        total += v
    return total % 10 == 0


def luhn_complete(prefix):
    for c in "0123456789":
        if luhn_ok(prefix + c):
            return prefix + c
    raise AssertionError


def rand_digits(r, n):
    return "".join(r.choice(string.digits) for _ in range(n))


# --- cards -------------------------------------------------------------------
CARD_BRANDS = {
    "visa": (["4"], [16, 16, 16, 13, 19]),
    "mastercard": (["51", "52", "53", "54", "55", "2221", "2500", "2720"], [16]),
    "amex": (["34", "37"], [15]),
    "discover": (["6011", "644", "65", "622126"], [16]),
    "jcb": (["3528", "3566", "3589"], [16]),
    "diners": (["300", "305", "36", "38"], [14]),
    "unionpay": (["62"], [16, 19]),
}


def make_card(r, brand=None):
    brand = brand or r.choice(list(CARD_BRANDS))
    prefixes, lens = CARD_BRANDS[brand]
    p = r.choice(prefixes)
    n = r.choice(lens)
    if brand == "diners" and p == "38":
        n = 16
    return luhn_complete(p + rand_digits(r, n - len(p) - 1))


def make_luhn_non_card(r, n=16):
    """Luhn-valid but no issuer uses the prefix (1, 7, 8, 9, 0)."""
    return luhn_complete(r.choice("17890") + rand_digits(r, n - 2))


def make_luhn_fail(r, prefix="4", n=16):
    x = luhn_complete(prefix + rand_digits(r, n - len(prefix) - 1))
    last = (int(x[-1]) + r.randint(1, 9)) % 10
    return x[:-1] + str(last)


# --- IBAN --------------------------------------------------------------------
IBAN_FORMATS = {  # country: BBAN shape (n=digits, a=upper letters, c=alnum)
    "DE": "18n", "ES": "20n", "FR": "10n11c2n", "GB": "4a14n", "IT": "1a10n12c",
    "NL": "4a10n", "BE": "12n", "PT": "21n", "IE": "4a14n", "AT": "16n",
    "CH": "5n12c", "PL": "24n", "SE": "20n", "NO": "11n", "DK": "14n",
    "FI": "14n", "LU": "3n13c", "GR": "7n16c", "MT": "4a5n18c", "MX": None,
    "BR": "23n1a1c", "SA": "2n18c", "AE": "19n", "TR": "5n1n16c",
}


def _bban(r, fmt):
    out, num = [], ""
    for ch in fmt:
        if ch.isdigit():
            num += ch
            continue
        k = int(num)
        num = ""
        pool = {"n": string.digits, "a": string.ascii_uppercase,
                "c": string.digits + string.ascii_uppercase}[ch]
        out.append("".join(r.choice(pool) for _ in range(k)))
    return "".join(out)


def iban_mod97(s):
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97


def make_iban(r, country=None):
    country = country or r.choice([c for c, f in IBAN_FORMATS.items() if f])
    bban = _bban(r, IBAN_FORMATS[country])
    check = 98 - iban_mod97(country + "00" + bban)
    return "%s%02d%s" % (country, check, bban)


IBAN_LEN = dict(AD=24, AE=23, AL=28, AT=20, AZ=28, BA=20, BE=16, BG=22, BH=22, BI=27,
                BR=29, BY=28, CH=21, CR=22, CY=28, CZ=24, DE=22, DJ=27, DK=18, DO=28,
                EE=20, EG=29, ES=24, FI=18, FK=18, FO=18, FR=27, GB=22, GE=22, GI=23,
                GL=18, GR=27, GT=28, HN=28, HR=21, HU=28, IE=22, IL=23, IQ=23, IS=26,
                IT=27, JO=30, KW=30, KZ=20, LB=28, LC=32, LI=21, LT=20, LU=20, LV=21,
                LY=25, MC=27, MD=24, ME=22, MK=19, MN=20, MR=27, MT=31, MU=30, NI=28,
                NL=18, NO=15, OM=23, PK=24, PL=28, PS=29, PT=25, QA=29, RO=24, RS=22,
                RU=33, SA=24, SC=31, SD=18, SE=24, SI=19, SK=24, SM=27, SO=23, ST=25,
                SV=28, TL=23, TN=24, TR=26, UA=29, VA=22, VG=24, XK=20, YE=30)


def is_iban(s):
    s = s.upper()
    if len(s) < 5 or IBAN_LEN.get(s[:2]) != len(s) or not s[2:4].isdigit():
        return False
    if not (2 <= int(s[2:4]) <= 98) or not s.isalnum():
        return False
    return iban_mod97(s) == 1


# --- US ----------------------------------------------------------------------
def is_ssn(d):
    a, g, s = int(d[:3]), int(d[3:5]), int(d[5:])
    return (len(d) == 9 and a not in (0, 666) and a < 900 and g != 0 and s != 0
            and d not in ("078051120", "219099999"))


def make_ssn(r):
    while True:
        d = rand_digits(r, 9)
        if is_ssn(d):
            return d


def is_itin(d):
    g = int(d[3:5])
    return (len(d) == 9 and d[0] == "9" and
            (50 <= g <= 65 or 70 <= g <= 88 or 90 <= g <= 92 or 94 <= g <= 99))


def make_itin(r):
    while True:
        d = "9" + rand_digits(r, 8)
        if is_itin(d):
            return d


def is_aba(d):
    p = int(d[:2])
    if not (1 <= p <= 12 or 21 <= p <= 32 or 61 <= p <= 72 or p == 80):
        return False
    w = [3, 7, 1] * 3
    return sum(int(c) * x for c, x in zip(d, w)) % 10 == 0


def make_aba(r):
    while True:
        p = "%02d" % r.choice(list(range(1, 13)) + list(range(21, 33)))
        for c in "0123456789":
            d = p + rand_digits(r, 6) + c
            if is_aba(d):
                return d


def is_clabe(d):
    w = [3, 7, 1] * 6
    s = sum((int(c) * x) % 10 for c, x in zip(d[:17], w))
    return len(d) == 18 and (10 - s % 10) % 10 == int(d[17]) and len(set(d)) > 1


def make_clabe(r):
    bank = r.choice(["002", "012", "014", "021", "030", "036", "044", "072", "127", "137"])
    base = bank + rand_digits(r, 14)
    for c in "0123456789":
        if is_clabe(base + c):
            return base + c


# --- Spain -------------------------------------------------------------------
def make_dni(r):
    n = r.randint(10000000, 99999999)
    return "%08d%s" % (n, DNI[n % 23])


def is_dni(s):
    return (len(s) == 9 and s[:8].isdigit() and DNI[int(s[:8]) % 23] == s[8].upper()
            and len(set(s[:8])) > 1)


def make_nie(r):
    p = r.choice("XYZ")
    n = r.randint(0, 9999999)
    v = "XYZ".index(p) * 10000000 + n
    return "%s%07d%s" % (p, n, DNI[v % 23])


def is_nie(s):
    s = s.upper()
    if len(s) != 9 or s[0] not in "XYZ" or not s[1:8].isdigit():
        return False
    return DNI[int(str("XYZ".index(s[0])) + s[1:8]) % 23] == s[8]


# --- UK ----------------------------------------------------------------------
def is_nino(s):
    s = s.upper()
    if len(s) != 9 or not s[:2].isalpha() or not s[2:8].isdigit() or s[8] not in "ABCD":
        return False
    if s[0] in "DFIQUV" or s[1] in "DFIQUVO":
        return False
    return s[:2] not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")


def make_nino(r):
    while True:
        s = (r.choice(string.ascii_uppercase) + r.choice(string.ascii_uppercase)
             + rand_digits(r, 6) + r.choice("ABCD"))
        if is_nino(s):
            return s


def nhs_check(d9):
    s = sum(int(c) * (10 - i) for i, c in enumerate(d9))
    c = 11 - s % 11
    return 0 if c == 11 else c


def is_nhs(d):
    c = nhs_check(d[:9])
    return len(d) == 10 and c != 10 and c == int(d[9]) and len(set(d)) > 1


def make_nhs(r):
    while True:
        d9 = r.choice("4567") + rand_digits(r, 8)
        c = nhs_check(d9)
        if c != 10:
            return d9 + str(c)


# --- Canada, India, Brazil ---------------------------------------------------
def is_sin(d):
    return len(d) == 9 and d[0] not in "08" and luhn_ok(d) and len(set(d)) > 1


def make_sin(r):
    return luhn_complete(r.choice("1234567") + rand_digits(r, 7))


_VD = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
       [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
       [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
       [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
       [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_VP = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
       [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
       [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
       [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
_VINV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def verhoeff_ok(d):
    c = 0
    for i, ch in enumerate(reversed(d)):
        c = _VD[c][_VP[i % 8][int(ch)]]
    return c == 0


def verhoeff_digit(d):
    c = 0
    for i, ch in enumerate(reversed(d)):
        c = _VD[c][_VP[(i + 1) % 8][int(ch)]]
    return str(_VINV[c])


def is_aadhaar(d):
    return len(d) == 12 and d[0] not in "01" and verhoeff_ok(d)


def make_aadhaar(r):
    base = r.choice("23456789") + rand_digits(r, 10)
    return base + verhoeff_digit(base)


def cpf_digits(d9):
    s1 = sum(int(c) * (10 - i) for i, c in enumerate(d9))
    c1 = s1 * 10 % 11 % 10
    d10 = d9 + str(c1)
    s2 = sum(int(c) * (11 - i) for i, c in enumerate(d10))
    return d10 + str(s2 * 10 % 11 % 10)


def is_cpf(d):
    return len(d) == 11 and len(set(d)) > 1 and cpf_digits(d[:9]) == d


def make_cpf(r):
    while True:
        d = cpf_digits(rand_digits(r, 9))
        if len(set(d)) > 1:
            return d


# --- Mexico CURP ---------------------------------------------------------------
CURP_STATES = ("AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN MS NT NL OC PL QT QR "
               "SP SL SR TC TS TL VZ YN ZS NE").split()
_CURP_DICT = "0123456789ABCDEFGHIJKLMN\u00d1OPQRSTUVWXYZ"
CONS = "BCDFGHJKLMNPQRSTVWXYZ"


def curp_check(s17):
    total = sum(_CURP_DICT.index(c) * (18 - i) for i, c in enumerate(s17))
    return str((10 - total % 10) % 10)


def make_curp(r):
    yy = r.randint(0, 99)
    year = 1900 + yy if yy > 10 else 2000 + yy
    mm, dd = r.randint(1, 12), r.randint(1, 28)
    s = (r.choice(string.ascii_uppercase) + r.choice("AEIOU") + r.choice(string.ascii_uppercase)
         + r.choice(string.ascii_uppercase) + "%02d%02d%02d" % (yy, mm, dd) + r.choice("HM")
         + r.choice(CURP_STATES) + r.choice(CONS) + r.choice(CONS) + r.choice(CONS)
         + (r.choice(string.digits) if year < 2000 else r.choice(string.ascii_uppercase)))
    return s + curp_check(s)


def is_curp(s):
    import datetime
    s = s.upper()
    if len(s) != 18 or not s[:4].isalpha() or not s[4:10].isdigit() or s[10] not in "HMX":
        return False
    if s[11:13] not in CURP_STATES or any(c not in CONS for c in s[13:16]):
        return False
    if not s[16].isalnum() or not s[17].isdigit():
        return False
    year = (1900 if s[16].isdigit() else 2000) + int(s[4:6])
    try:
        datetime.date(year, int(s[6:8]), int(s[8:10]))
    except ValueError:
        return False
    return curp_check(s[:17]) == s[17]


# --- Italy ---------------------------------------------------------------------
_CF_ODD = {}
for _c, _v in zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                  [1, 0, 5, 7, 9, 13, 15, 17, 19, 21] +
                  [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16,
                   10, 22, 25, 24, 23]):
    _CF_ODD[_c] = _v


def _cf_even(c):
    return int(c) if c.isdigit() else ord(c) - ord("A")


def cf_check(s15):
    t = sum(_CF_ODD[c] if i % 2 == 0 else _cf_even(c) for i, c in enumerate(s15))
    return chr(ord("A") + t % 26)


def make_cf(r, omocodia=False):
    s = "".join(r.choice(string.ascii_uppercase) for _ in range(6))
    s += "%02d" % r.randint(0, 99) + r.choice("ABCDEHLMPRST")
    day = r.randint(1, 28) + (40 if r.random() < 0.5 else 0)
    s += "%02d" % day + r.choice("ABCDEFGHILMZ") + "%03d" % r.randint(1, 999)
    if omocodia:
        s = s[:14] + "LMNPQRSTUV"[int(s[14])]
    return s + cf_check(s)


def is_cf(s):
    s = s.upper()
    if len(s) != 16 or not s[:6].isalpha() or s[8] not in "ABCDEHLMPRST":
        return False
    omo = "LMNPQRSTUV"
    digs = []
    for i in (6, 7, 9, 10, 12, 13, 14):
        c = s[i]
        if c.isdigit():
            digs.append(int(c))
        elif c in omo:
            digs.append(omo.index(c))
        else:
            return False
    day = digs[2] * 10 + digs[3]
    if not (1 <= day <= 31 or 41 <= day <= 71) or not s[11].isalpha() or not s[15].isalpha():
        return False
    return cf_check(s[:15]) == s[15]


# --- Poland, France, Germany, Netherlands --------------------------------------
def pesel_check(d10):
    w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]
    return str((10 - sum(int(c) * x for c, x in zip(d10, w)) % 10) % 10)


def make_pesel(r):
    year = r.randint(1930, 2015)
    mm = r.randint(1, 12) + (20 if year >= 2000 else 0)
    d10 = "%02d%02d%02d" % (year % 100, mm, r.randint(1, 28)) + rand_digits(r, 4)
    return d10 + pesel_check(d10)


def is_pesel(d):
    import datetime
    if len(d) != 11 or len(set(d)) == 1 or pesel_check(d[:10]) != d[10]:
        return False
    mm = int(d[2:4])
    base = {0: 1900, 1: 2000, 2: 2100, 3: 2200, 4: 1800}[mm // 20]
    try:
        datetime.date(base + int(d[:2]), mm % 20, int(d[4:6]))
    except ValueError:
        return False
    return True


def make_nir(r):
    sex = r.choice("12")
    dept = r.choice(["75", "13", "69", "2A", "2B", "33", "59", "06", "97"])
    if dept == "97":
        body = sex + "%02d%02d" % (r.randint(40, 99), r.randint(1, 12)) + "97" + rand_digits(r, 1) + rand_digits(r, 2)
        body = body[:7] + rand_digits(r, 6)
    else:
        body = sex + "%02d%02d" % (r.randint(40, 99), r.randint(1, 12)) + dept + rand_digits(r, 6)
    n = int(body.replace("2A", "19").replace("2B", "18"))
    return body + "%02d" % (97 - n % 97)


def is_nir(s):
    s = s.upper()
    if len(s) != 15 or s[0] not in "123478":
        return False
    body = s[:13]
    if body[5:7] in ("2A", "2B"):
        body = body[:5] + ("19" if body[6] == "A" else "18") + body[7:]
    if not body.isdigit() or not s[13:].isdigit():
        return False
    mm = int(s[3:5])
    if not (1 <= mm <= 12 or 20 <= mm <= 42 or mm >= 50):
        return False
    key = int(s[13:])
    return 1 <= key <= 97 and key == 97 - int(body) % 97


def steuer_check(d10):
    product = 10
    for c in d10:
        s = (int(c) + product) % 10
        s = 10 if s == 0 else s
        product = s * 2 % 11
    c = 11 - product
    return "0" if c == 10 else str(c)


def is_steuer(d):
    from collections import Counter
    if len(d) != 11 or d[0] == "0":
        return False
    cnt = Counter(d[:10])
    if max(cnt.values()) > 3 or sum(1 for v in cnt.values() if v >= 2) != 1:
        return False
    if any(d[i] == d[i + 1] == d[i + 2] for i in range(8)):
        return False
    return steuer_check(d[:10]) == d[10]


def make_steuer(r):
    while True:
        digits = r.sample("0123456789", 9)
        dup = r.choice(digits)
        d = digits + [dup]
        r.shuffle(d)
        d10 = "".join(d)
        if d10[0] == "0":
            continue
        d = d10 + steuer_check(d10)
        if is_steuer(d):
            return d


def is_bsn(d):
    if len(d) == 8:
        d = "0" + d
    if len(d) != 9 or len(set(d)) == 1:
        return False
    s = sum(int(c) * (9 - i) for i, c in enumerate(d[:8])) - int(d[8])
    return s > 0 and s % 11 == 0


def make_bsn(r):
    while True:
        d = r.choice("1234567") + rand_digits(r, 8)
        if is_bsn(d):
            return d


# --- network -------------------------------------------------------------------
def make_ipv4(r):
    first = r.choice([10, 172, 192, 203, 81, 91, 185, 34, 52, 100, 8, 46])
    return "%d.%d.%d.%d" % (first, r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))


def make_ipv6(r):
    groups = ["%x" % r.randint(0, 0xffff) for _ in range(8)]
    style = r.random()
    if style < 0.4:
        return ":".join(groups)
    if style < 0.8:
        k = r.randint(2, 5)
        return ":".join(["2001", "db8"] + groups[2:8 - k]) + "::" + groups[-1]
    return "fe80::" + ":".join(groups[4:])


# --- secrets -------------------------------------------------------------------
B62 = string.ascii_letters + string.digits


def rs(r, pool, n):
    return "".join(r.choice(pool) for _ in range(n))


def make_aws_key_id(r):
    return r.choice(["AKIA", "ASIA"]) + rs(r, string.ascii_uppercase + "234567", 16)


def make_aws_secret(r):
    return rs(r, B62 + "+/", 40)


def make_github(r):
    kind = r.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"])
    if kind == "github_pat_":
        return kind + rs(r, B62, 22) + "_" + rs(r, B62, 59)
    return kind + rs(r, B62, 36)


def make_gitlab(r):
    return "glpat-" + rs(r, B62 + "-_", 20)


def make_slack(r):
    k = r.choice("bpar")
    return "xox%s-%s-%s-%s" % (k, rs(r, string.digits, 12), rs(r, string.digits, 13),
                               rs(r, B62, 24))


def make_stripe(r):
    return r.choice(["sk_live_", "rk_live_"]) + rs(r, B62, r.choice([24, 34, 99]))


def make_google(r):
    return "AIza" + rs(r, B62 + "-_", 35)


def make_openai(r):
    if r.random() < 0.5:
        return "sk-proj-" + rs(r, B62 + "-_", r.choice([48, 64, 100]))
    return "sk-" + rs(r, B62, 20) + "T3BlbkFJ" + rs(r, B62, 20)


def make_anthropic(r):
    return "sk-ant-api03-" + rs(r, B62 + "-_", 93) + "AA"


def b64url(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def make_jwt(r):
    import json
    alg = r.choice(["HS256", "RS256", "ES256"])
    h = b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    p = b64url(json.dumps({"sub": rand_digits(r, 8), "name": r.choice(["Ana", "John", "Li"]),
                           "iat": 1700000000 + r.randint(0, 10 ** 7)}).encode())
    sig = rs(r, B62 + "-_", 43 if alg == "HS256" else 86)
    return "%s.%s.%s" % (h, p, sig)


def make_hex(r, n):
    return rs(r, "0123456789abcdef", n)
