"""Undoing a large import: a background job ("imports.undo") with progress on the page and in the API, its
report kept on the import, an undo that stops midway and is started again; small undos stay immediate."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from conftest import token_for
from kith.contacts.models import Company, Contact
from kith.core.models import AuditEntry, Job
from kith.imports import engine, services
from kith.imports.models import Import

from .ui_helpers import PEOPLE_CSV, make_import, run_jobs

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

# Six new contacts and one new company; Ada already exists and is updated (her job title).
CREW_CSV = (
    "Given Name,Family Name,E-mail 1 - Value,Organization 1 - Name,Job Title\n"
    "Ada,Lovelace,ada@example.com,,Countess\n"
    "Bea,Bell,bea@example.com,Bell Works,Engineer\n"
    "Cy,Cole,cy@example.com,,Analyst\n"
    "Di,Dunn,di@example.com,,Designer\n"
    "Ed,Eve,ed@example.com,,Editor\n"
    "Flo,Fox,flo@example.com,,Founder\n"
    "Gus,Grey,gus@example.com,,Guide\n"
)
NEW_EMAILS = {"bea@example.com", "cy@example.com", "di@example.com", "ed@example.com", "flo@example.com",
              "gus@example.com"}


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path, monkeypatch):
    """Uploads in this test's own directory; undos of more than 3 records are jobs; 2 records a chunk."""
    settings.KITH_DATA_DIR = str(tmp_path)
    settings.KITH_IMPORT_UNDO_INLINE_MAX = 3
    monkeypatch.setattr(engine, "UNDO_CHUNK", 2)


@pytest.fixture
def imported(admin):
    """A finished import of CREW_CSV that created 6 contacts and 1 company and updated Ada."""
    from kith.contacts.services import create_contact

    create_contact(actor=admin, data={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                                      "job_title": "Mathematician"})
    imp = make_import(admin, CREW_CSV, "crew.csv")
    services.set_mapping(actor=admin, imp=imp, mapping=imp.mapping, match_on="email", on_duplicate="overwrite")
    services.start_import(actor=admin, imp=imp)
    assert run_jobs() == 1
    imp.refresh_from_db()
    assert (imp.status, imp.created, imp.updated, imp.companies_created) == ("done", 6, 1, 1)
    assert Contact.objects.get(email="ada@example.com").job_title == "Countess"
    return imp


class Api:
    def __init__(self, user):
        self.client = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"}

    def get(self, path):
        return self.client.get(f"/api/v1/imports{path}", **self.auth)

    def post(self, path):
        return self.client.post(f"/api/v1/imports{path}", {}, content_type="application/json", **self.auth)


def web(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def text(response) -> str:
    import html as html_lib

    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def remaining() -> set[str]:
    return set(Contact.all_objects.values_list("email", flat=True))


def test_a_large_undo_is_queued_with_progress_and_its_report_over_the_api(admin, imported):
    from kith.duplicates.models import DuplicatePair, MatchKey

    ada, bea = Contact.objects.get(email="ada@example.com"), Contact.objects.get(email="bea@example.com")
    MatchKey.objects.create(object_type="contact", key="n:bell", record_id=bea.pk)
    MatchKey.objects.create(object_type="contact", key="n:lovelace", record_id=ada.pk)
    DuplicatePair.objects.create(object_type="contact", a_id=ada.pk, b_id=bea.pk, confidence=80)
    api = Api(admin)
    r = api.post(f"/{imported.pk}/undo")
    assert r.status_code == 202, r.content
    body = r.json()
    assert (body["deleted"], body["restored"], body["not_undone"]) == (0, 0, [])
    assert (body["import"]["status"], body["import"]["can_undo"]) == ("undoing", False)
    assert remaining() == NEW_EMAILS | {"ada@example.com"}  # nothing undone yet: the job does it

    body = api.get(f"/{imported.pk}").json()
    assert body["status"] == "undoing"
    assert body["undo"] == {"records_done": 0, "records_total": 8, "percent": 0.0, "deleted": 0, "restored": 0,
                            "not_undone_count": 0}
    r = api.post(f"/{imported.pk}/undo")
    assert r.status_code == 409 and "being undone" in r.json()["detail"]
    job = Job.objects.get(name="imports.undo")
    assert (job.unique_key, job.max_attempts) == (f"import-undo:{imported.pk}", 1)

    assert run_jobs() == 1
    body = api.get(f"/{imported.pk}").json()
    assert (body["status"], body["can_undo"], body["error"]) == ("undone", False, "")
    assert body["undo"] == {"records_done": 8, "records_total": 8, "percent": 100.0, "deleted": 7, "restored": 1,
                            "not_undone_count": 0}
    assert remaining() == {"ada@example.com"}
    assert Contact.objects.get(email="ada@example.com").job_title == "Mathematician"
    assert not Company.all_objects.filter(name="Bell Works").exists()
    # as deleting each record would: its duplicate-detection keys and open pairs go with it
    assert set(MatchKey.objects.values_list("record_id", flat=True)) == {ada.pk}
    assert not DuplicatePair.objects.exists()
    deleted_history = AuditEntry.objects.filter(action="delete", content_type__model="contact")
    assert deleted_history.count() == 6
    assert all(e.changes["import"]["new"] == f"undo of import #{imported.pk}" for e in deleted_history)

    page = text(web(admin).get(f"/imports/{imported.pk}/"))
    assert "Undo report" in page and "Removed 7 records the import created and restored 1 record" in page
    assert "Everything the import wrote was undone." in page


def test_the_page_shows_undoing_with_progress_then_the_report(admin, imported, monkeypatch):
    c = web(admin)
    r = c.post(f"/imports/{imported.pk}/undo/", follow=True)
    page = text(r)
    assert "being undone in the background" in page
    assert "Undoing…" in page and "0 of 8 records (0%)" in page
    fragment = c.get(f"/imports/{imported.pk}/progress/", **HTMX)
    assert 'hx-trigger="every 1s"' in fragment.content.decode()  # polls while undoing
    assert "<progress" in fragment.content.decode() and "Undo import" not in text(fragment)

    seen = []
    undo_created = engine._undo_created

    def watching(*args, **kwargs):
        undo_created(*args, **kwargs)
        seen.append(text(c.get(f"/imports/{imported.pk}/progress/", **HTMX)))

    monkeypatch.setattr(engine, "_undo_created", watching)
    assert run_jobs() == 1
    # the update first (1 record), then the contacts two by two: progress is saved after each chunk
    assert "Undoing…" in seen[0] and "3 of 8 records (37%)" in seen[1]
    fragment = c.get(f"/imports/{imported.pk}/progress/", **HTMX)
    assert "hx-trigger" not in fragment.content.decode()  # done: polling stops
    page = text(fragment)
    assert "Undo report" in page and "Everything the import wrote was undone." in page
    assert "This import was undone" in page and "Undoing…" not in page
    assert "Undo report" in text(c.get(f"/imports/{imported.pk}/"))  # after a reload too


def test_a_record_edited_since_the_import_is_listed_in_the_jobs_report(admin, imported):
    from kith.contacts.services import update_contact

    cy = Contact.objects.get(email="cy@example.com")
    update_contact(actor=admin, contact=cy, data={"job_title": "Chief Analyst"})
    api = Api(admin)
    assert api.post(f"/{imported.pk}/undo").status_code == 202
    run_jobs()
    body = api.get(f"/{imported.pk}").json()
    assert body["status"] == "undone"
    assert (body["undo"]["deleted"], body["undo"]["not_undone_count"]) == (6, 1)
    assert remaining() == {"ada@example.com", "cy@example.com"}
    imported.refresh_from_db()
    assert imported.undo_report["not_undone"] == [
        {"type": "contact", "id": cy.pk, "label": "Cy Cole", "reason": "changed since the import (now at version 2)"}]
    page = text(web(admin).get(f"/imports/{imported.pk}/"))
    assert "1 could not be undone because they changed after the import" in page
    assert "Cy Cole (contact): changed since the import (now at version 2)" in page


def test_an_undo_job_that_stops_puts_the_status_back_and_undoing_again_finishes(admin, imported, monkeypatch):
    calls = []
    undo_created = engine._undo_created

    def failing_second_chunk(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        undo_created(*args, **kwargs)

    monkeypatch.setattr(engine, "_undo_created", failing_second_chunk)
    api = Api(admin)
    assert api.post(f"/{imported.pk}/undo").status_code == 202
    assert run_jobs() == 1
    assert Job.objects.get(name="imports.undo").status == "failed"
    body = api.get(f"/{imported.pk}").json()
    assert (body["status"], body["can_undo"]) == ("done", True)
    assert body["error"] == ("Undo stopped: the database went away; what was undone stays undone; undo again to "
                             "continue.")
    assert (body["undo"]["deleted"], body["undo"]["restored"]) == (2, 1)  # the update and the first chunk
    assert len(remaining()) == 5
    assert Contact.objects.get(email="ada@example.com").job_title == "Mathematician"
    page = text(web(admin).get(f"/imports/{imported.pk}/"))
    assert "Undo stopped: the database went away" in page and "Undo import" in page

    monkeypatch.setattr(engine, "_undo_created", undo_created)
    r = api.post(f"/{imported.pk}/undo")
    assert r.status_code == 202 and r.json()["deleted"] == 2
    assert run_jobs() == 1
    body = api.get(f"/{imported.pk}").json()
    assert (body["status"], body["error"]) == ("undone", "")
    # the records already deleted and Ada already restored are no problem the second time
    assert body["undo"] == {"records_done": 8, "records_total": 8, "percent": 100.0, "deleted": 7, "restored": 1,
                            "not_undone_count": 0}
    assert remaining() == {"ada@example.com"}
    assert Contact.objects.get(email="ada@example.com").job_title == "Mathematician"
    assert AuditEntry.objects.filter(action="delete", content_type__model="contact").count() == 6


def test_a_small_undo_still_answers_its_report_at_once(admin):
    imp = make_import(admin, PEOPLE_CSV)
    services.start_import(actor=admin, imp=imp)
    run_jobs()
    imp.refresh_from_db()
    assert imp.created + imp.updated + imp.companies_created == 3  # at KITH_IMPORT_UNDO_INLINE_MAX
    api = Api(admin)
    r = api.post(f"/{imp.pk}/undo")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["deleted"], body["not_undone"], body["import"]["status"]) == (3, [], "undone")
    assert not Job.objects.filter(name="imports.undo").exists()
    assert api.get(f"/{imp.pk}").json()["undo"]["deleted"] == 3
    assert not Contact.objects.exists()


def test_before_any_undo_there_is_no_undo_progress(admin, imported):
    assert Api(admin).get(f"/{imported.pk}").json()["undo"] is None
    assert Import.objects.get(pk=imported.pk).undo_report == {}
