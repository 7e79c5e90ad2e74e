"""Sign-in throttling on top of django-axes.

Two limits, both counted over the cool-off window (``AXES_COOLOFF_TIME``):

* failures for one username from one address (``AXES_FAILURE_LIMIT``): a
  guesser is stopped, yet the account's owner still signs in from anywhere
  else, so an attacker cannot lock a victim out everywhere;
* failures from one address whatever the username
  (``STOCKYARD_SIGN_IN_ADDRESS_FAILURE_LIMIT``, looser because an office or a
  warehouse may share one address): an address cannot spray guesses across
  many accounts.

A locked attempt is refused by ``SignInThrottleBackend`` before any password
backend runs, so it costs no password hashing. Both ``/login/`` and
``/admin/login/`` authenticate through the same backends and are covered.
"""

from __future__ import annotations

import ipaddress
import math

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


class SignInThrottleBackend(AxesStandaloneBackend):
    """Refuses sign-ins that are locked out; lets the next backend check the password.

    Only sign-ins that arrive with a request are throttled: ``authenticate()``
    without one (the test client's ``login()``, a shell) has no address to
    count by, and django-axes would raise instead of answering.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class SignInThrottleHandler(AxesDatabaseHandler):
    """django-axes' database handler plus the looser per-address limit.

    ``AXES_LOCKOUT_PARAMETERS`` counts the username and address combination;
    this handler reports the failure limit as reached also when the address
    alone has failed ``STOCKYARD_SIGN_IN_ADDRESS_FAILURE_LIMIT`` times. A
    successful sign-in still resets only its own username and address
    (``AXES_RESET_ON_SUCCESS``), so an attacker who owns an account cannot
    wipe the failures counted against someone else's.
    """

    def get_failures(self, request, credentials=None) -> int:
        failures = super().get_failures(request, credentials)
        if address_failures(request) >= settings.STOCKYARD_SIGN_IN_ADDRESS_FAILURE_LIMIT:
            request.sign_in_locked_by_address = True
            return max(failures, get_failure_limit(request, credentials))
        return failures


def address_failures(request) -> int:
    """Failed sign-ins from the request's address, any username, within the cool-off."""
    attempts = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address,
        attempt_time__gte=get_cool_off_threshold(request),
    )
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def client_address(request) -> str | None:
    """The address sign-in failures are counted against.

    ``REMOTE_ADDR`` unless ``STOCKYARD_TRUSTED_PROXY_COUNT`` reverse proxies
    stand in front of the app: then the entry of ``X-Forwarded-For`` that the
    outermost trusted proxy appended. Entries further left were written by the
    client and are never trusted, or an attacker could pick a fresh address
    for every guess.
    """
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.STOCKYARD_TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in page again, answering 429 with what happened and when to retry."""
    from warehouse.forms import SignInForm

    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    wait = f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    if getattr(request, "sign_in_locked_by_address", False):
        message = f"Too many failed sign-ins from your address. {wait}"
    else:
        message = f"Too many failed sign-ins for this account from your address. {wait}"
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    form = SignInForm(request, initial={"username": request.POST.get("username", "")})
    response = render(
        request,
        "registration/login.html",
        {"form": form, "next": next_url, "lockout_message": message},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
