"""How two records are compared: normalised values, blocking keys and the confidence of a pair.

Everything here is pure Python over small "profiles" (one per record), shared by the background scan,
the warning shown while creating or editing a record, and the tests.

Blocking keys (stored in MatchKey) decide which records are compared at all:
  e:<email>    each email, lower case, without dots in the local part and without a +tag
  p:<digits>   each phone number, as the digits of its E.164 form
  d:<domain>   company domain and the website's host (companies)
  n:<name>     the name's words sorted (accents and case ignored; company names without Inc, Ltd …)
  s:<sound>    the surname's consonant skeleton and the first name's initial ("smth|j": Smith, Smyth)
  f:<first>    the first name and the surname's initial ("jon|s": typos in the surname)
  l:<local>    an email's local part without punctuation ("jsmith": work and personal address)
  c:<company>  the contact's company (its people are compared with their neighbours by name)
  o:<domain>   a contact's work email domain or its company's domain (likewise)
  b:<prefix>   the first four letters of a company name
Only records sharing a key are scored, so a scan is linear in the number of records.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from rapidfuzz import fuzz

from kith.core.phones import phonenumbers

FREE_MAIL = {
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com",
    "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "outlook.com", "outlook.de", "live.com",
    "msn.com", "icloud.com", "me.com", "mac.com", "aol.com", "gmx.de", "gmx.net", "gmx.at", "web.de",
    "t-online.de", "mail.ru", "yandex.ru", "yandex.com", "proton.me", "protonmail.com", "qq.com", "163.com",
    "126.com", "naver.com", "orange.fr", "free.fr", "laposte.net", "libero.it", "fastmail.com", "zoho.com",
}
GENERIC_LOCAL = {"info", "sales", "contact", "admin", "office", "hello", "support", "mail", "team", "hr",
                 "billing", "accounts", "noreply", "enquiries", "service", "kontakt", "post", "jobs"}
LEGAL_SUFFIXES = {
    "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "plc", "corp", "corporation", "co", "company",
    "gmbh", "ag", "kg", "ohg", "ug", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "oy", "ab", "as", "aps",
    "pty", "pte", "kk", "sl", "the", "group", "holding", "holdings", "and", "und", "et",
}
# Letters NFKD does not decompose into a base letter plus accent.
FOLD = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
                      "ß": "ss", "&": " and "})
VOWELS = set("aeiouy")
KEY_LENGTH = 120


_ASCII_JUNK = re.compile(r"[^a-z0-9]+")


def fold_text(text: str) -> str:
    """Lower case, accents removed, ö as o, every non-letter/digit a space (any script)."""
    if not text:
        return ""
    if text.isascii():
        return " ".join(_ASCII_JUNK.sub(" ", text.lower().replace("&", " and ")).split())
    text = text.casefold().translate(FOLD)
    text = unicodedata.normalize("NFKD", text)
    out = []
    for ch in text:
        if unicodedata.combining(ch):
            continue
        out.append(ch if ch.isalnum() else " ")
    return " ".join("".join(out).split())


# Cached: names repeat. Values that rarely do (an email's local part) call fold_text, so they do not fill the cache.
fold = functools.lru_cache(maxsize=200_000)(fold_text)


def words(text: str) -> list[str]:
    return fold(text).split()


def skeleton(word: str) -> str:
    """First letter plus the following consonants, doubles collapsed: smith, smyth → smth; müller, mueller → mllr."""
    if not word:
        return ""
    out = [word[0]]
    for ch in word[1:]:
        if ch in VOWELS or (ch == "h" and out[-1] not in "cs"):
            continue
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


def canonical_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email:
        return ""
    local, domain = email.rsplit("@", 1)
    local = local.split("+", 1)[0].replace(".", "")
    if domain == "googlemail.com":
        domain = "gmail.com"
    return f"{local}@{domain}" if local else ""


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1].lower() if "@" in (email or "") else ""


def email_local(email: str) -> str:
    """The local part as letters and digits only, or "" for generic mailboxes and very short names."""
    if "@" not in (email or ""):
        return ""
    local = email.rsplit("@", 1)[0].split("+", 1)[0].lower()
    compact = fold_text(local).replace(" ", "")
    if len(compact) < 4 or compact in GENERIC_LOCAL:
        return ""
    return compact


def phone_digits(value: str, region: str | None = None) -> str:
    """The digits of a number in E.164 ("+44 20 7123 4567", "020 7123 4567" in GB → "442071234567")."""
    value = (value or "").strip()
    if not value:
        return ""
    if value.startswith("+") and value[1:].isdigit():
        return value[1:]  # stored numbers are mostly E.164 already: no parsing, and no cache entry
    return _parsed_digits(value, region)


@functools.lru_cache(maxsize=100_000)
def _parsed_digits(value: str, region: str | None) -> str:
    """phone_digits of a number not in E.164, cached: parsing is slow."""
    try:
        parsed = phonenumbers.parse(value, region or settings.KITH_DEFAULT_REGION)
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
    except phonenumbers.NumberParseException:
        pass
    digits = re.sub(r"\D", "", value)
    return digits if len(digits) >= 7 else ""


@functools.lru_cache(maxsize=50_000)
def show_phone(digits: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse("+" + digits), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return digits


def company_core(name: str) -> list[str]:
    """A company name's words without legal forms: "The ACME Company, Inc." → ["acme"]."""
    ws = words(name)
    core = [w for w in ws if w not in LEGAL_SUFFIXES]
    return core or ws


def host(value: str) -> str:
    value = (value or "").strip().lower()
    if not value:
        return ""
    value = re.sub(r"^[a-z]+://", "", value).split("/", 1)[0].split(":", 1)[0]
    return value[4:] if value.startswith("www.") else value


# --- profiles ------------------------------------------------------------------------------------------

CONTACT_COLUMNS = ("id", "first_name", "last_name", "email", "additional_emails", "phone", "mobile", "company_id",
                   "country", "company__name", "company__domain")
COMPANY_COLUMNS = ("id", "name", "domain", "website", "phone", "country", "city")


@dataclass
class Profile:
    id: int
    label: str
    name: str  # folded words joined by spaces
    first: str = ""
    last: str = ""
    emails: list[str] = field(default_factory=list)
    canon: set[str] = field(default_factory=set)
    locals: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)  # company: own domains; contact: work email domains
    org_domains: set[str] = field(default_factory=set)  # contact: work email domains + the company's domain
    company_id: int | None = None
    company_label: str = ""
    city: str = ""


def contact_profile(row: dict[str, Any]) -> Profile:
    first, last = (row.get("first_name") or "").strip(), (row.get("last_name") or "").strip()
    emails = [e for e in [row.get("email") or "", *(row.get("additional_emails") or [])] if e]
    region = row.get("country") or None
    phones = {d for d in (phone_digits(row.get("phone") or "", region), phone_digits(row.get("mobile") or "", region))
              if d}
    work = {email_domain(e) for e in emails} - FREE_MAIL - {""}
    company_domain = (row.get("company__domain") or "").lower()
    full = " ".join(p for p in (first, last) if p)
    fw, lw = words(first), words(last)
    return Profile(
        id=row["id"],
        label=full or (emails[0] if emails else f"Contact {row['id']}"),
        name=" ".join(words(full)),
        first=fw[0] if fw else "",
        last=lw[-1] if lw else "",
        emails=emails,
        canon={c for c in (canonical_email(e) for e in emails) if c},
        locals={x for x in (email_local(e) for e in emails) if x},
        phones=phones,
        domains=work,
        org_domains=work | ({company_domain} if company_domain else set()),
        company_id=row.get("company_id"),
        company_label=row.get("company__name") or "",
    )


def company_profile(row: dict[str, Any]) -> Profile:
    domains = {d for d in ((row.get("domain") or "").lower(), host(row.get("website") or "")) if d}
    digits = phone_digits(row.get("phone") or "", row.get("country") or None)
    return Profile(
        id=row["id"],
        label=row.get("name") or f"Company {row['id']}",
        name=" ".join(company_core(row.get("name") or "")),
        phones={digits} if digits else set(),
        domains=domains,
        city=fold(row.get("city") or ""),
    )


def profile(object_type: str, row: dict[str, Any]) -> Profile:
    return contact_profile(row) if object_type == "contact" else company_profile(row)


def _k(text: str) -> str:
    return text[:KEY_LENGTH]


def keys(object_type: str, p: Profile) -> set[str]:
    out: set[str] = set()
    out.update(_k("p:" + d) for d in p.phones)
    if object_type == "contact":
        out.update(_k("e:" + c) for c in p.canon)
        out.update(_k("l:" + x) for x in p.locals)
        ws = p.name.split()
        if ws:
            out.add(_k("n:" + " ".join(sorted(ws))))
        if p.first and p.last and len(ws) >= 2:
            out.add(_k(f"s:{skeleton(p.last)[:6]}|{p.first[0]}"))
            out.add(_k(f"f:{p.first}|{p.last[0]}"))
        if p.company_id:
            out.add(f"c:{p.company_id}")
        out.update(_k("o:" + d) for d in p.org_domains)
    else:
        out.update(_k("d:" + d) for d in p.domains)
        compact = p.name.replace(" ", "")
        if compact:
            out.add(_k("n:" + compact))
            out.add(_k("b:" + compact[:4]))
            sk = "".join(skeleton(w) for w in p.name.split())
            if len(sk) >= 3:
                out.add(_k("s:" + sk[:8]))
    return out


# --- scoring -------------------------------------------------------------------------------------------


def name_similarity(a: str, b: str) -> int:
    if not a or not b:
        return 0
    if a == b:
        return 100
    s = max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")))
    return round(s)


def _combine(probabilities: list[float]) -> int:
    miss = 1.0
    for p in probabilities:
        miss *= 1.0 - p
    return min(99, round(100 * (1.0 - miss))) if probabilities else 0


COMMON = 12  # an email or phone shared by more records than this proves little (a switchboard, an info@ box)


def score(object_type: str, a: Profile, b: Profile, sizes: dict[str, int] | None = None) -> tuple[int, list[str]]:
    """(confidence 0–99, human reasons). `sizes`: how many records share a key (blocks of 3 or more); a name
    many records share is weaker evidence than a rare one."""
    common = sizes or {}
    if object_type == "contact":
        return _score_contacts(a, b, common)
    return _score_companies(a, b, common)


def _score_contacts(a: Profile, b: Profile, common) -> tuple[int, list[str]]:
    sim = name_similarity(a.name, b.name)
    if sim < 80 and not (a.canon & b.canon or a.phones & b.phones):
        return 0, []  # most compared pairs: nothing in common worth a look
    ps: list[float] = []
    reasons: list[str] = []
    both_named = bool(a.name and b.name and (a.first or a.last) and (b.first or b.last))
    different_names = both_named and sim < 60
    exact = sorted(set(a.emails) & set(b.emails))
    canon = sorted(a.canon & b.canon)
    if exact or canon:
        shown = exact[0] if exact else canon[0]
        weak = common.get("e:" + canonical_email(shown), 0) > COMMON
        p = 0.3 if weak else (0.95 if exact else 0.9)
        if different_names:
            p *= 0.6
        ps.append(p)
        if exact:
            reasons.append(f"same email ({shown})")
        else:
            ea = next(e for e in a.emails if canonical_email(e) == shown)
            eb = next(e for e in b.emails if canonical_email(e) == shown)
            reasons.append(f"same email ignoring dots and +tags ({ea} / {eb})")
    phones = sorted(a.phones & b.phones)
    if phones:
        weak = common.get("p:" + phones[0], 0) > COMMON
        p = 0.2 if weak else 0.75
        if different_names:
            p *= 0.5
        ps.append(p)
        reasons.append(f"same phone ({show_phone(phones[0])})" + (", shared by many records" if weak else ""))
    if both_named and sim >= 80:
        same_company = a.company_id is not None and a.company_id == b.company_id
        shared_domain = sorted(a.org_domains & b.org_domains)
        shared_local = sorted(a.locals & b.locals)
        what = "same name" if sim == 100 else f"similar name ({sim}%)"
        # How many records carry this name: "John Smith" ×40 is weak evidence on its own.
        n = common.get("n:" + " ".join(sorted(a.name.split())), 2)
        rarity = 1.0 if n <= 3 else 0.75 if n <= 8 else 0.5
        if same_company or shared_domain:
            p = 0.85 if sim == 100 else 0.75 if sim >= 90 else 0.6
            where = "at the same company" if same_company else f"at {shared_domain[0]}"
            reasons.append(f"{what} {where}")
        elif shared_local:
            # Weak extra evidence: an email's local part usually comes from the name itself.
            p = (0.6 if sim == 100 else 0.5 if sim >= 90 else 0.4) * rarity
            reasons.append(f"{what} and the same email name ({shared_local[0]})")
        else:
            p = (0.55 if sim == 100 else 0.4 if sim >= 90 else 0.25) * rarity
            reasons.append(what if n <= 3 else f"{what}, shared by {n} contacts")
        ps.append(p)
    elif different_names and ps:
        reasons.append(f"but different names ({a.label} / {b.label})")
    return _combine(ps), reasons


def _score_companies(a: Profile, b: Profile, common) -> tuple[int, list[str]]:
    ps: list[float] = []
    reasons: list[str] = []
    domains = sorted(a.domains & b.domains)
    if domains:
        ps.append(0.95)
        reasons.append(f"same domain ({domains[0]})")
    phones = sorted(a.phones & b.phones)
    if phones:
        weak = common.get("p:" + phones[0], 0) > COMMON
        ps.append(0.2 if weak else 0.6)
        reasons.append(f"same phone ({show_phone(phones[0])})")
    sim = name_similarity(a.name, b.name)
    if sim >= 85:
        if sim == 100:
            exact = fold(a.label) == fold(b.label)
            p = 0.8
            reasons.append("same name" if exact else "same name ignoring legal forms (Inc, Ltd …)")
        else:
            p = 0.55 if sim >= 90 else 0.35
            reasons.append(f"similar name ({sim}%)")
        if a.city and a.city == b.city:
            p = min(0.9, p + 0.1)
            reasons[-1] += f" in the same city ({a.city.title()})"
        ps.append(p)
    return _combine(ps), reasons
