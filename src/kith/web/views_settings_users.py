"""Settings → Users (admins only): list, create, change name and role, deactivate / reactivate, reset password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kith.core import users as user_services
from kith.core.errors import ValidationError
from kith.core.models import User
from kith.core.pagination import Ordering, paginate
from kith.core.permissions import require_admin

from .forms_settings import PasswordResetForm, UserCreateForm, UserEditForm
from .views_settings import render_settings

SECTION = "web:settings_users"
PAGE_SIZE = 100
BY_EMAIL = Ordering("email", ("email",))


@login_required
@require_GET
def user_list(request):
    require_admin(request.user)
    try:
        rows, next_cursor = paginate(
            User.objects.all(), ordering=BY_EMAIL, descending=False, cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except ValidationError:
        return redirect("web:settings_users")
    return render_settings(
        request,
        "web/settings/users/list.html",
        {"users": rows, "next_cursor": next_cursor, "paged": bool(request.GET.get("cursor"))},
        section=SECTION,
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request):
    require_admin(request.user)
    if request.method == "POST":
        form = UserCreateForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                user = user_services.create_user(
                    actor=request.user, email=d["email"], password=d["password"], role=d["role"],
                    full_name=d["full_name"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"{user.email} can now sign in as {user.get_role_display().lower()}.")
                return redirect("web:settings_users")
    else:
        form = UserCreateForm()
    return render_settings(request, "web/settings/users/create.html", {"form": form}, section=SECTION)


def _edit_page(request, person: User, *, form=None, status_errors=None):
    return render_settings(
        request,
        "web/settings/users/edit.html",
        {
            "person": person,
            "form": form or UserEditForm(initial={"full_name": person.full_name, "role": person.role}),
            "status_errors": status_errors or [],
            "is_self": person.pk == request.user.pk,
        },
        section=SECTION,
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request, pk: int):
    require_admin(request.user)
    person = get_object_or_404(User, pk=pk)
    if request.method == "GET":
        return _edit_page(request, person)
    form = UserEditForm(request.POST)
    if form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if v != getattr(person, k)}
        try:
            person = user_services.update_user(actor=request.user, user=person, data=changes) if changes else person
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"{person.email} was saved.")
            if person.pk == request.user.pk and not person.is_admin:
                return redirect("web:settings")
            return redirect("web:settings_users")
    return _edit_page(request, person, form=form)


@login_required
@require_POST
def user_set_active(request, pk: int):
    require_admin(request.user)
    person = get_object_or_404(User, pk=pk)
    active = request.POST.get("is_active") == "1"
    try:
        person = user_services.update_user(actor=request.user, user=person, data={"is_active": active})
    except ValidationError as exc:
        return _edit_page(request, person, status_errors=[m for ms in exc.message_dict.values() for m in ms])
    if active:
        messages.success(request, f"{person.email} was reactivated and can sign in again.")
    else:
        messages.success(request, f"{person.email} was deactivated: they can no longer sign in or use API tokens.")
    return redirect("web:settings_user_edit", pk=person.pk)


@login_required
@require_http_methods(["GET", "POST"])
def user_password(request, pk: int):
    require_admin(request.user)
    person = get_object_or_404(User, pk=pk)
    if request.method == "POST":
        form = PasswordResetForm(request.POST)
        if form.is_valid():
            try:
                person = user_services.update_user(
                    actor=request.user, user=person, data={"password": form.cleaned_data["new_password"]}
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"The password of {person.email} was reset. Their other sessions ended.")
                if person.pk == request.user.pk:
                    update_session_auth_hash(request, person)
                return redirect("web:settings_user_edit", pk=person.pk)
    else:
        form = PasswordResetForm()
    return render_settings(
        request, "web/settings/users/password.html", {"form": form, "person": person}, section=SECTION
    )
