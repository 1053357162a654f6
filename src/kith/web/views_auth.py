"""Sign in (throttled per account and per IP address) and sign out."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.contrib import auth, messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from kith.core.models import LoginFailure

from .forms import LoginForm
from .ui import safe_next


def _keys(request, email: str) -> tuple[str, str]:
    ip = request.META.get("REMOTE_ADDR") or "unknown"
    return f"account:{email.strip().lower()}"[:300], f"ip:{ip}"[:300]


def _window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.KITH_LOGIN_WINDOW_SECONDS)


def _locked(keys: tuple[str, str]) -> bool:
    since = timezone.now() - _window()
    counts = LoginFailure.objects.filter(key__in=keys, created_at__gte=since).aggregate(
        account=Count("id", filter=Q(key=keys[0])), ip=Count("id", filter=Q(key=keys[1]))
    )
    limit = settings.KITH_LOGIN_MAX_FAILURES
    return counts["account"] >= limit or counts["ip"] >= limit


def _record_failure(keys: tuple[str, str]) -> None:
    now = timezone.now()
    LoginFailure.objects.bulk_create([LoginFailure(key=k, created_at=now) for k in keys])
    # Old rows have no use once outside the window.
    LoginFailure.objects.filter(created_at__lt=now - _window()).delete()


def _lock_message() -> str:
    minutes = max(1, math.ceil(settings.KITH_LOGIN_WINDOW_SECONDS / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"Too many failed sign-in attempts. Sign-in is paused for this account and network for up to "
        f"{minutes} {unit}; please wait and try again."
    )


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = safe_next(request, reverse("web:home"))
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        keys = _keys(request, email)
        if _locked(keys):
            form.add_error(None, _lock_message())
            status = 429
        else:
            user = auth.authenticate(request, username=email.lower(), password=form.cleaned_data["password"])
            if user is None:
                _record_failure(keys)
                if _locked(keys):
                    form.add_error(None, _lock_message())
                    status = 429
                else:
                    form.add_error(None, "The email or password is not correct.")
            else:
                LoginFailure.objects.filter(key=keys[0]).delete()
                auth.login(request, user)
                return redirect(next_url)
    elif request.method == "POST":
        status = 200
    return render(request, "web/login.html", {"form": form, "next": request.GET.get("next", "")}, status=status)


@require_POST
def logout_view(request):
    auth.logout(request)
    messages.info(request, "You are signed out.")
    return redirect("web:login")
