"""Web UI URLs: record pages (urls_records) and workspace settings (urls_settings), one namespace."""

from . import urls_records, urls_settings

app_name = "web"
urlpatterns = [*urls_records.urlpatterns, *urls_settings.urlpatterns]
