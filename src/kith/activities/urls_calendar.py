"""Web URLs (see kith/activities/urls.py): the calendar, a meeting's .ics download and its invitations.
My day is the home page (kith.web.views_main.home with views_myday.my_day_context)."""

from django.urls import path

from . import views_calendar

urlpatterns: list = [
    path("calendar/", views_calendar.calendar_page, name="calendar"),
    path("activities/<int:pk>/meeting.ics", views_calendar.meeting_ics, name="activity_ics"),
    path(
        "activities/<int:pk>/invitations/", views_calendar.send_invitations, name="activity_send_invitations"
    ),
]
