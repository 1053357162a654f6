"""Sales web UI URLs, merged into the "web" namespace by kith.web.urls."""

from django.http import Http404
from django.urls import path


def _pending(request, *args, **kwargs):
    raise Http404


urlpatterns = [
    path("leads/<int:pk>/", _pending, name="lead_detail"),
    path("deals/<int:pk>/", _pending, name="deal_detail"),
    path("deals/board/<int:pk>/", _pending, name="deal_board"),
    path("quotes/<int:pk>/", _pending, name="quote_detail"),
]
