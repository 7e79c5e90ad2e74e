"""Full-text search ranks at most a bounded number of a tenant's matches.

Why: ranking needs the rank of every match, so a word found in every product
(say "widget") cost time in proportion to the tenant's catalog: 108 ms on
100,000 products against 10 ms on 1,000 (``benchmarks/results/lookups.txt``).
A GIN index led by the tenant (``btree_gin``) would not change that: it
narrows the index to the tenant's rows, but all of them still match and are
still ranked. Only bounding the rows ranked bounds the time.

What: ``inventory_product_search`` now takes the tenant's matches in SKU
order (``sku_key``, the index led by the tenant), stops after
``CANDIDATES``, and ranks only those. With at most ``CANDIDATES`` matches
nothing changes: every match is ranked, the best come first. With more, the
answer is the best-ranked among the first ``CANDIDATES`` matches by SKU:
good matches, not necessarily the best of the whole catalog. Common words
rank nearly alike anyway; a user who wants one product adds a word.

The planner picks per call (``EXECUTE ... USING`` plans for the values
given): for a common word it walks the ``(tenant_id, sku_key)`` index and
stops once it has ``CANDIDATES`` matches; for a rare one the GIN index finds
the few matches and sorts them by SKU. The tenant is now passed to the query
as a value, the same expression as before read once, so the planner also
sees which tenant, and so how many rows it has.

The security properties are those of migration 0015 and kept: the same
owner (``stockyard_search``), ``SECURITY DEFINER``, pinned ``search_path``,
``EXECUTE`` for the app role only (``CREATE OR REPLACE`` keeps owner and
grants), the tenant predicate from ``app.tenant_id`` (no context: NULL, no
rows). The search role may now also read ``sku_key``.
"""

from django.db import migrations

from config.database import SEARCH_ROLE
from warehouse.rls import CURRENT_TENANT

# At most this many matches of the tenant are ranked; it is also the most one
# call returns (``MAX_ROWS`` of 0015), so a caller can always get every row ranked.
CANDIDATES = 1000
MAX_ROWS = 1000


def search_function(body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION public.inventory_product_search(query text, max_rows integer)
RETURNS TABLE (product_id bigint)
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER ROWS 50
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
{body}
END
$function$
"""


BOUNDED = search_function(f"""
    RETURN QUERY EXECUTE $query$
        SELECT candidate.id
          FROM (SELECT product.id, product.sku, product.search_vector, wanted.words
                  FROM public.inventory_product AS product,
                       (SELECT websearch_to_tsquery('english', $1)
                               || websearch_to_tsquery('simple', $1) AS words) AS wanted
                 WHERE product.tenant_id = $3
                   AND product.is_active
                   AND product.search_vector @@ wanted.words
                 ORDER BY product.sku_key
                 LIMIT {CANDIDATES}) AS candidate
         ORDER BY ts_rank(candidate.search_vector, candidate.words) DESC, candidate.sku
         LIMIT least(greatest($2, 0), {MAX_ROWS})
    $query$ USING query, max_rows, {CURRENT_TENANT};""")

# Migration 0015's body, to go back to.
UNBOUNDED = search_function(f"""
    RETURN QUERY EXECUTE $query$
        SELECT product.id
          FROM public.inventory_product AS product,
               (SELECT websearch_to_tsquery('english', $1)
                       || websearch_to_tsquery('simple', $1) AS words) AS wanted
         WHERE product.tenant_id = {CURRENT_TENANT}
           AND product.is_active
           AND product.search_vector @@ wanted.words
         ORDER BY ts_rank(product.search_vector, wanted.words) DESC, product.sku
         LIMIT least(greatest($2, 0), {MAX_ROWS})
    $query$ USING query, max_rows;""")


def replace(body: str) -> list[str]:
    # As in 0015: the search role may create in the schema only meanwhile.
    return [
        f"GRANT CREATE ON SCHEMA public TO {SEARCH_ROLE}",
        f"SET LOCAL ROLE {SEARCH_ROLE}",
        body,
        "RESET ROLE",
        f"REVOKE CREATE ON SCHEMA public FROM {SEARCH_ROLE}",
    ]


FORWARD = [
    f"GRANT SELECT (sku_key) ON public.inventory_product TO {SEARCH_ROLE}",
    *replace(BOUNDED),
]
BACKWARD = [
    *replace(UNBOUNDED),
    f"REVOKE SELECT (sku_key) ON public.inventory_product FROM {SEARCH_ROLE}",
]


class Migration(migrations.Migration):
    dependencies = [("inventory", "0015_search_functions")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=BACKWARD)]
