"""``dw.current_stock_mv``: stock per tenant, product and warehouse, and the app's one way to read it.

What each row holds (the numbers of ``inventory_stock_rows``, migration
``inventory/0018``, computed for every tenant at once): ``on_hand``,
``reserved``, ``available`` (approved lots not expired today, less what is
reserved of them, plus what overdue holds still keep of them),
``quarantined``, ``rejected``, ``expired`` and ``value`` (on hand at each
lot's unit cost). "Today" and "now" are those of the refresh, in the
refreshing session's time zone (``analytics.dw.refresh_current_stock`` sets
the site's ``TIME_ZONE``, the day ``stock_summary`` uses).

Who owns what, and why:

* A materialized view has no row-level security, and its query runs as its
  owner at every refresh. The owner role is under the tenant policies
  (``FORCE ROW LEVEL SECURITY``) and would see no rows, so the view belongs
  to ``stockyard_search`` (NOLOGIN, BYPASSRLS; the owner may ``SET ROLE`` to
  it but does not inherit it), which gets ``SELECT`` on just the columns the
  query reads.
* The app role gets nothing on the view itself. It reads through
  ``dw.current_stock(warehouse)``, a ``SECURITY DEFINER`` function of the
  same role with a pinned ``search_path``, returning only the rows whose
  ``tenant_id`` equals the tenant policies' own expression: with no tenant
  context that is NULL and the function returns nothing (fail closed).
  ``EXECUTE`` is granted to the app role alone.
* The maintenance role refreshes it (``MAINTAIN``, PostgreSQL 17+): the
  narrow cross-tenant path of jobs.

The unique index on ``(tenant_id, product_id, warehouse_id)`` is what lets
``REFRESH ... CONCURRENTLY`` run without blocking readers.
"""

from django.db import migrations

from config.database import ROLE_NAMES, SEARCH_ROLE
from warehouse.rls import CURRENT_TENANT

APP = ROLE_NAMES["app"]
MAINTENANCE = ROLE_NAMES["maintenance"]

# Every column the view's query reads, per table.
READS = {
    "public.inventory_balance": "tenant_id, lot_id, product_id, warehouse_id, on_hand, reserved",
    "public.inventory_lot": "tenant_id, id, qc_status, expires_on, unit_cost",
    "public.inventory_reservation": "tenant_id, id, status, expires_at, warehouse_id",
    "public.inventory_reservationline": "tenant_id, id, reservation_id, product_id",
    "public.inventory_allocation": "tenant_id, reservation_id, line_id, lot_id, quantity",
}
LOT_AVAILABLE = "public.inventory_lot_available(text, date, date)"

# Qualified names throughout: a refresh runs with a restricted search_path.
VIEW = """
CREATE MATERIALIZED VIEW dw.current_stock_mv AS
WITH stock AS (
    SELECT balance.tenant_id, balance.product_id, balance.warehouse_id,
           balance.on_hand, balance.reserved, lot.qc_status, lot.unit_cost,
           public.inventory_lot_available(lot.qc_status, lot.expires_on, current_date)
               AS is_available
      FROM public.inventory_balance AS balance
      JOIN public.inventory_lot AS lot
        ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
), totals AS (
    SELECT tenant_id, product_id, warehouse_id,
           sum(on_hand) AS on_hand,
           sum(reserved) AS reserved,
           coalesce(sum(on_hand - reserved) FILTER (WHERE is_available), 0.000) AS available,
           coalesce(sum(on_hand) FILTER (WHERE qc_status = 'QUARANTINE'), 0.000) AS quarantined,
           coalesce(sum(on_hand) FILTER (WHERE qc_status = 'REJECTED'), 0.000) AS rejected,
           coalesce(sum(on_hand - reserved) FILTER (
               WHERE qc_status = 'APPROVED' AND NOT is_available), 0.000) AS expired,
           sum(on_hand * unit_cost) AS value
      FROM stock
     GROUP BY tenant_id, product_id, warehouse_id
), overdue AS (
    -- What open reservations past their expiry still hold of available lots
    -- counts as available, not reserved, as in ``inventory_stock_rows``.
    SELECT reservation.tenant_id, line.product_id, reservation.warehouse_id,
           sum(allocation.quantity) AS held
      FROM public.inventory_reservation AS reservation
      JOIN public.inventory_reservationline AS line
        ON line.tenant_id = reservation.tenant_id AND line.reservation_id = reservation.id
      JOIN public.inventory_allocation AS allocation
        ON allocation.tenant_id = reservation.tenant_id
       AND allocation.reservation_id = reservation.id
       AND allocation.line_id = line.id
      JOIN public.inventory_lot AS lot
        ON lot.tenant_id = allocation.tenant_id AND lot.id = allocation.lot_id
     WHERE reservation.status = 'OPEN'
       AND reservation.expires_at IS NOT NULL
       AND reservation.expires_at <= now()
       AND public.inventory_lot_available(lot.qc_status, lot.expires_on, current_date)
     GROUP BY reservation.tenant_id, line.product_id, reservation.warehouse_id
)
SELECT totals.tenant_id, totals.product_id, totals.warehouse_id, totals.on_hand,
       totals.reserved - coalesce(overdue.held, 0) AS reserved,
       totals.available + coalesce(overdue.held, 0) AS available,
       totals.quarantined, totals.rejected, totals.expired, totals.value
  FROM totals
  LEFT JOIN overdue
    ON overdue.tenant_id = totals.tenant_id
   AND overdue.product_id = totals.product_id
   AND overdue.warehouse_id = totals.warehouse_id
WITH DATA
"""

ACCESS = f"""
CREATE FUNCTION dw.current_stock(p_warehouse bigint DEFAULT NULL)
RETURNS TABLE (
    product_id bigint, warehouse_id bigint, on_hand numeric, reserved numeric,
    available numeric, quarantined numeric, rejected numeric, expired numeric, value numeric
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT stock.product_id, stock.warehouse_id, stock.on_hand, stock.reserved,
           stock.available, stock.quarantined, stock.rejected, stock.expired, stock.value
      FROM dw.current_stock_mv AS stock
     WHERE stock.tenant_id = {CURRENT_TENANT}
       AND (p_warehouse IS NULL OR stock.warehouse_id = p_warehouse);
END
"""

ACCESS_SIGNATURE = "dw.current_stock(bigint)"

# The search role may create in dw only while this migration makes its objects.
CREATE = [
    *(f"GRANT SELECT ({columns}) ON {table} TO {SEARCH_ROLE}" for table, columns in READS.items()),
    f"GRANT EXECUTE ON FUNCTION {LOT_AVAILABLE} TO {SEARCH_ROLE}",
    f"GRANT USAGE, CREATE ON SCHEMA dw TO {SEARCH_ROLE}",
    f"SET LOCAL ROLE {SEARCH_ROLE}",
    VIEW,
    "CREATE UNIQUE INDEX current_stock_mv_key "
    "ON dw.current_stock_mv (tenant_id, product_id, warehouse_id)",
    "REVOKE ALL ON dw.current_stock_mv FROM PUBLIC",
    f"GRANT MAINTAIN ON dw.current_stock_mv TO {MAINTENANCE}",
    ACCESS,
    f"REVOKE ALL ON FUNCTION {ACCESS_SIGNATURE} FROM PUBLIC",
    f"GRANT EXECUTE ON FUNCTION {ACCESS_SIGNATURE} TO {APP}",
    "RESET ROLE",
    f"REVOKE CREATE ON SCHEMA dw FROM {SEARCH_ROLE}",
]
DROP = [
    f"SET LOCAL ROLE {SEARCH_ROLE}",
    f"DROP FUNCTION {ACCESS_SIGNATURE}",
    "DROP MATERIALIZED VIEW dw.current_stock_mv",
    "RESET ROLE",
    f"REVOKE USAGE ON SCHEMA dw FROM {SEARCH_ROLE}",
    f"REVOKE EXECUTE ON FUNCTION {LOT_AVAILABLE} FROM {SEARCH_ROLE}",
    *(
        f"REVOKE SELECT ({columns}) ON {table} FROM {SEARCH_ROLE}"
        for table, columns in READS.items()
    ),
]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_dw_schema")]

    operations = [migrations.RunSQL(sql=CREATE, reverse_sql=DROP)]
