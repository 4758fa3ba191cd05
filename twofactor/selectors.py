"""Reads of two-factor authentication. They change nothing; the writes are in ``twofactor.services``."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

from accounts.models import User
from permissions.policy import at_trusted_idp_domain
from workspaces.models import Membership, Workspace

from .devices import second_factor
from .models import WorkspaceSecurity


def requiring_workspaces(user: User) -> list[Workspace]:
    """The workspaces the person belongs to that require two-factor authentication."""
    return list(Workspace.objects.filter(memberships__user=user, security__two_factor_required=True).order_by("name"))


def memberships_with_security(user: User) -> list[Membership]:
    """The person's memberships with workspace and its security settings, by workspace name."""
    return list(
        Membership.objects.filter(user=user)
        .select_related("workspace", "workspace__security")
        .order_by("workspace__name")
    )


def security_of(workspace: Workspace) -> WorkspaceSecurity:
    """The workspace's security settings with who changed them last, or unsaved defaults."""
    found = WorkspaceSecurity.objects.select_related("changed_by").filter(workspace=workspace).first()
    return found or WorkspaceSecurity(workspace=workspace)


def members_without_two_factor(workspace: Workspace) -> tuple[int, int]:
    """(members with no second factor, how many of them are at a domain whose identity provider's
    multi-factor sign-in the workspace trusts, which is their second factor when they sign in
    through it: ``policy.at_trusted_idp_domain``), in one query."""
    counts = (
        Membership.objects.filter(workspace=workspace)
        .exclude(second_factor(OuterRef("user_id")))
        .aggregate(
            without=Count("pk"),
            through_idp=Count("pk", filter=Q(Exists(at_trusted_idp_domain("user_id", workspace.pk)))),
        )
    )
    return counts["without"], counts["through_idp"]
