"""The dw schema between tests.

Its tables are not Django's, so the flush after a transactional test leaves
them; ``clean_dw`` empties them and recomputes the view before such a test.
"""

import pytest
from django.db import connections

# Every test that lets a job's connection see its data commits it.
DW_DATABASES = ["default", "maintenance", "owner"]


@pytest.fixture
def clean_dw(transactional_db):
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "TRUNCATE dw.dim_product, dw.dim_warehouse, dw.dim_customer, "
            "dw.stock_snapshot, dw.stock_out_day, dw.stock_snapshot_day, dw.refresh_log"
        )
    with connections["maintenance"].cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW dw.current_stock_mv")
