"""Reads of the teams pages: a page of teams with their counts and first grants, one team, a page of
its members and of its grants, a member named by address, and the sites the grant form offers. Each
costs a fixed number of queries whatever the number of teams, members, sites or grants (the lists are
paged through ``kernel.paging``); every lookup from a URL is scoped to the URL's workspace (or team),
so other ids are a 404.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from permissions import catalog
from workspaces.models import Membership, Site, SiteGrant, Team, TeamMembership, Workspace
from workspaces.selectors import count_per_row

GRANTS_SHOWN = 3  # site grants named per team on the teams list; the team's page lists them all


def with_extra_caps(grants) -> list[SiteGrant]:
    """Grants with ``extra_caps``: catalog entries of their prefetched extra capabilities."""
    grants = list(grants)
    for grant in grants:
        grant.extra_caps = [catalog.CAPABILITIES[p.codename] for p in grant.extra_permissions.all()]
    return grants


def _team_grants() -> QuerySet[SiteGrant]:
    grants = SiteGrant.objects.select_related("site", "role").prefetch_related("extra_permissions")
    return grants.order_by("site__name", "site_id")


def teams_matching(workspace: Workspace, q: str = "") -> QuerySet[Team]:
    """The workspace's teams whose name contains ``q`` (any case), by name, with ``member_count``,
    ``grant_count`` and their first ``GRANTS_SHOWN`` grants (``first_grants``): a page of them costs
    three queries (teams, grants, their extra capabilities) plus the paginator's count."""
    teams = Team.objects.filter(workspace=workspace)
    if q:
        teams = teams.filter(name__icontains=q)
    first_grants = Prefetch("site_grants", queryset=_team_grants()[:GRANTS_SHOWN], to_attr="first_grants")
    return (
        teams.annotate(member_count=count_per_row(TeamMembership, "team"), grant_count=count_per_row(SiteGrant, "team"))
        .prefetch_related(first_grants)
        .order_by("name", "id")
    )


def team_in(workspace: Workspace, pk) -> Team:
    """The team ``pk`` of ``workspace`` (404 otherwise)."""
    team = get_object_or_404(Team, workspace=workspace, pk=pk)
    team.workspace = workspace  # already loaded; saves the services a query
    return team


def member_by_address(workspace: Workspace, address: str) -> Membership | None:
    """The member of ``workspace`` whose account has the (canonical) address, with it: one query by
    the unique address, or None."""
    if not address:
        return None
    return Membership.objects.filter(workspace=workspace, user__email=address).select_related("user").first()


def is_in_team(team: Team, membership: Membership) -> bool:
    return TeamMembership.objects.filter(team=team, membership=membership).exists()


def team_members_matching(team: Team, q: str = "") -> QuerySet[TeamMembership]:
    """The team's members (as their team memberships) whose name or address contains ``q``, with
    account and role, by address."""
    members = TeamMembership.objects.filter(team=team)
    if q:
        members = members.filter(Q(membership__user__full_name__icontains=q) | Q(membership__user__email__icontains=q))
    return members.select_related("membership__user", "membership__role").order_by("membership__user__email", "id")


def team_grants(team: Team) -> QuerySet[SiteGrant]:
    """The team's site grants with site, role and extra capabilities (``with_extra_caps`` on a page
    of them), by site name."""
    return _team_grants().filter(team=team)


def sites_to_offer(workspace: Workspace, q: str = "", limit: int = 20) -> tuple[list[Site], bool]:
    """Up to ``limit`` sites of the workspace whose name or address name (slug) contains ``q``, by
    name, and whether there are more: one query."""
    sites = Site.objects.filter(workspace=workspace)
    if q:
        sites = sites.filter(Q(name__icontains=q) | Q(slug__icontains=q))
    found = list(sites.only("pk", "name").order_by("name", "id")[: limit + 1])
    return found[:limit], len(found) > limit


def team_link_in(team: Team, membership_pk) -> TeamMembership:
    """The team membership of member ``membership_pk`` in ``team`` (404 otherwise)."""
    return get_object_or_404(
        TeamMembership.objects.select_related("membership__user"), team=team, membership_id=membership_pk
    )


def team_grant_in(team: Team, pk) -> SiteGrant:
    """The site grant ``pk`` of ``team`` (404 otherwise), with site and role."""
    grant = get_object_or_404(SiteGrant.objects.select_related("site", "role"), team=team, pk=pk)
    grant.team = team
    grant.site.workspace = team.workspace
    return grant


def extra_codes(grant: SiteGrant) -> list[str]:
    """The codenames of a grant's extra capabilities, sorted: one query."""
    return sorted(grant.extra_permissions.values_list("codename", flat=True))


def team_size(team: Team) -> tuple[int, int]:
    """(site grants, members) of the team, for the delete confirmation: two queries."""
    return team.site_grants.count(), team.team_memberships.count()
