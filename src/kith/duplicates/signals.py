"""Keep the blocking keys of a record current in the same transaction as its write.

A receiver rather than a call in kith.contacts.services: the key index belongs to this app, and every save
(services, the merge, restores) must refresh it. Rows written in bulk without save() (kith seed, fast
imports) are picked up by the next scan, which re-keys records written since the last one.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from kith.contacts.models import Company, Contact
from kith.core import records

from .models import MatchKey


@receiver(post_save, sender=Contact, dispatch_uid="duplicates-keys-contact")
@receiver(post_save, sender=Company, dispatch_uid="duplicates-keys-company")
def _refresh_keys(sender, instance, created=False, raw=False, **kwargs):
    if raw:
        return
    from .detection import refresh_record

    refresh_record(instance, created=created)


@receiver(post_delete, sender=Contact, dispatch_uid="duplicates-drop-contact")
@receiver(post_delete, sender=Company, dispatch_uid="duplicates-drop-company")
def _drop_keys(sender, instance, **kwargs):
    from .detection import forget_pairs

    if records.deleted_in_bulk(instance):  # done for the lot by _drop_keys_of_many
        return
    MatchKey.objects.filter(object_type=instance.object_type, record_id=instance.pk).delete()
    forget_pairs(instance.object_type, instance.pk)


@receiver(records.deleting_many, sender=Contact, dispatch_uid="duplicates-drop-many-contacts")
@receiver(records.deleting_many, sender=Company, dispatch_uid="duplicates-drop-many-companies")
def _drop_keys_of_many(sender, ids, **kwargs):
    from .detection import forget_records

    forget_records(sender.object_type, ids)
