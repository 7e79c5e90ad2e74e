"""Resolve the signed-in user's tenant and run the request in its context."""

from __future__ import annotations

from django.urls import Resolver404, resolve

from warehouse.models import Membership
from warehouse.tenancy import tenant_context

SESSION_KEY = "tenant_id"


def tenant_exempt(view):
    """Mark a view that needs no tenant (health checks, sign-in): no lookup, no transaction."""
    view.tenant_exempt = True
    return view


class TenantMiddleware:
    """Sets ``request.tenant``, ``request.membership`` and ``request.memberships``.

    The current tenant is the one chosen in the tenant switcher (kept in the
    session) when the user is still a member of it, otherwise the first tenant
    the user belongs to. The view then runs inside one transaction whose
    ``app.tenant_id`` is that tenant, so every query it makes, including the
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
            membership = memberships[0]
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
