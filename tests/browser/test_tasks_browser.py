"""Tasks in a real Chromium: add a task with a reminder from a contact page in two clicks, see it on the
timeline, complete it with one click, find it on the Tasks page and undo."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conftest import login
from kith.activities.models import Activity, Reminder
from kith.contacts import services

pytestmark = pytest.mark.browser




def test_add_a_task_with_a_reminder_from_a_contact_and_complete_it(page, member, console_errors):
    ada = services.create_contact(actor=member, data={"first_name": "Ada", "last_name": "Lovelace",
                                                      "email": "ada@example.com"})
    login(page, member)
    page.goto(ada.get_absolute_url())

    # Click 1: "Add task" opens the quick-add form under the actions row, title focused, due tomorrow 9:00.
    page.get_by_role("group", name=re.compile("Log an activity")).get_by_role("link", name="Add task").click()
    form = page.get_by_role("form", name="New task for Ada Lovelace")
    expect(form).to_be_visible()
    expect(form.get_by_label("Title")).to_be_focused()
    expect(form.get_by_label("Time")).to_have_value("09:00")
    expect(form.get_by_label("Assignee")).to_have_value(str(member.pk))
    expect(form.get_by_label("Every how many days")).to_be_hidden()
    # Submitting without a title shows the error next to the field, nothing is written.
    form.get_by_role("button", name="Add task").click()
    expect(page.get_by_text("A task needs a title.").first).to_be_visible()
    assert not Activity.objects.filter(type="task").exists()

    form = page.get_by_role("form", name="New task for Ada Lovelace")
    form.get_by_label("Title").fill("Call Ada about the demo")
    form.get_by_label("Reminder").select_option(label="15 minutes before")
    form.get_by_label("Priority").select_option(label="High")
    form.get_by_label("Repeat").select_option(label="Every N days")
    expect(form.get_by_label("Every how many days")).to_be_visible()
    form.get_by_label("Repeat").select_option(label="Does not repeat")
    # Click 2: save.
    form.get_by_role("button", name="Add task").click()
    expect(page.get_by_role("status").filter(has_text="Task “Call Ada about the demo” was added")).to_be_visible()

    task = Activity.objects.get(type="task")
    assert (task.subject, task.reminder_minutes, task.priority, task.assignee_id) == (
        "Call Ada about the demo", 15, "high", member.pk)
    assert Reminder.objects.filter(activity=task, fired_at__isnull=True).count() == 1

    # The task is on the contact's timeline; one click on its checkbox completes it.
    timeline = page.locator("#timeline-body")
    expect(timeline.get_by_role("link", name="Call Ada about the demo")).to_be_visible()
    done = timeline.get_by_role("checkbox", name="Done: Call Ada about the demo")
    expect(done).not_to_be_checked()
    done.check()
    expect(timeline.get_by_role("checkbox", name="Done: Call Ada about the demo")).to_be_checked()
    expect(timeline.locator(".task-state-done")).to_have_text("Done")
    task.refresh_from_db()
    assert task.status == "done"
    assert Reminder.objects.filter(activity=task, fired_at__isnull=True).count() == 0

    # The Tasks page: nothing open any more; with "Any status" it is there, done; unticking reopens it.
    page.goto("/tasks/")  # (the "Tasks" link of the main navigation is added to base.html by the lead)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tasks")
    expect(page.get_by_text("No open tasks")).to_be_visible()
    page.get_by_label("Status").select_option(label="Any status")
    item = page.locator(".task-item", has_text="Call Ada about the demo")
    expect(item).to_be_visible()
    expect(page).to_have_url(re.compile(r"status=all"))
    box = item.get_by_role("checkbox", name="Done: Call Ada about the demo")
    expect(box).to_be_checked()
    box.uncheck()
    expect(page.locator(".task-item", has_text="Call Ada about the demo")).not_to_have_class(re.compile("is-done"))
    task.refresh_from_db()
    assert task.status == "open"
    assert console_errors == []
