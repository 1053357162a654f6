"""Realistic, deterministic demo data for `kith demo` and `kith serve --demo`.

Everything is written through the services (users, custom fields, companies, contacts), so history,
search, tags and events behave as for data typed in by people. Afterwards the timestamps are spread
over the past ~18 months so lists, history and "recently updated" look lived-in.

All domains end in .example (reserved, RFC 2606) and US phone numbers are 555-01xx: no demo record
points at a real company, mailbox or phone.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone

SEED = 20260114
ADMIN_EMAIL = "demo@example.com"
LOGIN_FILE = "demo-login.txt"

# (email, full name, role): the demo admin plus a persona for each other role, all owners of records.
DEMO_USERS = [
    (ADMIN_EMAIL, "Dana Demo", "admin"),
    ("sofia.marquez@example.com", "Sofía Márquez", "manager"),
    ("kenji.watanabe@example.com", "Kenji Watanabe", "member"),
    ("amara.okafor@example.com", "Amara Okafor", "member"),
    ("lars.nilsson@example.com", "Lars Nilsson", "viewer"),
]
USER_KEYS = ["admin", "manager", "member", "member2", "viewer"]

CONTACT_FIELDS = [
    {"label": "Preferred language", "key": "preferred_language", "field_type": "select",
     "choices": ["English", "Deutsch", "Français", "Español", "Português", "Nederlands", "Svenska", "Polski",
                 "Türkçe", "Ελληνικά", "Български", "العربية", "日本語", "中文", "한국어", "Tiếng Việt"],
     "help_text": "Language for emails and calls"},
    {"label": "Newsletter", "key": "newsletter", "field_type": "boolean", "help_text": "Opted in to the newsletter"},
    {"label": "Birthday", "key": "birthday", "field_type": "date"},
]
COMPANY_FIELDS = [
    {"label": "Tier", "key": "tier", "field_type": "select", "choices": ["Strategic", "Enterprise", "Mid-market", "SMB"]},
    {"label": "Contract value", "key": "contract_value", "field_type": "currency", "currency": "EUR",
     "help_text": "Annual contract value"},
    {"label": "Renewal date", "key": "renewal_date", "field_type": "date"},
    {"label": "Segments", "key": "segments", "field_type": "multiselect",
     "choices": ["Direct", "Partner-led", "Self-serve", "Public sector", "EMEA", "Americas", "APAC"]},
]


@dataclass
class Culture:
    language: str
    first: list[str] = field(default_factory=list)
    last: list[str] = field(default_factory=list)
    # Complete names (first, last, ascii first, ascii last): non-Latin scripts and gendered surnames.
    pairs: list[tuple[str, str, str, str]] = field(default_factory=list)


CULTURES: dict[str, Culture] = {
    "US": Culture("English",
                  ["James", "Emily", "Michael", "Sarah", "David", "Jessica", "Marcus", "Ashley", "Daniel", "Megan",
                   "Tyler", "Olivia", "Jamal", "Brianna"],
                  ["Johnson", "Williams", "Brown", "Miller", "Davis", "Anderson", "Thompson", "Harris", "Clark",
                   "Lewis", "Walker", "Robinson", "O'Brien", "Nguyen"]),
    "GB": Culture("English",
                  ["Oliver", "Charlotte", "Harry", "Amelia", "George", "Isla", "Jack", "Poppy", "Thomas", "Siobhan",
                   "Rhys", "Priya"],
                  ["Smith", "Taylor", "Wright", "Evans", "Hughes", "Roberts", "Wood", "Turner", "Cooper", "Ward",
                   "MacLeod", "Khan"]),
    "DE": Culture("Deutsch",
                  ["Lukas", "Anna", "Jürgen", "Sophie", "Matthias", "Lena", "Jörg", "Katrin", "Felix", "Marie",
                   "Björn", "Anja"],
                  ["Müller", "Schmidt", "Schäfer", "Weiß", "Becker", "Hoffmann", "Köhler", "Wagner", "Groß",
                   "Neumann", "Krüger", "Yıldız"]),
    "FR": Culture("Français",
                  ["Élodie", "Mathieu", "Chloé", "Sébastien", "Camille", "François", "Amélie", "Théo", "Hélène",
                   "Jérôme", "Inès", "Karim"],
                  ["Lefèvre", "Dubois", "Moreau", "Girard", "Rousseau", "Mercier", "Lemaître", "Fontaine",
                   "Chevalier", "Bérard", "Benali", "Gauthier"]),
    "ES": Culture("Español",
                  ["José", "María", "Álvaro", "Lucía", "Sergio", "Inés", "Javier", "Nuria", "Raúl", "Begoña"],
                  ["García", "Fernández", "Martínez", "López", "Sánchez", "Jiménez", "Muñoz", "Álvarez", "Romero",
                   "Domínguez"]),
    "MX": Culture("Español",
                  ["Alejandro", "Ximena", "Diego", "Guadalupe", "Mateo", "Valeria", "Emiliano", "Renata"],
                  ["Hernández", "González", "Ramírez", "Flores", "Cruz", "Morales", "Ortiz", "Gutiérrez"]),
    "BR": Culture("Português",
                  ["João", "Ana", "Luís", "Beatriz", "Larissa", "Thiago", "Camila", "Rafael", "Fernanda", "Caio"],
                  ["Silva", "Santos", "Oliveira", "Souza", "Conceição", "Araújo", "Gonçalves", "Ribeiro",
                   "Carvalho", "Magalhães"]),
    "NL": Culture("Nederlands",
                  ["Sanne", "Daan", "Femke", "Joris", "Lotte", "Bram", "Eline", "Sven"],
                  ["de Vries", "van den Berg", "Jansen", "Bakker", "Visser", "Smit", "de Jong", "van Dijk"]),
    "SE": Culture("Svenska",
                  ["Åsa", "Björn", "Linnéa", "Mårten", "Ingrid", "Sören", "Maja", "Erik"],
                  ["Andersson", "Johansson", "Lindqvist", "Bergström", "Åkesson", "Nyström", "Sjöberg",
                   "Håkansson"]),
    "PL": Culture("Polski",
                  ["Łukasz", "Agnieszka", "Paweł", "Małgorzata", "Krzysztof", "Zofia", "Michał", "Katarzyna"],
                  ["Nowak", "Wójcik", "Mazur", "Krawczyk", "Kaczmarek", "Zając", "Król", "Wróbel"]),
    "TR": Culture("Türkçe",
                  ["Ayşe", "Mehmet", "Zeynep", "Emre", "Elif", "Burak", "Gül", "Oğuz"],
                  ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın", "Arslan"]),
    "IN": Culture("English",
                  ["Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya", "Deepak", "Lakshmi"],
                  ["Sharma", "Patel", "Iyer", "Reddy", "Gupta", "Nair", "Mehta", "Banerjee", "Krishnan", "Singh"]),
    "NG": Culture("English",
                  ["Chinedu", "Ngozi", "Tunde", "Aisha", "Emeka", "Funmilayo", "Ibrahim", "Adaeze"],
                  ["Okafor", "Adeyemi", "Balogun", "Eze", "Nwosu", "Okonkwo", "Bello", "Ogunleye"]),
    "KE": Culture("English",
                  ["Wanjiru", "Otieno", "Achieng", "Kamau", "Njeri", "Kiprono"],
                  ["Mwangi", "Odhiambo", "Kariuki", "Wambui", "Chebet", "Mutua"]),
    "VN": Culture("Tiếng Việt",
                  ["Minh Anh", "Quốc Bảo", "Thu Trang", "Đức Huy", "Ngọc Lan", "Thanh Hương", "Văn Long"],
                  ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng"]),
    "JP": Culture("日本語", pairs=[
        ("陽翔", "佐藤", "haruto", "sato"), ("結衣", "鈴木", "yui", "suzuki"), ("蓮", "高橋", "ren", "takahashi"),
        ("美咲", "田中", "misaki", "tanaka"), ("大輝", "伊藤", "daiki", "ito"), ("さくら", "渡辺", "sakura", "watanabe"),
        ("健太", "山本", "kenta", "yamamoto"), ("愛", "中村", "ai", "nakamura"), ("翔太", "小林", "shota", "kobayashi"),
        ("Haruki", "Mori", "haruki", "mori"), ("Yuki", "Shimizu", "yuki", "shimizu"),
    ]),
    "CN": Culture("中文", pairs=[
        ("伟", "王", "wei", "wang"), ("芳", "李", "fang", "li"), ("静", "张", "jing", "zhang"), ("磊", "刘", "lei", "liu"),
        ("敏", "陈", "min", "chen"), ("强", "杨", "qiang", "yang"), ("Lina", "Zhou", "lina", "zhou"),
    ]),
    "KR": Culture("한국어", pairs=[
        ("민준", "김", "minjun", "kim"), ("서연", "이", "seoyeon", "lee"), ("지호", "박", "jiho", "park"),
        ("하은", "최", "haeun", "choi"), ("도윤", "정", "doyun", "jung"), ("수아", "강", "sua", "kang"),
    ]),
    "AE": Culture("العربية", pairs=[
        ("محمد", "الحسن", "mohamed", "alhassan"), ("ليلى", "المنصوري", "layla", "almansoori"),
        ("أحمد", "الشامسي", "ahmed", "alshamsi"), ("فاطمة", "الكعبي", "fatima", "alkaabi"),
        ("خالد", "النعيمي", "khalid", "alnuaimi"), ("Omar", "Haddad", "omar", "haddad"),
        ("Rania", "Khoury", "rania", "khoury"),
    ]),
    "GR": Culture("Ελληνικά", pairs=[
        ("Γιώργος", "Παπαδόπουλος", "giorgos", "papadopoulos"), ("Ελένη", "Γεωργίου", "eleni", "georgiou"),
        ("Νίκος", "Οικονόμου", "nikos", "oikonomou"), ("Μαρία", "Κωνσταντίνου", "maria", "konstantinou"),
        ("Δημήτρης", "Αλεξίου", "dimitris", "alexiou"), ("Κατερίνα", "Νικολάου", "katerina", "nikolaou"),
    ]),
    "BG": Culture("Български", pairs=[
        ("Иван", "Петров", "ivan", "petrov"), ("Мария", "Георгиева", "maria", "georgieva"),
        ("Димитър", "Стоянов", "dimitar", "stoyanov"), ("Елена", "Николова", "elena", "nikolova"),
        ("Стефан", "Иванов", "stefan", "ivanov"), ("Десислава", "Димитрова", "desislava", "dimitrova"),
    ]),
}
CULTURES["CA"] = CULTURES["US"]
CULTURES["AU"] = CULTURES["GB"]
CULTURES["IE"] = CULTURES["GB"]

# name, domain (.example), industry, country, city, region, employees, description
COMPANIES = [
    ("Brightwater Analytics", "brightwater-analytics", "Software", "US", "Austin", "TX", 240,
     "Forecasting software for regional utilities."),
    ("Harbor & Pine Logistics", "harborpine", "Logistics", "US", "Seattle", "WA", 1200,
     "Cold-chain freight across the Pacific Northwest."),
    ("Copperleaf Health", "copperleaf-health", "Healthcare", "US", "Boston", "MA", 3400,
     "Network of outpatient clinics; evaluating a patient-outreach CRM."),
    ("Northbeam Solar", "northbeam-solar", "Energy", "US", "Denver", "CO", 85, "Rooftop solar installer."),
    ("Maple Street Bakery Group", "maplestreet-bakery", "Food & beverage", "US", "Portland", "OR", 60,
     "Twelve bakeries, growing wholesale."),
    ("Ironclad Security", "ironclad-security", "Cybersecurity", "US", "Arlington", "VA", 410, ""),
    ("Lakeshore Credit Union", "lakeshore-cu", "Financial services", "CA", "Toronto", "ON", 900,
     "Member-owned credit union."),
    ("Thistle & Crown Publishing", "thistlecrown", "Media", "GB", "Edinburgh", "Scotland", 75,
     "Independent publisher of non-fiction."),
    ("Kestrel Engineering", "kestrel-eng", "Manufacturing", "GB", "Manchester", "", 530,
     "Precision parts for rail."),
    ("Greenwich Wealth Partners", "greenwich-wealth", "Financial services", "GB", "London", "", 140, ""),
    ("Cliffside Outdoor", "cliffside-outdoor", "Retail", "IE", "Galway", "", 45, "Outdoor gear, online and two stores."),
    ("Südwind Maschinenbau", "suedwind-maschinenbau", "Manufacturing", "DE", "Stuttgart", "Baden-Württemberg",
     2100, "Packaging machines; long sales cycles, many stakeholders."),
    ("Kaffeerösterei Hansen", "kaffee-hansen", "Food & beverage", "DE", "Hamburg", "", 38, ""),
    ("Lichtblick Software", "lichtblick-software", "Software", "DE", "Berlin", "", 160, "HR software for SMEs."),
    ("Alpenglühen Reisen", "alpengluehen-reisen", "Travel", "DE", "München", "Bayern", 90, ""),
    ("Maison Lumière", "maison-lumiere", "Retail", "FR", "Lyon", "Auvergne-Rhône-Alpes", 220,
     "Lighting design and retail."),
    ("Côte Verte Énergie", "cote-verte-energie", "Energy", "FR", "Nantes", "", 310, "Offshore wind services."),
    ("Atelier Numérique", "atelier-numerique", "Consulting", "FR", "Paris", "Île-de-France", 55,
     "Digital agency; a partner that resells Kith."),
    ("Olivares del Sur", "olivares-del-sur", "Agriculture", "ES", "Sevilla", "Andalucía", 130,
     "Olive oil producer and exporter."),
    ("Turismo Costa Brava", "costabrava-turismo", "Travel", "ES", "Girona", "Cataluña", 70, ""),
    ("Grupo Aztlán Construcciones", "aztlan-construcciones", "Construction", "MX", "Monterrey", "Nuevo León", 1800,
     ""),
    ("Cacao Xochitl", "cacao-xochitl", "Food & beverage", "MX", "Oaxaca", "", 25, "Bean-to-bar chocolate."),
    ("Ipê Fintech", "ipe-fintech", "Financial services", "BR", "São Paulo", "SP", 330, "Payments for marketplaces."),
    ("Mar Aberto Pescados", "mar-aberto", "Food & beverage", "BR", "Recife", "PE", 140, ""),
    ("Tulpenveld Bloemen", "tulpenveld", "Agriculture", "NL", "Lisse", "Zuid-Holland", 95, "Bulb and flower grower."),
    ("Grachtenhuis Architecten", "grachtenhuis", "Architecture", "NL", "Amsterdam", "", 32, ""),
    ("Fjällräv Robotics", "fjallrav-robotics", "Robotics", "SE", "Göteborg", "", 180, "Warehouse robots."),
    ("Skärgård Hälsa", "skargard-halsa", "Healthcare", "SE", "Stockholm", "", 260, ""),
    ("Wisła Data", "wisla-data", "Software", "PL", "Kraków", "Małopolskie", 120, "Data engineering consultancy."),
    ("Bursztyn Meble", "bursztyn-meble", "Manufacturing", "PL", "Gdańsk", "Pomorskie", 450, "Furniture maker."),
    ("Boğaziçi Tekstil", "bogazici-tekstil", "Textiles", "TR", "İstanbul", "", 700, ""),
    ("Ακρόπολις Ναυτιλιακή", "akropolis-shipping", "Shipping", "GR", "Πειραιάς", "", 210,
     "Ship management; the name is written in Greek."),
    ("Рила Софтуер", "rila-software", "Software", "BG", "София", "", 75, "Outsourced development."),
    ("Sakura Robotics", "sakura-robotics", "Robotics", "JP", "大阪市", "大阪府", 520, ""),
    ("株式会社ミドリ食品", "midori-foods", "Food & beverage", "JP", "東京", "東京都", 1300, "Packaged foods."),
    ("深圳星河电子", "xinghe-electronics", "Electronics", "CN", "深圳", "广东", 2600, "Contract electronics maker."),
    ("한강 바이오", "hangang-bio", "Biotech", "KR", "서울", "", 190, ""),
    ("Monsoon Learning", "monsoon-learning", "Education", "IN", "Bengaluru", "Karnataka", 380, "Online tutoring."),
    ("Ganges Textiles", "ganges-textiles", "Textiles", "IN", "Kanpur", "Uttar Pradesh", 860, ""),
    ("Lagos Fresh Markets", "lagosfresh", "Retail", "NG", "Lagos", "", 310, "Grocery delivery."),
    ("Savanna Pay", "savanna-pay", "Financial services", "KE", "Nairobi", "", 150, "Mobile payments for SMEs."),
    ("Mekong Coffee Traders", "mekong-coffee", "Food & beverage", "VN", "Hồ Chí Minh", "", 65, ""),
    ("Al Noor Hospitality", "alnoor-hospitality", "Hospitality", "AE", "Dubai", "", 980, "Hotels and serviced flats."),
    ("Southern Cross Mining Services", "southerncross-mining", "Mining", "AU", "Perth", "WA", 1400, ""),
]

JOB_TITLES = {
    "senior": ["CEO", "Managing Director", "Founder", "CFO", "CTO", "COO", "VP Sales", "VP Engineering",
               "Chief Marketing Officer", "Head of Operations"],
    "mid": ["Head of Procurement", "Operations Manager", "Product Manager", "Marketing Manager", "IT Manager",
            "Customer Success Manager", "Finance Manager", "HR Business Partner", "Sales Director",
            "Geschäftsführerin", "Directeur commercial", "Directora de operaciones"],
    "staff": ["Account Executive", "Software Engineer", "Data Analyst", "Office Manager", "Purchasing Lead",
              "Marketing Coordinator", "Sales Development Representative", "Executive Assistant",
              "Support Specialist", "Project Coordinator"],
}
LEAD_SOURCES = ["Website", "Referral", "Conference", "Webinar", "Cold outreach", "Partner", "LinkedIn", "Trade show"]
CONTACT_TAGS = ["VIP", "Decision maker", "Champion", "Newsletter", "Event: Web Summit", "Churn risk",
                "Beta tester", "Needs follow-up", "Partner contact", "Budget holder"]
COMPANY_TAGS = ["Key account", "Partner", "Reseller", "Prospect", "At risk", "Expansion", "Reference customer"]
STAGES = [("subscriber", 8), ("lead", 30), ("marketing_qualified", 14), ("sales_qualified", 12),
          ("opportunity", 12), ("customer", 20), ("evangelist", 3), ("other", 1)]
STAGE_ORDER = ["subscriber", "lead", "marketing_qualified", "sales_qualified", "opportunity", "customer", "evangelist"]
REGION_OF_COUNTRY = {"US": "Americas", "CA": "Americas", "MX": "Americas", "BR": "Americas", "JP": "APAC",
                     "CN": "APAC", "KR": "APAC", "IN": "APAC", "VN": "APAC", "AU": "APAC"}
STREETS = ["Main Street", "Hauptstraße", "Rue de la République", "Calle Mayor", "Rua Augusta", "Kerkstraat",
           "Storgatan", "ulica Długa", "Cumhuriyet Caddesi", "Market Street", "High Street", "Station Road"]


def login_file() -> Path:
    return Path(settings.DATA_DIR) / LOGIN_FILE


def read_login() -> tuple[str, str] | None:
    """(email, password) of the demo admin from KITH_DATA_DIR/demo-login.txt, when present."""
    path = login_file()
    if not path.exists():
        return None
    values = dict(
        line.split(":", 1) for line in path.read_text(encoding="utf-8").splitlines()
        if ":" in line and not line.startswith("#")
    )
    email, password = values.get("email", "").strip(), values.get("password", "").strip()
    return (email, password) if email and password else None


def _write_login(password: str) -> None:
    path = login_file()
    others = ", ".join(f"{email} ({role})" for email, _, role in DEMO_USERS[1:])
    text = (
        "# Kith demo login, written by `kith demo` / `kith serve --demo`. Keep it private.\n"
        f"email: {ADMIN_EMAIL}\npassword: {password}\n"
        f"# The same password signs in the other personas: {others}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def database_is_empty() -> bool:
    from kith.contacts.models import Contact

    return not Contact.all_objects.exists()


def existing_counts() -> tuple[int, int]:
    from kith.contacts.models import Company, Contact

    return Contact.all_objects.count(), Company.all_objects.count()


def ascii_slug(text: str) -> str:
    text = text.replace("ß", "ss").replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("đ", "d")
    text = text.replace("Đ", "D").replace("ı", "i").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def phone_number(rng: random.Random, country: str, mobile: bool) -> str:
    """A valid E.164 number for the country (US/CA: the fictional 555-01xx range)."""
    kind = phonenumbers.PhoneNumberType.MOBILE if mobile else phonenumbers.PhoneNumberType.FIXED_LINE
    example = phonenumbers.example_number_for_type(country, kind) or phonenumbers.example_number(country)
    if country in ("US", "CA"):
        area = rng.choice(["212", "415", "512", "617", "303", "206", "503", "703"] if country == "US"
                          else ["416", "647", "604", "514"])
        return f"+1{area}55501{rng.randint(0, 99):02d}"
    national = str(example.national_number)
    for _ in range(50):
        keep = max(2, len(national) - 6)
        candidate = national[:keep] + "".join(str(rng.randint(0, 9)) for _ in range(len(national) - keep))
        parsed = phonenumbers.parse(f"+{example.country_code}{candidate}")
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


@dataclass
class Event:
    when: dt.datetime
    order: int
    kind: str
    payload: dict[str, Any]


class DemoLoader:
    def __init__(self, *, contacts: int = 300, stdout=None):
        self.rng = random.Random(SEED)
        self.n_contacts = contacts
        self.stdout = stdout
        self.now = timezone.now().replace(microsecond=0)
        self.users: dict[str, Any] = {}
        self.companies: dict[str, Any] = {}  # domain -> Company
        self.emails: set[str] = set()
        self.stats = {"companies": 0, "contacts": 0, "updates": 0, "trashed": 0, "skipped": 0}

    def say(self, text: str) -> None:
        if self.stdout is not None:
            self.stdout.write(text)

    # --- users and fields ------------------------------------------------------------------------------

    def ensure_users(self) -> str | None:
        """Create the missing demo users. Returns the password when the demo admin was created now."""
        from kith.core.models import User
        from kith.core.users import create_user

        saved = read_login()
        password = saved[1] if saved else f"{secrets.token_hex(3)}-{secrets.token_hex(3)}-{secrets.token_hex(3)}"
        created_admin = False
        for key, (email, name, role) in zip(USER_KEYS, DEMO_USERS, strict=True):
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = create_user(actor=None, email=email, password=password, role=role, full_name=name)
                created_admin = created_admin or email == ADMIN_EMAIL
            self.users[key] = user
        if created_admin:
            _write_login(password)
            return password
        return None

    def ensure_custom_fields(self) -> None:
        from kith.core.custom_field_services import create_custom_field
        from kith.core.models import CustomField

        for object_type, defs in (("contact", CONTACT_FIELDS), ("company", COMPANY_FIELDS)):
            for spec in defs:
                if not CustomField.objects.filter(object_type=object_type, key=spec["key"]).exists():
                    create_custom_field(actor=self.users["admin"], data={"object_type": object_type, **spec})

    # --- planning -------------------------------------------------------------------------------------

    def owners(self) -> list[Any]:
        return [self.users["admin"], self.users["manager"], self.users["member"], self.users["member2"],
                self.users["member"], self.users["member2"]]

    def actor_for(self, owner) -> Any:
        from kith.core import permissions

        if owner is not None and owner.can_write and (
            permissions.visibility_rule() == "all" or owner.role in ("admin", "manager")
        ):
            return owner
        return self.users["manager"]

    def plan(self) -> list[Event]:
        rng = self.rng
        start = self.now - dt.timedelta(days=540)
        events: list[Event] = []
        order = 0
        company_times: dict[str, dt.datetime] = {}
        for spec in COMPANIES:
            slug = spec[1]
            when = start + dt.timedelta(days=rng.uniform(0, 300), seconds=rng.randint(0, 86399))
            company_times[slug] = when
            order += 1
            events.append(Event(when, order, "company", {"spec": spec}))
        weights = [max(5, min(40, int(spec[6] ** 0.5))) for spec in COMPANIES]
        for i in range(self.n_contacts):
            spec = rng.choices(COMPANIES, weights=weights)[0] if rng.random() > 0.07 else None
            created = (company_times[spec[1]] if spec else start) + dt.timedelta(
                days=rng.uniform(0, 200), seconds=rng.randint(0, 86399)
            )
            created = min(created, self.now - dt.timedelta(days=2, seconds=rng.randint(0, 86399)))
            order += 1
            events.append(Event(created, order, "contact", {"company": spec, "index": i}))
            n_updates = rng.choices([0, 1, 2, 3], weights=[45, 30, 17, 8])[0]
            when = created
            for _ in range(n_updates):
                when = min(when + dt.timedelta(days=rng.uniform(1, 90), seconds=rng.randint(0, 86399)),
                           self.now - dt.timedelta(minutes=rng.randint(5, 3000)))
                order += 1
                events.append(Event(when, order, "contact_update", {"index": i}))
        for spec in COMPANIES:
            if rng.random() < 0.45:
                when = company_times[spec[1]] + dt.timedelta(days=rng.uniform(30, 220))
                order += 1
                events.append(Event(min(when, self.now - dt.timedelta(hours=3)), order, "company_update",
                                    {"slug": spec[1]}))
        for index in rng.sample(range(self.n_contacts), k=min(3, self.n_contacts)):
            order += 1
            events.append(Event(self.now - dt.timedelta(days=rng.randint(1, 6)), order, "contact_trash",
                                {"index": index}))
        events.sort(key=lambda e: (e.when, e.order))
        return events

    # --- record builders --------------------------------------------------------------------------------

    def company_data(self, spec) -> dict[str, Any]:
        rng = self.rng
        name, slug, industry, country, city, region, size, description = spec
        tier = "Strategic" if size > 1500 else "Enterprise" if size > 500 else "Mid-market" if size > 100 else "SMB"
        segments = [rng.choice(["Direct", "Direct", "Partner-led", "Self-serve"])]
        segments.append(REGION_OF_COUNTRY.get(country, "EMEA"))
        if industry in ("Healthcare", "Education") and rng.random() < 0.5:
            segments.append("Public sector")
        custom: dict[str, Any] = {"tier": tier, "segments": segments}
        if rng.random() < 0.7:
            value = round(size * rng.uniform(40, 160), -2)
            custom["contract_value"] = f"{max(value, 1200):.2f}"
            custom["renewal_date"] = (self.now.date() + dt.timedelta(days=rng.randint(-20, 360))).isoformat()
        tags = rng.sample(COMPANY_TAGS, k=rng.choices([0, 1, 2], weights=[35, 45, 20])[0])
        revenue = size * rng.randint(60, 250) * 1000 if rng.random() < 0.8 else None
        return {
            "name": name,
            "domain": f"{slug}.example",
            "industry": industry,
            "size": size,
            "annual_revenue": revenue,
            "phone": phone_number(rng, country, mobile=False),
            "street": f"{rng.randint(1, 220)} {rng.choice(STREETS)}" if rng.random() < 0.6 else "",
            "city": city,
            "region": region,
            "postal_code": str(rng.randint(10000, 99999)) if rng.random() < 0.6 else "",
            "country": country,
            "description": description,
            "tags": tags,
            "custom_fields": custom,
        }

    def person(self, country: str) -> tuple[str, str, str, str]:
        rng = self.rng
        culture = CULTURES[country]
        if culture.pairs and (not culture.first or rng.random() < 0.75):
            return rng.choice(culture.pairs)
        first, last = rng.choice(culture.first), rng.choice(culture.last)
        return first, last, ascii_slug(first), ascii_slug(last)

    def contact_data(self, payload) -> tuple[dict[str, Any], Any]:
        rng = self.rng
        spec = payload["company"]
        country = spec[3] if spec else rng.choice(["US", "GB", "DE", "FR", "IN", "BR"])
        # Some colleagues come from abroad.
        country_for_name = rng.choice(list(CULTURES)) if spec and rng.random() < 0.12 else country
        first, last, a_first, a_last = self.person(country_for_name)
        domain = f"{spec[1]}.example" if spec else rng.choice(["mail.example", "post.example", "inbox.example"])
        pattern = rng.choice(["{f}.{l}", "{f}.{l}", "{f0}{l}", "{f}", "{f}_{l}"])
        local = pattern.format(f=a_first, l=a_last.replace(" ", ""), f0=a_first[:1]) or f"contact{payload['index']}"
        email = f"{local}@{domain}"
        n = 2
        while email in self.emails:
            email = f"{local}{n}@{domain}"
            n += 1
        self.emails.add(email)
        seniority = rng.choices(["senior", "mid", "staff"], weights=[15, 35, 50])[0]
        stage = _weighted(rng, STAGES)
        owner = rng.choice(self.owners()) if rng.random() < 0.92 else None
        custom: dict[str, Any] = {}
        language = CULTURES[country_for_name].language
        if rng.random() < 0.8:
            custom["preferred_language"] = language if rng.random() < 0.85 else "English"
        if rng.random() < 0.75:
            custom["newsletter"] = rng.random() < 0.55
        if rng.random() < 0.35:
            custom["birthday"] = dt.date(rng.randint(1958, 2001), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
        tags = rng.sample(CONTACT_TAGS, k=rng.choices([0, 1, 2, 3], weights=[40, 35, 18, 7])[0])
        if seniority == "senior" and "Decision maker" not in tags and rng.random() < 0.6:
            tags.append("Decision maker")
        data = {
            "first_name": first,
            "last_name": last,
            "email": email,
            "job_title": rng.choice(JOB_TITLES[seniority]),
            "lifecycle_stage": stage,
            "lead_source": rng.choice(LEAD_SOURCES) if rng.random() < 0.8 else "",
            "country": country,
            "city": spec[4] if spec else "",
            "owner_id": owner.pk if owner else None,
            "tags": tags,
            "custom_fields": custom,
        }
        if rng.random() < 0.6:
            data["mobile"] = phone_number(rng, country, mobile=True)
        if rng.random() < 0.35:
            data["phone"] = phone_number(rng, country, mobile=False)
        if rng.random() < 0.08:
            data["additional_emails"] = [f"{a_first}.{a_last}@mail.example".replace(" ", "")]
        return data, owner

    def contact_change(self, contact) -> dict[str, Any]:
        rng = self.rng
        change = rng.choice(["stage", "stage", "stage", "title", "tags", "phone", "owner", "newsletter"])
        if change == "stage" and contact.lifecycle_stage in STAGE_ORDER[:-1]:
            nxt = STAGE_ORDER[STAGE_ORDER.index(contact.lifecycle_stage) + 1]
            return {"lifecycle_stage": nxt}
        if change == "title":
            return {"job_title": rng.choice(JOB_TITLES["senior"] + JOB_TITLES["mid"])}
        if change == "tags":
            current = sorted(t.name for t in contact.tags.all())
            return {"tags": [*current, rng.choice([t for t in CONTACT_TAGS if t not in current] or ["VIP"])]}
        if change == "phone":
            return {"mobile": phone_number(rng, contact.country or "US", mobile=True)}
        if change == "owner":
            return {"owner_id": rng.choice(self.owners()).pk}
        return {"custom_fields": {"newsletter": not bool((contact.custom_fields or {}).get("newsletter"))}}

    # --- running -------------------------------------------------------------------------------------

    def _stamp(self, model, obj, when: dt.datetime, since_audit: int, *, created: bool = False, trashed=False):
        from kith.core.models import AuditEntry

        values: dict[str, Any] = {"updated_at": when}
        if created:
            values["created_at"] = when
        if trashed:
            values["deleted_at"] = when
        model.all_objects.filter(pk=obj.pk).update(**values)
        AuditEntry.objects.filter(pk__gt=since_audit).update(created_at=when)

    def run(self) -> dict[str, int]:
        from kith.contacts import services
        from kith.contacts.models import Company, Contact
        from kith.core.errors import ValidationError
        from kith.core.models import AuditEntry

        contacts: dict[int, Any] = {}
        for event in self.plan():
            last_audit = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
            kind, payload = event.kind, event.payload
            if kind == "company":
                spec = payload["spec"]
                existing = Company.objects.filter(domain=f"{spec[1]}.example").first()
                data = self.company_data(spec)
                if existing is not None:
                    self.companies[spec[1]] = existing
                    self.stats["skipped"] += 1
                    continue
                owner = self.rng.choice(self.owners())
                company = services.create_company(actor=self.actor_for(owner), data={**data, "owner_id": owner.pk})
                self.companies[spec[1]] = company
                self._stamp(Company, company, event.when, last_audit, created=True)
                self.stats["companies"] += 1
            elif kind == "contact":
                data, owner = self.contact_data(payload)
                spec = payload["company"]
                if spec:
                    data["company_id"] = self.companies[spec[1]].pk
                if Contact.objects.filter(email=data["email"]).exists():
                    self.stats["skipped"] += 1
                    continue
                try:
                    contact = services.create_contact(actor=self.actor_for(owner), data=data)
                except ValidationError:
                    self.stats["skipped"] += 1
                    continue
                contacts[payload["index"]] = contact
                self._stamp(Contact, contact, event.when, last_audit, created=True)
                self.stats["contacts"] += 1
            elif kind == "contact_update" and payload["index"] in contacts:
                contact = Contact.objects.get(pk=contacts[payload["index"]].pk)
                change = self.contact_change(contact)
                actor = self.actor_for(contact.owner if self.rng.random() < 0.7 else self.rng.choice(self.owners()))
                services.update_contact(actor=actor, contact=contact, data=change)
                self._stamp(Contact, contact, event.when, last_audit)
                self.stats["updates"] += 1
            elif kind == "company_update":
                company = Company.objects.filter(pk=self.companies[payload["slug"]].pk).first()
                if company is None:
                    continue
                change = self.rng.choice([
                    {"size": int((company.size or 10) * self.rng.uniform(1.05, 1.4))},
                    {"custom_fields": {"tier": self.rng.choice(["Strategic", "Enterprise", "Mid-market"])}},
                    {"custom_fields": {"contract_value": f"{self.rng.randint(20, 900) * 100}.00"}},
                    {"tags": ["Expansion", *[t.name for t in company.tags.all() if t.name != "Expansion"]]},
                ])
                services.update_company(actor=self.actor_for(company.owner), company=company, data=change)
                self._stamp(Company, company, event.when, last_audit)
                self.stats["updates"] += 1
            elif kind == "contact_trash" and payload["index"] in contacts:
                contact = Contact.objects.filter(pk=contacts[payload["index"]].pk).first()
                if contact is None:
                    continue
                services.delete_contact(actor=self.actor_for(contact.owner), contact=contact)
                self._stamp(Contact, contact, event.when, last_audit, trashed=True)
                self.stats["trashed"] += 1
        return self.stats


def load(*, stdout=None, contacts: int = 300) -> dict[str, Any]:
    """Create the demo users, custom fields, companies and contacts. Returns counts and the login."""
    loader = DemoLoader(contacts=contacts, stdout=stdout)
    with transaction.atomic():
        password = loader.ensure_users()
        loader.ensure_custom_fields()
        stats = loader.run()
        # Sales on top: pipelines, a year of deals, products, quotes, quotas, leads and web forms.
        from kith.contacts.models import Company, Contact
        from kith.core.models import User
        from kith.sales.demo import load_sales_demo

        users = list(User.objects.filter(email__in=[e for e, _, _ in DEMO_USERS]).order_by("id"))
        sales = load_sales_demo(
            rng=random.Random(SEED), users=users, companies=list(Company.objects.order_by("id")),
            contacts=list(Contact.objects.order_by("id")),
        )
        # Activities on top: a year of calls, emails, notes and meetings, open tasks and this week's meetings.
        from kith.activities.demo import load_activities_demo

        activities = load_activities_demo(
            rng=random.Random(SEED), users=users,
            contacts=list(Contact.objects.select_related("company", "owner").order_by("id")),
        )
    return {**stats, "sales": sales, "activities": activities, "password": password, "login": read_login()}
