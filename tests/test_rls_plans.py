"""Lookups and searches use their indexes as the runtime role under row-level security.

PostgreSQL lets only LEAKPROOF conditions into an index scan ahead of the
tenant policy. Each test here runs a real selector as the app role in a tenant
context, captures the SQL it sent, and reads its ``EXPLAIN (FORMAT JSON)``
plan: the wanted key must be an index condition, never a filter such as
``lower(sku) = ...`` or ``search_vector @@ ...`` over every row of the tenant.
"""

import json

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from config.database import ROLE_NAMES, SEARCH_ROLE
from inventory.catalog.selectors import (
    get_location_by_code,
    get_product_by_sku,
    get_warehouse_by_code,
    products_with_attributes,
    search_products,
)
from inventory.core.errors import LotNotFound, ProductNotFound, WarehouseNotFound
from inventory.lots.selectors import get_lot_by_code
from inventory.stock.selectors import stock_rows
from tests.conftest import make_site
from warehouse.tenancy import tenant_context

# Committed rows, so that the owner can VACUUM ANALYZE them: the planner then sees a
# catalog with statistics, as in production.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])

PRODUCTS_PER_TENANT = 2000

# Every product has a name and attributes; product 7 of each tenant is a
# "turbine", so both tenants hold rows with the same words.
_PRODUCTS = """
INSERT INTO inventory_product (tenant_id, sku, name, uom, qc_required, unit_cost, attributes,
                               is_active, created_at)
SELECT %(tenant)s, %(prefix)s || lpad(n::text, 5, '0'),
       CASE WHEN n = 7 THEN 'Turbine blade' ELSE 'Widget number ' || n END,
       'ea', false, 1.50,
       jsonb_build_object('colour', CASE WHEN n = 7 THEN 'ultramarine' ELSE 'grey' END,
                          'size', n %% 10),
       true, now()
  FROM generate_series(1, %(count)s) AS n
"""

_LOTS = """
INSERT INTO inventory_lot (tenant_id, product_id, code, expires_on, received_at, unit_cost,
                           qc_status, qc_at, qc_note)
SELECT %(tenant)s, id, 'Lot-' || id, NULL, now(), 1.50, 'APPROVED', now(), ''
  FROM inventory_product
"""


def load_catalog(tenant, prefix):
    with tenant_context(tenant.id), connection.cursor() as cursor:
        cursor.execute(
            _PRODUCTS, {"tenant": tenant.id, "prefix": prefix, "count": PRODUCTS_PER_TENANT}
        )
        cursor.execute(_LOTS, {"tenant": tenant.id})


@pytest.fixture
def catalogs(tenant, other_tenant):
    load_catalog(tenant, "ACME-")
    load_catalog(other_tenant, "GLBX-")
    acme = make_site(tenant, "ACME-DC", bins=[f"A-{n:03}" for n in range(200)])
    make_site(other_tenant, "GLBX-DC", bins=[f"A-{n:03}" for n in range(200)])
    with connections["owner"].cursor() as cursor:
        # VACUUM also moves the new rows out of the GIN pending lists, as
        # autovacuum does for a catalog in use.
        cursor.execute("VACUUM ANALYZE inventory_product, inventory_lot, warehouse_location")
    return acme


def plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def explained(call):
    """Run ``call`` (in the current tenant context) and explain the last query it sent."""
    with CaptureQueriesContext(connection) as queries:
        call()
    sql = queries.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        # The tables are small here: make the plan shape the one a full
        # catalog gets, whatever the row counts.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return list(plan_nodes(plan[0]["Plan"])), sql


def scans_of(nodes, table):
    return [node for node in nodes if node.get("Relation Name") == table]


def index_conditions(nodes, table):
    """Index conditions of scans of ``table``, with those of the bitmap index scans under them."""
    conditions = []
    for scan in scans_of(nodes, table):
        conditions += [node.get("Index Cond", "") for node in plan_nodes(scan)]
        conditions.append(scan.get("Recheck Cond", ""))
    return " ".join(conditions)


def filters(nodes, table):
    return " ".join(node.get("Filter", "") for node in scans_of(nodes, table))


def test_sku_lookup_is_an_index_condition_on_the_stored_key(tenant, catalogs):
    with tenant_context(tenant.id):
        nodes, _ = explained(lambda: get_product_by_sku("acme-00042"))
    assert "sku_key" in index_conditions(nodes, "inventory_product")
    assert "lower(" not in filters(nodes, "inventory_product")


def test_warehouse_and_bin_lookups_are_index_conditions(tenant, catalogs):
    with tenant_context(tenant.id):
        warehouse = get_warehouse_by_code("acme-dc")
        nodes, _ = explained(lambda: get_warehouse_by_code("acme-dc"))
        assert "code_key" in index_conditions(nodes, "warehouse_warehouse")
        nodes, _ = explained(lambda: get_location_by_code(warehouse, "a-042"))
    assert "code_key" in index_conditions(nodes, "warehouse_location")
    assert "lower(" not in filters(nodes, "warehouse_location")


def test_lot_lookup_is_an_index_condition_on_the_stored_key(tenant, catalogs):
    with tenant_context(tenant.id):
        product = get_product_by_sku("ACME-00042")
        nodes, _ = explained(lambda: get_lot_by_code(product, f"LOT-{product.pk}"))
    assert "code_key" in index_conditions(nodes, "inventory_lot")
    assert "lower(" not in filters(nodes, "inventory_lot")


def test_full_text_search_reads_products_by_primary_key(tenant, catalogs):
    with tenant_context(tenant.id):
        nodes, sql = explained(lambda: list(search_products("turbine")))
    assert "inventory_product_search" in sql
    conditions = index_conditions(nodes, "inventory_product")
    assert "id = ANY" in conditions
    assert "@@" not in filters(nodes, "inventory_product")


def test_attribute_filter_reads_products_by_primary_key(tenant, catalogs):
    with tenant_context(tenant.id):
        nodes, sql = explained(lambda: list(products_with_attributes({"colour": "ultramarine"})))
    assert "inventory_product_attribute_match" in sql
    assert "id = ANY" in index_conditions(nodes, "inventory_product")
    assert "@>" not in filters(nodes, "inventory_product")


def explained_search_body(tenant, word, *, analyze=False):
    """Plan nodes of the installed search function's query for ``word`` in ``tenant``.

    Explained through the owner acting as the functions' role (row-level
    security off, as inside the function), with the body of the installed
    function and the values it would be given.
    """
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.proname = %s ORDER BY 1",
            ["inventory_product_search"],
        )
        body = cursor.fetchone()[0].split("$query$")[1]
        body = body.replace("$3", str(tenant.id)).replace("$2", "50").replace("$1", f"'{word}'")
        with transaction.atomic(using="owner"):
            cursor.execute(f"SET LOCAL ROLE {SEARCH_ROLE}")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.id)])
            options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
            cursor.execute(f"EXPLAIN ({options}) {body}")
            plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return list(plan_nodes(plan[0]["Plan"]))


def test_search_functions_use_their_gin_indexes(tenant, catalogs):
    """Inside the functions (row-level security off) the GIN indexes serve the match."""
    nodes = explained_search_body(tenant, "turbine")
    assert "search_vector @@" in index_conditions(nodes, "inventory_product")


def test_a_common_word_ranks_a_bounded_number_of_matches(tenant, catalogs):
    """'widget' matches 1,999 products of the tenant; at most 1,000 are read and ranked."""
    nodes = explained_search_body(tenant, "widget", analyze=True)
    ranking = [node for node in nodes if "ts_rank" in " ".join(node.get("Sort Key", []))]
    assert len(ranking) == 1
    assert ranking[0]["Plans"][0]["Actual Rows"] == 1000
    read = [node["Actual Rows"] for node in scans_of(nodes, "inventory_product")]
    assert read and max(read) <= 1000


def test_a_common_word_ranks_the_first_matches_by_sku_of_this_tenant_only(
    tenant, other_tenant, catalogs
):
    """A word in every product: the best-ranked of the first 1,000 matches by SKU.

    Each tenant has 1,999 widgets. The widget named thrice ranks best: found
    among the first 1,000 by SKU, it comes first; past them it is not ranked.
    The other tenant's products, with the same words, never appear.
    """
    renamed = {
        tenant: {"ACME-00003": "Widget widget widget", "ACME-01990": "Widget widget widget"},
        other_tenant: {sku: "Widget widget widget widget" for sku in ("GLBX-00001", "GLBX-00002")},
    }
    for owner, names in renamed.items():
        with tenant_context(owner.id), connection.cursor() as cursor:
            for sku, name in names.items():
                cursor.execute("UPDATE inventory_product SET name = %s WHERE sku = %s", [name, sku])
    with tenant_context(tenant.id):
        found = [product.sku for product in search_products("widget")]
        everything = [product.sku for product in search_products("widget", limit=1000)]
    assert len(found) == 50
    assert found[0] == "ACME-00003"
    # The rest rank alike, so by SKU; never the twice-better widgets of the other tenant.
    assert found[1:] == [f"ACME-{n:05}" for n in range(1, 53) if n not in (3, 7)][:49]
    assert "ACME-01990" not in everything
    assert sorted(everything) == [f"ACME-{n:05}" for n in range(1, 1002) if n != 7]


def test_stock_rows_by_sku_prefix_compare_the_key_by_range(tenant, catalogs):
    with tenant_context(tenant.id):
        _, sql = explained(lambda: list(stock_rows(query="acme-0004")[:25]))
    assert '"sku_key" >=' in sql
    assert "LIKE" not in sql


def test_lookups_are_case_insensitive(tenant, catalogs):
    with tenant_context(tenant.id):
        assert get_product_by_sku(" acme-00042 ").sku == "ACME-00042"
        assert get_warehouse_by_code("Acme-Dc").code == "ACME-DC"


def test_a_code_that_only_python_lowers_to_ascii_matches_nothing(tenant, catalogs):
    """The Kelvin sign lowers to ``k`` in Python but not in PostgreSQL: no match either way."""
    from inventory.catalog.services import create_product

    create_product(tenant=tenant, sku="KX-1", name="Kelvin probe")
    with tenant_context(tenant.id):
        assert get_product_by_sku("kx-1").sku == "KX-1"
        with pytest.raises(ProductNotFound):
            get_product_by_sku("\u212ax-1")
        with pytest.raises(ProductNotFound):
            get_product_by_sku("kx-1\x00")
        assert list(stock_rows(query="kx\x00")[:25]) == []


def test_no_tenant_context_finds_nothing(catalogs):
    with tenant_context(None):
        with pytest.raises(ProductNotFound):
            get_product_by_sku("ACME-00042")
        with pytest.raises(WarehouseNotFound):
            get_warehouse_by_code("ACME-DC")
        assert list(search_products("turbine")) == []
        assert list(products_with_attributes({"colour": "ultramarine"})) == []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM inventory_product_search('turbine | widget', 1000)"
            )
            assert cursor.fetchone()[0] == 0
            cursor.execute(
                "SELECT count(*) FROM inventory_product_attribute_match('{}'::jsonb, 1000)"
            )
            assert cursor.fetchone()[0] == 0


def test_search_never_returns_another_tenants_products(tenant, other_tenant, catalogs):
    """Both tenants hold the same words; each finds only its own products."""
    with tenant_context(tenant.id):
        found = [product.sku for product in search_products("turbine")]
        by_attribute = [
            product.sku for product in products_with_attributes({"colour": "ultramarine"})
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT array_agg(product_id) FROM inventory_product_search('widget', 1000)"
            )
            ids = cursor.fetchone()[0]
            # Under the policy only this tenant's rows are visible: every id is one of them.
            cursor.execute("SELECT count(*) FROM inventory_product WHERE id = ANY(%s)", [ids])
            visible = cursor.fetchone()[0]
    assert found == ["ACME-00007"]
    assert by_attribute == ["ACME-00007"]
    # 1,000 is the most one call returns; each of them is visible, so this tenant's.
    assert len(ids) == visible == 1000
    with tenant_context(other_tenant.id):
        assert [product.sku for product in search_products("turbine")] == ["GLBX-00007"]


def test_lot_lookup_in_another_tenant_finds_nothing(tenant, other_tenant, catalogs):
    with tenant_context(other_tenant.id):
        product = get_product_by_sku("GLBX-00001")
        code = f"LOT-{product.pk}"
    with tenant_context(tenant.id), pytest.raises(LotNotFound):
        get_lot_by_code(product, code)


def test_only_the_app_role_may_run_the_search_functions():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.proname, p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner),
                   has_function_privilege(%s, p.oid, 'EXECUTE'),
                   has_function_privilege(%s, p.oid, 'EXECUTE'),
                   has_function_privilege(%s, p.oid, 'EXECUTE')
              FROM pg_proc p
             WHERE p.proname IN ('inventory_product_search', 'inventory_product_attribute_match')
             ORDER BY 1
            """,
            [ROLE_NAMES["app"], ROLE_NAMES["maintenance"], ROLE_NAMES["owner"]],
        )
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT rolcanlogin, rolbypassrls, rolsuper FROM pg_roles WHERE rolname = %s",
            [SEARCH_ROLE],
        )
        search_role = cursor.fetchone()
    assert [row[0] for row in rows] == [
        "inventory_product_attribute_match",
        "inventory_product_search",
    ]
    for _, is_definer, config, owner, app, maintenance, table_owner in rows:
        assert is_definer and owner == SEARCH_ROLE
        assert config == ["search_path=pg_catalog, pg_temp"]
        assert (app, maintenance, table_owner) == (True, False, False)
    assert search_role == (False, True, False)
