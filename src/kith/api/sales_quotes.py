"""/api/v1/quotes: numbered quotes of a deal's line items, their status, and the quote as a PDF.

A quote is visible to whoever can see its deal (live deals only); writing needs write access to the deal.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from kith.core import permissions
from kith.core.errors import ValidationError
from kith.core.pagination import Ordering
from kith.sales import services
from kith.sales.choices import QuoteStatus
from kith.sales.models import Deal, Quote
from kith.sales.pdf import pdf_filename, render_quote_pdf

from . import common, errors
from .auth import write_auth
from .sales_schemas import QuoteIn, QuoteOut, QuotePage, QuoteStatusIn, quote_dict
from .schemas import with_errors

router = Router(tags=["quotes"])
CREATED_ORDERING = Ordering("created_at", ("created_at",))
PDF_RESPONSE = {
    "description": "The quote as a PDF file.",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
}


def _quotes(user):
    return Quote.objects.filter(deal__in=permissions.visible(Deal, user).values("pk")).prefetch_related("lines")


def _quote(user, pk: int) -> Quote:
    return _quotes(user).get(pk=pk)


@router.get("", response=with_errors({200: QuotePage}, errors.LIST), operation_id="list_quotes",
            summary="List quotes", description="Newest first. Follow `next_cursor` for the next page.")
def list_quotes(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    deal: int | None = Query(None, description="Only the quotes of this deal (id)."),
    status: str | None = Query(None, description="draft, sent, accepted or declined"),
):
    qs = _quotes(request.auth)
    if deal is not None:
        qs = qs.filter(deal_id=deal)
    if status:
        if status not in QuoteStatus.values:
            raise ValidationError({"status": [f"Use one of: {', '.join(QuoteStatus.values)}."]})
        qs = qs.filter(status=status)
    rows, next_cursor = common.page(qs, ordering=CREATED_ORDERING, descending=True, cursor=cursor, limit=limit)
    return {"items": [quote_dict(q) for q in rows], "next_cursor": next_cursor}


@router.post("", response=with_errors({201: QuoteOut}, errors.CREATE), operation_id="create_quote",
             summary="Create a quote of a deal",
             description="A draft with a copy of the deal's line items (later changes to the deal do not alter "
             "it), per-line tax and the next number of the year. The deal needs at least one line item.",
             auth=write_auth)
def create_quote(request: HttpRequest, payload: QuoteIn, response: HttpResponse):
    user = request.auth
    data = payload.model_dump(exclude_unset=True)
    deal = permissions.visible(Deal, user).filter(pk=data["deal_id"]).first()
    if deal is None:
        raise ValidationError({"deal_id": [f"No deal with id {data['deal_id']}."]})
    quote = services.create_quote(actor=user, deal=deal, valid_until=data.get("valid_until"),
                                  terms=data.get("terms"))
    quote = _quote(user, quote.pk)
    common.set_record_headers(response, quote, f"/api/v1/quotes/{quote.pk}")
    return Status(201, quote_dict(quote))


@router.get("/{int:id}", response=with_errors({200: QuoteOut}, errors.READ), operation_id="get_quote",
            summary="Get a quote", description="The ETag header carries the version, for If-Match.")
def get_quote(request: HttpRequest, id: int, response: HttpResponse):
    quote = _quote(request.auth, id)
    common.set_record_headers(response, quote)
    return quote_dict(quote)


@router.post("/{int:id}/status", response=with_errors({200: QuoteOut}, errors.UPDATE),
             operation_id="set_quote_status", summary="Mark a quote sent, accepted or declined",
             description="draft → sent → accepted or declined; anything else is 422 naming status. With "
             "`move_deal_to_won`, accepting also moves the deal to its pipeline's first won stage. Honours "
             "If-Match or `version` (409 when stale).", auth=write_auth)
def set_quote_status(request: HttpRequest, id: int, payload: QuoteStatusIn, response: HttpResponse):
    user = request.auth
    quote = _quote(user, id)
    data = payload.model_dump(exclude_unset=True)
    services.set_quote_status(
        actor=user, quote=quote, status=data["status"], move_deal_to_won=data.get("move_deal_to_won", False),
        expected_version=common.expected_version(request, quote, data.get("version")),
    )
    quote = _quote(user, id)
    common.set_record_headers(response, quote)
    return quote_dict(quote)


@router.get("/{int:id}/pdf", response=with_errors({200: None}, errors.READ), operation_id="get_quote_pdf",
            summary="A quote as a PDF", openapi_extra={"responses": {200: PDF_RESPONSE}})
def quote_pdf(request: HttpRequest, id: int):
    quote = _quotes(request.auth).select_related("deal", "deal__company").get(pk=id)
    response = HttpResponse(render_quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf_filename(quote)}"'
    return response
