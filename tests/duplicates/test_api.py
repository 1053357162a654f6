"""/api/v1/duplicates, /api/v1/merges and the `duplicates` hint of contact/company writes."""

from __future__ import annotations

import pytest

from kith.contacts.models import Contact
from kith.duplicates import detection
from kith.duplicates.models import DuplicatePair

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_pairs(contact):
    people = [
        contact(first_name="Ken", last_name="Adams", email="ken@acme.com", phone="+14155550100"),
        contact(first_name="Ken", last_name="Adams", email="k.e.n@acme.com", phone="+1 (415) 555-0100"),
        contact(first_name="Mia", last_name="Wong", email="mia@wong.example"),
        contact(first_name="Mia", last_name="Wong", email="mia.wong@gmail.com", additional_emails=["mia@wong.example"]),
        contact(first_name="Li", last_name="Na", email="li@na.example"),
        contact(first_name="Li", last_name="Na", email="na@other.example"),
    ]
    detection.scan("contact", min_conf=40)
    return people


def test_list_sorted_by_confidence_with_keyset_pages(api, three_pairs):
    r = api.get("duplicates", type="contact", limit=2)
    assert r.status_code == 200
    body = r.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    first = body["items"][0]
    assert set(first) == {"id", "type", "a", "b", "confidence", "reasons", "status", "detected_at"}
    assert first["a"]["name"] == "Mia Wong" and "same email (mia@wong.example)" in first["reasons"]
    r2 = api.get("duplicates", type="contact", limit=2, cursor=body["next_cursor"]).json()
    confidences = [i["confidence"] for i in body["items"] + r2["items"]]
    assert confidences == sorted(confidences, reverse=True) and len(confidences) == 3
    assert r2["next_cursor"] is None
    high = api.get("duplicates", type="contact", min_confidence=90).json()["items"]
    assert all(i["confidence"] >= 90 for i in high) and len(high) == 2
    assert api.get("duplicates", type="company").json()["items"] == []


def test_list_errors(api):
    r = api.get("duplicates", type="lead")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "type"
    r = api.get("duplicates", cursor="nonsense")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
    assert api.get("duplicates", min_confidence=101).status_code == 422


def test_dismiss(api, api_for, viewer, three_pairs):
    pair = DuplicatePair.objects.order_by("confidence").first()
    assert api_for(viewer).post(f"duplicates/{pair.pk}/dismiss").status_code == 403
    r = api.post(f"duplicates/{pair.pk}/dismiss")
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    assert pair.pk not in [i["id"] for i in api.get("duplicates").json()["items"]]
    assert [i["id"] for i in api.get("duplicates", status="dismissed").json()["items"]] == [pair.pk]
    assert api.post("duplicates/999999/dismiss").status_code == 404


def test_merge_preview_merge_and_undo(api, three_pairs):
    ken1, ken2 = three_pairs[0], three_pairs[1]
    r = api.get("merges/preview", type="contact", survivor_id=ken1.pk, loser_id=ken2.pk)
    assert r.status_code == 200
    email = next(f for f in r.json()["fields"] if f["key"] == "email")
    assert email == {"key": "email", "label": "Email", "survivor": "ken@acme.com", "loser": "k.e.n@acme.com",
                     "default": "loser"}
    pair = DuplicatePair.objects.get(a_id=ken1.pk, b_id=ken2.pk)
    r = api.post("merges", {"type": "contact", "survivor_id": ken1.pk, "loser_id": ken2.pk,
                            "fields": {"email": "survivor"}, "pair_id": pair.pk})
    assert r.status_code == 201, r.content
    m = r.json()
    assert m["fields"]["email"] == "survivor" and m["can_undo"] is True and m["undo_blockers"] == []
    assert "1 history entry" in m["moved"]
    assert api.get(f"contacts/{ken1.pk}").json()["additional_emails"] == ["k.e.n@acme.com"]
    assert api.get(f"contacts/{ken2.pk}").status_code == 404  # in the trash
    hist = api.get(f"contacts/{ken1.pk}/history").json()["items"]
    assert hist[0]["action"] == "merge"
    assert hist[0]["changes"]["merged_from"]["new"]["id"] == ken2.pk

    r = api.post(f"merges/{m['id']}/undo")
    assert r.status_code == 200 and r.json()["undone_at"] and r.json()["can_undo"] is False
    assert api.get(f"contacts/{ken2.pk}").json()["email"] == "k.e.n@acme.com"
    r = api.post(f"merges/{m['id']}/undo")
    assert r.status_code == 409 and "already undone" in r.json()["detail"]


def test_merge_errors(api, api_for, viewer, three_pairs):
    a, b = three_pairs[0], three_pairs[1]
    r = api.post("merges", {"type": "contact", "survivor_id": a.pk, "loser_id": a.pk})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "loser_id"
    r = api.post("merges", {"type": "contact", "survivor_id": a.pk, "loser_id": b.pk, "fields": {"shoe": "loser"}})
    assert r.status_code == 422 and r.json()["errors"] == [{"field": "fields.shoe", "message": "Unknown field."}]
    r = api.post("merges", {"type": "contact", "survivor_id": a.pk, "loser_id": b.pk, "fields": {"email": "x"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "fields.email"
    r = api.post("merges", {"type": "deal", "survivor_id": a.pk, "loser_id": b.pk})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "type"
    assert api_for(viewer).post("merges", {"type": "contact", "survivor_id": a.pk, "loser_id": b.pk}).status_code == 403
    assert api.post("merges/424242/undo").status_code == 404
    assert Contact.objects.count() == 6


def test_undo_refused_when_survivor_changed(api, three_pairs):
    a, b = three_pairs[0], three_pairs[1]
    m = api.post("merges", {"type": "contact", "survivor_id": a.pk, "loser_id": b.pk}).json()
    assert api.patch(f"contacts/{a.pk}", {"job_title": "Boss"}).status_code == 200
    got = api.get(f"merges/{m['id']}").json()
    assert got["can_undo"] is False and "(Job title)" in got["undo_blockers"][0]
    r = api.post(f"merges/{m['id']}/undo")
    assert r.status_code == 409 and "was changed after the merge (Job title)" in r.json()["detail"]


def test_duplicates_hint_on_create_and_update(api, contact, company):
    ken = contact(first_name="Ken", last_name="Adams", email="ken@acme.com", phone="+14155550100")
    r = api.post("contacts", {"first_name": "Kenneth", "last_name": "Adams", "phone": "415-555-0100",
                              "country": "US"})
    assert r.status_code == 201
    hints = r.json()["duplicates"]
    assert hints[0]["id"] == ken.pk and hints[0]["name"] == "Ken Adams"
    assert hints[0]["confidence"] >= 60 and hints[0]["reasons"][0] == "same phone (+1 415-555-0100)"
    other = api.post("contacts", {"first_name": "Zed", "last_name": "Zulu"}).json()
    assert other["duplicates"] == []
    r = api.patch(f"contacts/{other['id']}", {"email": "KEN+news@acme.com"})
    assert [h["id"] for h in r.json()["duplicates"]] == [ken.pk]
    acme = company(name="Acme Inc", domain="acme.com")
    r = api.post("companies", {"name": "The Acme Company", "domain": "acme.co.uk"})
    assert r.status_code == 201
    assert r.json()["duplicates"][0]["id"] == acme.pk
    assert r.json()["duplicates"][0]["reasons"] == ["same name ignoring legal forms (Inc, Ltd …)"]


def test_openapi_documents_duplicates(api):
    doc = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/duplicates" in doc["paths"] and "/api/v1/merges/{id}/undo" in doc["paths"]
    assert "409" in doc["paths"]["/api/v1/merges/{id}/undo"]["post"]["responses"]
    schema = doc["components"]["schemas"]["ContactWriteOut"]
    assert "duplicates" in schema["properties"] and "duplicates" not in schema.get("required", [])
