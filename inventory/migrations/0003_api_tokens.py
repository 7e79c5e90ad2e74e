"""API tokens: tenant-bound, only the SHA-256 of the secret stored.

Besides the tenant policy, ``token_lookup`` lets a transaction read the one
token whose hash it names in ``app.api_token_hash``: a request's bearer token
is resolved before its tenant is known, and nothing else becomes visible.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from warehouse.rls import tenant_table


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_product_search_vector"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "prefix",
                    models.CharField(
                        help_text="Start of the secret, to recognise it.", max_length=12
                    ),
                ),
                ("secret_hash", models.CharField(max_length=64, unique=True)),
                ("scopes", models.JSONField(blank=True, default=list)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
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
                "verbose_name": "API token",
                "ordering": ["name"],
            },
        ),
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.UniqueConstraint(
                fields=("tenant", "id"), name="apitoken_tenant_id_key"
            ),
        ),
        tenant_table("inventory_apitoken"),
        migrations.RunSQL(
            sql=(
                "CREATE POLICY token_lookup ON inventory_apitoken FOR SELECT "
                "USING (secret_hash = nullif(current_setting('app.api_token_hash', true), ''))"
            ),
            reverse_sql="DROP POLICY token_lookup ON inventory_apitoken",
        ),
    ]
