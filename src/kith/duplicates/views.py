"""Duplicates in the web UI: the review queue, the merge page, undo, and the warning on record forms."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.contacts.models import Company, Contact
from kith.core.errors import ConflictError, NotFoundError
from kith.core.pagination import Ordering, paginate
from kith.core.permissions import visible
from kith.web.templatetags.kith_ui import pretty_phone
from kith.web.ui import safe_next, url_with, vary_htmx

from . import detection, services
from .models import DuplicatePair, Merge
from .movers import describe

MODELS = {"contact": Contact, "company": Company}
NOUNS = {"contact": ("contact", "contacts"), "company": ("company", "companies")}
QUEUE_ORDER = Ordering("confidence", ("confidence",))
PAGE = 25
# The queue's status switch: open pairs to review, and the decided ones (to look back, or reopen).
STATUSES = {
    DuplicatePair.Status.OPEN: "Open",
    DuplicatePair.Status.DISMISSED: "Dismissed",
    DuplicatePair.Status.MERGED: "Merged",
}


def _status(value: str | None) -> str:
    return value if value in STATUSES else DuplicatePair.Status.OPEN


def _type(value: str | None) -> str:
    return value if value in MODELS else "contact"


def _visible_pairs(object_type: str, user):
    from kith.api.duplicates_api import visible_pairs

    return visible_pairs(object_type, user)


def _summary(obj) -> list[tuple[str, str]]:
    """The few lines that tell two records apart at a glance."""
    if obj.object_type == "contact":
        emails = ", ".join([e for e in [obj.email, *(obj.additional_emails or [])] if e])
        phones = ", ".join(pretty_phone(p) for p in (obj.phone, obj.mobile) if p)
        company = obj.company.name if obj.company_id else ""
        return [("Email", emails), ("Phone", phones), ("Company", company), ("Job title", obj.job_title),
                ("Owner", obj.owner.display_name if obj.owner_id else "")]
    return [("Domain", obj.domain), ("Website", obj.website), ("Phone", pretty_phone(obj.phone)), ("City", obj.city),
            ("Owner", obj.owner.display_name if obj.owner_id else "")]


@login_required
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    object_type = _type(request.GET.get("type"))
    model = MODELS[object_type]
    try:
        min_conf = max(0, min(100, int(request.GET.get("min") or 0)))
    except ValueError:
        min_conf = 0
    status = _status(request.GET.get("status"))
    qs = _visible_pairs(object_type, request.user).filter(status=status, confidence__gte=min_conf)
    if status != DuplicatePair.Status.OPEN:
        qs = qs.select_related("decided_by")
    cursor = request.GET.get("cursor") or None
    try:
        pairs, next_cursor = paginate(qs, ordering=QUEUE_ORDER, descending=True, cursor=cursor, limit=PAGE)
    except (ValidationError, TypeError, ValueError):
        pairs, next_cursor = [], None
    ids = {i for p in pairs for i in (p.a_id, p.b_id)}
    # A merged pair's loser is in the trash: decided pairs show it too (named, not linked).
    base = model.objects if status == DuplicatePair.Status.OPEN else model.all_objects
    objs = {o.pk: o for o in visible(base.filter(pk__in=ids), request.user).select_related(
        *(["company", "owner"] if object_type == "contact" else ["owner"]))}
    rows = []
    for p in pairs:
        a, b = objs.get(p.a_id), objs.get(p.b_id)
        if a is None or b is None:
            continue
        rows.append({"pair": p, "a": a, "b": b, "records": (a, b),
                     "lines": [(label, va, vb) for (label, va), (_, vb) in zip(_summary(a), _summary(b), strict=True)
                               if va or vb],
                     "merge_url": reverse("web:duplicate_merge", args=[object_type, p.a_id, p.b_id])
                     + f"?pair={p.pk}"})
    last = detection.ScanRun.objects.filter(object_type=object_type, finished_at__isnull=False).order_by("-id").first()
    ctx = {
        "object_type": object_type,
        "noun": NOUNS[object_type][0],
        "noun_plural": NOUNS[object_type][1],
        "rows": rows,
        "min_conf": min_conf,
        "min_options": [(0, "Any"), (50, "50% or more"), (70, "70% or more"), (90, "90% or more")],
        "tabs": [{"type": t, "label": NOUNS[t][1].capitalize(), "active": t == object_type,
                  "url": url_with(request.path, request.GET, type=t, cursor=None),
                  "count": _visible_pairs(t, request.user).filter(status="open").count()} for t in MODELS],
        "status": status,
        "statuses": [{"status": s, "label": label, "active": s == status,
                      "url": url_with(request.path, request.GET, status=None if s == "open" else s, cursor=None),
                      "count": _visible_pairs(object_type, request.user).filter(status=s).count()}
                     for s, label in STATUSES.items()],
        "next_url": url_with(request.path, request.GET, cursor=next_cursor) if next_cursor else "",
        "is_first_page": not cursor,
        "last_scan": last,
        "can_write": request.user.can_write,
    }
    return vary_htmx(render(request, "duplicates/list.html", ctx))


@login_required
@require_POST
def duplicate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    pair = DuplicatePair.objects.filter(pk=pk).first()
    if pair is None or not _visible_pairs(pair.object_type, request.user).filter(pk=pk).exists():
        raise Http404("No such pair.")
    try:
        services.dismiss_pair(actor=request.user, pair=pair)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        names = detection.profiles_for(pair.object_type, [pair.a_id, pair.b_id])
        label = " and ".join(names[i].label for i in (pair.a_id, pair.b_id) if i in names)
        messages.success(request, f"Marked {label} as not duplicates. They will not be proposed again.")
    return redirect(safe_next(request, reverse("web:duplicate_list") + f"?type={pair.object_type}"))


@login_required
@require_POST
def duplicate_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo "not a duplicate": the pair goes back into the review queue (the API's reopen, same permissions)."""
    pair = DuplicatePair.objects.filter(pk=pk).first()
    if pair is None or not _visible_pairs(pair.object_type, request.user).filter(pk=pk).exists():
        raise Http404("No such pair.")
    was = pair.status
    pair = services.reopen_pair(actor=request.user, pair=pair)  # viewers: PermissionDenied (403)
    names = detection.profiles_for(pair.object_type, [pair.a_id, pair.b_id])
    label = " and ".join(names[i].label for i in (pair.a_id, pair.b_id) if i in names) or "the pair"
    if was == DuplicatePair.Status.DISMISSED:
        messages.success(request, f"Put {label} back in the duplicates queue.")
    elif pair.status == DuplicatePair.Status.MERGED:
        messages.error(request, "These records were merged; undo the merge instead.")
    else:
        messages.info(request, "This pair is already in the duplicates queue.")
    return redirect(safe_next(request, reverse("web:duplicate_list") + f"?type={pair.object_type}"))


def _related_counts(obj) -> str:
    from kith.sales.models import Deal, DealContact

    if obj.object_type == "contact":
        n = DealContact.objects.filter(contact=obj).count()
        return f"{n} deal{'s' if n != 1 else ''}"
    people = Contact.objects.filter(company=obj).count()
    deals = Deal.objects.filter(company=obj).count()
    return f"{people} {'person' if people == 1 else 'people'}, {deals} deal{'s' if deals != 1 else ''}"


@login_required
@require_http_methods(["GET", "POST"])
def duplicate_merge(request: HttpRequest, object_type: str, a: int, b: int) -> HttpResponse:
    if object_type not in MODELS:
        raise Http404("No such kind of record.")
    if not request.user.can_write:
        raise PermissionDenied("Your role can view records but not change them.")
    model = MODELS[object_type]
    found = {o.pk: o for o in visible(model, request.user).filter(pk__in=[a, b])}
    if a == b or a not in found or b not in found:
        raise Http404("One of these records is gone, in the trash, or not visible to you.")
    rec = {"a": found[a], "b": found[b]}
    pair_id = request.GET.get("pair") or request.POST.get("pair") or ""
    pair_id = int(pair_id) if str(pair_id).isdigit() else None
    defaults = services.default_choices(rec["a"], rec["b"])  # a as survivor: "survivor" means column a
    error = ""
    if request.method == "POST":
        survivor_col = request.POST.get("survivor") if request.POST.get("survivor") in ("a", "b") else "a"
        loser_col = "b" if survivor_col == "a" else "a"
        choices = {}
        for key, _ in services.field_specs(object_type):
            col = request.POST.get(f"f_{key}")
            if col in ("a", "b"):
                choices[key] = "survivor" if col == survivor_col else "loser"
        try:
            m = services.merge(actor=request.user, object_type=object_type, survivor_id=rec[survivor_col].pk,
                               loser_id=rec[loser_col].pk, choices=choices, pair_id=pair_id)
        except (ValidationError, ConflictError) as exc:
            error = exc.message if isinstance(exc, ConflictError) else " ".join(exc.messages)
        else:
            survivor = model.objects.get(pk=m.survivor_id)
            moved = describe(m.moved)
            text = f"Merged {m.loser_label} (#{m.loser_id}) into {survivor} (#{survivor.pk})."
            if moved:
                text += " Moved: " + ", ".join(moved) + "."
            if m.extra_phones:
                text += " Other phone numbers kept in the history: " + ", ".join(m.extra_phones) + "."
            messages.success(request, text + " You can undo this from its entry in the timeline below.")
            return redirect(survivor.get_absolute_url())
    fields = []
    for key, label in services.field_specs(object_type):
        va, vb = services.display(rec["a"], key), services.display(rec["b"], key)
        raw_a, raw_b = services.value_of(rec["a"], key), services.value_of(rec["b"], key)
        fields.append({"key": key, "label": label, "a": va, "b": vb, "same": raw_a == raw_b,
                       "default": "a" if defaults[key] == "survivor" else "b",
                       "input": "f_" + key, "id": "f-" + key.replace(".", "-").replace("_", "-")})
    differing = [f for f in fields if not f["same"]]
    same = [f for f in fields if f["same"] and f["a"]]
    ctx = {
        "object_type": object_type, "noun": NOUNS[object_type][0], "a": rec["a"], "b": rec["b"],
        "differing": differing, "same": same, "pair_id": pair_id or "", "error": error,
        "related_a": _related_counts(rec["a"]), "related_b": _related_counts(rec["b"]),
        "tags_a": rec["a"].tag_names, "tags_b": rec["b"].tag_names,
        "emails_a": [e for e in [getattr(rec["a"], "email", ""), *getattr(rec["a"], "additional_emails", [])] if e],
        "emails_b": [e for e in [getattr(rec["b"], "email", ""), *getattr(rec["b"], "additional_emails", [])] if e],
        "pair": DuplicatePair.objects.filter(pk=pair_id).first() if pair_id else None,
        "cancel_url": reverse("web:duplicate_list") + f"?type={object_type}",
    }
    return render(request, "duplicates/merge.html", ctx, status=400 if error else 200)


@login_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    m = Merge.objects.filter(pk=pk).first()
    if m is None:
        raise Http404("No such merge.")
    model = MODELS[m.object_type]
    survivor = visible(model.all_objects.filter(pk=m.survivor_id), request.user).first()
    if survivor is None:
        raise Http404("No such merge.")
    if not request.user.can_write:
        raise PermissionDenied("Your role can view records but not change them.")
    try:
        done = services.undo_merge(actor=request.user, merge_id=m.pk)
    except ConflictError as exc:
        messages.error(request, exc.message)
    except NotFoundError as exc:
        raise Http404(str(exc)) from exc
    else:
        text = f"Undid the merge: {m.loser_label} is back and its records moved back to it."
        if done.not_undone:
            text += " Some rows could not be moved back and stay here: " + ", ".join(
                n.rsplit(".", 1)[-1] for n in done.not_undone) + "."
        messages.success(request, text)
    return redirect(safe_next(request, survivor.get_absolute_url()))


# --- the warning on record forms -----------------------------------------------------------------------

CHECK_FIELDS = {
    "contact": ("first_name", "last_name", "email", "additional_emails", "phone", "mobile", "company_id", "country"),
    "company": ("name", "domain", "website", "phone", "country", "city"),
}


def hints_for(request: HttpRequest, object_type: str, data: dict[str, Any], instance=None) -> list[detection.Hint]:
    try:
        return detection.check(object_type, data, user=request.user, instance=instance)
    except Exception:  # a warning must never break a form
        import logging

        logging.getLogger(__name__).exception("duplicate check failed")
        return []


@login_required
@require_http_methods(["GET", "POST"])
def duplicate_check(request: HttpRequest, object_type: str) -> HttpResponse:
    """The "may already exist" box of the create and edit forms, refreshed by htmx as the user types."""
    if object_type not in MODELS:
        raise Http404("No such kind of record.")
    source = request.POST if request.method == "POST" else request.GET
    data = {k: source.get(k, "") for k in CHECK_FIELDS[object_type] if k in source}
    instance = None
    record = request.GET.get("record", "")
    if record.isdigit():
        instance = visible(MODELS[object_type], request.user).filter(pk=int(record)).first()
    hints = hints_for(request, object_type, data, instance) if data or instance else []
    ctx = {"hints": hints, "noun": NOUNS[object_type][0], "object_type": object_type, "instance": instance}
    return vary_htmx(render(request, "duplicates/_warning.html", ctx))


def form_warning(request: HttpRequest, object_type: str, instance=None) -> dict[str, Any]:
    """Context for the warning box of a record form: hints for the record being edited, or for what was
    typed when the form comes back with errors (htmx refreshes it as the user types)."""
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in CHECK_FIELDS[object_type] if k in request.POST}
        return {"duplicate_hints": hints_for(request, object_type, data, instance)}
    if instance is not None:
        return {"duplicate_hints": hints_for(request, object_type, {}, instance)}
    return {"duplicate_hints": []}


def warn_after_save(request: HttpRequest, obj) -> None:
    """After a create or edit: a message naming records this one may duplicate (the save is not blocked)."""
    hints = hints_for(request, obj.object_type, {}, obj)
    for h in hints[:3]:
        where = f" {h.where}" if h.where else ""
        messages.warning(request, f"{h.name}{where} may already exist ({h.confidence}%: {', '.join(h.reasons)}). "
                                  f"Review it under Duplicates.")


def merges_for(obj) -> dict[int, Merge]:
    """Merges into this record, by the id of their history entry (for the history card)."""
    return {m.audit_entry_id: m for m in Merge.objects.filter(object_type=obj.object_type, survivor_id=obj.pk)}
