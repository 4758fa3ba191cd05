"""The access explainer: what a member holds on a workspace, site or experience, and why.

Computed from the source tables (the member's role, site grants, teams, collaborations), not from
the guardian rows, so it shows the reasons and can be compared with what ``Access`` answers: the
two agree as long as the rows are in sync (``manage.py sync_permissions`` checks that).
"""

from __future__ import annotations

from django.db.models import Model, Q

from workspaces.models import SiteGrant

from . import catalog
from .policy import scope_of, workspace_id_of
from .roles import role_rows


def explain(membership, obj: Model) -> dict[str, list[str]]:
    """{codename: human sources} for every capability ``membership`` holds on ``obj``, in catalog
    order; e.g. ``{"view_site": ["workspace role Viewer", "team Growth: Site viewer"]}``.

    A fixed number of queries, whatever the number of grants and teams.
    """
    scope = scope_of(obj)
    if workspace_id_of(obj) != membership.workspace_id or not membership.user.is_active:
        return {}  # nobody holds anything outside their workspace; inactive accounts hold nothing
    sources: dict[str, list[str]] = {}

    def add(codes, source: str) -> None:
        for code in codes:
            found = sources.setdefault(code, [])
            if source not in found:
                found.append(source)

    role = membership.role
    add(role_rows(role).of(scope), f"workspace role {role.name}")
    if scope == catalog.SITE:
        _add_grants(membership, obj, add)
    elif scope == catalog.EXPERIENCE and obj.collaborations.filter(membership=membership).exists():
        add(catalog.COLLABORATOR_CAPABILITIES, "collaborator")
    return {code: sources[code] for code in catalog.codenames(scope) if code in sources}


def _add_grants(membership, site, add) -> None:
    """The member's own grant on ``site`` first, then their teams' grants by team name."""
    grants = (
        SiteGrant.objects.filter(site=site)
        .filter(Q(membership=membership) | Q(team__team_memberships__membership=membership))
        .select_related("role", "team")
        .prefetch_related("role__permissions", "role__site_permissions", "extra_permissions")
        .distinct()
    )
    for grant in sorted(grants, key=lambda g: (g.team_id is not None, g.team.name if g.team_id else "")):
        label = "own grant" if grant.membership_id else f"team {grant.team.name}"
        add(role_rows(grant.role).site, f"{label}: {grant.role.name}")
        add({p.codename for p in grant.extra_permissions.all()}, f"{label}: extra capability")
