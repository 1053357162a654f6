import pytest
from django.test import Client

from kith.sales import services
from kith.sales.models import Product

pytestmark = pytest.mark.django_db

def test_smoke(admin):
    c = Client(); c.force_login(admin)
    p = services.ensure_default_pipeline()
    d = services.create_deal(actor=admin, data={"name": "Acme", "amount": "1000"})
    Product.objects.create(name="Seat", unit_price="10.00", currency="USD")
    for url in ["/deals/", f"/deals/board/{p.pk}/", "/deals/list/", f"/deals/{d.pk}/", "/deals/new/", f"/deals/{d.pk}/edit/", f"/deals/{d.pk}/move/?stage={p.stages.last().pk}", f"/deals/stage-options/?pipeline_id={p.pk}", "/deals/contact-lookup/?q=a"]:
        r = c.get(url, follow=True)
        print(url, r.status_code)
        assert r.status_code == 200, r.content.decode()[:3000]
