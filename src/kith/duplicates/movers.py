"""Related rows a merge moves from the loser to the survivor, and back on undo (kith.core.relations).

Here: deal links (DealContact) and deal.company, leads converted to the record, a company's contacts and
the record's change history. Activities, tasks and comments register their own mover in their app.
Each mover returns counts plus an "undo" value naming exactly the rows it touched, so undo moves back only
those rows (rows linked to the survivor after the merge stay where they are).
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType

from kith.contacts.models import Company, Contact
from kith.core import search
from kith.core.models import AuditEntry
from kith.core.relations import related_mover
from kith.sales.models import Deal, DealContact, Lead

from .detection import refresh_keys


@related_mover
def move_deal_contacts(*, object_type: str, source_id: int, target_id: int) -> dict[str, Any]:
    """A contact's deal links. Where both were on one deal, the loser's link goes (its primary flag passes on)."""
    if object_type != "contact":
        return {}
    links = list(DealContact.objects.filter(contact_id=source_id))
    if not links:
        return {}
    survivor_links = dict(DealContact.objects.filter(contact_id=target_id, deal_id__in=[x.deal_id for x in links])
                          .values_list("deal_id", "is_primary"))
    moved, dropped, promoted = [], [], []
    for link in links:
        if link.deal_id in survivor_links:
            dropped.append({"deal_id": link.deal_id, "is_primary": link.is_primary})
            if link.is_primary and not survivor_links[link.deal_id]:
                DealContact.objects.filter(deal_id=link.deal_id, contact_id=target_id).update(is_primary=True)
                promoted.append(link.deal_id)
            link.delete()
        else:
            moved.append(link.pk)
    DealContact.objects.filter(pk__in=moved).update(contact_id=target_id)
    return {"deals": len(links), "undo": {"moved": moved, "dropped": dropped, "promoted": promoted}}


@related_mover.undo(move_deal_contacts)
def unmove_deal_contacts(*, object_type: str, source_id: int, target_id: int, undo: Any) -> None:
    DealContact.objects.filter(pk__in=undo["moved"]).update(contact_id=source_id)
    DealContact.objects.filter(deal_id__in=undo["promoted"], contact_id=target_id).update(is_primary=False)
    live = set(Deal.all_objects.filter(pk__in=[d["deal_id"] for d in undo["dropped"]]).values_list("pk", flat=True))
    DealContact.objects.bulk_create(
        [DealContact(deal_id=d["deal_id"], contact_id=source_id, is_primary=d["is_primary"])
         for d in undo["dropped"] if d["deal_id"] in live],
        ignore_conflicts=True,
    )


@related_mover
def move_deal_companies(*, object_type: str, source_id: int, target_id: int) -> dict[str, Any]:
    if object_type != "company":
        return {}
    ids = list(Deal.all_objects.filter(company_id=source_id).values_list("pk", flat=True))
    if ids:
        Deal.all_objects.filter(pk__in=ids).update(company_id=target_id)
        search.index_many("deal", Deal.objects.filter(pk__in=ids).select_related("company"))
    return {"deals": len(ids), "undo": {"ids": ids}} if ids else {}


@related_mover.undo(move_deal_companies)
def unmove_deal_companies(*, object_type: str, source_id: int, target_id: int, undo: Any) -> None:
    Deal.all_objects.filter(pk__in=undo["ids"], company_id=target_id).update(company_id=source_id)
    search.index_many("deal", Deal.objects.filter(pk__in=undo["ids"]).select_related("company"))


@related_mover
def move_converted_leads(*, object_type: str, source_id: int, target_id: int) -> dict[str, Any]:
    """Leads converted to the loser now point at the survivor."""
    column = {"contact": "converted_contact_id", "company": "converted_company_id"}.get(object_type)
    if column is None:
        return {}
    ids = list(Lead.all_objects.filter(**{column: source_id}).values_list("pk", flat=True))
    if ids:
        Lead.all_objects.filter(pk__in=ids).update(**{column: target_id})
    return {"leads": len(ids), "undo": {"ids": ids}} if ids else {}


@related_mover.undo(move_converted_leads)
def unmove_converted_leads(*, object_type: str, source_id: int, target_id: int, undo: Any) -> None:
    column = {"contact": "converted_contact_id", "company": "converted_company_id"}[object_type]
    Lead.all_objects.filter(pk__in=undo["ids"], **{column: target_id}).update(**{column: source_id})


@related_mover
def move_company_contacts(*, object_type: str, source_id: int, target_id: int) -> dict[str, Any]:
    """The people of a company (including those in the trash) move to the surviving company."""
    if object_type != "company":
        return {}
    ids = list(Contact.all_objects.filter(company_id=source_id).values_list("pk", flat=True))
    if ids:
        Contact.all_objects.filter(pk__in=ids).update(company_id=target_id)
        _reindex_contacts(ids)
    return {"contacts": len(ids), "undo": {"ids": ids}} if ids else {}


@related_mover.undo(move_company_contacts)
def unmove_company_contacts(*, object_type: str, source_id: int, target_id: int, undo: Any) -> None:
    Contact.all_objects.filter(pk__in=undo["ids"], company_id=target_id).update(company_id=source_id)
    _reindex_contacts(undo["ids"])


def _reindex_contacts(ids: list[int]) -> None:
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        search.index_many("contact", Contact.objects.filter(pk__in=chunk).select_related("company"))
        refresh_keys("contact", chunk)


@related_mover
def move_history(*, object_type: str, source_id: int, target_id: int) -> dict[str, Any]:
    """The loser's change history is shown on the survivor (entries keep their own record name)."""
    model = {"contact": Contact, "company": Company}.get(object_type)
    if model is None:
        return {}
    ct = ContentType.objects.get_for_model(model)
    ids = list(AuditEntry.objects.filter(content_type=ct, object_id=source_id).values_list("pk", flat=True))
    if ids:
        AuditEntry.objects.filter(pk__in=ids).update(object_id=target_id)
    return {"history": len(ids), "undo": {"ids": ids}} if ids else {}


@related_mover.undo(move_history)
def unmove_history(*, object_type: str, source_id: int, target_id: int, undo: Any) -> None:
    AuditEntry.objects.filter(pk__in=undo["ids"], object_id=target_id).update(object_id=source_id)


MOVER_LABELS = {
    "deals": ("deal", "deals"),
    "leads": ("converted lead", "converted leads"),
    "contacts": ("person", "people"),
    "history": ("history entry", "history entries"),
    "activities": ("activity", "activities"),
    "comments": ("comment", "comments"),
    "tasks": ("task", "tasks"),
}


def describe(moved: dict[str, Any]) -> list[str]:
    """["2 deals", "14 history entries", "3 activities"] from a merge's mover results."""
    totals: dict[str, int] = {}
    for result in (moved or {}).values():
        for key, value in (result or {}).items():
            if key != "undo" and isinstance(value, int) and value > 0:
                totals[key] = totals.get(key, 0) + value
    out = []
    for key, n in totals.items():
        one, many = MOVER_LABELS.get(key, (key.rstrip("s"), key))
        out.append(f"{n} {one if n == 1 else many}")
    return out
