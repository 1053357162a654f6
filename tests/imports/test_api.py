"""/api/v1/imports: upload, mapping, dry run, run, progress, problems, failed rows, cancel, undo."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import token_for
from kith.contacts.models import Contact
from kith.imports.models import Import

from .ui_helpers import PEOPLE_CSV, make_import, run_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.KITH_DATA_DIR = str(tmp_path)


class Api:
    """JSON calls plus multipart uploads, with a real token."""

    def __init__(self, user):
        self.client = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"}

    def upload(self, content: str | bytes = PEOPLE_CSV, name: str = "people.csv", **fields):
        data = {"object_type": "contacts", **fields}
        if content is not None:
            raw = content.encode() if isinstance(content, str) else content
            data["file"] = SimpleUploadedFile(name, raw, content_type="text/csv")
        return self.client.post("/api/v1/imports", data, **self.auth)

    def get(self, path, **params):
        return self.client.get(f"/api/v1/imports{path}", params or None, **self.auth)

    def post(self, path, body=None):
        return self.client.post(f"/api/v1/imports{path}", body or {}, content_type="application/json", **self.auth)

    def patch(self, path, body):
        return self.client.patch(f"/api/v1/imports{path}", body, content_type="application/json", **self.auth)


def error_fields(response) -> dict[str, str]:
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return {e["field"]: e["message"] for e in body["errors"]}


@pytest.fixture
def api(admin):
    return Api(admin)


def test_upload_answers_the_proposed_mapping_and_preview(api):
    r = api.upload()
    assert r.status_code == 201, r.content
    body = r.json()
    assert r["Location"] == f"/api/v1/imports/{body['id']}"
    assert (body["object_type"], body["file_name"], body["format"], body["status"]) == (
        "contact", "people.csv", "csv", "uploaded")
    assert body["mapping"] == {"Given Name": "first_name", "Family Name": "last_name", "E-mail 1 - Value": "email",
                               "Organization 1 - Name": "company", "Favourite colour": None}
    assert body["columns"][2] == {"column": "E-mail 1 - Value", "samples": ["ada@example.com", "not-an-email",
                                                                            "alan@example.com"], "target": "email"}
    keys = [t["key"] for t in body["targets"]]
    assert "email" in keys and "tags" in keys and keys[-1] is None
    assert body["preview"][0]["row_number"] == 2
    assert body["preview"][0]["values"]["email"] == "ada@example.com"
    assert body["preview"][1]["errors"]  # the broken email
    assert body["counts"] == {"created": 0, "updated": 0, "skipped": 0, "failed": 0, "companies_created": 0}
    assert body["created_by"]["email"] == "alice@example.com"
    assert body["url"] == f"/imports/{body['id']}/"


def test_upload_errors_name_the_field(api, viewer):
    r = api.upload(b"", name="empty.csv")
    assert r.status_code == 422
    assert "file" in error_fields(r)

    r = api.upload("Name,Email\n", name="header-only.csv")
    assert r.status_code == 422
    assert "no data rows" in error_fields(r)["file"]

    r = api.upload(object_type="tickets")
    assert r.status_code == 422
    assert error_fields(r) == {"object_type": "Must be one of: contact, company, lead, deal."}

    r = api.upload(None)
    assert r.status_code == 422
    assert "file" in error_fields(r)

    r = Api(viewer).upload()
    assert r.status_code == 403
    assert not Import.objects.exists()

    r = Client().post("/api/v1/imports", {"object_type": "contact"})
    assert r.status_code == 401


def test_patch_mapping_then_dry_run_then_run(api):
    imp_id = api.upload().json()["id"]
    r = api.patch(f"/{imp_id}", {"mapping": {"Favourite colour": "unknown_field"}})
    assert r.status_code == 422
    assert "mapping.Favourite colour" in error_fields(r)

    r = api.patch(f"/{imp_id}", {"mapping": {**Import.objects.get().mapping, "Favourite colour": "tags"},
                                 "match_on": "email", "on_duplicate": "fill"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["mapping"]["Favourite colour"] == "tags"
    assert (body["match_on"], body["on_duplicate"]) == ("email", "fill")
    assert body["preview"][0]["values"]["tags"] == ["blue"]

    r = api.patch(f"/{imp_id}", {"colour": "blue"})
    assert r.status_code == 422 and "colour" in error_fields(r)

    r = api.post(f"/{imp_id}/start", {"dry_run": True})
    assert r.status_code == 202
    assert (r.json()["status"], r.json()["dry_run"]) == ("queued", True)
    assert api.post(f"/{imp_id}/start").status_code == 409  # already queued
    run_jobs()
    body = api.get(f"/{imp_id}").json()
    assert (body["status"], body["dry_run"]) == ("done", True)
    assert body["counts"]["created"] == 2 and body["counts"]["failed"] == 1
    assert body["progress"]["rows_done"] == 3 and body["progress"]["total_rows"] == 3
    assert not Contact.objects.exists()

    problems = api.get(f"/{imp_id}/problems").json()
    assert problems["next_cursor"] is None
    assert [(p["row_number"], p["column"], p["value"]) for p in problems["items"]] == [
        (3, "E-mail 1 - Value", "not-an-email")]

    r = api.post(f"/{imp_id}/start", {"dry_run": False})
    assert r.status_code == 202
    run_jobs()
    body = api.get(f"/{imp_id}").json()
    assert (body["status"], body["dry_run"], body["can_undo"]) == ("done", False, True)
    assert body["counts"]["created"] == 2
    assert Contact.objects.count() == 2

    r = api.get(f"/{imp_id}/failed-rows.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    lines = b"".join(r.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "row,Given Name,Family Name,E-mail 1 - Value,Organization 1 - Name,Favourite colour,reason"
    assert lines[1].startswith("3,Grace,Hopper,not-an-email,US Navy,green,")

    r = api.post(f"/{imp_id}/undo")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["deleted"] >= 2 and body["not_undone"] == []
    assert body["import"]["status"] == "undone"
    assert not Contact.objects.exists()
    r = api.post(f"/{imp_id}/undo")
    assert r.status_code == 409
    assert "already undone" in r.json()["detail"]


def test_cancel_and_list(api, admin, member):
    first = api.upload().json()["id"]
    second = api.upload(name="second.csv").json()["id"]
    make_import(member, name="members.csv")
    # No body at all: a real run.
    r = api.client.post(f"/api/v1/imports/{first}/start", "", content_type="application/json", **api.auth)
    assert r.status_code == 202, r.content
    assert r.json()["dry_run"] is False
    r = api.post(f"/{first}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert api.post(f"/{second}/cancel").status_code == 409  # not started

    page = api.get("", limit=2).json()
    assert [i["file_name"] for i in page["items"]] == ["members.csv", "second.csv"]
    rest = api.get("", limit=2, cursor=page["next_cursor"]).json()
    assert [i["file_name"] for i in rest["items"]] == ["people.csv"] and rest["next_cursor"] is None
    assert [i["id"] for i in api.get("", status="cancelled").json()["items"]] == [first]
    assert api.get("", status="nope").status_code == 422
    assert api.get("", cursor="garbage").status_code == 422


def test_imports_of_others_are_hidden_from_members(api, member):
    imp_id = api.upload().json()["id"]
    other = Api(member)
    assert other.get(f"/{imp_id}").status_code == 404
    assert other.post(f"/{imp_id}/start").status_code == 404
    assert other.post(f"/{imp_id}/undo").status_code == 404
    assert other.get(f"/{imp_id}/problems").status_code == 404
    assert other.get("").json()["items"] == []


def test_openapi_documents_the_import_operations(api):
    doc = Client().get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    upload = paths["/api/v1/imports"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"201", "400", "401", "403", "422"} <= set(upload["responses"])
    assert {"200", "401", "403", "404", "409", "422"} <= set(paths["/api/v1/imports/{id}"]["patch"]["responses"])
    for action in ("start", "cancel", "undo"):
        assert "409" in paths[f"/api/v1/imports/{{id}}/{action}"]["post"]["responses"]
    assert "text/csv" in paths["/api/v1/imports/{id}/failed-rows.csv"]["get"]["responses"]["200"]["content"]


def test_a_queued_import_says_how_long_it_waited_and_what_the_workers_run(api):
    import datetime as dt

    from django.utils import timezone

    from kith.core.models import Job

    imp_id = api.upload().json()["id"]
    assert api.get(f"/{imp_id}").json()["queue"] is None  # uploaded, not queued
    r = api.client.post(f"/api/v1/imports/{imp_id}/start", "", content_type="application/json", **api.auth)
    assert r.status_code == 202 and r.json()["queue"]["busy"] == []
    now = timezone.now()
    Job.objects.create(name="exports.run", status="running", locked_by="w1", locked_at=now - dt.timedelta(seconds=12))
    Job.objects.filter(unique_key=f"import:{imp_id}").update(created_at=now - dt.timedelta(seconds=30))
    queue = api.get(f"/{imp_id}").json()["queue"]
    assert 30 <= queue["queued_seconds"] < 40
    assert [b["label"] for b in queue["busy"]] == ["an export"] and 12 <= queue["busy"][0]["seconds"] < 22
    Job.objects.filter(name="exports.run").delete()
    assert run_jobs() == 1
    assert api.get(f"/{imp_id}").json()["queue"] is None  # done
    assert api.get("").json()["items"][0]["queue"] is None  # the list has it too
    schema = api.client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert set(schema["QueueOut"]["properties"]) == {"queued_seconds", "busy"}
