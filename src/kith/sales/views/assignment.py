"""Lead assignment settings (admins and managers): rules in order and sales teams."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core.models import User

from .. import services
from ..forms_leads import RuleForm, TeamForm
from ..models import AssignmentRule, SalesSettings, Team

NAV = "leads"


def _require_manager(request: HttpRequest) -> None:
    if not request.user.can_manage_settings:
        raise PermissionDenied("Only admins and managers can change lead assignment.")


def _get(model, pk: int):
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise Http404(f"No such {model._meta.verbose_name}.")
    return obj


def sales_settings_url() -> str:
    try:
        return reverse("web:sales_settings")
    except NoReverseMatch:
        return ""


@login_required
@require_GET
def assignment_rules(request):
    _require_manager(request)
    rules = list(AssignmentRule.objects.select_related("user", "team").order_by("position", "id"))
    teams = list(Team.objects.prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("full_name", "email"))).order_by("name"))
    team_rules: dict[int, list[str]] = {}
    for r in rules:
        if r.team_id:
            team_rules.setdefault(r.team_id, []).append(r.name)
    for t in teams:
        t.rule_names = team_rules.get(t.pk, [])
    ctx = {
        "rules": rules,
        "teams": teams,
        "default_team": SalesSettings.get().default_team,
        "sales_settings_url": sales_settings_url(),
        "nav_section": NAV,
    }
    return render(request, "sales/assignment/index.html", ctx)


def _edit(request: HttpRequest, *, form_class, instance, create, update, template: str, noun: str) -> HttpResponse:
    _require_manager(request)
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, instance=instance)
        if form.is_valid():
            try:
                if instance is None:
                    obj = create(actor=request.user, data=form.service_data())
                    messages.success(request, f"The {noun} “{obj.name}” was created.")
                else:
                    obj = update(request.user, instance, form.service_data())
                    messages.success(request, f"The {noun} “{obj.name}” was saved.")
                return redirect("web:assignment_rules")
            except ValidationError as exc:
                form.apply_service_errors(exc)
        status = 400
    else:
        form = form_class(instance=instance)
    ctx = {"form": form, "obj": instance, "noun": noun, "cancel_url": reverse("web:assignment_rules"),
           "nav_section": NAV}
    return render(request, template, ctx, status=status)


def _confirm_delete(request: HttpRequest, obj, *, noun: str, delete, detail: str = "") -> HttpResponse:
    _require_manager(request)
    if request.method == "POST":
        try:
            delete(actor=request.user, obj=obj)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("web:assignment_rules")
        messages.success(request, f"The {noun} “{obj.name}” was deleted.")
        return redirect("web:assignment_rules")
    ctx = {"obj": obj, "noun": noun, "detail": detail, "cancel_url": reverse("web:assignment_rules"),
           "nav_section": NAV}
    return render(request, "sales/assignment/delete.html", ctx)


# --- rules ------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rule_create(request):
    return _edit(request, form_class=RuleForm, instance=None, create=services.create_rule,
                 update=None, template="sales/assignment/rule_form.html", noun="rule")


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk: int):
    return _edit(request, form_class=RuleForm, instance=_get(AssignmentRule, pk), create=None,
                 update=lambda actor, obj, data: services.update_rule(actor=actor, rule=obj, data=data),
                 template="sales/assignment/rule_form.html", noun="rule")


@login_required
@require_http_methods(["GET", "POST"])
def rule_delete(request, pk: int):
    return _confirm_delete(request, _get(AssignmentRule, pk), noun="rule",
                           delete=lambda actor, obj: services.delete_rule(actor=actor, rule=obj),
                           detail="Leads it assigned keep their owners.")


@login_required
@require_POST
def rule_move(request, pk: int):
    _require_manager(request)
    rule = _get(AssignmentRule, pk)
    direction = request.POST.get("direction", "")
    try:
        services.move_rule(actor=request.user, rule=rule, direction=direction)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"The rule “{rule.name}” was moved {direction}.")
    return redirect(f"{reverse('web:assignment_rules')}#rule-{rule.pk}")


# --- teams ------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def team_create(request):
    return _edit(request, form_class=TeamForm, instance=None, create=services.create_team,
                 update=None, template="sales/assignment/team_form.html", noun="team")


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request, pk: int):
    return _edit(request, form_class=TeamForm, instance=_get(Team, pk), create=None,
                 update=lambda actor, obj, data: services.update_team(actor=actor, team=obj, data=data),
                 template="sales/assignment/team_form.html", noun="team")


@login_required
@require_http_methods(["GET", "POST"])
def team_delete(request, pk: int):
    team = _get(Team, pk)
    is_default = SalesSettings.get().default_team_id == team.pk
    detail = "It is the default team in Sales settings; leads no rule matches will stay unassigned." \
        if is_default else ""
    return _confirm_delete(request, team, noun="team",
                           delete=lambda actor, obj: services.delete_team(actor=actor, team=obj), detail=detail)
