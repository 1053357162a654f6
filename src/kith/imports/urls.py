"""Web UI URLs of this app, merged into the "web" namespace by kith.web.urls."""

from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/mapping/load/", views.import_load_mapping, name="import_load_mapping"),
    path("imports/<int:pk>/mapping/new-field/", views.import_new_field, name="import_new_field"),
    path("imports/<int:pk>/start/", views.import_start, name="import_start"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/undo/", views.import_undo, name="import_undo"),
    path("imports/<int:pk>/problems/", views.import_problems, name="import_problems"),
    path("imports/<int:pk>/failed-rows.csv", views.import_failed_rows, name="import_failed_rows"),
]
