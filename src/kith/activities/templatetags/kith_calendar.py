"""{% meeting_actions activity %}: the .ics download, "Send invitations" and each attendee's invitation and
answer, for a meeting's page (activities/calendar_meeting_actions.html)."""

from django import template

register = template.Library()


@register.inclusion_tag("activities/calendar_meeting_actions.html", takes_context=True)
def meeting_actions(context, activity):
    from ..views_calendar import meeting_actions_context

    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    if activity is None or getattr(activity, "type", "") != "meeting" or user is None:
        return {"meeting": None}
    return {
        **meeting_actions_context(activity, user),
        "request": request,
        "user": user,
        "csrf_token": context.get("csrf_token"),
    }
