"""``/healthz`` reports whether the database answers."""

import pytest
from django.db import connections
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_the_database_answers():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path):
    connection = connections["default"]
    settings = connection.settings_dict
    original = settings["HOST"]
    connection.close()
    # A socket folder where no server listens: a real failed connection.
    settings["HOST"] = str(tmp_path)
    try:
        response = Client().get("/healthz")
    finally:
        settings["HOST"] = original
        connection.close()
    assert response.status_code == 503
    assert response.json()["database"] == "down"
