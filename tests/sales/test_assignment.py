"""Lead assignment: rules in order, conditions, round-robin over teams, the default team, and the
team / rule services that admins and managers use to set them up."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from conftest import make_user
from kith.core.errors import ValidationError
from kith.core.models import Notification
from kith.sales.models import AssignmentRule, LeadForm, SalesSettings, Team
from kith.sales.services import assignment, leads, teams

pytestmark = pytest.mark.django_db


@pytest.fixture
def reps(db):
    return [make_user(f"rep{i}@example.com", "member", full_name=f"Rep {i}") for i in range(1, 4)]


def team_of(admin, name, members):
    return teams.create_team(actor=admin, data={"name": name, "member_ids": [m.pk for m in members]})


def rule(admin, name, conditions=None, user=None, team=None, active=True):
    return teams.create_rule(actor=admin, data={
        "name": name, "conditions": conditions or [], "active": active,
        "user_id": user.pk if user else None, "team_id": team.pk if team else None,
    })


def new_lead(**data):
    return leads.create_lead(actor=None, data={"first_name": "Lena", **data})


# --- rules ------------------------------------------------------------------------------------------------


def test_first_matching_rule_in_order_wins(admin, reps):
    rule(admin, "Germany", [{"field": "country", "op": "equals", "value": "DE"}], user=reps[0])
    rule(admin, "Everyone", [], user=reps[1])
    assert new_lead(country="DE").owner == reps[0]
    assert new_lead(country="FR").owner == reps[1]


def test_reordering_changes_which_rule_wins(admin, reps):
    first = rule(admin, "Catch all", [], user=reps[1])
    second = rule(admin, "Germany", [{"field": "country", "op": "equals", "value": "DE"}], user=reps[0])
    assert new_lead(country="DE").owner == reps[1]
    teams.move_rule(actor=admin, rule=second, direction="up")
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Germany", "Catch all"]
    assert new_lead(country="DE").owner == reps[0]
    teams.move_rule(actor=admin, rule=first, direction="up")  # back to first
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Catch all", "Germany"]
    teams.move_rule(actor=admin, rule=first, direction="up")  # already first: nothing moves
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Catch all", "Germany"]


def test_every_condition_must_match(admin, reps):
    rule(admin, "German ads", [
        {"field": "country", "op": "equals", "value": "de"},
        {"field": "utm_source", "op": "contains", "value": "google"},
    ], user=reps[0])
    assert new_lead(country="DE", utm_source="google-ads").owner == reps[0]
    assert new_lead(country="DE", utm_source="newsletter").owner is None
    assert new_lead(country="AT", utm_source="google").owner is None


@pytest.mark.parametrize(("cond", "data", "expected"), [
    ({"field": "source", "op": "not_equals", "value": "Partner"}, {"source": "Website"}, True),
    ({"field": "source", "op": "not_equals", "value": "Partner"}, {"source": "partner"}, False),
    ({"field": "country", "op": "in", "value": "DE, AT, CH"}, {"country": "CH"}, True),
    ({"field": "country", "op": "in", "value": "DE, AT, CH"}, {"country": "FR"}, False),
    ({"field": "company_name", "op": "is_empty", "value": ""}, {}, True),
    ({"field": "company_name", "op": "is_empty", "value": ""}, {"company_name": "Acme"}, False),
    ({"field": "email", "op": "contains", "value": "@acme."}, {"email": "ann@acme.io"}, True),
    ({"field": "title", "op": "equals", "value": "CTO"}, {"title": "CEO"}, False),
])
def test_condition_operators(admin, reps, cond, data, expected):
    rule(admin, "r", [cond], user=reps[0])
    assert (new_lead(**data).owner == reps[0]) is expected


def test_form_condition_matches_the_form_slug(admin, reps):
    rule(admin, "Demo requests", [{"field": "form", "op": "equals", "value": "demo"}], user=reps[2])
    form = LeadForm.objects.create(name="Demo", slug="demo", fields=[{"field": "email", "label": "Email"}])
    lead = leads.create_lead(actor=None, data={"email": "x@corp.com"}, form=form)
    assert lead.owner == reps[2]
    assert new_lead().owner is None


def test_inactive_rule_is_skipped(admin, reps):
    rule(admin, "Off", [], user=reps[0], active=False)
    rule(admin, "On", [], user=reps[1])
    assert new_lead().owner == reps[1]


def test_rule_with_an_inactive_user_falls_through(admin, reps):
    rule(admin, "Gone", [], user=reps[0])
    rule(admin, "Next", [], user=reps[1])
    reps[0].is_active = False
    reps[0].save()
    assert new_lead().owner == reps[1]


# --- round-robin ------------------------------------------------------------------------------------------


def test_round_robin_alternates_over_consecutive_leads(admin, reps):
    team = team_of(admin, "Inbound", reps[:2])
    rule(admin, "All to inbound", [], team=team)
    owners = [new_lead(first_name=f"L{i}").owner for i in range(4)]
    assert owners == [reps[0], reps[1], reps[0], reps[1]]


def test_round_robin_skips_inactive_members(admin, reps):
    team = team_of(admin, "Inbound", reps)
    rule(admin, "All to inbound", [], team=team)
    reps[1].is_active = False
    reps[1].save()
    owners = [new_lead(first_name=f"L{i}").owner for i in range(3)]
    assert owners == [reps[0], reps[2], reps[0]]


def test_team_without_active_members_falls_through_to_the_next_rule(admin, reps):
    empty = team_of(admin, "Empty", [])
    rule(admin, "To empty team", [], team=empty)
    rule(admin, "Fallback", [], user=reps[2])
    assert new_lead().owner == reps[2]


def test_default_team_takes_leads_no_rule_matched(admin, reps):
    team = team_of(admin, "Default", reps[1:])
    settings_row = SalesSettings.get()
    settings_row.default_team = team
    settings_row.save()
    rule(admin, "Germany", [{"field": "country", "op": "equals", "value": "DE"}], user=reps[0])
    assert new_lead(country="DE").owner == reps[0]
    assert [new_lead(country="US").owner for _ in range(2)] == [reps[1], reps[2]]


def test_no_rule_and_no_default_team_leaves_the_lead_unassigned(reps):
    lead = new_lead()
    assert lead.owner is None and lead.assigned_at is None
    assert Notification.objects.count() == 0


def test_assigned_owner_is_notified_and_history_says_why(admin, reps):
    team = team_of(admin, "Inbound", reps[:1])
    rule(admin, "Web leads", [{"field": "source", "op": "equals", "value": "Website"}], team=team)
    lead = new_lead(source="Website", email="lena@corp.com")
    note = Notification.objects.get(user=reps[0])
    assert note.kind == "lead.assigned"
    assert "Lena" in note.title and "Web leads" in note.title
    assert note.url == f"/leads/{lead.pk}/"
    from kith.core import audit

    entry = audit.history(lead).first()
    assert entry.changes["owner"]["new"]["label"] == "Rep 1"
    assert "rule “Web leads”" in entry.changes["owner"]["reason"]
    assert lead.assigned_at is not None


def test_explicit_owner_skips_the_rules(admin, reps):
    rule(admin, "All", [], user=reps[0])
    lead = leads.create_lead(actor=admin, data={"first_name": "Max", "owner_id": reps[2].pk})
    assert lead.owner == reps[2]
    lead = leads.create_lead(actor=admin, data={"first_name": "Nobody", "owner_id": None})
    assert lead.owner is None


def test_choose_owner_reports_the_reason(admin, reps):
    team = team_of(admin, "Inbound", reps[:1])
    rule(admin, "All", [], team=team)
    from kith.sales.models import Lead

    user, reason = assignment.choose_owner(Lead(first_name="x"))
    assert user == reps[0]
    assert reason == "rule “All”, round-robin in team Inbound"


# --- the team and rule services -------------------------------------------------------------------------


def test_rule_validation_names_each_problem(admin, reps):
    with pytest.raises(ValidationError) as exc:
        teams.create_rule(actor=admin, data={"name": "", "conditions": [{"field": "shoe_size", "op": "equals",
                                                                         "value": "9"}]})
    errors = exc.value.message_dict
    assert errors["name"] == ["Give the rule a name."]
    assert "conditions.0.field" in errors
    assert errors["user_id"] == ["Choose who gets the leads: a person or a team."]
    with pytest.raises(ValidationError) as exc:
        teams.create_rule(actor=admin, data={"name": "x", "conditions": [{"field": "country", "op": "equals",
                                                                          "value": ""}], "user_id": reps[0].pk})
    assert exc.value.message_dict == {"conditions.0.value": ["Enter a value to compare with."]}
    with pytest.raises(ValidationError) as exc:
        teams.create_rule(actor=admin, data={"name": "x", "user_id": reps[0].pk, "team_id": 999})
    assert exc.value.message_dict == {"user_id": ["Assign to a person or a team, not both."]}
    assert AssignmentRule.objects.count() == 0


def test_new_rules_go_last_and_update_keeps_position(admin, reps):
    a = rule(admin, "A", [], user=reps[0])
    b = rule(admin, "B", [], user=reps[1])
    assert (a.position, b.position) == (0, 1)
    b = teams.update_rule(actor=admin, rule=b, data={"name": "B2", "active": False})
    assert (b.name, b.active, b.position, b.user) == ("B2", False, 1, reps[1])
    teams.delete_rule(actor=admin, rule=a)
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["B2"]


def test_team_names_are_unique_and_members_must_be_active(admin, reps):
    team_of(admin, "Inbound", reps[:1])
    with pytest.raises(ValidationError) as exc:
        teams.create_team(actor=admin, data={"name": "inbound", "member_ids": []})
    assert exc.value.message_dict == {"name": ["A team named “inbound” already exists."]}
    reps[2].is_active = False
    reps[2].save()
    with pytest.raises(ValidationError) as exc:
        teams.create_team(actor=admin, data={"name": "Outbound", "member_ids": [reps[2].pk]})
    assert exc.value.message_dict == {"member_ids": [f"No active user with id {reps[2].pk}."]}
    assert list(Team.objects.values_list("name", flat=True)) == ["Inbound"]


def test_team_used_by_a_rule_cannot_be_deleted(admin, reps):
    team = team_of(admin, "Inbound", reps)
    rule(admin, "Everything", [], team=team)
    with pytest.raises(ValidationError) as exc:
        teams.delete_team(actor=admin, team=team)
    assert "“Everything”" in exc.value.messages[0]
    assert Team.objects.filter(pk=team.pk).exists()


def test_deleting_the_default_team_clears_the_setting(admin, reps):
    team = team_of(admin, "Default", reps)
    row = SalesSettings.get()
    row.default_team = team
    row.save()
    teams.delete_team(actor=admin, team=team)
    assert SalesSettings.get().default_team is None


def test_only_admins_and_managers_change_rules_and_teams(member, manager, reps):
    with pytest.raises(PermissionDenied):
        teams.create_team(actor=member, data={"name": "Mine"})
    with pytest.raises(PermissionDenied):
        teams.create_rule(actor=member, data={"name": "Mine", "user_id": member.pk})
    team = teams.create_team(actor=manager, data={"name": "Managed", "member_ids": [reps[0].pk]})
    assert list(team.members.all()) == [reps[0]]
