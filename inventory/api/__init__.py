"""JSON API v1 (django-ninja), mounted at ``/api/v1/`` by ``inventory.api.urls``.

``core`` holds the API itself (bearer tokens, the error envelope, the write
policy's edge ``write_endpoint``), ``schemas`` the request bodies,
``responses`` the answers, ``common`` what the routers share; each area has
one router:
``catalog`` (products), ``sites`` (warehouses and bins), ``lots`` (QC
decisions), ``movements`` (receipts, adjustments, shipments, moves, counts),
``stock`` (stock and ledger reads), ``reservations`` and ``orders``.
"""

from ninja import Swagger

from analytics import api as analytics_api
from inventory.api import catalog, lots, movements, orders, reservations, sites, stock
from inventory.api.common import MAX_PAGE_SIZE
from inventory.api.core import BearerToken, StockyardAPI, install_error_handlers

api = StockyardAPI(
    title="Stockyard API",
    version="1",
    description=(
        "Stock ledger API. Authenticate with `Authorization: Bearer <token>` "
        "(`manage.py create_api_token <tenant-slug> <name>`). State-changing calls accept "
        "an `Idempotency-Key` header; every write answers `503 CONTENTION` with "
        "`Retry-After` when contention outlasts their retries, and any call answers "
        "`503 DATABASE_UNAVAILABLE` with `Retry-After` while the database cannot be reached. "
        "Quantities are sent as JSON numbers or decimal strings (ASCII digits) and returned as "
        "decimal strings. SKUs and codes are ASCII letters, digits and `. _ / -`. Bodies "
        "above the upload limit answer `413 PAYLOAD_TOO_LARGE`. Every error, on every path "
        'under `/api/`, is `{"error": {"code", "message"}}`. '
        f"Lists are paginated with `limit` (at most {MAX_PAGE_SIZE}) and `offset`."
    ),
    urls_namespace="api-v1",
    auth=BearerToken(),
    docs=Swagger(),
)
install_error_handlers(api)
for area in (catalog, sites, movements, lots, stock, reservations, orders):
    api.add_router("/", area.router)
api.add_router("/", analytics_api.router)
