"""The REST operations every CRM record type has, built once from a RecordResource description.

list, create, get, patch, delete (to the trash), restore and history; contacts.py and companies.py
describe their model, schemas, filter set and services. Each operation is thin: parse the request,
call the service, serialise.

(No `from __future__ import annotations` here: ninja reads the parameter annotations, which refer to
the schemas of the resource being built.)
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from kith.core import audit, permissions, records
from kith.core.filters import FilterSet
from kith.core.models import CustomField
from kith.core.pagination import Ordering, parse_ordering

from . import common, errors
from .auth import write_auth
from .schemas import HistoryPage, history_dict, with_errors

HISTORY_ORDERING = Ordering("id", ())


@dataclass(frozen=True)
class RecordResource:
    model: type  # Contact, Company …
    path: str  # "contacts"
    singular: str  # "contact"
    filterset: type[FilterSet]
    in_schema: type
    patch_schema: type
    out_schema: type
    detail_schema: type
    write_schema: type
    page_schema: type
    to_dict: Callable[..., dict[str, Any]]  # (obj, cf_keys) -> dict
    create: Callable[..., Any]  # (actor, data) -> obj
    update: Callable[..., Any]  # (actor, obj, data, expected_version) -> obj
    delete: Callable[..., Any]  # (actor, obj, expected_version) -> obj
    restore: Callable[..., Any]  # (actor, obj) -> obj
    select_related: tuple[str, ...] = ()
    detail_extra: Callable[..., dict[str, Any]] | None = None  # (obj, user) -> extra detail keys
    prepare: Callable[..., Any] | None = None  # (queryset) -> queryset: more joins, prefetches, annotations


def build_router(res: RecordResource) -> Router:
    router = Router(tags=[res.path])
    name, plural = res.singular, res.path
    fs = res.filterset

    def cf_keys() -> set[str]:
        return set(CustomField.objects.filter(object_type=fs.object_type).values_list("key", flat=True))

    def queryset(user, *, trashed: bool = False, include_trashed: bool = False):
        if trashed:
            qs = res.model.all_objects.trashed()
        elif include_trashed:
            qs = res.model.all_objects.all()
        else:
            qs = res.model.objects.all()
        qs = permissions.visible(qs, user).select_related(*res.select_related)
        return res.prepare(qs) if res.prepare else qs

    def get_object(user, pk: int, *, include_trashed: bool = False):
        # DoesNotExist answers 404: missing, in the trash, or not visible to this user are alike.
        return queryset(user, include_trashed=include_trashed).get(pk=pk)

    def written(obj) -> dict[str, Any]:
        return {**res.to_dict(obj, cf_keys()), "warnings": list(getattr(obj, "warnings", []) or [])}

    def location(obj) -> str:
        return f"/api/v1/{plural}/{obj.pk}"

    @router.get(
        "",
        response=with_errors({200: res.page_schema}, errors.LIST),
        operation_id=f"list_{plural}",
        summary=f"List {plural}",
        description=(
            f"One page of {plural} you can see, newest change first unless `ordering` says otherwise. "
            "Follow `next_cursor` for the next page (keyset pagination: rows added meanwhile never "
            "shift pages). Filters below combine with AND; repeating one means any of its values."
        ),
        openapi_extra={"parameters": fs.openapi_parameters()},
    )
    def list_records(
        request: HttpRequest,
        limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
        cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
        q: str | None = Query(None, description="Search text (names, emails, phone digits …)."),
        ordering: str | None = Query(None, description=common.ordering_description(fs.orderings,
                                                                                   fs.default_ordering)),
        trashed: bool = Query(False, description=f"true lists {plural} in the trash instead."),
    ):
        user = request.auth
        order, descending = parse_ordering(ordering, fs.orderings, fs.default_ordering)
        qs = fs(request.GET, user).apply(queryset(user, trashed=trashed))
        rows, next_cursor = common.page(qs, ordering=order, descending=descending, cursor=cursor, limit=limit)
        records.attach_tags(rows)
        keys = cf_keys()
        return common.json_page([res.to_dict(row, keys) for row in rows], next_cursor)

    @router.post(
        "",
        response=with_errors({201: res.write_schema}, errors.CREATE),
        operation_id=f"create_{name}",
        auth=write_auth,
        summary=f"Create a {name}",
    )
    def create_record(request: HttpRequest, payload: res.in_schema, response: HttpResponse):  # type: ignore[name-defined]
        obj = res.create(request.auth, payload.model_dump(exclude_unset=True))
        common.set_record_headers(response, obj, location(obj))
        return Status(201, written(obj))

    @router.get(
        "/{int:id}",
        response=with_errors({200: res.detail_schema}, errors.READ),
        operation_id=f"get_{name}",
        summary=f"Get a {name}",
        description="The ETag header carries the version, for If-Match on PATCH and DELETE.",
    )
    def get_record(
        request: HttpRequest,
        id: int,
        response: HttpResponse,
        include_trashed: bool = Query(False, description=f"true also finds a {name} in the trash."),
    ):
        obj = get_object(request.auth, id, include_trashed=include_trashed)
        common.set_record_headers(response, obj)
        data = res.to_dict(obj, cf_keys())
        if res.detail_extra:
            data.update(res.detail_extra(obj, request.auth))
        return data

    @router.patch(
        "/{int:id}",
        response=with_errors({200: res.write_schema}, errors.UPDATE),
        operation_id=f"update_{name}",
        auth=write_auth,
        summary=f"Change a {name}",
        description=(
            "Only the keys sent change. Send the version you read as `If-Match` or `version`: "
            "if someone changed the record since, nothing is written and the answer is 409."
        ),
    )
    def update_record(request: HttpRequest, id: int, payload: res.patch_schema, response: HttpResponse):  # type: ignore[name-defined]
        user = request.auth
        obj = get_object(user, id)
        data = payload.model_dump(exclude_unset=True)
        expected = common.expected_version(request, obj, data.pop("version", None))
        obj = res.update(user, obj, data, expected)
        common.set_record_headers(response, obj)
        return written(obj)

    @router.delete(
        "/{int:id}",
        response=with_errors({204: None}, errors.DELETE),
        operation_id=f"delete_{name}",
        auth=write_auth,
        summary=f"Move a {name} to the trash",
        description="Restorable with POST …/restore. Honours If-Match (409 when stale).",
    )
    def delete_record(request: HttpRequest, id: int):
        user = request.auth
        obj = get_object(user, id)
        res.delete(user, obj, common.expected_version(request, obj))
        return Status(204, None)

    @router.post(
        "/{int:id}/restore",
        response=with_errors({200: res.write_schema}, errors.ACTION),
        operation_id=f"restore_{name}",
        auth=write_auth,
        summary=f"Restore a {name} from the trash",
    )
    def restore_record(request: HttpRequest, id: int, response: HttpResponse):
        user = request.auth
        obj = res.restore(user, get_object(user, id, include_trashed=True))
        obj = get_object(user, obj.pk, include_trashed=True)
        common.set_record_headers(response, obj)
        return written(obj)

    @router.get(
        "/{int:id}/history",
        response=with_errors({200: HistoryPage}, (*errors.READ, 422)),
        operation_id=f"history_{name}",
        summary=f"Change history of a {name}",
        description="Newest first; each entry lists the changed fields with old and new values.",
    )
    def record_history(
        request: HttpRequest,
        id: int,
        limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
        cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    ):
        obj = get_object(request.auth, id, include_trashed=True)
        rows, next_cursor = common.page(
            audit.history(obj), ordering=HISTORY_ORDERING, descending=True, cursor=cursor, limit=limit
        )
        return {"items": [history_dict(entry) for entry in rows], "next_cursor": next_cursor}

    return router
