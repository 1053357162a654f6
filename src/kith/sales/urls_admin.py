"""Sales setup (pipelines, products, settings, quotas), quotes and the forecast: merged into the "web" namespace."""

from django.urls import path

from .views import admin, forecast, quotes

urlpatterns = [
    path("sales/pipelines/", admin.pipeline_list, name="pipeline_list"),
    path("sales/pipelines/new/", admin.pipeline_create, name="pipeline_create"),
    path("sales/pipelines/<int:pk>/", admin.pipeline_edit, name="pipeline_edit"),
    path("sales/pipelines/<int:pk>/delete/", admin.pipeline_delete, name="pipeline_delete"),
    path("sales/pipelines/<int:pk>/stages/new/", admin.stage_create, name="stage_create"),
    path("sales/stages/<int:pk>/", admin.stage_update, name="stage_update"),
    path("sales/stages/<int:pk>/move/", admin.stage_move, name="stage_move"),
    path("sales/stages/<int:pk>/delete/", admin.stage_delete, name="stage_delete"),
    path("products/", admin.product_list, name="product_list"),
    path("products/new/", admin.product_create, name="product_create"),
    path("products/<int:pk>/", admin.product_edit, name="product_edit"),
    path("products/<int:pk>/active/", admin.product_set_active, name="product_set_active"),
    path("sales/settings/", admin.sales_settings, name="sales_settings"),
    path("sales/settings/rates/", admin.rate_save, name="sales_rate_save"),
    path("sales/settings/rates/<str:currency>/delete/", admin.rate_delete, name="sales_rate_delete"),
    path("sales/quotas/", admin.quota_list, name="quota_list"),
    path("deals/<int:deal>/quotes/new/", quotes.quote_create, name="quote_create"),
    path("quotes/<int:pk>/", quotes.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/status/", quotes.quote_status, name="quote_status"),
    path("quotes/<int:pk>/pdf", quotes.quote_pdf, name="quote_pdf"),
    path("forecast/", forecast.forecast_page, name="forecast"),
]
