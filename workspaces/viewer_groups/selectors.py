"""Reads of viewer groups and of outside viewers' links and sessions. They change nothing; the writes
are in ``workspaces.viewer_groups.services`` and ``workspaces.viewer_groups.link_services``.
"""

from __future__ import annotations

import enum

from django.db.models import Count, QuerySet
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from accounts.models import normalize_email
from kernel.tokens import digest as hash_token  # how a token is stored: its SHA-256
from workspaces.models import Experience, ViewerGroup, ViewerGroupMember, ViewerLink, Workspace
from workspaces.selectors import count_per_row


def experiences_needing(group: ViewerGroup) -> list[Experience]:
    """Published restricted experiences whose ONLY viewer group is ``group``.

    Deleting the group would leave them open to nobody, which publishing itself refuses.
    """
    using = group.experiences.filter(
        status=Experience.Status.PUBLISHED, visibility=Experience.Visibility.RESTRICTED
    ).values("pk")
    # Counted in a second step: counting on the join that selects by this group would count 1.
    return list(
        Experience.objects.filter(pk__in=using)
        .annotate(groups=Count("viewer_groups"))
        .filter(groups=1)
        .order_by("title")
    )


def groups_with_counts(workspace: Workspace, q: str = "") -> QuerySet[ViewerGroup]:
    """The workspace's groups whose name contains ``q`` (any case), by name, with ``address_count``
    and ``experience_count`` (subqueries: a page of groups is one query, however many addresses)."""
    groups = ViewerGroup.objects.filter(workspace=workspace)
    if q:
        groups = groups.filter(name__icontains=q)
    return groups.annotate(
        address_count=count_per_row(ViewerGroupMember, "group"),
        experience_count=count_per_row(Experience.viewer_groups.through, "viewergroup"),
    ).order_by("name", "id")


def group_addresses(group: ViewerGroup, q: str = "") -> QuerySet[ViewerGroupMember]:
    """The group's addresses that contain ``q`` (any case), in order."""
    members = group.members.all()
    if q:
        members = members.filter(email__icontains=q)
    return members.order_by("email", "id")


def group_experiences(group: ViewerGroup) -> QuerySet[Experience]:
    """The experiences restricted to the group, by title."""
    return group.experiences.order_by("title", "id")


def viewer_group_in(workspace: Workspace, pk) -> ViewerGroup:
    """The viewer group ``pk`` of ``workspace`` (404 otherwise)."""
    group = get_object_or_404(ViewerGroup, workspace=workspace, pk=pk)
    group.workspace = workspace  # already loaded; saves the services a query
    return group


def group_member_in(group: ViewerGroup, pk) -> ViewerGroupMember:
    """The address ``pk`` of ``group`` (404 otherwise)."""
    return get_object_or_404(ViewerGroupMember, group=group, pk=pk)


SESSION_KEY = "viewer_access"


class LinkState(enum.StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    INVALID = "invalid"  # unknown token, or a token of another experience
    WITHDRAWN = "withdrawn"  # the address left the experience's viewer groups, or it is no longer restricted


def is_restricted(experience: Experience) -> bool:
    return (
        experience.status == Experience.Status.PUBLISHED and experience.visibility == Experience.Visibility.RESTRICTED
    )


def address_may_view(experience: Experience, email: str) -> bool:
    """Is the address in one of the experience's viewer groups? One query."""
    return (
        ViewerGroupMember.objects.filter(group__experiences=experience)
        .annotate(address=Lower("email"))
        .filter(address=normalize_email(email))
        .exists()
    )


def link_state_of(experience: Experience, link: ViewerLink | None) -> LinkState:
    if link is None or link.experience_id != experience.pk:
        return LinkState.INVALID
    if link.used_at is not None:
        return LinkState.USED
    if link.is_expired:
        return LinkState.EXPIRED
    if not is_restricted(experience) or not address_may_view(experience, link.email):
        return LinkState.WITHDRAWN
    return LinkState.VALID


def viewer_link_state(*, experience: Experience, token: str) -> LinkState:
    """What the link would do if used now; reading it changes nothing."""
    link = ViewerLink.objects.filter(token_hash=hash_token(token)).first()
    return link_state_of(experience, link)


def session_may_view(session, experience: Experience) -> bool:
    address = session.get(SESSION_KEY, {}).get(str(experience.pk))
    return bool(address) and address_may_view(experience, address)
