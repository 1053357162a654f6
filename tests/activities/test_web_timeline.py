"""The timeline on record pages: every kind of entry, the type filter, keyset "load more", pinned notes first,
a company's roll-up of its people's and deals' activities, and harmless rendering of hostile content."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import signed_in
from kith.activities import services
from kith.contacts.services import create_company, create_contact

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    import html as html_lib

    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html_lib.unescape(body).split())


@pytest.fixture
def acme(admin):
    return create_company(actor=admin, data={"name": "Acme Rockets", "domain": "acmerockets.com"})


@pytest.fixture
def ada(admin, acme):
    return create_contact(
        actor=admin,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@acmerockets.com",
            "company_id": acme.pk,
        },
    )


def log(actor, record, **data):
    return services.log_activity(actor=actor, data={"related": [f"{record.object_type}:{record.pk}"], **data})


def test_contact_page_shows_each_kind_of_entry(admin, member, ada):
    log(
        admin,
        ada,
        type="call",
        subject="Intro call",
        direction="inbound",
        outcome="connected",
        duration_seconds=330,
        body="Talked about *rockets*",
    )
    start = timezone.now() + dt.timedelta(days=1)
    log(
        admin,
        ada,
        type="meeting",
        subject="Demo day",
        occurred_at=start.isoformat(),
        ends_at=(start + dt.timedelta(hours=1)).isoformat(),
        location="Room 4",
        video_url="https://meet.example.com/abc",
        attendees=[f"contact:{ada.pk}", f"user:{member.pk}"],
        body="1. Show the engine",
    )
    log(admin, ada, type="note", body="Prefers **email** over phone")
    log(
        admin,
        ada,
        type="email",
        subject="Pricing",
        direction="outbound",
        email_from="alice@example.com",
        email_to="ada@acmerockets.com",
        body="Here are our prices",
    )
    services.create_task(
        actor=admin,
        data={
            "subject": "Send the contract",
            "assignee_id": member.pk,
            "due_at": (timezone.now() + dt.timedelta(days=2)).isoformat(),
            "related": [f"contact:{ada.pk}"],
        },
    )
    services.add_comment(
        actor=admin, record_type="contact", record_id=ada.pk, body="Great lead, @bob@example.com"
    )

    response = signed_in(admin).get(ada.get_absolute_url())
    assert response.status_code == 200
    text = page_text(response)
    html = response.content.decode()
    # call: direction, outcome, duration, notes as Markdown
    assert "Alice Admin logged an inbound call Intro call" in text
    assert "Connected" in text and "5 min 30 s" in text
    assert "<em>rockets</em>" in html
    # meeting: time, location, video link, attendees, agenda
    assert "Demo day" in text and "Room 4" in text
    assert 'href="https://meet.example.com/abc"' in html
    assert re.search(r"With Ada Lovelace ?, Bob Member", text)
    # note, email, task, comment, and the contact's creation from history
    assert "<strong>email</strong>" in html
    assert "logged a sent email Pricing" in text and "To ada@acmerockets.com" in text
    assert "created a task Send the contract" in text and "Bob Member" in text
    assert 'class="task-check' in html  # the one-click "done" checkbox
    assert "Alice Admin commented" in text
    assert '<span class="mention" title="bob@example.com">@Bob Member</span>' in html
    assert "Alice Admin created this contact" in text
    # relative time with the exact time on hover
    assert re.search(
        r'<time datetime="[^"]+" title="[A-Z][a-z]{2} [A-Z][a-z]{2} \d+, \d{4}, \d\d:\d\d">just now</time>',
        html,
    )


def entry_ids(html: str) -> list[str]:
    """Timeline entries in page order, as "activity-7", "comment-3", "change-12" (pinned ones as "pinned-7")."""
    return re.findall(r'<li class="tl-entry[^"]*" id="((?:activity|comment|change|pinned)-\d+)"', html)


def htmx(client, url, **params):
    return client.get(url, params, HTTP_HX_REQUEST="true")


def test_type_filter_shows_only_that_kind(admin, ada):
    call = log(admin, ada, type="call", subject="Intro call")
    note = log(admin, ada, type="note", body="A note")
    services.add_comment(actor=admin, record_type="contact", record_id=ada.pk, body="A comment")
    client = signed_in(admin)
    url = reverse("web:activity_timeline", args=["contact", ada.pk])

    calls = htmx(client, url, types="call")
    assert calls.status_code == 200
    assert entry_ids(calls.content.decode()) == [f"activity-{call.pk}"]
    assert re.search(r'aria-current="true">Calls</a>', calls.content.decode())

    notes = htmx(client, url, types="note")
    assert entry_ids(notes.content.decode()) == [f"activity-{note.pk}"]

    comments = page_text(htmx(client, url, types="comment"))
    assert "A comment" in comments and "Intro call" not in comments

    changes = page_text(htmx(client, url, types="change"))
    assert "created this contact" in changes and "Intro call" not in changes

    everything = entry_ids(htmx(client, url).content.decode())
    assert f"activity-{call.pk}" in everything and f"activity-{note.pk}" in everything
    assert any(i.startswith("comment-") for i in everything) and any(
        i.startswith("change-") for i in everything
    )

    bad = htmx(client, url, types="gossip")
    assert bad.status_code == 400
    assert "Unknown type gossip" in page_text(bad)


def test_load_more_pages_through_everything_once(admin, ada):
    base = timezone.now() - dt.timedelta(days=10)
    made = []
    for i in range(45):
        # Several share a timestamp: the keyset cursor must still not skip or repeat any.
        made.append(
            log(
                admin,
                ada,
                type="note",
                body=f"Note number {i}",
                occurred_at=(base + dt.timedelta(minutes=i // 3)).isoformat(),
            ).pk
        )
    client = signed_in(admin)
    first = client.get(ada.get_absolute_url()).content.decode()
    seen = entry_ids(first)
    assert len(seen) == 20
    nxt = re.search(r'<li class="tl-more" hx-get="([^"]+)" hx-trigger="revealed"', first)
    pages = 1
    while nxt:
        url = nxt.group(1).replace("&amp;", "&")
        fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert "<html" not in fragment
        seen += entry_ids(fragment)
        nxt = re.search(r'<li class="tl-more" hx-get="([^"]+)" hx-trigger="revealed"', fragment)
        pages += 1
    assert pages >= 3
    assert len(seen) == len(set(seen)), "an entry was shown twice"
    assert {f"activity-{pk}" for pk in made} <= set(seen)
    # newest first
    notes = [int(i.split("-")[1]) for i in seen if i.startswith("activity-")]
    assert notes == sorted(made, key=lambda pk: (made.index(pk) // 3, pk), reverse=True)

    # Without JavaScript the "Load more" link opens the same page of the timeline as a page.
    later = re.search(r'<a class="btn btn-secondary btn-sm" href="([^"]+)"[^>]*rel="next"', first).group(1)
    later = later.replace("&amp;", "&")
    full = client.get(later)
    assert full.status_code == 200 and "<html" in full.content.decode()
    assert entry_ids(full.content.decode())[0] == seen[20]


def test_pinned_notes_come_first(admin, ada):
    old = log(
        admin,
        ada,
        type="note",
        body="Always call before noon",
        occurred_at=(timezone.now() - dt.timedelta(days=30)).isoformat(),
    )
    for i in range(3):
        log(admin, ada, type="call", subject=f"Call {i}")
    client = signed_in(admin)
    html = client.get(ada.get_absolute_url()).content.decode()
    assert entry_ids(html)[0] != f"pinned-{old.pk}"

    # Pin it from the timeline (htmx): it moves into the "Pinned" section at the top.
    r = client.post(
        reverse("web:activity_pin", args=[old.pk]),
        {"pinned": "1", "record": f"contact:{ada.pk}"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    assert entry_ids(r.content.decode())[0] == f"pinned-{old.pk}"
    html = client.get(ada.get_absolute_url()).content.decode()
    ids = entry_ids(html)
    assert ids[0] == f"pinned-{old.pk}"
    assert f"activity-{old.pk}" not in ids  # not repeated further down
    assert "Pinned" in page_text(client.get(ada.get_absolute_url()))

    # Unpin: back in its place in time.
    client.post(reverse("web:activity_pin", args=[old.pk]), {"pinned": "0"})
    ids = entry_ids(client.get(ada.get_absolute_url()).content.decode())
    assert f"pinned-{old.pk}" not in ids and f"activity-{old.pk}" in ids


def test_company_timeline_includes_its_people_and_deals(admin, acme, ada):
    from kith.sales import services as sales

    sales.ensure_default_pipeline()
    deal = sales.create_deal(
        actor=admin, data={"name": "Rocket fuel deal", "amount": "500", "company_id": acme.pk}
    )
    call = log(admin, ada, type="call", subject="Call with Ada")
    note = log(admin, deal, type="note", body="Deal note about fuel")
    other = create_contact(actor=admin, data={"first_name": "Grace", "last_name": "Hopper"})
    elsewhere = log(admin, other, type="call", subject="Unrelated call")

    response = signed_in(admin).get(acme.get_absolute_url())
    html = response.content.decode()
    ids = entry_ids(html)
    assert f"activity-{call.pk}" in ids and f"activity-{note.pk}" in ids
    assert f"activity-{elsewhere.pk}" not in ids
    text = page_text(response)
    assert "Via contact Ada Lovelace" in text
    assert "Via deal Rocket fuel deal" in text
    # On the contact's own page the contact is not repeated as a link to itself.
    contact_page = page_text(signed_in(admin).get(ada.get_absolute_url()))
    assert "Also on contact Ada Lovelace" not in contact_page


def test_lead_and_deal_pages_show_stage_moves_and_conversions(admin):
    from kith.sales import services as sales

    pipeline = sales.ensure_default_pipeline()
    stages = {s.name: s for s in pipeline.stages.all()}
    deal = sales.create_deal(actor=admin, data={"name": "Big deal", "amount": "900"})
    sales.move_deal(actor=admin, deal=deal, stage_id=stages["Proposal"].pk)
    log(admin, deal, type="meeting", subject="Negotiation")
    text = page_text(signed_in(admin).get(deal.get_absolute_url()))
    assert "Negotiation" in text
    assert "Alice Admin moved the stage" in text and "Proposal" in text

    lead = sales.create_lead(
        actor=admin,
        data={
            "first_name": "Linus",
            "last_name": "Lead",
            "email": "linus@leadco.example.com",
            "company_name": "Lead Co",
        },
    )
    log(admin, lead, type="call", subject="Qualifying call")
    sales.convert_lead(actor=admin, lead=lead)
    text = page_text(signed_in(admin).get(lead.get_absolute_url()))
    assert "Qualifying call" in text
    assert "Alice Admin converted this lead" in text


def test_hostile_note_and_email_are_rendered_harmless(admin, ada):
    log(admin, ada, type="note", body='<script>alert("note")</script> [click](javascript:alert(1)) **ok**')
    log(
        admin,
        ada,
        type="email",
        subject="Newsletter",
        direction="inbound",
        email_from="spam@evil.test",
        email_html='<p onclick="alert(2)">Hello <b>there</b></p><img src="https://tracker.evil.test/p.gif">'
        '<script>alert(3)</script><a href="javascript:alert(4)">x</a><style>body{display:none}</style>'
        '<iframe src="https://evil.test"></iframe>',
    )
    response = signed_in(admin).get(ada.get_absolute_url())
    html = response.content.decode()
    assert "<script>alert" not in html
    assert '&lt;script&gt;alert("note")&lt;/script&gt;' in html  # shown as text
    assert "<strong>ok</strong>" in html
    assert 'href="javascript:' not in html
    assert "onclick" not in html
    assert "tracker.evil.test" not in html
    assert "<iframe" not in html and "display:none" not in html
    assert "<p>Hello <b>there</b></p>" in html


def test_viewer_sees_the_timeline_but_cannot_log(admin, viewer, ada):
    log(admin, ada, type="call", subject="Intro call")
    client = signed_in(viewer)
    response = client.get(ada.get_absolute_url())
    text = page_text(response)
    assert "Intro call" in text
    assert "Log call" not in text and "comment-box" not in response.content.decode()
    r = client.post(reverse("web:activity_log", args=["contact", ada.pk, "call"]), {"subject": "Sneaky"})
    assert r.status_code == 403
    r = client.post(reverse("web:comment_add", args=["contact", ada.pk]), {"body": "Sneaky"})
    assert r.status_code == 403


def test_own_visibility_hides_others_records_and_their_activities(admin, member, settings):
    settings.KITH_RECORD_VISIBILITY = "own"
    mine = create_contact(actor=admin, data={"first_name": "Mine", "owner_id": member.pk})
    theirs = create_contact(actor=admin, data={"first_name": "Theirs", "owner_id": admin.pk})
    secret = log(admin, theirs, type="note", body="Secret note")
    shared = services.log_activity(
        actor=admin,
        data={
            "type": "call",
            "subject": "Shared call",
            "related": [f"contact:{mine.pk}", f"contact:{theirs.pk}"],
        },
    )
    client = signed_in(member)
    assert client.get(reverse("web:activity_timeline", args=["contact", theirs.pk])).status_code == 404
    assert client.get(reverse("web:activity_detail", args=[secret.pk])).status_code == 404
    page = client.get(mine.get_absolute_url())
    text = page_text(page)
    assert "Shared call" in text
    assert "Theirs" not in text  # the other related record is not shown to the member
    detail = page_text(client.get(reverse("web:activity_detail", args=[shared.pk])))
    assert "Mine" in detail and "Theirs" not in detail


def test_company_timeline_includes_its_people_and_deals_comments(admin, acme, ada, api_for):
    from kith.sales import services as sales

    sales.ensure_default_pipeline()
    deal = sales.create_deal(actor=admin, data={"name": "Rocket fuel deal", "amount": "500", "company_id": acme.pk})
    other = create_contact(actor=admin, data={"first_name": "Grace", "last_name": "Hopper"})
    on_ada = services.add_comment(actor=admin, record_type="contact", record_id=ada.pk, body="Ada wants a demo")
    on_deal = services.add_comment(actor=admin, record_type="deal", record_id=deal.pk, body="Fuel prices **up**")
    on_acme = services.add_comment(actor=admin, record_type="company", record_id=acme.pk, body="Acme renews in May")
    elsewhere = services.add_comment(actor=admin, record_type="contact", record_id=other.pk, body="Grace elsewhere")

    response = signed_in(admin).get(acme.get_absolute_url())
    ids = entry_ids(response.content.decode())
    assert [i for i in ids if i.startswith("comment-")] == [
        f"comment-{on_acme.pk}", f"comment-{on_deal.pk}", f"comment-{on_ada.pk}"]  # newest first
    text = page_text(response)
    assert "commented on contact Ada Lovelace" in text and "commented on deal Rocket fuel deal" in text
    assert "Grace elsewhere" not in text
    assert f'on contact <a href="{ada.get_absolute_url()}">Ada Lovelace</a>' in response.content.decode()
    # the contact's own page shows its comment without the "on contact" line
    contact_page = page_text(signed_in(admin).get(ada.get_absolute_url()))
    assert "Ada wants a demo" in contact_page and "commented on contact" not in contact_page
    # only comments, a page of two at a time: each once, in order
    client = signed_in(admin)
    seen, cursor = [], None
    while True:
        body = api_for(admin).get(f"/api/v1/companies/{acme.pk}/timeline", types="comment", limit=2,
                                  **({"cursor": cursor} if cursor else {})).json()
        seen += [(e["comment"]["id"], e["comment"]["record_type"], e["comment"]["record_id"]) for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [(on_acme.pk, "company", acme.pk), (on_deal.pk, "deal", deal.pk), (on_ada.pk, "contact", ada.pk)]
    assert elsewhere.pk not in [s[0] for s in seen]
    assert client.get(acme.get_absolute_url()).status_code == 200


def test_merging_companies_moves_their_people_s_comments_and_undo_puts_them_back(admin, acme, ada):
    from kith.duplicates import services as dup

    copy = create_company(actor=admin, data={"name": "Acme Rockets Inc"})
    bob = create_contact(actor=admin, data={"first_name": "Bob", "last_name": "Stone", "company_id": copy.pk})
    note = services.add_comment(actor=admin, record_type="contact", record_id=bob.pk, body="Bob's budget is set")
    m = dup.merge(actor=admin, object_type="company", survivor_id=acme.pk, loser_id=copy.pk)
    assert "budget is set" in page_text(signed_in(admin).get(acme.get_absolute_url()))
    dup.undo_merge(actor=admin, merge_id=m.pk)
    note.refresh_from_db()
    assert note.company_rollup_id == copy.pk
    assert "budget is set" not in page_text(signed_in(admin).get(acme.get_absolute_url()))


def test_a_company_comment_line_names_only_records_the_user_can_see(admin, member, settings):
    settings.KITH_RECORD_VISIBILITY = "own"
    acme = create_company(actor=admin, data={"name": "Acme Rockets", "owner_id": member.pk})
    hidden = create_contact(actor=admin, data={"first_name": "Hidden", "last_name": "Person", "company_id": acme.pk,
                                               "owner_id": admin.pk})
    services.add_comment(actor=admin, record_type="contact", record_id=hidden.pk, body="About the hidden one")
    as_admin = page_text(signed_in(admin).get(acme.get_absolute_url()))
    assert "commented on contact Hidden Person" in as_admin
    # the member owns the company, not the contact: the comment shows, the contact's name does not
    as_member = page_text(signed_in(member).get(acme.get_absolute_url()))
    assert "About the hidden one" in as_member and "Hidden Person" not in as_member

