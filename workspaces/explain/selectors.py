"""Reads of the access explainer: the members, sites and experiences it may explain, found by a
search (a picker, never a list of them all) or looked up by id. Visibility goes through the policy
(``Access.filter``); each read is one query whatever the workspace's size, and every queryset is
scoped to the URL's workspace, so another workspace's ids are never found.
"""

from __future__ import annotations

from django.db.models import QuerySet

from permissions.policy import Access
from workspaces.models import Experience, Membership, Site, Workspace


def explainable_members(workspace: Workspace) -> QuerySet[Membership]:
    """The workspace's members with account and role, unread: a picker's candidates."""
    return Membership.objects.filter(workspace=workspace).select_related("user", "role")


def explainable_sites(access: Access, workspace: Workspace, *, every_site: bool) -> QuerySet[Site]:
    """The workspace's sites, unread: all of them, or those the person may see."""
    sites = Site.objects.filter(workspace=workspace)
    return sites if every_site else access.filter("view_site", sites)


def explainable_experiences(access: Access, workspace: Workspace) -> QuerySet[Experience]:
    """The workspace's experiences the person may see, unread."""
    return access.filter("view_experience", Experience.objects.filter(workspace=workspace))


def find_experiences(candidates: QuerySet[Experience], text: str, limit: int) -> list[Experience]:
    """Experiences of ``candidates`` whose title contains ``text`` (all when empty), by title."""
    experiences = candidates.filter(title__icontains=text) if text else candidates
    return list(experiences.order_by("title", "id")[:limit])


def is_member_id(workspace: Workspace, pk: int) -> bool:
    """Whether ``pk`` is a membership of ``workspace``."""
    return Membership.objects.filter(workspace=workspace, pk=pk).exists()
