"""Sales teams and lead assignment rules (admins and managers).

Rules run in position order (see services.assignment); a rule assigns to one user or round-robin over a
team. Conditions are validated by assignment.clean_conditions.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kith.core import permissions
from kith.core.errors import ValidationError
from kith.core.models import User

from ..models import AssignmentRule, SalesSettings, Team
from .assignment import clean_conditions

TEAM_FIELDS = {"name", "member_ids"}
RULE_FIELDS = {"name", "conditions", "user_id", "team_id", "active"}


def _unknown(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})


def _name(value: Any, errors: dict[str, list[str]], *, what: str) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        errors["name"] = [f"Give the {what} a name."]
    elif len(name) > 100:
        errors["name"] = ["Must be at most 100 characters."]
    return name


def _ids(value: Any, field: str, errors: dict[str, list[str]]) -> list[int]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple):
        errors[field] = ["Must be a list of user ids."]
        return []
    try:
        return list(dict.fromkeys(int(v) for v in value))
    except (TypeError, ValueError):
        errors[field] = ["Must be a list of user ids."]
        return []


# --- teams ------------------------------------------------------------------------------------------------


def _apply_team(team: Team, data: dict[str, Any]) -> list[User] | None:
    _unknown(data, TEAM_FIELDS)
    errors: dict[str, list[str]] = {}
    if "name" in data or team.pk is None:
        team.name = _name(data.get("name"), errors, what="team")
        if team.name and Team.objects.filter(name__iexact=team.name).exclude(pk=team.pk).exists():
            errors["name"] = [f"A team named “{team.name}” already exists."]
    members = None
    if "member_ids" in data:
        ids = _ids(data["member_ids"], "member_ids", errors)
        members = list(User.objects.filter(pk__in=ids, is_active=True))
        missing = sorted(set(ids) - {u.pk for u in members})
        if missing and "member_ids" not in errors:
            errors["member_ids"] = [f"No active user with id {missing[0]}."]
    if errors:
        raise ValidationError(errors)
    return members


def create_team(*, actor, data: dict[str, Any]) -> Team:
    permissions.require_settings(actor)
    with transaction.atomic():
        team = Team()
        members = _apply_team(team, data)
        team.save()
        if members is not None:
            team.members.set(members)
    return team


def update_team(*, actor, team: Team, data: dict[str, Any]) -> Team:
    permissions.require_settings(actor)
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        members = _apply_team(team, data)
        team.updated_at = timezone.now()
        team.save()
        if members is not None:
            team.members.set(members)
    return team


def delete_team(*, actor, team: Team) -> None:
    """Refused while rules assign to the team; if it is the default team, Sales settings lose it."""
    permissions.require_settings(actor)
    with transaction.atomic():
        rules = list(AssignmentRule.objects.filter(team=team).values_list("name", flat=True))
        if rules:
            listed = ", ".join(f"“{r}”" for r in rules[:5])
            raise ValidationError({"__all__": [
                f"Rules assign leads to {team.name}: {listed}. Change or delete those rules first."
            ]})
        SalesSettings.objects.filter(default_team=team).update(default_team=None)
        team.delete()


# --- rules ------------------------------------------------------------------------------------------------


def _apply_rule(rule: AssignmentRule, data: dict[str, Any]) -> None:
    _unknown(data, RULE_FIELDS)
    errors: dict[str, list[str]] = {}
    if "name" in data or rule.pk is None:
        rule.name = _name(data.get("name"), errors, what="rule")
    if "conditions" in data:
        try:
            rule.conditions = clean_conditions(data["conditions"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "active" in data:
        value = data["active"]
        rule.active = value if isinstance(value, bool) else str(value).strip().lower() in ("on", "true", "1", "yes")
    if "user_id" in data or "team_id" in data:
        user_id, team_id = data.get("user_id"), data.get("team_id")
        rule.user, rule.team = None, None
        if user_id not in (None, "") and team_id not in (None, ""):
            errors["user_id"] = ["Assign to a person or a team, not both."]
        elif user_id not in (None, ""):
            try:
                rule.user = User.objects.get(pk=int(user_id), is_active=True)
            except (User.DoesNotExist, TypeError, ValueError):
                errors["user_id"] = [f"No active user with id {user_id}."]
        elif team_id not in (None, ""):
            try:
                rule.team = Team.objects.get(pk=int(team_id))
            except (Team.DoesNotExist, TypeError, ValueError):
                errors["team_id"] = [f"No team with id {team_id}."]
    if rule.user_id is None and rule.team_id is None and not ({"user_id", "team_id"} & set(errors)):
        errors["user_id"] = ["Choose who gets the leads: a person or a team."]
    if errors:
        raise ValidationError(errors)


def create_rule(*, actor, data: dict[str, Any]) -> AssignmentRule:
    """A new rule goes last."""
    permissions.require_settings(actor)
    with transaction.atomic():
        rule = AssignmentRule()
        _apply_rule(rule, data)
        last = AssignmentRule.objects.aggregate(m=Max("position"))["m"]
        rule.position = 0 if last is None else last + 1
        rule.save()
    return rule


def update_rule(*, actor, rule: AssignmentRule, data: dict[str, Any]) -> AssignmentRule:
    permissions.require_settings(actor)
    with transaction.atomic():
        rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
        _apply_rule(rule, data)
        rule.updated_at = timezone.now()
        rule.save()
    return rule


def delete_rule(*, actor, rule: AssignmentRule) -> None:
    permissions.require_settings(actor)
    rule.delete()


def move_rule(*, actor, rule: AssignmentRule, direction: str) -> AssignmentRule:
    """Swap a rule with its neighbour ("up" runs it earlier, "down" later); positions are renumbered 0…n."""
    permissions.require_settings(actor)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": ["Use up or down."]})
    with transaction.atomic():
        rules = list(AssignmentRule.objects.select_for_update().order_by("position", "id"))
        index = next((i for i, r in enumerate(rules) if r.pk == rule.pk), None)
        if index is None:
            raise ValidationError({"__all__": ["This rule no longer exists."]})
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(rules):
            rules[index], rules[other] = rules[other], rules[index]
        for position, r in enumerate(rules):
            if r.position != position:
                r.position = position
                r.save(update_fields=["position"])
        return next(r for r in rules if r.pk == rule.pk)
