"""Quotes as PDF files, drawn with fpdf2 (pure Python).

Text is set in Roboto, a TrueType font shipped by the font-roboto package (Apache 2.0; Latin, Greek,
Cyrillic, Vietnamese), embedded as a subset, so names such as “Łukasz Żółć” or “Дмитрий” print as typed on
any machine. Characters the font lacks (Chinese, Arabic, emoji …) are replaced by their closest plain form, or
“?”, rather than failing. Without font-roboto the PDF falls back to the PDF core font Helvetica and Latin-1.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from . import money
from .models import Quote

PAGE_MARGIN = 18  # mm
INK = (27, 34, 48)
MUTED = (95, 107, 124)
RULE = (214, 219, 225)
ACCENT = (67, 56, 202)
SOFT = (246, 247, 249)


def workspace_name() -> str:
    return str(getattr(settings, "KITH_WORKSPACE_NAME", "") or "Kith")


@dataclass
class QuoteDocument:
    """Everything a printed quote shows, shared by the HTML page and the PDF."""

    quote: Quote
    seller: str
    customer_company: str = ""
    customer_address: list[str] = field(default_factory=list)
    customer_contact: str = ""
    customer_email: str = ""
    lines: list[dict[str, Any]] = field(default_factory=list)
    tax_rows: list[tuple[Decimal, Decimal]] = field(default_factory=list)  # (rate %, tax)

    @property
    def has_discounts(self) -> bool:
        return any(line["discount_pct"] for line in self.lines)


def document_for(quote: Quote) -> QuoteDocument:
    deal = quote.deal
    doc = QuoteDocument(quote=quote, seller=workspace_name())
    if deal.company_id and deal.company is not None:
        doc.customer_company = deal.company.name
        doc.customer_address = deal.company.address_lines
    contact = next((dc.contact for dc in deal.deal_contacts.select_related("contact") if dc.is_primary), None)
    if contact is not None and contact.deleted_at is None:
        doc.customer_contact = str(contact)
        doc.customer_email = contact.email
    taxes: dict[Decimal, Decimal] = {}
    for line in quote.lines.all():
        tax = money.tax(line.total, line.tax_rate)
        doc.lines.append({
            "name": line.name, "sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price,
            "discount_pct": line.discount_pct, "tax_rate": line.tax_rate, "tax": tax, "total": line.total,
        })
        if line.tax_rate:
            taxes[line.tax_rate] = taxes.get(line.tax_rate, Decimal("0.00")) + tax
    doc.tax_rows = sorted(taxes.items())
    return doc


def qty(value: Decimal) -> str:
    """A quantity without needless decimals: 3, 2.5, 0.25."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def pct(value: Decimal) -> str:
    return qty(value) + "%"


# --- fonts ------------------------------------------------------------------------------------------------


@functools.cache
def _roboto() -> dict[str, str] | None:
    try:
        import font_roboto
    except ImportError:
        return None
    regular, bold = getattr(font_roboto, "Roboto", None), getattr(font_roboto, "RobotoBold", None)
    if not regular or not bold:
        return None
    return {"": regular, "B": bold}


@functools.cache
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


class _Text:
    """Makes text printable in the chosen font."""

    def __init__(self, codepoints: frozenset[int] | None):
        self.codepoints = codepoints

    def _ok(self, ch: str) -> bool:
        if self.codepoints is None:
            return ord(ch) < 256
        return ord(ch) in self.codepoints

    def __call__(self, value: Any) -> str:
        out = []
        for ch in str(value if value is not None else ""):
            if ch in "\r\t":
                out.append(" ")
            elif ch == "\n" or self._ok(ch):
                out.append(ch)
            else:
                plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if self._ok(c) and not unicodedata.combining(c))
                replacements = {"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "€": "EUR"}
                out.append(plain or replacements.get(ch, "?"))
        return "".join(out)


# --- drawing ----------------------------------------------------------------------------------------------


def render_quote_pdf(quote: Quote) -> bytes:
    from fpdf import FPDF

    doc = document_for(quote)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
    pdf.set_auto_page_break(auto=True, margin=PAGE_MARGIN + 8)
    fonts = _roboto()
    if fonts:
        for style, path in fonts.items():
            pdf.add_font("Roboto", style, path)
        family = "Roboto"
        text = _Text(_cmap(fonts[""]))
    else:
        family = "Helvetica"
        text = _Text(None)
    pdf.set_title(f"Quote {quote.number}")
    pdf.set_author(text(doc.seller))
    pdf.set_subject(text(f"Quote {quote.number} for {doc.customer_company or quote.deal.name}"))
    pdf.set_creator("Kith")
    pdf.set_creation_date(quote.created_at)
    currency = quote.currency
    width = pdf.w - 2 * PAGE_MARGIN

    def footer():
        pdf.set_y(-PAGE_MARGIN)
        pdf.set_font(family, "", 8)
        pdf.set_text_color(*MUTED)
        pdf.cell(width / 2, 5, text(f"{doc.seller} · Quote {quote.number}"))
        pdf.cell(width / 2, 5, f"Page {pdf.page_no()} of {{nb}}", align="R")

    pdf.footer = footer  # type: ignore[method-assign]
    pdf.alias_nb_pages()
    pdf.add_page()

    # Header: seller on the left, QUOTE and its number on the right.
    pdf.set_text_color(*INK)
    pdf.set_font(family, "B", 16)
    pdf.cell(width * 0.6, 9, text(doc.seller))
    pdf.set_font(family, "B", 20)
    pdf.set_text_color(*ACCENT)
    pdf.cell(width * 0.4, 9, "QUOTE", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.set_text_color(*MUTED)
    pdf.cell(width * 0.6, 6, "")
    pdf.set_text_color(*INK)
    pdf.set_font(family, "B", 11)
    pdf.cell(width * 0.4, 6, quote.number, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_draw_color(*RULE)
    pdf.line(PAGE_MARGIN, pdf.get_y(), PAGE_MARGIN + width, pdf.get_y())
    pdf.ln(5)

    # Customer block and the quote's facts side by side.
    top = pdf.get_y()
    pdf.set_font(family, "B", 8)
    pdf.set_text_color(*MUTED)
    pdf.cell(width * 0.55, 5, "PREPARED FOR", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font(family, "B", 11)
    customer = doc.customer_company or doc.customer_contact or quote.deal.name
    pdf.multi_cell(width * 0.55, 5.5, text(customer), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9.5)
    for line in doc.customer_address:
        pdf.multi_cell(width * 0.55, 4.8, text(line), align="L", new_x="LMARGIN", new_y="NEXT")
    if doc.customer_company and doc.customer_contact:
        pdf.multi_cell(width * 0.55, 4.8, text(f"Attn. {doc.customer_contact}"), align="L", new_x="LMARGIN", new_y="NEXT")
    if doc.customer_email:
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(width * 0.55, 4.8, text(doc.customer_email), align="L", new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()

    facts = [
        ("Quote number", quote.number),
        ("Date", quote.created_at.astimezone(timezone.get_current_timezone()).date().isoformat()),
        ("Valid until", quote.valid_until.isoformat()),
        ("Status", quote.get_status_display()),
        ("Deal", quote.deal.name),
    ]
    x = PAGE_MARGIN + width * 0.6
    pdf.set_y(top)
    for label, value in facts:
        pdf.set_x(x)
        pdf.set_font(family, "", 9)
        pdf.set_text_color(*MUTED)
        pdf.cell(width * 0.17, 5.2, label)
        pdf.set_font(family, "B", 9)
        pdf.set_text_color(*INK)
        pdf.multi_cell(width * 0.23, 5.2, text(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_bottom, pdf.get_y()) + 8)

    # Lines.
    cols = [("Item", 0.40, "L"), ("Qty", 0.09, "R"), ("Unit price", 0.16, "R"), ("Disc.", 0.08, "R"),
            ("Tax", 0.09, "R"), ("Amount", 0.18, "R")]
    if not doc.has_discounts:
        cols = [("Item", 0.48, "L"), ("Qty", 0.09, "R"), ("Unit price", 0.16, "R"), ("Tax", 0.09, "R"),
                ("Amount", 0.18, "R")]

    def header_row():
        pdf.set_fill_color(*SOFT)
        pdf.set_font(family, "B", 8.5)
        pdf.set_text_color(*MUTED)
        for label, share, align in cols:
            pdf.cell(width * share, 7, label.upper(), align=align, fill=True)
        pdf.ln(7)

    header_row()
    pdf.set_text_color(*INK)
    for line in doc.lines:
        values = {
            "Item": text(line["name"]),
            "Qty": qty(line["quantity"]),
            "Unit price": money.fmt(line["unit_price"]),
            "Disc.": pct(line["discount_pct"]) if line["discount_pct"] else "",
            "Tax": pct(line["tax_rate"]),
            "Amount": money.fmt(line["total"]),
        }
        item_w = width * cols[0][1]
        pdf.set_font(family, "", 9.5)
        lines_needed = len(pdf.multi_cell(item_w - 1, 5, values["Item"], align="L", dry_run=True, output="LINES"))
        height = 5 * lines_needed + (4.2 if line["sku"] else 0) + 3
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            header_row()
            pdf.set_text_color(*INK)
        y = pdf.get_y() + 1.5
        pdf.set_xy(PAGE_MARGIN, y)
        pdf.set_font(family, "", 9.5)
        pdf.multi_cell(item_w - 1, 5, values["Item"], align="L", new_x="LMARGIN", new_y="NEXT")
        if line["sku"]:
            pdf.set_font(family, "", 8)
            pdf.set_text_color(*MUTED)
            pdf.cell(item_w - 1, 4.2, text(f"SKU {line['sku']}"), new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(*INK)
        pdf.set_font(family, "", 9.5)
        cx = PAGE_MARGIN + item_w
        for label, share, align in cols[1:]:
            pdf.set_xy(cx, y)
            pdf.cell(width * share, 5, values[label], align=align)
            cx += width * share
        pdf.set_y(y + height - 1.5)
        pdf.line(PAGE_MARGIN, pdf.get_y(), PAGE_MARGIN + width, pdf.get_y())

    # Totals.
    pdf.ln(3)
    if pdf.get_y() + 30 > pdf.page_break_trigger:
        pdf.add_page()
    label_x, label_w, value_w = PAGE_MARGIN + width * 0.5, width * 0.3, width * 0.2
    rows = [("Subtotal", money.fmt(quote.subtotal, currency), False)]
    rows += [(f"Tax {pct(rate)}", money.fmt(amount, currency), False) for rate, amount in doc.tax_rows]
    if not doc.tax_rows:
        rows.append(("Tax", money.fmt(quote.tax_total, currency), False))
    rows.append(("Total", money.fmt(quote.total, currency), True))
    for label, value, strong in rows:
        pdf.set_x(label_x)
        if strong:
            pdf.ln(1)
            pdf.set_x(label_x)
            pdf.set_fill_color(*SOFT)
        pdf.set_font(family, "B" if strong else "", 11 if strong else 9.5)
        pdf.cell(label_w, 7 if strong else 5.5, label, fill=strong)
        pdf.cell(value_w, 7 if strong else 5.5, value, align="R", fill=strong, new_x="LMARGIN", new_y="NEXT")

    # Terms.
    if quote.terms:
        pdf.ln(8)
        pdf.set_font(family, "B", 8)
        pdf.set_text_color(*MUTED)
        pdf.cell(width, 5, "TERMS", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9)
        pdf.set_text_color(*INK)
        pdf.multi_cell(width, 4.8, text(quote.terms), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(family, "", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(width, 4.5, text(
        f"This quote is valid until {quote.valid_until.isoformat()}. Amounts in {currency}."
    ), align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def pdf_filename(quote: Quote) -> str:
    return f"{quote.number}.pdf"
