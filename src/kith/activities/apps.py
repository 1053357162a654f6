from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "kith.activities"
    label = "activities"
    verbose_name = "Activities: calls, meetings, notes, emails, tasks, reminders"

    def ready(self) -> None:
        from . import jobs, relations  # noqa: F401  (register background jobs and merge movers)
