"""The access explainer: what a member holds on a workspace, site or experience, and why; and for
what they do not hold, which roles, site grants or teams would give it ("why not").

Computed from the source tables (the member's role, site grants, teams, collaborations), not from
the guardian rows, so it shows the reasons and can be compared with what ``Access`` answers: the
two agree as long as the rows are in sync (``manage.py sync_permissions`` checks that).
"""

from __future__ import annotations

from django.db.models import Model, Q

from workspaces.models import SiteGrant

from . import catalog
from .models import Role
from .policy import scope_of, workspace_id_of
from .roles import grant_codes, role_rows
from .selectors import roles_of


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


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _roles_phrase(kind: str, names: list[str], where: str = "") -> str:
    plural = "s" if len(names) > 1 else ""
    gives = "give" if len(names) > 1 else "gives"
    return f"the {kind}{plural} {_and(names)} {gives} it{where}"


def explain_missing(membership, obj: Model, held, *, name_teams: bool = True) -> dict[str, list[str]]:
    """{codename: what would give it} for every capability of ``obj``'s scope that ``membership``
    does not hold there (``held`` is what ``explain`` answered), in catalog order; e.g.
    ``{"manage_billing": ["the workspace roles Owner and Billing admin give it"]}``, or on a site
    ``["the site role Editor gives it on Shop, by a site grant", "team Growth's grant on Shop gives
    it (by joining the team)"]``. An empty list: nothing in the workspace gives it.

    ``name_teams`` False says "a team's grant" without naming teams, for people who may not see
    the workspace's teams. A fixed number of queries, whatever the number of roles and teams.
    """
    scope = scope_of(obj)
    if workspace_id_of(obj) != membership.workspace_id:
        return {}
    missing = [code for code in catalog.codenames(scope) if code not in held]
    if not missing:
        return {}
    roles = list(roles_of(membership.workspace_id))
    team_grants = _team_grants(obj, roles) if scope == catalog.SITE else []
    found = {}
    for code in missing:
        reasons = []
        givers = [role.name for role in roles if role.scope == catalog.WORKSPACE and code in role_rows(role).of(scope)]
        if givers:
            reasons.append(_roles_phrase("workspace role", givers, " on every site" if scope == catalog.SITE else ""))
        if scope == catalog.SITE:
            reasons += _site_reasons(code, obj, roles, team_grants, name_teams)
        elif scope == catalog.EXPERIENCE and code in catalog.COLLABORATOR_CAPABILITIES:
            reasons.append(f"being a collaborator on {obj} gives it there")
        found[code] = reasons
    return found


def _team_grants(site, roles: list[Role]) -> list[SiteGrant]:
    """The teams' grants on ``site``, by team name, each with its role taken from ``roles`` (already
    read with their capabilities) rather than read again."""
    by_id = {role.pk: role for role in roles}
    grants = list(
        SiteGrant.objects.filter(site=site, team__isnull=False)
        .select_related("team")
        .prefetch_related("extra_permissions")
        .order_by("team__name", "team_id")
    )
    for grant in grants:
        grant.role = by_id.get(grant.role_id) or grant.role  # read alone only if the data is broken
    return grants


def _site_reasons(code: str, site, roles, team_grants, name_teams: bool) -> list[str]:
    reasons = []
    site_roles = [role.name for role in roles if role.scope == catalog.SITE and code in role_rows(role).site]
    if site_roles:
        reasons.append(_roles_phrase("site role", site_roles, f" on {site.name}, by a site grant"))
    teams = [grant.team.name for grant in team_grants if code in grant_codes(grant)]
    if teams:
        if name_teams:
            grants = [f"team {name}'s grant" for name in teams]
        else:
            grants = [f"{len(teams)} teams' grants" if len(teams) > 1 else "a team's grant"]
        gives = "give" if len(teams) > 1 else "gives"
        reasons.append(f"{_and(grants)} on {site.name} {gives} it there (by joining the team)")
    return reasons
