"""Resolve the signed-in user's tenant and run the request in its context."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from warehouse.models import Membership, Role
from warehouse.tenancy import tenant_context

SESSION_KEY = "tenant_id"


def tenant_exempt(view):
    """Mark a view that needs no tenant (health checks, sign-in): no lookup, no transaction."""
    view.tenant_exempt = True
    return view


class TenantMiddleware:
    """Sets ``request.tenant``, ``request.membership`` and ``request.memberships``.

    The current tenant is the one chosen in the tenant switcher (kept in the
    session) when the user is still a member of it; otherwise, as at the start
    of a session, the tenant the user switched to most recently, and for a
    user who never switched, the first tenant (by name) they belong to. The
    view then runs inside one transaction whose ``app.tenant_id`` is that
    tenant, so every query it makes, including the
    lazy ones evaluated while the template renders, is held to that tenant by
    row-level security.

    Views decorated with ``transaction.non_atomic_requests`` manage their own
    transactions (for example to retry a whole transaction on a deadlock); they
    open them with ``tenant_context(request.tenant.id)``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        request.memberships = []
        view = self._view_for(request)
        if getattr(view, "tenant_exempt", False) or not request.user.is_authenticated:
            return self.get_response(request)

        user_id = request.user.pk
        with tenant_context(None, user_id=user_id):
            memberships = list(Membership.objects.for_user(request.user))
        request.memberships = memberships
        chosen = request.session.get(SESSION_KEY)
        membership = next((m for m in memberships if m.tenant_id == chosen), None)
        if membership is None and memberships:
            membership = starting_membership(memberships)
        if membership is None:
            request.session.pop(SESSION_KEY, None)
            return self.get_response(request)
        if chosen != membership.tenant_id:
            request.session[SESSION_KEY] = membership.tenant_id
        request.membership = membership
        request.tenant = membership.tenant

        if "default" in getattr(view, "_non_atomic_requests", set()):
            return self.get_response(request)
        with tenant_context(membership.tenant_id, user_id=user_id):
            return self.get_response(request)

    @staticmethod
    def _view_for(request):
        try:
            return resolve(request.path_info, getattr(request, "urlconf", None)).func
        except Resolver404:
            return None


# Broader roles first: a user who never switched starts where they can do most.
ROLE_BREADTH = {Role.ADMIN: 0, Role.MANAGER: 1, Role.QC: 2, Role.OPERATOR: 3}


def starting_membership(memberships: list[Membership]) -> Membership:
    """The membership a session starts in.

    The tenant the user last switched to; for a user who never switched, the
    one where their role is broadest (a manager in one tenant and an operator
    in another starts as the manager); then the first by name.
    """
    used = [membership for membership in memberships if membership.last_used_at]
    if used:
        return max(used, key=lambda membership: membership.last_used_at)
    # min() keeps the first of equals, so the order of ``memberships`` breaks ties.
    return min(memberships, key=lambda membership: ROLE_BREADTH.get(membership.role, 9))


class HtmxSignInRedirectMiddleware:
    """Sends an htmx request that needs a sign-in to the full sign-in page.

    The browser follows a redirect of an htmx request by itself, and htmx would
    then swap the whole sign-in page into a table row or a form. Instead, any
    redirect to ``LOGIN_URL`` answering an htmx request becomes ``HX-Redirect``:
    htmx leaves the page for the sign-in page, which returns to the page the
    user was on (``HX-Current-URL``), not to the fragment's URL.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.headers.get("HX-Request") or not 300 <= response.status_code < 400:
            return response
        login_path = urlsplit(resolve_url(settings.LOGIN_URL)).path
        if urlsplit(response.get("Location", "")).path != login_path:
            return response
        return htmx_sign_in_redirect(request)


def htmx_sign_in_redirect(request) -> HttpResponseClientRedirect:
    """``HX-Redirect`` to the sign-in page, coming back to the page htmx was on."""
    page = page_of_htmx_request(request)
    if page is None:
        return HttpResponseClientRedirect(resolve_url(settings.LOGIN_URL))
    return HttpResponseClientRedirect(redirect_to_login(page).url)


def page_of_htmx_request(request) -> str | None:
    """Path and query of the page that sent an htmx request, if it is one of ours."""
    current = request.headers.get("HX-Current-URL", "")
    if not url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(current)
    # "//host/..." would read as another site once it is the sign-in's next.
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
