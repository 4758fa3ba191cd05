"""What one invitation carries, as the checks, the writes and the CSV reader see it."""

from __future__ import annotations

from dataclasses import dataclass

from permissions.models import Role
from workspaces.models import Site, Team


@dataclass(frozen=True, slots=True)
class InviteSpec:
    """One address to invite and what the invitation carries."""

    email: str
    role: Role  # a workspace role
    site_grants: tuple[tuple[Site, Role], ...] = ()  # (site, site role)
    teams: tuple[Team, ...] = ()
