"""My day, the home page: overdue and today's tasks (done in one click), today's meetings, leads waiting for a
first response and deals going cold — what each shows, what it leaves out, and that it stays a few queries."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import signed_in
from kith.activities import services
from kith.activities.models import Activity, ActivityLink
from kith.activities.views_myday import going_cold, waiting_leads
from kith.sales import services as sales
from kith.sales.models import Deal, Lead, Stage

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(html: str, heading_id: str) -> str:
    """The visible text of one My day card, by its heading id."""
    m = re.search(r'<section class="card" aria-labelledby="' + heading_id + r'">(.*?)</section>', html, re.S)
    assert m, heading_id
    return text(m.group(1))


def task(actor, subject, due, assignee=None, **extra):
    return services.create_task(
        actor=actor,
        data={"subject": subject, "due_at": due.isoformat(), "assignee_id": (assignee or actor).pk, **extra},
    )


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


def age(model, obj, days):
    model.all_objects.filter(pk=obj.pk).update(created_at=timezone.now() - dt.timedelta(days=days))


@pytest.fixture
def pipeline(db):
    return sales.ensure_default_pipeline()


@pytest.fixture
def local_day(member):
    """Pin the member's time zone so "today" is well defined; returns (tz, local midnight today). The zone is
    one where it is about noon now and not the workspace's UTC, so a task due at 23:30 today is not yet
    overdue and one due at 22:00 yesterday is, whenever the test runs (Pacific/Auckland failed it for the
    half hour before each local midnight)."""
    hours = 12 - timezone.now().hour  # UTC+hours puts local time between 12:00 and 12:59
    hours = 2 if hours == 0 else hours
    name = f"Etc/GMT{-hours:+d}"  # (the Etc zones' signs are inverted: Etc/GMT-5 is UTC+5)
    services.update_user_settings(actor=member, user=member, data={"time_zone": name})
    tz = zoneinfo.ZoneInfo(name)
    today = timezone.localtime(timezone.now(), tz).date()
    return tz, dt.datetime.combine(today, dt.time.min, tzinfo=tz)


# --- tasks and meetings --------------------------------------------------------------------------------


def test_tasks_overdue_and_today_in_the_users_time_zone(member, admin, local_day):
    _, midnight = local_day
    contact = __import__("kith.contacts.services", fromlist=["x"]).create_contact(
        actor=admin, data={"first_name": "Ann", "last_name": "Lee"}
    )
    task(
        admin,
        "Yesterday's call back",
        midnight - dt.timedelta(hours=2),
        assignee=member,
        related=[{"type": "contact", "id": contact.pk}],
    )
    task(member, "Send the contract", midnight + dt.timedelta(hours=23, minutes=30), priority="urgent")
    task(member, "Tomorrow's thing", midnight + dt.timedelta(days=1, hours=1))
    task(admin, "Alice's own task", midnight + dt.timedelta(hours=10))
    done = task(member, "Already done", midnight + dt.timedelta(hours=9))
    services.complete_task(actor=member, task=done)
    html = signed_in(member).get("/").content.decode()
    tasks = section(html, "myday-tasks-heading")
    overdue, _, today = tasks.partition(" Today ")
    yesterday = (midnight - dt.timedelta(hours=2)).date()
    assert "Overdue tasks" in overdue
    assert f"Yesterday's call back Ann Lee Due {yesterday.strftime('%b')} {yesterday.day}" in overdue
    assert "Send the contract Urgent 23:30" in today and "Yesterday" not in today
    for absent in ["Tomorrow's thing", "Alice's own task", "Already done"]:
        assert absent not in tasks
    assert tasks.startswith("Tasks 2")


def test_complete_a_task_in_one_click(member, local_day):
    _, midnight = local_day
    t = task(member, "Call Ann", midnight + dt.timedelta(hours=12))
    c = signed_in(member)
    html = c.get("/").content.decode()
    url = reverse("web:task_complete", args=[t.pk])
    row = re.search(
        rf'<li class="related-item myday-task" id="myday-task-{t.pk}">(.*?)</li>', html, re.S
    ).group(1)
    assert f'hx-post="{url}"' in row and 'hx-trigger="change"' in row and "Done: Call Ann" in text(row)
    assert " disabled" not in row
    r = c.post(url, {"done": "1"}, **HX)
    assert r.status_code == 200 and "Done" in text(r.content.decode())
    assert Activity.objects.get(pk=t.pk).status == "done"
    assert "Call Ann" not in section(c.get("/").content.decode(), "myday-tasks-heading")


def test_viewer_cannot_complete_tasks(viewer, admin, local_day):
    t = task(admin, "Viewer's task", timezone.now() + dt.timedelta(minutes=1), assignee=admin)
    Activity.objects.filter(pk=t.pk).update(assignee=viewer)
    c = signed_in(viewer)
    html = c.get("/").content.decode()
    assert "Viewer's task" in section(html, "myday-tasks-heading")
    assert (
        f'<input type="checkbox" class="task-checkbox" id="task-done-{t.pk}-check" name="done" value="1" disabled>'
        in html
    )
    assert c.post(reverse("web:task_complete", args=[t.pk]), {"done": "1"}).status_code == 403
    assert Activity.objects.get(pk=t.pk).status == "open"


def test_todays_meetings(member, admin, local_day):
    _, midnight = local_day
    meeting(member, "Standup", midnight + dt.timedelta(hours=9), minutes=15, location="Room 2")
    meeting(
        admin,
        "Board prep",
        midnight + dt.timedelta(hours=14),
        attendees=[{"user_id": member.pk}],
        video_url="https://meet.example.com/abc",
    )
    meeting(member, "Tomorrow's review", midnight + dt.timedelta(days=1, hours=9))
    meeting(admin, "Not invited", midnight + dt.timedelta(hours=11))
    html = signed_in(member).get("/").content.decode()
    meetings = section(html, "myday-meetings-heading")
    assert re.search(r"09:00 –09:15 Standup .*Room 2.* 14:00 –15:00 Board prep .*Video call", meetings)
    assert "Tomorrow's review" not in meetings and "Not invited" not in meetings


# --- leads waiting for a first response ----------------------------------------------------------------


def test_leads_waiting_for_a_first_response(member, admin, pipeline):
    waiting = sales.create_lead(
        actor=admin, data={"first_name": "Wendy", "company_name": "Waiting Co", "owner_id": member.pk}
    )
    age(Lead, waiting, 1)
    answered = sales.create_lead(actor=admin, data={"first_name": "Andy", "owner_id": member.pk})
    services.log_activity(
        actor=member,
        data={"type": "call", "subject": "Hello", "related": [{"type": "lead", "id": answered.pk}]},
    )
    sales.create_lead(actor=admin, data={"first_name": "Quinn", "owner_id": member.pk, "status": "qualified"})
    sales.create_lead(actor=admin, data={"first_name": "Otto", "owner_id": admin.pk})
    assert Lead.objects.get(pk=answered.pk).first_response_at is not None
    assert [lead.first_name for lead in waiting_leads(member)] == ["Wendy"]
    html = signed_in(member).get("/").content.decode()
    leads = section(html, "myday-leads-heading")
    assert "Wendy" in leads and "Waiting Co" in leads and "waiting 1 day" in leads
    for absent in ["Andy", "Quinn", "Otto"]:
        assert absent not in leads
    assert f'href="/leads/{waiting.pk}/"' in html
    assert 'class="related-meta myday-late">waiting 1' in html  # past the first-response time (60 minutes)


# --- deals going cold ----------------------------------------------------------------------------------


def test_going_cold_deals(member, admin, pipeline):
    def deal(name, created_days_ago, owner=member, last_activity_days_ago=None):
        d = sales.create_deal(actor=admin, data={"name": name, "amount": "1000", "owner_id": owner.pk})
        age(Deal, d, created_days_ago)
        if last_activity_days_ago is not None:
            services.log_activity(
                actor=member,
                data={
                    "type": "call",
                    "subject": f"Call about {name}",
                    "related": [{"type": "deal", "id": d.pk}],
                    "occurred_at": (timezone.now() - dt.timedelta(days=last_activity_days_ago)).isoformat(),
                },
            )
        return d

    silent = deal("Silent deal", 40)
    stale = deal("Stale deal", 60, last_activity_days_ago=20)
    deal("Fresh activity", 60, last_activity_days_ago=3)
    deal("New deal", 5)
    deal("Alice's deal", 40, owner=admin)
    won = deal("Won deal", 40)
    sales.move_deal(
        actor=admin, deal=won, stage_id=Stage.objects.filter(kind="won").values_list("pk", flat=True)[0]
    )
    Deal.all_objects.filter(pk=won.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    ActivityLink.objects.filter(record_type="deal", record_id=won.pk).delete()
    # A deal whose only recent activity was deleted is cold again.
    trashed = deal("Deleted call", 40, last_activity_days_ago=1)
    services.delete_activity(actor=member, activity=Activity.objects.get(subject="Call about Deleted call"))

    with CaptureQueriesContext(connection) as q:
        names = [d.name for d in going_cold(member)]
    assert len(q.captured_queries) == 1
    assert set(names) == {"Silent deal", "Stale deal", "Deleted call"}
    assert names.index("Silent deal") < names.index("Stale deal")  # never touched first
    html = signed_in(member).get("/").content.decode()
    cold = section(html, "myday-cold-heading")
    assert "Silent deal" in cold and "no activity yet" in cold
    assert "Stale deal" in cold and "last activity 20 days ago" in cold
    for absent in ["Fresh activity", "New deal", "Alice's deal", "Won deal"]:
        assert absent not in cold
    assert f'href="/deals/{silent.pk}/"' in html and f'href="/deals/{stale.pk}/"' in html and trashed


# --- the page as a whole -------------------------------------------------------------------------------


def test_home_is_my_day_and_keeps_quick_actions(member):
    html = signed_in(member).get("/").content.decode()
    page = text(html)
    for expected in [
        "My day",
        "Tasks",
        "No tasks due today. Nothing overdue either.",
        "Today’s meetings",
        "No meetings today.",
        "Leads waiting for a first response",
        "No new leads are waiting for you.",
        "Deals going cold",
        "New contact",
        "Recently updated contacts",
    ]:
        assert expected in page, expected
    assert 'href="/calendar/"' in html
    assert "activities/activities.css" in html


def test_my_day_takes_a_handful_of_queries(member, admin, pipeline, local_day):
    _, midnight = local_day
    contact = __import__("kith.contacts.services", fromlist=["x"]).create_contact(
        actor=admin, data={"first_name": "Ann"}
    )
    for i in range(15):
        task(
            member,
            f"Task {i}",
            midnight + dt.timedelta(hours=1 + i % 20) - dt.timedelta(days=i % 2),
            related=[{"type": "contact", "id": contact.pk}],
        )
        meeting(member, f"Meeting {i}", midnight + dt.timedelta(hours=1, minutes=i))
        sales.create_lead(actor=admin, data={"first_name": f"Lead {i}", "owner_id": member.pk})
        d = sales.create_deal(actor=admin, data={"name": f"Deal {i}", "amount": "10", "owner_id": member.pk})
        age(Deal, d, 30)
    c = signed_in(member)
    c.get("/")
    with CaptureQueriesContext(connection) as q:
        r = c.get("/")
    assert r.status_code == 200
    page = text(r.content.decode())
    assert "Task 14" in page and "Meeting 14" in page and "Lead 0" in page and "Deal 0" in page
    assert len(q.captured_queries) <= 20, "\n".join(x["sql"][:120] for x in q.captured_queries)
