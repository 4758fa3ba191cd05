"""Reads of roles (the one way to ask for "the roles of a workspace") and of access keys and their use."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from workspaces.models import Invite, InviteSiteGrant, JoinDomain, Membership, SiteGrant, Workspace

from .models import AccessKey, AccessKeyDailyUse, Role


def roles_of(workspace, scope: str | None = None) -> QuerySet[Role]:
    """The built-in roles (of ``scope``, or both scopes) and the workspace's own custom ones, built-in
    first, with their capabilities prefetched (so ``roles.role_codes`` asks nothing more)."""
    roles = Role.objects.filter(Q(workspace__isnull=True) | Q(workspace=workspace))
    if scope is not None:
        roles = roles.filter(scope=scope)
    return roles.order_by("-builtin", "position", "name").prefetch_related("permissions", "site_permissions")


def role_usage(role: Role) -> dict[str, int]:
    """How many rows hold the role; each would stop it from being deleted."""
    counts = {
        "members": Membership.objects.filter(role=role).count(),
        "site grants": SiteGrant.objects.filter(role=role).count(),
        "invites": Invite.objects.filter(role=role).count() + InviteSiteGrant.objects.filter(role=role).count(),
        "join domains": JoinDomain.objects.filter(role=role).count(),
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
