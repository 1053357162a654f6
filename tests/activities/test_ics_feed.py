"""iCalendar output as calendar apps read it: the private feed (no session, token revocable), a meeting's
.ics download, and invitations emailed with the .ics attached. The output is checked with a small
RFC 5545 reader written here (line endings, folding, escaping, nesting, required properties)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import signed_in
from kith.activities import services
from kith.activities.models import Attendee, AttendeeResponse
from kith.contacts.services import create_contact
from kith.core.models import OutboundEmail

pytestmark = pytest.mark.django_db


# --- a small RFC 5545 reader ---------------------------------------------------------------------------


class Component:
    def __init__(self, name: str):
        self.name = name
        self.props: list[tuple[str, dict[str, str], str]] = []
        self.children: list[Component] = []

    def get(self, name: str) -> str | None:
        return next((v for n, _, v in self.props if n == name), None)

    def all(self, name: str) -> list[tuple[dict[str, str], str]]:
        return [(p, v) for n, p, v in self.props if n == name]

    def find(self, name: str) -> list[Component]:
        return [c for c in self.children if c.name == name]


def _split_params(head: str) -> tuple[str, dict[str, str]]:
    parts = re.findall(r'(?:"[^"]*"|[^;])+', head)
    params = {}
    for p in parts[1:]:
        key, _, value = p.partition("=")
        assert value.count('"') in (0, 2), f"bad quoting in parameter {p!r}"
        params[key.upper()] = value.strip('"')
    return parts[0].upper(), params


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def parse_ics(body: bytes | str) -> Component:
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    assert raw.endswith("\r\n"), "the last line must end with CRLF"
    assert "\n" not in raw.replace("\r\n", ""), "every line must end with CRLF, never a bare LF"
    assert "\r" not in raw.replace("\r\n", ""), "no bare CR"
    for physical in raw.split("\r\n")[:-1]:
        assert len(physical.encode("utf-8")) <= 75, f"line longer than 75 octets: {physical!r}"
        assert physical, "no empty lines"
    unfolded = re.sub(r"\r\n[ \t]", "", raw)
    stack: list[Component] = []
    root = None
    for line in unfolded.split("\r\n")[:-1]:
        m = re.match(r'^((?:"[^"]*"|[^:"])+):(.*)$', line)
        assert m, f"not a content line: {line!r}"
        name, params = _split_params(m.group(1))
        assert re.fullmatch(r"[A-Z0-9-]+", name), f"bad property name {name!r}"
        value = m.group(2)
        if name == "BEGIN":
            comp = Component(value)
            if stack:
                stack[-1].children.append(comp)
            else:
                assert root is None, "one VCALENDAR per file"
                root = comp
            stack.append(comp)
        elif name == "END":
            assert stack and stack[-1].name == value, (
                f"END:{value} does not close {stack[-1].name if stack else None}"
            )
            stack.pop()
        else:
            assert stack, f"property outside a component: {line!r}"
            stack[-1].props.append((name, params, value))
    assert not stack and root is not None and root.name == "VCALENDAR"
    assert root.get("VERSION") == "2.0" and root.get("PRODID")
    for event in root.find("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART"):
            assert event.get(required), f"VEVENT without {required}"
        for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "SUMMARY"):
            assert len(event.all(name)) <= 1, f"{name} twice in one VEVENT"
        for name in ("DTSTAMP", "DTSTART", "DTEND"):
            if event.get(name):
                assert re.fullmatch(r"\d{8}T\d{6}Z", event.get(name)), f"{name} is not a UTC date-time"
        assert re.fullmatch(r"\d+", event.get("SEQUENCE") or "0")
    return root


def test_the_reader_rejects_broken_files():
    good = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"
    parse_ics(good)
    for bad in [
        good.replace("\r\n", "\n"),
        good.replace("END:VCALENDAR", "END:VEVENT"),
        good.replace("PRODID:x", "PRODID:" + "x" * 80),
    ]:
        with pytest.raises(AssertionError):
            parse_ics(bad)


def utc(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


def events_by_summary(cal: Component) -> dict[str, Component]:
    return {unescape(e.get("SUMMARY")): e for e in cal.find("VEVENT")}


# --- fixtures ------------------------------------------------------------------------------------------


def meeting(actor, subject, start, minutes=60, **extra):
    return services.log_activity(
        actor=actor,
        data={
            "type": "meeting",
            "subject": subject,
            "occurred_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(minutes=minutes)).isoformat(),
            **extra,
        },
    )


@pytest.fixture
def soon():
    return (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0, second=0)


def feed_path(user) -> str:
    return reverse("calendar_feed", args=[services.settings_for(user).calendar_token])


# --- the feed ------------------------------------------------------------------------------------------


def test_feed_is_valid_icalendar_with_meetings_and_tasks(member, admin, soon):
    title = "Pricing; scope, and next steps — Überprüfung der Angebote für das gesamte Jahr 2027 mit allen Standorten"
    m = meeting(
        member,
        title,
        soon,
        minutes=45,
        location="Room 4, 2nd floor",
        body="Agenda:\n1. Price\n2. Scope",
        reminder_minutes=10,
        attendees=[{"email": "ann@acme.com", "name": 'Doe, "Ann"'}],
    )
    t = services.create_task(
        actor=admin,
        data={
            "subject": "Send proposal",
            "due_at": (soon + dt.timedelta(hours=3)).isoformat(),
            "assignee_id": member.pk,
        },
    )
    meeting(admin, "Someone else's meeting", soon)
    r = Client().get(feed_path(member))  # no session
    assert r.status_code == 200
    assert r["Content-Type"] == "text/calendar; charset=utf-8"
    assert "\r\n " in r.content.decode()  # the long title was folded
    cal = parse_ics(r.content)
    assert "Bob Member" in unescape(cal.get("X-WR-CALNAME"))
    events = events_by_summary(cal)
    assert set(events) == {title, "Task: Send proposal"}
    ev = events[title]
    assert utc(ev.get("DTSTART")) == soon and utc(ev.get("DTEND")) == soon + dt.timedelta(minutes=45)
    assert unescape(ev.get("LOCATION")) == "Room 4, 2nd floor"
    assert unescape(ev.get("DESCRIPTION")) == "Agenda:\n1. Price\n2. Scope"
    assert ev.get("UID") == f"kith-activity-{m.pk}@" + ev.get("UID").split("@")[1]
    [(params, value)] = ev.all("ATTENDEE")
    assert (
        value == "mailto:ann@acme.com"
        and params["CN"] == "Doe, 'Ann'"
        and params["PARTSTAT"] == "NEEDS-ACTION"
    )
    [alarm] = ev.find("VALARM")
    assert alarm.get("TRIGGER") == "-PT10M" and alarm.get("ACTION") == "DISPLAY"
    task_ev = events["Task: Send proposal"]
    assert utc(task_ev.get("DTSTART")) == t.due_at
    assert task_ev.get("UID") == f"kith-activity-{t.pk}@" + task_ev.get("UID").split("@")[1]


def test_feed_uid_is_stable_and_sequence_grows_when_a_meeting_moves(member, soon):
    m = meeting(member, "Weekly sync", soon)
    first = events_by_summary(parse_ics(Client().get(feed_path(member)).content))["Weekly sync"]
    services.update_activity(
        actor=member,
        activity=m,
        data={
            "occurred_at": (soon + dt.timedelta(hours=1)).isoformat(),
            "ends_at": (soon + dt.timedelta(hours=2)).isoformat(),
        },
    )
    second = events_by_summary(parse_ics(Client().get(feed_path(member)).content))["Weekly sync"]
    assert second.get("UID") == first.get("UID")
    assert int(second.get("SEQUENCE")) == int(first.get("SEQUENCE")) + 1
    assert utc(second.get("DTSTART")) == soon + dt.timedelta(hours=1)


def test_feed_leaves_out_deleted_meetings_and_cancelled_tasks(member, soon):
    gone = meeting(member, "Cancelled lunch", soon)
    services.delete_activity(actor=member, activity=gone)
    t = services.create_task(
        actor=member, data={"subject": "Dropped task", "due_at": soon.isoformat(), "assignee_id": member.pk}
    )
    services.update_activity(actor=member, activity=t, data={"status": "cancelled"})
    meeting(member, "Still on", soon)
    events = events_by_summary(parse_ics(Client().get(feed_path(member)).content))
    assert set(events) == {"Still on"}


def test_feed_address_from_settings_works_and_reset_revokes_it(member, soon):
    meeting(member, "Demo", soon)
    url = services.feed_url(member)
    path = "/" + url.split("/", 3)[3]
    assert path == feed_path(member) and path.startswith("/calendar/") and path.endswith(".ics")
    assert Client().get(path).status_code == 200
    assert Client().head(path).status_code == 200
    services.reset_calendar_token(actor=member, user=member)
    assert Client().get(path).status_code == 404
    new_path = feed_path(member)
    assert new_path != path
    assert "Demo" in Client().get(new_path).content.decode()


def test_feed_unknown_token_and_inactive_user_are_404(member):
    assert Client().get("/calendar/not-a-real-token.ics").status_code == 404
    path = feed_path(member)
    member.is_active = False
    member.save()
    assert Client().get(path).status_code == 404


def test_feed_does_not_accept_writes(member):
    assert Client().post(feed_path(member)).status_code == 405


# --- one meeting as a download -------------------------------------------------------------------------


def test_meeting_ics_download(member, admin, soon):
    ann = create_contact(actor=admin, data={"first_name": "Ann", "last_name": "Lee", "email": "ann@acme.com"})
    m = meeting(
        member,
        "Kick-off: Acme",
        soon,
        location="Acme HQ",
        attendees=[{"contact_id": ann.pk}, {"user_id": admin.pk}],
    )
    Attendee.objects.filter(activity=m, user=admin).update(response=AttendeeResponse.ACCEPTED)
    r = signed_in(member).get(reverse("web:activity_ics", args=[m.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "text/calendar; charset=utf-8"
    assert r["Content-Disposition"] == 'attachment; filename="kick-off-acme.ics"'
    cal = parse_ics(r.content)
    assert cal.get("METHOD") is None
    [ev] = cal.find("VEVENT")
    assert unescape(ev.get("SUMMARY")) == "Kick-off: Acme" and utc(ev.get("DTSTART")) == soon
    assert ev.get("ORGANIZER") == "mailto:bob@example.com"
    states = {v: p["PARTSTAT"] for p, v in ev.all("ATTENDEE")}
    assert states == {"mailto:ann@acme.com": "NEEDS-ACTION", "mailto:alice@example.com": "ACCEPTED"}


def test_meeting_ics_only_for_visible_meetings(member, admin, viewer, settings, soon):
    note = services.log_activity(actor=admin, data={"type": "note", "body": "hi"})
    assert signed_in(member).get(reverse("web:activity_ics", args=[note.pk])).status_code == 404
    private = meeting(admin, "Admin only", soon)
    assert signed_in(viewer).get(reverse("web:activity_ics", args=[private.pk])).status_code == 200
    settings.KITH_RECORD_VISIBILITY = "own"
    assert signed_in(viewer).get(reverse("web:activity_ics", args=[private.pk])).status_code == 404
    assert Client().get(reverse("web:activity_ics", args=[private.pk])).status_code == 302


# --- invitations ---------------------------------------------------------------------------------------


# `smtp` (tests/activities/conftest.py) is a real SMTP server on 127.0.0.1 with KITH_SMTP_URL pointing at it.


def test_send_invitations_queues_one_email_per_attendee_with_the_ics(member, admin, smtp, soon):
    ann = create_contact(actor=admin, data={"first_name": "Ann", "last_name": "Lee", "email": "ann@acme.com"})
    m = meeting(
        member,
        "Quarterly review",
        soon,
        location="Room 4",
        attendees=[
            {"contact_id": ann.pk},
            {"email": "carl@partner.com", "name": "Carl"},
            {"user_id": member.pk},
            {"user_id": admin.pk},
        ],
    )
    c = signed_in(member)
    r = c.post(reverse("web:activity_send_invitations", args=[m.pk]), follow=True)
    assert r.status_code == 200
    assert "on their way to 3 attendees" in r.content.decode()
    rows = list(OutboundEmail.objects.filter(kind="invitation").order_by("id"))
    assert sorted(row.to[0] for row in rows) == ["alice@example.com", "ann@acme.com", "carl@partner.com"]
    for row in rows:
        assert row.subject.startswith("Invitation: Quarterly review")
        assert row.reply_to == "bob@example.com"
        [att] = row.attachments
        assert att["filename"] == "invite.ics" and att["content_type"].startswith(
            "text/calendar; method=REQUEST"
        )
        cal = parse_ics(att["content"])
        assert cal.get("METHOD") == "REQUEST"
        [ev] = cal.find("VEVENT")
        assert ev.get("ORGANIZER") == "mailto:bob@example.com"
        assert unescape(ev.get("SUMMARY")) == "Quarterly review"
    assert Attendee.objects.filter(activity=m, invited_at__isnull=False).count() == 3
    assert Attendee.objects.get(activity=m, user=member).invited_at is None  # the organizer himself


def test_invite_only_new_attendees(member, smtp, soon):
    m = meeting(member, "Workshop", soon, attendees=[{"email": "a@x-corp.com"}])
    c = signed_in(member)
    c.post(reverse("web:activity_send_invitations", args=[m.pk]))
    services.update_activity(
        actor=member, activity=m, data={"attendees": [{"email": "a@x-corp.com"}, {"email": "b@x-corp.com"}]}
    )
    r = c.post(reverse("web:activity_send_invitations", args=[m.pk]), {"only_new": "1"}, follow=True)
    assert "on its way to 1 attendee" in r.content.decode()
    assert sorted(row.to[0] for row in OutboundEmail.objects.filter(kind="invitation")) == [
        "a@x-corp.com",
        "b@x-corp.com",
    ]


def test_invitations_without_smtp_or_attendees_explain_why(member, settings, soon):
    settings.KITH_SMTP_URL = ""
    m = meeting(member, "Solo", soon, attendees=[{"email": "a@x-corp.com"}])
    r = signed_in(member).post(reverse("web:activity_send_invitations", args=[m.pk]), follow=True)
    assert "Invitations not sent: Sending email is not set up" in r.content.decode()
    settings.KITH_SMTP_URL = "smtp://127.0.0.1:2525"
    lonely = meeting(member, "Lonely", soon)
    r = signed_in(member).post(reverse("web:activity_send_invitations", args=[lonely.pk]), follow=True)
    assert "No attendee with an email address to invite." in r.content.decode()
    assert not OutboundEmail.objects.exists()


def test_viewer_cannot_send_invitations(viewer, member, smtp, soon):
    m = meeting(member, "Review", soon, attendees=[{"email": "a@x-corp.com"}])
    r = signed_in(viewer).post(reverse("web:activity_send_invitations", args=[m.pk]))
    assert r.status_code == 403
    assert not OutboundEmail.objects.exists()
    assert signed_in(viewer).get(reverse("web:activity_send_invitations", args=[m.pk])).status_code == 405


def test_meeting_page_shows_invitations_and_answers(member, viewer, smtp, soon):
    m = meeting(
        member,
        "Review",
        soon,
        attendees=[{"email": "a@x-corp.com", "name": "Ann"}, {"email": "b@x-corp.com"}],
    )
    page_url = reverse("web:activity_detail", args=[m.pk])

    def card(user):
        html = signed_in(user).get(page_url).content.decode()
        found = re.search(r'<section class="card cal-invites".*?</section>', html, re.S)
        assert found, "no Invitations card on the meeting page"
        return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split()), found.group(0)

    text, html = card(member)
    assert "Invitations 2" in text and text.count("Not invited yet") == 2 and "Send invitations" in text
    assert f'action="/activities/{m.pk}/invitations/"' in html
    assert re.search(r'name="csrfmiddlewaretoken" value="\w{20,}"', html)
    r = signed_in(member).post(
        reverse("web:activity_send_invitations", args=[m.pk]), {"next": page_url}, follow=True
    )
    assert r.redirect_chain[-1][0] == page_url
    Attendee.objects.filter(activity=m, email="b@x-corp.com").update(response=AttendeeResponse.DECLINED)
    text, html = card(member)
    assert "Ann" in text and text.count("Invited") == 2 and "Declined" in text and "No answer yet" in text
    assert f'href="/activities/{m.pk}/meeting.ics"' in html and "Send invitations again" in text
    text, html = card(viewer)
    assert "Invited" in text and "Calendar file (.ics)" in text and "Send invitations" not in text
    assert "<form" not in html


def test_invitation_arrives_with_the_calendar_file(member, smtp, work, soon):
    m = meeting(
        member, "Design review", soon, location="Room 7", attendees=[{"email": "ann@acme.com", "name": "Ann"}]
    )
    signed_in(member).post(reverse("web:activity_send_invitations", args=[m.pk]))
    work()
    [received] = smtp.to("ann@acme.com")
    assert received.subject.startswith("Invitation: Design review")
    assert "Bob Member invites you to: Design review" in received.text and "Where: Room 7" in received.text
    [attachment] = received.attachments()
    assert attachment.get_content_type() == "text/calendar" and attachment.get_param("method") == "REQUEST"
    cal = parse_ics(attachment.get_payload(decode=True))
    [ev] = cal.find("VEVENT")
    assert cal.get("METHOD") == "REQUEST" and ev.get("UID") == f"kith-activity-{m.pk}@crm.example.com"
    assert utc(ev.get("DTSTART")) == soon and ev.get("ORGANIZER") == "mailto:bob@example.com"
