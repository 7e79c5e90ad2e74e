"""Sign-in, sign-out, password strength and the error pages."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_page_renders_with_autofocus():
    page = Client().get("/login/").content.decode()
    assert "Sign in to Stockyard" in page
    assert "autofocus" in page


def test_wrong_password_is_refused_with_a_message(operator):
    response = Client().post("/login/", {"username": "operator", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_sign_in_then_sign_out(operator):
    client = Client()
    response = client.post("/login/", {"username": "operator", "password": PASSWORD})
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    response = client.post("/logout/")
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("weak", ["short1!", "password123456", "12345678901234", "operator-x"])
def test_weak_passwords_are_rejected(weak, operator):
    with pytest.raises(ValidationError):
        validate_password(weak, user=operator)


def test_strong_password_is_accepted(operator):
    validate_password("Pallet-Jack-Orbit-77", user=operator)


def test_unknown_page_gets_the_404_page(operator):
    client = Client()
    client.login(username="operator", password=PASSWORD)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_logout_by_get_is_not_allowed(operator):
    client = Client()
    client.login(username="operator", password=PASSWORD)
    assert client.get("/logout/").status_code == 405
