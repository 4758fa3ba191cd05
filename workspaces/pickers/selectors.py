"""Reads of the pickers (``kernel.pickers``): at most ``limit`` members, teams or sites matching a
search, in a stable order, one query whatever the number of candidates. The candidates are always a
queryset already scoped to the URL's workspace by the caller, so another workspace's rows are never
found.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from workspaces.models import Membership, Site, Team, Workspace


def workspace_members(workspace: Workspace) -> QuerySet[Membership]:
    """Every member of ``workspace``, unread: the candidates of a picker that may name anyone."""
    return Membership.objects.filter(workspace=workspace)


def find_members(candidates: QuerySet[Membership], text: str, limit: int) -> list[Membership]:
    """Members of ``candidates`` whose name or address contains ``text`` (all when empty), by
    address, with their account and role."""
    members = candidates.select_related("user", "role")
    if text:
        members = members.filter(Q(user__full_name__icontains=text) | Q(user__email__icontains=text))
    return list(members.order_by("user__email", "id")[:limit])


def find_teams(workspace: Workspace, text: str, limit: int) -> list[Team]:
    """Teams of ``workspace`` whose name contains ``text`` (all when empty), by name."""
    teams = Team.objects.filter(workspace=workspace)
    if text:
        teams = teams.filter(name__icontains=text)
    return list(teams.order_by("name", "id")[:limit])


def find_sites(candidates: QuerySet[Site], text: str, limit: int) -> list[Site]:
    """Sites of ``candidates`` whose name, address or slug contains ``text`` (all when empty), by name."""
    sites = candidates
    if text:
        sites = sites.filter(Q(name__icontains=text) | Q(url__icontains=text) | Q(slug__icontains=text))
    return list(sites.order_by("name", "id")[:limit])


def picked(candidates: QuerySet, pk: int):
    """The candidate ``pk`` (with what the queryset joins), or None: one query."""
    return candidates.filter(pk=pk).first()


def grantee_in(workspace: Workspace, kind: str, pk: int) -> Membership | Team | None:
    """The member or team ``pk`` of ``workspace`` (``kind`` "member" or "team"), or None: one query."""
    if kind == "team":
        return picked(Team.objects.filter(workspace=workspace), pk)
    return picked(workspace_members(workspace).select_related("user", "role"), pk)
