"""``manage.py create_api_token <tenant-slug> <name>``: issue an API token.

The secret is printed once, as the last line of the output, so scripts can
take it with ``tail -n 1``; only its hash is stored.
"""

from django.core.management.base import BaseCommand, CommandError

from inventory.api.core import READ_SCOPE, WRITE_SCOPE
from inventory.core.errors import DomainError
from inventory.core.tokens import issue_api_token
from warehouse.models import Tenant


class Command(BaseCommand):
    help = "Create an API token for a tenant and print its secret (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="The tenant's slug.")
        parser.add_argument("name", help="What the token is for, e.g. 'webshop'.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=[READ_SCOPE, WRITE_SCOPE],
            dest="scopes",
            help="Limit the token (repeatable); without it the token may read and write.",
        )

    def handle(self, *args, tenant, name, scopes, **options):
        try:
            owner = Tenant.objects.get(slug=tenant, is_active=True)
        except Tenant.DoesNotExist:
            raise CommandError(f"No active tenant {tenant!r}.") from None
        try:
            token, secret = issue_api_token(tenant=owner, name=name, scopes=scopes)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Created API token {token.name!r} ({token.prefix}…) for {owner.slug}. "
            "Keep the secret below; it is not shown again."
        )
        self.stdout.write(secret)
