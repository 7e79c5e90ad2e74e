"""API tokens: issue one (the secret is shown once), resolve a bearer secret to its token.

Only the SHA-256 of a secret is stored. A secret carries 256 bits of
randomness, so a plain hash is enough (a slow password hash would add nothing
but latency to every API request).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import connection, transaction
from django.utils import timezone

from inventory.core.errors import ValidationFailed
from inventory.models import ApiToken
from warehouse.models import Tenant
from warehouse.tenancy import tenant_context

SECRET_PREFIX = "sy_"
# ``last_used_at`` is written at most this often per token: an API request
# then costs no write of its own for authentication, and the admin still
# sees when a token was last used, to the minute.
LAST_USED_RESOLUTION = datetime.timedelta(seconds=60)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(token: ApiToken) -> str:
    """Give ``token`` a fresh secret (stored as prefix and hash); return the secret."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token.prefix = secret[:10]
    token.secret_hash = hash_secret(secret)
    return secret


def issue_api_token(
    *, tenant: Tenant, name: str, scopes: list[str] | None = None, created_by=None
) -> tuple[ApiToken, str]:
    """Create a token for ``tenant``; return it with its secret (never retrievable again)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("A token needs a name of at most 100 characters.")
    token = ApiToken(tenant=tenant, name=name, scopes=list(scopes or []), created_by=created_by)
    secret = new_secret(token)
    with tenant_context(tenant.pk):
        token.save()
    return token, secret


def find_api_token(secret: str) -> ApiToken | None:
    """The live token whose secret this is, or None; also records its use.

    The token's tenant is not known yet, so the lookup runs with no tenant
    context: the ``token_lookup`` policy shows exactly the row whose hash the
    transaction names in ``app.api_token_hash``, and nothing else. The
    setting ends with the lookup's transaction; only when the lookup runs
    inside a caller's transaction is it cleared explicitly.

    ``last_used_at`` is brought up to date when it is older than
    ``LAST_USED_RESOLUTION``.
    """
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    secret_hash = hash_secret(secret)
    nested = connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.api_token_hash', %s, true)", [secret_hash])
        token = (
            ApiToken.objects.select_related("tenant")
            .filter(secret_hash=secret_hash, revoked_at__isnull=True, tenant__is_active=True)
            .first()
        )
        if nested:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.api_token_hash', '', true)")
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        with tenant_context(token.tenant_id):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
