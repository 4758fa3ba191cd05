"""Reads of experiences and their collaborators. They change nothing; the writes are in
``workspaces.experiences.services``.
"""

from __future__ import annotations

from permissions.roles import role_codes
from workspaces.models import Membership


def can_collaborate(membership: Membership) -> bool:
    """Owners, Admins and Members may collaborate; Viewers and Billing admins may not.

    Put in terms of capabilities so custom roles follow the same rule: whoever may create
    experiences may collaborate on them.
    """
    return "add_experience" in role_codes(membership.role)[0]
