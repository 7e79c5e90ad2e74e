"""``manage.py create_tenant <slug> --name <name>``: add a tenant."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug

from warehouse.models import Tenant


class Command(BaseCommand):
    help = "Create a tenant."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Short unique name, letters, digits, - and _.")
        parser.add_argument("--name", required=True, help="Display name.")

    def handle(self, *args, slug, name, **options):
        try:
            validate_slug(slug)
        except ValidationError:
            raise CommandError(f"{slug!r} is not a valid slug.") from None
        if len(slug) > 63 or not name.strip() or len(name) > 200:
            raise CommandError("The slug may have 63 characters, the name 1 to 200.")
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"A tenant {slug!r} already exists.")
        tenant = Tenant.objects.create(slug=slug, name=name.strip())
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name}), id {tenant.pk}.")
