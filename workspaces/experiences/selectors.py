"""Reads of experiences and their collaborators. They change nothing; the writes are in
``workspaces.experiences.services``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from permissions.roles import role_codes
from workspaces.models import Collaborator, Experience, Membership, Workspace


def can_collaborate(membership: Membership) -> bool:
    """Owners, Admins and Members may collaborate; Viewers and Billing admins may not.

    Put in terms of capabilities so custom roles follow the same rule: whoever may create
    experiences may collaborate on them.
    """
    return "add_experience" in role_codes(membership.role)[0]


# can_collaborate's rule as a query: the role includes the workspace capability ``add_experience``.
COLLABORATE_CAPABILITY = {
    "role__permissions__codename": "add_experience",
    "role__permissions__content_type__app_label": "workspaces",
    "role__permissions__content_type__model": "workspace",
}


def collaborators_of(experience: Experience) -> QuerySet[Collaborator]:
    return (
        Collaborator.objects.filter(experience=experience)
        .select_related("membership__user", "membership__role", "added_by")
        .order_by("added_at", "id")
    )


def eligible_members(experience: Experience) -> QuerySet[Membership]:
    """Members who may collaborate and do not yet: the choices of the add form."""
    return (
        Membership.objects.filter(workspace_id=experience.workspace_id, **COLLABORATE_CAPABILITY)
        .exclude(collaborations__experience=experience)
        .select_related("user", "role")
        .order_by("user__full_name", "user__email")
    )


def experience_row_in(workspace: Workspace, pk) -> Experience:
    """The experience ``pk`` of ``workspace`` (404 otherwise), nothing joined: the collaborators
    page reads its collaborators on their own."""
    experience = get_object_or_404(Experience, workspace=workspace, pk=pk)
    experience.workspace = workspace  # already loaded; saves the services a query
    return experience


def collaborator_in(experience: Experience, pk) -> Collaborator:
    """The collaborator ``pk`` of ``experience`` (404 otherwise), with the person."""
    return get_object_or_404(Collaborator.objects.select_related("membership__user"), experience=experience, pk=pk)
