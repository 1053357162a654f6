"""Workspace settings pages (merged into the "web" namespace by web/urls.py)."""

from django.urls import path

from . import (
    views_settings,
    views_settings_fields,
    views_settings_jobs,
    views_settings_tokens,
    views_settings_users,
)

urlpatterns: list = [
    path("settings/", views_settings.index, name="settings"),
    path("settings/profile/", views_settings.profile, name="settings_profile"),
    path("settings/profile/name/", views_settings.profile_update, name="settings_profile_update"),
    path("settings/profile/password/", views_settings.password_change, name="settings_password_change"),
    path("settings/fields/", views_settings_fields.field_list, name="settings_fields"),
    path("settings/fields/new/", views_settings_fields.field_create, name="settings_field_create"),
    path("settings/fields/<int:pk>/", views_settings_fields.field_edit, name="settings_field_edit"),
    path("settings/fields/<int:pk>/delete/", views_settings_fields.field_delete, name="settings_field_delete"),
    path("settings/tokens/", views_settings_tokens.token_list, name="settings_tokens"),
    path("settings/tokens/new/", views_settings_tokens.token_create, name="settings_token_create"),
    path("settings/tokens/<int:pk>/revoke/", views_settings_tokens.token_revoke, name="settings_token_revoke"),
    path("settings/users/", views_settings_users.user_list, name="settings_users"),
    path("settings/users/new/", views_settings_users.user_create, name="settings_user_create"),
    path("settings/users/<int:pk>/", views_settings_users.user_edit, name="settings_user_edit"),
    path("settings/users/<int:pk>/active/", views_settings_users.user_set_active, name="settings_user_active"),
    path("settings/users/<int:pk>/password/", views_settings_users.user_password, name="settings_user_password"),
    path("settings/jobs/", views_settings_jobs.job_list, name="settings_jobs"),
    path("settings/jobs/<int:pk>/retry/", views_settings_jobs.job_retry, name="settings_job_retry"),
]
