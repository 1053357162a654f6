"""Quote pages: create from a deal, the printable quote with its status buttons, and its PDF."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.errors import ConflictError, ValidationError
from kith.core.permissions import require_write, visible
from kith.web.forms_settings import SettingsForm

from ..choices import QuoteStatus
from ..models import Deal, Quote, SalesSettings
from ..pdf import document_for, pdf_filename, render_quote_pdf
from ..services import quotes as quote_services


class QuoteForm(SettingsForm):
    valid_until = forms.DateField(
        label="Valid until", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Enter the last day the quote is valid.", "invalid": "Enter a date as YYYY-MM-DD."},
    )
    terms = forms.CharField(label="Terms", required=False, widget=forms.Textarea(attrs={"rows": 5}),
                            help_text="Printed at the end of the quote.")


def _visible_deal(request, pk: int) -> Deal:
    deal = visible(Deal, request.user).select_related("company", "pipeline", "stage").filter(pk=pk).first()
    if deal is None:
        raise Http404("No such deal.")
    return deal


def _visible_quote(request, pk: int) -> Quote:
    quote = Quote.objects.select_related("deal", "deal__company", "deal__pipeline", "deal__stage", "created_by") \
        .filter(pk=pk).first()
    if quote is None or not visible(Deal.all_objects.filter(pk=quote.deal_id), request.user).exists():
        raise Http404("No such quote.")
    return quote


@login_required
@require_http_methods(["GET", "POST"])
def quote_create(request, deal: int):
    deal_obj = _visible_deal(request, deal)
    require_write(request.user, deal_obj)
    settings_row = SalesSettings.get()
    status = 200
    if request.method == "POST":
        form = QuoteForm(request.POST)
        if form.is_valid():
            try:
                quote = quote_services.create_quote(actor=request.user, deal=deal_obj,
                                                    valid_until=form.cleaned_data["valid_until"],
                                                    terms=form.cleaned_data["terms"])
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Quote {quote.number} was created.")
                return redirect(quote.get_absolute_url())
        status = 400
    else:
        form = QuoteForm(initial={
            "valid_until": timezone.localdate() + dt.timedelta(days=settings_row.quote_validity_days),
            "terms": settings_row.quote_terms,
        })
    lines, totals = quote_services.quote_lines_preview(deal_obj)
    return render(request, "sales/quotes/create.html", {
        "deal": deal_obj, "form": form, "lines": lines, "totals": totals,
        "item_errors": form.errors.get("items", []) if form.is_bound else [],
    }, status=status)


@login_required
@require_GET
def quote_detail(request, pk: int):
    quote = _visible_quote(request, pk)
    doc = document_for(quote)
    can_write = request.user.can_write
    allowed = quote_services.TRANSITIONS[quote.status] if can_write else ()
    return render(request, "sales/quotes/detail.html", {
        "quote": quote, "doc": doc, "deal": quote.deal,
        "can_send": QuoteStatus.SENT in allowed,
        "can_decide": QuoteStatus.ACCEPTED in allowed,
        "deal_is_won": quote.deal.stage.kind == "won",
        "has_won_stage": quote_services.won_stage_for(quote.deal) is not None,
        "expired": quote.valid_until < timezone.localdate() and quote.status in (QuoteStatus.DRAFT, QuoteStatus.SENT),
    })


@login_required
@require_POST
def quote_status(request, pk: int):
    quote = _visible_quote(request, pk)
    require_write(request.user, quote.deal)
    status = request.POST.get("status", "")
    move = request.POST.get("move_deal_to_won") in ("on", "true", "1") and status == QuoteStatus.ACCEPTED
    version = request.POST.get("version")
    try:
        quote = quote_services.set_quote_status(
            actor=request.user, quote=quote, status=status, move_deal_to_won=move,
            expected_version=int(version) if version and version.isdigit() else None,
        )
    except (ValidationError, ConflictError) as exc:
        text = exc.message if isinstance(exc, ConflictError) else " ".join(exc.messages)
        messages.error(request, text)
        return redirect(quote.get_absolute_url())
    done = {QuoteStatus.SENT: "marked as sent", QuoteStatus.ACCEPTED: "marked as accepted",
            QuoteStatus.DECLINED: "marked as declined"}[quote.status]
    extra = " The deal was marked won." if move else ""
    messages.success(request, f"Quote {quote.number} was {done}.{extra}")
    return redirect(quote.get_absolute_url())


@login_required
@require_GET
def quote_pdf(request, pk: int):
    quote = _visible_quote(request, pk)
    data = render_quote_pdf(quote)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(quote)}"'
    response["Cache-Control"] = "private, no-store"
    return response
