"""/api/v1/pipelines and /api/v1/stages: pipelines with their stages. Everyone reads; admins and managers
change them."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from kith.core.errors import ValidationError
from kith.sales import services
from kith.sales.models import Pipeline, Stage

from . import errors
from .auth import settings_auth
from .sales_schemas import (
    PipelineIn,
    PipelineOut,
    PipelinePage,
    PipelinePatch,
    ReorderIn,
    StageIn,
    StageOut,
    pipeline_dict,
    stage_dict,
)
from .schemas import with_errors

router = Router(tags=["pipelines"])
stages_router = Router(tags=["pipelines"])


def _pipeline(pk: int) -> Pipeline:
    return Pipeline.objects.prefetch_related("stages").get(pk=pk)


def _without_null_position(data: dict) -> dict:
    if data.get("position", 0) is None:
        data.pop("position")
    return data


@router.get("", response=with_errors({200: PipelinePage}, errors.LIST), operation_id="list_pipelines",
            summary="List pipelines with their stages",
            description="Every pipeline in board order (a workspace has a handful: one page, no cursor). There "
            "is always at least one: the default pipeline is set up when there is none.")
def list_pipelines(request: HttpRequest):
    pipelines = list(Pipeline.objects.prefetch_related("stages").order_by("position", "id"))
    if not pipelines:
        pipelines = [_pipeline(services.ensure_default_pipeline().pk)]
    return {"items": [pipeline_dict(p) for p in pipelines], "next_cursor": None}


@router.post("", response=with_errors({201: PipelineOut}, errors.CREATE), operation_id="create_pipeline",
             summary="Create a pipeline (admins and managers)",
             description="`stages` in order, each {name, probability, kind}; the default stages when left out. "
             "A pipeline needs at least one open stage.", auth=settings_auth)
def create_pipeline(request: HttpRequest, payload: PipelineIn):
    data = _without_null_position(payload.model_dump(exclude_unset=True))
    pipeline = services.create_pipeline(actor=request.auth, data=data)
    return Status(201, pipeline_dict(_pipeline(pipeline.pk)))


@router.get("/{int:id}", response=with_errors({200: PipelineOut}, errors.READ), operation_id="get_pipeline",
            summary="Get a pipeline with its stages")
def get_pipeline(request: HttpRequest, id: int):
    return pipeline_dict(_pipeline(id))


@router.patch("/{int:id}", response=with_errors({200: PipelineOut}, (400, 401, 403, 404, 422)),
              operation_id="update_pipeline", summary="Rename or reorder a pipeline (admins and managers)",
              auth=settings_auth)
def update_pipeline(request: HttpRequest, id: int, payload: PipelinePatch):
    pipeline = services.update_pipeline(actor=request.auth, pipeline=_pipeline(id),
                                         data=payload.model_dump(exclude_unset=True))
    return pipeline_dict(_pipeline(pipeline.pk))


@router.delete("/{int:id}", response=with_errors({204: None}, (401, 403, 404, 422)), operation_id="delete_pipeline",
               summary="Delete a pipeline (admins and managers)",
               description="Only a pipeline without deals (in the trash too), and never the last one: 422 "
               "otherwise.", auth=settings_auth)
def delete_pipeline(request: HttpRequest, id: int):
    services.delete_pipeline(actor=request.auth, pipeline=_pipeline(id))
    return Status(204, None)


@router.post("/{int:id}/stages", response=with_errors({201: StageOut}, (*errors.CREATE, 404)),
             operation_id="create_stage", summary="Add a stage to a pipeline (admins and managers)",
             description="An open stage goes before the first won or lost stage; a won or lost one at the end. "
             "Reorder with …/stages/reorder.", auth=settings_auth)
def create_stage(request: HttpRequest, id: int, payload: StageIn):
    stage = services.create_stage(actor=request.auth, pipeline=_pipeline(id),
                                  data=payload.model_dump(exclude_unset=True))
    return Status(201, stage_dict(stage))


@router.post("/{int:id}/stages/reorder", response=with_errors({200: PipelineOut}, (400, *errors.ACTION)),
             operation_id="reorder_stages", summary="Put a pipeline's stages in a new order (admins and managers)",
             auth=settings_auth)
def reorder_stages(request: HttpRequest, id: int, payload: ReorderIn):
    services.reorder_stages(actor=request.auth, pipeline=_pipeline(id), stage_ids=payload.stage_ids)
    return pipeline_dict(_pipeline(id))


@stages_router.patch("/{int:id}", response=with_errors({200: StageOut}, (400, 401, 403, 404, 422)),
                     operation_id="update_stage", summary="Change a stage (admins and managers)",
                     description="name, probability (0-100) and kind (open, won, lost).", auth=settings_auth)
def update_stage(request: HttpRequest, id: int, payload: StageIn):
    stage = services.update_stage(actor=request.auth, stage=Stage.objects.select_related("pipeline").get(pk=id),
                                  data=payload.model_dump(exclude_unset=True))
    return stage_dict(stage)


@stages_router.delete(
    "/{int:id}", response=with_errors({204: None}, (401, 403, 404, 422)), operation_id="delete_stage",
    summary="Delete a stage (admins and managers)",
    description="A stage with deals needs `move_to`, another stage of the same pipeline to move them to (each move "
    "is recorded in the deals' stage history); without it the answer is 422 naming move_to.",
    auth=settings_auth,
)
def delete_stage(
    request: HttpRequest,
    id: int,
    move_to: int | None = Query(None, description="id of the stage of the same pipeline that takes its deals"),
):
    stage = Stage.objects.select_related("pipeline").get(pk=id)
    target = None
    if move_to is not None:
        target = Stage.objects.filter(pk=move_to).first()
        if target is None:
            raise ValidationError({"move_to": [f"No stage with id {move_to}."]})
    services.delete_stage(actor=request.auth, stage=stage, move_to=target)
    return Status(204, None)
