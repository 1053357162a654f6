from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kith.core"
    label = "core"
    verbose_name = "Kith core"

    def ready(self) -> None:
        from . import checks, mail, signals  # noqa: F401  (register system checks and DB connection setup)
