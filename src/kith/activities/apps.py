from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "kith.activities"
    label = "activities"
    verbose_name = "Activities: calls, meetings, notes, emails, tasks, reminders"

    def ready(self) -> None:
        from kith.core import notifications

        from . import jobs, relations, services  # noqa: F401  (register background jobs and merge movers)

        notifications.on_notify(services.email_notification)  # email the kinds each user asked for
