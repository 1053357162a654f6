"""Sales web UI URLs, merged into the "web" namespace by kith.web.urls."""

from . import urls_admin, urls_deals, urls_leads

urlpatterns = [*urls_deals.urlpatterns, *urls_leads.urlpatterns, *urls_admin.urlpatterns]
