"""Gate views by the role the signed-in user holds in the current tenant."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from warehouse.models import Role


class RoleRequired(PermissionDenied):
    """Raised when the user's membership lacks every role a view accepts."""

    def __init__(self, roles: tuple[str, ...], membership=None):
        self.roles = roles
        self.membership = membership
        names = " or ".join(Role(role).label for role in roles)
        super().__init__(f"This page needs the {names} role.")

    @property
    def role_labels(self) -> list[str]:
        return [Role(role).label for role in self.roles]


class NoMembership(PermissionDenied):
    """Raised when the user belongs to no active tenant."""

    def __init__(self):
        super().__init__("Your account is not a member of any tenant yet.")


def role_required(*roles: str):
    """Allow members holding one of ``roles`` (admins always); 403 for others.

    With no roles, any member of the current tenant may enter.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None:
                raise NoMembership()
            if roles and not membership.has_role(*roles):
                raise RoleRequired(roles, membership)
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


member_required = role_required()
