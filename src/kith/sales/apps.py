from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "kith.sales"
    label = "sales"
    verbose_name = "Sales: leads, pipelines, deals, quotes"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (register background jobs)
