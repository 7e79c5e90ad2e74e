"""The QC history: every approval, rejection and reversal of a lot, append-only.

Row-level security and composite tenant keys as on every tenant table; a
``BEFORE UPDATE OR DELETE`` trigger and revoked privileges keep the history
append-only. Lots decided before this migration get one ``DECISION`` row each,
from what the lot row records (tenant by tenant: the owner is under forced
row-level security too).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from config.database import ROLE_NAMES
from warehouse.rls import tenant_reference, tenant_table

USERS = f"{ROLE_NAMES['app']}, {ROLE_NAMES['maintenance']}"

FUNCTION = """
CREATE FUNCTION inventory_qcdecision_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'QC decisions are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'Record a reversal instead.';
END
$$
"""

BACKFILL = """
DO $$
DECLARE
    tenant bigint;
BEGIN
    FOR tenant IN SELECT id FROM warehouse_tenant LOOP
        PERFORM set_config('app.tenant_id', tenant::text, true);
        INSERT INTO inventory_qcdecision
            (tenant_id, lot_id, kind, previous_status, status, note,
             decided_by_id, decided_by_token_id, decided_at)
        SELECT lot.tenant_id, lot.id, 'DECISION', 'QUARANTINE', lot.qc_status, lot.qc_note,
               lot.qc_by_id, lot.qc_by_token_id, lot.qc_at
          FROM inventory_lot AS lot
          JOIN inventory_product AS product
            ON product.tenant_id = lot.tenant_id AND product.id = lot.product_id
         WHERE lot.qc_status <> 'QUARANTINE' AND lot.qc_at IS NOT NULL AND product.qc_required;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END
$$
"""


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0011_code_and_name_validators"),
        ("warehouse", "0003_row_level_security"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="QcDecision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("DECISION", "Decision"), ("REVERSAL", "Reversal")],
                        max_length=16,
                    ),
                ),
                (
                    "previous_status",
                    models.CharField(
                        choices=[
                            ("QUARANTINE", "Quarantine"),
                            ("APPROVED", "Approved"),
                            ("REJECTED", "Rejected"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("QUARANTINE", "Quarantine"),
                            ("APPROVED", "Approved"),
                            ("REJECTED", "Rejected"),
                        ],
                        max_length=16,
                    ),
                ),
                ("note", models.TextField(blank=True, default="")),
                ("decided_at", models.DateTimeField()),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "decided_by_token",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="inventory.apitoken",
                    ),
                ),
                (
                    "lot",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="qc_decisions",
                        to="inventory.lot",
                    ),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="warehouse.tenant",
                    ),
                ),
            ],
            options={
                "verbose_name": "QC decision",
                "ordering": ["-decided_at", "-id"],
                "indexes": [
                    models.Index(fields=["tenant", "decided_at"], name="qcdecision_recent_idx"),
                    models.Index(fields=["tenant", "lot"], name="qcdecision_lot_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "id"), name="qcdecision_tenant_id_key"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["DECISION", "REVERSAL"])),
                        name="qcdecision_kind_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("previous_status__in", ["QUARANTINE", "APPROVED", "REJECTED"]),
                            ("status__in", ["QUARANTINE", "APPROVED", "REJECTED"]),
                            models.Q(("status", models.F("previous_status")), _negated=True),
                        ),
                        name="qcdecision_changes_status",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "REVERSAL"), _negated=True),
                            models.Q(("note", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="qcdecision_reversal_has_reason",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("decided_by__isnull", True),
                            ("decided_by_token__isnull", True),
                            _connector="OR",
                        ),
                        name="qcdecision_one_actor",
                    ),
                ],
            },
        ),
        tenant_table("inventory_qcdecision"),
        tenant_reference("inventory_qcdecision", "lot_id", "inventory_lot"),
        tenant_reference("inventory_qcdecision", "decided_by_token_id", "inventory_apitoken"),
        migrations.RunSQL(
            sql=[
                FUNCTION,
                "CREATE TRIGGER qcdecision_append_only BEFORE UPDATE OR DELETE "
                "ON inventory_qcdecision FOR EACH ROW "
                "EXECUTE FUNCTION inventory_qcdecision_refuse_change()",
            ],
            reverse_sql=[
                "DROP TRIGGER qcdecision_append_only ON inventory_qcdecision",
                "DROP FUNCTION inventory_qcdecision_refuse_change()",
            ],
        ),
        migrations.RunSQL(
            sql=f"REVOKE UPDATE, DELETE, TRUNCATE ON inventory_qcdecision FROM {USERS}",
            reverse_sql=f"GRANT UPDATE, DELETE ON inventory_qcdecision TO {USERS}",
        ),
        migrations.RunSQL(sql=BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
