"""/api/v1/activities: log, read, change, trash and restore calls, meetings, notes and emails; filters, paging,
validation, permissions, versions, attendees, .ics and invitations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kith.activities import services
from kith.activities.models import Activity

from .conftest import assert_error_shape, body_text, error_fields, if_match, run_jobs, walk

pytestmark = pytest.mark.django_db


def iso(value: dt.datetime) -> str:
    return value.isoformat()


def test_log_a_call_read_change_trash_restore(api, jon, acme):
    r = api.post("activities", {"type": "call", "subject": "Intro call", "outcome": "connected",
                                "duration_seconds": 300, "body": "Talked **pricing**", "related": [f"contact:{jon.pk}"]})
    assert r.status_code == 201, r.content
    call = r.json()
    assert r["Location"] == f"/api/v1/activities/{call['id']}"
    assert r["ETag"] == '"1"'
    assert call["type"] == "call" and call["direction"] == "outbound" and call["duration_seconds"] == 300
    # The company roll-up is implied, not listed as a record of its own.
    assert call["related"] == [{"type": "contact", "id": jon.pk, "name": "Jon Smith", "url": jon.get_absolute_url()}]

    got = api.get(f"activities/{call['id']}")
    assert got.status_code == 200 and got.json() == call and got["ETag"] == '"1"'

    stale = api.patch(f"activities/{call['id']}", {"outcome": "voicemail"}, **if_match(7))
    body = assert_error_shape(stale, 409)
    assert body["current_version"] == 1 and error_fields(stale) == {"version"}
    assert api.get(f"activities/{call['id']}").json()["outcome"] == "connected"

    changed = api.patch(f"activities/{call['id']}", {"outcome": "voicemail", "version": 1})
    assert changed.status_code == 200, changed.content
    assert changed.json()["outcome"] == "voicemail" and changed.json()["version"] == 2 and changed["ETag"] == '"2"'

    assert_error_shape(api.delete(f"activities/{call['id']}", **if_match(1)), 409)
    assert api.delete(f"activities/{call['id']}", **if_match(2)).status_code == 204
    assert_error_shape(api.get(f"activities/{call['id']}"), 404)
    assert [a["id"] for a in api.get("activities", trashed="true").json()["items"]] == [call["id"]]
    assert api.get("activities").json()["items"] == []

    restored = api.post(f"activities/{call['id']}/restore")
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    assert api.get(f"activities/{call['id']}").status_code == 200


def test_validation_names_every_bad_field_and_writes_nothing(api, jon):
    r = api.post("activities", {"type": "call", "outcome": "maybe", "occurred_at": "yesterday-ish",
                                "duration_seconds": -3, "related": [{"type": "contact", "id": 999999}]})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"outcome", "occurred_at", "duration_seconds", "related"}
    assert "999999" in next(e["message"] for e in r.json()["errors"] if e["field"] == "related")

    unknown = api.post("activities", {"type": "note", "body": "x", "colour": "red"})
    assert_error_shape(unknown, 422)
    assert unknown.json()["errors"] == [{"field": "colour", "message": "Unknown field."}]

    not_for_notes = api.post("activities", {"type": "note", "body": "x", "due_at": "2030-01-01T00:00:00Z"})
    assert_error_shape(not_for_notes, 422)
    assert error_fields(not_for_notes) == {"due_at"}

    task = api.post("activities", {"type": "task", "subject": "x"})
    assert error_fields(task) == {"type"} and "/api/v1/tasks" in task.json()["errors"][0]["message"]
    assert error_fields(api.post("activities", {"type": "note", "body": "  "})) == {"body"}
    assert error_fields(api.post("activities", {"type": "meeting"})) == {"subject"}
    wrong_type = api.post("activities", {"type": "note", "body": "x", "duration_seconds": "long"})
    assert error_fields(wrong_type) == {"duration_seconds"}

    bad_json = api.client.post("/api/v1/activities", data="{nope", content_type="application/json", **api.headers)
    assert assert_error_shape(bad_json, 400)["detail"] == "The request body is not valid JSON."
    assert Activity.all_objects.count() == 0


def test_type_cannot_change(api, jon):
    note = services.log_activity(actor=jon.owner, data={"type": "note", "body": "hi", "related": [f"contact:{jon.pk}"]})
    r = api.patch(f"activities/{note.pk}", {"type": "call"})
    assert error_fields(r) == {"type"}
    assert api.patch(f"activities/{note.pk}", {"type": "note", "pinned": True}).json()["pinned"] is True


def test_list_filters_and_keyset_pages(api, admin, member, jon, acme):
    from kith.contacts.services import create_contact

    ann = create_contact(actor=admin, data={"first_name": "Ann", "email": "ann@other.example"})
    now = timezone.now()
    made = []
    for i in range(7):
        kind = ["call", "note", "email"][i % 3]
        data = {"type": kind, "subject": f"#{i}", "body": f"body {i}", "occurred_at": iso(now - dt.timedelta(days=i)),
                "related": [f"contact:{(jon if i % 2 == 0 else ann).pk}"]}
        made.append(services.log_activity(actor=admin if i < 5 else member, data=data))
    services.create_task(actor=admin, data={"subject": "a task is not an activity here", "related": [f"contact:{jon.pk}"]})

    everything = walk(api, "activities", limit=3)
    assert [a["subject"] for a in everything] == [f"#{i}" for i in range(7)]  # newest first, no repeats

    calls = api.get("activities", type="call").json()["items"]
    assert {a["type"] for a in calls} == {"call"} and len(calls) == 3
    assert len(api.get("activities", type="call,note").json()["items"]) == 5
    on_jon = walk(api, "activities", record=f"contact:{jon.pk}", limit=2)
    assert [a["subject"] for a in on_jon] == ["#0", "#2", "#4", "#6"]
    # A company's activities include its contacts'.
    assert [a["subject"] for a in api.get("activities", record=f"company:{acme.pk}").json()["items"]] == [
        "#0", "#2", "#4", "#6"]
    assert {a["subject"] for a in api.get("activities", owner_id=member.pk).json()["items"]} == {"#5", "#6"}
    window = api.get("activities", occurred_after=iso(now - dt.timedelta(days=2, hours=1)),
                     occurred_before=iso(now - dt.timedelta(hours=1))).json()["items"]
    assert [a["subject"] for a in window] == ["#1", "#2"]

    for params, field in [({"type": "fax"}, "type"), ({"record": "contact:999999"}, "record"),
                          ({"record": "planet:1"}, "record"), ({"occurred_after": "soon"}, "occurred_after"),
                          ({"cursor": "garbage"}, "cursor"), ({"limit": 0}, "limit")]:
        r = api.get("activities", **params)
        assert_error_shape(r, 422)
        assert error_fields(r) == {field}, params


def test_meeting_attendees_in_and_out_and_ics(api, admin, member, jon):
    start = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    r = api.post("activities", {
        "type": "meeting", "subject": "Quarterly review", "occurred_at": iso(start),
        "ends_at": iso(start + dt.timedelta(hours=1)), "location": "Room 4", "video_url": "https://meet.example/abc",
        "attendees": [{"contact_id": jon.pk}, {"user_id": member.pk}, {"email": "Guest@Example.com", "name": "Guest"}],
        "related": [f"contact:{jon.pk}"],
    })
    assert r.status_code == 201, r.content
    meeting = r.json()
    assert meeting["reminder_minutes"] == 15  # the organiser's default
    assert [(a["contact_id"], a["user_id"], a["email"], a["response"]) for a in meeting["attendees"]] == [
        (jon.pk, None, "jon@acme.example", "needs_action"),
        (None, member.pk, "bob@example.com", "needs_action"),
        (None, None, "guest@example.com", "needs_action"),
    ]
    bad = api.patch(f"activities/{meeting['id']}", {"attendees": [{"contact_id": 999999}],
                                                     "ends_at": iso(start - dt.timedelta(hours=1))})
    assert error_fields(bad) == {"attendees", "ends_at"}

    changed = api.patch(f"activities/{meeting['id']}", {"attendees": [
        {"user_id": member.pk, "response": "accepted"}, {"email": "new@example.com"}]}).json()
    assert [(a["email"], a["response"]) for a in changed["attendees"]] == [
        ("bob@example.com", "accepted"), ("new@example.com", "needs_action")]

    ics = api.get(f"activities/{meeting['id']}/ics")
    assert ics.status_code == 200 and ics["Content-Type"].startswith("text/calendar")
    assert f'meeting-{meeting["id"]}.ics' in ics["Content-Disposition"]
    text = ics.content.decode()
    assert "BEGIN:VEVENT" in text and "SUMMARY:Quarterly review" in text and "new@example.com" in text
    assert start.astimezone(dt.UTC).strftime("DTSTART:%Y%m%dT%H%M%SZ") in text

    note = services.log_activity(actor=admin, data={"type": "note", "body": "x"})
    assert error_fields(api.get(f"activities/{note.pk}/ics")) == {"type"}
    assert_error_shape(api.get("activities/999999/ics"), 404)


def test_invitations_go_out_with_the_ics_attached(api, admin, member, jon, smtp, django_capture_on_commit_callbacks):
    start = timezone.now() + dt.timedelta(days=1)
    meeting = services.log_activity(actor=admin, data={
        "type": "meeting", "subject": "Kick-off", "occurred_at": iso(start), "location": "HQ",
        "attendees": [{"contact_id": jon.pk}, {"user_id": member.pk}, {"user_id": admin.pk}],
    })
    r = api.client.post(f"/api/v1/activities/{meeting.pk}/invitations", **api.headers)  # no body needed
    assert r.status_code == 200, r.content
    assert r.json() == {"invited": 2}  # not the organiser herself
    run_jobs(django_capture_on_commit_callbacks)
    messages = smtp.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["bob@example.com", "jon@acme.example"]
    for m in messages:
        assert m["Subject"].startswith("Invitation: Kick-off")
        assert "Where: HQ" in body_text(m)
        calendars = [p for p in m.walk() if p.get_content_type() == "text/calendar"]
        assert calendars and "METHOD:REQUEST" in calendars[0].get_payload(decode=True).decode()
    assert api.post(f"activities/{meeting.pk}/invitations?only_new=true").json()["errors"][0]["field"] == "attendees"

    call = services.log_activity(actor=admin, data={"type": "call", "subject": "x"})
    assert error_fields(api.post(f"activities/{call.pk}/invitations")) == {"type"}


def test_invitations_without_smtp_name_the_setting(api, admin, jon, no_smtp):
    meeting = services.log_activity(actor=admin, data={"type": "meeting", "subject": "Kick-off",
                                                        "attendees": [{"contact_id": jon.pk}]})
    body = assert_error_shape(api.post(f"activities/{meeting.pk}/invitations"), 400)
    assert "KITH_SMTP_URL" in body["detail"]


def test_viewers_read_but_never_write(api_for, admin, viewer, jon):
    note = services.log_activity(actor=admin, data={"type": "note", "body": "hi", "related": [f"contact:{jon.pk}"]})
    as_viewer = api_for(viewer)
    assert as_viewer.get(f"activities/{note.pk}").status_code == 200
    assert len(as_viewer.get("activities").json()["items"]) == 1
    for r in [as_viewer.post("activities", {"type": "note", "body": "mine"}),
              as_viewer.patch(f"activities/{note.pk}", {"body": "changed"}),
              as_viewer.delete(f"activities/{note.pk}"),
              as_viewer.post(f"activities/{note.pk}/restore")]:
        assert_error_shape(r, 403)
    assert Activity.objects.get(pk=note.pk).body == "hi" and Activity.objects.count() == 1


def test_own_visibility_hides_others_activities(api_for, admin, member, jon, own_visibility):
    from kith.contacts.services import create_contact

    mine = create_contact(actor=member, data={"first_name": "Mia", "email": "mia@example.com"})
    hidden = services.log_activity(actor=admin, data={"type": "note", "body": "secret", "related": [f"contact:{jon.pk}"]})
    shown = services.log_activity(actor=admin, data={"type": "call", "subject": "about Mia",
                                                      "related": [f"contact:{mine.pk}", f"contact:{jon.pk}"]})
    as_member = api_for(member)
    assert [a["id"] for a in as_member.get("activities").json()["items"]] == [shown.pk]
    assert_error_shape(as_member.get(f"activities/{hidden.pk}"), 404)
    assert_error_shape(as_member.patch(f"activities/{hidden.pk}", {"body": "x"}), 404)
    # The record the member cannot see is listed without its name.
    related = {(r["type"], r["id"]): r["name"] for r in as_member.get(f"activities/{shown.pk}").json()["related"]}
    assert related == {("contact", mine.pk): "Mia", ("contact", jon.pk): None}
    # Logging on a record one cannot see is refused, naming the field.
    r = as_member.post("activities", {"type": "note", "body": "x", "related": [f"contact:{jon.pk}"]})
    assert error_fields(r) == {"related"}
    # Nor may a member change what an admin logged.
    assert_error_shape(as_member.patch(f"activities/{shown.pk}", {"subject": "mine now"}), 403)


def test_a_page_costs_the_same_number_of_queries_however_many_rows(api, admin, member, jon, acme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def log(n: int) -> None:
        for i in range(n):
            services.log_activity(actor=admin, data={
                "type": "meeting", "subject": f"m{i}", "attendees": [{"user_id": member.pk}, {"contact_id": jon.pk}],
                "related": [f"contact:{jon.pk}", f"company:{acme.pk}"]})
            services.log_activity(actor=admin, data={"type": "call", "subject": f"c{i}", "related": [f"company:{acme.pk}"]})

    def queries(path: str, **params) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(path, **params).status_code == 200
        return len(ctx.captured_queries)

    log(2)
    api.get("users/me")  # the token's last use is written at most once a minute: out of the way first
    few = queries("activities"), queries(f"companies/{acme.pk}/timeline")
    log(10)
    assert (queries("activities"), queries(f"companies/{acme.pk}/timeline")) == few
