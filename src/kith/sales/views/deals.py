"""Deal pages: record page (stage bar, time in stage, line items, quotes, history), create/edit forms,
moving between stages (board drag and drop, keyboard, stage bar), trash and restore."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.contacts.models import Company, Contact
from kith.core import search
from kith.core.errors import ConflictError
from kith.core.permissions import visible
from kith.web.ui import is_fragment_request, safe_next, vary_htmx
from kith.web.views_records import (
    detail_context,
    form_page,
    get_visible,
    require_writer,
    restore_action,
    trash_action,
)

from .. import money, services
from ..forms_deals import (
    DealForm,
    line_rows_from_items,
    line_rows_from_post,
    product_choices,
    service_items,
)
from ..models import Deal, Pipeline, SalesSettings, Stage
from ..templatetags.deals_ui import duration_text
from .board import board_params, column_stats, filtered_deals, open_totals

RELATED_LIMIT = 20
STAGE_HISTORY_LIMIT = 100


# --- helpers other pages use ----------------------------------------------------------------------------


def deals_for(user, *, company=None, contact=None, limit: int = RELATED_LIMIT) -> list[Deal]:
    """A company's or contact's visible deals, open ones first, for sales/deals/_related_deals.html."""
    qs = visible(Deal, user).select_related("stage", "pipeline", "owner")
    if company is not None:
        qs = qs.filter(company=company)
    if contact is not None:
        qs = qs.filter(deal_contacts__contact=contact)
    deals = list(qs.order_by("closed_at", "-updated_at", "-id")[:limit])
    deals.sort(key=lambda d: (not d.stage.is_open,))
    return deals


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _stage_rows(deal: Deal) -> list[dict[str, Any]]:
    """Time in each stage: entered at, left at, how long (the current stage "so far")."""
    changes = list(deal.stage_changes.select_related("to_stage", "actor").order_by("changed_at", "id"))
    changes = changes[-STAGE_HISTORY_LIMIT:]
    now = timezone.now()
    rows = []
    for i, ch in enumerate(changes):
        left = changes[i + 1].changed_at if i + 1 < len(changes) else None
        rows.append({
            "stage": ch.to_stage,
            "entered": ch.changed_at,
            "left": left,
            "duration": duration_text((left or now) - ch.changed_at),
            "current": left is None,
            "actor": ch.actor.display_name if ch.actor else "",
        })
    rows.reverse()
    return rows


def _progress(deal: Deal, stages: list[Stage]) -> list[dict[str, Any]]:
    current = next((i for i, s in enumerate(stages) if s.pk == deal.stage_id), -1)
    out = []
    for i, s in enumerate(stages):
        state = "current" if i == current else ("done" if i < current and s.is_open else "todo")
        out.append({"stage": s, "state": state})
    return out


def _line_editor(deal: Deal, rows: list[dict[str, str]] | None = None, errors: dict | None = None,
                 row_errors: dict[int, dict[str, list[str]]] | None = None) -> dict[str, Any]:
    items = list(deal.line_items.select_related("product"))
    if rows is None:
        rows = line_rows_from_items(items)
        rows.append({"product_id": "", "name": "", "quantity": "1", "unit_price": "", "discount_pct": ""})
    shown = []
    for i, row in enumerate(rows):
        total = None
        try:
            if row.get("unit_price"):
                total = money.line_total(
                    money.parse(row.get("quantity") or "1", field="quantity"),
                    money.parse(row["unit_price"], field="unit_price"),
                    money.parse(row.get("discount_pct") or "0", field="discount_pct"),
                )
        except ValueError:
            total = None
        shown.append({"index": i, "values": row, "total": total, "errors": (row_errors or {}).get(i, {})})
    return {
        "line_rows": shown,
        "line_count": len(rows),
        "line_items": items,
        "line_sum": sum((li.total for li in items), Decimal("0.00")),
        "line_errors": errors or {},
        "products": product_choices(deal.currency),
    }


def _detail_ctx(request: HttpRequest, deal: Deal, **extra) -> dict[str, Any]:
    ctx = detail_context(request, deal, "deal")
    stages = list(deal.pipeline.stages.order_by("position", "id"))
    default = SalesSettings.get().default_currency
    links = list(deal.deal_contacts.select_related("contact", "contact__company").order_by("-is_primary", "id"))
    company = deal.company
    ctx.update({
        "deal": deal,
        "stages": stages,
        "progress": _progress(deal, stages),
        "default_currency": default,
        "weighted": money.weighted(deal.amount, deal.stage.probability),
        "weighted_default": money.weighted(deal.amount_default, deal.stage.probability),
        "contact_links": links,
        "company": company,
        "company_visible": company is not None and visible(Company.all_objects.filter(pk=company.pk),
                                                             request.user).exists(),
        "stage_rows": _stage_rows(deal),
        "quotes": list(deal.quotes.order_by("-created_at", "-id")[:50]),
        "nav_section": "deals",
        "board_url": reverse("web:deal_board", args=[deal.pipeline_id]),
        "overdue": bool(deal.expected_close_date and deal.expected_close_date < timezone.localdate()
                        and deal.stage.is_open),
    })
    ctx.update(_line_editor(deal))
    ctx.update(extra)
    return ctx


# --- record page ----------------------------------------------------------------------------------------


def _get_deal(request, pk: int, *, include_trash: bool = False) -> Deal:
    deal = get_visible(Deal, request, pk, include_trash=include_trash)
    return Deal.all_objects.select_related("stage", "pipeline", "company", "owner", "deleted_by").get(pk=deal.pk)


@login_required
@require_GET
def deal_detail(request, pk: int):
    deal = _get_deal(request, pk, include_trash=True)
    return render(request, "sales/deals/detail.html", _detail_ctx(request, deal))


# --- line items -----------------------------------------------------------------------------------------


@login_required
@require_POST
def deal_line_items(request, pk: int):
    deal = _get_deal(request, pk)
    require_writer(request)
    rows = line_rows_from_post(request.POST)
    fragment = is_fragment_request(request)

    def show(status: int, **editor) -> HttpResponse:
        if fragment:
            ctx = {"deal": deal, "obj": deal, "can_write": True, **_line_editor(deal, **editor)}
            return vary_htmx(render(request, "sales/deals/_line_items.html", ctx, status=status))
        return render(request, "sales/deals/detail.html", _detail_ctx(request, deal, **_line_editor(deal, **editor)),
                      status=status)

    if "add_row" in request.POST:
        rows.append({"product_id": "", "name": "", "quantity": "1", "unit_price": "", "discount_pct": ""})
        return show(200, rows=rows)
    items, index = service_items(rows)
    version = (request.POST.get("version") or "").strip()
    try:
        updated = services.set_line_items(actor=request.user, deal=deal, items=items,
                                          expected_version=int(version) if version.isdigit() else None)
    except ValidationError as exc:
        general: dict[str, list[str]] = {}
        row_errors: dict[int, dict[str, list[str]]] = {}
        for key, msgs in exc.message_dict.items():
            parts = key.split(".")
            if parts[0] == "items" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(index):
                row = index[int(parts[1])]
                field_name = parts[2] if len(parts) > 2 else "name"
                row_errors.setdefault(row, {}).setdefault(field_name, []).extend(msgs)
            else:
                general.setdefault(key, []).extend(msgs)
        return show(400, rows=rows or None, errors=general, row_errors=row_errors)
    except ConflictError as exc:
        return show(409, rows=rows or None, errors={"version": [exc.message]})
    if items:
        messages.success(request, f"Line items saved. The deal amount is now {money.fmt(updated.amount, updated.currency)}.")
    else:
        messages.success(request, "Line items removed. The deal keeps its amount; you can now edit it.")
    return redirect(reverse("web:deal_detail", args=[deal.pk]) + "#line-items")


# --- create and edit ------------------------------------------------------------------------------------


def _update(actor, deal, data, version):
    return services.update_deal(actor=actor, deal=deal, data=data, expected_version=version)


@login_required
@require_http_methods(["GET", "POST"])
def deal_create(request):
    initial: dict[str, Any] = {"owner_id": str(request.user.pk)}
    cancel = reverse("web:deal_board_default")
    params = request.GET
    pipeline = None
    if params.get("pipeline", "").isdigit():
        pipeline = Pipeline.objects.filter(pk=int(params["pipeline"])).first()
    if params.get("stage", "").isdigit():
        stage = Stage.objects.select_related("pipeline").filter(pk=int(params["stage"])).first()
        if stage is not None and (pipeline is None or stage.pipeline_id == pipeline.pk):
            pipeline = stage.pipeline
            initial["stage_id"] = str(stage.pk)
    if pipeline is not None:
        initial["pipeline_id"] = str(pipeline.pk)
        cancel = reverse("web:deal_board", args=[pipeline.pk])
    if params.get("company", "").isdigit():
        company = visible(Company, request.user).filter(pk=int(params["company"])).first()
        if company is not None:
            initial["company_id"] = str(company.pk)
            cancel = company.get_absolute_url()
    if params.get("contact", "").isdigit():
        contact = visible(Contact, request.user).select_related("company").filter(pk=int(params["contact"])).first()
        if contact is not None:
            initial["contact_ids"] = [str(contact.pk)]
            initial["primary_contact_id"] = str(contact.pk)
            cancel = contact.get_absolute_url()
            if contact.company_id and "company_id" not in initial:
                initial["company_id"] = str(contact.company_id)
    return form_page(
        request, form_class=DealForm, instance=None, create=services.create_deal, update=_update,
        template="sales/deals/form.html", noun="deal", initial=initial,
        extra={"cancel_url": cancel, "nav_section": "deals"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def deal_edit(request, pk: int):
    deal = _get_deal(request, pk)
    return form_page(
        request, form_class=DealForm, instance=deal, create=services.create_deal, update=_update,
        template="sales/deals/form.html", noun="deal",
        extra={"cancel_url": deal.get_absolute_url(), "nav_section": "deals"},
    )


@login_required
@require_GET
def deal_stage_options(request):
    """The stage <select> for the pipeline chosen in the deal form (htmx swaps it in)."""
    form = DealForm(user=request.user, initial={"pipeline_id": request.GET.get("pipeline_id", "")})
    return vary_htmx(HttpResponse(str(form["stage_id"])))


@login_required
@require_GET
def deal_contact_lookup(request):
    """Contacts for the deal form's contact picker: [{"id", "label", "hint"}], best matches first."""
    q = (request.GET.get("q") or "").strip()
    qs = visible(Contact, request.user).select_related("company")
    if q:
        ids = [oid for _, oid, _ in search.search(q, kinds=["contact"], limit=20)]
        found = {c.pk: c for c in qs.filter(pk__in=ids)}
        contacts = [found[i] for i in ids if i in found]
    else:
        contacts = list(qs.order_by(Lower("full_name"), "id")[:20])
    return JsonResponse({"results": [
        {"id": c.pk, "label": str(c), "hint": " · ".join(p for p in [c.email, c.company.name if c.company else ""] if p)}
        for c in contacts
    ]})


# --- moving between stages ------------------------------------------------------------------------------


def _move_error(request, deal, stage, message: str, errors: dict, status: int) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": False, "message": message, "errors": errors}, status=status)
    ctx = {"deal": deal, "obj": deal, "stage": stage, "errors": errors, "message": message,
           "next": safe_next(request, deal.get_absolute_url()), "lost_reason": request.POST.get("lost_reason", ""),
           "nav_section": "deals", "stages": list(deal.pipeline.stages.order_by("position", "id"))}
    return render(request, "sales/deals/move.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def deal_move(request, pk: int):
    """Move a deal to a stage. JSON for the board's drag and drop (Accept: application/json), else a page.

    GET shows a small form (used without JavaScript, e.g. to give the lost reason).
    """
    try:
        deal = _get_deal(request, pk)
    except Http404:
        if _wants_json(request):
            return JsonResponse({"ok": False, "message": "This deal no longer exists or is in the trash."}, status=404)
        raise
    stage_value = (request.POST.get("stage_id") if request.method == "POST" else request.GET.get("stage")) or ""
    stage = None
    if stage_value.isdigit():
        stage = Stage.objects.select_related("pipeline").filter(pk=int(stage_value)).first()
    if not request.user.can_write:
        if _wants_json(request):
            return JsonResponse({"ok": False, "message": "Your role can view deals but not move them."}, status=403)
        raise PermissionDenied("Your role can view records but not change them.")
    if request.method == "GET":
        if stage is None:
            raise Http404("No such stage.")
        return _move_error(request, deal, stage, "", {}, 200)
    if stage is None:
        return _move_error(request, deal, None, "Choose a stage.", {"stage_id": ["Choose a stage."]}, 400)
    lost_reason = request.POST.get("lost_reason")
    from_stage = deal.stage
    try:
        moved = services.move_deal(actor=request.user, deal=deal, stage_id=stage.pk,
                                   lost_reason=lost_reason.strip() if lost_reason is not None else None)
    except ValidationError as exc:
        errors = exc.message_dict
        message = " ".join(m for msgs in errors.values() for m in msgs)
        return _move_error(request, deal, stage, message, errors, 400)
    except PermissionDenied as exc:
        if _wants_json(request):
            return JsonResponse({"ok": False, "message": str(exc)}, status=403)
        raise
    text = f"{moved} moved to {stage.name}."
    if _wants_json(request):
        # The board's headers after the move, with the board's filters (sent as the query string).
        stages = list(stage.pipeline.stages.order_by("position", "id"))
        columns: dict[str, Any] = {}
        summary: dict[str, Any] = {}
        try:
            qs = filtered_deals(request.user, stage.pipeline, board_params(request.GET))
            currency = SalesSettings.get().default_currency
            stats = column_stats(qs, stages, currency)
            for sid, st in stats.items():
                columns[str(sid)] = {"count": st["count"], "count_label": st["count_label"],
                                     "total": st["total_label"], "weighted": st["weighted_label"]}
            summary = open_totals(stats, stages, currency)
        except ValidationError:
            pass
        return JsonResponse({
            "ok": True,
            "message": text,
            "deal": {"id": moved.pk, "stage_id": moved.stage_id, "version": moved.version,
                     "stage_kind": stage.kind, "from_stage_id": from_stage.pk},
            "columns": columns,
            "summary": summary,
        })
    messages.success(request, text)
    return redirect(safe_next(request, moved.get_absolute_url()))


# --- trash ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def deal_delete(request, pk: int):
    deal = _get_deal(request, pk)
    return trash_action(
        request, deal, noun="deal", list_url=reverse("web:deal_board", args=[deal.pipeline_id]),
        delete=lambda actor, obj, expected_version: services.delete_deal(
            actor=actor, deal=obj, expected_version=expected_version),
    )


@login_required
@require_POST
def deal_restore(request, pk: int):
    deal = _get_deal(request, pk, include_trash=True)
    return restore_action(
        request, deal, noun="deal",
        restore=lambda actor, obj: services.restore_deal(actor=actor, deal=obj),
    )

