"""An API client per tenant: ``acme_api`` for Acme, ``globex_api`` for Globex."""

import json

import pytest
import schemathesis
from django.test import Client
from hypothesis import strategies as st

from inventory.catalog.services import create_location, create_product, create_warehouse
from inventory.core.tokens import issue_api_token
from inventory.models import LedgerEntry
from inventory.stock.receipts import receive_stock
from tests.conftest import make_site  # noqa: F401 - shared with the API tests
from warehouse.tenancy import tenant_context
from warehouse.validators import gtin_check_digit

# The schema's "gtin" format: no pattern can say the check digit, so the fuzzer learns it here.
schemathesis.openapi.format(
    "gtin",
    st.one_of(
        st.just(""),
        st.sampled_from([7, 11, 12, 13])
        .flatmap(lambda length: st.text(alphabet="0123456789", min_size=length, max_size=length))
        .map(lambda digits: digits + str(gtin_check_digit(digits))),
    ),
)


class ApiClient:
    """``django.test.Client`` speaking JSON with a bearer token."""

    def __init__(self, secret: str | None):
        self.client = Client()
        self.secret = secret

    def _headers(self, key=None):
        headers = {}
        if self.secret is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.secret}"
        if key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        return headers

    def get(self, path, params=None):
        return self.client.get(f"/api/v1{path}", params or {}, **self._headers())

    def post(self, path, body=None, *, key=None, raw=None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            f"/api/v1{path}", data, content_type="application/json", **self._headers(key)
        )


def new_client(tenant, scopes=None):
    _, secret = issue_api_token(tenant=tenant, name="test client", scopes=scopes)
    return ApiClient(secret)


@pytest.fixture
def acme_api(tenant):
    return new_client(tenant)


@pytest.fixture
def globex_api(other_tenant):
    return new_client(other_tenant)


def ledger_count(tenant) -> int:
    with tenant_context(tenant.pk):
        return LedgerEntry.objects.count()


@pytest.fixture
def stocked(acme_api):
    """Acme: a warehouse DC1 (RECEIVING, A-01, A-02), a plain product and a QC product,
    and lot L1 of WIDGET with 10 each in RECEIVING."""
    assert acme_api.post("/warehouses", {"code": "DC1", "name": "Main"}).status_code == 201
    for code in ("A-01", "A-02"):
        response = acme_api.post("/warehouses/DC1/locations", {"code": code})
        assert response.status_code == 201, response.content
    assert acme_api.post("/products", {"sku": "WIDGET", "name": "Widget"}).status_code == 201
    response = acme_api.post(
        "/products", {"sku": "SERUM", "name": "Serum", "uom": "l", "qc_required": True}
    )
    assert response.status_code == 201
    response = acme_api.post(
        "/receipts", {"sku": "WIDGET", "warehouse": "DC1", "lot_code": "L1", "quantity": 10}
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def seeded(tenant):
    """The same stock as ``stocked``, written through the services (faster, for sweeps)."""
    warehouse = create_warehouse(tenant=tenant, code="DC1", name="Main")
    for code in ("A-01", "A-02"):
        create_location(tenant=tenant, warehouse=warehouse, code=code)
    widget = create_product(tenant=tenant, sku="WIDGET", name="Widget")
    create_product(tenant=tenant, sku="SERUM", name="Serum", uom="l", qc_required=True)
    receipt = receive_stock(
        tenant=tenant, product=widget, warehouse=warehouse, lot_code="L1", quantity=10
    )
    return {"lot_id": receipt.lot.pk, "lot_code": "L1", "sku": "WIDGET"}
