"""Helpers for the activities API tests: records made through the services, a real SMTP server (aiosmtpd),
cursor walks."""

from __future__ import annotations

import email
import socket
import time
from email.message import Message

import pytest

from api.conftest import assert_error_shape, error_fields  # noqa: F401


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the SMTP server received, as parsed messages."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[Message]:
        return [email.message_from_bytes(e.original_content or e.content) for e in self.envelopes]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free port, configured as KITH_SMTP_URL."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.KITH_SMTP_URL = f"smtp://127.0.0.1:{port}"
    settings.KITH_EMAIL_FROM = "Kith <kith@example.com>"
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def no_smtp(settings):
    settings.KITH_SMTP_URL = ""


@pytest.fixture
def own_visibility(settings):
    settings.KITH_RECORD_VISIBILITY = "own"


@pytest.fixture
def acme(admin):
    from kith.contacts.services import create_company

    return create_company(actor=admin, data={"name": "Acme", "domain": "acme.example"})


@pytest.fixture
def jon(admin, acme):
    from kith.contacts.services import create_contact

    return create_contact(actor=admin, data={"first_name": "Jon", "last_name": "Smith", "email": "jon@acme.example",
                                             "company_id": acme.pk})


def body_text(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "".join(p.get_payload(decode=True).decode() for p in parts if p.get_content_type() == "text/plain")


def walk(client, path: str, **params) -> list[dict]:
    """Every item of a keyset list, following next_cursor (asserts each page answers 200)."""
    items: list[dict] = []
    cursor = None
    for _ in range(100):
        r = client.get(path, **params, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.content
        body = r.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("too many pages")


def if_match(version) -> dict:
    return {"headers": {"HTTP_IF_MATCH": f'"{version}"'}}


def run_jobs(capture) -> None:
    """Run every due job, delivering the events they emit after commit (the test's transaction never commits)."""
    from kith.core import jobs

    for _ in range(10):
        with capture(execute=True):
            ran = jobs.run_worker(burst=True)
        if not ran:
            return
