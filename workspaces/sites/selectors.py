"""Reads of the site access page: the workspace roles that reach every site, the site's grants, the
members and teams a grant may name, and one grant of the site. Each costs a fixed number of queries
whatever the number of rows; a grant is looked up within its site only (other ids are a 404).
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404

from permissions import catalog
from permissions.models import Role
from permissions.selectors import roles_of
from workspaces.models import Membership, Site, SiteGrant, Team, Workspace
from workspaces.teams.selectors import with_extra_caps

ALL_SITE_CODES = frozenset(catalog.codenames(catalog.SITE))


def workspace_wide_roles(workspace) -> list[Role]:
    """Workspace roles whose site capabilities reach every site, with how many members hold each
    and ``site_caps`` (catalog entries, or None for "every site capability"): two queries."""
    roles = roles_of(workspace, catalog.WORKSPACE).annotate(
        member_count=Count("memberships", filter=Q(memberships__workspace=workspace))
    )
    found = []
    for role in roles:
        codes = {p.codename for p in role.site_permissions.all()}
        if codes:
            role.site_caps = (
                None if codes == ALL_SITE_CODES else [c for c in catalog.SITE_CAPABILITIES if c.codename in codes]
            )
            found.append(role)
    return found


def site_grants(site, *, teams: bool) -> list[SiteGrant]:
    grants = SiteGrant.objects.filter(site=site).select_related("role").prefetch_related("extra_permissions")
    if teams:
        grants = grants.filter(team__isnull=False).select_related("team").order_by("team__name")
        grants = grants.annotate(member_count=Count("team__team_memberships"))
    else:
        grants = grants.filter(membership__isnull=False).select_related("membership__user", "membership__role")
        grants = grants.order_by("membership__user__email")
    return with_extra_caps(grants)


def grant_candidates(workspace: Workspace) -> list[Membership]:
    """The workspace's members with their accounts, by address: who a grant or ownership may name."""
    return list(Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__email"))


def grant_teams(workspace: Workspace) -> list[Team]:
    """The workspace's teams by name: which a grant may name."""
    return list(Team.objects.filter(workspace=workspace).order_by("name"))


def site_grant_in(site: Site, pk) -> SiteGrant:
    """The grant ``pk`` on ``site`` (404 otherwise), with role and grantee."""
    queryset = SiteGrant.objects.select_related("role", "team", "membership__user")
    grant = get_object_or_404(queryset, site=site, pk=pk)
    grant.site = site
    return grant
