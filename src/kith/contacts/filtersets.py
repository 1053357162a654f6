"""The one filter definition per model, used by the HTML lists, the API and saved views."""

from __future__ import annotations

from django.db.models import IntegerField, Value
from django.db.models.functions import Coalesce, Lower

from kith.core import search
from kith.core.filters import (
    ChoiceFilter,
    DateRangeFilter,
    FilterSet,
    IdFilter,
    TagFilter,
    TextFilter,
    UserFilter,
)
from kith.core.pagination import Ordering

from .choices import LifecycleStage

COMMON = [
    UserFilter("owner", "Owner", "User id, “me” or “none”; repeat for any of several.", kind="user"),
    TagFilter("tag", "Tag", "Tag name; repeat for any of several.", kind="tag"),
    DateRangeFilter("created_after", "Created on or after", kind="date", lookup="created_at__gte"),
    DateRangeFilter("created_before", "Created on or before", kind="date", lookup="created_at__lte"),
    DateRangeFilter("updated_after", "Updated on or after", kind="date", lookup="updated_at__gte"),
    DateRangeFilter("updated_before", "Updated on or before", kind="date", lookup="updated_at__lte"),
]


class SearchableFilterSet(FilterSet):
    def apply(self, qs):
        qs = super().apply(qs)
        q = self.params.get("q")
        if isinstance(q, list):
            q = q[-1] if q else ""
        if q and str(q).strip():
            qs = search.filter_queryset(qs, str(q), self.object_type)
        return qs


class ContactFilterSet(SearchableFilterSet):
    object_type = "contact"
    filters = [
        IdFilter("company", "Company", "Company id or “none”; repeat for any of several.", kind="id",
                 lookup="company_id"),
        ChoiceFilter("lifecycle_stage", "Lifecycle stage", "Repeat for any of several.", kind="choice",
                     choices=list(LifecycleStage.choices)),
        TextFilter("country", "Country", "ISO code, e.g. DE", lookup="country__iexact"),
        TextFilter("lead_source", "Lead source"),
        *COMMON,
    ]
    orderings = {
        "name": Ordering("name", (Lower("full_name"),)),
        "email": Ordering("email", ("email",)),
        "company": Ordering("company", (Coalesce(Lower("company__name"), Value("")),)),
        "job_title": Ordering("job_title", (Lower("job_title"),)),
        "lifecycle_stage": Ordering("lifecycle_stage", ("lifecycle_stage",)),
        "owner": Ordering("owner", (Coalesce(Lower("owner__email"), Value("")),)),
        "created_at": Ordering("created_at", ("created_at",)),
        "updated_at": Ordering("updated_at", ("updated_at",)),
    }
    default_ordering = "-updated_at"


class CompanyFilterSet(SearchableFilterSet):
    object_type = "company"
    filters = [
        TextFilter("industry", "Industry", "Part of the industry name"),
        TextFilter("country", "Country", "ISO code, e.g. DE", lookup="country__iexact"),
        TextFilter("city", "City"),
        TextFilter("domain", "Domain", "Part of the domain"),
        *COMMON,
    ]
    orderings = {
        "name": Ordering("name", (Lower("name"),)),
        "domain": Ordering("domain", ("domain",)),
        "industry": Ordering("industry", (Lower("industry"),)),
        # A plain IntegerField: as a PositiveIntegerField, Django would drop the cursor's "> -1" as always true.
        "size": Ordering("size", (Coalesce("size", Value(-1), output_field=IntegerField()),)),
        "city": Ordering("city", (Lower("city"),)),
        "owner": Ordering("owner", (Coalesce(Lower("owner__email"), Value("")),)),
        "created_at": Ordering("created_at", ("created_at",)),
        "updated_at": Ordering("updated_at", ("updated_at",)),
    }
    default_ordering = "-updated_at"
