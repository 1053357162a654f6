"""Safe rendering of user-written text: Markdown notes and comments, email HTML, merge fields, mentions."""

from __future__ import annotations

import re
from typing import Any

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table").enable("strikethrough")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "u", "ul", "img", "font", "center", "small", "big",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"alt", "width", "height", "src"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "span": {"title"},
    "abbr": {"title"},
}
# Remote images in emails are tracking pixels and load third-party content: only inline data: images show.
URL_SCHEMES = {"http", "https", "mailto", "tel", "data"}


_names_cache: dict[str, Any] = {"at": 0.0, "names": {}}


def _user_names(emails: list[str]) -> dict[str, str]:
    """Display names of the mentioned users (all users' names cached for a minute: there are few)."""
    import time

    if not emails:
        return {}
    age = time.monotonic() - _names_cache["at"]
    if age > 60 or (age > 2 and any(e not in _names_cache["names"] for e in emails)):
        from kith.core.models import User

        _names_cache["names"] = {
            email.lower(): (full_name or email) for email, full_name in User.objects.values_list("email", "full_name")
        }
        _names_cache["at"] = time.monotonic()
    return {e: _names_cache["names"][e] for e in emails if e in _names_cache["names"]}


def sanitize_html(html: str) -> SafeString:
    """HTML from an email or the outside world, reduced to harmless formatting (no scripts, styles, frames,
    event handlers or remote images); links open in a new tab without a referrer."""
    cleaned = nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes={"span": {"mention"}},  # @mention highlights (markdown() adds them)
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_drop_remote_images,
    )
    return mark_safe(cleaned)  # noqa: S308  (nh3 output is sanitised)


def _drop_remote_images(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src" and not value.startswith("data:image/"):
        return None
    if tag == "a" and attr == "href" and value.lower().startswith("data:"):
        return None
    return value


def markdown(text: str) -> SafeString:
    """Markdown (raw HTML in it is shown as text) rendered to sanitised HTML, with @mentions highlighted."""
    html = _md.render(text or "")
    names = _user_names(mentioned_emails(text)) if "@" in (text or "") else {}

    def mention(m: re.Match) -> str:
        email = m.group(1)
        name = names.get(email.lower().rstrip("."))
        if name:
            return f'<span class="mention" title="{escape(email)}">@{escape(name)}</span>'
        return f'<span class="mention">@{escape(email)}</span>'

    html = MENTION_RE.sub(mention, html)
    return sanitize_html(html)


def plain_to_html(text: str) -> str:
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in re.split(r"\n{2,}", text or "") if p)


# --- mentions: "@ann@example.com" (the web form's picker inserts exactly this) ----------------------------

MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mentioned_emails(text: str) -> list[str]:
    seen: list[str] = []
    for m in MENTION_RE.finditer(text or ""):
        email = m.group(1).lower().rstrip(".")
        if email not in seen:
            seen.append(email)
    return seen


# --- merge fields: {{ contact.first_name }}, {{ company.name|default:"there" }} -------------------------

MERGE_RE = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_0-9]+)\s*(?:\|\s*default\s*:\s*\"([^\"]*)\"\s*)?\}\}")

MERGE_FIELDS: dict[str, list[str]] = {
    "contact": ["first_name", "last_name", "full_name", "email", "phone", "job_title", "city", "country"],
    "company": ["name", "domain", "website", "industry", "city", "country"],
    "lead": ["first_name", "last_name", "full_name", "email", "company_name", "title"],
    "deal": ["name", "amount", "currency", "expected_close_date", "next_step"],
    "user": ["full_name", "first_name", "email"],
}


def merge_field_errors(text: str) -> list[str]:
    """Unknown merge fields in a template, as messages (empty when all are known)."""
    problems = []
    for m in MERGE_RE.finditer(text or ""):
        obj, attr = m.group(1), m.group(2)
        if obj not in MERGE_FIELDS:
            problems.append(f"{{{{ {obj}.{attr} }}}}: unknown object “{obj}” (use {', '.join(MERGE_FIELDS)}).")
        elif attr not in MERGE_FIELDS[obj]:
            problems.append(f"{{{{ {obj}.{attr} }}}}: {obj} has no field “{attr}”.")
    return problems


def render_merge_fields(text: str, context: dict[str, Any]) -> str:
    """Replace merge fields with values from the context objects; a missing value uses the default or ''."""

    def value(m: re.Match) -> str:
        obj, attr, default = m.group(1), m.group(2), m.group(3) or ""
        target = context.get(obj)
        if target is None or attr not in MERGE_FIELDS.get(obj, []):
            return default
        if obj == "user" and attr == "first_name":
            raw = (getattr(target, "full_name", "") or "").split(" ")[0]
        else:
            raw = getattr(target, attr, "")
        text = "" if raw is None else str(raw)
        return text or default

    return MERGE_RE.sub(value, text or "")
