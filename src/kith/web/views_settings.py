"""Workspace settings: the index page, the profile page and helpers shared by the views_settings_* modules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core import users as user_services
from kith.core.errors import ValidationError

from .forms_settings import PasswordChangeForm, ProfileForm


def section_links(user) -> list[dict[str, str]]:
    """The settings pages this user may open, in the order shown in the index and the side menu."""
    links = [
        {"url": "web:settings_profile", "title": "Profile", "text": "Your name and password."},
        {
            "url": "web:settings_tokens",
            "title": "API tokens",
            "text": "Personal tokens for scripts and integrations using the API.",
        },
        {"url": "web:notification_settings", "title": "Notifications",
         "text": "Which notifications also come by email, your daily agenda, time zone and calendar link."},
        {"url": "web:email_template_list", "title": "Email templates",
         "text": "Reusable emails with merge fields, picked when sending from a record."},
    ]
    if user.can_manage_settings:
        links.append(
            {
                "url": "web:settings_fields",
                "title": "Custom fields",
                "text": "Extra fields on contacts, companies, leads and deals, shown on forms, filters and the API.",
            }
        )
        links += [
            {"url": "web:pipeline_list", "title": "Pipelines", "text": "Deal pipelines, their stages and win probabilities."},
            {"url": "web:quota_list", "title": "Quotas", "text": "Sales targets per person and month or quarter."},
            {"url": "web:webform_list", "title": "Web forms", "text": "Forms for your website that create leads."},
            {"url": "web:assignment_rules", "title": "Lead assignment", "text": "Rules and teams that give new leads an owner."},
        ]
    if user.is_admin:
        links.append({"url": "web:sales_settings", "title": "Sales settings",
                      "text": "Default currency, exchange rates, first-response time, quote terms."})
        links.append({"url": "web:settings_users", "title": "Users", "text": "Invite people, set roles, reset passwords."})
        links.append(
            {
                "url": "web:settings_jobs",
                "title": "Background jobs",
                "text": "Queued, running and failed jobs; retry failed ones.",
            }
        )
    return links


def render_settings(request, template: str, context: dict, *, section: str = "", status: int = 200):
    """Render a settings page with the settings side menu."""
    context = {"settings_links": section_links(request.user), "settings_section": section, **context}
    return render(request, template, context, status=status)


@login_required
@require_GET
def index(request):
    return render_settings(request, "web/settings/index.html", {}, section="")


@login_required
@require_GET
def profile(request):
    return _profile_page(request)


def _profile_page(request, *, profile_form=None, password_form=None, status=200):
    user = request.user
    return render_settings(
        request,
        "web/settings/profile.html",
        {
            "profile_form": profile_form or ProfileForm(initial={"full_name": user.full_name}, prefix="profile"),
            "password_form": password_form or PasswordChangeForm(user=user, prefix="password"),
        },
        section="web:settings_profile",
        status=status,
    )


@login_required
@require_POST
def profile_update(request):
    form = ProfileForm(request.POST, prefix="profile")
    if form.is_valid():
        try:
            user_services.update_user(actor=request.user, user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Your name was saved.")
            return redirect("web:settings_profile")
    return _profile_page(request, profile_form=form)


@login_required
@require_http_methods(["POST"])
def password_change(request):
    form = PasswordChangeForm(request.POST, user=request.user, prefix="password")
    if form.is_valid():
        try:
            user = user_services.update_user(
                actor=request.user, user=request.user, data={"password": form.cleaned_data["new_password"]}
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            # Keep this session signed in; other sessions of this user are signed out.
            update_session_auth_hash(request, user)
            messages.success(request, "Your password was changed.")
            return redirect("web:settings_profile")
    return _profile_page(request, password_form=form)
