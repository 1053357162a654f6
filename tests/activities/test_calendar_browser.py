"""The calendar and My day in a real Chromium: find a meeting in the week, page through weeks and months
(htmx swaps, the address follows), open a busy day from the month, and tick a task done on the home page."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from playwright.sync_api import expect

from conftest import login
from kith.activities import services
from kith.activities.models import Activity

pytestmark = pytest.mark.browser

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.fixture
def console_errors(page):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_calendar_week_month_and_my_day(page, member, console_errors):
    services.update_user_settings(actor=member, user=member, data={"time_zone": "Europe/Berlin"})
    today = dt.datetime.now(BERLIN).date()
    monday = today - dt.timedelta(days=today.weekday())
    next_monday = monday + dt.timedelta(days=7)

    def at(day, hour, minute=0):
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)

    review = services.log_activity(
        actor=member,
        data={
            "type": "meeting",
            "subject": "Pipeline review",
            "occurred_at": at(monday, 9, 30).isoformat(),
            "ends_at": at(monday, 10, 30).isoformat(),
            "location": "Room 4",
        },
    )
    for h in range(9, 14):
        services.log_activity(
            actor=member,
            data={
                "type": "meeting",
                "subject": f"Demo call {h}",
                "occurred_at": at(next_monday, h).isoformat(),
                "ends_at": at(next_monday, h, 30).isoformat(),
            },
        )
    task = services.create_task(
        actor=member,
        data={
            "subject": "Send the proposal",
            "due_at": at(today, 23, 30).isoformat(),
            "assignee_id": member.pk,
        },
    )

    login(page, member)
    page.get_by_role("region", name=re.compile("^Today’s meetings")).get_by_role(
        "link", name="Calendar"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendar")
    monday_col = page.get_by_role("region", name=re.compile(rf"^Monday {monday.day} "))
    expect(monday_col.get_by_role("link", name=re.compile("09:30–10:30 Pipeline review"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Send the proposal"))).to_be_visible()

    page.get_by_role("link", name="Next week").click()
    expect(page).to_have_url(re.compile(rf"date={next_monday.isoformat()}"))
    expect(page.get_by_role("link", name=re.compile("Demo call 13"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Pipeline review"))).to_have_count(0)

    page.get_by_role("link", name="Month", exact=True).click()
    expect(page).to_have_url(re.compile("view=month"))
    expect(page.get_by_role("link", name="+2 more")).to_be_visible()
    page.get_by_role("link", name="+2 more").click()
    expect(page.get_by_role("link", name=re.compile("Demo call 13"))).to_be_visible()
    expect(page.get_by_role("link", name="Week", exact=True)).to_have_attribute("aria-current", "true")

    page.get_by_role("link", name=re.compile("Demo call 9")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demo call 9")

    page.goto("/")
    tasks = page.get_by_role("region", name=re.compile("^Tasks"))
    expect(tasks.get_by_role("link", name="Send the proposal")).to_be_visible()
    tasks.get_by_label("Done: Send the proposal").check()
    expect(tasks.get_by_text("Done", exact=True)).to_be_visible()
    assert Activity.objects.get(pk=task.pk).status == "done"
    meetings = page.get_by_role("region", name=re.compile("^Today’s meetings"))
    if today == monday:
        expect(meetings.get_by_role("link", name="Pipeline review")).to_be_visible()
    assert review.pk and console_errors == []


def test_on_a_phone_the_week_is_a_list_and_record_pages_do_not_scroll_sideways(page, member, console_errors):
    """At 390 px the week shows as a list of days (the grid is hidden), and a contact page with a long deal
    name in its timeline and side cards stays within the screen's width."""
    from kith.contacts.services import create_company, create_contact

    services.update_user_settings(actor=member, user=member, data={"time_zone": "Europe/Berlin"})
    start = dt.datetime.now(BERLIN).replace(hour=10, minute=0, second=0, microsecond=0)
    ada = create_contact(
        actor=member, data={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@x.com"}
    )
    group = create_company(
        actor=member, data={"name": "Thistle & Crown Publishing – International Enterprise Group"}
    )
    services.log_activity(
        actor=member,
        data={
            "type": "meeting",
            "subject": "Quarterly business review with the whole procurement committee",
            "occurred_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "related": [f"contact:{ada.pk}"],
        },
    )
    services.log_activity(
        actor=member,
        data={
            "type": "note",
            "body": "Met at the conference.",
            "related": [f"contact:{ada.pk}", f"company:{group.pk}"],
        },
    )
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, member)
    page.goto("/calendar/")
    days = page.get_by_role("list", name=re.compile("day by day"))
    expect(days).to_be_visible()
    expect(page.locator(".cal-week")).to_be_hidden()
    expect(days.get_by_role("link", name=re.compile("Quarterly business review"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.goto(f"/contacts/{ada.pk}/")
    expect(page.get_by_role("link", name=re.compile("Quarterly business review"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert console_errors == []
