"""Finding duplicates: the blocking-key index, the background scan and the check made while a record is written.

A scan (full or incremental) works in four streaming steps, so memory stays small at a million records:
1. (re)compute the MatchKey rows of the records to look at (all, or those written since the last scan);
2. read the keys shared by two or more records, ordered by key and name; each such block gives the pairs
   to compare: all pairs in a small block; in a large company or work-domain block only near neighbours by
   name (sorted neighbourhood); none in a large name block (forty "John Smith"s prove nothing on their own:
   those that are one person share a company, a domain, an email or a phone, and meet in that block);
3. score the pairs in batches (kith.duplicates.matching);
4. store the pairs at or above the minimum confidence as open DuplicatePair rows; pairs someone dismissed
   or merged are never proposed again; open pairs that no longer match are removed.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import logging
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from kith.contacts.models import Company, Contact
from kith.core import bulk, jobs, permissions

from . import matching
from .models import DuplicatePair, MatchKey, ScanRun

log = logging.getLogger(__name__)

MODELS = {"contact": Contact, "company": Company}
SMALL_BLOCK = 8  # every pair of a block this small is compared
WINDOW = 4  # in a larger company/domain block, each record is compared with this many neighbours by name
EXACT_WINDOW = 2  # … in a larger email/phone/domain block (a switchboard number proves little)
NAME_LIKE = ("n:", "s:", "f:", "l:", "b:")  # larger blocks skipped: a name many share is no evidence alone
ORG_KEYS = ("c:", "o:")  # the same company or work domain: near names are compared however large
BATCH = 2000
SCORE_BATCH = 4000
PROFILE_CACHE = 50_000  # profiles kept between scoring batches (about 2 KB each: 100 MB at most)
PAIR_RUN = 500_000  # candidate pairs de-duplicated in memory before they are packed into a sorted run


def min_confidence() -> int:
    return int(getattr(settings, "KITH_DUPLICATES_MIN_CONFIDENCE", 50))


def columns(object_type: str) -> tuple[str, ...]:
    return matching.CONTACT_COLUMNS if object_type == "contact" else matching.COMPANY_COLUMNS


def _rows(object_type: str, qs) -> Iterator[dict[str, Any]]:
    yield from qs.values(*columns(object_type)).iterator(chunk_size=BATCH)


def profiles_for(object_type: str, ids: Iterable[int], cache: dict[int, matching.Profile] | None = None,
                 *, done_below: int = 0) -> dict[int, matching.Profile]:
    """Profiles of these live records; `cache` (kept by a scan across batches) saves re-reading them.
    `done_below`: the scan is past the records with lower ids, so their cached profiles can go first."""
    ids = list(ids)
    out: dict[int, matching.Profile] = {}
    if cache is not None:
        _trim(cache, done_below)
        missing = []
        for i in ids:
            p = cache.get(i)
            if p is None:
                missing.append(i)
            else:
                out[i] = p
        ids = missing
    model = MODELS[object_type]
    for i in range(0, len(ids), 5000):
        for row in model.objects.filter(pk__in=ids[i:i + 5000]).values(*columns(object_type)):
            out[row["id"]] = matching.profile(object_type, row)
    if cache is not None:
        cache.update((i, out[i]) for i in ids if i in out)
    return out


def _trim(cache: dict[int, matching.Profile], done_below: int) -> None:
    """Keep the scan's profile cache within PROFILE_CACHE. A scan reads its pairs in order of their lower id,
    so a record below the current one is never asked for again: those go first, then the oldest entries
    (down to half the bound, so trimming does not run every batch). Its profiles were the largest part of a
    scan's memory when the cache was simply cleared at 100,000 (most of them records already done with)."""
    if len(cache) <= PROFILE_CACHE:
        return
    for i in [i for i in cache if i < done_below]:
        del cache[i]
    if len(cache) > PROFILE_CACHE:
        for i in list(itertools.islice(cache, len(cache) - PROFILE_CACHE // 2)):
            del cache[i]


# --- the key index -------------------------------------------------------------------------------------


def _key_rows(object_type: str, row: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    p = matching.profile(object_type, row)
    sort_name = p.name[:100]
    return [(object_type, key, p.id, sort_name) for key in sorted(matching.keys(object_type, p))]


def _insert_keys(rows: list[tuple[str, str, int, str]]) -> None:
    # COPY on PostgreSQL: several times faster than INSERTs for the hundreds of thousands of keys of a scan
    bulk.copy_rows(MatchKey._meta.db_table, ["object_type", "key", "record_id", "sort_name"], rows)


def refresh_keys(object_type: str, ids: list[int]) -> None:
    """Recompute the keys of these records (inside the caller's transaction); trashed or gone → no keys."""
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        MatchKey.objects.filter(object_type=object_type, record_id__in=chunk).delete()
        rows: list[tuple[str, str, int, str]] = []
        # a plain query: _rows' iterator opens a server-side cursor on PostgreSQL (three round trips more
        # for each record saved, as every save calls this for its one record)
        for row in MODELS[object_type].objects.filter(pk__in=chunk).values(*columns(object_type)):
            rows.extend(_key_rows(object_type, row))
        _insert_keys(rows)


def refresh_record(obj, *, created: bool = False) -> None:
    """Keep a record's keys current after a save. created: a record just inserted has no keys yet, and the
    saved instance holds what was written (two queries fewer: no delete, no reading it back)."""
    if obj.deleted_at is not None:
        MatchKey.objects.filter(object_type=obj.object_type, record_id=obj.pk).delete()
        forget_pairs(obj.object_type, obj.pk)
        return
    if created:
        _insert_keys(_key_rows(obj.object_type, _row_of(obj)))
        return
    refresh_keys(obj.object_type, [obj.pk])


def _row_of(obj) -> dict[str, Any]:
    """The instance's values of columns(): what refresh_keys reads back from the database."""
    row: dict[str, Any] = {}
    for name in columns(obj.object_type):
        if "__" in name:  # the company's name or domain
            relation, _, attr = name.partition("__")
            related = getattr(obj, relation) if getattr(obj, f"{relation}_id") else None
            row[name] = getattr(related, attr) if related is not None else None
        else:
            row[name] = getattr(obj, name)
    return row


def forget_pairs(object_type: str, record_id: int) -> None:
    """Open pairs of a record going to the trash or away (decided pairs stay: "not a duplicate" is kept)."""
    open_pairs = DuplicatePair.objects.filter(object_type=object_type, status=DuplicatePair.Status.OPEN)
    open_pairs.filter(a_id=record_id).delete()
    open_pairs.filter(b_id=record_id).delete()


def forget_records(object_type: str, record_ids: list[int]) -> None:
    """forget_pairs, and the records' match keys, for many records going away at once."""
    for i in range(0, len(record_ids), 1000):
        chunk = record_ids[i:i + 1000]
        MatchKey.objects.filter(object_type=object_type, record_id__in=chunk).delete()
        open_pairs = DuplicatePair.objects.filter(object_type=object_type, status=DuplicatePair.Status.OPEN)
        open_pairs.filter(a_id__in=chunk).delete()
        open_pairs.filter(b_id__in=chunk).delete()


def rebuild_keys(object_type: str, progress: Callable[[str], None] | None = None) -> int:
    """All keys of one type from scratch, in batches of their own transactions. Returns records keyed."""
    MatchKey.objects.filter(object_type=object_type).delete()
    count, next_report = 0, 100_000
    buffer: list[tuple[str, str, int, str]] = []
    for row in _rows(object_type, MODELS[object_type].objects.order_by("pk")):
        buffer.extend(_key_rows(object_type, row))
        count += 1
        if len(buffer) >= 20000:
            with transaction.atomic():
                _insert_keys(buffer)
            buffer = []
            jobs.heartbeat()  # a scan of a million records runs for many minutes: its job is alive
            if progress and count >= next_report:
                progress(f"  keys for {count:,} {object_type} records …")
                next_report += 100_000
    with transaction.atomic():
        _insert_keys(buffer)
    return count


# --- candidate pairs -----------------------------------------------------------------------------------


class Pairs:
    """The candidate pairs of a scan, each once, in order, in little memory: a million-contact scan can
    propose millions of pairs (its large company and work-domain blocks), which a set of Python ints held
    at about 60 bytes each (gigabytes). Here pairs gather in a set of at most PAIR_RUN, which is then packed
    as a sorted run of 8-byte integers; iterating merges the runs, dropping repeats (a pair that shares two
    blocks is proposed twice)."""

    def __init__(self) -> None:
        self.runs: list[array] = []
        self.pending: set[int] = set()

    def add(self, pair: int) -> None:
        self.pending.add(pair)
        if len(self.pending) >= PAIR_RUN:
            self._pack()

    def _pack(self) -> None:
        if self.pending:
            self.runs.append(array("Q", sorted(self.pending)))
            self.pending = set()

    def __iter__(self) -> Iterator[int]:
        self._pack()
        last = None
        for pair in heapq.merge(*self.runs):
            if pair != last:
                yield pair
                last = pair

    def batches(self, size: int) -> Iterator[list[int]]:
        batch: list[int] = []
        for pair in self:
            batch.append(pair)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch


def _block_pairs(key: str, members: list[int], pairs: Pairs, sizes: dict[str, int]) -> None:
    n = len(members)
    if n < 2:
        return
    if n > 2:
        sizes[key] = n
    if n <= SMALL_BLOCK:
        window = n
    elif key.startswith(NAME_LIKE):
        return  # people sharing a common name are found through their company, domain, email or phone
    else:
        window = WINDOW if key.startswith(ORG_KEYS) else EXACT_WINDOW
    for i in range(n):
        a = members[i]
        for j in range(i + 1, min(n, i + 1 + window)):
            b = members[j]
            if a != b:
                lo, hi = (a, b) if a < b else (b, a)
                pairs.add((lo << 32) | hi)


def _blocks(object_type: str, keys_filter: str, params: list[Any]) -> Iterator[tuple[str, list[int]]]:
    """Every key of the type (or of the filter) with its records in name order. Keys of a single record come
    too (the caller skips them): counting members in SQL (a window COUNT(*) OVER (PARTITION BY key)) made
    SQLite sort all the keys again in memory (temp_store=MEMORY) for the ORDER BY that the index on
    (object_type, key, sort_name) otherwise nearly gives: 85 MB more at 200,000 contacts, and slower. A
    streaming (server-side) cursor, so PostgreSQL's client does not hold the whole result either."""
    table = connection.ops.quote_name(MatchKey._meta.db_table)
    sql = (
        f"SELECT key, record_id FROM {table} WHERE object_type = %s {keys_filter} "  # noqa: S608
        "ORDER BY key, sort_name, record_id"
    )
    streaming = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")  # as QuerySet.iterator() does
    with connection.chunked_cursor() if streaming else connection.cursor() as cur:
        cur.execute(sql, [object_type, *params])
        current: str | None = None
        members: list[int] = []
        while True:
            rows = cur.fetchmany(5000)
            if not rows:
                break
            for key, rid in rows:
                if key != current:
                    if current is not None:
                        yield current, members
                    current, members = key, []
                members.append(rid)
        if current is not None:
            yield current, members


def candidate_pairs(object_type: str, changed: list[int] | None = None) -> tuple[Pairs, dict[str, int]]:
    """Pairs to compare (as a_id << 32 | b_id) and the size of every block of three or more records."""
    pairs = Pairs()
    common: dict[str, int] = {}
    if changed is None:
        for key, members in _blocks(object_type, "", []):
            _block_pairs(key, members, pairs, common)
        return pairs, common
    seen: set[str] = set()
    for i in range(0, len(changed), 500):
        chunk = changed[i:i + 500]
        keys = set(MatchKey.objects.filter(object_type=object_type, record_id__in=chunk)
                   .values_list("key", flat=True)) - seen
        seen |= keys
        keys_list = sorted(keys)
        for j in range(0, len(keys_list), 500):
            part = keys_list[j:j + 500]
            marks = ", ".join(["%s"] * len(part))
            for key, members in _blocks(object_type, f"AND key IN ({marks})", part):
                _block_pairs(key, members, pairs, common)
    return pairs, common


# --- the scan ------------------------------------------------------------------------------------------


@dataclass
class ScanResult:
    object_type: str
    mode: str
    records: int
    candidates: int
    found: int
    created: int
    removed: int
    seconds: float


def _changed_since(object_type: str, last: ScanRun) -> list[int]:
    model = MODELS[object_type]
    since = last.started_at - timedelta(seconds=5)
    qs = model.all_objects.filter(Q(updated_at__gte=since) | Q(pk__gt=last.max_id))
    return list(qs.values_list("pk", flat=True))


SCAN_LOCKS = {"contact": 0x6B697468_0101, "company": 0x6B697468_0102}  # PostgreSQL advisory locks


class ScanBusy(Exception):
    """Another process is scanning this record type right now."""


@contextlib.contextmanager
def _one_scan_at_a_time(object_type: str) -> Iterator[None]:
    """PostgreSQL, where several workers run jobs: two scans of one type at once would rebuild the same keys
    and prune each other's pairs, so the second raises ScanBusy (a session lock: a scan spans many
    transactions; released when it ends, or with its connection). SQLite runs one worker."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [SCAN_LOCKS[object_type]])
        if not cur.fetchone()[0]:
            plural = "contacts" if object_type == "contact" else "companies"
            raise ScanBusy(f"Another duplicate scan of the {plural} is running.")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [SCAN_LOCKS[object_type]])


def scan(object_type: str, *, full: bool = False, min_conf: int | None = None,
         progress: Callable[[str], None] | None = None) -> ScanResult:
    """Find duplicate pairs of one type. Incremental (records written since the last scan) unless `full` or
    no scan ran before. One at a time per type: ScanBusy while another process scans it."""
    if object_type not in MODELS:
        raise ValueError(f"unknown type {object_type!r}")
    with _one_scan_at_a_time(object_type):
        return _scan(object_type, full=full, min_conf=min_conf, progress=progress)


def _scan(object_type: str, *, full: bool, min_conf: int | None, progress: Callable[[str], None] | None) -> ScanResult:
    threshold = min_confidence() if min_conf is None else int(min_conf)
    say = progress or (lambda text: None)
    started = time.monotonic()
    model = MODELS[object_type]
    last = ScanRun.objects.filter(object_type=object_type, finished_at__isnull=False).order_by("-id").first()
    run = ScanRun.objects.create(object_type=object_type, mode="full" if full or last is None else "incremental",
                                 max_id=model.all_objects.aggregate(m=Max("pk"))["m"] or 0)
    changed: list[int] | None
    if full or last is None:  # run.mode is "full"
        records = rebuild_keys(object_type, progress=say)
        changed = None
    else:
        changed = _changed_since(object_type, last)
        with transaction.atomic():
            refresh_keys(object_type, changed)
        records = len(changed)
    say(f"  {object_type}: keys ready for {records:,} records in {time.monotonic() - started:.1f} s")
    pairs, common = candidate_pairs(object_type, changed)
    say(f"  {object_type}: candidate pairs ready ({len(common):,} blocks of 3 or more) "
        f"after {time.monotonic() - started:.1f} s")
    # The pairs found, packed 8 bytes each: they arrive in ascending order (Pairs yields them sorted), so the
    # array stays sorted for _prune's binary search. A set of Python ints held 60 to 70 bytes a pair.
    found = array("Q")
    created = candidates = 0
    cache: dict[int, matching.Profile] = {}
    for chunk in pairs.batches(SCORE_BATCH):
        jobs.heartbeat()
        candidates += len(chunk)
        ids = {c >> 32 for c in chunk} | {c & 0xFFFFFFFF for c in chunk}
        profiles = profiles_for(object_type, ids, cache, done_below=chunk[0] >> 32)
        scored: dict[int, tuple[int, list[str]]] = {}
        for c in chunk:
            a, b = profiles.get(c >> 32), profiles.get(c & 0xFFFFFFFF)
            if a is None or b is None:
                continue
            conf, reasons = matching.score(object_type, a, b, common)
            if conf >= threshold:
                scored[c] = (conf, reasons)
        found.extend(scored)
        created += _store(object_type, scored)
    say(f"  {object_type}: {candidates:,} candidate pairs compared after {time.monotonic() - started:.1f} s")
    removed = _prune(object_type, found, changed)
    run.records, run.candidates, run.found, run.created = records, candidates, len(found), created
    run.finished_at = timezone.now()
    run.seconds = time.monotonic() - started
    run.save()
    return ScanResult(object_type, run.mode, records, candidates, len(found), created, removed, run.seconds)


def _store(object_type: str, scored: dict[int, tuple[int, list[str]]]) -> int:
    """Upsert open pairs; decided pairs (dismissed, merged) stay as they are. Returns how many are new."""
    if not scored:
        return 0
    a_ids = sorted({c >> 32 for c in scored})
    existing: dict[int, DuplicatePair] = {}
    for i in range(0, len(a_ids), 1000):
        for pair in DuplicatePair.objects.filter(object_type=object_type, a_id__in=a_ids[i:i + 1000]):
            c = (pair.a_id << 32) | pair.b_id
            if c in scored:
                existing[c] = pair
    now = timezone.now()
    new: list[DuplicatePair] = []
    changed: list[DuplicatePair] = []
    for c, (conf, reasons) in scored.items():
        known = existing.get(c)
        if known is None:
            new.append(DuplicatePair(object_type=object_type, a_id=c >> 32, b_id=c & 0xFFFFFFFF, confidence=conf,
                                     reasons=reasons, detected_at=now))
        elif known.status == DuplicatePair.Status.OPEN and (known.confidence != conf or known.reasons != reasons):
            known.confidence, known.reasons = conf, reasons
            changed.append(known)
    with transaction.atomic():
        _insert_pairs(new)
        if changed:
            DuplicatePair.objects.bulk_update(changed, ["confidence", "reasons"], batch_size=500)
    return len(new)


def _insert_pairs(pairs: list[DuplicatePair]) -> None:
    """Plain multi-row INSERTs (bulk_create's compiler costs more than the database here); a pair a
    concurrent scan just stored is skipped."""
    if not pairs:
        return
    qn = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    cols = ["object_type", "a_id", "b_id", "confidence", "reasons", "status", "detected_at"]
    rows = [(p.object_type, p.a_id, p.b_id, p.confidence, json.dumps(p.reasons, ensure_ascii=False), p.status,
             adapt(p.detected_at)) for p in pairs]
    head = f"INSERT INTO {qn(DuplicatePair._meta.db_table)} ({', '.join(qn(c) for c in cols)}) VALUES "  # noqa: S608
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    with connection.cursor() as cur:
        for i in range(0, len(rows), 500):
            chunk = rows[i:i + 500]
            cur.execute(head + ", ".join([one] * len(chunk)) + " ON CONFLICT DO NOTHING",
                        [v for r in chunk for v in r])


def _found(found: array, pair: int) -> bool:
    """Whether a pair is in the scan's sorted array of found pairs (binary search)."""
    i = bisect_left(found, pair)
    return i < len(found) and found[i] == pair


def _prune(object_type: str, found: array, changed: list[int] | None) -> int:
    """Remove open pairs the scan no longer finds (records changed, trashed or gone). `found`: the pairs
    found, sorted (as the scan collects them)."""
    qs = DuplicatePair.objects.filter(object_type=object_type, status=DuplicatePair.Status.OPEN)
    stale: list[int] = []
    if changed is None:
        for pk, a, b in qs.values_list("pk", "a_id", "b_id").iterator(chunk_size=5000):
            if not _found(found, (a << 32) | b):
                stale.append(pk)
    else:
        for i in range(0, len(changed), 500):
            chunk = changed[i:i + 500]
            for pk, a, b in qs.filter(Q(a_id__in=chunk) | Q(b_id__in=chunk)).values_list("pk", "a_id", "b_id"):
                if not _found(found, (a << 32) | b):
                    stale.append(pk)
    for i in range(0, len(stale), 1000):
        DuplicatePair.objects.filter(pk__in=stale[i:i + 1000]).delete()
    return len(stale)


# --- the check while writing ---------------------------------------------------------------------------

CHECK_LIMIT = 5
CHECK_ROWS = 200


@dataclass
class Hint:
    id: int
    name: str
    confidence: int
    reasons: list[str]
    where: str  # "at acme.com", "at Acme Ltd" or ""
    url: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "confidence": self.confidence, "reasons": self.reasons}


def draft_row(object_type: str, data: dict[str, Any], *, instance=None) -> dict[str, Any]:
    """The values a record would have after a write (unsaved), as a profile row. Bad values are ignored."""
    from kith.contacts import services

    row: dict[str, Any] = {}
    if instance is not None:
        row = MODELS[object_type].all_objects.filter(pk=instance.pk).values(*columns(object_type)).first() or {}
    row = {**dict.fromkeys(columns(object_type)), **row, "id": getattr(instance, "pk", None) or 0}
    for name in columns(object_type):
        if name in data:
            row[name] = data[name]
    if object_type == "contact":
        if "email" in data:
            try:
                row["email"] = services.normalise_email(data["email"])
            except ValueError:
                row["email"] = ""
        extra = data.get("additional_emails", row.get("additional_emails")) or []
        if isinstance(extra, str):
            extra = [e for e in extra.replace(";", ",").replace(" ", ",").split(",") if e]
        cleaned = []
        for e in extra if isinstance(extra, list) else []:
            try:
                cleaned.append(services.normalise_email(e))
            except ValueError:
                pass
        row["additional_emails"] = cleaned
        company_id = data.get("company_id", row.get("company_id"))
        try:
            company_id = int(company_id) if company_id not in (None, "") else None
        except (TypeError, ValueError):
            company_id = None
        row["company_id"] = company_id
        company = Company.objects.filter(pk=company_id).values("name", "domain").first() if company_id else None
        row["company__name"] = company["name"] if company else ""
        row["company__domain"] = company["domain"] if company else ""
    else:
        if "domain" in data:
            try:
                row["domain"] = services.normalise_domain(data["domain"])
            except ValueError:
                row["domain"] = ""
    for name in ("first_name", "last_name", "name", "phone", "mobile", "website", "country", "city"):
        if name in row and not isinstance(row[name], str | type(None)):
            row[name] = str(row[name])
    return row


def check(object_type: str, data: dict[str, Any], *, user, instance=None, limit: int = CHECK_LIMIT) -> list[Hint]:
    """Existing records the user can see that look like this draft: indexed key lookups + bounded scoring."""
    row = draft_row(object_type, data, instance=instance)
    draft = matching.profile(object_type, row)
    keys = sorted(k for k in matching.keys(object_type, draft) if not k.startswith(ORG_KEYS))
    if not keys:
        return []
    self_id = getattr(instance, "pk", None)
    ids: list[int] = []
    # Exact keys first (an email, a phone, a domain), then a bounded number of records by name.
    strong = [k for k in keys if not k.startswith(NAME_LIKE)]
    weak = [k for k in keys if k.startswith(NAME_LIKE)]
    for group, limit in ((strong, CHECK_ROWS // 4), (weak, CHECK_ROWS)):
        if not group:
            continue
        for rid in (MatchKey.objects.filter(object_type=object_type, key__in=group)
                    .values_list("record_id", flat=True)[:limit]):
            if rid != self_id and rid not in ids:
                ids.append(rid)
    model = MODELS[object_type]
    # Straight indexed lookups too, for records written in bulk since the last scan.
    if object_type == "contact" and draft.emails:
        ids.extend(model.objects.keyed("email", draft.emails).values_list("pk", flat=True))
    if object_type == "company" and draft.domains:
        ids.extend(model.objects.keyed("domain", draft.domains).values_list("pk", flat=True))
    ids = [i for i in dict.fromkeys(ids) if i != self_id]
    if not ids:
        return []
    visible_ids = set(permissions.visible(model, user).filter(pk__in=ids).values_list("pk", flat=True))
    profiles = profiles_for(object_type, visible_ids)
    threshold = min(min_confidence(), 40)  # only a hint: a near-identical name alone is worth a look
    sizes = {k: n + 1 for k, n in MatchKey.objects.filter(object_type=object_type, key__in=keys)
             .values_list("key").annotate(n=Count("id")) if n > 1}
    hints: list[Hint] = []
    for pid, other in profiles.items():
        conf, reasons = matching.score(object_type, draft, other, sizes)
        if conf >= threshold:
            hints.append(Hint(pid, other.label, conf, reasons, _where(object_type, other), ""))
    hints.sort(key=lambda h: (-h.confidence, h.id))
    hints = hints[:limit]
    for h in hints:
        h.url = (Contact if object_type == "contact" else Company)(pk=h.id).get_absolute_url()
    return hints


def _where(object_type: str, p: matching.Profile) -> str:
    if object_type != "contact":
        return f"at {sorted(p.domains)[0]}" if p.domains else ""
    if p.company_label:
        return f"at {p.company_label}"
    if p.domains:
        return f"at {sorted(p.domains)[0]}"
    return ""
