"""``/healthz`` reports whether the database answers, and nothing more."""

import logging

import pytest
from django.db import connections
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_the_database_answers():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path, caplog):
    connection = connections["default"]
    settings = connection.settings_dict
    original = settings["HOST"]
    connection.close()
    # A socket folder where no server listens: a real failed connection.
    settings["HOST"] = str(tmp_path)
    try:
        with caplog.at_level(logging.ERROR, logger="config.views"):
            response = Client().get("/healthz")
    finally:
        settings["HOST"] = original
        connection.close()
    assert response.status_code == 503
    # An anonymous caller learns that the service is down, not the socket
    # path or the database's error text; the log keeps those for operators.
    assert response.json() == {"status": "unavailable"}
    assert str(tmp_path) not in response.content.decode()
    assert str(tmp_path) in caplog.text
