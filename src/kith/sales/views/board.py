"""The deal board (a kanban per pipeline) and the deal list.

The board shows one column per stage. Each column loads its first cards (newest activity first, keyset
on (updated_at, id) within the stage, served by the deal_board_idx index) and more on demand; the
column headers' count, total and weighted total come from one GROUP BY stage query over the same
filtered deals, in the workspace's default currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from kith.contacts.models import Company
from kith.core import customfields
from kith.core.pagination import Ordering, encode_cursor, paginate
from kith.core.permissions import visible
from kith.web.ui import (
    Column,
    FilterField,
    ListSpec,
    _param,
    clean_params,
    custom_filter_fields,
    date_filter_fields,
    is_fragment_request,
    list_page,
    owner_options,
    tag_names,
    url_with,
    vary_htmx,
)

from .. import money
from ..choices import StageKind
from ..filtersets import DealFilterSet
from ..models import Deal, Pipeline, SalesSettings, Stage
from ..services import ensure_default_pipeline
from .board_cards import CardRenderer

BOARD_PAGE = 25
BOARD_ORDERING = Ordering("updated_at", ("updated_at",))
# Filters of the board: the list's, minus those the board itself decides (pipeline, stage, status) and
# those joining to many rows (contact), which would count a deal twice in the column totals.
BOARD_EXCLUDED = {"pipeline", "stage", "status", "contact"}
NON_FILTER_PARAMS = {"column", "cursor", "ordering"}


# --- filters --------------------------------------------------------------------------------------------


def board_params(params: QueryDict) -> QueryDict:
    """The board's filter parameters, without empty values or paging."""
    return clean_params(params, **dict.fromkeys(BOARD_EXCLUDED | NON_FILTER_PARAMS))


def _company_field(request: HttpRequest, params: QueryDict) -> FilterField:
    value = _param(params, "company")
    options: list[tuple[str, str]] = [("none", "No company")]
    if value.isdigit():
        company = visible(Company, request.user).filter(pk=int(value)).first()
        if company is not None:
            options.append((str(company.pk), company.name))
    return FilterField("company", "Company", "combobox", value, options=options,
                       lookup_url=reverse("web:company_lookup"))


def board_filter_fields(request: HttpRequest, params: QueryDict, defs) -> list[FilterField]:
    currency = SalesSettings.get().default_currency
    fields = [
        FilterField("owner", "Owner", "select", _param(params, "owner"), options=owner_options()),
        _company_field(request, params),
        FilterField("tag", "Tag", "text", _param(params, "tag"), datalist=tag_names()),
        FilterField("commit", "Commit", "select", _param(params, "commit"),
                    options=[("true", "Committed"), ("false", "Not committed")]),
        FilterField("close_after", "Expected close from", "date", _param(params, "close_after"), group="Close and amount"),
        FilterField("close_before", "Expected close until", "date", _param(params, "close_before"),
                    group="Close and amount"),
        FilterField("amount_min", f"Amount at least ({currency})", "number", _param(params, "amount_min"),
                    group="Close and amount"),
        FilterField("amount_max", f"Amount at most ({currency})", "number", _param(params, "amount_max"),
                    group="Close and amount"),
        *date_filter_fields(params),
    ]
    return fields + custom_filter_fields("deal", params, defs)


def list_filter_fields(request: HttpRequest, params: QueryDict, defs) -> list[FilterField]:
    pipelines = [(str(p.pk), p.name) for p in Pipeline.objects.order_by("position", "id")]
    fields = board_filter_fields(request, params, defs)
    extra = [
        FilterField("pipeline", "Pipeline", "select", _param(params, "pipeline"), options=pipelines),
        FilterField("status", "Status", "select", _param(params, "status"), options=list(StageKind.choices)),
    ]
    return extra + fields


def filter_errors(errors: dict[str, list[str]], fields: list[FilterField]) -> list[dict[str, Any]]:
    labels = {f.name: f.label for f in fields}
    labels.update({"cursor": "Page", "q": "Search", "column": "Column"})
    return [{"label": labels.get(k, k), "messages": v, "param": k} for k, v in errors.items()]


def active_filter_chips(fs: DealFilterSet, fields: list[FilterField], path: str, params: QueryDict):
    by_name = {f.name: f for f in fields}
    chips = []
    for name, values in fs.active().items():
        f = by_name.get(name)
        label = f.label if f else name
        opts = dict(f.options) if f else {}
        chips.append({
            "label": label,
            "value": ", ".join(opts.get(v, v) for v in values),
            "remove_url": url_with(path, params, **{name: None}),
        })
    return chips


# --- column data ----------------------------------------------------------------------------------------


def filtered_deals(user, pipeline: Pipeline, params: QueryDict):
    """Visible, live deals of the pipeline narrowed by the board's filters (ValidationError on bad ones)."""
    qs = visible(Deal, user).filter(pipeline=pipeline)
    return DealFilterSet(params, user).apply(qs)


def column_stats(qs, stages: list[Stage], currency: str) -> dict[int, dict[str, Any]]:
    """Count, total and weighted total per stage, from one aggregate query."""
    rows = {
        r["stage_id"]: r
        for r in qs.filter(stage__in=[s.pk for s in stages]).order_by()
        .values("stage_id").annotate(n=Count("id"), total=Sum("amount_default"))
    }
    out = {}
    for s in stages:
        r = rows.get(s.pk) or {}
        n = r.get("n") or 0
        total = money.q(Decimal(r.get("total") or 0))
        weighted = money.weighted(total, s.probability)
        out[s.pk] = {
            "count": n,
            "count_label": f"{n:,} deal{'' if n == 1 else 's'}",
            "total": total,
            "weighted": weighted,
            "total_label": money.fmt(total, currency),
            "weighted_label": money.fmt(weighted, currency),
        }
    return out


# The columns a card shows (plus the keyset's): no custom fields, notes or company address per card.
CARD_FIELDS = ("id", "name", "amount", "currency", "expected_close_date", "stage_id", "updated_at",
               "owner__email", "owner__full_name", "company__name")


def column_cards(qs, stage: Stage, cursor: str | None):
    """One page of a column's cards (keyset on (updated_at, id) within the stage: deal_board_idx)."""
    rows, next_cursor = paginate(_card_query(qs, stage), ordering=BOARD_ORDERING, descending=True, cursor=cursor, limit=BOARD_PAGE)
    for d in rows:  # the column's stage, without joining it per row
        d.stage = stage
    return rows, next_cursor


def _card_query(qs, stage: Stage):
    return qs.filter(stage=stage).select_related("company", "owner").only(*CARD_FIELDS)


def first_cards(qs, stages: list[Stage]) -> dict[int, tuple[list[Deal], str | None]]:
    """The first page of every column: (cards, next cursor) per stage id, as column_cards(qs, s, None) gives.

    Where the database takes LIMIT inside UNION ALL (PostgreSQL), that is one query of one index range
    per stage instead of one round trip per column; elsewhere (SQLite, in-process) one query per column.
    """
    if len(stages) < 2 or not connections[qs.db].features.supports_slicing_ordering_in_compound:
        return {s.pk: column_cards(qs, s, None) for s in stages}
    parts = [_card_query(qs, s).order_by("-updated_at", "-id")[: BOARD_PAGE + 1] for s in stages]
    by_stage: dict[int, list[Deal]] = {s.pk: [] for s in stages}
    for d in parts[0].union(*parts[1:], all=True):
        by_stage[d.stage_id].append(d)
    out = {}
    for s in stages:
        rows = sorted(by_stage[s.pk], key=lambda d: (d.updated_at, d.pk), reverse=True)
        next_cursor = None
        if len(rows) > BOARD_PAGE:
            rows = rows[:BOARD_PAGE]
            next_cursor = encode_cursor([rows[-1].updated_at, rows[-1].pk])  # as paginate() encodes it
        for d in rows:
            d.stage = s
        out[s.pk] = (rows, next_cursor)
    return out


def open_totals(stats: dict[int, dict[str, Any]], stages: list[Stage], currency: str) -> dict[str, Any]:
    """The board's summary: open deals, their total and weighted total."""
    open_ids = [s.pk for s in stages if s.is_open]
    count = sum(stats[i]["count"] for i in open_ids)
    return {
        "count": count,
        "count_label": f"{count:,} open deal{'' if count == 1 else 's'}",
        "total": money.fmt(sum((stats[i]["total"] for i in open_ids), Decimal("0")), currency),
        "weighted": money.fmt(sum((stats[i]["weighted"] for i in open_ids), Decimal("0")), currency),
    }


# --- views ----------------------------------------------------------------------------------------------


def _card_renderer(request: HttpRequest, board_url: str) -> CardRenderer:
    can_write = request.user.can_write
    return CardRenderer(can_write=can_write, csrf_token=get_token(request) if can_write else "", board_url=board_url)


@dataclass
class BoardColumn:
    stage: Stage
    stats: dict[str, Any]
    cards: list[Deal] = field(default_factory=list)
    next_url: str = ""
    continued: bool = False
    stages: list[Stage] = field(default_factory=list)
    cards_html: str = ""

    @cached_property
    def move_options(self) -> str:
        """The <option>s of the cards' "Move to…" select, this column's stage selected (built once per column)."""
        return format_html_join(
            "", '<option value="{}" data-kind="{}"{}>{}</option>',
            ((s.pk, s.kind, mark_safe(" selected") if s.pk == self.stage.pk else "", s.name)
             for s in self.stages),
        )


@login_required
@require_GET
def deal_board_default(request):
    """/deals/: the first pipeline's board (or ?pipeline=<id>'s), keeping the filters."""
    pipeline = None
    wanted = _param(request.GET, "pipeline")
    if wanted.isdigit():
        pipeline = Pipeline.objects.filter(pk=int(wanted)).first()
    if pipeline is None:
        pipeline = Pipeline.objects.order_by("position", "id").first() or ensure_default_pipeline()
    params = board_params(request.GET)
    return redirect(url_with(reverse("web:deal_board", args=[pipeline.pk]), params))


def _board_context(request: HttpRequest, pipeline: Pipeline) -> tuple[dict[str, Any], int]:
    user = request.user
    params = board_params(request.GET)
    path = request.path
    board_url = url_with(path, params)
    renderer = _card_renderer(request, board_url)
    currency = SalesSettings.get().default_currency
    stages = list(pipeline.stages.order_by("position", "id"))
    defs = customfields.definitions("deal")
    fields = board_filter_fields(request, params, defs)
    fs = DealFilterSet(params, user)
    errors: dict[str, list[str]] = {}
    column = _param(request.GET, "column")
    cursor = _param(request.GET, "cursor") or None
    columns: list[BoardColumn] = []
    try:
        qs = fs.apply(visible(Deal, user).filter(pipeline=pipeline))
        stats = column_stats(qs, stages, currency)
        # A "continued" column (its cursor in the URL, without JS) pages on its own; the others start at the top.
        firsts = first_cards(qs, [s for s in stages if not (cursor and column == str(s.pk))])
        for s in stages:
            col_cursor = cursor if column == str(s.pk) else None
            cards, next_cursor = column_cards(qs, s, col_cursor) if col_cursor else firsts[s.pk]
            col = BoardColumn(stage=s, stats=stats[s.pk], cards=cards, continued=bool(col_cursor), stages=stages)
            col.cards_html = renderer.cards(cards, col.move_options, s.is_open)
            if next_cursor:
                col.next_url = url_with(path, params, column=s.pk, cursor=next_cursor)
            columns.append(col)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        empty = column_stats(Deal.objects.none(), stages, currency)
        columns = [BoardColumn(stage=s, stats=empty[s.pk], stages=stages) for s in stages]
    totals = open_totals({c.stage.pk: c.stats for c in columns}, stages, currency)
    chips = active_filter_chips(fs, fields, path, params)
    q = _param(params, "q")
    ctx = {
        "pipeline": pipeline,
        "pipelines": list(Pipeline.objects.order_by("position", "id")),
        "stages": stages,
        "columns": columns,
        "open_totals": totals,
        "currency": currency,
        "filter_fields": fields,
        "active_filters": chips,
        "errors": filter_errors(errors, fields),
        "q": q,
        "has_query": bool(q or chips),
        "clear_url": path,
        "spec": {"noun_plural": "deals"},
        "board_url": board_url,
        "filter_query": params.urlencode(),
        "list_url": url_with(reverse("web:deal_list"), params, pipeline=pipeline.pk),
        "can_write": user.can_write,
        "create_url": reverse("web:deal_create") + f"?pipeline={pipeline.pk}",
        "nav_section": "deals",
        "fragment": is_fragment_request(request),
        # Export (kith.exports): the deals the board shows, i.e. this pipeline with the board's filters.
        "export_kind": "deals",
        "export_pipeline": pipeline,
    }
    return ctx, 400 if errors else 200


@login_required
@require_GET
def deal_board(request, pk: int):
    pipeline = Pipeline.objects.filter(pk=pk).first()
    if pipeline is None:
        raise Http404("No such pipeline.")
    column = _param(request.GET, "column")
    if is_fragment_request(request) and column and _param(request.GET, "cursor"):
        # "Load more" in one column: only that column's next cards.
        stage = pipeline.stages.filter(pk=int(column)).first() if column.isdigit() else None
        if stage is None:
            raise Http404("No such stage on this board.")
        params = board_params(request.GET)
        try:
            qs = filtered_deals(request.user, pipeline, params)
            cards, next_cursor = column_cards(qs, stage, _param(request.GET, "cursor"))
        except ValidationError as exc:
            return vary_htmx(render(request, "sales/deals/_board_error.html",
                                    {"messages_list": exc.messages}, status=400))
        stages = list(pipeline.stages.order_by("position", "id"))
        col = BoardColumn(stage=stage, stats={}, cards=cards, stages=stages)
        board_url = url_with(request.path, params)
        col.cards_html = _card_renderer(request, board_url).cards(cards, col.move_options, stage.is_open)
        if next_cursor:
            col.next_url = url_with(request.path, params, column=stage.pk, cursor=next_cursor)
        ctx = {"col": col, "stages": stages, "can_write": request.user.can_write, "board_url": board_url}
        return vary_htmx(render(request, "sales/deals/_column_cards.html", ctx))
    ctx, status = _board_context(request, pipeline)
    template = "sales/deals/_board.html" if ctx["fragment"] else "sales/deals/board.html"
    return vary_htmx(render(request, template, ctx, status=status))


DEAL_LIST = ListSpec(
    model=Deal,
    filterset=DealFilterSet,
    columns=[
        Column("Name", "name", "col-name"),
        Column("Company"),
        Column("Amount", "amount", "col-num"),
        Column("Stage", "stage"),
        Column("Expected close", "expected_close_date", "col-date"),
        Column("Owner", "owner"),
        Column("Updated", "updated_at", "col-date"),
    ],
    select_related=("company", "owner", "stage", "pipeline"),
    noun="deal",
    noun_plural="deals",
    url_name="web:deal_list",
    page_template="sales/deals/list.html",
    results_template="sales/deals/_results.html",
    rows_template="sales/deals/_rows.html",
    filter_fields=list_filter_fields,
)


@login_required
@require_GET
def deal_list(request):
    return list_page(request, DEAL_LIST)
