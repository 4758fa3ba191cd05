"""Reads for the team page: members, pending invitations and join requests, and the roles a person
may hand out. Each costs a fixed number of queries, whatever the number of members.

Which controls to show is decided here only for display; every write is checked again by its
service (rules 1, 3 and 4 live in ``services.members`` and ``services.invites``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from permissions import catalog
from permissions.models import Role
from permissions.policy import Access
from permissions.roles import builtin_role_id
from permissions.selectors import roles_of
from workspaces.models import Invite, JoinRequest, Membership, Site, Team, Workspace


def team_members(workspace: Workspace) -> list[Membership]:
    """Every member with account, role and teams: two queries."""
    teams = Prefetch("teams", queryset=Team.objects.order_by("name"))
    members = Membership.objects.filter(workspace=workspace).select_related("user", "role").prefetch_related(teams)
    return list(members.order_by("joined_at", "id"))


def sites_owned(workspace: Workspace) -> dict[int, list[str]]:
    """{membership id: names of the sites it owns}: one query. A site owner must be replaced before
    they leave or are removed, so the page asks for a successor only where it is needed."""
    owned: dict[int, list[str]] = defaultdict(list)
    for owner_id, name in Site.objects.filter(workspace=workspace).order_by("name").values_list("owner_id", "name"):
        owned[owner_id].append(name)
    return owned


def invites_pending(workspace: Workspace) -> QuerySet[Invite]:
    return (
        Invite.objects.filter(workspace=workspace, status=Invite.Status.PENDING)
        .select_related("role", "invited_by")
        .order_by("email")
    )


def join_requests_pending(workspace: Workspace) -> QuerySet[JoinRequest]:
    return (
        JoinRequest.objects.filter(workspace=workspace, status=JoinRequest.Status.PENDING)
        .select_related("user", "domain")
        .order_by("created_at", "id")
    )


@dataclass
class RoleChoices:
    """The workspace's roles, and those the acting person may give (rule 3, for display)."""

    workspace_roles: list[Role] = field(default_factory=list)
    site_roles: list[Role] = field(default_factory=list)
    givable: list[Role] = field(default_factory=list)


def role_choices(workspace: Workspace, access: Access) -> RoleChoices:
    """Roles of both scopes with their capabilities (three queries), and those the person may give,
    as the policy answers it (``Access.givable_roles``)."""
    roles = list(roles_of(workspace))
    workspace_roles = [r for r in roles if r.scope == catalog.WORKSPACE]
    return RoleChoices(
        workspace_roles=workspace_roles,
        site_roles=[r for r in roles if r.scope == catalog.SITE],
        givable=access.givable_roles(workspace_roles, workspace),
    )


def sole_owner_workspaces(user: User) -> list[Workspace]:
    """The workspaces where ``user`` is the only active owner. Two queries, any number of workspaces."""
    owner_role = builtin_role_id(catalog.OWNER)
    owned = list(Workspace.objects.filter(memberships__user=user, memberships__role_id=owner_role).order_by("pk"))
    if not owned:
        return []
    with_other_owner = set(
        Membership.objects.filter(workspace__in=owned, role_id=owner_role, user__is_active=True)
        .exclude(user=user)
        .values_list("workspace_id", flat=True)
    )
    return [workspace for workspace in owned if workspace.pk not in with_other_owner]


def workspace_teams(workspace: Workspace) -> list[Team]:
    """The workspace's teams: the choices of the invite form."""
    return list(Team.objects.filter(workspace=workspace))


def member_in(workspace: Workspace, pk) -> Membership:
    """The member ``pk`` of ``workspace`` (404 otherwise), with account and role."""
    member = get_object_or_404(Membership.objects.select_related("user", "role"), workspace=workspace, pk=pk)
    member.workspace = workspace
    return member


def invite_in(workspace: Workspace, pk) -> Invite:
    """The invitation ``pk`` of ``workspace`` (404 otherwise), with role and inviter."""
    invite = get_object_or_404(Invite.objects.select_related("role", "invited_by"), workspace=workspace, pk=pk)
    invite.workspace = workspace
    return invite
