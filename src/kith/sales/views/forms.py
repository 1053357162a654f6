"""Web forms: the builder (admins and managers) and the public hosted form at /f/<slug>.

The public view is CSRF-exempt on purpose: the form is embeddable as plain HTML on other sites, so the
POST comes without our cookie. It is protected by a honeypot field and a per-IP rate limit instead, and
it only ever creates a lead (never reads or changes anything else).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from kith.core.countries import countries
from kith.core.errors import field_errors

from .. import services
from ..forms_leads import WebFormForm
from ..models import LeadForm
from ..services.webforms import CONSENT, HONEYPOT, UTM_FIELDS, TooManySubmissions

NAV = "leads"
FIELD_TYPES = {"email": "email", "phone": "tel"}
AUTOCOMPLETE = {"first_name": "given-name", "last_name": "family-name", "email": "email", "phone": "tel",
                "company_name": "organization", "title": "organization-title", "country": "country"}


def _require_manager(request: HttpRequest) -> None:
    if not request.user.can_manage_settings:
        raise PermissionDenied("Only admins and managers can manage web forms.")


def _get_form(pk: int) -> LeadForm:
    form = LeadForm.objects.filter(pk=pk).first()
    if form is None:
        raise Http404("No such web form.")
    return form


def hosted_url(request: HttpRequest, form: LeadForm) -> str:
    return request.build_absolute_uri(form.get_absolute_url())


def embed_snippet(request: HttpRequest, form: LeadForm) -> str:
    """Plain HTML for another site: the fields, the consent box and the honeypot, posting to /f/<slug>."""
    action = hosted_url(request, form)
    lines = [f'<form action="{escape(action)}" method="post">']
    for item in form.fields:
        name, label = item["field"], escape(item["label"])
        fid = f"kith-{form.slug}-{name}"
        required = " required" if item.get("required") else ""
        lines.append(f'  <p><label for="{fid}">{label}</label><br>')
        if name == "notes":
            lines.append(f'    <textarea id="{fid}" name="{name}" rows="4"{required}></textarea></p>')
        else:
            kind = FIELD_TYPES.get(name, "text")
            auto = AUTOCOMPLETE.get(name, "off")
            lines.append(f'    <input id="{fid}" name="{name}" type="{kind}" autocomplete="{auto}"{required}></p>')
    if form.consent_text:
        lines.append(f'  <p><label><input type="checkbox" name="{CONSENT}" value="yes" required> '
                     f"{escape(form.consent_text)}</label></p>")
    lines.append(f'  <p hidden><label>Leave this field empty <input name="{HONEYPOT}" tabindex="-1" '
                 f'autocomplete="off"></label></p>')
    lines.append('  <p><button type="submit">Send</button></p>')
    lines.append("</form>")
    return "\n".join(lines)


# --- builder ----------------------------------------------------------------------------------------------


@login_required
@require_GET
def webform_list(request):
    _require_manager(request)
    forms_ = list(LeadForm.objects.order_by("name", "id"))
    return render(request, "sales/webforms/list.html", {"forms": forms_, "nav_section": NAV})


@login_required
@require_GET
def webform_detail(request, pk: int):
    _require_manager(request)
    form = _get_form(pk)
    ctx = {
        "obj": form,
        "hosted_url": hosted_url(request, form),
        "snippet": embed_snippet(request, form),
        "leads_url": f"{reverse('web:lead_list')}?form={form.pk}",
        "nav_section": NAV,
    }
    return render(request, "sales/webforms/detail.html", ctx)


def _builder(request: HttpRequest, instance: LeadForm | None) -> HttpResponse:
    _require_manager(request)
    status = 200
    if request.method == "POST":
        form = WebFormForm(request.POST, instance=instance)
        if form.is_valid():
            try:
                if instance is None:
                    obj = services.create_form(actor=request.user, data=form.service_data())
                    messages.success(request, f"The form “{obj.name}” was created. It is live at /f/{obj.slug}.")
                else:
                    obj = services.update_form(actor=request.user, form=instance, data=form.service_data())
                    messages.success(request, f"The form “{obj.name}” was saved.")
                return redirect("web:webform_detail", pk=obj.pk)
            except ValidationError as exc:
                form.apply_service_errors(exc)
        status = 400
    else:
        form = WebFormForm(instance=instance)
    cancel = reverse("web:webform_detail", args=[instance.pk]) if instance else reverse("web:webform_list")
    ctx = {"form": form, "obj": instance, "cancel_url": cancel, "nav_section": NAV, "noun": "form"}
    return render(request, "sales/webforms/form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def webform_create(request):
    return _builder(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def webform_edit(request, pk: int):
    return _builder(request, _get_form(pk))


@login_required
@require_http_methods(["GET", "POST"])
def webform_delete(request, pk: int):
    _require_manager(request)
    form = _get_form(pk)
    if request.method == "POST":
        services.delete_form(actor=request.user, form=form)
        messages.success(request, f"The form “{form.name}” was deleted. Its leads were kept.")
        return redirect("web:webform_list")
    return render(request, "sales/webforms/delete.html", {"obj": form, "nav_section": NAV})


# --- the public form --------------------------------------------------------------------------------------


def _is_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json"


def _cors(response: HttpResponse) -> HttpResponse:
    # JSON submissions from scripts on other sites: no cookies are used, so any origin may post.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    return response


def _public_fields(form: LeadForm, values: dict[str, str], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    out = []
    for item in form.fields:
        name = item["field"]
        out.append({
            "name": name,
            "id": f"f-{name}",
            "label": item["label"],
            "required": bool(item.get("required")),
            "type": FIELD_TYPES.get(name, "text"),
            "autocomplete": AUTOCOMPLETE.get(name, "off"),
            "value": values.get(name, ""),
            "errors": errors.get(name, []),
            "is_textarea": name == "notes",
            "is_country": name == "country",
        })
    return out


def _render_public(request: HttpRequest, form: LeadForm, *, values: dict[str, str] | None = None,
                   errors: dict[str, list[str]] | None = None, status: int = 200, sent: bool = False,
                   blocked: str = "") -> HttpResponse:
    values = values or {}
    errors = errors or {}
    fields = _public_fields(form, values, errors)
    labels = {f["name"]: f["label"] for f in fields}
    labels[CONSENT] = "Consent"
    summary = []
    for key, msgs in errors.items():
        for message in msgs:
            anchor = f"f-{key}" if key in labels else ""
            summary.append({"label": labels.get(key, ""), "message": message, "anchor": anchor})
    if request.method == "GET":
        # Attribution carried from the page the visitor arrived on to the submission.
        hidden = {name: request.GET.get(name, "")[:200] for name in UTM_FIELDS if request.GET.get(name)}
        hidden["referrer"] = request.META.get("HTTP_REFERER", "")[:1000]
        hidden["landing_page"] = request.build_absolute_uri()[:1000]
    else:
        hidden = {k: values.get(k, "") for k in (*UTM_FIELDS, "referrer", "landing_page") if values.get(k)}
    ctx = {
        "form": form,
        "fields": fields,
        "hidden": {k: v for k, v in hidden.items() if v},
        "summary": summary,
        "consent_error": errors.get(CONSENT, []),
        "consent_checked": bool(values.get(CONSENT)),
        "sent": sent,
        "blocked": blocked,
        "countries": countries(),
        "honeypot": HONEYPOT,
        "action": request.path,
    }
    return render(request, "sales/webforms/public.html", ctx, status=status)


def _submission_data(request: HttpRequest) -> dict[str, Any]:
    if _is_json(request):
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ValueError("The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ValueError("Send a JSON object of field names and values.")
        return data
    return {k: request.POST.get(k, "") for k in request.POST}


@csrf_exempt
@require_http_methods(["GET", "POST", "OPTIONS"])
def public_form(request, slug: str):
    form = LeadForm.objects.filter(slug=slug, active=True).first()
    if form is None:
        if _is_json(request) or request.method == "OPTIONS":
            return _cors(JsonResponse({"detail": "There is no such form, or it is closed.", "errors": []},
                                      status=404))
        raise Http404("There is no such form, or it is closed.")
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    if request.method == "GET":
        return _render_public(request, form, sent="sent" in request.GET)
    wants_json = _is_json(request)
    try:
        data = _submission_data(request)
    except ValueError as exc:
        return _cors(JsonResponse({"detail": str(exc), "errors": []}, status=400))
    meta = {
        "referrer": request.META.get("HTTP_REFERER", ""),
        "landing_page": request.META.get("HTTP_REFERER", ""),
        "query": {k: request.GET.get(k, "") for k in UTM_FIELDS},
    }
    try:
        lead = services.submit_form(form=form, data=data, ip=request.META.get("REMOTE_ADDR") or None, meta=meta)
    except TooManySubmissions as exc:
        if wants_json:
            response = _cors(JsonResponse({"detail": exc.message, "errors": []}, status=429))
        else:
            response = _render_public(request, form, values=_text_values(data), status=429, blocked=exc.message)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except ValidationError as exc:
        if wants_json:
            return _cors(JsonResponse({"detail": "Please correct the fields named in errors.",
                                       "errors": field_errors(exc)}, status=400))
        return _render_public(request, form, values=_text_values(data), errors=exc.message_dict, status=400)
    if wants_json:
        return _cors(JsonResponse({"id": lead.pk if lead else None, "message": form.thank_you_text}, status=201))
    if form.redirect_url:
        return redirect(form.redirect_url)
    return redirect(f"{request.path}?sent=1")


def _text_values(data: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in data.items() if isinstance(v, str | int | float) and k != HONEYPOT}
