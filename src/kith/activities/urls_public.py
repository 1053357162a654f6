"""The private calendar feed, mounted at the site root outside the login and the "web" namespace: calendar
apps (Google Calendar, Outlook, Apple Calendar) fetch it without a session; the token is the key."""

from django.urls import path

from . import views_calendar

urlpatterns: list = [
    path("calendar/<str:token>.ics", views_calendar.feed, name="calendar_feed"),
]
