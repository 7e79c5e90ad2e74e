"""Test clients signed in as a member, and the headers of an htmx request."""

from __future__ import annotations

from django.test import Client

from tests.conftest import PASSWORD


def signed_in(username: str, **client_options) -> Client:
    """A test client signed in as ``username`` (made with the test password)."""
    client = Client(**client_options)
    assert client.login(username=username, password=PASSWORD)
    return client


def htmx(region: str) -> dict:
    """The headers htmx sends when it asks for the page region ``region``."""
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": region}
