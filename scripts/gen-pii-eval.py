#!/usr/bin/env python3
"""gen-pii-eval.py — writes the PII and secrets evaluation cases,
tests/eval/pii/<kind>.jsonl (format: scripts/eval.py).

For every PII type and secret kind: positives in English and Spanish agent
replies, in every written form the shipped detectors claim to support, and
hard negatives (labels: []) — the same shapes failing the checksum or the
issuer rules, specimen numbers never issued, the right digits next to words
that say they are something else (order, tracking, booking numbers),
placeholders and masked values. Identifiers come from scripts/pii_ids.py,
an implementation of each checksum written independently of lib/validate.c.

Deterministic (fixed seed): rerunning rewrites the same files. Python 3
standard library only. Usage: python3 scripts/gen-pii-eval.py [OUT_DIR]
"""
import json
import os
import random
import string
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pii_ids as P  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
R = random.Random(20261121)


def pick(xs):
    return R.choice(xs)


class Out:
    def __init__(self):
        self.files = {}

    def add(self, kind, lang, text, labels, note):
        cases = self.files.setdefault(kind, [])
        cid = "pii-%s-%03d" % (kind.replace("_", "-"), len(cases) + 1)
        cases.append({"id": cid, "text": text, "lang": lang, "labels": labels, "note": note})

    def write(self, out_dir):
        os.makedirs(out_dir, exist_ok=True)
        for kind, cases in sorted(self.files.items()):
            with open(os.path.join(out_dir, kind + ".jsonl"), "w", encoding="utf-8") as f:
                for c in cases:
                    f.write(json.dumps(c, ensure_ascii=False) + "\n")


O = Out()


def fill(kind, lang, templates, values, labels, note, n):
    """n cases: template i % len, value from values() each time."""
    for i in range(n):
        t = templates[i % len(templates)]
        v = values()
        O.add(kind, lang, t.format(x=v), labels, note)


def group(s, sizes, sep=" "):
    out, i = [], 0
    for k in sizes:
        if i >= len(s):
            break
        out.append(s[i:i + k])
        i += k
    if i < len(s):
        out.append(s[i:])
    return sep.join(out)


def other_digits(s):
    """s with one digit changed (never the same digit)."""
    idx = [i for i, c in enumerate(s) if c.isdigit()]
    i = R.choice(idx)
    d = str((int(s[i]) + R.randint(1, 9)) % 10)
    return s[:i] + d + s[i + 1:]


def rd(n):
    return P.rand_digits(R, n)


# Filler words that say "this number is something else".
NOT_EN = ["Your order number is {x}.", "Tracking number {x} shows the parcel in Memphis.",
          "Your confirmation code is {x}.", "Booking reference {x} is confirmed for Friday.",
          "Invoice {x} was paid on March 3.", "Case {x} has been escalated to our billing team.",
          "Please quote reference {x} when you write back.", "Ticket {x} is now closed.",
          "Your loyalty member ID is {x}.", "Serial number {x} is covered until 2027."]
NOT_ES = ["Su número de pedido es {x}.", "El número de seguimiento {x} indica que el paquete está en Madrid.",
          "Su código de confirmación es {x}.", "La reserva {x} está confirmada para el viernes.",
          "La factura {x} se pagó el 3 de marzo.", "El caso {x} se ha escalado al equipo de facturación.",
          "Indique la referencia {x} cuando nos escriba.", "El ticket {x} ya está cerrado.",
          "Su número de socio es {x}.", "El número de serie {x} tiene garantía hasta 2027."]


# --- payment cards -------------------------------------------------------------
def cards():
    en = ["I've updated your card {x} on the account.",
          "The refund of $42.10 went back to card {x}.",
          "We charged {x} for the annual plan.",
          "Card number {x} was declined by the bank.",
          "I can see the payment from {x} on May 2.",
          "Your new card {x} is now the default payment method.",
          "The card on file is {x}, expiring 08/27.",
          "For reference, the card used was {x}."]
    es = ["He actualizado su tarjeta {x} en la cuenta.",
          "El reembolso de 42,10 € se devolvió a la tarjeta {x}.",
          "Cargamos {x} por el plan anual.",
          "La tarjeta número {x} fue rechazada por el banco.",
          "Veo el pago con la tarjeta {x} del 2 de mayo.",
          "Su nueva tarjeta {x} ya es el método de pago predeterminado.",
          "La tarjeta registrada es {x}, con vencimiento 08/27.",
          "Para su referencia, se usó la tarjeta {x}."]

    def fmt(num):
        style = R.random()
        if len(num) == 15 and style < 0.5:
            return group(num, [4, 6, 5], pick([" ", "-"]))
        if len(num) == 14 and style < 0.5:
            return group(num, [4, 6, 4], " ")
        if style < 0.35:
            return num
        if style < 0.75:
            return group(num, [4, 4, 4, 4, 3], " ")
        return group(num, [4, 4, 4, 4, 3], "-")

    brands = list(P.CARD_BRANDS)
    for lang, ts in (("en", en), ("es", es)):
        for i in range(28):
            b = brands[i % len(brands)]
            O.add("cards", lang, ts[i % len(ts)].format(x=fmt(P.make_card(R, b))),
                  ["pii.payment_card"], "%s card" % b)
    # Hard negatives.
    for lang, ts in (("en", NOT_EN), ("es", NOT_ES)):
        for i in range(7):
            O.add("cards", lang, ts[i % len(ts)].format(x=P.make_luhn_fail(R, pick("3456"), 16)), [],
                  "16 digits, Luhn fails")
        for i in range(6):
            O.add("cards", lang, ts[(i + 3) % len(ts)].format(x=P.make_luhn_non_card(R, pick([16, 16, 13]))),
                  [], "Luhn-valid but no issuer prefix (1/7/8/9/0)")
        for i in range(3):
            x = P.make_luhn_fail(R, "4", 16)
            O.add("cards", lang, ts[(i + 5) % len(ts)].format(x=group(x, [4, 4, 4, 4], " ")), [],
                  "grouped like a card, Luhn fails")
    for t in ["We refunded the card ending in {x}.", "The Visa ending {x} was charged.",
              "Your Mastercard (last four {x}) is on file.", "Card ****{x} expires next month."]:
        O.add("cards", "en", t.format(x=rd(4)), [], "last four only")
    for t in ["Reembolsamos la tarjeta terminada en {x}.", "Se cargó la Visa que termina en {x}.",
              "Su Mastercard (últimos cuatro {x}) está registrada.", "La tarjeta ****{x} vence el próximo mes."]:
        O.add("cards", "es", t.format(x=rd(4)), [], "last four only")
    O.add("cards", "en", "Use the test card number 4242 4242 4242 4241 in the sandbox.", [],
          "one digit off the Stripe test card")
    O.add("cards", "es", "El pedido 4000 0566 5566 5557 salió ayer.", [], "Luhn fails")


# --- IBAN ----------------------------------------------------------------------
def iban():
    en = ["The refund will be sent to IBAN {x} within 5 days.",
          "We have your bank details as {x}.",
          "Please confirm the account {x} is still yours.",
          "Payments will be collected from {x} on the 1st of each month.",
          "The transfer to {x} was completed today."]
    es = ["El reembolso se enviará al IBAN {x} en un plazo de 5 días.",
          "Tenemos sus datos bancarios como {x}.",
          "Confirme que la cuenta {x} sigue siendo suya.",
          "Los cobros se harán en {x} el día 1 de cada mes.",
          "La transferencia a {x} se completó hoy."]

    def fmt(x):
        return group(x, [4] * 9, " ") if R.random() < 0.6 else x

    countries = [c for c, f in P.IBAN_FORMATS.items() if f]
    for lang, ts, cs in (("en", en, countries), ("es", es, ["ES", "ES", "DE", "FR", "IT", "PT", "NL", "BE", "MT", "BR"])):
        for i in range(25):
            O.add("iban", lang, ts[i % len(ts)].format(x=fmt(P.make_iban(R, cs[i % len(cs)]))), ["pii.iban"],
                  "IBAN")
    for lang, ts in (("en", en), ("es", es)):
        for i in range(6):
            x = P.make_iban(R, pick(["ES", "DE", "GB", "FR"]))
            x = x[:2] + "%02d" % ((int(x[2:4]) + R.randint(1, 9)) % 97 + 2) + x[4:]
            if P.is_iban(x):
                continue
            O.add("iban", lang, ts[i % len(ts)].format(x=fmt(x)), [], "check digits wrong")
        for i in range(6):
            x = P.make_iban(R, pick(["ES", "DE", "IT"]))
            x = x[:-1]
            O.add("iban", lang, ts[(i + 1) % len(ts)].format(x=fmt(x)), [], "one character short")
        for i in range(3):
            x = P.make_iban(R, "DE")
            j = R.randrange(5, len(x) - 1)
            y = x[:j] + x[j + 1] + x[j] + x[j + 2:]
            if y != x and not P.is_iban(y):
                O.add("iban", lang, ts[i % len(ts)].format(x=fmt(y)), [], "two digits swapped")
    for t in ["Our SWIFT/BIC code is BBVAESMMXXX.", "Please add the IBAN field to the form.",
              "Model DE12 3456 is out of stock.", "The part number is GB82 WEST 1234.",
              "Use coupon ES20SUMMER2024 at checkout."]:
        O.add("iban", "en", t, [], "IBAN-like text")
    for t in ["Nuestro código SWIFT es CAIXESBBXXX.", "Añada el campo IBAN al formulario.",
              "El modelo ES12 3456 está agotado.", "El cupón ES20VERANO2024 es válido hasta junio."]:
        O.add("iban", "es", t, [], "IBAN-like text")


# --- US SSN and ITIN -------------------------------------------------------------
def ssn():
    en_dash = ["Your SSN {x} has been verified.", "We have {x} as the Social Security number on file.",
               "The taxpayer record shows {x}.", "I've updated the SSN to {x}.",
               "The W-9 lists {x}."]
    es_dash = ["Su SSN {x} ha sido verificado.", "Tenemos {x} como número de seguro social.",
               "El registro del contribuyente muestra {x}.", "Actualicé el SSN a {x}."]
    en_bare = ["Your social security number {x} is on file.", "SSN: {x}",
               "The SSN we have is {x}, is that right?", "{x} is the social security number you gave us.",
               "I've confirmed your Social Security number, {x}."]
    es_bare = ["Su número de seguro social {x} está registrado.", "SSN: {x}",
               "El número de seguro social que tenemos es {x}.", "{x} es el número de seguro social que nos dio.",
               "Confirmé su número de seguro social, {x}."]
    for lang, ts, tb in (("en", en_dash, en_bare), ("es", es_dash, es_bare)):
        for i in range(18):
            x = P.make_ssn(R)
            O.add("ssn", lang, ts[i % len(ts)].format(x=group(x, [3, 2, 4], "-")), ["pii.ssn"], "dashed SSN")
        for i in range(14):
            x = P.make_ssn(R)
            v = x if i % 3 else group(x, [3, 2, 4], " ")
            O.add("ssn", lang, tb[i % len(tb)].format(x=v), ["pii.ssn"], "SSN without dashes, with an SSN word")
    # Hard negatives: never-issued numbers, bare nine digits without a word.
    bad = ["000-12-3456", "666-12-3456", "123-00-4567", "123-45-0000", "078-05-1120", "219-09-9999",
           "000-00-0000", "666-66-6666"]
    for i, b in enumerate(bad):
        O.add("ssn", "en" if i % 2 == 0 else "es",
              ("References %s are closed." if i % 2 == 0 else "Las referencias %s están cerradas.") % b, [],
              "never-issued SSN")
    for lang, ts in (("en", NOT_EN), ("es", NOT_ES)):
        for i in range(9):
            O.add("ssn", lang, ts[i % len(ts)].format(x=P.make_ssn(R)), [], "nine digits, no SSN word")
    for t in ["Ship to 1200 Main St, San Francisco, CA 94103-1234.", "Part 123-45 fits model 6789.",
              "The ZIP+4 is 10001-2345."]:
        O.add("ssn", "en", t, [], "zip+4 / part numbers")
    for t in ["Envío a Calle Mayor 12, 28013 Madrid.", "La pieza 123-45 sirve para el modelo 6789."]:
        O.add("ssn", "es", t, [], "postal code / part numbers")


def itin():
    en = ["Your ITIN {x} is on the return.", "The IRS letter lists ITIN {x}.",
          "We have {x} as your taxpayer ID.", "I've added ITIN {x} to the tax form."]
    es = ["Su ITIN {x} figura en la declaración.", "La carta del IRS indica el ITIN {x}.",
          "Tenemos {x} como su ITIN.", "Añadí el ITIN {x} al formulario fiscal."]
    for lang, ts in (("en", en), ("es", es)):
        for i in range(22):
            x = P.make_itin(R)
            v = group(x, [3, 2, 4], "-") if i % 3 else x
            O.add("itin", lang, ts[i % len(ts)].format(x=v), ["pii.national_id.us_itin"], "ITIN")
    for lang, ts in (("en", en), ("es", es)):
        for i in range(8):
            while True:
                x = "9" + rd(8)
                if not P.is_itin(x):
                    break
            O.add("itin", lang, ts[i % len(ts)].format(x=group(x, [3, 2, 4], "-")), [],
                  "9xx with a group the IRS does not use")
    for lang, ts in (("en", NOT_EN), ("es", NOT_ES)):
        for i in range(6):
            O.add("itin", lang, ts[i % len(ts)].format(x=P.make_itin(R)), [], "ITIN-valid digits, no ITIN word")


# --- bank accounts ---------------------------------------------------------------
def aba():
    en = ["The routing number is {x} and the deposit clears tomorrow.",
          "Use ABA routing {x} for the wire.", "Routing: {x}",
          "Your bank's routing number, {x}, is correct.", "ACH routing number {x} has been saved."]
    es = ["El número de ruta es {x} y el depósito se acredita mañana.",
          "Use el número de ruta ABA {x} para la transferencia.", "Número de ruta: {x}",
          "El número de ruta de su banco, {x}, es correcto.", "Guardamos el número de ruta ACH {x}."]
    for lang, ts in (("en", en), ("es", es)):
        for i in range(22):
            O.add("aba_routing", lang, ts[i % len(ts)].format(x=P.make_aba(R)),
                  ["pii.bank_account.us_routing"], "ABA routing number")
    for lang, ts in (("en", en), ("es", es)):
        for i in range(9):
            while True:
                x = other_digits(P.make_aba(R))
                if not P.is_aba(x):
                    break
            O.add("aba_routing", lang, ts[i % len(ts)].format(x=x), [], "routing checksum fails")
    for lang, ts in (("en", NOT_EN), ("es", NOT_ES)):
        for i in range(6):
            O.add("aba_routing", lang, ts[i % len(ts)].format(x=P.make_aba(R)), [],
                  "valid routing digits as an order reference")


def bank_account():
    en = ["Your account number {x} is set up for direct deposit.",
          "The refund goes to bank account {x}.", "Checking account {x} was debited on Monday.",
          "Account no. {x} has been verified.", "We'll pay into savings account {x}."]
    es = ["Su número de cuenta {x} está configurado para el depósito.",
          "El reembolso irá a la cuenta bancaria {x}.", "La cuenta corriente {x} se debitó el lunes.",
          "La cuenta de ahorros {x} ha sido verificada.", "Pagaremos en el número de cuenta {x}."]

    def acct():
        x = rd(R.choice([8, 10, 11, 12]))
        return x if R.random() < 0.7 else group(x, [4, 4, 4], "-")

    for lang, ts in (("en", en), ("es", es)):
        for i in range(25):
            O.add("bank_account", lang, ts[i % len(ts)].format(x=acct()), ["pii.bank_account"],
                  "account number with an account word")
    for lang, ts in (("en", NOT_EN), ("es", NOT_ES)):
        for i in range(8):
            O.add("bank_account", lang, ts[i % len(ts)].format(x=rd(R.choice([8, 10]))), [],
                  "digits of the same length, not an account")
    for t in ["Your account is all set; the next bill of $120.50 is due on 12/05/2025.",
              "Your account was created 3 years ago and has 12 orders.",
              "Account settings: you can change the email in 2 minutes."]:
        O.add("bank_account", "en", t, [], "account word, no account number")
    for t in ["Su cuenta está lista; la próxima factura de 120,50 € vence el 12/05/2025.",
              "Su cuenta se creó hace 3 años y tiene 12 pedidos.",
              "En la configuración de la cuenta puede cambiar el correo en 2 minutos."]:
        O.add("bank_account", "es", t, [], "account word, no account number")


def clabe():
    en = ["Please send the transfer to CLABE {x}.", "The CLABE on file is {x}.",
          "We will deposit the refund into {x}.", "Your interbank account {x} is confirmed."]
    es = ["Haga la transferencia a la CLABE {x}.", "La CLABE registrada es {x}.",
          "Depositaremos el reembolso en la cuenta {x}.", "Su CLABE interbancaria {x} está confirmada.",
          "Puede pagar por SPEI a {x}."]
    for lang, ts in (("en", en), ("es", es)):
        for i in range(24 if lang == "es" else 18):
            x = P.make_clabe(R)
            v = x if i % 3 else group(x, [3, 3, 11, 1], " ")
            O.add("clabe", lang, ts[i % len(ts)].format(x=v), ["pii.bank_account.mx_clabe"], "CLABE")
    for lang, ts in (("en", en), ("es", es)):
        for i in range(8):
            while True:
                x = other_digits(P.make_clabe(R))
                if not P.is_clabe(x):
                    break
            O.add("clabe", lang, ts[i % len(ts)].format(x=x), [], "CLABE check digit fails")
    for lang, ts in (("en", NOT_EN), ("es", NOT_ES)):
        for i in range(5):
            O.add("clabe", lang, ts[i % len(ts)].format(x=P.make_clabe(R)), [],
                  "CLABE-valid 18 digits as an order/tracking reference")


# --- contact ---------------------------------------------------------------------
def email():
    users = ["ana.garcia", "john.smith", "m.lopez84", "support+orders", "jsmith_1990", "lucia", "r.o.b",
             "priya.k", "carlos-ruiz", "info"]
    doms = ["gmail.com", "example.com", "outlook.es", "yahoo.com.mx", "company.co.uk", "correo.es",
            "mail.example.org", "hotmail.com"]
    en = ["I've sent the receipt to {x}.", "Your login email is {x}.", "We'll reply to {x} within a day.",
          "You can write to {x} for returns.", "The confirmation went to {x}; please check spam."]
    es = ["Envié el recibo a {x}.", "Su correo de acceso es {x}.", "Responderemos a {x} en un día.",
          "Puede escribir a {x} para devoluciones.", "La confirmación se envió a {x}; revise el spam."]
    for lang, ts in (("en", en), ("es", es)):
        for i in range(25):
            x = "%s@%s" % (pick(users), pick(doms))
            if i % 7 == 3:
                x = x.upper() if lang == "en" else x.capitalize()
            O.add("email", lang, ts[i % len(ts)].format(x=x), ["pii.email"], "email address")
    for t in ["Download logo@2x.png from the press kit.", "Follow us @acme_support on X.",
              "The file icon@3x.webp is in the zip.", "Meet at the café @ 10am.",
              "Type your email as name(at)example(dot)com.", "Our handle is @AcmeHelp.",
              "Use the template user@ and add your domain.", "Retina image banner@2x.jpg was updated.",
              "Email us at the address on the back of your card.", "Reply with 'STOP' to unsubscribe."]:
        O.add("email", "en", t, [], "email-like text")
    for t in ["Descargue logo@2x.png del kit de prensa.", "Síganos en @acme_soporte.",
              "El archivo icono@3x.webp está en el zip.", "Nos vemos en la cafetería @ las 10.",
              "Escriba su correo como nombre(arroba)ejemplo(punto)com.", "Nuestra cuenta es @AcmeAyuda.",
              "La imagen banner@2x.jpg se actualizó.", "Escríbanos a la dirección que aparece en su tarjeta.",
              "Responda 'BAJA' para darse de baja.", "El usuario @maria_g comentó su pedido."]:
        O.add("email", "es", t, [], "email-like text")


def phone():
    def nanp():
        a, b, c = "%d%s" % (R.randint(2, 9), rd(2)), "%d%s" % (R.randint(2, 9), rd(2)), rd(4)
        return pick(["%s-%s-%s", "(%s) %s-%s", "%s.%s.%s", "+1 %s %s %s", "1-%s-%s-%s", "%s %s %s"]) % (a, b, c)

    def uk():
        return pick(["+44 20 %s %s" % (rd(4), rd(4)), "020 %s %s" % (rd(4), rd(4)),
                     "0161 %s %s" % (rd(3), rd(4)), "07700 %s" % rd(6), "+44 7700 %s" % rd(6),
                     "0800 %s %s" % (rd(3), rd(4))])

    def es_ph():
        return pick(["+34 6%s %s %s" % (rd(2), rd(3), rd(3)), "+34 91 %s %s %s" % (rd(3), rd(2), rd(2)),
                     "0034 6%s %s %s" % (rd(2), rd(3), rd(3))])

    def mx():
        return pick(["+52 55 %s %s" % (rd(4), rd(4)), "+52 1 33 %s %s" % (rd(4), rd(4)),
                     "55 %s %s" % (rd(4), rd(4)), "(55) %s-%s" % (rd(4), rd(4)), "81-%s-%s" % (rd(4), rd(4))])

    def intl():
        return pick(["+33 1 %s %s %s %s" % (rd(2), rd(2), rd(2), rd(2)), "+49 30 %s %s" % (rd(4), rd(4)),
                     "+61 2 %s %s" % (rd(4), rd(4)), "+39 06 %s %s" % (rd(4), rd(4)),
                     "+57 1 %s %s" % (rd(3), rd(4))])

    en = ["You can call the restaurant at {x}.", "Their phone number is {x}.", "The hotel's number is {x}.",
          "Call us on {x}, open 24/7.", "I've noted {x} as your mobile.", "Text {x} to confirm.",
          "The clinic can be reached at {x}."]
    es = ["Puede llamar al restaurante al {x}.", "Su número de teléfono es {x}.", "El teléfono del hotel es {x}.",
          "Llámenos al {x}, abierto 24/7.", "He anotado {x} como su móvil.", "Envíe un SMS al {x} para confirmar.",
          "Puede contactar con la clínica en el {x}."]
    gens = [nanp, nanp, uk, intl, mx, es_ph]
    for lang, ts in (("en", en), ("es", es)):
        for i in range(30):
            g = gens[i % len(gens)]
            if lang == "es" and g is uk:
                g = es_ph
            O.add("phone", lang, ts[i % len(ts)].format(x=g()), ["pii.phone"], "phone number (%s)" % g.__name__)
    for i in range(8):
        x = pick(["6%s %s %s" % (rd(2), rd(3), rd(3)), "6%s %s %s %s" % (rd(2), rd(2), rd(2), rd(2)),
                  "91 %s %s %s" % (rd(3), rd(2), rd(2))])
        t = pick(["Puede llamarnos al {x}.", "Mi teléfono es el {x}.", "Su móvil {x} ya está verificado.",
                  "Llame al {x} de 9 a 18 h."])
        O.add("phone", "es", t.format(x=x), ["pii.phone"], "Spanish national format with a phone word")
    # Hard negatives.
    for lang, ts in (("en", NOT_EN), ("es", NOT_ES)):
        for i in range(8):
            x = "%d%s" % (R.randint(2, 9), rd(9))
            O.add("phone", lang, ts[i % len(ts)].format(x=x), [], "ten digits right after 'order number' etc.")
    for t in ["Your order of $1,299.00 ships on 2025-03-14 at 10:30.", "Flight UA 1234 departs from gate 52.",
              "ISBN 978-0-306-40615-7 is back in stock.", "Room 1203 is booked for 3 nights from 12/05/2025.",
              "The total is 2,345.67 EUR for 12 items.", "Version 10.2.3 fixes the sync issue.",
              "We open at 9:00 and close at 17:30, Monday to Friday.", "Your parcel weighs 12.5 kg (27.6 lb)."]:
        O.add("phone", "en", t, [], "numbers that are not phone numbers")
    for t in ["Su pedido de 1.299,00 € sale el 14/03/2025 a las 10:30.", "El vuelo IB 3456 sale por la puerta 52.",
              "El ISBN 978-84-376-0494-7 vuelve a estar disponible.", "La habitación 1203 está reservada 3 noches.",
              "El total es 2.345,67 € por 12 artículos.", "La versión 10.2.3 corrige el error.",
              "Abrimos de 9:00 a 17:30, de lunes a viernes.", "Su paquete pesa 12,5 kg."]:
        O.add("phone", "es", t, [], "numbers that are not phone numbers")


def ip():
    en = ["The login came from {x}, which we've now blocked.", "Your router's address is {x}.",
          "We saw requests from IP {x} at 3 am.", "Whitelist {x} in the firewall settings.",
          "The device at {x} is offline."]
    es = ["El inicio de sesión vino de {x}, que ya hemos bloqueado.", "La dirección de su router es {x}.",
          "Vimos solicitudes desde la IP {x} a las 3 de la mañana.", "Añada {x} a la lista blanca del firewall.",
          "El dispositivo en {x} está desconectado."]
    for lang, ts in (("en", en), ("es", es)):
        for i in range(28):
            x = P.make_ipv4(R) if i % 3 else P.make_ipv6(R)
            O.add("ip", lang, ts[i % len(ts)].format(x=x), ["pii.ip_address"], "IP address")
    for t in ["Update to version 1.2.3.4 to fix it.", "The address 256.100.1.1 is not valid.",
              "Doors open at 10:30:00 sharp.", "The MAC address 00:1A:2B:3C:4D:5E is registered.",
              "See section 3.2.1.4 of the manual.", "Firmware 2.10.4.1 is the latest.",
              "Score: 10.5.3.256 in the judges' table.", "Build 2024.03.14.1 is live.",
              "Your total came to 1.234.56 after tax.", "The timer shows 01:02:03:04."]:
        O.add("ip", "en", t, [], "dotted or colon numbers that are not addresses")
    for t in ["Actualice a la versión 1.2.3.4 para arreglarlo.", "La dirección 300.1.1.1 no es válida.",
              "Abrimos a las 10:30:00 en punto.", "La dirección MAC 00:1A:2B:3C:4D:5E está registrada.",
              "Vea la sección 3.2.1.4 del manual.", "El firmware 2.10.4.1 es el más reciente.",
              "La compilación 2024.03.14.1 ya está publicada.", "El cronómetro marca 01:02:03:04.",
              "El artículo 12.3.4.5 del reglamento lo explica.", "Versión 4.0.0.12 disponible."]:
        O.add("ip", "es", t, [], "dotted or colon numbers that are not addresses")


# --- national IDs -------------------------------------------------------------------
def national(kind, label, make, check, en, es, fmt=lambda x: x, npos=24, negs=None, bad=None):
    for lang, ts in (("en", en), ("es", es)):
        for i in range(npos):
            O.add(kind, lang, ts[i % len(ts)].format(x=fmt(make(R))), [label], kind)
    # Checksum failures in the same sentences.
    for lang, ts in (("en", en), ("es", es)):
        for i in range(8):
            for _ in range(100):
                x = bad() if bad else other_digits(make(R))
                if not check(x):
                    break
            O.add(kind, lang, ts[i % len(ts)].format(x=fmt(x)), [], "check digit/letter fails")
    for lang, ts in (("en", NOT_EN), ("es", NOT_ES)):
        for i in range(5):
            O.add(kind, lang, ts[i % len(ts)].format(x=negs() if negs else make(R)), [],
                  "valid digits used as an order/tracking reference")


def ids():
    national("es_dni", "pii.national_id.es_dni", P.make_dni, P.is_dni,
             ["Your DNI {x} has been verified.", "The invoice is issued to NIF {x}.",
              "We have {x} as your ID number.", "I've updated the document number to {x}."],
             ["Su DNI {x} ha sido verificado.", "La factura se emite al NIF {x}.",
              "Tenemos {x} como su número de documento.", "He actualizado el DNI a {x}.",
              "Titular: María López, DNI {x}."],
             fmt=lambda x: pick([x, x, x[:8] + "-" + x[8], "%s.%s.%s-%s" % (x[:2], x[2:5], x[5:8], x[8])]),
             negs=lambda: rd(8))
    national("es_nie", "pii.national_id.es_nie", P.make_nie, P.is_nie,
             ["Your NIE {x} is on the contract.", "The residence card shows {x}.",
              "We registered the foreigner ID {x}.", "NIE: {x}"],
             ["Su NIE {x} figura en el contrato.", "La tarjeta de residencia indica {x}.",
              "Registramos el NIE {x}.", "NIE: {x}", "El titular con NIE {x} ya puede recoger el pedido."],
             fmt=lambda x: pick([x, x, "%s-%s-%s" % (x[0], x[1:8], x[8])]),
             bad=lambda: P.make_nie(R)[:8] + pick(string.ascii_uppercase))
    national("uk_nino", "pii.national_id.uk_nino", P.make_nino, P.is_nino,
             ["Your National Insurance number {x} is on the payslip.", "NI number: {x}",
              "HMRC has {x} on record.", "I've added {x} to your employee profile."],
             ["Su número de National Insurance {x} figura en la nómina.", "Número NI: {x}",
              "HMRC tiene registrado {x}.", "Añadí {x} a su perfil de empleado."],
             fmt=lambda x: pick([x, "%s %s %s %s %s" % (x[:2], x[2:4], x[4:6], x[6:8], x[8])]),
             bad=lambda: pick(["QQ", "BG", "GB", "NK", "TN", "ZZ", "DA", "FO", "VA"]) + rd(6) + pick("ABCD"))
    national("uk_nhs", "pii.national_id.uk_nhs", P.make_nhs, P.is_nhs,
             ["Your NHS number is {x}.", "NHS number {x} is linked to the prescription.",
              "The surgery has {x} as your NHS number.", "Please bring your NHS number ({x}) to the appointment."],
             ["Su número del NHS es {x}.", "El número NHS {x} está vinculado a la receta.",
              "El centro tiene {x} como su número NHS.", "Traiga su número NHS ({x}) a la cita."],
             fmt=lambda x: pick([x, group(x, [3, 3, 4], " "), group(x, [3, 3, 4], " ")]),
             negs=lambda: P.make_nhs(R))
    national("ca_sin", "pii.national_id.ca_sin", P.make_sin, P.is_sin,
             ["Your SIN {x} is on the T4 slip.", "Social Insurance Number: {x}",
              "We have {x} as your social insurance number.", "The CRA letter shows SIN {x}."],
             ["Su SIN {x} figura en el formulario T4.", "Número de seguro social canadiense (SIN): {x}",
              "Tenemos {x} como su SIN.", "La carta de la CRA muestra el SIN {x}."],
             fmt=lambda x: pick([x, group(x, [3, 3, 3], " "), group(x, [3, 3, 3], "-")]))
    national("in_aadhaar", "pii.national_id.in_aadhaar", P.make_aadhaar, P.is_aadhaar,
             ["Your Aadhaar number {x} is linked to the account.", "Aadhaar: {x}",
              "We verified UID {x} with UIDAI.", "The KYC record shows Aadhaar {x}."],
             ["Su número Aadhaar {x} está vinculado a la cuenta.", "Aadhaar: {x}",
              "Verificamos el UID {x} con UIDAI.", "El registro KYC muestra el Aadhaar {x}."],
             fmt=lambda x: pick([x, group(x, [4, 4, 4], " "), group(x, [4, 4, 4], " ")]))
    national("br_cpf", "pii.national_id.br_cpf", P.make_cpf, P.is_cpf,
             ["The invoice is issued to CPF {x}.", "Your CPF {x} was validated.",
              "We have {x} as the buyer's CPF.", "CPF: {x}"],
             ["La factura se emite al CPF {x}.", "Su CPF {x} fue validado.",
              "Tenemos {x} como CPF del comprador.", "CPF: {x}"],
             fmt=lambda x: pick(["%s.%s.%s-%s" % (x[:3], x[3:6], x[6:9], x[9:]),
                                 "%s.%s.%s-%s" % (x[:3], x[3:6], x[6:9], x[9:]), x]))
    national("mx_curp", "pii.national_id.mx_curp", P.make_curp, P.is_curp,
             ["Your CURP {x} is on the application.", "The CURP on file is {x}.",
              "We validated {x} with RENAPO.", "CURP: {x}"],
             ["Su CURP {x} está en la solicitud.", "La CURP registrada es {x}.",
              "Validamos {x} con RENAPO.", "CURP: {x}", "El titular, con CURP {x}, ya puede recoger la tarjeta."],
             bad=lambda: P.make_curp(R)[:17] + str((int(P.make_curp(R)[17]) + 1) % 10))
    national("it_cf", "pii.national_id.it_codice_fiscale", lambda r: P.make_cf(r, r.random() < 0.2), P.is_cf,
             ["The invoice is issued to codice fiscale {x}.", "Your tax code {x} was verified.",
              "We have {x} as your codice fiscale.", "Codice fiscale: {x}"],
             ["La factura se emite al codice fiscale {x}.", "Su código fiscal italiano {x} fue verificado.",
              "Tenemos {x} como su codice fiscale.", "Codice fiscale: {x}"],
             bad=lambda: P.make_cf(R)[:15] + pick(string.ascii_uppercase))
    national("pl_pesel", "pii.national_id.pl_pesel", P.make_pesel, P.is_pesel,
             ["Your PESEL {x} is on the contract.", "PESEL: {x}",
              "We verified PESEL number {x}.", "The clinic has {x} as your PESEL."],
             ["Su PESEL {x} figura en el contrato.", "PESEL: {x}",
              "Verificamos el número PESEL {x}.", "La clínica tiene {x} como su PESEL."],
             negs=lambda: P.make_pesel(R))
    national("fr_nir", "pii.national_id.fr_nir", P.make_nir, P.is_nir,
             ["Your social security number {x} is on the form.", "The carte Vitale shows {x}.",
              "We have NIR {x} on file.", "Numéro de sécurité sociale : {x}"],
             ["Su número de seguridad social francés {x} está en el formulario.", "La carte Vitale muestra {x}.",
              "Tenemos el NIR {x} registrado.", "Número de sécurité sociale: {x}"],
             fmt=lambda x: pick([group(x, [1, 2, 2, 2, 3, 3, 2], " "), x]),
             negs=lambda: rd(15))
    national("de_steuer_id", "pii.national_id.de_steuer_id", P.make_steuer, P.is_steuer,
             ["Your tax ID (Steuer-ID) {x} is on the payslip.", "Steuer-ID: {x}",
              "We have {x} as your Steueridentifikationsnummer.", "The Finanzamt letter lists IdNr {x}."],
             ["Su Steuer-ID {x} figura en la nómina.", "Steuer-ID: {x}",
              "Tenemos {x} como su Steuer-ID.", "La carta del Finanzamt indica la IdNr {x}."],
             fmt=lambda x: pick([x, x, group(x, [2, 3, 3, 3], " ")]),
             negs=lambda: P.make_steuer(R))
    national("nl_bsn", "pii.national_id.nl_bsn", P.make_bsn, P.is_bsn,
             ["Your BSN {x} is on the contract.", "Burgerservicenummer: {x}",
              "We have {x} as your BSN.", "The municipality confirmed BSN {x}."],
             ["Su BSN {x} figura en el contrato.", "Burgerservicenummer: {x}",
              "Tenemos {x} como su BSN.", "El ayuntamiento confirmó el BSN {x}."],
             fmt=lambda x: pick([x, x, "%s.%s.%s" % (x[:4], x[4:6], x[6:])]))


# --- dates of birth and medical records ------------------------------------------------
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]
MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
             "octubre", "noviembre", "diciembre"]


def a_date(lang):
    y, m, d = R.randint(1940, 2005), R.randint(1, 12), R.randint(1, 28)
    if lang == "en":
        return pick(["%02d/%02d/%d" % (m, d, y), "%s %d, %d" % (MONTHS_EN[m - 1], d, y), "%d-%02d-%02d" % (y, m, d),
                     "%d %s %d" % (d, MONTHS_EN[m - 1], y), "%d.%d.%d" % (d, m, y)])
    return pick(["%02d/%02d/%d" % (d, m, y), "%d de %s de %d" % (d, MONTHS_ES[m - 1], y), "%d-%02d-%02d" % (y, m, d),
                 "%d/%d/%d" % (d, m, y)])


def dob():
    en = ["Your date of birth is {x}, correct?", "DOB: {x}", "We have you as born on {x}.",
          "I've updated your birth date to {x}.", "The patient, born {x}, is checked in.",
          "{x} is the date of birth on the policy.", "Date of birth on file: {x}."]
    es = ["Su fecha de nacimiento es {x}, ¿correcto?", "Fecha de nacimiento: {x}",
          "Consta que nació el {x}.", "He actualizado su fecha de nacimiento a {x}.",
          "El paciente, nacido el {x}, ya está registrado.", "{x} es la fecha de nacimiento de la póliza.",
          "La titular nació el {x} según el registro."]
    for lang, ts in (("en", en), ("es", es)):
        for i in range(28):
            O.add("dob", lang, ts[i % len(ts)].format(x=a_date(lang)), ["pii.date_of_birth"], "date of birth")
    ne = ["Your appointment is on {x} at 9:30 am.", "The order shipped on {x}.", "Your plan renews on {x}.",
          "We received your return on {x}.", "The warranty ends {x}.", "Your flight departs {x}.",
          "Invoice dated {x} is attached.", "The promotion runs until {x}."]
    ns = ["Su cita es el {x} a las 9:30.", "El pedido salió el {x}.", "Su plan se renueva el {x}.",
          "Recibimos su devolución el {x}.", "La garantía vence el {x}.", "Su vuelo sale el {x}.",
          "Adjuntamos la factura con fecha {x}.", "La promoción dura hasta el {x}."]
    for lang, ts in (("en", ne), ("es", ns)):
        for i in range(16):
            O.add("dob", lang, ts[i % len(ts)].format(x=a_date(lang)), [], "a date that is not a birth date")


def mrn():
    en = ["Your MRN is {x}.", "Medical record number {x} has been updated.", "Patient ID: {x}",
          "The lab results are filed under MRN {x}.", "Chart number {x} was sent to the specialist."]
    es = ["Su número de historia clínica es {x}.", "La historia clínica {x} se ha actualizado.",
          "ID de paciente: {x}", "Los resultados están archivados en el expediente médico {x}.",
          "Número de expediente {x} enviado al especialista."]

    def val():
        return pick([rd(8), "A" + rd(7), "MRN-" + rd(6), rd(6), "%s-%s" % (rd(3), rd(5))])

    for lang, ts in (("en", en), ("es", es)):
        for i in range(25):
            x = val()
            if x.startswith("MRN-") and lang == "es":
                x = x[4:]
            O.add("mrn", lang, ts[i % len(ts)].format(x=x), ["pii.medical_record"], "medical record number")
    for lang, ts in (("en", NOT_EN), ("es", NOT_ES)):
        for i in range(10):
            O.add("mrn", lang, ts[i % len(ts)].format(x=val().replace("MRN-", "")), [],
                  "identifier without a medical-record word")
    for t in ["Your medical records can be requested online.", "Patient portal: log in to see results.",
              "We never share your medical record without consent."]:
        O.add("mrn", "en", t, [], "medical-record words, no number")
    for t in ["Puede solicitar su historia clínica en línea.", "Portal del paciente: inicie sesión para ver resultados.",
              "Nunca compartimos su historia clínica sin consentimiento."]:
        O.add("mrn", "es", t, [], "medical-record words, no number")


# --- secrets -------------------------------------------------------------------------------
LEAK_EN = ["The tool returned: {x}", "Here is the config value you asked for: {x}",
           "Error from the payment service (key {x}): unauthorized.", "I found this in the logs: {x}",
           "Use {x} to authenticate the request.", "The integration is configured with {x}."]
LEAK_ES = ["La herramienta devolvió: {x}", "Este es el valor de configuración que pidió: {x}",
           "Error del servicio de pagos (clave {x}): no autorizado.", "Encontré esto en los registros: {x}",
           "Use {x} para autenticar la solicitud.", "La integración está configurada con {x}."]


def secret(kind, label, make, n=24, extra=None, negs=(), en=LEAK_EN, es=LEAK_ES):
    import re
    for lang, ts in (("en", en), ("es", es)):
        for i in range(n):
            text = ts[i % len(ts)].format(x=make(R))
            labels = [label]
            # A credential URL whose host is an IP address holds both.
            if re.search(r"@\d+\.\d+\.\d+\.\d+", text):
                labels.append("pii.ip_address")
            O.add(kind, lang, text, labels, kind)
    for lang, text, note in (extra or []):
        O.add(kind, lang, text, [label], note)
    for lang, text, note in negs:
        O.add(kind, lang, text, [], note)


def secrets():
    secret("aws", "secret.api_key.aws", P.make_aws_key_id, n=18,
           extra=[(l, t.format(x=P.make_aws_secret(R)), "AWS secret access key") for l, t in
                  [("en", "aws_secret_access_key = {x}"), ("en", "AWS_SECRET_ACCESS_KEY={x}"),
                   ("en", "Your AWS secret key is {x}, keep it safe."),
                   ("en", "The AWS credentials are: secret {x}"), ("en", "aws_secret_access_key: \"{x}\""),
                   ("en", "Secret access key for the AWS account: {x}"),
                   ("es", "aws_secret_access_key = {x}"), ("es", "Su clave secreta de AWS es {x}."),
                   ("es", "Las credenciales de AWS son: secreta {x}"), ("es", "AWS_SECRET_ACCESS_KEY={x}"),
                   ("es", "La clave de acceso secreta de AWS: {x}"), ("es", "secret_access_key: '{x}'")]],
           negs=[("en", "AWS access keys start with AKIA; never share them.", "talk about keys"),
                 ("en", "Rotate your AWS keys every 90 days.", "talk about keys"),
                 ("en", "Commit 3f786850e387550fdab836ed7e6dc881de23001b fixed the build.", "git SHA"),
                 ("en", "Set AWS_SECRET_ACCESS_KEY in your environment, not in code.", "variable name only"),
                 ("en", "aws_secret_access_key = YOUR_SECRET_KEY_HERE_REPLACE_ME_PLEASE_0", "placeholder"),
                 ("en", "The key id looks like AKIAxxxxxxxxxxxxxxxx in the docs.", "masked key id"),
                 ("es", "Las claves de acceso de AWS empiezan por AKIA; no las comparta.", "talk about keys"),
                 ("es", "Rote sus claves de AWS cada 90 días.", "talk about keys"),
                 ("es", "El commit 9c1185a5c5e9fc54612808977ee8f548b2258d31 corrigió el error.", "git SHA"),
                 ("es", "Defina AWS_SECRET_ACCESS_KEY en el entorno, no en el código.", "variable name only"),
                 ("es", "Su pedido AKIA-2024-0001 está en camino.", "order id with AKIA"),
                 ("es", "El identificador tiene la forma AKIAXXXXXXXXXXXXXXXX.", "masked key id"),
                 ("en", "Your order ASIA2024SPRINGSALE01 ships tomorrow.", "promo code that looks like ASIA"),
                 ("en", "Tracking: 1Z999AA10123456784 via UPS.", "tracking number"),
                 ("es", "Seguimiento: 1Z999AA10123456784 con UPS.", "tracking number"),
                 ("en", "The AWS region is eu-west-1 and the bucket is customer-exports.", "AWS words, no key"),
                 ("es", "La región de AWS es eu-west-1 y el bucket es exportaciones.", "AWS words, no key"),
                 ("en", "Your secret question answer was updated.", "secret word, no key"),
                 ("es", "Se actualizó la respuesta a su pregunta secreta.", "secret word, no key"),
                 ("en", "Session 8f14e45fceea167a5a36dedd4bea2543 expired; please log in again.", "session hash, no key word")])
    secret("google", "secret.api_key.google", P.make_google, n=30,
           negs=[("en", "Google API keys start with AIza and should be restricted.", "talk"),
                 ("en", "Set the key in the Maps console (AIza...).", "prefix only"),
                 ("es", "Las claves de Google empiezan por AIza y deben restringirse.", "talk"),
                 ("es", "Configure la clave en la consola de Maps (AIza...).", "prefix only")] +
           [(l, "Your order %s has shipped." % ("AIz" + P.rs(R, P.B62, 20)), "AIz code, not a key")
            for l in ["en", "es"] * 4])
    secret("stripe", "secret.api_key.stripe", P.make_stripe, n=30,
           negs=[("en", "Publishable key pk_live_%s is safe to embed in the page." % P.rs(R, P.B62, 24), "publishable key"),
                 ("es", "La clave publicable pk_live_%s puede ir en la página." % P.rs(R, P.B62, 24), "publishable key"),
                 ("en", "Replace sk_live_xxx with your own key.", "placeholder"),
                 ("es", "Sustituya sk_live_... por su propia clave.", "placeholder"),
                 ("en", "Stripe charge ch_3MmlLrLkdIwHu7ix0snN0B15 succeeded.", "charge id, not a key"),
                 ("es", "El cargo ch_3MmlLrLkdIwHu7ix0snN0B15 de Stripe se completó.", "charge id, not a key"),
                 ("en", "Customer cus_NffrFeUfNV2Hib was updated.", "customer id"),
                 ("es", "El cliente cus_NffrFeUfNV2Hib se actualizó.", "customer id")])
    secret("openai", "secret.api_key.openai", P.make_openai, n=30,
           negs=[("en", "OpenAI keys begin with sk- and must stay on the server.", "talk"),
                 ("es", "Las claves de OpenAI empiezan por sk- y deben quedarse en el servidor.", "talk"),
                 ("en", "Use the SKU sk-1042 for the blue model.", "SKU"),
                 ("es", "Use el SKU sk-1042 para el modelo azul.", "SKU"),
                 ("en", "Set OPENAI_API_KEY=sk-... in the .env file.", "placeholder"),
                 ("es", "Defina OPENAI_API_KEY=sk-... en el archivo .env.", "placeholder"),
                 ("en", "Product code sk-proj-demo is discontinued.", "short code"),
                 ("es", "El código sk-proj-demo está descatalogado.", "short code")])
    secret("anthropic", "secret.api_key.anthropic", P.make_anthropic, n=30,
           negs=[("en", "Anthropic keys start with sk-ant- and are shown once.", "talk"),
                 ("es", "Las claves de Anthropic empiezan por sk-ant- y se muestran una vez.", "talk"),
                 ("en", "Set ANTHROPIC_API_KEY=sk-ant-... before running.", "placeholder"),
                 ("es", "Defina ANTHROPIC_API_KEY=sk-ant-... antes de ejecutar.", "placeholder"),
                 ("en", "The key sk-ant-api03-REDACTED was revoked.", "redacted"),
                 ("es", "La clave sk-ant-api03-OCULTA fue revocada.", "redacted"),
                 ("en", "Ticket SK-ANT-2231 tracks the outage.", "ticket id"),
                 ("es", "El ticket SK-ANT-2231 sigue la incidencia.", "ticket id")])
    secret("github", "secret.token.github", P.make_github, n=30,
           negs=[("en", "GitHub tokens start with ghp_ and expire after 90 days.", "talk"),
                 ("es", "Los tokens de GitHub empiezan por ghp_ y caducan a los 90 días.", "talk"),
                 ("en", "Replace ghp_XXXXXXXXXXXX with your token.", "placeholder"),
                 ("es", "Sustituya ghp_XXXXXXXXXXXX por su token.", "placeholder"),
                 ("en", "See issue #4512 on github.com/acme/app for details.", "github URL"),
                 ("es", "Vea la incidencia #4512 en github.com/acme/app.", "github URL"),
                 ("en", "Commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 is on main.", "git SHA"),
                 ("es", "El commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 está en main.", "git SHA")])
    secret("gitlab", "secret.token.gitlab", P.make_gitlab, n=30,
           negs=[("en", "GitLab personal access tokens start with glpat-.", "talk"),
                 ("es", "Los tokens personales de GitLab empiezan por glpat-.", "talk"),
                 ("en", "Set GITLAB_TOKEN=glpat-xxxx in CI variables.", "placeholder"),
                 ("es", "Defina GITLAB_TOKEN=glpat-xxxx en las variables de CI.", "placeholder"),
                 ("en", "Merge request !231 on gitlab.com/acme/app is ready.", "gitlab URL"),
                 ("es", "La merge request !231 en gitlab.com/acme/app está lista.", "gitlab URL"),
                 ("en", "Pipeline 88231 passed in 4 minutes.", "pipeline id"),
                 ("es", "El pipeline 88231 pasó en 4 minutos.", "pipeline id")])
    secret("slack", "secret.token.slack", P.make_slack, n=26,
           extra=[(l, t % ("T%s/B%s/%s" % (P.rs(R, string.ascii_uppercase + string.digits, 8),
                                           P.rs(R, string.ascii_uppercase + string.digits, 9), P.rs(R, P.B62, 24))),
                   "Slack webhook") for l, t in
                  [("en", "Post alerts to https://hooks.slack.com/services/%s"),
                   ("en", "The webhook is https://hooks.slack.com/services/%s"),
                   ("es", "Envíe las alertas a https://hooks.slack.com/services/%s"),
                   ("es", "El webhook es https://hooks.slack.com/services/%s")]],
           negs=[("en", "Slack bot tokens start with xoxb-.", "talk"),
                 ("es", "Los tokens de bot de Slack empiezan por xoxb-.", "talk"),
                 ("en", "Join us on slack.com/acme-community for updates.", "slack URL"),
                 ("es", "Únase a slack.com/acme-community para novedades.", "slack URL"),
                 ("en", "Set SLACK_TOKEN=xoxb-your-token-here in settings.", "placeholder"),
                 ("es", "Defina SLACK_TOKEN=xoxb-su-token en la configuración.", "placeholder"),
                 ("en", "The channel #support-escalations is monitored 24/7.", "channel"),
                 ("es", "El canal #soporte-escalados se vigila 24/7.", "channel")])
    secret("jwt", "secret.token.jwt", P.make_jwt, n=28,
           extra=[(l, t % P.make_jwt(R), "bearer JWT") for l, t in
                  [("en", "Authorization: Bearer %s"), ("en", "Your session token is %s"),
                   ("es", "Authorization: Bearer %s"), ("es", "Su token de sesión es %s")]],
           negs=[("en", "JWTs have three parts separated by dots.", "talk"),
                 ("es", "Los JWT tienen tres partes separadas por puntos.", "talk"),
                 ("en", "The value eyJub3QiOiJhIGp3dCJ9.eyJhIjoiYiJ9.c2lnbmF0dXJl has no alg header.", "no alg"),
                 ("es", "El valor eyJub3QiOiJhIGp3dCJ9.eyJhIjoiYiJ9.c2lnbmF0dXJl no tiene alg.", "no alg"),
                 ("en", "Paste the token (it starts with eyJ) into the debugger.", "prefix only"),
                 ("es", "Pegue el token (empieza por eyJ) en el depurador.", "prefix only"),
                 ("en", "File report.v2.final.pdf was uploaded.", "dotted name"),
                 ("es", "El archivo informe.v2.final.pdf se subió.", "dotted name")])
    pem_types = ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY",
                 "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK", "DSA PRIVATE KEY"]

    def pem(r):
        t = r.choice(pem_types)
        return "-----BEGIN %s-----\n%s\n%s\n-----END %s-----" % (t, P.rs(r, P.B62 + "+/", 64), P.rs(r, P.B62 + "+/", 40), t)

    secret("private_key", "secret.private_key", pem, n=28,
           extra=[("en", "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none", "PuTTY key"),
                  ("es", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none", "PuTTY key")],
           negs=[("en", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----", "public key"),
                 ("es", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----", "public key"),
                 ("en", "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----", "certificate"),
                 ("es", "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----", "certificate"),
                 ("en", "Never paste your private key into a chat.", "talk"),
                 ("es", "Nunca pegue su clave privada en un chat.", "talk"),
                 ("en", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@laptop is your public key.", "ssh public key"),
                 ("es", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG es su clave pública.", "ssh public key")])

    def pw(r):
        return r.choice([P.rs(r, P.B62, 10), "Summer%d!" % r.randint(2019, 2026),
                         P.rs(r, string.ascii_letters, 5) + str(r.randint(10, 99)) + r.choice("!$%&*"),
                         "hunter%d" % r.randint(10, 99), P.rs(r, P.B62, 12)])

    pw_en = ["Your temporary password: {x}", "password={x}", "I've reset it. New password: {x}",
             "Your password is {x} until you change it.", "Login: ana.garcia / password: {x}",
             "pwd={x}", "The Wi-Fi passcode: {x}"]
    pw_es = ["Su contraseña temporal: {x}", "contraseña={x}", "La he restablecido. Nueva contraseña: {x}",
             "Su contraseña es {x} hasta que la cambie.", "Usuario: ana.garcia / contraseña: {x}",
             "password: {x}", "Clave de acceso: {x}"]

    def pwd_digit(r):
        while True:
            x = pw(r)
            if any(c.isdigit() for c in x):
                return x

    secret("password", "secret.password", pwd_digit, n=28, en=pw_en, es=pw_es,
           negs=[("en", "Your password is incorrect; use the reset link.", "talk"),
                 ("en", "Password: must be at least 8 characters.", "rule"),
                 ("en", "password: ********", "masked"), ("en", "Password: (hidden)", "masked"),
                 ("en", "Enter password=<your password> in the config.", "placeholder"),
                 ("en", "Your password is Expired, please reset it.", "word"),
                 ("en", "Password: Required", "word"), ("en", "Forgot password? Click the link.", "talk"),
                 ("en", "The new password will be sent by email.", "talk"),
                 ("en", "password: YOUR_PASSWORD", "placeholder"),
                 ("es", "Su contraseña es incorrecta; use el enlace de restablecimiento.", "talk"),
                 ("es", "Contraseña: debe tener al menos 8 caracteres.", "rule"),
                 ("es", "contraseña: ********", "masked"), ("es", "Contraseña: (oculta)", "masked"),
                 ("es", "Escriba contraseña=<su contraseña> en la configuración.", "placeholder"),
                 ("es", "Contraseña: Obligatoria", "word"), ("es", "¿Olvidó su contraseña? Pulse el enlace.", "talk"),
                 ("es", "La nueva contraseña se enviará por correo.", "talk"),
                 ("es", "contraseña: SU_CONTRASEÑA", "placeholder"),
                 ("es", "Su contraseña es segura si tiene más de 12 caracteres.", "talk")])

    def urlpw(r):
        return "%s://%s:%s@%s" % (r.choice(["postgres", "mysql", "https", "ftp", "redis", "mongodb+srv", "amqp"]),
                                  r.choice(["admin", "app", "svc_orders", "ana", "root", "deploy"]),
                                  r.choice([P.rs(r, P.B62, 12), "S3cr%d!x" % r.randint(10, 99), P.rs(r, P.B62, 16)]),
                                  r.choice(["db.internal.example.com", "10.0.3.12:5432", "files.example.net",
                                            "cluster0.mongodb.net/prod"]))

    secret("url_password", "secret.password.url", urlpw, n=30,
           negs=[("en", "Connect with postgres://user:password@localhost:5432/app.", "documentation placeholder"),
                 ("es", "Conéctese con postgres://usuario:password@localhost:5432/app.", "documentation placeholder"),
                 ("en", "Visit https://www.example.com/help for more.", "URL without credentials"),
                 ("es", "Visite https://www.example.com/ayuda para más información.", "URL without credentials"),
                 ("en", "Use mysql://root:changeme@db in the sample config.", "documentation placeholder"),
                 ("es", "Use mysql://root:changeme@db en la configuración de ejemplo.", "documentation placeholder"),
                 ("en", "The feed is at https://user@feeds.example.com/rss.", "user, no password"),
                 ("es", "El feed está en https://usuario@feeds.example.com/rss.", "user, no password"),
                 ("en", "Use https://USER:${PASSWORD}@host in the template.", "template variable"),
                 ("es", "Use https://USUARIO:${PASSWORD}@host en la plantilla.", "template variable")])

    def generic(r):
        v = r.choice([P.make_hex(r, 32), P.make_hex(r, 40), P.rs(r, P.B62, 32),
                      "%s-%s-%s-%s-%s" % (P.make_hex(r, 8), P.make_hex(r, 4), P.make_hex(r, 4), P.make_hex(r, 4),
                                          P.make_hex(r, 12))])
        return v

    gen_en = ["api_key={x}", "Your API key is {x}", "client_secret: \"{x}\"", "X-API-Key: {x}",
              "access_token = {x}", "The webhook secret is {x}.", "Here is the API token: {x}"]
    gen_es = ["api_key={x}", "Su clave API es {x}", "client_secret: \"{x}\"", "La clave secreta es {x}.",
              "token de acceso: {x}", "El secreto del webhook: secret={x}", "Su token de acceso es {x}"]
    secret("generic_key", "secret.api_key.generic", generic, n=30, en=gen_en, es=gen_es,
           negs=[("en", "api_key=YOUR_API_KEY_HERE", "placeholder"), ("en", "Your API key is shown only once.", "talk"),
                 ("en", "api_key=<your-api-key>", "placeholder"), ("en", "token: 1234567890123456", "digits only"),
                 ("en", "Order 3f2a9c1b-7d4e-4a6b-9c8d-1e2f3a4b5c6d has shipped.", "UUID order id, no key word"),
                 ("en", "Your API key was rotated on 2025-03-14.", "talk"),
                 ("en", "The secret to great coffee is fresh beans.", "secret word"),
                 ("en", "token: expired", "word"),
                 ("es", "api_key=SU_CLAVE_API_AQUI", "placeholder"), ("es", "Su clave API solo se muestra una vez.", "talk"),
                 ("es", "api_key=<su-clave-api>", "placeholder"), ("es", "token: 1234567890123456", "digits only"),
                 ("es", "El pedido 3f2a9c1b-7d4e-4a6b-9c8d-1e2f3a4b5c6d ya salió.", "UUID order id, no key word"),
                 ("es", "Su clave API se rotó el 14/03/2025.", "talk"),
                 ("es", "El secreto de un buen café son los granos frescos.", "secret word"),
                 ("es", "token: caducado", "word")])


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "eval", "pii")
    for f in (cards, iban, ssn, itin, aba, bank_account, clabe, email, phone, ip, ids, dob, mrn, secrets):
        f()
    O.write(out_dir)
    total = sum(len(v) for v in O.files.values())
    print("wrote %d cases in %d files to %s" % (total, len(O.files), os.path.relpath(out_dir, ROOT)))


if __name__ == "__main__":
    main()
