"""Pipelines admin pages: who may open them, create, rename, stages (add, edit, reorder, delete with a move)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import signed_in
from kith.sales import services
from kith.sales.models import Deal, Pipeline, Stage

from .salesadmin_web import htmx, text

pytestmark = pytest.mark.django_db


def stage_names(p):
    return list(p.stages.order_by("position", "id").values_list("name", flat=True))


def test_only_admins_and_managers(member, viewer, manager):
    p = services.ensure_default_pipeline()
    s = p.stages.first()
    for user in (member, viewer):
        c = signed_in(user)
        assert c.get(reverse("web:pipeline_list")).status_code == 403
        assert c.get(reverse("web:pipeline_edit", args=[p.pk])).status_code == 403
        assert c.post(reverse("web:stage_update", args=[s.pk]), {}).status_code == 403
        assert c.post(reverse("web:stage_move", args=[s.pk]), {"direction": "down"}).status_code == 403
    r = signed_in(manager).get(reverse("web:pipeline_list"))
    assert r.status_code == 200
    assert "New business" in text(r) and "Qualified 10%" in text(r)


def test_create_and_rename(manager):
    c = signed_in(manager)
    r = c.post(reverse("web:pipeline_create"), {"name": "Renewals"})
    p = Pipeline.objects.get(name="Renewals")
    assert r.status_code == 302 and r["Location"] == reverse("web:pipeline_edit", args=[p.pk])
    page = text(c.get(r["Location"]))
    assert "Renewals" in page and "Negotiation" in page
    r = c.post(reverse("web:pipeline_create"), {"name": ""})
    assert r.status_code == 400 and "Enter a name." in text(r)
    services.create_pipeline(actor=manager, data={"name": "New business"})
    r = c.post(reverse("web:pipeline_edit", args=[p.pk]), {"name": "new business"})
    assert r.status_code == 400 and "already exists" in text(r)
    r = c.post(reverse("web:pipeline_edit", args=[p.pk]), {"name": "Renewals 2027"}, follow=True)
    assert "Pipeline renamed to “Renewals 2027”." in text(r)


def test_add_and_edit_stages_with_errors(admin):
    p = services.ensure_default_pipeline()
    c = signed_in(admin)
    r = c.post(reverse("web:stage_create", args=[p.pk]), {"new-name": "Demo", "new-probability": "150", "new-kind": "open"})
    assert r.status_code == 400 and "Enter a whole percentage from 0 to 100." in text(r)
    r = c.post(reverse("web:stage_create", args=[p.pk]), {"new-name": "Demo", "new-probability": "40", "new-kind": "open"})
    assert r.status_code == 302
    assert stage_names(p)[4] == "Demo"
    demo = p.stages.get(name="Demo")
    r = c.post(reverse("web:stage_update", args=[demo.pk]),
               {f"stage-{demo.pk}-name": "Proposal", f"stage-{demo.pk}-probability": "40", f"stage-{demo.pk}-kind": "open"})
    assert r.status_code == 400 and "already has a stage named “Proposal”" in text(r)
    r = c.post(reverse("web:stage_update", args=[demo.pk]),
               {f"stage-{demo.pk}-name": "Live demo", f"stage-{demo.pk}-probability": "45", f"stage-{demo.pk}-kind": "open"},
               **htmx(target="stages"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "<html" not in body and 'id="stages"' in body and "Stage “Live demo” was saved." in body
    demo.refresh_from_db()
    assert (demo.name, demo.probability) == ("Live demo", 45)


def test_reorder_with_buttons(admin):
    p = services.ensure_default_pipeline()
    c = signed_in(admin)
    qualified = p.stages.get(name="Qualified")
    r = c.post(reverse("web:stage_move", args=[qualified.pk]), {"direction": "down"})
    assert r.status_code == 302 and r["Location"].endswith(f"#stage-{qualified.pk}")
    assert stage_names(p)[:2] == ["Discovery", "Qualified"]
    r = c.post(reverse("web:stage_move", args=[qualified.pk]), {"direction": "up"}, **htmx(target="stages"))
    assert stage_names(p)[:2] == ["Qualified", "Discovery"]
    body = r.content.decode()
    assert f'id="stage-{qualified.pk}-up"' in body and "moved up to position 1 of 6" in body
    # At the top, moving up changes nothing.
    c.post(reverse("web:stage_move", args=[qualified.pk]), {"direction": "up"})
    assert stage_names(p)[0] == "Qualified"
    assert c.post(reverse("web:stage_move", args=[qualified.pk]), {"direction": "sideways"}).status_code == 400


def test_delete_stage_asks_where_deals_go(admin):
    p = services.ensure_default_pipeline()
    other = services.create_pipeline(actor=admin, data={"name": "Other"})
    discovery, proposal = p.stages.get(name="Discovery"), p.stages.get(name="Proposal")
    d = services.create_deal(actor=admin, data={"name": "Acme", "stage_id": discovery.pk})
    c = signed_in(admin)
    page = c.get(reverse("web:stage_delete", args=[discovery.pk])).content.decode()
    assert "1 deal is in this stage" in text(c.get(reverse("web:stage_delete", args=[discovery.pk])))
    assert f'<option value="{proposal.pk}"' in page
    assert f'<option value="{other.stages.first().pk}"' not in page  # only this pipeline's stages
    r = c.post(reverse("web:stage_delete", args=[discovery.pk]), {"move_to": ""})
    assert r.status_code == 400 and "choose a stage to move them to" in text(r)
    r = c.post(reverse("web:stage_delete", args=[discovery.pk]), {"move_to": str(other.stages.first().pk)})
    assert r.status_code == 400 and "Choose another stage of the same pipeline." in text(r)
    r = c.post(reverse("web:stage_delete", args=[discovery.pk]), {"move_to": str(proposal.pk)}, follow=True)
    assert "Stage “Discovery” was deleted. Its 1 deal moved to “Proposal”." in text(r)
    assert Deal.objects.get(pk=d.pk).stage == proposal
    assert not Stage.objects.filter(pk=discovery.pk).exists()
    empty = p.stages.get(name="Qualified")
    r = c.post(reverse("web:stage_delete", args=[empty.pk]), follow=True)
    assert "Stage “Qualified” was deleted." in text(r)


def test_delete_pipeline(admin):
    p = services.ensure_default_pipeline()
    other = services.create_pipeline(actor=admin, data={"name": "Other"})
    d = services.create_deal(actor=admin, data={"name": "Acme", "pipeline_id": other.pk})
    c = signed_in(admin)
    assert "still has deals" in text(c.get(reverse("web:pipeline_delete", args=[other.pk])))
    r = c.post(reverse("web:pipeline_delete", args=[other.pk]))
    assert r.status_code == 400 and "has 1 deals" in text(r)
    Deal.all_objects.filter(pk=d.pk).delete()
    r = c.post(reverse("web:pipeline_delete", args=[other.pk]), follow=True)
    assert "Pipeline “Other” was deleted." in text(r)
    assert "only pipeline" in text(c.get(reverse("web:pipeline_delete", args=[p.pk])))
