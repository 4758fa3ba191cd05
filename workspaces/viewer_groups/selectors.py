"""Reads of viewer groups. They change nothing; the writes are in ``workspaces.viewer_groups.services``."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from workspaces.models import Experience, ViewerGroup, ViewerGroupMember, Workspace


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


def groups_with_counts(workspace: Workspace) -> QuerySet[ViewerGroup]:
    """The workspace's groups with ``address_count`` and ``experience_count``: one query."""
    return ViewerGroup.objects.filter(workspace=workspace).annotate(
        address_count=Count("members", distinct=True), experience_count=Count("experiences", distinct=True)
    )


def viewer_group_in(workspace: Workspace, pk) -> ViewerGroup:
    """The viewer group ``pk`` of ``workspace`` (404 otherwise)."""
    group = get_object_or_404(ViewerGroup, workspace=workspace, pk=pk)
    group.workspace = workspace  # already loaded; saves the services a query
    return group


def group_member_in(group: ViewerGroup, pk) -> ViewerGroupMember:
    """The address ``pk`` of ``group`` (404 otherwise)."""
    return get_object_or_404(ViewerGroupMember, group=group, pk=pk)
