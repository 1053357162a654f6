from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "kith.imports"
    label = "imports"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (register background jobs)
