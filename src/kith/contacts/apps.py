from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "kith.contacts"
    label = "contacts"
    verbose_name = "Contacts and companies"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (register background jobs)
