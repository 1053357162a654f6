"""Helpers for the sales API tests: records made through the services, a cursor walk, PUT, If-Match."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.conftest import assert_error_shape, company, contact, error_fields  # noqa: F401
from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Pipeline, Stage


def pipeline() -> Pipeline:
    return services.ensure_default_pipeline()


def stage(kind: str = StageKind.OPEN, name: str | None = None, p: Pipeline | None = None) -> Stage:
    qs = (p or pipeline()).stages.filter(kind=kind)
    if name:
        qs = qs.filter(name=name)
    return qs.order_by("position").first()


def deal(actor, **data):
    data.setdefault("name", "Deal")
    return services.create_deal(actor=actor, data=data)


def lead(actor, **data):
    return services.create_lead(actor=actor, data={"owner_id": None, **data})


def if_match(version) -> dict:
    return {"headers": {"HTTP_IF_MATCH": f'"{version}"'}}


def put(api, path: str, data, **headers):
    url = path if path.startswith("/") else f"/api/v1/{path}"
    return api.client.put(url, data=json.dumps(data), content_type="application/json", **api.headers, **headers)


def walk(api, path, **params) -> list[int]:
    """Follow next_cursor to the end; the ids in the order served."""
    ids, cursor = [], None
    for _ in range(500):
        r = api.get(path, **{**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.content
        body = r.json()
        assert set(body) == {"items", "next_cursor"}
        ids += [row["id"] for row in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the cursor never ended")


def ids_of(r) -> set[int]:
    assert r.status_code == 200, r.content
    return {row["id"] for row in r.json()["items"]}


def count_queries(api, path, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = api.get(path, **params)
    assert r.status_code == 200, r.content
    return len(ctx.captured_queries)


def days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()
