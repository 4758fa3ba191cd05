"""Reads of the access explainer: the members, sites and experiences it may explain. Visibility goes
through the policy (``Access.filter``); each read is one query whatever the workspace's size.
"""

from __future__ import annotations

from permissions.policy import Access
from workspaces.models import Experience, Membership, Site, Workspace


def explainable_members(workspace: Workspace, *, only: Membership | None = None) -> list[Membership]:
    """The workspace's members with account and role, by address; just ``only`` when given."""
    memberships = Membership.objects.filter(workspace=workspace).select_related("user", "role")
    if only is not None:
        memberships = memberships.filter(pk=only.pk)
    return list(memberships.order_by("user__email"))


def explainable_sites(access: Access, workspace: Workspace, *, every_site: bool) -> list[Site]:
    """The workspace's sites by name: all of them, or those the person may see."""
    sites = Site.objects.filter(workspace=workspace).order_by("name", "id")
    return list(sites if every_site else access.filter("view_site", sites))


def explainable_experiences(access: Access, workspace: Workspace) -> list[Experience]:
    """The workspace's experiences the person may see."""
    return list(access.filter("view_experience", Experience.objects.filter(workspace=workspace)))


def is_member_id(workspace: Workspace, pk) -> bool:
    """Whether ``pk`` (an ASCII id) is a membership of ``workspace``."""
    return Membership.objects.filter(workspace=workspace, pk=pk).exists()
