"""Reads of roles (the one way to ask for "the roles of a workspace") and of access keys and their use."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from scim.models import ScimToken
from sso.models import Connection, GroupRule
from workspaces.models import Invite, InviteSiteGrant, JoinDomain, Membership, SiteGrant, Workspace

from . import catalog
from .models import AccessKey, AccessKeyDailyUse, Role


def roles_of(workspace, scope: str | None = None) -> QuerySet[Role]:
    """The built-in roles (of ``scope``, or both scopes) and the workspace's own custom ones, built-in
    first, with their capabilities prefetched (so ``roles.role_codes`` asks nothing more)."""
    roles = Role.objects.filter(Q(workspace__isnull=True) | Q(workspace=workspace))
    if scope is not None:
        roles = roles.filter(scope=scope)
    return roles.order_by("-builtin", "position", "name").prefetch_related("permissions", "site_permissions")


def _count_of(queryset) -> Subquery:
    """A correlated ``COUNT(*)`` of ``queryset`` (already filtered on ``OuterRef``), 0 when empty."""
    counted = queryset.order_by().values("role").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def roles_with_holders(workspace, search: str = "") -> QuerySet[Role]:
    """The roles list: built-in roles and the workspace's custom ones, built-in first, each with
    ``member_count`` (members of this workspace with the role) and ``grant_count`` (site grants in
    this workspace naming it). One query whatever the number of roles, members and grants; ``search``
    narrows by name or description."""
    roles = Role.objects.filter(Q(workspace__isnull=True) | Q(workspace=workspace))
    if search:
        roles = roles.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return roles.annotate(
        member_count=_count_of(Membership.objects.filter(workspace=workspace, role=OuterRef("pk"))),
        grant_count=_count_of(SiteGrant.objects.filter(site__workspace=workspace, role=OuterRef("pk"))),
    ).order_by("-builtin", "-scope", "position", "name", "pk")


def start_role_in(workspace, pk) -> Role | None:
    """The role ``pk`` a new custom role may start from: a built-in one or one of ``workspace``'s
    custom ones, with its capabilities; None for anything else (another workspace's, or no id)."""
    if not (isinstance(pk, str) and pk.isascii() and pk.isdigit() and len(pk) < 12):
        return None
    return roles_of(workspace).filter(pk=pk).first()


def role_usage(role: Role) -> dict[str, int]:
    """How many rows hold the role; each would stop it from being deleted."""
    counts = {
        "members": Membership.objects.filter(role=role).count(),
        "site grants": SiteGrant.objects.filter(role=role).count(),
        "invites": Invite.objects.filter(role=role).count() + InviteSiteGrant.objects.filter(role=role).count(),
        "join domains": JoinDomain.objects.filter(role=role).count(),
        # A revoked token provisions nobody: its role may go (the token then forgets it).
        "SCIM tokens": ScimToken.objects.filter(role=role, revoked_at__isnull=True).count(),
        "single sign-on connections": Connection.objects.filter(default_role=role).count(),
        "group mapping lines": GroupRule.objects.filter(role=role).count(),
    }
    return {what: n for what, n in counts.items() if n}


def workspace_keys(workspace: Workspace):
    """The keys of a workspace for the list page, newest first, creators loaded."""
    return AccessKey.objects.filter(workspace=workspace).select_related("created_by").order_by("-created_at", "-id")


def custom_role_in(workspace, pk) -> Role:
    """The custom role ``pk`` of ``workspace`` (404 otherwise; built-in roles too), with its
    capabilities."""
    queryset = Role.objects.prefetch_related("permissions", "site_permissions")
    return get_object_or_404(queryset, workspace=workspace, builtin=False, pk=pk)


def key_in(workspace: Workspace, pk) -> AccessKey:
    """The access key ``pk`` of ``workspace`` (404 otherwise)."""
    key = get_object_or_404(AccessKey, workspace=workspace, pk=pk)
    key.workspace = workspace
    return key


# Whom a 403 page names: the workspace's owners and admins, who run it and can change roles.
_ASKABLE_ROLES = tuple(role for role in catalog.BUILTIN_WORKSPACE_ROLES if role.key in (catalog.OWNER, catalog.ADMIN))


def _gives(role: catalog.BuiltinRole, codename: str) -> bool:
    """Whether a built-in workspace role gives ``codename`` on the workspace, every site or every
    experience."""
    return codename in (
        role.capabilities | role.site_capabilities | catalog.experience_capabilities_from(role.capabilities)
    )


def capability_holders(workspace_id: int, codename: str, limit: int = 10) -> list[Membership]:
    """The active owners and admins of the workspace whose role gives ``codename``, owners first,
    by name: one query, at most ``limit`` of them."""
    keys = [role.key for role in _ASKABLE_ROLES if _gives(role, codename)]
    holders = Membership.objects.filter(
        workspace_id=workspace_id, role__builtin=True, role__key__in=keys, user__is_active=True
    )
    return list(holders.select_related("user", "role").order_by("role__position", "user__full_name")[:limit])


@dataclass
class KeyUseDay:
    day: datetime.date
    calls: int = 0
    checks: int = 0
    per_key: list[tuple[str, int]] = field(default_factory=list)  # (key's name, calls), busiest first


def check_api_use(workspace: Workspace, *, days: int, today: datetime.date) -> tuple[list[KeyUseDay], list[dict]]:
    """The check-API calls of the workspace's keys over the ``days`` days up to ``today`` (UTC):
    one entry per day, newest first, with each key's calls that day; and each key's totals over
    the period (revoked keys included, for as long as they have calls in it). One query."""
    since = today - datetime.timedelta(days=days - 1)
    rows = (
        AccessKeyDailyUse.objects.filter(key__workspace=workspace, day__gte=since, day__lte=today)
        .select_related("key")
        .order_by("-day", "-calls", "key_id")
    )
    by_day = {since + datetime.timedelta(days=n): KeyUseDay(since + datetime.timedelta(days=n)) for n in range(days)}
    totals: dict[int, dict] = {}
    for row in rows:
        entry = by_day[row.day]
        entry.calls += row.calls
        entry.checks += row.checks
        entry.per_key.append((row.key.name, row.calls))
        total = totals.setdefault(row.key_id, {"key": row.key, "calls": 0, "checks": 0})
        total["calls"] += row.calls
        total["checks"] += row.checks
    return sorted(by_day.values(), key=lambda d: d.day, reverse=True), sorted(
        totals.values(), key=lambda t: (-t["calls"], t["key"].pk)
    )
