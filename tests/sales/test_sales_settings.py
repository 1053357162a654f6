"""Sales settings and exchange rates: validation, rate changes recomputing open deals in batches, and a change
of default currency rebasing the rates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kith.core.errors import PermissionDenied, ValidationError
from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Deal, ExchangeRate, Quota, SalesSettings, Team
from kith.sales.services.settings import recompute_open_deals

from .salesadmin_helpers import deal, stage

pytestmark = pytest.mark.django_db
D = Decimal


def test_update_settings(admin):
    team = Team.objects.create(name="Inbound")
    s = services.update_sales_settings(actor=admin, data={
        "first_response_minutes": "30", "quote_terms": " Net 14. ", "quote_validity_days": 14,
        "default_team_id": str(team.pk)})
    s = SalesSettings.get()
    assert (s.first_response_minutes, s.quote_terms, s.quote_validity_days, s.default_team) == (30, "Net 14.", 14, team)
    services.update_sales_settings(actor=admin, data={"default_team_id": ""})
    assert SalesSettings.get().default_team is None


def test_settings_validation(admin):
    with pytest.raises(ValidationError) as exc:
        services.update_sales_settings(actor=admin, data={
            "first_response_minutes": "0", "quote_validity_days": "1.5", "default_currency": "XYZ",
            "default_team_id": "999"})
    assert set(exc.value.message_dict) == {"first_response_minutes", "quote_validity_days", "default_currency",
                                           "default_team_id"}


def test_only_admins(manager, member):
    for actor in (manager, member):
        with pytest.raises(PermissionDenied):
            services.update_sales_settings(actor=actor, data={"quote_validity_days": 5})
        with pytest.raises(PermissionDenied):
            services.set_exchange_rate(actor=actor, currency="EUR", rate="1.1")


def test_rate_validation(admin):
    for rate, message in (("0", "greater than 0"), ("-1", "greater than 0"), ("1.123456789", "8 decimal"),
                          ("abc", "rate such as")):
        with pytest.raises(ValidationError) as exc:
            services.set_exchange_rate(actor=admin, currency="EUR", rate=rate)
        assert message in exc.value.message_dict["rate"][0], rate
    with pytest.raises(ValidationError) as exc:
        services.set_exchange_rate(actor=admin, currency="USD", rate="1")
    assert "default currency" in exc.value.message_dict["currency"][0]
    row = services.set_exchange_rate(actor=admin, currency="eur", rate="1.08254321")
    assert (row.currency, ExchangeRate.objects.get().rate) == ("EUR", D("1.08254321"))


def test_rate_change_recomputes_open_deals_only(admin, monkeypatch):
    services.set_exchange_rate(actor=admin, currency="EUR", rate="1.1")
    open_eur = [deal(admin, name=f"E{i}", amount="100.05", currency="EUR") for i in range(5)]
    usd = deal(admin, name="U", amount="100")
    won = deal(admin, name="W", amount="100", currency="EUR", stage_id=stage(StageKind.WON).pk)
    assert Deal.objects.get(pk=open_eur[0].pk).amount_default == D("110.06")  # 110.055 rounds up
    monkeypatch.setattr("kith.sales.services.settings.BATCH_SIZE", 2)  # several batches
    row = services.set_exchange_rate(actor=admin, currency="EUR", rate="0.9")
    assert row.deals_recomputed == 5
    assert set(Deal.objects.filter(pk__in=[d.pk for d in open_eur]).values_list("amount_default", flat=True)) == {D("90.05")}
    assert Deal.objects.get(pk=usd.pk).amount_default == D("100.00")
    assert Deal.objects.get(pk=won.pk).amount_default == D("110.00")  # closed deals keep their rate


def test_recompute_in_batches_directly(admin):
    services.set_exchange_rate(actor=admin, currency="GBP", rate="1.25")
    ids = [deal(admin, name=f"G{i}", amount="10", currency="GBP").pk for i in range(7)]
    ExchangeRate.objects.filter(currency="GBP").update(rate=D("2"))
    assert recompute_open_deals(currencies=["GBP"], batch_size=3) == 7
    assert set(Deal.objects.filter(pk__in=ids).values_list("amount_default", flat=True)) == {D("20.00")}
    assert recompute_open_deals(currencies=["GBP"], batch_size=3) == 0


def test_cannot_remove_a_rate_open_deals_use(admin):
    services.set_exchange_rate(actor=admin, currency="EUR", rate="1.1")
    d = deal(admin, name="E", amount="10", currency="EUR")
    with pytest.raises(ValidationError) as exc:
        services.delete_exchange_rate(actor=admin, currency="EUR")
    assert "1 open deal is in EUR" in exc.value.message_dict["currency"][0]
    services.delete_deal(actor=admin, deal=d)
    Deal.all_objects.filter(pk=d.pk).delete()
    services.delete_exchange_rate(actor=admin, currency="EUR")
    assert not ExchangeRate.objects.exists()


def test_changing_the_default_currency_rebases_rates_and_amounts(admin, member):
    services.set_exchange_rate(actor=admin, currency="EUR", rate="1.25")  # 1 EUR = 1.25 USD
    services.set_exchange_rate(actor=admin, currency="GBP", rate="1.5")
    usd = deal(admin, name="U", amount="100")
    eur = deal(admin, name="E", amount="100", currency="EUR")
    won = deal(admin, name="W", amount="250", stage_id=stage(StageKind.WON).pk)
    services.set_quota(actor=admin, user=member, period_kind="month", period_start="2026-01-01", amount="1000")
    with pytest.raises(ValidationError) as exc:
        services.update_sales_settings(actor=admin, data={"default_currency": "JPY"})
    assert "Add an exchange rate for JPY" in exc.value.message_dict["default_currency"][0]
    services.update_sales_settings(actor=admin, data={"default_currency": "eur"})
    assert SalesSettings.get().default_currency == "EUR"
    rates = dict(ExchangeRate.objects.values_list("currency", "rate"))
    assert rates == {"USD": D("0.80000000"), "GBP": D("1.20000000")}
    assert Deal.objects.get(pk=usd.pk).amount_default == D("80.00")
    assert Deal.objects.get(pk=eur.pk).amount_default == D("100.00")
    assert Deal.objects.get(pk=won.pk).amount_default == D("200.00")
    assert Quota.objects.get().amount == D("800.00")


def test_default_currency_can_change_freely_on_an_empty_workspace(admin):
    services.update_sales_settings(actor=admin, data={"default_currency": "CHF"})
    assert SalesSettings.get().default_currency == "CHF"
