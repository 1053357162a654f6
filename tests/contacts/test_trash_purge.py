"""The trash purge: records in the trash longer than KITH_TRASH_DAYS are deleted for good, nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kith.contacts import services
from kith.contacts.models import Company, Contact
from kith.core import jobs
from kith.core.models import Job


@pytest.fixture
def trash(admin):
    """Contacts and companies trashed 40, 31, 29 and 0 days ago, plus live ones."""
    now = timezone.now()
    made = {}
    for days in (40, 31, 29, 0):
        contact = services.create_contact(actor=admin, data={"first_name": f"Contact {days}"})
        company = services.create_company(actor=admin, data={"name": f"Company {days}"})
        services.delete_contact(actor=admin, contact=contact)
        services.delete_company(actor=admin, company=company)
        Contact.all_objects.filter(pk=contact.pk).update(deleted_at=now - timedelta(days=days, minutes=1))
        Company.all_objects.filter(pk=company.pk).update(deleted_at=now - timedelta(days=days, minutes=1))
        made[days] = (contact.pk, company.pk)
    made["live"] = (
        services.create_contact(actor=admin, data={"first_name": "Live"}).pk,
        services.create_company(actor=admin, data={"name": "Live Co"}).pk,
    )
    return made


def remaining_contacts():
    return sorted(Contact.all_objects.values_list("first_name", flat=True))


def remaining_companies():
    return sorted(Company.all_objects.values_list("name", flat=True))


def run_purge_job() -> Job:
    jobs.enqueue("contacts.purge_trash")
    row = jobs.run_one("test-worker")
    assert row is not None and row.name == "contacts.purge_trash"
    return row


def test_purge_job_deletes_only_what_is_older_than_the_trash_period(settings, trash):
    settings.KITH_TRASH_DAYS = 30
    row = run_purge_job()
    assert row.status == Job.Status.DONE
    assert row.result == {"purged": 4}
    assert remaining_contacts() == ["Contact 0", "Contact 29", "Live"]
    assert remaining_companies() == ["Company 0", "Company 29", "Live Co"]


def test_purge_follows_the_setting(settings, trash):
    settings.KITH_TRASH_DAYS = 35
    assert run_purge_job().result == {"purged": 2}
    assert remaining_contacts() == ["Contact 0", "Contact 29", "Contact 31", "Live"]
    settings.KITH_TRASH_DAYS = 1
    assert run_purge_job().result == {"purged": 4}
    assert remaining_contacts() == ["Contact 0", "Live"]


def test_purge_never_touches_live_records(settings, trash):
    settings.KITH_TRASH_DAYS = 1
    run_purge_job()
    assert Contact.objects.filter(first_name="Live").exists()
    assert Company.objects.filter(name="Live Co").exists()


def test_purge_with_an_explicit_age(trash):
    assert services.purge_trash(older_than_days=30) == 4
    # Zero days means "everything in the trash", not "the default".
    assert services.purge_trash(older_than_days=0) == 4
    assert remaining_contacts() == ["Live"]
    assert remaining_companies() == ["Live Co"]


def test_purging_a_company_unlinks_its_contacts(admin, settings):
    settings.KITH_TRASH_DAYS = 30
    company = services.create_company(actor=admin, data={"name": "Old Co"})
    contact = services.create_contact(actor=admin, data={"first_name": "Ada", "company_id": company.pk})
    services.delete_company(actor=admin, company=company)
    Company.all_objects.filter(pk=company.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    run_purge_job()
    contact = Contact.objects.get(pk=contact.pk)
    assert contact.company is None


def test_purge_job_is_periodic(settings, trash):
    settings.KITH_TRASH_DAYS = 30
    run_purge_job()
    pending = Job.objects.get(name="contacts.purge_trash", status=Job.Status.QUEUED)
    assert pending.unique_key == "periodic:contacts.purge_trash"
    assert timedelta(hours=5, minutes=59) < pending.run_at - timezone.now() <= timedelta(hours=6)
