"""Record pages shared by contacts and companies: create/edit forms, trash/restore, detail helpers."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from kith.core.errors import ConflictError
from kith.core.permissions import visible
from kith.core.records import trash_days

from .ui import custom_field_rows, purge_date, safe_next


def require_writer(request: HttpRequest) -> None:
    if not request.user.can_write:
        raise PermissionDenied("Your role can view records but not change them.")


def get_visible(model, request: HttpRequest, pk: int, *, include_trash: bool = False):
    """A record the user may see, or 404. Trashed records only where include_trash (record pages, restore)."""
    base = model.all_objects.all() if include_trash else model.objects.all()
    obj = visible(base, request.user).filter(pk=pk).first()
    if obj is None:
        raise Http404(f"No such {model._meta.verbose_name}.")
    return obj


def show_warnings(request: HttpRequest, obj) -> None:
    for warning in getattr(obj, "warnings", None) or []:
        messages.warning(request, warning["message"])


def detail_context(request: HttpRequest, obj, noun: str) -> dict[str, Any]:
    return {
        "obj": obj,
        "custom_rows": custom_field_rows(obj),
        "can_write": request.user.can_write,
        "purge_on": purge_date(obj.deleted_at),
        "tags": obj.tag_names,
        "trash_days": trash_days(),
        "noun": noun,
    }


def form_page(
    request: HttpRequest,
    *,
    form_class,
    instance,
    create,
    update,
    template: str,
    noun: str,
    initial: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """GET shows the form; POST calls the service and maps its errors back onto the form."""
    require_writer(request)
    status = 200
    conflict = None
    if request.method == "POST":
        form = form_class(request.POST, user=request.user, instance=instance)
        if form.is_valid():
            try:
                if instance is None:
                    obj = create(actor=request.user, data=form.service_data())
                    messages.success(request, f"{obj} was created.")
                else:
                    obj = update(request.user, instance, form.service_data(), form.expected_version())
                    messages.success(request, f"{obj} was saved.")
                show_warnings(request, obj)
                return redirect(obj.get_absolute_url())
            except ValidationError as exc:
                form.apply_service_errors(exc)
            except ConflictError as exc:
                conflict = {"message": exc.message, "changes": form.changed_values()}
                instance.refresh_from_db()
                form = form_class(user=request.user, instance=instance)
        status = 409 if conflict else 400
    else:
        form = form_class(user=request.user, instance=instance, initial=initial or None) if instance is None \
            else form_class(user=request.user, instance=instance)
    ctx = {"form": form, "obj": instance, "conflict": conflict, "noun": noun, **(extra or {})}
    return render(request, template, ctx, status=status)


def trash_action(request: HttpRequest, obj, *, delete, noun: str, list_url: str,
                 template: str = "web/confirm_trash.html") -> HttpResponse:
    require_writer(request)
    if request.method != "POST":
        return render(request, template, {"obj": obj, "noun": noun, "cancel_url": obj.get_absolute_url(),
                                          "trash_days": trash_days()})
    version = (request.POST.get("version") or "").strip()
    try:
        delete(actor=request.user, obj=obj, expected_version=int(version) if version.isdigit() else None)
    except ConflictError as exc:
        messages.error(request, exc.message)
        return redirect(obj.get_absolute_url())
    messages.success(request, f"{obj} was moved to the trash.")
    return redirect(safe_next(request, list_url))


def restore_action(request: HttpRequest, obj, *, restore, noun: str) -> HttpResponse:
    require_writer(request)
    if request.method != "POST":
        return redirect(obj.get_absolute_url())
    fallback = obj.get_absolute_url()
    try:
        restored = restore(actor=request.user, obj=obj)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, f"{obj} could not be restored: {message}")
        return redirect(safe_next(request, fallback))
    messages.success(request, f"{restored} was restored.")
    return redirect(safe_next(request, fallback))
