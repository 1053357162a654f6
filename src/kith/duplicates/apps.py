from django.apps import AppConfig


class DuplicatesConfig(AppConfig):
    name = "kith.duplicates"
    label = "duplicates"
    verbose_name = "Duplicates"

    def ready(self) -> None:
        from . import jobs, movers, signals  # noqa: F401  (register jobs, related movers, key upkeep)
