"""Pipelines and stages through the services the pipeline admin uses: create, rename, stage rules,
reorder, and deleting a stage that has deals by moving them."""

from __future__ import annotations

import pytest

from kith.core.errors import PermissionDenied, ValidationError
from kith.sales import services
from kith.sales.models import Deal, DealStageChange, Pipeline, Stage

from .salesadmin_helpers import deal

pytestmark = pytest.mark.django_db


def names(pipeline):
    return list(pipeline.stages.order_by("position", "id").values_list("name", flat=True))


def test_create_rename_and_default_stages(manager):
    p = services.create_pipeline(actor=manager, data={"name": "Renewals"})
    assert names(p) == ["Qualified", "Discovery", "Proposal", "Negotiation", "Won", "Lost"]
    services.update_pipeline(actor=manager, pipeline=p, data={"name": "Renewals 2026"})
    assert Pipeline.objects.get(pk=p.pk).name == "Renewals 2026"
    with pytest.raises(ValidationError) as exc:
        services.create_pipeline(actor=manager, data={"name": "renewals 2026"})
    assert "already exists" in exc.value.message_dict["name"][0]


def test_stage_rules(admin):
    p = services.create_pipeline(actor=admin, data={"name": "P"})
    s = services.create_stage(actor=admin, pipeline=p, data={"name": "Demo", "probability": 40})
    assert names(p).index("Demo") == 4  # open stages go before the closed ones
    with pytest.raises(ValidationError) as exc:
        services.update_stage(actor=admin, stage=s, data={"probability": 101, "kind": "maybe", "name": "Won"})
    assert set(exc.value.message_dict) == {"probability", "kind", "name"}
    services.update_stage(actor=admin, stage=s, data={"name": "Live demo", "probability": 45, "kind": "open"})
    s.refresh_from_db()
    assert (s.name, s.probability) == ("Live demo", 45)


def test_reorder(admin):
    p = services.create_pipeline(actor=admin, data={"name": "P"})
    ids = list(p.stages.order_by("position").values_list("id", flat=True))
    ids[0], ids[1] = ids[1], ids[0]
    services.reorder_stages(actor=admin, pipeline=p, stage_ids=ids)
    assert names(p)[:2] == ["Discovery", "Qualified"]
    with pytest.raises(ValidationError):
        services.reorder_stages(actor=admin, pipeline=p, stage_ids=ids[:-1])


def test_delete_stage_with_deals_moves_them(admin):
    p = services.ensure_default_pipeline()
    discovery, proposal = p.stages.get(name="Discovery"), p.stages.get(name="Proposal")
    deals = [deal(admin, name=f"D{i}", stage_id=discovery.pk) for i in range(3)]
    with pytest.raises(ValidationError) as exc:
        services.delete_stage(actor=admin, stage=discovery)
    assert "3 deals" in exc.value.message_dict["move_to"][0]
    other = services.create_pipeline(actor=admin, data={"name": "Other"})
    with pytest.raises(ValidationError) as exc:
        services.delete_stage(actor=admin, stage=discovery, move_to=other.stages.first())
    assert "same pipeline" in exc.value.message_dict["move_to"][0]
    services.delete_stage(actor=admin, stage=discovery, move_to=proposal)
    assert not Stage.objects.filter(pk=discovery.pk).exists()
    assert set(Deal.objects.filter(pk__in=[d.pk for d in deals]).values_list("stage_id", flat=True)) == {proposal.pk}
    assert DealStageChange.objects.filter(to_stage=proposal, deal__in=deals).count() == 3


def test_delete_pipeline_only_without_deals(admin):
    p = services.ensure_default_pipeline()
    other = services.create_pipeline(actor=admin, data={"name": "Other"})
    deal(admin, name="D", pipeline_id=other.pk)
    with pytest.raises(ValidationError):
        services.delete_pipeline(actor=admin, pipeline=other)
    Deal.all_objects.all().delete()
    services.delete_pipeline(actor=admin, pipeline=other)
    with pytest.raises(ValidationError) as exc:
        services.delete_pipeline(actor=admin, pipeline=p)
    assert "at least one pipeline" in exc.value.message_dict["pipeline"][0]


def test_members_cannot_change_pipelines(member):
    with pytest.raises(PermissionDenied):
        services.create_pipeline(actor=member, data={"name": "Mine"})
