"""Viewer groups: named lists of outside addresses that may open a restricted published experience.

Every write needs ``manage_viewer_groups`` on the group's workspace and records one audit event
per change (adding three addresses is three changes). Addresses are stored normalised (trimmed,
lower case), so a duplicate is refused whatever its letter case.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from accounts.models import normalize_email
from audit.services import record
from kernel.errors import RuleViolation
from permissions.policy import require
from workspaces.models import ViewerGroup, ViewerGroupMember, Workspace
from workspaces.viewer_groups.selectors import experiences_needing

MANAGE = "manage_viewer_groups"
NAME_MAX_LENGTH = ViewerGroup._meta.get_field("name").max_length


def _clean_name(workspace: Workspace, name: str, *, exclude: ViewerGroup | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise RuleViolation("Give the viewer group a name.")
    if len(name) > NAME_MAX_LENGTH:
        raise RuleViolation(f"A viewer group name has at most {NAME_MAX_LENGTH} characters.")
    taken = ViewerGroup.objects.filter(workspace=workspace).annotate(lower=Lower("name")).filter(lower=name.lower())
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise RuleViolation(f"A viewer group named “{name}” already exists in this workspace.")
    return name


@transaction.atomic
def viewer_group_create(*, actor, workspace: Workspace, name: str) -> ViewerGroup:
    require(actor, MANAGE, workspace)
    group = ViewerGroup.objects.create(workspace=workspace, name=_clean_name(workspace, name))
    record(action="viewer_group.create", actor=actor, workspace=workspace, target=group, after={"name": group.name})
    return group


@transaction.atomic
def viewer_group_update(*, actor, group: ViewerGroup, name: str) -> ViewerGroup:
    require(actor, MANAGE, group.workspace)
    new_name = _clean_name(group.workspace, name, exclude=group)
    if new_name == group.name:
        return group  # nothing changes: no audit event
    before = {"name": group.name}
    group.name = new_name
    group.save(update_fields=["name"])
    record(
        action="viewer_group.update",
        actor=actor,
        workspace=group.workspace,
        target=group,
        before=before,
        after={"name": group.name},
    )
    return group


@transaction.atomic
def viewer_group_delete(*, actor, group: ViewerGroup) -> None:
    require(actor, MANAGE, group.workspace)
    stranded = experiences_needing(group)
    if stranded:
        titles = ", ".join(f"“{experience.title}”" for experience in stranded)
        raise RuleViolation(
            f"“{group.name}” is the only viewer group of the published experience(s) {titles}. "
            "Give them another viewer group, or unpublish them, first."
        )
    record(
        action="viewer_group.delete",
        actor=actor,
        workspace=group.workspace,
        target=group,
        before={"name": group.name, "addresses": group.members.count()},
    )
    group.delete()


def clean_addresses(raw: str | Sequence[str]) -> list[str]:
    """Normalised addresses from a list or from text separated by commas, semicolons or line breaks.

    Refuses (naming each one) addresses that are not valid and addresses given twice.
    """
    if isinstance(raw, str):
        raw = raw.replace(",", "\n").replace(";", "\n").splitlines()
    addresses, problems, seen = [], [], set()
    for item in raw:
        address = normalize_email(item)
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            problems.append(f"“{item.strip()}” is not a valid e-mail address.")
            continue
        if address in seen:
            problems.append(f"{address} is given twice.")
            continue
        seen.add(address)
        addresses.append(address)
    if problems:
        raise RuleViolation(problems)
    if not addresses:
        raise RuleViolation("Enter at least one e-mail address.")
    return addresses


@transaction.atomic
def viewer_group_members_add(*, actor, group: ViewerGroup, emails: str | Sequence[str]) -> list[ViewerGroupMember]:
    """Add addresses to the group: all of them, or (any being bad or already there) none."""
    require(actor, MANAGE, group.workspace)
    addresses = clean_addresses(emails)
    present = set(
        ViewerGroupMember.objects.filter(group=group)
        .annotate(address=Lower("email"))
        .filter(address__in=addresses)
        .values_list("address", flat=True)
    )
    if present:
        raise RuleViolation([f"{address} is already in “{group.name}”." for address in addresses if address in present])
    try:
        # A savepoint, so that a concurrent add of the same address fails cleanly (the constraint
        # on lower(email) decides) and leaves the outer transaction usable.
        with transaction.atomic():
            members = ViewerGroupMember.objects.bulk_create(
                [ViewerGroupMember(group=group, email=address) for address in addresses]
            )
    except IntegrityError as exc:
        raise RuleViolation("Someone added one of these addresses at the same moment. Try again.") from exc
    for member in members:
        record(
            action="viewer_group.member_add",
            actor=actor,
            workspace=group.workspace,
            target=group,
            after={"email": member.email},
        )
    return members


@transaction.atomic
def viewer_group_member_remove(*, actor, group: ViewerGroup, member: ViewerGroupMember) -> None:
    require(actor, MANAGE, group.workspace)
    if member.group_id != group.pk:
        raise RuleViolation("That address is not in this viewer group.")
    deleted, _ = ViewerGroupMember.objects.filter(pk=member.pk).delete()
    if deleted:
        record(
            action="viewer_group.member_remove",
            actor=actor,
            workspace=group.workspace,
            target=group,
            before={"email": member.email},
        )
