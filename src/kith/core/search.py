"""Global search: one interface over SQLite FTS5 and PostgreSQL tsvector (+ pg_trgm), kept in sync on write.

Documents are (kind, object id, title, body). Text is normalised in Python (lower case, accents removed,
split into words) before it reaches either database, so both engines see the same words and answer alike:
  - every word of the query must match, the last one as a prefix (search as you type);
  - phone numbers match by their digits (E.164, national number with and without trunk prefix, local part);
  - small typos: a query word with no match is widened to known words at an edit distance of 1 (2 for
    long words), found in a vocabulary table bucketed by first letter and length (plus a pg_trgm
    similarity look-up on PostgreSQL), so "Jonh Smtih" still finds John Smith.
Ranking: title matches weigh more than body matches (bm25 / ts_rank), exact results come before fuzzy ones.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.models.expressions import RawSQL
from rapidfuzz.distance import OSA

from .models import SearchTerm

KINDS = {"contact": 1, "company": 2, "lead": 3, "deal": 4, "ticket": 5}
KIND_NAMES = {v: k for k, v in KINDS.items()}
SHIFT = 1 << 40
TABLE = "kith_search"  # an FTS5 table on SQLite, a tsvector table on PostgreSQL (migration core 0002)
WORD_RE = re.compile(r"\w+", re.UNICODE)
# a phone number in a document's body: a whole word of 6+ digits (search_document writes phones as their
# E.164 digits; digits inside an e-mail address or a longer word are not a phone number)
PHONE_RE = re.compile(r"(?<!\S)\+?\d{6,}(?!\S)")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    if text.isascii():  # no combining marks to drop (the common case; much faster)
        return text.lower()
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def words(text: str) -> list[str]:
    return [w for w in WORD_RE.findall(normalise(text)) if w != "_"]


NON_DIGIT_RE = re.compile(r"\D")


def phone_tokens(e164: str) -> list[str]:
    """A number's digits, its national number (Italy's leading zero kept), as dialled at home with the trunk
    prefix (UK "020 7946 0958" → 02079460958) and the local number without its area code (79460958)."""
    return list(_phone_forms(e164))


def _phone_forms(e164: str) -> tuple[str, ...]:
    """phone_tokens as a tuple (what search documents use; the bulk writers cache it, see
    cached_phone_tokens). About 15 µs a number, nearly all of it in the phone library."""
    digits = NON_DIGIT_RE.sub("", e164) if e164 else ""
    if not digits:
        return ()
    out = [digits]
    try:
        pn = _phonenumbers()
        parsed = pn.parse("+" + digits)
        national = pn.national_significant_number(parsed)
        out.append(national)
        # Only a valid number has a national format to speak of (and rphonenumbers' formatter keeps memory
        # for every invalid number it is given: 120 MB per 400,000).
        if pn.is_valid_number(parsed):
            out.append(NON_DIGIT_RE.sub("", pn.format_number(parsed, pn.PhoneNumberFormat.NATIONAL)))
        area = pn.length_of_geographical_area_code(parsed)
        if area:
            out.append(national[area:])
        if len(national) > 7:
            out.append(national[-7:])
    except Exception:  # noqa: S110 - not a parseable number; its digits are enough
        pass
    return tuple(dict.fromkeys(t for t in out if t))


@functools.cache
def _phonenumbers():
    from kith.core.phones import phonenumbers

    return phonenumbers


def _doc_id(kind: str, object_id: int) -> int:
    return KINDS[kind] * SHIFT + int(object_id)


def _bucket(term: str) -> str:
    return f"{term[0]}{len(term)}"


def _remember_terms(terms: Iterable[str]) -> None:
    new = {t for t in terms if len(t) >= 3 and not t.isdigit() and len(t) <= 60}
    if new:
        SearchTerm.objects.bulk_create(
            [SearchTerm(term=t, bucket=_bucket(t)) for t in new], ignore_conflicts=True, batch_size=500
        )


def document_text(obj) -> tuple[str, str]:
    title, body = obj.search_document()
    body_words = words(body)
    # Phone numbers arrive in the body as +digits; add their national and local forms.
    for token in PHONE_RE.findall(body or ""):
        body_words.extend(_phone_forms(token))
    return " ".join(words(title)), " ".join(body_words)


def index(obj) -> None:
    """Add or replace a record's search document (call inside the write's transaction)."""
    index_many(obj.object_type, [obj])


def documents(kind: str, objs: Iterable) -> tuple[list[tuple[int, str, str, int]], set[str]]:
    """The records' search documents (doc id, title, body, object id) and their words; no database."""
    rows = []
    vocab: set[str] = set()
    for obj in objs:
        title, body = document_text(obj)
        rows.append((_doc_id(kind, obj.pk), title, body, obj.pk))
        vocab.update(title.split())
        vocab.update(body.split())
    return rows, vocab


@contextlib.contextmanager
def cached_phone_tokens(maxsize: int) -> Iterator[None]:
    """Within the block, each phone number's search forms are worked out once (bulk writers: seeding,
    imports; numbers repeat in real data)."""
    global _phone_forms
    original = _phone_forms
    _phone_forms = functools.lru_cache(maxsize=maxsize)(original)
    try:
        yield
    finally:
        _phone_forms = original


def index_many(kind: str, objs: Iterable) -> None:
    rows, vocab = documents(kind, objs)
    if not rows:
        return
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.executemany(
                f"INSERT INTO {TABLE} (id, kind, object_id, title, body) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608
                "ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body",
                [(doc, KINDS[kind], oid, title, body) for doc, title, body, oid in rows],
            )
        else:
            cur.executemany(f"DELETE FROM {TABLE} WHERE rowid = %s", [(r[0],) for r in rows])  # noqa: S608
            cur.executemany(
                f"INSERT INTO {TABLE} (rowid, title, body) VALUES (%s, %s, %s)",  # noqa: S608
                [(doc, title, body) for doc, title, body, _ in rows],
            )
    _remember_terms(vocab)


def remove(obj) -> None:
    column = "id" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE {column} = %s", [_doc_id(obj.object_type, obj.pk)])  # noqa: S608


def clear(kind: str | None = None) -> None:
    with connection.cursor() as cur:
        if kind is None:
            cur.execute(f"DELETE FROM {TABLE}")  # noqa: S608
        elif connection.vendor == "postgresql":
            cur.execute(f"DELETE FROM {TABLE} WHERE kind = %s", [KINDS[kind]])  # noqa: S608
        else:
            lo = KINDS[kind] * SHIFT
            cur.execute(f"DELETE FROM {TABLE} WHERE rowid BETWEEN %s AND %s", [lo, lo + SHIFT - 1])  # noqa: S608


# --- querying ------------------------------------------------------------------------------------------


def _query_terms(q: str) -> list[str]:
    q = (q or "").strip()
    compact = re.sub(r"[\s().+\-/]", "", q)
    if compact.isdigit() and len(compact) >= 3:
        return [compact]  # a phone number typed with any punctuation
    return words(q)[:8]


def _corrections(term: str) -> list[str]:
    if len(term) < 4 or term.isdigit():
        return []
    limit = 1 if len(term) <= 6 else 2
    buckets = [f"{term[0]}{n}" for n in range(len(term) - limit, len(term) + limit + 1)]
    candidates = set(SearchTerm.objects.filter(bucket__in=buckets).values_list("term", flat=True)[:20000])
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT term FROM core_searchterm WHERE term %% %s LIMIT 200", [term])
            candidates.update(r[0] for r in cur.fetchall())
    scored = sorted(
        (OSA.distance(term, c), c) for c in candidates if c != term and OSA.distance(term, c) <= limit
    )
    return [c for _, c in scored[:5]]


def _build(terms: list[str], alternatives: dict[str, list[str]], engine: str) -> str:
    groups = []
    for i, term in enumerate(terms):
        prefix = i == len(terms) - 1 or term.isdigit()
        options = [(term, prefix)] + [(alt, False) for alt in alternatives.get(term, [])]
        if engine == "sqlite":
            parts = [f'"{t}"' + ("*" if p else "") for t, p in options]
            groups.append("(" + " OR ".join(parts) + ")")
        else:
            parts = [t.replace("'", "") + (":*" if p else "") for t, p in options]
            groups.append("(" + " | ".join(parts) + ")")
    return (" AND " if engine == "sqlite" else " & ").join(groups)


def _engine() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def _run(expr: str, kinds: list[str] | None, limit: int) -> list[tuple[str, int, float]]:
    codes = [KINDS[k] for k in (kinds or [])]
    with connection.cursor() as cur:
        if _engine() == "postgresql":
            sql = (
                f"SELECT kind, object_id, ts_rank(document, q) AS r FROM {TABLE}, to_tsquery('simple', %s) q "  # noqa: S608
                "WHERE document @@ q"
            )
            params: list = [expr]
            if codes:
                sql += " AND kind = ANY(%s)"
                params.append(codes)
            sql += " ORDER BY r DESC, object_id DESC LIMIT %s"
            params.append(limit)
            cur.execute(sql, params)
            return [(KIND_NAMES[k], oid, float(r)) for k, oid, r in cur.fetchall()]
        sql = f"SELECT rowid, bm25({TABLE}, 10.0, 2.0) AS r FROM {TABLE} WHERE {TABLE} MATCH %s"  # noqa: S608
        params = [expr]
        if len(codes) == 1:
            sql += " AND rowid BETWEEN %s AND %s"
            params += [codes[0] * SHIFT, (codes[0] + 1) * SHIFT - 1]
        sql += " ORDER BY r LIMIT %s"
        params.append(limit if len(codes) <= 1 else limit * 4)
        cur.execute(sql, params)
        out = []
        for rowid, r in cur.fetchall():
            kind = KIND_NAMES[rowid // SHIFT]
            if codes and KINDS[kind] not in codes:
                continue
            out.append((kind, rowid % SHIFT, -float(r)))
        return out[:limit]


def search(q: str, *, kinds: list[str] | None = None, limit: int = 20) -> list[tuple[str, int, float]]:
    """Ranked (kind, object id, score) matches: exact and prefix matches first, then typo-tolerant ones."""
    terms = _query_terms(q)
    if not terms:
        return []
    engine = _engine()
    results = _run(_build(terms, {}, engine), kinds, limit)
    if len(results) < limit:
        alternatives = {t: _corrections(t) for t in terms}
        if any(alternatives.values()):
            seen = {(k, i) for k, i, _ in results}
            for k, i, s in _run(_build(terms, alternatives, engine), kinds, limit):
                if (k, i) not in seen and len(results) < limit:
                    results.append((k, i, s / 2))
                    seen.add((k, i))
    return results


def filter_queryset(qs, q: str, kind: str):
    """Narrow a queryset to records matching q (used by list views' search-as-you-type)."""
    terms = _query_terms(q)
    if not terms:
        return qs
    engine = _engine()
    alternatives = {t: _corrections(t) for t in terms}
    expr = _build(terms, alternatives, engine)
    if engine == "postgresql":
        sub = RawSQL(  # noqa: S611 - values are bound parameters
            f"SELECT object_id FROM {TABLE} WHERE kind = %s AND document @@ to_tsquery('simple', %s)",  # noqa: S608
            (KINDS[kind], expr),
        )
    else:
        lo = KINDS[kind] * SHIFT
        sub = RawSQL(  # noqa: S611 - values are bound parameters
            f"SELECT rowid - %s FROM {TABLE} WHERE {TABLE} MATCH %s AND rowid BETWEEN %s AND %s",  # noqa: S608
            (lo, expr, lo, lo + SHIFT - 1),
        )
    return qs.filter(pk__in=sub)
