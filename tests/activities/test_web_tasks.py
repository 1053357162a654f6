"""Tasks in the web UI: quick-add from a record, the Tasks page (groups, filters, Load more), one-click
complete and undo, edit, cancel and trash."""

from __future__ import annotations

import datetime as dt
import html
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from kith.activities import services
from kith.activities.models import Activity, Reminder, TaskStatus
from kith.contacts.services import create_company, create_contact
from kith.core.models import Notification

from .conftest import HX, page_text

pytestmark = pytest.mark.django_db

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.fixture
def ada(admin):
    return create_contact(
        actor=admin, data={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
    )


def task(actor, **data):
    data.setdefault("assignee_id", actor.pk)
    return services.create_task(actor=actor, data=data)


def titles(response) -> list[str]:
    found = re.findall(r'<p class="task-title"><a href="[^"]+">([^<]+)</a>', response.content.decode())
    return [html.unescape(t) for t in found]


def groups(response) -> list[str]:
    return re.findall(r'<h2 class="task-group-title"[^>]*>([^<]+)</h2>', response.content.decode())


# --- quick-add -----------------------------------------------------------------------------------------


def test_quick_add_form_defaults_to_tomorrow_nine_in_my_time_zone_and_me(signed_in, member, ada):
    services.update_user_settings(actor=member, user=member, data={"time_zone": "Asia/Tokyo"})
    response = signed_in(member).get(f"/tasks/new/?related=contact:{ada.pk}&slot=1", **HX)
    assert response.status_code == 200
    html = response.content.decode()
    tomorrow = timezone.localtime(timezone.now(), TOKYO).date() + dt.timedelta(days=1)
    assert f'name="due_date" value="{tomorrow.isoformat()}"' in html
    assert 'name="due_time" value="09:00"' in html
    assert re.search(rf'<option value="{member.pk}" selected>Bob Member</option>', html)
    assert f'name="related" value="contact:{ada.pk}"' in html
    assert "New task for Ada Lovelace" in page_text(response)
    assert "<html" not in html  # a fragment for the form slot


def test_quick_add_creates_the_task_on_the_record_with_a_reminder(signed_in, member, ada):
    services.update_user_settings(actor=member, user=member, data={"time_zone": "Asia/Tokyo"})
    client = signed_in(member)
    day = timezone.localtime(timezone.now(), TOKYO).date() + dt.timedelta(days=3)
    response = client.post(
        "/tasks/new/",
        {
            "slot": "1",
            "inline": "1",
            "related": f"contact:{ada.pk}",
            "title": "Send the proposal",
            "due_date": day.isoformat(),
            "due_time": "16:30",
            "assignee": str(member.pk),
            "priority": "high",
            "reminder": "15",
            "repeat": "",
            "description": "Use the **new** prices",
        },
        **HX,
    )
    assert response.status_code == 200
    assert "Task “Send the proposal” was added" in page_text(response)
    assert "kith:timeline-changed" in response["HX-Trigger"]
    oob = response.content.decode().split('id="timeline-body"', 1)
    assert len(oob) == 2 and 'hx-swap-oob="true"' in oob[1][:200]  # the timeline, refreshed in place
    assert "Send the proposal" in oob[1]
    t = Activity.objects.get(type="task")
    assert t.due_at == dt.datetime.combine(day, dt.time(16, 30), tzinfo=TOKYO)
    assert (t.subject, t.priority, t.reminder_minutes, t.assignee, t.owner) == (
        "Send the proposal",
        "high",
        15,
        member,
        member,
    )
    assert services.related_records(t) == [("contact", ada)]
    assert Reminder.objects.get(activity=t).remind_at == t.due_at - dt.timedelta(minutes=15)
    # The timeline of the contact lists it (refreshed out of band when the timeline is installed).
    timeline = client.get(reverse("web:activity_timeline", args=["contact", ada.pk]))
    assert "Send the proposal" in page_text(timeline)


def test_quick_add_shows_errors_next_to_the_fields_and_writes_nothing(signed_in, member, ada):
    client = signed_in(member)
    response = client.post(
        "/tasks/new/",
        {
            "slot": "1",
            "related": f"contact:{ada.pk}",
            "title": "",
            "due_date": "",
            "due_time": "",
            "assignee": str(member.pk),
            "priority": "normal",
            "reminder": "30",
            "repeat": "weekly",
        },
        **HX,
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_title_error"' in html and "A task needs a title." in html
    assert Activity.objects.count() == 0

    response = client.post(
        "/tasks/new/",
        {
            "slot": "1",
            "related": f"contact:{ada.pk}",
            "title": "Ring back",
            "due_date": "",
            "due_time": "",
            "assignee": str(member.pk),
            "priority": "normal",
            "reminder": "30",
            "repeat": "weekly",
        },
        **HX,
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_reminder_error".*A reminder needs a due date and time', html, re.S)
    assert re.search(r'id="id_repeat_error".*A repeating task needs a due date', html, re.S)
    assert Activity.objects.count() == 0


def test_quick_add_cancel_empties_the_slot(signed_in, member, ada):
    response = signed_in(member).get(f"/tasks/add-button/?slot=1&related=contact:{ada.pk}", **HX)
    assert response.status_code == 200 and response.content == b""


def test_a_record_i_cannot_see_is_not_found(settings, signed_in, admin, member):
    settings.KITH_RECORD_VISIBILITY = "own"
    secret = create_contact(actor=admin, data={"first_name": "Secret", "owner_id": admin.pk})
    assert signed_in(member).get(f"/tasks/new/?related=contact:{secret.pk}").status_code == 404


def test_viewers_cannot_add_tasks(signed_in, viewer, ada):
    client = signed_in(viewer)
    assert client.get(f"/tasks/new/?related=contact:{ada.pk}").status_code == 403
    assert (
        client.post(
            "/tasks/new/", {"title": "x", "assignee": str(viewer.pk), "priority": "normal"}
        ).status_code
        == 403
    )


def test_full_page_new_task_assigns_someone_else_who_is_notified(signed_in, admin, member, ada):
    response = signed_in(admin).post(
        "/tasks/new/",
        {
            "related": f"contact:{ada.pk}",
            "title": "Check the contract",
            "due_date": "2031-05-06",
            "due_time": "",
            "assignee": str(member.pk),
            "priority": "normal",
            "reminder": "",
            "repeat": "every_n_days",
            "every_n_days": "3",
        },
    )
    assert response.status_code == 302 and response["Location"] == ada.get_absolute_url()
    t = Activity.objects.get(type="task")
    assert timezone.localtime(t.due_at).time() == dt.time(9, 0)  # no time given: 9:00
    assert (t.recurrence, t.recurrence_interval) == ("every_n_days", 3)
    note = Notification.objects.get(user=member, kind="assigned")
    assert note.title == "Alice Admin assigned you a task: Check the contract"
    assert note.url == t.get_absolute_url()


# --- the Tasks page ------------------------------------------------------------------------------------


def test_tasks_page_shows_my_open_tasks_grouped(signed_in, admin, member, ada):
    now = timezone.now()
    task(member, subject="Overdue call", due_at=now - dt.timedelta(days=2))
    task(member, subject="Later today", due_at=timezone.localtime(now).replace(hour=23, minute=59))
    task(member, subject="Next week", due_at=now + dt.timedelta(days=7), related=[f"contact:{ada.pk}"])
    task(member, subject="Someday")
    done = task(member, subject="Finished", due_at=now + dt.timedelta(days=1))
    services.complete_task(actor=member, task=done)
    task(admin, subject="Not mine", due_at=now)
    response = signed_in(member).get(reverse("web:task_list"))
    assert response.status_code == 200
    assert titles(response) == ["Overdue call", "Later today", "Next week", "Someday"]
    assert groups(response) == ["Overdue", "Today", "Upcoming", "No date"]
    text = page_text(response)
    assert "Your open tasks" in text and "Ada Lovelace" in text


def test_tasks_page_filters(signed_in, admin, member, ada):
    company = create_company(actor=admin, data={"name": "Acme"})
    now = timezone.now()
    task(
        member,
        subject="Mine urgent",
        priority="urgent",
        due_at=now + dt.timedelta(days=1),
        related=[f"contact:{ada.pk}"],
    )
    task(admin, subject="Alice's", due_at=now + dt.timedelta(days=2), related=[f"company:{company.pk}"])
    unassigned = task(admin, subject="Nobody's", assignee_id=None, due_at=now + dt.timedelta(days=10))
    cancelled = task(member, subject="Dropped", due_at=now + dt.timedelta(days=3))
    services.update_activity(actor=member, activity=cancelled, data={"status": "cancelled"})
    client = signed_in(member)

    def shown(**params):
        response = client.get(reverse("web:task_list"), params, **HX)
        assert response.status_code == 200, page_text(response)
        return titles(response)

    assert shown() == ["Mine urgent"]
    assert shown(assignee="anyone") == ["Mine urgent", "Alice's", "Nobody's"]
    assert shown(assignee=str(admin.pk)) == ["Alice's"]
    assert shown(assignee="none") == ["Nobody's"]
    assert shown(assignee="anyone", status="cancelled") == ["Dropped"]
    assert shown(assignee="anyone", status="all") == ["Mine urgent", "Alice's", "Dropped", "Nobody's"]
    assert shown(assignee="anyone", priority="urgent") == ["Mine urgent"]
    local = timezone.localtime(unassigned.due_at).date()
    assert shown(assignee="anyone", due_after=local.isoformat()) == ["Nobody's"]
    assert shown(assignee="anyone", due_before=(local - dt.timedelta(days=1)).isoformat()) == [
        "Mine urgent",
        "Alice's",
    ]
    assert shown(assignee="anyone", related="contact") == ["Mine urgent"]
    assert shown(assignee="anyone", related="company") == ["Alice's"]
    assert shown(assignee="anyone", related="none") == ["Nobody's"]
    bad = client.get(reverse("web:task_list"), {"due_after": "yesterday"})
    assert bad.status_code == 400 and "Enter a valid date" in page_text(bad)


def test_load_more_walks_every_task_once_then_the_undated_ones(settings, signed_in, member):
    settings.KITH_UI_PAGE_SIZE = 4
    start = timezone.now() - dt.timedelta(days=3)
    expected = []
    for i in range(9):
        expected.append(task(member, subject=f"Dated {i}", due_at=start + dt.timedelta(hours=12 * i)).subject)
    for i in range(6):
        expected.append(task(member, subject=f"Undated {i}").subject)
    client = signed_in(member)
    response = client.get(reverse("web:task_list"))
    seen = titles(response)
    pages = 1
    while True:
        match = re.search(r'id="task-more".*?hx-get="([^"]+)"', response.content.decode(), re.S)
        if not match:
            break
        url = match.group(1).replace("&amp;", "&")
        response = client.get(url, **HX)
        assert response.status_code == 200
        assert "<html" not in response.content.decode()
        seen += titles(response)
        pages += 1
    assert seen == expected
    assert pages == 4
    # A continued group has no second heading; a new group starts with one.
    assert page_text(response).count("No date") <= 1


def test_a_stale_cursor_is_a_clear_error(signed_in, member):
    response = signed_in(member).get(reverse("web:task_list"), {"cursor": "x.nonsense"})
    assert response.status_code == 400
    assert "out of date" in page_text(response)


# --- complete in one click, undo -----------------------------------------------------------------------


def test_complete_from_the_list_and_undo(signed_in, member):
    t = task(member, subject="Tick me", due_at=timezone.now() + dt.timedelta(hours=1), reminder_minutes=0)
    client = signed_in(member)
    response = client.post(reverse("web:task_complete", args=[t.pk]), {"done": "1", "swap": "item"}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<li class="task-item') and "is-done" in html
    assert re.search(r'name="done" value="1" checked', html)
    assert "kith:task-changed" in response["HX-Trigger"]
    t.refresh_from_db()
    assert t.status == TaskStatus.DONE and t.completed_at is not None
    assert Reminder.objects.filter(activity=t, fired_at__isnull=True).count() == 0  # no reminder once done

    response = client.post(reverse("web:task_complete", args=[t.pk]), {"swap": "check"}, **HX)  # unticked
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<form class="task-check"') and " checked" not in html
    t.refresh_from_db()
    assert t.status == TaskStatus.OPEN and t.completed_at is None
    assert Reminder.objects.filter(activity=t, fired_at__isnull=True).count() == 1  # reminder back


def test_complete_without_javascript_redirects_with_a_message(signed_in, member):
    t = task(member, subject="Plain form")
    response = signed_in(member).post(reverse("web:task_complete", args=[t.pk]), {"done": "1"}, follow=True)
    assert "Task “Plain form” is done." in page_text(response)


def test_viewer_cannot_complete(signed_in, admin, viewer):
    t = task(admin, subject="Read only")
    response = signed_in(viewer).post(reverse("web:task_complete", args=[t.pk]), {"done": "1"}, **HX)
    assert response.status_code == 403
    t.refresh_from_db()
    assert t.status == TaskStatus.OPEN


def test_completing_a_repeating_task_creates_the_next_one(
    signed_in, member, django_capture_on_commit_callbacks
):
    from .conftest import run_jobs

    due = timezone.now() + dt.timedelta(hours=2)
    t = task(member, subject="Weekly report", due_at=due, recurrence="weekly")
    signed_in(member).post(reverse("web:task_complete", args=[t.pk]), {"done": "1", "swap": "item"}, **HX)
    run_jobs()
    nxt = Activity.objects.filter(type="task", status="open", subject="Weekly report").get()
    assert nxt.due_at == due + dt.timedelta(weeks=1)


# --- edit, cancel, trash -------------------------------------------------------------------------------


def test_edit_a_task(signed_in, member, manager):
    t = task(member, subject="Draft", due_at=timezone.now() + dt.timedelta(days=1))
    client = signed_in(member)
    page = client.get(reverse("web:task_edit", args=[t.pk]))
    assert page.status_code == 200 and 'value="Draft"' in page.content.decode()
    response = client.post(
        reverse("web:task_edit", args=[t.pk]),
        {
            "title": "Final",
            "due_date": "2031-01-02",
            "due_time": "10:15",
            "assignee": str(manager.pk),
            "priority": "low",
            "reminder": "60",
            "repeat": "",
            "description": "",
            "version": str(t.version),
        },
    )
    assert response.status_code == 302
    t.refresh_from_db()
    assert (t.subject, t.priority, t.assignee, t.reminder_minutes) == ("Final", "low", manager, 60)
    assert timezone.localtime(t.due_at).strftime("%Y-%m-%d %H:%M") == "2031-01-02 10:15"
    assert Notification.objects.filter(user=manager, kind="assigned").count() == 1


def test_edit_with_a_stale_version_is_a_conflict(signed_in, member):
    t = task(member, subject="Shared")
    old = t.version
    services.update_activity(actor=member, activity=t, data={"subject": "Changed elsewhere"})
    response = signed_in(member).post(
        reverse("web:task_edit", args=[t.pk]),
        {"title": "Mine", "assignee": str(member.pk), "priority": "normal", "version": str(old)},
    )
    assert response.status_code == 409
    assert "Someone else changed this task" in page_text(response)
    t.refresh_from_db()
    assert t.subject == "Changed elsewhere"


def test_cancel_and_trash(signed_in, member):
    t = task(member, subject="Maybe later", due_at=timezone.now() + dt.timedelta(days=1), reminder_minutes=0)
    client = signed_in(member)
    response = client.post(reverse("web:task_cancel", args=[t.pk]), follow=True)
    assert "was cancelled" in page_text(response)
    t.refresh_from_db()
    assert t.status == TaskStatus.CANCELLED
    assert Reminder.objects.filter(activity=t, fired_at__isnull=True).count() == 0
    confirm = client.get(reverse("web:task_delete", args=[t.pk]))
    assert "Move “Maybe later” to the trash?" in page_text(confirm)
    response = client.post(reverse("web:task_delete", args=[t.pk]), follow=True)
    assert "was moved to the trash" in page_text(response)
    assert Activity.all_objects.get(pk=t.pk).deleted_at is not None
    assert "Maybe later" not in titles(client.get(reverse("web:task_list"), {"status": "all"}))


def test_a_task_can_be_left_unassigned(signed_in, member, ada):
    response = signed_in(member).post(
        "/tasks/new/",
        {
            "related": f"contact:{ada.pk}",
            "title": "Someone should call",
            "due_date": "",
            "due_time": "",
            "assignee": "",
            "priority": "normal",
            "reminder": "",
            "repeat": "",
        },
    )
    assert response.status_code == 302
    t = Activity.objects.get(type="task")
    assert t.assignee is None and t.due_at is None
    listed = signed_in(member).get(reverse("web:task_list"), {"assignee": "none"})
    assert titles(listed) == ["Someone should call"]
    assert "Nobody assigned" in page_text(listed)
