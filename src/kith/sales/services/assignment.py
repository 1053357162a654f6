"""Lead assignment: rules in order (all conditions must match) → a user or round-robin over a team.

When no rule matches, the workspace's default team (Sales settings) takes the lead round-robin;
with no default team the lead stays unassigned. Round-robin skips inactive users and locks the team
row, so two leads arriving at once go to two different people.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kith.core.errors import ValidationError

from ..models import AssignmentRule, Lead, SalesSettings, Team

CONDITION_FIELDS = {
    "source": "Source", "country": "Country", "company_name": "Company", "title": "Title", "email": "Email",
    "utm_source": "UTM source", "utm_medium": "UTM medium", "utm_campaign": "UTM campaign", "form": "Form slug",
}
OPS = {"equals": "is", "not_equals": "is not", "contains": "contains", "in": "is one of", "is_empty": "is empty"}


def clean_conditions(value: Any) -> list[dict[str, str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError({"conditions": ["Must be a list of {field, op, value}."]})
    out = []
    for i, cond in enumerate(value):
        if not isinstance(cond, dict):
            raise ValidationError({f"conditions.{i}": ["Must be an object with field, op and value."]})
        field, op = cond.get("field"), cond.get("op", "equals")
        if field not in CONDITION_FIELDS:
            raise ValidationError({f"conditions.{i}.field": [f"Use one of: {', '.join(CONDITION_FIELDS)}."]})
        if op not in OPS:
            raise ValidationError({f"conditions.{i}.op": [f"Use one of: {', '.join(OPS)}."]})
        text = str(cond.get("value") or "").strip()
        if op != "is_empty" and not text:
            raise ValidationError({f"conditions.{i}.value": ["Enter a value to compare with."]})
        out.append({"field": field, "op": op, "value": text})
    return out


def _lead_value(lead: Lead, field: str) -> str:
    if field == "form":
        return lead.form.slug if lead.form is not None else ""
    return str(getattr(lead, field, "") or "")


def matches(rule: AssignmentRule, lead: Lead) -> bool:
    for cond in rule.conditions:
        actual = _lead_value(lead, cond["field"]).strip().lower()
        expected = cond.get("value", "").strip().lower()
        op = cond.get("op", "equals")
        if op == "equals" and actual != expected:
            return False
        if op == "not_equals" and actual == expected:
            return False
        if op == "contains" and expected not in actual:
            return False
        if op == "in" and actual not in {v.strip() for v in expected.split(",")}:
            return False
        if op == "is_empty" and actual:
            return False
    return True


def next_in_team(team: Team):
    """Round-robin: the active member after the one assigned last (by id), under a row lock."""
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        members = list(team.members.filter(is_active=True).order_by("id"))
        if not members:
            return None
        after = team.last_assigned_id or 0
        chosen = next((m for m in members if m.pk > after), members[0])
        team.last_assigned = chosen
        team.save(update_fields=["last_assigned"])
        return chosen


def choose_owner(lead: Lead):
    """(user, reason) for a new lead, or (None, "") when nobody is to be assigned."""
    for rule in AssignmentRule.objects.filter(active=True).select_related("user", "team").order_by("position", "id"):
        if not matches(rule, lead):
            continue
        if rule.user is not None and rule.user.is_active:
            return rule.user, f"rule “{rule.name}”"
        if rule.team is not None:
            user = next_in_team(rule.team)
            if user is not None:
                return user, f"rule “{rule.name}”, round-robin in team {rule.team}"
    team = SalesSettings.get().default_team
    if team is not None:
        user = next_in_team(team)
        if user is not None:
            return user, f"round-robin in default team {team}"
    return None, ""
