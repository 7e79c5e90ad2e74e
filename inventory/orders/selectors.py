"""Reads of orders."""

from __future__ import annotations

from inventory.core.errors import OrderNotFound
from inventory.models import Order
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context


def get_order(*, tenant: Tenant, order_id: int) -> Order:
    """The order with its warehouse; ``OrderNotFound`` otherwise (also for another tenant's)."""
    with tenant_context(tenant.pk):
        order = Order.objects.select_related("warehouse").filter(pk=order_id).first()
        if order is None:
            raise OrderNotFound(f"No order {order_id}.")
        return order
