"""Analytics data kept in the app's own tables (the ``dw`` schema is built by migrations)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from inventory.models import Product, QuantityField
from warehouse.models import TenantOwned, Warehouse


def _reference(to, **kwargs) -> models.ForeignKey:
    """A reference to another tenant table; the database key is composite."""
    return models.ForeignKey(
        to, on_delete=models.CASCADE, db_constraint=False, db_index=False, **kwargs
    )


class ReorderRule(TenantOwned):
    """When to reorder a product in a warehouse: below the reorder point, the reorder quantity.

    One rule per product and warehouse; a disabled rule is kept but not
    reported on. The low-stock report compares available stock with the
    reorder point.
    """

    product = _reference(Product, related_name="+")
    warehouse = _reference(Warehouse, related_name="+")
    reorder_point = QuantityField()
    reorder_quantity = QuantityField()
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id", "warehouse_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="reorderrule_tenant_id_key"),
            models.UniqueConstraint(
                fields=["tenant", "product", "warehouse"],
                name="reorderrule_tenant_product_warehouse_key",
            ),
            models.CheckConstraint(
                condition=Q(reorder_point__gte=0), name="reorderrule_point_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(reorder_quantity__gt=0), name="reorderrule_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"reorder product {self.product_id} in warehouse {self.warehouse_id}"
