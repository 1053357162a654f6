"""/api/v1/products: the product catalogue. Everyone reads it; admins and managers change it."""

from __future__ import annotations

from django.db.models import Q
from django.db.models.functions import Lower
from django.http import HttpRequest
from ninja import Query, Router, Status

from kith.core.pagination import Ordering
from kith.sales import services
from kith.sales.models import Product

from . import common, errors
from .auth import settings_auth
from .sales_schemas import ProductIn, ProductOut, ProductPage, product_dict
from .schemas import with_errors

router = Router(tags=["products"])
NAME_ORDERING = Ordering("name", (Lower("name"),))


@router.get("", response=with_errors({200: ProductPage}, errors.LIST), operation_id="list_products",
            summary="List products", description="By name. Follow `next_cursor` for the next page.")
def list_products(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200, description=common.LIMIT_DESCRIPTION),
    cursor: str | None = Query(None, description=common.CURSOR_DESCRIPTION),
    q: str | None = Query(None, description="Part of the name or SKU."),
    active: bool | None = Query(None, description="true for active products only, false for deactivated ones"),
):
    qs = Product.objects.all()
    if q and q.strip():
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(sku__icontains=q.strip()))
    if active is not None:
        qs = qs.filter(active=active)
    rows, next_cursor = common.page(qs, ordering=NAME_ORDERING, descending=False, cursor=cursor, limit=limit)
    return {"items": [product_dict(p) for p in rows], "next_cursor": next_cursor}


@router.post("", response=with_errors({201: ProductOut}, errors.CREATE), operation_id="create_product",
             summary="Create a product (admins and managers)", auth=settings_auth)
def create_product(request: HttpRequest, payload: ProductIn):
    product = services.create_product(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return Status(201, product_dict(product))


@router.get("/{int:id}", response=with_errors({200: ProductOut}, errors.READ), operation_id="get_product",
            summary="Get a product")
def get_product(request: HttpRequest, id: int):
    return product_dict(Product.objects.get(pk=id))


@router.patch("/{int:id}", response=with_errors({200: ProductOut}, (400, 401, 403, 404, 422)),
              operation_id="update_product", summary="Change a product (admins and managers)",
              description="Price changes apply to new line items; existing deals and quotes keep theirs.",
              auth=settings_auth)
def update_product(request: HttpRequest, id: int, payload: ProductIn):
    product = services.update_product(actor=request.auth, product=Product.objects.get(pk=id),
                                      data=payload.model_dump(exclude_unset=True))
    return product_dict(product)


@router.delete("/{int:id}", response=with_errors({204: None}, (401, 403, 404)), operation_id="delete_product",
               summary="Deactivate a product (admins and managers)",
               description="Products are never removed: deals and quotes that use one keep it. A deactivated "
               "product is no longer offered for new line items; PATCH {\"active\": true} brings it back.",
               auth=settings_auth)
def delete_product(request: HttpRequest, id: int):
    services.deactivate_product(actor=request.auth, product=Product.objects.get(pk=id))
    return Status(204, None)
