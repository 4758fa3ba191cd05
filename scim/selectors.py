"""Reads for SCIM provisioning and its settings page, every one scoped to one workspace."""

from __future__ import annotations

import uuid
from collections import defaultdict

from django.db.models import Exists, OuterRef, QuerySet
from django.shortcuts import get_object_or_404

from permissions import catalog
from permissions.roles import builtin_role_id
from permissions.selectors import roles_of
from portal.ascii_ids import is_ascii_id
from workspaces.models import JoinDomain, Membership, Team, Workspace

from .models import ScimGroupMember, ScimToken, ScimUser


def workspace_tokens(workspace: Workspace) -> QuerySet[ScimToken]:
    """The workspace's tokens for the settings page, newest first, creators loaded."""
    tokens = ScimToken.objects.filter(workspace=workspace).select_related("created_by", "role")
    return tokens.order_by("-created_at", "-id")


def provisioning_roles(workspace: Workspace):
    """The roles a token may provision with: the workspace's roles but Owner (the policy then
    keeps those the person choosing may give)."""
    return roles_of(workspace, catalog.WORKSPACE).exclude(builtin=True, key=catalog.OWNER)


def verified_domains(workspace: Workspace) -> list[str]:
    """The domains whose addresses SCIM provisions: the verified, active join domains."""
    return list(
        JoinDomain.objects.filter(workspace=workspace, verified_at__isnull=False, suspended_at__isnull=True)
        .order_by("domain")
        .values_list("domain", flat=True)
    )


def token_in(workspace: Workspace, pk) -> ScimToken:
    """The token ``pk`` of ``workspace`` (404 otherwise)."""
    token = get_object_or_404(ScimToken, workspace=workspace, pk=pk)
    token.workspace = workspace
    return token


def scim_users(workspace: Workspace) -> QuerySet[ScimUser]:
    """The identities the workspace's provider manages, oldest first, each with ``is_member``."""
    membership = Membership.objects.filter(workspace_id=OuterRef("workspace_id"), user_id=OuterRef("user_id"))
    return (
        ScimUser.objects.filter(workspace=workspace)
        .select_related("user")
        .annotate(is_member=Exists(membership))
        .order_by("created_at", "id")
    )


def scim_user_in(workspace: Workspace, scim_id: str) -> ScimUser | None:
    try:
        key = uuid.UUID(str(scim_id))
    except ValueError:
        return None
    return scim_users(workspace).filter(scim_id=key).first()


def scim_users_by_ids(workspace: Workspace, scim_ids: list[str]) -> dict[str, ScimUser]:
    """The workspace's identities among ``scim_ids`` (others are left out), by id as text."""
    keys = set()
    for text in scim_ids:
        try:
            keys.add(uuid.UUID(str(text)))
        except ValueError:
            continue
    found = scim_users(workspace).filter(scim_id__in=keys)
    return {str(item.scim_id): item for item in found}


def scim_user_of(workspace: Workspace, user) -> ScimUser | None:
    return ScimUser.objects.filter(workspace=workspace, user=user).first()


def user_name_taken(workspace: Workspace, user_name: str, *, excluding: ScimUser | None = None) -> bool:
    found = ScimUser.objects.filter(workspace=workspace, user_name__iexact=user_name)
    if excluding is not None:
        found = found.exclude(pk=excluding.pk)
    return found.exists()


def membership_of(workspace: Workspace, user) -> Membership | None:
    return Membership.objects.select_related("role", "user", "workspace").filter(workspace=workspace, user=user).first()


def other_workspaces_of(user, workspace: Workspace) -> bool:
    """Whether ``user`` is a member of a workspace other than ``workspace``."""
    return Membership.objects.filter(user=user).exclude(workspace=workspace).exists()


def successor_owner(membership: Membership) -> Membership | None:
    """Who takes over the sites of a deprovisioned member: the workspace's longest-standing active
    owner other than them (None when there is none: then the removal is refused by rule 1 anyway,
    or the member owns no site)."""
    return (
        Membership.objects.select_related("user")
        .filter(workspace_id=membership.workspace_id, role_id=builtin_role_id(catalog.OWNER))
        .filter(user__is_active=True)
        .exclude(pk=membership.pk)
        .order_by("joined_at", "id")
        .first()
    )


def teams(workspace: Workspace) -> QuerySet[Team]:
    return Team.objects.filter(workspace=workspace).select_related("scim").order_by("name", "id")


def team_in(workspace: Workspace, team_id: str) -> Team | None:
    if not is_ascii_id(str(team_id)) or len(str(team_id)) > 18:
        return None
    return teams(workspace).filter(pk=int(team_id)).first()


def team_named(workspace: Workspace, name: str, *, excluding: Team | None = None) -> bool:
    found = Team.objects.filter(workspace=workspace, name__iexact=name)
    if excluding is not None:
        found = found.exclude(pk=excluding.pk)
    return found.exists()


def provisioned_members(workspace: Workspace, team_ids: list[int]) -> dict[int, list[ScimUser]]:
    """The identities the provider put in each of the teams ``team_ids``, one query: a team's
    members added by hand in the portal are not among them."""
    rows = (
        ScimGroupMember.objects.filter(team__workspace=workspace, team_id__in=team_ids)
        .values_list("team_id", "identity__scim_id", "identity__user_name")
        .order_by("identity__user_name", "identity_id")
    )
    found: dict[int, list[ScimUser]] = defaultdict(list)
    for team_id, scim_id, user_name in rows:
        found[team_id].append(ScimUser(scim_id=scim_id, user_name=user_name))
    return found


def group_rows(identity: ScimUser):
    """The teams the provider put ``identity`` in."""
    return ScimGroupMember.objects.filter(identity=identity).select_related("team", "team__workspace")
