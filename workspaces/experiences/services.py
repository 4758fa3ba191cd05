from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import record
from kernel.errors import RuleViolation
from permissions import catalog, materialize
from permissions.policy import COLLABORATION, require, require_can_give
from workspaces.experiences.selectors import can_collaborate
from workspaces.models import Collaborator, Experience, Membership, Site, Workspace

EXPERIENCE_FIELDS = ("title", "description", "content", "site")


def _state(experience: Experience) -> dict:
    return {
        "title": experience.title,
        "status": experience.status,
        "visibility": experience.visibility,
        "site": experience.site.slug if experience.site_id else None,
    }


@transaction.atomic
def experience_create(
    *, actor, workspace: Workspace, title: str, description: str = "", content: str = "", site: Site | None = None
) -> Experience:
    """A new draft experience; its creator becomes its first collaborator."""
    require(actor, "add_experience", workspace)
    if site is not None and site.workspace_id != workspace.pk:
        raise RuleViolation("That site is not in this workspace.")
    experience = Experience.objects.create(
        workspace=workspace,
        title=title.strip(),
        description=description,
        content=content,
        site=site,
        created_by=actor,
    )
    materialize.add_object_rows(experience, catalog.EXPERIENCE)
    if actor is not None:
        membership = Membership.objects.get(workspace=workspace, user=actor)
        Collaborator.objects.create(experience=experience, membership=membership, added_by=actor)
        materialize.set_collaborator_rows(actor.pk, experience.pk, True)
    record(action="experience.create", actor=actor, workspace=workspace, target=experience, after=_state(experience))
    return experience


@transaction.atomic
def experience_update(*, actor, experience: Experience, **changes) -> Experience:
    require(actor, "change_experience", experience)
    unknown = set(changes) - set(EXPERIENCE_FIELDS)
    if unknown:
        raise ValueError(f"Not experience fields: {unknown}")
    site = changes.get("site")
    if site is not None and site.workspace_id != experience.workspace_id:
        raise RuleViolation("That site is not in this workspace.")
    before = {name: _plain(getattr(experience, name)) for name in changes}
    for name, value in changes.items():
        setattr(experience, name, value)
    after = {name: _plain(getattr(experience, name)) for name in changes}
    if before != after:
        experience.save()
        record(
            action="experience.update",
            actor=actor,
            workspace=experience.workspace,
            target=experience,
            before=before,
            after=after,
        )
    return experience


def _plain(value):
    return value.slug if isinstance(value, Site) else value


@transaction.atomic
def experience_publish(
    *, actor, experience: Experience, published: bool = True, visibility: str | None = None, viewer_groups=None
) -> Experience:
    require(actor, "publish_experience", experience)
    before = _state(experience)
    groups_before = set(experience.viewer_groups.values_list("id", flat=True)) if viewer_groups is not None else None
    if visibility is not None:
        if visibility not in Experience.Visibility.values:
            raise RuleViolation("Choose who may open the published experience.")
        experience.visibility = visibility
    if published and experience.status != Experience.Status.PUBLISHED:
        experience.published_at = timezone.now()
    experience.status = Experience.Status.PUBLISHED if published else Experience.Status.DRAFT
    experience.save()
    if viewer_groups is not None:
        if any(group.workspace_id != experience.workspace_id for group in viewer_groups):
            raise RuleViolation("Viewer groups must belong to this workspace.")
        experience.viewer_groups.set(viewer_groups)
    if (
        experience.visibility == Experience.Visibility.RESTRICTED
        and published
        and not experience.viewer_groups.exists()
    ):
        raise RuleViolation("A restricted experience needs at least one viewer group.")
    unchanged_groups = viewer_groups is None or groups_before == {group.pk for group in viewer_groups}
    if _state(experience) == before and unchanged_groups:
        return experience  # publishing what is already published is no change: no audit event
    record(
        action="experience.publish" if published else "experience.unpublish",
        actor=actor,
        workspace=experience.workspace,
        target=experience,
        before=before,
        after=_state(experience),
    )
    return experience


@transaction.atomic
def experience_delete(*, actor, experience: Experience) -> None:
    require(actor, "delete_experience", experience)
    record(
        action="experience.delete",
        actor=actor,
        workspace=experience.workspace,
        target=experience,
        before=_state(experience),
    )
    experience.delete()


@transaction.atomic
def collaborator_add(*, actor, experience: Experience, membership: Membership) -> Collaborator:
    require(actor, "manage_collaborators", experience)
    if membership.workspace_id != experience.workspace_id:
        raise RuleViolation("Collaborators must be members of this workspace.")
    if not can_collaborate(membership):
        raise RuleViolation(
            f"{membership.user.email} is a {membership.role.name}; only owners, admins and "
            "members can collaborate on experiences."
        )
    require_can_give(actor, COLLABORATION, experience)  # rule 3
    collaborator, created = Collaborator.objects.get_or_create(
        experience=experience, membership=membership, defaults={"added_by": actor}
    )
    if created:
        materialize.set_collaborator_rows(membership.user_id, experience.pk, True)
        record(
            action="collaborator.add",
            actor=actor,
            workspace=experience.workspace,
            target=experience,
            after={"collaborator": membership.user.email},
        )
    return collaborator


@transaction.atomic
def collaborator_remove(*, actor, experience: Experience, membership: Membership) -> None:
    require(actor, "manage_collaborators", experience)
    deleted, _ = Collaborator.objects.filter(experience=experience, membership=membership).delete()
    if deleted:
        materialize.set_collaborator_rows(membership.user_id, experience.pk, False)
        record(
            action="collaborator.remove",
            actor=actor,
            workspace=experience.workspace,
            target=experience,
            before={"collaborator": membership.user.email},
        )
