"""Web URLs of tasks, sending email, email templates and notification settings (merged into "web")."""

from django.urls import path

from . import views_tasks as v

urlpatterns: list = [
    path("tasks/", v.task_list, name="task_list"),
    path("tasks/new/", v.task_create, name="task_create"),
    path("tasks/add-button/", v.task_add_button, name="task_add_button"),
    path("tasks/<int:pk>/edit/", v.task_edit, name="task_edit"),
    path("tasks/<int:pk>/complete/", v.task_complete, name="task_complete"),
    path("tasks/<int:pk>/cancel/", v.task_cancel, name="task_cancel"),
    path("tasks/<int:pk>/delete/", v.task_delete, name="task_delete"),
    path("email/compose/", v.email_compose, name="email_compose"),
    path("email/compose/template/", v.email_template_fill, name="email_template_fill"),
    path("email/compose/preview/", v.email_preview, name="email_preview"),
    path("email/<int:pk>/status/", v.email_status, name="email_status"),
    path("email/<int:pk>/retry/", v.email_retry, name="email_retry"),
    path("settings/email-templates/", v.email_template_list, name="email_template_list"),
    path("settings/email-templates/new/", v.email_template_create, name="email_template_create"),
    path("settings/email-templates/<int:pk>/", v.email_template_edit, name="email_template_edit"),
    path("settings/email-templates/<int:pk>/delete/", v.email_template_delete, name="email_template_delete"),
    path("settings/notifications/", v.notification_settings, name="notification_settings"),
    path("settings/notifications/calendar-link/reset/", v.calendar_token_reset, name="calendar_token_reset"),
]
