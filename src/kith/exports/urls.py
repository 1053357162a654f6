"""Web UI URLs of this app, merged into the "web" namespace by kith.web.urls."""

from django.urls import path

from . import views

urlpatterns = [
    path("exports/", views.export_list, name="export_list"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("exports/<int:pk>/row/", views.export_row, name="export_row"),
    path("exports/new/<str:kind>/", views.export_start, name="export_start"),
]
