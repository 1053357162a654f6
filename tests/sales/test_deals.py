"""Deal services (kith.sales.services.deals): create with defaults, validation by field, money in Decimal,
moving between stages (recorded with time, closing and reopening), other pipelines, stale versions, change
history, line items, trash and restore, and who may write."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kith.contacts import services as contact_services
from kith.core import audit, search
from kith.core.errors import ConflictError, PermissionDenied, ValidationError
from kith.core.models import AuditEntry
from kith.sales import services
from kith.sales.choices import StageKind
from kith.sales.models import Deal, DealContact, DealStageChange, LineItem, Pipeline, Stage

pytestmark = pytest.mark.django_db
D = Decimal


def nb() -> Pipeline:
    return services.ensure_default_pipeline()


def stage(name: str, pipeline: Pipeline | None = None) -> Stage:
    return (pipeline or nb()).stages.get(name=name)


def make(actor, **data) -> Deal:
    return services.create_deal(actor=actor, data={"name": "Acme rollout", **data})


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def written() -> tuple[int, int, int, int]:
    """What a failed call must not have changed."""
    return (Deal.all_objects.count(), DealStageChange.objects.count(), AuditEntry.objects.count(),
            LineItem.objects.count())


def changes(deal: Deal) -> list[tuple[str, int]]:
    return [(c.to_stage.name, c.from_stage.name if c.from_stage else None)
            for c in deal.stage_changes.select_related("from_stage", "to_stage").order_by("changed_at", "id")]


@pytest.fixture
def company(admin):
    return contact_services.create_company(actor=admin, data={"name": "Acme Corp", "domain": "acme.example"})


@pytest.fixture
def people(admin, company):
    return [
        contact_services.create_contact(actor=admin, data={"first_name": first, "last_name": "Acme",
                                                           "email": f"{first.lower()}@acme.example",
                                                           "company_id": company.pk})
        for first in ("Ann", "Bo", "Cy")
    ]


@pytest.fixture
def eur(admin):
    return services.set_exchange_rate(actor=admin, currency="EUR", rate="1.125")


@pytest.fixture
def seat(admin):
    return services.create_product(actor=admin, data={"name": "Seat", "sku": "SEAT", "unit_price": "99.99",
                                                      "tax_rate": "10"})


# --- create ---------------------------------------------------------------------------------------------------


def test_create_fills_in_pipeline_first_open_stage_currency_and_owner(member):
    deal = services.create_deal(actor=member, data={"name": "  Acme   rollout "})
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.name == "Acme rollout"
    assert deal.pipeline.name == "New business" and deal.pipeline == Pipeline.objects.get()
    assert deal.stage.name == "Qualified" and deal.stage.kind == StageKind.OPEN and deal.stage.position == 0
    assert deal.currency == "USD" and deal.amount == D("0.00") and deal.amount_default == D("0.00")
    assert deal.owner == member and deal.version == 1
    assert deal.closed_at is None and deal.stage_changed_at == deal.created_at
    change = deal.stage_changes.get()
    assert (change.from_stage, change.to_stage, change.actor, change.changed_at) == (
        None, deal.stage, member, deal.created_at)
    entry = audit.history(deal).get()
    assert entry.action == AuditEntry.Action.CREATE and entry.actor == member
    assert entry.changes["name"]["new"] == "Acme rollout" and entry.changes["stage"]["new"]["label"] == "Qualified"
    assert ("deal", deal.pk) in [(kind, pk) for kind, pk, _ in search.search("acme roll", kinds=["deal"])]


def test_create_takes_every_field(member, admin, company, people):
    ann, bo, _ = people
    deal = make(member, amount="12500.50", expected_close_date="2030-03-31", stage_id=stage("Proposal").pk,
                company_id=company.pk, contact_ids=[ann.pk, bo.pk], primary_contact_id=bo.pk,
                next_step="Send the proposal", is_commit=True, owner_id=admin.pk, tags=["Q1", "q1", "Big"])
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.amount == D("12500.50") and deal.amount_default == D("12500.50")
    assert str(deal.expected_close_date) == "2030-03-31" and deal.stage.name == "Proposal"
    assert deal.company == company and deal.owner == admin and deal.is_commit
    assert deal.next_step == "Send the proposal" and deal.tag_names == ["Big", "Q1"]
    assert deal.primary_contact == bo
    assert set(deal.contacts.all()) == {ann, bo}


def test_nobody_owns_a_deal_given_no_owner(member):
    assert make(member, owner_id=None).owner is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "   "}, "name", "A deal needs a name."),
        ({"name": "x" * 201}, "name", "Must be at most 200 characters."),
        ({"amount": "10.005"}, "amount", "Use at most 2 decimal places."),
        ({"amount": 10.005}, "amount", "Use at most 2 decimal places."),
        ({"amount": "-0.01"}, "amount", "Must be at least 0."),
        ({"amount": "ten"}, "amount", "Enter an amount such as 1250.00."),
        ({"amount": "NaN"}, "amount", "Enter an amount such as 1250.00."),
        ({"currency": "XYZ"}, "currency", "“XYZ” is not an ISO 4217 currency code such as EUR or USD."),
        ({"currency": "EUR"}, "currency", "No exchange rate from EUR to USD is set; add one in Sales settings."),
        ({"stage_id": 987654}, "stage_id", "No stage with id 987654."),
        ({"pipeline_id": 987654}, "pipeline_id", "No pipeline with id 987654."),
        ({"company_id": 987654}, "company_id", "No company with id 987654."),
        ({"contact_ids": [987654]}, "contact_ids", "No contact with id 987654."),
        ({"contact_ids": "1,2"}, "contact_ids", "Must be a list of contact ids."),
        ({"primary_contact_id": 987654}, "primary_contact_id", "No contact with id 987654."),
        ({"expected_close_date": "31/12/2030"}, "expected_close_date", "Enter a date as YYYY-MM-DD."),
        ({"is_commit": "yes"}, "is_commit", "Must be true or false."),
        ({"owner_id": 987654}, "owner_id", "No active user with id 987654."),
        ({"colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_create_refuses_bad_input_by_field_and_writes_nothing(member, data, field, message):
    before = written()
    with pytest.raises(ValidationError) as excinfo:
        services.create_deal(actor=member, data={"name": "Acme", **data})
    assert errors_of(excinfo)[field] == [message]
    assert written() == before


def test_all_problems_are_reported_at_once(member):
    with pytest.raises(ValidationError) as excinfo:
        services.create_deal(actor=member, data={"name": "", "amount": "1.234", "currency": "ZZZ"})
    assert set(errors_of(excinfo)) == {"name", "amount", "currency"}


def test_a_stage_must_belong_to_the_pipeline_given(member, admin):
    main = nb()
    renewals = services.create_pipeline(actor=admin, data={"name": "Renewals"})
    with pytest.raises(ValidationError) as excinfo:
        make(member, pipeline_id=main.pk, stage_id=stage("Proposal", renewals).pk)
    assert errors_of(excinfo)["stage_id"] == ["Stage “Proposal” is not in pipeline “New business”."]
    # Without a pipeline the stage decides it; with only a pipeline its first open stage is used.
    assert make(member, stage_id=stage("Proposal", renewals).pk).pipeline == renewals
    assert make(member, pipeline_id=renewals.pk).stage == stage("Qualified", renewals)


def test_a_lost_stage_needs_a_reason(member):
    lost = stage("Lost")
    with pytest.raises(ValidationError) as excinfo:
        make(member, stage_id=lost.pk)
    assert errors_of(excinfo) == {"lost_reason": ["Say why the deal was lost."]}
    deal = make(member, stage_id=lost.pk, lost_reason="Chose a competitor")
    assert deal.lost_reason == "Chose a competitor" and deal.closed_at == deal.created_at


def test_the_primary_contact_is_the_first_unless_chosen_and_joins_the_contacts(member, people):
    ann, bo, cy = people
    deal = make(member, contact_ids=[ann.pk, bo.pk])
    assert deal.primary_contact == ann
    deal = make(member, contact_ids=[ann.pk], primary_contact_id=cy.pk)
    links = {link.contact_id: link.is_primary for link in DealContact.objects.filter(deal=deal)}
    assert links == {ann.pk: False, cy.pk: True}
    deal = services.update_deal(actor=member, deal=deal, data={"primary_contact_id": ann.pk})
    assert Deal.objects.get(pk=deal.pk).primary_contact == ann
    assert DealContact.objects.filter(deal=deal).count() == 2


# --- money ----------------------------------------------------------------------------------------------------


def test_amounts_are_exact_decimals(member):
    assert make(member, amount="1,250.5").amount == D("1250.50")
    assert Deal.objects.get(pk=make(member, amount=0.1).pk).amount == D("0.10")
    big = make(member, amount="999999999999.99")
    assert Deal.objects.get(pk=big.pk).amount == D("999999999999.99")


def test_the_default_currency_amount_uses_the_exchange_rate_rounded_half_up(member, eur):
    deal = make(member, amount="0.04", currency="eur")
    assert deal.currency == "EUR" and deal.amount_default == D("0.05")  # 0.045 → 0.05, not banker's 0.04
    deal = services.update_deal(actor=member, deal=deal, data={"amount": "1000.01"})
    assert Deal.objects.get(pk=deal.pk).amount_default == D("1125.01")  # 1125.01125
    deal = services.update_deal(actor=member, deal=deal, data={"currency": "USD"})
    assert Deal.objects.get(pk=deal.pk).amount_default == D("1000.01")


# --- moving -----------------------------------------------------------------------------------------------------


def test_moves_are_recorded_and_close_and_reopen_the_deal(member):
    deal = make(member)
    deal = services.move_deal(actor=member, deal=deal, stage_id=stage("Discovery").pk)
    assert deal.closed_at is None and deal.stage_changed_at > deal.created_at
    won = services.move_deal(actor=member, deal=deal, stage_id=stage("Won").pk)
    won = Deal.objects.get(pk=won.pk)
    assert won.closed_at is not None and won.closed_at == won.stage_changed_at
    lost = services.move_deal(actor=member, deal=won, stage_id=stage("Lost").pk, lost_reason="Budget cut")
    lost = Deal.objects.get(pk=lost.pk)
    assert lost.closed_at == lost.stage_changed_at > won.closed_at and lost.lost_reason == "Budget cut"
    reopened = services.move_deal(actor=member, deal=lost, stage_id=stage("Negotiation").pk)
    reopened = Deal.objects.get(pk=reopened.pk)
    assert reopened.closed_at is None and reopened.lost_reason == "" and reopened.stage.name == "Negotiation"
    assert changes(reopened) == [("Qualified", None), ("Discovery", "Qualified"), ("Won", "Discovery"),
                                 ("Lost", "Won"), ("Negotiation", "Lost")]
    rows = list(reopened.stage_changes.order_by("changed_at", "id"))
    assert rows[-1].changed_at == reopened.stage_changed_at and all(r.actor == member for r in rows)
    assert [r.changed_at for r in rows] == sorted(r.changed_at for r in rows)
    assert reopened.version == 5


def test_moving_to_lost_without_a_reason_is_refused_and_writes_nothing(member):
    deal = services.move_deal(actor=member, deal=make(member), stage_id=stage("Won").pk)
    before = written()
    with pytest.raises(ValidationError) as excinfo:
        services.move_deal(actor=member, deal=deal, stage_id=stage("Lost").pk)
    assert errors_of(excinfo) == {"lost_reason": ["Say why the deal was lost."]}
    assert written() == before
    assert Deal.objects.get(pk=deal.pk).stage.name == "Won"
    with pytest.raises(ValidationError) as excinfo:
        services.move_deal(actor=member, deal=deal, stage_id="")
    assert errors_of(excinfo) == {"stage_id": ["Choose a stage."]}


def test_moving_to_the_stage_it_is_in_changes_nothing(member):
    deal = make(member)
    before = written()
    same = services.move_deal(actor=member, deal=deal, stage_id=deal.stage_id)
    assert same.version == 1 and written() == before


def test_moving_to_a_stage_of_another_pipeline_moves_the_deal_there(member, admin):
    nb()  # the default pipeline comes first
    renewals = services.create_pipeline(actor=admin, data={"name": "Renewals", "stages": [
        {"name": "Upcoming", "probability": 30}, {"name": "Renewed", "probability": 100, "kind": "won"},
    ]})
    deal = make(member, stage_id=stage("Proposal").pk)
    deal = services.move_deal(actor=member, deal=deal, stage_id=stage("Upcoming", renewals).pk)
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.pipeline == renewals and deal.stage.name == "Upcoming"
    assert changes(deal)[-1] == ("Upcoming", "Proposal")
    entry = audit.history(deal).first()
    assert entry.changes["pipeline"]["old"]["label"] == "New business"
    assert entry.changes["pipeline"]["new"]["label"] == "Renewals"
    assert entry.changes["stage"]["new"]["label"] == "Upcoming"
    # Changing only the pipeline puts the deal in the new pipeline's first open stage.
    deal = services.update_deal(actor=member, deal=deal, data={"pipeline_id": nb().pk})
    assert deal.stage == stage("Qualified") and changes(deal)[-1] == ("Qualified", "Upcoming")


def test_a_stale_version_is_refused_and_nothing_is_written(member, seat):
    deal = make(member)
    deal = services.update_deal(actor=member, deal=deal, data={"name": "Acme rollout, phase 1"}, expected_version=1)
    assert deal.version == 2
    before = written()
    with pytest.raises(ConflictError) as excinfo:
        services.move_deal(actor=member, deal=deal, stage_id=stage("Won").pk, expected_version=1)
    assert excinfo.value.current_version == 2
    with pytest.raises(ConflictError):
        services.update_deal(actor=member, deal=deal, data={"amount": "5"}, expected_version=1)
    with pytest.raises(ConflictError):
        services.set_line_items(actor=member, deal=deal, items=[{"product_id": seat.pk}], expected_version=1)
    with pytest.raises(ConflictError):
        services.delete_deal(actor=member, deal=deal, expected_version=1)
    assert written() == before
    fresh = Deal.objects.get(pk=deal.pk)
    assert (fresh.version, fresh.stage.name, fresh.amount, fresh.deleted_at) == (2, "Qualified", D("0.00"), None)
    assert services.move_deal(actor=member, deal=deal, stage_id=stage("Won").pk, expected_version=2).version == 3


# --- history --------------------------------------------------------------------------------------------------


def test_history_tells_stage_contact_and_line_item_changes(member, people, seat):
    ann, bo, _ = people
    deal = make(member, contact_ids=[ann.pk])
    created = audit.history(deal).get()
    assert created.changes["contacts"] == {"old": None, "new": ["Ann Acme (primary)"], "label": "Contacts"}

    services.move_deal(actor=member, deal=deal, stage_id=stage("Proposal").pk)
    entry = audit.history(deal).first()
    assert entry.changes["stage"]["old"]["label"] == "Qualified"
    assert entry.changes["stage"]["new"]["label"] == "Proposal"
    assert entry.actor == member and entry.action == AuditEntry.Action.UPDATE

    services.update_deal(actor=member, deal=deal, data={"contact_ids": [ann.pk, bo.pk], "primary_contact_id": bo.pk})
    entry = audit.history(deal).first()
    assert entry.changes == {"contacts": {"old": ["Ann Acme (primary)"],
                                          "new": ["Ann Acme", "Bo Acme (primary)"], "label": "Contacts"}}

    services.set_line_items(actor=member, deal=deal, items=[{"product_id": seat.pk, "quantity": "3",
                                                            "discount_pct": "10"}])
    entry = audit.history(deal).first()
    assert entry.changes["line_items"] == {"old": None, "new": ["3 × Seat @ 99.99 −10%"],
                                           "label": "Line items"}
    assert entry.changes["amount"] == {"old": "0.00", "new": "269.97", "label": "Amount"}
    assert audit.history(deal).count() == 4


def test_an_edit_that_changes_nothing_writes_no_history(member):
    deal = make(member, amount="10")
    before = written()
    same = services.update_deal(actor=member, deal=deal, data={"amount": "10.00", "name": "Acme  rollout"})
    assert same.version == 1 and written() == before


# --- line items -----------------------------------------------------------------------------------------------


def test_line_items_make_the_amount_in_exact_decimals(member, seat):
    deal = make(member, amount="5000")
    deal = services.set_line_items(actor=member, deal=deal, items=[
        {"product_id": seat.pk, "quantity": "3", "discount_pct": "10"},
    ])
    fresh = Deal.objects.get(pk=deal.pk)
    assert fresh.amount == D("269.97") and fresh.amount_default == D("269.97")  # 3 × 99.99 × 0.9 = 269.973
    item = fresh.line_items.get()
    assert (item.name, item.quantity, item.unit_price, item.discount_pct, item.tax_rate, item.product) == (
        "Seat", D("3.00"), D("99.99"), D("10.00"), D("10.00"), seat)
    assert item.total == D("269.97")


def test_many_lines_sum_exactly_and_each_line_is_rounded_once(member):
    deal = make(member)
    tenths = [{"name": f"Line {i}", "unit_price": "0.10"} for i in range(30)]
    deal = services.set_line_items(actor=member, deal=deal, items=tenths)
    assert Deal.objects.get(pk=deal.pk).amount == D("3.00")  # a float sum would be 3.0000000000000013
    halves = [{"name": f"Half cent {i}", "quantity": "0.5", "unit_price": "0.01"} for i in range(3)]
    deal = services.set_line_items(actor=member, deal=deal, items=halves)
    assert Deal.objects.get(pk=deal.pk).amount == D("0.03")  # 0.005 → 0.01 per line, not round(0.015)
    mixed = [{"name": "Seats", "quantity": "7", "unit_price": "123.45", "discount_pct": "12.5"},
             {"name": "Setup", "quantity": "1", "unit_price": "1999.99"},
             {"name": "Hours", "quantity": "12.25", "unit_price": "155.55", "discount_pct": "3"}]
    deal = services.set_line_items(actor=member, deal=deal, items=mixed)
    # 756.13125 → 756.13; 1999.99; 1848.3229… → 1848.32
    assert Deal.objects.get(pk=deal.pk).amount == D("4604.44")
    assert [li.position for li in LineItem.objects.filter(deal=deal)] == [0, 1, 2]


def test_line_items_in_another_currency_convert_the_total(member, eur, seat):
    deal = make(member, currency="EUR")
    deal = services.set_line_items(actor=member, deal=deal, items=[{"product_id": seat.pk, "unit_price": "80.00",
                                                                    "quantity": "3"}])
    fresh = Deal.objects.get(pk=deal.pk)
    assert fresh.amount == D("240.00") and fresh.amount_default == D("270.00")


def test_a_product_in_another_currency_needs_a_unit_price(member, admin, eur):
    euro_seat = services.create_product(actor=admin, data={"name": "Seat EU", "sku": "SEAT-EU",
                                                           "unit_price": "89.00", "currency": "EUR"})
    deal = make(member)
    before = written()
    with pytest.raises(ValidationError) as excinfo:
        services.set_line_items(actor=member, deal=deal, items=[{"product_id": euro_seat.pk}])
    assert errors_of(excinfo) == {"items.0.unit_price": [
        "Seat EU (SEAT-EU) is priced in EUR but the deal is in USD; enter a unit price."]}
    assert written() == before
    deal = services.set_line_items(actor=member, deal=deal, items=[{"product_id": euro_seat.pk, "unit_price": "96"}])
    assert deal.amount == D("96.00")


def test_bad_lines_are_named_by_position_and_nothing_is_written(member, seat):
    deal = make(member, amount="10")
    before = written()
    with pytest.raises(ValidationError) as excinfo:
        services.set_line_items(actor=member, deal=deal, items=[
            {"product_id": seat.pk, "quantity": "2"},
            {"name": "", "unit_price": "1"},
            {"name": "Hours", "quantity": "0", "unit_price": "1.001"},
            {"name": "Deal", "unit_price": "5", "discount_pct": "101", "colour": "red"},
            {"product_id": 987654},
            "three",
        ])
    assert errors_of(excinfo) == {
        "items.1.name": ["A line needs a product or a name."],
        "items.2.quantity": ["Must be at least 0.01."],
        "items.2.unit_price": ["Use at most 2 decimal places."],
        "items.3.colour": ["Unknown field."],
        "items.3.discount_pct": ["Must be at most 100."],
        "items.4.product_id": ["No product with id 987654."],
        "items.4.name": ["A line needs a product or a name."],
        "items.4.unit_price": ["Enter a unit price."],
        "items.5": ["Must be an object."],
    }
    assert written() == before and Deal.objects.get(pk=deal.pk).amount == D("10.00")
    with pytest.raises(ValidationError) as excinfo:
        services.set_line_items(actor=member, deal=deal, items={"product_id": seat.pk})
    assert errors_of(excinfo) == {"items": ["Must be a list of line items."]}


def test_the_amount_is_locked_while_line_items_exist(member, seat):
    deal = services.set_line_items(actor=member, deal=make(member), items=[{"product_id": seat.pk}])
    before = written()
    with pytest.raises(ValidationError) as excinfo:
        services.update_deal(actor=member, deal=deal, data={"amount": "5000"})
    assert errors_of(excinfo) == {"amount": ["This deal's amount comes from its line items; change those instead."]}
    assert written() == before
    # Other fields still change; without line items the amount is typed again (and stays as it was).
    services.update_deal(actor=member, deal=deal, data={"next_step": "Call"})
    deal = services.set_line_items(actor=member, deal=deal, items=[])
    assert not deal.line_items.exists() and Deal.objects.get(pk=deal.pk).amount == D("99.99")
    entry = audit.history(deal).first()
    assert entry.changes["line_items"] == {"old": ["1 × Seat @ 99.99"], "new": None, "label": "Line items"}
    deal = services.update_deal(actor=member, deal=deal, data={"amount": "5000"})
    assert Deal.objects.get(pk=deal.pk).amount == D("5000.00")


# --- trash, permissions ---------------------------------------------------------------------------------------


def test_trash_and_restore(member):
    deal = make(member)
    trashed = services.delete_deal(actor=member, deal=deal)
    assert trashed.deleted_at is not None and trashed.deleted_by == member and trashed.version == 2
    assert not Deal.objects.filter(pk=deal.pk).exists() and Deal.all_objects.filter(pk=deal.pk).exists()
    assert audit.history(deal).first().action == AuditEntry.Action.DELETE
    assert not search.search("acme rollout", kinds=["deal"])
    restored = services.restore_deal(actor=member, deal=trashed)
    assert restored.deleted_at is None and restored.version == 3
    assert Deal.objects.filter(pk=deal.pk).exists()
    assert audit.history(deal).first().action == AuditEntry.Action.RESTORE
    assert [pk for _, pk, _ in search.search("acme rollout", kinds=["deal"])] == [deal.pk]
    # The stage story survives the trash.
    assert changes(restored) == [("Qualified", None)]


def test_viewers_see_but_cannot_write(viewer, member, seat):
    with pytest.raises(PermissionDenied):
        services.create_deal(actor=viewer, data={"name": "Nope"})
    deal = make(member)
    before = written()
    for attempt in (
        lambda: services.update_deal(actor=viewer, deal=deal, data={"name": "Nope"}),
        lambda: services.move_deal(actor=viewer, deal=deal, stage_id=stage("Won").pk),
        lambda: services.set_line_items(actor=viewer, deal=deal, items=[{"product_id": seat.pk}]),
        lambda: services.delete_deal(actor=viewer, deal=deal),
        lambda: services.restore_deal(actor=viewer, deal=deal),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert written() == before
    fresh = Deal.objects.get(pk=deal.pk)
    assert (fresh.name, fresh.stage.name, fresh.version) == ("Acme rollout", "Qualified", 1)


def test_setting_the_same_line_items_again_changes_nothing(member, seat):
    items = [{"product_id": seat.pk, "quantity": "3", "discount_pct": "10"}, {"name": "Setup", "unit_price": "500"}]
    deal = services.set_line_items(actor=member, deal=make(member), items=items)
    entry = audit.history(deal).first()
    assert entry.changes["line_items"]["new"] == ["3 × Seat @ 99.99 −10%", "1 × Setup @ 500.00"]
    before = written()
    same = services.set_line_items(actor=member, deal=deal, items=items)
    assert same.version == deal.version and written() == before
    # The labels of lines read back from the database are the same as when they were written.
    deal = services.set_line_items(actor=member, deal=deal, items=items[1:])
    assert audit.history(deal).first().changes["line_items"] == {
        "old": ["3 × Seat @ 99.99 −10%", "1 × Setup @ 500.00"], "new": ["1 × Setup @ 500.00"], "label": "Line items"}
