"""Reorder rules: reads and the writes the API offers to tokens with the ``write`` scope.

Each write runs inside the caller's transaction and tenant context (the API's
write policy opens both on ``default``); reads and writes name ``default``
explicitly, so a rule just written is read back from where it was written
even when reports are routed to a replica.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction

from analytics.models import ReorderRule
from inventory.catalog.selectors import get_product_by_sku, get_warehouse_by_code
from inventory.core.errors import Conflict, NotFound
from inventory.core.quantities import parse_quantity
from warehouse.models import Tenant


class ReorderRuleNotFound(NotFound):
    code = "REORDER_RULE_NOT_FOUND"
    default_message = "No such reorder rule."


class DuplicateReorderRule(Conflict):
    code = "DUPLICATE_REORDER_RULE"
    default_message = "The product already has a reorder rule in this warehouse."


def reorder_rules():
    """The tenant's rules with their product and warehouse, by SKU and warehouse code."""
    return (
        ReorderRule.objects.using(DEFAULT_DB_ALIAS)
        .select_related("product", "warehouse")
        .order_by("product__sku_key", "warehouse__code_key", "id")
    )


def get_reorder_rule(rule_id: int) -> ReorderRule:
    try:
        return reorder_rules().get(pk=rule_id)
    except ReorderRule.DoesNotExist:
        raise ReorderRuleNotFound() from None


def _levels(reorder_point: Any, reorder_quantity: Any) -> tuple:
    return (
        parse_quantity(reorder_point, allow_zero=True, what="reorder point"),
        parse_quantity(reorder_quantity, what="reorder quantity"),
    )


def create_reorder_rule(
    *,
    tenant: Tenant,
    sku: str,
    warehouse: str,
    reorder_point: Any,
    reorder_quantity: Any,
    enabled: bool = True,
) -> ReorderRule:
    """Add the rule of product ``sku`` in ``warehouse`` (one insert).

    Raises ``ProductNotFound``, ``WarehouseNotFound``, ``InvalidQuantity``
    (a negative point, a quantity that is not positive) and
    ``DuplicateReorderRule``.
    """
    # What the rule names first: an unknown product is not found, whatever the levels.
    product = get_product_by_sku(sku)
    site = get_warehouse_by_code(warehouse)
    point, quantity = _levels(reorder_point, reorder_quantity)
    try:
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            rule = ReorderRule.objects.using(DEFAULT_DB_ALIAS).create(
                tenant=tenant,
                product=product,
                warehouse=site,
                reorder_point=point,
                reorder_quantity=quantity,
                enabled=enabled,
            )
    except IntegrityError:
        raise DuplicateReorderRule() from None
    return get_reorder_rule(rule.pk)


def update_reorder_rule(
    *, rule_id: int, reorder_point: Any, reorder_quantity: Any, enabled: bool
) -> ReorderRule:
    """Set a rule's point, quantity and whether it is enabled (one conditional update).

    Raises ``ReorderRuleNotFound`` and ``InvalidQuantity``.
    """
    get_reorder_rule(rule_id)
    point, quantity = _levels(reorder_point, reorder_quantity)
    changed = (
        ReorderRule.objects.using(DEFAULT_DB_ALIAS)
        .filter(pk=rule_id)
        .update(reorder_point=point, reorder_quantity=quantity, enabled=enabled)
    )
    if not changed:
        raise ReorderRuleNotFound()
    return get_reorder_rule(rule_id)


def delete_reorder_rule(*, rule_id: int) -> None:
    """Delete a rule. Raises ``ReorderRuleNotFound``."""
    deleted, _ = ReorderRule.objects.using(DEFAULT_DB_ALIAS).filter(pk=rule_id).delete()
    if not deleted:
        raise ReorderRuleNotFound()
