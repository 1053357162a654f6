"""/api/v1/pipelines and /api/v1/stages: pipelines with nested stages, stage changes, deleting with move_to."""

from __future__ import annotations

import pytest

from kith.sales.models import Deal, DealStageChange, Pipeline, Stage

from .conftest import assert_error_shape, deal, error_fields, pipeline, stage

pytestmark = pytest.mark.django_db


def test_list_has_the_default_pipeline_with_its_stages(api):
    r = api.get("pipelines")
    assert r.status_code == 200
    body = r.json()
    assert body["next_cursor"] is None
    [default] = body["items"]
    assert [s["name"] for s in default["stages"]] == ["Qualified", "Discovery", "Proposal", "Negotiation", "Won",
                                                      "Lost"]
    assert [s["kind"] for s in default["stages"]][-2:] == ["won", "lost"]
    assert default["stages"][2]["probability"] == 50
    assert set(default["stages"][0]) == {"id", "pipeline_id", "name", "position", "probability", "kind"}


def test_create_get_patch_delete(api):
    pipeline()
    r = api.post("pipelines", {"name": "Renewals", "stages": [
        {"name": "Due", "probability": 60}, {"name": "Renewed", "probability": 100, "kind": "won"},
        {"name": "Churned", "kind": "lost"}]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert [(s["name"], s["probability"], s["kind"], s["position"]) for s in body["stages"]] == [
        ("Due", 60, "open", 0), ("Renewed", 100, "won", 1), ("Churned", 0, "lost", 2)]
    pk = body["id"]
    assert api.get(f"pipelines/{pk}").json()["name"] == "Renewals"
    r = api.patch(f"pipelines/{pk}", {"name": "Renewals 2026", "position": 0})
    assert (r.json()["name"], r.json()["position"]) == ("Renewals 2026", 0)
    assert api.get("pipelines").json()["items"][0]["name"] == "Renewals 2026"
    assert api.delete(f"pipelines/{pk}").status_code == 204
    assert_error_shape(api.get(f"pipelines/{pk}"), 404)


def test_create_errors(api):
    pipeline()
    r = api.post("pipelines", {"name": "New business"})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"name"}
    r = api.post("pipelines", {"name": "X", "stages": [{"name": "Won", "kind": "won"}]})
    assert error_fields(r) == {"stages"}
    r = api.post("pipelines", {"name": "X", "stages": [{"name": "A", "probability": 150}, {"kind": "maybe"}]})
    assert error_fields(r) == {"stages.0.probability", "stages.1.kind", "stages.1.name"}
    r = api.post("pipelines", {"name": "X", "stages": [{"name": "A", "probability": "high"}]})
    assert error_fields(r) == {"stages.0.probability"}
    assert Pipeline.objects.count() == 1


def test_a_pipeline_with_deals_or_the_last_one_stays(api, admin):
    d = deal(admin, name="Keep")
    r = api.delete(f"pipelines/{d.pipeline_id}")
    assert_error_shape(r, 422)
    Deal.all_objects.all().delete()
    r = api.delete(f"pipelines/{d.pipeline_id}")
    assert "at least one pipeline" in assert_error_shape(r, 422)["errors"][0]["message"]


def test_stages_add_change_reorder(api):
    p = pipeline()
    r = api.post(f"pipelines/{p.pk}/stages", {"name": "Legal review", "probability": 85})
    assert r.status_code == 201, r.content
    new = r.json()
    names = [s["name"] for s in api.get(f"pipelines/{p.pk}").json()["stages"]]
    assert names.index("Legal review") == names.index("Won") - 1  # open stages go before won/lost
    r = api.post(f"pipelines/{p.pk}/stages", {"name": "legal REVIEW"})
    assert error_fields(r) == {"name"}
    r = api.patch(f"stages/{new['id']}", {"probability": 90, "name": "Legal"})
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["probability"]) == ("Legal", 90)
    assert error_fields(api.patch(f"stages/{new['id']}", {"kind": "sometimes"})) == {"kind"}
    ids = [s["id"] for s in api.get(f"pipelines/{p.pk}").json()["stages"]]
    r = api.post(f"pipelines/{p.pk}/stages/reorder", {"stage_ids": ids[::-1]})
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["stages"]] == ids[::-1]
    r = api.post(f"pipelines/{p.pk}/stages/reorder", {"stage_ids": ids[1:]})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"stage_ids"}
    assert_error_shape(api.patch("stages/999999", {"name": "X"}), 404)
    assert_error_shape(api.post("pipelines/999999/stages", {"name": "X"}), 404)


def test_deleting_a_stage_with_deals_needs_move_to(api, admin):
    p = pipeline()
    proposal, negotiation = stage(name="Proposal"), stage(name="Negotiation")
    d = deal(admin, name="Mover", stage_id=proposal.pk)
    r = api.delete(f"stages/{proposal.pk}")
    body = assert_error_shape(r, 422)
    assert error_fields(r) == {"move_to"}
    assert "1 deals" in body["errors"][0]["message"]
    other = Pipeline.objects.create(name="Other")
    foreign = Stage.objects.create(pipeline=other, name="Elsewhere")
    r = api.delete(f"stages/{proposal.pk}?move_to={foreign.pk}")
    assert error_fields(r) == {"move_to"}
    assert "same pipeline" in r.json()["errors"][0]["message"]
    r = api.delete(f"stages/{proposal.pk}?move_to=999999")
    assert r.json()["errors"] == [{"field": "move_to", "message": "No stage with id 999999."}]
    assert Stage.objects.filter(pk=proposal.pk).exists()
    r = api.delete(f"stages/{proposal.pk}?move_to={negotiation.pk}")
    assert r.status_code == 204, r.content
    assert not Stage.objects.filter(pk=proposal.pk).exists()
    assert Deal.objects.get(pk=d.pk).stage_id == negotiation.pk
    assert DealStageChange.objects.filter(deal=d, to_stage=negotiation).count() == 1
    assert api.get(f"deals/{d.pk}/stage-history").json()["items"][-1]["stage_name"] == "Negotiation"
    assert len(api.get(f"pipelines/{p.pk}").json()["stages"]) == 5


def test_only_admins_and_managers_change_pipelines(api_for, admin, manager, member, viewer):
    p = pipeline()
    first = stage()
    for user in (member, viewer):
        api = api_for(user)
        assert api.get("pipelines").status_code == 200
        assert api.get(f"pipelines/{p.pk}").status_code == 200
        for r in (api.post("pipelines", {"name": "Mine"}), api.patch(f"pipelines/{p.pk}", {"name": "Mine"}),
                  api.delete(f"pipelines/{p.pk}"), api.post(f"pipelines/{p.pk}/stages", {"name": "Mine"}),
                  api.patch(f"stages/{first.pk}", {"name": "Mine"}), api.delete(f"stages/{first.pk}"),
                  api.post(f"pipelines/{p.pk}/stages/reorder", {"stage_ids": [first.pk]})):
            assert_error_shape(r, 403)
    assert api_for(manager).post("pipelines", {"name": "Managed"}).status_code == 201
    assert Pipeline.objects.filter(name="Mine").count() == 0
