"""Suite-wide pytest set-up: the database roles, and flushing for transactional tests.

Tests run as the app role (the ``default`` alias), exactly as requests do; the
test database is created and migrated by the owner role (``default`` is a test
mirror of ``owner``).
"""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    from warehouse.provisioning import provision_from_settings

    provision_from_settings()


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_keepdb,
    django_db_modify_db_settings,
):
    """Create the test database through ``owner`` whatever aliases the tests name.

    pytest-django would create databases only for the aliases tests ask for,
    and ``default`` alone, being a mirror, would create none.
    """
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            keepdb=django_db_keepdb,
            aliases={"owner"},
        )
    names = {alias: connections[alias].settings_dict["NAME"] for alias in connections}
    assert all(name.startswith("test_") for name in names.values()), names
    yield
    with django_db_blocker.unblock():
        connections.close_all()
        teardown_databases(config, verbosity=request.config.option.verbose, keepdb=django_db_keepdb)


def pytest_collection_modifyitems(items):
    """Transactional tests also flush through ``owner``.

    Django flushes only non-mirror aliases after a transactional test, and
    ``default`` is a mirror of ``owner``; without ``owner`` in the test's
    databases nothing would be flushed and rows would leak into later tests.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        if marker and marker.args:
            kwargs.setdefault("transaction", marker.args[0])
        fixtures = getattr(item, "fixturenames", ())
        transactional = kwargs.get("transaction") or any(
            name in fixtures for name in ("transactional_db", "live_server")
        )
        if not transactional:
            continue
        databases = kwargs.get("databases") or ["default"]
        if databases != "__all__":
            kwargs["databases"] = sorted({*databases, "owner"})
        kwargs["transaction"] = True
        item.add_marker(pytest.mark.django_db(**kwargs), append=False)
