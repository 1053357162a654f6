"""Web UI URLs: record pages (urls_records) and workspace settings (urls_settings), one namespace."""

from kith.sales import urls as sales_urls

from . import urls_notifications, urls_records, urls_settings

app_name = "web"
urlpatterns = [
    *urls_records.urlpatterns,
    *urls_settings.urlpatterns,
    *urls_notifications.urlpatterns,
    *sales_urls.urlpatterns,
]
