"""Web UI URLs of this app, merged into the "web" namespace by kith.web.urls."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("duplicates/", views.duplicate_list, name="duplicate_list"),
    path("duplicates/<int:pk>/dismiss/", views.duplicate_dismiss, name="duplicate_dismiss"),
    path("duplicates/<int:pk>/reopen/", views.duplicate_reopen, name="duplicate_reopen"),
    path("duplicates/merge/<str:object_type>/<int:a>/<int:b>/", views.duplicate_merge, name="duplicate_merge"),
    path("duplicates/check/<str:object_type>/", views.duplicate_check, name="duplicate_check"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
]
