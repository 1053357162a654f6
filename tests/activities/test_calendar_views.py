"""The calendar: week and month ranges (time zones, daylight-saving weeks), what each view shows and where,
navigation, and whose calendar one may open."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
import zoneinfo
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from conftest import signed_in
from kith.activities import services
from kith.activities.views_calendar import (
    build_items,
    hour_span,
    items_by_day,
    month_range,
    place,
    week_range,
)

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def text(response) -> str:
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html_lib.unescape(page).split())


def at(tz, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


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


def task(actor, subject, due, assignee=None, **extra):
    return services.create_task(
        actor=actor,
        data={
            "subject": subject,
            "due_at": due.isoformat(),
            "assignee_id": (assignee or actor).pk,
            **extra,
        },
    )


def set_tz(user, name):
    services.update_user_settings(actor=user, user=user, data={"time_zone": name})


def day_section(html: str, label: str) -> str:
    """The HTML of one day column of the week view, by its label (e.g. "Tuesday 3 November")."""
    m = re.search(
        r'<section class="cal-daycol[^"]*" aria-label="' + re.escape(label) + r'">(.*?)</section>', html, re.S
    )
    assert m, f"no day column {label}"
    return m.group(1)


# --- ranges --------------------------------------------------------------------------------------------


def test_week_starts_on_monday_at_local_midnight():
    monday, start, end = week_range(dt.date(2026, 11, 19), BERLIN)  # a Thursday
    assert monday == dt.date(2026, 11, 16)
    assert start == at(BERLIN, 2026, 11, 16) and start.utcoffset() == dt.timedelta(hours=1)
    assert end - start == dt.timedelta(days=7)
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 11, 15, 23, 0, tzinfo=dt.UTC)


def test_week_with_daylight_saving_change_is_167_or_169_hours():
    # Europe/Berlin springs forward on Sunday 29 March 2026 and falls back on Sunday 25 October 2026.
    _, start, end = week_range(dt.date(2026, 3, 25), BERLIN)
    assert (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)) == dt.timedelta(hours=167)
    assert start.utcoffset() == dt.timedelta(hours=1) and end.utcoffset() == dt.timedelta(hours=2)
    _, start, end = week_range(dt.date(2026, 10, 25), BERLIN)
    assert (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)) == dt.timedelta(hours=169)


def test_month_grid_covers_whole_weeks():
    first, last, start, end = month_range(dt.date(2026, 2, 14), BERLIN)
    assert (first, last) == (dt.date(2026, 1, 26), dt.date(2026, 3, 1))  # Feb 2026 starts on a Sunday
    assert first.weekday() == 0 and last.weekday() == 6
    assert start == at(BERLIN, 2026, 1, 26) and end == at(BERLIN, 2026, 3, 2)
    first, last, _, _ = month_range(dt.date(2027, 2, 1), BERLIN)  # Feb 2027 starts on a Monday: 4 weeks
    assert (first, last) == (dt.date(2027, 2, 1), dt.date(2027, 2, 28))


def test_items_are_placed_by_local_time_across_a_daylight_saving_change(admin):
    # Two meetings at 10:00 Berlin time, before and after the March 2026 change: both in row 10:00.
    before = meeting(admin, "Before", at(BERLIN, 2026, 3, 27, 10, 0))
    after = meeting(admin, "After", at(BERLIN, 2026, 3, 30, 10, 0), minutes=90)
    _, start, end = week_range(dt.date(2026, 3, 27), BERLIN)
    items = build_items([before, after], BERLIN, start, end)
    assert [i.start.strftime("%a %H:%M") for i in items] == ["Fri 10:00"]  # 30 March is the next week
    _, start2, end2 = week_range(dt.date(2026, 3, 30), BERLIN)
    items2 = build_items([before, after], BERLIN, start2, end2)
    assert [i.time_label for i in items2] == ["10:00–11:30"]
    lo, hi = hour_span(items + items2)
    assert (lo, hi) == (7, 20)
    for i in items + items2:
        place(i, lo, hi)
    assert items[0].row == items2[0].row == (10 - 7) * 4 + 1
    assert items[0].span == 4 and items2[0].span == 6


def test_early_late_and_multi_day_items(admin):
    early = meeting(admin, "Early call", at(BERLIN, 2026, 11, 17, 6, 15), minutes=30)
    late = task(admin, "Late task", at(BERLIN, 2026, 11, 18, 22, 30))
    someday = task(admin, "Some time Thursday", at(BERLIN, 2026, 11, 19, 0, 0))
    offsite = meeting(admin, "Offsite", at(BERLIN, 2026, 11, 19, 9, 0), minutes=60 * 24 * 2)
    _, start, end = week_range(dt.date(2026, 11, 17), BERLIN)
    items = build_items([early, late, someday, offsite], BERLIN, start, end)
    assert hour_span(items) == (6, 23)
    by_day = items_by_day(items, dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert [i.title for i in by_day[dt.date(2026, 11, 19)] if i.all_day] == ["Some time Thursday", "Offsite"]
    assert [i.title for i in by_day[dt.date(2026, 11, 21)]] == ["Offsite"]
    assert by_day[dt.date(2026, 11, 21)][0].continues
    assert by_day[dt.date(2026, 11, 22)] == []


# --- the page ------------------------------------------------------------------------------------------


def test_week_view_shows_meetings_and_tasks_in_the_users_time_zone(member, admin):
    set_tz(member, "America/New_York")
    day = dt.date(2026, 11, 17)
    meeting(member, "Pipeline review", at(NEW_YORK, 2026, 11, 17, 9, 30), location="Room 4")
    invited = meeting(
        admin, "Board prep", at(NEW_YORK, 2026, 11, 18, 14, 0), attendees=[{"user_id": member.pk}]
    )
    t = task(admin, "Send proposal", at(NEW_YORK, 2026, 11, 19, 16, 0), assignee=member)
    meeting(admin, "Not mine", at(NEW_YORK, 2026, 11, 17, 11, 0))
    task(member, "Next week", at(NEW_YORK, 2026, 11, 24, 9, 0))
    r = signed_in(member).get("/calendar/", {"date": day.isoformat()})
    assert r.status_code == 200
    page = text(r)
    assert "16–22 November 2026" in page and "America/New_York" in page
    html = r.content.decode()
    tuesday = day_section(html, "Tuesday 17 November")
    assert "Pipeline review" in tuesday and "09:30–10:30" in tuesday and "Room 4" in tuesday
    assert 'class="cal-item cal-meeting cal-r11 cal-n4' in tuesday  # 09:30 is row 11 from 07:00, 4 quarters
    wednesday = day_section(html, "Wednesday 18 November")
    assert "Board prep" in wednesday and f'href="/activities/{invited.pk}/"' in wednesday
    thursday = day_section(html, "Thursday 19 November")
    assert "Send proposal" in thursday and "16:00" in thursday and f'href="/activities/{t.pk}/"' in thursday
    assert "Not mine" not in page and "Next week" not in page
    assert "3 items this week" in page


def test_week_view_marks_done_and_overdue_tasks(member):
    set_tz(member, "UTC")
    past = timezone.now() - dt.timedelta(hours=1)
    overdue = task(member, "Overdue thing", past)
    done = task(member, "Finished thing", past)
    services.complete_task(actor=member, task=done)
    # the week of the tasks (an hour ago may be last week, early on a Monday)
    html = signed_in(member).get("/calendar/", {"date": past.date().isoformat()}).content.decode()
    assert re.search(
        rf'class="cal-item cal-task[^"]*is-overdue[^"]*"><a href="/activities/{overdue.pk}/"', html
    )
    assert re.search(rf'class="cal-item cal-task[^"]*is-done[^"]*"><a href="/activities/{done.pk}/"', html)
    assert "Done task" in html


def test_month_view_lists_items_per_day_with_more_link(member):
    set_tz(member, "Europe/Berlin")
    for h in range(9, 14):
        meeting(member, f"Call {h}", at(BERLIN, 2026, 11, 10, h, 0), minutes=30)
    task(member, "Quarter report", at(BERLIN, 2026, 11, 30, 0, 0))
    r = signed_in(member).get("/calendar/", {"view": "month", "date": "2026-11-05"})
    page = text(r)
    assert "November 2026" in page
    assert "Call 9" in page and "Call 11" in page and "Call 12" not in page and "+2 more" in page
    assert "Quarter report" in page
    html = r.content.decode()
    assert 'href="/calendar/?view=week&amp;date=2026-11-10">+2 more</a>' in html
    # days of the neighbouring months are shown, dimmed: Mon 26 Oct … Sun 6 Dec
    assert html.count("is-other-month") == 12  # 26-31 October and 1-6 December
    assert (
        'aria-label="Monday 26 October: week view"' in html
        and 'aria-label="Sunday 6 December: week view"' in html
    )
    assert "week view, 5 items" in html


def test_navigation_links_and_htmx_fragment(member):
    c = signed_in(member)
    r = c.get("/calendar/", {"date": "2026-11-18"})
    html = r.content.decode()
    assert 'href="/calendar/?date=2026-11-09"' in html and 'href="/calendar/?date=2026-11-23"' in html
    assert 'href="/calendar/?date=2026-11-18&amp;view=month"' in html
    r = c.get("/calendar/", {"view": "month", "date": "2026-01-31"})
    html = r.content.decode()
    assert "date=2025-12-01" in html and "date=2026-02-01" in html
    frag = c.get("/calendar/", {"date": "2026-11-18"}, HTTP_HX_REQUEST="true")
    body = frag.content.decode()
    assert body.lstrip().startswith('<div id="calendar-body"') and "<html" not in body
    assert "HX-Request" in frag["Vary"]


def test_bad_parameters_fall_back_with_a_message(member):
    r = signed_in(member).get("/calendar/", {"date": "31/12/2026", "view": "year"})
    assert r.status_code == 200
    page = text(r)
    assert "“31/12/2026” is not a date" in page and "Choose week or month" in page


def test_viewer_sees_own_calendar_but_not_a_colleagues(viewer, member, admin):
    meeting(
        admin, "Viewer's demo", timezone.now() + dt.timedelta(minutes=5), attendees=[{"user_id": viewer.pk}]
    )
    c = signed_in(viewer)
    r = c.get("/calendar/")
    assert r.status_code == 200 and "Viewer's demo" in text(r)
    assert c.get("/calendar/", {"user": member.pk}).status_code == 404
    assert 'id="cal-user"' not in r.content.decode()
    assert signed_in(member).get("/calendar/", {"user": admin.pk}).status_code == 404


def test_manager_can_open_a_colleagues_calendar(manager, member):
    # a fixed week: a meeting "in five minutes" fell into next week's page late on a Sunday in New York
    set_tz(member, "America/New_York")
    meeting(member, "Bob's call", at(zoneinfo.ZoneInfo("America/New_York"), 2026, 3, 25, 10, 0))
    c = signed_in(manager)
    r = c.get("/calendar/", {"user": member.pk, "date": "2026-03-25"})
    page = text(r)
    assert "Bob Member’s meetings and tasks" in page and "Bob's call" in page and "America/New_York" in page
    assert re.search(f'<option value="{member.pk}" selected>Bob Member</option>', r.content.decode())
    assert "Bob's call" not in text(c.get("/calendar/", {"date": "2026-03-25"}))
    r = c.get("/calendar/", {"user": "999999"})
    assert "Choose a person from the list" in text(r)


def test_calendar_needs_sign_in():
    r = Client().get("/calendar/")
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_week_page_across_a_daylight_saving_change(member):
    # Berlin springs forward on Sunday 29 March 2026: 10:00 on Monday and on Sunday are one hour apart in UTC
    # terms but sit in the same row; 23:30 UTC on Sunday 29 March is already 01:30 on Monday, the next week.
    set_tz(member, "Europe/Berlin")
    meeting(member, "Monday standup", at(BERLIN, 2026, 3, 23, 10, 0), minutes=15)
    meeting(member, "Sunday brunch", at(BERLIN, 2026, 3, 29, 10, 0), minutes=90)
    meeting(member, "Night shift", dt.datetime(2026, 3, 29, 23, 30, tzinfo=dt.UTC), minutes=30)
    html = signed_in(member).get("/calendar/", {"date": "2026-03-25"}).content.decode()
    assert 'class="cal-item cal-meeting cal-r13 cal-n1 is-short"' in day_section(html, "Monday 23 March")
    assert 'class="cal-item cal-meeting cal-r13 cal-n6' in day_section(html, "Sunday 29 March")
    assert "Night shift" not in html
    html = signed_in(member).get("/calendar/", {"date": "2026-03-30"}).content.decode()
    monday = day_section(html, "Monday 30 March")
    assert "Night shift" in monday and "01:30–02:00" in monday


def test_only_overlapping_items_share_a_days_width(member):
    """Two meetings at the same time sit side by side (half the day each); a task later that day, which
    overlaps nothing, keeps the whole width instead of being squeezed into a column of its own."""
    set_tz(member, "Europe/Berlin")
    a = meeting(member, "Standup", at(BERLIN, 2026, 11, 17, 9, 0), minutes=60)
    b = meeting(member, "Customer call", at(BERLIN, 2026, 11, 17, 9, 30), minutes=60)
    c = meeting(member, "Lunch", at(BERLIN, 2026, 11, 17, 12, 0), minutes=60)
    t = task(member, "Send the notes", at(BERLIN, 2026, 11, 17, 15, 0))
    html = signed_in(member).get("/calendar/", {"date": "2026-11-17"}).content.decode()
    tuesday = day_section(html, "Tuesday 17 November")

    def classes(pk):
        m = re.search(rf'<li class="([^"]*)"><a href="/activities/{pk}/"', tuesday)
        assert m, f"activity {pk} is not in the day"
        return m.group(1).split()

    assert {"cal-c1", "cal-w6"} <= set(classes(a.pk)) and {"cal-c7", "cal-w6"} <= set(classes(b.pk))
    for pk in (c.pk, t.pk):  # no lane classes: the whole width (the CSS default)
        assert not [k for k in classes(pk) if k.startswith(("cal-c", "cal-w"))], classes(pk)


def test_week_is_also_a_list_of_days_for_phones(member):
    """Below 760 px the seven-column grid is hidden and the same week shows as a list of days (CSS)."""
    set_tz(member, "Europe/Berlin")
    meeting(member, "Pipeline review", at(BERLIN, 2026, 11, 17, 9, 30), location="Room 4")
    html = signed_in(member).get("/calendar/", {"date": "2026-11-17"}).content.decode()
    assert '<div class="cal-agenda"' in html, "no list of days"
    agenda = html.split('<div class="cal-agenda"')[1].split('class="cal-foot')[0]
    days = re.findall(r'aria-label="(\w+ \d+ \w+) \(list\)"', agenda)
    assert days[0] == "Monday 16 November" and days[-1] == "Sunday 22 November" and len(days) == 7
    tuesday = agenda.split('aria-label="Tuesday 17 November (list)"')[1].split("</section>")[0]
    assert "Pipeline review" in tuesday and "09:30–10:30" in tuesday and "Room 4" in tuesday
    monday = agenda.split('aria-label="Monday 16 November (list)"')[1].split("</section>")[0]
    assert "Nothing planned" in monday
    css = Path(finders.find("activities/activities.css")).read_text()
    assert re.search(r"@media \(max-width: 760px\) \{\s*\.cal-week \{ display: none; \}", css)


def test_month_view_shows_a_meetings_start_time_only(member):
    """A month cell is narrow: "09:30 Pipeline review", the end time only for screen readers."""
    set_tz(member, "Europe/Berlin")
    meeting(member, "Pipeline review", at(BERLIN, 2026, 11, 17, 9, 30))
    html = signed_in(member).get("/calendar/", {"view": "month", "date": "2026-11-17"}).content.decode()
    cell = html.split('aria-label="Tuesday 17 November: week view')[1].split('role="cell"')[0]
    assert (
        '09:30<span class="visually-hidden">–10:30</span></span> <span class="cal-subject">Pipeline review'
        in cell
    )
