"""Activities in a real Chromium: log a call from a contact page; mention a colleague in a comment and see
the notification as that colleague."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conftest import login
from kith.activities.models import Activity, Comment
from kith.contacts import services

pytestmark = pytest.mark.browser




@pytest.fixture
def ada(admin):
    acme = services.create_company(actor=admin, data={"name": "Acme Rockets", "domain": "acmerockets.com"})
    return services.create_contact(actor=admin, data={"first_name": "Ada", "last_name": "Lovelace",
                                                     "email": "ada@acmerockets.com", "company_id": acme.pk})


def test_log_a_call_from_a_contact_page(page, admin, ada, console_errors):
    from kith.sales import services as sales

    sales.ensure_default_pipeline()
    deal = sales.create_deal(actor=admin, data={"name": "Rocket fuel order", "amount": "5000"})
    login(page, admin)
    page.goto(ada.get_absolute_url())
    timeline = page.get_by_role("region", name="Activity")
    expect(timeline).to_contain_text("created this contact")

    # Click 1: the inline form opens with the focus in it; the contact is already related.
    timeline.get_by_role("link", name="Log call").click()
    form = page.get_by_role("form", name=re.compile("Log a call"))
    subject = form.get_by_label("Subject")
    expect(subject).to_be_focused()
    expect(form.get_by_role("list", name="Related records")).to_contain_text("Ada Lovelace")

    # A mistake first: the error shows next to the field, nothing is saved.
    subject.fill("Discovery call")
    form.get_by_label("Duration (minutes)").fill("a while")
    form.get_by_role("button", name="Save call").click()
    expect(form.get_by_label("Duration (minutes)")).to_have_attribute("aria-invalid", "true")
    expect(form).to_contain_text("Enter minutes")
    assert Activity.objects.count() == 0

    form.get_by_label("Duration (minutes)").fill("12")
    form.get_by_label("Outcome").select_option(label="Connected")
    form.get_by_label("Notes").fill("Wants **three** rockets by May")
    # The call is about a deal too: pick it in the related records picker.
    picker = form.get_by_role("combobox", name="Related records")
    picker.fill("rocket fuel")
    form.get_by_role("option", name=re.compile("Rocket fuel order")).click()
    related = form.get_by_role("list", name="Related records")
    expect(related).to_contain_text("Rocket fuel order")
    expect(related.get_by_role("listitem")).to_have_count(2)
    # Click 2: saved; the call is at the top of the timeline without a page load.
    form.get_by_role("button", name="Save call").click()
    expect(page.get_by_role("status").filter(has_text="The call was logged")).to_be_visible()
    first = page.locator("#timeline-entries > li").first
    expect(first).to_contain_text("Alice Admin logged an outbound call Discovery call")
    expect(first).to_contain_text("Connected")
    expect(first).to_contain_text("12 min")
    expect(first.locator("strong", has_text="three")).to_be_visible()
    call = Activity.objects.get(subject="Discovery call")
    assert call.duration_seconds == 720
    expect(first).to_contain_text("Also on deal Rocket fuel order")
    assert call.links.filter(record_type="deal", record_id=deal.pk).exists()

    # The filter chips narrow the timeline to calls.
    page.get_by_role("navigation", name="Show in the timeline").get_by_role("link", name="Calls").click()
    expect(page.locator("#timeline-entries > li")).to_have_count(1)

    # The call's own page, from the timeline.
    first.get_by_role("link", name="Discovery call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Discovery call")
    expect(page.get_by_role("region", name="Related records")).to_contain_text("Ada Lovelace")
    assert console_errors == []


def test_mention_a_colleague_and_they_see_the_notification(page, admin, member, ada, console_errors):
    login(page, admin)
    page.goto(ada.get_absolute_url())
    box = page.get_by_label("Comment", exact=True)
    box.click()
    box.type("Bob, can you call her? @bo")
    picker = page.get_by_role("listbox", name="Mention a colleague")
    expect(picker).to_be_visible()
    option = picker.get_by_role("option", name=re.compile("Bob Member"))
    expect(option).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(box).to_have_value("Bob, can you call her? @bob@example.com ")
    expect(picker).to_be_hidden()
    box.type("thanks")
    page.get_by_role("button", name="Comment", exact=True).click()

    comment_entry = page.locator("#timeline-entries > li").first
    expect(comment_entry).to_contain_text("Alice Admin commented")
    expect(comment_entry.locator(".mention")).to_have_text("@Bob Member")
    expect(box).to_have_value("")
    comment = Comment.objects.get()

    # Bob signs in: the bell shows one unread notification, which leads to the comment.
    page.get_by_role("button", name="Sign out").click()
    login(page, member)
    bell = page.get_by_role("link", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    bell.click()
    link = page.get_by_role("link", name=re.compile("Alice Admin mentioned you on Ada Lovelace"))
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(re.compile(rf"/contacts/{ada.pk}/#comment-{comment.pk}$"))
    expect(page.locator(f"#comment-{comment.pk}")).to_contain_text("Bob, can you call her?")
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()  # no unread left
    assert console_errors == []
