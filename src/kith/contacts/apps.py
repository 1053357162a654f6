from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "kith.contacts"
    label = "contacts"
    verbose_name = "Contacts and companies"
