"""Which roles may open which inventory pages, where more than one screen asks."""

from __future__ import annotations

from warehouse.models import Role

# Lot pages and traces: what a recall needs (operators find lots through products).
TRACE_ROLES = (Role.QC, Role.MANAGER)


def can_trace(membership) -> bool:
    return membership is not None and membership.has_role(*TRACE_ROLES)
