"""API tokens: issue one (the secret is shown once), resolve a bearer secret to its token.

Only the SHA-256 of a secret is stored. A secret carries 256 bits of
randomness, so a plain hash is enough (a slow password hash would add nothing
but latency to every API request).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets

from django.db import connection
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


_FIND = "SELECT * FROM inventory_api_token(%s)"
# The columns ``inventory_api_token`` returns, as model attributes.
_TOKEN_FIELDS = ("id", "tenant_id", "name", "prefix", "scopes", "created_at", "last_used_at")
_TENANT_FIELDS = ("slug", "name", "created_at", "refuse_expired_receipts")


def _loaded[M](model: type[M], values: dict) -> M:
    """An instance as the ORM loads one, the fields not in ``values`` deferred."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def find_api_token(secret: str) -> ApiToken | None:
    """The live token whose secret this is, with its tenant, or None; also records its use.

    The token's tenant is not known yet, so the lookup runs with no tenant
    context: the ``token_lookup`` policy shows exactly the row whose hash the
    transaction names in ``app.api_token_hash``, and nothing else. One
    statement does it all (``inventory_api_token``, migration ``0017``): it
    sets the hash, reads the token and its tenant, and clears the hash, so
    outside a transaction the lookup costs one round trip.

    ``last_used_at`` is brought up to date when it is older than
    ``LAST_USED_RESOLUTION``.
    """
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_FIND, [hash_secret(secret)])
        row = cursor.fetchone()
    if row is None:
        return None
    token_values = dict(zip(_TOKEN_FIELDS, row, strict=False))
    # Django's backend hands jsonb over as text (JSONField decodes it itself).
    token_values["scopes"] = json.loads(token_values["scopes"])
    tenant_values = dict(zip(_TENANT_FIELDS, row[len(_TOKEN_FIELDS) :], strict=True))
    token = _loaded(ApiToken, token_values)
    token.tenant = _loaded(Tenant, {"id": token.tenant_id, "is_active": True, **tenant_values})
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        with tenant_context(token.tenant_id):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
