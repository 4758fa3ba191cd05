"""Reads of the teams pages: the teams with their grants, one team, its members and grants, and the
members who may join it. Each costs a fixed number of queries whatever the number of rows; every
lookup from a URL is scoped to the URL's workspace (or team), so other ids are a 404.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from permissions import catalog
from workspaces.models import Membership, SiteGrant, Team, TeamMembership, Workspace


def with_extra_caps(grants) -> list[SiteGrant]:
    """Grants with ``extra_caps``: catalog entries of their prefetched extra capabilities."""
    grants = list(grants)
    for grant in grants:
        grant.extra_caps = [catalog.CAPABILITIES[p.codename] for p in grant.extra_permissions.all()]
    return grants


def _team_grants() -> QuerySet[SiteGrant]:
    grants = SiteGrant.objects.select_related("site", "role").prefetch_related("extra_permissions")
    return grants.order_by("site__name", "site_id")


def teams_with_grants(workspace) -> list[Team]:
    """The workspace's teams with their member counts and site grants: three queries, any size."""
    teams = list(
        Team.objects.filter(workspace=workspace)
        .annotate(member_count=Count("team_memberships"))
        .prefetch_related(Prefetch("site_grants", queryset=_team_grants()))
        .order_by("name")
    )
    for team in teams:
        team.grants = with_extra_caps(team.site_grants.all())
    return teams


def team_in(workspace: Workspace, pk) -> Team:
    """The team ``pk`` of ``workspace`` (404 otherwise)."""
    team = get_object_or_404(Team, workspace=workspace, pk=pk)
    team.workspace = workspace  # already loaded; saves the services a query
    return team


def team_candidates(workspace: Workspace, team: Team) -> list[Membership]:
    """Members of the workspace who are not in the team yet, with their accounts."""
    memberships = (
        Membership.objects.filter(workspace=workspace)
        .exclude(team_memberships__team=team)
        .select_related("user")
        .order_by("user__email")
    )
    return list(memberships)


def team_member_links(team: Team) -> list[TeamMembership]:
    """The team's members (as their team memberships), with account and role: one query."""
    members = (
        TeamMembership.objects.filter(team=team)
        .select_related("membership__user", "membership__role")
        .order_by("membership__user__email")
    )
    return list(members)


def team_grants(team: Team) -> list[SiteGrant]:
    """The team's site grants with site, role and extra capabilities: two queries."""
    return with_extra_caps(_team_grants().filter(team=team))


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
