"""The roll-up carries shipped value, and the changes per day and warehouse; a lot's cost is fixed.

* ``dw.ledger_month.shipped_value``: the month's shipped quantity of the lot
  times the lot's unit cost (NULL without a ``SHIP`` entry), so the ABC
  report sums consumption value per product without reading the lots.
* ``dw.ledger_month_product``: ``dw.ledger_month`` summed per product and
  warehouse (about half its rows: a product has several lots a month), for
  the reports that need no lot (ABC and turnover). Written by the same roll,
  from the rows it has just written.
* ``dw.ledger_day``: per tenant, local day and warehouse, the change of on
  hand (entries of every kind but ``RESERVE`` and ``RELEASE``), its value at
  lot cost, and the quantity shipped (``SHIP`` entries, positive; NULL
  without any). It is written by the same roll as ``dw.ledger_month``, in
  the same transaction and up to the same watermark
  (``dw.ledger_month_rolled.rolled_until``), so a month rolled clean holds
  both. The demand report of every product and the valuation as of a past
  day read their days from here (a few rows per day, whatever the number of
  lots).
* ``inventory_lot.unit_cost`` cannot change once the lot exists (a trigger
  refuses it): the roll-up values shipments at the cost the lot had when it
  was rolled, and stock already valued in the ledger's history must not be
  revalued behind it. Nothing in the app changes a lot's cost: a receipt
  sets it, and a lot is never received twice.

Months rolled before this migration get their shipped value from their
lots, and their days from the ledger, up to their watermark.
"""

from django.db import migrations

from config.database import ROLE_NAMES
from warehouse.rls import CURRENT_TENANT

APP = ROLE_NAMES["app"]
MAINTENANCE = ROLE_NAMES["maintenance"]

FIXED_COST = """
CREATE FUNCTION public.inventory_lot_cost_is_fixed() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'the unit cost of lot % is fixed at its receipt', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""

FORWARD = [
    "ALTER TABLE dw.ledger_month ADD COLUMN shipped_value numeric",
    """
    CREATE TABLE dw.ledger_day (
        tenant_id bigint NOT NULL,
        month date NOT NULL CHECK (extract(day FROM month) = 1),
        day date NOT NULL CHECK (date_trunc('month', day)::date = month),
        warehouse_id bigint NOT NULL,
        on_hand_change numeric NOT NULL,
        value_change numeric NOT NULL,
        shipped numeric,
        PRIMARY KEY (tenant_id, month, day, warehouse_id)
    )
    """,
    """
    CREATE TABLE dw.ledger_month_product (
        tenant_id bigint NOT NULL,
        month date NOT NULL CHECK (extract(day FROM month) = 1),
        product_id bigint NOT NULL,
        warehouse_id bigint NOT NULL,
        on_hand_change numeric NOT NULL,
        weighted_change numeric NOT NULL,
        shipped numeric,
        shipped_value numeric,
        PRIMARY KEY (tenant_id, month, product_id, warehouse_id)
    )
    """,
    "ALTER TABLE dw.ledger_month_product ENABLE ROW LEVEL SECURITY",
    f"CREATE POLICY tenant_isolation ON dw.ledger_month_product "
    f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})",
    f"GRANT SELECT ON dw.ledger_month_product TO {APP}",
    f"GRANT SELECT, INSERT, DELETE ON dw.ledger_month_product TO {MAINTENANCE}",
    "ALTER TABLE dw.ledger_day ENABLE ROW LEVEL SECURITY",
    f"CREATE POLICY tenant_isolation ON dw.ledger_day "
    f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})",
    f"GRANT SELECT ON dw.ledger_day TO {APP}",
    f"GRANT SELECT, INSERT, DELETE ON dw.ledger_day TO {MAINTENANCE}",
    # The owner fills what is rolled already: the policy is lifted for this transaction only.
    "ALTER TABLE dw.ledger_month NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE dw.ledger_month_rolled NO FORCE ROW LEVEL SECURITY",
    """
    UPDATE dw.ledger_month AS month
       SET shipped_value = month.shipped * lot.unit_cost
      FROM public.inventory_lot AS lot
     WHERE lot.tenant_id = month.tenant_id AND lot.id = month.lot_id
       AND month.shipped IS NOT NULL
    """,
    """
    INSERT INTO dw.ledger_day (tenant_id, month, day, warehouse_id,
                               on_hand_change, value_change, shipped)
    SELECT entry.tenant_id, rolled.month,
           (entry.occurred_at AT TIME ZONE settings.time_zone)::date, entry.warehouse_id,
           sum(entry.quantity), sum(entry.quantity * lot.unit_cost),
           sum(-entry.quantity) FILTER (WHERE entry.kind = 'SHIP')
      FROM dw.ledger_month_rolled AS rolled
     CROSS JOIN dw.settings AS settings
      JOIN public.inventory_ledgerentry AS entry
        ON entry.tenant_id = rolled.tenant_id
       AND entry.occurred_at >= rolled.month::timestamp AT TIME ZONE settings.time_zone
       AND entry.occurred_at < (rolled.month + interval '1 month')::timestamp
                               AT TIME ZONE settings.time_zone
       AND entry.occurred_at < rolled.rolled_until
      JOIN public.inventory_lot AS lot
        ON lot.tenant_id = entry.tenant_id AND lot.id = entry.lot_id
     WHERE entry.kind NOT IN ('RESERVE', 'RELEASE')
     GROUP BY 1, 2, 3, 4
    """,
    """
    INSERT INTO dw.ledger_month_product (tenant_id, month, product_id, warehouse_id,
                                         on_hand_change, weighted_change, shipped, shipped_value)
    SELECT tenant_id, month, product_id, warehouse_id, sum(on_hand_change),
           sum(weighted_change), sum(shipped), sum(shipped_value)
      FROM dw.ledger_month
     GROUP BY tenant_id, month, product_id, warehouse_id
    """,
    "ALTER TABLE dw.ledger_month FORCE ROW LEVEL SECURITY",
    "ALTER TABLE dw.ledger_month_product FORCE ROW LEVEL SECURITY",
    "ALTER TABLE dw.ledger_month_rolled FORCE ROW LEVEL SECURITY",
    "ALTER TABLE dw.ledger_day FORCE ROW LEVEL SECURITY",
    FIXED_COST,
    """
    CREATE TRIGGER lot_cost_is_fixed BEFORE UPDATE OF unit_cost ON public.inventory_lot
    FOR EACH ROW WHEN (OLD.unit_cost IS DISTINCT FROM NEW.unit_cost)
    EXECUTE FUNCTION public.inventory_lot_cost_is_fixed()
    """,
]

BACKWARD = [
    "DROP TRIGGER lot_cost_is_fixed ON public.inventory_lot",
    "DROP FUNCTION public.inventory_lot_cost_is_fixed()",
    "DROP TABLE dw.ledger_day",
    "DROP TABLE dw.ledger_month_product",
    "ALTER TABLE dw.ledger_month DROP COLUMN shipped_value",
]


class Migration(migrations.Migration):
    dependencies = [("analytics", "0007_dw_ledger_month_watermark")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
