"""The scan box of every page and what the forms' scanner script asks the server.

``scan`` (GET ``?code=``): one match opens its page; several are listed;
none says so. ``scan_parse`` (GET ``?code=``): the fields a scan fills on a
form, as JSON, for ``static/js/floor.js``. Both only read, in the member's
tenant context (row-level security: another tenant's codes find nothing).
"""

from __future__ import annotations

from django import forms
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from inventory.scanning.gs1 import MAX_SCAN_LENGTH
from inventory.scanning.resolve import Scan, ScanTooLong, resolve_scan
from inventory.templatetags.stock import quantity as plain_quantity
from inventory.web.access import can_trace
from warehouse.access import member_required

# Where one match of each kind opens: (URL name, its argument). The pages
# belong to their areas; this is the one place the scan box names them.
SCAN_TARGETS = {
    "product": ("inventory:product", "product_id"),
    "bin": ("inventory:bin", "location_id"),
    "lot": ("inventory:lot", "lot_id"),
}


class ScanForm(forms.Form):
    # Not stripped by the field: a GS1 label may end in a separator; resolve trims.
    code = forms.CharField(max_length=MAX_SCAN_LENGTH, strip=False, required=False)


def target_url(kind: str, row, membership) -> str:
    """The page of one match; a lot opens its product for those who do not trace lots."""
    if kind == "lot" and not can_trace(membership):
        kind, row = "product", row.product
    url_name, argument = SCAN_TARGETS[kind]
    return reverse(url_name, kwargs={argument: row.pk})


def _only_match(scan: Scan):
    """The (kind, row) a scan names without doubt, or None."""
    if scan.kind == "gs1":
        if scan.lot is not None:
            return "lot", scan.lot
        if scan.product is not None:
            return "product", scan.product
        return None
    return scan.matches[0] if len(scan.matches) == 1 else None


@member_required
def scan(request):
    """Open what a scanned or typed code names; list several; say when nothing matches."""
    form = ScanForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "code": "", "problem": form.errors["code"][0]}
        return render(request, "inventory/scan.html", context, status=400)
    code = form.cleaned_data["code"]
    if not code.strip():
        return render(request, "inventory/scan.html", {"form": form, "code": ""})
    found = resolve_scan(code)
    only = _only_match(found)
    if only is not None:
        return redirect(target_url(*only, request.membership))
    rows = [
        {"kind": kind, "row": row, "url": target_url(kind, row, request.membership)}
        for kind, row in found.matches
    ]
    context = {"form": form, "code": code.strip(), "scan": found, "rows": rows}
    return render(request, "inventory/scan.html", context, status=200 if rows else 404)


def _fields_of(scan: Scan) -> dict:
    fields = {"sku": None, "lot_code": None, "expires_on": None, "quantity": None, "bin": None}
    if scan.gs1 is not None:
        gs1 = scan.gs1
        fields.update(
            lot_code=gs1.lot,
            expires_on=gs1.expires_on.isoformat() if gs1.expires_on else None,
            quantity=plain_quantity(gs1.quantity) if gs1.quantity is not None else None,
        )
        if scan.product is not None:
            fields["sku"] = scan.product.sku
    elif scan.kind == "product" and scan.product is not None:
        fields["sku"] = scan.product.sku
    elif scan.kind == "lot" and scan.lot is not None:
        lot = scan.lot
        fields.update(
            sku=lot.product.sku,
            lot_code=lot.code,
            expires_on=lot.expires_on.isoformat() if lot.expires_on else None,
        )
    elif scan.kind == "bin":
        fields["bin"] = scan.locations[0].code
    return fields


def _message_of(scan: Scan, fields: dict) -> str:
    if scan.problem:
        return scan.problem
    if scan.kind == "unknown":
        return f"Nothing found for {scan.text!r}." if scan.text else "Nothing was scanned."
    if scan.kind in ("product", "lot") and fields["sku"] is None:
        return f"{scan.text!r} names several {scan.kind}s; scan the product's SKU."
    read = [
        f"{label} {fields[name]}"
        for label, name in (
            ("SKU", "sku"),
            ("lot", "lot_code"),
            ("expiry", "expires_on"),
            ("quantity", "quantity"),
            ("bin", "bin"),
        )
        if fields[name]
    ]
    message = "Read " + ", ".join(read) + "."
    if scan.gs1 is not None and scan.gs1.is_ambiguous:
        message += " The label came without separators: check the lot and the quantity."
    return message


@member_required
def scan_parse(request):
    """What a scan fills on a form, as JSON: 200 (kind "unknown" when nothing), 400 if over-long.

    ``is_good`` says whether the scan filled what it should: a GS1 label of a
    product not in the catalog still gives its lot, expiry and quantity, but
    not the product, so it is not good.
    """
    code = request.GET.get("code", "")
    try:
        found = resolve_scan(code)
    except ScanTooLong as error:
        return JsonResponse({"error": {"code": error.code, "message": error.message}}, status=400)
    fields = _fields_of(found)
    is_good = not found.problem and (fields["sku"] is not None or fields["bin"] is not None)
    return JsonResponse(
        {"kind": found.kind, **fields, "is_good": is_good, "message": _message_of(found, fields)}
    )
