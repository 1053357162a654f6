from django.conf import settings

import kith as kith_pkg


def kith(request):
    return {"kith_version": kith_pkg.__version__, "kith_debug": settings.DEBUG}
