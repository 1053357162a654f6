"""The timeline is the one place for a record's history on the contact, company, lead and deal pages: every
change with its labels (custom fields and tags too), newest first and on the first page even among many
activities, compact when an edit changes many fields."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import signed_in
from kith.contacts.models import Contact
from kith.contacts.services import create_company, create_contact, update_company, update_contact
from kith.core.models import CustomField

from .test_web_timeline import entry_ids, log, page_text

pytestmark = pytest.mark.django_db


def timeline_text(html: str) -> str:
    import html as html_lib

    part = html.split('id="timeline-entries"', 1)[1].split(">", 1)[1].split("</ol>", 1)[0]
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", part)).split())


def test_recent_changes_are_on_the_first_page_among_many_activities(admin, member):
    CustomField.objects.create(
        object_type="contact", key="region", label="Region", field_type="select", choices=["EMEA", "APAC"]
    )
    ada = create_contact(actor=admin, data={"first_name": "Ada", "custom_fields": {"region": "EMEA"}})
    long_ago = timezone.now() - dt.timedelta(days=3)
    for i in range(30):
        log(
            admin,
            ada,
            type="note",
            body=f"Old note {i}",
            occurred_at=(long_ago - dt.timedelta(minutes=i)).isoformat(),
        )
    ada = Contact.objects.get(pk=ada.pk)
    update_contact(actor=member, contact=ada, data={"custom_fields": {"region": "APAC"}, "tags": ["vip"]})

    html = signed_in(admin).get(ada.get_absolute_url()).content.decode()
    assert 'id="history-heading"' not in html
    ids = entry_ids(html)
    assert ids[0].startswith("change-") and len(ids) == 20  # the newest change first, then the newest notes
    text = timeline_text(html)
    assert text.startswith("Bob Member updated just now")
    assert "Region: EMEA → APAC" in text and "Tags: (empty) → vip" in text
    # the creation is older than the notes: on a later page, or in the Changes filter right away
    changes = page_text(
        signed_in(admin).get(reverse("web:activity_timeline", args=["contact", ada.pk]), {"types": "change"})
    )
    assert "Alice Admin created this contact" in changes and "Region: EMEA → APAC" in changes


def test_an_edit_of_many_fields_shows_four_and_folds_the_rest(admin):
    acme = create_company(actor=admin, data={"name": "Acme"})
    update_company(
        actor=admin,
        company=acme,
        data={
            "name": "Acme Corp",
            "domain": "acme.example",
            "industry": "Rockets",
            "city": "Berlin",
            "size": 120,
            "phone": "+49 30 1234567",
        },
    )
    html = signed_in(admin).get(acme.get_absolute_url()).content.decode()
    entry = re.search(r'<li class="tl-entry tl-change tl-change-update".*?</details>', html, re.S).group(0)
    shown, folded = entry.split("<details", 1)
    assert shown.count('class="change-label"') == 4 and folded.count('class="change-label"') == 3
    assert "<summary>3 more changes</summary>" in folded
    text = timeline_text(html)
    for fact in [
        "Name: Acme → Acme Corp",
        "Domain: (empty) → acme.example",
        "Industry: (empty) → Rockets",
        "City: (empty) → Berlin",
        "Employees: (empty) → 120",
        "Phone: (empty) → +49301234567",
    ]:
        assert fact in text, fact


def test_a_deal_created_in_a_stage_is_not_a_stage_move(admin):
    from kith.sales import services as sales

    sales.ensure_default_pipeline()
    deal = sales.create_deal(actor=admin, data={"name": "Big deal", "amount": "900"})
    text = timeline_text(signed_in(admin).get(deal.get_absolute_url()).content.decode())
    assert text.startswith("Alice Admin created this deal") and "moved the stage" not in text


def test_undo_merge_is_on_the_surviving_companys_timeline(admin, viewer):
    from kith.duplicates.services import merge

    keep = create_company(actor=admin, data={"name": "Acme", "domain": "acme.com"})
    lose = create_company(actor=admin, data={"name": "ACME Inc", "city": "Berlin"})
    m = merge(actor=admin, object_type="company", survivor_id=keep.pk, loser_id=lose.pk)
    html = signed_in(admin).get(keep.get_absolute_url()).content.decode()
    text = timeline_text(html)
    assert text.startswith(f"Alice Admin merged ACME Inc (#{lose.pk}) into this company")
    assert f'<form method="post" action="/merges/{m.pk}/undo/"' in html and "Undo merge" in text
    assert "Undo merge" not in timeline_text(signed_in(viewer).get(keep.get_absolute_url()).content.decode())
    r = signed_in(admin).post(f"/merges/{m.pk}/undo/", follow=True)
    text = timeline_text(r.content.decode())
    assert text.startswith("Alice Admin undid the merge of ACME Inc") and "This merge was undone." in text
