"""Import targets per record type and automatic column mapping by header.

``targets(object_type)`` lists what a column can be imported into: built-in fields, ``cf_<key>`` custom
fields and ``None`` (ignore). ``propose(object_type, columns)`` maps headers to targets, recognising the
exports of HubSpot, Salesforce (reports and Data Export API names), Pipedrive, Zoho CRM, Google Contacts
and Outlook: each header is normalised (lower case, punctuation dropped, product prefixes such as
"Person - " or "Mailing " handled) and looked up in a synonym table with a priority, so "Business Phone"
wins over "Home Phone" for the phone field; each target is used once except the ones that collect several
columns (additional emails, tags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kith.core.models import CustomField


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    multi: bool = False  # several columns may feed it (values are joined)
    help: str = ""


CONTACT = [
    Target("first_name", "First name"),
    Target("last_name", "Last name"),
    Target("full_name", "Full name (split into first and last)"),
    Target("email", "Email"),
    Target("additional_emails", "Additional emails", multi=True),
    Target("phone", "Phone"),
    Target("mobile", "Mobile"),
    Target("job_title", "Job title"),
    Target("company", "Company name", help="linked to the company of that exact name, created if missing"),
    Target("company_domain", "Company domain", help="links to the company with that domain first"),
    Target("lifecycle_stage", "Lifecycle stage"),
    Target("lead_source", "Lead source"),
    Target("street", "Street"),
    Target("city", "City"),
    Target("region", "Region / state"),
    Target("postal_code", "Postal code"),
    Target("country", "Country"),
    Target("owner", "Owner (email or name)"),
    Target("tags", "Tags", multi=True),
    Target("external_id", "External ID"),
]
COMPANY = [
    Target("name", "Name"),
    Target("domain", "Domain"),
    Target("website", "Website"),
    Target("industry", "Industry"),
    Target("size", "Employees"),
    Target("annual_revenue", "Annual revenue"),
    Target("phone", "Phone"),
    Target("street", "Street"),
    Target("city", "City"),
    Target("region", "Region / state"),
    Target("postal_code", "Postal code"),
    Target("country", "Country"),
    Target("description", "Description"),
    Target("owner", "Owner (email or name)"),
    Target("tags", "Tags", multi=True),
    Target("external_id", "External ID"),
]
LEAD = [
    Target("first_name", "First name"),
    Target("last_name", "Last name"),
    Target("full_name", "Full name (split into first and last)"),
    Target("email", "Email"),
    Target("phone", "Phone"),
    Target("company_name", "Company"),
    Target("title", "Job title"),
    Target("source", "Source"),
    Target("status", "Status"),
    Target("score", "Score"),
    Target("notes", "Notes"),
    Target("country", "Country"),
    Target("owner", "Owner (email or name)"),
    Target("tags", "Tags", multi=True),
    Target("utm_source", "UTM source"),
    Target("utm_medium", "UTM medium"),
    Target("utm_campaign", "UTM campaign"),
    Target("external_id", "External ID"),
]
DEAL = [
    Target("name", "Name"),
    Target("amount", "Amount"),
    Target("currency", "Currency"),
    Target("pipeline", "Pipeline (name)"),
    Target("stage", "Stage (name)"),
    Target("expected_close_date", "Expected close date"),
    Target("company", "Company name", help="linked to the company of that exact name, created if missing"),
    Target("contact", "Contact (email or full name)", help="links the contact with that email or exact name"),
    Target("next_step", "Next step"),
    Target("lost_reason", "Lost reason"),
    Target("owner", "Owner (email or name)"),
    Target("tags", "Tags", multi=True),
    Target("external_id", "External ID"),
]
BUILTIN = {"contact": CONTACT, "company": COMPANY, "lead": LEAD, "deal": DEAL}
MATCH_ON = {
    "contact": ["email", "phone", "external_id"],
    "company": ["domain", "name", "external_id"],
    "lead": ["email", "phone", "external_id"],
    "deal": ["name", "external_id"],
}
# The target a match key reads (company "name" matches the name column, etc.).
MATCH_TARGET = {"email": "email", "phone": "phone", "domain": "domain", "external_id": "external_id", "name": "name"}


def targets(object_type: str) -> list[Target]:
    """Built-in targets, then one per custom field (cf_<key>)."""
    out = list(BUILTIN[object_type])
    for f in CustomField.objects.filter(object_type=object_type).order_by("position", "id"):
        out.append(Target(f"cf_{f.key}", f"{f.label} (custom field)", help=f.get_field_type_display()))
    return out


def target_keys(object_type: str) -> dict[str, Target]:
    return {t.key: t for t in targets(object_type)}


# --- header recognition --------------------------------------------------------------------------------

PREFIXES = re.compile(
    r"^(person|organization|organisation|org|deal|lead|contact|account|company|opportunity)\s*-\s*",
)


def normalise_header(text: str) -> str:
    text = text.lower().replace("_", " ").replace("e-mail", "email")
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    text = PREFIXES.sub("", text)
    text = re.sub(r"[^\w]+", " ", text, flags=re.UNICODE)
    return " ".join(text.split())


def _camel(text: str) -> str:
    """Salesforce API names: MailingPostalCode → mailing postal code."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)


# (normalised header, priority: lower wins) per target, shared by the record types that have the target.
S: dict[str, list[tuple[str, int]]] = {
    "first_name": [("first name", 0), ("given name", 0), ("firstname", 0), ("first", 5), ("forename", 1),
                   ("vorname", 3), ("prénom", 3), ("prenom", 3)],
    "last_name": [("last name", 0), ("family name", 0), ("surname", 0), ("lastname", 0), ("last", 5),
                  ("nachname", 3), ("nom", 4)],
    "full_name": [("name", 3), ("full name", 0), ("contact name", 1), ("display name", 2), ("fullname", 0),
                  ("contact person", 2), ("lead name", 1)],
    "email": [("email", 0), ("email address", 0), ("email 1 value", 0), ("email work", 0), ("work email", 0),
              ("primary email", 0), ("business email", 1), ("email 1", 1), ("mail", 4), ("emailaddress", 0)],
    "additional_emails": [("secondary email", 0), ("email 2 value", 0), ("email 3 value", 0),
                          ("email 2 address", 0), ("email 3 address", 0), ("email home", 0), ("email other", 0),
                          ("other email", 0), ("home email", 0), ("email 2", 1), ("email 3", 1),
                          ("additional emails", 0), ("other emails", 0)],
    "phone": [("phone", 0), ("phone number", 0), ("business phone", 0), ("work phone", 0), ("phone work", 0),
              ("phone 1 value", 0), ("office phone", 0), ("primary phone", 1), ("telephone", 0), ("tel", 2),
              ("home phone", 5), ("phone home", 5), ("company main telephone", 6), ("other phone", 7),
              ("company phone", 3)],
    "mobile": [("mobile", 0), ("mobile phone", 0), ("mobile phone number", 0), ("cell", 0), ("cell phone", 0),
               ("phone mobile", 0), ("mobile number", 0), ("phone 2 value", 3), ("cellphone", 0)],
    "job_title": [("job title", 0), ("title", 2), ("organization title", 0), ("organization 1 title", 0),
                  ("position", 3), ("role", 4), ("jobtitle", 0)],
    "title": [("job title", 0), ("title", 2), ("organization title", 0), ("position", 3), ("jobtitle", 0)],
    "company": [("company", 0), ("company name", 0), ("account name", 0), ("associated company", 1),
                ("organization name", 0), ("organization 1 name", 0), ("organization", 1), ("org", 3),
                ("company account", 0), ("account", 2), ("employer", 3), ("primary company", 1)],
    "company_name": [("company", 0), ("company name", 0), ("company account", 0), ("organization", 1),
                     ("organization name", 0), ("account name", 1)],
    "company_domain": [("company domain name", 0), ("company domain", 0), ("account domain", 1)],
    "lifecycle_stage": [("lifecycle stage", 0), ("lifecycle", 1), ("lifecyclestage", 0)],
    "lead_source": [("lead source", 0), ("original source", 1), ("source", 3), ("leadsource", 0)],
    "source": [("lead source", 0), ("source", 0), ("original source", 1), ("leadsource", 0)],
    "street": [("street", 0), ("street address", 0), ("address 1 street", 0), ("mailing street", 0),
               ("business street", 0), ("billing street", 0), ("address", 3), ("address line 1", 0),
               ("home street", 5), ("other street", 6), ("shipping street", 4)],
    "city": [("city", 0), ("address 1 city", 0), ("mailing city", 0), ("business city", 0), ("billing city", 0),
             ("home city", 5), ("other city", 6), ("shipping city", 4), ("town", 1)],
    "region": [("state", 0), ("region", 0), ("state region", 0), ("state province", 0), ("province", 0),
               ("address 1 region", 0), ("mailing state", 0), ("mailing state province", 0),
               ("business state", 0), ("billing state", 0), ("billing state province", 0), ("home state", 5),
               ("other state", 6), ("shipping state", 4), ("county", 3)],
    "postal_code": [("postal code", 0), ("zip", 0), ("zip code", 0), ("postcode", 0), ("address 1 postal code", 0),
                    ("mailing zip", 0), ("mailing zip postal code", 0), ("mailing postal code", 0),
                    ("business postal code", 0), ("billing code", 0), ("billing zip postal code", 0),
                    ("billing postal code", 0), ("home postal code", 5), ("other postal code", 6),
                    ("shipping code", 4), ("shipping postal code", 4), ("zip postal code", 0)],
    "country": [("country", 0), ("country region", 0), ("address 1 country", 0), ("mailing country", 0),
                ("business country region", 0), ("billing country", 0), ("home country region", 5),
                ("other country region", 6), ("shipping country", 4), ("nation", 3)],
    "owner": [("owner email", 0), ("owner", 1), ("contact owner", 1), ("account owner", 1), ("company owner", 1),
              ("lead owner", 1), ("deal owner", 1), ("opportunity owner", 1), ("record owner", 1),
              ("hubspot owner", 2), ("assigned to", 2), ("owner name", 2), ("sales owner", 2)],
    "tags": [("tags", 0), ("tag", 0), ("labels", 0), ("label", 1), ("categories", 0), ("category", 2),
             ("group membership", 0), ("groups", 2), ("keywords", 3)],
    "external_id": [("record id", 0), ("id", 2), ("contact id", 0), ("account id", 0), ("company id", 1),
                    ("lead id", 0), ("deal id", 0), ("opportunity id", 0), ("external id", 0), ("uid", 0),
                    ("person id", 0), ("organization id", 0), ("record id (contact)", 0), ("zoho id", 1),
                    ("salesforce id", 1), ("hubspot id", 1)],
    "name": [("name", 0), ("company name", 0), ("account name", 0), ("organization name", 0), ("organization", 1),
             ("company", 1), ("deal name", 0), ("opportunity name", 0), ("deal title", 0), ("title", 2),
             ("organisation name", 0)],
    "domain": [("domain", 0), ("company domain name", 0), ("company domain", 0), ("domain name", 0),
               ("email domain", 2)],
    "website": [("website", 0), ("website url", 0), ("web page", 0), ("web site", 0), ("url", 1), ("homepage", 0),
                ("website 1 value", 0), ("web", 2)],
    "industry": [("industry", 0), ("sector", 1)],
    "size": [("number of employees", 0), ("employees", 0), ("employee count", 0), ("company size", 1),
             ("size", 2), ("headcount", 0)],
    "annual_revenue": [("annual revenue", 0), ("revenue", 1)],
    "description": [("description", 0), ("about", 2), ("notes", 2), ("note", 3), ("company description", 0)],
    "notes": [("notes", 0), ("note", 0), ("description", 1), ("comments", 1)],
    "status": [("lead status", 0), ("status", 0)],
    "score": [("score", 0), ("lead score", 0), ("rating", 3), ("hubspot score", 1)],
    "utm_source": [("utm source", 0)],
    "utm_medium": [("utm medium", 0)],
    "utm_campaign": [("utm campaign", 0), ("campaign", 2)],
    "amount": [("amount", 0), ("value", 0), ("deal value", 0), ("deal amount", 0), ("opportunity amount", 0)],
    "currency": [("currency", 0), ("currency of value", 0), ("amount currency", 0), ("currency code", 0)],
    "pipeline": [("pipeline", 0), ("deal pipeline", 0)],
    "stage": [("stage", 0), ("deal stage", 0), ("opportunity stage", 0), ("stage name", 0)],
    "expected_close_date": [("close date", 0), ("expected close date", 0), ("closing date", 0),
                            ("close", 3), ("expected close", 0)],
    "contact": [("contact email", 0), ("contact person email", 0), ("primary contact email", 0),
                ("email", 3), ("contact person", 1), ("contact name", 1), ("primary contact", 1), ("contact", 2)],
    "next_step": [("next step", 0), ("next steps", 0)],
    "lost_reason": [("lost reason", 0), ("closed lost reason", 0), ("loss reason", 0)],
}
# Per record type, headers that mean another target than in the shared table.
OVERRIDES = {
    "deal": {"company": ("company", 0), "account name": ("company", 0), "organization": ("company", 0),
             "organization name": ("company", 0), "title": ("name", 1),
             "name": ("name", 0)},
    "company": {"name": ("name", 0), "company": ("name", 0), "title": (None, 9)},
    "lead": {"company": ("company_name", 0), "company account": ("company_name", 0), "account id": (None, 9)},
    "contact": {"account id": (None, 9), "company id": (None, 9)},
}


def _index(object_type: str) -> dict[str, tuple[str, int]]:
    keys = {t.key for t in BUILTIN[object_type]}
    table: dict[str, tuple[str, int]] = {}
    for target, synonyms in S.items():
        if target not in keys:
            continue
        for header, priority in synonyms:
            if header not in table or priority < table[header][1]:
                table[header] = (target, priority)
    for header, value in OVERRIDES.get(object_type, {}).items():
        table[header] = value  # type: ignore[assignment]
    return table


def _candidates(header: str) -> list[str]:
    """Forms of one header to look up, most specific first."""
    base = normalise_header(_camel(header))
    forms = [base, normalise_header(header)]
    # Google: "Phone 1 - Value" keep; "Address 1 - Formatted" etc.; Pipedrive: "Email - Work" handled by table.
    for prefix in ("mailing ", "primary ", "business ", "billing "):
        if base.startswith(prefix):
            forms.append(base[len(prefix):])
    return list(dict.fromkeys(f for f in forms if f))


def propose(object_type: str, columns: list[str]) -> dict[str, str | None]:
    """{column: target or None}: a best guess the user reviews."""
    table = _index(object_type)
    custom = {}
    for f in CustomField.objects.filter(object_type=object_type):
        custom[normalise_header(f.label)] = f"cf_{f.key}"
        custom[normalise_header(f.key)] = f"cf_{f.key}"
    multi = {t.key for t in BUILTIN[object_type] if t.multi}
    normalised = {normalise_header(c) for c in columns}
    guesses: list[tuple[int, int, str, str]] = []
    for i, column in enumerate(columns):
        best: tuple[str, int] | None = None
        for form in _candidates(column):
            if form in custom:
                best = (custom[form], -1)
                break
            hit = table.get(form)
            if hit and (best is None or hit[1] < best[1]):
                best = hit
        if best is None or best[0] is None:
            continue
        target, priority = best
        # Outlook: "Title" is Mr/Ms when there is a "Job Title" column too.
        if form_is(column, "title") and "job title" in normalised and target in ("job_title", "title"):
            continue
        guesses.append((priority, i, column, target))
    result: dict[str, str | None] = dict.fromkeys(columns)
    taken: set[str] = set()
    for _priority, _i, column, target in sorted(guesses):
        if target in taken and target not in multi:
            if target == "email" and "additional_emails" in multi:
                target = "additional_emails"
            elif target == "phone" and "mobile" not in taken and object_type == "contact" and "2" in column:
                target = "mobile"
            else:
                continue
        result[column] = target
        taken.add(target)
    # A "Full name" column is only useful when first/last are not both there.
    if "full_name" in taken and {"first_name", "last_name"} <= taken:
        for c, t in result.items():
            if t == "full_name":
                result[c] = None
    return result


def form_is(column: str, normalised: str) -> bool:
    return normalise_header(column) == normalised
