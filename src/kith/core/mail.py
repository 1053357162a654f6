"""Outgoing email through the SMTP server in KITH_SMTP_URL, delivered by a durable job.

    queue_email(to=["ann@example.com"], subject="…", text="…", html="…", kind="reminder")

queue_email writes an OutboundEmail row and a "mail.send" job in the caller's transaction: the email
exists only if the write commits, and is retried with backoff (30 s, 1 min, 2 min … up to 8 attempts)
when the server is down. The final failure stays visible (row status "failed", jobs page, and the email
activity's status), never silently dropped.
"""

from __future__ import annotations

import uuid
from email.utils import make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend
from django.db import transaction
from django.utils import timezone

from . import events, jobs
from .models import OutboundEmail

MAX_ATTEMPTS = 8


class MailNotConfigured(RuntimeError):
    pass


def is_configured() -> bool:
    return bool(getattr(settings, "KITH_SMTP_URL", ""))


def connection() -> EmailBackend:
    """An SMTP connection built from KITH_SMTP_URL (smtp:// plain or ?starttls=1, smtps:// for TLS)."""
    url = getattr(settings, "KITH_SMTP_URL", "")
    if not url:
        raise MailNotConfigured("No SMTP server is configured: set KITH_SMTP_URL (e.g. smtp://user:pass@host:587?starttls=1).")
    parts = urlparse(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise MailNotConfigured(f"KITH_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://.")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    return EmailBackend(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_ssl=parts.scheme == "smtps",
        use_tls=starttls,
        timeout=20,
        fail_silently=False,
    )


def new_message_id() -> str:
    domain = urlparse(getattr(settings, "KITH_BASE_URL", "")).hostname or "kith.local"
    return make_msgid(idstring=uuid.uuid4().hex[:12], domain=domain)


def queue_email(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str = "",
    cc: list[str] | None = None,
    from_email: str = "",
    reply_to: str = "",
    attachments: list[dict[str, str]] | None = None,
    kind: str = "",
    activity_id: int | None = None,
    message_id: str = "",
) -> OutboundEmail:
    row = OutboundEmail.objects.create(
        to=list(to),
        cc=list(cc or []),
        from_email=from_email or settings.KITH_EMAIL_FROM,
        reply_to=reply_to,
        subject=subject[:300],
        text=text,
        html=html,
        attachments=list(attachments or []),
        message_id=message_id or new_message_id(),
        kind=kind,
        activity_id=activity_id,
    )
    jobs.enqueue("mail.send", email_id=row.pk, unique_key=f"mail:{row.pk}", max_attempts=MAX_ATTEMPTS)
    return row


def build_message(row: OutboundEmail) -> EmailMultiAlternatives:
    msg = EmailMultiAlternatives(
        subject=row.subject,
        body=row.text,
        from_email=row.from_email or settings.KITH_EMAIL_FROM,
        to=row.to,
        cc=row.cc or None,
        reply_to=[row.reply_to] if row.reply_to else None,
        headers={"Message-ID": row.message_id, "Auto-Submitted": "auto-generated" if row.kind != "email" else "no"},
    )
    if row.html:
        msg.attach_alternative(row.html, "text/html")
    for att in row.attachments:
        msg.attach(att["filename"], att["content"], att.get("content_type", "application/octet-stream"))
    return msg


@jobs.job("mail.send", max_attempts=MAX_ATTEMPTS)
def send(email_id: int) -> dict[str, Any]:
    row = OutboundEmail.objects.get(pk=email_id)
    if row.status == OutboundEmail.Status.SENT:
        return {"already_sent": True}
    OutboundEmail.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
    try:
        with connection() as conn:
            conn.send_messages([build_message(row)])
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        final = row.attempts + 1 >= MAX_ATTEMPTS
        with transaction.atomic():
            OutboundEmail.objects.filter(pk=row.pk).update(
                last_error=error, status=OutboundEmail.Status.FAILED if final else OutboundEmail.Status.QUEUED
            )
            events.emit("email.failed" if final else "email.retrying", {"id": row.pk, "activity_id": row.activity_id,
                                                                         "error": error})
        raise
    now = timezone.now()
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=row.pk).update(status=OutboundEmail.Status.SENT, sent_at=now, last_error="")
        events.emit("email.sent", {"id": row.pk, "activity_id": row.activity_id})
    return {"sent_to": row.to}


def resend(row: OutboundEmail) -> None:
    """Queue a failed email again (the user pressed Retry)."""
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=row.pk).update(status=OutboundEmail.Status.QUEUED, attempts=0, last_error="")
        jobs.enqueue("mail.send", email_id=row.pk, unique_key=f"mail:{row.pk}", max_attempts=MAX_ATTEMPTS)
