"""Reorder rules, kept by managers: the list with its add form, editing, a toggle, deleting.

Every action is a ``write_screen`` view, as the adjustment screen is: it reads
in ``acting_for`` moments and writes through the write policy with the form's
idempotency key, so a double submit writes once. Each answers htmx in place
(422 with the refusal next to its field) and a plain form post with a
redirect and a message. Another tenant's rule is not found (404).
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from analytics.models import ReorderRule
from analytics.reports.reorder_rules import (
    DuplicateReorderRule,
    ReorderRuleNotFound,
    create_reorder_rule,
    delete_reorder_rule,
    get_reorder_rule,
    reorder_rules,
    update_reorder_rule,
)
from analytics.web.reorder_rule_forms import (
    DeleteForm,
    EditRuleForm,
    RuleFilter,
    RuleForm,
    ToggleForm,
)
from analytics.web.reorder_rule_tables import REGION, RuleTable, list_query
from inventory.core.errors import InvalidQuantity, ProductNotFound, WarehouseNotFound
from inventory.core.quantities import ZERO_QUANTITY
from inventory.core.writes import acting_for, write_form, write_idempotent, write_screen
from inventory.models import Balance, LotAvailable
from inventory.templatetags.stock import quantity
from inventory.web.tables import configure_table, render_region
from warehouse.access import role_required
from warehouse.models import Role

MANAGERS = (Role.MANAGER,)  # admins too: they hold every role
LIST_TEMPLATE = "analytics/reorder_rules/list.html"
EDIT_TEMPLATE = "analytics/reorder_rules/edit.html"
DELETE_TEMPLATE = "analytics/reorder_rules/delete.html"
ERROR_FIELDS = {
    ProductNotFound: "sku",
    WarehouseNotFound: "warehouse",
    DuplicateReorderRule: "sku",
    InvalidQuantity: "reorder_quantity",
}


def _rule_or_404(rule_id: int) -> ReorderRule:
    try:
        return get_reorder_rule(rule_id)
    except ReorderRuleNotFound:
        raise Http404("No such reorder rule.") from None


def _list_url(query: str = "") -> str:
    return reverse("analytics:reorder-rules") + query


def _rules_with_available():
    """The rules, each with what is available now of its product in its warehouse.

    Available as the stock screens count it: approved lots not expired today
    (``LotAvailable``), less what is reserved of them. One subquery per rule on
    the page, on the balances' (tenant, product, warehouse) index.
    """
    available = (
        Balance.objects.filter(
            LotAvailable(timezone.localdate(), prefix="lot__"),
            product=OuterRef("product_id"),
            warehouse=OuterRef("warehouse_id"),
        )
        .values("product")
        .annotate(total=Sum(F("on_hand") - F("reserved")))
        .values("total")
    )
    return reorder_rules().annotate(available=Coalesce(Subquery(available), ZERO_QUANTITY))


def _table(request):
    filters = RuleFilter(request.GET or None, queryset=_rules_with_available(), request=request)
    table = configure_table(request, RuleTable(filters.qs))
    if any(request.GET.get(name) for name in ("sku", "warehouse", "enabled")):
        table.empty_text = "No rules match these filters. Clear them or choose others."
    return filters, table


def _replayed(result: dict) -> str:
    return " (It was already done; nothing was changed twice.)" if result["replayed"] else ""


# -- the list and the add form --------------------------------------------------------------


def _create_rule(request, data: dict, operation) -> tuple[int, dict]:
    sku, warehouse = data["product"].sku, data["warehouse"].code
    try:
        rule = create_reorder_rule(
            tenant=request.tenant,
            sku=sku,
            warehouse=warehouse,
            reorder_point=data["reorder_point"],
            reorder_quantity=data["reorder_quantity"],
            enabled=data["enabled"],
        )
    except DuplicateReorderRule:
        raise DuplicateReorderRule(f"A rule for {sku} in {warehouse} exists: edit it.") from None
    return 201, {"rule_id": rule.pk, "sku": sku, "warehouse": warehouse}


def _create_payload(data: dict) -> dict:
    return {
        "sku": data["product"].sku,
        "warehouse": data["warehouse"].code,
        "reorder_point": str(data["reorder_point"]),
        "reorder_quantity": str(data["reorder_quantity"]),
        "enabled": data["enabled"],
    }


def _existing_rule(data: dict) -> ReorderRule | None:
    """The rule a refused add collided with, so the form can offer to edit it."""
    if data.get("product") is None or data.get("warehouse") is None:
        return None
    return ReorderRule.objects.filter(product=data["product"], warehouse=data["warehouse"]).first()


@write_screen
@role_required(*MANAGERS)
def rule_list(request):
    """Every rule (filter, sort, page) and the form that adds one."""
    result = None
    existing = None
    if request.method == "POST":
        with acting_for(request):
            form = RuleForm(request.POST)
            is_valid = form.is_valid()
        if is_valid:
            data = form.cleaned_data
            result = write_form(
                form,
                tenant=request.tenant,
                kind="reorder-rule-create",
                payload=_create_payload(data),
                perform=functools.partial(_create_rule, request, data),
                error_fields=ERROR_FIELDS,
            )
            if result is not None:
                notice = f"Reorder rule for {result['sku']} in {result['warehouse']} added."
                notice += _replayed(result)
                if not request.htmx:
                    messages.success(request, notice)
                    return redirect(_list_url())
                form = RuleForm(initial={"warehouse": data["warehouse"]})
                result["message"] = notice
            else:
                with acting_for(request):
                    existing = _existing_rule(data)
    else:
        form = RuleForm()
    with acting_for(request):
        filters, table = _table(request)
        context = {
            "form": form,
            "filters": filters,
            "table": table,
            "result": result,
            "existing": existing,
            "refresh_table": result is not None,
        }
        region = "rule-form" if request.method == "POST" else REGION
        return render_region(
            request, LIST_TEMPLATE, region, context, status=422 if form.errors else 200
        )


# -- editing ----------------------------------------------------------------------------


def _update_rule(rule_id: int, data: dict, operation) -> tuple[int, dict]:
    rule = update_reorder_rule(
        rule_id=rule_id,
        reorder_point=data["reorder_point"],
        reorder_quantity=data["reorder_quantity"],
        enabled=data["enabled"],
    )
    return 200, {"sku": rule.product.sku, "warehouse": rule.warehouse.code}


@write_screen
@role_required(*MANAGERS)
def rule_edit(request, rule_id: int):
    """A rule's reorder point and quantity, and whether it is enabled."""
    with acting_for(request):
        rule = _rule_or_404(rule_id)
        form = EditRuleForm(request.POST if request.method == "POST" else None, rule=rule)
        is_valid = request.method == "POST" and form.is_valid()
    if is_valid:
        data = form.cleaned_data
        result = write_form(
            form,
            tenant=request.tenant,
            kind="reorder-rule-update",
            payload={
                "rule_id": rule.pk,
                "reorder_point": str(data["reorder_point"]),
                "reorder_quantity": str(data["reorder_quantity"]),
                "enabled": data["enabled"],
            },
            perform=functools.partial(_update_rule, rule.pk, data),
            error_fields={InvalidQuantity: "reorder_quantity"},
        )
        if result is not None:
            messages.success(
                request,
                f"Reorder rule for {result['sku']} in {result['warehouse']}: reorder "
                f"{quantity(data['reorder_quantity'])} {rule.product.uom} below "
                f"{quantity(data['reorder_point'])} {rule.product.uom}"
                f"{'' if data['enabled'] else ' (disabled)'}.{_replayed(result)}",
            )
            url = _list_url()
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render_region(
        request,
        EDIT_TEMPLATE,
        "edit-form",
        {"rule": rule, "form": form},
        status=422 if form.errors else 200,
    )


# -- the toggle in the row ------------------------------------------------------------


def _set_enabled(rule_id: int, enabled: bool, operation) -> tuple[int, dict]:
    # Read and written in the write's one transaction: the levels stay as they are.
    rule = get_reorder_rule(rule_id)
    update_reorder_rule(
        rule_id=rule_id,
        reorder_point=rule.reorder_point,
        reorder_quantity=rule.reorder_quantity,
        enabled=enabled,
    )
    return 200, {"sku": rule.product.sku, "warehouse": rule.warehouse.code}


@write_screen
@require_POST
@role_required(*MANAGERS)
def rule_toggle(request, rule_id: int):
    """Enable or disable a rule from its row; the list comes back as it was sorted and paged."""
    with acting_for(request):
        rule = _rule_or_404(rule_id)
    form = ToggleForm(request.POST)
    error = None
    if form.is_valid():
        enabled = form.cleaned_data["enabled"]
        result = write_form(
            form,
            tenant=request.tenant,
            kind="reorder-rule-toggle",
            payload={"rule_id": rule.pk, "enabled": enabled},
            perform=functools.partial(_set_enabled, rule.pk, enabled),
            error_fields={},
        )
        if result is None:
            error = " ".join(form.non_field_errors())
    else:
        error = "Choose to enable or disable the rule."
    if not request.htmx:
        if error:
            messages.error(request, f"Not changed: {error}")
        else:
            state = "enabled" if enabled else "disabled"
            messages.success(
                request, f"Reorder rule for {rule.product.sku} in {rule.warehouse.code} {state}."
            )
        return redirect(_list_url(list_query(request)))
    with acting_for(request):
        table = _table(request)[1]
        return render(
            request,
            f"{LIST_TEMPLATE}#{REGION}",
            {"table": table, "table_error": error},
            status=422 if error else 200,
        )


# -- deleting -----------------------------------------------------------------------------


def _delete_rule(rule_id: int, operation) -> tuple[int, dict]:
    rule = get_reorder_rule(rule_id)
    delete_reorder_rule(rule_id=rule_id)
    return 200, {"sku": rule.product.sku, "warehouse": rule.warehouse.code}


@write_screen
@role_required(*MANAGERS)
def rule_delete(request, rule_id: int):
    """Asks first; deletes the rule when confirmed (the product's stock is not touched).

    A second submit of the same confirmation (its key) answers as the first
    did, though the rule is gone; any other post for a rule that is not there
    (deleted, or another tenant's) is not found.
    """
    form = DeleteForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        with acting_for(request):
            rule = _rule_or_404(rule_id)
        return render_region(
            request,
            DELETE_TEMPLATE,
            "delete-form",
            {"rule": rule, "form": form},
            status=422 if form.errors else 200,
        )
    try:
        outcome = write_idempotent(
            tenant=request.tenant,
            key=form.cleaned_data["idempotency_key"],
            kind="reorder-rule-delete",
            payload={"rule_id": rule_id},
            perform=functools.partial(_delete_rule, rule_id),
        )
    except ReorderRuleNotFound:
        raise Http404("No such reorder rule.") from None
    result = {**outcome.body, "replayed": outcome.replayed}
    messages.success(
        request,
        f"Reorder rule for {result['sku']} in {result['warehouse']} deleted." + _replayed(result),
    )
    url = _list_url()
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


urlpatterns = [
    path("reports/reorder-rules/", rule_list, name="reorder-rules"),
    path("reports/reorder-rules/<int:rule_id>/edit/", rule_edit, name="reorder-rule-edit"),
    path("reports/reorder-rules/<int:rule_id>/toggle/", rule_toggle, name="reorder-rule-toggle"),
    path("reports/reorder-rules/<int:rule_id>/delete/", rule_delete, name="reorder-rule-delete"),
]
