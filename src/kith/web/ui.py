"""Shared machinery of the record pages: list pages (filters, sorting, keyset paging), history, URLs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from kith.contacts.choices import LifecycleStage
from kith.contacts.models import Company
from kith.core import customfields
from kith.core.countries import countries, country_name
from kith.core.models import CustomField, Tag, User
from kith.core.pagination import paginate, parse_ordering
from kith.core.permissions import visible

PAGE_SIZE = 50


def page_size() -> int:
    return int(getattr(settings, "KITH_UI_PAGE_SIZE", PAGE_SIZE))


def clean_params(params: QueryDict, **changes: Any) -> QueryDict:
    """A copy of the query without empty values; changes set (or with None, remove) parameters."""
    out = QueryDict(mutable=True)
    for key, values in params.lists():
        if key in changes:
            continue
        kept = [v for v in values if v.strip()]
        if kept:
            out.setlist(key, kept)
    for key, value in changes.items():
        if value is None or value == "":
            continue
        if isinstance(value, list | tuple):
            out.setlist(key, [str(v) for v in value])
        else:
            out[key] = str(value)
    return out


def url_with(path: str, params: QueryDict, **changes: Any) -> str:
    query = clean_params(params, **changes).urlencode()
    return f"{path}?{query}" if query else path


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def vary_htmx(response: HttpResponse) -> HttpResponse:
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def is_fragment_request(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


# --- list pages ----------------------------------------------------------------------------------------


@dataclass
class Column:
    label: str
    ordering: str | None = None
    cls: str = ""


@dataclass
class FilterField:
    """One control of the filter panel."""

    name: str
    label: str
    kind: str  # select, text, date, number, combobox
    value: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    datalist: list[str] = field(default_factory=list)
    lookup_url: str = ""
    group: str = ""

    @property
    def input_id(self) -> str:
        return "f-" + self.name.replace("_", "-")


@dataclass
class ListSpec:
    model: Any
    filterset: Any
    columns: list[Column]
    select_related: tuple[str, ...]
    noun: str  # "contact"
    noun_plural: str  # "contacts"
    url_name: str
    page_template: str
    results_template: str
    rows_template: str
    filter_fields: Any  # callable(request, params) -> list[FilterField]
    prefetch_related: tuple[str, ...] = ()


def _param(params: QueryDict, name: str) -> str:
    values = [v for v in params.getlist(name) if v.strip()]
    return values[-1] if values else ""


def owner_options() -> list[tuple[str, str]]:
    users = User.objects.filter(is_active=True).order_by("full_name", "email")
    return [("me", "Me"), ("none", "No owner"), *[(str(u.pk), u.display_name) for u in users]]


def tag_names(limit: int = 300) -> list[str]:
    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:limit])


def custom_filter_fields(object_type: str, params: QueryDict, defs: list[CustomField]) -> list[FilterField]:
    out: list[FilterField] = []
    for cf in defs:
        name = f"cf_{cf.key}"
        group = "Custom fields"
        t = cf.field_type
        if t in ("number", "currency", "date"):
            kind = "date" if t == "date" else "number"
            lo, hi = ("from", "to") if t == "date" else ("min", "max")
            out.append(FilterField(f"{name}__gte", f"{cf.label} {lo}", kind, _param(params, f"{name}__gte"),
                                   group=group))
            out.append(FilterField(f"{name}__lte", f"{cf.label} {hi}", kind, _param(params, f"{name}__lte"),
                                   group=group))
        elif t == "boolean":
            out.append(FilterField(name, cf.label, "select", _param(params, name),
                                   options=[("true", "Yes"), ("false", "No")], group=group))
        elif t in ("select", "multiselect"):
            out.append(FilterField(name, cf.label, "select", _param(params, name),
                                   options=[(c, c) for c in cf.choices], group=group))
        else:
            out.append(FilterField(name, cf.label, "text", _param(params, name), group=group))
    return out


def contact_filter_fields(request: HttpRequest, params: QueryDict, defs: list[CustomField]) -> list[FilterField]:
    company_value = _param(params, "company")
    company_options: list[tuple[str, str]] = [("none", "No company")]
    if company_value.isdigit():
        company = visible(Company, request.user).filter(pk=int(company_value)).first()
        if company is not None:
            company_options.append((str(company.pk), company.name))
    from django.urls import reverse

    fields = [
        FilterField("owner", "Owner", "select", _param(params, "owner"), options=owner_options()),
        FilterField("company", "Company", "combobox", company_value, options=company_options,
                    lookup_url=reverse("web:company_lookup")),
        FilterField("lifecycle_stage", "Lifecycle stage", "select", _param(params, "lifecycle_stage"),
                    options=list(LifecycleStage.choices)),
        FilterField("tag", "Tag", "text", _param(params, "tag"), datalist=tag_names()),
        FilterField("country", "Country", "select", _param(params, "country"), options=countries()),
        FilterField("lead_source", "Lead source", "text", _param(params, "lead_source")),
        *date_filter_fields(params),
    ]
    return fields + custom_filter_fields("contact", params, defs)


def company_filter_fields(request: HttpRequest, params: QueryDict, defs: list[CustomField]) -> list[FilterField]:
    fields = [
        FilterField("owner", "Owner", "select", _param(params, "owner"), options=owner_options()),
        FilterField("industry", "Industry", "text", _param(params, "industry")),
        FilterField("city", "City", "text", _param(params, "city")),
        FilterField("country", "Country", "select", _param(params, "country"), options=countries()),
        FilterField("tag", "Tag", "text", _param(params, "tag"), datalist=tag_names()),
        *date_filter_fields(params),
    ]
    return fields + custom_filter_fields("company", params, defs)


def date_filter_fields(params: QueryDict) -> list[FilterField]:
    return [
        FilterField("created_after", "Created from", "date", _param(params, "created_after"), group="Dates"),
        FilterField("created_before", "Created until", "date", _param(params, "created_before"), group="Dates"),
        FilterField("updated_after", "Updated from", "date", _param(params, "updated_after"), group="Dates"),
        FilterField("updated_before", "Updated until", "date", _param(params, "updated_before"), group="Dates"),
    ]


def _error_label(key: str, fields: list[FilterField]) -> str:
    labels = {f.name: f.label for f in fields}
    labels.update({"ordering": "Sort order", "cursor": "Page", "q": "Search"})
    if key in labels:
        return labels[key]
    return key


def _export_kind(spec: ListSpec) -> str:
    """The kith.exports kind of this list ("contacts" …), or "" when it cannot be exported."""
    from kith.exports.kinds import KINDS

    return spec.noun_plural if spec.noun_plural in KINDS else ""


def list_page(request: HttpRequest, spec: ListSpec) -> HttpResponse:
    """One view for a list: full page, the results fragment (htmx search/filter/sort) or more rows."""
    user = request.user
    params = request.GET
    fs = spec.filterset(params, user)
    defs = customfields.definitions(spec.noun)
    fields = spec.filter_fields(request, params, defs)
    errors: dict[str, list[str]] = {}
    try:
        ordering, descending = parse_ordering(_param(params, "ordering") or None, fs.orderings, fs.default_ordering)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        ordering, descending = parse_ordering(None, fs.orderings, fs.default_ordering)
    cursor = _param(params, "cursor") or None
    rows: list[Any] = []
    next_cursor = None
    if not errors:
        qs = visible(spec.model, user).select_related(*spec.select_related)
        if spec.prefetch_related:
            qs = qs.prefetch_related(*spec.prefetch_related)
        try:
            qs = fs.apply(qs)
            rows, next_cursor = paginate(qs, ordering=ordering, descending=descending, cursor=cursor,
                                         limit=page_size())
        except ValidationError as exc:
            errors.update(exc.message_dict)
            rows, next_cursor = [], None

    path = request.path
    current = ("-" if descending else "") + ordering.name
    headers = []
    for col in spec.columns:
        h: dict[str, Any] = {"label": col.label, "cls": col.cls, "sortable": bool(col.ordering)}
        if col.ordering:
            active = col.ordering == ordering.name
            h["active"] = active
            h["aria_sort"] = ("descending" if descending else "ascending") if active else "none"
            target = f"-{col.ordering}" if active and not descending else col.ordering
            h["url"] = url_with(path, params, ordering=target, cursor=None)
            h["direction"] = ("desc" if descending else "asc") if active else ""
        headers.append(h)

    active_filters = []
    by_name = {f.name: f for f in fields}
    for name, values in fs.active().items():
        f = by_name.get(name)
        label = f.label if f else name
        opts = dict(f.options) if f else {}
        shown = ", ".join(opts.get(v, v) for v in values)
        active_filters.append({"label": label, "value": shown, "remove_url": url_with(path, params, **{name: None},
                                                                                       cursor=None)})
    q = _param(params, "q")
    error_list = [{"label": _error_label(k, fields), "messages": v, "param": k} for k, v in errors.items()]
    next_url = url_with(path, params, cursor=next_cursor) if next_cursor else ""
    ctx = {
        "spec": spec,
        "rows": rows,
        "next_url": next_url,
        "headers": headers,
        "colspan": len(spec.columns),
        "filter_fields": fields,
        "active_filters": active_filters,
        "filters_open": bool(active_filters) or bool(errors),
        "errors": error_list,
        "q": q,
        "ordering": current if current != fs.default_ordering else "",
        "clear_url": path,
        "is_first_page": not cursor,
        "has_query": bool(q or active_filters),
        "fragment": is_fragment_request(request),
        "export_kind": _export_kind(spec),
    }
    status = 400 if errors else 200
    if is_fragment_request(request):
        template = spec.rows_template if cursor and not errors else spec.results_template
        return vary_htmx(render(request, template, ctx, status=status))
    return vary_htmx(render(request, spec.page_template, ctx, status=status))


# --- history -------------------------------------------------------------------------------------------

ACTION_TEXT = {
    "create": "created this {noun}",
    "update": "updated",
    "delete": "moved this {noun} to the trash",
    "restore": "restored this {noun} from the trash",
    "merge": "merged {merged} into this {noun}",
    "unmerge": "undid the merge of {merged} into this {noun}",
}
HIDDEN_CHANGES = {"merged_from", "merged_into"}  # said in the entry's sentence


def _format_value(key: str, value: Any, defs: dict[str, CustomField]) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, dict) and "label" in value:
        return str(value["label"])
    if key.startswith("custom_fields."):
        cf = defs.get(key.split(".", 1)[1])
        if cf is not None:
            try:
                return customfields.display_value(cf, value)
            except Exception:
                return str(value)
    if key == "lifecycle_stage":
        try:
            return str(LifecycleStage(value).label)
        except ValueError:
            return str(value)
    if key == "country":
        return country_name(str(value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if key in ("annual_revenue",):
        try:
            return f"{float(value):,.2f}"
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _merges(obj, entries) -> tuple[dict[int, Any], dict[int, str]]:
    """Merges recorded in these entries (by entry id) and entries moved here from a merged record."""
    if obj.object_type not in ("contact", "company") or not entries:
        return {}, {}
    from kith.duplicates.models import Merge

    by_entry, moved = {}, {}
    for m in Merge.objects.filter(object_type=obj.object_type, survivor_id=obj.pk):
        by_entry[m.audit_entry_id] = m
        if m.undone_at is None:
            for result in (m.moved or {}).values():
                if isinstance(result, dict) and "history" in result:
                    for entry_id in (result.get("undo") or {}).get("ids", []):
                        moved[entry_id] = f"{m.loser_label} (#{m.loser_id})"
    return by_entry, moved


def _merge_info(m, can_undo_cache: dict[int, list[str]]) -> dict[str, Any]:
    from django.urls import reverse

    from kith.duplicates.services import undo_problems

    if m.pk not in can_undo_cache:
        can_undo_cache[m.pk] = undo_problems(m) if m.undone_at is None else []
    problems = can_undo_cache[m.pk]
    return {"id": m.pk, "undo_url": reverse("web:merge_undo", args=[m.pk]), "undone": m.undone_at is not None,
            "can_undo": m.undone_at is None and not problems, "problems": problems}


def history_entries(obj, entries, noun: str) -> list[dict[str, Any]]:
    defs = {f.key: f for f in customfields.definitions(obj.object_type)}
    order = {name: i for i, name in enumerate([*obj.audit_fields, "tags"])}
    merges, moved = _merges(obj, entries)
    undo_cache: dict[int, list[str]] = {}
    out = []
    for e in entries:
        changes = []
        keys = sorted(e.changes, key=lambda k: (order.get(k, len(order)), k))
        for key in keys:
            if key in HIDDEN_CHANGES:
                continue
            ch = e.changes[key] or {}
            changes.append({
                "label": ch.get("label") or key,
                "old": _format_value(key, ch.get("old"), defs),
                "new": _format_value(key, ch.get("new"), defs),
            })
        actor = e.actor.display_name if e.actor is not None else (e.actor_label or "System")
        merged = (e.changes.get("merged_from") or {}) if isinstance(e.changes, dict) else {}
        merged_label = (merged.get("new") or merged.get("old") or {}).get("label", "a record") if merged else ""
        text = ACTION_TEXT.get(e.action, e.action).format(noun=noun, merged=merged_label)
        if e.action == "delete" and (e.changes or {}).get("merged_into"):
            text = f"merged this {noun} into {e.changes['merged_into']['new']['label']}"
        if e.pk in moved:
            text += f" (on {moved[e.pk]}, before the merge)"
        out.append({
            "actor": actor,
            "action": e.action,
            "text": text,
            "when": e.created_at,
            "changes": changes,
            "merge": _merge_info(merges[e.pk], undo_cache) if e.action == "merge" and e.pk in merges else None,
        })
    return out


def custom_field_rows(obj) -> list[dict[str, str]]:
    values = obj.custom_fields or {}
    rows = []
    for cf in customfields.definitions(obj.object_type):
        rows.append({"label": cf.label, "value": customfields.display_value(cf, values.get(cf.key)),
                     "type": cf.field_type})
    return rows


def purge_date(deleted_at: dt.datetime | None) -> dt.datetime | None:
    if deleted_at is None:
        return None
    return deleted_at + dt.timedelta(days=int(getattr(settings, "KITH_TRASH_DAYS", 30)))


def querystring(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})
