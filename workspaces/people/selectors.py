"""Reads for the team page: members, pending invitations and join requests, and the roles a person
may hand out. Each costs a fixed number of queries, whatever the number of members.

Which controls to show is decided here only for display; every write is checked again by its
service (rules 1, 3 and 4 live in ``services.members`` and ``services.invites``).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import User
from permissions import catalog
from permissions.models import Role
from permissions.policy import Access
from permissions.roles import builtin_role_id, load_codes
from permissions.selectors import roles_of
from workspaces.models import Invite, JoinRequest, Membership, Site, SiteGrant, Team, TeamMembership, Workspace
from workspaces.people.search import DEFAULT_SORT, EXPORT_CHUNK, SORTS


def sites_owned(workspace: Workspace, owners: Iterable[int]) -> dict[int, list[str]]:
    """{membership id: names of the sites it owns}, for the memberships ``owners`` (a page of
    members, or oneself; not the workspace's every site): one query. A site owner must be replaced
    before they leave or are removed, so the page asks for a successor only where it is needed."""
    owned: dict[int, list[str]] = defaultdict(list)
    sites = Site.objects.filter(workspace=workspace, owner_id__in=list(owners)).order_by("name")
    for owner_id, name in sites.values_list("owner_id", "name"):
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
    """Roles of both scopes (one query; custom roles' capabilities in one more, read only if there
    are any), and those the person may give, as the policy answers it (``Access.givable_roles``)."""
    roles = list(roles_of(workspace).prefetch_related(None))
    load_codes(roles)
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


# --- the people page's search and the members export --------------------------------------------


def members_matching(workspace: Workspace, criteria: dict) -> QuerySet[Membership]:
    """The workspace's members matching ``criteria`` (from ``MemberFilterForm.criteria``), in the
    asked order, with account and role joined and ``has_two_factor`` annotated. One query per
    evaluation; teams are the caller's to prefetch (a page) or join (the export)."""
    # A second factor: an authenticator app or a passkey.
    app = TOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True)
    passkey = WebAuthnCredential.objects.filter(user=OuterRef("user_id"), confirmed=True)
    members = (
        Membership.objects.filter(workspace=workspace)
        .select_related("user", "role")
        .annotate(has_two_factor=Exists(app) | Exists(passkey))
    )
    if text := criteria.get("q"):
        members = members.filter(Q(user__full_name__icontains=text) | Q(user__email__icontains=text))
    if criteria.get("role") is not None:
        members = members.filter(role_id=criteria["role"])
    if criteria.get("team") is not None:
        members = members.filter(teams__id=criteria["team"], teams__workspace=workspace)
    if criteria.get("two_factor") == "yes":
        members = members.filter(has_two_factor=True)
    elif criteria.get("two_factor") == "no":
        members = members.filter(has_two_factor=False)
    since = criteria.get("joined_since")
    if since is not None and 1 < since.year < 9999:  # the extremes may not convert to UTC
        members = members.filter(
            joined_at__gte=timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
        )
    return members.order_by(*SORTS.get(criteria.get("sort"), SORTS[DEFAULT_SORT]))


def teams_of(workspace: Workspace) -> list[Team]:
    return list(Team.objects.filter(workspace=workspace).order_by("name", "id"))


def active_owner_count(workspace: Workspace) -> int:
    """Owners whose account is active (rule 1 counts these): one query."""
    return Membership.objects.filter(
        workspace=workspace, role_id=builtin_role_id(catalog.OWNER), user__is_active=True
    ).count()


def members_page(workspace: Workspace, criteria: dict) -> QuerySet[Membership]:
    """``members_matching`` with each member's teams, in name order, for a page of the list."""
    return members_matching(workspace, criteria).prefetch_related(
        Prefetch("teams", queryset=Team.objects.order_by("name"))
    )


def export_rows(members: QuerySet[Membership]) -> Iterator[dict]:
    """One dict per member (``EXPORT_COLUMNS``), in the order of ``members``.

    Members are read ``EXPORT_CHUNK`` at a time (a server-side cursor on PostgreSQL) as plain
    values, not model instances, and each chunk's own site grants and teams come in two more
    queries: memory does not grow with the members, and a row costs a few microseconds."""
    values = members.values_list("id", "user__email", "user__full_name", "role__name", "joined_at")
    for chunk in _chunks(values.iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
        ids = [row[0] for row in chunk]
        grants = SiteGrant.objects.filter(membership_id__in=ids).order_by("site__slug", "id")
        # The member's own grants as slug:role, the format invite_bulk reads; team grants come with "teams".
        sites = _grouped(grants.values_list("membership_id", "site__slug", "role__name"), "{}:{}")
        teams = TeamMembership.objects.filter(membership_id__in=ids).order_by("team__name", "team_id")
        names = _grouped(teams.values_list("membership_id", "team__name"), "{}")
        for pk, email, name, role, joined in chunk:
            yield {
                "email": email,
                "name": name,
                "role": role,
                "sites": sites.get(pk, []),
                "teams": names.get(pk, []),
                "joined": joined.isoformat(),
            }


def _chunks(rows: Iterator[tuple], size: int) -> Iterator[list[tuple]]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _grouped(rows, template: str) -> dict[int, list[str]]:
    """(key, *parts) rows → {key: [template filled with parts, ...]}, in the rows' order."""
    grouped: dict[int, list[str]] = defaultdict(list)
    for key, *parts in rows:
        grouped[key].append(template.format(*parts))
    return grouped


# --- the people page's bulk actions -----------------------------------------------------------------


def matching_member_ids(workspace: Workspace, criteria: dict, limit: int) -> list[int]:
    """The ids of the members matching ``criteria``, in the list's order, at most ``limit`` + 1 (so the
    caller can tell that there are more): one query, read at the moment of a bulk action."""
    return list(members_matching(workspace, criteria).values_list("pk", flat=True)[: limit + 1])


def pending_invite_ids(workspace: Workspace, limit: int) -> list[int]:
    """The ids of the workspace's pending invitations in the list's order, at most ``limit`` + 1."""
    return list(invites_pending(workspace).values_list("pk", flat=True)[: limit + 1])
