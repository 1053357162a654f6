"""Writes of this app: dismiss a pair, merge two records, undo a merge.

Merge rules:
- Each field takes the survivor's or the loser's value (the caller's choice; by default the non-empty one,
  and of two different values the one of the record changed last).
- Nothing is lost: every email of both records stays (the chosen one as the email, the others as
  additional emails); phone numbers fill the phone and mobile fields, and numbers that fit neither are
  listed in the merge's history entry ("Other phones") and on the merge record.
- Tags are united; custom fields are chosen per field like the others.
- Related rows move to the survivor through kith.core.relations (deals, leads, people, history, activities…).
- The loser goes to the trash (restorable), with "Merged into …" in its history; the survivor's history
  gets a "merge" entry. Undo restores the loser, moves the same rows back and puts the survivor's values
  back, unless the survivor was changed after the merge (then it says which fields and refuses).
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from kith.contacts.models import Company, Contact
from kith.core import audit, customfields, events, permissions, records
from kith.core.errors import ConflictError, NotFoundError, ValidationError
from kith.core.models import AuditEntry
from kith.core.relations import move_related, mover_name, undo_related

from .models import DuplicatePair, Merge

MODELS = {"contact": Contact, "company": Company}
ADDRESS = ["street", "postal_code", "city", "region", "country"]
FIELDS = {
    "contact": ["first_name", "last_name", "email", "phone", "mobile", "job_title", "company", "lifecycle_stage",
                "lead_source", *ADDRESS, "owner", "external_id"],
    "company": ["name", "domain", "website", "industry", "size", "annual_revenue", "phone", *ADDRESS,
                "description", "owner", "external_id"],
}
LABELS = {"external_id": "External ID", "owner": "Owner", "company": "Company"}
CHOICES = ("survivor", "loser")


def model_for(object_type: str):
    if object_type not in MODELS:
        raise ValidationError({"type": ["Must be contact or company."]})
    return MODELS[object_type]


def _attname(model, name: str) -> str:
    return model._meta.get_field(name).attname


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


def _verbose_name(model, name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)  # FIELDS names the model's own fields, never a reverse relation
    return str(field.verbose_name)


def field_specs(object_type: str) -> list[tuple[str, str]]:
    """[(key, label)] of every choosable field: model fields, then "custom_fields.<key>"."""
    model = MODELS[object_type]
    out = []
    for name in FIELDS[object_type]:
        label = LABELS.get(name) or model.audit_fields.get(name) or _verbose_name(model, name)
        out.append((name, str(label)))
    for cf in customfields.definitions(object_type):
        out.append((f"custom_fields.{cf.key}", cf.label))
    return out


def value_of(obj, key: str) -> Any:
    if key.startswith("custom_fields."):
        return (obj.custom_fields or {}).get(key.split(".", 1)[1])
    return getattr(obj, _attname(type(obj), key))


def display(obj, key: str) -> str:
    """A field's value as shown on the compare and merge pages."""
    if key.startswith("custom_fields."):
        value = value_of(obj, key)
        cf = next((c for c in customfields.definitions(obj.object_type) if c.key == key.split(".", 1)[1]), None)
        if cf is None or _empty(value):
            return "" if _empty(value) else str(value)
        try:
            return customfields.display_value(cf, value)
        except Exception:
            return str(value)
    field = type(obj)._meta.get_field(key)
    if field.is_relation:
        related = getattr(obj, key)
        if related is None:
            return ""
        return getattr(related, "display_name", None) or str(related)
    if field.choices:
        return str(getattr(obj, f"get_{key}_display")())
    value = getattr(obj, key)
    if key in ("phone", "mobile") and value:
        from .matching import phone_digits, show_phone

        return show_phone(phone_digits(value)) if value.startswith("+") else value
    if key == "country" and value:
        from kith.core.countries import country_name

        return country_name(value)
    return "" if _empty(value) else str(value)


def default_choices(survivor, loser) -> dict[str, str]:
    """Per field: the non-empty value; of two different values, the one of the record changed last."""
    newer_is_loser = (loser.updated_at, loser.pk) > (survivor.updated_at, survivor.pk)
    out = {}
    for key, _ in field_specs(survivor.object_type):
        s, lv = value_of(survivor, key), value_of(loser, key)
        if (_empty(s) and not _empty(lv)) or (not _empty(s) and not _empty(lv) and s != lv and newer_is_loser):
            out[key] = "loser"
        else:
            out[key] = "survivor"
    return out


def _clean_choices(object_type: str, choices: dict[str, Any] | None) -> dict[str, str]:
    known = {key for key, _ in field_specs(object_type)}
    errors: dict[str, list[str]] = {}
    out = {}
    for key, value in (choices or {}).items():
        if key not in known:
            errors[f"fields.{key}"] = ["Unknown field."]
        elif value not in CHOICES:
            errors[f"fields.{key}"] = ["Must be survivor or loser."]
        else:
            out[key] = value
    if errors:
        raise ValidationError(errors)
    return out


def _state(obj) -> dict[str, Any]:
    """Everything a merge may change on the survivor, as plain values (for undo)."""
    model = type(obj)
    state = {_attname(model, n): _plain(getattr(obj, _attname(model, n))) for n in FIELDS[obj.object_type]}
    state["custom_fields"] = dict(obj.custom_fields or {})
    state["tags"] = sorted(obj.tags.values_list("name", flat=True))
    if obj.object_type == "contact":
        state["additional_emails"] = list(obj.additional_emails or [])
    return state


def _apply_state(obj, state: dict[str, Any]) -> None:
    model = type(obj)
    for name in FIELDS[obj.object_type]:
        att = _attname(model, name)
        if att in state:
            field = model._meta.get_field(name)
            value = state[att]
            if isinstance(field, models.DecimalField) and value is not None:
                value = decimal.Decimal(value)
            setattr(obj, att, value)
    obj.custom_fields = dict(state.get("custom_fields") or {})
    if obj.object_type == "contact":
        obj.additional_emails = list(state.get("additional_emails") or [])


def _get_pair(pk: int | None, object_type: str, a: int, b: int) -> DuplicatePair | None:
    lo, hi = min(a, b), max(a, b)
    qs = DuplicatePair.objects.filter(object_type=object_type, a_id=lo, b_id=hi)
    if pk is not None:
        pair = DuplicatePair.objects.filter(pk=pk).first()
        if pair is None or (pair.object_type, pair.a_id, pair.b_id) != (object_type, lo, hi):
            raise ValidationError({"pair_id": ["This pair is not about these two records."]})
        return pair
    return qs.first()


def dismiss_pair(*, actor, pair: DuplicatePair) -> DuplicatePair:
    """"Not a duplicate": remembered, never proposed again."""
    permissions.require_write(actor)
    with transaction.atomic():
        pair = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
        if pair.status == DuplicatePair.Status.MERGED:
            raise ValidationError({"status": ["These records were merged; undo the merge instead."]})
        pair.status = DuplicatePair.Status.DISMISSED
        pair.decided_at = timezone.now()
        pair.decided_by = actor if getattr(actor, "pk", None) else None
        pair.save()
    return pair


def reopen_pair(*, actor, pair: DuplicatePair) -> DuplicatePair:
    permissions.require_write(actor)
    with transaction.atomic():
        pair = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
        if pair.status == DuplicatePair.Status.DISMISSED:
            pair.status, pair.decided_at, pair.decided_by = DuplicatePair.Status.OPEN, None, None
            pair.save()
    return pair


def _record_company_moves(results: dict[str, Any], *, old, new, actor) -> None:
    """The people and deals a company merge moved (or its undo moved back) each get a history entry
    ("Company: old → new", by the merge's actor) and a new version, as if edited one by one: their own
    timelines show why the company changed, and an edit form opened before the merge cannot put back the
    merged-away company."""
    from kith.sales.models import Deal

    from . import movers

    now = timezone.now()
    change = {"company": {"old": {"id": old.pk, "label": str(old)}, "new": {"id": new.pk, "label": str(new)},
                          "label": "Company"}}
    for model, mover in ((Contact, movers.move_company_contacts), (Deal, movers.move_deal_companies)):
        result = (results or {}).get(mover_name(mover)) or {}
        ids = list((result.get("undo") or {}).get("ids") or [])
        if not ids:
            continue
        for i in range(0, len(ids), 1000):
            objs = list(model.all_objects.filter(pk__in=ids[i:i + 1000], company_id=new.pk))
            if not objs:
                continue
            model.all_objects.filter(pk__in=[o.pk for o in objs]).update(version=models.F("version") + 1,
                                                                          updated_at=now)
            audit.record_many(model, [(o.pk, str(o), "update", change) for o in objs],
                              actor=actor, at=now)


def _history_entry(obj) -> AuditEntry:
    """The record's latest history entry; called right after records.finish_write, which always writes one."""
    ct = ContentType.objects.get_for_model(type(obj))
    entry = AuditEntry.objects.filter(content_type=ct, object_id=obj.pk).order_by("-id").first()
    assert entry is not None
    return entry


def merge(*, actor, object_type: str, survivor_id: int, loser_id: int, choices: dict[str, Any] | None = None,
          pair_id: int | None = None) -> Merge:
    model = model_for(object_type)
    permissions.require_write(actor)
    if survivor_id == loser_id:
        raise ValidationError({"loser_id": ["Choose two different records."]})
    choices = _clean_choices(object_type, choices)
    with transaction.atomic():
        locked = {o.pk: o for o in permissions.visible(model.objects.select_for_update(), actor)
                  .filter(pk__in=[survivor_id, loser_id]).order_by("pk")}
        errors = {}
        for field_name, pk in (("survivor_id", survivor_id), ("loser_id", loser_id)):
            if pk not in locked:
                errors[field_name] = [f"No {object_type} with id {pk} (it may be in the trash)."]
        if errors:
            raise ValidationError(errors)
        survivor, loser = locked[survivor_id], locked[loser_id]
        permissions.require_write(actor, survivor)
        permissions.require_write(actor, loser)
        pair = _get_pair(pair_id, object_type, survivor_id, loser_id)
        final = {**default_choices(survivor, loser), **choices}
        before_state = _state(survivor)
        before_audit = audit.snapshot(survivor)
        loser_label = str(loser)[:300]
        loser_state = _state(loser)

        if pair is not None:  # before the loser goes: its other open pairs go with it (kith.duplicates.signals)
            pair.status = DuplicatePair.Status.MERGED
            pair.decided_at = timezone.now()
            pair.decided_by = actor if getattr(actor, "pk", None) else None
            pair.save()

        # 1. related rows (deals, leads, people, history, activities …) move while the loser is still live.
        moved = move_related(object_type=object_type, source_id=loser.pk, target_id=survivor.pk)
        if object_type == "company":
            _record_company_moves(moved, old=loser, new=survivor, actor=actor)

        # 2. the loser goes to the trash: frees its unique email or domain for the survivor.
        loser.deleted_at = timezone.now()
        loser.deleted_by = actor if getattr(actor, "pk", None) else None
        records.bump(loser)
        loser.save()
        records.finish_write(loser, action=AuditEntry.Action.DELETE, actor=actor, before={})
        note = _history_entry(loser)
        note.changes = {"merged_into": {"old": None, "new": {"id": survivor.pk, "label": str(survivor)},
                                        "label": "Merged into"}}
        note.save(update_fields=["changes"])

        # 3. the survivor takes the chosen values and keeps every email and phone.
        for key, side in final.items():
            if side != "loser" or key in ("phone", "mobile"):
                continue
            if key.startswith("custom_fields."):
                cf_key = key.split(".", 1)[1]
                value = (loser.custom_fields or {}).get(cf_key)
                survivor.custom_fields = dict(survivor.custom_fields or {})
                if _empty(value):
                    survivor.custom_fields.pop(cf_key, None)
                else:
                    survivor.custom_fields[cf_key] = value
            else:
                att = _attname(model, key)
                setattr(survivor, att, getattr(loser, att))
        extra_phones = _merge_phones(survivor, loser, final)
        if object_type == "contact":
            emails = [survivor.email if final.get("email") != "loser" else loser.email]
            emails = [e for e in emails if e]
            for e in [before_state["email"], *before_state["additional_emails"], loser.email,
                      *(loser.additional_emails or [])]:
                if e and e not in emails:
                    emails.append(e)
            survivor.email = emails[0] if emails else ""
            survivor.additional_emails = emails[1:]
        tags = sorted(set(before_state["tags"]) | set(loser_state["tags"]), key=str.lower)
        records.set_tags(survivor, tags)
        records.bump(survivor)
        survivor.save()
        records.finish_write(survivor, action=AuditEntry.Action.UPDATE, actor=actor, before=before_audit)
        entry = _history_entry(survivor)
        entry.action = "merge"
        entry.changes = {
            "merged_from": {"old": None, "new": {"id": loser.pk, "label": f"{loser_label} (#{loser.pk})"},
                            "label": f"Merged {object_type}"},
            **entry.changes,
        }
        if extra_phones:
            entry.changes["other_phones"] = {"old": None, "new": extra_phones, "label": "Other phones (kept here)"}
        entry.save(update_fields=["action", "changes"])

        record = Merge.objects.create(
            object_type=object_type, survivor_id=survivor.pk, loser_id=loser.pk, loser_label=loser_label,
            actor=actor if getattr(actor, "pk", None) else None, choices=final,
            survivor_before=before_state, survivor_after=audit.snapshot(survivor),
            survivor_version=survivor.version, loser_version=loser.version, extra_phones=extra_phones,
            moved=moved, pair=pair, audit_entry_id=entry.pk,
        )
        events.emit(f"{object_type}.merged", {"type": object_type, "id": survivor.pk, "merged_id": loser.pk,
                                              "merge_id": record.pk, "actor_id": getattr(actor, "pk", None)})
    return record


def _merge_phones(survivor, loser, final: dict[str, str]) -> list[str]:
    """Chosen numbers in phone (and mobile); numbers left over fill an empty one, the rest are returned."""
    slots = ["phone", "mobile"] if survivor.object_type == "contact" else ["phone"]
    all_numbers = []
    for obj in (survivor, loser):
        for slot in slots:
            value = getattr(obj, slot)
            if value and value not in all_numbers:
                all_numbers.append(value)
    chosen = {}
    for slot in slots:
        source = loser if final.get(slot) == "loser" else survivor
        chosen[slot] = getattr(source, slot)
    for slot in slots:
        setattr(survivor, slot, chosen[slot])
    left = [n for n in all_numbers if n not in chosen.values()]
    for slot in slots:
        if not getattr(survivor, slot) and left:
            setattr(survivor, slot, left.pop(0))
    return left


# --- undo ----------------------------------------------------------------------------------------------


def undo_problems(m: Merge, survivor=None, loser=None) -> list[str]:
    """Why this merge cannot be undone now ([] when it can)."""
    model = MODELS[m.object_type]
    if m.undone_at is not None:
        return ["This merge was already undone."]
    survivor = survivor or model.all_objects.filter(pk=m.survivor_id).first()
    loser = loser or model.all_objects.filter(pk=m.loser_id).first()
    problems = []
    if loser is None:
        problems.append(f"{m.loser_label} (#{m.loser_id}) was deleted for good, so it cannot come back.")
    elif loser.deleted_at is None:
        problems.append(f"{m.loser_label} (#{m.loser_id}) was restored from the trash since the merge.")
    elif loser.version != m.loser_version:
        problems.append(f"{m.loser_label} (#{m.loser_id}) was changed since the merge.")
    if survivor is None:
        problems.append("The surviving record was deleted for good.")
        return problems
    if survivor.deleted_at is not None:
        problems.append(f"{survivor} is in the trash; restore it first.")
    if survivor.version != m.survivor_version:
        changed = audit.diff(m.survivor_after, audit.snapshot(survivor), survivor)
        if changed:
            labels = ", ".join(str(c["label"]) for c in changed.values())
            problems.append(f"{survivor} was changed after the merge ({labels}); undoing would overwrite "
                            "those changes, so its values cannot be put back.")
    later = Merge.objects.filter(object_type=m.object_type, loser_id=m.survivor_id, created_at__gt=m.created_at,
                                 undone_at__isnull=True).first()
    if later is not None:
        problems.append(f"{survivor} was itself merged into another record since; undo that merge first.")
    return problems


def undo_merge(*, actor, merge_id: int) -> Merge:
    permissions.require_write(actor)
    with transaction.atomic():
        m = Merge.objects.select_for_update().filter(pk=merge_id).first()
        if m is None:
            raise NotFoundError(f"No merge {merge_id}.")
        model = MODELS[m.object_type]
        if not permissions.visible(model.all_objects.filter(pk=m.survivor_id), actor).exists():
            raise NotFoundError(f"No merge {merge_id}.")
        locked = {o.pk: o for o in model.all_objects.select_for_update()
                  .filter(pk__in=[m.survivor_id, m.loser_id]).order_by("pk")}
        survivor, loser = locked.get(m.survivor_id), locked.get(m.loser_id)
        problems = undo_problems(m, survivor, loser)
        if problems:
            raise ConflictError("This merge cannot be undone: " + " ".join(problems),
                                current_version=getattr(survivor, "version", None))
        # undo_problems reports a survivor or loser deleted for good, so both are here
        assert survivor is not None and loser is not None
        permissions.require_write(actor, survivor)
        not_undone = undo_related(object_type=m.object_type, source_id=loser.pk, target_id=survivor.pk,
                                  results=m.moved)
        if m.object_type == "company":
            _record_company_moves(m.moved, old=survivor, new=loser, actor=actor)

        before_audit = audit.snapshot(survivor)
        _apply_state(survivor, m.survivor_before)
        records.set_tags(survivor, m.survivor_before.get("tags") or [])
        # The loser's unique email/domain goes back to it: clear it from the survivor first.
        records.bump(survivor)
        survivor.save()
        records.finish_write(survivor, action=AuditEntry.Action.UPDATE, actor=actor, before=before_audit)
        entry = _history_entry(survivor)
        entry.action = "unmerge"
        entry.changes = {"merged_from": {"old": {"id": loser.pk, "label": f"{m.loser_label} (#{loser.pk})"},
                                         "new": None, "label": f"Merged {m.object_type}"}, **entry.changes}
        if not_undone:
            entry.changes["not_undone"] = {"old": None, "new": [n.rsplit(".", 1)[-1] for n in not_undone],
                                           "label": "Left on this record"}
        entry.save(update_fields=["action", "changes"])

        loser.deleted_at = None
        loser.deleted_by = None
        records.bump(loser)
        loser.save()
        records.finish_write(loser, action=AuditEntry.Action.RESTORE, actor=actor, before={})
        m.undone_at = timezone.now()
        m.undone_by = actor if getattr(actor, "pk", None) else None
        m.save(update_fields=["undone_at", "undone_by"])
        if m.pair_id:
            DuplicatePair.objects.filter(pk=m.pair_id).update(status=DuplicatePair.Status.OPEN, decided_at=None,
                                                              decided_by=None)
        events.emit(f"{m.object_type}.unmerged", {"type": m.object_type, "id": survivor.pk, "restored_id": loser.pk,
                                                  "merge_id": m.pk, "actor_id": getattr(actor, "pk", None)})
    m.not_undone = not_undone
    return m
