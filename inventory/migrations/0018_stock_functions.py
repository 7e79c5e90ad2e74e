"""Stock numbers defined once, in the database, and a stock read in one statement.

Why: the stock read of the API built two ORM aggregates per request (most of
its CPU was Django compiling them) and the screens repeated the same sums in
another shape. Now one SQL function says what on hand, reserved, available,
quarantined, rejected and expired mean, and every reader uses it.

What (``SECURITY INVOKER``, under the tenant policies like any query):

* ``inventory_stock_rows(products, warehouse, today, now)``: per product and
  warehouse (``products`` NULL: every product; ``warehouse`` NULL: every
  warehouse). Available counts lots ``inventory_lot_available`` on ``today``,
  less what is reserved of them; expired counts approved lots past their
  expiry, less what is still reserved of them; what open reservations past
  their expiry (at ``now``) still hold of available lots counts as available,
  not reserved: the next allocation, or the sweep, releases it. The parts add
  up: ``on_hand = available + reserved + quarantined + rejected + expired``.
* ``inventory_stock_summary(products, warehouse, today, now)``: those rows
  summed, what ``stock_summary`` and the API's stock read answer.
* ``inventory_api_stock(tenant, request, time_zone)``: ``GET /api/v1/stock``
  whole: the tenant context, the SKU and warehouse by their stored keys, the
  sums, the answer as JSON; refusals as SQLSTATE ``SY001`` (migration 0017).
"""

from django.db import migrations

from config.database import ROLE_NAMES

APP = ROLE_NAMES["app"]

CREATE = r"""
CREATE FUNCTION public.inventory_stock_rows(
    p_products bigint[], p_warehouse bigint, p_today date, p_now timestamptz
) RETURNS TABLE (
    product_id bigint, warehouse_id bigint, on_hand numeric, reserved numeric,
    available numeric, quarantined numeric, rejected numeric, expired numeric
)
LANGUAGE plpgsql STABLE
-- Planned once per connection: the plan does not depend on the values, and
-- planning these queries anew cost as much as running them.
SET plan_cache_mode = force_generic_plan
AS $$
-- PL/pgSQL so the query is planned once per connection with the products as
-- an array parameter: an index condition on the balances, and the overdue
-- holds found from the partial index of open reservations with an expiry.
DECLARE
    v_products bigint[] := p_products;
BEGIN
    IF v_products IS NULL THEN
        v_products := ARRAY(
            SELECT DISTINCT balance.product_id FROM public.inventory_balance AS balance
             WHERE p_warehouse IS NULL OR balance.warehouse_id = p_warehouse);
    END IF;
    RETURN QUERY
    WITH totals AS (
        SELECT balance.product_id, balance.warehouse_id,
               sum(balance.on_hand) AS on_hand,
               sum(balance.reserved) AS reserved,
               coalesce(sum(balance.on_hand - balance.reserved) FILTER (
                   WHERE public.inventory_lot_available(lot.qc_status, lot.expires_on, p_today)),
                   0.000) AS available,
               coalesce(sum(balance.on_hand) FILTER (WHERE lot.qc_status = 'QUARANTINE'),
                   0.000) AS quarantined,
               coalesce(sum(balance.on_hand) FILTER (WHERE lot.qc_status = 'REJECTED'),
                   0.000) AS rejected,
               coalesce(sum(balance.on_hand - balance.reserved) FILTER (
                   WHERE lot.qc_status = 'APPROVED'
                     AND NOT public.inventory_lot_available(lot.qc_status, lot.expires_on, p_today)),
                   0.000) AS expired
          FROM public.inventory_balance AS balance
          JOIN public.inventory_lot AS lot
            ON lot.tenant_id = balance.tenant_id AND lot.id = balance.lot_id
         WHERE balance.product_id = ANY(v_products)
           AND (p_warehouse IS NULL OR balance.warehouse_id = p_warehouse)
         GROUP BY balance.product_id, balance.warehouse_id
    ), overdue AS (
        SELECT line.product_id, reservation.warehouse_id, sum(allocation.quantity) AS held
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
           AND reservation.expires_at <= p_now
           AND public.inventory_lot_available(lot.qc_status, lot.expires_on, p_today)
           AND line.product_id = ANY(v_products)
           AND (p_warehouse IS NULL OR reservation.warehouse_id = p_warehouse)
         GROUP BY line.product_id, reservation.warehouse_id
    )
    SELECT totals.product_id, totals.warehouse_id, totals.on_hand,
           totals.reserved - coalesce(overdue.held, 0),
           totals.available + coalesce(overdue.held, 0),
           totals.quarantined, totals.rejected, totals.expired
      FROM totals
      LEFT JOIN overdue
        ON overdue.product_id = totals.product_id AND overdue.warehouse_id = totals.warehouse_id;
END;
$$;

-- The stock rows summed: one product's stock (or several products') in one
-- warehouse, or in all of them when ``p_warehouse`` is NULL.
CREATE FUNCTION public.inventory_stock_summary(
    p_products bigint[], p_warehouse bigint, p_today date, p_now timestamptz
) RETURNS TABLE (
    on_hand numeric, reserved numeric, available numeric, quarantined numeric,
    rejected numeric, expired numeric
)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(sum(stock.on_hand), 0.000), coalesce(sum(stock.reserved), 0.000),
           coalesce(sum(stock.available), 0.000), coalesce(sum(stock.quarantined), 0.000),
           coalesce(sum(stock.rejected), 0.000), coalesce(sum(stock.expired), 0.000)
      FROM public.inventory_stock_rows(p_products, p_warehouse, p_today, p_now) AS stock;
END;

CREATE FUNCTION public.inventory_api_stock(p_tenant bigint, p_request jsonb, p_time_zone text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
-- ``p_request``: ``{"sku_key", "sku_quoted", "warehouse_key", "warehouse_quoted"}``
-- (the warehouse ones null for every warehouse).
DECLARE
    v_now timestamptz := now();
    v_product record;
    v_warehouse_id bigint;
    v_warehouse_code text;
    v_totals record;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true),
            set_config('app.user_id', '', true);
    SELECT id, sku INTO v_product
      FROM public.inventory_product WHERE sku_key = p_request ->> 'sku_key';
    IF NOT FOUND THEN
        PERFORM public.inventory_refuse(
            'PRODUCT_NOT_FOUND', format('No product with SKU %s.', p_request ->> 'sku_quoted'));
    END IF;
    IF p_request ->> 'warehouse_quoted' IS NOT NULL THEN
        SELECT id, code INTO v_warehouse_id, v_warehouse_code
          FROM public.warehouse_warehouse WHERE code_key = p_request ->> 'warehouse_key';
        IF NOT FOUND THEN
            PERFORM public.inventory_refuse(
                'WAREHOUSE_NOT_FOUND',
                format('No warehouse with code %s.', p_request ->> 'warehouse_quoted'));
        END IF;
    END IF;
    SELECT * INTO v_totals
      FROM public.inventory_stock_summary(
               ARRAY[v_product.id], v_warehouse_id, (v_now AT TIME ZONE p_time_zone)::date, v_now);
    RETURN jsonb_build_object(
        'sku', v_product.sku,
        'warehouse', v_warehouse_code,
        'on_hand', v_totals.on_hand::text,
        'reserved', v_totals.reserved::text,
        'available', v_totals.available::text,
        'quarantined', v_totals.quarantined::text,
        'rejected', v_totals.rejected::text,
        'expired', v_totals.expired::text);
END;
$$;
"""

FUNCTIONS = (
    "public.inventory_api_stock(bigint, jsonb, text)",
    "public.inventory_stock_summary(bigint[], bigint, date, timestamptz)",
    "public.inventory_stock_rows(bigint[], bigint, date, timestamptz)",
)

GRANTS = [
    *(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC" for signature in FUNCTIONS),
    *(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP}" for signature in FUNCTIONS),
]


class Migration(migrations.Migration):
    dependencies = [("inventory", "0017_allocation_functions")]

    operations = [
        migrations.RunSQL(
            sql=[CREATE, *GRANTS],
            reverse_sql=[f"DROP FUNCTION {signature}" for signature in FUNCTIONS],
        )
    ]
