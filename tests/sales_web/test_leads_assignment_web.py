"""The assignment settings page: rules in order (create, edit, reorder, delete), teams, default team."""

from __future__ import annotations

import pytest

from conftest import signed_in
from kith.sales.models import AssignmentRule, SalesSettings, Team
from kith.sales.services import teams

from .test_leads_web import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin):
    return signed_in(admin)


def rule_data(**overrides):
    data = {"name": "", "target": "", "active": "on"}
    for i in range(2):
        data.update({f"cond_field_{i}": "", f"cond_op_{i}": "equals", f"cond_value_{i}": ""})
    data.update(overrides)
    return data


def test_page_lists_rules_in_order_teams_and_the_fallback(admin_client, admin, member):
    team = teams.create_team(actor=admin, data={"name": "Inbound", "member_ids": [member.pk, admin.pk]})
    teams.create_rule(actor=admin, data={"name": "Germany", "user_id": member.pk,
                                         "conditions": [{"field": "country", "op": "equals", "value": "DE"}]})
    teams.create_rule(actor=admin, data={"name": "Rest", "team_id": team.pk, "active": False})
    row = SalesSettings.get()
    row.default_team = team
    row.save()
    page = text(admin_client.get("/leads/assignment/"))
    assert page.index("Germany") < page.index("Rest")
    assert "When Country is “DE” → Bob Member" in page
    assert "Every lead → Inbound (round-robin)" in page and "Off" in page
    assert "Alice Admin, Bob Member" in page and "Used by Rest" in page
    assert "round-robin in the default team Inbound" in page


def test_create_a_rule_with_conditions_for_a_team(admin_client, admin, member):
    team = teams.create_team(actor=admin, data={"name": "Inbound", "member_ids": [member.pk]})
    r = admin_client.get("/leads/assignment/rules/new/")
    assert "Teams (round-robin)" in r.content.decode()
    r = admin_client.post("/leads/assignment/rules/new/", rule_data(
        name="Ads", target=f"t:{team.pk}", cond_field_0="utm_source", cond_op_0="contains", cond_value_0="google",
        cond_field_1="country", cond_op_1="in", cond_value_1="DE, AT"), follow=True)
    rule = AssignmentRule.objects.get(name="Ads")
    assert rule.team == team and rule.user is None and rule.active
    assert rule.conditions == [{"field": "utm_source", "op": "contains", "value": "google"},
                               {"field": "country", "op": "in", "value": "DE, AT"}]
    assert "The rule “Ads” was created." in text(r)


def test_rule_errors_show_next_to_the_condition(admin_client, member):
    r = admin_client.post("/leads/assignment/rules/new/", rule_data(
        name="", cond_field_0="", cond_field_1="country", cond_op_1="equals", cond_value_1=""))
    assert r.status_code == 400
    page = text(r)
    assert "Give the rule a name." in page
    assert "Choose who gets the leads: a person or a team." in page
    assert "Enter a value to compare with." in page
    assert 'id="id_cond_value_1"' in r.content.decode()
    html = r.content.decode()
    value_1 = html[html.index('id="id_cond_value_1"'):]
    assert "Enter a value to compare with." in value_1[:600]
    assert not AssignmentRule.objects.exists()


def test_edit_reorder_and_delete_rules(admin_client, admin, member):
    a = teams.create_rule(actor=admin, data={"name": "A", "user_id": member.pk})
    b = teams.create_rule(actor=admin, data={"name": "B", "user_id": admin.pk})
    r = admin_client.post(f"/leads/assignment/rules/{b.pk}/move/", {"direction": "up"}, follow=True)
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["B", "A"]
    assert "The rule “B” was moved up." in text(r)
    r = admin_client.get(f"/leads/assignment/rules/{a.pk}/edit/")
    assert 'value="A"' in r.content.decode()
    admin_client.post(f"/leads/assignment/rules/{a.pk}/edit/", rule_data(name="A2", target=f"u:{admin.pk}"))
    a.refresh_from_db()
    assert (a.name, a.user, a.active) == ("A2", admin, True)
    admin_client.post(f"/leads/assignment/rules/{a.pk}/edit/", rule_data(name="A2", target=f"u:{admin.pk}",
                                                                         active=""))
    a.refresh_from_db()
    assert a.active is False
    admin_client.post(f"/leads/assignment/rules/{a.pk}/delete/")
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["B"]


def test_teams_create_edit_and_delete_refused_while_used(admin_client, admin, member):
    r = admin_client.post("/leads/assignment/teams/new/", {"name": "Inbound", "member_ids": [str(member.pk)]})
    assert r.status_code == 302
    team = Team.objects.get(name="Inbound")
    assert list(team.members.all()) == [member]
    admin_client.post(f"/leads/assignment/teams/{team.pk}/edit/", {"name": "Inbound EU",
                                                                   "member_ids": [str(admin.pk), str(member.pk)]})
    team.refresh_from_db()
    assert team.name == "Inbound EU" and team.members.count() == 2
    teams.create_rule(actor=admin, data={"name": "Everything", "team_id": team.pk})
    r = admin_client.post(f"/leads/assignment/teams/{team.pk}/delete/", follow=True)
    assert "Change or delete those rules first." in text(r)
    assert Team.objects.filter(pk=team.pk).exists()
    r = admin_client.post("/leads/assignment/teams/new/", {"name": "inbound eu"})
    assert r.status_code == 400 and "already exists" in text(r)


def test_only_admins_and_managers(member, manager):
    c = signed_in(member)
    assert c.get("/leads/assignment/").status_code == 403
    assert c.post("/leads/assignment/teams/new/", {"name": "Mine"}).status_code == 403
    assert not Team.objects.exists()
    assert signed_in(manager).get("/leads/assignment/").status_code == 200
