"""Settings → API tokens: everyone manages their own; admins also see and revoke everyone's."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods

from kith.core import tokens as token_services
from kith.core.errors import ValidationError
from kith.core.models import ApiToken
from kith.core.pagination import Ordering, paginate

from .forms_settings import TokenCreateForm
from .views_settings import render_settings

SECTION = "web:settings_tokens"
ALL_TOKENS_PAGE = 50
NEWEST = Ordering("created", ("created_at",))


@login_required
@require_GET
def token_list(request):
    user = request.user
    mine = list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))
    context = {"tokens": mine, "form": TokenCreateForm()}
    if user.is_admin:
        try:
            others, next_cursor = paginate(
                ApiToken.objects.exclude(user=user).select_related("user"),
                ordering=NEWEST,
                descending=True,
                cursor=request.GET.get("cursor") or None,
                limit=ALL_TOKENS_PAGE,
            )
        except ValidationError:
            return redirect("web:settings_tokens")
        context.update(other_tokens=others, next_cursor=next_cursor, paged=bool(request.GET.get("cursor")))
    return render_settings(request, "web/settings/tokens/list.html", context, section=SECTION)


@login_required
@require_http_methods(["GET", "POST"])
def token_create(request):
    if request.method == "POST":
        form = TokenCreateForm(request.POST)
        if form.is_valid():
            token, secret = token_services.create_token(user=request.user, name=form.cleaned_data["name"])
            # The secret exists only in this response: it is not stored (only its hash) nor put in the session.
            response = render_settings(
                request, "web/settings/tokens/created.html", {"token": token, "secret": secret}, section=SECTION
            )
            add_never_cache_headers(response)
            return response
    else:
        form = TokenCreateForm()
    return render_settings(request, "web/settings/tokens/form.html", {"form": form}, section=SECTION)


def _token_for(request, pk: int) -> ApiToken:
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk)
    if token.user_id != request.user.pk and not request.user.is_admin:
        raise Http404("No such token.")
    return token


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request, pk: int):
    token = _token_for(request, pk)
    own = token.user_id == request.user.pk
    back = reverse("web:settings_tokens") + ("" if own else "#all-tokens")
    if request.method == "POST":
        if token.revoked_at is not None:
            messages.info(request, f"The token “{token.name}” was already revoked.")
        else:
            token_services.revoke_token(token=token)
            owner = "" if own else f" of {token.user.display_name}"
            messages.success(request, f"The token “{token.name}”{owner} was revoked. It no longer works.")
        return redirect(back)
    return render_settings(
        request, "web/settings/tokens/revoke.html", {"token": token, "own": own, "back": back}, section=SECTION
    )
