#!/usr/bin/env python3
"""Messy match-key values with the value Meta's rules make of them (the corpus of TestMatchKeyCorpus).

Every value is built from a known truth (a person, a phone number, a date…) rendered the way CRMs, tag templates
and POS exports write it; the expected normalized string follows from Meta's customer-information-parameter rules
as docs/mapping.md (normalization) and issue 12 state them, independently of the Go code:

  em          NFKC, trim, full lowercase; dropped unless shaped like an address
  ph          NFKC; an extension is cut; read in the event's country (else the destination's region, FR here);
              when that is not a valid number and there is no '+', read the digits as international; kept only
              when libphonenumber (Python's phonenumbers, a port of Google's library) calls it valid; E.164 digits
  fn ln ct    NFKC, full lowercase (Python's str.lower, as JavaScript's toLowerCase), letters and marks only
  st          US state names → 2-letter code; everything else as fn
  zp          NFKC, lowercase, letters and digits only; US (event country us) first 5 digits of a ZIP+4
  db          YYYYMMDD; ambiguous a/b/yyyy read day first; 1900-01-01 to today
  ge          f / m
  country     ISO 3166-1 alpha-2, lowercase
  external_id trimmed only
  any field   placeholders (n/a, -, null, undefined, none, unknown, test, xxx; trimmed, any case) dropped, and
              for fn ln ct st zp also when the normalized value is one of those of 3+ letters ("(null)")

Usage:
  gen.py corpus > corpus.jsonl            # the committed table (deterministic)
  gen.py blackbox BINARY [N]              # N generated events through `BINARY preview`, agreement per field
Needs: pip install phonenumbers
"""

import datetime
import hashlib
import json
import random
import subprocess
import sys
import unicodedata

import phonenumbers as pn
from phonenumbers import PhoneNumberFormat as F
from phonenumbers import PhoneNumberType as T

DEFAULT_REGION = "FR"
PLACEHOLDERS = ["n/a", "-", "null", "undefined", "none", "unknown", "test", "xxx"]
TODAY = datetime.date.today()
# Placeholders of three letters or more, as the text rules fold them: "(null)" and "<Unknown>" are placeholders too.
FOLDED_PLACEHOLDERS = {"null", "undefined", "none", "unknown", "test", "xxx"}


def nfkc(s):
    return unicodedata.normalize("NFKC", s).strip()


def is_placeholder(s):
    return nfkc(s).lower() in PLACEHOLDERS


def letters(s):
    """fn, ln, ct, st: letters and marks of the lowercased NFKC form; a placeholder once folded is dropped."""
    s = nfkc(s).lower()
    out = unicodedata.normalize("NFC", "".join(c for c in s if unicodedata.category(c)[0] in "LM"))
    return "" if out in FOLDED_PLACEHOLDERS else out


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in s)


# ---------------------------------------------------------------------------------------------------- phones

REGIONS = ["FR", "US", "GB", "DE", "JP", "BR", "ES", "IT", "IN", "AU", "CA", "NL", "BE", "CH", "MX"]
COUNTRY_SPELLINGS = {
    "FR": ["FR", "fr", "France", "FRA"], "US": ["US", "USA", "United States", "us"], "GB": ["GB", "UK", "United Kingdom"],
    "DE": ["DE", "Germany", "Deutschland", "DEU"], "JP": ["JP", "Japan", "JPN"], "BR": ["BR", "Brazil", "Brasil"],
    "ES": ["ES", "Spain", "España"], "IT": ["IT", "Italy", "Italia"], "IN": ["IN", "India"], "AU": ["AU", "Australia"],
    "CA": ["CA", "Canada"], "NL": ["NL", "Netherlands", "Nederland"], "BE": ["BE", "Belgium", "Belgique"],
    "CH": ["CH", "Switzerland", "Schweiz"], "MX": ["MX", "Mexico", "México"],
}


def reference_phone(raw, country_region):
    """The documented reading of a phone value: the E.164 digits or None."""
    if is_placeholder(raw):
        return None
    s = nfkc(raw)
    for word in ["poste", "durchwahl", "ext.", "ext", "x", "extension", "interno", "ramal", "toestel"]:
        i = s.lower().rfind(" " + word)
        if i > 0 and any(c.isdigit() for c in s[i + len(word) + 1:]) and all(
                c.isdigit() or c in " .:-" for c in s[i + len(word) + 1:]):
            s = s[:i]
            break
    region = country_region or DEFAULT_REGION

    def valid(text, reg):
        try:
            num = pn.parse(text, reg)
        except pn.NumberParseException:
            return None
        if not pn.is_valid_number(num):
            return None
        return pn.format_number(num, F.E164)[1:]

    got = valid(s, region)
    if got is None and "+" not in s:
        digits = s
        i = next((k for k, c in enumerate(digits) if c.isdigit()), None)
        if i is not None:
            rest = digits[i:]
            if rest.startswith("00"):
                rest = rest[2:]
            got = valid(digits[:i] + "+" + rest, None)
    return got


def phone_numbers(rng):
    nums = []
    for r in REGIONS:
        for t in (T.MOBILE, T.FIXED_LINE):
            ex = pn.example_number_for_type(r, t)
            nums.append((r, ex))
            # Neighbours of the example number, kept when still valid.
            for _ in range(3):
                n = pn.PhoneNumber(country_code=ex.country_code, national_number=ex.national_number + rng.randint(1, 999))
                n.italian_leading_zero = ex.italian_leading_zero
                if pn.is_valid_number(n):
                    nums.append((r, n))
    return nums


def phone_renderings(region, num, rng):
    nat = pn.format_number(num, F.NATIONAL)
    intl = pn.format_number(num, F.INTERNATIONAL)
    e164 = pn.format_number(num, F.E164)
    cc = str(num.country_code)
    forms = [nat, nat.replace(" ", ""), nat.replace(" ", "."), intl, e164, e164[1:], "00" + e164[1:],
             intl.replace(" ", "-"), " " + intl + " ", "tel:" + e164, nat + " poste 12", intl + " ext. 45",
             nat + " x12", intl + " Durchwahl 7", fullwidth(nat), "(+" + cc + ") " + nat.lstrip("0")]
    return rng.sample(forms, 7)


def phone_rows(rng):
    rows = []
    for region, num in phone_numbers(rng):
        for form in phone_renderings(region, num, rng):
            # The event's country: its own (any spelling), none (destination default FR), or another one.
            choice = rng.random()
            if choice < 0.55:
                spelling, creg = rng.choice(COUNTRY_SPELLINGS[region]), region
            elif choice < 0.85:
                spelling, creg = "", None
            else:
                other = rng.choice(REGIONS)
                spelling, creg = rng.choice(COUNTRY_SPELLINGS[other]), other
            rows.append(("ph", spelling, form, reference_phone(form, creg)))
    for bad in ["0000000000", "123", "+999 123 456", "n/a", "-", "12345", "0612", "+33 6", "phone", "00000",
                "1111111111", "+1 000 000 0000", "null", "06 12 34 56 78 90 12", "+44 20 0000 0000"]:
        spelling = rng.choice(["", "FR", "US"])
        rows.append(("ph", spelling, bad, reference_phone(bad, spelling or None)))
    # Issue 12's cases.
    for form, spelling in [("16505551212", ""), ("1-650-555-1212", ""), ("447911123456", ""), ("818060615939", ""),
                           ("5511969148580", ""), ("03-1345-0541", "JP"), ("03-1345-0541", "Japan"),
                           ("+33 3 20 54 93 29 poste 12", ""), ("+33 3 20 54 93 29 ext. 12", ""),
                           ("+33 3 20 54 93 29 x12", ""), ("0000000000", "")]:
        creg = {"JP": "JP", "Japan": "JP"}.get(spelling)
        rows.append(("ph", spelling, form, reference_phone(form, creg)))
    return rows


# ------------------------------------------------------------------------------------------------ text fields

FIRST = ["John", "Mary", "Éloïse", "José", "François", "Jean-Pierre", "Zoë", "Renée", "Søren", "Łukasz", "Øyvind",
         "Ægir", "Björn", "Ana María", "Maëlle", "Σωκράτης", "ΣΩΚΡΆΤΗΣ", "Дмитрий", "さくら", "정", "محمد", "İbrahim",
         "Şule", "Ğökhan", "Nguyễn", "Chloé", "D'Angelo", "Mary-Kate", "Jürgen", "Ñandú", "Ιωάννης", "ОЛЕГ", "Kateřina"]
LAST = ["Smith", "O'Brien", "McDonald", "Müller", "Dupont-Martin", "van der Berg", "García Márquez", "Nuñez",
        "Østergård", "Kowalczyk", "Παπαδόπουλος", "ИВАНОВ", "山田", "김", "Al-Hassan", "DÍAZ", "Çelik", "Straße", "Łęcki"]


def messy_text(rng, s):
    forms = [s, s.upper(), s.lower(), "  " + s + " ", s + ".", s.swapcase(), fullwidth(s),
             unicodedata.normalize("NFD", s), s + " 2", "*" + s + "*", s.replace(" ", "  ")]
    return rng.sample(forms, 5)


def name_rows(rng):
    rows = []
    for f, pool in (("fn", FIRST), ("ln", LAST)):
        for s in pool:
            for form in messy_text(rng, s):
                want = letters(form)
                rows.append((f, "", form, want or None))
    for p in ["N/A", "n/a", "null", "Unknown", "TEST", "xxx", "-", "undefined", "None", "123", "---", ".", "(null)", "<Unknown>", "[none]", "Test."]:
        rows.append((rng.choice(["fn", "ln"]), "", p, None))
    return rows


CITIES = ["Paris", "Saint-Étienne", "New York", "São Paulo", "Zürich", "東京", "Москва", "Paris 15", "ST. LOUIS",
          "Köln", "Düsseldorf", "L'Haÿ-les-Roses", "Bruxelles", "México", "Málaga", "Reykjavík", "Kraków", "Αθήνα",
          "Montréal", "Los Angeles", "Frankfurt am Main", "Aix-en-Provence"]


def city_rows(rng):
    rows = []
    for s in CITIES:
        for form in messy_text(rng, s):
            rows.append(("ct", "", form, letters(form) or None))
    for p in ["null", "N/A", "unknown", "-", "75", "none"]:
        rows.append(("ct", "", p, None))
    return rows


US_STATES = {"California": "ca", "New York": "ny", "Texas": "tx", "Florida": "fl", "North Carolina": "nc",
             "District of Columbia": "dc", "Washington": "wa", "Massachusetts": "ma", "Puerto Rico": "pr",
             "West Virginia": "wv", "New Hampshire": "nh", "Illinois": "il"}
OTHER_STATES = ["Ontario", "Québec", "British Columbia", "Île-de-France", "Bayern", "Nordrhein-Westfalen",
                "Catalunya", "Andalucía", "Lombardia", "New South Wales", "São Paulo", "東京都", "Provence-Alpes-Côte d'Azur",
                "Zürich", "Noord-Holland", "Jalisco"]


def state_rows(rng):
    rows = []
    for name, code in US_STATES.items():
        for form in [name, name.upper(), name.lower(), " " + name + " ", code.upper(), code, code.upper() + "."]:
            rows.append(("st", rng.choice(["", "US", "USA"]), form, code))
    for name in OTHER_STATES:
        for form in messy_text(rng, name)[:4]:
            rows.append(("st", "", form, letters(form) or None))
    for code in ["ON", "QC", "NSW", "BY", "IDF"]:
        rows.append(("st", "", code, code.lower()))
    for p in ["n/a", "-", "null", "--"]:
        rows.append(("st", "", p, None))
    return rows


ZIPS = [("75008", "FR", "75008"), ("75 008", "FR", "75008"), ("SW1A 1AA", "GB", "sw1a1aa"), ("sw1a1aa", "GB", "sw1a1aa"),
        ("94025-1234", "US", "94025"), ("94025 1234", "US", "94025"), ("940251234", "US", "94025"), ("94025", "US", "94025"),
        ("100-0001", "JP", "1000001"), ("01310-100", "BR", "01310100"), ("１２３４５", "JP", "12345"), ("K1A 0B1", "CA", "k1a0b1"),
        ("D02 X285", "IE", "d02x285"), ("1011 AB", "NL", "1011ab"), ("10115", "DE", "10115"), ("28001", "ES", "28001"),
        ("00-950", "PL", "00950"), ("1000", "BE", "1000"), ("8001", "CH", "8001"), ("2000", "AU", "2000"),
        ("110001", "IN", "110001"), ("06600", "MX", "06600"), ("00144", "IT", "00144"), ("EC1A 1BB", "GB", "ec1a1bb")]


def zip_rows(rng):
    rows = []
    for z, country, want in ZIPS:
        for form in [z, " " + z + " ", z.lower(), fullwidth(z)]:
            rows.append(("zp", rng.choice([country, ""]) if country != "US" or len(form.strip()) != 9 else "US", form, want))
    for p in ["n/a", "-", "1", "null", "xxx", "0"]:
        rows.append(("zp", "", p, None))
    return rows


COUNTRIES = [("FR", ["FR", "fr", "France", "FRA", " france ", "Frankreich"]),
             ("US", ["US", "USA", "United States", "U.S.A.", "United States of America", "us"]),
             ("GB", ["GB", "UK", "United Kingdom", "Great Britain", "GBR"]), ("DE", ["DE", "Germany", "Deutschland", "DEU"]),
             ("JP", ["JP", "Japan", "JPN"]), ("BR", ["BR", "Brazil", "Brasil", "BRA"]), ("ES", ["ES", "Spain", "España"]),
             ("IT", ["IT", "Italy", "Italia"]), ("IN", ["IN", "India", "IND"]), ("AU", ["AU", "Australia"]),
             ("CA", ["CA", "Canada", "CAN"]), ("NL", ["NL", "Netherlands", "Nederland", "Holland"]),
             ("BE", ["BE", "Belgium", "Belgique", "België"]), ("CH", ["CH", "Switzerland", "Suisse", "Schweiz"]),
             ("MX", ["MX", "Mexico", "México"]), ("PT", ["PT", "Portugal"]), ("PL", ["PL", "Poland", "Polska"])]


def country_rows(rng):
    rows = []
    for code, spellings in COUNTRIES:
        for form in spellings:
            rows.append(("country", "", form, code.lower()))
        rows.append(("country", "", fullwidth(code), code.lower()))
    for p in ["n/a", "Atlantis", "ZZ", "-", "unknown", "Europe"]:
        rows.append(("country", "", p, None))
    return rows


GENDERS = [("M", "m"), ("m", "m"), ("Male", "m"), ("MALE", "m"), (" male ", "m"), ("F", "f"), ("f", "f"), ("Female", "f"),
           ("FEMALE", "f"), ("femme", "f"), ("Homme", "m"), ("Frau", "f"), ("Mann", "m"), ("woman", "f"), ("man", "m"),
           ("Mujer", "f"), ("Hombre", "m"), ("Ｆ", "f"), ("Ｍ", "m"), ("x", None), ("unknown", None), ("n/a", None),
           ("other", None), ("1", None), ("-", None)]


def gender_rows(rng):
    return [("ge", "", g, w) for g, w in GENDERS]


MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"],
    "pt": ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"],
}


def date_forms(rng, d):
    y, m, dd = d.year, d.month, d.day
    forms = [f"{y:04d}-{m:02d}-{dd:02d}", f"{y:04d}{m:02d}{dd:02d}", f"{y:04d}/{m:02d}/{dd:02d}", f"{dd:02d}.{m:02d}.{y:04d}",
             f"{y:04d}-{m:02d}-{dd:02d}T00:00:00Z", f"{y:04d}-{m:02d}-{dd:02d} 00:00:00",
             f"{y:04d}-{m:02d}-{dd:02d} 00:00:00 UTC", f"{MONTHS['en'][m - 1][:3]} {dd}, {y} 12:00:00 AM"]
    if dd > 12:  # unambiguous either way
        forms += [f"{dd:02d}/{m:02d}/{y:04d}", f"{m:02d}/{dd:02d}/{y:04d}", f"{m}/{dd}/{y}"]
    else:  # ambiguous: day first
        forms += [f"{dd:02d}/{m:02d}/{y:04d}", f"{dd}/{m}/{y}"]
    lang = rng.choice(list(MONTHS))
    mn = MONTHS[lang][m - 1]
    forms += [{"en": f"{mn} {dd}, {y}", "fr": f"{dd} {mn} {y}", "de": f"{dd}. {mn} {y}", "es": f"{dd} de {mn} de {y}",
               "it": f"{dd} {mn} {y}", "pt": f"{dd} de {mn} de {y}", "nl": f"{dd} {mn} {y}"}[lang],
              f"{dd}-{MONTHS['en'][m - 1][:3]}-{y}"]
    noon = datetime.datetime(y, m, dd, 12, tzinfo=datetime.timezone.utc).timestamp()
    forms += [str(int(noon)), str(int(noon * 1000))]
    return rng.sample(forms, 6)


def date_rows(rng):
    rows = []
    for _ in range(30):
        d = datetime.date(rng.randint(1925, 2008), rng.randint(1, 12), rng.randint(1, 28))
        for form in date_forms(rng, d):
            rows.append(("db", "", form, d.strftime("%Y%m%d")))
    for bad, reason in [("1850-01-01", "implausible_date"), ("2999-01-01", "implausible_date"),
                        ("1997-02-30", "unparseable_date"), ("13/13/1997", "unparseable_date"), ("soon", "unparseable_date"),
                        ("16/02/97", "unparseable_date"), ("n/a", "placeholder"), ("0000-00-00", "unparseable_date"),
                        ("31 Feb 1990", "unparseable_date"), ("1990", "unparseable_date")]:
        rows.append(("db", "", bad, None, reason))
    return rows


EMAILS = ["john_smith@gmail.com", "Jean.Dupont@Example.FR", "maría.garcía@correo.es", "o'hara@example.ie",
          "first.last+tag@sub.example.co.uk", "ÉLOÏSE@EXEMPLE.FR", "user@bücher.de", "a.b@c.io", "JOHN@EXAMPLE.COM"]


def email_rows(rng):
    rows = []
    for e in EMAILS:
        for form in [e, " " + e + " ", e.upper(), fullwidth(e), "\t" + e]:
            rows.append(("em", "", form, nfkc(form).lower()))
    for bad in ["n/a", "john smith@gmail.com", "john@gmail", "@gmail.com", "john(at)gmail.com", "null", "-", "test",
                "john@@gmail.com", "john.@gmail.com"]:
        rows.append(("em", "", bad, None))
    return rows


def external_id_rows(rng):
    rows = []
    for v in ["CUST-000123", "  C42 ", "abc-DEF-123", "12345", "Ünïcödé-ID", "user:42", "\tX9\n"]:
        rows.append(("external_id", "", v, v.strip()))
    for p in ["null", "undefined", "n/a", "-"]:
        rows.append(("external_id", "", p, None))
    return rows


def all_rows(rng):
    rows = []
    for gen in (phone_rows, name_rows, city_rows, state_rows, zip_rows, country_rows, gender_rows, date_rows,
                email_rows, external_id_rows):
        for r in gen(rng):
            field, country, value, want = r[:4]
            reason = r[4] if len(r) > 4 else None
            if want is None and reason is None and is_placeholder(value):
                reason = "placeholder"
            rows.append({"field": field, "country": country, "in": value, "want": want or "", "drop": want is None,
                         **({"reason": reason} if reason else {})})
    return rows


def corpus():
    rng = random.Random(12)
    seen = set()
    for row in all_rows(rng):
        key = (row["field"], row["country"], row["in"])
        if key in seen:
            continue
        seen.add(key)
        print(json.dumps(row, ensure_ascii=False))


# ------------------------------------------------------------------------------------------------ black box

USER_KEYS = {"em": "email", "ph": "phone", "fn": "firstname", "ln": "lastname", "ge": "gender", "db": "birthdate",
             "ct": "city", "st": "state", "zp": "zipcode", "country": "country", "external_id": "id"}


def blackbox(binary, n):
    rng = random.Random(99)
    pools = {}
    for row in all_rows(random.Random(12)):
        pools.setdefault(row["field"], []).append(row)
    events, expected = [], []
    for i in range(n):
        user, want = {}, {}
        # A country first: it decides phone readings and US zips.
        crow = rng.choice(pools["country"]) if rng.random() < 0.7 else None
        country_in = crow["in"] if crow else ""
        if crow:
            user["country"] = crow["in"]
            want["country"] = None if crow["drop"] else crow["want"]
        creg = None if not crow or crow["drop"] else crow["want"].upper()
        for f in ["em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "external_id"]:
            if rng.random() < 0.35:
                continue
            row = rng.choice(pools[f])
            v = row["in"]
            if f == "ph":
                w = reference_phone(v, creg if creg and pn.country_code_for_region(creg) else None)
                if rng.random() < 0.1 and v.strip().isdigit() and not v.strip().startswith("0"):
                    v = int(v.strip())  # a JSON number
            elif f == "zp":
                w = None if row["drop"] else row["want"]
                if creg == "US" and len(nfkc(v)) == 9 and nfkc(v).isdigit():
                    w = nfkc(v)[:5]
                elif creg != "US" and len(nfkc(v)) == 9 and nfkc(v).isdigit():
                    w = nfkc(v)
            else:
                w = None if row["drop"] else row["want"]
            user[USER_KEYS[f]] = v
            want[f] = w
        ev = {"event_name": "generate_lead", "event_id": f"bb-{i}", "user": user,
              "context": {"event_timestamp": 1795960800000, "page": {"url": "https://shop.example.com/"},
                          "device": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0", "cookie": "_fbp=fb.1.1795950000000.1098115397"}}}
        events.append(json.dumps(ev, ensure_ascii=False))
        expected.append(want)
    out = subprocess.run([binary, "preview", "--now", "2026-11-30T11:00:00Z", "-"], input="\n".join(events) + "\n",
                         capture_output=True, text=True, env={"CAPI_DEFAULT_PHONE_REGION": DEFAULT_REGION, "PATH": "/usr/bin:/bin"})
    if out.returncode != 0:
        sys.exit(out.stderr)
    agree, total, rejected = {}, {}, 0
    mismatches = []
    for line, want in zip(out.stdout.splitlines(), expected):
        o = json.loads(line)
        if "event" not in o:
            rejected += 1
            continue
        ud = o["event"]["user_data"]
        for f, w in want.items():
            got = ud.get(f)
            exp = hashlib.sha256(w.encode()).hexdigest() if w else None
            total[f] = total.get(f, 0) + 1
            if got == exp:
                agree[f] = agree.get(f, 0) + 1
            else:
                mismatches.append((f, o["line"], w, got))
    all_t, all_a = sum(total.values()), sum(agree.values())
    print(f"events {n}, rejected {rejected}, fields compared {all_t}, agreement {100 * all_a / all_t:.2f} %")
    for f in sorted(total):
        print(f"  {f:12s} {agree.get(f, 0):5d}/{total[f]:5d}  {100 * agree.get(f, 0) / total[f]:.2f} %")
    for f, line, w, got in mismatches[:40]:
        print("  mismatch", f, "line", line, "user", json.loads(events[line - 1])["user"], "want", w, "got", got and got[:12])


if __name__ == "__main__":
    if sys.argv[1:2] == ["corpus"]:
        corpus()
    elif sys.argv[1:2] == ["blackbox"]:
        blackbox(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3000)
    else:
        sys.exit(__doc__)
