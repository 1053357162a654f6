from django.conf import settings

import kith as kith_pkg


def _section(path: str) -> str:
    for prefix, name in (("/contacts/", "contacts"), ("/companies/", "companies"), ("/trash/", "trash"),
                         ("/settings/", "settings"), ("/search/", "search"), ("/leads/", "leads"),
                         ("/notifications/", "notifications"), ("/deals/", "deals"), ("/quotes/", "deals"),
                         ("/forecast/", "forecast"), ("/products/", "products"), ("/sales/", "settings"),
                         ("/calendar/", "calendar"), ("/tasks/", "tasks"), ("/activities/", "tasks"),
                         ("/imports/", "imports"), ("/exports/", "exports"), ("/duplicates/", "duplicates")):
        if path.startswith(prefix):
            return name
    return "home" if path == "/" else ""


def kith(request):
    return {
        "kith_version": kith_pkg.__version__,
        "kith_debug": settings.DEBUG,
        "nav_section": _section(getattr(request, "path", "") or ""),
    }
