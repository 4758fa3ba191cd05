"""A member's profile as the platform's services read it (GET /api/v1/members/<email>): workspace
role, teams and site grants. Three queries, whatever the size of the workspace."""

from __future__ import annotations

from django.db.models.functions import Lower

from accounts.addresses import normalize_email
from workspaces.models import Membership, SiteGrant, Workspace


def member_profile(workspace: Workspace, email: str) -> dict | None:
    """The active member with that address (compared in canonical form), or None."""
    membership = (
        Membership.objects.filter(workspace=workspace, user__is_active=True)
        .annotate(email_key=Lower("user__email"))
        .filter(email_key=normalize_email(email))
        .select_related("user", "role")
        .first()
    )
    if membership is None:
        return None
    teams = membership.teams.order_by("name").values_list("name", flat=True)
    grants = (
        SiteGrant.objects.filter(membership=membership)
        .order_by("site__slug")
        .values_list("site__slug", "role__key", "role__name")
    )
    return {
        "email": membership.user.email,
        "name": membership.user.full_name,
        "joined_at": membership.joined_at.isoformat(),
        "role": {"key": membership.role.key, "name": membership.role.name},
        "teams": list(teams),
        "site_grants": [{"site": slug, "role": {"key": key, "name": name}} for slug, key, name in grants],
    }
