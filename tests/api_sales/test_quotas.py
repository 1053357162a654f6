"""/api/v1/quotas: set (PUT or POST, idempotent), list with filters, delete; admins and managers write."""

from __future__ import annotations

import pytest

from kith.sales.models import Quota

from .conftest import assert_error_shape, error_fields, ids_of, put, walk

pytestmark = pytest.mark.django_db


def test_set_normalises_the_period_and_updates_in_place(api, member):
    r = put(api, "quotas", {"user_id": member.pk, "period_kind": "quarter", "period_start": "2030-11-17",
                            "amount": "50000"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body == {"id": body["id"], "user_id": member.pk, "period_kind": "quarter", "period": "2030-Q4",
                    "period_start": "2030-10-01", "amount": "50000.00"}
    r = api.post("quotas", {"user_id": member.pk, "period_kind": "quarter", "period_start": "2030-10-01",
                            "amount": 62500.5})
    assert r.status_code == 200
    assert (r.json()["id"], r.json()["amount"]) == (body["id"], "62500.50")
    assert Quota.objects.count() == 1
    month = api.post("quotas", {"user_id": member.pk, "period_kind": "month", "period_start": "2030-11-30",
                                "amount": "1000"}).json()
    assert (month["period"], month["period_start"]) == ("2030-11", "2030-11-01")
    assert api.get(f"quotas/{month['id']}").json() == month


def test_errors(api, member):
    r = api.post("quotas", {"user_id": 999999, "period_kind": "year", "period_start": "someday", "amount": "-1"})
    assert_error_shape(r, 422)
    assert error_fields(r) == {"user_id", "period_kind", "period_start", "amount"}
    r = api.post("quotas", {"user_id": member.pk})
    assert error_fields(r) == {"period_kind", "period_start", "amount"}
    r = api.post("quotas", {"user_id": member.pk, "period_kind": "month", "period_start": "2030-01-01",
                            "amount": "1.001"})
    assert error_fields(r) == {"amount"}
    assert not Quota.objects.exists()


def test_list_filters_delete_and_roles(api, api_for, admin, member, viewer, settings):
    rows = []
    for user in (admin, member):
        for start in ("2030-01-01", "2030-02-01"):
            rows.append(api.post("quotas", {"user_id": user.pk, "period_kind": "month", "period_start": start,
                                            "amount": "100"}).json()["id"])
    quarter = api.post("quotas", {"user_id": member.pk, "period_kind": "quarter", "period_start": "2030-01-01",
                                  "amount": "300"}).json()["id"]
    assert ids_of(api.get("quotas", user=member.pk)) == {rows[2], rows[3], quarter}
    assert ids_of(api.get("quotas", period_kind="quarter")) == {quarter}
    assert error_fields(api.get("quotas", period_kind="year")) == {"period_kind"}
    assert len(walk(api, "quotas", limit=2)) == 5
    for user in (member, viewer):
        client = api_for(user)
        assert len(ids_of(client.get("quotas"))) == 5
        for r in (client.post("quotas", {"user_id": user.pk, "period_kind": "month", "period_start": "2030-01-01",
                                         "amount": "1"}),
                  put(client, "quotas", {"user_id": user.pk, "period_kind": "month", "period_start": "2030-01-01",
                                         "amount": "1"}),
                  client.delete(f"quotas/{quarter}")):
            assert_error_shape(r, 403)
    settings.KITH_RECORD_VISIBILITY = "own"
    assert ids_of(api_for(member).get("quotas")) == {rows[2], rows[3], quarter}
    assert_error_shape(api_for(member).get(f"quotas/{rows[0]}"), 404)
    assert api.delete(f"quotas/{quarter}").status_code == 204
    assert_error_shape(api.delete(f"quotas/{quarter}"), 404)
    assert Quota.objects.count() == 4
