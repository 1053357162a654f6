"""The review queue's status switch (Open / Dismissed / Merged) and "Reopen" for a pair marked as not a duplicate."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from conftest import signed_in
from kith.duplicates import detection, services
from kith.duplicates.models import DuplicatePair

pytestmark = pytest.mark.django_db

QUEUE = reverse("web:duplicate_list")


def text(response) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture
def pair(contact):
    contact(first_name="Jon", last_name="Smith", email="jon@acme.com", phone="+442079460018")
    contact(first_name="John", last_name="Smith", email="john.smith@gmail.com", phone="020 7946 0018", country="GB")
    detection.scan("contact")
    return DuplicatePair.objects.get()


def test_dismissed_pairs_are_listed_under_dismissed_and_reopen_puts_them_back(admin, member, pair):
    c = signed_in(member)
    c.post(reverse("web:duplicate_dismiss", args=[pair.pk]))
    page = text(c.get(QUEUE))
    assert "No likely duplicate contacts" in page
    assert "Open 0" in page and "Dismissed 1" in page and "Merged 0" in page

    r = c.get(QUEUE + "?status=dismissed")
    page = text(r)
    assert r.status_code == 200
    assert "Jon Smith and John Smith" in page
    assert "Marked as not a duplicate" in page and f"by {member.display_name}" in page
    assert "Reopen Jon Smith and John Smith" in page and "Not a duplicate" not in page and "Merge…" not in page
    reopen = reverse("web:duplicate_reopen", args=[pair.pk])
    assert f'action="{reopen}"' in r.content.decode()

    r = c.post(reopen, {"next": QUEUE + "?status=dismissed"}, follow=True)
    page = text(r)
    assert r.redirect_chain[-1][0] == QUEUE + "?status=dismissed"
    assert "Put Jon Smith and John Smith back in the duplicates queue." in page
    assert "No contact pairs marked as not duplicates." in page
    pair.refresh_from_db()
    assert pair.status == "open" and pair.decided_by is None

    page = text(c.get(QUEUE))
    assert "Jon Smith and John Smith" in page and "Not a duplicate" in page and "Open 1" in page


def test_the_status_switch_keeps_the_kind_and_the_confidence_filter(admin, pair):
    c = signed_in(admin)
    services.dismiss_pair(actor=admin, pair=pair)
    body = c.get(QUEUE + "?type=contact&min=50").content.decode()
    assert 'href="/duplicates/?type=contact&amp;min=50&amp;status=dismissed"' in body
    body = c.get(QUEUE + "?type=contact&status=dismissed").content.decode()
    assert '<input type="hidden" name="status" value="dismissed">' in body
    assert "Jon Smith" in text(c.get(QUEUE + "?type=contact&status=dismissed&min=0"))
    assert "Jon Smith" not in text(c.get(QUEUE + "?type=company&status=dismissed"))
    assert "No company pairs marked as not duplicates." in text(c.get(QUEUE + "?type=company&status=dismissed"))
    assert "Jon Smith" not in text(c.get(QUEUE + f"?status=dismissed&min={pair.confidence + 1}"))
    # an unknown status is the open queue
    assert "No likely duplicate contacts" in text(c.get(QUEUE + "?status=bogus"))


def test_merged_pairs_are_listed_with_the_merged_record_in_the_trash(admin, pair):
    services.merge(actor=admin, object_type="contact", survivor_id=pair.a_id, loser_id=pair.b_id, pair_id=pair.pk)
    c = signed_in(admin)
    assert "No likely duplicate contacts" in text(c.get(QUEUE))
    r = c.get(QUEUE + "?status=merged")
    page = text(r)
    assert "Merged 1" in page and "Merged by" not in page
    # the survivor (#a, named as chosen at the merge) is linked; the merged-away record is in the trash
    assert f"John Smith and John Smith (in the trash) {pair.confidence}% likely" in page
    body = r.content.decode()
    assert f'href="/contacts/{pair.a_id}/"' in body and f'href="/contacts/{pair.b_id}/"' not in body
    assert f"by {admin.display_name}" in page and "Reopen" not in page and "Not a duplicate" not in page
    # reopening a merged pair is refused with a reason, and changes nothing
    r = c.post(reverse("web:duplicate_reopen", args=[pair.pk]), follow=True)
    assert "These records were merged; undo the merge instead." in text(r)
    pair.refresh_from_db()
    assert pair.status == "merged"


def test_viewer_sees_dismissed_pairs_but_cannot_reopen(admin, viewer, pair):
    services.dismiss_pair(actor=admin, pair=pair)
    c = signed_in(viewer)
    page = text(c.get(QUEUE + "?status=dismissed"))
    assert "Jon Smith and John Smith" in page and "Reopen" not in page
    assert c.post(reverse("web:duplicate_reopen", args=[pair.pk])).status_code == 403
    pair.refresh_from_db()
    assert pair.status == "dismissed"


def test_reopen_needs_the_records_to_be_visible_and_a_post(settings, admin, member, contact):
    from kith.contacts import services as contacts

    settings.KITH_RECORD_VISIBILITY = "own"
    contacts.create_contact(actor=member, data={"first_name": "Ken", "last_name": "Adams", "email": "ken@acme.com"})
    contact(first_name="Ken", last_name="Adams", email="k.en@acme.com")  # owned by the admin
    detection.scan("contact")
    pair = DuplicatePair.objects.get()
    services.dismiss_pair(actor=admin, pair=pair)
    c = signed_in(member)
    assert "Ken Adams" not in text(c.get(QUEUE + "?status=dismissed"))
    assert c.post(reverse("web:duplicate_reopen", args=[pair.pk])).status_code == 404
    assert c.post(reverse("web:duplicate_reopen", args=[999999])).status_code == 404
    assert signed_in(admin).get(reverse("web:duplicate_reopen", args=[pair.pk])).status_code == 405
    assert Client().post(reverse("web:duplicate_reopen", args=[pair.pk])).status_code == 302  # to sign in
    pair.refresh_from_db()
    assert pair.status == "dismissed"


def test_reopening_an_open_pair_says_so(admin, pair):
    r = signed_in(admin).post(reverse("web:duplicate_reopen", args=[pair.pk]), follow=True)
    assert "This pair is already in the duplicates queue." in text(r)
