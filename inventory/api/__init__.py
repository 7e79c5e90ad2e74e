"""JSON API v1 (django-ninja), mounted at ``/api/v1/`` by ``inventory.api.urls``."""

from ninja import Swagger

from inventory.api.core import BearerToken, StockyardAPI, install_error_handlers
from inventory.api.endpoints import MAX_PAGE_SIZE, router
from inventory.api.reservations import router as reservations_router

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
api.add_router("/", router)
api.add_router("/", reservations_router)
