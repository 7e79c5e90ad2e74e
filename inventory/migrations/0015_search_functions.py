"""Product search and attribute filters that can use their indexes under row-level security.

Why: as the runtime role, PostgreSQL evaluates the tenant policy before any
condition whose function is not LEAKPROOF, so ``search_vector @@ query``
(``ts_match_vq``) and ``attributes @> filter`` (``jsonb_contains``) were
filters over every product of the tenant; their GIN indexes were never used.
Marking those functions LEAKPROOF would need a superuser and is not true of
them (they raise errors on some inputs, which is exactly the leak the flag
rules out).

What: two SQL functions, owned by ``stockyard_search`` (NOLOGIN, BYPASSRLS,
see ``warehouse.provisioning``), each ``SECURITY DEFINER`` with a pinned
``search_path``:

* ``inventory_product_search(query text, max_rows int)`` -> ``product_id``;
* ``inventory_product_attribute_match(wanted jsonb, max_rows int)`` ->
  ``product_id``.

Inside them row-level security does not apply, so the GIN indexes serve the
match; the selectors then read the products themselves as the app role with
``id = ANY(ARRAY(SELECT product_id FROM ...))`` (``int8eq``, LEAKPROOF, an
index condition on the primary key), still under the tenant policy.

Why they cannot leak another tenant's rows:

* what they return is only product ids, and only of rows whose ``tenant_id``
  equals ``nullif(current_setting('app.tenant_id', true), '')::bigint`` -
  the very expression of the tenant policy, read from the caller's
  transaction. With no tenant context it is NULL, ``tenant_id = NULL`` is
  never true, and they return nothing (fail closed);
* the caller gains no right it lacked: the app role sets ``app.tenant_id``
  itself, and under the policy it could already read every row of that
  tenant. The outer query reads the rows again under the policy anyway, so
  even a wrong id would show nothing;
* the only values they compute from other tenants' rows are index matches,
  which never reach the caller: no row value is in any result, error or
  notice (``@@`` and ``@>`` on stored values raise no data-dependent errors;
  errors from parsing the query come from the caller's own text). What is
  left is timing: how long a match takes depends on how many rows of all
  tenants the index holds for the words, as for any shared index;
* the role owning them can log in nowhere and holds only ``SELECT`` on the
  columns the functions read; ``EXECUTE`` is granted to the app role alone.
"""

from django.db import migrations

from config.database import ROLE_NAMES, SEARCH_ROLE
from warehouse.rls import CURRENT_TENANT

APP = ROLE_NAMES["app"]
READ_COLUMNS = "id, tenant_id, sku, is_active, search_vector, attributes"
# The most rows one call returns, whatever the caller asks for.
MAX_ROWS = 1000

# PL/pgSQL ``EXECUTE ... USING`` plans each call for the values given: a plan
# cached for any query could not tell a rare word (the GIN index) from a common
# one, and a cached SQL-function plan took a sequential scan for both.
SEARCH = f"""
CREATE FUNCTION public.inventory_product_search(query text, max_rows integer)
RETURNS TABLE (product_id bigint)
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER ROWS 50
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
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
    $query$ USING query, max_rows;
END
$function$
"""

ATTRIBUTES = f"""
CREATE FUNCTION public.inventory_product_attribute_match(wanted jsonb, max_rows integer)
RETURNS TABLE (product_id bigint)
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER ROWS 50
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
    RETURN QUERY EXECUTE $query$
        SELECT product.id
          FROM public.inventory_product AS product
         WHERE product.tenant_id = {CURRENT_TENANT}
           AND product.is_active
           AND product.attributes @> $1
         ORDER BY product.sku
         LIMIT least(greatest($2, 0), {MAX_ROWS})
    $query$ USING wanted, max_rows;
END
$function$
"""

SIGNATURES = [
    "public.inventory_product_search(text, integer)",
    "public.inventory_product_attribute_match(jsonb, integer)",
]

# The search role may create in the schema only while this migration makes
# its functions; the owner acts as it through SET ROLE (it does not inherit it).
# A database provisioned before this role existed: say what to do.
REQUIRE_ROLE = f"""
DO $check$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SEARCH_ROLE}') THEN
        RAISE EXCEPTION 'Role {SEARCH_ROLE} is missing: run manage.py provision_db, then migrate.';
    END IF;
END $check$
"""

CREATE = [
    REQUIRE_ROLE,
    f"GRANT SELECT ({READ_COLUMNS}) ON public.inventory_product TO {SEARCH_ROLE}",
    f"GRANT CREATE ON SCHEMA public TO {SEARCH_ROLE}",
    f"SET LOCAL ROLE {SEARCH_ROLE}",
    SEARCH,
    ATTRIBUTES,
    *(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC" for signature in SIGNATURES),
    *(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP}" for signature in SIGNATURES),
    "RESET ROLE",
    f"REVOKE CREATE ON SCHEMA public FROM {SEARCH_ROLE}",
]
DROP = [
    f"SET LOCAL ROLE {SEARCH_ROLE}",
    *(f"DROP FUNCTION {signature}" for signature in SIGNATURES),
    "RESET ROLE",
    f"REVOKE SELECT ({READ_COLUMNS}) ON public.inventory_product FROM {SEARCH_ROLE}",
]


class Migration(migrations.Migration):
    dependencies = [("inventory", "0014_lookup_keys")]

    operations = [migrations.RunSQL(sql=CREATE, reverse_sql=DROP)]
