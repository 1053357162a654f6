"""/api/v1/email-templates (CRUD, render with merge fields) and /api/v1/emails (send one-to-one email from
Kith, logged on the timeline; retry a failed one).

(No `from __future__ import annotations` here: ninja reads the parameter annotations.)
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from kith.activities import services, text
from kith.activities.models import ActivityType, EmailTemplate
from kith.core.pagination import Ordering

from . import common, errors
from .activities_common import get_activity, location, one_dict, reload, require_mail
from .activities_schemas import (
    ActivityOut,
    EmailTemplateIn,
    EmailTemplateOut,
    EmailTemplatePage,
    MergeFieldsOut,
    RenderIn,
    RenderOut,
    SendEmailIn,
    template_dict,
)
from .auth import write_auth
from .schemas import with_errors

NAME_ORDERING = Ordering("name", ("name",))

# --- templates -------------------------------------------------------------------------------------------

templates = Router(tags=["email-templates"])


@templates.get(
    "",
    response=with_errors({200: EmailTemplatePage}, errors.LIST),
    operation_id="list_email_templates",
    summary="List email templates",
    description="By name. Follow `next_cursor` for the next page.",
)
def list_templates(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    q: str | None = Query(None, description="part of the name"),
):
    qs = EmailTemplate.objects.all()
    if q and q.strip():
        qs = qs.filter(name__icontains=q.strip())
    rows, next_cursor = common.page(qs, ordering=NAME_ORDERING, descending=False, cursor=cursor, limit=limit)
    return common.json_page([template_dict(t) for t in rows], next_cursor)


@templates.get(
    "/merge-fields",
    response=with_errors({200: MergeFieldsOut}, (401,)),
    operation_id="email_merge_fields",
    summary="Merge fields usable in templates",
    description='Write them as {{ contact.first_name }}; {{ company.name|default:"your team" }} gives a default.',
)
def merge_fields(request: HttpRequest):
    return {"fields": text.MERGE_FIELDS}


@templates.post(
    "",
    response=with_errors({201: EmailTemplateOut}, errors.CREATE),
    operation_id="create_email_template",
    auth=write_auth,
    summary="Create an email template",
    description="`name`, `subject` and `body` are required; an unknown merge field is an error naming it.",
)
def create_template(request: HttpRequest, payload: EmailTemplateIn, response: HttpResponse):
    tpl = services.create_email_template(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    response["Location"] = location("email-templates", tpl)
    return Status(201, template_dict(tpl))


@templates.get(
    "/{int:id}",
    response=with_errors({200: EmailTemplateOut}, errors.READ),
    operation_id="get_email_template",
    summary="Get an email template",
)
def get_template(request: HttpRequest, id: int):
    return template_dict(EmailTemplate.objects.get(pk=id))


@templates.patch(
    "/{int:id}",
    response=with_errors({200: EmailTemplateOut}, (400, 401, 403, 404, 422)),
    operation_id="update_email_template",
    auth=write_auth,
    summary="Change an email template",
    description="Only the keys sent change.",
)
def update_template(request: HttpRequest, id: int, payload: EmailTemplateIn):
    tpl = EmailTemplate.objects.get(pk=id)
    tpl = services.update_email_template(actor=request.auth, template=tpl, data=payload.model_dump(exclude_unset=True))
    return template_dict(tpl)


@templates.delete(
    "/{int:id}",
    response=with_errors({204: None}, (401, 403, 404)),
    operation_id="delete_email_template",
    auth=write_auth,
    summary="Delete an email template",
    description="Emails already sent with it are not affected.",
)
def delete_template(request: HttpRequest, id: int):
    services.delete_email_template(actor=request.auth, template=EmailTemplate.objects.get(pk=id))
    return Status(204, None)


@templates.post(
    "/{int:id}/render",
    response=with_errors({200: RenderOut}, (400, 401, 403, 404, 422)),
    operation_id="render_email_template",
    summary="Fill in a template's merge fields",
    description="With the related records (`related`, e.g. [\"contact:7\"]): the first contact, company, lead "
    "and deal fill their fields, you are {{ user.* }}; a contact's company fills {{ company.* }} when not given.",
)
def render_template(request: HttpRequest, id: int, payload: RenderIn):
    user = request.auth
    tpl = EmailTemplate.objects.get(pk=id)
    problems = services._Errors()
    related = services.resolve_related(payload.related or [], actor=user, errors=problems)
    problems.raise_if_any()
    rendered = services.render_template(tpl, related, user)
    return {**rendered, "body_html": str(text.markdown(rendered["body"]))}


# --- sending ---------------------------------------------------------------------------------------------

emails = Router(tags=["emails"])


@emails.post(
    "/send",
    response=with_errors({202: ActivityOut}, errors.CREATE),
    operation_id="send_email",
    auth=write_auth,
    summary="Send an email",
    description=(
        "Through the workspace's SMTP server, logged as an email activity on the `related` records. The answer "
        "(202) is that activity with `email_status` queued; a background job delivers it and the status becomes "
        "sent, or failed with `email_error` after automatic retries (then POST /api/v1/emails/{id}/retry). "
        "Merge fields in subject and body are filled from the related records. 400 when sending email is not "
        "set up (KITH_SMTP_URL)."
    ),
)
def send_email(request: HttpRequest, payload: SendEmailIn, response: HttpResponse):
    user = request.auth
    require_mail()
    activity = services.send_email(actor=user, data=payload.model_dump(exclude_unset=True))
    activity = reload(user, activity.pk, tasks=False)
    common.set_record_headers(response, activity, location("activities", activity))
    return Status(202, one_dict(user, activity))


@emails.post(
    "/{int:id}/retry",
    response=with_errors({202: ActivityOut}, (400, *errors.ACTION)),
    operation_id="retry_email",
    auth=write_auth,
    summary="Send a failed email again",
    description="`id` is the email activity's. Only an email whose sending failed can be retried (422 otherwise).",
)
def retry_email(request: HttpRequest, id: int, response: HttpResponse):
    user = request.auth
    activity = get_activity(user, id, tasks=False)
    if activity.type != ActivityType.EMAIL:
        raise ValidationError({"type": [f"Only emails can be sent again (this is a {activity.type})."]})
    require_mail()
    services.retry_email(actor=user, activity=activity)
    activity = reload(user, id, tasks=False)
    common.set_record_headers(response, activity)
    return Status(202, one_dict(user, activity))


ROUTERS: list = [("/email-templates", templates), ("/emails", emails)]
