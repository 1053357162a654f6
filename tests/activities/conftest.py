"""Fixtures of the activities tests: a real SMTP server (aiosmtpd) that collects what Kith sends, signed-in
web clients, and a way to run the background jobs the way `kith worker` does."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass, field

import pytest
from django.test import Client


@dataclass
class Received:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    def attachments(self) -> list[email.message.EmailMessage]:
        return list(self.message.iter_attachments())


class _Collector:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SmtpServer:
    """A real SMTP server on 127.0.0.1; KITH_SMTP_URL points at it for the test."""

    port: int
    handler: _Collector = field(default_factory=_Collector)
    controller: object | None = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()

    def stop(self) -> None:
        """Take the server down (connections are refused until start())."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def to(self, address: str, subject: str | re.Pattern | None = None) -> list[Received]:
        """Messages delivered to an address, optionally only those whose subject contains/matches."""
        out = [m for m in self.messages if address in m.rcpt_tos]
        if isinstance(subject, str):
            out = [m for m in out if subject in m.subject]
        elif subject is not None:
            out = [m for m in out if subject.search(m.subject)]
        return out


@pytest.fixture
def smtp(settings):
    server = SmtpServer(port=_free_port())
    server.start()
    settings.KITH_SMTP_URL = f"smtp://127.0.0.1:{server.port}"
    settings.KITH_EMAIL_FROM = "Kith <kith@example.com>"
    settings.KITH_BASE_URL = "http://crm.example.com"
    yield server
    server.stop()


@pytest.fixture
def no_smtp(settings):
    settings.KITH_SMTP_URL = ""
    return settings


def run_jobs(limit: int = 1000) -> int:
    """Run every due job once (no periodic jobs are scheduled): what a worker would do right now."""
    from kith.core import jobs

    ran = 0
    while ran < limit and jobs.run_one() is not None:
        ran += 1
    return ran


@pytest.fixture
def work(django_capture_on_commit_callbacks):
    """Run due jobs as a worker would, with after-commit event subscribers running as in production (tests
    otherwise sit in one transaction that never commits). work(worker=True) goes through run_worker(burst=True),
    which also schedules the periodic jobs."""
    from kith.core import jobs

    def run(*, worker: bool = False) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return jobs.run_worker(burst=True) if worker else run_jobs()

    return run


@pytest.fixture
def signed_in():
    def make(user) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return make


def page_text(response) -> str:
    """The visible text of a page or fragment, roughly: tags removed, whitespace collapsed."""
    import html as html_lib

    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<!--.*?-->", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return " ".join(html_lib.unescape(html).split())


HX = {"HTTP_HX_REQUEST": "true"}
