"""Notification URLs (the bell and its page); the lead merges these into the "web" namespace."""

from django.urls import path

from . import views_notifications

urlpatterns = [
    path("notifications/", views_notifications.notification_list, name="notifications"),
    path("notifications/read-all/", views_notifications.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/read/", views_notifications.notification_read, name="notification_read"),
    path("notifications/<int:pk>/open/", views_notifications.notification_open, name="notification_open"),
]
