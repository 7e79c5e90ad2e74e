"""Grants for the app and maintenance roles on everything the owner creates.

Default privileges cover tables created by later migrations; the explicit
grants cover tables created before this one ran (Django's own apps). The app
role may read but never change the migration history.
"""

from django.db import migrations

from config.database import ROLE_NAMES

OWNER = ROLE_NAMES["owner"]
USERS = f"{ROLE_NAMES['app']}, {ROLE_NAMES['maintenance']}"

GRANT = [
    f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public "
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {USERS}",
    f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public "
    f"GRANT USAGE, SELECT ON SEQUENCES TO {USERS}",
    f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public "
    f"GRANT EXECUTE ON FUNCTIONS TO {USERS}",
    f"GRANT USAGE ON SCHEMA public TO {USERS}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {USERS}",
    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {USERS}",
    f"REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {USERS}",
]
REVOKE = [
    f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public "
    f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {USERS}",
    f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public "
    f"REVOKE USAGE, SELECT ON SEQUENCES FROM {USERS}",
    f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public "
    f"REVOKE EXECUTE ON FUNCTIONS FROM {USERS}",
    f"REVOKE SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM {USERS}",
    f"REVOKE USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public FROM {USERS}",
]


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunSQL(GRANT, reverse_sql=REVOKE)]
