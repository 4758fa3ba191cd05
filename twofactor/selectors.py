"""Reads of two-factor authentication. They change nothing; the writes are in ``twofactor.services``."""

from __future__ import annotations

from accounts.models import User
from workspaces.models import Workspace


def requiring_workspaces(user: User) -> list[Workspace]:
    """The workspaces the person belongs to that require two-factor authentication."""
    return list(Workspace.objects.filter(memberships__user=user, security__two_factor_required=True).order_by("name"))
