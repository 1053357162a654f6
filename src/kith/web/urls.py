"""Web UI URLs: record pages (urls_records) and workspace settings (urls_settings), one namespace."""

from kith.activities import urls as activities_urls
from kith.duplicates import urls as duplicates_urls
from kith.exports import urls as exports_urls
from kith.imports import urls as imports_urls
from kith.sales import urls as sales_urls

from . import urls_notifications, urls_records, urls_settings

app_name = "web"
urlpatterns = [
    *urls_records.urlpatterns,
    *urls_settings.urlpatterns,
    *urls_notifications.urlpatterns,
    *sales_urls.urlpatterns,
    *activities_urls.urlpatterns,
    *imports_urls.urlpatterns,
    *exports_urls.urlpatterns,
    *duplicates_urls.urlpatterns,
]
