from django.urls import include, path

from kith.api.api import api
from kith.web import views_health

urlpatterns = [
    path("healthz", views_health.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("f/", include("kith.sales.urls_public")),
    path("", include("kith.activities.urls_public")),
    path("", include("kith.web.urls")),
]
