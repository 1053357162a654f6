"""The one filter definition per sales model: HTML lists, the board, the API and saved views."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from kith.contacts.filtersets import COMMON, SearchableFilterSet
from kith.core.errors import ValidationError
from kith.core.filters import ChoiceFilter, Filter, IdFilter, TextFilter
from kith.core.pagination import Ordering

from . import money
from .choices import LeadStatus, StageKind
from .models import SalesSettings


class BooleanFilter(Filter):
    def apply(self, qs, values, user):
        value = values[-1].lower()
        if value not in ("true", "false", "1", "0", "yes", "no"):
            raise ValidationError({self.name: ["Use true or false."]})
        return qs.filter(**{self.lookup or self.name: value in ("true", "1", "yes")})


class OverdueFilter(Filter):
    """overdue=true: new leads with no first response after the workspace's first-response time."""

    def apply(self, qs, values, user):
        value = values[-1].lower()
        if value not in ("true", "false", "1", "0"):
            raise ValidationError({self.name: ["Use true or false."]})
        minutes = SalesSettings.get().first_response_minutes
        cutoff = timezone.now() - timedelta(minutes=minutes)
        overdue = Q(first_response_at__isnull=True, status=LeadStatus.NEW, created_at__lt=cutoff)
        return qs.filter(overdue) if value in ("true", "1") else qs.exclude(overdue)


class DateFilter(Filter):
    """A bound on a DateField; lookup like "expected_close_date__gte"."""

    def apply(self, qs, values, user):
        try:
            day = dt.date.fromisoformat(values[-1])
        except ValueError:
            raise ValidationError({self.name: ["Enter a date as YYYY-MM-DD."]}) from None
        return qs.filter(**{self.lookup: day})


class AmountFilter(Filter):
    """A bound on an amount in the default currency; lookup like "amount_default__gte"."""

    def apply(self, qs, values, user):
        try:
            amount = money.parse(values[-1], field=self.name, minimum=None)
        except ValueError as exc:
            raise ValidationError({self.name: [str(exc)]}) from None
        return qs.filter(**{self.lookup: amount})


class StageKindFilter(Filter):
    def apply(self, qs, values, user):
        bad = [v for v in values if v not in StageKind.values]
        if bad:
            raise ValidationError({self.name: [f"Use one of: {', '.join(StageKind.values)}."]})
        return qs.filter(stage__kind__in=values)


class DealContactFilter(Filter):
    """contact=<id> (repeat for any of several) or "none": a semi-join, so a deal with several of the contacts
    is listed once."""

    def apply(self, qs, values, user):
        from .models import DealContact

        if any(v != "none" and not v.isdigit() for v in values):
            raise ValidationError({self.name: ["Use a contact id or “none”."]})
        linked = DealContact.objects.values("deal_id")
        ids = [int(v) for v in values if v.isdigit()]
        cond = Q(pk__in=linked.filter(contact_id__in=ids)) if ids else Q(pk__in=[])
        if "none" in values:
            cond |= ~Q(pk__in=linked)
        return qs.filter(cond)


class LeadFilterSet(SearchableFilterSet):
    object_type = "lead"
    filters = [
        ChoiceFilter("status", "Status", "Repeat for any of several.", kind="choice", choices=list(LeadStatus.choices)),
        TextFilter("source", "Source", lookup="source__iexact"),
        TextFilter("country", "Country", "ISO code, e.g. DE", lookup="country__iexact"),
        IdFilter("form", "Web form", "Form id", kind="id", lookup="form_id"),
        OverdueFilter("overdue", "Waiting too long", "true: new leads past the first-response time", kind="bool"),
        TextFilter("utm_campaign", "UTM campaign", lookup="utm_campaign__iexact"),
        *COMMON,
    ]
    orderings = {
        "name": Ordering("name", (Lower("full_name"),)),
        "email": Ordering("email", ("email",)),
        "company_name": Ordering("company_name", (Lower("company_name"),)),
        "status": Ordering("status", ("status",)),
        "source": Ordering("source", (Lower("source"),)),
        "owner": Ordering("owner", (Coalesce(Lower("owner__email"), Value("")),)),
        "created_at": Ordering("created_at", ("created_at",)),
        "updated_at": Ordering("updated_at", ("updated_at",)),
    }
    default_ordering = "-created_at"


class DealFilterSet(SearchableFilterSet):
    object_type = "deal"
    filters = [
        IdFilter("pipeline", "Pipeline", "Pipeline id", kind="id", lookup="pipeline_id"),
        IdFilter("stage", "Stage", "Stage id; repeat for any of several.", kind="id", lookup="stage_id"),
        StageKindFilter("status", "Status", "open, won or lost", kind="choice", choices=list(StageKind.choices)),
        IdFilter("company", "Company", "Company id or “none”", kind="id", lookup="company_id"),
        DealContactFilter("contact", "Contact", "Contact id or “none”; repeat for any of several.", kind="id"),
        DateFilter("close_after", "Expected close on or after", kind="date", lookup="expected_close_date__gte"),
        DateFilter("close_before", "Expected close on or before", kind="date", lookup="expected_close_date__lte"),
        AmountFilter("amount_min", "Amount at least", "In the default currency", lookup="amount_default__gte"),
        AmountFilter("amount_max", "Amount at most", "In the default currency", lookup="amount_default__lte"),
        BooleanFilter("commit", "Committed", "true or false", kind="bool", lookup="is_commit"),
        TextFilter("currency", "Currency", lookup="currency__iexact"),
        *COMMON,
    ]
    orderings = {
        "name": Ordering("name", (Lower("name"),)),
        "amount": Ordering("amount", ("amount_default",)),
        "expected_close_date": Ordering(
            "expected_close_date", (Coalesce("expected_close_date", Value(dt.date(9999, 12, 31))),)
        ),
        "stage": Ordering("stage", ("stage__position",)),
        "owner": Ordering("owner", (Coalesce(Lower("owner__email"), Value("")),)),
        "created_at": Ordering("created_at", ("created_at",)),
        "updated_at": Ordering("updated_at", ("updated_at",)),
    }
    default_ordering = "-updated_at"
