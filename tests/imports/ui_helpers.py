"""Helpers shared by the import web, API and browser tests: files shaped like real exports, running jobs."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

# A Google-Contacts-like export: one good row, one with a broken email, one without a company.
PEOPLE_CSV = (
    "Given Name,Family Name,E-mail 1 - Value,Organization 1 - Name,Favourite colour\n"
    "Ada,Lovelace,ada@example.com,Analytical Engines,blue\n"
    "Grace,Hopper,not-an-email,US Navy,green\n"
    "Alan,Turing,alan@example.com,,red\n"
)


def csv_upload(text: str = PEOPLE_CSV, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def run_jobs(limit: int = 20) -> int:
    """Run due jobs one by one (the worker's loop without its periodic housekeeping)."""
    from kith.core import jobs

    ran = 0
    while ran < limit and jobs.run_one("test-worker") is not None:
        ran += 1
    return ran


def make_import(actor, text: str = PEOPLE_CSV, name: str = "people.csv", object_type: str = "contact"):
    from kith.imports import services

    return services.create_import(actor=actor, object_type=object_type, file_name=name,
                                  fileobj=csv_upload(text, name))
