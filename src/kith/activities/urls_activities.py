"""Web URLs of the timeline, logging calls/meetings/notes/emails, activity pages and comments
(merged into the "web" namespace by kith/activities/urls.py)."""

from django.urls import path

from . import views_activities as v

urlpatterns: list = [
    path("timeline/<str:record_type>/<int:record_id>/", v.timeline, name="activity_timeline"),
    path("timeline/<str:record_type>/<int:record_id>/log/<str:kind>/", v.log_activity, name="activity_log"),
    path("activities/lookup/records/", v.record_lookup, name="activity_record_lookup"),
    path("activities/lookup/people/", v.people_lookup, name="activity_people_lookup"),
    path("activities/lookup/users/", v.mention_lookup, name="mention_lookup"),
    path("activities/<int:pk>/", v.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", v.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/delete/", v.activity_delete, name="activity_delete"),
    path("activities/<int:pk>/restore/", v.activity_restore, name="activity_restore"),
    path("activities/<int:pk>/pin/", v.activity_pin, name="activity_pin"),
    path("comments/<str:record_type>/<int:record_id>/add/", v.comment_add, name="comment_add"),
    path("comments/<int:pk>/", v.comment_view, name="comment_view"),
    path("comments/<int:pk>/edit/", v.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", v.comment_delete, name="comment_delete"),
]
