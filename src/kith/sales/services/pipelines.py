"""Pipelines and their stages (admins and managers)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Max

from kith.core import permissions
from kith.core.errors import ValidationError

from ..choices import StageKind
from ..models import Deal, DealStageChange, Pipeline, Stage

DEFAULT_STAGES = [
    ("Qualified", 10, StageKind.OPEN),
    ("Discovery", 25, StageKind.OPEN),
    ("Proposal", 50, StageKind.OPEN),
    ("Negotiation", 75, StageKind.OPEN),
    ("Won", 100, StageKind.WON),
    ("Lost", 0, StageKind.LOST),
]


def _clean_stage(data: dict[str, Any], errors: dict[str, list[str]], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in data:
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors[f"{prefix}name"] = ["A stage needs a name."]
        elif len(name) > 100:
            errors[f"{prefix}name"] = ["Must be at most 100 characters."]
        out["name"] = name
    if "probability" in data:
        try:
            p = int(data["probability"])
            if not 0 <= p <= 100:
                raise ValueError
            out["probability"] = p
        except (TypeError, ValueError):
            errors[f"{prefix}probability"] = ["Enter a whole percentage from 0 to 100."]
    if "kind" in data:
        if data["kind"] not in StageKind.values:
            errors[f"{prefix}kind"] = [f"Must be one of: {', '.join(StageKind.values)}."]
        else:
            out["kind"] = data["kind"]
    return out


def _clean_name(value: Any, errors: dict[str, list[str]], exclude_pk: int | None = None) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        errors["name"] = ["A pipeline needs a name."]
    elif len(name) > 100:
        errors["name"] = ["Must be at most 100 characters."]
    else:
        others = Pipeline.objects.filter(name__iexact=name)
        if exclude_pk is not None:
            others = others.exclude(pk=exclude_pk)
        if others.exists():
            errors["name"] = [f"A pipeline named “{name}” already exists."]
    return name


def create_pipeline(*, actor, data: dict[str, Any]) -> Pipeline:
    """data: name, stages [{name, probability, kind}] (default stages when omitted)."""
    if actor is not None:
        permissions.require_settings(actor)
    errors: dict[str, list[str]] = {}
    name = _clean_name(data.get("name"), errors)
    raw_stages = data.get("stages")
    if raw_stages is None:
        raw_stages = [{"name": n, "probability": p, "kind": k} for n, p, k in DEFAULT_STAGES]
    if not isinstance(raw_stages, list) or not raw_stages:
        errors["stages"] = ["A pipeline needs at least one stage."]
        raw_stages = []
    stages = []
    for i, raw in enumerate(raw_stages):
        if not isinstance(raw, dict):
            errors[f"stages.{i}"] = ["Must be an object with name, probability and kind."]
            continue
        stage = _clean_stage({"probability": 0, "kind": StageKind.OPEN, **raw}, errors, prefix=f"stages.{i}.")
        if "name" not in raw:
            errors[f"stages.{i}.name"] = ["A stage needs a name."]
        stages.append(stage)
    names = [s.get("name", "").lower() for s in stages]
    if len(set(names)) != len(names):
        errors["stages"] = ["Stage names must be different from each other."]
    if stages and not any(s.get("kind") == StageKind.OPEN for s in stages):
        errors["stages"] = ["A pipeline needs at least one open stage."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        top = Pipeline.objects.aggregate(m=Max("position"))["m"] or 0
        pipeline = Pipeline.objects.create(name=name, position=data.get("position", top + 1))
        for pos, stage in enumerate(stages):
            Stage.objects.create(pipeline=pipeline, position=pos, **stage)
    return pipeline


def update_pipeline(*, actor, pipeline: Pipeline, data: dict[str, Any]) -> Pipeline:
    permissions.require_settings(actor)
    errors: dict[str, list[str]] = {}
    if "name" in data:
        pipeline.name = _clean_name(data["name"], errors, exclude_pk=pipeline.pk)
    if "position" in data:
        try:
            pipeline.position = max(0, int(data["position"]))
        except (TypeError, ValueError):
            errors["position"] = ["Must be a whole number."]
    if errors:
        raise ValidationError(errors)
    pipeline.save()
    return pipeline


def delete_pipeline(*, actor, pipeline: Pipeline) -> None:
    permissions.require_settings(actor)
    count = Deal.all_objects.filter(pipeline=pipeline).count()
    if count:
        raise ValidationError({"pipeline": [f"This pipeline has {count} deals; move or delete them first."]})
    if Pipeline.objects.count() <= 1:
        raise ValidationError({"pipeline": ["Kith needs at least one pipeline."]})
    pipeline.delete()


def create_stage(*, actor, pipeline: Pipeline, data: dict[str, Any]) -> Stage:
    permissions.require_settings(actor)
    errors: dict[str, list[str]] = {}
    clean = _clean_stage({"probability": 0, "kind": StageKind.OPEN, "name": "", **data}, errors)
    if clean.get("name") and pipeline.stages.filter(name__iexact=clean["name"]).exists():
        errors["name"] = [f"This pipeline already has a stage named “{clean['name']}”."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        top = pipeline.stages.aggregate(m=Max("position"))["m"]
        position = data.get("position")
        if position is None:
            # New open stages go before the first closed (won/lost) stage.
            first_closed = pipeline.stages.exclude(kind=StageKind.OPEN).order_by("position").first()
            if clean["kind"] == StageKind.OPEN and first_closed is not None:
                position = first_closed.position
                pipeline.stages.filter(position__gte=position).update(position=F("position") + 1)
            else:
                position = (top if top is not None else -1) + 1
        return Stage.objects.create(pipeline=pipeline, position=position, **clean)


def update_stage(*, actor, stage: Stage, data: dict[str, Any]) -> Stage:
    permissions.require_settings(actor)
    errors: dict[str, list[str]] = {}
    clean = _clean_stage(data, errors)
    if clean.get("name") and stage.pipeline.stages.filter(name__iexact=clean["name"]).exclude(pk=stage.pk).exists():
        errors["name"] = [f"This pipeline already has a stage named “{clean['name']}”."]
    if (
        clean.get("kind") not in (None, StageKind.OPEN)
        and stage.kind == StageKind.OPEN
        and not stage.pipeline.stages.filter(kind=StageKind.OPEN).exclude(pk=stage.pk).exists()
    ):
        errors["kind"] = ["A pipeline needs at least one open stage."]
    if errors:
        raise ValidationError(errors)
    for key, value in clean.items():
        setattr(stage, key, value)
    stage.save()
    return stage


def reorder_stages(*, actor, pipeline: Pipeline, stage_ids: list[int]) -> None:
    permissions.require_settings(actor)
    current = set(pipeline.stages.values_list("id", flat=True))
    if set(stage_ids) != current or len(stage_ids) != len(current):
        raise ValidationError({"stage_ids": ["List every stage of this pipeline exactly once."]})
    with transaction.atomic():
        for pos, sid in enumerate(stage_ids):
            Stage.objects.filter(pk=sid).update(position=pos)


def delete_stage(*, actor, stage: Stage, move_to: Stage | None = None) -> None:
    """A stage with deals can only go when its deals are moved to another stage of the same pipeline."""
    permissions.require_settings(actor)
    deals = Deal.all_objects.filter(stage=stage)
    count = deals.count()
    errors: dict[str, list[str]] = {}
    if count and move_to is None:
        errors["move_to"] = [f"This stage has {count} deals; choose a stage to move them to."]
    elif move_to is not None and (move_to.pipeline_id != stage.pipeline_id or move_to.pk == stage.pk):
        errors["move_to"] = ["Choose another stage of the same pipeline."]
    elif stage.kind == StageKind.OPEN and not stage.pipeline.stages.filter(kind=StageKind.OPEN).exclude(pk=stage.pk).exists():
        errors["stage"] = ["A pipeline needs at least one open stage."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if count and move_to is not None:
            from django.utils import timezone

            now = timezone.now()
            DealStageChange.objects.bulk_create(
                [
                    DealStageChange(deal_id=d, from_stage=stage, to_stage=move_to, actor=actor, changed_at=now)
                    for d in deals.values_list("id", flat=True)
                ]
            )
            deals.update(stage=move_to, stage_changed_at=now)
        DealStageChange.objects.filter(from_stage=stage).update(from_stage=None)
        stage.delete()


def ensure_default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.order_by("position", "id").first()
    if pipeline is None:
        pipeline = create_pipeline(actor=None, data={"name": "New business"})
    return pipeline


def default_pipeline() -> Pipeline:
    return ensure_default_pipeline()
