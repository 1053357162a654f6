from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "kith.exports"
    label = "exports"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (register background jobs)
