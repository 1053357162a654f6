"""The board's deal cards, rendered in Python.

A board page shows up to 25 cards per column; through a template include per card that was most of the
page's time (a few thousand variable lookups, two URL reversals, filters and tags per card). Here what
is the same for every card (icons, the CSRF field, the "next" field, the column's "Move to…" options,
URL shapes) is built once per board or column, owners and dates once each, and a card is one string
format. The markup is the one the card template had; every text from the database is escaped here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kith.web.templatetags.kith_ui import avatar_hue, icon, initials

from .. import money as money_rules

_BUILDING = str(icon("building"))
_CLOCK = str(icon("clock"))
_OVERDUE = '<span class="visually-hidden"> overdue</span>'
_PK_MARK = 2_147_483_641  # a pk no URL pattern part contains; replaced by the card's pk


def _url_shape(name: str) -> tuple[str, str]:
    """(before, after) the pk in the URL named name, reversed once."""
    url = reverse(name, args=[_PK_MARK])
    before, _, after = url.partition(str(_PK_MARK))
    return escape(before), escape(after)


class CardRenderer:
    """Renders the cards of one board request (or one "Load more" fragment)."""

    def __init__(self, *, can_write: bool, csrf_token: str, board_url: str):
        self.can_write = can_write
        self.today = timezone.localdate()
        self.this_year = self.today.year
        self.detail_url = _url_shape("web:deal_detail")
        self.move_url = _url_shape("web:deal_move")
        self.draggable = ' draggable="true"' if can_write else ""
        self.form_head = (
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">\n'
            f'      <input type="hidden" name="next" value="{escape(board_url)}">'
        )
        self._owners: dict[int, str] = {}
        self._dates: dict[dt.date, str] = {}

    def _owner(self, deal) -> str:
        if deal.owner_id is None:
            return ""
        html = self._owners.get(deal.owner_id)
        if html is None:
            owner = deal.owner
            name = escape(owner.display_name)
            html = (f'<span class="avatar avatar-xs deal-card-owner hue-{avatar_hue(owner.email)}" '
                    f'title="Owner: {name}"><span aria-hidden="true">{escape(initials(owner.display_name))}</span>'
                    f'<span class="visually-hidden">Owner: {name}</span></span>')
            self._owners[deal.owner_id] = html
        return html

    def _date(self, value: dt.date) -> str:
        text = self._dates.get(value)
        if text is None:
            text = escape(dateformat.format(value, "M j"))
            if value.year != self.this_year:
                text += f", {value.year}"
            self._dates[value] = text
        return text

    def card(self, d, move_options: str, stage_open: bool) -> str:
        pk = d.pk
        name = escape(d.name)
        move_url = f"{self.move_url[0]}{pk}{self.move_url[1]}"
        close = d.expected_close_date
        overdue = bool(close and stage_open and close < self.today)
        cls = " is-overdue" if overdue else ""
        parts = [
            f'<li class="deal-card{cls}"{self.draggable} id="deal-{pk}" data-deal-id="{pk}" '
            f'data-stage-id="{d.stage_id}" data-move-url="{move_url}" data-deal-name="{name}">\n'
            f'  <a class="deal-card-name" href="{self.detail_url[0]}{pk}{self.detail_url[1]}" '
            f'draggable="false">{name}</a>\n  ',
            self._owner(d),
            "\n  ",
        ]
        if d.company_id is not None:
            parts.append(f'<p class="deal-card-company">{_BUILDING}<span>{escape(d.company.name)}</span></p>')
        amount = "" if d.amount is None else escape(money_rules.fmt(d.amount, d.currency or ""))
        parts.append(f'\n  <div class="deal-card-meta">\n    <span class="deal-card-amount">{amount}</span>\n    ')
        if close:
            parts.append(
                f'<span class="deal-card-close{cls}" title="Expected close{" (overdue)" if overdue else ""}">'
                f'{_CLOCK}<span>{self._date(close)}</span>'
                f'{_OVERDUE if overdue else ""}</span>'
            )
        parts.append("\n  </div>\n  ")
        if self.can_write:
            parts.append(
                f'\n  <details class="deal-card-move">\n'
                f'    <summary>Move<span class="visually-hidden"> {name}</span> to…</summary>\n'
                f'    <form method="post" action="{move_url}" class="move-form" data-move-form>\n'
                f"      {self.form_head}\n"
                f'      <label class="label" for="move-{pk}">Stage<span class="visually-hidden"> for {name}</span>'
                f"</label>\n"
                f'      <div class="move-row">\n'
                f'        <select id="move-{pk}" name="stage_id">{move_options}</select>\n'
                f'        <button type="submit" class="btn btn-sm btn-primary">Move'
                f'<span class="visually-hidden"> {name}</span></button>\n'
                f"      </div>\n    </form>\n  </details>\n  "
            )
        parts.append("\n</li>\n")
        return "".join(parts)

    def cards(self, deals: Iterable, move_options: str, stage_open: bool) -> SafeString:
        return mark_safe("".join(self.card(d, move_options, stage_open) for d in deals))  # noqa: S308 - escaped above
