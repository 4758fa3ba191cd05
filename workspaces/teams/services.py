from __future__ import annotations

import uuid

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from audit.services import record
from kernel.errors import RuleViolation
from permissions import materialize
from permissions.policy import require, require_can_give
from workspaces.models import Membership, Team, TeamMembership, Workspace


@transaction.atomic
def team_create(*, actor, workspace: Workspace, name: str, description: str = "") -> Team:
    require(actor, "manage_teams", workspace)
    name = name.strip()
    if Team.objects.filter(workspace=workspace, name__iexact=name).exists():
        raise RuleViolation(f"This workspace already has a team called “{name}”.")
    team = Team(workspace=workspace, name=name, description=description)
    team.group = Group.objects.create(name=f"workspace-{workspace.pk}-team-{uuid.uuid4().hex}")
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:
        raise RuleViolation(f"This workspace already has a team called “{name}”.") from exc
    record(action="team.create", actor=actor, workspace=workspace, target=team, after={"name": team.name})
    return team


@transaction.atomic
def team_update(*, actor, team: Team, name: str, description: str = "") -> Team:
    require(actor, "manage_teams", team.workspace)
    name = name.strip()
    before = {"name": team.name, "description": team.description}
    if Team.objects.filter(workspace=team.workspace, name__iexact=name).exclude(pk=team.pk).exists():
        raise RuleViolation(f"This workspace already has a team called “{name}”.")
    team.name, team.description = name, description
    after = {"name": team.name, "description": team.description}
    if before != after:
        team.save(update_fields=["name", "description"])
        record(action="team.update", actor=actor, workspace=team.workspace, target=team, before=before, after=after)
    return team


@transaction.atomic
def team_delete(*, actor, team: Team) -> None:
    require(actor, "manage_teams", team.workspace)
    record(action="team.delete", actor=actor, workspace=team.workspace, target=team, before={"name": team.name})
    group = team.group
    team.delete()
    group.delete()  # its guardian rows and user links cascade


@transaction.atomic
def team_add_member(*, actor, team: Team, membership: Membership) -> TeamMembership:
    require(actor, "manage_teams", team.workspace)
    if membership.workspace_id != team.workspace_id:
        raise RuleViolation("Only members of this workspace can join its teams.")
    require_can_give(actor, team, team.workspace)  # rule 3: joining gives the team's site grants
    link, created = TeamMembership.objects.get_or_create(team=team, membership=membership)
    if created:
        materialize.set_team_membership(membership.user_id, team, True)
        record(
            action="team.member_add",
            actor=actor,
            workspace=team.workspace,
            target=team,
            after={"member": membership.user.email},
        )
    return link


@transaction.atomic
def team_remove_member(*, actor, team: Team, membership: Membership) -> None:
    require(actor, "manage_teams", team.workspace)
    deleted, _ = TeamMembership.objects.filter(team=team, membership=membership).delete()
    if deleted:
        materialize.set_team_membership(membership.user_id, team, False)
        record(
            action="team.member_remove",
            actor=actor,
            workspace=team.workspace,
            target=team,
            before={"member": membership.user.email},
        )
