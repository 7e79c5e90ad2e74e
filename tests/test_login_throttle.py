"""Sign-in throttling: per username and address, looser per address, both sign-in pages."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.backends import ModelBackend
from django.test import Client
from django.utils import timezone

from tests.api.conftest import new_client
from tests.conftest import PASSWORD, make_member
from warehouse.models import Role

pytestmark = pytest.mark.django_db

GUESSER = "203.0.113.7"
OWNER = "198.51.100.20"
LOCKED = "Too many failed sign-ins for this account from your address. Try again in 15 minutes."


def sign_in(client, username, password, path="/login/"):
    return client.post(path, {"username": username, "password": password})


def guess(client, username, times, path="/login/"):
    return [sign_in(client, username, "wrong-password", path).status_code for _ in range(times)]


def is_signed_in(client):
    return client.get("/").status_code == 200


def test_five_wrong_passwords_lock_the_account_from_that_address(operator):
    guesser = Client(REMOTE_ADDR=GUESSER)
    assert guess(guesser, "operator", 5) == [200, 200, 200, 200, 429]

    response = sign_in(guesser, "operator", PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert response["Retry-After"] == str(15 * 60)
    assert not is_signed_in(guesser)


def test_the_owner_still_signs_in_from_another_address(operator):
    guess(Client(REMOTE_ADDR=GUESSER), "operator", 10)

    owner = Client(REMOTE_ADDR=OWNER)
    response = sign_in(owner, "operator", PASSWORD)

    assert response.status_code == 302
    assert is_signed_in(owner)


def test_a_locked_attempt_hashes_no_password(operator, monkeypatch):
    guesser = Client(REMOTE_ADDR=GUESSER)
    guess(guesser, "operator", 5)
    checked = []
    original = ModelBackend.authenticate

    def counting(self, request, **credentials):
        checked.append(credentials.get("username"))
        return original(self, request, **credentials)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)

    assert guess(guesser, "operator", 3) == [429, 429, 429]
    assert checked == []


def test_refused_attempts_do_not_extend_the_lockout(operator):
    guesser = Client(REMOTE_ADDR=GUESSER)
    guess(guesser, "operator", 5)
    guess(guesser, "operator", 5)

    assert AccessAttempt.objects.get(username="operator").failures_since_start == 5


def test_the_admin_sign_in_is_throttled_too(tenant):
    make_member(tenant, "root", Role.ADMIN, is_staff=True, is_superuser=True)
    guesser = Client(REMOTE_ADDR=GUESSER)
    assert guess(guesser, "root", 5, path="/admin/login/")[-1] == 429

    response = sign_in(guesser, "root", PASSWORD, path="/admin/login/")

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert guesser.get("/admin/").status_code == 302
    owner = Client(REMOTE_ADDR=OWNER)
    assert sign_in(owner, "root", PASSWORD, path="/admin/login/").status_code == 302
    assert owner.get("/admin/").status_code == 200


def test_failures_on_either_page_count_together(operator):
    guesser = Client(REMOTE_ADDR=GUESSER)
    guess(guesser, "operator", 3, path="/admin/login/")
    assert guess(guesser, "operator", 2) == [200, 429]


def test_sign_in_works_again_after_the_cool_off(operator):
    guesser = Client(REMOTE_ADDR=GUESSER)
    guess(guesser, "operator", 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert sign_in(guesser, "operator", PASSWORD).status_code == 302
    assert is_signed_in(guesser)


def test_one_address_cannot_spray_many_accounts(tenant, operator, settings):
    settings.STOCKYARD_SIGN_IN_ADDRESS_FAILURE_LIMIT = 6
    sprayer = Client(REMOTE_ADDR=GUESSER)
    for number in range(6):
        guess(sprayer, f"someone-{number}", 1)

    response = sign_in(sprayer, "operator", PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-ins from your address." in response.content.decode()
    assert not is_signed_in(sprayer)
    assert sign_in(Client(REMOTE_ADDR=OWNER), "operator", PASSWORD).status_code == 302


def test_signing_in_to_ones_own_account_does_not_reset_guesses_at_another(tenant, operator):
    make_member(tenant, "mallory", Role.OPERATOR)
    attacker = Client(REMOTE_ADDR=GUESSER)
    guess(attacker, "operator", 4)
    assert sign_in(attacker, "mallory", PASSWORD).status_code == 302
    attacker.post("/logout/")

    assert guess(attacker, "operator", 1) == [429]


def test_a_successful_sign_in_resets_the_owners_count(operator):
    client = Client(REMOTE_ADDR=OWNER)
    guess(client, "operator", 4)
    assert sign_in(client, "operator", PASSWORD).status_code == 302
    client.post("/logout/")

    assert guess(client, "operator", 4) == [200, 200, 200, 200]


def test_forwarded_addresses_are_ignored_without_a_trusted_proxy(operator):
    guesser = Client(REMOTE_ADDR=GUESSER)
    statuses = [
        guesser.post(
            "/login/",
            {"username": "operator", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{number}",
        ).status_code
        for number in range(5)
    ]
    assert statuses[-1] == 429


def test_behind_a_trusted_proxy_the_proxys_entry_counts(operator, settings):
    settings.STOCKYARD_TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.1")

    def attempt(forwarded, password="wrong"):
        return proxy.post(
            "/login/",
            {"username": "operator", "password": password},
            HTTP_X_FORWARDED_FOR=forwarded,
        ).status_code

    # The client controls everything left of the proxy's own entry.
    assert [attempt(f"1.2.3.{number}, {GUESSER}") for number in range(5)][-1] == 429
    assert attempt(f"9.9.9.9, {GUESSER}", PASSWORD) == 429
    assert attempt(OWNER, PASSWORD) == 302


def test_api_tokens_are_not_throttled_by_sign_in_failures(tenant, operator):
    guess(Client(REMOTE_ADDR="127.0.0.1"), "operator", 10)
    assert new_client(tenant).get("/products").status_code == 200
