"""Sales setup pages: pipelines and stages, the product catalogue, sales settings with exchange rates, quotas.

Who may do what: pipelines, products (edit) and quotas — admins and managers; sales settings — admins;
everyone signed in can read the product catalogue. The services check again; a refused POST answers 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import ValidationError
from kith.core.models import Role, User
from kith.core.pagination import Ordering, paginate
from kith.core.permissions import require_settings
from kith.web.forms_settings import SettingsForm
from kith.web.ui import is_fragment_request, url_with, vary_htmx

from .. import money
from ..choices import PeriodKind, StageKind
from ..models import Deal, ExchangeRate, Pipeline, Product, Quota, SalesSettings, Stage, Team
from ..pdf import qty
from ..services import pipelines as pipeline_services
from ..services import products as product_services
from ..services import quotas as quota_services
from ..services import settings as settings_services

PRODUCT_PAGE_SIZE = 50
COUNT_CAP = 10_000
PRODUCT_ORDER = Ordering("name", ("name",))


# --- shared -------------------------------------------------------------------------------------------------


def sales_links(user, current: str) -> list[dict[str, Any]]:
    """The sales setup pages this user may open, for the side menu."""
    links = []
    if user.can_manage_settings:
        links.append(("web:pipeline_list", "Pipelines"))
    links.append(("web:product_list", "Products"))
    if user.can_manage_settings:
        links.append(("web:quota_list", "Quotas"))
    if user.is_admin:
        links.append(("web:sales_settings", "Sales settings"))
    return [{"url": reverse(name), "title": title, "current": name == current} for name, title in links]


def render_admin(request, template: str, context: dict, *, section: str, status: int = 200):
    context = {"sales_links": sales_links(request.user, section), **context}
    return vary_htmx(render(request, template, context, status=status))


def _require_admin(user) -> None:
    settings_services.require_sales_admin(user)


class AdminForm(SettingsForm):
    pass


def _decimal_input(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "class": "num-input", **attrs})


# --- pipelines ----------------------------------------------------------------------------------------------


class PipelineForm(AdminForm):
    name = forms.CharField(label="Pipeline name", max_length=100, error_messages={"required": "Enter a name."},
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))


class StageForm(AdminForm):
    name = forms.CharField(label="Stage name", max_length=100, error_messages={"required": "A stage needs a name."},
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))
    probability = forms.IntegerField(
        label="Probability %", min_value=0, max_value=100,
        error_messages={"required": "Enter a whole percentage from 0 to 100.",
                        "invalid": "Enter a whole percentage from 0 to 100.",
                        "min_value": "Enter a whole percentage from 0 to 100.",
                        "max_value": "Enter a whole percentage from 0 to 100."},
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1, "class": "num-input"}),
    )
    kind = forms.ChoiceField(label="Kind", choices=StageKind.choices)


def _stage_form(stage: Stage, data=None) -> StageForm:
    return StageForm(data, prefix=f"stage-{stage.pk}",
                     initial={"name": stage.name, "probability": stage.probability, "kind": stage.kind})


def _pipeline_page(request, pipeline: Pipeline, *, name_form=None, stage_forms=None, add_form=None, status=200,
                   notice: str = ""):
    stages = list(pipeline.stages.order_by("position", "id"))
    # Bounded counts (like the jobs page): a stage with more than COUNT_CAP deals shows "10,000+".
    counts = {s.pk: Deal.all_objects.filter(stage=s).order_by()[: COUNT_CAP + 1].count() for s in stages}
    stage_forms = stage_forms or {}
    rows = [
        {"stage": s, "form": stage_forms.get(s.pk) or _stage_form(s),
         "deals": f"{COUNT_CAP:,}+" if counts[s.pk] > COUNT_CAP else f"{counts[s.pk]:,}",
         "first": i == 0, "last": i == len(stages) - 1}
        for i, s in enumerate(stages)
    ]
    ctx = {
        "pipeline": pipeline,
        "rows": rows,
        "name_form": name_form or PipelineForm(initial={"name": pipeline.name}),
        "add_form": add_form or StageForm(prefix="new", initial={"probability": 50, "kind": StageKind.OPEN}),
        "deal_total": sum(counts.values()),
        "deal_total_capped": any(n > COUNT_CAP for n in counts.values()),
        "notice": notice,
    }
    forms_with_errors = [f for f in (*stage_forms.values(), add_form) if f is not None and f.errors]
    ctx["stage_errors"] = [
        (field_id, f"{label}" if f is add_form else f"{label} of “{f.initial.get('name', '')}”", message)
        for f in forms_with_errors for field_id, label, message in f.error_summary()
    ]
    if is_fragment_request(request):
        return vary_htmx(render(request, "sales/admin/_stages.html", ctx, status=status))
    return render_admin(request, "sales/admin/pipeline_edit.html", ctx, section="web:pipeline_list", status=status)


def _back_to_pipeline(request, pipeline: Pipeline, anchor: str = "stages", notice: str = ""):
    if is_fragment_request(request):
        return _pipeline_page(request, pipeline, notice=notice)
    if notice:  # without htmx (or pressed before htmx took over the new form) the page reloads: say it there
        messages.success(request, notice)
    return redirect(f"{reverse('web:pipeline_edit', args=[pipeline.pk])}#{anchor}")


@login_required
@require_GET
def pipeline_list(request):
    require_settings(request.user)
    pipelines = list(Pipeline.objects.prefetch_related("stages").order_by("position", "id"))
    return render_admin(request, "sales/admin/pipeline_list.html", {"pipelines": pipelines},
                        section="web:pipeline_list")


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_create(request):
    require_settings(request.user)
    form = PipelineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = pipeline_services.create_pipeline(actor=request.user, data={"name": form.cleaned_data["name"]})
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Pipeline “{pipeline.name}” was created with the usual stages; adjust them below.")
            return redirect("web:pipeline_edit", pipeline.pk)
    status = 400 if request.method == "POST" else 200
    return render_admin(request, "sales/admin/pipeline_create.html", {"form": form}, section="web:pipeline_list",
                        status=status)


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_edit(request, pk: int):
    require_settings(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    if request.method == "POST":
        form = PipelineForm(request.POST)
        if form.is_valid():
            try:
                pipeline_services.update_pipeline(actor=request.user, pipeline=pipeline,
                                                  data={"name": form.cleaned_data["name"]})
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Pipeline renamed to “{pipeline.name}”.")
                return redirect("web:pipeline_edit", pipeline.pk)
        pipeline.refresh_from_db()
        return _pipeline_page(request, pipeline, name_form=form, status=400)
    return _pipeline_page(request, pipeline)


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_delete(request, pk: int):
    require_settings(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    has_deals = Deal.all_objects.filter(pipeline=pipeline).exists()
    error = ""
    if request.method == "POST":
        name = pipeline.name
        try:
            pipeline_services.delete_pipeline(actor=request.user, pipeline=pipeline)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Pipeline “{name}” was deleted.")
            return redirect("web:pipeline_list")
    return render_admin(request, "sales/admin/pipeline_delete.html",
                        {"pipeline": pipeline, "has_deals": has_deals, "error": error,
                         "only_one": Pipeline.objects.count() <= 1},
                        section="web:pipeline_list", status=400 if error else 200)


@login_required
@require_POST
def stage_create(request, pk: int):
    require_settings(request.user)
    pipeline = get_object_or_404(Pipeline, pk=pk)
    form = StageForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            stage = pipeline_services.create_stage(actor=request.user, pipeline=pipeline, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            notice = f"Stage “{stage.name}” was added."
            return _back_to_pipeline(request, pipeline, f"stage-{stage.pk}", notice)
    return _pipeline_page(request, pipeline, add_form=form, status=400)


@login_required
@require_POST
def stage_update(request, pk: int):
    require_settings(request.user)
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    form = _stage_form(stage, request.POST)
    if form.is_valid():
        try:
            pipeline_services.update_stage(actor=request.user, stage=stage, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            notice = f"Stage “{stage.name}” was saved."
            return _back_to_pipeline(request, stage.pipeline, f"stage-{stage.pk}", notice)
    return _pipeline_page(request, stage.pipeline, stage_forms={stage.pk: form}, status=400)


@login_required
@require_POST
def stage_move(request, pk: int):
    """Move a stage one place up or down (direction=up|down); at either end nothing happens."""
    require_settings(request.user)
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return HttpResponseBadRequest("direction must be up or down")
    ids = list(stage.pipeline.stages.order_by("position", "id").values_list("id", flat=True))
    i = ids.index(stage.pk)
    j = i - 1 if direction == "up" else i + 1
    notice = f"“{stage.name}” is already {'first' if direction == 'up' else 'last'}."
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        pipeline_services.reorder_stages(actor=request.user, pipeline=stage.pipeline, stage_ids=ids)
        notice = f"“{stage.name}” moved {direction} to position {j + 1} of {len(ids)}."
    return _back_to_pipeline(request, stage.pipeline, f"stage-{stage.pk}", notice)


@login_required
@require_http_methods(["GET", "POST"])
def stage_delete(request, pk: int):
    """Delete a stage; when it has deals, ask which stage of the same pipeline they move to."""
    require_settings(request.user)
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
    pipeline = stage.pipeline
    deal_count = Deal.all_objects.filter(stage=stage).count()
    targets = list(pipeline.stages.exclude(pk=stage.pk).order_by("position", "id"))
    error = ""
    move_to_value = request.POST.get("move_to", "")
    if request.method == "POST":
        move_to = None
        if move_to_value:
            move_to = next((s for s in targets if str(s.pk) == move_to_value), None)
            if move_to is None:
                error = "Choose another stage of the same pipeline."
        if not error:
            try:
                pipeline_services.delete_stage(actor=request.user, stage=stage, move_to=move_to)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                moved = f" Its {deal_count} deal{'s' if deal_count != 1 else ''} moved to “{move_to}”." if move_to and deal_count else ""
                messages.success(request, f"Stage “{stage.name}” was deleted.{moved}")
                return redirect(f"{reverse('web:pipeline_edit', args=[pipeline.pk])}#stages")
    return render_admin(request, "sales/admin/stage_delete.html", {
        "stage": stage, "pipeline": pipeline, "deal_count": deal_count, "targets": targets, "error": error,
        "move_to_value": move_to_value,
    }, section="web:pipeline_list", status=400 if error else 200)


# --- products ------------------------------------------------------------------------------------------------


class ProductForm(AdminForm):
    """Parses only; the service validates every field, so all problems are reported at once."""

    name = forms.CharField(label="Name", required=False)
    sku = forms.CharField(label="SKU", required=False, help_text="Your stock-keeping code; unique when set.",
                          widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono"}))
    unit_price = forms.CharField(label="Unit price", required=False, widget=_decimal_input())
    currency = forms.CharField(label="Currency", required=False,
                               help_text="ISO 4217 code such as EUR or USD.",
                               widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono", "size": 4}))
    tax_rate = forms.CharField(label="Tax rate %", required=False, help_text="0 to 100, such as 19 or 7.5.",
                               widget=_decimal_input())
    description = forms.CharField(label="Description", required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    active = forms.BooleanField(label="Active — offered on new deals", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "unit_price", "currency"):  # required by the service: not "(optional)"
            self.fields[name].kith_conditional = True

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {k: d[k] for k in ("name", "sku", "unit_price", "currency", "tax_rate", "description", "active")}


def _product_initial(product: Product | None) -> dict[str, Any]:
    if product is None:
        return {"currency": SalesSettings.get().default_currency, "tax_rate": "0", "active": True}
    return {"name": product.name, "sku": product.sku, "unit_price": product.unit_price, "currency": product.currency,
            "tax_rate": qty(product.tax_rate), "description": product.description, "active": product.active}


@login_required
@require_GET
def product_list(request):
    qs = Product.objects.all()
    q = request.GET.get("q", "").strip()
    status = request.GET.get("status", "active")
    if status not in ("active", "inactive", "all"):
        status = "active"
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(sku__icontains=q))
    if status != "all":
        qs = qs.filter(active=status == "active")
    try:
        rows, next_cursor = paginate(qs, ordering=PRODUCT_ORDER, descending=False,
                                     cursor=request.GET.get("cursor") or None, limit=PRODUCT_PAGE_SIZE)
    except ValidationError:
        return redirect(url_with(reverse("web:product_list"), request.GET, cursor=None))
    ctx = {
        "products": rows,
        "q": q,
        "status": status,
        "more_url": url_with(reverse("web:product_list"), request.GET, cursor=next_cursor) if next_cursor else "",
        "can_edit": request.user.can_manage_settings,
        "is_more": bool(request.GET.get("cursor")),
    }
    if is_fragment_request(request) and request.htmx.target == "load-more":
        return vary_htmx(render(request, "sales/admin/_product_rows.html", ctx))
    return render_admin(request, "sales/admin/product_list.html", ctx, section="web:product_list")


def _product_form_page(request, product: Product | None):
    require_settings(request.user)
    if request.method == "POST":
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                if product is None:
                    saved = product_services.create_product(actor=request.user, data=form.service_data())
                else:
                    saved = product_services.update_product(actor=request.user, product=product,
                                                            data=form.service_data())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Product “{saved.name}” was {'created' if product is None else 'saved'}.")
                return redirect("web:product_list")
        status = 400
    else:
        form = ProductForm(initial=_product_initial(product))
        status = 200
    return render_admin(request, "sales/admin/product_form.html", {"form": form, "product": product},
                        section="web:product_list", status=status)


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request):
    return _product_form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk: int):
    return _product_form_page(request, get_object_or_404(Product, pk=pk))


@login_required
@require_POST
def product_set_active(request, pk: int):
    require_settings(request.user)
    product = get_object_or_404(Product, pk=pk)
    active = request.POST.get("active") == "true"
    product_services.update_product(actor=request.user, product=product, data={"active": active})
    messages.success(request, f"Product “{product.name}” was {'reactivated' if active else 'deactivated'}.")
    return redirect(request.POST.get("next") if str(request.POST.get("next", "")).startswith("/products/")
                    else "web:product_list")


# --- sales settings and exchange rates -------------------------------------------------------------------------


class SalesSettingsForm(AdminForm):
    default_currency = forms.CharField(
        label="Default currency",
        help_text="Reports, forecasts and quotas use it. Changing it converts the other rates to it.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono", "size": 4}),
        error_messages={"required": "Choose the default currency."},
    )
    first_response_minutes = forms.CharField(
        label="First-response time (minutes)", help_text="New leads waiting longer are flagged overdue.",
        widget=forms.NumberInput(attrs={"min": 1, "step": 1, "class": "num-input"}),
        error_messages={"required": "Enter a number of minutes."},
    )
    quote_validity_days = forms.CharField(
        label="Quotes are valid for (days)", widget=forms.NumberInput(attrs={"min": 1, "step": 1, "class": "num-input"}),
        error_messages={"required": "Enter a number of days."},
    )
    quote_terms = forms.CharField(label="Quote terms", required=False, help_text="Printed on every new quote.",
                                  widget=forms.Textarea(attrs={"rows": 4}))
    default_team_id = forms.ChoiceField(
        label="Default team", required=False,
        help_text="New leads no assignment rule matches go round-robin to its members.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_team_id"].choices = [("", "No default team")] + [
            (str(t.pk), t.name) for t in Team.objects.order_by("name")
        ]


class RateForm(AdminForm):
    currency = forms.CharField(label="Currency", max_length=3, error_messages={"required": "Enter a currency code such as EUR."},
                               widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono", "size": 4}))
    rate = forms.CharField(label="Rate", error_messages={"required": "Enter a rate such as 1.0825."},
                           widget=_decimal_input())


def _settings_page(request, *, form=None, rate_form=None, rate_errors=None, status=200):
    row = SalesSettings.get()
    form = form or SalesSettingsForm(initial={
        "default_currency": row.default_currency, "first_response_minutes": row.first_response_minutes,
        "quote_validity_days": row.quote_validity_days, "quote_terms": row.quote_terms,
        "default_team_id": str(row.default_team_id or ""),
    })
    rates = list(ExchangeRate.objects.order_by("currency"))
    return render_admin(request, "sales/admin/settings.html", {
        "form": form, "rate_form": rate_form or RateForm(prefix="rate"), "rates": rates,
        "default_currency": row.default_currency, "rate_errors": rate_errors or {},
    }, section="web:sales_settings", status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sales_settings(request):
    _require_admin(request.user)
    if request.method == "POST":
        form = SalesSettingsForm(request.POST)
        if form.is_valid():
            try:
                settings_services.update_sales_settings(actor=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, "Sales settings were saved.")
                return redirect("web:sales_settings")
        return _settings_page(request, form=form, status=400)
    return _settings_page(request)


@login_required
@require_POST
def rate_save(request):
    """Add a rate (prefix "rate") or change one in the table (prefix "rate-<CUR>")."""
    _require_admin(request.user)
    currency = request.POST.get("edit", "")
    if currency:
        form = RateForm({"rate-currency": currency, "rate-rate": request.POST.get(f"rate-{currency}", "")},
                        prefix="rate")
    else:
        form = RateForm(request.POST, prefix="rate")
    if form.is_valid():
        try:
            row = settings_services.set_exchange_rate(actor=request.user, currency=form.cleaned_data["currency"],
                                                      rate=form.cleaned_data["rate"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            n = row.deals_recomputed
            extra = f" {n} open deal{'s' if n != 1 else ''} recomputed." if n else ""
            messages.success(request, f"1 {row.currency} = {row.rate.normalize():f} "
                                      f"{SalesSettings.get().default_currency}.{extra}")
            return redirect(f"{reverse('web:sales_settings')}#rates")
    if currency:
        errors = {currency: [e for errs in form.errors.values() for e in errs]}
        return _settings_page(request, rate_errors=errors, status=400)
    return _settings_page(request, rate_form=form, status=400)


@login_required
@require_POST
def rate_delete(request, currency: str):
    _require_admin(request.user)
    try:
        settings_services.delete_exchange_rate(actor=request.user, currency=currency)
    except ValidationError as exc:
        return _settings_page(request, rate_errors={currency.upper(): exc.messages}, status=400)
    messages.success(request, f"The {currency.upper()} rate was removed.")
    return redirect(f"{reverse('web:sales_settings')}#rates")


# --- quotas --------------------------------------------------------------------------------------------------------


def _period_columns(kind: str, first: dt.date) -> list[dict[str, Any]]:
    from ..services.forecast import Period

    count = 4 if kind == PeriodKind.QUARTER else 6
    cols = []
    for i in range(count):
        start = quota_services.add_periods(first, kind, i)
        per = Period(kind, start, quota_services.add_periods(start, kind, 1))
        cols.append({"start": start, "label": per.label, "key": per.key})
    return cols


def _quota_users():
    return list(User.objects.filter(is_active=True).exclude(role=Role.VIEWER).order_by("full_name", "email"))


@login_required
@require_http_methods(["GET", "POST"])
def quota_list(request):
    """A grid: people × the next 4 quarters (or 6 months). Empty cells have no quota; clearing a cell removes it."""
    require_settings(request.user)
    kind = request.POST.get("kind") or request.GET.get("kind") or PeriodKind.QUARTER
    if kind not in PeriodKind.values:
        kind = PeriodKind.QUARTER
    this = quota_services.period_start_of(timezone.localdate(), kind)
    try:
        offset = int(request.POST.get("offset") or request.GET.get("offset") or 0)
    except ValueError:
        offset = 0
    offset = max(-40, min(40, offset))
    step = 4 if kind == PeriodKind.QUARTER else 6
    first = quota_services.add_periods(this, kind, offset * step)
    columns = _period_columns(kind, first)
    users = _quota_users()
    starts = [c["start"] for c in columns]
    existing = {(q.user_id, q.period_start): q for q in
                Quota.objects.filter(period_kind=kind, period_start__in=starts, user__in=users)}
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        changed = 0
        for user in users:
            for col in columns:
                name = f"q-{user.pk}-{col['start'].isoformat()}"
                if name not in request.POST:
                    continue
                raw = request.POST.get(name, "").strip()
                values[name] = raw
                current = existing.get((user.pk, col["start"]))
                if raw == "":
                    if current is not None:
                        quota_services.delete_quota(actor=request.user, quota=current)
                        changed += 1
                    continue
                try:
                    amount = money.parse(raw, field="amount")
                except ValueError as exc:
                    errors[name] = str(exc)
                    continue
                if current is not None and current.amount == amount:
                    continue
                try:
                    quota_services.set_quota(actor=request.user, user=user, period_kind=kind,
                                             period_start=col["start"], amount=amount)
                    changed += 1
                except ValidationError as exc:
                    errors[name] = " ".join(exc.messages)
        if not errors:
            messages.success(request, f"Quotas saved ({changed} changed)." if changed else "No quota changed.")
            return redirect(url_with(reverse("web:quota_list"), request.GET, kind=kind, offset=offset or None))
        existing = {(q.user_id, q.period_start): q for q in
                    Quota.objects.filter(period_kind=kind, period_start__in=starts, user__in=users)}
    grid = []
    for user in users:
        cells = []
        for col in columns:
            name = f"q-{user.pk}-{col['start'].isoformat()}"
            q = existing.get((user.pk, col["start"]))
            value = values.get(name, f"{q.amount:f}" if q is not None else "")
            cells.append({"name": name, "value": value, "error": errors.get(name, ""), "label": col["label"]})
        grid.append({"user": user, "cells": cells})
    summary = []
    if errors:
        by_name = {c["name"]: (row["user"], c) for row in grid for c in row["cells"]}
        summary = [(name, f"{by_name[name][0].display_name}, {by_name[name][1]['label']}", msg)
                   for name, msg in errors.items() if name in by_name]
    base = reverse("web:quota_list")
    return render_admin(request, "sales/admin/quotas.html", {
        "kind": kind, "columns": columns, "grid": grid, "errors": summary, "offset": offset,
        "currency": SalesSettings.get().default_currency,
        "prev_url": url_with(base, request.GET, kind=kind, offset=offset - 1),
        "next_url": url_with(base, request.GET, kind=kind, offset=offset + 1),
        "today_url": url_with(base, request.GET, kind=kind, offset=None),
        "quarter_url": url_with(base, request.GET, kind=PeriodKind.QUARTER, offset=None),
        "month_url": url_with(base, request.GET, kind=PeriodKind.MONTH, offset=None),
    }, section="web:quota_list", status=400 if errors else 200)
